import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from core.decode import ImageProblem, Picture, read_upload
from core.preprocess import EmptyImage
from core.preprocess import prepare_digit as prepare


def prepare_digit(image) -> np.ndarray:
    return prepare(image).pixels


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
    with pytest.raises(EmptyImage, match="has no ink"):
        prepare_digit(image)


def test_a_png_upload_round_trips_to_an_array():
    picture = read_upload(png_bytes(stroke()))
    assert isinstance(picture, Picture) and picture.grey.shape == (200, 200) and picture.grey.dtype == np.float32
    np.testing.assert_array_equal(picture.grey, stroke())


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"hello, I am a text file, not a picture", "not a picture"),
    (png_bytes(stroke())[:200], "damaged"),
])
def test_bad_uploads_get_one_clear_message(data, message):
    with pytest.raises(ImageProblem, match=message):
        read_upload(data)


def test_a_format_outside_the_list_is_refused_politely():
    buffer = io.BytesIO()
    Image.fromarray(stroke()).save(buffer, format="PPM")
    with pytest.raises(ImageProblem, match="PNG, JPEG, WebP, GIF, BMP or TIFF"):
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
    from core import decode

    monkeypatch.setattr(decode, "MAX_UPLOAD_PIXELS", 100 * 100)
    with pytest.raises(ImageProblem, match="too large: 200×200 pixels"):
        read_upload(png_bytes(stroke()))


# --- issue 27: decoding the way a browser shows a picture, and saying what was done --------------------------

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "data" / "try_it"


def kinds(prepared) -> list[str]:
    return [note.kind for note in prepared.notes]


def test_the_exif_orientation_tag_is_applied_and_noted():
    upright = np.full((120, 80), 255, np.uint8)
    upright[10:30, 10:70] = 0  # a bar along the top when shown upright
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # how a phone stores it (tag 6)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="PNG", exif=exif.tobytes())
    picture = read_upload(buffer.getvalue())
    np.testing.assert_array_equal(picture.grey, upright)
    assert [note.kind for note in picture.notes] == ["rotated"] and "(6)" in picture.notes[0].text


def test_sixteen_bit_grey_is_scaled_not_clipped():
    """Regression: convert("L") clipped 16-bit values to 255, so black-on-white read as 'no ink'."""
    picture = read_upload(png_bytes(stroke(ink=0, background=255).astype(np.uint16) * 257))
    np.testing.assert_allclose(picture.grey, stroke(ink=0, background=255), atol=0.01)
    assert "16-bit" in picture.notes[0].text


def test_palette_transparency_is_laid_on_white():
    """Regression: a palette whose every colour is black, the paper's index transparent, read as all ink."""
    indices = (stroke() > 0).astype(np.uint8)  # 1 = ink, 0 = paper
    palette = Image.fromarray(indices, mode="P")
    palette.putpalette([0, 0, 0, 0, 0, 0])
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", transparency=0)
    picture = read_upload(buffer.getvalue())
    np.testing.assert_array_equal(picture.grey, stroke(ink=0, background=255))
    assert kinds(picture) == ["flattened"]


def test_shrinking_averages_transparent_edges_on_white_not_on_the_hidden_colour():
    rgba = np.zeros((64, 64, 4), np.uint8)  # transparent black everywhere...
    rgba[:, :32] = [0, 0, 0, 255]           # ...but the left half, opaque black
    rgba[:, 32:, :3] = 255                  # the transparent half hides white (it must not matter)
    from core.decode import _shrunk_grey_on_white

    grey, _, transparent = _shrunk_grey_on_white(Image.fromarray(rgba), 8)
    assert transparent and grey.shape == (8, 8)
    np.testing.assert_allclose(grey[:, :4], 0) and np.testing.assert_allclose(grey[:, 4:], 255)


def test_polarity_comes_from_the_border_not_the_median():
    """Regression: a bold digit cropped to its box is mostly ink; the median took the ink for paper."""
    bold = np.full((100, 100), 255, np.uint8)
    bold[:, 5:95] = 0
    bold[40:60, 40:60] = 255  # a thick black ring, 81% ink, a white hole and a white margin
    bold[:2, :] = bold[-2:, :] = 255
    prepared = prepare(bold)
    assert prepared.has("inverted")
    assert prepared.pixels[14, 14] < 0.2 and prepared.pixels[14, 6] > 0.5  # the hole dark, the ring bright


def test_uneven_light_is_divided_out_before_the_ink_is_found():
    rows, columns = np.mgrid[:200, :200]
    light = 1 - 0.75 * columns / 199  # a lamp on the left: the right edge's paper is darker than 64
    paper = np.where(stroke(ink=0, background=255) == 0, 0.1, 0.9)
    prepared = prepare((255 * light * paper).astype(np.uint8))
    assert prepared.has("background removed") and prepared.has("inverted")
    np.testing.assert_allclose(prepared.pixels, prepare(stroke()).pixels, atol=0.1)


