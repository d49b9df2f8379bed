"""Training one architecture on one sample: `model.fit` plus a callback that reports each epoch.

The trainer knows nothing of display: it calls `on_epoch(EpochReport)` once per epoch; a page moves a
progress bar with it, the CLI prints a line, tests append the reports to a list.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Optional

import numpy as np

from core import architectures, recipes
from core.config import TrainConfig
from core.recipes import RECIPES
from core.data import MIN_SAMPLE_SIZE, Dataset, check_sample_size, stratified_sample, to_model_input

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
PREDICT_BATCH_SIZE = 250  # large enough to be fast; conv activations at 1,000 cost ~200 MB more


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
    trained_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / max(1, len(self.history.get("loss", [])))


@dataclass(frozen=True, kw_only=True)
class RunResult(RunRecord):
    """A run fresh from training: its record, test-set probabilities and the trained keras.Model."""
    test_probabilities: np.ndarray  # (num_test, 10) float32
    model: object


OnEpoch = Optional[Callable[[EpochReport], None]]


def _epoch_reporter(num_epochs: int, on_epoch: OnEpoch, history: dict):
    import keras

    class EpochReporter(keras.callbacks.Callback):
        """Times each epoch, keeps the history and hands an EpochReport to `on_epoch`."""

        def on_epoch_begin(self, epoch, logs=None):
            self._started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self._started
            metrics = {key: float(logs[key]) for key in HISTORY_KEYS if logs and key in logs}
            for key, value in metrics.items():
                history.setdefault(key, []).append(value)
            history.setdefault("seconds", []).append(seconds)
            if on_epoch is not None:
                on_epoch(EpochReport(epoch + 1, num_epochs, metrics, seconds))

    return EpochReporter()


def split_indices(dataset: Dataset, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """The training sample and a disjoint validation sample, both from the training pool."""
    check_sample_size(config.sample_size, dataset.pool_size)
    train_index = stratified_sample(dataset.y_train, config.sample_size, seed=config.seed)
    num_validation = min(config.validation_size, dataset.pool_size - config.sample_size)
    if num_validation < MIN_SAMPLE_SIZE:
        return train_index, np.array([], dtype=int)
    validation_index = stratified_sample(dataset.y_train, num_validation, seed=config.seed + 1,
                                         exclude=train_index)
    return train_index, validation_index


def make_optimizer(name: str, learning_rate: float):
    import keras

    return {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
            "rmsprop": keras.optimizers.RMSprop}[name](learning_rate=learning_rate)


def train(config: TrainConfig, dataset: Dataset, on_epoch: OnEpoch = None) -> RunResult:
    """Train `config.architecture` on a stratified sample of `dataset` and evaluate it on the test set."""
    import keras

    if dataset.name != config.dataset:
        raise ValueError(f"Config asks for {config.dataset!r} but the dataset given is {dataset.name!r}.")
    train_index, validation_index = split_indices(dataset, config)
    x_train = dataset.x_train[train_index]  # (sample_size, 28, 28) uint8: scaled batch by batch
    y_train = dataset.y_train[train_index]
    validation = None
    if len(validation_index):
        validation = recipes.validation_pipeline(dataset.x_train[validation_index],
                                                 dataset.y_train[validation_index], PREDICT_BATCH_SIZE)

    recipe = RECIPES[config.recipe]
    keras.utils.set_random_seed(config.seed)
    model = architectures.build(config.architecture, config.precision)
    steps_per_epoch = -(-len(train_index) // config.batch_size)
    rate = recipes.learning_rate(recipe, config.learning_rate, steps_per_epoch, config.num_epochs)
    model.compile(optimizer=make_optimizer(config.optimizer, rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"],
                  steps_per_execution=recipes.steps_per_execution(steps_per_epoch))
    pipeline = recipes.training_pipeline(x_train, y_train, config.batch_size, config.seed, recipe)
    history: dict = {}
    started = time.perf_counter()
    model.fit(pipeline, epochs=config.num_epochs, validation_data=validation, shuffle=False, verbose=0,
              callbacks=[_epoch_reporter(config.num_epochs, on_epoch, history),
                         *recipes.callbacks(recipe, validation is not None)])
    train_seconds = time.perf_counter() - started

    x_test = to_model_input(dataset.x_test)  # (num_test, 28, 28, 1)
    probabilities, inference_ms = predict_timed(model, x_test)
    test_loss, test_accuracy = loss_and_accuracy(dataset.y_test, probabilities)
    return RunResult(
        config=config, history=history, train_seconds=train_seconds,
        num_params=int(model.count_params()), test_loss=test_loss, test_accuracy=test_accuracy,
        test_probabilities=probabilities, inference_ms_per_image=inference_ms,
        layers=architectures.layer_table(model), data_source=dataset.source, data_key=dataset.key,
        num_validation=len(validation_index), model=model,
    )


def predict_timed(model, images: np.ndarray) -> tuple[np.ndarray, float]:
    """Class probabilities (num_images, 10) and the milliseconds per image, tracing excluded."""
    model.predict(images[:8], verbose=0)  # warm-up: the first call traces the graph
    started = time.perf_counter()
    probabilities = model.predict(images, batch_size=PREDICT_BATCH_SIZE, verbose=0)
    milliseconds = (time.perf_counter() - started) * 1000 / max(1, len(images))
    return probabilities.astype(np.float32), milliseconds


def loss_and_accuracy(labels: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    """Sparse categorical cross-entropy (clipped as Keras does) and accuracy, from stored predictions."""
    picked = probabilities[np.arange(len(labels)), labels]
    loss = float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())
    accuracy = float((probabilities.argmax(axis=1) == labels).mean())
    return loss, accuracy
