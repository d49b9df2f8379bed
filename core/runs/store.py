"""The run store: trained runs kept so that a run is trained once and reopened in well under a second.

`RunStore` is a facade for callers; it composes the pieces that do the work and does none of it itself:

    backend (core/runs/backend.py)      where the bytes live: a folder (`RUN_STORE_DIR`, else a per-user cache
                                        folder) or a PostgreSQL database (`RUN_STORE_URL`, core/runs/postgres.py);
                                        put/get/list/delete/lock by run id
    run files (core/runs/run_files.py)  what a run is as bytes; integrity checks on read
    index (core/runs/index.py)          listing and LRU order (SQLite `index.sqlite`, or a database table)
    eviction (core/runs/eviction.py)    the size limit (`RUN_STORE_MAX_MB`)
    networks (core/runs/networks.py)    users' saved networks

Which set of pieces is one setting: a location that is a URL (`RUN_STORE_URL`, or the app's
`[connections.runs] url` secret, which the UI passes in) is a PostgreSQL store whose only local files are a
cache of model files (`RUN_STORE_DIR`/database-cache, safe to delete); anything else is a folder.

Training is not the store's job: core/runs/service.py decides what to train and hands it to an executor.

A folder store's layout (unchanged since runs were first stored):

    runs/<run_id>/run.json, probabilities.npy, model.keras, manifest.json
    index.sqlite      networks/<name>.json      locks/<run_id>.lock      tmp/ (runs being written)
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from core import env
from core.architectures import ArchitectureSpec
from core.config import TrainConfig, run_id
from core.data import Dataset
from core.runs.eviction import enforce_limit
from core.runs.backend import FolderBackend, check_run_id, is_database_url
from core.runs.errors import StoreError, StoreSettingError
from core.runs.index import RunIndex
from core.runs.networks import ANY, NetworkRegistry
from core.runs.run_files import RunFiles, StoredRun
from core.records import RunResult

log = logging.getLogger(__name__)

APP_NAME = "digits-dashboard"
DEFAULT_MAX_BYTES = 2 * 1024**3   # RUN_STORE_MAX_MB overrides; a conv run takes ~7 MB, a flat one ~0.6 MB


def default_root() -> Path:
    configured = os.environ.get("RUN_STORE_DIR")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME)) / "runs-store"


def default_location() -> str:
    """RUN_STORE_URL when set (a database), else the folder: RUN_STORE_DIR or the per-user default."""
    return os.environ.get("RUN_STORE_URL", "").strip() or str(default_root())


def default_max_bytes() -> int:
    """RUN_STORE_MAX_MB in bytes (DEFAULT_MAX_BYTES when unset); StoreSettingError when it is no number above 0."""
    megabytes = env.number("RUN_STORE_MAX_MB", DEFAULT_MAX_BYTES / 1024**2, 0, whole=False, unit="megabytes",
                           above=True, error=StoreSettingError)
    return int(megabytes * 1024**2)


class RunStore:
    """Runs by id: read (checked), written (atomically, indexed, within the size limit), listed, deleted; and
    the users' saved networks. Safe across threads and processes."""

    def __init__(self, location: Path | str | None = None, max_bytes: int | None = None):
        """`location`: a folder, or a PostgreSQL URL (default: `default_location()`). StoreSettingError for a
        location that cannot work (a folder that is not writable, a URL that is no PostgreSQL URL);
        StoreUnavailable when the database cannot be reached."""
        self.location = str(location) if location is not None else default_location()
        self.max_bytes = max_bytes if max_bytes is not None else default_max_bytes()
        if is_database_url(self.location):
            from core.runs.database import database
            from core.runs.postgres import PostgresBackend, PostgresIndex, PostgresNetworks

            self.root = None  # nothing of the store is on this machine but a cache
            db = database(self.location)
            self.shown = db.shown
            self.backend = PostgresBackend(db, default_root() / "database-cache", self.max_bytes)
            self.files = RunFiles(self.backend)
            self.index = PostgresIndex(db, self.files.inspect)
            self.network_registry = PostgresNetworks(db)
        else:
            self.root = Path(self.location).expanduser()
            self.shown = str(self.root)
            self.backend = FolderBackend(self.root)
            self.files = RunFiles(self.backend)
            self.index = RunIndex(self.root / "index.sqlite", self.files.inspect)
            self.network_registry = NetworkRegistry(self.root / "networks")

    @property
    def is_database(self) -> bool:
        return self.root is None

    def where(self) -> str:
        """Where the runs are, for people (a database URL with its password masked)."""
        return f"in the PostgreSQL database {self.shown}" if self.is_database else f"on disk in {self.shown}"

    # --- runs -----------------------------------------------------------------------------------

    def id_for(self, config: TrainConfig, dataset: Dataset) -> str:
        return run_id(config, dataset.key)

    def inspect(self, run_id_: str) -> tuple[StoredRun | None, str | None]:
        """(the run, None) when complete; (None, why) when broken; (None, None) when absent."""
        return self.files.inspect(check_run_id(run_id_))

    def get(self, run_id_: str) -> StoredRun | None:
        """The run if it is complete and sound (marked used), else None (a broken one is logged)."""
        run, problem = self.inspect(run_id_)
        if problem:
            log.warning("run %s is broken: %s", run_id_, problem)
        if run is not None:
            self.index.touch(run)
        return run

    def put(self, result: RunResult) -> StoredRun:
        """Write a finished run in one step, index it and keep the store within its limit."""
        written = self.files.write(result)
        run, problem = self.inspect(written)
        if run is None:
            raise StoreError(f"Run {written} could not be read back after writing: {problem}")
        try:  # the run has landed: an index row that cannot be written now is added when the index is next read
            self.index.put(run)
            self.enforce_limit(protect={written})
        except (sqlite3.Error, OSError) as error:
            log.warning("run %s is stored, but the store's index could not be updated (%s); it is reconciled "
                        "on the next listing", written, error)
        return run

    def delete(self, run_id_: str) -> bool:
        existed = self.backend.delete(run_id_)
        self.index.remove(run_id_)
        return existed

    def lock(self, run_id_: str, timeout: float):
        """Held while a run is trained, so concurrent requests (threads, processes) train it once."""
        return self.backend.lock(run_id_, timeout)

    def list_runs(self) -> list[dict]:
        """One dict per complete run (index columns), newest first; the index is repaired on the way."""
        return self.index.rows(set(self.backend.run_ids()))

    def enforce_limit(self, protect=frozenset()) -> list[str]:
        """Remove least recently used runs while the store is over `max_bytes` (see core/runs/eviction.py)."""
        return enforce_limit(self.list_runs(), self.max_bytes, self.backend, self.delete, protect)

    # --- users' own networks ----------------------------------------------------------------------

    def save_network(self, spec: ArchitectureSpec, expected=ANY) -> None:
        """`expected`: the hash of the version the caller last saw under that name (None: none), else
        NetworkChanged; ANY replaces whatever is saved."""
        self.network_registry.save(spec, expected)

    def network_problems(self) -> dict[str, str]:
        """Saved network files that cannot be used: file name -> why (they are left out of `networks`)."""
        return self.network_registry.problems()

    def saved_networks(self) -> dict[str, ArchitectureSpec]:
        return self.network_registry.saved()

    def delete_network(self, name: str) -> bool:
        return self.network_registry.delete(name)

    def networks(self) -> dict[str, ArchitectureSpec]:
        return self.network_registry.all()

    def resolve_networks(self, names) -> list[ArchitectureSpec]:
        return self.network_registry.resolve(names)
