"""Accuracy at 1,000 MNIST digits: both architectures over 5 seeds, for each recipe.

    python benchmarks/bench_accuracy.py [--seeds 5] [--recipes student improved averaged]
                                        [--precisions float32 bfloat16]

bfloat16 only changes the conv net (its convolutions); the flat net is measured in float32 only.

Runs go through the run store (RUN_STORE_DIR or the default), so a second call reuses them.
"""

from __future__ import annotations

import argparse

import common  # noqa: F401
from common import machine, table

from core.recipes import RECIPES  # no TensorFlow: the recipes are plain data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sample-size", type=int, default=1000)
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES),
                        help="in order: each is compared with the one before it, paired by seed")
    parser.add_argument("--precisions", nargs="+", default=["float32"], choices=["float32", "bfloat16"])
    args = parser.parse_args()

    from core.config import TrainConfig
    from core.data import load_dataset
    from core.stats import mean_ci, paired_difference
    from core.runs import RunStore, RunsService

    dataset, store = load_dataset("mnist"), RunStore()
    rows, conv_accuracies, float32_accuracies = [], {}, {}
    cases = [(recipe, architecture, precision) for recipe in args.recipes for precision in args.precisions
             for architecture in ("flat", "conv") if architecture == "conv" or precision == "float32"]
    for recipe_name, architecture, precision in cases:
        runs = [RunsService(store).get_or_train(TrainConfig(architecture=architecture, sample_size=args.sample_size,
                                               seed=seed, recipe=recipe_name, precision=precision),
                                   dataset).run for seed in range(args.seeds)]
        accuracy = mean_ci([run.test_accuracy for run in runs])
        if architecture == "conv":
            conv_accuracies[recipe_name, precision] = [run.test_accuracy for run in runs]
        if precision == "float32":
            float32_accuracies[recipe_name, architecture] = [run.test_accuracy for run in runs]
        rows.append({"recipe": recipe_name, "model": architecture, "precision": precision, "seeds": len(runs),
                     "mean acc": accuracy.mean, "95% CI": f"{accuracy.low:.4f}–{accuracy.high:.4f}",
                     "min": min(run.test_accuracy for run in runs), "max": max(run.test_accuracy for run in runs),
                     "epochs run (mean)": sum(len(run.history["loss"]) for run in runs) / len(runs),
                     "train s (mean)": sum(run.train_seconds for run in runs) / len(runs)})
        print(rows[-1], flush=True)
    print(f"\nData: {dataset.source}\nMachine: {machine()}")
    print(table(rows, list(rows[0])))
    for architecture in ("flat", "conv"):  # each recipe against the one before it, paired by seed
        for before, after in zip(args.recipes, args.recipes[1:]):
            if (before, architecture) in float32_accuracies and (after, architecture) in float32_accuracies:
                gain = paired_difference(float32_accuracies[after, architecture],
                                         float32_accuracies[before, architecture])
                print(f"{architecture}: {after} minus {before}, paired over seeds: {gain.mean * 100:+.2f} points "
                      f"(95% CI {gain.low * 100:+.2f} to {gain.high * 100:+.2f})")
    for recipe_name in args.recipes:
        if {(recipe_name, "float32"), (recipe_name, "bfloat16")} <= set(conv_accuracies):
            difference = paired_difference(conv_accuracies[recipe_name, "bfloat16"],
                                           conv_accuracies[recipe_name, "float32"])
            print(f"conv, {recipe_name}: bfloat16 minus float32, paired over seeds: "
                  f"{difference.mean * 100:+.2f} points (95% CI {difference.low * 100:+.2f} to "
                  f"{difference.high * 100:+.2f})")


if __name__ == "__main__":
    main()
