"""A fake trainer: instant, deterministic RunResults with an untrained (but loadable) model."""

from __future__ import annotations

import functools

import numpy as np

from core import architectures
from core.records import EpochReport, RunResult


FAKE_PEAK_MEMORY_MB = 1234.5


@functools.lru_cache(maxsize=32)
def untrained_model(spec, precision: str) -> tuple[int, list, bytes]:
    """`spec`'s parameter count, layer table and untrained model as .keras bytes: built and saved once per
    network and precision in a test process (building and saving a real model per fake cell took seconds)."""
    from core.runs.run_files import model_bytes

    model = architectures.build(spec, precision)
    return int(model.count_params()), architectures.layer_table(model), model_bytes(model)


class FakeTrainer:
    """Records every call; reports each epoch like the real trainer; accuracy grows with sample size."""

    def __init__(self, accuracy=None, exact: bool = False):
        self.calls = []
        # config -> the share of test digits it gets right; default: 0.95 with convolutions, else 0.85
        self.accuracy = accuracy or (lambda config: 0.95 if config.spec.has_convolution else 0.85)
        self.exact = exact  # exactly that share right (rounded to a digit), not about it: hand-worked numbers

    def __call__(self, config, dataset, on_epoch=None):
        self.calls.append(config)
        history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": [], "seconds": []}
        for epoch in range(1, config.num_epochs + 1):
            metrics = {"loss": 1 / epoch, "accuracy": 1 - 0.5 / epoch, "val_loss": 1.2 / epoch,
                       "val_accuracy": 1 - 0.6 / epoch}
            for key, value in metrics.items():
                history[key].append(value)
            history["seconds"].append(0.01)
            if on_epoch is not None:
                on_epoch(EpochReport(epoch, config.num_epochs, metrics, 0.01))
        labels = dataset.y_test
        # Each seed ranks the test digits by difficulty; a model gets the easiest `accuracy` share right, so
        # two models of equal accuracy and seed make the same mistakes.
        difficulty = np.random.default_rng(config.seed).random(len(labels))
        if self.exact:
            right = np.zeros(len(labels), dtype=bool)
            right[np.argsort(difficulty)[:round(self.accuracy(config) * len(labels))]] = True
        else:
            right = difficulty < self.accuracy(config)
        predicted = np.where(right, labels, (labels + 1) % 10)
        probabilities = np.full((len(labels), 10), 0.02, dtype=np.float32)
        probabilities[np.arange(len(labels)), predicted] = 0.82
        num_params, layers, model = untrained_model(config.spec, config.precision)
        return RunResult(
            config=config, history=history, train_seconds=0.01 * config.num_epochs,
            num_params=num_params, test_loss=0.5, test_accuracy=float(right.mean()),
            test_probabilities=probabilities, inference_ms_per_image=0.05,
            layers=[dict(row) for row in layers], data_source=dataset.source, data_key=dataset.key,
            num_validation=100, model=model, peak_memory_mb=FAKE_PEAK_MEMORY_MB)


def service(store, trainer=None):
    """The runs service over `store`, training in this process with `trainer` (default: the real one)."""
    from core.runs import InProcessExecutor, RunsService

    return RunsService(store, InProcessExecutor(), trainer=trainer)


def run_folder(run):
    """A folder store's run folder (the files a test damages or checks)."""
    return run.files.backend.folder(run.run_id)


def wait_until_background_idle(timeout: float = 60) -> bool:
    """True once ui.background has nothing waiting or being prepared (within `timeout` seconds)."""
    from ui import background

    with background._lock:
        return background._lock.wait_for(lambda: not background._waiting and not background._busy, timeout)


def forget_background() -> None:
    """ui.background forgets what was asked, as a restarted server would (its thread stays)."""
    from ui import background

    with background._lock:
        background._asked.clear()
        background._waiting.clear()
