"""Eviction: keeping the store under its size limit (`RUN_STORE_MAX_MB`) by removing the least recently used
runs, never one being written."""

from __future__ import annotations

import logging
import time
from datetime import datetime, UTC
from collections.abc import Callable

from core.runs.backend import RunBackend
from core.runs.errors import LockTimeout

log = logging.getLogger(__name__)

RECENT_USE_SECONDS = 600  # a run used this recently goes last (a page may be reading it)


def enforce_limit(rows: list[dict], max_bytes: int, backend: RunBackend, delete: Callable[[str], bool],
                  protect=frozenset()) -> list[str]:
    """Remove runs while their total `size_bytes` (the index `rows`) is over `max_bytes`; return the removed ids.
    Least recently used first (`last_used_at`); runs used in the last RECENT_USE_SECONDS only when the others are not
    enough — the limit holds, within the size of the runs that can never go: a protected run (the one just
    stored) and one whose lock is held (being trained or written). A page that was reading a removed run says it is
    no longer in the store."""
    rows = sorted(rows, key=lambda row: row["last_used_at"] or "")
    total = sum(row["size_bytes"] or 0 for row in rows)
    recent = datetime.fromtimestamp(time.time() - RECENT_USE_SECONDS, UTC).isoformat(timespec="seconds")
    older = [row for row in rows if (row["last_used_at"] or "") < recent]
    newer = [row for row in rows if (row["last_used_at"] or "") >= recent]
    removed, recent_removed = [], 0
    for row in older + newer:
        if total <= max_bytes:
            break
        if row["run_id"] in protect:
            continue
        try:
            with backend.lock(row["run_id"], timeout=0):
                delete(row["run_id"])
        except LockTimeout:
            continue
        total -= row["size_bytes"] or 0
        removed.append(row["run_id"])
        recent_removed += row in newer
    if removed:
        log.info("store over %d bytes: removed %d least recently used runs", max_bytes, len(removed))
    if recent_removed:
        log.warning("store over its size limit (RUN_STORE_MAX_MB): %d run(s) used in the last %d minutes were "
                    "removed too", recent_removed, RECENT_USE_SECONDS // 60)
    return removed
