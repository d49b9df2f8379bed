"""Eviction: keeping the store under its size limit (`RUN_STORE_MAX_MB`) by removing the least recently used
runs, never one that may be in use."""

from __future__ import annotations

import logging
import time
from datetime import datetime, UTC
from collections.abc import Callable

from core.runs.backend import RunBackend
from core.runs.errors import LockTimeout

log = logging.getLogger(__name__)

RECENT_USE_SECONDS = 600  # a run used this recently is never evicted (it may be being read)


def enforce_limit(rows: list[dict], max_bytes: int, backend: RunBackend, delete: Callable[[str], bool],
                  protect=frozenset()) -> list[str]:
    """Remove least recently used runs (by the index `rows`' `last_used_at`) while their total `size_bytes` is
    over `max_bytes`; return the removed ids. Never removes a protected run, one used in the last
    RECENT_USE_SECONDS, or one whose lock is held (it is being written)."""
    rows = sorted(rows, key=lambda row: row["last_used_at"] or "")
    total = sum(row["size_bytes"] or 0 for row in rows)
    recent = datetime.fromtimestamp(time.time() - RECENT_USE_SECONDS, UTC).isoformat(timespec="seconds")
    removed = []
    for row in rows:
        if total <= max_bytes:
            break
        if row["run_id"] in protect or (row["last_used_at"] or "") >= recent:
            continue
        try:
            with backend.lock(row["run_id"], timeout=0):
                delete(row["run_id"])
        except LockTimeout:
            continue
        total -= row["size_bytes"] or 0
        removed.append(row["run_id"])
    if removed:
        log.info("store over %d bytes: removed %d least recently used runs", max_bytes, len(removed))
    return removed
