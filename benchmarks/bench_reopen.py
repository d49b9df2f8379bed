"""Re-open latency: a stored run's results and model back, in a fresh process (target: under 0.5 s).

    python benchmarks/bench_reopen.py [--vs OTHER_CHECKOUT] [--repeats N] [--store URL]

With --vs, the same store is reopened by the other checkout's code too, turn about, and the ratios of the
medians are printed (these machines are noisy: compare side by side, not across runs).

With --store URL (a PostgreSQL database: its runs are added to, nothing removed), the folder store's runs are
copied there (`runs copy`) and reopened from it too, turn about with the folder: "database warm" with the model
already in the local cache (as a running app's second reopen, or after a restart on the same disk), "database
cold" with an empty cache (a rebooted Community Cloud app: the model is downloaded).
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
    reopen = lambda store, config, dataset: RunsService(store).get(config, dataset)
except ImportError:  # a checkout from before core/runs/
    from core.store import RunStore
    reopen = lambda store, config, dataset: store.get(store.id_for(config, dataset))
dataset = load_dataset("mnist")
loaded = time.perf_counter()
store = RunStore()  # a database store: its driver imported and connected, once per process (the app's too)
opened = time.perf_counter()
run = reopen(store, TrainConfig(architecture=ARCH, sample_size=300, num_epochs=1), dataset)
probabilities = run.probabilities()
results = time.perf_counter()
import keras  # a fresh process pays TensorFlow's import once; the running app has paid it already
imported = time.perf_counter()
model = run.load_model()
done = time.perf_counter()
print(json.dumps({"data s": loaded - started, "store open s": opened - loaded, "results s": results - opened,
                  "results total s": results - started, "TF import s": imported - results,
                  "model load s": done - imported}))
"""
FIGURES = ["data s", "store open s", "results s", "results total s", "TF import s", "model load s"]


def probe(checkout: str, architecture: str, env: dict) -> dict:
    return json.loads(subprocess.run([sys.executable, "-c", PROBE.replace("ARCH", repr(architecture))], cwd=checkout,
                                     env=env, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vs", metavar="CHECKOUT", help="another checkout of this project (e.g. a git worktree)")
    parser.add_argument("--repeats", type=int, default=1, help="reopens per model and checkout (medians shown)")
    parser.add_argument("--store", metavar="URL", help="also reopen from this PostgreSQL database, warm and cold")
    args = parser.parse_args()
    checkouts = {"ours": str(ROOT), **({"vs": args.vs} if args.vs else {})}
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as scratch:  # scratch: caches
        env = {**os.environ, "RUN_STORE_DIR": folder}
        env.pop("RUN_STORE_URL", None)
        subprocess.run([sys.executable, "-m", "core", "compare", "--sample-size", "300", "--epochs", "1"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        stores = {"folder": lambda: env}
        if args.store:
            subprocess.run([sys.executable, "-m", "core", "runs", "copy", "--from", folder, "--to", args.store],
                           cwd=ROOT, env=env, check=True, capture_output=True)
            warm_cache = tempfile.mkdtemp(dir=scratch)
            database = {**env, "RUN_STORE_URL": args.store, "RUN_STORE_DIR": warm_cache}
            stores["database warm"] = lambda: database
            stores["database cold"] = lambda: {**database, "RUN_STORE_DIR": tempfile.mkdtemp(dir=scratch)}
        rows = []
        for architecture in ("flat", "conv"):
            if args.store:
                probe(str(ROOT), architecture, stores["database warm"]())  # fills the warm cache, not timed
            measured = {(name, store): [] for name in checkouts for store in stores}
            for _ in range(args.repeats):
                for name, checkout in checkouts.items():  # turn about: drift hits all alike
                    for store, environment in stores.items():
                        measured[name, store].append(probe(checkout, architecture, environment()))
            medians = {key: {figure: statistics.median(run[figure] for run in runs) for figure in FIGURES}
                       for key, runs in measured.items()}
            for (name, store), median in medians.items():
                rows.append({"model": architecture, "code": name, "store": store, **median})
            if args.vs:
                rows.append({"model": architecture, "code": "ours / vs", "store": "folder",
                             **{figure: medians["ours", "folder"][figure] / medians["vs", "folder"][figure]
                                for figure in FIGURES}})
            for store in stores:
                if store != "folder":
                    rows.append({"model": architecture, "code": "ours", "store": f"{store} / folder",
                                 **{figure: medians["ours", store][figure] / medians["ours", "folder"][figure]
                                    for figure in FIGURES}})
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "core", "compare", "--sample-size", "300", "--epochs", "1"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        cli_seconds = time.perf_counter() - started
    print(f"Machine: {machine()}")
    print(table(rows, ["model", "code", "store", *FIGURES]))
    print(f"\n`python -m core compare` with both runs stored, whole process: {cli_seconds:.2f} s")


if __name__ == "__main__":
    main()
