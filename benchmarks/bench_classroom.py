"""A class on one app: K browser sessions press Train at once, each with its own seed, on one fresh server.

    python benchmarks/bench_classroom.py [--sessions 1 4 8] [--vs DIR] [--dataset fashion_mnist --size 60000
                                         --epochs 1] [--networks flat,conv]
                                         [--memory-mb M] [--cpus C] [--threads T] [--store DIR] [--study CELLS]

For each K: a fresh `streamlit run app.py` (its own empty store, the data a new user here gets), K headless
Chromium sessions on Compare (a link sets seed = session number; everything else as given, else the student's
defaults), then Train pressed in every session within a fraction of a second. Measured per session: click ->
its comparison on screen; over the run: the web server process's peak resident memory, the whole process tree's
(server and workers; sampled every 0.25 s) and the exceptions pages showed. --vs DIR runs another checkout the
same way in the same run (e.g. `git worktree add /tmp/before <commit>`), so the ratios compare like with like.

In a container (issue 35): --memory-mb M and --cpus C run the server (and so its workers) in a cgroup of that size
(benchmarks/container.py: v1 or v2, root only), importing from a fresh copy of the libraries whose pages were
dropped from the cache, as in a new container; MEMORY_BUDGET_MB and TRAIN_WORKERS stay unset unless the
environment sets them. Reported besides: OOM kills, the cgroup's peak charge and failcnt, each session's place in
line, and a session that gets the app's memory notice instead of results. --store DIR starts from a copy of that
store (e.g. runs trained before by `python -m core compare --seed 1`): sessions whose runs are stored open them
without training ("opened s"). --threads T sets TensorFlow's thread pools (TF_NUM_INTRAOP_THREADS and
TF_NUM_INTEROP_THREADS) instead of the app's choice; "train s" is the runs' own training time from the store.

Fair shares (issue 35): --study CELLS adds a session that starts a study of about CELLS cells (flat and conv, 300
and 1,000 images, 11 epochs so that no cell is a session's run, CELLS/4 seeds) and waits until its first cell
trains; then the K sessions press Train.
Reported per session besides: "own s" (its runs' training time) and "limit s", its own training plus the study's
longest cell plus 10 s — the target: every session's click->results within it.

Targets (issue 24, K = 8 on a 2-core machine): every session gets its results with zero exceptions; the first
within 1.5x of one comparison alone; the median within 0.6x of the commit before; the server below 350 MB
throughout; the tree below the memory budget (MEMORY_BUDGET_MB, default 2,400). Fashion-MNIST at 60,000
images, 1 epoch, K = 3: the tree below the budget.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
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
NOTICE = "training needs about"  # ui/server_notice.py: the server has too little memory to train
PLACE = re.compile(r"\d+(st|nd|rd|th) in line[^\n]*")


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


def one_class(checkout: str, sessions: int, args, browser) -> list[dict]:
    """One fresh server and `sessions` sessions pressing Train (or opening stored runs): a row per session."""
    from container import Container

    port = free_port()
    box = Container(args.memory_mb, args.cpus) if args.memory_mb or args.cpus else None
    with tempfile.TemporaryDirectory() as folder, (box or _Nothing()):
        store = Path(folder) / "store"
        if args.store:
            shutil.copytree(args.store, store)
        env = {**os.environ, "RUN_STORE_DIR": str(store), "STUDY_ASK_MINUTES": "100000"}
        if args.threads:
            env.update(TF_NUM_INTRAOP_THREADS=str(args.threads), TF_NUM_INTEROP_THREADS=str(args.threads))
        log = Path(folder) / "streamlit.log"
        server = start_streamlit(Path(checkout), port, box.environment(env) if box else env, log,
                                 wrap=box.wrap if box else None)
        url = f"http://127.0.0.1:{port}"
        rows = [{"session": seed} for seed in range(1, sessions + 1)]
        sampler = None
        try:
            wait_healthy(url, server, log, timeout=300)
            sampler = Sampler(server.pid)
            pages = []
            for row in rows:
                page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
                query = f"seed={row['session']}&networks={args.networks}&dataset={args.dataset}"
                query += f"&size={args.size}" if args.size else ""
                query += f"&epochs={args.epochs}" if args.epochs else ""
                opened = time.perf_counter()
                page.goto(f"{url}/?{query}", timeout=300_000)
                page.get_by_role("button", name="Train", exact=True).wait_for(timeout=300_000)
                while time.perf_counter() - opened < 20 and not page.get_by_text(RESULTS, exact=True).count():
                    time.sleep(0.2)  # a stored comparison opens without a click
                if page.get_by_text(RESULTS, exact=True).count():
                    row["opened s"] = time.perf_counter() - opened
                pages.append(page)
            study = start_study(browser, url, args.study) if args.study else None
            time.sleep(3)  # the user reads the page
            clicked = {}
            for row, page in zip(rows, pages):
                if "opened s" not in row:
                    page.get_by_role("button", name="Train", exact=True).click()
                    clicked[row["session"]] = time.perf_counter()
            deadline = time.perf_counter() + args.timeout
            waiting = [(row, page) for row, page in zip(rows, pages) if row["session"] in clicked]
            while waiting and time.perf_counter() < deadline:
                for row, page in list(waiting):
                    text = page.locator("body").inner_text()
                    place = PLACE.search(text)
                    if place and "place shown" not in row:
                        row["place shown"] = place.group(0)
                    shown = page.get_by_text(RESULTS, exact=True).count() > 0
                    if shown or NOTICE in text:
                        row["click->results s" if shown else "click->notice s"] = (
                            time.perf_counter() - clicked[row["session"]])
                        waiting.remove((row, page))
                time.sleep(0.2)
            for row, page in zip(rows, pages):
                row["exceptions"] = page.locator('[data-testid="stException"]').count()
                page.context.close()
            if study is not None:
                study.context.close()  # the study's queued cells are dropped with its session
            sampler.stop()
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            over = {**(box.stats() if box else {}), "server peak MB": sampler and sampler.server_mb,
                    "tree peak MB": sampler and sampler.tree_mb}
        train_seconds = _train_seconds(store)
        if args.study:
            _fair_share(rows, store)
    for row in rows:
        row.update(over, **{"train s": train_seconds})
    return rows


STUDY_EPOCHS = 11  # not the sessions' 12: the study's cells are never the runs a session asks for


def start_study(browser, url: str, cells: int):
    """A session that starts a study of about `cells` cells on the Study page and returns once its first cell is
    training (its page stays open: the study goes on)."""
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    seeds = max(1, cells // 4)
    page.goto(f"{url}/study?networks=flat,conv&sizes=300,1000&seeds={seeds}&epochs={STUDY_EPOCHS}", timeout=300_000)
    page.get_by_role("button", name="Run study", exact=True).wait_for(timeout=300_000)
    confirm = page.get_by_text("Yes, queue", exact=False)
    if confirm.count():
        confirm.first.click()
        time.sleep(2)
    page.get_by_role("button", name="Run study", exact=True).click()
    page.get_by_text("Cell 1 of", exact=False).first.wait_for(timeout=300_000)
    return page


def _fair_share(rows: list[dict], store: Path) -> None:
    """Each session's own training time (its seed's runs) and the target: own + the study's longest cell + 10 s."""
    from core.runs import RunStore

    listed = RunStore(store).list_runs()
    longest = max((run["train_seconds"] for run in listed if run["num_epochs"] == STUDY_EPOCHS), default=0.0)
    for row in rows:
        own = sum(run["train_seconds"] for run in listed
                  if run["seed"] == row["session"] and run["num_epochs"] != STUDY_EPOCHS)
        row["own s"] = own
        row["limit s"] = own + longest + 10
        done = row.get("click->results s")
        row["within"] = None if done is None else done <= row["limit s"]


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def _train_seconds(store: Path) -> float | None:
    """The runs' own training time, summed, from the store's records (None when none was stored)."""
    from core.runs import RunStore

    rows = RunStore(store).list_runs() if store.is_dir() else []
    times = [row["train_seconds"] for row in rows if row.get("train_seconds")]
    return sum(times) if times else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--vs", metavar="DIR", help="another checkout, measured the same way in this run")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--size", type=int, help="training images (default: the page's, 1,000)")
    parser.add_argument("--epochs", type=int, help="default: the recipe's (12)")
    parser.add_argument("--networks", default="flat,conv")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds to wait for every session")
    parser.add_argument("--memory-mb", type=float, help="the server's container: a memory cgroup of this size")
    parser.add_argument("--cpus", type=float, help="the server's container: a CPU quota of this many CPUs")
    parser.add_argument("--threads", type=int, help="TensorFlow's thread pools (default: the app's choice)")
    parser.add_argument("--store", help="start from a copy of this store folder (its runs open without training)")
    parser.add_argument("--study", type=int, default=0, metavar="CELLS",
                        help="first, another session starts a study of about this many cells")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    checkouts = {"ours": str(ROOT), **({"vs": args.vs} if args.vs else {})}
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for sessions in args.sessions:
            for name, checkout in checkouts.items():
                for row in one_class(checkout, sessions, args, browser):
                    row = {"code": name, "sessions": sessions, **row}
                    print(row, flush=True)
                    rows.append(row)
        browser.close()
    print(f"Machine: {machine()}; dataset {args.dataset}, size {args.size or 'default'}, epochs "
          f"{args.epochs or 'default'}, networks {args.networks}; container: memory {args.memory_mb or '-'} MB, "
          f"cpus {args.cpus or '-'}; threads {args.threads or 'as the app chooses'}")
    print(table(rows, ["sessions", "code", "session", "opened s", "click->results s", "click->notice s",
                       "place shown", "own s", "limit s", "within", "exceptions", "train s", "oom kills",
                       "cgroup peak MB", "failcnt", "server peak MB", "tree peak MB"]))


if __name__ == "__main__":
    main()
