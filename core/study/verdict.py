"""The study's answers to its two further questions in plain sentences, "convolution or capacity?" and "is it the
spatial structure?", each read from the study's tables (core/study/analysis.py) and said only when the study can
answer it (matched networks; both pixel orders). H1 and H2 are tables (core/study/tables.py) under a summary
(core/study/summary.py)."""

from __future__ import annotations

import pandas as pd

from core.architectures import parameter_matched
from core.pixels import DRAWN, SHUFFLED, arm_label, split_label
from core.study.spec import STUDENT, StudySpec
from core.formats import count, points, points_range
from core.study.words import usable


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


def capacity_sentence(gaps: pd.DataFrame, spec: StudySpec) -> str | None:
    """"Convolution or capacity?", answered from the parameter-matched pairs (one network with
    convolutions, one without, parameter counts within 2%), whatever the data says.

    A matched cell counts for convolution when the 95% CI of (convolutional − other) lies above zero,
    for capacity when it lies below zero or inside ±margin (no better), and for neither otherwise. Where
    the study also has the unmatched pair of the same convolutional network, the sentence says how much
    of that gap is left once the parameters are matched. None when the study has no matched pair (it cannot
    answer)."""
    head = "Convolution or capacity? "
    networks = spec.networks
    matched = [(first, second) for first, second in spec.pairs
               if parameter_matched(networks[first], networks[second])
               and split_label(first)[1] == split_label(second)[1]]  # the same pixels: only the network differs
    if not matched:
        return None
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
            if not usable(row):
                details.append(f"{points(mean, unit=False)} at {row.sample_size:,} "
                               f"({count(int(row.seeds), 'seed')}: too few for a CI)")
                continue
            if low > 0:
                for_convolution += 1
            elif high < 0 or (-spec.margin <= low and high <= spec.margin):
                for_capacity += 1
            details.append(f"{points(mean, unit=False)} at {row.sample_size:,} "
                           f"(CI {points(low, unit=False)} to {points(high, unit=False)})")
        parts.append(f"{conv_name} − {other_name} ({networks[conv_name].num_params:,} vs "
                     f"{networks[other_name].num_params:,} parameters): " + ", ".join(details))
        shares += _gap_left(gaps, conv_name, other_name, networks)
    if for_convolution and not for_capacity:
        answer = (f"Convolution: with parameter counts matched, the convolutional network is still better wherever "
                  f"the data decide ({for_convolution} of {count(cells, 'cell')} "
                  f"{'has' if for_convolution == 1 else 'have'} a 95% CI above zero)")
    elif for_capacity and not for_convolution:
        answer = (f"Capacity: with parameter counts matched, the convolutional network is no better "
                  f"({for_capacity} of {count(cells, 'cell')} comparable or worse)")
    elif for_convolution:
        answer = (f"Both: with parameter counts matched, convolution still wins in {for_convolution} of "
                  f"{count(cells, 'cell')} and is no better in {for_capacity}")
    else:
        answer = "Not decided yet: no matched difference is clear either way; more seeds would tell"
    return head + answer + ". " + (" ".join(shares) + " " if shares else "") + "Matched differences in points, " \
        "by sample size: " + "; ".join(parts) + "."


SPATIAL_PAIRS = ((arm_label("conv", SHUFFLED), "conv"), (arm_label("flat", SHUFFLED), "flat"),
                 (arm_label("conv", SHUFFLED), arm_label("flat", SHUFFLED)))


def spatial_sentence(gaps: pd.DataFrame, spec: StudySpec) -> str | None:
    """"Is it the spatial structure?", answered from three paired differences at one sample size (the
    student's if studied, else the largest with all three): conv shuffled − conv, flat shuffled − flat and
    conv shuffled − flat shuffled, each a 95% CI over seeds.

    Yes when shuffling costs conv more than the margin (CI below −margin) while flat's CI lies within ±margin;
    no when conv's CI lies at or above −margin (shuffling does not hurt it); otherwise not decided. None when the
    study cannot answer it: it needs flat and conv on both pixel orders and the three differences."""
    head = "Is it the spatial structure? "
    if not {"conv", "flat"} <= set(spec.names) or not {DRAWN, SHUFFLED} <= set(spec.pixels) \
            or not set(SPATIAL_PAIRS) <= set(spec.pairs):
        return None
    rows = {pair: pair_gaps(gaps, *pair).set_index("sample_size") for pair in SPATIAL_PAIRS}
    sizes = sorted(set.intersection(*(set(frame.index) for frame in rows.values())))
    if not sizes:
        return head + "Nothing to compare yet: train the study's cells."
    size = STUDENT["sample_size"] if STUDENT["sample_size"] in sizes else sizes[-1]
    conv, flat, shuffled = (rows[pair].loc[size] for pair in SPATIAL_PAIRS)

    def cost(row) -> str:
        interval = f"95% CI {points_range(row.ci_low, row.ci_high)}" if usable(row) \
            else f"{count(int(row.seeds), 'seed')}: too few for a CI"
        return f"{points(row.mean_difference)} ({interval})"

    margin = spec.margin
    measured = (f"At {size:,} images, shuffling the pixels changed conv's accuracy by {cost(conv)} and flat's by "
                f"{cost(flat)}; on shuffled pixels conv − flat is {cost(shuffled)}. ")
    if not usable(conv) or not usable(flat):
        answer = (f"Not decided: too few seeds for an interval; {max(int(conv.seeds_for_ci), int(flat.seeds_for_ci))} "
                  f"or more would give one.")
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
    conv_change, flat_change = (rows[pair]["mean_difference"] for pair in SPATIAL_PAIRS[:2])
    per_size = "; ".join(f"{size:,}: conv {points(conv_change.loc[size], unit=False)}, flat "
                         f"{points(flat_change.loc[size], unit=False)}" for size in sizes)
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


