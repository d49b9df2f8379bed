"""Issue 30 in a real browser: injection links and a network whose description is Markdown, opened while a
server on 127.0.0.1 counts every request made to it (none may come: nothing is fetched, no link is live, the
text is shown as typed); and the big-batch link on a fresh server stays within the memory budget (it came only
from a link: nothing is prepared for it)."""

import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.conftest import loads_tensorflow, process_tree_mb, serve, write_digits

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def counter():
    """An HTTP server on 127.0.0.1 that answers everything and counts the requests it gets."""
    requests = []

    class Count(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        do_POST = do_HEAD = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Count)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()


def descendants(pid: int) -> list[int]:
    """The process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    children.setdefault(int(stat.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    tree, stack = [], [pid]
    while stack:
        tree.append(stack.pop())
        stack.extend(children.get(tree[-1], []))
    return tree


def any_tensorflow(pid: int) -> bool:
    found = False
    for one in descendants(pid):
        try:
            found = found or loads_tensorflow(one)
        except OSError:  # the process ended meanwhile
            pass
    return found


def settled(page, url: str):
    page.goto(url)
    page.get_by_role("button", name="Train", exact=True).or_(
        page.get_by_role("button", name="Run study", exact=True)).wait_for(timeout=60_000)
    page.wait_for_timeout(2500)  # every element drawn; an image would have been fetched by now


def test_injection_links_and_a_markdown_description_fetch_nothing_and_show_the_text(browser, tmp_path, digits,
                                                                                     counter):
    outside, requests = counter
    store = tmp_path / "store"
    (store / "networks").mkdir(parents=True)
    description = f"[click me](javascript:alert(1)) ![beacon]({outside}/beacon.png) **bold**"
    (store / "networks" / "red-md.json").write_text(json.dumps(
        {"name": "red-md", "input": "vector", "layers": [{"type": "dense", "units": 8}], "description": description}))
    phish = f"[Session expired - click here to log in again]({outside}/phish)"
    links = {"/?dataset=" + urllib.parse.quote(phish): phish,
             "/?networks=" + urllib.parse.quote(f"![x]({outside}/b.png)"): f"![x]({outside}/b.png)",
             "/study?sizes=" + urllib.parse.quote(f"![b]({outside}/s.png)"): f"![b]({outside}/s.png)",
             "/?networks=red-md": description}
    with serve(tmp_path, write_digits(tmp_path, digits), TRAIN_WORKERS="0") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        for path, shown in links.items():
            settled(page, url + path)
            body = page.locator("body").inner_text()
            assert shown[:50] in body, f"{path}: the text is not shown as typed"  # echoed values are shortened
            assert page.locator(f'a[href*="{outside}"], img[src*="{outside}"], a[href^="javascript"]').count() == 0
        page.close()
    assert requests == []


LINKS = ["/?size=4000&batch=8192&networks=conv&epochs=12",  # over the budget
         "/?size=4000&batch=256&networks=conv&epochs=12"]   # within it, but only a link's


def test_links_on_a_fresh_server_start_no_training_work_and_stay_within_the_budget(browser, tmp_path, digits):
    """Both links, each in a session of its own, on one fresh server: neither may start work."""
    budget_mb = 2400
    with serve(tmp_path, write_digits(tmp_path, digits), MEMORY_BUDGET_MB=str(budget_mb)) as url:
        from tests.e2e.conftest import SERVER_PIDS

        contexts = [browser.new_context() for _ in LINKS]
        pages = [context.new_page() for context in contexts]
        for page, link in zip(pages, LINKS):
            settled(page, url + link)
        peak, tensorflow = 0.0, False
        deadline = time.time() + 20  # the old code had started a worker (TensorFlow) and traced a model by now
        while time.time() < deadline:
            peak = max(peak, process_tree_mb(SERVER_PIDS[url])[1])
            tensorflow = tensorflow or any_tensorflow(SERVER_PIDS[url])
            time.sleep(0.5)
        for context in contexts:
            context.close()
    assert not tensorflow, "TensorFlow was loaded for a link's settings nobody asked to train"
    assert peak < min(budget_mb, 1000), f"the server and its workers reached {peak:,.0f} MB"
