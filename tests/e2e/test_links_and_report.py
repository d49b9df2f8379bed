"""Issue 14 in a real browser: Train in view on a laptop screen, a shared address reopening a comparison in a
fresh browser, and the study report downloaded from the page opening with the network off."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_browser import STATUS, TRAIN_TIMEOUT_MS, captions, open_compare, wait_for_comparison

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
LAPTOPS = [(1366, 768), (1440, 900)]


def settle(page):
    page.wait_for_timeout(1000)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=TRAIN_TIMEOUT_MS)


def in_view(page, button) -> bool:
    box = button.bounding_box()
    viewport = page.viewport_size
    return (box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= viewport["width"]
            and box["y"] + box["height"] <= viewport["height"])


@pytest.mark.parametrize("width, height", LAPTOPS)
def test_the_primary_buttons_are_in_view_on_first_load_at_laptop_sizes(browser, app_url, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    for path, name in (("", "Train"), ("/study", "Run study")):
        page.goto(app_url + path)
        button = page.get_by_role("button", name=name, exact=True)
        button.wait_for(timeout=60_000)
        settle(page)
        assert in_view(page, button), f"{name} is outside the {width}x{height} window at {button.bounding_box()}"
    context.close()


def test_a_shared_compare_address_shows_the_same_comparison_in_a_fresh_browser(browser, app_url):
    page, train = open_compare(browser, app_url, sample_size=110, epochs=1)
    train.click()
    wait_for_comparison(page)
    settle(page)
    expect(page.locator('[data-testid="stMetricValue"]')).to_have_count(6, timeout=30_000)
    shared = page.url
    assert "size=110" in shared and "epochs=1" in shared  # the address mirrors the choices
    accuracies = page.locator('[data-testid="stMetricValue"]').all_inner_texts()[::3]

    fresh = browser.new_context(viewport={"width": 1400, "height": 1600})  # another browser: no session, no cookies
    other = fresh.new_page()
    other.goto(shared)
    other.get_by_text("Timing", exact=True).wait_for(timeout=60_000)  # shown without pressing Train
    statuses = other.locator('[data-testid="stCaptionContainer"]').filter(has_text=STATUS)
    expect(statuses).to_have_count(2, timeout=30_000)
    assert sum("from cache" in text for text in captions(other)) == 2
    expect(other.locator('[data-testid="stMetricValue"]')).to_have_count(6, timeout=30_000)
    assert other.locator('[data-testid="stMetricValue"]').all_inner_texts()[::3] == accuracies
    assert other.get_by_label("Training images (balanced across classes)", exact=True).input_value() == "110"
    assert other.locator('[data-testid="stException"]').count() == 0
    fresh.close()


def test_the_downloaded_study_report_opens_offline_and_shows_the_verdicts(browser, app_url, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1400}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{app_url}/study?sizes=100&seeds=2&epochs=1&networks=flat,conv&pairs=conv:flat")
    run = page.get_by_role("button", name="Run study", exact=True)
    run.wait_for(timeout=60_000)
    settle(page)
    run.click()
    download_button = page.get_by_role("button", name="Download report (HTML)")
    download_button.wait_for(timeout=TRAIN_TIMEOUT_MS)
    settle(page)
    with page.expect_download() as download_info:
        download_button.click()
    assert download_info.value.suggested_filename == "study-mnist-flat-conv-100.html"  # named after the study
    report = Path(tmp_path / "study-report.html")
    download_info.value.save_as(report)
    context.close()

    offline = browser.new_context(viewport={"width": 390, "height": 844}, offline=True)  # a phone, no network
    requests = []
    offline.on("request", lambda request: requests.append(request.url))
    page = offline.new_page()
    page.goto(report.as_uri())
    expect(page.get_by_text(re.compile(r"^H1: does each network reach at least 80%"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^conv − flat \(H2\)$"))).to_be_visible()  # the differences' column
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=30_000)  # plotly drew
    assert page.locator(".js-plotly-plot").count() == 3
    assert [url for url in requests if not url.startswith("file:")] == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # text and tables wrap (test_tables_fit.py)
    offline.close()
