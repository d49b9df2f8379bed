"""The executor of a server that cannot train (core/server_settings.py says why: too little memory for TensorFlow,
or a memory budget below what a worker needs): every job is refused at once with that reason, nothing is started,
and everything stored still opens (the runs service reads stored runs without an executor)."""

from __future__ import annotations

from core.runs.budget import OverBudget
from core.runs.executors import Executor, Handle, Job


class TrainingOff(OverBudget):
    """Model work asked of a server that cannot do any; the message is the server's reason, for the user."""


class NoTrainingExecutor(Executor):
    """Refuses training, predictions and robustness (TrainingOff, a kind of OverBudget, so pages show it as they
    show a run that does not fit); prepares and starts nothing."""

    def __init__(self, reason: str):
        self.reason = reason

    def submit(self, job: Job) -> Handle:
        raise TrainingOff(self.reason)

    def __repr__(self) -> str:
        return f"NoTrainingExecutor({self.reason!r})"
