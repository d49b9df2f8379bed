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


def within(interval: Interval, low_bound: float, high_bound: float) -> bool:
    """Whether the interval exists and lies inside what the quantity can be ([0, 1] for an accuracy, [−1, 1] for a
    difference of two). Student's t stretches the interval of two or three seeds far: one reaching past what the
    quantity can be (an accuracy above 100%) describes the seeds' spread, not where the mean can lie."""
    return interval.count >= 2 and low_bound <= interval.low and interval.high <= high_bound


def seeds_for_half_width(spread: float, half_width: float, most: int, confidence: float = 0.95) -> int | None:
    """The fewest values (at least 2) whose Student-t interval at `confidence` has at most `half_width` either side
    of the mean, for values whose standard deviation is `spread` (t · spread / √n ≤ half_width); None when more than
    `most` would be needed, or `half_width` is not positive."""
    if half_width <= 0:
        return None
    for count in range(2, most + 1):
        if stats.t.ppf((1 + confidence) / 2, count - 1) * spread / np.sqrt(count) <= half_width:
            return count
    return None


def spread_of(interval: Interval, confidence: float = 0.95) -> float:
    """The values' standard deviation behind a Student-t interval of two or more values (its half-width · √n / t);
    NaN for one value."""
    if interval.count < 2 or interval.low != interval.low:
        return float("nan")
    return (interval.high - interval.low) / 2 * np.sqrt(interval.count) / stats.t.ppf((1 + confidence) / 2,
                                                                                     interval.count - 1)


def paired_proportions_difference(first_right, second_right, confidence: float = 0.95) -> Interval:
    """The difference of two models' accuracies on the same items (booleans, one per item) with its Wald interval
    for paired proportions: (b − c) / n ± z · √((b + c) − (b − c)² / n) / n, b and c the items only the first,
    only the second gets right (Agresti, "Categorical Data Analysis", 3rd ed., §11.1.1). ValueError when the
    lengths differ or there are no items."""
    first_right, second_right = np.asarray(first_right, dtype=bool), np.asarray(second_right, dtype=bool)
    if first_right.shape != second_right.shape:
        raise ValueError("Both models must answer the same items.")
    count = len(first_right)
    if count == 0:
        raise ValueError("No items to compare.")
    only_first = int((first_right & ~second_right).sum())
    only_second = int((~first_right & second_right).sum())
    difference = (only_first - only_second) / count
    half = stats.norm.ppf((1 + confidence) / 2) * np.sqrt(max(0.0, (only_first + only_second)
                                                               - (only_first - only_second) ** 2 / count)) / count
    return Interval(difference, float(max(-1.0, difference - half)), float(min(1.0, difference + half)), count)
