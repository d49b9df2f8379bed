"""The verdict rules: which word a 95% CI over seeds earns (H1: an accuracy against the threshold; a difference
against the margin), and when there are too few seeds for a CI to be used at all."""

from __future__ import annotations

import numpy as np

from core.settings import MAX_SEEDS
from core.stats import seeds_for_half_width, spread_of, within
from core.settings import THRESHOLD

INCONCLUSIVE = "inconclusive"
TOO_FEW_SEEDS = "too few seeds"


def seeds_for_ci(interval, low_bound: float, high_bound: float) -> int:
    """0 when `interval` (core.stats.Interval) is usable: two or more seeds, and inside [low_bound, high_bound],
    what the quantity can be (core.stats.within). Else the seeds that would give a usable one: 2 for one seed;
    with more, the fewest whose interval, at the seeds' spread so far, would fit between the mean and the nearer
    bound; MAX_SEEDS + 1 when more than MAX_SEEDS would be needed."""
    if within(interval, low_bound, high_bound):
        return 0
    if interval.count < 2:
        return 2
    room = min(interval.mean - low_bound, high_bound - interval.mean)
    needed = seeds_for_half_width(spread_of(interval), room, MAX_SEEDS)
    return max(interval.count + 1, needed) if needed else MAX_SEEDS + 1


def h1_verdict(low: float, high: float, threshold: float = THRESHOLD) -> str:
    """Supported when the whole 95% CI is at or above `threshold`, not supported when it is below, inconclusive
    when it straddles it; too few seeds when there is no interval (NaN)."""
    if np.isnan(low):
        return TOO_FEW_SEEDS
    if low >= threshold:
        return "supported"
    if high < threshold:
        return "not supported"
    return INCONCLUSIVE


def h2_verdict(low: float, high: float, margin: float, first: str = "conv", second: str = "flat") -> str:
    """The verdict on first − second: comparable within ±margin, one better, or inconclusive; too few seeds when
    there is no interval (NaN)."""
    if np.isnan(low):
        return TOO_FEW_SEEDS
    if -margin <= low and high <= margin:
        return "comparable"
    if low > margin:
        return f"{first} better"
    if high < -margin:
        return f"{second} better"
    return INCONCLUSIVE
