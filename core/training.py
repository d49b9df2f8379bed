"""Training one architecture on one sample: `model.fit` plus a callback that reports each epoch.

The trainer knows nothing of display: it calls `on_epoch(EpochReport)` once per epoch; a page moves a
progress bar with it, the CLI prints a line, tests append the reports to a list.

Compiled models are reused between runs of the same kind (core/model_pool.py): reset to the new run's initial
state, they skip Keras's tracing (~1 s for the conv net); the caller gets its own uncompiled copy. What a run
reports and records (EpochReport, RunRecord, RunResult) is declared in core/records.py.
"""

from __future__ import annotations

import platform
import threading
import time
from dataclasses import replace

import numpy as np

from core import architectures, lazy, pixels, recipes
from core.memory import PeakMemory, return_freed_memory
from core.model_pool import MODEL_POOL, ReusableModel
from core.records import EpochReport, OnEpoch, RunResult
from core.config import TrainConfig
from core.recipes import RECIPES
from core.data import MIN_SAMPLE_SIZE, Dataset, check_sample_size, stratified_sample, to_model_input

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
PREDICT_BATCH_SIZE = 250  # large enough to be fast; conv activations at 1,000 cost ~200 MB more


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


def make_optimizer(name: str, learning_rate, ema_momentum: float | None = None, weight_decay: float | None = None):
    """With `ema_momentum`, the optimizer also keeps an exponential moving average of the weights, which
    replaces the weights when `fit` ends; `weight_decay` is decoupled (AdamW's)."""
    import keras
    import tensorflow as tf

    options = {} if ema_momentum is None else {"use_ema": True, "ema_momentum": ema_momentum}
    if weight_decay is not None:
        options["weight_decay"] = weight_decay
    optimizer = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
                 "rmsprop": keras.optimizers.RMSprop}[name](learning_rate=learning_rate, **options)
    if not tf.distribute.has_strategy():
        _skip_all_reduce(optimizer)
    return optimizer


REPLACED_METHOD = "_all_reduce_sum_gradients"


def _skip_all_reduce(optimizer) -> None:
    """One replica: summing gradients over replicas is the identity. TensorFlow's all-reduce would wrap it in a
    tf.custom_gradient, which registers a gradient function in TF's global registry on every trace and never
    removes it; that function holds the traced graph, so every compiled model's training graph stayed in
    memory for good (~10 MB per comparison, benchmarks/bench_soak.py). So the optimizer's private
    `_all_reduce_sum_gradients` is replaced; RuntimeError if this Keras's optimizer class no longer has it
    (assigning it would still succeed, silently bringing the leak back)."""
    if not callable(getattr(type(optimizer), REPLACED_METHOD, None)):
        import keras

        raise RuntimeError(f"Keras {keras.__version__}'s {type(optimizer).__name__} optimizer has no method "
                           f"{REPLACED_METHOD}, which core/training.py replaces to stop a memory leak per training. "
                           f"Check what its TensorFlow optimizer does with gradients now and update _skip_all_reduce, "
                           f"or install the Keras requirements.txt pins.")
    setattr(optimizer, REPLACED_METHOD, _one_replica_gradients)


def _one_replica_gradients(grads_and_vars):
    return list(grads_and_vars)


def train(config: TrainConfig, dataset: Dataset, on_epoch: OnEpoch = None) -> RunResult:
    """Train `config.spec` on a stratified sample of `dataset` and evaluate it on the test set."""
    with PeakMemory() as peak:
        result = _train(config, dataset, on_epoch)
    return_freed_memory()
    return replace(result, trained_on=platform.node() or None,
                   peak_memory_mb=None if peak.megabytes is None else round(peak.megabytes, 1))


