"""The one caching layer: Streamlit caches around core, keyed by names and run ids, never by objects.

The store on disk is the persistent cache (a restart loses nothing); these are in-memory layers on top.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data import Dataset, load_dataset
from core.runs import RunsService, RunStore, StoredRun
from ui.state import owner


@st.cache_resource(show_spinner=False)
def store(location: str | None = None) -> RunStore:
    """The run store, shared by every session (it is safe across threads and processes)."""
    from core import server_settings

    return RunStore(location, max_bytes=int(server_settings.check().store_max_mb * 1024**2))  # checked settings


@st.cache_resource(show_spinner=False)
def service(location: str | None = None) -> RunsService:
    """The runs service over that store, shared by every session. Training and other model work run in local
    worker processes (TRAIN_WORKERS, default 1) behind one fair queue, so the server never imports TensorFlow;
    TRAIN_WORKERS=0 trains inside the server instead (one user on a laptop; the tests' fake trainer)."""
    from core import server_settings
    from core.runs import Budget, InProcessExecutor

    checked = server_settings.check()  # settings checked at once; a server too small to train trains nothing
    if not checked.training:
        from core.runs.no_training import NoTrainingExecutor

        return RunsService(store(location), NoTrainingExecutor(checked.training_off))
    if checked.workers == 0:  # the memory budget still holds (core/costs.py's estimate)
        return RunsService(store(location), InProcessExecutor(Budget(checked.budget_mb)))
    from core.runs.worker_executor import WorkerExecutor

    return RunsService(store(location), WorkerExecutor())


def store_location() -> str:
    """Where the runs are: RUN_STORE_URL when set (it wins, as it does for the CLI, so one launch can point at
    another store), else the `url` of `[connections.runs]` in the app's secrets (a PostgreSQL database, e.g. on
    Community Cloud), else the folder (RUN_STORE_DIR or the per-user default)."""
    import os

    from core.runs import default_location

    if os.environ.get("RUN_STORE_URL", "").strip():
        return default_location()
    try:
        if st.secrets.load_if_toml_exists():
            url = st.secrets.to_dict().get("connections", {}).get("runs", {}).get("url")
            if isinstance(url, str) and url.strip():
                return url.strip()
    except (AttributeError, TypeError):  # a `connections` or `runs` that is no table
        pass
    return default_location()


def current_store() -> RunStore:
    """The store chosen by `store_location()`, or a clear error and a stopped page."""
    return current_runs().store


def current_runs() -> RunsService:
    """The runs service over the store chosen by `store_location()`, or a clear error and a stopped page."""
    from core.runs import StoreError

    try:
        return service(store_location())
    except (StoreError, ValueError) as error:  # ValueError: a bad TRAIN_WORKERS or MEMORY_BUDGET_MB
        st.error(str(error))
        st.stop()


def networks() -> dict:
    """Every network a run can be asked for: presets and the user's saved ones (just the presets when
    the store cannot be used; training or saving then says why)."""
    from core.architectures import PRESETS
    from core.runs import StoreError

    try:
        return store(store_location()).networks()
    except StoreError:
        return dict(PRESETS)


@st.cache_resource(max_entries=2, show_spinner="Loading the digits…")
def dataset(name: str) -> Dataset:
    """Read-only arrays, shared by every session (cache_data would copy 50 MB on every read). A download, if
    one is needed, is made by a worker process (Keras's downloader imports TensorFlow)."""
    from core.runs import Job, StoreError
    from core.runs.executors import run
    from core.runs.jobs import download

    try:
        executor = service(store_location()).executor
    except (StoreError, ValueError):  # the digits need neither: Train says what is wrong with the store or setting
        return load_dataset(name)
    return load_dataset(name, download=lambda wanted: run(executor, Job(download, (wanted,), key=f"download:{wanted}",
                                                                        label="downloading the digits")))


@st.cache_data(max_entries=64, show_spinner=False)
def test_probabilities(location: str, run_id: str) -> np.ndarray:
    """A stored run's test-set class probabilities, (num_test, 10). ValueError when the run is no longer in the
    store (another session deleted it after the page found it)."""
    run = store(location).get(run_id)
    try:
        if run is not None:
            return run.probabilities()
    except (OSError, KeyError):  # deleted between finding it and reading its file
        pass
    raise ValueError(f"Run {run_id} could not be opened: it is no longer in the store.")


@st.cache_data(max_entries=64, show_spinner=False)
def looks(run_ids: tuple, digit: np.ndarray) -> dict:
    """run id -> core.inside.Look of each stored run for the (28, 28) digit: computed in a worker process, which
    keeps the models loaded (bounded by their memory), so a rerun with the same digit recomputes nothing and a new
    stroke loads no model again. ValueError names a run that can no longer be opened."""
    from core import costs
    from core.inside import looks_in_worker
    from core.runs import Job
    from core.runs.executors import run

    root = store_location()
    runs = [store(root).get(run_id) for run_id in run_ids]
    if None in runs:
        raise ValueError(f"Run {run_ids[runs.index(None)]} is no longer in the store.")
    orders = [run.config.pixels for run in runs]
    peak = costs.prediction_peak_mb([run.config.spec for run in runs], gradient=True)
    return run(service(root).executor, Job(looks_in_worker, (root, list(run_ids), digit, orders),
                                           cost=costs.Cost(peak, None), label="predicting your digit", owner=owner()))


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


@st.cache_data(max_entries=16, show_spinner="Fitting learning curves…")
def efficiency(cells):
    """core.efficiency's analysis of a study's cells (a DataFrame, hashed by its values): curves, bands,
    multipliers, the prediction check and their sentences (a few seconds of refits)."""
    from core.efficiency import analyse_efficiency

    return analyse_efficiency(cells)


@st.cache_data(max_entries=256, show_spinner=False)
def robustness(location: str, run_id: str, dataset_name: str, names: tuple) -> dict:
    """A stored run's predicted labels on every perturbed test set of `names` (measured once, then read from
    beside the run). Raises ValueError for a run trained on other data."""
    from core import costs
    from core.robustness import MAX_IMAGES_PER_CALL, measure, predicted_labels_in_worker
    from core.runs import Job
    from core.runs.executors import run as run_job

    run = store(location).get(run_id)
    if run is None:
        raise ValueError(f"Run {run_id} is no longer in the store.")
    data, executor = dataset(dataset_name), service(location).executor
    peak = costs.prediction_peak_mb([run.config.spec], data, min(MAX_IMAGES_PER_CALL, len(data.y_test) * 20))

    def in_worker(levels: list) -> dict:
        return run_job(executor, Job(predicted_labels_in_worker, (location, run_id, levels, run.config.pixels), data,
                                     costs.Cost(peak, None), "measuring robustness", f"robustness:{run_id}:{levels}",
                                     owner()))

    return measure(run, data, names, predict_missing=in_worker).predictions


def robustness_is_stored(run: StoredRun, names: tuple) -> bool:
    """True when every level of `names` is in the run's robustness cache (showing it needs no model)."""
    from core.robustness import is_measured

    return is_measured(run, dataset(run.config.dataset), names)


def network_problems() -> dict:
    """Saved network files that cannot be used (file name -> why): left out of every choice, one notice."""
    from core.runs import StoreError

    try:
        return store(store_location()).network_problems()
    except (StoreError, OSError):
        return {}
