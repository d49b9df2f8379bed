"""The class set's caches (ui/class_digits_view.py, ui/class_verdict_view.py): a run's answers are computed once per
(run, set version); a new digit invalidates that set only; the set itself is read once per version."""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st

from core.class_digits import digit_store
from core.runs import RunStore
from ui import class_digits_view, class_verdict_view


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def worker_calls(monkeypatch) -> list:
    """What reached the worker (the feature's one call site), answering 7 for every digit."""
    calls = []

    def in_worker(function, args, label, peak_mb=0.0):
        calls.append((args[1], len(args[3])))  # (run id, digits asked about)
        return np.full(len(args[3]), 7, dtype=np.uint8)

    monkeypatch.setattr(class_verdict_view, "in_worker", in_worker)
    return calls


def answers(code: str, run_id: str = "run1") -> np.ndarray:
    store = digit_store(RunStore())
    found = class_digits_view._class_set(str(RunStore().location), code, store.version(code))
    return class_verdict_view._predictions(str(RunStore().location), run_id, "drawn", code, found.version,
                                           found.images)


def test_a_new_digit_invalidates_only_its_own_set(worker_calls):
    store = digit_store(RunStore())
    store.add_many("A", [1, 2], [np.zeros((28, 28), np.uint8)] * 2)
    store.add_many("B", [3], [np.zeros((28, 28), np.uint8)])
    assert len(answers("A")) == 2 and len(answers("B")) == 1
    assert len(answers("A", "run2")) == 2
    assert worker_calls == [("run1", 2), ("run1", 1), ("run2", 2)]
    answers("A"), answers("B"), answers("A", "run2")  # nothing changed: nothing asked again
    assert len(worker_calls) == 3
    store.add("A", 4, np.zeros((28, 28), np.uint8))
    assert len(answers("A")) == 3 and len(answers("B")) == 1 and len(answers("A", "run2")) == 3
    assert worker_calls[3:] == [("run1", 3), ("run2", 3)]  # set B's answers stayed cached


def test_a_removed_digit_is_a_new_version_too(worker_calls):
    store = digit_store(RunStore())
    ids = store.add_many("A", [1, 2, 3], [np.zeros((28, 28), np.uint8)] * 3)
    answers("A")
    store.delete("A", [ids[0]])
    assert len(answers("A")) == 2 and worker_calls == [("run1", 3), ("run1", 2)]
