"""The executor of a server that cannot train (core/server_settings.py says why: too little memory for TensorFlow,
or a memory budget below what a worker needs): every request for model work is refused at once with that reason,
nothing is started, and everything stored still opens (the runs service reads stored runs without an executor)."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from core.config import TrainConfig
from core.costs import Cost
from core.data import Dataset
from core.runs.executors import Executor
from core.runs.workers import OverBudget
from core.training import OnEpoch, RunResult


class TrainingOff(OverBudget):
    """Model work asked of a server that cannot do any; the message is the server's reason, for the user."""


class NoTrainingExecutor(Executor):
    """Refuses training, predictions and robustness (TrainingOff, a kind of OverBudget, so pages show it as they
    show a run that does not fit); prepares and starts nothing."""

    name = "none"

    def __init__(self, reason: str):
        self.reason = reason

    def train(self, config: TrainConfig, dataset: Dataset, on_epoch: OnEpoch = None) -> RunResult:
        raise TrainingOff(self.reason)

    def start(self, key: str, config: TrainConfig, dataset: Dataset, body: Callable, estimate: Cost | None = None,
              asked_at: float | None = None):
        raise TrainingOff(self.reason)

    def compute(self, key: str | None, function: Callable, args: tuple, peak_mb: float = 0.0, label: str = "",
                on_queue: Callable | None = None) -> Any:
        raise TrainingOff(self.reason)

    def __repr__(self) -> str:
        return f"NoTrainingExecutor({self.reason!r})"
