"""Every setting of a run (TrainConfig) and of a study (StudySpec), declared once as data: its label, bounds, help,
URL parameter, widget key, command-line flag and how a value reads in a run's label. Defaults stay where they are
declared, on TrainConfig and StudySpec (`declared_default` reads them from the class; the pages' widgets start from
an instance's, ui/controls.py `default`).

Derived from these declarations: the CLI's options (core/cli.py `add_settings`), the numbers' checks in
TrainConfig and StudySpec (`Setting.check`), the pages' widgets' labels, bounds and help (ui/controls.py,
ui/study_view.py), the links' fields (ui/links.py), the choices kept across pages (ui/controls.py) and runs'
labels (`run_labels`: the CLI, Compare and Try it). Adding a setting is one declaration here, its field on
TrainConfig or StudySpec, its place in a form below and its use (what it changes in training or a study).

A setting's text comes from a link or the command line and its value is checked here once: `parse` reads one
value (a list's items one at a time), `check` a value however it arrived. Errors are ValueErrors whose `reason`
reads after the label ("must be between 1 and 500; got 0"): a notice says "**Epochs**: <reason>", the CLI
"Epochs <reason>".
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from core import pixels
from core.architectures import DEFAULT_ARCHITECTURES, PRECISION_HELP, PRECISIONS
from core.data import DATASETS, MIN_SAMPLE_SIZE
from core.recipes import RECIPES
from core.safe_text import echo

OPTIMIZERS = ("adam", "sgd", "rmsprop")
MAX_EPOCHS = 500
MAX_BATCH_SIZE = 8192
MAX_SEED = 2**31 - 1
MAX_SEEDS = 20  # seeds per cell of a study
MAX_LEARNING_RATE = 10
FULL = "full"  # a sample size: the whole training pool of the data source
THRESHOLD = 0.80  # H1: the test accuracy a network must reach (the student's question: "at least 80%?")


def resolve_full(size, pool_size: int):
    """A sample size as trained: 'full' (FULL) is the data source's whole pool, any other value is itself."""
    return pool_size if size == FULL else size


class SettingError(ValueError):
    """A value a setting cannot take; `reason` reads after the setting's label."""

    def __init__(self, label: str, reason: str):
        super().__init__(f"{label} {reason}.")
        self.label, self.reason = label, reason


@dataclass(frozen=True)
class Setting:
    name: str                          # its field in TrainConfig or StudySpec
    label: str                         # on the page, in notices and messages
    kind: str                          # "whole", "number", "choice", "name" (a network) or "pair" (FIRST:SECOND)
    help: str = ""
    note: str = ""                     # beside the label on its widget only: "Training images (balanced ...)"
    low: float | None = None           # numbers: the smallest value (exclusive with open_low)
    high: float | None = None          # numbers: the largest value (None: no bound here, e.g. the pool's size)
    open_low: bool = False
    step: float = 1                    # a number widget's step
    choices: Mapping | None = None     # "choice": value -> its words on the page
    full: bool = False                 # "whole": 'full' (the data source's whole pool) is a value too
    many: bool = False                 # a list of values (a link lists them with commas, the CLI with spaces)
    scale: float = 1                   # what people type = the field's value x scale (the margin: points)
    param: str | None = None           # in a page's address
    key: str | None = None             # the widget's session_state key (a form adds its prefix)
    flag: str | None = None            # on the command line
    metavar: str | None = None
    words: str | None = None           # a value in a run's label ("{:,} images"); None: never in labels
    term: str | None = None            # a glossary term (core/glossary.py) that explains it further, after `help`

    @property
    def widget_label(self) -> str:
        return f"{self.label} ({self.note})" if self.note else self.label

    def fail(self, reason: str):
        raise SettingError(self.label, reason)

    def check(self, value):
        """`value` (one item of a list) if this setting can take it, as a plain int or float; else SettingError.
        ('full' is read by `parse`; whoever knows the pool's size puts it in its place.)"""
        if self.kind == "whole":
            if isinstance(value, bool) or not hasattr(value, "__index__"):
                self.fail(f"must be a whole number, not {echo(value)}")
            value = int(value)
            if value < self.low or (self.high is not None and value > self.high):
                bounds = f"at least {self.low:,}" if self.high is None else f"between {self.low:,} and {self.high:,}"
                self.fail(f"must be {bounds}; got {value:,}")
            return value
        if self.kind == "number":
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not self._in_bounds(value):
                low = f"above {self.low:g}" if self.open_low else f"from {self.low:g}"
                self.fail(f"must be a number {low} {'and at most' if self.open_low else 'to'} {self.high:g}; "
                          f"got {echo(value)}")
            return float(value)
        if self.kind == "choice" and value not in self.choices:
            self.fail(f"must be one of {', '.join(self.choices)}, not {echo(value)}")
        if self.kind == "pair" and (len(value) != 2 or value[0] == value[1]):
            self.fail(f"must compare two different networks; got {' vs '.join(map(echo, value))}")
        return value

    def _in_bounds(self, value) -> bool:
        if self.open_low:
            return self.low < value <= self.high
        return self.low <= value <= self.high  # nan and inf are outside

    def parse(self, text: str):
        """One value from its text (a list's item, or the whole of a single setting's)."""
        text = text.strip()
        if self.kind == "whole":
            if self.full and text == FULL:
                return FULL
            try:
                value = int(text.replace(",", "").replace("_", ""))
            except ValueError:
                self.fail(f"must be a whole number{' or ' + repr(FULL) if self.full else ''}, not {echo(text)}")
            return self.check(value)
        if self.kind == "number":
            try:
                value = float(text)
            except ValueError:
                self.fail(f"must be a number, not {echo(text)}")
            return self.check(value)
        if self.kind == "pair":
            first, colon, second = text.partition(":")
            if not colon or not first or not second:
                self.fail(f"must be FIRST:SECOND, e.g. conv:flat, not {echo(text)}")
            return self.check((first, second))
        if not text:
            self.fail("must not be empty")
        return self.check(text)

    def to_field(self, value):
        """What people typed (the CLI, a link, a widget) -> the field's value (the margin: points -> accuracy)."""
        if self.scale == 1:
            return value
        return value / self.scale

    def from_field(self, value):
        return value if self.scale == 1 or value is None else round(value * self.scale, 9)

    def write(self, value) -> str:
        """A value as its text in a link (a list with commas, a pair as FIRST:SECOND)."""
        return ",".join(map(self.write_one, value)) if self.many else self.write_one(value)

    def describe(self, value) -> str:
        """A value in a run's label: "1,000 images", "seed 3"."""
        return self.words.format(value)

    def cli_help(self, default, help: str | None = None) -> str:
        """`help` (default: the setting's own) ending in the default, for the command line."""
        help = self.help if help is None else help
        if default is None or (self.many and not default):
            return help
        shown = " ".join(map(self.write_one, default)) if self.many else self.write_one(default)
        return f"{help} (default: {shown})" if help else f"default: {shown}"

    def write_one(self, item) -> str:
        if isinstance(item, tuple):
            return ":".join(item)
        return f"{item:g}" if self.kind == "number" else f"{item}"


