"""Keeping a long-lived process's memory level while it trains model after model (a Streamlit server, a study).

Measured by benchmarks/bench_soak.py: 30 comparisons in a row in one process and in one Streamlit server.
Trimming is a no-op where there is no glibc (macOS, Windows, musl). A server's RSS also creeps up by ~100 MB
over its first ~10 trainings as glibc gives threads (Streamlit runs each script run on a new one) arenas of
their own; MALLOC_ARENA_MAX=2 in the server's environment keeps it level (benchmarks/README.md). Setting the
same limit from inside the process (mallopt) came too late to help: Streamlit's threads have their arenas by then.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import os
import threading


def return_freed_memory() -> None:
    """Free a finished training's garbage now and hand the freed heap pages back to the system.

    A Keras model is a web of reference cycles, freed only by a full garbage collection, and glibc keeps freed
    pages for reuse: RSS moved by ~100 MB from one training to the next. A full collection scans
    TensorFlow's ~500,000 long-lived objects (~0.3 s here), so the first one freezes them (`gc.freeze`: never
    scanned again) and later ones take milliseconds.
    """
    global _long_lived_frozen
    gc.collect()
    if not _long_lived_frozen:
        gc.freeze()
        _long_lived_frozen = True
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


_long_lived_frozen = False


@functools.cache
def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018  (glibc's)
        return libc
    except (OSError, AttributeError):
        return None


def resident_megabytes() -> float | None:
    """This process's resident memory now, in MB (1024² bytes); None where it cannot be read."""
    return process_megabytes(os.getpid())


def process_megabytes(pid: int) -> float | None:
    """A process's resident memory now, in MB (psutil: Linux, macOS, Windows); None when it is gone or unreadable."""
    import psutil

    try:
        return psutil.Process(pid).memory_info().rss / 1024**2
    except (psutil.Error, OSError):
        return None


class PeakMemory:
    """The process's peak resident memory while a block runs, sampled by a thread every `interval` seconds.

        with PeakMemory() as peak:
            model.fit(...)
        peak.megabytes  # None where memory cannot be read

    It is the whole process's: in a server it includes other sessions' work done at the same time.
    """

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.megabytes: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, name="peak-memory", daemon=True)

    def _sample(self) -> None:
        now = resident_megabytes()
        if now is not None and (self.megabytes is None or now > self.megabytes):
            self.megabytes = now

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> PeakMemory:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
