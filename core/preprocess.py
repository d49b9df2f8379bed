"""Turn a drawing or an uploaded picture into a 28x28 digit the way MNIST's digits were made.

Two steps, both returning what they did as data (`Note`s) so the page can say it:

1. `read_upload(bytes) -> Picture`: decode the picture the way a browser shows it. The EXIF orientation tag is
   applied; every mode and bit depth Pillow opens (1, L, P with or without transparency, LA, RGB, RGBA, CMYK,
   I;16, I, F) becomes 8-bit-range grey *as it would look on a white page* (transparency composited on white);
   and the picture is shrunk while it is decoded (JPEG's DCT scaling, then strips of at most
   `STRIP_BYTES` averaged in blocks), so a 16-megapixel picture adds at most about its own decoded size
   (64 MB for RGBA) at peak, never a float copy of it (tests/core/test_preprocess.py measures it).
2. `prepare_digit(picture or array) -> PreparedDigit`: find the ink and make it MNIST's. Ink vs background is
   decided from the picture's border and Otsu's threshold (not the median, which fails when bold ink covers
   most of a tight crop); the paper's brightness is estimated as a smooth surface and divided out (uneven
   light in photos); specks smaller than a stroke are dropped; then MNIST's recipe: the ink's bounding box
   scaled to fit 20x20 (keeping the aspect ratio) and placed in a 28x28 field so that the ink's centre of
   mass sits at the centre; white ink on black.

Sources: MNIST's normalisation, LeCun et al., http://yann.lecun.com/exdb/mnist/; Otsu, "A threshold selection
method from gray-level histograms", IEEE Trans. Systems, Man and Cybernetics 9(1), 1979; EXIF 2.32
(CIPA DC-008) tag 0x0112 "Orientation", whose transposes are Pillow's `ImageOps.exif_transpose`'s.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import numpy as np

MAX_UPLOAD_PIXELS = 4096 * 4096  # beyond this a picture is refused (decompression bombs are far larger)
WORKING_SIDE = 512   # pictures are shrunk while decoded until their longer side is at most this, in pixels
STRIP_BYTES = 8 * 1024**2  # at most this much of the decoded picture is converted at a time
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")  # still-picture formats a browser or a phone produces
MIN_CONTRAST = 30 / 255  # ink must be at least this much darker than its paper (of the paper's brightness)
UNEVEN_LIGHT = 0.12  # paper whose estimated brightness varies by more than this share is reported as evened out
SPECK_SHARE = 0.05   # ink blobs smaller than this share of the largest blob are specks of noise
FIELD, BOX = 28, 20

# EXIF orientation -> the Pillow transpose that shows the picture upright (as ImageOps.exif_transpose does)
ORIENTATIONS = {2: ("FLIP_LEFT_RIGHT", "mirrored"), 3: ("ROTATE_180", "turned 180°"),
                4: ("FLIP_TOP_BOTTOM", "flipped upside down"), 5: ("TRANSPOSE", "mirrored and turned 90°"),
                6: ("ROTATE_270", "turned 90° clockwise"), 7: ("TRANSVERSE", "mirrored and turned 90°"),
                8: ("ROTATE_90", "turned 90° anticlockwise")}
ALPHA_MODES = {"LA": "LA", "La": "LA", "PA": "RGBA", "RGBA": "RGBA", "RGBa": "RGBA"}
SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}


class ImageProblem(ValueError):
    """An image that cannot become a digit; the message is for the user."""


NO_INK = "The picture has no ink: nothing stands out from its background."


class EmptyImage(ImageProblem):
    """No ink at all: nothing to predict."""


@dataclass(frozen=True)
class Note:
    """One thing done to a picture that a user may not expect: kind is "rotated", "flattened", "inverted",
    "background removed" or "shrunk"; text says it in a sentence."""

    kind: str
    text: str


@dataclass(frozen=True)
class Picture:
    """A decoded picture: grey, (height, width) float32 in 0..255 as on a white page (0 black), upright."""

    grey: np.ndarray
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class PreparedDigit:
    """What a model sees: pixels (28, 28) float32 in 0..1, white ink on black, and how they were made."""

    pixels: np.ndarray
    notes: tuple[Note, ...] = ()

    def has(self, kind: str) -> bool:
        return any(note.kind == kind for note in self.notes)


# --- 1. decoding -------------------------------------------------------------------------------------

def read_upload(data: bytes) -> Picture:
    """Decode an uploaded picture (PNG, JPEG, WebP, GIF, BMP or TIFF; the first frame of an animation) the way
    a browser shows it; raise ImageProblem, with a message for the user, for anything that cannot be read."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ImageProblem("The file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as picture:
                width, height = picture.size
                if width * height > MAX_UPLOAD_PIXELS:
                    raise ImageProblem(f"The picture is too large: {width:,}×{height:,} pixels, and at most "
                                       f"{MAX_UPLOAD_PIXELS:,} pixels are accepted.")
                if picture.format not in FORMATS:
                    raise ImageProblem(f"Please upload a PNG, JPEG, WebP, GIF, BMP or TIFF picture "
                                       f"(this is {picture.format}).")
                if width == 0 or height == 0:
                    raise ImageProblem("The picture has no pixels.")
                return decode(picture)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageProblem("The picture is far too large to open safely (a decompression bomb?).") from error
    except UnidentifiedImageError as error:
        raise ImageProblem("This file is not a picture that can be read (PNG, JPEG, WebP, GIF, BMP or TIFF).") \
            from error
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as error:
        if isinstance(error, ImageProblem):
            raise
        raise ImageProblem(f"The picture is damaged and cannot be read ({error}).") from error


