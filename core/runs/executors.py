"""Where model work runs: one protocol for every place — submit a job, get a handle (progress, result, cancel).

A `Job` says what to compute (a module-level function and its arguments, the dataset it needs), what it costs
(core/costs.py) and, optionally, what to do around it in this process (`around`: the runs service takes the
run's lock, trains and stores the run there). An executor runs it where it does model work and gives back a
`Handle`: the caller waits on `handle.result(on_event, on_queue)` — progress events and its place in line arrive
in the calling thread — or gives up with `handle.cancel()`. The places: this process (`InProcessExecutor`, the
CLI's default), local worker processes behind a fair queue (core/runs/worker_executor.py, the app's), a Ray
cluster (core/runs/ray_executor.py). Callers never ask which one they hold; a new place is one new class.

An executor never writes the store (the runs service does, in a job's `around`), and refuses a job that cannot
fit in its memory budget before anything runs (core/runs/budget.py).
"""

from __future__ import annotations

import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import Any

from core.costs import Cost
from core.data import Dataset
from core.runs.budget import Budget

POLL_SECONDS = 0.25  # how often a waiter looks at its place in line (and, waiting on several jobs, at each)


class WorkerCrashed(RuntimeError):
    """The process doing a job died; the message is for the user."""


class Cancelled(RuntimeError):
    """The job was dropped: every asker left before it started, or the executor shut down."""


@dataclass(frozen=True, eq=False)
class Job:
    """Model work for an executor.

    `function(*args, emit)` — or `function(dataset, *args, emit)` when `dataset` is given, which each executor
    delivers its own way (workers load it by name and check its fingerprint, Ray ships it once) — runs where the
    executor does model work; it must be a module-level function (it may be pickled) and calls `emit(event)` for
    progress (the trainer's EpochReports). `around(work)`, if given, runs in this process and returns the job's
    value: `work()` computes and returns the function's value (the runs service stores a run there, holding its
    lock). Jobs with the same `key` asked at once are done once (where the executor queues). `owner` is who asked
    (a session): a queue shares its workers fairly between owners; jobs of one owner with the same `request` (one
    Train click's runs) take one turn together. A `background` job (a head start) runs only when nothing else
    waits. `advice(free_mb)` says what would fit when the job is over the budget."""
    function: Callable
    args: tuple = ()
    dataset: Dataset | None = None
    cost: Cost = Cost(0.0, None)
    label: str = "model work"
    key: str | None = None
    owner: Hashable | None = None
    background: bool = False
    request: Hashable | None = None
    around: Callable[[Callable[[], Any]], Any] | None = None
    advice: Callable[[float], str] | None = None

    def arguments(self, dataset) -> tuple:
        """The function's arguments before `emit`, with `dataset` (however this executor delivers it) first."""
        return self.args if self.dataset is None else (dataset, *self.args)

    def perform(self, work: Callable[[], Any]) -> Any:
        """The job's value in this process: `around(work)`, or `work()` when there is nothing around it."""
        return self.around(work) if self.around is not None else work()


@dataclass(frozen=True)
class QueueReport:
    """Where a waiting job stands: `place` 1 is next; 0 means it is running now."""
    place: int
    running: int                # jobs running now
    wait_seconds: float | None  # until it starts, from the estimates (None when unknown)
    starting: float | None = None  # seconds left, about, of starting the engine it runs in (a fresh worker)

    def describe(self) -> str:
        if self.starting is not None:
            return (f"starting the training engine — first time after a restart, about "
                    f"{rounded_seconds(self.starting)} s")
        if self.place == 0:
            return "running now"
        ordinal = {1: "1st", 2: "2nd", 3: "3rd"}.get(self.place, f"{self.place}th")
        wait = f" — about {rounded_seconds(self.wait_seconds)} s" if self.wait_seconds is not None else ""
        return f"{ordinal} in line{wait}"


def rounded_seconds(seconds: float) -> int:
    """An estimate as a person says it: whole seconds under 10 s, then steps of 5 s (so a waiting page's text
    changes every few seconds, not four times a second)."""
    return round(seconds) if seconds < 10 else 5 * round(seconds / 5)


