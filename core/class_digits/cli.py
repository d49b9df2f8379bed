"""`python -m core class-digits list | export FILE.npz --class CODE | import FILE.npz --class CODE |
evaluate --class CODE [--architectures flat conv --sample-size N --epochs N --seed N ...] [--json]`.

The class sets are those of the run store the CLI uses (RUN_STORE_URL, else RUN_STORE_DIR). `evaluate` trains (or
reopens) one run per network exactly as `compare` does, then asks each about the class's digits in this process
and prints the verdict's sentence (or, with --json, each network's run id, accuracy on the set and MNIST test
accuracy, and the McNemar result). Bad input is a ValueError: one line on stderr, exit status 2 (core/cli.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from core import formats
from core.class_digits.limits import check_class_code
from core.class_digits.networks import describe, predicted_labels
from core.class_digits.npz import read_npz, write_npz
from core.class_digits import digit_store
from core.class_digits.verdict import evaluate
from core.runs import RunStore

ACTIONS = ("list", "export", "import", "evaluate")


def add_parser(subparsers, add_run_arguments: Callable) -> None:
    """The `class-digits` command on core/cli.py's subparsers; `add_run_arguments` adds what makes a run (the
    settings `compare` takes, and --json) to `evaluate`."""
    command = subparsers.add_parser("class-digits", help="a class's own handwritten digits: list the sets, export "
                                    "or import one as .npz, or evaluate networks on one")
    actions = command.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every class set in the store and how many digits it holds")
    listing.add_argument("--json", action="store_true")
    for name, verb in (("export", "write the set to"), ("import", "add the digits of")):
        action = actions.add_parser(name, help=f"{verb} FILE.npz: x (N, 28, 28) uint8 white ink on black, y (N,) "
                                    "labels 0-9 (keras.datasets.mnist's layout)")
        action.add_argument("file", metavar="FILE.npz")
        action.add_argument("--class", dest="class_code", required=True, metavar="CODE",
                            help="the class code (letters, digits and dashes), as in the page's ?class=CODE")
    evaluate = actions.add_parser("evaluate", help="train (or reopen) each network, then its accuracy on the set, "
                                  "conv − flat with a paired 95%% CI and McNemar's test")
    evaluate.add_argument("--class", dest="class_code", required=True, metavar="CODE")
    add_run_arguments(evaluate)


def run(args, compared: Callable) -> int:
    """Carry out the action; `compared(args)` is core/cli.py's (dataset, outcomes) for the run settings given."""
    store = RunStore()
    digits = digit_store(store)
    if args.action == "list":
        sets = digits.sets()
        if args.json:
            print(json.dumps(sets, indent=2))
        elif not sets:
            print(f"No class sets in the store {store.where()}: draw digits on the Our digits page, or "
                  f"`class-digits import FILE.npz --class CODE`.")
        else:
            for code, count in sets.items():
                print(f"{code:<34}{count:>7,} digits")
        return 0
    code = check_class_code(args.class_code)
    if args.action == "import":
        x, y = read_npz(args.file)
        ids = digits.add_many(code, y, x)
        print(f"added {len(ids):,} digits to class {code} (it now holds {sum(digits.counts(code)):,}).")
        return 0
    class_set = digits.read(code)
    if not len(class_set):
        raise ValueError(f"class {code} has no digits in the store {store.where()}")
    if args.action == "export":
        write_npz(args.file, class_set.images, class_set.labels)
        print(f"wrote {len(class_set):,} digits of class {code} to {args.file}")
        return 0
    return _evaluate(args, class_set, compared)


def _evaluate(args, class_set, compared: Callable) -> int:
    dataset, outcomes = compared(args)
    runs = [outcome.run for outcome in outcomes]
    not_mnist = [run.run_id for run in runs if run.config.dataset != "mnist"]
    if not_mnist:
        raise ValueError("a class draws handwritten digits: evaluate runs trained on MNIST (--dataset mnist)")
    predictions = {run.run_id: predicted_labels(run.load_model(), class_set.images, run.config.pixels)
                   for run in runs}
    verdict = evaluate(class_set.labels, describe(runs), predictions)
    if args.json:
        print(json.dumps(as_record(verdict, class_set.code), indent=2))
        return 0
    for result in verdict.networks:
        print(f"{result.network.label:<24} class set {formats.percent(result.accuracy):>6} (95% CI "
              f"{formats.percent(result.low)} to {formats.percent(result.high)})   MNIST test "
              f"{formats.percent(result.network.mnist_accuracy):>6}   vs MNIST {formats.points(result.versus_mnist)}")
    print(verdict.sentence)
    return 0


def as_record(verdict, code: str) -> dict:
    """The verdict as JSON-friendly values: the set, each network, the pair's difference and McNemar's test."""
    def number(value) -> float | None:
        return None if value != value else round(float(value), 6)

    record = {"class": code, "num_digits": verdict.num_digits, "sentence": verdict.sentence, "networks": [
        {"label": result.network.label, "run_id": result.network.run_id, "accuracy": number(result.accuracy),
         "ci_low": number(result.low), "ci_high": number(result.high),
         "mnist_accuracy": number(result.network.mnist_accuracy),
         "accuracy_per_label": [number(value) for value in result.per_label]} for result in verdict.networks]}
    paired = verdict.paired
    if paired is not None:
        record["difference"] = {"first": paired.first.network.label, "second": paired.second.network.label,
                                "accuracy_difference": number(paired.difference), "ci_low": number(paired.low),
                                "ci_high": number(paired.high)}
        record["mcnemar"] = {"only_first_right": paired.mcnemar.only_first_right,
                             "only_second_right": paired.mcnemar.only_second_right,
                             "p_value": number(paired.mcnemar.p_value)}
    return record
