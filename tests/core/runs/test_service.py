"""The runs service: one code path for every executor; locks held while runs train, released whatever happens."""

from __future__ import annotations

import threading

import pytest

from core.config import TrainConfig
from core.runs import InProcessExecutor, RunsService, RunStore
from tests.fakes import FakeTrainer, service

CONFIGS = [TrainConfig(sample_size=100, num_epochs=1, seed=seed) for seed in range(3)]


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "store")


def test_a_run_failing_for_its_own_reason_is_reported_and_the_others_land(store, digits):
    trainer = FakeTrainer()

    def failing_on_seed_one(config, dataset, on_epoch=None):
        if config.seed == 1:
            raise ValueError("this network cannot read these images")
        return trainer(config, dataset, on_epoch)

    cells = list(service(store, failing_on_seed_one).train_missing(CONFIGS, digits))
    assert [cell.done for cell in cells] == [1, 2, 3] and cells[-1].running == 0
    by_seed = {cell.config.seed: cell for cell in cells}
    assert by_seed[1].outcome is None and by_seed[1].error == "ValueError: this network cannot read these images"
    assert all(by_seed[seed].outcome and not by_seed[seed].outcome.cached for seed in (0, 2))
    assert {row["seed"] for row in store.list_runs()} == {0, 2}


def test_a_run_another_holder_is_training_is_waited_for_and_served_from_the_store(store, digits):
    """Train once: the lock's holder (another session or process) stores the run; we take it, untrained."""
    ours, theirs = FakeTrainer(), FakeTrainer()
    held, go = threading.Event(), threading.Event()
    target = CONFIGS[0]

    def other_holder():
        with store.lock(store.id_for(target, digits), timeout=5):
            held.set()
            go.wait(10)
            store.put(theirs(target, digits))

    other = threading.Thread(target=other_holder)
    other.start()
    assert held.wait(10)
    cells = service(store, ours).train_missing(CONFIGS, digits)
    first_two = [next(cells), next(cells)]  # ours are trained while the other holder still has its run
    go.set()
    last = next(cells)
    other.join()
    assert sorted(cell.config.seed for cell in first_two) == [1, 2] and last.config == target
    assert last.outcome.cached and [call.seed for call in ours.calls] == [1, 2] and len(theirs.calls) == 1


def test_leaving_half_way_releases_every_lock(store, digits):
    cells = service(store, FakeTrainer()).train_missing(CONFIGS, digits)
    next(cells)
    cells.close()  # the page was left, or Ctrl-C: a run that had started finishes and is stored, then lets go
    for config in CONFIGS:
        with store.lock(store.id_for(config, digits), timeout=5):  # LockTimeout if one were still held
            pass


def test_get_or_train_replaces_a_broken_run_and_says_so(store, digits):
    runs = RunsService(store, InProcessExecutor(), trainer=FakeTrainer())
    run = runs.get_or_train(CONFIGS[0], digits).run
    run.model_path.write_bytes(b"garbage")
    assert not runs.has(CONFIGS[0], digits) and runs.get(CONFIGS[0], digits) is None
    outcome = runs.get_or_train(CONFIGS[0], digits)
    assert not outcome.cached and "model.keras is truncated" in outcome.problem and runs.has(CONFIGS[0], digits)
