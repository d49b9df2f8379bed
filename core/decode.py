"""Read an uploaded picture the way a browser shows it, its cost bounded before anything is allocated.

`read_upload(bytes) -> Picture`: the EXIF orientation tag is applied (Pillow's `ImageOps.exif_transpose`); every
mode and bit depth Pillow opens (1, L, P with or without transparency, LA, RGB, RGBA, CMYK, I;16, I, F) becomes
8-bit-range grey *as it would look on a white page* (transparency composited on white); and the picture is shrunk
while it is decoded until its longer side is at most WORKING_SIDE pixels.

What one upload may cost is bounded by what it becomes (a 28x28 digit read from at most 512x512), whatever the
file claims:
- pixels: at most MAX_UPLOAD_PIXELS, and at most MAX_SIDE a side, read from the header before anything is
  decoded (Pillow's decoded picture costs 8 bytes and a step of work for every row besides its pixels);
- progressive JPEG scans: each scan is a pass over every block of the picture, so scans x megapixels (a smaller
  picture counted as one megapixel) is at most MAX_SCANS, checked before decoding (the exploit and the limit of
  libjpeg-turbo's TJPARAM_SCANLIMIT, whose fuzzers allow 500 scans of at most one megapixel;
  https://libjpeg-turbo.org/pmwiki/uploads/About/TwoIssueswiththeJPEGStandard.pdf);
- frames and pages: only the first frame of an animation or a multi-page file is read;
- metadata: a PNG's text and ICC chunks are dropped before decoding (nothing here uses them; Pillow refuses one
  over 1 MB as if the picture were damaged);
- shape: the picture is shrunk a tile of at most TILE_PIXELS at a time, by one factor for both sides, and the
  blocks at its edges are smaller, never padded: a 1-pixel side stays one pixel (a 65,536x1 strip costs its own
  64 kB, not a 65,536x128 padded copy; issue 36's 300,000x1 strip took 1.38 GB that way).
At peak: the decoded picture (at most 4 bytes a pixel of MAX_UPLOAD_PIXELS; a JPEG is decoded at a reduced scale
by its DCT) plus a few tiles (tests/core/test_decode_bounds.py measures it over random shapes).

Shrinking keeps thin strokes: besides each block's mean (what the picture looks like), a Picture keeps each block's
f-th darkest and f-th lightest pixel (an order statistic of the f x f block, f the shrink factor). A stroke at
least one pixel wide crossing a block covers at least f of its pixels, so it keeps its full strength there,
while a speck of fewer than f pixels does not (a min or max pool would keep every speck).
"""

from __future__ import annotations

import functools
import io
import math
import struct
from dataclasses import dataclass

import numpy as np

MAX_UPLOAD_PIXELS = 4096 * 4096  # beyond this a picture is refused (decompression bombs are far larger)
MAX_SIDE = 65536  # pixels; a longer side is refused (Pillow keeps 8 bytes and a decoding step for every row)
WORKING_SIDE = 512   # pictures are shrunk while decoded until their longer side is at most this, in pixels
JPEG_DRAFT_SIDE = 2 * WORKING_SIDE  # a JPEG is decoded at 1/2, 1/4 or 1/8 scale down to at least this side
TILE_PIXELS = 512 * 1024  # at most this many pixels are converted at a time (8 MB as RGBA float32)
MAX_SCANS = 500  # JPEG scans x megapixels, under 1 MP counted as 1 (libjpeg-turbo's fuzzing limit; a photo: ~10)
PREVIEW_SIDE = 160  # the picture as read is shown in a square of this side, in pixels
MAT = 224  # the grey around a preview that is not square
BASE_FORMATS = ("PNG", "JPEG", "MPO", "WEBP", "GIF", "BMP", "TIFF")  # what browsers and phones produce (MPO: a
JPEG_FORMATS = ("JPEG", "MPO")                                       # phone's JPEG with a second picture inside)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_METADATA = (b"tEXt", b"zTXt", b"iTXt", b"iCCP")
START_OF_SCAN = b"\xff\xda"  # JPEG's SOS marker; inside entropy-coded data 0xFF is always followed by 0x00 or RSTn
ALPHA_MODES = {"LA": "LA", "La": "LA", "PA": "RGBA", "RGBA": "RGBA", "RGBa": "RGBA"}
SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}
# EXIF orientation (tag 0x0112, EXIF 2.32 / CIPA DC-008) -> what ImageOps.exif_transpose does, in words
ORIENTATION_WORDS = {2: "mirrored", 3: "turned 180°", 4: "flipped upside down", 5: "mirrored and turned 90°",
                     6: "turned 90° clockwise", 7: "mirrored and turned 90°", 8: "turned 90° anticlockwise"}


