"""Re-open latency: a stored run's results and model back, in a fresh process (target: under 0.5 s).

    python benchmarks/bench_reopen.py
"""

from __future__ import annotations

import json
import os
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
from core.store import RunStore
dataset = load_dataset("mnist")
loaded = time.perf_counter()
store = RunStore()
outcome = store.get_or_train(TrainConfig(architecture=ARCH, sample_size=300, num_epochs=1), dataset,
                             trainer=lambda *a, **k: (_ for _ in ()).throw(RuntimeError("not stored")))
probabilities = outcome.run.probabilities()
results = time.perf_counter()
import keras  # a fresh process pays TensorFlow's import once; the running app has paid it already
imported = time.perf_counter()
model = outcome.run.load_model()
done = time.perf_counter()
print(json.dumps({"data s": loaded - started, "results s": results - loaded,
                  "results total s": results - started, "TF import s": imported - results,
                  "model load s": done - imported, "cached": outcome.cached}))
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "RUN_STORE_DIR": folder}
        subprocess.run([sys.executable, "-m", "core", "compare", "--sample-size", "300", "--epochs", "1"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        rows = []
        for architecture in ("flat", "conv"):
            measured = json.loads(subprocess.run(
                [sys.executable, "-c", PROBE.replace("ARCH", repr(architecture))], cwd=ROOT, env=env,
                check=True, capture_output=True, text=True).stdout)
            rows.append({"model": architecture, **measured})
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "core", "compare", "--sample-size", "300", "--epochs", "1"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        cli_seconds = time.perf_counter() - started
    print(f"Machine: {machine()}")
    print(table(rows, ["model", "data s", "results s", "results total s", "TF import s", "model load s",
                       "cached"]))
    print(f"\n`python -m core compare` with both runs stored, whole process: {cli_seconds:.2f} s")


if __name__ == "__main__":
    main()
