"""The one way each kind of number is written (core/formats.py)."""

import math

from core.formats import MISSING, points, points_range


def test_a_difference_in_points_is_signed_with_one_decimal_and_its_unit():
    assert points(0.099) == "+9.9 points"
    assert points(-0.0449) == "-4.5 points"
    assert points(0.05, unit=False) == "+5.0"
    assert points(math.nan) == MISSING


def test_an_interval_in_points_says_the_unit_once_at_its_end():
    assert points_range(0.042, 0.157) == "+4.2 to +15.7 points"
    assert points_range(-0.03, 0.01) == "-3.0 to +1.0 points"