def _train(config: TrainConfig, dataset: Dataset, on_epoch: OnEpoch) -> RunResult:
    lazy.keras()  # TensorFlow's first import in this process, one thread at a time

    x_train, y_train, validation, num_validation = _inputs(config, dataset)
    recipe = RECIPES[config.recipe]
    steps_per_epoch = -(-len(x_train) // config.batch_size)
    key = _compiled_key(config, steps_per_epoch)
    model = MODEL_POOL.take(key)  # waits for a warm-up of this kind in progress, if any
    fresh = model.take_prepared(config.seed) if model is not None else None
    if fresh is None:
        fresh = _seeded_build(config)  # this seed's initial weights
        if model is None:  # the first run of its kind: a second model, compiled, for the pool
            model = _compiled(_build_unseeded(config), config, steps_per_epoch)
        model.reset_to(fresh)
    pipeline = recipes.training_pipeline(x_train, y_train, config.batch_size, config.seed, recipe)
    pipeline = pixels.arrange_batches(pipeline, config.pixels)  # shuffled pixels: after any augmentation
    history: dict = {}
    started = time.perf_counter()
    model.fit(pipeline, epochs=config.num_epochs, validation_data=validation, shuffle=False, verbose=0,
              callbacks=[_epoch_reporter(config.num_epochs, on_epoch, history),
                         *recipes.callbacks(recipe, validation is not None)])
    train_seconds = time.perf_counter() - started

    x_test = to_model_input(pixels.arrange(dataset.x_test, config.pixels))  # (num_test, 28, 28, 1)
    probabilities, inference_ms = predict_timed(model, x_test)
    fresh.set_weights(model.get_weights())  # the caller's own copy: `model` goes back to the pool
    MODEL_POOL.give(key, model)
    model = fresh
    test_loss, test_accuracy = loss_and_accuracy(dataset.y_test, probabilities)
    return RunResult(
        config=config, history=history, train_seconds=train_seconds,
        num_params=int(model.count_params()), test_loss=test_loss, test_accuracy=test_accuracy,
        test_probabilities=probabilities, inference_ms_per_image=inference_ms,
        layers=architectures.layer_table(model), data_source=dataset.source, data_key=dataset.key,
        num_validation=num_validation, model=model,
    )


def prepare_training(config: TrainConfig, dataset: Dataset) -> bool:
    """Do now what the first training of `config`'s kind does before its first epoch: import TensorFlow, build
    and compile the model and trace its training, validation and prediction steps (on one batch of the run's own
    data: the traced loop is the same for any number of batches), then reset it to the run's initial weights. The
    compiled model waits in the pool, where `train` takes it (waiting for this if it is still running). False when
    a model of this kind is already idle or being warmed up."""
    steps_per_epoch = -(-check_sample_size(config.sample_size, dataset.pool_size) // config.batch_size)
    key = _compiled_key(config, steps_per_epoch)
    if not MODEL_POOL.reserve(key):  # claimed before anything slow: a Train click from now on waits for this
        return _prepare_seed(key, config)
    try:
        lazy.keras()  # the import is most of a cold start
        x_train, y_train, validation, _ = _inputs(config, dataset)
        model = _compiled(_build_unseeded(config), config, steps_per_epoch)
        pipeline = recipes.training_pipeline(x_train, y_train, config.batch_size, config.seed, RECIPES[config.recipe])
        model.fit(pipeline.take(1), epochs=1, shuffle=False, verbose=0,
                  validation_data=None if validation is None else validation.take(1))
        predict(model, to_model_input(dataset.x_test[:1]))
        model.prepare(config.seed, _seeded_build(config))  # the run's initial state, set now rather than after a click
        return_freed_memory()  # the first, slow collection: done here rather than after the click's training
    except BaseException:
        MODEL_POOL.release(key)
        raise
    MODEL_POOL.give(key, model)  # its weights are reset to the run's own before training
    return True


def _prepare_seed(key: tuple, config: TrainConfig) -> bool:
    """A compiled model of this kind is idle (another seed's run trained it, or a warm-up prepared it for another
    seed): set it to `config`'s initial weights now, so the click skips building them (~0.2 s for the conv net).
    False when it is already set for this seed, or when no model of this kind is idle (one is training)."""
    model = MODEL_POOL.take(key)
    if model is None:
        return False
    try:
        if model.prepared_for(config.seed):
            return False
        model.prepare(config.seed, _seeded_build(config))
    finally:
        MODEL_POOL.give(key, model)
    return True


def _inputs(config: TrainConfig, dataset: Dataset):
    """(x_train, y_train, validation pipeline or None, number of validation digits) for `config`."""
    if dataset.name != config.dataset:
        raise ValueError(f"Config asks for {config.dataset!r} but the dataset given is {dataset.name!r}.")
    train_index, validation_index = split_indices(dataset, config)
    x_train = dataset.x_train[train_index]  # (sample_size, 28, 28) uint8: scaled batch by batch
    y_train = dataset.y_train[train_index]
    validation = None
    if len(validation_index):
        validation = recipes.validation_pipeline(pixels.arrange(dataset.x_train[validation_index], config.pixels),
                                                 dataset.y_train[validation_index], PREDICT_BATCH_SIZE)
    return x_train, y_train, validation, len(validation_index)


# Keras draws initial weights and dropout seeds from global random state: a run's `set_random_seed` and
# build must not interleave with another thread's build (a warm-up, another session's training).
_RANDOM_STATE = threading.Lock()


def _seeded_build(config: TrainConfig):
    """The model a run of `config` starts from: its seed's initial weights and dropout seeds."""
    import keras

    with _RANDOM_STATE:
        keras.utils.set_random_seed(config.seed)
        return architectures.build(config.spec, config.precision)


def _build_unseeded(config: TrainConfig):
    """A model whose weights do not matter (they are reset before training), built without disturbing a
    seeded build in another thread."""
    with _RANDOM_STATE:
        return architectures.build(config.spec, config.precision)


def _compiled_key(config: TrainConfig, steps_per_epoch: int) -> tuple:
    """What a compiled model's traced functions and optimizer depend on: runs with equal keys can share one. The
    sample size only where the optimizer's schedule or weight average counts the steps (recipes.STEPS_PER_EXECUTION:
    the traced loop is the same for every sample size)."""
    schedule = (steps_per_epoch, config.num_epochs) if RECIPES[config.recipe].counts_steps else None
    return (config.spec.hash, config.precision, config.optimizer, config.learning_rate, config.recipe, schedule)


def _compiled(model, config: TrainConfig, steps_per_epoch: int):
    """`model` compiled for `config`, with its optimizer built, wrapped so that it can be reset."""
    recipe = RECIPES[config.recipe]
    rate = recipes.learning_rate(recipe, config.learning_rate, steps_per_epoch, config.num_epochs)
    momentum = recipes.ema_momentum(recipe, steps_per_epoch, config.num_epochs)
    optimizer = make_optimizer(config.optimizer, rate, momentum, recipe.weight_decay)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=recipes.STEPS_PER_EXECUTION)
    model.optimizer.build(model.trainable_variables)
    return ReusableModel(model)




def predict_timed(model, images: np.ndarray) -> tuple[np.ndarray, float]:
    """Class probabilities (num_images, 10) and the milliseconds per image, tracing excluded."""
    if getattr(model, "predict_function", None) is None:  # a pooled model has predicted before: traced already
        predict(model, images[:1])  # warm-up: the first call traces the graph (one padded batch of compute)
    started = time.perf_counter()
    probabilities = predict(model, images)
    milliseconds = (time.perf_counter() - started) * 1000 / max(1, len(images))
    return probabilities, milliseconds


def predict(model, images: np.ndarray) -> np.ndarray:
    """Class probabilities (num_images, 10) float32, in batches of PREDICT_BATCH_SIZE, the last one padded: one
    traced shape for every call. `model.predict` builds a tf.data pipeline per call, ~0.35 s here even for the
    flat net's 4 ms of arithmetic on 1,000 digits."""
    chunks = []
    for start in range(0, len(images), PREDICT_BATCH_SIZE):
        batch = images[start:start + PREDICT_BATCH_SIZE]
        padded = np.zeros((PREDICT_BATCH_SIZE, *images.shape[1:]), images.dtype)
        padded[:len(batch)] = batch
        chunks.append(np.asarray(model.predict_on_batch(padded))[:len(batch)])
    if not chunks:
        return np.zeros((0, 10), np.float32)
    return np.concatenate(chunks).astype(np.float32)


def loss_and_accuracy(labels: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    """Sparse categorical cross-entropy (clipped as Keras does) and accuracy, from stored predictions."""
    picked = probabilities[np.arange(len(labels)), labels]
    loss = float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())
    accuracy = float((probabilities.argmax(axis=1) == labels).mean())
    return loss, accuracy
