"""Data efficiency in words (the maths: core/efficiency.py). Every answer has one form: a number with its 95%
interval, or "no number" and why — never a number beside a refusal, never an interval without a top."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.efficiency import (ABOVE_CEILING, BEYOND, MAX_EXTRAPOLATION, MIN_SIZES, NO_CURVE, UNCERTAIN, CurveFit,
                             Efficiency, limits)
from core.formats import count
from core.study.words import listed

MODEL_WORDS = "learning curves: an inverse power law accuracy(n) = a − b·(n/1,000)^(−c) per network"


def factor_words(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def efficiency_sentences(result: Efficiency, pairs=(("conv", "flat"),)) -> dict[str, str]:
    """{"efficiency": one paragraph, "check": one paragraph (only when a size could be held out)}."""
    sentences = {"efficiency": efficiency_sentence(result, pairs)}
    if not result.check.empty:
        sentences["check"] = check_sentence(result.check)
    return sentences


def efficiency_sentence(result: Efficiency, pairs=(("conv", "flat"),)) -> str:
    """The multiplier at each size of the better arm, or "no number" and why."""
    head = f"Data efficiency ({MODEL_WORDS}; 95% intervals from {result.num_resamples} resamplings of the seeds): "
    if not result.multipliers:
        named = [label for pair in pairs for label in pair]
        missing = [label for label in dict.fromkeys(named) if label not in result.fits and label not in result.refused]
        if result.refused:
            return head + "no number — " + "; ".join(f"{label} has no learning curve: {reason}"
                                                     for label, reason in result.refused.items()) + "."
        return head + f"no number — it needs {listed(missing) or 'both networks'} in the study."
    parts = []
    for better, other in pairs:
        found = [multiplier for multiplier in result.multipliers
                 if (multiplier.better, multiplier.other) == (better, other)]
        if not found:
            continue
        if other in result.refused:
            parts.append(f"no number for {other} against {better} — {other} has no learning curve: "
                         f"{result.refused[other]}")
            continue
        parts += _pair_parts(better, other, found, result.fits[other])
    return head + "; ".join(parts) + "."


def _pair_parts(better: str, other: str, found: list, fit: CurveFit) -> list[str]:
    """One clause per size (sizes above the other's ceiling together)."""
    parts, ceiling_said = [], False
    above = [multiplier for multiplier in found if multiplier.refusal == ABOVE_CEILING]
    for multiplier in found:
        at = f"at {multiplier.sample_size:,} images ({better}: {multiplier.target:.1%})"
        if multiplier.refusal == ABOVE_CEILING:
            if not ceiling_said:
                parts.append(_above_ceiling_words(better, other, above, fit))
                ceiling_said = True
            continue
        if multiplier.refusal == BEYOND:
            smallest, largest = limits(fit)
            where = (f"more than {MAX_EXTRAPOLATION:g}× the largest size studied ({largest:,.0f} images)"
                     if multiplier.images > largest else
                     f"fewer than {smallest:,.0f} images ({MAX_EXTRAPOLATION:g}× below the smallest size studied)")
            parts.append(f"{at}: no number — {other} would need {where}, beyond what was measured")
            continue
        if multiplier.refusal == UNCERTAIN:
            parts.append(f"{at}: no number — the seeds do not pin it down: its 95% interval reaches beyond what was "
                         f"measured (more than {factor_words(limits(fit)[1] / multiplier.sample_size)}×); more seeds "
                         f"would narrow it")
            continue
        if multiplier.refusal == NO_CURVE:  # (said for the whole pair above)
            continue
        parts.append(f"to reach {better}'s accuracy at {multiplier.sample_size:,} images ({multiplier.target:.1%}), "
                     f"{other} needs about {factor_words(multiplier.factor)} × {multiplier.sample_size:,} = "
                     f"{multiplier.images:,.0f} images (95% interval {factor_words(multiplier.low)}–"
                     f"{factor_words(multiplier.high)}×)")
    return parts


def _above_ceiling_words(better: str, other: str, multipliers: list, fit: CurveFit) -> str:
    sizes = [multiplier.sample_size for multiplier in multipliers]
    targets = listed(f"{multiplier.target:.1%}" for multiplier in multipliers)
    return (f"at {listed(f'{size:,}' for size in sizes)} images ({better}: {targets}): no number — {other}'s curve, "
            f"fitted on up to {max(fit.sizes):,} images, levels off at {fit.ceiling:.1%}, below "
            f"{'that' if len(sizes) == 1 else 'each of these'}, so it cannot tell whether or when more images would "
            f"get {other} there")


def check_sentence(check: pd.DataFrame) -> str:
    """How well the curves fitted on the smaller sizes predicted the larger, measured ones."""
    head = "Prediction check (each curve fitted on the smaller sizes only, predicting the larger ones): "
    if check.empty:
        return head + f"it needs at least {count(MIN_SIZES + 1, 'sample size')}, so that one can be held out."
    parts = []
    for label, rows in check.groupby("architecture", sort=False):
        predictions = ", ".join(
            f"at {row.sample_size:,} predicted {row.predicted:.1%}"
            + ("" if np.isnan(row.low) else f" (95% band {row.low:.1%}–{row.high:.1%})")
            + f", measured {row.measured:.1%}, off by {row.error * 100:+.1f} points" for row in rows.itertuples())
        parts.append(f"{label} (fitted on {rows['fitted_on'].iloc[0]}): {predictions}")
    inside = int(((check["low"] <= check["measured"]) & (check["measured"] <= check["high"])).sum())
    worst = float(check["error"].abs().max()) * 100
    return (head + "; ".join(parts) + f". {inside} of {count(len(check), 'measurement')} "
            f"fall{'s' if len(check) == 1 else ''} inside {'its' if len(check) == 1 else 'their'} band; the largest "
            f"miss is {worst:.1f} points.")
