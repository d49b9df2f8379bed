"""Run in other processes by the concurrency tests (spawned: importable functions only)."""

from __future__ import annotations

import time

import numpy as np


def open_store(kind: str, where: str):
    if kind == "folder":
        from pathlib import Path

        from core.class_digits.storage import FolderDigits

        return FolderDigits(Path(where))
    from core.class_digits.postgres import PostgresDigits

    return PostgresDigits(where)


def add_digits(kind: str, where: str, code: str, count: int, label: int, start_at: float) -> list[int]:
    """Wait until `start_at` (so that two processes add at the same time), then add `count` digits of `label`."""
    store = open_store(kind, where)
    time.sleep(max(0.0, start_at - time.time()))
    pixels = np.full((28, 28), label * 20, dtype=np.uint8)
    return [store.add(code, label, pixels) for _ in range(count)]
