"""Where a class's digits are kept: one small interface, a folder beside the runs, and (core/class_digits/
postgres.py) a table of the run store's database. `core.class_digits.digit_store(run_store)` picks the one that
goes with the run store, so a class's set lives wherever its runs do (a reboot on Community Cloud keeps both).

What is stored per digit, and nothing else: its id (a number, never reused), the set's code, its label 0-9, its
28x28 uint8 pixels (white ink on black) and when it was added (UTC). No names, no session, no address.

The promises every backend keeps (tests/core/class_digits/test_storage_contract.py checks both):
- `add` stores one digit whole or not at all; adds from many threads and processes at once all land, each with
  its own id, and the set never holds more than its cap (the check and the write are one step per set);
- `add_many` stores all of its digits or none (a bad item, the cap, a failing write);
- ids grow and are never reused, so `version` — the count and the last id — changes whenever the set does
  (a deletion lowers the count; an addition raises the last id past every id the set has had) and caches keyed
  by it never serve an old set; other sets' versions are untouched.

The folder layout, under the run store's folder:

    class-digits/<CODE>/<id:08d>-<label>.digit   784 bytes of pixels, then the time added (ISO 8601 text)
    class-digits/<CODE>/next-id                  the next id (text), kept when the set is cleared
    class-digits/locks/<CODE>.lock               held while one writer checks the cap and writes (filelock)
"""

from __future__ import annotations

import re
import threading
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Iterator

import numpy as np

from core.atomic import write_atomically
from core.class_digits.limits import (DIGIT_SHAPE, MAX_SET_SIZE, NUM_LABELS, check_class_code, check_label,
                                      check_pixels, check_room)

FOLDER_NAME = "class-digits"
PIXEL_BYTES = DIGIT_SHAPE[0] * DIGIT_SHAPE[1]
LOCK_SECONDS = 30.0  # a writer waits at most this long for another writer of the same set
_DIGIT_FILE = re.compile(r"(\d{8,})-(\d)\.digit")
_THREAD_LOCKS: dict[str, threading.Lock] = {}  # lock file -> the lock this process's threads queue on first
_THREAD_LOCKS_LOCK = threading.Lock()


def set_version(count: int, last_id: int) -> str:
    """A set's version: its count and its last id ("0-0" for an empty set)."""
    return f"{count}-{last_id}"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ClassSet:
    """A class's digits, oldest first: ids (N,) int64, labels (N,) uint8, images (N, 28, 28) uint8 white ink on
    black, added_at (N,) ISO 8601 UTC texts."""
    code: str
    ids: np.ndarray
    labels: np.ndarray
    images: np.ndarray
    added_at: tuple

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def version(self) -> str:
        return set_version(len(self.ids), int(self.ids[-1]) if len(self.ids) else 0)

    @property
    def counts(self) -> np.ndarray:
        """Digits per label, (10,) int."""
        return np.bincount(self.labels, minlength=NUM_LABELS)


def make_set(code: str, rows: list[tuple[int, int, bytes, str]]) -> ClassSet:
    """A ClassSet from (id, label, 784 pixel bytes, added at) rows in any order."""
    rows = sorted(rows)
    images = np.frombuffer(b"".join(row[2] for row in rows), dtype=np.uint8).reshape(len(rows), *DIGIT_SHAPE)
    return ClassSet(code, np.array([row[0] for row in rows], dtype=np.int64),
                    np.array([row[1] for row in rows], dtype=np.uint8), images.copy(),
                    tuple(row[3] for row in rows))


class DigitStore(ABC):
    """Class sets by code. Errors: ValueError for a malformed code, label or image; Refused (SetFull) when a set
    has no room; OSError or StoreError when the medium fails (nothing of the failing call is stored)."""

    @abstractmethod
    def add(self, code: str, label: int, pixels: np.ndarray, cap: int = MAX_SET_SIZE) -> int:
        """Store one digit ((28, 28) uint8) under `label`; its id."""

    @abstractmethod
    def add_many(self, code: str, labels, images, cap: int = MAX_SET_SIZE) -> list[int]:
        """Store every digit of `images` (N, 28, 28) uint8 with `labels` (N,), all or none; their ids."""

    @abstractmethod
    def read(self, code: str) -> ClassSet:
        """The whole set as it is now (empty for a code nobody used)."""

    @abstractmethod
    def version(self, code: str) -> str:
        """`set_version` of the set as it is now, without reading its pixels."""

    @abstractmethod
    def counts(self, code: str) -> np.ndarray:
        """Digits per label, (10,) int, without reading their pixels."""

    @abstractmethod
    def delete(self, code: str, ids) -> int:
        """Remove the set's digits with these ids; how many were there."""

    @abstractmethod
    def clear(self, code: str) -> int:
        """Remove every digit of the set (ids are not reused afterwards); how many there were."""

    @abstractmethod
    def sets(self) -> dict[str, int]:
        """Every set that holds digits: code -> count, by code."""

    def _checked(self, code: str, labels, images) -> tuple[str, list[int], list[np.ndarray]]:
        """The code, labels and images checked before anything is written (ValueError naming the bad item)."""
        code = check_class_code(code)
        images = list(images)
        labels = list(labels)
        if len(labels) != len(images):
            raise ValueError(f"{len(images):,} images but {len(labels):,} labels.")
        checked_labels, checked_images = [], []
        for position, (label, image) in enumerate(zip(labels, images)):
            try:
                checked_labels.append(check_label(label))
                checked_images.append(check_pixels(image))
            except ValueError as error:
                raise ValueError(f"Digit {position + 1:,}: {error}") from None
        return code, checked_labels, checked_images


