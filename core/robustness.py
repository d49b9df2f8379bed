"""Robustness of a stored run: its accuracy on the test digits shifted, rotated, scaled, made noisy or
distorted, level by level (core/perturb.py), computed from the stored model.

The predicted labels are kept beside the run (`robustness.npz`, written in one step like the run itself), so
a second look is instant and survives a restart; they go when the run goes.
A cache that is unreadable, from another version, another test set or seed, or holds impossible values is
recomputed, never trusted. Reading it is bounded: its checksum (`robustness.sha256`, written after it, like the
run's manifest) must match, its size and each array's declared size and shape are checked before anything is
allocated or decompressed (a header declaring 10^12 elements or a zip bomb is refused in microseconds).

A run trained on shuffled pixels (core/pixels.py) is measured the same way: each digit is perturbed as drawn,
then its pixels are shuffled by the run's permutation, exactly as its training and test images were.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from cachetools import LRUCache

from core import pixels
from core.data import Dataset, to_model_input
from core.formats import percent
from core.perturb import DEFAULT_PERTURBATIONS, PERTURBATIONS, check_perturbations, perturbed
from core.stats import mean_ci
from core.runs.run_files import StoredRun
from core.training import predict

log = logging.getLogger(__name__)

CACHE_FILE = "robustness.npz"
CHECKSUM_FILE = "robustness.sha256"  # SHA-256 of CACHE_FILE's bytes: a cache changed after writing is recomputed
MAX_META_BYTES = 4096
VERSION = 1  # bump when a perturbation's meaning changes: older caches are then recomputed
SEED = 0     # the perturbations' seed: every run is measured on the same perturbed digits
MAX_IMAGES_PER_CALL = 20_000  # ~60 MB of float32 input per predict call


def key(name: str, level) -> str:
    return f"{name}@{level:g}"


@dataclass(frozen=True)
class Robustness:
    """One run's predicted labels on every perturbed test set asked for."""
    run_id: str
    predictions: dict  # key(name, level) -> (num_test,) uint8 predicted classes
    computed: int      # how many levels were computed now (0: everything came from the cache)

    def table(self, labels: np.ndarray, names=DEFAULT_PERTURBATIONS) -> pd.DataFrame:
        return accuracy_table(self.predictions, labels, names)


def accuracy_table(predictions: dict, labels: np.ndarray, names=DEFAULT_PERTURBATIONS) -> pd.DataFrame:
    """Accuracy per perturbation and level, from predicted labels keyed by `key(name, level)`."""
    rows = [{"perturbation": name, "level": level, "accuracy": float((predictions[key(name, level)] == labels).mean())}
            for name in names for level in PERTURBATIONS[name].levels]
    return pd.DataFrame(rows, columns=["perturbation", "level", "accuracy"])


def measure(run: StoredRun, dataset: Dataset, names=DEFAULT_PERTURBATIONS,
            load_model: Callable | None = None, predict_missing: Callable | None = None) -> Robustness:
    """The run's predictions on each perturbation and level of `names`: read from the cache beside the run,
    the missing ones computed and added to the cache — with the stored model, loaded here only if needed
    (`load_model`, default the run's), or by `predict_missing(levels)` (the app: a worker process, see
    `predicted_labels_in_worker`). ValueError for a run trained on other data."""
    names = check_perturbations(names)
    if run.config.dataset != dataset.name or run.data_key != dataset.key:
        raise ValueError(f"Run {run.run_id} was trained on other data than {dataset.name}'s current source; "
                         f"its robustness cannot be measured on these test digits.")
    wanted = [(name, level) for name in names for level in PERTURBATIONS[name].levels]
    cached = _read(run, dataset)
    missing = [(name, level) for name, level in wanted if key(name, level) not in cached]
    if missing:
        if predict_missing is None:
            cached.update(predicted_labels((load_model or run.load_model)(), dataset, missing, run.config.pixels))
        else:
            cached.update(predict_missing(missing))
        _write(run, dataset, cached)
    return Robustness(run.run_id, {key(name, level): cached[key(name, level)] for name, level in wanted},
                      computed=len(missing))


