"""Networks as data: a validated, hashable spec per network, and one builder that turns any spec into Keras.

A spec says how the image is read (a 28x28 image or a 784-vector) and lists the hidden layers in order;
the output layer (Dense 10, softmax) is always added by the builder. Named presets and users' own
networks are the same kind of thing, so a new variant is one `PRESETS` line; a new layer type is one
`Layer` subclass in core/layers.py (its settings, output shape, parameter count and Keras layer).

Shapes and parameter counts are worked out here in plain Python, so a page can show a spec's layer
table before TensorFlow is loaded; tests check that Keras agrees. Keras is imported only in `build` and
the layers' `keras_layer`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field

from core import lazy
from core.layers import (IMAGE_SIZE, INPUT_SHAPE, LAYER_KINDS, Conv, Dense, Dropout, Flatten, Layer, MaxPool,
                         layer_from_dict, layer_to_dict)
from core.safe_text import echo, plain

NUM_CLASSES = 10
INPUTS = {"image": "28×28 image", "vector": "784-vector"}
MAX_PARAMS = 5_000_000      # keeps a training within Streamlit Community Cloud's memory
MAX_LAYERS = 20
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
MAX_DESCRIPTION = 300       # characters of a network's one-line description (plain text, shown as text)

# How the layers that dominate an architecture's compute do their arithmetic. Weights, the dense layers
# and the softmax stay float32 either way; only convolutions and pooling change.
PRECISIONS = {"float32": "float32 (the student's)", "bfloat16": "bfloat16 convolutions"}  # name: short label
PRECISION_HELP = ("bfloat16 runs the convolutional networks' convolutions in 16-bit floats (weights stay 32-bit): "
                  "about 1.3-1.5x faster on CPUs with bfloat16 instructions (AVX512-BF16, AMX), slower on others, "
                  "and within the seed-to-seed spread of float32's accuracy. Networks without convolutions are "
                  "unchanged.")


def check_precision(name: str) -> str:
    if name not in PRECISIONS:
        raise ValueError(f"Unknown precision {name!r}; choose from: {', '.join(PRECISIONS)}.")
    return name


def check_name(name) -> str:
    """A network's name: 1 to 40 letters, digits, '-' or '_', starting with a letter or digit (it names files and
    rows, so it can never reach outside them); ValueError otherwise."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"A network's name must be 1 to 40 letters, digits, '-' or '_', starting with a letter "
                         f"or digit; got {echo(name)}.")
    return name


def check_description(text) -> str:
    """A network's description: one line of plain text (shown as text, never as Markdown), at most
    MAX_DESCRIPTION characters, without control characters."""
    if not isinstance(text, str):
        raise ValueError("A network's description must be text.")
    if len(text) > MAX_DESCRIPTION:
        raise ValueError(f"A network's description may have at most {MAX_DESCRIPTION} characters; this one has "
                         f"{len(text):,}.")
    if plain(text) != text or "\n" in text:
        raise ValueError("A network's description must be one line of text without control characters.")
    return text


# --- the spec -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerRow:
    """One row of a network's layer table, as the student's Keras summary showed it."""
    layer: str
    type: str
    output_shape: tuple   # without the batch dimension
    params: int


