"""Headless command line: `python -m core compare|study|runs|architectures|class-digits ...`.

Bad arguments exit with status 2 and one line on stderr; no traceback reaches the user. Here: the parser and
`main`, which runs a command and turns what it raises into that one line. arguments.py: the shared options and
the networks chosen; compare.py: compare, robustness; study.py: study; store.py: runs (list, copy),
architectures, server; core/class_digits/cli.py: class-digits.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from core import settings
from core.class_digits import cli as class_digits_cli
from core.cli.arguments import (OneLineParser, UsageError, add_run_arguments, add_settings, given,
                                ray_address_arg)
from core.cli.compare import compared, run_compare, run_robustness
from core.cli.store import run_architectures, run_runs, run_server
from core.cli.study import run_study_command
from core.data import DataUnavailable
from core.perturb import DEFAULT_PERTURBATIONS, PERTURBATIONS
from core.runs import StoreError
from core.safe_text import plain
from core.study.spec import StudySpec

__all__ = ["OneLineParser", "UsageError", "add_settings", "build_parser", "given", "main"]


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
                "class-digits": lambda args: class_digits_cli.run(args, compared)}[args.command](args)
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
