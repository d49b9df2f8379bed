"""Turn a drawing or a decoded upload into a 28x28 digit the way MNIST's digits were made.

`prepare_digit(picture or array) -> PreparedDigit`: find the ink and make it MNIST's, saying what was done as
`Note`s. (Decoding an upload into a `Picture`, its cost bounded, is core/decode.py's.) Ink vs background is decided
from the picture's border and Otsu's threshold (not the median, which fails when bold ink covers most of a tight
crop); a shrunk picture is then read from its stroke-keeping pool of that polarity (thin strokes keep their
strength); the paper's brightness is estimated as a smooth surface and divided out (uneven light in photos);
specks smaller than a stroke are dropped; then MNIST's recipe: the ink's bounding box scaled to fit 20x20 (keeping
the aspect ratio) and placed in a 28x28 field so that the ink's centre of mass sits at the centre; white ink on
black.

Sources: MNIST's normalisation, LeCun et al., http://yann.lecun.com/exdb/mnist/; Otsu, "A threshold selection
method from gray-level histograms", IEEE Trans. Systems, Man and Cybernetics 9(1), 1979.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.decode import ImageProblem, Note, Picture, luma

MIN_CONTRAST = 30 / 255  # ink must be at least this much darker than its paper (of the paper's brightness)
UNEVEN_LIGHT = 0.12  # paper whose estimated brightness varies by more than this share is reported as evened out
SPECK_SHARE = 0.05   # ink blobs smaller than this share of the largest blob are specks of noise
# Stroke widths as shares of the ink box's longer side. MNIST's (`stroke_width` of 400 test digits drawn 280x280 on
# paper and prepared here): least 0.073, 1st percentile 0.080, 5th 0.093, median 0.139. Strokes narrower than
# THIN_STROKE (below every one of those, and below the canvas's pen, 20 of 280 pixels, at full size) are widened
# to THINNEST_STROKE, MNIST's 1st percentile.
THIN_STROKE, THINNEST_STROKE = 0.06, 0.08
FIELD, BOX = 28, 20
NO_INK = "The picture has no ink: nothing stands out from its background."


class EmptyImage(ImageProblem):
    """No ink at all: nothing to predict."""


@dataclass(frozen=True)
class PreparedDigit:
    """What a model sees: pixels (28, 28) float32 in 0..1, white ink on black, and how they were made."""

    pixels: np.ndarray
    notes: tuple[Note, ...] = ()

    def has(self, kind: str) -> bool:
        return any(note.kind == kind for note in self.notes)


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) uint8-range array -> (H, W) float32 in 0..255 as on a white page."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ImageProblem(f"Expected a grayscale, RGB or RGBA picture, got shape {image.shape}.")
    grey = luma(image[..., :3])
    if image.shape[2] == 4:
        alpha = image[..., 3] / 255.0
        grey = grey * alpha + 255.0 * (1 - alpha)
    return grey


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
    if grey.size == 0:
        raise EmptyImage(NO_INK)
    dark = dark_ink(grey)
    if picture.dark_strokes is not None:  # shrunk: strokes thinner than a block, at their full strength
        grey = (picture.dark_strokes if dark else picture.light_strokes).astype(np.float32)
    if float(grey.max() - grey.min()) < MIN_CONTRAST * 255:
        raise EmptyImage(NO_INK)
    if dark:
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
    cropped, thickened = _thickened(strength[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1])
    if thickened:
        notes.append(Note("thickened", "Its strokes were thinner than nearly all of MNIST's and were widened to "
                                       "the thinnest of them."))
    return PreparedDigit(_mnist_field(cropped), tuple(notes))


def stroke_width(mask: np.ndarray) -> float:
    """The strokes' mean width in a (h, w) bool mask of ink, in pixels: twice the ink's area over the length of
    its boundary (a stroke of width w and length L has area w·L and a boundary about 2·L long); 0 for no ink."""
    from scipy import ndimage

    boundary = int((mask & ~ndimage.binary_erosion(mask)).sum())
    return 2 * int(mask.sum()) / boundary if boundary else 0.0


def _thickened(cropped: np.ndarray) -> tuple[np.ndarray, bool]:
    """The ink's box (h, w) of strength in 0..1 -> (the box with strokes narrower than THIN_STROKE of its longer
    side widened to THINNEST_STROKE, whether they were). A stroke is widened by giving every pixel within the
    missing half-width the strength of its nearest ink pixel (a grey dilation by a disc, through the Euclidean
    distance transform), the box padded by that much."""
    from scipy import ndimage

    width, wanted = stroke_width(cropped > 0.5), THINNEST_STROKE * max(cropped.shape)
    if width == 0 or width >= THIN_STROKE * max(cropped.shape):
        return cropped, False
    radius = (wanted - width) / 2
    padded = np.pad(cropped, math.ceil(radius))
    distance, (rows, columns) = ndimage.distance_transform_edt(padded <= 0.5, return_indices=True)
    return np.maximum(padded, np.where(distance <= radius, padded[rows, columns], 0.0)), True


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
