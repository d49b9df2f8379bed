import json
import re

import pytest

from core import cli
from core.runs import RunStore
from tests.fakes import FAKE_PEAK_MEMORY_MB


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def compare_table(out: str) -> list[str]:
    """`compare`'s table: the lines after the data line, up to the blank line before the answer."""
    return out.split("\n\n")[0].splitlines()[1:]


def test_compare_prints_one_row_per_architecture_and_the_data_source(capsys, fake_trainer):
    code, out, err = run_cli(capsys, "compare", "--sample-size", "100", "--epochs", "2")
    assert code == 0
    assert out.splitlines()[0].startswith("data: offline fallback")
    header, *rows = compare_table(out)
    assert header.split()[:3] == ["network", "params", "accuracy"]
    assert [row.split()[0] for row in rows] == ["flat", "conv"]
    assert ["42,310", "600,810"] == [row.split()[1] for row in rows]
    assert header.split()[-2] == "peak_MB" and all(row.split()[-3] == "1,234" for row in rows)  # memory beside times
    assert all(row.endswith("trained now") for row in rows)
    assert err.count("epoch") == 4  # a progress line per epoch per architecture
    answer = out.split("\n\n")[1].splitlines()
    assert answer[0].startswith("Both networks pass the 80% bar on these runs: flat 8")  # issue 37: said plainly
    assert answer[1] == ("The study settles it (flat and conv at 100, 300 and 1,000 images, 3 seeds each): python -m "
                         "core study --sizes 100 300 1000 --seeds 3 --epochs 2 --architectures flat conv")


def test_a_second_compare_is_served_from_the_store_without_training(capsys, fake_trainer):
    run_cli(capsys, "compare", "--sample-size", "100", "--epochs", "1")
    code, out, err = run_cli(capsys, "compare", "--sample-size", "100", "--epochs", "1")
    assert code == 0 and len(fake_trainer.calls) == 2  # flat and conv, once each
    assert all(line.endswith("cached") for line in compare_table(out)[1:])
    assert "epoch" not in err


def test_json_output_carries_run_id_and_model_path(capsys, fake_trainer):
    code, out, err = run_cli(capsys, "compare", "--architectures", "conv", "--sample-size", "50", "--epochs",
                             "1", "--seed", "3", "--json")
    records = json.loads(out)
    assert code == 0 and len(records) == 1
    record = records[0]
    assert record["architecture"] == "conv" and record["seed"] == 3 and record["sample_size"] == 50
    assert record["peak_memory_mb"] == FAKE_PEAK_MEMORY_MB
    assert RunStore().get(record["run_id"]).model_path.as_posix() == record["model_path"]
    assert record["data_source"].startswith("offline fallback")
    assert "data: offline" in err  # the data line goes to stderr so stdout stays pure JSON


def test_compare_names_shuffled_runs_as_the_pages_do_in_its_table_and_progress(capsys, fake_trainer):
    # issue 37 item 7, found trying the CLI: `compare --pixels shuffled` printed rows "flat" and "conv" (and progress
    # lines "flat", "conv") above an answer about "flat (shuffled)" and "conv (shuffled)"
    code, out, err = run_cli(capsys, "compare", "--sample-size", "100", "--epochs", "1", "--pixels", "shuffled")
    assert code == 0
    header, *rows = compare_table(out)
    assert header.split()[0] == "network"
    assert [re.match(r" *(.+?) +[\d,]+ ", row).group(1) for row in rows] == ["flat (shuffled)", "conv (shuffled)"]
    assert [line.split(" epoch")[0].strip() for line in err.splitlines()] == ["flat (shuffled)", "conv (shuffled)"]
    code, out, _ = run_cli(capsys, "compare", "--sample-size", "100", "--epochs", "1", "--pixels", "shuffled",
                           "--json")
    assert [(row["architecture"], row["pixels"]) for row in json.loads(out)] == [("flat", "shuffled"),
                                                                                 ("conv", "shuffled")]


def test_full_sample_size_means_the_whole_pool(capsys, fake_trainer):
    code, out, _ = run_cli(capsys, "compare", "--architectures", "flat", "--sample-size", "full",
                           "--epochs", "1", "--json")
    assert code == 0 and json.loads(out)[0]["sample_size"] == 4000


