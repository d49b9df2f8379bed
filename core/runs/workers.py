"""Local worker processes for model work: a fair queue, a memory budget, and crashes and stalls that are messages.

The web server draws pages and reads the store; training, predictions and robustness run in worker processes
(`TRAIN_WORKERS`), so TensorFlow is never imported by the server and several sessions' work waits its turn
instead of sharing the cores at once.

- Queue: fair to people (core/runs/fair_queue.py): sessions take turns, weighted by their jobs' estimated
  seconds, so one session's study does not make a classmate wait for all its cells. Jobs with the same key (a
  run id) are one job: every session that asks for it waits on it and gets its result. A waiter sees its place
  and an estimate of the wait; it can cancel; a queued job whose waiters all left is dropped, a running one
  finishes (and its result is kept by its body). Background jobs run only when nothing else waits.
- Memory: the budget (core/runs/budget.py) covers the server and its workers. A job carries an estimate of its
  worker's peak (core/costs.py); one that cannot fit even alone is refused at once (OverBudget), and jobs run
  side by side only while the server's resident memory, the idle workers' and the running jobs' estimates fit.
- Crashes: each worker is a single-process `concurrent.futures.ProcessPoolExecutor` with the `spawn` start
  method (core/runs/worker_process.py). A worker that dies (killed by the kernel for memory, or any crash) breaks
  only its own pool: the job's waiters get one WorkerCrashed message,
  the slot gets a new process, the queue goes on. A worker that has grown past `WORKER_RECYCLE_MB` is replaced
  between jobs.
- Stalls: a running job that reports no progress for far longer than its estimate (`stall_seconds`: a worker
  stopped, or thrashing for memory) is reported to its waiters and its worker is replaced.

Why the standard library's pool: it is maintained with Python, supports spawn, an initializer (the event queue
each worker reports progress through) and reports a dead worker as BrokenProcessPool; one pool per worker keeps
a crash from taking other workers' jobs with it. loky's reusable executor restarts itself after a crash too,
but shares one pool, so one killed worker fails every job in flight.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from core import server_settings
from core.memory import resident_megabytes
from core.runs.budget import Budget
from core.runs.executors import Cancelled, Handle, Job, QueueReport, WorkerCrashed
from core.runs.fair_queue import Entry, FairQueue
from core.runs.worker_process import Slot

log = logging.getLogger(__name__)

DEFAULT_BUDGET_MB = server_settings.DEFAULT_BUDGET_MB    # declared once, in core/server_settings.py
DEFAULT_RECYCLE_MB = server_settings.DEFAULT_RECYCLE_MB  # a worker past this after a job is replaced before the next
STALL_FACTOR, STALL_MIN_SECONDS = 3.0, 60.0  # no progress for max(60 s, 3 x its estimate): stalled
WATCH_SECONDS = 1.0        # how often running jobs are checked for stalls


def stall_seconds(entry: Entry) -> float:
    """How long a running job may go without a progress event before it counts as stalled."""
    return max(STALL_MIN_SECONDS, STALL_FACTOR * entry.seconds)


class WorkerPool:
    """The queue and the workers. Thread-safe: every session's script thread submits and waits here.

    (About 200 lines: the queue, the slots and the stall watch change together under one lock; the order itself
    is core/runs/fair_queue.py, the process core/runs/worker_process.py.)"""

    def __init__(self, workers: int | None = None, budget_mb: float | None = None, recycle_mb: float | None = None,
                 warm: bool = True):
        """`warm`: each new worker imports TensorFlow at once (False for work that does not need it)."""
        self.warm = warm
        # Every server setting checked at once (core/server_settings.py): defaults from the host, a bad value a message.
        checked = server_settings.check()
        self.num_workers = workers if workers is not None else max(1, checked.workers)
        given = checked.sources["MEMORY_BUDGET_MB"]
        self.budget = Budget(budget_mb if budget_mb is not None else checked.budget_mb,
                             "MEMORY_BUDGET_MB" if budget_mb is not None or given == "set"
                             else f"MEMORY_BUDGET_MB unset: {given}")
        self.recycle_mb = recycle_mb if recycle_mb is not None else checked.recycle_mb
        self._changed = threading.Condition()
        self._queue = FairQueue()
        self._by_key: dict[str, Entry] = {}
        self._numbers = itertools.count(1)
        self._slots: list[Slot] = []
        self._closed = False

    @property
    def budget_mb(self) -> float:
        return self.budget.megabytes

    @budget_mb.setter
    def budget_mb(self, megabytes: float) -> None:
        self.budget = Budget(megabytes, self.budget.source)

    # --- starting -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers (each imports TensorFlow at once), their runner threads and the stall watch;
        idempotent."""
        with self._changed:
            if self._slots or self._closed:
                return
            self._slots = [Slot(number, self._route, self.warm) for number in range(self.num_workers)]
            for slot in self._slots:
                threading.Thread(target=self._run_slot, args=(slot,), name=f"worker-{slot.number}", daemon=True).start()
            threading.Thread(target=self._watch, name="worker-watch", daemon=True).start()

    @property
    def started(self) -> bool:
        return bool(self._slots)

    # --- asking --------------------------------------------------------------------------------------

    def submit(self, job: Job, body: Callable[[Callable], Any], asked_at: float | None = None) -> Handle:
        """Queue `job` (or join the one queued or running under its key) and return a handle to wait on. `body(call)`
        runs in this process when the job's turn comes and gives its value; `call(function, *args)` runs
        `function(*args, emit)` in a worker. `asked_at` (time.perf_counter() of the click, default now) orders an
        owner's own jobs. Raises OverBudget when the job cannot fit even alone, Cancelled once shut down."""
        self.budget.check(job, self.server_mb())
        self.start()
        asked_at = time.perf_counter() if asked_at is None else asked_at
        with self._changed:
            if self._closed:  # nothing would ever run it
                raise Cancelled("The server is shutting down.")
            entry = self._by_key.get(job.key) if job.key is not None else None
            joined = entry is not None and not entry.done
            if not joined:
                entry = Entry(job, body, next(self._numbers))
                self._queue.add(entry)
                if job.key is not None:
                    self._by_key[job.key] = entry
            elif entry.job.background and not job.background:
                entry.job = job  # a session now waits for it: it is real work, in that session's line
            handle = Handle(where=lambda: self.report(entry), on_cancel=self._leave, joined=joined)
            handle.entry = entry
            entry.waiters.append((handle, job.owner, asked_at))
            if entry.started is not None:
                handle.started()
            self._changed.notify_all()
        return handle

    def _leave(self, handle: Handle) -> None:
        with self._changed:
            entry = handle.entry
            entry.waiters = [waiter for waiter in entry.waiters if waiter[0] is not handle]
            if not entry.waiters and entry in self._queue:  # nobody waits and it has not started: dropped
                self._queue.remove(entry)
                self._forget(entry)
                self._changed.notify_all()

    def report(self, entry: Entry) -> QueueReport | None:
        """Where `entry` stands now (None once it is done): its place by the queue's fair order, and the wait from
        the running jobs' remaining estimates and the estimates of the jobs ahead of it."""
        with self._changed:
            if entry.done:
                return None
            running = [slot.entry for slot in self._slots if slot.entry is not None]
            if entry in running:
                slot = next(slot for slot in self._slots if slot.entry is entry)
                return QueueReport(0, len(running), 0.0, slot.starting_seconds())
            order = self._queue.order()
            if entry not in order:
                return None
            now = time.perf_counter()
            left = [max(0.0, other.seconds - (now - other.started)) for other in running]
            wait = self._queue.waits(left, max(1, len(self._slots)))[entry]
            return QueueReport(order.index(entry) + 1, len(running), wait)

    def server_mb(self) -> float:
        return resident_megabytes() or 0.0

    def shutdown(self) -> None:
        with self._changed:
            self._closed = True
            for entry in list(self._queue.entries):
                self._finish(entry, error=Cancelled("The server is shutting down."))
            self._queue = FairQueue()
            self._changed.notify_all()
        for slot in self._slots:
            slot.shutdown()

    # --- running -------------------------------------------------------------------------------------

    def _fits(self, entry: Entry, slot: Slot) -> bool:
        others = sum((other.entry.job.cost.peak_mb if other.entry is not None else (other.resident_mb() or 0.0))
                     for other in self._slots if other is not slot)
        return self.server_mb() + others + entry.job.cost.peak_mb <= self.budget.free_mb()

    def _run_slot(self, slot: Slot) -> None:
        while True:
            with self._changed:
                entry = None
                while not self._closed and entry is None:
                    entry = self._queue.take(lambda candidate: self._fits(candidate, slot))
                    if entry is None:
                        self._changed.wait(timeout=2.0)
                if self._closed:
                    return
                entry.started = entry.progressed = time.perf_counter()
                slot.entry = entry
                for handle, _, _ in entry.waiters:
                    handle.started()
                self._changed.notify_all()
            self._execute(entry, slot)
            with self._changed:
                slot.entry = None
                self._changed.notify_all()

    def _execute(self, entry: Entry, slot: Slot) -> None:
        token = entry.number

        def call(function: Callable, *args):
            return slot.call(token, function, *args)

        try:
            value = entry.body(call)
        except WorkerCrashed as crash:
            log.warning("worker %d died during %s", slot.number, entry.job.label)
            slot.replace()
            self._finish(entry, error=crash)
            return
        except BaseException as error:  # the job's own failure: a message for its waiters, the queue goes on
            self._finish(entry, error=error)
            return
        self._finish(entry, value)
        grown = slot.resident_mb()
        if grown is not None and grown > self.recycle_mb:
            log.info("worker %d has grown to %.0f MB: replaced", slot.number, grown)
            slot.replace()

    def _watch(self) -> None:
        """Stop the worker of a job that has made no progress for far longer than its estimate (a stopped or
        thrashing process): its waiters are told, and a new worker takes its place."""
        while not self._closed:
            time.sleep(WATCH_SECONDS)
            with self._changed:
                running = [(slot, slot.entry) for slot in self._slots if slot.entry is not None]
            now = time.perf_counter()
            for slot, entry in running:
                quiet = now - (entry.progressed or now)
                if quiet > stall_seconds(entry) and slot.stopped_because is None:
                    log.warning("worker %d made no progress on %s for %.0f s: stopped", slot.number, entry.job.label,
                                quiet)
                    slot.stop(f"{entry.job.label} made no progress for {quiet:,.0f} s (it was estimated to take "
                              f"about {entry.seconds:,.0f} s in all)")

    def _route(self, token: int, event) -> None:
        """A progress event from a worker: to the waiters of the job it belongs to (late ones are dropped)."""
        with self._changed:
            entries = [slot.entry for slot in self._slots if slot.entry is not None and slot.entry.number == token]
            if entries:
                entries[0].progressed = time.perf_counter()
            waiters = list(entries[0].waiters) if entries else []
        for handle, _, _ in waiters:
            handle.emit(event)

    def _finish(self, entry: Entry, value=None, error: BaseException | None = None) -> None:
        with self._changed:
            entry.done = True
            self._forget(entry)
            waiters = list(entry.waiters)
            self._changed.notify_all()
        for handle, _, _ in waiters:
            handle.finish(value, error)

    def _forget(self, entry: Entry) -> None:
        if entry.job.key is not None and self._by_key.get(entry.job.key) is entry:
            del self._by_key[entry.job.key]
