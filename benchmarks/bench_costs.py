"""The cost model (core/costs.py) against real runs: each config trained in a fresh worker process, its peak
resident memory and training time beside the estimates.

    python benchmarks/bench_costs.py [--quick]

Every config gets a new worker (the pool recycles after each job), so a peak is one training's, TensorFlow's
import included, as in the app. Epochs are few: the peak is reached in the first epoch and the time per epoch
is what the estimate scales.
"""

from __future__ import annotations

import argparse
import os
import time

import common  # noqa: F401
from common import machine, table

CONFIGS = [  # (dataset, network, sample size, batch size, epochs)
    ("mnist", "flat", 1000, 32, 3),
    ("mnist", "conv", 1000, 32, 3),
    ("mnist", "conv", 1000, 256, 3),
    ("mnist", "conv", 1000, 1024, 3),
    ("mnist", "flat-wide", 1000, 32, 3),
    ("mnist", "conv-small", 1000, 32, 3),
    ("fashion_mnist", "flat", 60000, 32, 1),
    ("fashion_mnist", "conv", 60000, 256, 1),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the first three configs only")
    args = parser.parse_args()
    from core import costs
    from core.config import TrainConfig
    from core.data import load_dataset
    from core.runs.executors import Job, run
    from core.runs.jobs import train_run
    from core.runs.worker_executor import WorkerExecutor
    from core.runs.workers import WorkerPool

    executor = WorkerExecutor(WorkerPool(workers=1, budget_mb=10**6, recycle_mb=1))  # a new worker per job
    rows = []
    try:
        for dataset_name, network, size, batch, epochs in CONFIGS[:3] if args.quick else CONFIGS:
            if dataset_name == "fashion_mnist" and not os.path.isdir("/usr/share/datasets/fashion-mnist"):
                continue
            dataset = load_dataset(dataset_name)
            config = TrainConfig(dataset=dataset_name, architecture=network, sample_size=size, batch_size=batch,
                                 num_epochs=epochs, validation_size=1000)
            estimate = costs.estimate(config, dataset)
            started = time.perf_counter()
            result = run(executor, Job(train_run, (config, None), dataset))
            rows.append({"dataset": dataset_name, "network": network, "images": size, "batch": batch,
                         "epochs": epochs, "peak MB": result.peak_memory_mb, "estimate MB": estimate.peak_mb,
                         "estimate / peak": estimate.peak_mb / result.peak_memory_mb,
                         "train s": result.train_seconds, "estimate s": estimate.seconds,
                         "job s": time.perf_counter() - started})
            print(rows[-1], flush=True)
    finally:
        executor.shutdown()
    print(f"Machine: {machine()}")
    print(table(rows, ["dataset", "network", "images", "batch", "epochs", "peak MB", "estimate MB",
                       "estimate / peak", "train s", "estimate s", "job s"]))


if __name__ == "__main__":
    main()
