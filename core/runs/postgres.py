"""A run store in PostgreSQL: runs' bytes, the index and the saved networks in tables (core/runs/database.py makes
the connection and the schema), so that a store chosen by `RUN_STORE_URL` (or the app's `[connections.runs] url`
secret) keeps nothing important on local disk.

- `put` replaces a run's rows in one transaction: a reader sees the old run, the new one or none; a writer killed
  half-way leaves nothing (its transaction is rolled back when its connection drops).
- `lock` is a PostgreSQL session advisory lock taken on a connection of its own: released when the holder
  leaves, and by the server when the holder's process dies (its socket closes; TCP keepalives end a connection
  to a machine that vanished within about a minute), so a killed process's claim never outlives it.
- `digest` is the SHA-256 the server computes from `data` itself (never the stored `sha256` column, which a
  damaged `data` would leave unchanged), remembered per row version (xmin, ctid): a changed row is hashed again.
- `local_path` (Keras reads files) goes through a local cache folder of files named by content hash; a file is
  hashed when it is filled and served only when its hash is the stored one, so a reopen downloads a model once.
  The cache may vanish at any time: a missing file is fetched again.

Errors: StoreSettingError for a URL that is no PostgreSQL URL or a database written by a newer version;
StoreUnavailable (a StoreError) when the database cannot be reached or refuses us, with the password masked.
SQLAlchemy and psycopg are imported only here, so only a PostgreSQL store imports them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator, Mapping

import sqlalchemy as sa
from cachetools import LRUCache

from core.architectures import check_name
from core.atomic import write_atomically
from core.runs.backend import MAX_HASHED, STALE_SECONDS, RunBackend, _file_name, check_run_id, sha256
from core.runs.database import TRAINING, WRITING, Database
from core.runs.errors import LockTimeout
from core.runs.index import BaseIndex, Inspect
from core.runs.networks import BaseNetworkRegistry

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05, 1.0  # how often a waiting `lock` asks again: first, then at most


def _key(run_id: str) -> int:
    """A run id as the second int4 key of an advisory lock (a collision only makes two runs wait on each other)."""
    return int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:4], "big", signed=True)


class PostgresBackend(RunBackend):
    """Runs' files as rows of `run_files`; Keras-readable copies in `cache_folder` (at most `cache_bytes`)."""

    def __init__(self, db: Database, cache_folder: Path, cache_bytes: int):
        self.db = db
        self.files = FileCache(cache_folder, cache_bytes)
        self._digests = LRUCache(maxsize=MAX_HASHED)  # (run_id, name, xmin, ctid) -> SHA-256 of data
        self._memo_lock = threading.Lock()
        db.ensure_schema()

    def put(self, run_id: str, files: Mapping[str, bytes]) -> None:
        check_run_id(run_id)
        with self.db.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"),
                               {"space": WRITING, "key": _key(run_id)})
            connection.execute(sa.text("DELETE FROM run_files WHERE run_id = :run_id"), {"run_id": run_id})
            for name, data in files.items():
                self._insert(connection, run_id, _file_name(name), data)

    def add(self, run_id: str, name: str, data: bytes) -> None:
        check_run_id(run_id)
        _file_name(name)
        with self.db.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"),
                               {"space": WRITING, "key": _key(run_id)})
            if not connection.execute(sa.text("SELECT EXISTS (SELECT 1 FROM run_files WHERE run_id = :run_id)"),
                                      {"run_id": run_id}).scalar():
                raise KeyError(run_id)
            connection.execute(sa.text("DELETE FROM run_files WHERE run_id = :run_id AND name = :name"),
                               {"run_id": run_id, "name": name})
            self._insert(connection, run_id, name, data)

    @staticmethod
    def _insert(connection, run_id: str, name: str, data: bytes) -> None:
        data = bytes(data)
        connection.execute(sa.text("INSERT INTO run_files (run_id, name, data, size, sha256) "
                                   "VALUES (:run_id, :name, :data, :size, :sha256)"),
                           {"run_id": run_id, "name": name, "data": data, "size": len(data), "sha256": sha256(data)})

    def get(self, run_id: str, name: str) -> bytes:
        with self.db.begin() as connection:
            data = connection.execute(sa.text("SELECT data FROM run_files WHERE run_id = :run_id AND name = :name"),
                                      {"run_id": check_run_id(run_id), "name": name}).scalar()
        if data is None:
            raise KeyError(f"{run_id}/{name}")
        return bytes(data)

    def sizes(self, run_id: str) -> dict[str, int] | None:
        """The sizes of the bytes as they are (octet_length(data), read from the row's header: no download)."""
        with self.db.begin() as connection:
            rows = connection.execute(sa.text("SELECT name, octet_length(data) FROM run_files WHERE run_id = :run_id"),
                                      {"run_id": check_run_id(run_id)}).all()
        return {name: size for name, size in rows} if rows else None

    def digest(self, run_id: str, name: str) -> str:
        """Computed by the server from the data (no download), once per row version in this process: a file
        hashed before costs one small query for its row version; one never hashed, one query that hashes."""
        check_run_id(run_id)
        with self._memo_lock:
            known = any(key[:2] == (run_id, name) for key in self._digests)
        where = "FROM run_files WHERE run_id = :run_id AND name = :name"
        values = {"run_id": run_id, "name": name}
        with self.db.begin() as connection:
            if not known:
                row = connection.execute(sa.text(f"SELECT xmin::text, ctid::text, encode(sha256(data), 'hex') {where}"),
                                         values).first()
                if row is None:
                    raise KeyError(f"{run_id}/{name}")
                return self._remember((run_id, name, row[0], row[1]), row[2])
            version = connection.execute(sa.text(f"SELECT xmin::text, ctid::text {where}"), values).first()
            if version is None:
                raise KeyError(f"{run_id}/{name}")
            key = (run_id, name, *version)
            with self._memo_lock:
                if key in self._digests:
                    return self._digests[key]
            found = connection.execute(sa.text(f"SELECT encode(sha256(data), 'hex') {where} "
                                               "AND ctid = CAST(:ctid AS tid)"),
                                       {**values, "ctid": version[1]}).scalar()
        if found is None:  # the row changed between the two reads: hash what is there now
            return self.digest(run_id, name)
        return self._remember(key, found)

    def _remember(self, key: tuple, digest: str) -> str:
        with self._memo_lock:
            self._digests[key] = digest
        return digest

    def local_path(self, run_id: str, name: str) -> Path:
        """The cached file named by the stored hash when it is there and sound, else fetched (and hashed) now."""
        check_run_id(run_id)
        with self.db.begin() as connection:
            stored = connection.execute(sa.text("SELECT sha256 FROM run_files WHERE run_id = :run_id AND name = :name"),
                                        {"run_id": run_id, "name": name}).scalar()
        if stored is None:
            raise KeyError(f"{run_id}/{name}")
        path = self.files.path(stored, name)
        if self.files.is_sound(path, stored):
            return path
        data = self.get(run_id, name)
        actual = sha256(data)
        if actual != stored:  # the database's bytes are not what was written: never cached as the stored hash
            log.warning("%s/%s in the run store database does not match its checksum", run_id, name)
        return self.files.put(actual, name, data)

    def run_ids(self) -> list[str]:
        with self.db.begin() as connection:
            found = connection.execute(sa.text("SELECT DISTINCT run_id FROM run_files")).scalars().all()
        strays = [run_id for run_id in found if not run_id.isalnum()]
        if strays:
            log.warning("rows of run_files whose run_id is not a run id (left alone, not listed): %s", strays[:5])
        return [run_id for run_id in found if run_id.isalnum()]

    def delete(self, run_id: str) -> bool:
        check_run_id(run_id)
        with self.db.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"),
                               {"space": WRITING, "key": _key(run_id)})
            removed = connection.execute(sa.text("DELETE FROM run_files WHERE run_id = :run_id"), {"run_id": run_id})
        return removed.rowcount > 0

    @contextmanager
    def lock(self, run_id: str, timeout: float) -> Iterator[None]:
        """A session advisory lock on a connection of its own, asked for until `timeout` passes."""
        key = {"space": TRAINING, "key": _key(check_run_id(run_id))}
        self.db.ensure_schema()
        with self.db.errors():
            connection = self.db.lock_engine.connect()
        try:
            deadline, pause = time.monotonic() + timeout, POLL_SECONDS[0]
            while True:
                with self.db.errors():
                    held = connection.execute(sa.text("SELECT pg_try_advisory_lock(:space, :key)"), key).scalar()
                    connection.commit()  # the lock is the session's: no transaction stays open while it is held
                if held:
                    break
                if time.monotonic() + pause > deadline:
                    raise LockTimeout(f"Run {run_id} is being trained by someone else.")
                time.sleep(pause)
                pause = min(pause * 2, POLL_SECONDS[1])
            yield
        finally:
            try:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:space, :key)"), key)
                connection.commit()
            except sa.exc.SQLAlchemyError:  # the database went away: the server has dropped the lock with the session
                pass
            finally:
                connection.close()

    def remove_leftovers(self) -> None:
        """A killed writer's transaction is rolled back by the server: only stale cache temporaries remain."""
        cutoff = time.time() - STALE_SECONDS
        try:
            for leftover in self.files.folder.glob(".*.tmp"):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink(missing_ok=True)
        except OSError:
            pass


