"""First paint: from starting `streamlit run app.py` (cold) until the Compare page shows its controls.

    python benchmarks/bench_first_paint.py [--repeats 3]

Also reports whether the server had loaded TensorFlow by then (it should not: the page needs none).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import common  # noqa: F401
from common import ROOT, machine, table

sys.path.insert(0, str(ROOT))
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402


def tensorflow_loaded(pid: int) -> bool:
    with open(f"/proc/{pid}/maps") as maps:
        return "libtensorflow" in maps.read()


def measure(browser, page_path: str = "") -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory() as store:
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true", "--server.address", "127.0.0.1"],
            cwd=ROOT, env={**os.environ, "RUN_STORE_DIR": store}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            page = browser.new_page()
            while True:  # the browser retries until the server listens
                try:
                    page.goto(f"http://127.0.0.1:{port}/{page_path}", timeout=30_000)
                    break
                except Exception:
                    time.sleep(0.05)
            page.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
            painted = time.perf_counter() - started
            loaded = tensorflow_loaded(server.pid)
            page.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {"first paint s": painted, "TensorFlow loaded": loaded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        rows = [{"run": index + 1, **measure(browser)} for index in range(args.repeats)]
        browser.close()
    print(f"Machine: {machine()}")
    print(table(rows, ["run", "first paint s", "TensorFlow loaded"]))
    print(f"\nbest {min(row['first paint s'] for row in rows):.2f} s, "
          f"median {sorted(row['first paint s'] for row in rows)[len(rows) // 2]:.2f} s")


if __name__ == "__main__":
    main()
