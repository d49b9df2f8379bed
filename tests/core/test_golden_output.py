"""Issue 29: the numbers users see do not change when the code is reorganised. The CLI's output for a tiny
compare and tiny studies (fake trainer, offline digits), the study tables and the run ids of the default and
preset configs are compared with tests/core/golden/cli.json, written by the code before the refactoring.

Times measured by the wall clock (a cell's seconds, the time left) and the machine's name are masked; everything
else is compared character for character. To rewrite the file after an intended change of output:
`UPDATE_GOLDEN=1 python -m pytest tests/core/test_golden_output.py` (and say why in the commit)."""

from __future__ import annotations

import difflib
import json
import os
import platform
import re
from pathlib import Path

from core import cli
from core.architectures import PRESETS
from core.config import TrainConfig, run_id
from core.recipes import RECIPES

GOLDEN = Path(__file__).parent / "golden" / "cli.json"

COMMANDS = {
    "compare": ["compare", "--sample-size", "100", "--epochs", "2"],
    "compare_again_json": ["compare", "--sample-size", "100", "--epochs", "2", "--json"],
    "compare_three": ["compare", "--architectures", "conv", "flat-wide", "flat", "--sample-size", "120", "--epochs",
                      "1", "--seed", "2", "--batch-size", "64", "--recipe", "improved", "--precision", "bfloat16"],
    "study": ["study", "--sizes", "100", "200", "--seeds", "2", "--epochs", "1"],
    "study_json": ["study", "--sizes", "100", "200", "--seeds", "2", "--epochs", "1", "--json"],
    "study_pairs": ["study", "--architectures", "flat", "conv", "--pairs", "flat:conv", "conv-small:flat",
                    "--sizes", "100", "--seeds", "2", "--epochs", "1", "--margin", "3"],
    "study_spatial": ["study", "--pixels", "drawn", "shuffled", "--sizes", "100", "--seeds", "2", "--epochs", "1",
                      "--batch-size", "64"],
}


def masked(text: str, store: str) -> str:
    text = text.replace(store, "<store>")
    text = text.replace(platform.node() or "this machine", "<node>")
    text = re.sub(r"in \d+\.\d s", "in <s> s", text)
    text = re.sub(r"ETA \d+ s", "ETA <s> s", text)
    text = re.sub(r"about \d+ s left", "about <s> s left", text)
    return re.sub(r'"trained_at": "[^"]*"', '"trained_at": "<when>"', text)


def outputs(capsys, store: str) -> dict:
    seen = {}
    for name, argv in COMMANDS.items():
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        seen[name] = {"argv": argv, "status": code, "stdout": masked(out, store), "stderr": masked(err, store)}
    return seen


def run_ids() -> dict:
    """The identities of the default and preset configs, and of each study preset's cells, on a fixed data key."""
    from core.study import CAPACITY_PRESET, SPATIAL_PRESET, STUDENT_PRESET

    ids = {f"{name}/{recipe}": run_id(TrainConfig(architecture=name, recipe=recipe), "golden")
           for name in PRESETS for recipe in RECIPES}
    ids["default"] = run_id(TrainConfig(), "golden")
    for label, preset in (("student", STUDENT_PRESET), ("capacity", CAPACITY_PRESET), ("spatial", SPATIAL_PRESET)):
        ids[f"study/{label}"] = [run_id(config, "golden") for config in preset.configs(60000)]
    return ids


def test_the_cli_output_and_run_ids_are_as_before_the_refactoring(capsys, fake_trainer, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    store = os.environ["RUN_STORE_DIR"]
    seen = {"commands": outputs(capsys, store), "run_ids": run_ids()}
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(seen, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert seen["run_ids"] == expected["run_ids"]
    differing = {f"{name} {part}": "\n".join(difflib.unified_diff(str(expected["commands"][name][part]).splitlines(),
                                                                str(seen["commands"][name][part]).splitlines(),
                                                                lineterm="", n=0))
                 for name in COMMANDS for part in ("argv", "status", "stdout", "stderr")
                 if seen["commands"][name][part] != expected["commands"][name][part]}
    assert not differing, "\n".join(f"{where}:\n{diff}" for where, diff in differing.items())
    assert all(command["status"] == 0 for command in seen["commands"].values())
