"""The first Train click: from the click to the comparison on screen, next to the runs' own training seconds.

    python benchmarks/bench_first_train.py [--repeats 3] [--vs DIR] [--wait 3] [--timeline]

A fresh `streamlit run app.py` (its own empty store, the data a new user here gets) and headless Chromium:
the page appears, the user waits `--wait` seconds and presses Train on the defaults (the student's
comparison). Measured: click -> both columns rendered, and the training seconds the two runs recorded
(`model.fit`, as the Timing table shows). Then, on the now-warm server, a second comparison with other
settings (500 digits, seed 1), the same way. --vs DIR measures another checkout too (e.g. `git worktree add
/tmp/before <commit>`), alternating with this one in the same run.

Targets (issue 17): click-to-rendered at most 1.3x the training seconds on a fresh server, 1.1x on a warm one.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401
from common import ROOT, machine, side_by_side_arguments, table

sys.path.insert(0, str(ROOT))
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, start_streamlit, wait_healthy  # noqa: E402

PAINTED = re.compile("Nothing is stored for these settings yet|Nothing trained yet")  # now | older commits
SECOND = {"Training images (balanced across classes)": 500, "Seed": 1}


def training_seconds(folder: Path, store: str, run_ids: set[str]) -> float:
    listed = subprocess.run([sys.executable, "-m", "core", "runs", "--json"], cwd=folder, check=True,
                            capture_output=True, text=True, env={**os.environ, "RUN_STORE_DIR": store})
    runs = [run for run in json.loads(listed.stdout) if run["run_id"] not in run_ids]
    return sum(run["train_seconds"] for run in runs), {run["run_id"] for run in runs}


# What the page shows, polled while it trains (--timeline): the progress bars' text, the runs stored, the
# comparison's captions, Streamlit's running indicator and the charts drawn.
PAGE_STATE = """() => ({
  bars: [...document.querySelectorAll('[data-testid="stProgress"]')].map(e => e.innerText).join(' | '),
  trained: [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
             .filter(e => e.innerText.includes('trained now')).length,
  running: document.querySelectorAll('[data-testid="stStatusWidget"]').length,
  charts: document.querySelectorAll('.js-plotly-plot').length})"""


def press_train_and_wait(page, store: str, stored_after: int, timeline: list | None = None) -> float:
    """Seconds from the click until the page has drawn the comparison of the `stored_after`-th run pair.
    With `timeline`, appends (seconds, what changed) while waiting for the runs."""
    started = time.perf_counter()
    page.get_by_role("button", name="Train", exact=True).click()
    deadline = time.time() + 600
    last = None
    while True:  # the old comparison stays on screen meanwhile
        stored = len(list(Path(store, "runs").glob("*/manifest.json")))
        if timeline is not None:
            state = page.evaluate(PAGE_STATE)
            state["bars"] = re.sub(r"epoch (\d+)/\d+[^|]*", lambda m: f"epoch {'1' if m[1] == '1' else 'n'} ",
                                   state["bars"])
            state["stored"] = stored
            if state != last:
                timeline.append((round(time.perf_counter() - started, 2), state))
                last = state
            if stored >= stored_after and state["trained"] >= 2 and not state["running"] and state["charts"] >= 4:
                break
        elif stored >= stored_after:
            break
        if time.time() > deadline:
            raise TimeoutError("the runs were not stored within 600 s")
        time.sleep(0.05)
    # Both runs' captions, the script run ended (no running indicator) and the comparison's charts, checked every
    # 50 ms in the page. (Until 2026-12-06 three Playwright `expect`s in a row: their retry intervals grow to 1 s,
    # which added up to ~1 s after the page was ready.)
    page.wait_for_function(f"() => {{ const s = ({PAGE_STATE})(); return s.trained >= 2 && !s.running && "
                           f"s.charts >= 4; }}", polling=50, timeout=60_000)
    return time.perf_counter() - started


def measure(browser, folder: Path, wait: float, timeline: bool = False) -> dict:
    from playwright.sync_api import expect

    port = free_port()
    with tempfile.TemporaryDirectory() as store:
        log = Path(store) / "streamlit.log"  # deleted with the store
        server = start_streamlit(Path(folder), port, {**os.environ, "RUN_STORE_DIR": store}, log)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", server, log)
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_text(PAINTED).wait_for(timeout=120_000)
            time.sleep(wait)
            fresh_marks, warm_marks = ([], []) if timeline else (None, None)
            fresh = press_train_and_wait(page, store, 2, fresh_marks)
            fresh_training, seen = training_seconds(folder, store, set())
            for label, value in SECOND.items():
                field = page.get_by_label(label, exact=True)
                field.fill(str(value))
                field.press("Enter")
            expect(page.get_by_text(re.compile("^Trains on 500 images .* seed 1$"))).to_be_visible(timeout=30_000)
            time.sleep(wait)
            warm = press_train_and_wait(page, store, 4, warm_marks)
            for name, marks in (("fresh", fresh_marks), ("warm", warm_marks)):
                for seconds, state in marks or []:
                    print(f"  {name} {seconds:6.2f} s  {json.dumps(state)}")
            warm_training, _ = training_seconds(folder, store, seen)
            page.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {"fresh click->shown s": fresh, "fresh training s": fresh_training, "fresh ratio": fresh / fresh_training,
            "warm click->shown s": warm, "warm training s": warm_training, "warm ratio": warm / warm_training}


def main() -> None:
    parser = side_by_side_arguments(__doc__)
    parser.add_argument("--wait", type=float, default=3.0, help="seconds between the page appearing and the click")
    parser.add_argument("--timeline", action="store_true",
                        help="print what the page showed when, after each click (polling costs some CPU)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    checkouts = {"this": ROOT, **({"--vs": args.vs} if args.vs else {})}
    results: dict[str, list[dict]] = {name: [] for name in checkouts}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for index in range(args.repeats):
            for name, folder in checkouts.items():  # alternate so that drift hits both
                row = measure(browser, folder, args.wait, args.timeline)
                results[name].append(row)
                print(json.dumps({"checkout": name, "run": index + 1, **row}), flush=True)
        browser.close()
    print(f"Machine: {machine()}")
    rows = []
    for name, series in results.items():
        for key in series[0]:
            values = [row[key] for row in series]
            rows.append({"checkout": name, "figure": key, "median": statistics.median(values), "min": min(values),
                         "max": max(values)})
    print(table(rows, ["checkout", "figure", "median", "min", "max"]))
    if args.vs:
        for figure in ("fresh click->shown s", "warm click->shown s"):
            ratios = [ours[figure] / theirs[figure] for ours, theirs in zip(results["this"], results["--vs"])]
            print(f"{figure.replace(' s', '')}, this / --vs per run: " + ", ".join(f"{ratio:.2f}" for ratio in ratios))


if __name__ == "__main__":
    main()
