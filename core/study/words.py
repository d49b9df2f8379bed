"""The study's words, said once: counts with their nouns, intervals, the verdict words and what each means, and the
paired difference of two networks in one sentence (the Study page, its report, the CLI, Compare and the per-class
pages all say these the same way). Pure: numbers in, text out."""

from __future__ import annotations

import numpy as np

from core.formats import count, points, points_range

from core.settings import MAX_SEEDS
from core.stats import mcnemar_exact, p_value_words, paired_proportions_difference
from core.study.rules import INCONCLUSIVE, TOO_FEW_SEEDS, h2_verdict
from core.settings import THRESHOLD



def listed(items) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(item) for item in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def sizes_words(sizes) -> str:
    """'100 images', '100 and 300 images', '100, 300 and 1,000 images'."""
    sizes = sorted(int(size) for size in sizes)
    return f"{listed(f'{size:,}' for size in sizes)} image{'' if sizes == [1] else 's'}"


def usable(row) -> bool:
    """Whether a row of the study's summary or gaps has a usable 95% CI (see core.study.analysis.seeds_for_ci)."""
    return not np.isnan(row.ci_low) and not getattr(row, "seeds_for_ci", 0)


def seeds_wanted(needed: int) -> str:
    """What the seeds a usable interval needs come to in words."""
    if needed > MAX_SEEDS:
        return f"more than {MAX_SEEDS} seeds would be needed for a CI"
    return "2 or more seeds give a CI" if needed == 2 else f"about {needed} seeds would give a CI"


def percent_interval(row) -> str:
    """'CI 91.2% to 97.9%' for an accuracy's row, or why there is none and how many seeds would give one."""
    if usable(row):
        return f"CI {row.ci_low:.1%} to {row.ci_high:.1%}"
    return f"{count(int(row.seeds), 'seed')}: {seeds_wanted(int(row.seeds_for_ci))}"


def points_interval(row) -> str:
    """'CI +4.2 to +15.7 points' for a difference's row, or why there is none and how many seeds would give one."""
    if usable(row):
        return f"CI {points_range(row.ci_low, row.ci_high)}"
    return f"{count(int(row.seeds), 'seed')}: {seeds_wanted(int(row.seeds_for_ci))}"


def verdict_meanings(words, margin: float, threshold: float = THRESHOLD) -> list[tuple[str, str]]:
    """(word, what it means) for each verdict word in `words`, each once, in a fixed order; '<network> better' is
    explained once for every network it names."""
    words = set(words)
    better = sorted(word for word in words if word.endswith(" better"))
    meanings = {
        "supported": f"the whole 95% CI of the mean accuracy is at or above {threshold:.0%}",
        "not supported": f"the whole 95% CI is below {threshold:.0%}",
        "comparable": f"the whole 95% CI of the difference lies within ±{margin * 100:g} points",
        INCONCLUSIVE: (f"the 95% CI straddles a line ({threshold:.0%} for an accuracy, ±{margin * 100:g} points for a "
                       f"difference): more seeds narrow it"),
        TOO_FEW_SEEDS: ("one seed gives no interval, and with two or three, Student's t stretches it past what the "
                        "number can be (below 0% or above 100%, or beyond ±100 points); the cell says how many seeds "
                        "would give one"),
    }
    lines = [(word, meanings[word]) for word in ("supported", "not supported", "comparable") if word in words]
    if better:
        lines.append((listed(better), f"the whole 95% CI of the difference lies beyond ±{margin * 100:g} points, in "
                                      f"that network's favour"))
    return lines + [(word, meanings[word]) for word in (INCONCLUSIVE, TOO_FEW_SEEDS) if word in words]


def mcnemar_note(gaps) -> str | None:
    """Why a pair can be undecided over seeds while McNemar's test on one seed is far below 0.05 — or None when no
    cell of `gaps` shows both."""
    both = gaps[(gaps["verdict"].isin([INCONCLUSIVE, TOO_FEW_SEEDS])) & (gaps["mcnemar_p"] < 0.05)]
    if both.empty:
        return None
    return ("Undecided beside a tiny McNemar p: both hold. McNemar's test compares one seed's two trained networks "
            "on the same test digits, so a small p says these two runs differ; the verdict asks whether the networks "
            "differ whatever the seed, and seeds move accuracy by points, so it waits for a narrow CI over seeds.")


def paired_sentence(first: str, second: str, first_right, second_right, what: str = "test digits",
                    margin: float = 0.02) -> str:
    """Two networks on the same items, in the Study page's words: 'On 214 digits from this class, conv is right on
    91.6% and flat on 83.2%: conv better by 8.4 points (95% CI +3.1 to +13.7 points), McNemar p = 0.002.'

    `first_right`, `second_right`: booleans, one per item (the same items in the same order); `what`: the items
    in words ('digits from this class'). The interval is the Wald interval for paired proportions over the items
    (core.stats.paired_proportions_difference), the verdict the Study's (comparable within ±`margin`, one better
    beyond it, inconclusive otherwise), the p-value McNemar's exact test's. ValueError for lengths that differ or
    no items."""
    difference = paired_proportions_difference(first_right, second_right)
    test = mcnemar_exact(first_right, second_right)
    first_share, second_share = float(np.mean(first_right)), float(np.mean(second_right))
    verdict = h2_verdict(difference.low, difference.high, margin, first, second)
    if verdict == f"{first} better":
        said = f"{first} better by {difference.mean * 100:.1f} points"
    elif verdict == f"{second} better":
        said = f"{second} better by {-difference.mean * 100:.1f} points"
    else:
        said = f"{verdict} ({first} − {second}: {points(difference.mean)}"
    interval = f"95% CI {points_range(difference.low, difference.high)}"
    said += f" ({interval})" if "(" not in said else f", {interval})"
    return (f"On {difference.count:,} {what}, {first} is right on {first_share:.1%} and {second} on "
            f"{second_share:.1%}: {said}, McNemar {p_value_words(test.p_value)}.")
