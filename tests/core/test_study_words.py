"""The study's words (core/study/rules.py, words.py, tables.py, summary.py) on hand-worked numbers: every verdict
branch, too few seeds for an interval and how many would give one, the tables a student reads, the summary."""

import numpy as np
import pandas as pd
import pytest

from core.stats import mean_ci, paired_difference
from core.study.rules import seeds_for_ci
from core.study.summary import summary_sentences
from core.study.tables import h1_table, html_table, markdown, pairs_table, parts, text
from core.study.words import mcnemar_note, paired_sentence, percent_interval, verdict_meanings

SUMMARY_COLUMNS = ["architecture", "sample_size", "seeds", "mean_accuracy", "ci_low", "ci_high", "mean_train_seconds",
                   "h1", "seeds_for_ci"]


def summary_rows(*rows) -> pd.DataFrame:
    """(architecture, size, seeds, mean, low, high, h1, seeds_for_ci) per row."""
    return pd.DataFrame([{"architecture": arm, "sample_size": size, "seeds": seeds, "mean_accuracy": mean,
                          "ci_low": low, "ci_high": high, "mean_train_seconds": 1.0, "h1": h1, "seeds_for_ci": needed}
                         for arm, size, seeds, mean, low, high, h1, needed in rows], columns=SUMMARY_COLUMNS)


def gap_rows(*rows) -> pd.DataFrame:
    """(first, second, size, seeds, mean, low, high, verdict, p, seeds_for_ci) per row."""
    return pd.DataFrame([{"first": first, "second": second, "sample_size": size, "seeds": seeds,
                          "mean_difference": mean, "ci_low": low, "ci_high": high, "verdict": verdict,
                          "mcnemar_seed": 0, "only_first_right": 50, "only_second_right": 10, "mcnemar_p": p,
                          "seeds_for_ci": needed}
                         for first, second, size, seeds, mean, low, high, verdict, p, needed in rows])


# --- when an interval can be used, and how many seeds would give one ------------------------------------------

def test_one_seed_needs_two():
    assert seeds_for_ci(mean_ci([0.95]), 0.0, 1.0) == 2


def test_two_seeds_whose_t_interval_passes_100_percent_need_three():
    """0.952 and 0.941: mean 94.65%, sd 0.778 points; Student's t with 1 degree of freedom (12.71) puts the CI at
    87.7% to 101.6%, past what an accuracy can be. With 3 seeds at that spread: 4.303 × 0.778 / √3 = 1.9 points,
    within the 5.35 points to 100%."""
    interval = mean_ci([0.952, 0.941])
    assert interval.high == pytest.approx(1.0164, abs=1e-4)
    assert seeds_for_ci(interval, 0.0, 1.0) == 3


def test_three_seeds_inside_the_range_give_a_usable_interval():
    assert seeds_for_ci(mean_ci([0.90, 0.91, 0.92]), 0.0, 1.0) == 0  # 88.5% to 93.5%


def test_a_difference_whose_interval_passes_100_points_is_too_few_seeds():
    """Differences +20 and −5 points: mean +7.5, sd 17.7; t(1) gives ±158.8 points. 3 seeds: 4.303 × 17.7 / √3 =
    43.9 points, inside the 92.5 points to +100."""
    interval = paired_difference([0.95, 0.80], [0.75, 0.85])
    assert interval.low < -1 and interval.high > 1
    assert seeds_for_ci(interval, -1.0, 1.0) == 3


def test_more_than_twenty_seeds_is_said_as_such():
    """1, 1, 1, 1, 0: mean 80%, sd 44.7 points, 20 points from 100%: t(n−1) / √n ≤ 0.447 first at n = 22."""
    assert seeds_for_ci(mean_ci([1, 1, 1, 1, 0]), 0.0, 1.0) == 21  # MAX_SEEDS + 1: "more than 20"


# --- the H1 table ------------------------------------------------------------------------------------------------

H1 = summary_rows(
    ("conv", 300, 3, 0.931, 0.912, 0.950, "supported", 0),
    ("flat", 300, 3, 0.700, 0.650, 0.750, "not supported", 0),
    ("conv", 100, 3, 0.810, 0.790, 0.830, "inconclusive", 0),
    ("flat", 100, 2, 0.9465, 0.8766, 1.0, "too few seeds", 3),
)


