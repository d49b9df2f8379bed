import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from core.config import TrainConfig
from core.runs import RunStore, StoreError
from tests.fakes import FakeTrainer, run_folder, service

CONFIG = TrainConfig(architecture="flat", sample_size=100, num_epochs=2)


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "store")


def test_round_trip_keeps_record_predictions_and_model(store, digits):
    trainer = FakeTrainer()
    outcome = service(store, trainer).get_or_train(CONFIG, digits)
    assert not outcome.cached and outcome.problem is None
    again = RunStore(store.root).get(outcome.run.run_id)  # a new store object: as after a restart
    assert again.config == CONFIG
    assert again.history == outcome.run.history
    assert again.test_accuracy == outcome.run.test_accuracy
    assert again.layers[1]["params"] == 39250
    assert again.probabilities().shape == (1000, 10)
    assert again.load_model().count_params() == 42_310


def test_a_second_request_is_served_from_the_store_without_training(store, digits):
    trainer = FakeTrainer()
    first = service(store, trainer).get_or_train(CONFIG, digits)
    second = service(RunStore(store.root), trainer).get_or_train(CONFIG, digits)
    assert len(trainer.calls) == 1
    assert second.cached and second.run.run_id == first.run.run_id


def test_a_different_data_source_is_a_different_run(store, digits):
    from core.data import make_dataset

    other = make_dataset("mnist", {"x_train": digits.x_train[::-1], "y_train": digits.y_train[::-1],
                                   "x_test": digits.x_test, "y_test": digits.y_test}, "reversed")
    assert store.id_for(CONFIG, digits) != store.id_for(CONFIG, other)