def decode(picture) -> Picture:
    """An opened PIL picture -> `Picture`: shrunk while decoded, grey on white, EXIF orientation applied."""
    notes = []
    orientation = _orientation(picture)
    source_mode, (width, height) = picture.mode, picture.size
    if picture.format == "JPEG" and max(width, height) > WORKING_SIDE:  # decode at 1/2, 1/4 or 1/8 scale
        factor = max(width, height) / WORKING_SIDE
        picture.draft(picture.mode, (math.ceil(width / factor), math.ceil(height / factor)))
    picture.load()
    factor = max(1, math.ceil(max(picture.size) / WORKING_SIDE))
    grey, transparent = _shrunk_grey_on_white(picture, factor)  # (<= 512, <= 512) float32
    if (width, height) != (grey.shape[1], grey.shape[0]):
        notes.append(Note("shrunk", f"{width:,}×{height:,} pixels were read as {grey.shape[1]}×{grey.shape[0]} "
                                    "(averaged in blocks) before anything else."))
    if transparent:
        notes.append(Note("flattened", "Its transparent parts were laid on white, as a browser shows them."))
    if source_mode in SIXTEEN_BIT_MODES or source_mode in ("I", "F"):
        kind = "16-bit" if source_mode in SIXTEEN_BIT_MODES else ("32-bit" if source_mode == "I" else "floating-point")
        notes.append(Note("flattened", f"Its {kind} grey levels were brought to 8 bits."))
    elif source_mode == "CMYK":
        notes.append(Note("flattened", "Its CMYK colours were converted to grey."))
    if orientation in ORIENTATIONS:
        grey = _transposed(grey, ORIENTATIONS[orientation][0])
        notes.append(Note("rotated", f"It was {ORIENTATIONS[orientation][1]}, as its EXIF orientation tag "
                                     f"({orientation}) says and as browsers show it."))
    return Picture(grey, tuple(notes))


