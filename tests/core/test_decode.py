"""core/decode.py: the pictures of issue 36 (tests/data/red2/) and their kinds, each named after what it guards."""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest
from PIL import Image, ImageOps, features

from core import decode
from core.decode import ImageProblem, block_pools, format_words, preview, read_upload
from core.preprocess import EmptyImage, prepare_digit
from tests.core.picture_files import (RED, TRY_IT, bar_on_paper, big_metadata, encode, frames, png_with_chunk,
                                      progressive_jpeg, strip)


def numpy_peak_megabytes(function, *arguments):
    """(function's result, the peak of Python and numpy allocations while it ran, in MB)."""
    tracemalloc.start()
    try:
        result = function(*arguments)
        return result, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# --- shapes: shrunk without padding the short side up ------------------------------------------------------------

def test_a_one_pixel_wide_strip_is_not_padded_up_to_the_shrink_factor():
    """Regression: the 668-byte 300,000x1 PNG was padded to 300,000x586 floats (1.38 GB at peak: the server was
    killed in a 1.2 GB container). The longest strip read, 65,536x1, was padded to 65,536x128 (96 MB)."""
    picture, peak = numpy_peak_megabytes(read_upload, strip(1, 65536))
    assert picture.grey.shape == (512, 1) and picture.dark_strokes.shape == (512, 1)
    assert peak < 4, f"{peak:.0f} MB"
    assert prepare_digit(picture).pixels.shape == (28, 28)


def test_the_300000x1_strip_is_refused_before_it_is_decoded(monkeypatch):
    decoded = []
    monkeypatch.setattr(decode, "decode", lambda picture: decoded.append(picture))
    with pytest.raises(ImageProblem, match="1×300,000 pixels: far too long and thin to hold a digit"):
        read_upload((RED / "strip_300000x1.png").read_bytes())
    assert decoded == []


