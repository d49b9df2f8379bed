"""Training in real worker processes (TensorFlow in the worker, never in the caller's process), through the runs
service: progress streamed back, a killed worker a message with nothing half-stored, the budget refusing with
what would fit."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from core.config import TrainConfig
from core.runs import RunsService, RunStore
from core.runs.executors import Job, run
from core.runs.jobs import train_run
from core.runs.worker_executor import WorkerExecutor
from core.runs import OverBudget, WorkerCrashed
from core.runs.workers import WorkerPool
from tests.core.runs import worker_tasks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def executor():
    executor = WorkerExecutor(WorkerPool(workers=1, budget_mb=10**6, recycle_mb=10**6))
    yield executor
    executor.shutdown()


def test_a_run_trains_in_a_worker_reports_each_epoch_and_lands_in_the_store(executor, digits, tmp_path):
    store = RunStore(tmp_path / "store")
    runs = RunsService(store, executor)
    config = TrainConfig(sample_size=100, num_epochs=2, seed=11)
    epochs, places = [], []
    outcome = runs.get_or_train(config, digits, on_epoch=epochs.append, on_queue=places.append)
    assert not outcome.cached and [report.epoch for report in epochs] == [1, 2]
    assert outcome.run.run_id == store.id_for(config, digits) and outcome.run.load_model().count_params() == 42_310
    assert outcome.run.peak_memory_mb > 300  # measured in the worker, where TensorFlow is
    assert places and places[-1].place == 0
    assert runs.get_or_train(config, digits).cached


def test_two_requests_for_one_run_are_one_job(executor, digits, tmp_path):
    runs = RunsService(RunStore(tmp_path / "store"), executor)
    config = TrainConfig(sample_size=100, num_epochs=1, seed=12)
    # the worker busy for a second: both requests are still in line when the second comes (a free worker could start
    # the first at once, and the second would then wait for the run's lock instead of joining its job)
    busy = executor.submit(Job(worker_tasks.count, (1, 1.0), label="a classmate's run", owner="classmate"))
    first, second = runs.request(config, digits), runs.request(config, digits)
    assert first.entry is second.entry and second.joined
    busy.result()
    asked_first, joined = first.result(), second.result()
    assert asked_first.run.run_id == joined.run.run_id
    assert (asked_first.cached, joined.cached) == (False, True)  # trained once, for the first; opened by the other


def test_a_worker_killed_mid_training_is_a_message_leaves_nothing_and_the_next_run_trains(executor, digits, tmp_path):
    store = RunStore(tmp_path / "store")
    runs = RunsService(store, executor)
    doomed = TrainConfig(architecture="conv", sample_size=1000, num_epochs=30, seed=13)
    first_epoch = threading.Event()

    def on_epoch(report):
        if not first_epoch.is_set():
            first_epoch.set()
            os.kill(executor.pool._slots[0].pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would

    with pytest.raises(WorkerCrashed, match="killed"):
        runs.get_or_train(doomed, digits, on_epoch=on_epoch)
    assert first_epoch.is_set()
    assert store.list_runs() == [] and list((store.root / "tmp").iterdir()) == [] and not runs.has(doomed, digits)
    with store.lock(store.id_for(doomed, digits), timeout=0):  # released: nothing is stuck
        pass
    assert not runs.get_or_train(TrainConfig(sample_size=100, num_epochs=1, seed=14), digits).cached


def test_a_run_the_budget_cannot_hold_is_refused_before_anything_runs_saying_what_fits(digits, tmp_path):
    pool = WorkerPool(workers=1, warm=False)
    pool.budget_mb = pool.server_mb() + 1200
    runs = RunsService(RunStore(tmp_path / "store"), WorkerExecutor(pool))
    try:
        with pytest.raises(OverBudget, match=r"needs about [\d,]+ MB.*a batch size of \d+ or less fits"):
            runs.request(TrainConfig(architecture="conv", sample_size=1000, batch_size=8192), digits)
        assert not pool.started
    finally:
        pool.shutdown()


def test_the_cost_models_memory_estimate_holds_for_real_runs_in_fresh_workers(digits):
    """benchmarks/bench_costs.py's table in small: each run's measured peak beside the estimate."""
    from core import costs

    executor = WorkerExecutor(WorkerPool(workers=1, budget_mb=10**6, recycle_mb=1))  # a new worker per job
    try:
        for config in (TrainConfig(sample_size=300, num_epochs=1),
                       TrainConfig(architecture="conv", sample_size=300, num_epochs=1, batch_size=256)):
            measured = run(executor, Job(train_run, (config, None), digits)).peak_memory_mb
            assert 0.85 <= costs.peak_mb(config, digits) / measured <= 1.3, (config.architecture, measured)
    finally:
        executor.shutdown()


def test_a_study_left_mid_cell_still_stores_the_running_cell_and_drops_the_queued_ones(executor, digits, tmp_path):
    """Issue 24: a page left while a study's cell trains (the iterator closed) — the running run finishes and is
    stored; the cells that had not started are dropped."""
    import time

    store = RunStore(tmp_path / "store")
    runs = RunsService(store, executor)
    configs = [TrainConfig(sample_size=100, num_epochs=3, seed=seed) for seed in (21, 22, 23)]
    started = []
    cells = runs.train_missing(configs, digits, on_start=started.append)
    first = next(cells)  # the first cell lands
    assert first.outcome is not None and not first.outcome.cached and started == configs[:1]
    slot, deadline = executor.pool._slots[0], time.monotonic() + 30
    second = runs.run_id(configs[1], digits)
    while (slot.entry is None or slot.entry.job.key != second) and time.monotonic() < deadline:  # it starts next
        time.sleep(0.05)
    cells.close()  # the page is left while the second trains
    assert len(executor.pool._queue) == 0  # the third, not started and wanted by nobody, is dropped
    deadline = time.monotonic() + 60
    while not runs.has(configs[1], digits) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert runs.has(configs[1], digits)  # it had started: finished and stored
    assert not runs.has(configs[2], digits) and list((store.root / "tmp").iterdir()) == []
