"""The verdict against hand-worked cases (core/class_digits/verdict.py)."""

from __future__ import annotations

import numpy as np
import pytest

from core.class_digits.verdict import Network, evaluate, paired_difference, pair, network_result, wilson_interval

CONV = Network("c0ffee", "conv", True, 0.95)
FLAT = Network("f1a7", "flat", False, 0.85)


def hand_worked_set():
    """20 digits, two of each label. conv right on m = 16, flat on k = 12: both right on 10 (positions 0-9),
    only conv on 6 (10-15: McNemar's b), only flat on 2 (16-17: c), both wrong on 2 (18-19)."""
    labels = np.array([position % 10 for position in range(20)], dtype=np.uint8)
    conv_right = np.array([True] * 16 + [False] * 4)
    flat_right = np.array([True] * 10 + [False] * 6 + [True] * 2 + [False] * 2)
    wrong = (labels + 1) % 10
    return labels, np.where(conv_right, labels, wrong), np.where(flat_right, labels, wrong)


def test_accuracy_intervals_mcnemar_and_the_paired_difference_by_hand():
    labels, conv, flat = hand_worked_set()
    verdict = evaluate(labels, [FLAT, CONV], {"c0ffee": conv, "f1a7": flat})
    by_label = {result.network.label: result for result in verdict.networks}
    assert verdict.num_digits == 20
    assert (by_label["conv"].accuracy, by_label["flat"].accuracy) == (0.8, 0.6)
    # Wilson, 16 of 20 (z = 1.959964): centre (0.8 + z²/40) / (1 + z²/20) = 0.751661, half-width
    # z·sqrt(0.8·0.2/20 + z²/1600) / (1 + z²/20) = 0.167682
    assert (by_label["conv"].low, by_label["conv"].high) == pytest.approx((0.583979, 0.919343), abs=1e-5)
    assert (by_label["conv"].versus_mnist, by_label["flat"].versus_mnist) == pytest.approx((-0.15, -0.25))
    paired = verdict.paired
    assert paired.first.network is CONV and paired.second.network is FLAT   # conv − flat, whatever the order given
    assert (paired.mcnemar.only_first_right, paired.mcnemar.only_second_right) == (6, 2)
    assert paired.mcnemar.p_value == pytest.approx(74 / 256)                # 2·(C(8,6) + C(8,7) + C(8,8)) / 2⁸
    assert list(paired.only_first_right) == list(range(10, 16)) and list(paired.only_second_right) == [16, 17]
    # Bonett & Price: p_b = 7/22, p_c = 3/22, half-width 1.959964·sqrt((10/22 − (4/22)²)/22) = 0.271287
    assert paired.difference == pytest.approx(0.2)
    assert (paired.low, paired.high) == pytest.approx((4 / 22 - 0.271287, 4 / 22 + 0.271287), abs=1e-5)
    assert paired.better is None
    assert verdict.sentence == ("On 20 digits from this class, conv is right on 80.0% and flat on 60.0%: no clear "
                                "difference (conv − flat +20.0 points, 95% CI -8.9 to +45.3 points), McNemar p = 0.29.")


def test_per_label_accuracy_is_nan_where_the_set_has_no_such_digit():
    labels, conv, _ = hand_worked_set()
    result = network_result(CONV, labels[:15], conv[:15])  # labels 0-9 and 0-4: conv wrong on none of these
    assert list(result.per_label[:5]) == [1.0] * 5 and list(result.per_label[5:]) == [1.0] * 5
    result = network_result(CONV, labels[:3], conv[:3])
    assert list(result.per_label[:3]) == [1.0] * 3 and np.isnan(result.per_label[3:]).all()
    labels, conv, _ = hand_worked_set()
    assert network_result(CONV, labels, conv).per_label[6] == 0.5   # label 6 at 6 (right) and 16 (wrong)


def test_a_clear_lead_is_said_with_its_interval_and_p():
    labels = np.arange(200) % 10
    conv_right = np.arange(200) < 180       # 180 right
    flat_right = (np.arange(200) < 155) | ((np.arange(200) >= 180) & (np.arange(200) < 185))  # 160 right
    wrong = (labels + 3) % 10
    verdict = evaluate(labels, [CONV, FLAT], {"c0ffee": np.where(conv_right, labels, wrong),
                                              "f1a7": np.where(flat_right, labels, wrong)})
    paired = verdict.paired
    assert (paired.mcnemar.only_first_right, paired.mcnemar.only_second_right) == (25, 5)
    assert paired.better.network is CONV and paired.low > 0
    difference, low, high = paired_difference(conv_right, flat_right)
    assert verdict.sentence == (f"On 200 digits from this class, conv is right on 90.0% and flat on 80.0%: conv better "
                                f"by 10.0 points (95% CI {low * 100:.1f} to {high * 100:.1f} points), McNemar "
                                f"p = 3.2 × 10⁻⁴.")  # 2·P(X ≥ 25), X ~ Binomial(30, 1/2) = 0.000325
    flipped = evaluate(labels, [CONV, FLAT], {"c0ffee": np.where(flat_right, labels, wrong),
                                              "f1a7": np.where(conv_right, labels, wrong)})
    assert flipped.paired.better.network is FLAT
    assert f"flat better by 10.0 points (95% CI {low * 100:.1f} to {high * 100:.1f} points)" in flipped.sentence


def test_the_paired_interval_is_not_empty_when_the_networks_never_disagree():
    right = np.ones(50, dtype=bool)
    difference, low, high = paired_difference(right, right)
    assert difference == 0 and low < 0 < high
    assert paired_difference([], []) != paired_difference([], [])  # NaNs: nothing to say
    with pytest.raises(ValueError, match="same digits"):
        paired_difference([True], [True, False])


def test_wilson_on_nothing_is_nan():
    assert all(np.isnan(value) for value in wilson_interval(0, 0))


def test_the_pair_is_conv_and_flat_else_the_first_convolutional_and_the_first_other():
    labels, conv, flat = hand_worked_set()
    results = [network_result(network, labels, conv) for network in (
        Network("a", "conv-small", True, 0.9), Network("b", "flat-wide", False, 0.9), CONV, FLAT)]
    assert [result.network.label for result in pair(results)] == ["conv", "flat"]
    assert [result.network.label for result in pair(results[:2])] == ["conv-small", "flat-wide"]
    assert pair(results[:1]) is None


def test_one_network_or_an_empty_set_says_so():
    labels, conv, _ = hand_worked_set()
    alone = evaluate(labels, [CONV], {"c0ffee": conv})
    assert alone.paired is None
    assert alone.sentence.startswith("On 20 digits from this class, conv is right on 80.0% (95% CI 58.4% to 91.9%)")
    assert "one without" in alone.sentence
    empty = evaluate(np.zeros(0, np.uint8), [CONV, FLAT], {"c0ffee": np.zeros(0), "f1a7": np.zeros(0)})
    assert empty.paired is None and "no digits yet" in empty.sentence


def test_predictions_that_do_not_match_the_set_are_a_value_error():
    labels, conv, _ = hand_worked_set()
    with pytest.raises(ValueError, match="answered 19 digits of 20"):
        evaluate(labels, [CONV], {"c0ffee": conv[:19]})
