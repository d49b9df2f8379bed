"""A fresh server opened straight at a page's address (a bookmark, a shared link)."""

import pytest

from tests.e2e.conftest import serve, write_digits

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_deep_link_on_a_fresh_server_still_runs_the_entrypoint(browser, tmp_path, digits):
    with serve(tmp_path, write_digits(tmp_path, digits)) as url:  # its first page is the deep link
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/study")
        page.get_by_role("heading", name="The study: when does conv beat flat?").wait_for(timeout=60_000)
        links = page.locator('[data-testid="stSidebarNavLink"]')
        links.first.wait_for(timeout=30_000)
        names = [text.split("\n")[-1] for text in links.all_inner_texts()]
        page.close()
    assert names == ["Compare", "Study", "Try it", "Our digits", "Data", "Runs"]  # app.py's navigation, not the files
