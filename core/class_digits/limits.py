"""What a class set may hold and who may add to it: the class code, a digit's form, the limits against floods.

Declared once here and used by the page, the CLI and both storage backends:

- a class code names a set: letters, digits and dashes, at most MAX_CODE_LENGTH characters, case-insensitive
  (kept upper-case, so ``?class=7b`` and ``?class=7B`` are one set); no code is the DEFAULT_CODE set;
- a stored digit is a prepared 28x28 uint8 image (white ink on black, MNIST's layout) with its label 0-9;
- a set holds at most MAX_SET_SIZE digits; a session adds at most SESSION_TOTAL, and at most SESSION_RATE[0]
  in any SESSION_RATE[1] seconds;
- a drawing with too little ink, or ink in too small a corner of the canvas, is refused before it is prepared
  (MNIST's preparation scales any speck up to 20x20 pixels, so a stray dot would otherwise become a "digit").

Every refusal is a `Refused` (a ValueError) whose message says what happened and what to do.
"""

from __future__ import annotations

import re

import numpy as np

from core.preprocess import ImageProblem, prepare_digit

DEFAULT_CODE = "OPEN"          # the set of a page opened without ?class=
MAX_CODE_LENGTH = 32
CODE_PATTERN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
MAX_SET_SIZE = 5000            # digits in one class set
SESSION_TOTAL = 200            # digits one browser session may add
SESSION_RATE = (20, 60.0)      # at most this many digits in any this many seconds, per session
MIN_INK_SHARE = 0.01           # of the canvas's pixels: less ink than a short stroke is "nearly blank"
MIN_INK_EXTENT = 0.2           # of the canvas's side: the ink's taller or wider extent, at least
INK_LEVEL = 128                # a canvas pixel darker than this (0..255, on white) is ink
DIGIT_SHAPE = (28, 28)
NUM_LABELS = 10


class Refused(ValueError):
    """A digit (or a whole import) that is not stored, and why: the message is for the user."""


class SetFull(Refused):
    """The set already holds its cap of digits."""


def check_class_code(code: str | None) -> str:
    """The set's name for `code` (a query parameter or a CLI option): stripped and upper-cased; DEFAULT_CODE for
    None or an empty text. ValueError, saying what a code may hold, for anything else."""
    if code is None or (isinstance(code, str) and not code.strip()):
        return DEFAULT_CODE
    if not isinstance(code, str):
        raise ValueError("A class code is text: letters, digits and dashes.")
    code = code.strip()
    if len(code) > MAX_CODE_LENGTH:
        raise ValueError(f"A class code has at most {MAX_CODE_LENGTH} characters (this one has {len(code):,}).")
    if not CODE_PATTERN.fullmatch(code):
        raise ValueError("A class code holds only letters, digits and dashes (a dash between two of them), "
                         "e.g. 7B or room-12.")
    return code.upper()


def check_label(label) -> int:
    """A digit's label as an int 0-9; ValueError otherwise (a bool is no label)."""
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) \
            or not 0 <= int(label) < NUM_LABELS:
        raise ValueError(f"A digit's label is a whole number from 0 to 9, not {label!r}.")
    return int(label)


def check_pixels(pixels) -> np.ndarray:
    """A stored digit's pixels: a (28, 28) uint8 array (a C-contiguous copy); ValueError for any other shape or
    type (a float image must be made uint8 by `to_stored` first, so nothing is rounded by surprise)."""
    pixels = np.asarray(pixels)
    if pixels.shape != DIGIT_SHAPE or pixels.dtype != np.uint8:
        raise ValueError(f"A stored digit is a 28×28 uint8 image, not {pixels.dtype} {pixels.shape}.")
    return np.ascontiguousarray(pixels).copy()


