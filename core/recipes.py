"""Training recipes: how a sample is fed and optimised. The architectures never change with them.

`student` is the student's recipe (Adam, constant learning rate, no augmentation) and the default.
`improved` adds data augmentation (random rotations up to ±14°, shifts up to 10%, zooms up to 12%,
applied on the fly by Keras preprocessing layers in the input pipeline, so the model and its parameter
count stay the same), a cosine learning-rate schedule with warm-up, and early stopping on the
validation split (digits from the training pool outside the sample, never the test set) that restores
the best weights. Note that early stopping makes the validation digits' labels part of training's
model selection.
`averaged` keeps improved's augmentation and schedule but trains a fixed 200 epochs (no early stopping, so
the validation digits only draw the curves), with decoupled weight decay (AdamW's) and an exponential moving
average of the weights (momentum 0.995, about the last 200 steps; lower for short runs, see `ema_momentum`), which
becomes the model when training ends.
Elastic distortions were tried and left out: they did not help either network (benchmarks/README.md;
benchmarks/select_recipe.py adds them through `Recipe.batch_distortion`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Training steps per call into TensorFlow: less Python overhead per small batch. One number for every sample size:
# Keras 3 ends an execution early when the epoch's batches run out (its traced loop checks for a next batch), so an
# epoch of 16 batches runs 16 steps either way, and one compiled model serves every sample size (a changed sample
# size no longer traces anew). Checked 2026-12-06: weights, test predictions and learning curves bitwise equal to
# steps_per_execution = the epoch's batches, flat and conv at 100 and 500 digits.
STEPS_PER_EXECUTION = 32


@dataclass(frozen=True)
class Recipe:
    name: str
    label: str
    cosine_schedule: bool
    early_stopping_patience: int | None  # epochs without val_loss improvement; None: never stop early
    default_epochs: int
    default_learning_rate: float
    rotation: float = 0.0  # augmentation: fraction of a full turn (0.04 = ±14°)
    shift: float = 0.0     # fraction of the image's height and width
    zoom: float = 0.0      # fraction of the size
    ema_momentum: float | None = None  # train with an exponential moving average of the weights, kept at the end
    weight_decay: float | None = None  # decoupled weight decay (AdamW's), per step, times the learning rate

    def __post_init__(self):
        if self.ema_momentum is not None and self.early_stopping_patience is not None:
            # Keras writes the average over the weights when fit ends, after early stopping restored its best
            # epoch's: the two would silently fight.
            raise ValueError(f"Recipe {self.name!r}: a weight average and early stopping do not combine.")

    @property
    def counts_steps(self) -> bool:
        """Whether its optimizer depends on the run's number of steps (learning_rate's cosine schedule, ema_momentum's
        cap): then a compiled model serves one sample size and epoch count only."""
        return self.cosine_schedule or self.ema_momentum is not None

    @property
    def augment(self) -> bool:
        return bool(self.rotation or self.shift or self.zoom)

    def batch_distortion(self, seed: int):
        """A tf.data map over (uint8 images (batch, 28, 28), labels) batches applied before scaling, or None
        (every recipe here). A subclass's hook: benchmarks/select_recipe.py's elastic candidates."""
        return None


RECIPES = {
    "student": Recipe("student", "Student's recipe (Adam, constant rate)", cosine_schedule=False,
                      early_stopping_patience=None, default_epochs=12, default_learning_rate=0.001),
    # Chosen on the validation split (3 seeds, 1,000 MNIST digits) among five variants; never on the test set.
    "improved": Recipe("improved", "Improved (augmentation, cosine schedule, early stopping)",
                       cosine_schedule=True, early_stopping_patience=20, default_epochs=80,
                       default_learning_rate=0.002, rotation=0.04, shift=0.1, zoom=0.12),
    # Chosen on the pool's digits outside the sample and the validation split (benchmarks/select_recipe.py,
    # 3 seeds); the test set was read once, for the table in benchmarks/README.md.
    "averaged": Recipe("averaged", "Averaged (augmentation, 200 epochs, weight decay, averaged weights)",
                       cosine_schedule=True, early_stopping_patience=None, default_epochs=200,
                       default_learning_rate=0.002, rotation=0.04, shift=0.1, zoom=0.12,
                       ema_momentum=0.995, weight_decay=0.2),
}


def check_recipe(name: str) -> str:
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; choose from: {', '.join(RECIPES)}.")
    return name


def augmentation(recipe: Recipe, seed: int):
    """Random small rotations, shifts and zooms, filled with black as MNIST's background."""
    import keras
    from keras import layers

    return keras.Sequential([
        layers.RandomRotation(recipe.rotation, fill_mode="constant", seed=seed),
        layers.RandomTranslation(recipe.shift, recipe.shift, fill_mode="constant", seed=seed + 1),
        layers.RandomZoom(recipe.zoom, fill_mode="constant", seed=seed + 2),
    ], name="augmentation")