class ImageProblem(ValueError):
    """An image that cannot become a digit; the message is for the user."""


@dataclass(frozen=True)
class Note:
    """One thing done to a picture that a user may not expect: kind is "rotated", "flattened", "inverted",
    "background removed", "shrunk" or "thickened"; text says it in a sentence."""

    kind: str
    text: str


@dataclass(frozen=True)
class Picture:
    """A decoded picture, upright, as on a white page (0 black): grey, (height, width) float32 in 0..255, each
    pixel the mean of the block it was shrunk from. When it was shrunk, dark_strokes and light_strokes (same
    shape) keep each block's f-th darkest and f-th lightest pixel, so that strokes thinner than a block keep
    their strength (dark ink on light paper is read from the first, light on dark from the second)."""

    grey: np.ndarray
    notes: tuple[Note, ...] = ()
    dark_strokes: np.ndarray | None = None
    light_strokes: np.ndarray | None = None


@functools.cache
def accepted_formats() -> tuple[str, ...]:
    """Pillow's names of the formats read: BASE_FORMATS, and AVIF where the installed Pillow reads it."""
    from PIL import features

    return BASE_FORMATS + (("AVIF",) if features.check("avif") else ())


def format_words() -> str:
    """The accepted formats as a user knows them, e.g. "PNG, JPEG, WebP, GIF, BMP or TIFF, or AVIF"."""
    return "PNG, JPEG, WebP, GIF, BMP or TIFF" + (", or AVIF" if "AVIF" in accepted_formats() else "")


