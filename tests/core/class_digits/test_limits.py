"""The class code, the drawing checks and the per-session limits (core/class_digits/limits.py)."""

from __future__ import annotations

import numpy as np
import pytest

from core.class_digits.limits import (DEFAULT_CODE, MAX_CODE_LENGTH, SESSION_RATE, SESSION_TOTAL, Refused, SetFull,
                                      check_class_code, check_drawing, check_room, check_session, prepare_drawing,
                                      to_stored)


@pytest.mark.parametrize("given, code", [(None, DEFAULT_CODE), ("", DEFAULT_CODE), ("  ", DEFAULT_CODE),
                                         ("7b", "7B"), (" room-12 ", "ROOM-12"), ("a" * MAX_CODE_LENGTH,
                                                                                  "A" * MAX_CODE_LENGTH)])
def test_a_class_code_is_letters_digits_and_dashes_kept_upper_case(given, code):
    assert check_class_code(given) == code


@pytest.mark.parametrize("given", ["a b", "../etc", "a/b", "7b;drop", "a_b", "-7b", "7b-", "a--b", "é",
                                   "a" * (MAX_CODE_LENGTH + 1), "<script>", "7 b", 7])
def test_anything_else_is_refused_with_what_a_code_may_hold(given):
    with pytest.raises(ValueError, match="class code"):
        check_class_code(given)


def canvas(ink_rows=slice(40, 240), ink_columns=slice(120, 150)) -> np.ndarray:
    """A 280x280 RGBA canvas, white, with a black bar (a drawn 1) where asked."""
    rgba = np.full((280, 280, 4), 255, dtype=np.uint8)
    rgba[ink_rows, ink_columns, :3] = 0
    return rgba


def test_a_drawn_digit_passes():
    check_drawing(canvas())


@pytest.mark.parametrize("drawing, reason", [
    (canvas(slice(0, 0), slice(0, 0)), "blank"),
    (canvas(slice(140, 150), slice(140, 150)), "hardly any ink"),     # a dot: 100 pixels of 78,400
    (canvas(slice(100, 140), slice(100, 140)), "too small"),          # 1,600 pixels, but 40 px of 280
    (np.zeros((280, 280, 4), dtype=np.uint8), "blank"),                # transparent: the white page
    (np.zeros((280, 280), dtype=np.uint8), "could not be read"),
])
def test_a_blank_or_nearly_blank_drawing_is_refused_with_the_reason(drawing, reason):
    with pytest.raises(Refused, match=reason):
        check_drawing(drawing)


def test_to_stored_rounds_a_prepared_digit_to_uint8():
    prepared = np.zeros((28, 28), np.float32)
    prepared[0, :3] = [1.0, 0.5, 1.2]
    stored = to_stored(prepared)
    assert stored.dtype == np.uint8 and list(stored[0, :3]) == [255, 128, 255]
    with pytest.raises(ValueError):
        to_stored(np.zeros((20, 20)))


def test_a_session_may_add_at_its_rate():
    count, seconds = SESSION_RATE
    check_session([100.0 + 2 * index for index in range(count - 1)], now=100.0 + 2 * count)
    check_session([0.0] * count, now=seconds + 0.1)  # the burst is over a window ago


def test_a_session_adding_too_fast_is_told_how_long_to_wait():
    count, seconds = SESSION_RATE
    with pytest.raises(Refused, match=rf"{count} digits in under {seconds:.0f} seconds: wait 50 s"):
        check_session([10.0] * count, now=20.0)


def test_a_session_has_a_total():
    with pytest.raises(Refused, match="the most one session may add"):
        check_session([float(index * 100) for index in range(SESSION_TOTAL)], now=10**9)


def test_room_in_a_set():
    check_room(4, 1, cap=5)
    with pytest.raises(SetFull, match="full"):
        check_room(5, 1, cap=5)
    with pytest.raises(SetFull, match="do not fit"):
        check_room(3, 3, cap=5)


def test_a_drawing_is_prepared_as_try_it_prepares_it_and_stored_as_uint8():
    from core.preprocess import prepare_digit

    stored = prepare_drawing(canvas())
    assert stored.shape == (28, 28) and stored.dtype == np.uint8 and stored.max() == 255
    assert (stored == to_stored(prepare_digit(canvas()).pixels)).all()
    assert stored[:, :4].max() == 0 and stored[:4].max() == 0  # centred in MNIST's 20x20 box: the border is black
    with pytest.raises(Refused, match="blank"):
        prepare_drawing(canvas(slice(0, 0), slice(0, 0)))
