"""Our digits (issue 38): the verdict for flat + conv on a 1,000-digit class set, first and cached, through the app's
own path (its caches, its worker process); and how long one digit takes to add while 8 sessions add at once.

    python benchmarks/bench_class_digits.py [--repeats 2] [--adds 15] [--database URL]

Targets: the verdict on 1,000 digits within 5 s the first time, instant when cached; an add answers within 0.5 s.
The runs are the student's comparison (1,000 images, 12 epochs), trained once by `python -m core compare`; the set
is the 1,000 offline MNIST test digits imported with the CLI. "first" is timed with the worker process already up
(the app starts it when a page with model work opens), its models not loaded; "cold" adds the worker's start and
its TensorFlow import. An add is the page's path: the canvas checked and prepared (core.preprocess.prepare_digit),
the session's limits checked, the digit stored — 8 threads at once, as 8 sessions of one server. With --database
(or RUN_STORE_TEST_URL) the adds are also timed against PostgreSQL.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import common  # noqa: F401
from common import ROOT, machine, table

import numpy as np

CODE = "BENCH"
SESSIONS = 8


def canvases(count: int, seed: int) -> list[np.ndarray]:
    """Drawn-looking canvases (280, 280, 4): a thick random polyline, black on white, as the canvas returns them."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    made = []
    for _ in range(count):
        picture = Image.new("RGBA", (280, 280), (255, 255, 255, 255))
        points = [tuple(int(value) for value in rng.integers(50, 230, 2)) for _ in range(5)]
        ImageDraw.Draw(picture).line(points, fill=(0, 0, 0, 255), width=20, joint="curve")
        made.append(np.asarray(picture))
    return made


def verdict_once(digits, location: str):
    """The page's verdict path: the set read once per version, each run's answers once per (run, version)."""
    from core.class_digits.networks import default_run_ids, describe
    from core.class_digits.verdict import evaluate
    from core.runs import RunStore
    from ui import class_digits_view, class_verdict_view

    store = RunStore(location)
    runs = [store.get(run_id) for run_id in default_run_ids(store.list_runs())]
    class_set = class_digits_view._class_set(location, CODE, digits.version(CODE))
    predictions = {run.run_id: class_verdict_view._predictions(location, run.run_id, run.config.pixels, CODE,
                                                               class_set.version, class_set.images) for run in runs}
    return evaluate(class_set.labels, describe(runs), predictions)


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def verdict_rows(location: str, repeats: int) -> list[dict]:
    import streamlit as st

    from core.class_digits import digit_store
    from ui import cache

    digits = digit_store(cache.store(location))
    rows = []
    for repeat in range(repeats):
        st.cache_data.clear()
        st.cache_resource.clear()  # a new server: a new worker pool
        seconds, found = timed(lambda: verdict_once(digits, location))
        rows.append({"measure": "verdict, cold (worker start, TensorFlow import, models loaded)",
                     "digits": found.num_digits, "s": seconds, "repeat": repeat + 1})
        cache.service(location).executor.shutdown()
        st.cache_resource.clear()
        st.cache_data.clear()
        executor = cache.service(location).executor
        executor.compute(None, callable, (), label="waiting for the worker")  # returns once TensorFlow is imported
        seconds, found = timed(lambda: verdict_once(digits, location))
        rows.append({"measure": "verdict, first (worker up, models not loaded)", "digits": found.num_digits,
                     "s": seconds, "repeat": repeat + 1})
        seconds, found = timed(lambda: verdict_once(digits, location))
        rows.append({"measure": "verdict, cached (same set version)", "digits": found.num_digits, "s": seconds,
                     "repeat": repeat + 1})
        digits.add(CODE, 3, np.zeros((28, 28), np.uint8))
        seconds, found = timed(lambda: verdict_once(digits, location))
        rows.append({"measure": "verdict, a digit later (models loaded)", "digits": found.num_digits, "s": seconds,
                     "repeat": repeat + 1})
        print(found.sentence, file=sys.stderr)
        executor.shutdown()
    return rows


def add_rows(digits, where: str, adds: int) -> list[dict]:
    """Each of SESSIONS threads adds `adds` digits through the page's path at once; every add's time."""
    from core.class_digits.limits import check_session, prepare_drawing

    drawings = [canvases(adds, seed) for seed in range(SESSIONS)]
    barrier = threading.Barrier(SESSIONS)
    times: dict[str, list[float]] = {"add (drawing checked, prepared, stored)": [], "of which storing": []}
    lock = threading.Lock()

    def session(number: int) -> None:
        added: list[float] = []
        barrier.wait()
        for canvas in drawings[number]:
            started = time.perf_counter()
            pixels = prepare_drawing(canvas)
            check_session(added, time.monotonic())
            stored_at = time.perf_counter()
            digits.add(f"{CODE}-ADDS", number % 10, pixels)
            ended = time.perf_counter()
            added.append(time.monotonic())
            with lock:
                times["add (drawing checked, prepared, stored)"].append(ended - started)
                times["of which storing"].append(ended - stored_at)

    threads = [threading.Thread(target=session, args=(number,)) for number in range(SESSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(digits.read(f"{CODE}-ADDS")) == SESSIONS * adds, "an add was lost"
    return [{"store": where, "measure": measure, "adds": len(values), "median s": statistics.median(values),
             "p95 s": float(np.percentile(values, 95)), "max s": max(values)} for measure, values in times.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--adds", type=int, default=15, help="digits each of the 8 sessions adds (the per-session "
                        "rate allows 20 a minute)")
    parser.add_argument("--database", default=os.environ.get("RUN_STORE_TEST_URL"),
                        help="also time the adds against this PostgreSQL database (default: RUN_STORE_TEST_URL)")
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # "No runtime found": the caches work without one
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update({"RUN_STORE_DIR": folder, "TRAIN_WORKERS": "1"})
        os.environ.pop("RUN_STORE_URL", None)
        subprocess.run([sys.executable, "-m", "core", "compare"], cwd=ROOT, check=True, capture_output=True)
        subprocess.run([sys.executable, "-c", "import numpy as np; from core.data import load_dataset; "
                        "d = load_dataset('mnist'); np.savez('set.npz', x=d.x_test[:1000], y=d.y_test[:1000])"],
                       cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
        subprocess.run([sys.executable, "-m", "core", "class-digits", "import", os.path.join(folder, "set.npz"),
                        "--class", CODE], cwd=ROOT, check=True, capture_output=True)
        verdicts = verdict_rows(folder, args.repeats)

        from core.class_digits.storage import FolderDigits

        adds = add_rows(FolderDigits(os.path.join(folder, "adds")), "folder", args.adds)
    if args.database:
        from core.class_digits.postgres import PostgresDigits
        from tests.postgres_server import drop_database, new_database

        url = new_database(args.database)
        try:
            adds += add_rows(PostgresDigits(url), "PostgreSQL", args.adds)
        finally:
            from core.runs.postgres import forget_databases

            forget_databases()
            drop_database(args.database, url)
    print(f"Machine: {machine()}\n")
    print(table(verdicts, ["measure", "digits", "repeat", "s"]))
    print()
    print(table(adds, ["store", "measure", "adds", "median s", "p95 s", "max s"]))


if __name__ == "__main__":
    main()
