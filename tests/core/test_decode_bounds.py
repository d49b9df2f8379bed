"""Issue 36: reading an upload costs what the picture will become, whatever its shape, frames or scans.

A property test over random pictures (seeded): strips from 1xN to Nx1 and every aspect between, in several modes;
animations and multi-page files of hundreds of frames; progressive JPEGs of up to thousands of scans; and the
reported files. Each is read and prepared in one fresh process that measures, per picture, its peak resident
memory above what it held just before (the kernel's high-water mark, reset through /proc/self/clear_refs: Pillow's
and libjpeg's memory too, which tracemalloc does not see) and its CPU time. Bounds: the decoded picture at 4 bytes
a pixel plus 64 MB of working space, and 2 s of CPU (the reported strip took 1.38 GB, the progressive JPEG 24 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKING_MB, CPU_SECONDS = 64, 2.0

MEASURE = """
import ctypes, gc, json, sys, time
from tests.core import picture_files as files
from core.decode import ImageProblem, read_upload
from core.preprocess import prepare_digit

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) / 1024 for line in lines if line.startswith(field + ":"))

prepare_digit(read_upload(files.strip(64, 64)))  # warm: imports and first calls
libc = ctypes.CDLL("libc.so.6")
for name, maker, arguments in json.loads(sys.argv[1]):
    data = (files.RED / arguments[0]).read_bytes() if maker == "file" else getattr(files, maker)(*arguments)
    gc.collect()
    libc.malloc_trim(0)  # freed memory back to the system, so that this picture's peak is its own
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # the peak RSS mark back to the current RSS
    before, started = status("VmRSS"), time.process_time()
    try:
        outcome = "digit {}".format(prepare_digit(read_upload(data)).pixels.shape)
    except ImageProblem as problem:
        outcome = "refused: {}".format(problem)
    cpu = time.process_time() - started
    print(json.dumps({"name": name, "added_mb": status("VmHWM") - before, "cpu_s": cpu, "outcome": outcome}))
    del data
"""


def random_cases(seed: int = 36) -> list[tuple[str, str, list]]:
    """(name, maker in tests/core/picture_files.py, its arguments) for random shapes, frames and scans."""
    rng = np.random.default_rng(seed)
    cases = [("300000x1 strip (reported)", "file", ["strip_300000x1.png"]),
             ("1x20000 strip (reported)", "file", ["strip_1x20000_exception.png"]),
             ("4096x4096, 20,006 scans (reported)", "file", ["prog_bomb_4096_20000.jpg"]),
             ("1600x1200 RGBA", "strip", [1600, 1200, "RGBA"]),
             ("1000x1000 JPEG, 495 scans (the budget)", "progressive_jpeg", [1000, 1000, 495])]
    for index in range(12):  # 1xN ... Nx1 and every aspect between, up to 2 megapixels: half of them strips
        if index % 2:
            long_side, short_side = int(np.exp(rng.uniform(np.log(2), np.log(2**20)))), int(rng.integers(1, 3))
        else:
            long_side = int(np.exp(rng.uniform(0, np.log(2**12))))
            short_side = max(1, min(long_side, int(np.exp(rng.uniform(0, np.log(2**12)))), 2**21 // long_side))
        width, height = (long_side, short_side) if rng.random() < 0.5 else (short_side, long_side)
        mode = str(rng.choice(["L", "RGBA", "P", "I;16"]))
        cases.append((f"{width}x{height} {mode}", "strip", [width, height, mode]))
    for format in ("GIF", "WEBP", "TIFF"):
        count = int(rng.integers(100, 400))
        cases.append((f"{format}, {count} frames", "frames", [format, count]))
    for _ in range(4):  # progressive JPEGs both sides of the scan budget
        width, height = (int(side) for side in rng.integers(64, 1600, size=2))
        scans = int(np.exp(rng.uniform(np.log(6), np.log(4000))))
        cases.append((f"{width}x{height} JPEG, {scans} scans", "progressive_jpeg", [width, height, scans]))
    return cases


def pixels(maker: str, arguments: list) -> int:
    if maker == "file":
        from PIL import Image

        with Image.open(ROOT / "tests" / "data" / "red2" / arguments[0]) as picture:
            return picture.width * picture.height
    if maker == "frames":
        return 32 * 32
    return arguments[0] * arguments[1]


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="resets Linux's peak-RSS mark")
def test_reading_any_picture_costs_at_most_its_decoded_size_and_two_seconds():
    cases = random_cases()
    result = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(cases)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    measured = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [row["name"] for row in measured] == [name for name, _, _ in cases]
    failures = []
    for (name, maker, arguments), row in zip(cases, measured):
        allowed_mb = 4 * pixels(maker, arguments) / 2**20 + WORKING_MB
        print(f"{name:38} +{row['added_mb']:6.1f} MB (at most {allowed_mb:5.0f})  {row['cpu_s']:5.2f} s  "
              f"{row['outcome'][:70]}")
        if row["added_mb"] > allowed_mb or row["cpu_s"] > CPU_SECONDS:
            failures.append(name)
    assert not failures, f"over the bounds: {failures}"
    outcomes = {row["name"]: row["outcome"] for row in measured}
    assert outcomes["4096x4096, 20,006 scans (reported)"].startswith("refused: This JPEG is saved in 20,006")
    assert any(outcome.startswith("digit") for name, outcome in outcomes.items() if "scans" in name
               and "reported" not in name)  # a progressive JPEG within the budget is read
