"""Soak: does memory level off when one process trains comparison after comparison?

    python benchmarks/bench_soak.py [--runs 30] [--only process|server]

Two long-lived processes, each with a fresh run store, train `--runs` small comparisons in a row (flat and
conv; 100, 200 or 300 digits, 2 epochs, a new seed each time, so every one trains and the model pool sees
new shapes), and the resident memory (RSS) is read after each:

- process: one Python process calling the store as the CLI does (`RunsService.get_or_train`);
- server:  one `streamlit run app.py`, driven by headless Chromium as a user would (type the values, press
  Train, wait for both columns), its RSS read from /proc.

Target (issue 15): after the first 5 comparisons, RSS grows by less than 50 MB over the rest. RSS moves up
and down by tens of MB between two trainings, so the growth is reported twice: the last reading minus the
5th, and the least-squares trend over comparisons 6 to the last (MB per comparison x their number).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401
from common import ROOT, machine, table

sys.path.insert(0, str(ROOT))

SIZES = (100, 200, 300)
EPOCHS = 2
WARM_UP = 5  # comparisons before the growth is counted
TARGET_MB = 50


def settings(index: int) -> tuple[int, int]:
    """(sample size, seed) of the index-th comparison."""
    return SIZES[index % len(SIZES)], 100 + index


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def soak_in_process(runs: int) -> None:
    """The child process: train, then print one JSON line per comparison."""
    from core.config import TrainConfig
    from core.data import load_dataset
    from core.runs import RunStore, RunsService

    dataset = load_dataset("mnist")
    store = RunStore()
    for index in range(runs):
        sample_size, seed = settings(index)
        started = time.perf_counter()
        for architecture in ("flat", "conv"):
            outcome = RunsService(store).get_or_train(TrainConfig(architecture=architecture, sample_size=sample_size,
                                                     num_epochs=EPOCHS, seed=seed), dataset)
            assert not outcome.cached, "each comparison must train"
        print(json.dumps({"run": index + 1, "rss_mb": rss_mb(), "seconds": time.perf_counter() - started}), flush=True)


def process_series(runs: int, store: str) -> list[dict]:
    child = subprocess.run([sys.executable, __file__, "--child", "--runs", str(runs)], cwd=ROOT, check=True,
                           env={**os.environ, "RUN_STORE_DIR": store}, capture_output=True, text=True)
    return [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]


def server_series(runs: int, store: str) -> list[dict]:
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, start_streamlit, wait_healthy

    port = free_port()
    log = Path(store) / "streamlit.log"  # deleted with the store
    server = start_streamlit(ROOT, port, {**os.environ, "RUN_STORE_DIR": store}, log)
    url = f"http://127.0.0.1:{port}"
    series = []
    try:
        wait_healthy(url, server, log)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(url)
            train = page.get_by_role("button", name="Train", exact=True)
            used = page.get_by_text(re.compile("^Trains on"))
            for index in range(runs):
                sample_size, seed = settings(index)
                for label, value in (("Training images (balanced across classes)", sample_size),
                                     ("Epochs", EPOCHS), ("Seed", seed)):
                    field = page.get_by_label(label, exact=True)
                    field.fill(str(value))
                    field.press("Enter")
                expect(used).to_have_text(f"Trains on {sample_size:,} images · {EPOCHS} epochs · batch 32 · "
                                          f"seed {seed}", timeout=30_000)
                started = time.perf_counter()
                train.click()
                deadline = time.time() + 300
                while stored_runs(store) < 2 * (index + 1):  # the page still shows the last comparison meanwhile
                    if time.time() > deadline:
                        raise TimeoutError(f"comparison {index + 1} was not stored within 300 s")
                    time.sleep(0.1)
                trained = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="trained now")
                expect(trained).to_have_count(2, timeout=60_000)
                expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=60_000)
                series.append({"run": index + 1, "rss_mb": rss_mb(server.pid),
                               "seconds": time.perf_counter() - started})
                print(json.dumps({"server": series[-1]}), flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return series


def stored_runs(store: str) -> int:
    """Complete runs in the store (a manifest is written last)."""
    return len(list(Path(store, "runs").glob("*/manifest.json")))


def growth(series: list[dict]) -> tuple[float, float]:
    """(RSS after the last comparison minus RSS after the WARM_UP-th, the fitted trend over the same span)."""
    import numpy as np

    after = [row["rss_mb"] for row in series[WARM_UP:]]
    slope = np.polyfit(np.arange(len(after)), after, 1)[0]
    return series[-1]["rss_mb"] - series[WARM_UP - 1]["rss_mb"], slope * len(after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--only", choices=["process", "server"])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.runs <= WARM_UP:
        parser.error(f"--runs must be above {WARM_UP}")
    if args.child:
        soak_in_process(args.runs)
        return
    results = {}
    for name, series_of in (("process", process_series), ("server", server_series)):
        if args.only in (None, name):
            with tempfile.TemporaryDirectory() as store:
                results[name] = series_of(args.runs, store)
    print(f"Machine: {machine()}")
    rows = [{"comparison": index + 1, **{f"{name} RSS MB": series[index]["rss_mb"] for name, series in results.items()},
             **{f"{name} s": series[index]["seconds"] for name, series in results.items()}}
            for index in range(args.runs)]
    print(table(rows, list(rows[0])))
    for name, series in results.items():
        grown, trend = growth(series)
        print(f"{name}: RSS after comparison {WARM_UP} {series[WARM_UP - 1]['rss_mb']:.0f} MB, after {args.runs} "
              f"{series[-1]['rss_mb']:.0f} MB: {grown:+.0f} MB; "
              f"fitted trend over comparisons {WARM_UP + 1}-{args.runs} "
              f"{trend:+.0f} MB (target < {TARGET_MB} MB: {'met' if max(grown, trend) < TARGET_MB else 'NOT met'})")


if __name__ == "__main__":
    main()
