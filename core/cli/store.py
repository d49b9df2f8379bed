"""`python -m core runs` (list, copy), `architectures` and `server`: what the store and this machine hold."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core import formats
from core.architectures import PRESETS
from core.runs import RunStore
from core.safe_text import plain
from core.cli.arguments import UsageError
from core.cli.compare import megabytes


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
        "images": "{:,}".format, "accuracy": formats.percent, "trained in": formats.seconds, "peak_MB": megabytes}))
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
