import json

import pytest

from core import cli, store as store_module
from core.store import RunStore
from tests.fakes import FakeTrainer


@pytest.fixture
def fake_trainer(monkeypatch):
    trainer = FakeTrainer()
    monkeypatch.setattr(store_module, "train", trainer)
    return trainer


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_prints_one_row_per_architecture_and_the_data_source(capsys, fake_trainer):
    code, out, err = run_cli(capsys, "compare", "--sample-size", "100", "--epochs", "2")
    assert code == 0
    assert out.splitlines()[0].startswith("data: offline fallback")
    header, *rows = out.splitlines()[1:]
    assert header.split()[:3] == ["architecture", "params", "accuracy"]
    assert [row.split()[0] for row in rows] == ["flat", "conv"]
    assert ["42,310", "600,810"] == [row.split()[1] for row in rows]
    assert all(row.endswith("trained now") for row in rows)
    assert err.count("epoch") == 4  # a progress line per epoch per architecture


def test_a_second_compare_is_served_from_the_store_without_training(capsys, fake_trainer):
    run_cli(capsys, "compare", "--sample-size", "100", "--epochs", "1")
    code, out, err = run_cli(capsys, "compare", "--sample-size", "100", "--epochs", "1")
    assert code == 0 and len(fake_trainer.calls) == 2  # flat and conv, once each
    assert all(line.endswith("cached") for line in out.splitlines()[2:])
    assert "epoch" not in err


def test_json_output_carries_run_id_and_model_path(capsys, fake_trainer):
    code, out, err = run_cli(capsys, "compare", "--architectures", "conv", "--sample-size", "50", "--epochs",
                             "1", "--seed", "3", "--json")
    records = json.loads(out)
    assert code == 0 and len(records) == 1
    record = records[0]
    assert record["architecture"] == "conv" and record["seed"] == 3 and record["sample_size"] == 50
    assert RunStore().get(record["run_id"]).model_path.as_posix() == record["model_path"]
    assert record["data_source"].startswith("offline fallback")
    assert "data: offline" in err  # the data line goes to stderr so stdout stays pure JSON


def test_full_sample_size_means_the_whole_pool(capsys, fake_trainer):
    code, out, _ = run_cli(capsys, "compare", "--architectures", "flat", "--sample-size", "full",
                           "--epochs", "1", "--json")
    assert code == 0 and json.loads(out)[0]["sample_size"] == 4000


def test_runs_lists_the_store(capsys, fake_trainer):
    assert run_cli(capsys, "runs")[1].startswith("The store is empty")
    run_cli(capsys, "compare", "--architectures", "flat", "--sample-size", "100", "--epochs", "1")
    code, out, _ = run_cli(capsys, "runs", "--json")
    assert code == 0 and [row["architecture"] for row in json.loads(out)] == ["flat"]
    assert "flat" in run_cli(capsys, "runs")[1]


def test_precision_reaches_the_conv_config_and_the_json(capsys, fake_trainer):
    code, out, _ = run_cli(capsys, "compare", "--sample-size", "100", "--epochs", "1", "--precision", "bfloat16",
                           "--json")
    assert code == 0
    assert [(config.architecture, config.precision) for config in fake_trainer.calls] == \
        [("flat", "float32"), ("conv", "bfloat16")]
    assert [row["precision"] for row in json.loads(out)] == ["float32", "bfloat16"]


@pytest.mark.parametrize("argv, message", [
    (["compare", "--sample-size", "abc"], "sample size must be a whole number or 'full'"),
    (["compare", "--sample-size", "5"], "Sample size must be at least 10"),
    (["compare", "--sample-size", "-3"], "Sample size must be at least 10"),
    (["compare", "--sample-size", "999999"], "larger than the 4,000 training images"),
    (["compare", "--epochs", "0"], "Epochs must be between 1 and 500"),
    (["compare", "--epochs", "100000"], "Epochs must be between 1 and 500"),
    (["compare", "--sample-size", "0"], "Sample size must be at least 10"),
    (["compare", "--recipe", "magic"], "invalid choice: 'magic'"),
    (["compare", "--precision", "fp8"], "invalid choice: 'fp8'"),
    (["study", "--precision", "half"], "invalid choice: 'half'"),
    (["compare", "--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
    (["compare", "--epochs", "many"], "invalid int value: 'many'"),
    (["compare", "--architectures", "resnet"], "Unknown architecture 'resnet'; choose from: flat, conv, flat-wide"),
    (["study", "--pairs", "conv"], "a pair is FIRST:SECOND"),
    (["study", "--pairs", "conv:conv"], "A pair compares two different architectures"),
    (["compare", "--architecture-file", "missing.json"], "cannot read the network file missing.json"),
    (["compare", "--architectures"], "expected at least one argument"),
    (["compare", "--dataset", "cifar"], "invalid choice: 'cifar'"),
    (["compare", "--learning-rate", "-1"], "Learning rate must be a number above 0"),
    (["compare", "--batch-size", "0"], "Batch size must be between 1"),
    (["train"], "invalid choice: 'train'"),
    ([], "the following arguments are required: command"),
])
def test_bad_arguments_exit_2_with_one_clear_line(capsys, fake_trainer, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err + out
    assert fake_trainer.calls == []


def test_an_unwritable_store_exits_1_with_a_clear_line(capsys, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("RUN_STORE_DIR", str(tmp_path / "file" / "store"))
    code, _, err = run_cli(capsys, "runs")
    assert code == 1 and "not writable" in err and len(err.strip().splitlines()) == 1
