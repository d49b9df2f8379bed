"""`python -m core runs copy --from PATH_OR_URL --to PATH_OR_URL`: runs and saved networks between any two stores,
verified, resumable and idempotent."""

from __future__ import annotations

import json

import pytest

from core.architectures import PRESETS
from core.cli import main
from core.config import TrainConfig
from core.runs import RunStore
from core.runs.run_files import PROBABILITIES_FILE
from tests.fakes import FakeTrainer, service


@pytest.fixture
def laptop(tmp_path, digits):
    """A folder store with three runs (one with robustness results beside it) and a saved network."""
    store = RunStore(tmp_path / "laptop")
    runs = [service(store, FakeTrainer()).get_or_train(TrainConfig(sample_size=100, num_epochs=1, seed=seed),
                                                        digits).run for seed in range(3)]
    runs[0].keep_extra("robustness.npz", b"measured on the laptop")
    store.save_network(PRESETS["conv"].renamed("mine"))
    return store, runs


def copy(source, target, capsys) -> tuple[int, dict]:
    status = main(["runs", "copy", "--from", str(source), "--to", str(target), "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_a_laptops_runs_go_up_to_the_database_and_back_whole(laptop, postgres_url, tmp_path, capsys):
    store, runs = laptop
    status, summary = copy(store.root, postgres_url, capsys)
    assert status == 0 and summary["copied"] == 3 and summary["networks_copied"] == ["mine"]
    cloud = RunStore(postgres_url)
    assert {row["run_id"] for row in cloud.list_runs()} == {run.run_id for run in runs}
    assert cloud.get(runs[0].run_id).extra("robustness.npz") == b"measured on the laptop"
    assert set(cloud.saved_networks()) == {"mine"}
    status, summary = copy(postgres_url, tmp_path / "back", capsys)
    assert status == 0 and summary["copied"] == 3
    back = RunStore(tmp_path / "back")
    for run in runs:
        assert back.backend.get(run.run_id, PROBABILITIES_FILE) == store.backend.get(run.run_id, PROBABILITIES_FILE)


def test_copying_again_copies_nothing_and_an_interrupted_copy_resumes(laptop, postgres_url, capsys):
    store, runs = laptop
    copy(store.root, postgres_url, capsys)
    status, summary = copy(store.root, postgres_url, capsys)
    assert status == 0 and summary["copied"] == 0 and summary["already_there"] == 3
    assert summary["networks_copied"] == []
    RunStore(postgres_url).delete(runs[1].run_id)  # as if the first copy had stopped before this run
    status, summary = copy(store.root, postgres_url, capsys)
    assert summary["copied"] == 1 and summary["already_there"] == 2


def test_a_broken_run_is_reported_not_copied_and_the_others_are(laptop, tmp_path, capsys):
    store, runs = laptop
    path = store.backend.folder(runs[2].run_id) / PROBABILITIES_FILE
    path.write_bytes(bytes(path.stat().st_size))
    status, summary = copy(store.root, tmp_path / "other", capsys)
    assert status == 1 and summary["copied"] == 2 and list(summary["broken"]) == [runs[2].run_id]
    assert "checksum mismatch" in summary["broken"][runs[2].run_id]
    assert runs[2].run_id not in RunStore(tmp_path / "other").backend.run_ids()


def test_a_network_of_the_same_name_in_the_target_is_left_alone(laptop, tmp_path, capsys):
    store, _ = laptop
    other = RunStore(tmp_path / "other")
    other.save_network(PRESETS["flat"].renamed("mine"))
    status, summary = copy(store.root, other.root, capsys)
    assert status == 0 and summary["networks_left_alone"] == ["mine"]
    assert other.saved_networks()["mine"].layers == PRESETS["flat"].layers


@pytest.mark.parametrize("argv, message", [
    (["runs", "copy", "--to", "x"], "needs --from"),
    (["runs", "--from", "x"], "go with `runs copy`"),
    (["runs", "copy", "--from", "/no/such/store", "--to", "x"], "no run store there"),
])
def test_copy_arguments_that_cannot_work_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
