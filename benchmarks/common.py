"""Shared by the benchmark scripts: the machine, a numpy sgemm peak, and a model's FLOPs."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as `python benchmarks/x.py` from the repository root


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def sgemm_peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Best float32 matrix-multiply rate numpy reaches here (its BLAS, all threads)."""
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    b = np.random.default_rng(1).random((size, size), dtype=np.float32)
    a @ b  # warm-up
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def forward_flops_per_image(model) -> int:
    """Multiply-adds x 2 of the Conv2D and Dense layers for one image (the rest is negligible)."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, channels_out = layer.output.shape
            kernel_height, kernel_width, channels_in, _ = layer.kernel.shape
            total += 2 * height * width * channels_out * kernel_height * kernel_width * channels_in
        elif isinstance(layer, keras.layers.Dense):
            inputs, outputs = layer.kernel.shape
            total += 2 * inputs * outputs
    return int(total)


def training_flops(model, num_images: int, num_epochs: int) -> float:
    """Forward + backward (about 3x the forward pass) for every image of every epoch."""
    return 3.0 * forward_flops_per_image(model) * num_images * num_epochs


def table(rows: list[dict], columns: list[str]) -> str:
    """A Markdown table, ready for benchmarks/README.md."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(column)) for column in columns) + " |")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    return "" if value is None else str(value)


def side_by_side_arguments(doc: str) -> argparse.ArgumentParser:
    """A benchmark's parser with --repeats and --vs (another checkout measured alternately in the same run)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vs", type=Path, help="another checkout to measure in the same run, alternately")
    return parser
