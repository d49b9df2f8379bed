"""First paint: from starting `streamlit run app.py` (cold) until the Compare page is painted to its end.

    python benchmarks/bench_first_paint.py [--repeats 3] [--vs DIR]

"Painted" is the last thing the page shows on a first visit, its "Nothing is stored for these settings
yet" line ("Nothing trained yet" in older commits; the Train button, which used to end the sidebar, now opens
it and paints early). --vs DIR measures another checkout too (e.g. `git worktree add /tmp/before <commit>`),
alternating with this one in the same run.

Side by side, the same measurement of a one-button Streamlit app: the floor that Streamlit and headless
Chromium set on this machine, whatever the app does. Also reports whether the server had loaded
TensorFlow by then (it should not: the page needs none).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401
from common import ROOT, machine, side_by_side_arguments, table

sys.path.insert(0, str(ROOT))
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402


def tensorflow_loaded(pid: int) -> bool:
    with open(f"/proc/{pid}/maps") as maps:
        return "libtensorflow" in maps.read()


BASELINE_APP = ('import streamlit as st\nst.title("Baseline")\nst.button("Train")\n'
                'st.info("Nothing is stored for these settings yet")\n')
# The last element of both pages (older commits said "Nothing trained yet").
PAINTED = re.compile("Nothing is stored for these settings yet|Nothing trained yet")


def measure(browser, folder) -> float:
    """Seconds from `streamlit run app.py` in `folder` until the page is painted, and whether TF loaded."""
    port = free_port()
    with tempfile.TemporaryDirectory() as store:
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true", "--server.address", "127.0.0.1"],
            cwd=folder, env={**os.environ, "RUN_STORE_DIR": store}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            page = browser.new_page()
            while True:  # the browser retries until the server listens
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=30_000)
                    break
                except Exception:
                    time.sleep(0.05)
            page.get_by_text(PAINTED).wait_for(timeout=60_000)
            painted = time.perf_counter() - started
            loaded = tensorflow_loaded(server.pid)
            page.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return painted, loaded


def main() -> None:
    args = side_by_side_arguments(__doc__).parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as baseline:
        Path(baseline, "app.py").write_text(BASELINE_APP)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for index in range(args.repeats):  # alternate the apps so drift hits all of them
            ours, tensorflow = measure(browser, ROOT)
            row = {"run": index + 1, "our app s": ours}
            if args.vs:
                row["--vs app s"], _ = measure(browser, args.vs)
            floor, _ = measure(browser, baseline)
            row.update({"one-button app s": floor, "ours minus floor s": ours - floor, "TensorFlow loaded": tensorflow})
            if args.vs:
                row["ours / --vs"] = ours / row["--vs app s"]
            rows.append(row)
        browser.close()
    print(f"Machine: {machine()}")
    print(table(rows, list(rows[0])))
    median = lambda key: sorted(row[key] for row in rows)[len(rows) // 2]  # noqa: E731
    print(f"\nmedian: our app {median('our app s'):.2f} s, one-button app {median('one-button app s'):.2f} s, "
          f"ratio {median('our app s') / median('one-button app s'):.2f}"
          + (f"; --vs app {median('--vs app s'):.2f} s, ours / --vs per run: median {median('ours / --vs'):.2f}"
             if args.vs else ""))


if __name__ == "__main__":
    main()
