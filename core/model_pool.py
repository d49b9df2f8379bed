"""Compiled models kept between runs of the same kind, so a run skips Keras's tracing (~1 s for the conv net).

A pooled model is reset to the new run's initial weights, dropout seeds and optimizer state before it trains;
the caller of core.training.train gets its own uncompiled copy. Nothing here imports TensorFlow: the models
are built by core/training.py.
"""

from __future__ import annotations

import threading

from cachetools import LRUCache


class ReusableModel:
    """A compiled model and its optimizer's initial state. Keras traces a model's training, validation
    and prediction functions on first use (~1 s for the conv net on 2 cores); a model reset to another
    run's initial weights, dropout seeds and optimizer state keeps them, and trains exactly as a new
    model would (tests/core/test_training.py checks equal predictions)."""

    def __init__(self, model):
        self.model = model
        self._optimizer_start = [variable.numpy() for variable in model.optimizer.variables]
        self._prepared: tuple | None = None  # (seed, that seed's fresh model) the model was reset to ahead of time

    def prepare(self, seed: int, fresh) -> None:
        """Reset to `fresh` now, for a run with `seed` to take later (a warm-up's last step)."""
        self.reset_to(fresh)
        self._prepared = (seed, fresh)

    def prepared_for(self, seed: int) -> bool:
        return self._prepared is not None and self._prepared[0] == seed

    def take_prepared(self, seed: int):
        """The fresh model this one was prepared from, if that was for `seed`; None otherwise. Either way the
        preparation is used up: the next run trains the weights away."""
        fresh = self._prepared[1] if self.prepared_for(seed) else None
        self._prepared = None
        return fresh

    def reset_to(self, fresh) -> None:
        if len(self.model.variables) != len(fresh.variables):
            raise RuntimeError("A pooled model does not match the architecture it was taken for.")
        for variable, value in zip(self.model.variables, fresh.variables):  # weights and seed states
            variable.assign(value)
        for variable, value in zip(self.model.optimizer.variables, self._optimizer_start):
            variable.assign(value)

    def __getattr__(self, name):  # fit, predict, get_weights, ... go to the model
        return getattr(self.model, name)


class ModelPool:
    """A few idle compiled models, one per key, least recently used dropped first. A model is taken out
    while it trains, so concurrent runs (Streamlit sessions are threads) never share one."""

    def __init__(self, size: int = 4):
        self.size = size
        self._idle = LRUCache(maxsize=size)  # key -> an idle compiled model, least recently given dropped first
        self._warming: dict = {}  # key -> threading.Event, set when the warm-up gives its model or gives up
        self._lock = threading.Lock()

    def reserve(self, key) -> bool:
        """Claim `key` for a warm-up; False if a model of that kind is idle or already being warmed up."""
        with self._lock:
            if key in self._idle or key in self._warming:
                return False
            self._warming[key] = threading.Event()
            return True

    def release(self, key) -> None:
        """A warm-up that gave up: whoever waits for it builds its own model."""
        with self._lock:
            event = self._warming.pop(key, None)
        if event is not None:
            event.set()

    def take(self, key, wait_seconds: float = 600):
        """The idle model of kind `key` or None; waits for a warm-up of that kind first (no work done twice)."""
        with self._lock:
            event = self._warming.get(key)
        if event is not None:
            event.wait(wait_seconds)
        with self._lock:
            return self._idle.pop(key, None)

    def give(self, key, model) -> None:
        with self._lock:
            self._idle[key] = model
            event = self._warming.pop(key, None)
        if event is not None:
            event.set()

    def clear(self) -> None:
        with self._lock:
            self._idle.clear()  # warm-ups in progress give their model when done

    def __len__(self) -> int:
        return len(self._idle)


MODEL_POOL = ModelPool()
