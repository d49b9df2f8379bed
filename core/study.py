"""The study: accuracy against sample size over seeds, and a verdict on the student's two hypotheses.

Every cell (arm x sample size x seed) is an ordinary run in the run store, so a study reuses
what is trained already and an interrupted study resumes where it stopped.

An arm is a network on one pixel order (core/pixels.py): "conv" on the digits as drawn, "conv (shuffled)" on
the same digits with their pixels shuffled. A study's `pixels` lists the orders it trains; with the default
("drawn",) its arms are its networks, named as before, so older studies keep their cells, run ids and tables.
Tables and pairs name arms by their label (the `architecture` column holds it).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import pandas as pd

from core import costs
from core.architectures import (DEFAULT_ARCHITECTURES, DEFAULT_PAIRS, ArchitectureSpec, check_precision,
                                parameter_matched, preset)
from core.config import MAX_SEEDS, TrainConfig
from core.data import Dataset, check_sample_size
from core.pixels import DRAWN, SHUFFLED, arm_label, check_pixels, split_label
from core.recipes import check_recipe
from core.stats import mcnemar_exact, mean_ci, p_value_words, paired_difference
from core.runs import Outcome, RunsService
from core.training import OnEpoch

DEFAULT_SIZES = (100, 300, 1000, 3000, 10000)
THRESHOLD = 0.80
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
    sample_sizes: Optional[tuple] = None  # None: DEFAULT_SIZES below the pool, plus the full pool
    num_seeds: int = 3
    num_epochs: int | None = None  # None: the recipe's (student: 12)
    batch_size: int = 32
    margin: float = 0.02  # H2's equivalence margin, in accuracy (0.02 = 2 points)
    recipe: str = "student"
    precision: str = "float32"  # see core/architectures.py
    pairs: Optional[tuple] = None  # (first, second) arm labels, compared as first − second; None: default_pairs
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
        if isinstance(self.num_seeds, bool) or not isinstance(self.num_seeds, int) or not 1 <= self.num_seeds <= MAX_SEEDS:
            raise ValueError(f"Seeds must be a whole number from 1 to {MAX_SEEDS}; got {self.num_seeds!r}.")
        check_recipe(self.recipe)
        check_precision(self.precision)
        if not 0 < self.margin < 1:
            raise ValueError(f"The margin must be between 0 and 1 accuracy (0 and 100 points); got {self.margin!r}.")

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


STUDENT_PRESET = StudySpec(sample_sizes=(STUDENT["sample_size"],), num_epochs=12)
# Convolution or capacity: both seed networks and their parameter-matched controls, at the default sizes.
CAPACITY_PRESET = StudySpec(architectures=("flat", "conv", "flat-wide", "conv-small"), num_epochs=12)
# Is it the spatial structure? flat and conv on the digits as drawn and with their pixels shuffled.
SPATIAL_PRESET = StudySpec(architectures=("flat", "conv"), pixels=(DRAWN, SHUFFLED), num_epochs=12)


@dataclass(frozen=True)
class CellReport:
    index: int        # 1-based
    total: int
    config: TrainConfig
    cached: bool      # already in the store: nothing to train
    # A report when a cell has finished (a report when it starts has seconds None):
    node: str | None = None            # where it trained
    seconds: float | None = None       # submission to result
    error: str | None = None           # why it failed, if it did (the study goes on)
    running: int = 0                   # cells still running or waiting
    eta_seconds: float | None = None   # for those, from the pace so far


def run_study(spec: StudySpec, dataset: Dataset, service: RunsService,
              on_cell: Optional[Callable[[CellReport], None]] = None, on_epoch: OnEpoch = None) -> list[Outcome]:
    """Train every missing cell through the service's executor (reusing stored ones) and return the outcomes
    of the stored cells, in the spec's order.

    `on_cell` hears first of the stored cells, then, for each missing one, when it starts (where the executor
    can tell: in this process) and when it has finished, with where it trained, its time and the time left.
    Whatever the executor, every run lands in the service's store under the same run id."""
    configs = spec.configs(dataset.pool_size)
    report = on_cell or (lambda cell: None)
    stored = [config for config in configs if service.has(config, dataset)]
    missing = [config for config in configs if config not in stored]
    for index, config in enumerate(stored, start=1):
        report(CellReport(index, len(configs), config, cached=True))
    started = 0

    def on_start(config: TrainConfig) -> None:
        nonlocal started
        started += 1
        report(CellReport(len(stored) + started, len(configs), config, cached=False))

    outcomes = {}
    for cell in service.train_missing(missing, dataset, on_start=on_start, on_epoch=on_epoch):
        if cell.outcome is not None:
            outcomes[cell.config] = cell.outcome
        report(CellReport(len(stored) + cell.done, len(configs), cell.config,
                          cached=cell.outcome is not None and cell.outcome.cached, node=cell.node,
                          seconds=cell.seconds, error=cell.error, running=cell.running, eta_seconds=cell.eta_seconds))
    for config in stored:
        run = service.get(config, dataset)
        if run is not None:
            outcomes[config] = Outcome(run, cached=True)
    return [outcomes[config] for config in configs if config in outcomes]


