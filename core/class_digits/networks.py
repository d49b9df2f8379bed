"""Which stored runs the verdict is about, and their answers on a class set (model work: in a worker for the app,
in the CLI's own process).

A run trained on shuffled pixels (core/pixels.py) is given the class's digits shuffled by the same permutation,
as its training and test digits were.
"""

from __future__ import annotations

import json

import numpy as np

from core import pixels
from core.class_digits.verdict import Network
from core.data import to_model_input
from core.settings import run_labels
from core.training import predict

STUDENT_SETTINGS = {"sample_size": 1000, "num_epochs": 12, "recipe": "student"}  # the student's experiment
HANDWRITTEN = "mnist"  # the class draws digits: only runs trained on MNIST are asked about them


def _config(row: dict) -> dict:
    return json.loads(row.get("config_json") or "{}") or row


def handwriting_rows(rows: list[dict]) -> list[dict]:
    """The store's index rows (RunStore.list_runs, newest first) of runs trained on MNIST's handwritten digits."""
    return [row for row in rows if row.get("dataset") == HANDWRITTEN]


def default_run_ids(rows: list[dict], latest: list[str] | tuple = ()) -> list[str]:
    """The runs a verdict starts from: those of `latest` (the session's last comparison) that are MNIST runs in
    the store; else, per network, the best-scoring stored MNIST run at the student's settings (1,000 images, 12
    epochs, the student's recipe; the newest of equal scores); else the best-scoring MNIST run of each network."""
    rows = handwriting_rows(rows)
    known = {row["run_id"] for row in rows}
    chosen = [run_id for run_id in latest if run_id in known]
    if chosen:
        return chosen

    def student(row: dict) -> bool:
        config = _config(row)
        return all(config.get(name, row.get(name)) == value for name, value in STUDENT_SETTINGS.items())

    for candidates in ([row for row in rows if student(row)], rows):
        best: dict[str, dict] = {}
        for row in candidates:  # newest first: an equal score keeps the newer run
            key = (row["architecture"], _config(row).get("pixels", "drawn"))
            if key not in best or row["test_accuracy"] > best[key]["test_accuracy"]:
                best[key] = row
        if best:
            return [row["run_id"] for row in best.values()]
    return []


def describe(runs: list) -> list[Network]:
    """StoredRuns as the verdict names them: short unique labels (core.settings.run_labels), whether the network
    has convolutions, its MNIST test accuracy."""
    labels = run_labels([run.config for run in runs], fallbacks=[f"run {run.run_id}" for run in runs])
    return [Network(run.run_id, label, run.config.spec.has_convolution, float(run.test_accuracy))
            for label, run in zip(labels, runs)]


def predicted_labels(model, images: np.ndarray, order: str = "drawn") -> np.ndarray:
    """The model's answer for each digit of `images` (N, 28, 28) uint8, white ink on black, given in the pixel
    `order` it was trained on: (N,) uint8."""
    if len(images) == 0:
        return np.zeros(0, dtype=np.uint8)
    probabilities = predict(model, to_model_input(pixels.arrange(np.asarray(images), order)))  # (N, 10)
    return probabilities.argmax(axis=1).astype(np.uint8)


def predicted_labels_in_worker(store_root: str, run_id: str, order: str, images: np.ndarray, emit=None) -> np.ndarray:
    """`predicted_labels` for a stored run, where the executor does model work (a worker process keeps recently
    used models loaded: core/runs/jobs.py). ValueError when the run can no longer be opened."""
    from core.runs.jobs import worker_model

    return predicted_labels(worker_model(store_root, run_id), images, order)
