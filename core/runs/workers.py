"""Local worker processes for model work: a fair queue, a memory budget, and crashes that are messages.

The web server draws pages and reads the store; training, predictions and robustness run in worker processes
(`TRAIN_WORKERS`, default 1), so TensorFlow is never imported by the server and several sessions' work waits
its turn instead of sharing the cores at once.

- Queue: first come, first served. Jobs with the same key (a run id) are one job: every session that asks for
  it waits on it and gets its result. A waiter sees its place and an estimate of the wait; it can cancel; a
  queued job whose waiters all left is dropped, a running one finishes (and its result is kept by its body).
  Background jobs (preparing a click's training) run only when nothing else waits.
- Memory: `MEMORY_BUDGET_MB` covers the server and its workers. A job carries an estimate of its worker's
  peak (core/costs.py); one that cannot fit even alone is refused at once (OverBudget), and jobs run side by
  side only while the server's resident memory, the idle workers' and the running jobs' estimates fit.
- Crashes: each worker is a single-process `concurrent.futures.ProcessPoolExecutor` with the `spawn` start
  method (a clean interpreter: no inherited threads or TensorFlow state). A worker that dies (killed by the
  kernel for memory, or any crash) breaks only its own pool: the job's waiters get one WorkerCrashed message,
  the slot gets a new process, the queue goes on. A worker that has grown past `WORKER_RECYCLE_MB` is
  replaced between jobs.

Why the standard library's pool: it is maintained with Python, supports spawn, an initializer (the event queue
each worker reports progress through) and reports a dead worker as BrokenProcessPool; one pool per worker keeps
a crash from taking other workers' jobs with it. loky's reusable executor restarts itself after a crash too,
but shares one pool, so one killed worker fails every job in flight.
"""

from __future__ import annotations

import itertools
import logging
import math
import multiprocessing
import os
import queue
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

from core import env, server_settings
from core.memory import resident_megabytes
from core.runs import worker_setup

log = logging.getLogger(__name__)

DEFAULT_BUDGET_MB = server_settings.DEFAULT_BUDGET_MB    # host hook: declared once, in core/server_settings.py
DEFAULT_RECYCLE_MB = server_settings.DEFAULT_RECYCLE_MB  # a worker past this after a job is replaced before the next
POLL_SECONDS = 0.25        # how often a waiter looks at its place in the queue


class OverBudget(ValueError):
    """A job that cannot fit in the memory budget even alone; the message says what would fit."""


class WorkerCrashed(RuntimeError):
    """The worker process running a job died; the message is for the user."""


class Cancelled(RuntimeError):
    """The job was dropped: every session waiting for it left before it started."""


def setting(name: str, default: int, low: int) -> int:
    """A whole-number environment setting (core/env.py); ValueError names it when it is not one (a usage error)."""
    return env.number(name, default, low)


@dataclass(frozen=True)
class QueueReport:
    """Where a waiting job stands: `place` 1 is next; 0 means it is running now."""
    place: int
    running: int                # jobs running now
    wait_seconds: float | None  # until it starts, from the estimates (None when unknown)

    def describe(self) -> str:
        if self.place == 0:
            return "running now"
        ordinal = {1: "1st", 2: "2nd", 3: "3rd"}.get(self.place, f"{self.place}th")
        wait = f" — about {rounded_seconds(self.wait_seconds)} s" if self.wait_seconds is not None else ""
        return f"{ordinal} in line{wait}"


def rounded_seconds(seconds: float) -> int:
    """An estimate as a person says it: whole seconds under 10 s, then steps of 5 s (so a waiting page's text
    changes every few seconds, not four times a second)."""
    return round(seconds) if seconds < 10 else 5 * round(seconds / 5)


@dataclass(eq=False)
class Job:
    key: str | None
    body: Callable                # body(call) -> value, run in the server; call(fn, *args) runs fn in the worker
    peak_mb: float                # the worker's estimated peak while running it
    seconds: float | None         # estimated running time
    label: str
    background: bool = False
    number: int = 0
    asked_at: float = 0.0         # when its first asker clicked (perf_counter): the queue's order
    waiters: list = field(default_factory=list)
    started: float | None = None  # perf_counter when it started running
    done: bool = False


