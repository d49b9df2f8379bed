"""Networks as data: a validated, hashable spec per network, and one builder that turns any spec into Keras.

A spec says how the image is read (a 28x28 image or a 784-vector) and lists the hidden layers in order;
the output layer (Dense 10, softmax) is always added by the builder. Named presets and users' own
networks are the same kind of thing, so a new variant is one `PRESETS` line; a new layer type is one
`Layer` subclass (its settings, output shape, parameter count and Keras layer).

Shapes and parameter counts are worked out here in plain Python, so a page can show a spec's layer
table before TensorFlow is loaded; tests check that Keras agrees. Keras is imported only in `build` and
the layers' `keras_layer`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import ClassVar

from core import lazy
from core.safe_text import echo, plain

IMAGE_SIZE = 28
INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
NUM_CLASSES = 10
INPUTS = {"image": "28×28 image", "vector": "784-vector"}
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "linear")
MAX_PARAMS = 5_000_000      # keeps a training within Streamlit Community Cloud's memory
MAX_LAYERS = 20
MAX_WIDTH = 4096            # filters or units in one layer
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


# --- layers ---------------------------------------------------------------------------------------
# Each layer type is one class: its settings (bounds, editor label and help), what it does to a shape, its
# parameter count and its Keras layer. Defining a subclass with a `kind` registers it in LAYER_KINDS: the
# spec's JSON, the layer table, the builder and the network editor all read it from there.

@dataclass(frozen=True)
class Setting:
    """One setting of a layer type: the values it may take (checked when a layer is made; a ValueError
    names `what`) and how the network editor asks for it (`label`, `step`, `help`).

    A whole number from `low` to `high`; with `fraction`, a float at least `low` and below `high`; with
    `choices`, one of them."""
    what: str                  # the setting in an error message: "A convolution's filters"
    label: str                 # the editor's label: "filters"
    low: float = 0
    high: float = 0
    step: float = 1            # the editor's step
    help: str = ""
    fraction: bool = False
    choices: tuple = ()

    def check(self, value):
        """`value` as the setting keeps it (int, float or str); ValueError when it is out of bounds."""
        if self.choices:
            if not isinstance(value, str) or value not in self.choices:
                raise ValueError(f"Unknown {self.label} {value!r}; choose from: {', '.join(self.choices)}.")
            return value
        if self.fraction:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not self.low <= value < self.high:
                raise ValueError(f"{self.what} must be at least {self.low:g} and below {self.high:g}; got {value!r}.")
            return float(value)
        if isinstance(value, bool) or not hasattr(value, "__index__") or not self.low <= value <= self.high:
            raise ValueError(f"{self.what} must be a whole number from {self.low} to {self.high:,}; got {value!r}.")
        return int(value)

    @property
    def editor_high(self) -> float:
        """The editor's largest value (a fraction's bound is excluded: one step below it)."""
        return round(self.high - self.step, 10) if self.fraction else self.high


def _setting(default, setting: Setting):
    return field(default=default, metadata={"setting": setting})


ACTIVATION = Setting("An activation", "activation", choices=ACTIVATIONS,
                     help="The function applied to each output: relu (the student's) and elu pass positive values "
                          "through; tanh and sigmoid squash them; linear leaves them as they are.")
LAYER_KINDS: dict[str, type] = {}   # "conv" -> Conv, in the order the types are defined (the editor's order)


@dataclass(frozen=True)
class Layer:
    """A hidden layer. Subclasses declare their settings as dataclass fields made with `_setting` (checked
    on creation), and say what they do to a shape, how many parameters they have and which Keras layer
    they are. Shapes exclude the batch dimension: (height, width, channels) for an image, (values,) for a
    vector."""
    kind: ClassVar[str]              # the "type" in a spec's JSON: part of a network's hash, never renamed
    label: ClassVar[str]             # the editor's name for it: "Convolution"
    keras_type: ClassVar[str]        # the Keras class a built model has: "Conv2D"
    keras_name: ClassVar[str]        # Keras's default layer name: conv2d_1, or max_pooling2d when alone
    always_numbered: ClassVar[bool] = False
    needs: ClassVar[str | None] = None   # "image" or "vector": what its input must be (None: either)
    spatial: ClassVar[bool] = False      # computes over rows and columns: bfloat16 applies, before Flatten

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            LAYER_KINDS[cls.kind] = cls

    def __post_init__(self):
        for item in fields(self):
            object.__setattr__(self, item.name, item.metadata["setting"].check(getattr(self, item.name)))

    @classmethod
    def settings(cls) -> dict[str, Setting]:
        """The editable settings, in the order of the spec's JSON."""
        return {item.name: item.metadata["setting"] for item in fields(cls)}

    def describe(self) -> str:
        return self.label

    def check_input(self, shape: tuple, where: str, input_kind: str) -> None:
        """ValueError, starting with `where`, when this layer cannot take an input of `shape`."""
        if self.needs == "image" and len(shape) != 3:
            hint = "the 784-vector input has no rows and columns" if input_kind == "vector" else \
                "the image was already flattened before it"
            raise ValueError(f"{where} needs an image, but {hint}.")
        if self.needs == "vector" and len(shape) != 1:
            raise ValueError(f"{where} needs a vector: add a Flatten before it.")

    def output_shape(self, shape: tuple) -> tuple:
        return shape

    def num_params(self, shape: tuple) -> int:
        """Weights and biases (trainable or not: what Keras's count_params counts) for an input of `shape`."""
        return 0

    def keras_layer(self, name: str, dtype: str | None = None):
        """A new Keras layer named `name` (Keras is imported here, on first use); `dtype`: its dtype policy
        (None: the default, float32)."""
        raise NotImplementedError