@dataclass(frozen=True)
class ArchitectureSpec:
    """A network: how the image is read and its hidden layers. Validated on creation: a spec that
    exists can be built."""
    name: str
    input: str                 # "image" (28x28x1) or "vector" (784)
    layers: tuple              # hidden layers in order; the output layer (Dense 10 softmax) is implicit
    description: str = ""      # one line: what it is, or what it isolates
    rows: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        check_name(self.name)
        if not isinstance(self.input, str) or self.input not in INPUTS:
            raise ValueError(f"A network reads the digit as 'image' (28x28) or 'vector' (784); got {echo(self.input)}.")
        check_description(self.description)
        if not isinstance(self.layers, (tuple, list)):
            raise ValueError("A network's layers must be a list.")
        if len(self.layers) > MAX_LAYERS:
            raise ValueError(f"A network may have at most {MAX_LAYERS} hidden layers; this one has {len(self.layers)}.")
        layers = tuple(layer if isinstance(layer, Layer) else layer_from_dict(layer) for layer in self.layers)
        if any(type(layer) not in LAYER_KINDS.values() for layer in layers):
            raise ValueError(f"A network's layers must be of these types: "
                             f"{', '.join(kind.label for kind in LAYER_KINDS.values())}.")
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "rows", _infer_rows(self.input, layers))
        if self.num_params > MAX_PARAMS:
            raise ValueError(f"{self.num_params:,} parameters is over the limit of {MAX_PARAMS:,} (it keeps training "
                             f"within a small server's memory). Narrow a layer or pool earlier.")

    # what it is
    @property
    def num_params(self) -> int:
        return sum(row.params for row in self.rows)

    @property
    def has_convolution(self) -> bool:
        return any(isinstance(layer, Conv) for layer in self.layers)

    @property
    def has_low_precision_layers(self) -> bool:
        """Whether precision changes this network (its convolutions and pooling)."""
        return any(layer.spatial for layer in self.layers)

    @property
    def label(self) -> str:
        same_as_preset = self.name in PRESETS and PRESETS[self.name].hash == self.hash  # whatever its description
        return PRESET_LABELS.get(self.name, self.name) if same_as_preset else self.name

    def layer_summary(self) -> str:
        """"Conv 32 3×3 relu → … → Dense 10 softmax", reading from the input."""
        return " → ".join([INPUTS[self.input]] + [layer.describe() for layer in self.layers]
                          + [f"Dense {NUM_CLASSES} softmax"])

    # identity and JSON
    @property
    def hash(self) -> str:
        """What the network computes (input and layers), not what it is called."""
        payload = json.dumps({"input": self.input, "layers": [layer_to_dict(layer) for layer in self.layers]},
                             sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {"name": self.name, "input": self.input, "layers": [layer_to_dict(layer) for layer in self.layers],
                "description": self.description}

    @classmethod
    def from_dict(cls, values) -> ArchitectureSpec:
        if not isinstance(values, dict):
            raise ValueError("A network spec must be a JSON object with name, input and layers.")
        missing = {"name", "input", "layers"} - set(values)
        if missing:
            raise ValueError(f"A network spec needs {', '.join(sorted(missing))}.")
        unknown = set(values) - {"name", "input", "layers", "description"}
        if unknown:
            raise ValueError(f"A network spec has no field {', '.join(plain(name, 40) for name in sorted(unknown))}; "
                             f"it takes name, input, layers and description.")
        if not isinstance(values["layers"], list):
            raise ValueError("A network spec's layers must be a JSON list.")
        return cls(name=values["name"], input=values["input"], layers=tuple(values["layers"]),
                   description=values.get("description", ""))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> ArchitectureSpec:
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"Not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}).") from None
        except RecursionError:
            raise ValueError("Not a network spec: its JSON is nested far too deeply.") from None
        return cls.from_dict(values)

    def renamed(self, name: str, description: str | None = None) -> ArchitectureSpec:
        return ArchitectureSpec(name, self.input, self.layers,
                                self.description if description is None else description)


def _layer_names(layers: tuple) -> list[str]:
    """Keras layer names as the student's models had them: conv2d_1, dense_2, max_pooling2d, output."""
    totals = Counter(type(layer) for layer in layers)
    seen: Counter = Counter()
    names = []
    for layer in layers:
        seen[type(layer)] += 1
        numbered = layer.always_numbered or totals[type(layer)] > 1
        names.append(f"{layer.keras_name}_{seen[type(layer)]}" if numbered else layer.keras_name)
    return names


def _infer_rows(input_kind: str, layers: tuple) -> tuple:
    """The layer table (names, output shapes, parameter counts), checking that every layer fits its input."""
    rows = []
    shape: tuple = INPUT_SHAPE                       # (28, 28, 1)
    if input_kind == "vector":
        shape = (IMAGE_SIZE * IMAGE_SIZE,)           # (784,)
        rows.append(LayerRow("flatten", "Flatten", shape, 0))
    for position, (layer, name) in enumerate(zip(layers, _layer_names(layers)), start=1):
        layer.check_input(shape, f"Layer {position} ({layer.describe()})", input_kind)
        params = layer.num_params(shape)
        shape = layer.output_shape(shape)
        rows.append(LayerRow(name, layer.keras_type, shape, params))
    if len(shape) != 1:
        raise ValueError("The output layer needs a vector: end the image part with a Flatten layer.")
    rows.append(LayerRow("output", "Dense", (NUM_CLASSES,), (shape[0] + 1) * NUM_CLASSES))
    return tuple(rows)


def layer_rows(spec: ArchitectureSpec) -> list[dict]:
    """The spec's layer table as plain rows, in the same form as `layer_table` of a built model."""
    return [{"layer": row.layer, "type": row.type, "output_shape": _shape_text(row.output_shape),
             "params": row.params} for row in spec.rows]


def _shape_text(shape: tuple) -> str:
    return "(None, " + ", ".join(str(size) for size in shape) + ")"


