"""The study's answers in plain sentences: H1, H2, "convolution or capacity?" and "is it the spatial
structure?", each read from the study's tables (core/study/analysis.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.architectures import parameter_matched
from core.pixels import DRAWN, SHUFFLED, arm_label, split_label
from core.stats import p_value_words
from core.settings import THRESHOLD
from core.study.spec import STUDENT, StudySpec


def pair_gaps(gaps: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    return gaps[(gaps["first"] == first) & (gaps["second"] == second)]


def oriented_gaps(gaps: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """The rows of first − second; where only second − first was tested, its rows turned round (the difference
    and its interval negated, McNemar's counts swapped; the verdict names the better network either way)."""
    rows = pair_gaps(gaps, first, second)
    if not rows.empty:
        return rows
    turned = pair_gaps(gaps, second, first).copy()
    turned["first"], turned["second"] = first, second
    turned["mean_difference"] = -turned["mean_difference"]
    turned["ci_low"], turned["ci_high"] = -turned["ci_high"], -turned["ci_low"]
    turned["only_first_right"], turned["only_second_right"] = turned["only_second_right"], turned["only_first_right"]
    return turned


def _points(value: float) -> str:
    return f"{value * 100:+.1f}"


def h1_sentence(summary: pd.DataFrame) -> str:
    if summary.empty:
        return f"H1 (accuracy at least {THRESHOLD:.0%}): nothing trained yet."
    parts = []
    for architecture, group in summary.groupby("architecture", sort=False):
        verdicts = []
        for verdict in ("supported", "not supported", "inconclusive"):
            sizes = group[group["h1"] == verdict]
            if len(sizes):
                detail = ", ".join(f"{row.sample_size:,} ({row.mean_accuracy:.1%}"
                                   + (f", CI {row.ci_low:.1%}–{row.ci_high:.1%})" if not np.isnan(row.ci_low)
                                      else ", one seed)")
                                   for row in sizes.itertuples())
                verdicts.append(f"{verdict} at {detail}")
        parts.append(f"{architecture}: " + "; ".join(verdicts))
    return (f"H1 (accuracy at least {THRESHOLD:.0%}, judged by the 95% CI's lower bound over seeds) — "
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
    rows = oriented_gaps(gaps, "conv", "flat")  # a study may test flat − conv instead
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