def test_a_truncated_model_file_is_reported_and_retrained(store, digits):
    trainer = FakeTrainer()
    run = service(store, trainer).get_or_train(CONFIG, digits).run
    model_bytes = run.model_path.read_bytes()
    run.model_path.write_bytes(model_bytes[: len(model_bytes) // 2])
    assert store.get(run.run_id) is None
    outcome = service(store, trainer).get_or_train(CONFIG, digits)
    assert not outcome.cached and "truncated" in outcome.problem
    assert len(trainer.calls) == 2
    assert outcome.run.load_model().count_params() == 42_310


@pytest.mark.parametrize("damage", ["delete_json", "garble_json", "delete_predictions"])
def test_a_broken_entry_is_treated_as_absent(store, digits, damage):
    run = service(store, FakeTrainer()).get_or_train(CONFIG, digits).run
    target = {"delete_json": "run.json", "garble_json": "run.json",
              "delete_predictions": "probabilities.npy"}[damage]
    if damage.startswith("delete"):
        (run_folder(run) / target).unlink()
    else:
        (run_folder(run) / target).write_text("{not json")
    found, problem = store.inspect(run.run_id)
    assert found is None and problem
    assert not service(store, FakeTrainer()).get_or_train(CONFIG, digits).cached


def test_a_failed_training_leaves_nothing_behind(store, digits):
    def exploding_trainer(config, dataset, on_epoch=None):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        service(store, exploding_trainer).get_or_train(CONFIG, digits)
    assert list((store.root / "runs").iterdir()) == []
    assert store.list_runs() == []


def test_a_failed_write_leaves_no_half_written_entry(store, digits, monkeypatch):
    result = FakeTrainer()(CONFIG, digits)
    monkeypatch.setattr(np, "save", lambda *args, **kwargs: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        store.put(result)
    assert list((store.root / "runs").iterdir()) == []
    assert list((store.root / "tmp").iterdir()) == []


def test_list_runs_and_delete(store, digits):
    for architecture in ("flat", "conv"):
        service(store, FakeTrainer()).get_or_train(
            TrainConfig(architecture=architecture, sample_size=100, num_epochs=1), digits)
    rows = store.list_runs()
    assert {row["architecture"] for row in rows} == {"flat", "conv"}
    assert json.loads(rows[0]["config_json"])["sample_size"] == 100
    assert {(row["recipe"], row["precision"]) for row in rows} == {("student", "float32")}
    assert store.delete(rows[0]["run_id"]) is True
    assert len(store.list_runs()) == 1
    assert store.delete(rows[0]["run_id"]) is False


def test_listings_tell_apart_runs_that_differ_only_in_recipe_or_precision(store, digits):
    for config in (TrainConfig(architecture="conv", sample_size=100, num_epochs=1),
                   TrainConfig(architecture="conv", sample_size=100, num_epochs=1, precision="bfloat16"),
                   TrainConfig(architecture="conv", sample_size=100, num_epochs=1, recipe="improved")):
        service(store, FakeTrainer()).get_or_train(config, digits)
    assert sorted((row["recipe"], row["precision"]) for row in store.list_runs()) == \
        [("improved", "float32"), ("student", "bfloat16"), ("student", "float32")]


def test_a_garbage_index_is_rebuilt_from_the_run_folders(store, digits):
    run = service(store, FakeTrainer()).get_or_train(CONFIG, digits).run
    (store.root / "index.sqlite").write_bytes(b"this is not a database" * 100)
    rows = RunStore(store.root).list_runs()
    assert [row["run_id"] for row in rows] == [run.run_id]


def test_run_ids_cannot_name_paths_outside_the_store(store):
    with pytest.raises(ValueError, match="Not a run id"):
        store.backend.folder("../../etc")


def test_an_unusable_store_folder_is_a_clear_store_error(tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(StoreError, match="not writable.*RUN_STORE_DIR"):
        RunStore(tmp_path / "a-file" / "store")


def test_two_threads_asking_for_the_same_missing_run_train_it_once(store, digits):
    trainer = FakeTrainer()
    started = threading.Barrier(2)
    outcomes = []

    def ask():
        started.wait()
        outcomes.append(service(RunStore(store.root), trainer).get_or_train(CONFIG, digits))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(trainer.calls) == 1
    assert sorted(outcome.cached for outcome in outcomes) == [False, True]
    assert outcomes[0].run.run_id == outcomes[1].run.run_id


@pytest.mark.slow  # real Keras training or tracing: a conv net, several runs or another process
def test_two_processes_asking_for_the_same_missing_run_train_it_once(tmp_path, digits, monkeypatch):
    np.savez(tmp_path / "mnist.npz", x_train=digits.x_train, y_train=digits.y_train, x_test=digits.x_test,
             y_test=digits.y_test)
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "mnist.npz"))  # hermetic: no download attempted
    command = [sys.executable, "-m", "core", "compare", "--architectures", "flat", "--sample-size", "100",
               "--epochs", "1", "--json"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    results = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], [err for _, err in results]
    statuses = sorted(json.loads(out)[0]["status"] for out, _ in results)
    assert statuses == ["cached", "trained now"]
    assert len(list((tmp_path / "store" / "runs").iterdir())) == 1


def test_a_saved_network_reads_back_and_can_be_deleted(store):
    from core.architectures import PRESETS, ArchitectureSpec
    from core.layers import Conv, Flatten

    mine = ArchitectureSpec("mine", "image", (Conv(4, 5), Flatten()), "four filters")
    store.save_network(mine)
    again = RunStore(store.root)  # as after a restart
    assert again.saved_networks() == {"mine": mine}
    assert list(again.networks()) == [*PRESETS, "mine"]
    assert again.resolve_networks(["mine", "flat"]) == [mine, PRESETS["flat"]]
    assert again.delete_network("mine") and again.saved_networks() == {}


def test_saving_a_network_under_a_presets_name_or_a_path_is_refused(store):
    from core.architectures import PRESETS

    with pytest.raises(ValueError, match="'conv' is a preset's name"):
        store.save_network(PRESETS["conv"].renamed("conv"))
    with pytest.raises(ValueError, match="A network's name must be 1 to 40 letters"):
        store.delete_network("../runs")


def test_a_broken_or_misnamed_network_file_is_left_out_not_fatal(store, caplog):
    from core.architectures import ArchitectureSpec

    (store.root / "networks" / "garbage.json").write_text("{not json")
    (store.root / "networks" / "other.json").write_text(ArchitectureSpec("mine", "vector", ()).to_json())
    (store.root / "networks" / "flat.json").write_text(ArchitectureSpec("flat", "vector", ()).to_json())
    assert store.saved_networks() == {}
    assert "garbage.json is not usable" in caplog.text
    with pytest.raises(ValueError, match="Unknown architecture 'mine'"):
        store.resolve_networks(["mine"])


def test_a_custom_networks_run_is_stored_and_reopens_with_its_network(store, digits):
    from core.architectures import ArchitectureSpec
    from core.layers import Conv, Dense, Flatten, MaxPool

    mine = ArchitectureSpec("mine", "image", (Conv(6, 5), MaxPool(2), Flatten(), Dense(16)))
    config = TrainConfig.for_network(mine, sample_size=100, num_epochs=1)
    first = service(store, FakeTrainer()).get_or_train(config, digits)
    store.delete_network("mine")  # runs keep their own copy of the network
    again = service(RunStore(store.root), FakeTrainer()).get_or_train(config, digits)
    assert again.cached and again.run.run_id == first.run.run_id
    assert again.run.config.spec == mine
    assert again.run.load_model().count_params() == mine.num_params
    assert [row["architecture"] for row in store.list_runs()] == ["mine"]


def test_anything_under_runs_that_is_not_a_run_is_left_alone_and_reported_once(store, digits, caplog):
    run = service(store, FakeTrainer()).get_or_train(CONFIG, digits).run
    (store.root / "runs" / f"{run.run_id}.bak").mkdir()  # a hand-made backup
    (store.root / "runs" / "notes.txt").write_text("mine")
    assert [row["run_id"] for row in store.list_runs()] == [run.run_id]
    assert [row["run_id"] for row in RunStore(store.root).list_runs()] == [run.run_id]
    assert caplog.text.count(f"{run.run_id}.bak is not a run") == 1 and caplog.text.count("notes.txt is not a run") == 1
    assert (store.root / "runs" / f"{run.run_id}.bak").is_dir()  # not ours to delete


@pytest.mark.parametrize("value", ["inf", "1e309", "nan", "-inf", "0", "-5"])
def test_a_store_size_limit_that_is_not_a_finite_positive_number_is_a_clear_error(tmp_path, monkeypatch, value):
    monkeypatch.setenv("RUN_STORE_MAX_MB", value)
    with pytest.raises(StoreError, match=f"RUN_STORE_MAX_MB must be a finite number of megabytes above 0; got {value}"):
        RunStore(tmp_path / "store")


def test_a_head_start_prepares_only_runs_the_store_does_not_have(store, digits, monkeypatch):
    """Opening stored runs needs no TensorFlow: preparing their training would only cost memory."""
    from core.runs import jobs as jobs_module

    prepared = []
    monkeypatch.setattr(jobs_module, "prepare_training", lambda config, dataset: prepared.append(config) or True)
    conv = TrainConfig(architecture="conv", sample_size=100, num_epochs=2)
    service(store, FakeTrainer()).get_or_train(CONFIG, digits)
    assert [handle.result() for handle in service(store).prepare([CONFIG, conv], digits)] == [1]  # one prepared
    assert prepared == [conv]


def test_a_head_start_for_another_seed_is_its_own_job_not_joined_to_the_last_seeds(store, digits, monkeypatch):
    """Changing the seed while the previous seed's head start still runs: joining that job (same kind of model)
    left the click to build the new seed's initial weights itself (~0.2 s of the conv net's warm click)."""
    from core.runs import jobs as jobs_module

    monkeypatch.setattr(jobs_module, "prepare_training", lambda config, dataset: True)
    runs = service(store)
    keys = []
    submit = runs.executor.submit
    monkeypatch.setattr(runs.executor, "submit", lambda job: keys.append(job.key) or submit(job))
    for seed in (0, 1, 1):
        runs.prepare([TrainConfig(architecture="conv", sample_size=100, num_epochs=2, seed=seed)], digits)
    assert len(keys) == 3 and keys[0] != keys[1] and keys[1] == keys[2]
