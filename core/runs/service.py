"""The runs service: what to train and whether it is stored. It is given a store and an executor (where runs
train) and never imports a trainer itself.

- `has`, `get`, `inspect`: a config's run in the store (nothing trained);
- `get_or_train`: one run, trained once across threads and processes (the run's lock is held while it trains);
- `train_missing`: many runs through the executor at once where it can (a study's cells), each written into
  the store as it arrives, locks held while they train; a run another process is training is waited for;
- `prepare`: a head start for the runs a click would train.
"""

from __future__ import annotations

import logging
import statistics
import time
from contextlib import ExitStack
from dataclasses import dataclass
from collections.abc import Callable, Iterator

from core import costs
from core.config import TrainConfig
from core.costs import Cost
from core.data import Dataset
from core.runs.errors import LockTimeout, StoreError
from core.runs.executors import Executor, InProcessExecutor, OnStart
from core.runs.run_files import StoredRun
from core.runs.store import RunStore
from core.records import OnEpoch

log = logging.getLogger(__name__)

LOCK_TIMEOUT_SECONDS = 6 * 3600  # the longest a request waits for another one training the same run


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
    seconds: float              # its start (or submission) to its result
    done: int                   # runs finished so far, failed ones included
    running: int                # asked for and not finished
    total: int                  # runs asked for
    eta_seconds: float | None   # for the rest, from the pace so far


class Ready:
    """A request already answered (a stored run)."""

    def __init__(self, outcome: Outcome):
        self.outcome = outcome

    def wait(self, on_epoch: OnEpoch = None, on_queue: Callable | None = None) -> Outcome:
        return self.outcome

    def cancel(self) -> None:
        pass