def test_specks_of_noise_are_left_out_of_the_crop(rng):
    image = stroke(ink=0, background=255, centre=(100, 100), radius=30)
    for row, column in rng.integers(0, 200, size=(6, 2)):
        image[row:row + 2, column:column + 2] = 0  # specks of dirt anywhere
    prepared = prepare(image)
    np.testing.assert_allclose(prepared.pixels, prepare(stroke()).pixels, atol=0.05)
    assert prepared.has("background removed")


def test_a_plain_drawing_gets_no_notes_but_the_inversion():
    assert kinds(prepare(stroke(ink=0, background=255))) == ["inverted"]
    assert kinds(prepare(stroke())) == []


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n", b"GIF89a", b"\xff\xd8\xff"])
def test_truncated_headers_are_a_message(data):
    with pytest.raises(ImageProblem, match="damaged|not a picture"):
        read_upload(data)


def test_a_float_picture_with_nan_is_a_message_not_a_traceback():
    values = np.full((20, 20), 0.5, np.float32)
    values[3, 3] = np.nan
    buffer = io.BytesIO()
    Image.fromarray(values, mode="F").save(buffer, format="TIFF")
    with pytest.raises(ImageProblem, match="not numbers"):
        read_upload(buffer.getvalue())


# --- memory: a 16-megapixel picture is shrunk while decoded ---------------------------------------------------

MEASURE = """
import io, sys
import numpy as np
from PIL import Image
from core.memory import resident_megabytes
from core.decode import read_upload
from core.preprocess import prepare_digit

warm = io.BytesIO()
Image.fromarray(np.full((64, 64), 255, np.uint8)).save(warm, "PNG")
try:
    prepare_digit(read_upload(warm.getvalue()))
except Exception:
    pass
data = open(sys.argv[1], "rb").read()
before = resident_megabytes()
digit = prepare_digit(read_upload(data))
with open("/proc/self/status") as status:  # VmHWM: this process image's peak (ru_maxrss would include the
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))  # forking parent's)
print(peak / 1024 - before)
"""


def sixteen_megapixels(kind: str, path: Path) -> Path:
    """A 4096x4096 picture of a bar (not blank) of `kind`, written to `path`."""
    ink = np.zeros((4096, 4096), bool)
    ink[800:3300, 1900:2200] = True
    if kind == "huge_4096_RGBA.png":
        return CASES / kind
    if kind == "I;16 PNG":
        Image.fromarray(np.where(ink, 0, 65535).astype(np.uint16)).save(path := path / "grey16.png")
    elif kind == "P with transparency":
        picture = Image.fromarray(ink.astype(np.uint8), mode="P")
        picture.putpalette([0, 0, 0, 0, 0, 0])
        picture.save(path := path / "palette.png", transparency=0)
    elif kind == "F TIFF":
        Image.fromarray(np.where(ink, 0, 1).astype(np.float32), mode="F").save(path := path / "float.tif")
    else:  # a phone's JPEG
        Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).convert("RGB").save(path := path / "photo.jpg")
    return path


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from Linux's /proc")
@pytest.mark.parametrize("kind", ["huge_4096_RGBA.png", "I;16 PNG", "P with transparency", "F TIFF", "RGB JPEG"])
def test_a_sixteen_megapixel_picture_adds_at_most_100_mb_at_peak(tmp_path, kind):
    """Regression: the whole picture was converted to float64 before it shrank (RSS +1,083 MB for one upload).
    Measured in a fresh process: its peak RSS while decoding and preparing, minus its RSS just before."""
    path = sixteen_megapixels(kind, tmp_path)
    result = subprocess.run([sys.executable, "-c", MEASURE, str(path)], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    added = float(result.stdout.strip().splitlines()[-1])
    print(f"{kind}: +{added:.0f} MB")
    assert added <= 100, f"{kind}: +{added:.0f} MB at peak"


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 50), (1, 500), (500, 1), (7, 3), (13, 1000)])
def test_tiny_and_thin_pictures_give_a_digit_or_a_message(shape, rng):
    """Regression: a 2x2 picture has 4 tiles of paper, and the fit asked for the 6 brightest (IndexError)."""
    for image in (rng.integers(0, 256, shape).astype(np.uint8), np.where(rng.random(shape) > 0.5, 255, 0)):
        try:
            digit = prepare(read_upload(png_bytes(image.astype(np.uint8))))
        except ImageProblem:
            continue
        assert digit.pixels.shape == (28, 28) and np.isfinite(digit.pixels).all()
