"""The networks, built by small named builders in a registry.

Adding a third architecture is one builder function and one `ARCHITECTURES` entry.
Keras is imported inside the builders so that importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10

# How the layers that dominate an architecture's compute do their arithmetic. Weights, the dense layers
# and the softmax stay float32 either way; only an architecture's `low_precision_layers` change.
PRECISIONS = {"float32": "float32 (the student's)", "bfloat16": "bfloat16 convolutions"}  # name: short label
PRECISION_HELP = ("bfloat16 runs the convolutional network's convolutions in 16-bit floats (weights stay 32-bit): "
                  "about 1.3-1.5x faster on CPUs with bfloat16 instructions (AVX512-BF16, AMX), slower on others, "
                  "and within the seed-to-seed spread of float32's accuracy. The flat network is unchanged.")


def check_precision(name: str) -> str:
    if name not in PRECISIONS:
        raise ValueError(f"Unknown precision {name!r}; choose from: {', '.join(PRECISIONS)}.")
    return name


def _low_precision_dtype(precision: str):
    """The Keras dtype policy for an architecture's compute-heavy layers (None: the float32 default)."""
    return "mixed_bfloat16" if check_precision(precision) == "bfloat16" else None


def build_flat():
    """The student's "flat" network: the image read as a 784-vector (42,310 parameters). Its steps are
    too small for arithmetic to matter, so it has no low-precision layers."""
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


def build_conv(precision: str = "float32"):
    """The student's convolutional network: the image read as 28x28 (600,810 parameters).

    With precision "bfloat16" the two convolutions and the pooling compute in bfloat16 (mixed precision:
    float32 weights, float32 accumulation), a per-layer policy so that concurrent trainings don't share
    Keras's global one. The dense layers stay float32: measured over 5 seeds, bfloat16 dense layers
    cost more accuracy for no extra speed (benchmarks/README.md)."""
    import keras
    from keras import layers

    low = _low_precision_dtype(precision)

    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),                                # (batch, 28, 28, 1)
            layers.Conv2D(32, 3, activation="relu", name="conv2d_1", dtype=low),  # (batch, 26, 26, 32)
            layers.Conv2D(32, 3, activation="relu", name="conv2d_2", dtype=low),  # (batch, 24, 24, 32)
            layers.MaxPooling2D(2, name="max_pooling2d", dtype=low),              # (batch, 12, 12, 32)
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
    build: Callable          # build() -> keras.Model; build(precision) if it has low-precision layers
    low_precision_layers: bool = False  # whether its builder takes a precision


ARCHITECTURES: dict[str, Architecture] = {
    "flat": Architecture("flat", "Flat (dense)", "Dense 50 -> Dense 50 -> Dense 10 on the 784-vector",
                         build_flat),
    "conv": Architecture("conv", "Convolutional", "2x Conv 3x3 -> MaxPool -> Dense 128 -> Dense 10",
                         build_conv, low_precision_layers=True),
}


def check_architecture(name: str) -> str:
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {name!r}; choose from: {', '.join(ARCHITECTURES)}.")
    return name


def build(name: str, precision: str = "float32"):
    architecture = ARCHITECTURES[check_architecture(name)]
    check_precision(precision)
    return architecture.build(precision) if architecture.low_precision_layers else architecture.build()


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
