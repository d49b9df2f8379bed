"""What a training run reports and records: plain values shared by the trainer, the executors and the store.

A declaring module: it imports nothing of the project but the config, so training (core/training.py), the
run store (core/runs/) and the pages all read the same types without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, UTC

import numpy as np

from core.config import TrainConfig


@dataclass(frozen=True)
class EpochReport:
    epoch: int          # 1-based
    num_epochs: int
    metrics: dict       # loss, accuracy and, with a validation set, val_loss, val_accuracy
    seconds: float      # wall time of this epoch


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """What a finished run records, apart from arrays and the model: JSON-friendly values only."""
    config: TrainConfig
    history: dict                 # per epoch: loss, accuracy, val_loss, val_accuracy, seconds
    train_seconds: float
    num_params: int
    test_loss: float
    test_accuracy: float
    inference_ms_per_image: float
    layers: list                  # rows of architectures.layer_table
    data_source: str
    data_key: str
    num_validation: int
    trained_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    # The process's peak resident memory (MB) from the start of training to the end of the test predictions;
    # None where it cannot be read (not Linux) and for runs stored before it was recorded.
    peak_memory_mb: float | None = None
    # Where it trained: this machine's name, or the Ray node that ran the cell of a study on a cluster.
    trained_on: str | None = None

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / max(1, len(self.history.get("loss", [])))


@dataclass(frozen=True, kw_only=True)
class RunResult(RunRecord):
    """A run fresh from training: its record, test-set probabilities and the trained keras.Model."""
    test_probabilities: np.ndarray  # (num_test, 10) float32
    model: object


OnEpoch = Callable[[EpochReport], None] | None