class RunsService:
    def __init__(self, store: RunStore, executor: Executor | None = None):
        self.store = store
        self.executor = executor if executor is not None else InProcessExecutor()

    def run_id(self, config: TrainConfig, dataset: Dataset) -> str:
        return self.store.id_for(config, dataset)

    def inspect(self, config: TrainConfig, dataset: Dataset) -> tuple[StoredRun | None, str | None]:
        return self.store.inspect(self.run_id(config, dataset))

    def has(self, config: TrainConfig, dataset: Dataset) -> bool:
        """True when the config's run is stored and sound."""
        return self.inspect(config, dataset)[0] is not None

    def get(self, config: TrainConfig, dataset: Dataset) -> StoredRun | None:
        """The config's stored run (marked used), or None."""
        return self.store.get(self.run_id(config, dataset))

    def get_or_train(self, config: TrainConfig, dataset: Dataset, on_epoch: OnEpoch = None,
                     on_queue: Callable | None = None) -> Outcome:
        """The stored run for `config`, trained first by the executor if needed: once, across threads and
        processes (its lock is held while it trains and is stored). `on_queue` hears of its place in the
        executor's queue, if it has one. Raises what training raises (OverBudget, before anything is queued, for
        a run the memory budget cannot hold; WorkerCrashed); StoreError or OSError when it cannot be stored."""
        handle = self.request(config, dataset)
        try:
            return handle.wait(on_epoch=on_epoch, on_queue=on_queue)
        except BaseException:
            handle.cancel()  # a session that leaves drops its queued work, unless another one waits for it
            raise

    def request(self, config: TrainConfig, dataset: Dataset, asked_at: float | None = None):
        """A handle whose `wait(on_epoch, on_queue)` gives the config's Outcome: at once when it is stored, else
        once the executor has trained and the service stored it (ask for several, then wait for each: with a
        queue, they all take their place in line now, in the order of `asked_at`, the click's
        time.perf_counter()). `cancel()` stops waiting."""
        identity = self.run_id(config, dataset)
        run, problem = self.store.inspect(identity)
        if run is not None:
            self.store.index.touch(run)
            return Ready(Outcome(run, cached=True))

        def train_and_store(train) -> Outcome:
            with self.store.lock(identity, timeout=LOCK_TIMEOUT_SECONDS):
                return self._train_locked(config, dataset, problem, train)

        return self.executor.start(identity, config, dataset, train_and_store, self.estimate(config, dataset),
                                   asked_at)

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

    def train_missing(self, configs: list[TrainConfig], dataset: Dataset, on_start: OnStart = None,
                      on_epoch: OnEpoch = None) -> Iterator[CellDone]:
        """Train the configs through the executor (all at once where it can), yielding each as it lands in the
        store. A run stored meanwhile is yielded as cached; one whose lock another process holds is waited for
        after the others. Closing the iterator (Ctrl-C, a page left) cancels what is outstanding; with a queued
        executor (the app's workers) a run that has started still finishes and is stored."""
        if self.executor.queued:
            yield from self._request_each(configs, dataset, on_start, on_epoch)
            return
        started, finished = time.perf_counter(), 0
        ours, theirs, problems = [], [], {}
        with ExitStack() as held:
            for config in dict.fromkeys(configs):
                identity = self.run_id(config, dataset)
                try:
                    held.enter_context(self.store.lock(identity, timeout=0))
                except LockTimeout:
                    theirs.append(config)
                    continue
                run, problems[identity] = self.store.inspect(identity)
                if run is None:
                    ours.append(config)
                else:
                    theirs.append(config)  # stored meanwhile: served below, as cached
            total = len(ours) + len(theirs)

            def done(config, outcome, error, node, seconds) -> CellDone:
                nonlocal finished
                finished += 1
                pace = (time.perf_counter() - started) / finished
                return CellDone(config, outcome, error, node, seconds, finished, total - finished, total,
                                pace * (total - finished))

            results = self.executor.train_each(ours, dataset, on_start=on_start, on_epoch=on_epoch)
            try:
                for cell in results:
                    outcome, error = None, cell.error
                    if cell.result is not None:
                        try:
                            outcome = self._train_locked(cell.config, dataset,
                                                         problems[self.run_id(cell.config, dataset)],
                                                         lambda cell=cell: cell.result)
                        except (StoreError, OSError) as failure:
                            error = f"could not be stored: {failure}"
                    yield done(cell.config, outcome, error, cell.node, cell.seconds)
            finally:
                results.close()  # an executor's own clean-up: outstanding work is cancelled
        for config in theirs:  # our locks are released: wait for whoever trains these, then take what they stored
            begun = time.perf_counter()
            try:
                outcome = self.get_or_train(config, dataset, on_epoch=on_epoch)
            except Exception as failure:
                yield done(config, None, f"{type(failure).__name__}: {failure}", None, time.perf_counter() - begun)
                continue
            yield done(config, outcome, None, outcome.run.trained_on, time.perf_counter() - begun)

    def _request_each(self, configs: list[TrainConfig], dataset: Dataset, on_start: OnStart,
                      on_epoch: OnEpoch) -> Iterator[CellDone]:
        """train_missing through a queue: every run takes its place in line now, as one click's; each is trained
        and stored by its job (under the run's lock), so a page left mid-run still gets it stored."""
        configs = list(dict.fromkeys(configs))
        started, asked_at = time.perf_counter(), time.perf_counter()
        handles: list = []
        try:
            for config in configs:
                try:
                    handles.append(self.request(config, dataset, asked_at))
                except ValueError as refused:  # over the memory budget: said for this cell, the others go on
                    handles.append(refused)
            for finished, (config, handle) in enumerate(zip(configs, handles), start=1):
                if on_start is not None and not isinstance(handle, (Ready, ValueError)):
                    on_start(config)
                begun = time.perf_counter()
                outcome, error = None, None
                try:
                    if isinstance(handle, ValueError):
                        raise handle
                    outcome = handle.wait(on_epoch=on_epoch)
                except Exception as failure:  # the run's own failure, a crashed worker: the others go on
                    error = f"{type(failure).__name__}: {failure}"
                pace = (time.perf_counter() - started) / finished
                yield CellDone(config, outcome, error, outcome.run.trained_on if outcome else None,
                               time.perf_counter() - begun, finished, len(configs) - finished, len(configs),
                               pace * (len(configs) - finished))
        finally:  # done, or the page left: runs not started are dropped unless another session waits for them
            for handle in handles:
                if not isinstance(handle, ValueError):
                    handle.cancel()

    def prepare(self, configs: list[TrainConfig], dataset: Dataset) -> list[TrainConfig]:
        """A head start for the configs that have no stored run (stored runs open without any); returns those
        the executor prepared."""
        return self.executor.prepare([config for config in configs if not self.has(config, dataset)], dataset)
