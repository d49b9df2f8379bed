"""A thread-safe least-recently-used cache bounded by the memory its values take, not by their number.

Streamlit's `st.cache_resource(max_entries=4)` held 4 Keras models: with 5 chosen on Try it, every rerun
evicted and reloaded all of them (17-28 s per rerun with 10 chosen, issue 27). Here the bound is bytes (each
value's size from a `size_of` function), so every model a user chooses stays loaded while they fit, and a value
being loaded by one thread is waited for, not loaded again, by another.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


class SizedCache:
    """key -> value, least recently used first out once the values' sizes add up to more than `max_bytes`.

    The value just loaded is always kept, even alone above the bound (a cache that cannot hold what was asked
    for would reload it on every use)."""

    def __init__(self, max_bytes: int, size_of: Callable[[object], int]):
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be above 0, not {max_bytes}.")
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._values: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[Hashable, threading.Lock] = {}
        self.loads = 0  # how many times a value was loaded (for tests and benchmarks)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(size for _, size in self._values.values())

    def get(self, key: Hashable, load: Callable[[], object]):
        """The value of `key`, calling `load()` (once, whichever threads ask at the same time) if it is not here."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key][0]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                if key in self._values:  # another thread loaded it while this one waited
                    self._values.move_to_end(key)
                    return self._values[key][0]
            try:
                value = load()
                size = int(self._size_of(value))
            finally:
                with self._lock:
                    self._loading.pop(key, None)
            with self._lock:
                self.loads += 1
                self._values[key] = (value, size)
                self._evict(keep=key)
            return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def _evict(self, keep: Hashable) -> None:
        total = sum(size for _, size in self._values.values())
        for key in list(self._values):
            if total <= self.max_bytes:
                break
            if key != keep:
                total -= self._values.pop(key)[1]


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
