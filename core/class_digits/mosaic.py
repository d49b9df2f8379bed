"""A class set as one picture: a row per label, its newest digits side by side (for the page's grid)."""

from __future__ import annotations

import numpy as np

from core.class_digits.limits import DIGIT_SHAPE, NUM_LABELS

GAP = 2  # pixels between two digits (a grey line)


def by_label(images: np.ndarray, labels: np.ndarray, per_label: int = 24) -> np.ndarray:
    """(10 * (28 + GAP), per_label * (28 + GAP)) uint8: row r holds the newest `per_label` digits labelled r (the
    last of `images` (N, 28, 28) uint8 are the newest), oldest of them first; empty places stay black."""
    height, width = DIGIT_SHAPE
    picture = np.full((NUM_LABELS * (height + GAP), per_label * (width + GAP)), 64, dtype=np.uint8)
    for label in range(NUM_LABELS):
        chosen = np.flatnonzero(np.asarray(labels) == label)[-per_label:]
        top = label * (height + GAP)
        for column in range(per_label):
            left = column * (width + GAP)
            picture[top:top + height, left:left + width] = images[chosen[column]] if column < len(chosen) else 0
    return picture
