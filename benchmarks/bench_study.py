"""The same study in-process and on a local Ray, side by side in one run; and, from the measured per-cell times,
the projected wall time of the full 60,000-image study on 1, 4 and 16 nodes.

    python benchmarks/bench_study.py [--sizes 300 1000 3000] [--seeds 3] [--epochs 12]

Each side is a whole `python -m core study` process on an empty store (so every cell trains), the in-process
one first. Target (issue 13): local Ray at least as fast as in-process on this 2-core machine.
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

FULL_STUDY = {"sizes": [100, 300, 1000, 3000, 10000, 60000], "seeds": 5,
              "architectures": ["flat", "conv", "flat-wide", "conv-small"], "epochs": 12}
# Seconds per image per epoch of the two other networks, relative to the measured ones (README: flat-wide
# 2.9 s vs flat 1.6 s, conv-small 5.9 s vs conv 12.3 s at 1,000 images, 12 epochs).
RELATIVE = {"flat-wide": ("flat", 2.9 / 1.6), "conv-small": ("conv", 5.9 / 12.3)}


def study(store: str, args, executor: str) -> float:
    command = [sys.executable, "-m", "core", "study", "--sizes", *map(str, args.sizes), "--seeds", str(args.seeds),
               "--epochs", str(args.epochs), "--executor", executor]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env={**os.environ, "RUN_STORE_DIR": store}, check=True, capture_output=True)
    return time.perf_counter() - started


def per_image_epoch(store: str) -> dict[str, float]:
    """Training seconds per image per epoch of each network, from the largest size measured in `store`."""
    sys.path.insert(0, str(ROOT))
    from core.runs import RunStore

    rows = RunStore(store).list_runs()
    largest = max(row["sample_size"] for row in rows)
    found: dict[str, list[float]] = {}
    for row in rows:
        if row["sample_size"] == largest:
            found.setdefault(row["architecture"], []).append(row["train_seconds"] / row["num_epochs"] / largest)
    return {name: sum(values) / len(values) for name, values in found.items()}


def projection(rates: dict[str, float], overhead: float, cells_per_node: int) -> list[dict]:
    for name, (base, factor) in RELATIVE.items():
        rates.setdefault(name, rates[base] * factor)
    cells = [rates[name] * size * FULL_STUDY["epochs"] + overhead
             for name in FULL_STUDY["architectures"] for size in FULL_STUDY["sizes"]
             for _ in range(FULL_STUDY["seeds"])]
    total = sum(cells)
    rows = []
    for nodes in (1, 4, 16):
        slots = nodes * cells_per_node
        # Longest cells first onto the least loaded slot: what a scheduler with free slots ends up doing.
        loads = [0.0] * slots
        for seconds in sorted(cells, reverse=True):
            loads[loads.index(min(loads))] += seconds
        rows.append({"nodes": nodes, "cells at once": slots, "projected wall h": max(loads) / 3600,
                     "longest cell min": max(cells) / 60, "cell-hours": total / 3600})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[300, 1000, 3000])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()
    num_cells = len(args.sizes) * args.seeds * 2
    with tempfile.TemporaryDirectory() as here, tempfile.TemporaryDirectory() as there:
        seconds = {"in-process": study(here, args, "in-process"), "local Ray": study(there, args, "ray")}
        rates = per_image_epoch(here)
        trained = sum(row["train_seconds"] for row in __import__("core.runs", fromlist=["RunStore"]).RunStore(
            here).list_runs())
    rows = [{"executor": name, "cells": num_cells, "wall s": value, "cells per minute": num_cells / value * 60,
             "vs in-process": seconds["in-process"] / value} for name, value in seconds.items()]
    print(f"Machine: {machine()}")
    print(f"Study: flat and conv, sizes {args.sizes}, {args.seeds} seeds, {args.epochs} epochs ({num_cells} cells)\n")
    print(table(rows, ["executor", "cells", "wall s", "cells per minute", "vs in-process"]))
    overhead = max(0.0, (seconds["in-process"] - trained) / num_cells)
    print(f"\nIn-process: {trained:.0f} s of model.fit in {seconds['in-process']:.0f} s of wall time "
          f"({overhead:.1f} s per cell besides fit: data, build, predict, store, start-up shared).")
    print("\nProjected full study (sizes 100 … 60,000, 5 seeds, flat, conv, flat-wide, conv-small, 12 epochs: "
          "120 cells) on nodes like this one, from the measured seconds per image per epoch. A node runs one "
          "in-process cell at a time: local Ray ran two one-thread cells at once at the same pace, above):")
    print(table(projection(rates, overhead, cells_per_node=1),
                ["nodes", "cells at once", "projected wall h", "longest cell min", "cell-hours"]))


if __name__ == "__main__":
    main()
