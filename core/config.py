"""What a training run is: a frozen config whose defaults are the student's recipe."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields

from core.architectures import ArchitectureSpec, check_precision, preset
from core.data import check_dataset_name, check_sample_size
from core.pixels import DEFAULT as DEFAULT_PIXELS, check_pixels
from core.recipes import RECIPES, check_recipe
from core.settings import BATCH_SIZE, EPOCHS, LEARNING_RATE, OPTIMIZER, SAMPLE_SIZE, SEED, VALIDATION_SIZE, resolve_full

# Bump when the meaning of a stored run changes (training code, stored files): old runs stop matching.
FORMAT_VERSION = 2  # 2: tf.data input pipeline, steps per execution, recipes


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
        # Checked as declared (core/settings.py); numpy scalars become ints and floats, so equal configs hash equally.
        for setting in (SAMPLE_SIZE, EPOCHS, BATCH_SIZE, SEED, VALIDATION_SIZE, OPTIMIZER, LEARNING_RATE):
            object.__setattr__(self, setting.name, setting.check(getattr(self, setting.name)))

    @classmethod
    def for_network(cls, spec: ArchitectureSpec, **settings) -> TrainConfig:
        return cls(architecture=spec.name, spec=spec, **settings)

    def to_dict(self) -> dict:
        """JSON-friendly: the spec as its JSON form (every layer with its type)."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        values["spec"] = self.spec.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


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


def configs_for(dataset, networks: list[ArchitectureSpec], sample_size, **settings) -> list[TrainConfig]:
    """One config per network, trained on `dataset` (a core.data.Dataset): `sample_size` may be 'full' (the whole
    pool). ValueError, in words for the user, for no network or a sample size the pool cannot give."""
    if not networks:
        raise ValueError("Choose at least one architecture to train.")
    sample_size = check_sample_size(resolve_full(sample_size, dataset.pool_size), dataset.pool_size)
    return [TrainConfig.for_network(spec, dataset=dataset.name, sample_size=sample_size, **settings)
            for spec in networks]
