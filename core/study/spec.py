"""What a study is: its networks (arms), sample sizes, seeds and recipe, the differences it tests, and the presets.

An arm is a network on one pixel order (core/pixels.py): "conv" on the digits as drawn, "conv (shuffled)" on
the same digits with their pixels shuffled. A study's `pixels` lists the orders it trains; with the default
("drawn",) its arms are its networks, named as before, so older studies keep their cells, run ids and tables.
Tables and pairs name arms by their label (the `architecture` column holds it).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from core.architectures import DEFAULT_ARCHITECTURES, DEFAULT_PAIRS, ArchitectureSpec, check_precision, preset
from core.config import TrainConfig
from core.data import check_sample_size
from core.pixels import DRAWN, SHUFFLED, arm_label, check_pixels, split_label
from core.recipes import check_recipe
from core.settings import BATCH_SIZE, EPOCHS, MARGIN, SEEDS

DEFAULT_SIZES = (100, 300, 1000, 3000, 10000)
# What the student reported (1,000 of 60,000 MNIST digits, 2.7 GHz Intel Core i5).
STUDENT = {
    "sample_size": 1000,
    "machine": "2.7 GHz Intel Core i5 (the student's laptop)",
    "conv": {"test_accuracy": 0.91, "test_loss": 0.48, "train_seconds": 214.51},
    "flat": {"test_accuracy": 0.84, "test_loss": 0.61, "train_seconds": 2.66},
}


@dataclass(frozen=True)
class StudySpec:
    dataset: str = "mnist"
    architectures: tuple = DEFAULT_ARCHITECTURES  # presets' names or ArchitectureSpecs; kept as specs
    sample_sizes: tuple | None = None  # None: DEFAULT_SIZES below the pool, plus the full pool
    num_seeds: int = 3
    num_epochs: int | None = None  # None: the recipe's (student: 12)
    batch_size: int = 32
    margin: float = 0.02  # H2's equivalence margin, in accuracy (0.02 = 2 points)
    recipe: str = "student"
    precision: str = "float32"  # see core/architectures.py
    pairs: tuple | None = None  # (first, second) arm labels, compared as first − second; None: default_pairs
    pixels: tuple = (DRAWN,)  # the pixel orders every network is trained on (core/pixels.py)

    def __post_init__(self):
        specs = {}
        for network in self.architectures:
            spec = preset(network) if isinstance(network, str) else network
            if not isinstance(spec, ArchitectureSpec):
                raise ValueError(f"Not an architecture: {network!r}.")
            specs.setdefault(spec.name, spec)
        object.__setattr__(self, "architectures", tuple(specs.values()))
        if not self.architectures:
            raise ValueError("Choose at least one architecture for the study.")
        orders = (self.pixels,) if isinstance(self.pixels, str) else tuple(self.pixels)
        object.__setattr__(self, "pixels", tuple(dict.fromkeys(check_pixels(order) for order in orders)))
        if not self.pixels:
            raise ValueError("Choose at least one pixel order for the study (as drawn, shuffled or both).")
        labels = self.networks
        if self.pairs is None:
            object.__setattr__(self, "pairs", default_pairs(self.names, self.pixels))
        object.__setattr__(self, "pairs", tuple(dict.fromkeys(tuple(pair) for pair in self.pairs)))
        for pair in self.pairs:
            if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= set(labels):
                raise ValueError(f"A pair compares two different architectures of the study "
                                 f"({', '.join(labels)}); got {' vs '.join(map(str, pair))}.")
        if self.sample_sizes is not None:
            object.__setattr__(self, "sample_sizes", tuple(sorted(set(self.sample_sizes))))
            if not self.sample_sizes:
                raise ValueError("Choose at least one sample size for the study.")
        check_recipe(self.recipe)
        check_precision(self.precision)
        for setting in (SEEDS, EPOCHS, BATCH_SIZE):  # checked as declared (core/settings.py)
            if getattr(self, setting.name) is not None:
                setting.check(getattr(self, setting.name))
        number = isinstance(self.margin, numbers.Real) and not isinstance(self.margin, bool)
        MARGIN.check(MARGIN.from_field(self.margin) if number else self.margin)  # in points, as people give it

    def sizes(self, pool_size: int) -> list[int]:
        if self.sample_sizes is None:
            return [size for size in DEFAULT_SIZES if size < pool_size] + [pool_size]
        return [check_sample_size(size, pool_size) for size in self.sample_sizes]

    @property
    def names(self) -> tuple:
        """The networks' names (one per network, whatever the pixel orders)."""
        return tuple(spec.name for spec in self.architectures)

    @property
    def networks(self) -> dict:
        """Every arm's label -> its network: "conv", "conv (shuffled)", ... (drawn arms first)."""
        return {arm_label(spec.name, order): spec for order in self.pixels for spec in self.architectures}

    def configs(self, pool_size: int) -> list[TrainConfig]:
        """Every cell, smallest first, so early results arrive early."""
        return [TrainConfig.for_network(spec, dataset=self.dataset, sample_size=size, num_epochs=self.num_epochs,
                                        batch_size=self.batch_size, seed=seed, recipe=self.recipe,
                                        precision=self.precision, pixels=order)
                for size in self.sizes(pool_size) for seed in range(self.num_seeds)
                for order in self.pixels for spec in self.architectures]


def default_pairs(names: tuple, pixels: tuple) -> tuple:
    """The suggested differences among networks `names` on pixel orders `pixels`: DEFAULT_PAIRS within each
    order and, with shuffled pixels, each network shuffled − as drawn (what shuffling costs it)."""
    pairs = [(arm_label(first, order), arm_label(second, order)) for order in pixels
             for first, second in DEFAULT_PAIRS if {first, second} <= set(names)]
    if {DRAWN, SHUFFLED} <= set(pixels):
        order = [name for name in ("conv", "flat") if name in names] + \
            [name for name in names if name not in ("conv", "flat")]
        pairs = [(arm_label(name, SHUFFLED), name) for name in order] + pairs
    return tuple(pairs)


def pair_arms(pairs) -> tuple[tuple, tuple]:
    """(networks, pixel orders) that the arms of `pairs` name ("conv (shuffled)": conv, shuffled), each once: a
    pair's networks and pixels join the study it is asked of (the CLI's --pairs, a link's pairs)."""
    arms = [split_label(arm) for pair in pairs for arm in pair]
    return tuple(dict.fromkeys(name for name, _ in arms)), tuple(dict.fromkeys(order for _, order in arms))


STUDENT_PRESET = StudySpec(sample_sizes=(STUDENT["sample_size"],), num_epochs=12)
# Convolution or capacity: both seed networks and their parameter-matched controls, at the default sizes.
CAPACITY_PRESET = StudySpec(architectures=("flat", "conv", "flat-wide", "conv-small"), num_epochs=12)
# Is it the spatial structure? flat and conv on the digits as drawn and with their pixels shuffled.
SPATIAL_PRESET = StudySpec(architectures=("flat", "conv"), pixels=(DRAWN, SHUFFLED), num_epochs=12)