def test_the_h1_table_has_sizes_in_order_and_a_column_per_network():
    """Issue 37 item 2: H1 was one paragraph joined by '|', sizes out of order, with 'CI 0.0%–100.0%'."""
    table = h1_table(H1, ["flat", "conv"])
    assert list(table.columns) == ["images", "flat", "conv"] and list(table["images"]) == ["100", "300"]
    assert table.loc[0, "conv"] == "inconclusive\n81.0%\nCI 79.0% to 83.0%"
    assert table.loc[1, "conv"] == "supported\n93.1%\nCI 91.2% to 95.0%"
    assert table.loc[1, "flat"] == "not supported\n70.0%\nCI 65.0% to 75.0%"
    assert table.loc[0, "flat"] == "too few seeds\n94.7%\n2 seeds: about 3 seeds would give a CI"
    assert "100.0%" not in table.to_string()


def test_a_table_reads_the_same_in_markdown_html_and_text():
    table = h1_table(H1, ["flat", "conv"])
    assert markdown(table).loc[1, "conv"] == "**supported**  \n93.1%  \nCI 91.2% to 95.0%"
    assert "<td><b>supported</b><br>93.1%<br>CI 91.2% to 95.0%</td>" in html_table(table)
    assert "supported · 93.1% · CI 91.2% to 95.0%" in text(table)


def test_a_wide_table_is_cut_into_parts_that_fit_a_phone():
    """Issue 37 item 6: four networks beside the sizes overflowed a 390 px screen by a few pixels."""
    table = h1_table(summary_rows(*[(arm, 100, 1, 0.5, np.nan, np.nan, "too few seeds", 2)
                                    for arm in ("flat", "conv", "flat (shuffled)", "conv (shuffled)")]))
    assert [list(part.columns) for part in parts(table)] == [["images", "flat", "conv"],
                                                             ["images", "flat (shuffled)", "conv (shuffled)"]]
    assert [len(part.columns) - 1 for part in parts(table[table.columns[:4]])] == [3]  # three fit in one
    assert [list(part.columns) for part in parts(table[["images", "flat"]])] == [["images", "flat"]]


def test_a_users_network_name_is_shown_as_written_in_every_table():
    table = h1_table(summary_rows(("my_net", 100, 1, 0.5, np.nan, np.nan, "too few seeds", 2)))
    assert list(table.columns) == ["images", "my_net"]
    assert markdown(table).loc[0, "my_net"] == "**too few seeds**  \n50.0%  \n1 seed: 2 or more seeds give a CI"
    assert "<th>a&lt;b</th>" in html_table(table.rename(columns={"my_net": "a<b"}))


# --- the differences -------------------------------------------------------------------------------------------------

GAPS = gap_rows(
    ("conv", "flat", 1000, 3, 0.047, 0.016, 0.079, "inconclusive", 1e-12, 0),
    ("conv", "flat", 100, 3, 0.099, 0.042, 0.157, "conv better", 1e-20, 0),
    ("conv (shuffled)", "conv", 100, 3, -0.20, -0.22, -0.18, "conv better", 1e-20, 0),
    ("conv (shuffled)", "conv", 1000, 2, 0.075, -1.0, 1.0, "too few seeds", 0.3, 3),
)


def test_the_differences_table_has_a_column_per_pair_and_h2_marked():
    table = pairs_table(GAPS, [("conv (shuffled)", "conv"), ("conv", "flat")])
    assert list(table.columns) == ["images", "conv (shuffled) − conv", "conv − flat (H2)"]
    assert list(table["images"]) == ["100", "1,000"]
    assert table.loc[0, "conv − flat (H2)"] == "conv better\n+9.9 points\nCI +4.2 to +15.7 points\nMcNemar p < 10⁻⁹"
    assert table.loc[1, "conv (shuffled) − conv"] == ("too few seeds\n+7.5 points\n2 seeds: about 3 seeds would give "
                                                      "a CI\nMcNemar p = 0.3")  # never "CI -100.0 to +100.0"


