"""The networks, built by small named builders in a registry.

Adding a third architecture is one builder function and one `ARCHITECTURES` entry.
Keras is imported inside the builders so that importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def build_flat():
    """The student's "flat" network: the image read as a 784-vector (42,310 parameters)."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),           # (batch, 28, 28, 1)
            layers.Flatten(name="flatten"),           # (batch, 784)
            layers.Dense(50, activation="relu", name="dense_1"),
            layers.Dense(50, activation="relu", name="dense_2"),
            layers.Dense(NUM_CLASSES, activation="softmax", name="output"),  # (batch, 10)
        ],
        name="flat",
    )


def build_conv():
    """The student's convolutional network: the image read as 28x28 (600,810 parameters)."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),                                # (batch, 28, 28, 1)
            layers.Conv2D(32, 3, activation="relu", name="conv2d_1"),      # (batch, 26, 26, 32)
            layers.Conv2D(32, 3, activation="relu", name="conv2d_2"),      # (batch, 24, 24, 32)
            layers.MaxPooling2D(2, name="max_pooling2d"),                  # (batch, 12, 12, 32)
            layers.Dropout(0.25, name="dropout_1"),
            layers.Flatten(name="flatten"),                                # (batch, 4608)
            layers.Dense(128, activation="relu", name="dense_1"),
            layers.Dropout(0.5, name="dropout_2"),
            layers.Dense(NUM_CLASSES, activation="softmax", name="output"),  # (batch, 10)
        ],
        name="conv",
    )


@dataclass(frozen=True)
class Architecture:
    name: str
    label: str
    description: str
    build: Callable


ARCHITECTURES: dict[str, Architecture] = {
    "flat": Architecture("flat", "Flat (dense)", "Dense 50 -> Dense 50 -> Dense 10 on the 784-vector",
                         build_flat),
    "conv": Architecture("conv", "Convolutional", "2x Conv 3x3 -> MaxPool -> Dense 128 -> Dense 10",
                         build_conv),
}


def check_architecture(name: str) -> str:
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {name!r}; choose from: {', '.join(ARCHITECTURES)}.")
    return name


def build(name: str):
    return ARCHITECTURES[check_architecture(name)].build()


def layer_table(model) -> list[dict]:
    """The model summary as rows (layer, type, output shape, params), as the student showed it."""
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape)
        rows.append({
            "layer": layer.name,
            "type": type(layer).__name__,
            "output_shape": "(None, " + ", ".join(str(d) for d in shape[1:]) + ")",
            "params": int(layer.count_params()),
        })
    return rows
