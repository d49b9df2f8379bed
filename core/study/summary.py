"""The Study's answer in two or three sentences, read from its tables: what holds and from which size (H1), what the
main difference says (H2, conv − flat, or the study's first pair), and what is undecided and what would decide it
(more seeds, larger sizes)."""

from __future__ import annotations

import pandas as pd

from core.settings import MAX_SEEDS
from core.stats import Interval, seeds_for_half_width, spread_of
from core.study.rules import INCONCLUSIVE, TOO_FEW_SEEDS
from core.settings import THRESHOLD
from core.study.verdict import oriented_gaps
from core.formats import count
from core.study.words import listed, sizes_words

UNDECIDED = (INCONCLUSIVE, TOO_FEW_SEEDS)


def main_pair(gaps: pd.DataFrame, pairs) -> tuple[str, str] | None:
    """H2's pair (conv − flat, whichever way the study tested it) if the study has it, else its first pair."""
    tested = set(zip(gaps["first"], gaps["second"]))
    if ("conv", "flat") in tested or ("flat", "conv") in tested:
        return ("conv", "flat")
    return next((tuple(pair) for pair in pairs if tuple(pair) in tested), None)


def holds_from(verdicts: pd.Series) -> int | None:
    """The smallest size from which H1 is supported at that size and every larger one measured (None: not at the
    largest). `verdicts`: H1's words indexed by size."""
    verdicts = verdicts.sort_index()
    start = None
    for size, verdict in verdicts.items():
        start = (start or size) if verdict == "supported" else None
    return start


def h1_words(summary: pd.DataFrame, arms: list[str]) -> str | None:
    """Which networks reach the threshold and from which size on, which stay below it at their largest size; None
    when every network is undecided (the undecided sentence says so)."""
    starts, below = {}, []
    for arm in arms:
        verdicts = summary[summary["architecture"] == arm].set_index("sample_size")["h1"].sort_index()
        start = holds_from(verdicts)
        if start is not None:
            starts[arm] = start
        elif verdicts.iloc[-1] == "not supported":
            below.append(arm)
    bar = f"at least {THRESHOLD:.0%} accuracy (the whole 95% CI at or above it)"
    smallest, largest = int(summary["sample_size"].min()), int(summary["sample_size"].max())
    said = []
    if starts and len(set(starts.values())) == 1 and len(starts) == len(arms) and len(arms) > 1:
        size = next(iter(starts.values()))
        who = "Both networks reach" if len(arms) == 2 else "Every network reaches"
        said.append(f"{who} {bar} {'at every size measured' if size == smallest else f'from {size:,} images on'}")
    elif starts:
        parts = [f"{arm} from {size:,} images on" for arm, size in starts.items()]
        said.append(f"{bar[0].upper()}{bar[1:]} holds for {listed(parts)}")
    if below:
        verb = "stays" if len(below) == 1 else "stay"
        said.append(f"{listed(below)} {verb} below {THRESHOLD:.0%} at {largest:,} images" if said else
                    f"{listed(below)} {verb} below {bar} at {largest:,} images, the largest size measured")
    return "; ".join(said) + "." if said else None


def pair_words(rows: pd.DataFrame, first: str, second: str, margin: float) -> str | None:
    """What the decided sizes of first − second say, or None when no size is decided."""
    by_verdict = {}
    for row in rows.sort_values("sample_size").itertuples():
        by_verdict.setdefault(row.verdict, []).append(row.sample_size)
    parts = []
    for verdict, sizes in by_verdict.items():
        if verdict in (f"{first} better", f"{second} better"):
            parts.append(f"{verdict.removesuffix(' better')} is better by more than {margin * 100:g} points at "
                         f"{sizes_words(sizes)}")
        elif verdict == "comparable":
            parts.append(f"the two are comparable (within ±{margin * 100:g} points) at {sizes_words(sizes)}")
    return f"{first} − {second}: " + "; ".join(parts) + "." if parts else None