def test_each_verdict_word_shown_is_explained_once_and_no_other():
    words = dict(verdict_meanings(list(H1["h1"]) + list(GAPS["verdict"]), margin=0.02))
    assert list(words) == ["supported", "not supported", "conv better", "inconclusive", "too few seeds"]
    assert words["supported"] == "the whole 95% CI of the mean accuracy is at or above 80%"
    assert "±2 points" in words["conv better"] and "comparable" not in words


def test_undecided_beside_a_tiny_mcnemar_p_says_why_both_hold():
    """Issue 37 item 2: H2 'inconclusive' next to 'McNemar p < 10⁻⁹' with no word on why both can hold."""
    note = mcnemar_note(GAPS)
    assert note.startswith("Undecided beside a tiny McNemar p: both hold.") and "one seed's two trained" in note
    assert mcnemar_note(GAPS[GAPS["verdict"] == "conv better"]) is None


# --- the summary -----------------------------------------------------------------------------------------------------

def test_the_summary_says_what_holds_from_which_size_and_what_decides_the_rest():
    """H1: conv holds from 300 (inconclusive at 100), flat stays below at 300. conv − flat: better at 100, undecided at
    1,000. Deciding conv's 100: mean 81.0%, CI 79.0–83.0% over 3 seeds: sd = 2.0 × √3 / 4.303 = 0.805 points; 1 point
    from 80% needs t · 0.805 / √n ≤ 1: n = 5 (2.776 × 0.805 / 2.236 = 0.9996). conv − flat at 1,000: +4.7, CI +1.6 to
    +7.9 (3 seeds): sd = 3.15 × √3 / 4.303 = 1.268 points, 2.7 points from +2: n = 4 (3.182 × 1.268 / 2 = 2.02)."""
    summary = summary_rows(
        ("conv", 100, 3, 0.810, 0.790, 0.830, "inconclusive", 0),
        ("conv", 300, 3, 0.931, 0.912, 0.950, "supported", 0),
        ("conv", 1000, 3, 0.960, 0.950, 0.970, "supported", 0),
        ("flat", 100, 3, 0.700, 0.650, 0.750, "not supported", 0),
        ("flat", 300, 3, 0.740, 0.700, 0.780, "not supported", 0),
        ("flat", 1000, 3, 0.780, 0.770, 0.790, "not supported", 0))
    gaps = GAPS[GAPS["first"] == "conv"]
    assert summary_sentences(summary, gaps, (("conv", "flat"),), 0.02, ["flat", "conv"], pool_size=1000) == [
        "At least 80% accuracy (the whole 95% CI at or above it) holds for conv from 300 images on; flat stays below "
        "80% at 1,000 images.",
        "conv − flat: conv is better by more than 2 points at 100 images.",
        "Undecided: H1 for conv at 100 images and conv − flat at 1,000 images; about 5 seeds (3 now) would decide "
        "them if the means hold."]


def test_the_summary_when_everything_passes_and_conv_still_leads_at_the_largest_size():
    summary = summary_rows(("flat", 100, 3, 0.85, 0.84, 0.86, "supported", 0),
                           ("conv", 100, 3, 0.95, 0.94, 0.96, "supported", 0))
    gaps = gap_rows(("conv", "flat", 100, 3, 0.10, 0.08, 0.12, "conv better", 1e-20, 0))
    assert summary_sentences(summary, gaps, (("conv", "flat"),), 0.02, ["flat", "conv"], pool_size=4000) == [
        "Both networks reach at least 80% accuracy (the whole 95% CI at or above it) at every size measured.",
        "conv − flat: conv is better by more than 2 points at 100 images.",
        "Sizes above 100 images (the pool has 4,000) would show whether conv's lead closes."]


