"""Issue 38 in real browsers: two sessions each draw two digits on Our digits (mouse strokes on the canvas), the
set counts four, the verdict appears for the stored flat and conv (real models, asked in the worker process), and
a server restart keeps the set."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import serve, write_digits

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ADDRESS = "/our_digits?class=e2e-room"


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1366, "height": 1400})  # a session of its own
    page = context.new_page()
    page.goto(url + ADDRESS)
    page.get_by_role("heading", name=re.compile("^Draw a \\d$")).wait_for(timeout=60_000)
    return page


def draw_and_save(page) -> str:
    """Draw a long stroke on the canvas as a user would (mouse down, moves, up), save it under the digit asked
    for, and return that digit."""
    asked = page.get_by_role("heading", name=re.compile("^Draw a \\d$")).inner_text()
    label = asked[-1]
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=30_000)
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.15 * box["height"])
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(box["x"] + (0.5 - 0.01 * step) * box["width"], box["y"] + (0.15 + 0.035 * step) * box["height"],
                        steps=2)
    page.mouse.up()
    page.wait_for_timeout(1500)  # the canvas sends its pixels when the stroke ends: let that rerun finish
    page.get_by_role("button", name=f"Save as a {label}").click()
    expect(page.get_by_text(f"Saved your {label}")).to_be_visible(timeout=30_000)
    return label


@pytest.fixture(scope="module")
def served(tmp_path_factory, digits, trained_store):
    """A folder with a store holding real flat and conv models (a copy of the session's) and the digits file."""
    folder = tmp_path_factory.mktemp("our-digits")
    shutil.copytree(trained_store[0].root, folder / "store")
    return folder, write_digits(folder, digits)


def test_two_sessions_draw_four_digits_get_a_verdict_and_a_restart_keeps_the_set(browser, served):
    folder, mnist = served
    with serve(folder, mnist) as url:
        pages = [open_page(browser, url), open_page(browser, url)]
        labels = [draw_and_save(page) for _ in range(2) for page in pages]
        assert sorted(labels) == ["0", "0", "1", "1"]  # each session starts at the set's scarcest label, then on
        pages[0].reload()
        expect(pages[0].get_by_role("heading", name="The class set: 4 digits")).to_be_visible(timeout=60_000)
        expect(pages[0].get_by_text("Per digit: 0: 2 · 1: 2 · 2: 0")).to_be_visible()
        pages[0].get_by_role("button", name="Ask the networks about our 4 digits").click()
        expect(pages[0].get_by_text(re.compile(r"^On 4 digits from this class, conv is right on"))).to_be_visible(
            timeout=180_000)
        expect(pages[0].get_by_text(re.compile(r"^conv right, flat wrong: \d+ digit"))).to_be_visible()
        for page in pages:
            assert page.locator('[data-testid="stException"]').count() == 0
            page.context.close()
    with serve(folder, mnist) as url:  # a new server on the same store
        page = open_page(browser, url)
        expect(page.get_by_role("heading", name="The class set: 4 digits")).to_be_visible(timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.context.close()
