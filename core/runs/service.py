"""The runs service: what to train and whether it is stored. It is given a store and an executor (where model work
runs) and hands the executor jobs (core/runs/executors.py); it never asks which executor it has.

- `has`, `get`, `inspect`: a config's run in the store (nothing trained);
- `request`: a handle on a config's run — at once when stored, else a training job that takes the run's lock,
  trains and stores it (trained once across threads and processes);
- `get_or_train`: one run, waited for; `train_missing`: many runs asked at once (a study's cells), each yielded as
  it lands in the store;
- `prepare`: a head start for the runs a click would train.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, replace

from core import costs
from core.config import TrainConfig
from core.costs import Cost
from core.data import Dataset
from core.records import OnEpoch
from core.runs.budget import OverBudget
from core.runs.errors import LockTimeout
from core.runs.executors import Cancelled, Executor, Handle, InProcessExecutor, Job, as_finished
from core.runs.jobs import prepare_runs, train_run
from core.runs.run_files import StoredRun
from core.runs.store import RunStore

log = logging.getLogger(__name__)

LOCK_TIMEOUT_SECONDS = 6 * 3600  # the longest a request waits for another one training the same run
OnStart = Callable[[TrainConfig], None] | None


@dataclass(frozen=True)
class Outcome:
    run: StoredRun
    cached: bool                # True when served from the store, False when trained now
    problem: str | None = None  # a broken entry found (and replaced) on the way, if any


@dataclass(frozen=True)
class CellDone:
    """One run of `train_missing` finished (or failed), with the progress so far."""
    config: TrainConfig
    outcome: Outcome | None     # None when it failed
    error: str | None
    node: str | None
    seconds: float              # from its request to its result
    done: int                   # runs finished so far, failed ones included
    running: int                # asked for and not finished
    total: int                  # runs asked for
    eta_seconds: float | None   # for the rest, from the pace so far


class RunsService:
    """A store and an executor: what is stored, and what to train (about 170 lines: the run's lock, the stored
    check and the store's write are one protocol, kept in one place)."""

    def __init__(self, store: RunStore, executor: Executor | None = None, trainer=None):
        """`trainer`: what trains a config (default core.training.train; the tests' fake): it must be picklable
        where the executor sends jobs to other processes."""
        self.store = store
        self.executor = executor if executor is not None else InProcessExecutor()
        self.trainer = trainer

    def run_id(self, config: TrainConfig, dataset: Dataset) -> str:
        return self.store.id_for(config, dataset)

    def inspect(self, config: TrainConfig, dataset: Dataset) -> tuple[StoredRun | None, str | None]:
        return self.store.inspect(self.run_id(config, dataset))

    def has(self, config: TrainConfig, dataset: Dataset) -> bool:
        """True when the config's run is stored and sound."""
        return self.inspect(config, dataset)[0] is not None

    def stored_rows(self, configs: list[TrainConfig], dataset: Dataset) -> dict[TrainConfig, dict]:
        """The index row (core/runs/index.py) of each config whose run is stored, from one listing of the store:
        what a page reads to paint a study of any size in a bounded number of queries (nothing is opened)."""
        rows = {row["run_id"]: row for row in self.store.list_runs()}
        found = {config: rows.get(self.run_id(config, dataset)) for config in configs}
        return {config: row for config, row in found.items() if row is not None}

    def get(self, config: TrainConfig, dataset: Dataset) -> StoredRun | None:
        """The config's stored run (marked used), or None."""
        return self.store.get(self.run_id(config, dataset))

    def request(self, config: TrainConfig, dataset: Dataset, owner: Hashable | None = None,
                request: Hashable | None = None) -> Handle:
        """A handle whose `result(on_event, on_queue)` is the config's Outcome: at once when it is stored, else once
        the executor has trained it and it is stored (ask for several, then wait: with a queue they all take their
        place in line now). `owner` (a session) is who asks; runs asked with the same `request` (one click) take
        one turn in a shared queue. OverBudget, before anything is queued, for a run the memory budget cannot
        hold."""
        identity = self.run_id(config, dataset)
        run, problem = self.store.inspect(identity)
        if run is not None:
            self.store.index.touch(run)
            return Handle.done(Outcome(run, cached=True))
        try:
            with self.store.lock(identity, timeout=0):
                pass
        except LockTimeout:  # another session or process is training it: wait for them, not in the executor's line
            return self._after_holder(config, dataset, owner)

        def train_and_store(train) -> Outcome:
            with self.store.lock(identity, timeout=LOCK_TIMEOUT_SECONDS):
                return self._train_locked(config, dataset, problem, train)

        handle = self.executor.submit(Job(
            train_run, (config, self.trainer), dataset, self.estimate(config, dataset), run_label(config), identity,
            owner, request=request, around=train_and_store,
            advice=lambda free_mb: costs.over_budget_advice(config, dataset, free_mb)))
        # Joining someone else's training: the run is opened from the store, trained once for whoever asked first.
        handle.transform = lambda outcome: (replace(outcome, cached=True) if handle.joined and not outcome.cached
                                            else outcome)
        return handle

    def _after_holder(self, config: TrainConfig, dataset: Dataset, owner: Hashable | None) -> Handle:
        """A handle on a run someone else holds the lock of (trains): a thread waits for the lock, then the run
        they stored is the outcome (opened from the store); if they stored nothing, it is asked for again."""
        cancelled = threading.Event()
        handle = Handle(on_cancel=lambda _: cancelled.set())

        def wait() -> None:
            try:
                with self.store.lock(self.run_id(config, dataset), timeout=LOCK_TIMEOUT_SECONDS):
                    pass
                if cancelled.is_set():
                    raise Cancelled("Nobody waits for this run any more.")
                again = self.request(config, dataset, owner)
                handle.started()
                handle.finish(again.result(on_event=handle.emit))
            except BaseException as error:  # its training failed, or the store did: said to whoever waits
                handle.finish(error=error)

        threading.Thread(target=wait, name="after-the-holder", daemon=True).start()
        return handle

    def get_or_train(self, config: TrainConfig, dataset: Dataset, on_epoch: OnEpoch = None,
                     on_queue: Callable | None = None, owner: Hashable | None = None) -> Outcome:
        """The stored run for `config`, trained first if needed (once, across threads and processes). `on_queue`
        hears of its place in the executor's queue. Raises what training raises (OverBudget, WorkerCrashed);
        StoreError or OSError when it cannot be stored."""
        handle = self.request(config, dataset, owner)
        try:
            return handle.result(on_event=on_epoch, on_queue=on_queue)
        except BaseException:
            handle.cancel()  # a session that leaves drops its queued work, unless another one waits for it
            raise

    def train_missing(self, configs: list[TrainConfig], dataset: Dataset, on_start: OnStart = None,
                      on_epoch: OnEpoch = None, owner: Hashable | None = None) -> Iterator[CellDone]:
        """Ask for every config at once and yield each as it lands in the store (a run stored meanwhile is yielded
        as cached; a run over the budget or failing to train is yielded with its error, and the others go on).
        `on_start(config)` hears when a run starts training. Closing the iterator (Ctrl-C, a page left) cancels
        what has not started; a run that has started is trained and stored."""
        configs = list(dict.fromkeys(configs))
        started, finished = time.perf_counter(), 0

        def done(config, outcome, error, asked_at) -> CellDone:
            nonlocal finished
            finished += 1
            pace = (time.perf_counter() - started) / finished
            node = outcome.run.trained_on if outcome is not None else None
            return CellDone(config, outcome, error, node, time.perf_counter() - asked_at, finished,
                            len(configs) - finished, len(configs), pace * (len(configs) - finished))

        asked: dict[Handle, tuple[TrainConfig, float]] = {}
        refused: list[tuple[TrainConfig, Exception]] = []
        try:
            for config in configs:
                try:
                    asked[self.request(config, dataset, owner)] = (config, time.perf_counter())
                except OverBudget as error:  # said for this cell; the others go on
                    refused.append((config, error))
            for config, error in refused:
                yield done(config, None, f"{type(error).__name__}: {error}", started)
            starts = None if on_start is None else (lambda handle: on_start(asked[handle][0]))
            for handle in as_finished(list(asked), on_event=on_epoch, on_start=starts):
                config, asked_at = asked[handle]
                try:
                    outcome, error = handle.result(), None
                except Exception as failure:  # the run's own failure, a crashed worker: the others go on
                    outcome, error = None, f"{type(failure).__name__}: {failure}"
                yield done(config, outcome, error, asked_at)
        finally:  # done, or the page left: runs not started are dropped unless another session waits for them
            for handle in asked:
                handle.cancel()

    def prepare(self, configs: list[TrainConfig], dataset: Dataset) -> list[Handle]:
        """A head start for the configs that have no stored run (stored runs open without any): background jobs that
        build and trace their models where they will train, one per kind of model. Nothing with a custom trainer, nor
        for runs over the budget. Returns the jobs' handles."""
        if self.trainer is not None:
            return []
        kinds: dict[tuple, list[TrainConfig]] = {}
        for config in configs:
            if not self.has(config, dataset):
                kinds.setdefault(prepared_kind(config), []).append(config)
        handles = []
        for kind, alike in kinds.items():
            try:
                peak = max(costs.peak_mb(config, dataset) for config in alike)
                handles.append(self.executor.submit(Job(prepare_runs, (alike,), dataset, Cost(peak, None),
                                                        "preparing a training",
                                                        f"prepare:{kind!r}:{[config.seed for config in alike]}",
                                                        background=True)))
            except OverBudget:
                continue
        return handles

    def estimate(self, config: TrainConfig, dataset: Dataset) -> Cost:
        """What training `config` costs (core/costs.py), its time from this store's timings where it has any."""
        return costs.estimate(config, dataset, self.seconds_per_image_epoch())

    def seconds_per_image_epoch(self) -> dict[str, float]:
        """Median training seconds per image and epoch of each network, from the stored runs."""
        measured: dict[str, list[float]] = {}
        for row in self.store.list_runs():
            if row["sample_size"] and row["num_epochs"] and row["train_seconds"]:
                measured.setdefault(row["architecture"], []).append(
                    row["train_seconds"] / row["num_epochs"] / row["sample_size"])
        return {name: statistics.median(values) for name, values in measured.items()}

    def _train_locked(self, config: TrainConfig, dataset: Dataset, problem: str | None, train) -> Outcome:
        """With the run's lock held: the run if another holder stored it meanwhile, else trained and stored."""
        identity = self.run_id(config, dataset)
        run, problem_now = self.store.inspect(identity)
        if run is not None:
            self.store.index.touch(run)
            return Outcome(run, cached=True, problem=problem)
        problem = problem or problem_now
        if problem:
            log.warning("run %s is broken (%s): training it again", identity, problem)
            self.store.delete(identity)
        return Outcome(self.store.put(train()), cached=False, problem=problem)


def run_label(config: TrainConfig) -> str:
    """A run as a queue and a budget message name it: "conv on 1,000 images"."""
    return f"training {config.architecture} on {config.sample_size:,} images"


def prepared_kind(config: TrainConfig) -> tuple:
    """What a prepared model depends on (not the seed): equal kinds share one preparation."""
    return (config.spec.hash, config.precision, config.optimizer, config.learning_rate, config.recipe,
            config.sample_size, config.batch_size, config.num_epochs)