def estimate_seconds(spec: StudySpec, dataset: Dataset, service: RunsService) -> tuple[float, int]:
    """(seconds to train the missing cells, number of missing cells), from the cost model (core/costs.py) with
    this store's timings."""
    measured = service.seconds_per_image_epoch()
    seconds, missing = 0.0, 0
    for config in spec.configs(dataset.pool_size):
        if not service.has(config, dataset):
            seconds += costs.estimate(config, dataset, measured).seconds
            missing += 1
    return seconds, missing


@dataclass
class StudyReport:
    spec: StudySpec
    cells: pd.DataFrame      # one row per stored cell
    summary: pd.DataFrame    # per architecture and size: mean accuracy, CI, seeds, training time, H1
    gaps: pd.DataFrame       # per pair and size: first - second, CI, McNemar on the first seed, verdict
    missing: int             # cells of the spec not in the store yet
    verdicts: dict = field(default_factory=dict)  # "h1", "h2", "capacity": one plain sentence each


def analyse(spec: StudySpec, dataset: Dataset, service: RunsService) -> StudyReport:
    """Statistics and verdicts over the cells of `spec` that are in the store (nothing is trained)."""
    rows, missing, runs = [], 0, {}
    for config in spec.configs(dataset.pool_size):
        run = service.get(config, dataset)
        if run is None:
            missing += 1
            continue
        label = arm_label(config.architecture, config.pixels)  # the arm: network and pixel order
        runs[(label, config.sample_size, config.seed)] = run
        rows.append({"architecture": label, "sample_size": config.sample_size, "seed": config.seed,
                     "test_accuracy": run.test_accuracy, "test_loss": run.test_loss,
                     "train_seconds": run.train_seconds, "run_id": run.run_id})
    cells = pd.DataFrame(rows, columns=["architecture", "sample_size", "seed", "test_accuracy", "test_loss",
                                        "train_seconds", "run_id"])
    summary = summarise(cells)
    gaps = compare_pairs(cells, runs, dataset.y_test, spec.margin, spec.pairs)
    report = StudyReport(spec, cells, summary, gaps, missing)
    report.verdicts = {"h1": h1_sentence(summary), "h2": h2_sentence(gaps, spec.margin, spec.names),
                       "capacity": capacity_sentence(gaps, spec)}
    if SHUFFLED in spec.pixels:
        report.verdicts["spatial"] = spatial_sentence(gaps, spec)
    return report