def predicted_labels(model, dataset: Dataset, levels: list[tuple], order: str = "drawn") -> dict[str, np.ndarray]:
    """The model's predicted class of every test digit at each (perturbation, level): key(name, level) ->
    (num_test,) uint8. Every identity level (shift 0, rotation 0, scale 1, ...) is the plain test set, predicted
    once; the sets go through predict in large chunks, bounded in memory. `order`: the pixel order the model
    was trained on (core/pixels.py): each digit is perturbed as drawn, then arranged in that order."""
    sets = {}
    for name, level in levels:
        sets.setdefault("identity" if level == PERTURBATIONS[name].levels[0] else key(name, level), (name, level))
    num_test = len(dataset.y_test)
    per_call = max(1, MAX_IMAGES_PER_CALL // num_test)  # sets per predict call: bounded memory
    names, by_set = list(sets), {}
    for start in range(0, len(names), per_call):
        chunk = names[start:start + per_call]
        images = np.concatenate([_perturbed_test_set(dataset, *sets[name]) for name in chunk])
        images = pixels.arrange(images, order)  # perturbed as drawn, then shuffled like its training
        probabilities = predict(model, to_model_input(images))
        by_set.update(zip(chunk, probabilities.argmax(axis=1).astype(np.uint8).reshape(len(chunk), num_test)))
    return {key(name, level): by_set["identity" if level == PERTURBATIONS[name].levels[0] else key(name, level)]
            for name, level in levels}


def predicted_labels_in_worker(dataset: Dataset, store_root: str, run_id: str, levels: list, order: str = "drawn",
                               emit=None) -> dict[str, np.ndarray]:
    """`predicted_labels` where the executor does model work (a job's function, core/runs/executors.py): the model
    from the store (a worker keeps recent ones). The server writes the cache (one owner)."""
    from core.runs.jobs import worker_model

    return predicted_labels(worker_model(store_root, run_id), dataset, levels, order)


MAX_PERTURBED_BYTES = 160 * 1024**2  # 20 sets of a 10,000-digit test set: a comparison's models share them
_PERTURBED = LRUCache(maxsize=MAX_PERTURBED_BYTES, getsizeof=lambda images: images.nbytes)  # (data key, name, level)
_PERTURBED_LOCK = threading.Lock()


def _perturbed_test_set(dataset: Dataset, name: str, level) -> np.ndarray:
    """The perturbed test set, made once per process for all the runs measured on it (least recently used
    sets are dropped beyond MAX_PERTURBED_BYTES)."""
    wanted = (dataset.key, name, float(level))
    with _PERTURBED_LOCK:
        if wanted in _PERTURBED:
            return _PERTURBED[wanted]
    images = perturbed(dataset.x_test, name, level, seed=SEED)
    with _PERTURBED_LOCK:
        try:
            _PERTURBED[wanted] = images
        except ValueError:  # one set larger than the bound (a test set of over 200,000 digits): not kept
            pass
    return images


def is_measured(run: StoredRun, dataset: Dataset, names=DEFAULT_PERTURBATIONS) -> bool:
    """True when the cache beside the run holds every level of `names` for this test set."""
    cached = _read(run, dataset)
    return all(key(name, level) in cached for name in check_perturbations(names)
               for level in PERTURBATIONS[name].levels)


def _meta(dataset: Dataset) -> dict:
    return {"version": VERSION, "seed": SEED, "data_key": dataset.key, "num_test": int(len(dataset.y_test))}


def _read(run: StoredRun, dataset: Dataset) -> dict:
    """The cached predictions that can be trusted for this test set ({} when none)."""
    data = run.extra(CACHE_FILE)
    if data is None:
        return {}
    try:
        return _checked(data, run.extra(CHECKSUM_FILE), dataset)
    except _Stale as reason:
        log.info("robustness cache of %s is for another version or test set (%s): recomputing", run.run_id, reason)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, MemoryError, RuntimeError) as error:
        log.warning("robustness cache of %s is unreadable (%s): recomputing", run.run_id, error)
    return {}


class _Stale(Exception):
    pass