def _recipes_epochs() -> str:
    return ", ".join(f"{name} {recipe.default_epochs}" for name, recipe in RECIPES.items())


DATASET = Setting("dataset", "Dataset", "choice", choices={name: item["label"] for name, item in DATASETS.items()},
                  param="dataset", key="dataset", flag="--dataset", words="{}")
RECIPE = Setting("recipe", "Recipe", "choice",  # short names: whole in the sidebar's box (the help says what each is)
                 choices={name: recipe.label.split(" (")[0] for name, recipe in RECIPES.items()},
                 help="The student's recipe is the baseline. Improved: augmentation, a cosine learning-rate schedule "
                      "and early stopping. Averaged: the same augmentation and schedule over 200 epochs with weight "
                      "decay and averaged weights — the most accurate, about 19× the student's training time. Same "
                      "networks, same parameters.",
                 param="recipe", key="recipe", flag="--recipe", words="{} recipe")
SAMPLE_SIZE = Setting("sample_size", "Training images", "whole", low=MIN_SAMPLE_SIZE, step=100, full=True,
                      note="balanced across classes", help="Drawn from the pool of this data source.",
                      param="size", key="sample_size", flag="--sample-size", metavar="N", words="{:,} images")
EPOCHS = Setting("num_epochs", "Epochs", "whole", low=1, high=MAX_EPOCHS,
                 help=f"Default: the recipe's ({_recipes_epochs()}).", param="epochs", key="epochs",
                 flag="--epochs", metavar="N", words="{} epochs")
BATCH_SIZE = Setting("batch_size", "Batch size", "whole", low=1, high=MAX_BATCH_SIZE, step=16, param="batch",
                     key="batch_size", flag="--batch-size", metavar="N", words="batch {}")
SEED = Setting("seed", "Seed", "whole", low=0, high=MAX_SEED, param="seed", key="seed", flag="--seed", metavar="N",
               words="seed {}")
PRECISION = Setting("precision", "Arithmetic", "choice", choices=PRECISIONS, help=PRECISION_HELP, param="arithmetic",
                    key="precision", flag="--precision", words="{}")
PIXELS = Setting("pixels", "Pixels", "choice", choices=pixels.PIXEL_ORDERS, help=pixels.HELP, param="pixels",
                 key="pixels", flag="--pixels", metavar="ORDER")
ARCHITECTURES = Setting("architectures", "Architectures", "name", many=True,
                        help="Networks by name: presets (see `python -m core architectures`) or your own, saved from "
                             "the app or with --architecture-file.",
                        param="networks", key="architectures", flag="--architectures", metavar="NAME")
