import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from core.preprocess import EmptyImage, ImageProblem, prepare_digit, read_upload


def stroke(shape=(200, 200), centre=(100, 100), radius=30, ink=255, background=0):
    """A filled disc of `ink` on `background`: a synthetic pen blob."""
    rows, columns = np.ogrid[:shape[0], :shape[1]]
    image = np.full(shape, background, dtype=np.uint8)
    image[(rows - centre[0]) ** 2 + (columns - centre[1]) ** 2 <= radius ** 2] = ink
    return image


def png_bytes(array, mode=None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


def centre_of_mass(digit):
    return np.array(ndimage.center_of_mass(digit))


def test_a_centred_blob_stays_centred_and_fits_twenty_pixels():
    digit = prepare_digit(stroke())
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert 0.0 <= digit.min() and digit.max() == pytest.approx(1.0)
    np.testing.assert_allclose(centre_of_mass(digit), [13.5, 13.5], atol=0.5)
    ink_rows = np.flatnonzero(digit.max(axis=1) > 0.1)
    assert 18 <= ink_rows[-1] - ink_rows[0] + 1 <= 22  # scaled to fit 20x20


def test_an_off_centre_blob_is_moved_to_the_centre():
    digit = prepare_digit(stroke(centre=(30, 160), radius=20))
    np.testing.assert_allclose(centre_of_mass(digit), [13.5, 13.5], atol=0.5)


def test_a_tall_stroke_keeps_its_aspect_ratio():
    image = np.zeros((200, 200), dtype=np.uint8)
    image[20:180, 95:105] = 255  # a "1": 160 tall, 10 wide
    digit = prepare_digit(image)
    ink = digit > 0.1
    height = np.ptp(np.flatnonzero(ink.any(axis=1))) + 1
    width = np.ptp(np.flatnonzero(ink.any(axis=0))) + 1
    assert height >= 19 and width <= 4


def test_dark_ink_on_white_paper_is_inverted_back():
    on_paper = prepare_digit(stroke(ink=0, background=255))
    on_black = prepare_digit(stroke())
    np.testing.assert_allclose(on_paper, on_black, atol=0.02)
    assert on_paper[0, 0] == 0.0  # background is black, as in MNIST


def test_a_transparent_canvas_with_white_strokes_reads_like_mnist():
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)  # transparent: how the canvas starts
    blob = stroke((280, 280), (140, 140), 40) > 0
    rgba[blob] = [0, 0, 0, 255]  # black ink, opaque
    digit = prepare_digit(rgba)
    np.testing.assert_allclose(centre_of_mass(digit), [13.5, 13.5], atol=0.5)
    assert digit[14, 14] > 0.5 and digit[0, 0] == 0.0


@pytest.mark.parametrize("image", [np.full((100, 100), 255, np.uint8), np.zeros((100, 100), np.uint8),
                                   np.zeros((280, 280, 4), np.uint8)])
def test_blank_input_is_reported_empty(image):
    with pytest.raises(EmptyImage, match="Draw a digit first"):
        prepare_digit(image)


def test_a_png_upload_round_trips_to_an_array():
    assert read_upload(png_bytes(stroke())).shape == (200, 200)


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"hello, I am a text file, not a picture", "not a picture"),
    (png_bytes(stroke())[:200], "damaged"),
])
def test_bad_uploads_get_one_clear_message(data, message):
    with pytest.raises(ImageProblem, match=message):
        read_upload(data)


def test_a_gif_is_refused_politely():
    buffer = io.BytesIO()
    Image.fromarray(stroke()).save(buffer, format="GIF")
    with pytest.raises(ImageProblem, match="PNG or JPEG"):
        read_upload(buffer.getvalue())


def decompression_bomb() -> bytes:
    """A valid small PNG whose header claims 100,000 x 100,000 pixels (10 gigapixels)."""
    data = bytearray(png_bytes(stroke((8, 8), (4, 4), 2)))
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", 100_000, 100_000)
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)))
    return bytes(data)


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    with pytest.raises(ImageProblem, match="too large"):
        read_upload(decompression_bomb())


def test_a_picture_above_the_upload_limit_but_below_pillows_own_guard_is_refused(monkeypatch):
    from core import preprocess

    monkeypatch.setattr(preprocess, "MAX_UPLOAD_PIXELS", 100 * 100)
    with pytest.raises(ImageProblem, match="too large: 200×200 pixels"):
        read_upload(png_bytes(stroke()))
