"""In a real browser: design a network, save it, train it; after a server restart it reopens from the store."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, serve, write_digits
from tests.e2e.test_browser import TRAIN_TIMEOUT_MS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NAME = "my-pooled-net"


def settle(page):
    """Until the app has finished its rerun: Streamlit's running indicator may show only after a moment, so
    each step below also waits for its own visible outcome."""
    page.wait_for_timeout(1000)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=60_000)


def open_compare(browser, url):
    page = browser.new_page(viewport={"width": 1440, "height": 2400})
    page.goto(url)
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
    for _attempt in range(3):  # a rerun still running on a busy server can put back a value typed meanwhile
        for label, value in (("Training images (balanced across classes)", 100), ("Epochs", 1)):
            field = page.get_by_label(label, exact=True)
            field.fill(str(value))
            field.press("Enter")
            settle(page)
        values = page.get_by_text(re.compile(r"^Trains on 100 images · 1 epochs "))
        if values.count() == 1:
            break
    expect(values).to_have_count(1)  # the runs below are the ones the other server stored
    return page


def choose_only(page, name):
    """Leave only `name` in the sidebar's Architectures choice (chips read "name · parameters")."""
    choice = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]')
    if choice.locator(f'[aria-label^="{name} · "][data-tag]').count() == 0:
        choice.get_by_role("combobox").click()
        page.get_by_role("option", name=f"{name} · ").click()
        page.keyboard.press("Escape")
        settle(page)
        expect(choice.locator(f'[aria-label^="{name} · "][data-tag]')).to_have_count(1)
    for other in ("flat", "conv"):
        choice.locator(f'button[aria-label^="Remove {other} · "]').click()
        expect(choice.locator(f'button[aria-label^="Remove {other} · "]')).to_have_count(0)
        settle(page)
    expect(choice.locator("[data-tag]")).to_have_count(1)


def test_a_network_built_in_the_editor_trains_is_stored_and_reopens_after_a_restart(browser, tmp_path, digits):
    mnist = write_digits(tmp_path, digits)
    with serve(tmp_path, mnist) as url:
        page = open_compare(browser, url)
        page.get_by_text("Design your own network").click()
        # conv-small to start with; add a second max-pooling (it goes before the Flatten).
        page.get_by_role("button", name="Add", exact=True).scroll_into_view_if_needed()
        page.get_by_label("Add a layer").click()
        page.get_by_role("option", name="Max-pooling").click()
        page.get_by_role("button", name="Add", exact=True).click()
        settle(page)
        expect(page.get_by_text("8. Dropout", exact=True)).to_be_visible(timeout=10_000)
        expect(page.get_by_text("11,438 parameters", exact=False)).to_be_visible()  # 6×6×8 into Dense 36
        name = page.get_by_label("Name", exact=True)
        expect(name).to_have_count(1, timeout=30_000)  # a rerun's stale copy gone (the warm-up slows reruns)
        name.fill(NAME)
        name.press("Enter")
        expect(page.get_by_role("button", name="Save network")).to_be_enabled(timeout=30_000)
        settle(page)
        page.get_by_role("button", name="Save network").click()
        settle(page)
        expect(page.get_by_text(f"Saved {NAME}", exact=False)).to_be_visible(timeout=10_000)
        choose_only(page, NAME)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("Timing", exact=True).wait_for(timeout=TRAIN_TIMEOUT_MS)
        expect(page.get_by_role("heading", name=NAME, exact=True)).to_have_count(1)
        expect(page.locator('[data-testid="stCaptionContainer"]').filter(has_text="trained now")).to_have_count(1)
        assert page.locator('[data-testid="stException"]').count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "e2e-network-editor.png"))

    with serve(tmp_path, mnist) as url:  # the same store, a new server
        page = open_compare(browser, url)
        choose_only(page, NAME)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("Timing", exact=True).wait_for(timeout=60_000)
        settle(page)
        captions = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
        alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
        assert sum("from cache" in caption for caption in captions) == 1, (captions, alerts)  # what it showed
        expect(page.get_by_role("heading", name=NAME, exact=True)).to_have_count(1)
        page.get_by_role("link", name="Runs").click()
        expect(page.get_by_text("Your networks", exact=True)).to_be_visible(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