class Handle:
    """One asker's wait for a job: its progress events, its place in line, its result; cancel to stop waiting.

    The executor calls `emit`, `started` and `finish`; the asker calls `result` (in its own thread: a page's
    script thread, which is the only one allowed to draw) and `cancel`. `joined` is True when this asker joined a
    job someone else had asked for. `transform`, if set, is applied to the value before `result` returns it."""

    def __init__(self, where: Callable[[], QueueReport | None] | None = None,
                 on_cancel: Callable[[Handle], None] | None = None, joined: bool = False):
        self.future: futures.Future = futures.Future()
        self.joined = joined
        self.transform: Callable[[Any], Any] | None = None
        self._events: queue.Queue = queue.Queue()
        self._where, self._on_cancel = where, on_cancel
        self._started = threading.Event()

    @classmethod
    def done(cls, value) -> Handle:
        """A handle whose job is already answered (a stored run)."""
        handle = cls()
        handle.finish(value)
        return handle

    # --- the executor's side ---------------------------------------------------------------------------

    def emit(self, event) -> None:
        self._events.put(("event", event))

    def started(self) -> None:
        self._started.set()

    def finish(self, value=None, error: BaseException | None = None) -> None:
        """The job's value (or the error it raised); every event emitted before this reaches the asker first."""
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(value)
        self._events.put(("done", None))

    # --- the asker's side --------------------------------------------------------------------------------

    @property
    def has_started(self) -> bool:
        return self._started.is_set() or self.future.done()

    def report(self) -> QueueReport | None:
        """Where the job stands now (None when the executor cannot tell, or once it is done)."""
        return None if self._where is None or self.future.done() else self._where()

    def deliver(self, on_event: Callable | None) -> None:
        """Hand the events that have arrived to `on_event`, in this thread, without waiting."""
        while True:
            try:
                kind, payload = self._events.get_nowait()
            except queue.Empty:
                return
            if kind == "event" and on_event is not None:
                on_event(payload)

    def result(self, on_event: Callable | None = None, on_queue: Callable[[QueueReport], None] | None = None):
        """The job's value, calling `on_event` with each progress event and `on_queue` when its place or its rounded
        wait changes and at least every second (a page handles Stop, Cancel and reruns only when it draws), in the
        calling thread. Raises what the job raised, WorkerCrashed, or Cancelled."""
        said, when = None, 0.0
        while not self.future.done():
            try:
                kind, payload = self._events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                kind, payload = None, None
            if kind == "event" and on_event is not None:
                on_event(payload)
            if on_queue is not None:
                report = self.report()
                if report is not None and (report.describe() != said or time.perf_counter() - when > 1.0):
                    said, when = report.describe(), time.perf_counter()
                    on_queue(report)
        self.deliver(on_event)
        value = self.future.result()
        return self.transform(value) if self.transform is not None else value

    def cancel(self) -> None:
        """Stop waiting: a job nobody else waits for is dropped if it has not started (one that has finishes)."""
        if self._on_cancel is not None and not self.future.done():
            self._on_cancel(self)


def as_finished(handles: list[Handle], on_event: Callable | None = None,
                on_start: Callable[[Handle], None] | None = None) -> Iterator[Handle]:
    """Each handle once its job is done, in the order they finish (those seen done at once in the order given),
    handing every job's progress events to `on_event` and each job's start (where the executor can tell) to
    `on_start` in the calling thread meanwhile: a job's start always comes before its end."""
    pending, begun = list(handles), set()

    def note_start(handle: Handle) -> None:
        if on_start is not None and handle not in begun and handle._started.is_set():
            begun.add(handle)
            on_start(handle)

    while pending:
        finished = [handle for handle in pending if handle.future.done()]
        for handle in finished:
            note_start(handle)
            pending.remove(handle)
            handle.deliver(on_event)
            yield handle
        for handle in pending:
            note_start(handle)
            handle.deliver(on_event)
        if pending and not finished:
            futures.wait([handle.future for handle in pending], timeout=POLL_SECONDS,
                         return_when=futures.FIRST_COMPLETED)


