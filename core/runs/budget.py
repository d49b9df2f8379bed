"""The memory budget: what model work may take, checked in one place for every executor.

A job carries its estimated peak (core/costs.py): the resident memory of the process doing it, TensorFlow
included. An executor asks `check` before it accepts a job: one that cannot fit even alone is refused at once
with OverBudget, whose message says what would fit (the job's own `advice`, e.g. a smaller batch size).
"""

from __future__ import annotations

from dataclasses import dataclass


class OverBudget(ValueError):
    """A job that cannot fit in the memory budget even alone; the message says what would fit."""


@dataclass(frozen=True)
class Budget:
    """`megabytes` for model work and the server together (None: no bound), and where the number came from."""
    megabytes: float | None
    source: str = "MEMORY_BUDGET_MB"

    def free_mb(self, in_use_mb: float = 0.0) -> float:
        """What a job may take while `in_use_mb` is taken by others (the server itself, for worker processes)."""
        return float("inf") if self.megabytes is None else self.megabytes - in_use_mb

    def check(self, job, in_use_mb: float = 0.0) -> None:
        """OverBudget, in words for the user, when `job` (its `cost.peak_mb`) cannot fit beside `in_use_mb`."""
        free = self.free_mb(in_use_mb)
        if job.cost.peak_mb <= free:
            return
        advice = job.advice(free) if job.advice is not None else "nothing smaller of it fits"
        server = f", the server itself uses {in_use_mb:,.0f} MB" if in_use_mb else ""
        what = job.label[:1].upper() + job.label[1:]
        raise OverBudget(f"{what} needs about {job.cost.peak_mb:,.0f} MB, more than the {max(free, 0):,.0f} MB this "
                         f"server can give it (the memory budget is {self.megabytes:,.0f} "
                         f"MB, from {self.source}{server}): {advice}.")