@pytest.mark.parametrize("shape, factor", [((1, 1000), 7), ((1000, 1), 7), ((9, 5), 4), ((16, 16), 4), ((3, 700), 8)])
def test_block_pools_never_pad_edge_blocks(shape, factor, rng):
    values = rng.random(shape).astype(np.float32) * 255
    mean, dark, light = block_pools(values, factor)
    expected = (-(-shape[0] // factor), -(-shape[1] // factor))
    assert mean.shape == dark.shape == light.shape == expected
    last = values[(expected[0] - 1) * factor:, (expected[1] - 1) * factor:]  # the bottom-right block, as it is
    assert mean[-1, -1] == pytest.approx(last.mean(), rel=1e-5)
    assert (dark <= mean + 1e-3).all() and (mean <= light + 1e-3).all()


def test_a_strip_of_one_pixel_reads_as_a_digit_or_says_why():
    for name in ("strip_300000x1.png", "strip_1x20000_exception.png"):
        try:
            digit = prepare_digit(read_upload((RED / name).read_bytes()))
        except ImageProblem as problem:
            assert str(problem)
            continue
        assert digit.pixels.shape == (28, 28) and np.isfinite(digit.pixels).all()


# --- previews ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 20000), (20000, 1), (1, 1), (512, 1), (1, 3), (160, 160), (300, 17)])
def test_a_preview_is_square_whatever_the_shape(shape):
    """Regression: st.image(width=160) made a 1x500 picture 0 pixels tall and showed Streamlit's error box
    (tests/data/red2/strip_1x20000_exception.png)."""
    grey = np.zeros(shape, np.float32)  # black, on the lighter mat
    shown = preview(grey)
    assert shown.shape == (160, 160) and shown.dtype == np.uint8
    rows, columns = np.flatnonzero((shown == 0).any(axis=1)), np.flatnonzero((shown == 0).any(axis=0))
    assert len(rows) and len(columns)  # the picture is in it, at least one pixel wide
    assert max(len(rows), len(columns)) == 160  # fitted to the square
    assert abs((rows[0] + rows[-1]) / 2 - 79.5) <= 0.5 and abs((columns[0] + columns[-1]) / 2 - 79.5) <= 0.5


def test_the_strip_that_broke_the_preview_previews():
    picture = read_upload((RED / "strip_1x20000_exception.png").read_bytes())
    assert picture.grey.shape == (1, 500)
    assert preview(picture.grey).shape == (160, 160)


# --- progressive scans: refused by their cost before anything is decoded --------------------------------------

def test_a_progressive_jpeg_with_thousands_of_scans_is_refused_before_it_is_decoded(monkeypatch):
    """Regression: cases/red2/prog_bomb_4096_20000.jpg (726 kB, 20,006 scans) cost 24 s of CPU on every rerun."""
    decoded = []
    monkeypatch.setattr(decode, "decode", lambda picture: decoded.append(picture))
    with pytest.raises(ImageProblem, match="20,006 progressive scans, and at most 29 are read"):
        read_upload((RED / "prog_bomb_4096_20000.jpg").read_bytes())
    assert decoded == []


def test_the_scan_limit_scales_with_the_pictures_megapixels():
    small, large = progressive_jpeg(400, 300, 450), progressive_jpeg(2048, 1024, 450)  # 0.1 and 2 megapixels
    assert read_upload(small).grey.shape == (300, 400)
    with pytest.raises(ImageProblem, match="at most 238 are read for a picture of 2.1 megapixels"):
        read_upload(large)
    assert read_upload(progressive_jpeg(2048, 1024, 40)).grey.shape == (256, 512)  # a camera's handful of scans


# --- frames: only the first is read ------------------------------------------------------------------------------

@pytest.mark.parametrize("format", ["GIF", "WEBP", "TIFF"])
def test_the_first_frame_of_many_is_what_is_read(format):
    data = frames(format, 200)  # each frame the bar moved one pixel further right
    picture = read_upload(data)
    first = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float32)
    np.testing.assert_allclose(picture.grey, first, atol=2)
    with Image.open(io.BytesIO(data)) as animation:
        animation.seek(1)
        assert np.abs(picture.grey - np.asarray(animation.convert("L"), dtype=np.float32)).max() > 100


# --- formats -----------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not features.check("avif"), reason="this Pillow does not read AVIF")
def test_avif_is_read_where_pillow_reads_it():
    """Regression: the uploader's type list blocked AVIF, which browsers show and this Pillow reads."""
    data = encode(Image.fromarray(bar_on_paper(120, 160)).convert("RGB"), "AVIF", quality=90)
    assert "AVIF" in format_words()
    digit = prepare_digit(read_upload(data))
    assert digit.pixels.shape == (28, 28) and digit.has("inverted")


def test_a_phones_jpeg_with_a_second_picture_inside_is_read_as_a_jpeg():
    """MPO: Pillow's name for a JPEG carrying a second picture (a depth or gain map), as phones save them."""
    first, second = (Image.fromarray(bar_on_paper(90, 120)).convert("RGB") for _ in range(2))
    data = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    assert read_upload(data).grey.shape == (120, 90)


# --- metadata ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [b"zTXt", b"iTXt", b"iCCP", b"tEXt"])
def test_a_png_text_or_icc_chunk_over_a_megabyte_is_ignored_not_called_damaged(kind):
    """Regression: Pillow refuses a text or ICC chunk over 1 MB decompressed (PngImagePlugin.MAX_TEXT_CHUNK), and
    the picture was called "damaged"."""
    plain = strip(60, 80)
    picture = read_upload(png_with_chunk(plain, kind, big_metadata(kind)))
    np.testing.assert_array_equal(picture.grey, read_upload(plain).grey)


def test_a_png_whose_exif_says_turn_is_still_turned_without_its_text_chunks():
    upright = bar_on_paper(40, 60)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = png_with_chunk(encode(Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90), exif=exif.tobytes()),
                          b"zTXt", big_metadata(b"zTXt"))
    picture = read_upload(data)
    np.testing.assert_array_equal(picture.grey, upright)
    assert [note.kind for note in picture.notes] == ["rotated"]