def test_runs_lists_the_store(capsys, fake_trainer):
    assert run_cli(capsys, "runs")[1].startswith("The store is empty")
    run_cli(capsys, "compare", "--architectures", "flat", "--sample-size", "100", "--epochs", "1")
    code, out, _ = run_cli(capsys, "runs", "--json")
    assert code == 0 and [row["architecture"] for row in json.loads(out)] == ["flat"]
    header, row = run_cli(capsys, "runs")[1].splitlines()
    assert "flat" in row and "peak_MB" in header and "1,234" in row
    # issue 37 item 7: a pixels column, accuracy and seconds in the pages' one format ("65.5%", "1.2 s")
    assert header.split()[2:5] == ["architecture", "pixels", "images"] and " drawn " in row
    assert re.search(r" \d{2}\.\d% +0\.01 s ", row)


def test_precision_reaches_the_conv_config_and_the_json(capsys, fake_trainer):
    code, out, _ = run_cli(capsys, "compare", "--sample-size", "100", "--epochs", "1", "--precision", "bfloat16",
                           "--json")
    assert code == 0
    assert [(config.architecture, config.precision) for config in fake_trainer.calls] == \
        [("flat", "float32"), ("conv", "bfloat16")]
    assert [row["precision"] for row in json.loads(out)] == ["float32", "bfloat16"]