def training_pipeline(x_train: np.ndarray, y_train: np.ndarray, batch_size: int, seed: int, recipe: Recipe):
    """A tf.data pipeline over uint8 images (num_images, 28, 28): kept as bytes (a quarter of float32's
    memory), reshuffled each epoch (seeded), batched, scaled to 0..1 per batch, prefetched."""
    import tensorflow as tf

    pipeline = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
                .shuffle(len(x_train), seed=seed, reshuffle_each_iteration=True)
                .batch(batch_size))
    distortion = recipe.batch_distortion(seed)
    if distortion is not None:
        pipeline = pipeline.map(distortion)
    pipeline = pipeline.map(_scale)
    if recipe.augment:
        layers = augmentation(recipe, seed)
        pipeline = pipeline.map(lambda images, labels: (layers(images, training=True), labels))
    return pipeline.prefetch(1).with_options(_quiet_pipeline_options())


def validation_pipeline(x_validation: np.ndarray, y_validation: np.ndarray, batch_size: int):
    """The validation digits (uint8, (num_images, 28, 28)) scaled once and kept in memory: every epoch
    reads the same batches without re-running the pipeline."""
    import tensorflow as tf

    return (tf.data.Dataset.from_tensor_slices((x_validation, y_validation)).batch(batch_size)
            .map(_scale).cache().prefetch(1).with_options(_quiet_pipeline_options()))


def _scale(images, labels):  # the tf.data twin of core.data.to_model_input
    import tensorflow as tf

    return tf.cast(images, tf.float32)[..., tf.newaxis] / 255.0, labels  # (batch, 28, 28, 1)


def _quiet_pipeline_options():
    """One tf.data thread, no autotuning. On 2 cores, tf.data's autotuner and thread pool made about
    one epoch in three stall ~0.3 s (an epoch's worth of compute) at 1,000 digits; feeding a batch is
    microseconds of work next to a conv step, so one thread is plenty (benchmarks/README.md)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    options.threading.private_threadpool_size = 1
    options.experimental_optimization.apply_default_optimizations = False
    return options


def learning_rate(recipe: Recipe, base_rate: float, steps_per_epoch: int, num_epochs: int):
    if not recipe.cosine_schedule:
        return base_rate
    import keras

    total = max(1, steps_per_epoch * num_epochs)
    warmup = min(total // 10, 5 * steps_per_epoch)
    return keras.optimizers.schedules.CosineDecay(initial_learning_rate=base_rate * 0.1,
                                                   decay_steps=max(1, total - warmup),
                                                   warmup_target=base_rate, warmup_steps=warmup, alpha=0.01)


def ema_momentum(recipe: Recipe, steps_per_epoch: int, num_epochs: int) -> float | None:
    """The recipe's weight-average momentum, lowered for short runs so that the average forgets the initial
    weights: at most 1 - 10 / total steps (their share is then under e^-10). Keras starts the average at the
    first step's weights with no bias correction: at momentum 0.995, the conv net trained 3 epochs on 300
    digits ended at 21% test accuracy while its own weights were at 64% on the validation digits. The chosen
    200 epochs of 1,000 digits (6,400 steps) keep 0.995."""
    if recipe.ema_momentum is None:
        return None
    return min(recipe.ema_momentum, 1 - 10 / max(20, steps_per_epoch * num_epochs))


def callbacks(recipe: Recipe, has_validation: bool) -> list:
    if recipe.early_stopping_patience is None or not has_validation:
        return []
    import keras

    return [keras.callbacks.EarlyStopping(monitor="val_loss", patience=recipe.early_stopping_patience,
                                          restore_best_weights=True)]
