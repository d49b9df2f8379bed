"""A run's files: what a finished run is as bytes, written in one step, and read back only when it can be
trusted.

A run is four files in a backend (core/runs/backend.py), by run id:

    run.json            config, history, metrics, layer table, data source, format version
    probabilities.npy   test-set class probabilities, (num_test, 10) float32
    model.keras         the trained model (loaded with safe_mode=True)
    manifest.json       each of the three files' size and SHA-256

Reading checks the files against the manifest (sizes every time; hashes as the backend remembers them, once
per process for the folder backend) and the record's value types; a run whose files are missing, changed or
corrupt is reported and treated as absent. Runs stored before the manifest existed are checked by content
(probabilities readable, model archive and its config readable) and given one.
"""

from __future__ import annotations

import io
import json
import logging
import math
import tempfile
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from core import lazy
from core.config import FORMAT_VERSION, TrainConfig, run_id as run_id_of
from core.runs.backend import RunBackend, sha256
from core.records import RunRecord, RunResult

log = logging.getLogger(__name__)

RUN_FILE, PROBABILITIES_FILE, MODEL_FILE = "run.json", "probabilities.npy", "model.keras"
MANIFEST_FILE = "manifest.json"
RUN_FILES = (RUN_FILE, PROBABILITIES_FILE, MODEL_FILE)


@dataclass(frozen=True, kw_only=True)
class StoredRun(RunRecord):
    """A run as kept in the store: its record, and its arrays and model read from the backend on demand."""
    run_id: str
    files: RunFiles | None = field(default=None, repr=False, compare=False)

    @property
    def model_path(self) -> Path:
        """A local file with the model's bytes (the file itself in a folder store)."""
        return self.files.backend.local_path(self.run_id, MODEL_FILE)

    def probabilities(self) -> np.ndarray:
        return np.load(self.files.backend.local_path(self.run_id, PROBABILITIES_FILE), allow_pickle=False)

    def load_model(self):
        keras = lazy.keras()

        return keras.saving.load_model(self.model_path, compile=False, safe_mode=True)

    def extra(self, name: str) -> bytes | None:
        """A file kept beside the run by a later computation (e.g. robustness), or None."""
        try:
            return self.files.backend.get(self.run_id, name)
        except KeyError:
            return None

    def keep_extra(self, name: str, data: bytes) -> None:
        """Keep `data` beside the run under `name` (in one step); KeyError when the run is gone."""
        if name in (*RUN_FILES, MANIFEST_FILE):
            raise ValueError(f"{name} is one of the run's own files.")
        self.files.backend.add(self.run_id, name, data)


class RunFiles:
    """Runs as trusted bytes in a backend: `write` a finished run, `inspect` one back."""

    def __init__(self, backend: RunBackend):
        self.backend = backend

    def write(self, result: RunResult) -> str:
        """Put a finished run in the backend in one step; returns its run id."""
        files = encode(result)
        identity = run_id_of(result.config, result.data_key)
        self.backend.put(identity, {**files, MANIFEST_FILE: manifest(files)})
        return identity

    def inspect(self, run_id: str) -> tuple[StoredRun | None, str | None]:
        """(the run, None) when complete; (None, why) when broken; (None, None) when absent."""
        sizes = self.backend.sizes(run_id)
        if sizes is None:
            return None, None
        try:
            record = json.loads(self.backend.get(run_id, RUN_FILE))
            if record.pop("format", None) != FORMAT_VERSION:
                return None, "written by another version of the store"
            record["config"] = TrainConfig.from_dict(record["config"])
            check_values(record)
            run = StoredRun(run_id=run_id, files=self, **record)
        except (OSError, ValueError, KeyError, TypeError) as error:
            return None, f"{RUN_FILE} unreadable ({error})"
        problem = self._verify(run_id, sizes)
        return (None, problem) if problem else (run, None)

    def write_manifest(self, run_id: str) -> None:
        """The manifest of the run's files as they are now (for a run from before manifests)."""
        files = {name: self.backend.get(run_id, name) for name in RUN_FILES}
        self.backend.add(run_id, MANIFEST_FILE, manifest(files))

    def _verify(self, run_id: str, sizes: dict[str, int]) -> str | None:
        """Why the run's files cannot be trusted, or None."""
        for name in RUN_FILES:
            if name not in sizes:
                return f"{name} is missing"
        if MANIFEST_FILE not in sizes:
            problem = self._check_contents(run_id)
            if problem is None:
                try:
                    self.write_manifest(run_id)
                except (OSError, KeyError) as error:  # a read-only store still serves the run, unverified next time
                    log.warning("could not write the manifest of %s: %s", run_id, error)
            return problem
        try:
            expected = json.loads(self.backend.get(run_id, MANIFEST_FILE))["files"]
            for name in RUN_FILES:
                size, digest = expected[name]["size"], expected[name]["sha256"]
                actual = sizes[name]
                if actual != size:
                    how = "truncated" if actual < size else "grown"
                    return f"{name} is {how}: {actual:,} bytes, not the {size:,} it was written with"
                if self.backend.digest(run_id, name) != digest:
                    return f"{name} was changed or damaged after it was written (checksum mismatch)"
        except (OSError, ValueError, KeyError, TypeError) as error:
            return f"{MANIFEST_FILE} unreadable ({error})"
        return None

    def _check_contents(self, run_id: str) -> str | None:
        """A run without a manifest: its predictions load as a (num_test, 10) table of probabilities and its
        model is an archive whose config is readable JSON."""
        try:
            probabilities = np.load(io.BytesIO(self.backend.get(run_id, PROBABILITIES_FILE)), allow_pickle=False)
            if probabilities.ndim != 2 or probabilities.shape[1] != 10 or not np.isfinite(probabilities).all():
                return f"{PROBABILITIES_FILE} does not hold one row of 10 probabilities per test image"
        except (OSError, ValueError, EOFError, KeyError) as error:
            return f"{PROBABILITIES_FILE} unreadable ({error})"
        try:
            with zipfile.ZipFile(io.BytesIO(self.backend.get(run_id, MODEL_FILE))) as archive:
                json.loads(archive.read("config.json"))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            return f"{MODEL_FILE} is damaged ({error})"
        return None


def encode(result: RunResult) -> dict[str, bytes]:
    """A finished run's three files as bytes (the model saved as a .keras archive, unless it already is one)."""
    record = {item.name: getattr(result, item.name) for item in fields(RunRecord)}
    record["config"] = result.config.to_dict()
    record["format"] = FORMAT_VERSION
    probabilities = io.BytesIO()
    np.save(probabilities, result.test_probabilities.astype(np.float32))
    return {RUN_FILE: json.dumps(record, indent=1).encode(), PROBABILITIES_FILE: probabilities.getvalue(),
            MODEL_FILE: model_bytes(result.model)}


def model_bytes(model) -> bytes:
    """A Keras model as the bytes of its .keras archive (bytes are returned as they are)."""
    if isinstance(model, bytes):
        return model
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / MODEL_FILE
        model.save(path)
        return path.read_bytes()


def manifest(files: dict[str, bytes]) -> bytes:
    return json.dumps({"files": {name: {"size": len(files[name]), "sha256": sha256(files[name])}
                                 for name in RUN_FILES}}, indent=1).encode()


def check_values(record: dict) -> None:
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