class FolderDigits(DigitStore):
    """Class sets as folders of one small file per digit, each written in one step (core/atomic.py); a file lock
    per set (filelock: across processes) makes the cap check, the id and the write one step. A process's threads
    first queue on a threading lock per set (waiting without polling), so one of them at a time polls the file."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.locks = self.root / "locks"

    def where(self) -> str:
        return f"on disk in {self.root}"

    def _folder(self, code: str) -> Path:
        return self.root / check_class_code(code)

    @contextmanager
    def _lock(self, code: str) -> Iterator[Path]:
        from filelock import FileLock, Timeout

        folder = self._folder(code)
        folder.mkdir(parents=True, exist_ok=True)
        self.locks.mkdir(parents=True, exist_ok=True)
        path = self.locks / f"{folder.name}.lock"
        with _THREAD_LOCKS_LOCK:
            in_process = _THREAD_LOCKS.setdefault(str(path), threading.Lock())
        busy = OSError(f"The class set {folder.name} is busy: try again in a moment.")
        started = time.monotonic()
        if not in_process.acquire(timeout=LOCK_SECONDS):
            raise busy
        try:
            lock = FileLock(path)
            try:
                lock.acquire(timeout=max(0.0, LOCK_SECONDS - (time.monotonic() - started)), poll_interval=0.01)
            except Timeout:
                raise busy from None
            try:
                yield folder
            finally:
                lock.release()
        finally:
            in_process.release()

    def _listing(self, code: str) -> dict[int, tuple[int, Path]]:
        """id -> (label, path) of every digit file of the set (written ones only: temporaries are hidden)."""
        folder = self._folder(code)
        try:
            entries = list(folder.iterdir())
        except FileNotFoundError:
            return {}
        found = {}
        for path in entries:
            match = _DIGIT_FILE.fullmatch(path.name)
            if match:
                found[int(match.group(1))] = (int(match.group(2)), path)
        return found

    def _next_id(self, folder: Path, listing: dict) -> int:
        try:
            counter = int((folder / "next-id").read_text().strip() or 1)
        except (FileNotFoundError, ValueError):
            counter = 1
        return max(counter, max(listing, default=0) + 1)

    def add(self, code: str, label: int, pixels: np.ndarray, cap: int = MAX_SET_SIZE) -> int:
        return self.add_many(code, [label], [pixels], cap)[0]

    def add_many(self, code: str, labels, images, cap: int = MAX_SET_SIZE) -> list[int]:
        code, labels, images = self._checked(code, labels, images)
        with self._lock(code) as folder:
            listing = self._listing(code)
            check_room(len(listing), len(images), cap)
            first = self._next_id(folder, listing)
            ids = list(range(first, first + len(images)))
            write_atomically(folder / "next-id", str(first + len(images)).encode())  # ids are never reused
            written = []
            added_at = now_text().encode()
            try:
                for digit_id, label, image in zip(ids, labels, images):
                    path = folder / f"{digit_id:08d}-{label}.digit"
                    write_atomically(path, image.tobytes() + added_at)
                    written.append(path)
            except BaseException:
                for path in written:
                    path.unlink(missing_ok=True)
                raise
        return ids

    def read(self, code: str) -> ClassSet:
        code = check_class_code(code)
        for _ in range(5):  # a digit removed between listing and reading: read the set again
            rows = []
            try:
                for digit_id, (label, path) in self._listing(code).items():
                    data = path.read_bytes()
                    rows.append((digit_id, label, data[:PIXEL_BYTES], data[PIXEL_BYTES:].decode(errors="replace")))
            except FileNotFoundError:
                time.sleep(0.01)
                continue
            return make_set(code, [row for row in rows if len(row[2]) == PIXEL_BYTES])
        raise OSError(f"The class set {code} kept changing while it was read: try again.")

    def version(self, code: str) -> str:
        listing = self._listing(code)
        return set_version(len(listing), max(listing, default=0))

    def counts(self, code: str) -> np.ndarray:
        labels = [label for label, _ in self._listing(code).values()]
        return np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_LABELS)

    def delete(self, code: str, ids) -> int:
        wanted = {int(digit_id) for digit_id in ids}
        removed = 0
        with self._lock(code):
            for digit_id, (_, path) in self._listing(code).items():
                if digit_id in wanted:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def clear(self, code: str) -> int:
        with self._lock(code):
            listing = self._listing(code)
            for _, path in listing.values():
                path.unlink(missing_ok=True)
        return len(listing)

    def sets(self) -> dict[str, int]:
        try:
            folders = sorted(path for path in self.root.iterdir() if path.is_dir() and path.name != "locks")
        except FileNotFoundError:
            return {}
        found = {}
        for folder in folders:
            try:
                code = check_class_code(folder.name)
            except ValueError:
                continue  # not a set (a hand-made folder): left alone
            count = len(self._listing(code))
            if count and code == folder.name:
                found[code] = count
        return found
