"""Remake the README's Compare, Study and Robustness screenshots from a real server and Chromium.

    python docs/screenshots.py [--quick] [--store DIR] [--chromium /usr/bin/chromium]

Trains what the store lacks through the CLI (the student's comparison; the "Convolution or capacity?" study at
100, 300 and 1,000 digits, 3 seeds: ~10 minutes on 2 cores the first time; with --quick at 100 and 300 digits,
2 seeds, 4 epochs: a minute or two), serves the app on that store and opens both pages by their shareable
addresses, so the pictures show stored runs, as a shared link would.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NETWORKS = "flat,conv,flat-wide,conv-small"
PAIRS = "conv:flat,conv:flat-wide,conv-small:flat"
STUDY = {"sizes": ["100", "300", "1000"], "seeds": "3", "epochs": "12"}
QUICK_STUDY = {"sizes": ["100", "300"], "seeds": "2", "epochs": "4"}
COMPARE = "/?size=1000&epochs=12&seed=0&networks=flat,conv"


def shots(study: dict) -> dict:
    """name -> (address, viewport) of each picture."""
    return {
        "compare.png": (COMPARE, (1440, 2200)),
        "study.png": (f"/study?sizes={','.join(study['sizes'])}&seeds={study['seeds']}&epochs={study['epochs']}"
                      f"&networks={NETWORKS}&pairs={PAIRS}", (1440, 3000)),
    }


def cli(store: Path, *arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "core", *arguments], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "RUN_STORE_DIR": str(store)})


def robustness_shot(browser, address: str) -> None:
    """The Compare page's Robustness section, measured if it is not stored yet."""
    page = browser.new_page(viewport={"width": 1440, "height": 6000})
    page.goto(address)
    heading = page.get_by_role("heading", name="Robustness: shifted, rotated, scaled and noisy digits")
    heading.wait_for(timeout=120_000)
    measure = page.get_by_role("button", name="Measure robustness", exact=True)
    page.wait_for_timeout(2000)
    if measure.count():
        measure.click()
    page.get_by_text("One test digit, level by level").wait_for(timeout=300_000)
    page.wait_for_timeout(4000)
    top = heading.bounding_box()["y"] - 20
    page.screenshot(path=str(ROOT / "docs" / "robustness.png"),
                    clip={"x": 280, "y": top, "width": 1160, "height": 1450})
    print("wrote docs/robustness.png")
    page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "digits-screenshots-store")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--quick", action="store_true", help="a smaller study (a minute or two to train)")
    args = parser.parse_args()
    study = QUICK_STUDY if args.quick else STUDY

    cli(args.store, "compare")
    cli(args.store, "study", "--architectures", *NETWORKS.split(","), "--pairs", *PAIRS.split(","),
        "--sizes", *study["sizes"], "--seeds", study["seeds"], "--epochs", study["epochs"])
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(args.port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "RUN_STORE_DIR": str(args.store)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            for name, (path, (width, height)) in shots(study).items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(url + path)
                compare = name == "compare.png"
                page.get_by_text("Timing" if compare else "The answer", exact=True).wait_for(timeout=120_000)
                charts = 3  # the study's accuracy, time and gap charts; the comparison's curves and confusion matrices
                page.locator(".js-plotly-plot").nth(charts - 1).wait_for(timeout=120_000)
                table = "stDataFrame" if compare else "stTable"  # the study's verdict tables wrap (st.table)
                page.locator(f'[data-testid="{table}"]:visible').first.wait_for(timeout=120_000)
                page.wait_for_timeout(4000)  # the charts finish drawing
                page.screenshot(path=str(ROOT / "docs" / name))
                print(f"wrote docs/{name}")
                page.close()
            robustness_shot(browser, url + COMPARE)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