def test_the_summary_with_too_few_seeds_says_how_many_would_give_intervals():
    summary = summary_rows(("flat", 100, 2, 0.847, 0.834, 0.860, "supported", 0),
                           ("conv", 100, 2, 0.9465, 0.8766, 1.0, "too few seeds", 3))
    gaps = gap_rows(("flat", "conv", 100, 2, -0.099, -0.157, -0.042, "conv better", 1e-20, 0))  # tested flat − conv
    sentences = summary_sentences(summary, gaps, (("flat", "conv"),), 0.02, ["flat", "conv"], pool_size=100)
    assert sentences == [
        "At least 80% accuracy (the whole 95% CI at or above it) holds for flat from 100 images on.",
        "conv − flat: conv is better by more than 2 points at 100 images.",
        "Undecided: H1 for conv at 100 images; about 3 seeds (2 now) would give them intervals."]


def test_comparable_networks_and_nothing_undecided():
    summary = summary_rows(("flat", 3000, 3, 0.96, 0.95, 0.97, "supported", 0),
                           ("conv", 3000, 3, 0.965, 0.955, 0.975, "supported", 0))
    gaps = gap_rows(("conv", "flat", 3000, 3, 0.005, -0.01, 0.015, "comparable", 0.2, 0))
    assert summary_sentences(summary, gaps, (("conv", "flat"),), 0.02, ["flat", "conv"], pool_size=3000)[1:] == [
        "conv − flat: the two are comparable (within ±2 points) at 3,000 images.",
        "Everything asked is decided at these sizes and seeds."]


# --- the paired difference in one sentence (for the per-class pages) ---------------------------------------------

def right_answers(both: int, only_first: int, only_second: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    first = np.array([True] * both + [True] * only_first + [False] * only_second + [False] * neither)
    second = np.array([True] * both + [False] * only_first + [True] * only_second + [False] * neither)
    return first, second


def test_the_paired_sentence_on_an_undecided_class():
    """214 digits: 170 both right, 20 only conv, 8 only flat, 16 neither. conv 190/214 = 88.8%, flat 178/214 =
    83.2%; difference 12/214 = +5.6 points; Wald: 1.96 × √(28 − 12²/214) / 214 = 4.8 points: +0.8 to +10.4, across
    +2: inconclusive. McNemar: 8 of 28 discordant, two-sided exact binomial p = 0.036."""
    conv, flat = right_answers(170, 20, 8, 16)
    assert paired_sentence("conv", "flat", conv, flat, "digits from this class") == (
        "On 214 digits from this class, conv is right on 88.8% and flat on 83.2%: inconclusive (conv − flat: +5.6 "
        "points, 95% CI +0.8 to +10.4 points), McNemar p = 0.036.")


def test_the_paired_sentence_names_the_better_network_either_way():
    """40 only conv, 2 only flat of 214: +17.8 points, 1.96 × √(42 − 38²/214) / 214 = 5.4: +12.3 to +23.2."""
    conv, flat = right_answers(150, 40, 2, 22)
    assert paired_sentence("conv", "flat", conv, flat, "digits from this class").endswith(
        "conv is right on 88.8% and flat on 71.0%: conv better by 17.8 points (95% CI +12.3 to +23.2 points), "
        "McNemar p < 10⁻⁹.")
    assert "conv better by 17.8 points (95% CI -23.2 to -12.3 points)" in paired_sentence("flat", "conv", flat, conv)


def test_the_paired_sentence_on_identical_answers_is_comparable():
    same, _ = right_answers(90, 0, 0, 10)
    assert paired_sentence("conv", "flat", same, same) == (
        "On 100 test digits, conv is right on 90.0% and flat on 90.0%: comparable (conv − flat: +0.0 points, 95% CI "
        "+0.0 to +0.0 points), McNemar p = 1.")


def test_the_paired_sentence_refuses_answers_that_do_not_pair():
    with pytest.raises(ValueError, match="same items"):
        paired_sentence("conv", "flat", [True, False], [True])


def test_percent_interval_words():
    row = summary_rows(("conv", 100, 1, 0.5, np.nan, np.nan, "too few seeds", 2)).iloc[0]
    assert percent_interval(row) == "1 seed: 2 or more seeds give a CI"
    row = summary_rows(("conv", 100, 2, 0.5, 0.0, 1.0, "too few seeds", 21)).iloc[0]
    assert percent_interval(row) == "2 seeds: more than 20 seeds would be needed for a CI"
