"""`python -m core compare` and `robustness`: one run per network (trained or reopened), the table and the
answer in words."""

from __future__ import annotations

import json
import sqlite3
import sys

from core import formats, settings
from core.config import configs_for
from core.data import load_dataset
from core.evaluation import comparison_table
from core.perturb import PERTURBATIONS
from core.pixels import arm_label
from core.records import EpochReport
from core.runs import RunStore, RunsService, StoreError
from core.cli.arguments import DEFAULTS, chosen_networks, given, save_networks


def run_compare(args) -> int:
    from core.answers import compare_answer, study_command, study_words

    dataset, outcomes = compared(args)
    table = comparison_table(outcomes)
    if args.json:
        print(json.dumps(_records(table, outcomes), indent=2))
        return 0
    names = settings.run_labels([outcome.run.config for outcome in outcomes])  # as the pages name them
    print(_format_table(table.rename(columns={"architecture": "network"}).assign(network=names)))
    try:  # the answer, as the Compare page opens its results; the other seeds from one listing of the store
        accuracies = {row["run_id"]: row["test_accuracy"] for row in RunStore().list_runs()}
    except (StoreError, sqlite3.Error, OSError):  # the results are printed: the answer goes by these runs alone
        accuracies = {}
    sentences, study = compare_answer([outcome.run for outcome in outcomes], accuracies, dataset.pool_size)
    print("\n" + " ".join(sentences))
    print(f"The study settles it ({study_words(study)}): {study_command(study)}")
    return 0


def run_robustness(args) -> int:
    from core.robustness import measure

    dataset, outcomes = compared(args)
    labels = settings.run_labels([outcome.run.config for outcome in outcomes])
    tables = {}
    for label, outcome in zip(labels, outcomes):
        measured = measure(outcome.run, dataset, names=args.perturbations)
        print(f"robustness of {label}: {'computed' if measured.computed else 'from the store'}", file=sys.stderr)
        tables[label] = measured.table(dataset.y_test, names=args.perturbations)
    recipe = outcomes[0].run.config.recipe
    if args.json:
        print(json.dumps({"data_source": dataset.source, "recipe": recipe, "runs": {
            label: {"run_id": outcome.run.run_id, "accuracy": table.to_dict(orient="records")}
            for (label, table), outcome in zip(tables.items(), outcomes)}}, indent=2))
        return 0
    import pandas as pd

    long = pd.concat(tables, names=["network"]).reset_index(level=0)
    long["order"] = long["perturbation"].map({name: position for position, name in enumerate(args.perturbations)})
    long = long.sort_values(["order", "level"], kind="stable")
    long["level"] = [PERTURBATIONS[name].describe(level) for name, level in zip(long["perturbation"], long["level"])]
    wide = long.pivot_table(index=["perturbation", "level"], columns="network", values="accuracy", sort=False)
    print(f"Accuracy on perturbed test digits (trained with the {recipe} recipe):")
    print(wide[list(tables)].to_string(float_format=lambda value: f"{value:.1%}"))
    if "shift" in args.perturbations:
        from core.robustness import sentence

        print(sentence(tables))
    return 0


def compared(args):
    """The dataset and one outcome per network (trained now or reopened), as `compare` prints them."""
    service = RunsService(RunStore())
    asked = given(args, settings.RUN)
    asked.pop("architectures", None)  # chosen_networks reads them, with the files
    dataset = load_dataset(asked.pop("dataset", DEFAULTS.dataset))
    networks, from_files = chosen_networks(args, service.store)
    configs = configs_for(dataset, networks, asked.pop("sample_size", DEFAULTS.sample_size), **asked)
    save_networks(service.store, from_files)  # once the settings are known to be good
    print(f"data: {dataset.source}", file=sys.stderr if args.json else sys.stdout)

    outcomes = []
    for config in configs:
        outcome = service.get_or_train(config, dataset, on_epoch=progress_printer(arm_label(config.architecture,
                                                                                              config.pixels)))
        if outcome.problem:
            print(f"warning: stored run {outcome.run.run_id} was broken ({outcome.problem}); retrained it",
                  file=sys.stderr)
        outcomes.append(outcome)
    return dataset, outcomes


def _records(table, outcomes) -> list[dict]:
    records = []
    for row, outcome in zip(table.to_dict(orient="records"), outcomes):
        run = outcome.run
        records.append({**row, "peak_memory_mb": run.peak_memory_mb, "run_id": run.run_id,
                        "model_path": str(run.model_path),
                        "dataset": run.config.dataset, "sample_size": run.config.sample_size,
                        "num_epochs": run.config.num_epochs, "epochs_run": len(run.history.get("loss", [])),
                        "seed": run.config.seed, "recipe": run.config.recipe,
                        "precision": run.config.precision, "pixels": run.config.pixels,
                        "data_source": run.data_source, "trained_at": run.trained_at})
    return records


def progress_printer(architecture: str):
    def report(progress: EpochReport) -> None:
        metrics = "  ".join(f"{key} {formats.percent(value) if 'accuracy' in key else formats.loss(value)}"
                            for key, value in progress.metrics.items())
        print(f"  {architecture:<10} epoch {progress.epoch:>3}/{progress.num_epochs}  {metrics}  "
              f"{progress.seconds:.2f}s", file=sys.stderr, flush=True)
    return report


def _format_table(table) -> str:
    shown = table.rename(columns={"test_accuracy": "accuracy", "test_loss": "loss", "train_seconds": "train_s",
                                  "seconds_per_epoch": "s/epoch", "inference_ms_per_image": "ms/image",
                                  "peak_memory_mb": "peak_MB"})
    return shown.to_string(index=False, formatters={  # the pages' formats (core/formats.py), without the unit
        "params": "{:,}".format, "accuracy": formats.percent, "loss": formats.loss,
        "train_s": lambda value: formats.seconds(value).removesuffix(" s"),
        "s/epoch": "{:.3f}".format, "ms/image": "{:.4f}".format,
        "peak_MB": megabytes})


def megabytes(value) -> str:
    """Peak memory in whole MB; '-' for runs stored before it was recorded or where it cannot be read."""
    return "-" if value is None or value != value else f"{value:,.0f}"
