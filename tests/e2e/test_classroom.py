"""Issue 24 in real browsers: three sessions press Train at once on one server; each sees its place in line and
then its results; the web server never loads TensorFlow (the training happens in its worker process)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SERVER_PIDS, loads_tensorflow, process_tree_mb

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TRAIN_TIMEOUT_MS = 300_000


def test_three_sessions_wait_their_turn_see_their_place_and_all_get_results(browser, app_url):
    """On the session's server: one worker (TRAIN_WORKERS' default), runs nobody else asks for."""
    pid = SERVER_PIDS[app_url]
    pages = []
    for seed in (1, 2, 3):
        context = browser.new_context(viewport={"width": 1366, "height": 900})  # a session of its own
        page = context.new_page()
        page.goto(f"{app_url}/?size=200&epochs=3&seed={seed}&networks=flat,conv")
        page.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
        pages.append(page)
    for page in pages:
        page.get_by_role("button", name="Train", exact=True).click()
    # The last session's runs wait behind the others': it is told where it stands, with an estimate.
    expect(pages[2].get_by_text(re.compile(r"\d(st|nd|rd|th) in line")).first).to_be_visible(timeout=60_000)
    for page in pages:
        page.get_by_text("Timing", exact=True).wait_for(timeout=TRAIN_TIMEOUT_MS)
        assert page.locator('[data-testid="stException"]').count() == 0
    assert not loads_tensorflow(pid), "the web server imported TensorFlow"
    server_mb, tree_mb = process_tree_mb(pid)
    assert server_mb < 350 and tree_mb > server_mb  # the workers are its children and hold TensorFlow
    for path, title in (("/runs", "Stored runs"), ("/study", "The study: when does conv beat flat?")):
        pages[0].goto(app_url + path)
        pages[0].get_by_role("heading", name=title).wait_for(timeout=60_000)
        pages[0].wait_for_timeout(1000)  # Streamlit's running indicator may show only after a moment
        expect(pages[0].locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=60_000)  # run ended
        assert pages[0].locator('[data-testid="stException"]').count() == 0
    assert not loads_tensorflow(pid)
