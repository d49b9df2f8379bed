"""One format per kind of number, for the pages, the CLI and the study report.

- a share (accuracy, precision, recall, F1): a percent with one decimal, "89.2%";
- a difference of two shares: percentage points with a sign and one decimal, "+5.0 points";
- a duration: seconds with one decimal, "6.7 s" (two under a second, "0.17 s"); a run's time is its
  `train_seconds`, model.fit's wall time;
- a loss: three decimals, "0.347";
- a count of things: thousands separated, the noun in the plural unless one, "1 seed", "2,000 images".
A missing value (None or NaN) is "–" in every one of them.
"""

from __future__ import annotations

MISSING = "–"
# Streamlit's "percent" number format shows (precision - 2) decimals, its precision taken from the column's step:
# a step of 0.001 shows 0.892 as "89.2%", as `percent` does (ui/formats.py's percent_column uses these).
PERCENT_COLUMN = {"format": "percent", "step": 0.001}


def _missing(value) -> bool:
    return value is None or value != value  # NaN of any float type (numpy's too) is not equal to itself


def percent(share) -> str:
    """0.892 -> '89.2%'."""
    return MISSING if _missing(share) else f"{share:.1%}"


def points(difference, unit: bool = True) -> str:
    """A difference of two shares: 0.05 -> '+5.0 points' ('+5.0' with unit=False)."""
    if _missing(difference):
        return MISSING
    return f"{difference * 100:+.1f}" + (" points" if unit else "")


def points_range(low, high) -> str:
    """A 95% interval of a difference of two shares: (0.042, 0.157) -> '+4.2 to +15.7 points'."""
    return f"{points(low, unit=False)} to {points(high)}"


def seconds(value) -> str:
    """6.71 -> '6.7 s'; under a second, two decimals: 0.174 -> '0.17 s'."""
    if _missing(value):
        return MISSING
    return f"{value:.2f} s" if abs(value) < 1 else f"{value:,.1f} s"


def loss(value) -> str:
    """0.34712 -> '0.347'."""
    return MISSING if _missing(value) else f"{value:.3f}"


def count(number: int, noun: str, plural: str | None = None) -> str:
    """'1 seed', '2 seeds', '1,000 images' (`plural` for an irregular noun)."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
