"""Headless command line: `python -m core compare|study|runs|architectures|class-digits ...`.

Bad arguments exit with status 2 and one line on stderr; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from core.glossary import with_term
from core import settings
from core.class_digits import cli as class_digits_cli
from core.architectures import DEFAULT_ARCHITECTURES, PRESETS, ArchitectureSpec, check_own_name
from core.config import TrainConfig, configs_for
from core.data import DataUnavailable, load_dataset
from core.evaluation import comparison_table
from core.perturb import DEFAULT_PERTURBATIONS, PERTURBATIONS
from core import formats
from core.runs import InProcessExecutor, RunStore, RunsService, StoreError
from core.safe_text import plain
from core.settings import Setting, SettingError
from core.settings import THRESHOLD
from core.study.spec import StudySpec
from core.records import EpochReport

DEFAULTS = TrainConfig()


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see: {self.prog} --help)")


def setting_arg(setting: Setting):
    """argparse's `type` for a declared setting: its one parser (core/settings.py), its error as argparse's."""
    def parse(text: str):
        try:
            return setting.parse(text)
        except SettingError as error:
            raise argparse.ArgumentTypeError(str(error).rstrip(".")) from None
    parse.__name__ = setting.name
    return parse


def add_settings(command, declared: tuple, owner) -> None:
    """An option per declared setting with a flag (core/settings.py), its help ending in the default `owner`
    (TrainConfig or StudySpec) declares. Every
    default is None: a flag not given leaves TrainConfig's or StudySpec's default, and `given` tells which were."""
    for setting in declared:
        if not setting.flag:
            continue
        shown = setting.cli_help(settings.declared_default(setting, owner), with_term(setting.help, setting.term))
        options = {"dest": setting.name, "default": None, "metavar": setting.metavar,
                   "help": shown.replace("%", "%%")}  # argparse formats help with %
        if setting.kind == "choice":
            options["choices"] = list(setting.choices)
        else:
            options["type"] = setting_arg(setting)
        if setting.many:
            options["nargs"] = "+"
        command.add_argument(setting.flag, **options)
        if setting is settings.ARCHITECTURES:
            command.add_argument("--architecture-file", action="append", default=[], metavar="PATH",
                                 help=ARCHITECTURE_FILE_HELP)


def given(args, declared: tuple) -> dict:
    """The settings given on the command line, as TrainConfig's or StudySpec's fields take them."""
    return {setting.name: setting.to_field(getattr(args, setting.name)) for setting in declared
            if setting.flag and getattr(args, setting.name, None) is not None}


def ray_address_arg(text: str) -> str:
    """A Ray address checked before anything runs (core/runs/ray_executor.py: host, port from 1 to 65535)."""
    from core.runs.ray_executor import parse_address

    try:
        parse_address(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


ARCHITECTURE_FILE_HELP = ("a network spec in JSON (name, input, layers; see README), trained alongside "
                          "--architectures and saved in the store for the app; may be repeated")


def add_run_arguments(command) -> None:
    """What makes a run: shared by compare and robustness."""
    add_settings(command, settings.RUN, TrainConfig)
    command.add_argument("--json", action="store_true", help="print JSON instead of a table")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m core",
                           description="Train and compare the flat and convolutional networks on MNIST.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    compare = commands.add_parser("compare", help="train (or reopen) one run per architecture and compare")
    add_run_arguments(compare)

    robustness = commands.add_parser("robustness", help="train (or reopen) the runs, then their accuracy on "
                                     "shifted, rotated, scaled, noisy or distorted test digits")
    add_run_arguments(robustness)
    robustness.add_argument("--perturbations", nargs="+", choices=list(PERTURBATIONS),
                            default=list(DEFAULT_PERTURBATIONS), metavar="NAME",
                            help="any of " + ", ".join(PERTURBATIONS) + " (default: "
                            + " ".join(DEFAULT_PERTURBATIONS) + ")")

    study = commands.add_parser("study", help="accuracy against sample size over seeds, with verdicts")
    add_settings(study, settings.STUDY, StudySpec)
    study.add_argument("--json", action="store_true")
    study.add_argument("--csv", metavar="PATH", help="also write every cell to this CSV file")
    study.add_argument("--executor", choices=["in-process", "ray"], default="in-process",
                       help="where the cells train: this process, one after another (default), or a Ray cluster")
    study.add_argument("--ray-address", metavar="HOST:PORT", type=ray_address_arg,
                       help="the Ray cluster to join (default: RAY_ADDRESS, "
                       "else a new local Ray on this machine, one cell per CPU)")
    study.add_argument("--cpus-per-cell", type=float, help="CPUs each cell declares (and TensorFlow's "
                       "threads inside it; default 1)")
    study.add_argument("--gpus-per-cell", type=float, help="GPUs each cell declares (default 0)")
    study.add_argument("--retries", type=int, help="retries of a cell whose worker died (default 2)")
    study.add_argument("--report", metavar="PATH", help="also write the study as one HTML file (verdicts, "
                       "interactive charts, tables, data source, versions) that opens offline")

    runs = commands.add_parser("runs", help="list the runs in the store, or copy a store into another")
    runs.add_argument("action", nargs="?", choices=["list", "copy"], default="list",
                      help="list (default): the runs in the store (RUN_STORE_URL, else RUN_STORE_DIR); copy: every "
                           "run and saved network from --from into --to, verified, resumable, idempotent")
    runs.add_argument("--from", dest="source", metavar="PATH_OR_URL", help="copy: the store to copy from (a folder, "
                      "or postgresql+psycopg://USER:PASSWORD@HOST/DB)")
    runs.add_argument("--to", dest="target", metavar="PATH_OR_URL", help="copy: the store to copy into")
    runs.add_argument("--json", action="store_true")

    networks = commands.add_parser("architectures", help="list the networks: presets and your saved ones")
    networks.add_argument("--json", action="store_true")

    server = commands.add_parser("server", help="what this machine gives the app (memory limit, CPUs) and the server "
                                 "settings in force (memory budget, workers, threads), each with where it came from")
    server.add_argument("--json", action="store_true")
    class_digits_cli.add_parser(commands, add_run_arguments)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # argparse says this at the top level, whose --help does not list the command's options
            raise UsageError(f"unrecognized arguments: {' '.join(unknown)} (see: {parser.prog} {args.command} --help)")
        return {"compare": run_compare, "study": run_study_command, "runs": run_runs,
                "architectures": run_architectures, "robustness": run_robustness,
                "server": run_server,
                "class-digits": lambda args: class_digits_cli.run(args, _compared)}[args.command](args)
    except UsageError as error:
        print(f"error: {plain(error, 500)}", file=sys.stderr)
        return 2
    except ValueError as error:  # a config, a sample size or a store setting (StoreSettingError) a user can fix
        print(f"error: {plain(error, 500)}", file=sys.stderr)
        return 2
    except (DataUnavailable, StoreError, ConnectionError) as error:  # ConnectionError: a Ray cluster not reached
        print(f"error: {plain(error, 500)}", file=sys.stderr)
        return 1
    except sqlite3.Error as error:  # the store's index (SQLite) on a full or read-only disk
        print(f"error: the store's index could not be used ({plain(error, 200)}); runs that finished are stored.",
              file=sys.stderr)
        return 1
    except OSError as error:  # a disk full or a store folder that cannot be written: what landed is kept
        where = f" ({plain(error.filename, 200)})" if error.filename else ""
        print(f"error: could not write to the store{where}: {error.strerror or type(error).__name__}. Nothing "
              f"partial was kept; runs that finished are stored.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the run in progress was not stored; finished runs are kept.", file=sys.stderr)
        return 130


def read_network_file(path: str) -> ArchitectureSpec:
    """Bounded and total (core/spec_files.py): whatever is wrong with the file is one line, exit 2."""
    from core.spec_files import read_spec

    try:
        return read_spec(path)
    except ValueError as error:
        raise UsageError(str(error)) from None


def chosen_networks(args, store: RunStore, also: tuple = ()) -> tuple[list[ArchitectureSpec], list[ArchitectureSpec]]:
    """(networks, files' networks): --architectures (default: flat conv) and the names in `also`, resolved against
    the presets and the saved networks, then each --architecture-file's network. Save the files' networks with
    `save_networks` once the settings are checked: the app finds them in the store."""
    from_files = {spec.name: spec for spec in map(read_network_file, args.architecture_file)}
    for name in from_files:
        check_own_name(name)
    names = list(args.architectures or (() if from_files else DEFAULT_ARCHITECTURES)) + list(also)
    networks = store.resolve_networks([name for name in dict.fromkeys(names) if name not in from_files])
    return networks + list(from_files.values()), list(from_files.values())


def save_networks(store: RunStore, networks: list[ArchitectureSpec]) -> None:
    for spec in networks:
        store.save_network(spec)


def run_compare(args) -> int:
    from core.answers import compare_answer, study_command, study_words

    dataset, outcomes = _compared(args)
    table = comparison_table(outcomes)
    print(json.dumps(_records(table, outcomes), indent=2) if args.json else _format_table(table))
    if not args.json:  # the answer, as the Compare page opens its results
        try:  # the other seeds of the same settings, from one listing of the store
            accuracies = {row["run_id"]: row["test_accuracy"] for row in RunStore().list_runs()}
        except (StoreError, sqlite3.Error, OSError):  # the results are printed: the answer goes by these runs alone
            accuracies = {}
        sentences, study = compare_answer([outcome.run for outcome in outcomes], accuracies, dataset.pool_size)
        print("\n" + " ".join(sentences))
        print(f"The study settles it ({study_words(study)}): {study_command(study)}")
    return 0


def run_robustness(args) -> int:
    from core.robustness import measure

    dataset, outcomes = _compared(args)
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


def _compared(args):
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
        outcome = service.get_or_train(config, dataset, on_epoch=_progress_printer(config.architecture))
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


def _progress_printer(architecture: str):
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
        "peak_MB": _megabytes})


def _megabytes(value) -> str:
    """Peak memory in whole MB; '-' for runs stored before it was recorded or where it cannot be read."""
    return "-" if value is None or value != value else f"{value:,.0f}"


def run_runs(args) -> int:
    if args.action == "copy":
        return run_copy(args)
    if args.source or args.target:
        raise UsageError("--from and --to go with `runs copy`")
    rows = RunStore().list_runs()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("The store is empty: train something with `python -m core compare`.")
        return 0
    import pandas as pd

    columns = ["run_id", "dataset", "architecture", "pixels", "sample_size", "num_epochs", "seed", "recipe",
               "precision", "test_accuracy", "train_seconds", "peak_memory_mb", "trained_at"]
    rows = [{**row, "pixels": json.loads(row.get("config_json") or "{}").get("pixels", "drawn")} for row in rows]
    table = pd.DataFrame(rows, columns=columns).rename(columns={
        "sample_size": "images", "num_epochs": "epochs", "test_accuracy": "accuracy", "train_seconds": "trained in",
        "peak_memory_mb": "peak_MB"})
    print(table.to_string(index=False, formatters={  # the pages' formats (core/formats.py)
        "images": "{:,}".format, "accuracy": formats.percent, "trained in": formats.seconds, "peak_MB": _megabytes}))
    return 0


def run_copy(args) -> int:
    """`runs copy --from A --to B`: one line per run on stderr, a summary on stdout (JSON with --json); exit 1
    when a run could not be copied (the others are)."""
    from core.runs.backend import is_database_url
    from core.runs.copy import copy_store

    if not args.source or not args.target:
        raise UsageError("runs copy needs --from PATH_OR_URL and --to PATH_OR_URL")
    if args.source == args.target:
        raise UsageError("--from and --to name the same store")
    if not is_database_url(args.source) and not (Path(args.source).expanduser() / "runs").is_dir():
        raise UsageError(f"--from {args.source}: no run store there (a folder store has a runs/ folder)")
    source, target = RunStore(args.source), RunStore(args.target)
    if source.location == target.location or (source.root and target.root and
                                               source.root.resolve() == target.root.resolve()):
        raise UsageError("--from and --to name the same store")
    print(f"copying runs and networks from the store {source.where()} to the store {target.where()}",
          file=sys.stderr, flush=True)
    report = copy_store(source, target, on_run=lambda run_id, what: print(f"  {run_id}: {what}", file=sys.stderr,
                                                                             flush=True))
    summary = {"copied": len(report.copied), "already_there": len(report.present), "broken": report.broken,
               "failed": report.failed, "networks_copied": report.networks,
               "networks_left_alone": report.networks_kept, "megabytes_copied": round(report.bytes_copied / 1024**2, 2)}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"copied {len(report.copied)} runs ({summary['megabytes_copied']:,} MB) and {len(report.networks)} "
              f"saved networks; {len(report.present)} runs were already there.")
        if report.networks_kept:
            print(f"left alone: the target has different networks named {', '.join(report.networks_kept)}.")
    not_copied = {**report.broken, **report.failed}
    if not_copied:
        print(f"error: {formats.count(len(not_copied), 'run')} could not be copied (the others were): "
              + "; ".join(f"{run_id}: {why}" for run_id, why in not_copied.items()), file=sys.stderr)
        return 1
    return 0


def run_architectures(args) -> int:
    networks = RunStore().networks()  # a saved network that cannot be used is left out with one logged line
    rows = [{"name": spec.name, "kind": "preset" if spec.name in PRESETS else "yours", "params": spec.num_params,
             "layers": spec.layer_summary(), "description": spec.description, "spec": spec.to_dict()}
            for spec in networks.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['name']:<14} {row['params']:>9,} params  {row['kind']:<6} {plain(row['description'])}")
        print(f"{'':<14} {row['layers']}")
    return 0


def run_server(args) -> int:
    """`server`: the settings the app would run with here (core/server_settings.py); a refused or bounded setting
    is a `warning:` line on stderr (the app uses its default, so this is no error)."""
    from core import server_settings

    checked = server_settings.check(log_problems=False)
    for problem in checked.problems:
        print(f"warning: {plain(problem, 500)}", file=sys.stderr)
    if args.json:
        print(json.dumps({"memory_limit_mb": checked.memory.megabytes, "memory_source": checked.memory.source,
                          "cpus": checked.cpus.count, "cpus_source": checked.cpus.source,
                          "budget_mb": checked.budget_mb, "workers": checked.workers,
                          "threads": {"intra_op": checked.threads[0], "inter_op": checked.threads[1]},
                          "recycle_mb": checked.recycle_mb, "store_max_mb": checked.store_max_mb,
                          "sources": checked.sources, "problems": list(checked.problems),
                          "training": checked.training, "training_off": checked.training_off}, indent=2))
    else:
        print("\n".join(checked.lines()))
    return 0


def run_study_command(args) -> int:
    from core.study import StudyProgress, analyse, pair_arms, run_study

    store = RunStore()
    asked = given(args, settings.STUDY)
    asked.pop("architectures", None)  # chosen_networks reads them, with the files
    dataset = load_dataset(asked.get("dataset", DEFAULTS.dataset))
    if "sample_sizes" in asked:
        asked["sample_sizes"] = tuple(settings.resolve_full(size, dataset.pool_size)
                                      for size in asked["sample_sizes"])
    for path in (args.csv, args.report):
        if path:
            _check_writable(path)
    pair_names, pair_orders = pair_arms(asked.get("pairs", ()))  # a pair's networks and pixels join the study
    if pair_orders:
        asked["pixels"] = tuple(dict.fromkeys([*asked.get("pixels", StudySpec().pixels), *pair_orders]))
    networks, from_files = chosen_networks(args, store, also=pair_names)
    spec = StudySpec(architectures=tuple(networks), **asked)
    configs = spec.configs(dataset.pool_size)
    service = RunsService(store, _executor(args))  # a bad executor option is said before anything is printed
    save_networks(store, from_files)  # once the study is known to be good
    print(f"data: {dataset.source}", file=sys.stderr if args.json else sys.stdout)
    print(f"study: {len(configs)} cells", file=sys.stderr)

    progress = StudyProgress(service.executor.slots)
    try:
        run_study(spec, dataset, service, on_cell=lambda cell: print(progress.line(cell), file=sys.stderr, flush=True),
                  on_epoch=_progress_printer("  "))
    finally:
        service.executor.shutdown()
    report = analyse(spec, dataset, service)
    from core.efficiency import analyse_efficiency, as_records
    from core.study.efficiency_words import efficiency_sentences

    efficiency = analyse_efficiency(report.cells)
    if args.json:
        print(json.dumps({"data_source": dataset.source, "cells": report.cells.to_dict(orient="records"),
                          "summary": report.summary.to_dict(orient="records"),
                          "gaps": report.gaps.to_dict(orient="records"), "verdicts": report.verdicts,
                          "efficiency": {**as_records(efficiency), "sentences": efficiency_sentences(efficiency)}},
                         indent=2, default=float))
    else:
        print_study(report, efficiency)
    written = [(args.csv, lambda path: report.cells.to_csv(path, index=False)),
               (args.report, lambda path: _write_report(report, dataset, path, efficiency))]
    status = 0
    if progress.failures:
        failed = len(progress.failures)
        print(f"error: {formats.count(failed, 'cell')} failed and {'is' if failed == 1 else 'are'} not in the store "
              f"(the others are): " + "; ".join(progress.failures), file=sys.stderr)
        status = 1
    for path, write in written:  # after the results are out: a file that cannot be written now loses nothing else
        if not path:
            continue
        try:
            write(path)
        except OSError as error:
            print(f"error: could not write {path} ({error.strerror or error}); the results are above and "
                  f"every cell is in the store.", file=sys.stderr)
            status = 1
        else:
            print(f"wrote {path}", file=sys.stderr)
    return status


def print_study(report, efficiency) -> None:
    """The study as the Study page says it: the answer, the verdict tables, what their words mean, the further
    answers, then the numbers behind them."""
    from core.report import summary_table, verdict_parts
    from core.study.tables import text

    parts = verdict_parts(report, efficiency)
    print(f"The answer: {parts['summary']}" if parts["summary"] else "Nothing trained yet.")
    for title, table in ((f"H1: does each network reach at least {THRESHOLD:.0%}? (mean accuracy over seeds, 95% CI)",
                          parts["h1"]),
                         ("The differences, first − second (mean over seeds, 95% CI; McNemar's test on one seed)",
                          parts["pairs"])):
        if table is not None:
            print(f"\n{title}\n{text(table)}")
    print()
    for word, meaning in parts["meanings"]:
        print(f"{word}: {meaning}")
    for sentence in ([parts["mcnemar"]] if parts["mcnemar"] else []) + parts["further"]:
        print(sentence)
    print(f"\nEvery network and sample size:\n{summary_table(report.summary).to_string(index=False)}")


def _executor(args):
    """In-process by default; a connected RayExecutor for --executor ray (Ray is imported only then)."""
    ray_only = {"--ray-address": args.ray_address, "--cpus-per-cell": args.cpus_per_cell,
                "--gpus-per-cell": args.gpus_per_cell, "--retries": args.retries}
    if args.executor != "ray":
        given_flags = [flag for flag, value in ray_only.items() if value is not None]
        if given_flags:
            raise UsageError(f"{', '.join(given_flags)} only applies with --executor ray")
        return InProcessExecutor()
    try:
        from core.runs.ray_executor import RayExecutor
    except ImportError as error:
        raise UsageError(f"--executor ray needs Ray installed (pip install -r requirements.txt): {error}") from None
    options = {name: value for name, value in (("cpus_per_cell", args.cpus_per_cell),
                                               ("gpus_per_cell", args.gpus_per_cell),
                                               ("max_retries", args.retries)) if value is not None}
    executor = RayExecutor(args.ray_address, **options)
    try:
        print(executor.connect(), file=sys.stderr, flush=True)
    except BaseException:
        executor.shutdown()
        raise
    return executor


def _write_report(report, dataset, path: str, efficiency=None) -> None:
    from core.report import study_html

    Path(path).expanduser().write_text(study_html(report, dataset, efficiency), encoding="utf-8")


def _check_writable(path: str) -> None:
    """Before any training: the file can be created or appended to (it is removed again if it is new)."""
    target = Path(path).expanduser()
    folder = target.resolve().parent
    if target.is_dir():
        raise ValueError(f"Cannot write {path}: it is a folder; give a file name.")
    if not folder.is_dir():
        raise ValueError(f"Cannot write {path}: the folder {folder} does not exist.")
    existed = target.exists()
    try:
        with open(target, "a"):
            pass
    except OSError as error:
        raise ValueError(f"Cannot write {path} ({error.strerror or error}).") from None
    if not existed:
        target.unlink(missing_ok=True)