# --- presets --------------------------------------------------------------------------------------

FLAT = ArchitectureSpec("flat", "vector", (Dense(50), Dense(50)),
                        "The student's flat network: the image read as a 784-vector.")
CONV = ArchitectureSpec("conv", "image", (Conv(32, 3), Conv(32, 3), MaxPool(2), Dropout(0.25), Flatten(), Dense(128),
                                          Dropout(0.5)),
                        "The student's convolutional network: the image read as 28×28.")

PRESETS: dict[str, ArchitectureSpec] = {spec.name: spec for spec in (
    FLAT,
    CONV,
    ArchitectureSpec("flat-wide", "vector", (Dense(473), Dense(473)),
                     "Capacity matched: flat widened to conv's parameters. If conv still wins, capacity is not why."),
    ArchitectureSpec("conv-small", "image", (Conv(8, 3), Conv(8, 3), MaxPool(2), Dropout(0.25), Flatten(), Dense(36),
                                             Dropout(0.5)),
                     "Capacity matched: conv narrowed to flat's parameters. If it still beats flat, "
                     "convolution is why."),
    ArchitectureSpec("flat-dropout", "vector", (Dense(50), Dropout(0.25), Dense(50), Dropout(0.5)),
                     "Regularisation matched: flat with conv's dropout (0.25 and 0.5)."),
)}
PRESET_LABELS = {"flat": "Flat (dense)", "conv": "Convolutional", "flat-wide": "Flat, wide",
                 "conv-small": "Conv, small", "flat-dropout": "Flat + dropout"}
# What Compare and a study train unless told otherwise: the student's two networks.
DEFAULT_ARCHITECTURES = ("flat", "conv")
# Pairs whose difference answers a question on its own: (first, second) -> first minus second.
DEFAULT_PAIRS = (("conv", "flat"), ("conv", "flat-wide"), ("conv-small", "flat"))
# Two networks are parameter-matched when their counts differ by at most this fraction.
MATCHED_TOLERANCE = 0.02


def preset(name: str) -> ArchitectureSpec:
    if name not in PRESETS:
        raise ValueError(f"Unknown architecture {name!r}; choose from: {', '.join(PRESETS)}.")
    return PRESETS[name]


def check_own_name(name: str) -> str:
    """A name for a user's network: a valid network name that no preset has."""
    check_name(name)
    if name in PRESETS:
        raise ValueError(f"{name!r} is a preset's name; choose another name for your network.")
    return name


def parameter_matched(first: ArchitectureSpec, second: ArchitectureSpec) -> bool:
    """One with convolutions, one without, and parameter counts within MATCHED_TOLERANCE."""
    larger = max(first.num_params, second.num_params)
    return first.has_convolution != second.has_convolution and \
        abs(first.num_params - second.num_params) <= MATCHED_TOLERANCE * larger


# --- building -------------------------------------------------------------------------------------

def build(spec: ArchitectureSpec | str, precision: str = "float32"):
    """A fresh keras.Model for `spec` (or a preset's name).

    With precision "bfloat16" the convolutions and pooling compute in bfloat16 (mixed precision: float32
    weights, float32 accumulation), a per-layer policy so that concurrent trainings don't share Keras's
    global one. Dense layers and the softmax stay float32: measured over 5 seeds, bfloat16 dense layers
    cost more accuracy for no extra speed (benchmarks/README.md)."""
    keras = lazy.keras()
    from keras import layers as keras_layers

    spec = preset(spec) if isinstance(spec, str) else spec
    low = "mixed_bfloat16" if check_precision(precision) == "bfloat16" else None
    model_layers = [keras.Input(shape=INPUT_SHAPE)]                    # (batch, 28, 28, 1)
    if spec.input == "vector":
        model_layers.append(keras_layers.Flatten(name="flatten"))     # (batch, 784)
    for layer, name in zip(spec.layers, _layer_names(spec.layers)):  # shapes: spec.rows
        model_layers.append(layer.keras_layer(name, low if layer.spatial else None))
    model_layers.append(keras_layers.Dense(NUM_CLASSES, activation="softmax", name="output"))  # (batch, 10)
    return keras.Sequential(model_layers, name=spec.name)


def layer_table(model) -> list[dict]:
    """A built model's summary as rows (layer, type, output shape, params), as the student showed it."""
    return [{"layer": layer.name, "type": type(layer).__name__,
             "output_shape": _shape_text(tuple(layer.output.shape)[1:]), "params": int(layer.count_params())}
            for layer in model.layers]