@dataclass(frozen=True)
class _Windowed(Layer):
    """A layer that slides a square window over the image: the window must fit."""
    needs: ClassVar[str] = "image"
    spatial: ClassVar[bool] = True
    smaller: ClassVar[str] = "a smaller window"

    @property
    def window(self) -> int:
        raise NotImplementedError

    def check_input(self, shape: tuple, where: str, input_kind: str) -> None:
        super().check_input(shape, where, input_kind)
        if self.window > min(shape[:2]):
            raise ValueError(f"{where} needs an image of at least {self.window}×{self.window} pixels but gets "
                             f"{shape[0]}×{shape[1]}: use {self.smaller}, or shrink the image less before it.")


@dataclass(frozen=True)
class Conv(_Windowed):
    """A convolution, stride 1, no padding (as the student's): (h, w, c) -> (h - k + 1, w - k + 1, filters)."""
    filters: int = _setting(32, Setting("A convolution's filters", "filters", 1, MAX_WIDTH, 8,
                                        "How many patterns it learns: the output's channels."))
    kernel_size: int = _setting(3, Setting("A convolution's kernel size", "kernel", 1, IMAGE_SIZE, 1,
                                           "The side of the square window it looks through, in pixels."))
    activation: str = _setting("relu", ACTIVATION)
    kind: ClassVar[str] = "conv"
    label: ClassVar[str] = "Convolution"
    keras_type: ClassVar[str] = "Conv2D"
    keras_name: ClassVar[str] = "conv2d"
    always_numbered: ClassVar[bool] = True
    smaller: ClassVar[str] = "a smaller kernel"

    @property
    def window(self) -> int:
        return self.kernel_size

    def describe(self) -> str:
        return f"Conv {self.filters} {self.kernel_size}×{self.kernel_size} {self.activation}"

    def output_shape(self, shape: tuple) -> tuple:
        height, width, _ = shape
        return height - self.kernel_size + 1, width - self.kernel_size + 1, self.filters

    def num_params(self, shape: tuple) -> int:
        return (self.kernel_size * self.kernel_size * shape[2] + 1) * self.filters  # a kernel and a bias per filter

    def keras_layer(self, name: str, dtype: str | None = None):
        from keras import layers

        return layers.Conv2D(self.filters, self.kernel_size, activation=self.activation, name=name, dtype=dtype)


@dataclass(frozen=True)
class _Pooling(_Windowed):
    """One value per size x size window, stride = size: (h, w, c) -> (h // size, w // size, c)."""
    size: int = _setting(2, Setting("A pooling size", "size", 1, IMAGE_SIZE, 1,
                                    "The side of the square window it pools, in pixels; the image shrinks by this "
                                    "factor."))
    smaller: ClassVar[str] = "a smaller pool"
    short: ClassVar[str]  # its name in a one-line description: "MaxPool"

    @property
    def window(self) -> int:
        return self.size

    def describe(self) -> str:
        return f"{self.short} {self.size}"

    def output_shape(self, shape: tuple) -> tuple:
        height, width, channels = shape
        return height // self.size, width // self.size, channels

    def keras_layer(self, name: str, dtype: str | None = None):
        from keras import layers

        return getattr(layers, self.keras_type)(self.size, name=name, dtype=dtype)  # MaxPooling2D, AveragePooling2D


@dataclass(frozen=True)
class MaxPool(_Pooling):
    """The largest value of each window."""
    kind: ClassVar[str] = "pool"
    label: ClassVar[str] = "Max-pooling"
    keras_type: ClassVar[str] = "MaxPooling2D"
    keras_name: ClassVar[str] = "max_pooling2d"
    short: ClassVar[str] = "MaxPool"


