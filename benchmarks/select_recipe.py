"""Choosing a recipe's settings without looking at the test set.

    python benchmarks/select_recipe.py [--seeds 3] [--architectures flat conv] [--candidates NAME ...]
                                       [--results FILE] [--table-only]

Each candidate trains on the sample exactly as a run would (its validation split for the curves and, where the
recipe stops early, for stopping), then is scored on the *selection digits*: the training pool's digits in
neither the sample nor the validation split (2,000 of the offline pool's 4,000 at 1,000 digits). The test set
is never read. Results are appended to --results as JSON lines, and a candidate already there is not
trained again, so the script can be stopped and resumed.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, fields
from pathlib import Path

import common  # noqa: F401
import numpy as np
from common import machine, table

from core.recipes import RECIPES, Recipe

# name -> (changes to the improved recipe). Each states what it isolates.
CANDIDATES = {
    "improved": {},
    "elastic2": dict(elastic=2.0),                                      # + elastic distortions, same schedule
    "ema-100": dict(early_stopping_patience=None, default_epochs=100, ema_momentum=0.995),  # EMA, fixed length
    "elastic2-ema-100": dict(elastic=2.0, early_stopping_patience=None, default_epochs=100, ema_momentum=0.995),
    "elastic3-ema-100": dict(elastic=3.0, early_stopping_patience=None, default_epochs=100, ema_momentum=0.995),
    "elastic2-ema-150": dict(elastic=2.0, early_stopping_patience=None, default_epochs=150, ema_momentum=0.995),
    # Round 2, after round 1 showed small gains (benchmarks/README.md):
    "ema-200": dict(early_stopping_patience=None, default_epochs=200, ema_momentum=0.995),
    "elastic1-ema-100": dict(elastic=1.0, early_stopping_patience=None, default_epochs=100, ema_momentum=0.995),
    "ema-100-wd": dict(early_stopping_patience=None, default_epochs=100, ema_momentum=0.995, weight_decay=0.05),
    "ema-100-wd-strong": dict(early_stopping_patience=None, default_epochs=100, ema_momentum=0.995, weight_decay=0.2),
    # Round 3: elastic distortions hurt the flat net (round 2), longer and weight decay helped it
    "ema-200-wd-strong": dict(early_stopping_patience=None, default_epochs=200, ema_momentum=0.995, weight_decay=0.2),
    "ema-100-wd-0.5": dict(early_stopping_patience=None, default_epochs=100, ema_momentum=0.995, weight_decay=0.5),
}


@dataclass(frozen=True)
class Candidate(Recipe):
    """A recipe to try: any of Recipe's settings, and elastic distortions (left out of the app's recipes)."""
    elastic: float = 0.0   # Simard et al.'s elastic distortion: each digit's largest displacement, pixels (0: none)

    def batch_distortion(self, seed: int):
        return _elastic_distortion(self.elastic, seed) if self.elastic else None


def candidate(name: str) -> Candidate:
    """The improved recipe with CANDIDATES[name]'s changes, registered as recipe "candidate-<name>"."""
    improved = {item.name: getattr(RECIPES["improved"], item.name) for item in fields(Recipe)}
    recipe = Candidate(**{**improved, "name": f"candidate-{name}", "label": name, **CANDIDATES[name]})
    RECIPES[recipe.name] = recipe
    return recipe


def _elastic_distortion(alpha: float, seed: int):
    """A tf.data map that distorts each uint8 batch with core.perturb.elastic (the robustness test's own
    distortion), a new random field per digit and batch, drawn in order from `seed`: one pipeline thread, so
    a run's batches are distorted the same way every time."""
    import tensorflow as tf

    from core import perturb

    draws = np.random.default_rng([seed, 7])

    def distort(images: np.ndarray) -> np.ndarray:
        return perturb.elastic(images, alpha, seed=int(draws.integers(2**31)))

    def distorted(images, labels):
        images = tf.ensure_shape(tf.numpy_function(distort, [images], tf.uint8, stateful=True), images.shape)
        return images, labels

    return distorted



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sample-size", type=int, default=1000)
    parser.add_argument("--architectures", nargs="+", default=["flat", "conv"])
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    parser.add_argument("--results", type=Path, default=Path("select_recipe.jsonl"))
    parser.add_argument("--table-only", action="store_true", help="train nothing: the table of what --results holds")
    args = parser.parse_args()

    from core.config import TrainConfig
    from core.data import load_dataset, to_model_input
    from core.stats import mean_ci
    from core.training import predict, split_indices, train

    dataset = load_dataset("mnist")
    done = {}
    if args.results.exists():
        for line in args.results.read_text().splitlines():
            row = json.loads(line)
            done[row["candidate"], row["architecture"], row["seed"]] = row
    for name in args.candidates:
        candidate(name)
    for name in args.candidates:
        for architecture in args.architectures:
            for seed in range(args.seeds):
                if (name, architecture, seed) in done or args.table_only:
                    continue
                config = TrainConfig(architecture=architecture, sample_size=args.sample_size, seed=seed,
                                     recipe=f"candidate-{name}")
                result = train(config, dataset)
                train_index, validation_index = split_indices(dataset, config)
                selection = np.setdiff1d(np.arange(dataset.pool_size), np.concatenate([train_index, validation_index]))
                predicted = predict(result.model, to_model_input(dataset.x_train[selection])).argmax(axis=1)
                row = {"candidate": name, "architecture": architecture, "seed": seed,
                       "selection_accuracy": float((predicted == dataset.y_train[selection]).mean()),
                       "selection_digits": int(len(selection)), "epochs_run": len(result.history["loss"]),
                       "train_seconds": result.train_seconds}
                print(row, flush=True)
                with args.results.open("a") as file:
                    file.write(json.dumps(row) + "\n")
                done[name, architecture, seed] = row
    rows = []
    for name in args.candidates:
        for architecture in args.architectures:
            found = [done[name, architecture, seed] for seed in range(args.seeds) if (name, architecture, seed) in done]
            if len(found) < 2:
                continue
            accuracy = mean_ci([row["selection_accuracy"] for row in found])
            rows.append({"candidate": name, "model": architecture, "seeds": len(found),
                         "selection acc": round(accuracy.mean, 4),
                         "95% CI": f"{accuracy.low:.4f}–{accuracy.high:.4f}",
                         "epochs run (mean)": sum(row["epochs_run"] for row in found) / len(found),
                         "train s (mean)": round(sum(row["train_seconds"] for row in found) / len(found), 1)})
    print(f"\nData: {dataset.source}; scored on the pool's digits outside each seed's sample and validation split"
          f"\nMachine: {machine()}")
    print(table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
