"""Training speed: our train() against a plain model.fit(x, y, batch_size=32, epochs=12), side by side.

    python benchmarks/bench_training.py                 # MNIST 1,000 and Fashion-MNIST 10,000
    python benchmarks/bench_training.py --full          # plus Fashion-MNIST 60,000 (~40 min with 1 repeat)
    python benchmarks/bench_training.py --warm          # ours reusing its compiled models between runs
    python benchmarks/bench_training.py --quick --repeats 4   # MNIST 1,000 only, more repeats

Every variant trains the same architecture on the same sample; they alternate, `--repeats` times, and
the best time of each counts. Ours is timed as the app runs it (validating on 1,000 pool digits after
every epoch, for the learning curves: work the reference does not do) and with validation off, in
float32 and, for the conv net, with its convolutions in bfloat16 (`--precision bfloat16`).
By default every run of ours starts cold, as the reference does (a new model, traced on first use);
with --warm, train() keeps its compiled models between runs, as the app and a study do after their first
run of a kind (best of 2: the second repeat is warm). GFLOP/s counts training FLOPs only; "% of peak" is against
a numpy float32 sgemm measured in this run.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from common import machine, sgemm_peak_gflops, table, training_flops  # also puts the repository on sys.path

VARIANTS = {  # name: (validation digits, precision); None: the reference
    "reference": None,
    "ours": (1000, "float32"),
    "ours, no val.": (0, "float32"),
    "ours bf16": (1000, "bfloat16"),
    "ours bf16, no val.": (0, "bfloat16"),
}


def reference(architecture: str, x_train, y_train, x_test, y_test, num_epochs: int, seed: int):
    import keras

    from core.architectures import build

    keras.utils.set_random_seed(seed)
    model = build(architecture)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x_train, y_train, batch_size=32, epochs=num_epochs, verbose=0)
    seconds = time.perf_counter() - started
    accuracy = float((model.predict(x_test, batch_size=1000, verbose=0).argmax(1) == y_test).mean())
    return seconds, accuracy, model


def ours(config, dataset, validation_size: int, precision: str, warm: bool):
    from core.model_pool import MODEL_POOL
    from core.training import train

    if not warm:
        MODEL_POOL.clear()  # a new model, traced on first use, like the reference's
    result = train(replace(config, validation_size=validation_size, precision=precision), dataset)
    return result.train_seconds, result.test_accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also Fashion-MNIST at 60,000 images")
    parser.add_argument("--only-full", action="store_true", help="only Fashion-MNIST at 60,000 images")
    parser.add_argument("--quick", action="store_true", help="only MNIST at 1,000 images")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--warm", action="store_true", help="let train() reuse its compiled models")
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()

    from core.config import TrainConfig
    from core.data import load_dataset, to_model_input
    from core.training import split_indices

    cases = [] if args.only_full else [("mnist", 1000)] if args.quick else [("mnist", 1000), ("fashion_mnist", 10000)]
    cases += [("fashion_mnist", 60000)] if args.full or args.only_full else []
    peak = sgemm_peak_gflops()
    times, speed = [], []
    for dataset_name, size in cases:
        dataset = load_dataset(dataset_name)
        size = min(size, dataset.pool_size)
        for architecture in ("flat", "conv"):
            config = TrainConfig(dataset=dataset_name, architecture=architecture, sample_size=size,
                                 num_epochs=args.epochs)
            train_index, _ = split_indices(dataset, config)
            x_train, y_train = to_model_input(dataset.x_train[train_index]), dataset.y_train[train_index]
            x_test = to_model_input(dataset.x_test)
            variants = {name: how for name, how in VARIANTS.items()
                        if how is None or how[1] == "float32" or architecture == "conv"}
            seconds = {name: [] for name in variants}
            accuracy = {}
            for _ in range(args.repeats):  # alternate, so drift on a noisy machine hits every variant
                for name, how in variants.items():
                    if how is None:
                        elapsed, accuracy[name], model = reference(architecture, x_train, y_train, x_test,
                                                                   dataset.y_test, args.epochs, config.seed)
                    else:
                        elapsed, accuracy[name] = ours(config, dataset, *how, warm=args.warm)
                    seconds[name].append(elapsed)
                    print(f"{dataset_name} {size} {architecture} {name}: {elapsed:.2f} s, "
                          f"accuracy {accuracy[name]:.3f}", flush=True)
            flops = training_flops(model, size, args.epochs)
            best = {name: min(values) for name, values in seconds.items()}
            case = {"data": f"{dataset_name} {size:,}", "model": architecture}
            times.append({**case, **{f"{name} s": best[name] for name in VARIANTS if name in best},
                          **{f"speed-up {name}": best["reference"] / best[name]
                             for name in VARIANTS if name in best and name != "reference"}})
            for name in best:
                gflops = flops / best[name] / 1e9
                speed.append({**case, "variant": name, "s": best[name], "img/s": size * args.epochs / best[name],
                              "GFLOP/s": gflops, "% of sgemm peak": 100 * gflops / peak,
                              "test acc": accuracy[name]})
    print()
    print(f"Machine: {machine()}; numpy sgemm peak {peak:.0f} GFLOP/s; {args.epochs} epochs, batch 32, "
          f"best of {args.repeats}; ours {'warm' if args.warm else 'cold'}.")
    print()
    print(table(times, list(dict.fromkeys(key for row in times for key in row))))
    print()
    print(table(speed, list(speed[0])))


if __name__ == "__main__":
    main()