def _orientation(picture) -> int:
    try:
        return int(picture.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001  (a broken EXIF block: show the picture as stored, as browsers do)
        return 1


def _transposed(grey: np.ndarray, method: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(grey, mode="F").transpose(getattr(Image.Transpose, method)), dtype=np.float32)


def _shrunk_grey_on_white(picture, factor: int) -> tuple[np.ndarray, bool]:
    """(grey (ceil(H/factor), ceil(W/factor)) float32 in 0..255, whether any pixel was transparent).

    The picture is converted a strip of rows at a time (each at most STRIP_BYTES as float32), and each strip
    averaged in factor x factor blocks, so memory beyond the decoded picture stays a few strips' worth.
    Compositing on white is linear, so averaging composited pixels is exact (no dark fringes from the colour
    hidden under transparent pixels)."""
    width, height = picture.size
    levels = _level_scale(picture)
    rows_per_strip = max(factor, (STRIP_BYTES // (4 * 4 * width)) // factor * factor)
    strips, transparent = [], False
    for top in range(0, height, rows_per_strip):
        strip = picture.crop((0, top, width, min(height, top + rows_per_strip)))
        grey, alpha = _grey_and_alpha(strip, levels)
        if alpha is not None:
            transparent = transparent or bool((alpha < 1).any())
            grey = grey * alpha + 255.0 * (1.0 - alpha)
        strips.append(_block_mean(grey, factor))
    return np.clip(np.concatenate(strips), 0, 255).astype(np.float32), transparent


def _level_scale(picture) -> tuple[float, float]:
    """(offset, scale) taking the picture's values to 0..255: 8-bit modes as they are, 16-bit by 1/257, 32-bit
    integers and floats by their range (0..1 and 0..255 kept as the usual conventions, else stretched)."""
    if picture.mode in SIXTEEN_BIT_MODES:
        return 0.0, 255 / 65535
    if picture.mode not in ("I", "F"):
        return 0.0, 1.0
    low, high = picture.getextrema()
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ImageProblem("The picture's grey levels are not numbers (NaN or infinite).")
    if picture.mode == "F" and 0 <= low and high <= 1:
        return 0.0, 255.0
    if 0 <= low and high <= 255:
        return 0.0, 1.0
    if picture.mode == "I" and 0 <= low and high <= 65535:
        return 0.0, 255 / 65535
    return -low, 255 / max(high - low, 1e-12)


def _grey_and_alpha(strip, levels: tuple[float, float]) -> tuple[np.ndarray, np.ndarray | None]:
    """A strip of any mode -> (grey float32 0..255, alpha float32 0..1 or None when opaque)."""
    offset, scale = levels
    mode, key = strip.mode, strip.info.get("transparency")
    if mode in SIXTEEN_BIT_MODES or mode in ("I", "F"):
        values = np.asarray(strip)
        if mode == "F" and not np.isfinite(values).all():
            raise ImageProblem("The picture's grey levels are not numbers (NaN or infinite).")
        grey = ((values.astype(np.float32) + offset) * scale)
        alpha = None if key is None or isinstance(key, (bytes, tuple)) else (values != key).astype(np.float32)
        return grey, alpha
    if mode in ALPHA_MODES or (key is not None and mode in ("1", "L", "P", "RGB")) or strip.has_transparency_data:
        mode = ALPHA_MODES.get(mode, "LA" if mode in ("1", "L") else "RGBA")
        values = np.asarray(strip.convert(mode), dtype=np.float32)
        return _luma(values[..., :-1]), values[..., -1] / 255.0
    if mode in ("1", "L"):
        return np.asarray(strip.convert("L"), dtype=np.float32), None
    return _luma(np.asarray(strip.convert("RGB"), dtype=np.float32)), None


def _luma(values: np.ndarray) -> np.ndarray:
    """(h, w, 1) or (h, w, 3) -> (h, w): ITU-R BT.601 luma, what Pillow's convert("L") computes."""
    if values.shape[-1] == 1:
        return values[..., 0]
    return values @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _block_mean(values: np.ndarray, factor: int) -> np.ndarray:
    """(h, w) -> (ceil(h/factor), ceil(w/factor)): the mean of each factor x factor block (edge blocks padded
    by repeating their last row/column)."""
    if factor == 1:
        return values
    height, width = values.shape
    padded = np.pad(values, ((0, -height % factor), (0, -width % factor)), mode="edge")
    return padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor).mean(axis=(1, 3))


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) uint8-range array -> (H, W) float32 in 0..255 as on a white page."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ImageProblem(f"Expected a grayscale, RGB or RGBA picture, got shape {image.shape}.")
    grey = _luma(image[..., :3])
    if image.shape[2] == 4:
        alpha = image[..., 3] / 255.0
        grey = grey * alpha + 255.0 * (1 - alpha)
    return grey


# --- 2. from a picture to MNIST's 28x28 --------------------------------------------------------------

def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's (1979) threshold of `values`: the level that maximises the between-class variance of the two
    classes it splits them into (above it / at or below it). A constant array returns its value."""
    values = np.asarray(values, dtype=np.float64).ravel()
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return low
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    centres = (edges[:-1] + edges[1:]) / 2
    weight_below = np.cumsum(counts)  # pixels at or below each bin
    weight_above = weight_below[-1] - weight_below
    sum_below = np.cumsum(counts * centres)
    mean_below = sum_below / np.maximum(weight_below, 1)
    mean_above = (sum_below[-1] - sum_below) / np.maximum(weight_above, 1)
    between = weight_below * weight_above * (mean_below - mean_above) ** 2
    return float(edges[1:][np.argmax(between[:-1])])


def dark_ink(grey: np.ndarray) -> bool:
    """Whether the ink is darker than its background, judged by the picture's border: the background is
    the Otsu class that fills most of the border (ink reaches the border of a tight crop, but a stroke covers
    less of it than the background does, even when bold ink covers most of the picture)."""
    threshold = otsu_threshold(grey)
    width = max(1, round(0.02 * min(grey.shape)))
    border = np.concatenate([grey[:width].ravel(), grey[-width:].ravel(), grey[:, :width].ravel(),
                             grey[:, -width:].ravel()])
    light_border = float((border > threshold).mean())
    if abs(light_border - 0.5) > 0.02:
        return light_border > 0.5
    return float((grey > threshold).mean()) > 0.5  # a border split evenly: the background is the larger class


def paper_brightness(grey: np.ndarray, blocks: int = 16, rounds: int = 6) -> np.ndarray:
    """The paper's brightness under the ink, (H, W) float32: a quadratic surface in x and y fitted to the
    brightest part (90th percentile) of each of blocks x blocks tiles, refitted `rounds` times without the
    tiles well below the surface (tiles filled by ink); the first fit uses the tiles above Otsu's threshold of
    the tiles' levels, so that a bold digit filling most tiles does not drag it down. Even light gives a flat
    surface, kept within the fitted tiles' range where ink hides the paper; a lamp to one
    side or a vignette gives a gradient that dividing by the surface removes."""
    height, width = grey.shape
    tile_height, tile_width = -(-height // blocks), -(-width // blocks)
    rows_of_tiles, columns_of_tiles = -(-height // tile_height), -(-width // tile_width)
    padded = np.pad(grey, ((0, rows_of_tiles * tile_height - height), (0, columns_of_tiles * tile_width - width)),
                    mode="edge")
    tiles = padded.reshape(rows_of_tiles, tile_height, columns_of_tiles, tile_width).transpose(0, 2, 1, 3)
    levels = np.percentile(tiles.reshape(rows_of_tiles * columns_of_tiles, -1), 90, axis=1)
    rows, columns = np.meshgrid(np.minimum((np.arange(rows_of_tiles) + 0.5) * tile_height, height) / height,
                                np.minimum((np.arange(columns_of_tiles) + 0.5) * tile_width, width) / width,
                                indexing="ij")
    rows, columns = rows.ravel(), columns.ravel()

    def basis(y, x):
        return np.stack([np.ones_like(y), y, x, y * y, x * x, y * x], axis=-1)

    design = basis(rows, columns)
    keep = (levels > otsu_threshold(levels) if np.ptp(levels) > MIN_CONTRAST * levels.max()
            else np.ones(len(levels), bool))
    if keep.sum() < 6:  # ink in nearly every tile: the brightest tiles are the paper
        keep = levels >= np.sort(levels)[-min(6, len(levels))]
    for _ in range(rounds):
        coefficients, *_ = np.linalg.lstsq(design[keep], levels[keep], rcond=None)
        fitted = design @ coefficients
        residual = levels - fitted
        spread = max(1.4826 * np.median(np.abs(residual[keep])), 2.0)
        new_keep = residual > -2.5 * spread  # ink only ever darkens a tile
        if new_keep.sum() < 6 or (new_keep == keep).all():
            break
        keep = new_keep
    y, x = np.meshgrid((np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width, indexing="ij")
    surface = basis(y, x) @ coefficients  # extrapolated where ink hides the paper: kept to the paper's range
    return np.clip(surface, max(levels[keep].min(), 1.0), levels[keep].max()).astype(np.float32)


def prepare_digit(image) -> PreparedDigit:
    """A `Picture`, or an array (H, W) / (H, W, 3) / (H, W, 4) in 0..255 (a canvas), of one digit ->
    `PreparedDigit`: (28, 28) float32 in 0..1, white ink on black, centred like MNIST, with notes.

    Raises EmptyImage when no ink stands out from the paper, ImageProblem for an array of the wrong shape."""
    from scipy import ndimage

    picture = image if isinstance(image, Picture) else Picture(to_grayscale(image))
    notes = list(picture.notes)
    grey = picture.grey.astype(np.float32)
    if grey.size == 0 or float(grey.max() - grey.min()) < MIN_CONTRAST * 255:
        raise EmptyImage(NO_INK)
    if dark_ink(grey):
        notes.append(Note("inverted", "Dark ink on a light background was turned into light ink on black, as "
                                      "in MNIST."))
    else:
        grey = 255.0 - grey  # light ink on a dark background: work on it as dark ink on light paper
    paper = paper_brightness(grey)
    if (paper.max() - paper.min()) / paper.max() > UNEVEN_LIGHT:
        notes.append(Note("background removed", f"Uneven light was evened out (the paper's brightness varied by "
                                                f"{(paper.max() - paper.min()) / paper.max():.0%})."))
    ink = np.clip(1.0 - grey / paper, 0.0, 1.0)  # (H, W): 0 paper, 1 black ink, whatever the light
    smooth = ndimage.gaussian_filter(ink, sigma=max(0.5, min(ink.shape) / 280))  # pixel noise averaged away
    threshold = max(otsu_threshold(smooth), MIN_CONTRAST / 2)
    mask = smooth > threshold
    if not mask.any() or float(np.percentile(smooth[mask], 90)) < MIN_CONTRAST:
        raise EmptyImage(NO_INK)
    labels, count = ndimage.label(mask)
    sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, count + 1))
    kept = np.isin(labels, 1 + np.flatnonzero(sizes >= SPECK_SHARE * sizes.max()))
    if count > int((sizes >= SPECK_SHARE * sizes.max()).sum()) and (sizes < SPECK_SHARE * sizes.max()).sum() > 2:
        notes.append(Note("background removed", f"{int((sizes < SPECK_SHARE * sizes.max()).sum())} specks of "
                                                "noise were left out."))
    background_level = float(np.median(smooth[~mask])) if (~mask).any() else 0.0
    ink_level = float(np.percentile(smooth[kept], 90))
    strength = np.clip((smooth - background_level) / max(ink_level - background_level, 1e-6), 0, 1)
    strength *= ndimage.binary_dilation(kept, iterations=max(1, round(min(ink.shape) / 140)))
    rows, columns = np.flatnonzero(kept.any(axis=1)), np.flatnonzero(kept.any(axis=0))
    cropped = strength[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    return PreparedDigit(_mnist_field(cropped), tuple(notes))


def _mnist_field(cropped: np.ndarray) -> np.ndarray:
    """The ink's box (h, w) in 0..1 -> (28, 28) float32 in 0..1: fitted to 20x20 keeping the aspect ratio,
    its centre of mass moved to the field's centre (MNIST's recipe)."""
    from PIL import Image
    from scipy import ndimage

    height, width = cropped.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = np.asarray(Image.fromarray(cropped.astype(np.float32) * 255, mode="F")
                         .resize(size, Image.Resampling.LANCZOS), dtype=np.float64)  # (<=20, <=20)
    field = np.zeros((FIELD, FIELD))
    top, left = (FIELD - resized.shape[0]) // 2, (FIELD - resized.shape[1]) // 2
    field[top:top + resized.shape[0], left:left + resized.shape[1]] = np.clip(resized, 0, None)
    centre_row, centre_column = ndimage.center_of_mass(field)
    field = ndimage.shift(field, ((FIELD - 1) / 2 - centre_row, (FIELD - 1) / 2 - centre_column), order=1,
                          mode="constant")
    field = np.clip(field, 0, None)
    return (field / max(field.max(), 1e-9)).astype(np.float32)  # (28, 28) in 0..1
