"""A thread-safe least-recently-used cache bounded by the memory its values take, not by their number.

Streamlit's `st.cache_resource(max_entries=4)` held 4 Keras models: with 5 chosen on Try it, every rerun
evicted and reloaded all of them (17-28 s per rerun with 10 chosen, issue 27). Here the bound is bytes (each
value's size from a `size_of` function), so every model a user chooses stays loaded while they fit, and a value
being loaded by one thread is waited for, not loaded again, by another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from cachetools import LRUCache


class SizedCache:
    """key -> value, least recently used first out once the values' sizes add up to more than `max_bytes`
    (cachetools' LRUCache with `getsizeof`), thread-safe, loading each missing value once.

    The value just loaded is always kept, even alone above the bound (a cache that cannot hold what was asked
    for would reload it on every use)."""

    def __init__(self, max_bytes: int, size_of: Callable[[object], int]):
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be above 0, not {max_bytes}.")
        self.max_bytes = max_bytes
        self._values = LRUCache(maxsize=max_bytes, getsizeof=lambda value: int(size_of(value)))
        self._oversized: tuple | None = None  # (key, value) of a value larger than the whole bound
        self._lock = threading.Lock()
        self._loading: dict[Hashable, threading.Lock] = {}
        self.loads = 0  # how many times a value was loaded (for tests and benchmarks)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return self._find(key)[0]

    def __len__(self) -> int:
        with self._lock:
            return len(self._values) + (self._oversized is not None)

    def get(self, key: Hashable, load: Callable[[], object]):
        """The value of `key`, calling `load()` (once, whichever threads ask at the same time) if it is not here."""
        with self._lock:
            found, value = self._find(key)
            if found:
                return value
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                found, value = self._find(key)  # another thread loaded it while this one waited
                if found:
                    return value
            try:
                value = load()
            finally:
                with self._lock:
                    self._loading.pop(key, None)
            with self._lock:
                self.loads += 1
                try:
                    self._values[key] = value  # evicts the least recently used until it fits
                except ValueError:  # larger than the whole bound: kept alone
                    self._values.clear()
                    self._oversized = (key, value)
                else:
                    self._oversized = None
            return value

    def _find(self, key: Hashable) -> tuple[bool, object]:
        if self._oversized is not None and self._oversized[0] == key:
            return True, self._oversized[1]
        if key in self._values:
            return True, self._values[key]  # marks it used
        return False, None

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._oversized = None


# A loaded Keras 3 model's own objects beyond its variables. Measured here (benchmarks/README.md §10): ten conv
# models (600,810 parameters) loaded and traced added 8.5 MB of RSS each; the estimate below says 12.9 MB.
MODEL_OVERHEAD_BYTES = 6 * 1024**2


def model_bytes(model) -> int:
    """The memory a loaded Keras model takes, estimated: its variables (weights and any optimizer slots
    loaded with it), plus a fixed overhead per model."""
    import numpy as np

    variables = list(getattr(model, "variables", []))
    optimizer = getattr(model, "optimizer", None)
    variables += list(getattr(optimizer, "variables", []) or [])
    total = 0
    for variable in variables:
        total += int(np.prod(variable.shape)) * np.dtype(getattr(variable, "dtype", "float32")).itemsize
    return total + MODEL_OVERHEAD_BYTES
