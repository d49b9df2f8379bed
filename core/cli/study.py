"""`python -m core study`: the study's missing cells trained (here or on Ray), then its answer, the verdict
tables and the numbers behind them; --csv and --report written after the results are out."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core import formats, settings
from core.data import load_dataset
from core.runs import InProcessExecutor, RunStore, RunsService
from core.settings import THRESHOLD
from core.study.spec import StudySpec
from core.cli.arguments import DEFAULTS, UsageError, chosen_networks, given, save_networks
from core.cli.compare import progress_printer


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
                  on_epoch=progress_printer("  "))
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
