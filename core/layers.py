"""Layer types: each is one class that declares its settings (bounds, the editor's label and help), what it does to
a shape, its parameter count and its Keras layer. Defining a subclass with a `kind` registers it in LAYER_KINDS:
a spec's JSON, the layer table, the builder and the network editor all read it from there (core/architectures.py
puts layers together into networks).

Shapes and parameter counts are plain Python, so a page can show a layer table before TensorFlow is loaded.
Keras is imported only in `keras_layer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar

from core.safe_text import echo, plain

IMAGE_SIZE = 28
INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "linear")
MAX_WIDTH = 4096            # filters or units in one layer


@dataclass(frozen=True)
class LayerSetting:
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


def _setting(default, setting: LayerSetting):
    return field(default=default, metadata={"setting": setting})


ACTIVATION = LayerSetting("An activation", "activation", choices=ACTIVATIONS,
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
    def settings(cls) -> dict[str, LayerSetting]:
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
    filters: int = _setting(32, LayerSetting("A convolution's filters", "filters", 1, MAX_WIDTH, 8,
                                        "How many patterns it learns: the output's channels."))
    kernel_size: int = _setting(3, LayerSetting("A convolution's kernel size", "kernel", 1, IMAGE_SIZE, 1,
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
    size: int = _setting(2, LayerSetting("A pooling size", "size", 1, IMAGE_SIZE, 1,
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
    rate: float = _setting(0.25, LayerSetting("A dropout rate", "rate", 0, 1, 0.05, "The share of inputs dropped while "
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
    units: int = _setting(50, LayerSetting("A dense layer's units", "units", 1, MAX_WIDTH, 10,
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
