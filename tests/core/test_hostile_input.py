"""Issue 30: what a link, a file or a name supplies never takes the CLI down nor speaks in its voice.
Each test is named after what it guards against; the red cases are real failing inputs (tests/data/)."""

import json
import re
from pathlib import Path

import pytest

from core.architectures import ArchitectureSpec
from core.runs import RunStore
from core.runs import jobs as jobs_module
from core.safe_text import echo, literal, plain
from tests.fakes import FakeTrainer

DATA = Path(__file__).resolve().parents[1] / "data"


from tests.core.test_cli import run_cli


# --- 1. shown as text -------------------------------------------------------------------------------

def test_markdown_in_user_text_is_escaped_so_no_link_or_image_survives():
    shown = literal("[Session expired](http://127.0.0.1:29999/phish) ![x](http://127.0.0.1:29999/b.png) :red[x] $x$")
    unescaped = [re.search(rf"(?<!\\){re.escape(syntax)}", shown) for syntax in ("](", "![", ":red[", "$x", "://")]
    assert unescaped == [None] * 5
    assert shown.replace("\\", "") == ("[Session expired](http://127.0.0.1:29999/phish) "
                                       "![x](http://127.0.0.1:29999/b.png) :red[x] $x$")


def test_control_characters_are_stripped_and_long_values_shortened():
    assert plain("a\x1b]0;owned\x07b\u202ec\x00") == "a]0;ownedbc"
    assert len(echo("x" * 10_000)) <= 62 and echo("x" * 10_000).endswith("…'")


def test_a_description_with_terminal_escapes_cannot_be_saved():
    with pytest.raises(ValueError, match="control characters"):
        ArchitectureSpec("esc", "vector", (), "x\x1b]0;owned\x07")
    with pytest.raises(ValueError, match="at most 300"):
        ArchitectureSpec("long", "vector", (), "x" * 301)


def test_the_cli_never_prints_a_descriptions_escape_sequences(capsys, tmp_path):
    store = RunStore()
    (store.root / "networks" / "esc.json").write_text(json.dumps(
        {"name": "esc", "input": "vector", "layers": [], "description": "x\x1b]0;owned\x07 y"}))
    code, out, err = run_cli(capsys, "architectures")
    assert code == 0 and "\x1b" not in out + err and "flat" in out


# --- 2. one bad saved network -------------------------------------------------------------------------

@pytest.mark.parametrize("content", ['{"name": "bad", "input": [], "layers": []}', "[" * 100_000,
                                     '{"name": "bad", "input": "vector", "layers": [{"type": {}}]}', "\xff\xfe"])
def test_one_bad_saved_network_does_not_take_the_cli_down(capsys, fake_trainer, content):
    store = RunStore()
    (store.root / "networks" / "bad.json").write_text(content, encoding="latin-1")
    store.save_network(ArchitectureSpec("good", "vector", ()))
    code, out, _ = run_cli(capsys, "architectures")
    assert code == 0 and "good" in out and "bad" not in out.split()
    code, out, _ = run_cli(capsys, "compare", "--architectures", "flat", "--sample-size", "100", "--epochs", "1")
    assert code == 0 and "flat" in out


# --- 3. spec files that crashed the CLI ------------------------------------------------------------

@pytest.mark.parametrize("path, message", [
    (DATA / "input_list.json", "reads the digit as"),
    (DATA / "layer_str.json", "A layer must be a JSON object"),
    (None, "nested far too deeply"),
    ("/dev/zero", "larger than 64 kB"),
    ("/", "cannot read the network file /: Is a directory"),
])
def test_a_hostile_spec_file_exits_2_with_one_line(capsys, fake_trainer, tmp_path, path, message):
    if path is None:
        path = tmp_path / "deep.json"
        path.write_text("[" * 20_000 + "]" * 20_000)  # within the size limit, beyond Python's recursion
    code, out, err = run_cli(capsys, "compare", "--architecture-file", str(path), "--sample-size", "100")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not fake_trainer.calls and not list((RunStore().root / "networks").glob("*.json"))