def seeds_to_decide(row, lines) -> int | None:
    """For an inconclusive cell with a usable CI: the seeds (at its spread so far) that would shrink the CI to the
    nearest of `lines` it straddles, if the mean stays where it is; None when more than MAX_SEEDS would."""
    mean = row.mean_accuracy if hasattr(row, "mean_accuracy") else row.mean_difference
    crossed = [abs(mean - line) for line in lines if row.ci_low <= line <= row.ci_high]
    if not crossed:
        return None
    spread = spread_of(Interval(mean, row.ci_low, row.ci_high, int(row.seeds)))
    return seeds_for_half_width(spread, min(crossed), MAX_SEEDS)


def undecided_words(summary: pd.DataFrame, rows: pd.DataFrame, pair, margin: float, pool_size: int | None,
                    arms: list[str]) -> str:
    """What is undecided (H1 cells, the main pair's sizes) and what would decide it."""
    open_h1 = summary[summary["h1"].isin(UNDECIDED)]
    open_pair = rows[rows["verdict"].isin(UNDECIDED)] if pair else rows.iloc[0:0]
    listed_parts = [f"H1 for {arm} at {sizes_words(open_h1[open_h1['architecture'] == arm]['sample_size'])}"
                    for arm in arms if (open_h1["architecture"] == arm).any()]
    if len(open_pair):
        listed_parts.append(f"{pair[0]} − {pair[1]} at {sizes_words(open_pair['sample_size'])}")
    seeds_now = int(summary["seeds"].max())
    said = []
    if listed_parts:
        needed = [int(value) for value in [*open_h1["seeds_for_ci"], *open_pair["seeds_for_ci"]] if value]
        deciding = [seeds_to_decide(row, [THRESHOLD]) for row in open_h1.itertuples() if not row.seeds_for_ci] + \
            [seeds_to_decide(row, [-margin, margin]) for row in open_pair.itertuples() if not row.seeds_for_ci]
        wanted = max([*needed, *[value or MAX_SEEDS + 1 for value in deciding]])
        more = (f"more than {MAX_SEEDS} seeds" if wanted > MAX_SEEDS else f"about {count(wanted, 'seed')}")
        inconclusive = len(open_h1) + len(open_pair) > len(needed)
        why = ("would give the missing intervals and decide the rest if the means hold" if needed and inconclusive
               else "would give them intervals" if needed else "would decide them if the means hold")
        said.append(f"Undecided: {listed(listed_parts)}; {more} ({seeds_now} now) {why}.")
    largest = int(summary["sample_size"].max())
    at_largest = rows[rows["sample_size"] == largest]["verdict"] if pair else pd.Series(dtype=str)
    if pair and (at_largest == f"{pair[0]} better").any() and (pool_size is None or largest < pool_size):
        beyond = f" (the pool has {pool_size:,})" if pool_size else ""
        said.append(f"Sizes above {largest:,} images{beyond} would show whether {pair[0]}'s lead closes.")
    if not said:
        said.append("Everything asked is decided at these sizes and seeds.")
    return " ".join(said)


def summary_sentences(summary: pd.DataFrame, gaps: pd.DataFrame, pairs, margin: float, arms=None,
                      pool_size: int | None = None) -> list[str]:
    """Two or three sentences: H1 (what holds, from which size), the main difference, what is undecided and what
    would decide it. Empty when nothing is trained."""
    if summary.empty:
        return []
    arms = [arm for arm in (arms or dict.fromkeys(summary["architecture"])) if arm in set(summary["architecture"])]
    sentences = [sentence for sentence in [h1_words(summary, arms)] if sentence]
    pair = main_pair(gaps, pairs) if not gaps.empty else None
    rows = oriented_gaps(gaps, *pair) if pair else pd.DataFrame(columns=gaps.columns)
    if pair:
        decided = pair_words(rows, *pair, margin)
        if decided:
            sentences.append(decided)
    sentences.append(undecided_words(summary, rows, pair, margin, pool_size, arms))
    return sentences