@pytest.mark.parametrize("argv, message", [
    (["compare", "--sample-size", "abc"], "Training images must be a whole number or 'full', not 'abc'"),
    (["compare", "--sample-size", "5"], "Training images must be at least 10"),
    (["compare", "--sample-size", "-3"], "Training images must be at least 10"),
    (["compare", "--sample-size", "999999"], "larger than the 4,000 training images"),
    (["compare", "--epochs", "0"], "Epochs must be between 1 and 500"),
    (["compare", "--epochs", "100000"], "Epochs must be between 1 and 500"),
    (["compare", "--sample-size", "0"], "Training images must be at least 10"),
    (["compare", "--recipe", "magic"], "invalid choice: 'magic'"),
    (["compare", "--precision", "fp8"], "invalid choice: 'fp8'"),
    (["study", "--precision", "half"], "invalid choice: 'half'"),
    (["compare", "--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
    (["compare", "--epochs", "many"], "Epochs must be a whole number, not 'many'"),
    (["compare", "--architectures", "resnet"], "Unknown architecture 'resnet'; choose from: flat, conv, flat-wide"),
    (["study", "--pairs", "conv"], "Differences to test must be FIRST:SECOND"),
    (["study", "--pairs", "conv:conv"], "Differences to test must compare two different networks"),
    (["study", "--margin", "nan"], "H2 margin must be a number from 0.1 to 50"),
    (["study", "--sizes", "100", "5"], "Sample sizes must be at least 10; got 5"),
    (["compare", "--architecture-file", "missing.json"], "cannot read the network file missing.json"),
    (["compare", "--architectures"], "expected at least one argument"),
    (["compare", "--dataset", "cifar"], "invalid choice: 'cifar'"),
    (["compare", "--learning-rate", "-1"], "Learning rate must be a number above 0"),
    (["compare", "--batch-size", "0"], "Batch size must be between 1"),
    (["train"], "invalid choice: 'train'"),
    ([], "the following arguments are required: command"),
    (["compare", "--epocs", "3"], "unrecognized arguments: --epocs 3 (see: python -m core compare --help)"),
    (["study", "--sizse", "100"], "unrecognized arguments: --sizse 100 (see: python -m core study --help)"),
])
def test_bad_arguments_exit_2_with_one_clear_line(capsys, fake_trainer, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err + out
    assert fake_trainer.calls == []


def test_an_unwritable_store_exits_2_with_a_clear_line(capsys, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("RUN_STORE_DIR", str(tmp_path / "file" / "store"))
    code, _, err = run_cli(capsys, "runs")
    assert code == 2 and "not writable" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["inf", "1e309", "nan", "-3", "lots"])
def test_a_bad_store_size_limit_exits_2_before_any_training(capsys, fake_trainer, monkeypatch, value):
    monkeypatch.setenv("RUN_STORE_MAX_MB", value)
    code, out, err = run_cli(capsys, "compare", "--sample-size", "100", "--epochs", "1")
    assert code == 2 and "RUN_STORE_MAX_MB must be" in err and len(err.strip().splitlines()) == 1
    assert fake_trainer.calls == [] and "Traceback" not in err + out


TINY = {"name": "tiny", "input": "image", "description": "four filters",
        "layers": [{"type": "conv", "filters": 4, "kernel_size": 3}, {"type": "pool", "size": 2}, {"type": "flatten"}]}


def test_a_network_file_trains_beside_named_ones_and_is_saved_for_later(capsys, fake_trainer, tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    code, out, _ = run_cli(capsys, "compare", "--architectures", "conv-small", "--architecture-file", str(path),
                           "--sample-size", "100", "--epochs", "1", "--json")
    records = json.loads(out)
    assert code == 0 and [record["architecture"] for record in records] == ["conv-small", "tiny"]
    assert [record["params"] for record in records] == [42_542, 6_810]
    code, out, _ = run_cli(capsys, "compare", "--architectures", "tiny", "--sample-size", "100", "--epochs", "1")
    assert code == 0 and compare_table(out)[-1].split()[0] == "tiny" and compare_table(out)[-1].endswith("cached")
    assert len(fake_trainer.calls) == 2


def test_architectures_lists_presets_and_saved_networks_with_their_parameters(capsys, tmp_path):
    from core.architectures import ArchitectureSpec

    RunStore().save_network(ArchitectureSpec.from_dict(TINY))
    code, out, _ = run_cli(capsys, "architectures")
    lines = out.splitlines()
    assert code == 0
    assert [line.split()[:2] for line in lines[0::2]] == [["flat", "42,310"], ["conv", "600,810"],
                                                          ["flat-wide", "600,247"], ["conv-small", "42,542"],
                                                          ["flat-dropout", "42,310"], ["tiny", "6,810"]]
    assert "Capacity matched" in lines[4] and "yours" in lines[10] and "Conv 4 3×3 relu" in lines[11]
    code, out, _ = run_cli(capsys, "architectures", "--json")
    listed = json.loads(out)
    assert [row["kind"] for row in listed] == ["preset"] * 5 + ["yours"]
    assert ArchitectureSpec.from_dict(listed[-1]["spec"]) == ArchitectureSpec.from_dict(TINY)


@pytest.mark.parametrize("content, message", [
    ("{nope", "is not a usable network: Not valid JSON"),
    (json.dumps({**TINY, "layers": [{"type": "dense", "units": 0}]}), "units must be a whole number from 1"),
    (json.dumps({**TINY, "layers": [{"type": "conv", "filters": 8, "kernel_size": 28},
                                    {"type": "pool", "size": 2}, {"type": "flatten"}]}),
     "needs an image of at least 2×2 pixels"),
    (json.dumps({**TINY, "layers": [{"type": "flatten"}, {"type": "dropout", "rate": 1}]}), "at least 0 and below 1"),
    (json.dumps({**TINY, "input": "vector", "layers": [{"type": "dense", "units": 4000}] * 2}),
     "is over the limit of 5,000,000"),
    (json.dumps({**TINY, "name": "conv"}), "a preset's name"),
])
def test_a_bad_network_file_exits_2_with_one_line_and_saves_nothing(capsys, fake_trainer, tmp_path, content, message):
    path = tmp_path / "net.json"
    path.write_text(content)
    code, out, err = run_cli(capsys, "compare", "--architecture-file", str(path))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert fake_trainer.calls == [] and RunStore().saved_networks() == {}


def test_study_pairs_bring_their_networks_into_the_study(capsys, fake_trainer):
    code, out, _ = run_cli(capsys, "study", "--pairs", "conv:flat-wide", "--sizes", "100", "--seeds", "2",
                           "--epochs", "1", "--json")
    report = json.loads(out)
    assert code == 0 and {cell["architecture"] for cell in report["cells"]} == {"flat", "conv", "flat-wide"}
    assert [(gap["first"], gap["second"]) for gap in report["gaps"]] == [("conv", "flat-wide")]
    assert report["verdicts"]["capacity"].startswith("Convolution or capacity? Convolution")


@pytest.mark.parametrize("target, message", [
    (lambda tmp_path: str(tmp_path), "it is a folder; give a file name"),
    (lambda tmp_path: "/proc/self/cells.csv", "Cannot write /proc/self/cells.csv"),
    (lambda tmp_path: str(tmp_path / "missing" / "cells.csv"), "does not exist"),
])
def test_an_unwritable_study_csv_is_refused_before_any_training(capsys, fake_trainer, tmp_path, target, message):
    code, _, err = run_cli(capsys, "study", "--sizes", "100", "--seeds", "1", "--epochs", "1",
                           "--csv", target(tmp_path))
    assert code == 2 and message in err and fake_trainer.calls == []


def test_a_csv_that_fails_after_training_still_prints_the_results(capsys, fake_trainer, tmp_path, monkeypatch):
    import pandas as pd

    def disk_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    code, out, err = run_cli(capsys, "study", "--sizes", "100", "--seeds", "1", "--epochs", "1",
                             "--csv", str(tmp_path / "cells.csv"))
    assert code == 1 and "The answer: " in out and "H1: does each network reach at least 80%?" in out
    assert "could not write" in err and "No space left on device" in err and "every cell is in the store" in err
    assert not (tmp_path / "cells.csv").exists()  # the up-front check left no empty file behind


def test_runs_lists_the_store_beside_a_stray_folder(capsys, fake_trainer):
    run_cli(capsys, "compare", "--architectures", "flat", "--sample-size", "100", "--epochs", "1")
    (RunStore().root / "runs" / "backup.old").mkdir()
    code, out, _ = run_cli(capsys, "runs")
    assert code == 0 and "flat" in out


def test_robustness_trains_or_reopens_then_prints_accuracy_per_perturbation_and_level(capsys, fake_trainer):
    code, out, err = run_cli(capsys, "robustness", "--sample-size", "100", "--epochs", "1",
                             "--perturbations", "shift", "noise")
    assert code == 0 and len(fake_trainer.calls) == 2
    assert "trained with the student recipe" in out
    lines = [line for line in out.splitlines() if "%" in line and "Shifted" not in line]
    assert len(lines) == 10  # 5 shift levels + 5 noise levels, a column per network
    assert lines[0].split()[:2] == ["shift", "shifted"]
    assert out.rstrip().splitlines()[-1].startswith("Shifted by 3 pixels: flat")
    assert err.count("robustness of") == 2 and "computed" in err
    code, out, err = run_cli(capsys, "robustness", "--sample-size", "100", "--epochs", "1",
                             "--perturbations", "shift", "noise", "--json")
    report = json.loads(out)
    assert code == 0 and len(fake_trainer.calls) == 2 and err.count("from the store") == 2
    assert set(report["runs"]) == {"flat", "conv"} and len(report["runs"]["conv"]["accuracy"]) == 10
    assert report["recipe"] == "student"


def test_robustness_refuses_an_unknown_perturbation_before_training(capsys, fake_trainer):
    code, _, err = run_cli(capsys, "robustness", "--perturbations", "blur")
    assert code == 2 and fake_trainer.calls == [] and "invalid choice: 'blur'" in err


@pytest.mark.parametrize("argv, message", [
    (["--ray-address", "127.0.0.1:6379"], "--ray-address only applies with --executor ray"),
    (["--cpus-per-cell", "2", "--gpus-per-cell", "1"], "--cpus-per-cell, --gpus-per-cell only applies"),
    (["--executor", "dask"], "invalid choice: 'dask'"),
])
def test_ray_options_without_the_ray_executor_are_usage_errors(capsys, fake_trainer, argv, message):
    code, _, err = run_cli(capsys, "study", "--sizes", "100", "--seeds", "1", *argv)
    assert code == 2 and message in err and fake_trainer.calls == []


def test_a_ray_cluster_nobody_answers_at_is_one_clear_line_within_seconds(capsys, fake_trainer):
    pytest.importorskip("ray")
    code, _, err = run_cli(capsys, "study", "--sizes", "100", "--seeds", "1", "--executor", "ray",
                           "--ray-address", "127.0.0.1:9")
    assert code == 1 and fake_trainer.calls == []
    assert err.strip().splitlines()[-1].startswith("error: Nothing answers at 127.0.0.1:9")


def test_compare_trains_with_the_averaged_recipe_then_serves_it_from_the_store(capsys, fake_trainer):
    argv = ("compare", "--recipe", "averaged", "--sample-size", "100", "--epochs", "1", "--json")
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0 and {config.recipe for config in fake_trainer.calls} == {"averaged"}
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0 and len(fake_trainer.calls) == 2  # reopened, not trained again
    assert {row["recipe"] for row in json.loads(out)} == {"averaged"}


def test_a_ray_option_given_at_its_default_value_is_still_known_as_given(capsys, fake_trainer):
    """Issue 29: the CLI compared the options with copied defaults, so `--retries 2` without Ray passed unseen."""
    code, _, err = run_cli(capsys, "study", "--sizes", "100", "--seeds", "1", "--retries", "2")
    assert code == 2 and "--retries only applies with --executor ray" in err and fake_trainer.calls == []


def test_a_bad_study_setting_saves_no_network_file(capsys, fake_trainer, tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    code, _, err = run_cli(capsys, "study", "--architecture-file", str(path), "--sizes", "100", "5000")
    assert code == 2 and "larger than the 4,000" in err
    assert RunStore().saved_networks() == {} and fake_trainer.calls == []
