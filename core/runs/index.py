"""The run index: one row per run (config and headline metrics) for listing, sorting and LRU order, kept in
SQLite beside a folder store (RunIndex) or in a table of the store's database (core/runs/postgres.py).

The run files are the truth and the index is a cache of them: a missing or broken index is rebuilt, a row
whose run is gone is dropped, a run without a row (or with a row of the wrong types) is re-indexed from its
files, and every read of a run rewrites its row (so a hand-edited row is corrected, and `last_used_at` gives
the least recently used runs for eviction).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import closing
from datetime import datetime, UTC
from pathlib import Path
from collections.abc import Callable

from core.runs.errors import StoreError
from core.runs.run_files import StoredRun

log = logging.getLogger(__name__)

INDEX_COLUMNS = {
    "run_id": "TEXT PRIMARY KEY", "dataset": "TEXT", "architecture": "TEXT", "sample_size": "INTEGER",
    "num_epochs": "INTEGER", "batch_size": "INTEGER", "seed": "INTEGER", "optimizer": "TEXT",
    "learning_rate": "REAL", "test_accuracy": "REAL", "test_loss": "REAL", "train_seconds": "REAL",
    "num_params": "INTEGER", "data_key": "TEXT", "data_source": "TEXT", "trained_at": "TEXT",
    "last_used_at": "TEXT", "size_bytes": "INTEGER", "config_json": "TEXT", "peak_memory_mb": "REAL",
}

Inspect = Callable[[str], "tuple[StoredRun | None, str | None]"]


class BaseIndex:
    """Rows by run id, repaired from the runs' files (`inspect`): what every index backend shares. A subclass
    stores rows (`_write`, `remove`) and reads them back for the runs `present`, dropping the others (`_read`)."""

    def __init__(self, inspect: Inspect):
        self.inspect = inspect

    def put(self, run: StoredRun) -> None:
        """Write the run's row (marking it used now)."""
        self._write(index_row(run))

    def touch(self, run: StoredRun) -> None:
        """Mark a run used, its row rewritten from the run just read and checked; never fails a read."""
        try:
            self.put(run)
        except (sqlite3.Error, OSError, StoreError) as error:
            log.warning("could not update the run index: %s", error)

    def remove(self, run_id: str) -> None:
        raise NotImplementedError

    def _write(self, row: dict) -> None:
        raise NotImplementedError

    def _read(self, present: set[str]) -> dict[str, dict]:
        """The rows of the runs in `present`, by run id; rows of runs that are gone are dropped."""
        raise NotImplementedError

    def rows(self, present: set[str]) -> list[dict]:
        """One dict per complete run among `present` (the backend's run ids), newest first; rows of runs that
        are gone are dropped, runs without a sound row are re-indexed from their files."""
        rows = self._read(present)
        broken = {found for found, row in rows.items() if not _row_is_sound(row)}
        for found in sorted((present - set(rows)) | broken):
            rows.pop(found, None)
            run, problem = self.inspect(found)
            if run is not None:
                log.warning("run %s was missing from the index or its row was broken: re-indexed", found)
                self.put(run)
                rows[found] = index_row(run)
            elif problem:
                log.warning("run %s is broken (%s): not listed", found, problem)
        return sorted((_with_recipe_and_precision(row) for row in rows.values()),
                      key=lambda row: row["trained_at"] or "", reverse=True)


class RunIndex(BaseIndex):
    """Rows by run id in an SQLite file beside a folder store."""

    def __init__(self, path: Path, inspect: Inspect):
        super().__init__(inspect)
        self.path = Path(path)

    def _write(self, row: dict) -> None:
        with closing(self._connect()) as db, db:
            db.execute(f"INSERT OR REPLACE INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                       tuple(row.values()))

    def remove(self, run_id: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))

    def _read(self, present: set[str]) -> dict[str, dict]:
        with closing(self._connect()) as db, db:
            db.row_factory = sqlite3.Row
            rows = {row["run_id"]: dict(row) for row in db.execute("SELECT * FROM runs")}
            for stale in set(rows) - present:
                db.execute("DELETE FROM runs WHERE run_id = ?", (stale,))
                rows.pop(stale)
        return rows

    def _connect(self) -> sqlite3.Connection:
        """A connection to the index; a file that is no SQLite database is rebuilt from the runs."""
        columns = ", ".join(f"{name} {kind}" for name, kind in INDEX_COLUMNS.items())
        for attempt in range(2):
            db = sqlite3.connect(self.path, timeout=30)
            try:
                db.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
                self._add_missing_columns(db)
                return db
            except sqlite3.OperationalError:  # locked, read-only...: not ours to repair
                db.close()
                raise
            except sqlite3.DatabaseError as error:  # "file is not a database"
                db.close()
                if attempt:
                    raise
                log.warning("run index %s is broken (%s): rebuilding it", self.path, error)
                self.path.unlink(missing_ok=True)
        raise AssertionError("unreachable")

    def _add_missing_columns(self, db: sqlite3.Connection) -> None:
        """An index made before a column existed gains it, filled in from each run's files."""
        present = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        missing = [name for name in INDEX_COLUMNS if name not in present]
        if not missing:
            return
        with db:
            for name in missing:
                db.execute(f"ALTER TABLE runs ADD COLUMN {name} {INDEX_COLUMNS[name]}")
            for (found,) in db.execute("SELECT run_id FROM runs").fetchall():
                run = self.inspect(found)[0] if str(found).isalnum() else None
                if run is not None:
                    row = index_row(run)
                    db.execute(f"UPDATE runs SET {', '.join(f'{name} = ?' for name in missing)} WHERE run_id = ?",
                               (*(row[name] for name in missing), found))


def index_row(run: StoredRun) -> dict:
    config = run.config.to_dict()
    row = {name: config.get(name) for name in INDEX_COLUMNS if name in config}
    row.update(run_id=run.run_id, test_accuracy=run.test_accuracy, test_loss=run.test_loss,
               train_seconds=run.train_seconds, peak_memory_mb=run.peak_memory_mb, num_params=run.num_params,
               data_key=run.data_key, data_source=run.data_source, trained_at=run.trained_at, last_used_at=now(),
               size_bytes=sum((run.files.backend.sizes(run.run_id) or {}).values()),
               config_json=json.dumps(config, sort_keys=True))
    return row


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _with_recipe_and_precision(row: dict) -> dict:
    """Two config fields the index has no column for, read from its config JSON, so that listings tell
    apart runs that differ only in them (runs stored before a field existed get its default)."""
    config = json.loads(row.get("config_json") or "{}")
    return {**row, "recipe": config.get("recipe", "student"), "precision": config.get("precision", "float32")}


def _row_is_sound(row: dict) -> bool:
    """A row whose values have the types the pages and the CLI rely on."""
    try:
        json.loads(row["config_json"])
        return (isinstance(row["test_accuracy"], float) and isinstance(row["sample_size"], int)
                and isinstance(row["size_bytes"], int) and isinstance(row["trained_at"], str)
                and isinstance(row["architecture"], str))
    except (TypeError, ValueError):
        return False
