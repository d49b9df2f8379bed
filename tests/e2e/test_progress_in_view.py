"""Issue 28 item 2: after a click that starts long work, its progress is where the user looks — inside the first
viewport of a 1366x768 screen — on Compare (Train) and on Study (Run study)."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
WIDTH, HEIGHT = 1366, 768


def first_bar_box(page) -> dict:
    """The first progress bar's box, measured as soon as it is drawn (before anything scrolls)."""
    bar = page.locator('[data-testid="stProgress"]').first
    bar.wait_for(state="visible", timeout=60_000)
    return bar.bounding_box()


def assert_in_first_viewport(page, box: dict) -> None:
    scrolled = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollTop ?? window.scrollY")
    assert scrolled == 0, f"the page scrolled by {scrolled} px"
    assert 0 <= box["y"] and box["y"] + box["height"] <= HEIGHT, f"progress bar at y={box['y']:.0f} px"


def test_trains_progress_is_in_view_after_the_click_on_compare(browser, app_url):
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    page.goto(f"{app_url}/?size=90&epochs=1&networks=flat,conv&seed=11")
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    train.click()
    assert_in_first_viewport(page, first_bar_box(page))
    page.get_by_text("Timing", exact=True).wait_for(timeout=240_000)  # let the training end before the next test
    page.close()


def test_the_studys_progress_is_in_view_after_run_study(browser, app_url):
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    page.goto(f"{app_url}/study?sizes=100&seeds=1&epochs=1&batch=64&networks=flat,conv")  # cells no other test has
    run = page.get_by_role("button", name="Run study", exact=True)
    run.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    run.click()
    assert_in_first_viewport(page, first_bar_box(page))  # beside the settings it uses (issue 37 item 8), in view
    page.get_by_text("The answer", exact=True).wait_for(timeout=240_000)
    page.close()