LEARNING_RATE = Setting("learning_rate", "Learning rate", "number", low=0, high=MAX_LEARNING_RATE, open_low=True,
                        help="Default: the recipe's (student 0.001).", flag="--learning-rate", metavar="RATE",
                        words="learning rate {:g}")
OPTIMIZER = Setting("optimizer", "Optimizer", "choice", choices=dict.fromkeys(OPTIMIZERS), flag="--optimizer",
                    words="{}")
VALIDATION_SIZE = Setting("validation_size", "Validation size", "whole", low=0, words="{:,} validation")

SAMPLE_SIZES = replace(SAMPLE_SIZE, name="sample_sizes", label="Sample sizes", note="", many=True, param="sizes",
                       key="sizes", flag="--sizes", words=None,
                       help="Default: 100 300 1000 3000 10000 below the pool, and the full pool.")
SEEDS = Setting("num_seeds", "Seeds", "whole", low=1, high=MAX_SEEDS, help="Seeds per cell.", param="seeds",
                key="seeds", flag="--seeds", metavar="N")
MARGIN = Setting("margin", "H2 margin", "number", low=0.1, high=50.0, step=0.5, scale=100, note="points",
                 help="H2's equivalence margin in accuracy points.", term="H2", param="margin", key="margin",
                 flag="--margin", metavar="POINTS")
STUDY_PIXELS = replace(PIXELS, many=True,
                       help=f"The pixel orders every network trains on. {pixels.HELP} Both: each network is trained on "
                            f"each order, and a shuffled one is named like 'conv (shuffled)'.")
PAIRS = Setting("pairs", "Differences to test", "pair", many=True, note="first − second",
                help="Each pair gets a paired 95% CI over seeds and McNemar's test; a pair's networks (and pixels) "
                     "join the study. conv − flat-wide and conv-small − flat hold the parameter count equal: they "
                     "answer 'convolution or capacity?'. Default: the suggested pairs of the study's networks.",
                param="pairs", key="pairs", flag="--pairs", metavar="FIRST:SECOND")

# What makes a run (compare, robustness), in the order of the Compare page's address; and a study's.
RUN = (DATASET, RECIPE, SAMPLE_SIZE, EPOCHS, BATCH_SIZE, SEED, PRECISION, PIXELS, ARCHITECTURES, LEARNING_RATE,
       OPTIMIZER)
STUDY = (DATASET, SAMPLE_SIZES, SEEDS, RECIPE, EPOCHS, BATCH_SIZE, MARGIN, PRECISION, STUDY_PIXELS, ARCHITECTURES,
         PAIRS)
# In a run's label, in this order, when runs differ by them (the network and its pixels name the run first).
LABELLED = (DATASET, RECIPE, SAMPLE_SIZE, EPOCHS, BATCH_SIZE, SEED, OPTIMIZER, LEARNING_RATE, PRECISION,
            VALIDATION_SIZE)


@dataclass(frozen=True)
class Form:
    """The settings a page draws as widgets, their keys prefixed (the Study page's are "study_...")."""
    prefix: str
    settings: tuple

    @property
    def shown(self) -> tuple:
        return tuple(setting for setting in self.settings if setting.key)

    def key(self, setting: Setting) -> str:
        return self.prefix + setting.key

    @property
    def keys(self) -> tuple:
        return tuple(self.key(setting) for setting in self.shown)


COMPARE_FORM = Form("", RUN)
STUDY_FORM = Form("study_", STUDY)
DATA_FORM = Form("data_", (DATASET, SAMPLE_SIZE, SEED))
FORMS = (COMPARE_FORM, STUDY_FORM, DATA_FORM)


def declared_default(setting: Setting, owner_class):
    """The default as TrainConfig or StudySpec declares it (None: decided later, e.g. the recipe's epochs), in
    people's units; the networks as names."""
    if setting is ARCHITECTURES:
        return DEFAULT_ARCHITECTURES
    declared = {item.name: item.default for item in fields(owner_class)}
    return setting.from_field(declared.get(setting.name))


def run_labels(configs, fallbacks: list[str] | None = None) -> list[str]:
    """Short unique labels for runs: the network ("conv (shuffled)" on shuffled pixels), then, where two would
    read the same, the settings that differ between the runs in words ("conv · 100 images"); runs still alike
    get their `fallbacks` (e.g. run ids), else their position."""
    labels = [pixels.arm_label(config.architecture, config.pixels) for config in configs]
    if len(set(labels)) == len(labels):
        return labels
    differing = [setting for setting in LABELLED if len({getattr(config, setting.name) for config in configs}) > 1]
    labels = [" · ".join([label] + [setting.describe(getattr(config, setting.name)) for setting in differing])
              for label, config in zip(labels, configs)]
    if len(set(labels)) == len(labels):
        return labels
    extra = fallbacks or [f"#{position}" for position in range(1, len(configs) + 1)]
    return [f"{label} · {more}" if labels.count(label) > 1 else label for label, more in zip(labels, extra)]