def read_upload(data: bytes) -> Picture:
    """Decode an uploaded picture (see `format_words`; the first frame of an animation) the way a browser shows
    it, shrunk to at most WORKING_SIDE a side; raise ImageProblem, with a message for the user, for anything that
    cannot be read or would cost more than the limits above."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ImageProblem("The file is empty.")
    data = without_png_metadata(data)
    try:
        with Image.open(io.BytesIO(data)) as picture:
            width, height = picture.size
            if width * height > MAX_UPLOAD_PIXELS:
                raise ImageProblem(f"The picture is too large: {width:,}×{height:,} pixels, and at most "
                                   f"{MAX_UPLOAD_PIXELS:,} pixels are accepted.")
            if max(width, height) > MAX_SIDE:
                raise ImageProblem(f"The picture is {width:,}×{height:,} pixels: far too long and thin to hold a "
                                   f"digit (at most {MAX_SIDE:,} pixels a side are read).")
            if picture.format not in accepted_formats():
                raise ImageProblem(f"Please upload a {format_words()} picture (this is {picture.format}).")
            if width == 0 or height == 0:
                raise ImageProblem("The picture has no pixels.")
            if picture.format in JPEG_FORMATS:
                _check_scans(data, width * height)
            return decode(picture)
    except Image.DecompressionBombError as error:
        raise ImageProblem("The picture is far too large to open safely (a decompression bomb?).") from error
    except UnidentifiedImageError as error:
        raise ImageProblem(f"This file is not a picture that can be read ({format_words()}).") from error
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError, struct.error) as error:
        if isinstance(error, ImageProblem):
            raise
        raise ImageProblem(f"The picture is damaged and cannot be read ({error}).") from error


def without_png_metadata(data: bytes) -> bytes:
    """A PNG's bytes without its text (tEXt, zTXt, iTXt) and ICC (iCCP) chunks, which nothing here uses and which
    Pillow refuses beyond 1 MB decompressed (PngImagePlugin.MAX_TEXT_CHUNK) as if the picture were damaged; any
    other file, or a PNG without such chunks, as it is. A damaged chunk list is left for Pillow to report."""
    if not data.startswith(PNG_SIGNATURE) or not any(kind in data for kind in PNG_METADATA):
        return data
    kept, position = [PNG_SIGNATURE], len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        length, kind = int.from_bytes(data[position:position + 4], "big"), data[position + 4:position + 8]
        end = position + 12 + length  # length, type, data, CRC
        if kind not in PNG_METADATA:
            kept.append(data[position:end])
        position = end
        if kind == b"IEND":
            break
    kept.append(data[position:])
    return b"".join(kept)


def _check_scans(data: bytes, pixels: int) -> None:
    """Refuse a JPEG whose scans would cost more than MAX_SCANS scans of a megapixel, before it is decoded. Every
    SOS marker in the file is counted (an EXIF thumbnail's too), so the count is never below the picture's."""
    scans = data.count(START_OF_SCAN)
    megapixels = max(1.0, pixels / 1e6)
    if scans * megapixels > MAX_SCANS:
        raise ImageProblem(f"This JPEG is saved in {scans:,} progressive scans, and at most "
                           f"{int(MAX_SCANS / megapixels):,} are read for a picture of {megapixels:.1f} megapixels (a "
                           "camera's JPEG has about 10). Save it again as a plain JPEG or a PNG.")


def decode(picture) -> Picture:
    """An opened PIL picture -> `Picture`: shrunk while decoded, grey on white, EXIF orientation applied."""
    notes = []
    orientation = _orientation(picture)
    source_mode, (width, height) = picture.mode, picture.size
    if picture.format in JPEG_FORMATS and max(width, height) > JPEG_DRAFT_SIDE:  # decode at 1/2, 1/4 or 1/8 scale
        scale = max(width, height) / JPEG_DRAFT_SIDE
        picture.draft(picture.mode, (math.ceil(width / scale), math.ceil(height / scale)))
    picture.load()
    factor = max(1, math.ceil(max(picture.size) / WORKING_SIDE))
    grey, strokes, transparent = _shrunk_grey_on_white(picture, factor)  # each (<= 512, <= 512) float32
    if (width, height) != (grey.shape[1], grey.shape[0]):
        notes.append(Note("shrunk", f"{width:,}×{height:,} pixels were read as {grey.shape[1]}×{grey.shape[0]} "
                                    "(averaged in blocks, strokes thinner than a block kept) before anything else."))
    if transparent:
        notes.append(Note("flattened", "Its transparent parts were laid on white, as a browser shows them."))
    if source_mode in SIXTEEN_BIT_MODES or source_mode in ("I", "F"):
        kind = "16-bit" if source_mode in SIXTEEN_BIT_MODES else ("32-bit" if source_mode == "I" else "floating-point")
        notes.append(Note("flattened", f"Its {kind} grey levels were brought to 8 bits."))
    elif source_mode == "CMYK":
        notes.append(Note("flattened", "Its CMYK colours were converted to grey."))
    if orientation in ORIENTATION_WORDS:
        grey, *strokes = (_upright(values, orientation) for values in (grey, *strokes))
        notes.append(Note("rotated", f"It was {ORIENTATION_WORDS[orientation]}, as its EXIF orientation tag "
                                     f"({orientation}) says and as browsers show it."))
    return Picture(grey, tuple(notes), *(strokes or (None, None)))


def _orientation(picture) -> int:
    """The EXIF orientation tag (1-8) as ImageOps.exif_transpose reads it (EXIF, or XMP's tiff:Orientation)."""
    from PIL import ExifTags

    try:
        return int(picture.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # noqa: BLE001  (a broken EXIF block: show the picture as stored, as browsers do)
        return 1


def _upright(values: np.ndarray, orientation: int) -> np.ndarray:
    """(h, w) float32 -> turned as ImageOps.exif_transpose turns a picture tagged `orientation`. The shrunk
    picture carries the tag, so the full-size one is never copied to be turned."""
    from PIL import ExifTags, Image, ImageOps

    tag = Image.Exif()
    tag[ExifTags.Base.Orientation] = orientation
    shrunk = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32))  # mode F
    shrunk.info["exif"] = tag.tobytes()
    return np.asarray(ImageOps.exif_transpose(shrunk), dtype=np.float32)


def _shrunk_grey_on_white(picture, factor: int) -> tuple[np.ndarray, list[np.ndarray], bool]:
    """(grey (ceil(H/factor), ceil(W/factor)) float32 in 0..255: each block's mean, [dark strokes, light strokes]
    of the same shape (each block's f-th darkest and lightest pixel; [] when factor is 1), whether any pixel was
    transparent).

    The picture is converted a tile at a time (at most TILE_PIXELS, each side a multiple of the factor), so memory
    beyond the decoded picture stays a few tiles' worth whatever its shape. Compositing on white is linear, so
    averaging composited pixels is exact (no dark fringes from the colour hidden under transparent pixels)."""
    width, height = picture.size
    levels = _level_scale(picture)
    shape = (-(-height // factor), -(-width // factor))
    pools = [np.empty(shape, np.float32) for _ in range(3 if factor > 1 else 1)]
    tile_width = min(-(-width // factor) * factor, max(factor, math.isqrt(TILE_PIXELS) // factor * factor))
    tile_height = max(factor, TILE_PIXELS // min(width, tile_width) // factor * factor)
    transparent = False
    for top in range(0, height, tile_height):
        for left in range(0, width, tile_width):
            tile = picture.crop((left, top, min(width, left + tile_width), min(height, top + tile_height)))
            grey, alpha = _grey_and_alpha(tile, levels)
            if alpha is not None:
                transparent = transparent or bool((alpha < 1).any())
                grey = grey * alpha + 255.0 * (1.0 - alpha)
            rows, columns = slice(top // factor, None), slice(left // factor, None)
            for pool, values in zip(pools, block_pools(grey, factor) if factor > 1 else [grey]):
                pool[rows, columns][:values.shape[0], :values.shape[1]] = values
    pools = [np.clip(pool, 0, 255, out=pool) for pool in pools]
    return pools[0], pools[1:], transparent


def block_pools(values: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(h, w) -> (mean, dark, light), each (ceil(h/factor), ceil(w/factor)): per factor x factor block its mean,
    its k-th darkest and its k-th lightest value, k the block's shorter side (factor for a whole block). Blocks at
    the bottom and right edges are smaller, never padded."""
    height, width = values.shape
    pools = [np.empty((-(-height // factor), -(-width // factor)), np.float32) for _ in range(3)]
    whole_height, whole_width = height // factor * factor, width // factor * factor
    for top, bottom in ((0, whole_height), (whole_height, height)):
        for left, right in ((0, whole_width), (whole_width, width)):
            if bottom == top or right == left:
                continue
            block_height, block_width = min(factor, bottom - top), min(factor, right - left)
            blocks = (values[top:bottom, left:right]
                      .reshape((bottom - top) // block_height, block_height, (right - left) // block_width, block_width)
                      .swapaxes(1, 2).reshape((bottom - top) // block_height, (right - left) // block_width, -1))
            ordered = np.sort(blocks, axis=-1)  # (rows of blocks, columns of blocks, pixels of a block)
            rank = min(block_height, block_width) - 1
            where = (slice(top // factor, -(-bottom // factor)), slice(left // factor, -(-right // factor)))
            pools[0][where] = blocks.mean(axis=-1)
            pools[1][where] = ordered[..., rank]
            pools[2][where] = ordered[..., -1 - rank]
    return pools[0], pools[1], pools[2]


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


def _grey_and_alpha(tile, levels: tuple[float, float]) -> tuple[np.ndarray, np.ndarray | None]:
    """A tile of any mode -> (grey float32 0..255, alpha float32 0..1 or None when opaque)."""
    offset, scale = levels
    mode, key = tile.mode, tile.info.get("transparency")
    if mode in SIXTEEN_BIT_MODES or mode in ("I", "F"):
        values = np.asarray(tile)
        if mode == "F" and not np.isfinite(values).all():
            raise ImageProblem("The picture's grey levels are not numbers (NaN or infinite).")
        grey = ((values.astype(np.float32) + offset) * scale)
        alpha = None if key is None or isinstance(key, (bytes, tuple)) else (values != key).astype(np.float32)
        return grey, alpha
    if mode in ALPHA_MODES or (key is not None and mode in ("1", "L", "P", "RGB")) or tile.has_transparency_data:
        mode = ALPHA_MODES.get(mode, "LA" if mode in ("1", "L") else "RGBA")
        values = np.asarray(tile.convert(mode), dtype=np.float32)
        return luma(values[..., :-1]), values[..., -1] / 255.0
    if mode in ("1", "L"):
        return np.asarray(tile.convert("L"), dtype=np.float32), None
    return luma(np.asarray(tile.convert("RGB"), dtype=np.float32)), None


def luma(values: np.ndarray) -> np.ndarray:
    """(h, w, 1) or (h, w, 3) -> (h, w): ITU-R BT.601 luma, what Pillow's convert("L") computes."""
    if values.shape[-1] == 1:
        return values[..., 0]
    return values @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def preview(grey: np.ndarray, side: int = PREVIEW_SIDE) -> np.ndarray:
    """(H, W) grey in 0..255, any shape -> (side, side) uint8: the picture scaled to fit the square (its aspect
    ratio kept, each side at least one pixel) and centred on a grey mat, so that a 1x20,000 strip can be shown."""
    from PIL import Image

    height, width = grey.shape
    scale = side / max(height, width, 1)
    size = (min(side, max(1, round(width * scale))), min(side, max(1, round(height * scale))))
    fitted = Image.fromarray(np.ascontiguousarray(grey, dtype=np.float32)).resize(size, Image.Resampling.BOX)
    shown = np.full((side, side), MAT, np.uint8)
    top, left = (side - size[1]) // 2, (side - size[0]) // 2
    shown[top:top + size[1], left:left + size[0]] = np.round(np.clip(np.asarray(fitted), 0, 255))
    return shown
