"""What a training run is: a frozen config whose defaults are the student's recipe."""

from __future__ import annotations

import hashlib
import numbers
import json
from dataclasses import dataclass, fields

from core.architectures import ArchitectureSpec, check_precision, preset
from core.data import MIN_SAMPLE_SIZE, check_dataset_name
from core.pixels import DEFAULT as DEFAULT_PIXELS, check_pixels
from core.recipes import RECIPES, check_recipe

# Bump when the meaning of a stored run changes (training code, stored files): old runs stop matching.
FORMAT_VERSION = 2  # 2: tf.data input pipeline, steps per execution, recipes

OPTIMIZERS = ("adam", "sgd", "rmsprop")
MAX_EPOCHS = 500
MAX_BATCH_SIZE = 8192
MAX_SEED = 2**31 - 1
MAX_SEEDS = 20  # seeds per cell of a study


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "mnist"
    architecture: str = "flat"          # a preset's name (core/architectures.py) or a custom network's
    sample_size: int = 1000
    num_epochs: int | None = None        # None: the recipe's (student: 12)
    batch_size: int = 32
    seed: int = 0
    optimizer: str = "adam"
    learning_rate: float | None = None   # None: the recipe's (student: 0.001)
    validation_size: int = 1000  # digits from the training pool, outside the sample, never the test set
    recipe: str = "student"      # see core/recipes.py
    precision: str = "float32"   # see core/architectures.py; "float32" for architectures it doesn't change
    spec: ArchitectureSpec | None = None  # the network; None: the preset named `architecture`
    pixels: str = DEFAULT_PIXELS  # "drawn" or "shuffled" by one fixed permutation (core/pixels.py)

    def __post_init__(self):
        check_dataset_name(self.dataset)
        spec = self.spec
        if spec is None:
            spec = preset(self.architecture)
        elif isinstance(spec, dict):  # read back from JSON
            spec = ArchitectureSpec.from_dict(spec)
        if not isinstance(spec, ArchitectureSpec) or spec.name != self.architecture:
            raise ValueError(f"The network spec must be named like the architecture {self.architecture!r}.")
        object.__setattr__(self, "spec", spec)
        check_precision(self.precision)
        check_pixels(self.pixels)
        if not spec.has_low_precision_layers:
            object.__setattr__(self, "precision", "float32")  # the same model: the same run
        recipe = RECIPES[check_recipe(self.recipe)]
        if self.num_epochs is None:
            object.__setattr__(self, "num_epochs", recipe.default_epochs)
        if self.learning_rate is None:
            object.__setattr__(self, "learning_rate", recipe.default_learning_rate)
        _check_whole(self.sample_size, "Sample size", MIN_SAMPLE_SIZE, None)
        _check_whole(self.num_epochs, "Epochs", 1, MAX_EPOCHS)
        _check_whole(self.batch_size, "Batch size", 1, MAX_BATCH_SIZE)
        _check_whole(self.seed, "Seed", 0, MAX_SEED)
        _check_whole(self.validation_size, "Validation size", 0, None)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}; choose from: {', '.join(OPTIMIZERS)}.")
        if isinstance(self.learning_rate, bool) or not isinstance(self.learning_rate, numbers.Real) \
                or not 0 < self.learning_rate <= 10:
            raise ValueError(f"Learning rate must be a number above 0 and at most 10; got {self.learning_rate!r}.")
        # Normalise numpy scalars and ints so that equal configs hash equally.
        for name in ("sample_size", "num_epochs", "batch_size", "seed", "validation_size"):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "learning_rate", float(self.learning_rate))

    @classmethod
    def for_network(cls, spec: ArchitectureSpec, **settings) -> "TrainConfig":
        return cls(architecture=spec.name, spec=spec, **settings)

    def to_dict(self) -> dict:
        """JSON-friendly: the spec as its JSON form (every layer with its type)."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        values["spec"] = self.spec.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


def _check_whole(value, what: str, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ValueError(f"{what} must be a whole number, not {value!r}.")
    if value < low or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high:,}"
        raise ValueError(f"{what} must be {bounds}; got {value}.")


# Fields added after runs were stored: left out of the identity at their default, so older runs keep theirs.
_IDENTITY_DEFAULTS_OMITTED = {"precision": "float32", "pixels": DEFAULT_PIXELS}
# The two networks runs were stored for before networks were specs, by their spec's hash: a run of exactly
# these networks keeps the identity it had (the name said it all); any other network adds its spec's hash.
LEGACY_SPEC_HASHES = {"flat": "1c8fcbe9c2d6288a", "conv": "4c748505acc12ea7"}


def run_id(config: TrainConfig, data_key: str) -> str:
    """A stable identity: the config (its network by the spec's hash), the data it was trained on and the
    store's format version."""
    identity = {key: value for key, value in config.to_dict().items()
                if _IDENTITY_DEFAULTS_OMITTED.get(key, object()) != value}
    identity.pop("spec")
    if LEGACY_SPEC_HASHES.get(config.architecture) != config.spec.hash:
        identity["spec"] = config.spec.hash
    payload = json.dumps({"config": identity, "data": data_key, "format": FORMAT_VERSION}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