# --- EXIF orientation: Pillow's exif_transpose (issue 34) ------------------------------------------------------

def test_the_phone_jpeg_tagged_6_reads_as_pillows_exif_transpose_shows_it(monkeypatch):
    data = (TRY_IT / "seven_exif_orientation6.jpg").read_bytes()
    with Image.open(io.BytesIO(data)) as stored:
        reference = np.asarray(ImageOps.exif_transpose(stored).convert("L"), dtype=np.float32)
    turned = []
    real = ImageOps.exif_transpose
    monkeypatch.setattr(ImageOps, "exif_transpose", lambda image, **options: turned.append(1) or real(image, **options))
    picture = read_upload(data)
    np.testing.assert_allclose(picture.grey, reference, atol=0.6)
    assert turned and "(6)" in picture.notes[0].text


# --- thin strokes: ink even when thinner than the shrink factor (issue 37 item 9) ------------------------------

def test_a_stroke_thinner_than_the_shrink_factor_still_counts_as_ink():
    """Regression: the thin-pen 0 scanned at 4000x4000 was averaged in 8x8 blocks to half its strength and then
    refused as "no ink"."""
    picture = read_upload((TRY_IT / "zero_4000px_thin_stroke.png").read_bytes())
    assert picture.grey.shape == (500, 500)
    assert picture.dark_strokes.min() == 0 and picture.grey.min() > 100  # the block means had lost the ink
    digit = prepare_digit(picture)
    assert digit.has("thickened") and digit.pixels.shape == (28, 28)


@pytest.mark.parametrize("width", [1, 2, 3])
@pytest.mark.parametrize("ink, background", [(0, 255), (255, 0)], ids=["dark ink", "light ink"])
def test_a_thin_ring_drawn_large_is_found_whatever_its_width(width, ink, background):
    side = 3000
    rows, columns = np.ogrid[:side, :side]
    radius = np.hypot(rows - side / 2, columns - side / 2)
    paper = np.where(np.abs(radius - side / 3) < width / 2 + 0.01, ink, background).astype(np.uint8)
    digit = prepare_digit(read_upload(encode(Image.fromarray(paper))))
    assert digit.pixels[14, 14] < 0.2 and digit.pixels[14, 4] > 0.3  # the hole dark, the ring bright


def test_specks_smaller_than_a_block_do_not_survive_shrinking(rng):
    paper = np.full((2048, 2048), 255, np.uint8)
    paper[rng.random(paper.shape) < 0.01] = 0  # 1% of pixels black: salt and pepper
    picture = read_upload(encode(Image.fromarray(paper)))
    assert picture.grey.shape == (512, 512)
    assert (picture.dark_strokes < 128).mean() < 0.001  # a min pool would have kept 15% of the blocks black
    with pytest.raises(EmptyImage):
        prepare_digit(picture)


@pytest.mark.parametrize("width", [2, 6, 15])
def test_stroke_width_reads_a_bars_width(width):
    from core.preprocess import stroke_width

    mask = np.zeros((300, 100), bool)
    mask[20:280, 40:40 + width] = True
    assert stroke_width(mask) == pytest.approx(width, rel=0.15)


def test_a_full_height_digit_drawn_with_the_canvas_pen_is_never_widened():
    """The canvas's pen is 20 of 280 pixels (ui/drawing.py): its strokes stay as drawn, so the canvas's digits
    (Try it's and the class page's) are prepared as before."""
    canvas = np.full((280, 280, 4), 255, np.uint8)
    canvas[0:280, 130:150, :3] = 0  # a "1" from top to bottom, the pen's width
    canvas[0:20, 60:220, :3] = 0    # and a bar across the top: a "7" as wide as the canvas
    digit = prepare_digit(canvas)
    assert not digit.has("thickened")