@pytest.mark.parametrize("layer", [{"type": ["dense"]}, {"type": {"a": 1}}, {"type": "dense", "units": "8"},
                                   {"type": "dense", "activation": ["relu"]}, {"type": "dense", "units": 1e400}])
def test_spec_values_of_the_wrong_type_are_value_errors_not_crashes(layer):
    with pytest.raises(ValueError):
        ArchitectureSpec.from_dict({"name": "x", "input": "vector", "layers": [layer]})


# --- 8. disk full in the CLI ---------------------------------------------------------------------------

def test_a_run_whose_index_row_cannot_be_written_is_reported_as_landed(capsys, fake_trainer, monkeypatch):
    import sqlite3

    from core.runs.index import RunIndex

    def disk_full(self, run):
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as patched:
        patched.setattr(RunIndex, "put", disk_full)
        code, out, err = run_cli(capsys, "compare", "--architectures", "flat", "--sample-size", "100", "--epochs", "1")
    assert code == 0 and "trained now" in out and "Traceback" not in err
    code, out, _ = run_cli(capsys, "runs")  # the index is reconciled from the store
    assert code == 0 and "flat" in out


def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(capsys, fake_trainer, monkeypatch, tmp_path):
    import errno

    from core import atomic

    path = tmp_path / "net.json"
    path.write_text(json.dumps({"name": "mine", "input": "vector", "layers": []}))
    real_replace = atomic.os.replace

    def full(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    RunStore()  # the store's folders exist before the disk fills
    monkeypatch.setattr(atomic.os, "replace", full)
    code, out, err = run_cli(capsys, "compare", "--architecture-file", str(path), "--sample-size", "100")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "No space left on device" in err
    assert not list((RunStore().root / "networks").iterdir()) and not fake_trainer.calls
    monkeypatch.setattr(atomic.os, "replace", real_replace)


# --- 7. every request costed before it runs (in-process too) ----------------------------------------------

def test_a_network_of_wide_1x1_convolutions_is_refused_in_process_before_it_trains_or_is_prepared(digits, tmp_path,
                                                                                                   monkeypatch):
    from core.layers import Conv, Flatten, MaxPool
    from core.config import TrainConfig
    from core.runs import Budget, InProcessExecutor, OverBudget, RunsService

    prepared = []
    monkeypatch.setattr(jobs_module, "prepare_training", lambda config, dataset: prepared.append(config) or True)
    trainer = FakeTrainer()
    monkeypatch.setattr(jobs_module, "train", trainer)
    wide = ArchitectureSpec("wide", "image", (Conv(1264, 1), Conv(1264, 1), MaxPool(28), Flatten()))  # 1.6M parameters
    assert 1_500_000 < wide.num_params < 5_000_000
    config = TrainConfig.for_network(wide, sample_size=100)
    runs = RunsService(RunStore(tmp_path / "store"), InProcessExecutor(Budget(2400)))
    assert runs.prepare([config], digits) == []
    with pytest.raises(OverBudget, match="choose a smaller network"):
        runs.request(config, digits)
    (finished,) = runs.train_missing([config], digits)  # a study's cell
    assert finished.outcome is None and "OverBudget" in finished.error
    assert trainer.calls == [] and prepared == []


def test_a_name_with_a_right_to_left_override_is_not_quoted_back_as_the_plain_name():
    """Issue 36, degraded 9: "conv" followed by U+202E was quoted back as 'conv' ("'conv' is not a network this app
    knows" about a name that looks known)."""
    assert echo("conv\u202e") == "'conv\\u202e'" and echo("conv\u202e") != echo("conv")
    assert echo("a\x1b[31m") == "'a\\x1b[31m'" and "\x1b" not in echo("a\x1b[31m")
