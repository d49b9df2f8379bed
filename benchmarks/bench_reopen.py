"""Re-open latency: a stored run's results and model back, in a fresh process (target: under 0.5 s).

    python benchmarks/bench_reopen.py [--vs OTHER_CHECKOUT] [--repeats N]

With --vs, the same store is reopened by the other checkout's code too, turn about, and the ratios of the
medians are printed (these machines are noisy: compare side by side, not across runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import common  # noqa: F401
from common import ROOT, machine, table

PROBE = """
import json, time
started = time.perf_counter()
from core.config import TrainConfig
from core.data import load_dataset
try:
    from core.runs import RunStore, RunsService
    reopen = lambda config, dataset: RunsService(RunStore()).get(config, dataset)
except ImportError:  # a checkout from before core/runs/
    from core.store import RunStore
    reopen = lambda config, dataset: (lambda store: store.get(store.id_for(config, dataset)))(RunStore())
dataset = load_dataset("mnist")
loaded = time.perf_counter()
run = reopen(TrainConfig(architecture=ARCH, sample_size=300, num_epochs=1), dataset)
probabilities = run.probabilities()
results = time.perf_counter()
import keras  # a fresh process pays TensorFlow's import once; the running app has paid it already
imported = time.perf_counter()
model = run.load_model()
done = time.perf_counter()
print(json.dumps({"data s": loaded - started, "results s": results - loaded,
                  "results total s": results - started, "TF import s": imported - results,
                  "model load s": done - imported}))
"""
FIGURES = ["data s", "results s", "results total s", "TF import s", "model load s"]


def probe(checkout: str, architecture: str, env: dict) -> dict:
    return json.loads(subprocess.run([sys.executable, "-c", PROBE.replace("ARCH", repr(architecture))], cwd=checkout,
                                     env=env, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vs", metavar="CHECKOUT", help="another checkout of this project (e.g. a git worktree)")
    parser.add_argument("--repeats", type=int, default=1, help="reopens per model and checkout (medians shown)")
    args = parser.parse_args()
    checkouts = {"ours": str(ROOT), **({"vs": args.vs} if args.vs else {})}
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "RUN_STORE_DIR": folder}
        subprocess.run([sys.executable, "-m", "core", "compare", "--sample-size", "300", "--epochs", "1"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        rows = []
        for architecture in ("flat", "conv"):
            measured = {name: [] for name in checkouts}
            for _ in range(args.repeats):
                for name, checkout in checkouts.items():  # turn about: drift hits both alike
                    measured[name].append(probe(checkout, architecture, env))
            medians = {name: {figure: statistics.median(run[figure] for run in runs) for figure in FIGURES}
                       for name, runs in measured.items()}
            for name in checkouts:
                rows.append({"model": architecture, "code": name, **medians[name]})
            if args.vs:
                rows.append({"model": architecture, "code": "ours / vs",
                             **{figure: medians["ours"][figure] / medians["vs"][figure] for figure in FIGURES}})
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "core", "compare", "--sample-size", "300", "--epochs", "1"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        cli_seconds = time.perf_counter() - started
    print(f"Machine: {machine()}")
    print(table(rows, ["model", "code", *FIGURES]))
    print(f"\n`python -m core compare` with both runs stored, whole process: {cli_seconds:.2f} s")


if __name__ == "__main__":
    main()
