"""The store trusts what it reads: every run file is checked against the manifest written with it, old runs
by their contents; whatever is damaged is reported and retrained, never shown with wrong numbers."""

import json
import sqlite3
import zipfile

import pytest

from core.runs import jobs as jobs_module
from core.config import TrainConfig
from core.runs import RunStore
from core.runs.run_files import MANIFEST_FILE
from tests.fakes import FAKE_PEAK_MEMORY_MB, FakeTrainer, run_folder, service

CONFIG = TrainConfig(architecture="flat", sample_size=100, num_epochs=1)


@pytest.fixture
def stored(tmp_path, digits):
    store = RunStore(tmp_path / "store")
    return store, service(store, FakeTrainer()).get_or_train(CONFIG, digits).run


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def zero_fill(path):
    path.write_bytes(bytes(path.stat().st_size))


def broken_config(path):
    """A valid zip archive whose config.json is not JSON (safe_mode would refuse it; Try it crashed)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["config.json"] = b"{not json"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def tampered_accuracy(path):
    record = json.loads(path.read_text())
    record["test_accuracy"] = "abc"
    path.write_text(json.dumps(record))


@pytest.mark.parametrize("name, damage, expected", [
    ("probabilities.npy", truncate, "probabilities.npy is truncated"),
    ("probabilities.npy", zero_fill, "probabilities.npy was changed or damaged after it was written"),
    ("model.keras", truncate, "model.keras is truncated"),
    ("model.keras", broken_config, "model.keras"),
    ("run.json", tampered_accuracy, "test_accuracy is 'abc', not a number"),
])
def test_a_damaged_file_is_reported_once_and_retrained_never_served(stored, digits, name, damage, expected):
    store, run = stored
    damage(run_folder(run) / name)
    trainer = FakeTrainer()
    assert store.inspect(run.run_id)[0] is None
    outcome = service(store, trainer).get_or_train(CONFIG, digits)
    assert not outcome.cached and expected in outcome.problem and len(trainer.calls) == 1
    again = service(RunStore(store.root), trainer).get_or_train(CONFIG, digits)
    assert again.cached and again.problem is None and again.run.probabilities().shape == (1000, 10)


def test_the_cli_says_a_damaged_run_was_retrained_instead_of_cached(stored, capsys, monkeypatch):
    store, run = stored
    monkeypatch.setenv("RUN_STORE_DIR", str(store.root))
    monkeypatch.setattr(jobs_module, "train", FakeTrainer())
    truncate(run_folder(run) / "probabilities.npy")
    from core import cli

    code = cli.main(["compare", "--architectures", "flat", "--sample-size", "100", "--epochs", "1"])
    out, err = capsys.readouterr()
    assert code == 0 and any(line.rstrip().endswith("trained now") for line in out.splitlines())  # the table's row
    assert f"stored run {run.run_id} was broken (probabilities.npy is truncated" in err


@pytest.mark.parametrize("name, damage, expected", [
    ("probabilities.npy", truncate, "probabilities.npy unreadable"),
    ("model.keras", broken_config, "model.keras is damaged"),
    ("run.json", tampered_accuracy, "test_accuracy is 'abc'"),
])
def test_a_run_from_before_manifests_is_checked_by_its_contents(stored, name, damage, expected):
    store, run = stored
    (run_folder(run) / MANIFEST_FILE).unlink()
    damage(run_folder(run) / name)
    found, problem = store.inspect(run.run_id)
    assert found is None and expected in problem
    assert not (run_folder(run) / MANIFEST_FILE).exists()  # nothing vouches for a damaged run


def test_a_sound_run_from_before_manifests_keeps_working_and_gets_one(stored):
    store, run = stored
    manifest = run_folder(run) / MANIFEST_FILE
    written = json.loads(manifest.read_text())
    manifest.unlink()
    found, problem = RunStore(store.root).inspect(run.run_id)
    assert problem is None and found.test_accuracy == run.test_accuracy
    assert json.loads(manifest.read_text()) == written


def test_files_are_hashed_once_per_process_and_sizes_checked_every_time(stored, monkeypatch):
    store, run = stored
    hashed = []
    from core.runs import backend

    original = backend.hashlib.sha256
    store.backend._hashed.clear()
    monkeypatch.setattr(backend.hashlib, "sha256", lambda: hashed.append(1) or original())
    for _ in range(3):
        assert store.inspect(run.run_id)[1] is None
    assert len(hashed) == 3  # run.json, probabilities and model, once each
    with open(run_folder(run) / "probabilities.npy", "ab") as grown:
        grown.write(b"x")
    assert "probabilities.npy is grown" in store.inspect(run.run_id)[1]


def test_an_index_row_that_disagrees_with_its_run_is_corrected_when_the_run_is_read(stored):
    store, run = stored
    with sqlite3.connect(store.root / "index.sqlite") as db:
        db.execute("UPDATE runs SET test_accuracy = 0.99 WHERE run_id = ?", (run.run_id,))
    assert store.list_runs()[0]["test_accuracy"] == 0.99  # the index is a cache...
    assert store.get(run.run_id).test_accuracy == run.test_accuracy
    assert store.list_runs()[0]["test_accuracy"] == run.test_accuracy  # ...corrected from the run on disk


def test_a_run_stored_before_peak_memory_was_recorded_still_opens_without_it(stored):
    store, run = stored
    assert run.peak_memory_mb == FAKE_PEAK_MEMORY_MB
    path = run_folder(run) / "run.json"
    record = json.loads(path.read_text())
    del record["peak_memory_mb"]
    path.write_text(json.dumps(record))
    store.files.write_manifest(run.run_id)  # as the older version wrote it
    again = RunStore(store.root).get(run.run_id)
    assert again is not None and again.peak_memory_mb is None
    assert [row["peak_memory_mb"] for row in store.list_runs()] == [None]


def test_a_peak_memory_that_is_not_a_number_makes_the_run_broken(stored):
    store, run = stored
    path = run_folder(run) / "run.json"
    record = json.loads(path.read_text())
    record["peak_memory_mb"] = "lots"
    path.write_text(json.dumps(record))
    store.files.write_manifest(run.run_id)
    found, problem = RunStore(store.root).inspect(run.run_id)
    assert found is None and "peak_memory_mb is 'lots'" in problem


def test_an_index_made_before_the_memory_column_gains_it_filled_from_the_runs(stored):
    store, run = stored
    with sqlite3.connect(store.root / "index.sqlite") as db:
        db.execute("ALTER TABLE runs DROP COLUMN peak_memory_mb")
        db.execute("UPDATE runs SET last_used_at = '2020-01-01T00:00:00+00:00'")
    rows = RunStore(store.root).list_runs()
    assert [row["peak_memory_mb"] for row in rows] == [FAKE_PEAK_MEMORY_MB]
    assert rows[0]["last_used_at"].startswith("2020")  # the rows were completed, not rebuilt