@dataclass(frozen=True)
class AvgPool(_Pooling):
    """The mean of each window."""
    kind: ClassVar[str] = "avgpool"
    label: ClassVar[str] = "Average pooling"
    keras_type: ClassVar[str] = "AveragePooling2D"
    keras_name: ClassVar[str] = "average_pooling2d"
    short: ClassVar[str] = "AvgPool"


@dataclass(frozen=True)
class Dropout(Layer):
    """Sets a random share `rate` of its inputs to zero while training (none when predicting); any shape."""
    rate: float = _setting(0.25, Setting("A dropout rate", "rate", 0, 1, 0.05, "The share of inputs dropped while "
                                         "training, at random; predictions use them all.", fraction=True))
    kind: ClassVar[str] = "dropout"
    label: ClassVar[str] = "Dropout"
    keras_type: ClassVar[str] = "Dropout"
    keras_name: ClassVar[str] = "dropout"
    always_numbered: ClassVar[bool] = True

    def describe(self) -> str:
        return f"Dropout {self.rate:g}"

    def keras_layer(self, name: str, dtype: str | None = None):
        from keras import layers

        return layers.Dropout(self.rate, name=name, dtype=dtype)


@dataclass(frozen=True)
class Flatten(Layer):
    """The image as one vector: (h, w, c) -> (h * w * c,)."""
    kind: ClassVar[str] = "flatten"
    label: ClassVar[str] = "Flatten"
    keras_type: ClassVar[str] = "Flatten"
    keras_name: ClassVar[str] = "flatten"
    needs: ClassVar[str] = "image"

    def output_shape(self, shape: tuple) -> tuple:
        height, width, channels = shape
        return (height * width * channels,)

    def keras_layer(self, name: str, dtype: str | None = None):
        from keras import layers

        return layers.Flatten(name=name, dtype=dtype)


@dataclass(frozen=True)
class Dense(Layer):
    """Every input connected to each of `units` outputs: (n,) -> (units,)."""
    units: int = _setting(50, Setting("A dense layer's units", "units", 1, MAX_WIDTH, 10,
                                      "How many outputs it has, each a weighted sum of all its inputs."))
    activation: str = _setting("relu", ACTIVATION)
    kind: ClassVar[str] = "dense"
    label: ClassVar[str] = "Dense"
    keras_type: ClassVar[str] = "Dense"
    keras_name: ClassVar[str] = "dense"
    always_numbered: ClassVar[bool] = True
    needs: ClassVar[str] = "vector"

    def describe(self) -> str:
        return f"Dense {self.units} {self.activation}"

    def output_shape(self, shape: tuple) -> tuple:
        return (self.units,)

    def num_params(self, shape: tuple) -> int:
        return (shape[0] + 1) * self.units  # a weight per input and a bias, per unit

    def keras_layer(self, name: str, dtype: str | None = None):
        from keras import layers

        return layers.Dense(self.units, activation=self.activation, name=name, dtype=dtype)


def layer_to_dict(layer: Layer) -> dict:
    return {"type": layer.kind, **{item.name: getattr(layer, item.name) for item in fields(layer)}}


def layer_from_dict(values) -> Layer:
    if not isinstance(values, dict):
        raise ValueError(f"A layer must be a JSON object such as {{\"type\": \"dense\", \"units\": 50}}; "
                         f"got {echo(values)}.")
    values = dict(values)
    kind = values.pop("type", None)
    if not isinstance(kind, str) or kind not in LAYER_KINDS:
        raise ValueError(f"Unknown layer type {echo(kind)}; choose from: {', '.join(LAYER_KINDS)}.")
    known = {item.name for item in fields(LAYER_KINDS[kind])}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"A {kind} layer has no setting {', '.join(plain(name, 40) for name in sorted(unknown))}"
                         + (f"; it takes: {', '.join(sorted(known))}." if known else " (it takes none)."))
    return LAYER_KINDS[kind](**values)


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
        if not isinstance(self.name, str) or not NAME_PATTERN.fullmatch(self.name):
            raise ValueError(f"A network's name must be 1 to 40 letters, digits, '-' or '_', starting with a letter "
                             f"or digit; got {echo(self.name)}.")
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
        if len(layers) > MAX_LAYERS:
            raise ValueError(f"A network may have at most {MAX_LAYERS} hidden layers; this one has {len(layers)}.")
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
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"A network's name must be 1 to 40 letters, digits, '-' or '_', starting with a letter "
                         f"or digit; got {echo(name)}.")
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
