"""Small, plain statistics for the study, from scipy.stats: Student-t confidence intervals, paired differences,
McNemar's exact test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float    # NaN when there are too few values to say
    high: float
    count: int


def mean_ci(values, confidence: float = 0.95) -> Interval:
    """Mean of `values` with its two-sided Student-t confidence interval at `confidence` (scipy.stats.t.interval
    around the mean, scale the standard error sd / sqrt(n), n - 1 degrees of freedom), in the values' units.
    One value: low and high are NaN. ValueError when there are none."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        raise ValueError("No values to summarise.")
    mean = float(values.mean())
    if len(values) < 2:
        return Interval(mean, float("nan"), float("nan"), 1)
    standard_error = values.std(ddof=1) / np.sqrt(len(values))
    if standard_error == 0:  # identical values: the interval is the mean (scipy's t takes no scale of 0)
        return Interval(mean, mean, mean, len(values))
    low, high = stats.t.interval(confidence, len(values) - 1, loc=mean, scale=standard_error)
    return Interval(mean, float(low), float(high), len(values))


def paired_difference(first, second, confidence: float = 0.95) -> Interval:
    """CI of mean(first - second) over paired values (the same seeds)."""
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if first.shape != second.shape:
        raise ValueError(f"Paired values must match: {len(first)} vs {len(second)}.")
    return mean_ci(first - second, confidence)


@dataclass(frozen=True)
class McNemar:
    only_first_right: int   # discordant pairs: first model right, second wrong
    only_second_right: int
    p_value: float


def mcnemar_exact(first_right, second_right) -> McNemar:
    """McNemar's exact test on two models' right/wrong answers (booleans, one per test image, the same images
    in the same order): the two-sided exact binomial test (scipy.stats.binomtest) of the discordant pairs
    against 1/2. p = 1 when the models never disagree. ValueError when the lengths differ."""
    first_right, second_right = np.asarray(first_right, dtype=bool), np.asarray(second_right, dtype=bool)
    if first_right.shape != second_right.shape:
        raise ValueError("Both models must answer the same test images.")
    b = int((first_right & ~second_right).sum())
    c = int((~first_right & second_right).sum())
    p_value = 1.0 if b + c == 0 else stats.binomtest(b, b + c, 0.5).pvalue
    return McNemar(b, c, float(p_value))


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def p_value_words(p_value: float) -> str:
    """'p < 10⁻⁹', 'p = 3.2 × 10⁻⁵' or 'p = 0.012'; '–' when there is none."""
    if p_value is None or p_value != p_value:
        return "–"
    if p_value < 1e-9:
        return "p < 10⁻⁹"
    if p_value < 1e-3:
        mantissa, exponent = f"{p_value:.1e}".split("e")
        return f"p = {mantissa} × 10{str(int(exponent)).translate(SUPERSCRIPTS)}"
    return f"p = {p_value:.2g}"
