"""The one caching layer: Streamlit caches around core, keyed by names and run ids, never by objects.

The store on disk is the persistent cache (a restart loses nothing); these are in-memory layers on top.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data import Dataset, load_dataset
from core.sized_cache import SizedCache, model_bytes
from core.store import RunStore, StoredRun


@st.cache_resource(show_spinner=False)
def store(root: str | None = None) -> RunStore:
    """The run store, shared by every session (it is safe across threads and processes)."""
    return RunStore(root)


def current_store() -> RunStore:
    """The store named by RUN_STORE_DIR (or the default), or a clear error and a stopped page."""
    from core.store import StoreError, default_root

    try:
        return store(str(default_root()))
    except StoreError as error:
        st.error(str(error))
        st.stop()


def networks() -> dict:
    """Every network a run can be asked for: presets and the user's saved ones (just the presets when
    the store cannot be used; training or saving then says why)."""
    from core.architectures import PRESETS
    from core.store import StoreError, default_root

    try:
        return store(str(default_root())).networks()
    except StoreError:
        return dict(PRESETS)


@st.cache_resource(max_entries=2, show_spinner="Loading the digits…")
def dataset(name: str) -> Dataset:
    """Read-only arrays, shared by every session (cache_data would copy 50 MB on every read)."""
    return load_dataset(name)


@st.cache_data(max_entries=64, show_spinner=False)
def test_probabilities(root: str, run_id: str) -> np.ndarray:
    """A stored run's test-set class probabilities, (num_test, 10)."""
    return store(root).get(run_id).probabilities()


MODEL_CACHE_BYTES = 512 * 1024**2  # Keras models kept loaded for every session, by estimated size (not a count)


@st.cache_resource(show_spinner=False)
def _models() -> SizedCache:
    """The loaded models, shared by every session; least recently used out beyond MODEL_CACHE_BYTES."""
    return SizedCache(MODEL_CACHE_BYTES, size_of=model_bytes)


def model(root: str, run_id: str):
    """A stored run's Keras model, loaded with safe_mode=True once and then kept while it fits in
    MODEL_CACHE_BYTES; keyed by store and run id, never by the object."""
    return _models().get((root, run_id), lambda: store(root).get(run_id).load_model())


def model_is_loaded(root: str, run_id: str) -> bool:
    return (root, run_id) in _models()


def stored_runs(run_ids: list[str]) -> tuple[list[StoredRun], list[str]]:
    """The runs that are complete in the store, and a message for each one that is not."""
    runs, problems = [], []
    for run_id in run_ids:
        run, problem = current_store().inspect(run_id)
        if run is not None:
            runs.append(run)
        else:
            problems.append(f"Run {run_id} could not be opened: {problem or 'it is no longer in the store'}.")
    return runs, problems


@st.cache_data(max_entries=256, show_spinner=False)
def robustness(root: str, run_id: str, dataset_name: str, names: tuple) -> dict:
    """A stored run's predicted labels on every perturbed test set of `names` (measured once, then read from
    beside the run). Raises ValueError for a run trained on other data."""
    from core.robustness import measure

    run = store(root).get(run_id)
    if run is None:
        raise ValueError(f"Run {run_id} is no longer in the store.")
    return measure(run, dataset(dataset_name), names, load_model=lambda: model(root, run_id)).predictions


def robustness_is_stored(run: StoredRun, names: tuple) -> bool:
    """True when every level of `names` is in the run's robustness cache (showing it needs no model)."""
    from core.robustness import is_measured

    return is_measured(run, dataset(run.config.dataset), names)