def summarise(cells: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (architecture, size), group in cells.groupby(["architecture", "sample_size"], sort=True):
        accuracy = mean_ci(group["test_accuracy"])
        low, high = np.clip([accuracy.low, accuracy.high], 0.0, 1.0)  # an accuracy lies in [0, 1]
        rows.append({"architecture": architecture, "sample_size": size, "seeds": accuracy.count,
                     "mean_accuracy": accuracy.mean, "ci_low": low, "ci_high": high,
                     "mean_train_seconds": group["train_seconds"].mean(),
                     "h1": h1_verdict(low, high)})
    return pd.DataFrame(rows, columns=["architecture", "sample_size", "seeds", "mean_accuracy", "ci_low", "ci_high",
                                       "mean_train_seconds", "h1"])


def h1_verdict(low: float, high: float, threshold: float = THRESHOLD) -> str:
    if np.isnan(low):
        return "inconclusive"  # one seed gives no interval
    if low >= threshold:
        return "supported"
    if high < threshold:
        return "not supported"
    return "inconclusive"


def h2_verdict(low: float, high: float, margin: float, first: str = "conv", second: str = "flat") -> str:
    """The verdict on first − second: comparable within ±margin, one better, or inconclusive."""
    if np.isnan(low):
        return "inconclusive"
    if -margin <= low and high <= margin:
        return "comparable"
    if low > margin:
        return f"{first} better"
    if high < -margin:
        return f"{second} better"
    return "inconclusive"


GAP_COLUMNS = ["first", "second", "sample_size", "seeds", "mean_difference", "ci_low", "ci_high", "verdict",
               "mcnemar_seed", "only_first_right", "only_second_right", "mcnemar_p"]


def compare_pairs(cells: pd.DataFrame, runs: dict, test_labels: np.ndarray, margin: float,
                  pairs=(("conv", "flat"),)) -> pd.DataFrame:
    """Per pair and size: the paired first − second difference over seeds, and McNemar's test on the
    first seed's test predictions."""
    rows = []
    for first, second in pairs:
        for size in sorted(cells["sample_size"].unique()):
            by_seed = cells[cells["sample_size"] == size].pivot_table(index="seed", columns="architecture",
                                                                      values="test_accuracy")
            if not {first, second} <= set(by_seed.columns):
                continue
            by_seed = by_seed.dropna(subset=[first, second])
            if by_seed.empty:
                continue
            difference = paired_difference(by_seed[first], by_seed[second])
            low, high = np.clip([difference.low, difference.high], -1.0, 1.0)
            seed = int(by_seed.index.min())
            right = [runs[(name, size, seed)].probabilities().argmax(axis=1) == test_labels for name in (first, second)]
            test = mcnemar_exact(*right)
            rows.append({"first": first, "second": second, "sample_size": int(size), "seeds": difference.count,
                         "mean_difference": difference.mean, "ci_low": low, "ci_high": high,
                         "verdict": h2_verdict(low, high, margin, first, second), "mcnemar_seed": seed,
                         "only_first_right": test.only_first_right, "only_second_right": test.only_second_right,
                         "mcnemar_p": test.p_value})
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


def pair_gaps(gaps: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    return gaps[(gaps["first"] == first) & (gaps["second"] == second)]


def _points(value: float) -> str:
    return f"{value * 100:+.1f}"


def h1_sentence(summary: pd.DataFrame) -> str:
    if summary.empty:
        return "H1 (accuracy at least 80%): nothing trained yet."
    parts = []
    for architecture, group in summary.groupby("architecture", sort=False):
        verdicts = []
        for verdict in ("supported", "not supported", "inconclusive"):
            sizes = group[group["h1"] == verdict]
            if len(sizes):
                detail = ", ".join(f"{row.sample_size:,} ({row.mean_accuracy:.1%}"
                                   + (f", CI {row.ci_low:.1%}–{row.ci_high:.1%})" if not np.isnan(row.ci_low) else ", one seed)")
                                   for row in sizes.itertuples())
                verdicts.append(f"{verdict} at {detail}")
        parts.append(f"{architecture}: " + "; ".join(verdicts))
    return ("H1 (accuracy at least 80%, judged by the 95% CI's lower bound over seeds) — "
            + " | ".join(parts) + ".")


def _interval(row) -> str:
    return f"CI {_points(row.ci_low)} to {_points(row.ci_high)} points" if not np.isnan(row.ci_low) \
        else "one seed, no CI"


def _verdict_words(row) -> str:
    if row.verdict == f"{row.first} better":
        return f"{row.first} better by {row.mean_difference * 100:.1f} points"
    if row.verdict == f"{row.second} better":
        return f"{row.second} better by {-row.mean_difference * 100:.1f} points"
    return f"{row.verdict} ({_points(row.mean_difference)} points)"


def h2_sentence(gaps: pd.DataFrame, margin: float, architectures: tuple) -> str:
    head = f"H2 (flat comparable to conv within ±{margin * 100:g} points, 95% CI of conv − flat over seeds) — "
    if not {"conv", "flat"} <= set(architectures):
        return head + "needs both the flat and the conv network in the study."
    rows = pair_gaps(gaps, "conv", "flat")
    if rows.empty:
        return head + "nothing to compare yet."
    parts = [f"at {row.sample_size:,} images {_verdict_words(row)}, {_interval(row)}; "
             f"McNemar {p_value_words(row.mcnemar_p)}" for row in rows.itertuples()]
    return head + " | ".join(parts) + "."


def capacity_sentence(gaps: pd.DataFrame, spec: StudySpec) -> str:
    """"Convolution or capacity?", answered from the parameter-matched pairs (one network with
    convolutions, one without, parameter counts within 2%), whatever the data says.

    A matched cell counts for convolution when the 95% CI of (convolutional − other) lies above zero,
    for capacity when it lies below zero or inside ±margin (no better), and for neither otherwise. Where
    the study also has the unmatched pair of the same convolutional network, the sentence says how much
    of that gap is left once the parameters are matched."""
    head = "Convolution or capacity? "
    networks = spec.networks
    matched = [(first, second) for first, second in spec.pairs
               if parameter_matched(networks[first], networks[second])
               and split_label(first)[1] == split_label(second)[1]]  # the same pixels: only the network differs
    if not matched:
        return head + ("Compare networks with matched parameter counts to tell: conv vs flat-wide (about 600,000 "
                       "each) and conv-small vs flat (about 42,000 each).")
    for_convolution, for_capacity, cells, parts, shares = 0, 0, 0, [], []
    for first, second in matched:
        rows = pair_gaps(gaps, first, second)
        if rows.empty:
            parts.append(f"{first} − {second}: nothing trained yet")
            continue
        sign = 1 if networks[first].has_convolution else -1   # orient every difference as conv side − other
        conv_name, other_name = (first, second) if sign == 1 else (second, first)
        details = []
        for row in rows.itertuples():
            mean = row.mean_difference * sign
            low, high = sorted([row.ci_low * sign, row.ci_high * sign])
            cells += 1
            if low > 0:
                for_convolution += 1
            elif high < 0 or (-spec.margin <= low and high <= spec.margin):
                for_capacity += 1
            interval = f"CI {_points(low)} to {_points(high)}" if not np.isnan(low) else "one seed"
            details.append(f"{_points(mean)} at {row.sample_size:,} ({interval})")
        parts.append(f"{conv_name} − {other_name} ({networks[conv_name].num_params:,} vs "
                     f"{networks[other_name].num_params:,} parameters): " + ", ".join(details))
        shares += _gap_left(gaps, conv_name, other_name, networks)
    if for_convolution and not for_capacity:
        answer = (f"Convolution: with parameter counts matched, the convolutional network is still better wherever "
                  f"the data decide ({for_convolution} of {cells} cells have a 95% CI above zero)")
    elif for_capacity and not for_convolution:
        answer = (f"Capacity: with parameter counts matched, the convolutional network is no better "
                  f"({for_capacity} of {cells} cells comparable or worse)")
    elif for_convolution:
        answer = (f"Both: with parameter counts matched, convolution still wins in {for_convolution} of {cells} cells "
                  f"and is no better in {for_capacity}")
    else:
        answer = "Not decided yet: no matched difference is clear either way; more seeds would tell"
    return head + answer + (". " + " ".join(shares) if shares else "") + " Matched differences in points, images: " \
        + " | ".join(parts) + "."


SPATIAL_PAIRS = ((arm_label("conv", SHUFFLED), "conv"), (arm_label("flat", SHUFFLED), "flat"),
                 (arm_label("conv", SHUFFLED), arm_label("flat", SHUFFLED)))


def spatial_sentence(gaps: pd.DataFrame, spec: StudySpec) -> str:
    """"Is it the spatial structure?", answered from three paired differences at one sample size (the
    student's if studied, else the largest with all three): conv shuffled − conv, flat shuffled − flat and
    conv shuffled − flat shuffled, each a 95% CI over seeds.

    Yes when shuffling costs conv more than the margin (CI below −margin) while flat's CI lies within ±margin;
    no when conv's CI lies at or above −margin (shuffling does not hurt it); otherwise not decided."""
    head = "Is it the spatial structure? "
    if not {"conv", "flat"} <= set(spec.names) or not {DRAWN, SHUFFLED} <= set(spec.pixels):
        return head + "Train flat and conv on the pixels as drawn and shuffled to tell (the preset does)."
    if not set(SPATIAL_PAIRS) <= set(spec.pairs):
        return head + "Test the differences " + ", ".join(f"{first} − {second}" for first, second in SPATIAL_PAIRS) \
            + " to tell (the preset does)."
    rows = {pair: pair_gaps(gaps, *pair).set_index("sample_size") for pair in SPATIAL_PAIRS}
    sizes = sorted(set.intersection(*(set(frame.index) for frame in rows.values())))
    if not sizes:
        return head + "nothing to compare yet: train the study's cells."
    size = STUDENT["sample_size"] if STUDENT["sample_size"] in sizes else sizes[-1]
    conv, flat, shuffled = (rows[pair].loc[size] for pair in SPATIAL_PAIRS)

    def cost(row) -> str:
        interval = f"95% CI {_points(row.ci_low)} to {_points(row.ci_high)}" if not np.isnan(row.ci_low) \
            else "one seed, no CI"
        return f"{_points(row.mean_difference)} points ({interval})"

    margin = spec.margin
    measured = (f"At {size:,} images, shuffling the pixels changed conv's accuracy by {cost(conv)} and flat's by "
                f"{cost(flat)}; on shuffled pixels conv − flat is {cost(shuffled)}. ")
    if np.isnan(conv.ci_low) or np.isnan(flat.ci_low):
        answer = "Not decided: one seed gives no interval; use at least two."
    elif conv.ci_high < -margin and -margin <= flat.ci_low and flat.ci_high <= margin:
        answer = (f"Yes: shuffling costs conv more than {margin * 100:g} points and leaves flat within "
                  f"±{margin * 100:g}, so conv's advantage rests on neighbouring pixels belonging together"
                  + ("; without that order it is no better than flat." if shuffled.ci_high <= margin else "."))
    elif conv.ci_low >= -margin:
        answer = (f"No: conv does not lose more than {margin * 100:g} points on shuffled pixels, so its advantage "
                  f"does not come from the pixels' arrangement.")
    elif conv.ci_high < -margin and flat.ci_high < -margin:
        answer = ("Partly: shuffling hurt both networks, which a fixed permutation should not do to flat "
                  "(too few epochs to relearn the order?); compare the two costs.")
    elif conv.ci_high < -margin and flat.ci_low <= 0 <= flat.ci_high:
        answer = (f"Pointing to yes, not settled: shuffling clearly costs conv more than {margin * 100:g} points, "
                  f"and flat's change cannot be told from zero, but its CI does not lie inside ±{margin * 100:g} "
                  f"points yet; more seeds would settle it.")
    else:
        answer = "Not decided yet: the intervals are too wide to say; more seeds would tell."
    per_size = " | ".join(f"{size:,}: conv {_points(rows[SPATIAL_PAIRS[0]].loc[size].mean_difference)}, flat "
                          f"{_points(rows[SPATIAL_PAIRS[1]].loc[size].mean_difference)}" for size in sizes)
    return head + measured + answer + f" What shuffling changed, in points, per size (images): {per_size}."


def _gap_left(gaps: pd.DataFrame, conv_name: str, matched_name: str, networks: dict) -> list[str]:
    """How much of conv's lead over an unmatched network without convolutions is left against the matched
    one, at the student's sample size if studied, else the largest shared size."""
    sentences = []
    unmatched = [second for second in gaps.loc[gaps["first"] == conv_name, "second"].unique()
                 if second != matched_name and not networks[second].has_convolution
                 and not parameter_matched(networks[conv_name], networks[second])]
    for other in unmatched:
        total = pair_gaps(gaps, conv_name, other).set_index("sample_size")["mean_difference"]
        left = pair_gaps(gaps, conv_name, matched_name).set_index("sample_size")["mean_difference"]
        sizes = sorted(set(total.index) & set(left.index))
        if not sizes:
            continue
        size = STUDENT["sample_size"] if STUDENT["sample_size"] in sizes else sizes[-1]
        if total[size] <= 0:
            continue
        percent = round(min(max(left[size] / total[size], 0.0), 1.0) * 20) * 5  # to 5%: the CIs are wide
        sentences.append(f"At {size:,} images {conv_name} leads {other} by {total[size] * 100:.1f} points and "
                         f"{matched_name} (same parameter count) by {left[size] * 100:.1f}: about {percent}% of the "
                         f"gap is convolution, {100 - percent}% capacity.")
    return sentences


def student_comparison(report: StudyReport) -> pd.DataFrame:
    """The student's reported numbers next to ours at the same sample size."""
    size = STUDENT["sample_size"]
    ours = report.summary[report.summary["sample_size"] == size].set_index("architecture")
    rows = []
    for architecture in ("conv", "flat"):
        mine = ours.loc[architecture] if architecture in ours.index else None
        rows.append({
            "architecture": architecture,
            "student_accuracy": STUDENT[architecture]["test_accuracy"],
            "our_mean_accuracy": None if mine is None else float(mine["mean_accuracy"]),
            "our_ci": None if mine is None or np.isnan(mine["ci_low"]) else f"{mine['ci_low']:.3f}–{mine['ci_high']:.3f}",
            "student_train_seconds": STUDENT[architecture]["train_seconds"],
            "our_train_seconds": None if mine is None else float(mine["mean_train_seconds"]),
        })
    return pd.DataFrame(rows)


def machine_description() -> str:
    import os

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}, "
            f"Python {platform.python_version()}")

