"""Turn a drawing or an uploaded picture into a 28x28 digit the way MNIST's digits were made.

MNIST: the ink's bounding box scaled to fit 20x20 (keeping the aspect ratio), then placed in a 28x28
field so that the ink's centre of mass sits at the centre; white ink on black.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

MAX_UPLOAD_PIXELS = 4096 * 4096  # beyond this a picture is refused (decompression bombs are far larger)
INK_THRESHOLD = 0.1  # of the darkest-to-lightest range: fainter pixels are background
FIELD, BOX = 28, 20


class ImageProblem(ValueError):
    """An image that cannot become a digit; the message is for the user."""


class EmptyImage(ImageProblem):
    """No ink at all: nothing to predict."""


def read_upload(data: bytes) -> np.ndarray:
    """Decode an uploaded PNG/JPEG into a (H, W) or (H, W, C) uint8 array, or raise ImageProblem."""
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
                if picture.format not in {"PNG", "JPEG"}:
                    raise ImageProblem(f"Please upload a PNG or JPEG picture (this is {picture.format}).")
                picture.load()
                return np.asarray(picture.convert("RGBA" if "A" in picture.getbands() else "L"))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageProblem("The picture is far too large to open safely (a decompression bomb?).") from error
    except UnidentifiedImageError as error:
        raise ImageProblem("This file is not a picture that can be read (PNG or JPEG).") from error
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageProblem):
            raise
        raise ImageProblem(f"The picture is damaged and cannot be read ({error}).") from error


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) -> (H, W) float in 0..255; transparency is composited on white."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ImageProblem(f"Expected a grayscale, RGB or RGBA picture, got shape {image.shape}.")
    gray = image[..., :3] @ np.array([0.299, 0.587, 0.114])
    if image.shape[2] == 4:
        alpha = image[..., 3] / 255.0
        gray = gray * alpha + 255.0 * (1 - alpha)
    return gray


def prepare_digit(image: np.ndarray) -> np.ndarray:
    """Any picture of one digit -> (28, 28) float32 in 0..1, white ink on black, centred like MNIST."""
    from PIL import Image
    from scipy import ndimage

    gray = to_grayscale(image)
    if np.median(gray) > 127:  # mostly light: dark ink on paper -> invert to MNIST's light-on-dark
        gray = 255.0 - gray
    gray = gray - np.median(gray)  # background to zero
    ink = gray > INK_THRESHOLD * 255
    if gray.max() < 30 or not ink.any():
        raise EmptyImage("Draw a digit first: the picture has no ink.")
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    cropped = np.clip(gray[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1], 0, 255)

    height, width = cropped.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = np.asarray(Image.fromarray(cropped.astype(np.uint8)).resize(size, Image.Resampling.LANCZOS),
                         dtype=np.float64)  # (<=20, <=20)
    field = np.zeros((FIELD, FIELD))
    top, left = (FIELD - resized.shape[0]) // 2, (FIELD - resized.shape[1]) // 2
    field[top:top + resized.shape[0], left:left + resized.shape[1]] = resized
    centre_row, centre_column = ndimage.center_of_mass(field)
    field = ndimage.shift(field, ((FIELD - 1) / 2 - centre_row, (FIELD - 1) / 2 - centre_column), order=1,
                          mode="constant")
    field = np.clip(field, 0, None)
    return (field / max(field.max(), 1e-9)).astype(np.float32)  # (28, 28) in 0..1
