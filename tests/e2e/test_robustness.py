"""Issue 12 in a real browser: the Robustness section measured for a comparison, then reopened from the store."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_browser import TRAIN_TIMEOUT_MS, open_compare, wait_for_comparison

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SENTENCE = re.compile(r"^Shifted by 3 pixels: (flat|conv) \d+\.\d%, (flat|conv) \d+\.\d%")  # core/formats.py's percent


def test_robustness_is_measured_shown_and_reopened_from_the_store(browser, app_url):
    page, train = open_compare(browser, app_url, sample_size=130, epochs=1)
    train.click()
    wait_for_comparison(page)
    measure = page.get_by_role("button", name="Measure robustness", exact=True)
    measure.wait_for(timeout=60_000)
    measure.click()
    expect(page.get_by_text(SENTENCE)).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    for title in ("Shift", "Rotate", "Scale", "Noise"):  # one chart per perturbation, a line per model
        expect(page.locator(".js-plotly-plot").filter(has_text=title).filter(has_text="conv")).to_have_count(
            1, timeout=30_000)
    expect(page.get_by_text("One test digit, level by level")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^3: flat \d · conv \d$"))).to_have_count(1)  # the strip's captions
    assert page.locator('[data-testid="stException"]').count() == 0
    shared = page.url

    fresh = browser.new_context(viewport={"width": 1400, "height": 1600})
    other = fresh.new_page()
    other.goto(shared)
    expect(other.get_by_text(SENTENCE)).to_be_visible(timeout=60_000)  # from beside the runs: no click
    assert other.get_by_role("button", name="Measure robustness", exact=True).count() == 0
    fresh.close()
