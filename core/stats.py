"""Small, plain statistics for the study: t confidence intervals, paired differences, McNemar's exact test."""

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

    @property
    def known(self) -> bool:
        return not (np.isnan(self.low) or np.isnan(self.high))


def mean_ci(values, confidence: float = 0.95) -> Interval:
    """Mean with a two-sided Student-t confidence interval (needs at least two values)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        raise ValueError("No values to summarise.")
    mean = float(values.mean())
    if len(values) < 2:
        return Interval(mean, float("nan"), float("nan"), 1)
    half_width = stats.t.ppf((1 + confidence) / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return Interval(mean, float(mean - half_width), float(mean + half_width), len(values))


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
    """McNemar's exact test on two models' right/wrong answers to the same test images."""
    first_right, second_right = np.asarray(first_right, dtype=bool), np.asarray(second_right, dtype=bool)
    if first_right.shape != second_right.shape:
        raise ValueError("Both models must answer the same test images.")
    b = int((first_right & ~second_right).sum())
    c = int((~first_right & second_right).sum())
    p_value = 1.0 if b + c == 0 else min(1.0, 2 * stats.binom.cdf(min(b, c), b + c, 0.5))
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