class PostgresIndex(BaseIndex):
    """The run index as rows of `run_index` (same columns and repairs as the SQLite index)."""

    def __init__(self, db: Database, inspect: Inspect):
        super().__init__(inspect)
        self.db = db

    def _write(self, row: dict) -> None:
        names = list(row)
        with self.db.begin() as connection:
            connection.execute(sa.text(
                f"INSERT INTO run_index ({', '.join(names)}) VALUES ({', '.join(':' + name for name in names)}) "
                f"ON CONFLICT (run_id) DO UPDATE SET "
                + ", ".join(f"{name} = EXCLUDED.{name}" for name in names if name != "run_id")), row)

    def remove(self, run_id: str) -> None:
        with self.db.begin() as connection:
            connection.execute(sa.text("DELETE FROM run_index WHERE run_id = :run_id"), {"run_id": run_id})

    def _read(self, present: set[str]) -> dict[str, dict]:
        with self.db.begin() as connection:
            rows = {row["run_id"]: dict(row) for row in
                    connection.execute(sa.text("SELECT * FROM run_index")).mappings()}
            stale = sorted(set(rows) - present)
            if stale:
                connection.execute(sa.text("DELETE FROM run_index WHERE run_id = ANY(:stale)"), {"stale": stale})
        return {run_id: row for run_id, row in rows.items() if run_id in present}


