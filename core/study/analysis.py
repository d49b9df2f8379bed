"""A study's statistics over its stored cells: mean accuracy with its 95% CI per arm and size (H1), paired
differences with McNemar's test per pair and size (H2), and the verdicts in words (core/study/summary.py,
verdict.py)."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.data import Dataset
from core.pixels import arm_label
from core.runs import RunsService
from core.stats import mcnemar_exact, mean_ci, paired_difference
from core.study.rules import TOO_FEW_SEEDS, h1_verdict, h2_verdict, seeds_for_ci  # noqa: F401 (h1_verdict: public)
from core.study.spec import STUDENT, StudySpec
from core.study.summary import summary_sentences
from core.study.verdict import capacity_sentence, spatial_sentence


@dataclass
class StudyReport:
    spec: StudySpec
    cells: pd.DataFrame      # one row per stored cell
    summary: pd.DataFrame    # per architecture and size: mean accuracy, CI, seeds, training time, H1
    gaps: pd.DataFrame       # per pair and size: first - second, CI, McNemar on the first seed, verdict
    missing: int             # cells of the spec not in the store yet
    # "summary" (what holds, what is undecided), and "capacity", "spatial" where the study can answer them: one plain
    # paragraph each (H1 and H2 are tables: core/study/tables.py)
    verdicts: dict = field(default_factory=dict)


def analyse(spec: StudySpec, dataset: Dataset, service: RunsService) -> StudyReport:
    """Statistics and verdicts over the cells of `spec` that are in the store (nothing is trained). A run that goes
    between reading the store and reading its test-set predictions (deleted by another session, evicted from a full
    store: KeyError or OSError from the backend) makes it read the store once more, where it counts as missing."""
    try:
        return _analyse(spec, dataset, service)
    except (KeyError, OSError):
        return _analyse(spec, dataset, service)


def _analyse(spec: StudySpec, dataset: Dataset, service: RunsService) -> StudyReport:
    """From one listing of the store (its index rows): a study named by a link costs the same few queries whatever
    its size; only the runs McNemar's test compares are opened."""
    configs = spec.configs(dataset.pool_size)
    stored = service.stored_rows(configs, dataset)
    rows, runs = [], OpenedRuns(service.store)
    for config, row in stored.items():
        label = arm_label(config.architecture, config.pixels)  # the arm: network and pixel order
        runs.ids[(label, config.sample_size, config.seed)] = row["run_id"]
        rows.append({"architecture": label, "sample_size": config.sample_size, "seed": config.seed,
                     "test_accuracy": row["test_accuracy"], "test_loss": row["test_loss"],
                     "train_seconds": row["train_seconds"], "run_id": row["run_id"]})
    missing = len(configs) - len(stored)
    cells = pd.DataFrame(rows, columns=["architecture", "sample_size", "seed", "test_accuracy", "test_loss",
                                        "train_seconds", "run_id"])
    summary = summarise(cells)
    gaps = compare_pairs(cells, runs, dataset.y_test, spec.margin, spec.pairs)
    report = StudyReport(spec, cells, summary, gaps, missing)
    said = {"summary": " ".join(summary_sentences(summary, gaps, spec.pairs, spec.margin, list(spec.networks),
                                                  dataset.pool_size)),
            "capacity": capacity_sentence(gaps, spec), "spatial": spatial_sentence(gaps, spec)}
    report.verdicts = {name: sentence for name, sentence in said.items() if sentence}
    return report


class OpenedRuns:
    """(arm, size, seed) -> its stored run, opened when first asked for (McNemar's test needs a few); KeyError when
    the run has gone from the store since the listing (analyse then reads the store again)."""

    def __init__(self, store):
        self.store, self.ids, self._opened = store, {}, {}

    def __getitem__(self, key):
        if key not in self._opened:
            run = self.store.get(self.ids[key])
            if run is None:
                raise KeyError(key)
            self._opened[key] = run
        return self._opened[key]


def summarise(cells: pd.DataFrame) -> pd.DataFrame:
    """Per arm and size: seeds, mean accuracy with its 95% CI over seeds (clipped to [0, 1]), the seeds a usable
    CI needs (`seeds_for_ci`, see `seeds_for_ci`: 0 when it has them), mean training time and H1's verdict."""
    rows = []
    for (architecture, size), group in cells.groupby(["architecture", "sample_size"], sort=True):
        accuracy = mean_ci(group["test_accuracy"])
        low, high = np.clip([accuracy.low, accuracy.high], 0.0, 1.0)  # an accuracy lies in [0, 1]
        needed = seeds_for_ci(accuracy, 0.0, 1.0)
        rows.append({"architecture": architecture, "sample_size": size, "seeds": accuracy.count,
                     "mean_accuracy": accuracy.mean, "ci_low": low, "ci_high": high,
                     "mean_train_seconds": group["train_seconds"].mean(),
                     "h1": h1_verdict(low, high) if not needed else TOO_FEW_SEEDS, "seeds_for_ci": needed})
    return pd.DataFrame(rows, columns=["architecture", "sample_size", "seeds", "mean_accuracy", "ci_low", "ci_high",
                                       "mean_train_seconds", "h1", "seeds_for_ci"])


GAP_COLUMNS = ["first", "second", "sample_size", "seeds", "mean_difference", "ci_low", "ci_high", "verdict",
               "mcnemar_seed", "only_first_right", "only_second_right", "mcnemar_p", "seeds_for_ci"]


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
            needed = seeds_for_ci(difference, -1.0, 1.0)
            seed = int(by_seed.index.min())
            right = [runs[(name, size, seed)].probabilities().argmax(axis=1) == test_labels for name in (first, second)]
            test = mcnemar_exact(*right)
            rows.append({"first": first, "second": second, "sample_size": int(size), "seeds": difference.count,
                         "mean_difference": difference.mean, "ci_low": low, "ci_high": high,
                         "verdict": h2_verdict(low, high, margin, first, second) if not needed else TOO_FEW_SEEDS,
                         "mcnemar_seed": seed, "only_first_right": test.only_first_right,
                         "only_second_right": test.only_second_right, "mcnemar_p": test.p_value,
                         "seeds_for_ci": needed})
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


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
            "our_ci": (None if mine is None or np.isnan(mine["ci_low"])
                       else f"{mine['ci_low']:.3f}–{mine['ci_high']:.3f}"),
            "student_train_seconds": STUDENT[architecture]["train_seconds"],
            "our_train_seconds": None if mine is None else float(mine["mean_train_seconds"]),
        })
    return pd.DataFrame(rows)


def machine_description() -> str:
    import os

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}, "
            f"Python {platform.python_version()}")

