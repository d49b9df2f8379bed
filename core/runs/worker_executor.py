"""Training in local worker processes (the app's executor): runs go through the workers' fair queue
(core/runs/workers.py) and come back as values; the runs service stores them in the server.

The dataset is not sent: a worker loads it by name, as the server did, and checks that it has the same
fingerprint (`Dataset.key`). The functions at the bottom run in the worker process.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any
from collections.abc import Callable

from core import costs
from core.config import TrainConfig
from core.costs import Cost
from core.data import Dataset
from core.runs.executors import Executor
from core.runs.workers import OverBudget, Ticket, WorkerPool
from core.sized_cache import SizedCache
from core.sized_cache import model_bytes as loaded_model_bytes
from core.training import OnEpoch, RunResult


COMPUTE_SECONDS = 2.0  # a prediction or robustness job's typical time, for the queue's estimates


class TicketHandle:
    """A queued job, as the runs service waits on it."""

    def __init__(self, ticket: Ticket):
        self.ticket = ticket

    def wait(self, on_epoch: OnEpoch = None, on_queue: Callable | None = None) -> Any:
        """The job's value; a caller who joined another's training gets its run as opened from the store (it was
        trained once, for the caller who asked first)."""
        from core.runs.service import Outcome

        value = self.ticket.wait(on_event=on_epoch, on_queue=on_queue)
        if self.ticket.joined and isinstance(value, Outcome) and not value.cached:
            return replace(value, cached=True)
        return value

    def cancel(self) -> None:
        self.ticket.cancel()


class WorkerExecutor(Executor):
    """Trains in local worker processes, one queue for every session of the server."""

    name = "workers"
    queued = True

    def __init__(self, pool: WorkerPool | None = None):
        self.pool = pool or WorkerPool()

    @property
    def slots(self) -> int:
        return self.pool.num_workers

    def start(self, key: str, config: TrainConfig, dataset: Dataset, body: Callable,
              estimate: Cost | None = None, asked_at: float | None = None) -> TicketHandle:
        """Queue `body` (joining a job already queued or running for `key`); its `train()` trains in a worker.
        Raises OverBudget, with what would fit, for a run the memory budget cannot hold even alone."""
        estimate = estimate or costs.estimate(config, dataset)
        self.check_budget(config, dataset, estimate)
        ticket = self.pool.submit(key, lambda call: body(lambda: call(train_in_worker, config, dataset.name,
                                                                           dataset.key)),
                                  estimate.peak_mb, estimate.seconds, label=_label(config), asked_at=asked_at)
        return TicketHandle(ticket)

    def train(self, config: TrainConfig, dataset: Dataset, on_epoch: OnEpoch = None) -> RunResult:
        handle = self.start(None, config, dataset, lambda train: train())
        try:
            return handle.wait(on_epoch=on_epoch)
        except BaseException:
            handle.cancel()
            raise

    def prepare(self, configs: list[TrainConfig], dataset: Dataset) -> list[TrainConfig]:
        """Start the workers (TensorFlow's import begins now) and queue, as background work, the tracing of each
        config's model in a worker, so that a click starts at the first epoch. Configs over the budget are
        not prepared."""
        fitting = [config for config in configs
                   if costs.peak_mb(config, dataset) <= self.pool.budget_mb - self.pool.server_mb()]
        self.start_processes()
        if fitting:
            key = "prepare:" + ",".join(sorted({repr(_kind(config)) for config in fitting}))
            self.pool.submit(key, lambda call: call(prepare_in_worker, fitting, dataset.name, dataset.key),
                             max(costs.peak_mb(config, dataset) for config in fitting), None,
                             label="preparing a training", background=True)
        return fitting

    def start_processes(self) -> None:
        """The workers start now; each imports TensorFlow at once."""
        self.pool.start()

    def compute(self, key: str | None, function: Callable, args: tuple, peak_mb: float = 0.0, label: str = "",
                on_queue: Callable | None = None) -> Any:
        """`function(*args, emit)` in a worker, in line with everything else; its value. `peak_mb`: what it adds
        to a worker's own memory (TensorFlow and the data: costs.WORKER_BASE_MB)."""
        ticket = self.pool.submit(key, lambda call: call(function, *args), costs.WORKER_BASE_MB + peak_mb,
                                  COMPUTE_SECONDS, label=label or "model work")
        try:
            return ticket.wait(on_queue=on_queue)
        except BaseException:
            ticket.cancel()
            raise

    def check_budget(self, config: TrainConfig, dataset: Dataset, estimate: Cost) -> None:
        """OverBudget, saying what would fit, for a run the memory budget cannot hold even alone."""
        free = self.pool.budget_mb - self.pool.server_mb()
        if estimate.peak_mb <= free:
            return
        advice = costs.over_budget_advice(config, dataset, free)
        raise OverBudget(f"Training {_label(config)} needs about {estimate.peak_mb:,.0f} MB, more than the "
                         f"{free:,.0f} MB this server can give it (MEMORY_BUDGET_MB is {self.pool.budget_mb:,.0f} "
                         f"MB, the server itself uses {self.pool.server_mb():,.0f} MB): {advice}.")

    def shutdown(self) -> None:
        """The app's pool lives as long as the server; a pool made for one caller is stopped by it."""
        self.pool.shutdown()


def _label(config: TrainConfig) -> str:
    return f"{config.architecture} on {config.sample_size:,} images"


def _kind(config: TrainConfig) -> tuple:
    """What a prepared model depends on (not the seed): equal kinds share one preparation."""
    return (config.spec.hash, config.precision, config.optimizer, config.learning_rate, config.recipe,
            config.sample_size, config.batch_size, config.num_epochs)


# --- in the worker process ------------------------------------------------------------------------------

@functools.lru_cache(maxsize=2)
def _dataset(name: str) -> Dataset:
    from core.data import load_dataset

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
    """A stored run's Keras model, loaded once per worker and kept while the loaded models fit in
    MODEL_CACHE_BYTES (least recently used dropped first); ValueError when the run is not (or no longer) sound."""
    from core.runs.store import RunStore

    def load():
        store = _STORES.get(store_root) or _STORES.setdefault(store_root, RunStore(store_root))
        run, problem = store.inspect(run_id)
        if run is None:
            raise ValueError(f"Run {run_id} cannot be opened: {problem or 'it is no longer in the store'}.")
        return run.load_model()

    return _MODELS.get((store_root, run_id), load)


def train_in_worker(config: TrainConfig, dataset_name: str, dataset_key: str, emit) -> RunResult:
    """Train in this worker; every epoch's report goes to the server; the model comes back as .keras bytes."""
    from core.runs.run_files import model_bytes
    from core.training import train

    result = train(config, worker_dataset(dataset_name, dataset_key), on_epoch=emit)
    return replace(result, model=model_bytes(result.model))


def download_in_worker(name: str, emit) -> None:
    """Keras's download of a dataset into Keras's cache folder, which the server then reads."""
    from core.data import download_with_keras

    download_with_keras(name)


def prepare_in_worker(configs: list[TrainConfig], dataset_name: str, dataset_key: str, emit) -> int:
    from core.training import prepare_training

    dataset = worker_dataset(dataset_name, dataset_key)
    return sum(bool(prepare_training(config, dataset)) for config in configs)


__all__ = ["OverBudget", "WorkerExecutor", "train_in_worker", "prepare_in_worker", "worker_dataset"]
