"""Where runs train: one interface for every place, and the in-process executor (the CLI's default).

An executor is given configs and a dataset and gives back finished runs as values (`RunResult`s: record,
test probabilities, the model or its .keras bytes). It never writes the store: the runs service
(core/runs/service.py) owns the store, its locks and its checks. A new place to train is one new class:
in-process (here), a Ray cluster (core/runs/ray_executor.py), local worker processes.
"""

from __future__ import annotations

import platform
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol
from collections.abc import Callable, Iterator

from core.config import TrainConfig
from core.costs import Cost
from core.data import Dataset
from core.training import OnEpoch, RunResult, prepare_training, train

OnStart = Callable[[TrainConfig], None] | None
Trainer = Callable[..., RunResult]  # (config, dataset, on_epoch=None) -> RunResult, like core.training.train


@dataclass(frozen=True)
class Finished:
    """One run an executor finished, or failed to."""
    config: TrainConfig
    result: RunResult | None  # None when it failed
    error: str | None         # why it failed ("TypeName: message"), else None
    node: str | None          # where it trained
    seconds: float            # from its start (or submission) to its result


class Executor(ABC):
    """Trains runs somewhere and returns them as values. Errors: `train` raises what training raised (ValueError
    for a config that cannot train on the dataset); `train_each` reports a run's own failure in its
    Finished and goes on with the others; KeyboardInterrupt cancels what is outstanding."""

    name = "executor"
    slots = 1  # runs trained at once
    queued = False  # True: a started job runs in the executor's own thread and finishes though its asker left

    @abstractmethod
    def train(self, config: TrainConfig, dataset: Dataset, on_epoch: OnEpoch = None) -> RunResult:
        """Train one run and wait for it."""

    def train_each(self, configs: list[TrainConfig], dataset: Dataset, on_start: OnStart = None,
                   on_epoch: OnEpoch = None) -> Iterator[Finished]:
        """Train every config; yield each as it finishes (in any order). This default trains one after
        another, calling `on_start(config)` before each."""
        for config in configs:
            if on_start is not None:
                on_start(config)
            started = time.perf_counter()
            try:
                result = self.train(config, dataset, on_epoch=on_epoch)
            except Exception as error:  # the run's own failure: the others go on
                yield Finished(config, None, f"{type(error).__name__}: {error}", None, time.perf_counter() - started)
                continue
            yield Finished(config, result, None, result.trained_on, time.perf_counter() - started)

    def start(self, key: str, config: TrainConfig, dataset: Dataset, body: Callable[[Callable[[], RunResult]], Any],
              estimate: Cost | None = None, asked_at: float | None = None) -> Handle:
        """Arrange for `body(train)` to run, where `train()` trains `config` here and returns its RunResult; the
        body decides what becomes of it (the runs service stores it under the run's lock). Returns a handle to
        wait on. This default runs the body in the thread that waits; an executor with a queue runs it when the
        job's turn comes (in the order of `asked_at`, the asker's click), once for every caller asking with the
        same `key`, even if they all stop waiting after it has started."""
        return InlineHandle(self, config, dataset, body)

    def prepare(self, configs: list[TrainConfig], dataset: Dataset) -> list[TrainConfig]:
        """Get ready to train `configs` soon (a head start for a click); returns those prepared."""
        return []

    def start_processes(self) -> None:
        """Start the processes this executor trains in, if it has its own (a head start; idempotent)."""
        return None

    def compute(self, key: str | None, function: Callable, args: tuple, peak_mb: float = 0.0, label: str = "",
                on_queue: Callable | None = None) -> Any:
        """`function(*args, emit)` — model work other than training (predictions, robustness, a download) —
        where this executor does model work; its value. Equal `key`s asked at once are computed once (where the
        executor has a queue). This default computes it here."""
        return function(*args, lambda event: None)

    def shutdown(self) -> None:  # noqa: B027 - an optional hook: executors holding nothing need not override it
        """Release what the executor holds (processes, a cluster connection)."""


class Handle(Protocol):
    def wait(self, on_epoch: OnEpoch = None, on_queue: Callable | None = None) -> Any:
        """The body's value; progress reports reach `on_epoch`, the place in a queue `on_queue`, in the
        calling thread. Raises what the body raised."""

    def cancel(self) -> None:
        """Stop waiting (a queued job nobody else waits for is dropped)."""


class InlineHandle:
    """The body runs when it is waited for, in the waiting thread."""

    def __init__(self, executor: Executor, config: TrainConfig, dataset: Dataset, body: Callable):
        self.executor, self.config, self.dataset, self.body = executor, config, dataset, body

    def wait(self, on_epoch: OnEpoch = None, on_queue: Callable | None = None) -> Any:
        return self.body(lambda: self.executor.train(self.config, self.dataset, on_epoch=on_epoch))

    def cancel(self) -> None:
        pass


class InProcessExecutor(Executor):
    """Trains in this process, one run at a time, with `trainer` (default: core.training.train). With
    `budget_mb` (the app with TRAIN_WORKERS=0: MEMORY_BUDGET_MB), a run whose estimated peak is over it is
    refused before it starts (OverBudget, saying what would fit) and never prepared."""

    name = "in-process"

    def __init__(self, trainer: Trainer | None = None, budget_mb: float | None = None):
        self.trainer = trainer
        self.budget_mb = budget_mb

    def fits(self, config: TrainConfig, dataset: Dataset, estimate: Cost | None = None) -> bool:
        from core import costs

        peak = estimate.peak_mb if estimate is not None else costs.peak_mb(config, dataset)
        return self.budget_mb is None or peak <= self.budget_mb

    def start(self, key: str, config: TrainConfig, dataset: Dataset, body: Callable, estimate: Cost | None = None,
              asked_at: float | None = None):
        self.check_budget(config, dataset, estimate)
        return super().start(key, config, dataset, body, estimate)

    def check_budget(self, config: TrainConfig, dataset: Dataset, estimate: Cost | None = None) -> None:
        """OverBudget, saying what would fit, for a run whose estimated peak is over `budget_mb`."""
        from core import costs
        from core.runs.workers import OverBudget

        estimate = estimate or costs.estimate(config, dataset)
        if not self.fits(config, dataset, estimate):
            raise OverBudget(f"Training {config.architecture} on {config.sample_size:,} images needs about "
                             f"{estimate.peak_mb:,.0f} MB, more than this server's memory budget of "
                             f"{self.budget_mb:,.0f} MB (MEMORY_BUDGET_MB): "
                             f"{costs.over_budget_advice(config, dataset, self.budget_mb)}.")

    def train(self, config: TrainConfig, dataset: Dataset, on_epoch: OnEpoch = None) -> RunResult:
        if self.budget_mb is not None:  # a study's cells come here directly (train_each)
            self.check_budget(config, dataset)
        return (self.trainer or train)(config, dataset, on_epoch=on_epoch)

    def prepare(self, configs: list[TrainConfig], dataset: Dataset) -> list[TrainConfig]:
        """TensorFlow imported, each config's model built and traced (core.training.prepare_training), so that a
        later `train` starts at its first epoch. Nothing with a custom trainer."""
        if self.trainer is not None:
            return []
        return [config for config in configs if self.fits(config, dataset) and prepare_training(config, dataset)]

    def __repr__(self) -> str:
        return f"InProcessExecutor(on {platform.node() or 'this machine'})"
