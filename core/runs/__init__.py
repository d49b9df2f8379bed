"""Runs: the store that keeps them, the service that decides what to train, and the executors that train.

    store.py          RunStore: a facade over the pieces below (what callers hold)
    backend.py        where a run's bytes live (a folder; PostgreSQL in postgres.py): put/get/list/delete/lock by run id
    run_files.py      what a run is as bytes, written in one step (core/atomic.py), checked when read (StoredRun)
    index.py          the listing and LRU order (SQLite)
    eviction.py       the size limit (RUN_STORE_MAX_MB)
    networks.py       users' saved networks
    postgres.py       the same pieces in PostgreSQL (RUN_STORE_URL; imported only for such a store)
    copy.py           copying runs and networks between two stores (`python -m core runs copy`)
    service.py        RunsService: has / get / request / get_or_train / train_missing / prepare, given an executor
    executors.py      the executor protocol (Job -> Handle: progress, result, cancel) and InProcessExecutor
    jobs.py           the model work itself (train, prepare, download), run wherever the executor runs it
    budget.py         the memory budget every executor checks a job against (OverBudget)
    workers.py        local worker processes behind a fair queue; worker_executor.py: WorkerExecutor over them
    ray_executor.py   RayExecutor (imported only when a study asks for Ray)
"""

from core.runs.errors import LockTimeout, StoreError, StoreSettingError, StoreUnavailable
from core.runs.budget import Budget, OverBudget
from core.runs.executors import Cancelled, Executor, Handle, InProcessExecutor, Job, WorkerCrashed
from core.runs.run_files import StoredRun
from core.runs.service import CellDone, Outcome, RunsService
from core.runs.store import RunStore, default_location, default_max_bytes, default_root

__all__ = ["Budget", "Cancelled", "CellDone", "Executor", "Handle", "InProcessExecutor", "Job", "LockTimeout",
           "Outcome", "OverBudget", "RunStore", "RunsService", "StoreError", "StoreSettingError", "StoreUnavailable",
           "StoredRun", "WorkerCrashed", "default_location", "default_max_bytes", "default_root"]