def _checked(data: bytes, checksum: bytes | None, dataset: Dataset) -> dict:
    """The arrays of a cache's bytes, each checked before it is read; ValueError for anything untrusted."""
    num_test = len(dataset.y_test)
    num_levels = sum(len(perturbation.levels) for perturbation in PERTURBATIONS.values())
    member_limit = num_test + 1024  # an .npy file: a header of at most a few hundred bytes, then the labels
    if checksum is None or checksum.decode("ascii", "replace").strip() != hashlib.sha256(data).hexdigest():
        raise ValueError("it does not match its checksum (changed or damaged after it was written)")
    if len(data) > (num_levels + 1) * (member_limit + 512) + MAX_META_BYTES:
        raise ValueError(f"it is {len(data):,} bytes, more than {num_levels} sets of labels take")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > num_levels + 1:
            raise ValueError(f"it holds {len(members)} arrays")
        declared = {member.filename: member.file_size for member in members}
        if declared.get("meta.npy", MAX_META_BYTES + 1) > MAX_META_BYTES:
            raise ValueError("its meta is missing or too large")
        meta = json.loads(str(_array(archive, "meta.npy", MAX_META_BYTES, expect=None)))
        if meta != _meta(dataset):
            raise _Stale(f"meta {str(meta)[:200]}")
        found = {}
        for member in members:
            if member.filename == "meta.npy":
                continue
            if not member.filename.endswith(".npy") or member.file_size > member_limit:
                raise ValueError(f"{member.filename[:60]} declares {member.file_size:,} bytes")
            values = _array(archive, member.filename, member_limit, expect=(num_test,))
            if values.max(initial=0) > 9:
                raise ValueError(f"{member.filename[:60]} holds values that are not classes")
            found[member.filename[:-len(".npy")]] = values
        return found


def _array(archive: zipfile.ZipFile, name: str, limit: int, expect: tuple | None) -> np.ndarray:
    """One .npy member: its header read and checked (uint8 labels of `expect` shape, or meta's one string)
    before its data is read; at most `limit` bytes are decompressed."""
    with archive.open(name) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"{name[:60]} has .npy version {version}")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(member, max_header_size=1024)
        if expect is None:  # meta: one unicode string, short
            if shape != () or dtype.kind != "U" or dtype.itemsize > MAX_META_BYTES:
                raise ValueError(f"meta is {dtype} {shape}")
        elif shape != expect or dtype != np.uint8:
            raise ValueError(f"{name[:60]} declares {dtype} {shape}, not labels of the test digits")
        size = dtype.itemsize * (int(np.prod(shape)) if shape else 1)
        raw = member.read(min(size, limit) + 1)
    if len(raw) != size:
        raise ValueError(f"{name[:60]} holds {len(raw):,} bytes, not the {size:,} its header declares")
    values = np.frombuffer(raw, dtype=dtype).reshape(shape)
    return values[()] if shape == () else values.copy()


def _write(run: StoredRun, dataset: Dataset, predictions: dict) -> None:
    """Kept beside the run in one step (core/runs/backend.py's `add`). A store that cannot be written
    (read-only, the run deleted meanwhile) only loses the cache."""
    data = io.BytesIO()
    np.savez(data, meta=np.array(json.dumps(_meta(dataset), sort_keys=True)), **predictions)
    try:
        run.keep_extra(CACHE_FILE, data.getvalue())
        run.keep_extra(CHECKSUM_FILE, hashlib.sha256(data.getvalue()).hexdigest().encode())
    except (OSError, KeyError) as error:
        log.warning("could not keep the robustness of %s: %s", run.run_id, error)


def summarise_over_seeds(tables: dict[str, list[pd.DataFrame]]) -> pd.DataFrame:
    """Per network, perturbation and level: mean accuracy over seeds with its 95% CI (NaN with one seed)."""
    rows = []
    for network, per_seed in tables.items():
        stacked = pd.concat(per_seed)
        for (name, level), group in stacked.groupby(["perturbation", "level"], sort=False):
            interval = mean_ci(group["accuracy"])
            rows.append({"network": network, "perturbation": name, "level": level, "seeds": interval.count,
                         "mean_accuracy": interval.mean, "ci_low": max(interval.low, 0.0) if interval.count > 1
                         else float("nan"), "ci_high": min(interval.high, 1.0) if interval.count > 1 else float("nan")})
    return pd.DataFrame(rows, columns=["network", "perturbation", "level", "seeds", "mean_accuracy", "ci_low",
                                       "ci_high"])


def sentence(tables: dict[str, pd.DataFrame], name: str = "shift", level=3) -> str:
    """'Shifted by 3 pixels: conv 71.2%, flat 34.0% (unperturbed: conv 96.1%, flat 89.0%).' (core/formats.py's
    percent)."""
    perturbation = PERTURBATIONS[name]
    identity = perturbation.levels[0]

    def at(table, wanted):
        rows = table[(table["perturbation"] == name) & (table["level"] == wanted)]
        return float(rows["accuracy"].iloc[0]) if len(rows) else float("nan")

    now = ", ".join(f"{label} {percent(at(table, level))}" for label, table in tables.items())
    before = ", ".join(f"{label} {percent(at(table, identity))}" for label, table in tables.items())
    return f"{perturbation.describe(level).capitalize()}: {now} (unperturbed: {before})."
