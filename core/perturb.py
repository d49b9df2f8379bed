"""Perturbed test digits: shifted, rotated, scaled, noisy and elastically distorted, to see which network
has learnt that a stroke means the same wherever it sits.

Every function takes uint8 images (num_images, 28, 28) and returns new uint8 images of the same shape; one
call transforms the whole batch (scipy.ndimage on the stacked images, no Python loop over digits). What is
random (a shift's direction, a rotation's sign, the noise, the distortion field) is drawn from the seed for
the whole set, so the same seed gives the same images, and digit i is perturbed the same way whether the set
is perturbed for an evaluation or for a picture. Level 0 (scale 1) returns the images unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

import numpy as np
from scipy import ndimage

# The eight directions of a shift, (rows, columns): down, down-right, right, up-right, up, up-left, left, down-left.
DIRECTIONS = np.array([(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)])
ELASTIC_SMOOTHING = 4.0  # the distortion field's Gaussian smoothing, in pixels (Simard et al. 2003)


def _checked(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"Expected uint8 images of shape (num_images, 28, 28); got {images.dtype} {images.shape}.")
    return images


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def shift(images: np.ndarray, pixels: int, seed: int = 0, direction: int | None = None) -> np.ndarray:
    """Move each digit by `pixels` whole pixels, filling with background: in `direction` (0..7, see DIRECTIONS;
    a diagonal moves `pixels` along both axes) or, when None, in a direction drawn per digit from `seed`."""
    images = _checked(images)
    if pixels < 0 or pixels >= 28:
        raise ValueError(f"A shift is 0 to 27 pixels; got {pixels}.")
    if pixels == 0:
        return images.copy()
    num_images = len(images)
    chosen = (np.random.default_rng([seed, 1]).integers(0, 8, size=num_images) if direction is None
              else np.full(num_images, direction))
    steps = DIRECTIONS[chosen] * pixels  # (num_images, 2)
    padded = np.pad(images, ((0, 0), (pixels, pixels), (pixels, pixels)))  # (num_images, 28 + 2p, 28 + 2p)
    rows = np.arange(28)[None, :, None] + pixels - steps[:, 0, None, None]
    columns = np.arange(28)[None, None, :] + pixels - steps[:, 1, None, None]
    return padded[np.arange(num_images)[:, None, None], rows, columns]


def _about_centre(images: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """Apply a 2x2 output->input matrix per digit about the image centre (bilinear), all digits in one call."""
    num_images = len(images)
    grid = np.indices((28, 28), dtype=np.float32).reshape(2, -1) - 13.5  # (2, 784): output pixel, centred
    source = np.einsum("nij,jp->nip", matrices.astype(np.float32), grid) + 13.5  # (num_images, 2, 784)
    return _to_uint8(_bilinear(images, source[:, 0], source[:, 1]).reshape(num_images, 28, 28))


CHUNK = 500  # digits interpolated at a time: small temporaries are reused, large ones cost page faults


def _bilinear(images: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Each digit's ink at fractional (rows, columns), bilinear, zero beyond one pixel outside the frame (scipy's
    map_coordinates with order=1 and mode="grid-constant"), (num_images, 784) float32."""
    rows, columns = rows.reshape(len(images), -1), columns.reshape(len(images), -1)
    return np.concatenate([_bilinear_chunk(images[start:start + CHUNK], rows[start:start + CHUNK],
                                           columns[start:start + CHUNK]) for start in range(0, len(images), CHUNK)])


