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
