"""One worker process and what runs inside it: a single-process `concurrent.futures.ProcessPoolExecutor` (spawn
start method: a clean interpreter, no inherited threads or TensorFlow state), the queue its jobs report progress
through, and a thread here that routes those events. The pool of them, and the queue, is core/runs/workers.py.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from core.memory import process_megabytes
from core.runs.executors import WorkerCrashed
from core.runs import worker_setup
from core.runs.fair_queue import Entry


# A new worker's start, TensorFlow's import most of it: 5-9 s here (NOTES.md: 3-5 s for the import alone).
ENGINE_START_SECONDS = 10.0


class _RecordingContext:
    """A multiprocessing context that remembers the processes a pool starts through it (public API: a pool starts
    its workers with `mp_context.Process`), so a dead worker's exit code can be read after the pool forgets it."""

    def __init__(self, base):
        self._base, self.processes = base, []

    def __getattr__(self, name):
        return getattr(self._base, name)

    def Process(self, *args, **kwargs):  # noqa: N802 - the multiprocessing context's own name
        process = self._base.Process(*args, **kwargs)
        self.processes.append(process)
        return process


class Slot:
    """One worker process: a single-process pool, the queue it reports through and a thread reading it."""

    def __init__(self, number: int, on_event: Callable[[int, Any], None], warm: bool = True):
        self.number, self.on_event, self.warm = number, on_event, warm
        self._ended: dict[int, threading.Event] = {}  # token -> set when the worker's last event has been routed
        self.pid: int | None = None
        self.entry: Entry | None = None
        self.stopped_because: str | None = None  # set when this side stopped the worker (a stall)
        self._start()

    def _start(self) -> None:
        self.context = _RecordingContext(multiprocessing.get_context("spawn"))
        self.events = self.context.Queue()
        self.stopped_because = None
        self.pool = ProcessPoolExecutor(1, mp_context=self.context, initializer=_worker_started,
                                        initargs=(self.events,))
        self.started_at = time.perf_counter()
        self.warmed = self.pool.submit(_warm, self.warm)  # the process (and TensorFlow's import) starts now
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
        code = self._exit_code()
        if self.stopped_because:
            return f"The worker process doing this job was stopped: {self.stopped_because}. A new worker has taken " \
                   f"its place; press the button again to retry."
        why = ("it was killed (signal 9), most often by the kernel for lack of memory" if code == -9 else
               f"it exited with code {code}" if code is not None else "it stopped unexpectedly")
        return f"The worker process doing this job died: {why}. A new worker has taken its place."

    def _exit_code(self, seconds: float = 2.0) -> int | None:
        """The dead worker's exit code (-9: killed by signal 9), None if it cannot be read within `seconds`.
        The pool's own thread reaps the process too; whichever thread's waitpid loses gets ECHILD and reads None
        until the winner has stored the code, so this reads again until a code is there."""
        if not self.context.processes:
            return None
        process = self.context.processes[-1]
        deadline = time.monotonic() + seconds
        while True:
            process.join(timeout=0.05)
            if process.exitcode is not None or time.monotonic() > deadline:
                return process.exitcode

    def starting_seconds(self) -> float | None:
        """About how long until this worker can run a job (its TensorFlow import), None once it can."""
        if self.warmed.done():
            return None
        return max(1.0, ENGINE_START_SECONDS - (time.perf_counter() - self.started_at))

    def resident_mb(self) -> float | None:
        return process_megabytes(self.pid) if self.pid else None

    def stop(self, because: str) -> None:
        """Kill the worker (a stalled job): its job's waiters are told `because`; a new worker takes its place."""
        self.stopped_because = because
        for process in self.context.processes:
            if process.is_alive():
                process.kill()

    def replace(self) -> None:
        """A new worker process in place of this one (crashed, stalled, or grown too large)."""
        self.shutdown()
        self.pid = None
        self._start()

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in self.context.processes:
            if process.is_alive():
                process.kill()
        self._stop_reading.set()  # ends the reader thread


# --- in the worker process ------------------------------------------------------------------------------

_EVENTS = None


def _worker_started(events) -> None:
    global _EVENTS
    _EVENTS = events
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    worker_setup.prepare()  # leave when the server dies; TensorFlow's threads from the host's CPUs
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