class Ticket:
    """One session's wait for a job: its events (progress, its place in the queue) and its result."""

    def __init__(self, pool: WorkerPool, job: Job, joined: bool = False):
        self.pool, self.job = pool, job
        self.joined = joined  # True when it joined a job another caller had asked for
        self.events: queue.Queue = queue.Queue()

    def wait(self, on_event: Callable | None = None, on_queue: Callable[[QueueReport], None] | None = None):
        """The job's value, calling `on_event` with each progress event and `on_queue` when its place or its
        rounded wait changes and at least every second (a page handles Stop, Cancel and reruns only when it draws),
        in the calling thread. Not on every look (POLL_SECONDS): the estimate changed at each, and eight sessions
        redrawing four times a second took CPU from the training.
        Raises what the job's body raised, WorkerCrashed, or Cancelled."""
        said, when = None, 0.0
        while True:
            try:
                kind, payload = self.events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                kind, payload = None, None
            if kind == "event" and on_event is not None:
                on_event(payload)
            elif kind == "value":
                return payload
            elif kind == "error":
                raise payload
            if on_queue is not None:
                report = self.pool.report(self.job)
                if report is not None and (report.describe() != said or time.perf_counter() - when > 1.0):
                    said, when = report.describe(), time.perf_counter()
                    on_queue(report)

    def cancel(self) -> None:
        """Stop waiting; the job is dropped if it has not started and nobody else waits for it."""
        self.pool.leave(self)