class PostgresNetworks(BaseNetworkRegistry):
    """Users' saved networks as rows of `run_networks`."""

    def __init__(self, db: Database):
        self.db = db

    def _entries(self) -> dict[str, bytes | ValueError]:
        from core.spec_files import MAX_SPEC_BYTES

        with self.db.begin() as connection:
            rows = connection.execute(sa.text("SELECT name, spec_json FROM run_networks ORDER BY name")).all()
        return {name: (text.encode() if len(text) <= MAX_SPEC_BYTES else
                       ValueError(f"it is larger than {MAX_SPEC_BYTES // 1024} kB")) for name, text in rows}

    def _write(self, name: str, text: str) -> None:
        with self.db.begin() as connection:
            connection.execute(sa.text("INSERT INTO run_networks (name, spec_json) VALUES (:name, :text) "
                                       "ON CONFLICT (name) DO UPDATE SET spec_json = EXCLUDED.spec_json, "
                                       "saved_at = now()"), {"name": check_name(name), "text": text})

    def _remove(self, name: str) -> bool:
        with self.db.begin() as connection:
            return connection.execute(sa.text("DELETE FROM run_networks WHERE name = :name"),
                                      {"name": check_name(name)}).rowcount > 0


class FileCache:
    """Local copies of a database store's files for libraries that read files (Keras), named by content hash, at
    most `max_bytes` (least recently used removed first). A file is served only when its bytes hash to the name's
    hash (checked once per process for a size and modification time); the folder may vanish at any time."""

    def __init__(self, folder: Path, max_bytes: int):
        self.folder, self.max_bytes = Path(folder), max_bytes
        self._checked = LRUCache(maxsize=MAX_HASHED)  # (path, size, mtime_ns) -> True once hashed right
        self._lock = threading.Lock()

    def path(self, digest: str, name: str) -> Path:
        return self.folder / f"{digest}-{_file_name(name)}"

    def is_sound(self, path: Path, expected: str) -> bool:
        """True when `path` holds bytes of SHA-256 `expected`; a file that does not is removed."""
        try:
            stat = path.stat()
            with self._lock:
                if (str(path), stat.st_size, stat.st_mtime_ns) in self._checked:
                    return True
            if sha256(path.read_bytes()) != expected:
                path.unlink(missing_ok=True)
                return False
            os.utime(path)  # recently used: trimmed last
            stat = path.stat()
        except OSError:  # not cached (or the cache folder vanished)
            return False
        with self._lock:
            self._checked[(str(path), stat.st_size, stat.st_mtime_ns)] = True
        return True

    def put(self, digest: str, name: str, data: bytes) -> Path:
        """`data` (whose SHA-256 is `digest`) written under its hash; the cache trimmed to its bound."""
        path = self.path(digest, name)
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
        self._trim(keep=path)
        return path

    def _trim(self, keep: Path) -> None:
        """Remove the least recently used cached files while the cache is over `max_bytes`."""
        try:
            files = sorted((path.stat().st_mtime, path.stat().st_size, path) for path in self.folder.iterdir()
                           if path.is_file() and not path.name.startswith("."))
        except OSError:
            return
        total = sum(size for _, size, _ in files)
        for _, size, path in files:
            if total <= self.max_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size
