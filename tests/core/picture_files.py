"""Picture files made for the decoding tests: awkward shapes, many frames, many progressive scans, big metadata.

Each maker returns the file's bytes; none of them is big to make (a few hundred ms at most)."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

DATA = Path(__file__).resolve().parents[1] / "data"
RED = DATA / "red2"  # from ../shared/cases/red2/ (issue 36)
TRY_IT = DATA / "try_it"


def encode(picture: Image.Image, format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=format, **options)
    return buffer.getvalue()


def bar_on_paper(width: int, height: int) -> np.ndarray:
    """(height, width) uint8: white paper with a dark bar through the middle (a "1"), for any shape."""
    paper = np.full((height, width), 255, np.uint8)
    paper[height // 5:height - height // 5 or None, width // 2 - width // 20:width // 2 + max(1, width // 20)] = 20
    return paper


def strip(width: int, height: int, mode: str = "L") -> bytes:
    """A PNG of `bar_on_paper` in `mode` (L, RGBA, P, I;16)."""
    paper = bar_on_paper(width, height)
    if mode == "I;16":
        return encode(Image.fromarray(paper.astype(np.uint16) * 257))
    return encode(Image.fromarray(paper).convert(mode))


def frames(format: str, count: int, side: int = 32) -> bytes:
    """An animation (GIF, WebP) or a multi-page TIFF of `count` frames, each a bar on paper moved along."""
    pictures = [Image.fromarray(np.roll(bar_on_paper(side, side), shift, axis=1)).convert("RGB" if format == "WEBP"
                                                                                         else "L")
                for shift in range(count)]
    options = {"duration": 20, "loop": 0} if format in ("GIF", "WEBP") else {}
    return encode(pictures[0], format, save_all=True, append_images=pictures[1:], **options)


def _segments(data: bytes) -> list[tuple[int, bytes]]:
    """A JPEG's marker segments after SOI: (marker, the segment's bytes, with the entropy-coded data of a scan)."""
    position, found = 2, []
    while position < len(data):
        marker = data[position + 1]
        if marker == 0xD9:  # EOI
            break
        end = position + 2 + int.from_bytes(data[position + 2:position + 4], "big")
        while marker == 0xDA:  # SOS: the scan's data runs to the next 0xFF that is neither stuffing nor a restart
            end = data.index(b"\xff", end)
            if data[end + 1] != 0 and not 0xD0 <= data[end + 1] <= 0xD7:
                break
            end += 2
        found.append((marker, data[position:end]))
        position = end
    return found


def progressive_jpeg(width: int, height: int, scans: int) -> bytes:
    """A progressive grey JPEG of a bar on paper whose last AC scan is repeated until it has `scans` scans (at
    least the encoder's own 6): the shape of ../shared/cases/red2/prog_bomb_4096_20000.jpg, which libjpeg decodes
    in full, every repeat a pass over all the picture's blocks."""
    plain = encode(Image.fromarray(bar_on_paper(width, height)), "JPEG", progressive=True, quality=90)
    segments = _segments(plain)
    scans_found = [segment for marker, segment in segments if marker == 0xDA]

    def spectral_start(segment: bytes) -> int:
        return segment[5 + 2 * segment[4]]

    repeated = [segment for segment in scans_found if spectral_start(segment) > 0][-1]
    extra = max(0, scans - len(scans_found))
    return b"\xff\xd8" + b"".join(segment for _, segment in segments) + repeated * extra + b"\xff\xd9"


def png_with_chunk(png: bytes, kind: bytes, payload: bytes) -> bytes:
    """`png` with one more chunk of `kind` (e.g. b"zTXt") right after its header (IHDR ends at byte 33)."""
    chunk = len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")
    return png[:33] + chunk + png[33:]


def big_metadata(kind: bytes, megabytes: float = 2) -> bytes:
    """The payload of a text or ICC chunk that holds `megabytes` once decompressed (a few kB as stored)."""
    inflated = zlib.compress(b" " * int(megabytes * 2**20), 9)
    if kind == b"zTXt":
        return b"Comment\0\0" + inflated
    if kind == b"iTXt":
        return b"Comment\0\1\0\0\0" + inflated  # compressed, method 0, no language, no translated keyword
    if kind == b"iCCP":
        return b"profile\0\0" + inflated
    return b"Comment\0" + b" " * int(megabytes * 2**20)  # tEXt: stored as it is