class Slot:
    """One worker process: a single-process pool, the queue it reports through and a thread reading it."""

    def __init__(self, number: int, on_event: Callable[[int, Any], None], warm: bool = True):
        self.number, self.on_event, self.warm = number, on_event, warm
        self.context = multiprocessing.get_context("spawn")
        self._ended: dict[int, threading.Event] = {}  # token -> set when the worker's last event has been routed
        self.pid: int | None = None
        self.job: Job | None = None
        self._start()

    def _start(self) -> None:
        self.events = self.context.Queue()
        self.pool = ProcessPoolExecutor(1, mp_context=self.context, initializer=_worker_started,
                                        initargs=(self.events,))
        self.pool.submit(_warm, self.warm)  # start the process (and TensorFlow's import) now, not at the first job
        self.processes = _processes(self.pool)  # kept: the pool forgets a dead worker before we ask how it died
        self._stop_reading = threading.Event()
        self._reader = threading.Thread(target=self._read, args=(self.events, self._stop_reading),
                                        name=f"worker-{self.number}-events", daemon=True)
        self._reader.start()

    def _read(self, events, stop: threading.Event) -> None:
        """Route the worker's events until `stop` is set. This process never writes to `events`: a worker killed
        while writing holds the queue's lock for ever, and a writer here would then hang this process's exit
        (multiprocessing joins its feeder thread; seen as a test run that never ended)."""
        while not stop.is_set():
            try:
                token, payload = events.get(timeout=0.5)
            except queue.Empty:
                continue
            except (EOFError, OSError, ValueError, TypeError):  # the queue was closed
                return
            if token == "pid":
                self.pid = payload
            elif payload is _END:
                self._ended.setdefault(token, threading.Event()).set()
            else:
                self.on_event(token, payload)

    def call(self, token: int, function: Callable, *args):
        """function(*args, emit) in the worker; emit(event) reaches on_event(token, event) here, every one of
        them before this returns."""
        ended = self._ended.setdefault(token, threading.Event())
        try:
            future = self.pool.submit(_run, token, function, args)
            try:
                value = future.result()
            except BrokenProcessPool:
                raise WorkerCrashed(self._crash_message()) from None
            except BaseException:
                ended.wait(timeout=5)
                raise
            ended.wait(timeout=5)  # the events travel on another channel than the value: let them land first
            return value
        finally:
            self._ended.pop(token, None)

    def _crash_message(self) -> str:
        for process in self.processes:
            process.join(timeout=2)
        code = self.processes[0].exitcode if self.processes else None
        why = ("it was killed (signal 9), most often by the kernel for lack of memory" if code == -9 else
               f"it exited with code {code}" if code is not None else "it stopped unexpectedly")
        return f"The worker process doing this job died: {why}. A new worker has taken its place."

    def resident_mb(self) -> float | None:
        try:
            with open(f"/proc/{self.pid}/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2
        except (OSError, ValueError, IndexError, TypeError):
            return None

    def replace(self) -> None:
        """A new worker process in place of this one (crashed, or grown too large)."""
        old_pool = self.pool
        self.pid = None
        processes = self.processes
        old_pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.kill()
        self._stop_reading.set()  # ends the old reader thread
        self._start()

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in self.processes:
            if process.is_alive():
                process.kill()
        self._stop_reading.set()


def _processes(pool: ProcessPoolExecutor) -> list:
    """The pool's worker processes (the standard library keeps them in a private dict, None once shut down)."""
    return list((getattr(pool, "_processes", None) or {}).values())


class WorkerPool:
    """The queue and the workers. Thread-safe: every session's script thread submits and waits here."""

    def __init__(self, workers: int | None = None, budget_mb: float | None = None, recycle_mb: float | None = None,
                 warm: bool = True):
        """`warm`: each new worker imports TensorFlow at once (False for work that does not need it)."""
        self.warm = warm
        # host hook: every server setting checked at once, defaults from the host, bad values a message (never raises)
        checked = server_settings.check()
        self.num_workers = workers if workers is not None else max(1, checked.workers)
        self.budget_mb = budget_mb if budget_mb is not None else checked.budget_mb
        self.recycle_mb = recycle_mb if recycle_mb is not None else checked.recycle_mb
        self._changed = threading.Condition()
        self._queue: list[Job] = []
        self._by_key: dict[str, Job] = {}
        self._numbers = itertools.count(1)
        self._slots: list[Slot] = []
        self._closed = False

    # --- starting -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers (each imports TensorFlow at once) and their runner threads; idempotent."""
        with self._changed:
            if self._slots or self._closed:
                return
            self._slots = [Slot(number, self._route, self.warm) for number in range(self.num_workers)]
            for slot in self._slots:
                threading.Thread(target=self._run_slot, args=(slot,), name=f"worker-{slot.number}", daemon=True).start()

    @property
    def started(self) -> bool:
        return bool(self._slots)

    # --- asking --------------------------------------------------------------------------------------

    def submit(self, key: str | None, body: Callable, peak_mb: float, seconds: float | None = None,
               label: str = "", background: bool = False, asked_at: float | None = None) -> Ticket:
        """Queue `body` (or join the job already queued or running under `key`) and return a ticket to wait on.
        `asked_at` (time.perf_counter() of the click, default now): jobs start in that order, so the runs one
        click asks for stay together in line even when another session's requests arrive between them.
        Raises OverBudget when the job cannot fit even alone."""
        free = self.budget_mb - self.server_mb()
        if peak_mb > free:
            raise OverBudget(f"{label or 'This job'} needs about {peak_mb:,.0f} MB, but the memory budget "
                             f"(MEMORY_BUDGET_MB) is {self.budget_mb:,.0f} MB and the server itself uses "
                             f"{self.server_mb():,.0f} MB, leaving {free:,.0f} MB.")
        self.start()
        with self._changed:
            job = self._by_key.get(key) if key is not None else None
            joined = job is not None and not job.done
            asked_at = time.perf_counter() if asked_at is None else asked_at
            if job is None or job.done:
                job = Job(key, body, peak_mb, seconds, label, background, next(self._numbers), asked_at)
                self._queue.append(job)
                if key is not None:
                    self._by_key[key] = job
            else:
                job.asked_at = min(job.asked_at, asked_at)  # joined by someone who asked earlier: their turn
                if job.background and not background:
                    job.background = False  # a session now waits for it: it is real work
            ticket = Ticket(self, job, joined)
            job.waiters.append(ticket)
            self._changed.notify_all()
        return ticket

    def leave(self, ticket: Ticket) -> None:
        with self._changed:
            job = ticket.job
            if ticket in job.waiters:
                job.waiters.remove(ticket)
            if not job.waiters and job in self._queue:  # nobody waits and it has not started: dropped
                self._queue.remove(job)
                self._forget(job)
                self._changed.notify_all()

    def report(self, job: Job) -> QueueReport | None:
        """Where `job` stands now (None once it is done)."""
        with self._changed:
            if job.done:
                return None
            running = [slot.job for slot in self._slots if slot.job is not None]
            if job in running:
                return QueueReport(0, len(running), 0.0)
            ordered = self._ordered()
            if job not in ordered:
                return None
            ahead = ordered[:ordered.index(job)]
            now = time.perf_counter()
            left = [max(0.0, (other.seconds or 0) - (now - other.started)) for other in running]
            known = all(other.seconds is not None for other in running + ahead)
            wait = ((sum(left) + sum(other.seconds or 0 for other in ahead)) / max(1, len(self._slots))
                    if known else None)
            wait = None if wait is None else 5 * math.ceil(wait / 5)  # steady numbers: whole 5 s
            return QueueReport(len(ahead) + 1, len(running), wait)

    def server_mb(self) -> float:
        return resident_megabytes() or 0.0

    def shutdown(self) -> None:
        with self._changed:
            self._closed = True
            for job in self._queue:
                self._finish(job, "error", Cancelled("The server is shutting down."))
            self._queue.clear()
            self._changed.notify_all()
        for slot in self._slots:
            slot.shutdown()

    # --- running -------------------------------------------------------------------------------------

    def _ordered(self) -> list[Job]:
        """Queued jobs in the order they will start: sessions' work first come, first served (by click), then
        background work in the order it came."""
        asked = sorted((job for job in self._queue if not job.background), key=lambda job: (job.asked_at, job.number))
        return asked + [job for job in self._queue if job.background]

    def _fits(self, job: Job, slot: Slot) -> bool:
        others = sum((other.job.peak_mb if other.job is not None else (other.resident_mb() or 0.0))
                     for other in self._slots if other is not slot)
        return self.server_mb() + others + job.peak_mb <= self.budget_mb

    def _next_for(self, slot: Slot) -> Job | None:
        ordered = self._ordered()
        if not ordered:
            return None
        head = ordered[0]  # strictly in order: a big job is not overtaken for ever by small ones
        return head if self._fits(head, slot) else None

    def _run_slot(self, slot: Slot) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._closed or self._next_for(slot) is not None, timeout=2.0)
                if self._closed:
                    return
                job = self._next_for(slot)
                if job is None:
                    continue
                self._queue.remove(job)
                job.started, slot.job = time.perf_counter(), job
                self._changed.notify_all()
            self._execute(job, slot)
            with self._changed:
                slot.job = None
                self._changed.notify_all()

    def _execute(self, job: Job, slot: Slot) -> None:
        token = job.number

        def call(function: Callable, *args):
            return slot.call(token, function, *args)

        try:
            value = job.body(call)
        except WorkerCrashed as crash:
            log.warning("worker %d died during %s", slot.number, job.label)
            slot.replace()
            self._finish(job, "error", crash)
            return
        except BaseException as error:  # the job's own failure: a message for its waiters, the queue goes on
            self._finish(job, "error", error)
            return
        self._finish(job, "value", value)
        grown = slot.resident_mb()
        if grown is not None and grown > self.recycle_mb:
            log.info("worker %d has grown to %.0f MB: replaced", slot.number, grown)
            slot.replace()

    def _route(self, token: int, event) -> None:
        """A progress event from a worker: to the waiters of the job it belongs to (late ones are dropped)."""
        with self._changed:
            jobs = [slot.job for slot in self._slots if slot.job is not None and slot.job.number == token]
            waiters = list(jobs[0].waiters) if jobs else []
        for ticket in waiters:
            ticket.events.put(("event", event))

    def _finish(self, job: Job, kind: str, payload) -> None:
        with self._changed:
            job.done = True
            self._forget(job)
            waiters = list(job.waiters)
            self._changed.notify_all()
        for ticket in waiters:
            ticket.events.put((kind, payload))

    def _forget(self, job: Job) -> None:
        if job.key is not None and self._by_key.get(job.key) is job:
            del self._by_key[job.key]


# --- in the worker process ------------------------------------------------------------------------------

_EVENTS = None


def _worker_started(events) -> None:
    global _EVENTS
    _EVENTS = events
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    worker_setup.prepare()  # host hook: leave when the server dies; TensorFlow's threads from the host's CPUs
    events.put(("pid", os.getpid()))


def _warm(import_tensorflow: bool) -> None:
    """A new worker's first task: TensorFlow imported now, while the user reads the page."""
    if import_tensorflow:
        from core import lazy

        lazy.keras()


class _EndOfEvents:
    """Sent after a task's last event (pickled by name: the same object in every process)."""

    def __reduce__(self):
        return "_END"


_END = _EndOfEvents()


def _run(token: int, function: Callable, args: tuple):
    def emit(event) -> None:
        _EVENTS.put((token, event))

    try:
        return function(*args, emit)
    finally:
        _EVENTS.put((token, _END))
