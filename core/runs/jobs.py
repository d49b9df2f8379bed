"""The model work itself: functions that run where an executor does model work (this process, a worker process, a
Ray task), and what they keep there between jobs (the datasets and loaded models).

Each is a module-level function taking its arguments and `emit` (progress to the asker), so any executor can run
or pickle it (core/runs/executors.py `Job`). Nothing here knows which executor runs it.
"""

from __future__ import annotations

import functools
import platform
import sys
from dataclasses import replace

from core.config import TrainConfig
from core.data import Dataset, download_with_keras, load_dataset
from core.records import RunResult
from core.runs.run_files import model_bytes
from core.sized_cache import SizedCache, model_bytes as loaded_model_bytes
from core.training import prepare_training, train


def train_run(dataset: Dataset, config: TrainConfig, trainer, emit) -> RunResult:
    """Train `config` on `dataset` with `trainer` (None: core.training.train), every epoch's EpochReport to `emit`;
    the run comes back as values, its model as the bytes of its .keras archive."""
    result = (trainer or train)(config, dataset, on_epoch=emit)
    return replace(result, model=model_bytes(result.model), trained_on=ray_node() or result.trained_on)


def prepare_runs(dataset: Dataset, configs: list[TrainConfig], emit) -> int:
    """Build and trace each config's model ahead of its training (core.training.prepare_training); how many were
    prepared now."""
    return sum(bool(prepare_training(config, dataset)) for config in configs)


def download(name: str, emit) -> None:
    """Keras's download of a dataset into Keras's cache folder, which the server then reads."""
    download_with_keras(name)


def with_dataset(function, name: str, key: str, *args):
    """`function(dataset, *args, emit)` with the dataset named `name` loaded here (the last of `args` is `emit`): how
    worker processes receive a job's dataset without its arrays crossing a pipe."""
    return function(worker_dataset(name, key), *args)


def ray_node() -> str | None:
    """Where this process runs when it is a Ray worker: "HOST · Ray node ID"; None elsewhere (a run then records
    the machine it trained on itself)."""
    ray = sys.modules.get("ray")
    if ray is None or not getattr(ray, "is_initialized", lambda: False)():
        return None
    try:
        node = ray.get_runtime_context().get_node_id()
    except Exception:  # a driver, not a task
        return None
    return f"{platform.node()} · Ray node {node[:8]}"


@functools.lru_cache(maxsize=2)
def _dataset(name: str) -> Dataset:
    return load_dataset(name)


def worker_dataset(name: str, key: str) -> Dataset:
    """The dataset the server asked for, loaded here; ValueError when this process reads other data."""
    dataset = _dataset(name)
    if dataset.key != key:
        raise ValueError(f"The worker reads {name} from {dataset.source}, which is not the data the server has "
                         f"(fingerprints {dataset.key} and {key}): check MNIST_PATH / FASHION_MNIST_PATH.")
    return dataset


_STORES: dict = {}
MODEL_CACHE_BYTES = 512 * 1024**2  # loaded models a worker keeps, by their estimated memory (core/sized_cache.py)
_MODELS = SizedCache(MODEL_CACHE_BYTES, size_of=loaded_model_bytes)


def worker_model(store_root: str, run_id: str):
    """A stored run's Keras model, loaded once per process and kept while the loaded models fit in
    MODEL_CACHE_BYTES (least recently used dropped first); ValueError when the run is not (or no longer) sound."""
    from core.runs.store import RunStore

    def load():
        store = _STORES.get(store_root) or _STORES.setdefault(store_root, RunStore(store_root))
        run, problem = store.inspect(run_id)
        if run is None:
            raise ValueError(f"Run {run_id} cannot be opened: {problem or 'it is no longer in the store'}.")
        return run.load_model()

    return _MODELS.get((store_root, run_id), load)
