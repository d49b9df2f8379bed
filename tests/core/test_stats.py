import numpy as np
import pytest

from core.stats import mcnemar_exact, mean_ci, paired_difference


def test_mean_ci_on_fixed_numbers_by_hand():
    interval = mean_ci([0.90, 0.92, 0.94])
    # mean 0.92, sd 0.02, se 0.02/sqrt(3), t(0.975, df=2) = 4.302653
    half_width = 4.302653 * 0.02 / np.sqrt(3)
    assert interval.mean == pytest.approx(0.92)
    assert (interval.low, interval.high) == pytest.approx((0.92 - half_width, 0.92 + half_width), abs=1e-6)
    assert interval.count == 3


def test_one_value_has_no_interval():
    interval = mean_ci([0.9])
    assert interval.mean == 0.9 and np.isnan(interval.low) and np.isnan(interval.high) and interval.count == 1


def test_identical_values_have_an_interval_of_no_width():
    interval = mean_ci([0.9, 0.9, 0.9])
    assert (interval.low, interval.mean, interval.high) == (0.9, 0.9, 0.9)


def test_no_values_is_a_value_error():
    with pytest.raises(ValueError):
        mean_ci([])


def test_paired_difference_uses_the_pairs_not_the_groups():
    conv, flat = [0.95, 0.90, 0.85], [0.93, 0.88, 0.83]  # widely spread, but always 2 points apart
    interval = paired_difference(conv, flat)
    assert interval.mean == pytest.approx(0.02)
    assert interval.high - interval.low == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="must match"):
        paired_difference([1, 2], [1])


def test_mcnemar_exact_on_a_known_table():
    # 10 images only the first model gets right, 2 only the second: p = 2 * P(X <= 2 | n=12, 1/2)
    first = np.array([True] * 10 + [False] * 2 + [True] * 50 + [False] * 5)
    second = np.array([False] * 10 + [True] * 2 + [True] * 50 + [False] * 5)
    result = mcnemar_exact(first, second)
    assert (result.only_first_right, result.only_second_right) == (10, 2)
    assert result.p_value == pytest.approx(2 * (1 + 12 + 66) / 4096)


def test_mcnemar_with_no_disagreement_is_p_one():
    same = np.array([True, False, True])
    assert mcnemar_exact(same, same).p_value == 1.0


def test_mcnemar_balanced_disagreement_is_capped_at_one():
    assert mcnemar_exact([True, False], [False, True]).p_value == 1.0


def test_mcnemar_is_the_same_whichever_model_is_first_and_tiny_p_values_stay_exact():
    # 60 discordant pairs all one way: p = 2 / 2^60, far below what the words say ("p < 10⁻⁹")
    first, second = np.array([True] * 60 + [True] * 5), np.array([False] * 60 + [True] * 5)
    assert mcnemar_exact(first, second).p_value == mcnemar_exact(second, first).p_value == pytest.approx(2.0 ** -59)
