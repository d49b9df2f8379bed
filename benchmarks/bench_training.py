"""Training speed: our train() against a plain model.fit(x, y, batch_size=32, epochs=12), side by side.

    python benchmarks/bench_training.py            # MNIST 1,000 and Fashion-MNIST 10,000
    python benchmarks/bench_training.py --full     # plus Fashion-MNIST 60,000 (~30 min)

Both train the same architecture on the same sample; they alternate, `--repeats` times, and the best
time of each counts. Ours is timed twice: as the app runs it (validating on 1,000 pool digits after
every epoch, for the learning curves: work the reference does not do) and with validation off, which
isolates the input pipeline. GFLOP/s counts training FLOPs only.
"""

from __future__ import annotations

import argparse
import time

from common import machine, sgemm_peak_gflops, table, training_flops  # also puts the repository on sys.path


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


def ours(config, dataset):
    from core.training import train

    result = train(config, dataset)
    return result.train_seconds, result.test_accuracy


def ours_without_validation(config, dataset):
    from dataclasses import replace

    return ours(replace(config, validation_size=0), dataset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also Fashion-MNIST at 60,000 images")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()

    from core.config import TrainConfig
    from core.data import load_dataset, to_model_input
    from core.training import split_indices

    cases = [("mnist", 1000), ("fashion_mnist", 10000)] + ([("fashion_mnist", 60000)] if args.full else [])
    peak = sgemm_peak_gflops()
    rows = []
    for dataset_name, size in cases:
        dataset = load_dataset(dataset_name)
        size = min(size, dataset.pool_size)
        for architecture in ("flat", "conv"):
            config = TrainConfig(dataset=dataset_name, architecture=architecture, sample_size=size,
                                 num_epochs=args.epochs)
            train_index, _ = split_indices(dataset, config)
            x_train, y_train = to_model_input(dataset.x_train[train_index]), dataset.y_train[train_index]
            x_test = to_model_input(dataset.x_test)
            reference_times, our_times, bare_times = [], [], []
            for _ in range(args.repeats):  # alternate, so drift on a noisy machine hits all three
                seconds, reference_accuracy, model = reference(architecture, x_train, y_train, x_test,
                                                               dataset.y_test, args.epochs, config.seed)
                reference_times.append(seconds)
                seconds, our_accuracy = ours(config, dataset)
                our_times.append(seconds)
                seconds, bare_accuracy = ours_without_validation(config, dataset)
                bare_times.append(seconds)
            flops = training_flops(model, size, args.epochs)
            best_reference, best_ours, best_bare = min(reference_times), min(our_times), min(bare_times)
            rows.append({
                "data": f"{dataset_name} {size:,}", "model": architecture,
                "reference s": best_reference, "ours s": best_ours, "ours, no validation s": best_bare,
                "speed-up": best_reference / best_ours, "speed-up, no validation": best_reference / best_bare,
                "ref img/s": size * args.epochs / best_reference, "our img/s (no val.)": size * args.epochs / best_bare,
                "ref GFLOP/s": flops / best_reference / 1e9, "our GFLOP/s (no val.)": flops / best_bare / 1e9,
                "ref % of sgemm peak": 100 * flops / best_reference / 1e9 / peak,
                "our % of sgemm peak (no val.)": 100 * flops / best_bare / 1e9 / peak,
                "ref acc": reference_accuracy, "our acc": our_accuracy, "our acc (no val.)": bare_accuracy,
            })
            print(rows[-1], flush=True)
    print()
    print(f"Machine: {machine()}; numpy sgemm peak {peak:.0f} GFLOP/s; {args.epochs} epochs, batch 32, "
          f"best of {args.repeats}.")
    print(table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
