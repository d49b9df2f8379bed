"""Where a run's bytes live: one small interface (put, get, list, delete, lock by run id) and the folder
backend that implements it.

A backend knows nothing of what the bytes mean (core/runs/run_files.py does); it promises only:
- `put` replaces a run's files all at once: a reader sees the old run, the new one or none, never a mix, and a
  writer killed half-way leaves nothing visible (`remove_leftovers` clears what it left behind);
- `add` adds or replaces one file of a run that exists (derived caches, e.g. robustness), likewise at once;
- `lock` is held by one holder at a time, across threads and processes, so a run is trained once.

A second backend (PostgreSQL) implements the same methods and passes the same contract tests
(tests/core/runs/test_backend_contract.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
import uuid
from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator, Mapping

from cachetools import LRUCache

from core.atomic import write_atomically
from core.runs.errors import LockTimeout, StoreSettingError

log = logging.getLogger(__name__)

STALE_SECONDS = 24 * 3600  # leftovers of killed writers older than this are removed
MAX_HASHED = 4096          # files whose SHA-256 a process remembers (least recently used forgotten)
_REPORTED_STRAYS: set[str] = set()  # paths under runs/ that are not runs, already reported in this process


def check_run_id(run_id: str) -> str:
    """A run id is letters and digits only (a hex hash): it can never name a path outside the store."""
    if not isinstance(run_id, str) or not run_id.isalnum():
        raise ValueError(f"Not a run id: {run_id!r}")
    return run_id


def is_database_url(location) -> bool:
    """True when a store location is a URL (scheme://...), not a folder."""
    import re

    return isinstance(location, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", location) is not None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RunBackend(ABC):
    """Bytes by run id and file name. Errors: ValueError for a malformed run id; KeyError from `get` for a file
    that is not there; OSError (or StoreError) when the medium fails; LockTimeout from `lock`."""

    @abstractmethod
    def put(self, run_id: str, files: Mapping[str, bytes]) -> None:
        """Make `files` the run's files, replacing any it had, in one step."""

    @abstractmethod
    def add(self, run_id: str, name: str, data: bytes) -> None:
        """Add or replace one file of an existing run in one step; KeyError when the run is absent."""

    @abstractmethod
    def get(self, run_id: str, name: str) -> bytes:
        """A file's bytes; KeyError when the run or the file is absent."""

    @abstractmethod
    def sizes(self, run_id: str) -> dict[str, int] | None:
        """Each file's size in bytes, or None when the run is absent."""

    @abstractmethod
    def digest(self, run_id: str, name: str) -> str:
        """The SHA-256 (hex) of a file's bytes as they are now; KeyError when absent."""

    @abstractmethod
    def local_path(self, run_id: str, name: str) -> Path:
        """A local file holding these bytes, for libraries that read files (Keras); KeyError when absent."""

    @abstractmethod
    def run_ids(self) -> list[str]:
        """Every run present, in no particular order."""

    @abstractmethod
    def delete(self, run_id: str) -> bool:
        """Remove a run's files in one step; False when it was not there."""

    @abstractmethod
    def lock(self, run_id: str, timeout: float) -> contextmanager:
        """A context manager held by one holder at a time; LockTimeout after `timeout` seconds (0: try once)."""

    def remove_leftovers(self) -> None:  # noqa: B027 - an optional hook: backends leaving nothing behind skip it
        """Clear what writers killed half-way left behind (nothing of it is ever visible as a run)."""


class FolderBackend(RunBackend):
    """Runs as folders: `runs/<run_id>/<name>`, written in `tmp/` and renamed into place; locks are files in
    `locks/` (filelock: works across processes on one machine and on most shared file systems)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.runs, self.tmp, self.locks = self.root / "runs", self.root / "tmp", self.root / "locks"
        self._hashed = LRUCache(maxsize=MAX_HASHED)  # (path, size, mtime_ns) -> SHA-256
        try:
            for folder in (self.runs, self.tmp, self.locks):
                folder.mkdir(parents=True, exist_ok=True)
            probe = self.tmp / f".probe-{uuid.uuid4().hex}"
            probe.touch()
            probe.unlink()
        except OSError as error:
            raise StoreSettingError(f"The run store folder {self.root} is not writable ({error.strerror or error}). "
                                    f"Set RUN_STORE_DIR to a writable folder.") from error
        self.remove_leftovers()

    def folder(self, run_id: str) -> Path:
        return self.runs / check_run_id(run_id)

    def put(self, run_id: str, files: Mapping[str, bytes]) -> None:
        target = self.folder(run_id)
        staging = self.tmp / f"{run_id}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            for name, data in files.items():
                (staging / _file_name(name)).write_bytes(data)
            if target.exists():
                self._discard(target)
            os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def add(self, run_id: str, name: str, data: bytes) -> None:
        folder = self.folder(run_id)
        if not folder.is_dir():
            raise KeyError(run_id)
        write_atomically(folder / _file_name(name), data)

    def get(self, run_id: str, name: str) -> bytes:
        try:
            return (self.folder(run_id) / _file_name(name)).read_bytes()
        except FileNotFoundError:
            raise KeyError(f"{run_id}/{name}") from None

    def sizes(self, run_id: str) -> dict[str, int] | None:
        folder = self.folder(run_id)
        try:
            return {path.name: path.stat().st_size for path in folder.iterdir()
                    if path.is_file() and not path.name.startswith(".")}
        except (FileNotFoundError, NotADirectoryError):
            return None

    def digest(self, run_id: str, name: str) -> str:
        """Hashed once per process for a given path, size and modification time."""
        path = self.local_path(run_id, name)
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key in self._hashed:
            return self._hashed[key]
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        self._hashed[key] = found = digest.hexdigest()
        return found

    def local_path(self, run_id: str, name: str) -> Path:
        path = self.folder(run_id) / _file_name(name)
        if not path.is_file():
            raise KeyError(f"{run_id}/{name}")
        return path

    def run_ids(self) -> list[str]:
        """The names under runs/ that are runs; anything else (a hand-made backup, a stray file) is left alone
        and reported once per process."""
        found = []
        for path in self.runs.iterdir():
            if path.is_dir() and path.name.isalnum():
                found.append(path.name)
            elif str(path) not in _REPORTED_STRAYS:
                _REPORTED_STRAYS.add(str(path))
                log.warning("%s is not a run: left alone, not listed", path)
        return found

    def delete(self, run_id: str) -> bool:
        folder = self.folder(run_id)
        if not folder.exists():
            return False
        try:
            self._discard(folder)
        except FileNotFoundError:  # another process removed it first
            return False
        return True

    def _discard(self, folder: Path) -> None:
        """Move a run folder out of runs/ in one step, then delete it."""
        trash = self.tmp / f"trash-{folder.name}-{uuid.uuid4().hex[:8]}"
        os.rename(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)

    @contextmanager
    def lock(self, run_id: str, timeout: float) -> Iterator[None]:
        from filelock import FileLock, Timeout

        lock = FileLock(self.locks / f"{check_run_id(run_id)}.lock")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise LockTimeout(f"Run {run_id} is being trained by someone else.") from None
        try:
            yield
        finally:
            lock.release()

    def remove_leftovers(self) -> None:
        """Staging folders and files left by writers that were killed (a live writer's are recent)."""
        cutoff = time.time() - STALE_SECONDS
        leftovers = list(self.tmp.iterdir()) + [path for folder in self.runs.iterdir() if folder.is_dir()
                                                for path in folder.glob(".*.tmp")]
        for leftover in leftovers:
            try:
                if leftover.stat().st_mtime < cutoff:
                    shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink()
            except OSError:
                pass  # another process removed it first


def _file_name(name: str) -> str:
    """A run's file name is one plain name (no folder, not hidden): it cannot reach outside its run."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        raise ValueError(f"Not a run file name: {name!r}")
    return name
