"""Reading an upload at the limits (issue 36): peak memory and CPU of `read_upload` + `prepare_digit` for the
largest pictures of each awkward kind the decoder accepts, and the reported ones.

    python benchmarks/bench_decode.py

Each picture is made first, then read in one fresh process that resets the kernel's peak-RSS mark
(/proc/self/clear_refs) before each and reports VmHWM minus the RSS just before, and the CPU time
(tests/core/test_decode_bounds.py's measurement, on pictures too big to make in a unit test). Target: every
picture within its decoded size (4 bytes a pixel) + 64 MB, and 2 s of CPU; a refusal within milliseconds.
"""

from __future__ import annotations

import json
import subprocess
import sys

import common  # noqa: F401
from common import ROOT, machine, table

from tests.core.test_decode_bounds import CPU_SECONDS, MEASURE, WORKING_MB, pixels

MEGA = 4096 * 4096
CASES = [
    ("300000x1 strip (reported)", "file", ["strip_300000x1.png"]),
    ("1x20000 strip (reported)", "file", ["strip_1x20000_exception.png"]),
    ("4096x4096, 20,006 scans (reported)", "file", ["prog_bomb_4096_20000.jpg"]),
    ("65,536x1 L (the longest side)", "strip", [65536, 1, "L"]),
    ("1x65,536 RGBA", "strip", [1, 65536, "RGBA"]),
    ("65,536x256 RGBA", "strip", [65536, 256, "RGBA"]),
    ("256x65,536 RGBA", "strip", [256, 65536, "RGBA"]),
    ("16,777,216x1 L", "strip", [MEGA, 1, "L"]),
    ("4096x4096 RGBA", "strip", [4096, 4096, "RGBA"]),
    ("4096x4096 I;16", "strip", [4096, 4096, "I;16"]),
    ("4096x4096 JPEG, 29 scans (the budget)", "progressive_jpeg", [4096, 4096, 29]),
    ("4096x4096 JPEG, 30 scans", "progressive_jpeg", [4096, 4096, 30]),
    ("1000x1000 JPEG, 500 scans (the budget)", "progressive_jpeg", [1000, 1000, 500]),
    ("GIF, 2,000 frames", "frames", ["GIF", 2000]),
    ("TIFF, 1,500 pages", "frames", ["TIFF", 1500]),
]


def main() -> None:
    result = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(CASES)], cwd=ROOT, capture_output=True,
                            text=True, timeout=1800)
    if result.returncode:
        sys.exit(result.stderr[-3000:])
    rows = []
    for (name, maker, arguments), line in zip(CASES, [line for line in result.stdout.splitlines()
                                                      if line.startswith("{")]):
        row = json.loads(line)
        allowed = 4 * pixels(maker, arguments) / 2**20 + WORKING_MB
        within = row["added_mb"] <= allowed and row["cpu_s"] <= CPU_SECONDS
        rows.append({"picture": name, "peak + MB": f"{row['added_mb']:,.1f}", "bound MB": f"{allowed:,.0f}",
                     "CPU s": f"{row['cpu_s']:.2f}", "within": "yes" if within else "NO",
                     "outcome": row["outcome"][:60]})
    print(machine())
    print(table(rows, ["picture", "peak + MB", "bound MB", "CPU s", "within", "outcome"]))


if __name__ == "__main__":
    main()
