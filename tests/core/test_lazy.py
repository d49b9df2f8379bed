"""TensorFlow's first import from two threads at once (a background warm-up and a page)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TWO_THREADS = """
import threading
import numpy as np
from core import architectures, training
from core.config import TrainConfig
from core.data import make_dataset

rng = np.random.default_rng(0)
arrays = {"x_train": rng.integers(0, 255, (300, 28, 28), dtype=np.uint8), "y_train": np.arange(300) % 10,
          "x_test": rng.integers(0, 255, (50, 28, 28), dtype=np.uint8), "y_test": np.arange(50) % 10}
dataset = make_dataset("mnist", arrays, "synthetic")
errors = []

def catching(work):
    def run():
        try:
            work()
        except BaseException as error:
            errors.append(repr(error)[:300])
    return run

threads = [threading.Thread(target=catching(lambda: training.prepare_training(
               TrainConfig(architecture="flat", sample_size=100, num_epochs=1), dataset))),
           threading.Thread(target=catching(lambda: architectures.build("conv")))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("errors:", errors)
raise SystemExit(1 if errors else 0)
"""


@pytest.mark.slow  # real Keras training or tracing: a conv net, several runs or another process
def test_a_background_warm_up_and_a_page_importing_tensorflow_at_once_both_work():
    """The e2e failure: the warm-up's first TensorFlow import raced a page's, and the page's training failed
    with "Registering two gradient with name 'ReduceDataset'" (or a deadlock error)."""
    done = subprocess.run([sys.executable, "-c", TWO_THREADS], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "errors: []" in done.stdout


FIRST_PAINT = """
import os, sys, tempfile
os.environ.update(RUN_STORE_DIR=tempfile.mkdtemp(), TRAIN_WORKERS="0")
from streamlit.testing.v1 import AppTest
app = AppTest.from_file(os.path.join(os.getcwd(), "app.py"), default_timeout=120)
app.run()
assert not app.exception, app.exception
print(" ".join(name for name in ("tensorflow", "keras", "scipy", "sklearn") if name in sys.modules))
"""


@pytest.mark.slow  # a fresh interpreter paints the Compare page
def test_compares_first_paint_imports_no_engine_and_no_statistics():
    """The Compare page's first paint imported core.study (for one default) and with it pandas and scipy: +1.3 s."""
    done = subprocess.run([sys.executable, "-c", FIRST_PAINT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [], f"imported on first paint: {done.stdout}"
