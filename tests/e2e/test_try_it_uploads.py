"""Issue 27 in a real browser: a phone's EXIF-rotated JPEG and a 16-bit PNG, uploaded on Try it, read as the 7s
they are by both real models (2,000 digits, trained once per session: tests/conftest.py)."""

import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageOps, features
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, serve, write_digits

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CASES = ROOT / "tests" / "data" / "try_it"


@pytest.fixture(scope="module")
def trained_app_url(tmp_path_factory, digits, trained_store):
    """The app served from a store holding real flat and conv models (a copy of the session's: tests/conftest.py)."""
    folder = tmp_path_factory.mktemp("try-it")
    shutil.copytree(trained_store[0].root, folder / "store")
    with serve(folder, write_digits(folder, digits)) as url:
        yield url


def upload_and_read(page, path: Path, note: str) -> list[str]:
    """Upload `path`, wait for the rerun that shows `note`, and return both models' answers."""
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    expect(page.get_by_text(note)).to_be_visible(timeout=120_000)
    answers = page.locator('[data-testid="stMetricValue"]')
    expect(answers).to_have_count(2, timeout=60_000)
    return answers.all_inner_texts()


def test_an_exif_rotated_jpeg_and_a_16_bit_png_read_as_seven_with_both_models(browser, trained_app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{trained_app_url}/try_it")
    page.get_by_role("heading", name="Try it: your own digit").wait_for(timeout=60_000)
    page.get_by_text("Upload", exact=True).click()  # the Input choice (a segmented control)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').wait_for(state="attached", timeout=30_000)

    assert upload_and_read(page, CASES / "seven_exif_orientation6.jpg", "as its EXIF orientation tag (6) says") \
        == ["7", "7"]
    assert upload_and_read(page, CASES / "seven_16bit_black_on_white.png", "16-bit grey levels") == ["7", "7"]
    expect(page.get_by_text("EXIF orientation tag")).to_have_count(0)  # the second answer is the second file's
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow does not read AVIF")
def test_a_thin_pen_zero_an_avif_and_an_unreadable_file_in_the_browser(browser, trained_app_url, tmp_path):
    """Issues 36 and 37: the thin-pen 0 scanned at 4000x4000 reads as 0 with both real models (it was refused as
    "no ink"); an AVIF is taken by the browser's file picker and read (the type list refused it); and a file
    that cannot be read says so and clears the previous answers (they stayed on screen)."""
    seven = tmp_path / "seven.avif"
    ImageOps.exif_transpose(Image.open(CASES / "seven_exif_orientation6.jpg")).save(seven, "AVIF", quality=90)
    unreadable = tmp_path / "photo.heic"
    unreadable.write_bytes(b"ftypheic: not a picture this Pillow reads")
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{trained_app_url}/try_it")
    page.get_by_role("heading", name="Try it: your own digit").wait_for(timeout=60_000)
    page.get_by_text("Upload", exact=True).click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').wait_for(state="attached", timeout=30_000)

    assert upload_and_read(page, CASES / "zero_4000px_thin_stroke.png", "were widened") == ["0", "0"]
    dropzone, answers = page.locator('[data-testid="stFileUploaderDropzoneInput"]'), \
        page.locator('[data-testid="stMetricValue"]')
    assert "avif" in (dropzone.get_attribute("accept") or ".avif")  # no type list, or one with AVIF in it
    dropzone.set_input_files(str(seven))
    expect(answers).to_have_text(["7", "7"], timeout=120_000)
    dropzone.set_input_files(str(unreadable))
    expect(page.get_by_text("This file is not a picture that can be read")).to_be_visible(timeout=60_000)
    expect(answers).to_have_count(0)
    assert page.locator('[data-testid="stException"]').count() == 0
