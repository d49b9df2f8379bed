"""The run store: trained runs on disk, so a run is trained once and reopened in well under a second.

Layout under the store's folder (`RUN_STORE_DIR`, else a per-user cache folder):

    runs/<run_id>/run.json            config, history, metrics, layer table, data source
    runs/<run_id>/probabilities.npy   test-set class probabilities, (num_test, 10) float32
    runs/<run_id>/model.keras         the trained model (loaded with safe_mode=True)
    runs/<run_id>/manifest.json       each file's size and SHA-256, written last: its presence means complete
    index.sqlite                      one row per run: config and headline metrics, for listing
    networks/<name>.json              users' own networks (architecture specs), by name
    locks/<run_id>.lock               held while a run trains, so concurrent requests train it once
    tmp/                              runs being written; renamed into runs/ when complete

The folders under runs/ are the truth; the SQLite index is rebuilt from them when it is missing or
broken. A run is written to tmp/ and renamed into place, so a process killed mid-way leaves no
half-written entry. Opening a run checks its files against the manifest (sizes every time, hashes once
per process) and the types of its values; an entry whose files are missing, changed or corrupt is
reported and treated as absent, so it is retrained where a config asks for it. Runs stored before the
manifest existed are checked by content (probabilities readable, model archive and config readable) and
given one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import sqlite3
import time
import uuid
import zipfile
from contextlib import closing
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from core import lazy
from core.architectures import NAME_PATTERN as NETWORK_NAME
from core.architectures import PRESETS, ArchitectureSpec, check_own_name
from core.config import FORMAT_VERSION, TrainConfig, run_id
from core.data import Dataset
from core.training import OnEpoch, RunRecord, RunResult, train, warm_up

log = logging.getLogger(__name__)

APP_NAME = "digits-dashboard"
LOCK_TIMEOUT_SECONDS = 6 * 3600
DEFAULT_MAX_BYTES = 2 * 1024**3   # RUN_STORE_MAX_MB overrides; a conv run takes ~7 MB, a flat one ~0.6 MB
RECENT_USE_SECONDS = 600          # a run used this recently is never evicted (it may be being read)
STALE_TMP_SECONDS = 24 * 3600     # leftovers of killed writers older than this are removed
RUN_FILE, PROBABILITIES_FILE, MODEL_FILE = "run.json", "probabilities.npy", "model.keras"
MANIFEST_FILE = "manifest.json"
RUN_FILES = (RUN_FILE, PROBABILITIES_FILE, MODEL_FILE)
_HASHED: dict[tuple, str] = {}  # (path, size, mtime_ns) -> SHA-256 of files already hashed in this process
_REPORTED_STRAYS: set[str] = set()  # paths under runs/ that are not runs, already reported in this process

INDEX_COLUMNS = {
    "run_id": "TEXT PRIMARY KEY", "dataset": "TEXT", "architecture": "TEXT", "sample_size": "INTEGER",
    "num_epochs": "INTEGER", "batch_size": "INTEGER", "seed": "INTEGER", "optimizer": "TEXT",
    "learning_rate": "REAL", "test_accuracy": "REAL", "test_loss": "REAL", "train_seconds": "REAL",
    "num_params": "INTEGER", "data_key": "TEXT", "data_source": "TEXT", "trained_at": "TEXT",
    "last_used_at": "TEXT", "size_bytes": "INTEGER", "config_json": "TEXT", "peak_memory_mb": "REAL",
}


class StoreError(RuntimeError):
    """The store cannot be used (e.g. its folder is not writable); the message says why."""


class StoreSettingError(StoreError, ValueError):
    """A setting the user gives (RUN_STORE_DIR, RUN_STORE_MAX_MB) cannot work: a usage error (CLI exit 2)."""


@dataclass(frozen=True, kw_only=True)
class StoredRun(RunRecord):
    """A run as kept in the store: its record plus where its arrays and model live."""
    run_id: str
    directory: Path

    @property
    def model_path(self) -> Path:
        return self.directory / MODEL_FILE

    def probabilities(self) -> np.ndarray:
        return np.load(self.directory / PROBABILITIES_FILE, allow_pickle=False)  # (num_test, 10)

    def load_model(self):
        keras = lazy.keras()

        return keras.saving.load_model(self.model_path, compile=False, safe_mode=True)


@dataclass(frozen=True)
class Outcome:
    run: StoredRun
    cached: bool              # True when served from the store, False when trained now
    problem: str | None = None  # a broken entry found (and replaced) on the way, if any


def default_root() -> Path:
    configured = os.environ.get("RUN_STORE_DIR")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME)) / "runs-store"


class RunStore:
    def __init__(self, root: Path | str | None = None, max_bytes: int | None = None):
        self.root = Path(root) if root is not None else default_root()
        self.max_bytes = max_bytes if max_bytes is not None else default_max_bytes()
        try:
            for folder in ("runs", "tmp", "locks", "networks"):
                (self.root / folder).mkdir(parents=True, exist_ok=True)
            probe = self.root / "tmp" / f".probe-{uuid.uuid4().hex}"
            probe.touch()
            probe.unlink()
        except OSError as error:
            raise StoreSettingError(f"The run store folder {self.root} is not writable ({error.strerror or error}). "
                             f"Set RUN_STORE_DIR to a writable folder.") from error
        self._remove_stale_tmp()

    def _remove_stale_tmp(self) -> None:
        """Staging folders left by writers that were killed (a live writer's folder is recent)."""
        cutoff = time.time() - STALE_TMP_SECONDS
        for leftover in (self.root / "tmp").iterdir():
            try:
                if leftover.stat().st_mtime < cutoff:
                    shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink()
            except OSError:
                pass  # another process removed it first

    # --- reading --------------------------------------------------------------------------------

    def run_dir(self, run_id_: str) -> Path:
        if not run_id_.isalnum():
            raise ValueError(f"Not a run id: {run_id_!r}")
        return self.root / "runs" / run_id_

    def inspect(self, run_id_: str) -> tuple[StoredRun | None, str | None]:
        """(the run, None) when complete; (None, why) when broken; (None, None) when absent."""
        directory = self.run_dir(run_id_)
        if not directory.exists():
            return None, None
        try:
            record = json.loads((directory / RUN_FILE).read_text())
            if record.pop("format", None) != FORMAT_VERSION:
                return None, "written by another version of the store"
            record["config"] = TrainConfig.from_dict(record["config"])
            _check_values(record)
            run = StoredRun(run_id=run_id_, directory=directory, **record)
        except (OSError, ValueError, KeyError, TypeError) as error:
            return None, f"{RUN_FILE} unreadable ({error})"
        problem = _verify_files(directory)
        return (None, problem) if problem else (run, None)

    def get(self, run_id_: str) -> StoredRun | None:
        run, problem = self.inspect(run_id_)
        if problem:
            log.warning("run %s is broken: %s", run_id_, problem)
        if run is not None:
            self._touch(run)
        return run

    def id_for(self, config: TrainConfig, dataset: Dataset) -> str:
        return run_id(config, dataset.key)

    # --- writing --------------------------------------------------------------------------------

    def put(self, result: RunResult) -> StoredRun:
        """Write a finished run atomically (temporary folder, then rename) and index it."""
        run_id_ = run_id(result.config, result.data_key)
        staging = self.root / "tmp" / f"{run_id_}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            record = {f.name: getattr(result, f.name) for f in fields(RunRecord)}
            record["config"] = result.config.to_dict()
            record["format"] = FORMAT_VERSION
            (staging / RUN_FILE).write_text(json.dumps(record, indent=1))
            np.save(staging / PROBABILITIES_FILE, result.test_probabilities.astype(np.float32))
            if isinstance(result.model, bytes):  # a .keras archive from another process (a Ray worker)
                (staging / MODEL_FILE).write_bytes(result.model)
            else:
                result.model.save(staging / MODEL_FILE)
            _write_manifest(staging)
            target = self.run_dir(run_id_)
            if target.exists():
                self._discard(target)
            os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        run, problem = self.inspect(run_id_)
        if run is None:
            raise StoreError(f"Run {run_id_} could not be read back after writing: {problem}")
        self._index(run)
        self.enforce_limit(protect={run_id_})
        return run

    def enforce_limit(self, protect: set = frozenset()) -> list[str]:
        """Remove least recently used runs while the store is over `max_bytes`; return their ids.

        Never removes a protected run, one used in the last RECENT_USE_SECONDS (it may be being read),
        or one whose lock is held (it is being written).
        """
        from filelock import FileLock, Timeout

        rows = sorted(self.list_runs(), key=lambda row: row["last_used_at"] or "")
        total = sum(row["size_bytes"] or 0 for row in rows)
        recent = datetime.fromtimestamp(time.time() - RECENT_USE_SECONDS, timezone.utc).isoformat(timespec="seconds")
        removed = []
        for row in rows:
            if total <= self.max_bytes:
                break
            if row["run_id"] in protect or (row["last_used_at"] or "") >= recent:
                continue
            try:
                with FileLock(self.root / "locks" / f"{row['run_id']}.lock", timeout=0):
                    self.delete(row["run_id"])
            except Timeout:
                continue
            total -= row["size_bytes"] or 0
            removed.append(row["run_id"])
        if removed:
            log.info("store over %d bytes: removed %d least recently used runs", self.max_bytes, len(removed))
        return removed

    def get_or_train(self, config: TrainConfig, dataset: Dataset, on_epoch: OnEpoch = None,
                     trainer: Callable[..., RunResult] | None = None) -> Outcome:
        """The stored run for `config`, training it first if needed (once, across processes)."""
        from filelock import FileLock

        run_id_ = self.id_for(config, dataset)
        run, problem = self.inspect(run_id_)
        if run is not None:
            self._touch(run)
            return Outcome(run, cached=True)
        with FileLock(self.root / "locks" / f"{run_id_}.lock", timeout=LOCK_TIMEOUT_SECONDS):
            run, problem_now = self.inspect(run_id_)  # another process may have trained it meanwhile
            if run is not None:
                self._touch(run)
                return Outcome(run, cached=True, problem=problem)
            problem = problem or problem_now
            if problem:
                log.warning("run %s is broken (%s): training it again", run_id_, problem)
                self.delete(run_id_)
            result = (trainer or train)(config, dataset, on_epoch=on_epoch)
            return Outcome(self.put(result), cached=False, problem=problem)

    def warm_up(self, configs: list[TrainConfig], dataset: Dataset) -> list[TrainConfig]:
        """Prepare the training of the configs that have no stored run (see core.training.warm_up), so that
        a later `get_or_train` starts at its first epoch; stored runs need no TensorFlow and get nothing.
        Returns the configs it prepared."""
        missing = [config for config in configs if self.inspect(self.id_for(config, dataset))[0] is None]
        return [config for config in missing if warm_up(config, dataset)]

    def delete(self, run_id_: str) -> bool:
        directory = self.run_dir(run_id_)
        existed = directory.exists()
        if existed:
            self._discard(directory)
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id_,))
        return existed

    def _discard(self, directory: Path) -> None:
        """Move a run folder out of runs/ in one step, then delete it."""
        trash = self.root / "tmp" / f"trash-{directory.name}-{uuid.uuid4().hex[:8]}"
        os.rename(directory, trash)
        shutil.rmtree(trash, ignore_errors=True)

    # --- users' own networks ---------------------------------------------------------------------

    def save_network(self, spec: ArchitectureSpec) -> None:
        """Keep a user's network under its name (replacing one of that name); runs keep their own copy."""
        check_own_name(spec.name)
        staging = self.root / "tmp" / f"network-{uuid.uuid4().hex[:8]}.json"
        staging.write_text(spec.to_json())
        os.replace(staging, self._network_path(spec.name))

    def saved_networks(self) -> dict[str, ArchitectureSpec]:
        """Users' networks by name; a file that is not a valid spec is reported and left out."""
        networks = {}
        for path in sorted((self.root / "networks").glob("*.json")):
            try:
                spec = ArchitectureSpec.from_json(path.read_text())
                if spec.name != path.stem or spec.name in PRESETS:
                    raise ValueError(f"it is named {spec.name!r}")
                networks[spec.name] = spec
            except (OSError, ValueError, UnicodeDecodeError) as error:
                log.warning("saved network %s is not usable (%s): left out", path.name, error)
        return networks

    def delete_network(self, name: str) -> bool:
        path = self._network_path(name)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    def networks(self) -> dict[str, ArchitectureSpec]:
        """Every network a run can be asked for: the presets, then the users' own."""
        return {**PRESETS, **self.saved_networks()}

    def resolve_networks(self, names) -> list[ArchitectureSpec]:
        known = self.networks()
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(f"Unknown architecture {unknown[0]!r}; choose from: {', '.join(known)}.")
        return [known[name] for name in dict.fromkeys(names)]

    def _network_path(self, name: str) -> Path:
        if not isinstance(name, str) or not NETWORK_NAME.fullmatch(name):
            raise ValueError(f"Not a network name: {name!r}")
        return self.root / "networks" / f"{name}.json"

    # --- the index ------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        """A connection to the index; a file that is no SQLite database is rebuilt from the folders."""
        path = self.root / "index.sqlite"
        columns = ", ".join(f"{name} {kind}" for name, kind in INDEX_COLUMNS.items())
        for attempt in range(2):
            db = sqlite3.connect(path, timeout=30)
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
                log.warning("run index %s is broken (%s): rebuilding it", path, error)
                path.unlink(missing_ok=True)
        raise AssertionError("unreachable")

    def _add_missing_columns(self, db: sqlite3.Connection) -> None:
        """An index made before a column existed gains it, filled in from each run's folder."""
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
                    row = _index_row(run)
                    db.execute(f"UPDATE runs SET {', '.join(f'{name} = ?' for name in missing)} WHERE run_id = ?",
                               (*(row[name] for name in missing), found))

    def _index(self, run: StoredRun) -> None:
        row = _index_row(run)
        with closing(self._connect()) as db, db:
            db.execute(f"INSERT OR REPLACE INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                       tuple(row.values()))

    def _touch(self, run: StoredRun) -> None:
        """Mark a run used, its index row rewritten from the run just read and checked from disk (the
        index is a cache of the folders: a row that disagrees with them is corrected here)."""
        try:
            self._index(run)
        except (sqlite3.Error, OSError) as error:  # the index is a convenience: never fail a read over it
            log.warning("could not update the run index: %s", error)

    def _run_folders(self) -> set[str]:
        """The names under runs/ that are runs; anything else (a hand-made backup, a stray file) is left
        alone and reported once per process."""
        folders = set()
        for path in (self.root / "runs").iterdir():
            if path.is_dir() and path.name.isalnum():
                folders.add(path.name)
            elif str(path) not in _REPORTED_STRAYS:
                _REPORTED_STRAYS.add(str(path))
                log.warning("%s is not a run: left alone, not listed", path)
        return folders

    def list_runs(self) -> list[dict]:
        """One dict per complete run (index columns), newest first; the index is repaired on the way."""
        on_disk = self._run_folders()
        with closing(self._connect()) as db, db:
            db.row_factory = sqlite3.Row
            rows = {row["run_id"]: dict(row) for row in db.execute("SELECT * FROM runs")}
            for stale in set(rows) - on_disk:
                db.execute("DELETE FROM runs WHERE run_id = ?", (stale,))
                rows.pop(stale)
        broken = {found for found, row in rows.items() if not _row_is_sound(row)}
        for found in sorted((on_disk - set(rows)) | broken):
            rows.pop(found, None)
            run, problem = self.inspect(found)
            if run is not None:
                log.warning("run %s was missing from the index or its row was broken: re-indexed", found)
                self._index(run)
                rows[found] = _index_row(run)
            elif problem:
                log.warning("run %s is broken (%s): not listed", found, problem)
        return sorted((_with_recipe_and_precision(row) for row in rows.values()),
                      key=lambda row: row["trained_at"] or "", reverse=True)


def _with_recipe_and_precision(row: dict) -> dict:
    """Two config fields the index has no column for, read from its config JSON, so that listings tell
    apart runs that differ only in them (runs stored before a field existed get its default)."""
    config = json.loads(row.get("config_json") or "{}")
    return {**row, "recipe": config.get("recipe", "student"), "precision": config.get("precision", "float32")}


def _row_is_sound(row: dict) -> bool:
    """An index row whose values have the types the pages and the CLI rely on."""
    try:
        json.loads(row["config_json"])
        return (isinstance(row["test_accuracy"], float) and isinstance(row["sample_size"], int)
                and isinstance(row["size_bytes"], int) and isinstance(row["trained_at"], str)
                and isinstance(row["architecture"], str))
    except (TypeError, ValueError):
        return False


def default_max_bytes() -> int:
    configured = os.environ.get("RUN_STORE_MAX_MB")
    if not configured:
        return DEFAULT_MAX_BYTES
    try:
        megabytes = float(configured)
    except ValueError:
        raise StoreSettingError(f"RUN_STORE_MAX_MB must be a number of megabytes, not {configured!r}.") from None
    if not math.isfinite(megabytes) or megabytes <= 0:  # inf, 1e309 (parsed as inf) and nan included
        raise StoreSettingError(f"RUN_STORE_MAX_MB must be a finite number of megabytes above 0; got {configured}.")
    return int(megabytes * 1024**2)


def _index_row(run: StoredRun) -> dict:
    config = run.config.to_dict()
    row = {name: config.get(name) for name in INDEX_COLUMNS if name in config}
    row.update(run_id=run.run_id, test_accuracy=run.test_accuracy, test_loss=run.test_loss,
               train_seconds=run.train_seconds, peak_memory_mb=run.peak_memory_mb, num_params=run.num_params,
               data_key=run.data_key,
               data_source=run.data_source, trained_at=run.trained_at, last_used_at=_now(),
               size_bytes=sum(p.stat().st_size for p in run.directory.iterdir()),
               config_json=json.dumps(config, sort_keys=True))
    return row


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- checking what is read --------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    """The file's SHA-256, computed once per process for a given path, size and modification time."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHED:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _HASHED[key] = digest.hexdigest()
    return _HASHED[key]


def _write_manifest(directory: Path) -> None:
    """Each run file's size and SHA-256, written (atomically) after the files themselves."""
    files = {name: {"size": (directory / name).stat().st_size, "sha256": _sha256(directory / name)}
             for name in RUN_FILES}
    staging = directory / f".{MANIFEST_FILE}.{uuid.uuid4().hex[:8]}"
    staging.write_text(json.dumps({"files": files}, indent=1))
    os.replace(staging, directory / MANIFEST_FILE)


def _verify_files(directory: Path) -> str | None:
    """Why the run's files cannot be trusted, or None. Runs from before manifests are checked by content
    and then given a manifest."""
    for name in RUN_FILES:
        if not (directory / name).is_file():
            return f"{name} is missing"
    manifest_path = directory / MANIFEST_FILE
    if not manifest_path.exists():
        problem = _check_contents(directory)
        if problem is None:
            try:
                _write_manifest(directory)
            except OSError as error:  # a read-only store still serves the run, unverified next time too
                log.warning("could not write the manifest of %s: %s", directory.name, error)
        return problem
    try:
        expected = json.loads(manifest_path.read_text())["files"]
        for name in RUN_FILES:
            size, digest = expected[name]["size"], expected[name]["sha256"]
            actual = (directory / name).stat().st_size
            if actual != size:
                how = "truncated" if actual < size else "grown"
                return f"{name} is {how}: {actual:,} bytes, not the {size:,} it was written with"
            if _sha256(directory / name) != digest:
                return f"{name} was changed or damaged after it was written (checksum mismatch)"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"{MANIFEST_FILE} unreadable ({error})"
    return None


def _check_contents(directory: Path) -> str | None:
    """A run without a manifest: its predictions load as a (num_test, 10) table of probabilities and its
    model is an archive whose config is readable JSON."""
    try:
        probabilities = np.load(directory / PROBABILITIES_FILE, allow_pickle=False)
        if probabilities.ndim != 2 or probabilities.shape[1] != 10 or not np.isfinite(probabilities).all():
            return f"{PROBABILITIES_FILE} does not hold one row of 10 probabilities per test image"
    except (OSError, ValueError, EOFError) as error:
        return f"{PROBABILITIES_FILE} unreadable ({error})"
    try:
        with zipfile.ZipFile(directory / MODEL_FILE) as archive:
            json.loads(archive.read("config.json"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        return f"{MODEL_FILE} is damaged ({error})"
    return None


def _check_values(record: dict) -> None:
    """The record's values have the types the pages and the CLI rely on; ValueError says which does not."""
    for name in ("test_accuracy", "test_loss", "train_seconds", "inference_ms_per_image"):
        value = record[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} is {value!r}, not a number of 0 or more")
    memory = record.get("peak_memory_mb")  # absent in runs stored before it was recorded
    if memory is not None and (isinstance(memory, bool) or not isinstance(memory, (int, float))
                               or not math.isfinite(memory) or memory < 0):
        raise ValueError(f"peak_memory_mb is {memory!r}, not a number of 0 or more")
    if record["test_accuracy"] > 1:
        raise ValueError(f"test_accuracy is {record['test_accuracy']!r}, above 1")
    if isinstance(record["num_params"], bool) or not isinstance(record["num_params"], int):
        raise ValueError(f"num_params is {record['num_params']!r}, not a whole number")
    history = record["history"]
    if not isinstance(history, dict) or not all(isinstance(values, list) and
                                                all(isinstance(v, (int, float)) for v in values)
                                                for values in history.values()):
        raise ValueError("history is not lists of numbers per metric")
    if record.get("trained_on") is not None and not isinstance(record["trained_on"], str):
        raise ValueError(f"trained_on is {record['trained_on']!r}, not a name")
    if not isinstance(record["layers"], list) or not isinstance(record["trained_at"], str):
        raise ValueError("layers or trained_at has the wrong type")