def to_stored(prepared: np.ndarray) -> np.ndarray:
    """A prepared digit (28, 28) float in 0..1 (core.preprocess.PreparedDigit.pixels) -> (28, 28) uint8 in
    0..255, as MNIST stores its digits."""
    prepared = np.asarray(prepared, dtype=np.float32)
    if prepared.shape != DIGIT_SHAPE:
        raise ValueError(f"A prepared digit is 28×28, not {prepared.shape}.")
    return np.round(np.clip(prepared, 0.0, 1.0) * 255).astype(np.uint8)


def check_drawing(canvas: np.ndarray) -> None:
    """Refused, saying why, for a canvas (H, W, 4) or (H, W, 3) uint8 of dark ink on white that is blank or
    nearly so: less than MIN_INK_SHARE of its pixels inked, or ink spanning less than MIN_INK_EXTENT of the
    canvas's side both ways (a dot, a tick)."""
    canvas = np.asarray(canvas)
    if canvas.ndim != 3 or canvas.shape[2] not in (3, 4) or canvas.size == 0:
        raise Refused(f"The drawing could not be read (its pixels have shape {canvas.shape}).")
    grey = canvas[..., :3].astype(np.float32).mean(axis=2)
    if canvas.shape[2] == 4:  # transparent pixels are the white page
        alpha = canvas[..., 3].astype(np.float32) / 255
        grey = grey * alpha + 255 * (1 - alpha)
    ink = grey < INK_LEVEL  # (H, W)
    if not ink.any():
        raise Refused("The canvas is blank: draw the digit first.")
    if ink.mean() < MIN_INK_SHARE:
        raise Refused("There is hardly any ink: draw the whole digit, large, in the middle of the square.")
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    extent = max((rows[-1] - rows[0] + 1) / ink.shape[0], (columns[-1] - columns[0] + 1) / ink.shape[1])
    if extent < MIN_INK_EXTENT:
        raise Refused("The digit is too small: draw it large, filling most of the square.")


def prepare_drawing(canvas: np.ndarray) -> np.ndarray:
    """A canvas (H, W, 4) RGBA uint8 of dark ink on white -> the digit to store, (28, 28) uint8: checked by
    `check_drawing`, then prepared exactly as Try it prepares a drawing (core.preprocess.prepare_digit: MNIST's
    crop, 20x20 box and centre of mass). Refused, saying why, for a blank or unreadable drawing."""
    check_drawing(canvas)
    try:
        return to_stored(prepare_digit(canvas).pixels)
    except ImageProblem as problem:  # EmptyImage too: no ink stands out from the page
        raise Refused(f"The drawing cannot be used: {problem}") from None


def check_session(added_at: list[float], now: float) -> None:
    """Refused when a session that added digits at the times `added_at` (seconds, any clock `now` is on) may not
    add another now: SESSION_TOTAL reached, or SESSION_RATE[0] digits in the last SESSION_RATE[1] seconds."""
    if len(added_at) >= SESSION_TOTAL:
        raise Refused(f"You have added {len(added_at):,} digits in this session, the most one session may add. "
                      f"Thank you! Ask your teacher if the class needs more.")
    count, seconds = SESSION_RATE
    recent = sorted(time for time in added_at if now - time < seconds)
    if len(recent) >= count:
        wait = max(1, int(np.ceil(seconds - (now - recent[-count]))))
        raise Refused(f"That is {count} digits in under {seconds:.0f} seconds: wait {wait} s before adding another "
                      f"(slow and careful digits make a better test).")


def check_room(count: int, adding: int, cap: int = MAX_SET_SIZE) -> None:
    """SetFull when a set holding `count` digits cannot take `adding` more within `cap`."""
    if count + adding > cap:
        if adding == 1:
            raise SetFull(f"This class set is full: it holds {count:,} digits, the most a set may hold "
                          f"({cap:,}). Your teacher can remove some, or start a new set with another class code.")
        raise SetFull(f"These {adding:,} digits do not fit: the set holds {count:,} and may hold at most {cap:,}. "
                      f"Nothing was added.")
