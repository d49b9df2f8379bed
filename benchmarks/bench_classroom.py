"""A class on one app: K browser sessions press Train at once, each with its own seed, on one fresh server.

    python benchmarks/bench_classroom.py [--sessions 1 4 8] [--vs DIR] [--dataset fashion_mnist --size 60000
                                         --epochs 1] [--networks flat,conv]

For each K: a fresh `streamlit run app.py` (its own empty store, the data a new user here gets), K headless
Chromium sessions on Compare (a link sets seed = session number; everything else as given, else the student's
defaults), then Train pressed in every session within a fraction of a second. Measured per session: click ->
its comparison on screen; over the run: the web server process's peak resident memory, the whole process tree's
(server and workers; sampled every 0.25 s) and the exceptions pages showed. --vs DIR runs another checkout the
same way in the same run (e.g. `git worktree add /tmp/before <commit>`), so the ratios compare like with like.

Targets (issue 24, K = 8 on a 2-core machine): every session gets its results with zero exceptions; the first
within 1.5x of one comparison alone; the median within 0.6x of the commit before; the server below 350 MB
throughout; the tree below the memory budget (MEMORY_BUDGET_MB, default 2,400). Fashion-MNIST at 60,000
images, 1 epoch, K = 3: the tree below the budget.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import common  # noqa: F401
from common import ROOT, machine, table

sys.path.insert(0, str(ROOT))
from tests.e2e.conftest import (CHROMIUM, CHROMIUM_ARGS, free_port, process_tree_mb, start_streamlit,  # noqa: E402
                                wait_healthy)

RESULTS = "Timing"  # a heading of the finished comparison


class Sampler:
    """The server's and its process tree's peak resident memory, sampled in a thread."""

    def __init__(self, pid: int):
        self.pid, self.server_mb, self.tree_mb = pid, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            server, tree = process_tree_mb(self.pid)
            self.server_mb, self.tree_mb = max(self.server_mb, server), max(self.tree_mb, tree)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def one_class(checkout: str, sessions: int, args, browser) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "RUN_STORE_DIR": str(Path(folder) / "store")}
        log = Path(folder) / "streamlit.log"
        server = start_streamlit(Path(checkout), port, env, log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, server, log)
            sampler = Sampler(server.pid)
            pages = []
            for seed in range(1, sessions + 1):
                page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
                query = f"seed={seed}&networks={args.networks}&dataset={args.dataset}"
                query += f"&size={args.size}" if args.size else ""
                query += f"&epochs={args.epochs}" if args.epochs else ""
                page.goto(f"{url}/?{query}")
                page.get_by_role("button", name="Train", exact=True).wait_for(timeout=120_000)
                pages.append(page)
            time.sleep(3)  # the user reads the page
            clicked = {}
            for page in pages:
                page.get_by_role("button", name="Train", exact=True).click()
                clicked[page] = time.perf_counter()
            done: dict = {}
            deadline = time.perf_counter() + args.timeout
            while len(done) < len(pages) and time.perf_counter() < deadline:
                for page in pages:
                    if page not in done and page.get_by_text(RESULTS, exact=True).count():
                        done[page] = time.perf_counter() - clicked[page]
                time.sleep(0.2)
            exceptions = sum(page.locator('[data-testid="stException"]').count() for page in pages)
            sampler.stop()
            for page in pages:
                page.context.close()
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    seconds = sorted(done.values())
    return {"sessions": sessions, "finished": len(seconds), "exceptions": exceptions,
            "first s": seconds[0] if seconds else float("nan"),
            "median s": statistics.median(seconds) if seconds else float("nan"),
            "last s": seconds[-1] if seconds else float("nan"),
            "server peak MB": sampler.server_mb, "tree peak MB": sampler.tree_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--vs", metavar="DIR", help="another checkout, measured the same way in this run")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--size", type=int, help="training images (default: the page's, 1,000)")
    parser.add_argument("--epochs", type=int, help="default: the recipe's (12)")
    parser.add_argument("--networks", default="flat,conv")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds to wait for every session")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    checkouts = {"ours": str(ROOT), **({"vs": args.vs} if args.vs else {})}
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for sessions in args.sessions:
            for name, checkout in checkouts.items():
                row = {"code": name, **one_class(checkout, sessions, args, browser)}
                print(row, flush=True)
                rows.append(row)
        browser.close()
    print(f"Machine: {machine()}; dataset {args.dataset}, size {args.size or 'default'}, epochs "
          f"{args.epochs or 'default'}, networks {args.networks}")
    print(table(rows, ["sessions", "code", "finished", "exceptions", "first s", "median s", "last s",
                       "server peak MB", "tree peak MB"]))


if __name__ == "__main__":
    main()