def _bilinear_chunk(images: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    num_images = len(images)
    padded = np.pad(images.astype(np.float32), ((0, 0), (1, 1), (1, 1))).reshape(num_images, -1)  # zero border
    rows, columns = rows.reshape(num_images, -1) + 1, columns.reshape(num_images, -1) + 1  # into padded coordinates
    top, left = np.floor(rows), np.floor(columns)
    down, right = rows - top, columns - left
    top, left = np.clip(top, 0, 29).astype(np.intp), np.clip(left, 0, 29).astype(np.intp)
    bottom, far = np.minimum(top + 1, 29), np.minimum(left + 1, 29)
    outside = (rows < 0) | (rows > 29) | (columns < 0) | (columns > 29)

    def at(row, column):
        return np.take_along_axis(padded, row * 30 + column, axis=1)

    values = ((1 - down) * ((1 - right) * at(top, left) + right * at(top, far))
              + down * ((1 - right) * at(bottom, left) + right * at(bottom, far)))
    values[outside] = 0.0
    return values


def rotate(images: np.ndarray, degrees: float, seed: int = 0) -> np.ndarray:
    """Turn each digit by `degrees` about the image centre, clockwise or anticlockwise as drawn per digit."""
    images = _checked(images)
    if not 0 <= degrees <= 180:
        raise ValueError(f"A rotation is 0 to 180 degrees; got {degrees}.")
    if degrees == 0:
        return images.copy()
    signs = np.random.default_rng([seed, 2]).choice([-1.0, 1.0], size=len(images))
    angles = np.deg2rad(degrees) * signs
    cos, sin = np.cos(angles), np.sin(angles)
    matrices = np.stack([np.stack([cos, -sin], axis=1), np.stack([sin, cos], axis=1)], axis=1)  # (n, 2, 2)
    return _about_centre(images, matrices)


def scale(images: np.ndarray, factor: float, seed: int = 0) -> np.ndarray:
    """Grow (factor > 1) or shrink (factor < 1) each digit about the image centre."""
    images = _checked(images)
    if not 0.2 <= factor <= 3:
        raise ValueError(f"A scale factor is 0.2 to 3; got {factor}.")
    if factor == 1:
        return images.copy()
    matrices = np.broadcast_to(np.eye(2) / factor, (len(images), 2, 2))
    return _about_centre(images, matrices)


def noise(images: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Add Gaussian noise of standard deviation `sigma` (in units of full ink, 0..1) to every pixel."""
    images = _checked(images)
    if not 0 <= sigma <= 1:
        raise ValueError(f"Noise is 0 to 1 (of full ink); got {sigma}.")
    if sigma == 0:
        return images.copy()
    draws = np.random.default_rng([seed, 4]).standard_normal(images.shape, dtype=np.float32)
    return _to_uint8(images.astype(np.float32) + draws * (sigma * 255))


def elastic(images: np.ndarray, alpha: float, seed: int = 0) -> np.ndarray:
    """Simard et al.'s elastic distortion: a random displacement field per digit, smoothed (sigma 4 pixels) and
    scaled by `alpha` pixels, applied with bilinear interpolation."""
    images = _checked(images)
    if not 0 <= alpha <= 100:
        raise ValueError(f"An elastic distortion's strength is 0 to 100; got {alpha}.")
    if alpha == 0:
        return images.copy()
    num_images = len(images)
    field = np.random.default_rng([seed, 5]).uniform(-1, 1, size=(num_images, 2, 28, 28)).astype(np.float32)
    field = ndimage.gaussian_filter(field, sigma=(0, 0, ELASTIC_SMOOTHING, ELASTIC_SMOOTHING), mode="constant",
                                    truncate=2.0)  # 17 taps: the tails beyond 2 sigma barely move the field
    largest = np.abs(field).max(axis=(1, 2, 3), keepdims=True)
    field = np.moveaxis(field * (alpha / np.maximum(largest, 1e-6)), 1, 0)  # (2, n, 28, 28): each digit's largest
    # displacement is `alpha` pixels
    rows, columns = np.indices((28, 28), dtype=np.float32)
    return _to_uint8(_bilinear(images, rows + field[0], columns + field[1]).reshape(num_images, 28, 28))


@dataclass(frozen=True)
class Perturbation:
    name: str
    label: str            # for people: "shifted by 3 pixels"
    unit: str             # the level's unit, for axes
    levels: tuple         # the first is the identity
    apply: Callable[..., np.ndarray]

    def describe(self, level) -> str:
        return self.label.format(level=f"{level:g}")


PERTURBATIONS = {
    "shift": Perturbation("shift", "shifted by {level} pixels", "pixels", (0, 1, 2, 3, 4), shift),
    "rotate": Perturbation("rotate", "rotated by {level}°", "degrees", (0, 10, 20, 30, 45), rotate),
    "scale": Perturbation("scale", "scaled by {level}", "scale factor", (1.0, 0.6, 0.8, 1.2, 1.4), scale),
    "noise": Perturbation("noise", "with noise of standard deviation {level} (of full ink)",
                          "noise's standard deviation (a share of full ink)",
                          (0, 0.1, 0.2, 0.3, 0.5), noise),
    "elastic": Perturbation("elastic", "elastically distorted by {level} pixels", "largest displacement (pixels)",
                            (0, 1, 2, 3), elastic),
}
DEFAULT_PERTURBATIONS = ("shift", "rotate", "scale", "noise")


def check_perturbations(names) -> tuple:
    names = tuple(dict.fromkeys(names))
    unknown = [name for name in names if name not in PERTURBATIONS]
    if unknown or not names:
        raise ValueError(f"Unknown perturbation {', '.join(unknown) or '(none chosen)'}: choose from "
                         f"{', '.join(PERTURBATIONS)}.")
    return names


def perturbed(images: np.ndarray, name: str, level, seed: int = 0) -> np.ndarray:
    return PERTURBATIONS[name].apply(images, level, seed=seed)


def perturbed_one(images: np.ndarray, index: int, name: str, level, seed: int = 0) -> np.ndarray:
    """Digit `index` exactly as `perturbed(images, ...)` makes it, without perturbing the digits after it
    (randomness is drawn digit by digit, in order)."""
    return perturbed(images[: index + 1], name, level, seed=seed)[-1]