def run(executor: Executor, job: Job, on_queue: Callable[[QueueReport], None] | None = None,
        on_event: Callable | None = None):
    """Submit `job` and wait for its value (a prediction, a download); leaving (an exception, a page rerun)
    cancels it."""
    handle = executor.submit(job)
    try:
        return handle.result(on_event=on_event, on_queue=on_queue)
    except BaseException:
        handle.cancel()
        raise


class Executor(ABC):
    """Runs jobs where it does model work. `slots`: jobs it runs at once."""

    slots = 1

    @abstractmethod
    def submit(self, job: Job) -> Handle:
        """Queue `job` and return a handle at once; OverBudget (core/runs/budget.py) for a job that cannot fit
        even alone, before anything runs."""

    def start(self) -> None:  # noqa: B027 - a head start: executors with nothing to start need not override it
        """Start what this executor runs jobs in (processes, a cluster connection) ahead of the first job."""

    def shutdown(self) -> None:  # noqa: B027 - an optional hook: executors holding nothing need not override it
        """Release what the executor holds (processes, threads, a cluster connection)."""


class InProcessExecutor(Executor):
    """Jobs in this process, one at a time, on a thread of its own: the CLI, and the app with TRAIN_WORKERS=0 (one
    user on a laptop; the tests' fake trainer). Askers' jobs go first in the order they came, then background
    ones. The thread is a daemon, so Ctrl-C ends the CLI at once (a run being trained is then not stored: its
    lock dies with the process); it ends after IDLE_SECONDS without work and starts again with the next job."""

    IDLE_SECONDS = 10.0

    def __init__(self, budget: Budget | None = None):
        self.budget = budget or Budget(None)
        self._changed = threading.Condition()
        self._waiting: list[tuple[Job, Handle]] = []
        self._running: Handle | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, job: Job) -> Handle:
        self.budget.check(job)
        with self._changed:
            if self._closed:
                raise Cancelled("The executor has shut down.")
            handle = Handle(where=lambda: self._place(handle), on_cancel=self._drop)
            self._waiting.append((job, handle))
            self._waiting.sort(key=lambda entry: entry[0].background)  # stable: askers' jobs in order, then background
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="in-process-executor", daemon=True)
                self._thread.start()
            self._changed.notify_all()
        return handle

    def _place(self, handle: Handle) -> QueueReport | None:
        with self._changed:
            if handle is self._running:
                return QueueReport(0, 1, 0.0)
            places = [index for index, (_, waiting) in enumerate(self._waiting) if waiting is handle]
            return QueueReport(places[0] + 1, int(self._running is not None), None) if places else None

    def _drop(self, handle: Handle) -> None:
        with self._changed:
            self._waiting = [(job, waiting) for job, waiting in self._waiting if waiting is not handle]

    def _work(self) -> None:
        while True:
            with self._changed:
                if not self._changed.wait_for(lambda: self._waiting or self._closed, timeout=self.IDLE_SECONDS):
                    self._thread = None
                    return
                if self._closed:
                    return
                job, handle = self._waiting.pop(0)
                self._running = handle
            self._run(job, handle)
            with self._changed:
                self._running = None

    @staticmethod
    def _run(job: Job, handle: Handle) -> None:
        handle.started()
        try:
            value = job.perform(lambda: job.function(*job.arguments(job.dataset), handle.emit))
        except BaseException as error:  # the job's own failure: a message for its asker, the next job runs
            handle.finish(error=error)
        else:
            handle.finish(value)

    def shutdown(self) -> None:
        with self._changed:
            self._closed = True
            waiting, self._waiting = self._waiting, []
            self._changed.notify_all()
        for _, handle in waiting:
            handle.finish(error=Cancelled("The executor has shut down."))

    def __repr__(self) -> str:
        import platform

        return f"InProcessExecutor(on {platform.node() or 'this machine'})"
