"""Memory: peak RSS of a process training both models, at 1,000 and at 60,000 images (target < 1.5 GB).

    python benchmarks/bench_memory.py [--sizes 1000 60000]

Each size runs in its own process (Fashion-MNIST, the full 60,000 of which are available offline),
so each peak is that training's alone; the store is a temporary folder.
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


def peak_rss_training(size: int, epochs: int) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of `python -m core compare` training flat and conv."""
    with tempfile.TemporaryDirectory() as store:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "core", "compare", "--dataset", "fashion_mnist", "--sample-size", str(size),
             "--epochs", str(epochs)],
            cwd=ROOT, env={**os.environ, "RUN_STORE_DIR": store}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if status != 0:
            raise RuntimeError(f"training {size} images failed with status {status}")
    return usage.ru_maxrss / 1024, seconds  # ru_maxrss is in kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 60000])
    parser.add_argument("--epochs", type=int, default=2, help="peak memory is reached in the first epoch")
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        megabytes, seconds = peak_rss_training(size, args.epochs)
        rows.append({"images": f"{size:,}", "epochs": args.epochs, "peak RSS MB": megabytes, "wall s": seconds})
        print(rows[-1], flush=True)
    print(f"\nMachine: {machine()}")
    print(table(rows, ["images", "epochs", "peak RSS MB", "wall s"]))


if __name__ == "__main__":
    main()
