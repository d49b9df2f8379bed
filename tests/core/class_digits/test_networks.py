"""Which runs the verdict asks by default, and their answers on a set in the pixel order they were trained on."""

from __future__ import annotations

import json

import numpy as np

from core import pixels
from core.class_digits.networks import default_run_ids, predicted_labels


def row(run_id, architecture, accuracy, sample_size=1000, num_epochs=12, recipe="student", dataset="mnist",
        order="drawn") -> dict:
    config = {"sample_size": sample_size, "num_epochs": num_epochs, "recipe": recipe, "pixels": order}
    return {"run_id": run_id, "architecture": architecture, "test_accuracy": accuracy, "dataset": dataset,
            "sample_size": sample_size, "num_epochs": num_epochs, "config_json": json.dumps(config)}


ROWS = [  # newest first, as RunStore.list_runs gives them
    row("conv-new", "conv", 0.93), row("flat-big", "flat", 0.95, sample_size=10000),
    row("flat-a", "flat", 0.88), row("flat-b", "flat", 0.89), row("conv-old", "conv", 0.93),
    row("conv-fashion", "conv", 0.99, dataset="fashion_mnist"), row("conv-shuffled", "conv", 0.80, order="shuffled"),
]


def test_the_last_comparison_comes_first_when_its_runs_are_mnist_runs_in_the_store():
    assert default_run_ids(ROWS, ["flat-a", "conv-fashion", "gone"]) == ["flat-a"]


def test_else_each_networks_best_run_at_the_students_settings_newest_of_equals():
    assert default_run_ids(ROWS) == ["conv-new", "flat-b", "conv-shuffled"]
    assert default_run_ids(ROWS, ["conv-fashion"]) == ["conv-new", "flat-b", "conv-shuffled"]


def test_else_each_networks_best_mnist_run_at_any_settings():
    others = [row("c", "conv", 0.9, sample_size=2000), row("f", "flat", 0.8, num_epochs=3),
              row("f2", "flat", 0.85, num_epochs=4), row("x", "conv", 0.99, dataset="fashion_mnist")]
    assert default_run_ids(others) == ["c", "f2"]
    assert default_run_ids([row("x", "conv", 0.99, dataset="fashion_mnist")]) == []


class PixelReader:
    """A stand-in model whose answer for an image is the position (0-9) of the brightest of its first ten pixels,
    as the model receives them ((batch, 28, 28, 1) float32)."""

    def __init__(self):
        self.seen = []

    def predict_on_batch(self, batch):
        self.seen.append(batch.shape)
        first_ten = batch.reshape(len(batch), -1)[:, :10]
        return np.eye(10, dtype=np.float32)[first_ten.argmax(axis=1)]


def test_shuffled_runs_get_the_class_digits_shuffled_the_same_way():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 255, (37, 28, 28), dtype=np.uint8)
    drawn = predicted_labels(PixelReader(), images, "drawn")
    shuffled = predicted_labels(PixelReader(), images, "shuffled")
    as_drawn = images.reshape(37, -1)[:, :10].argmax(axis=1)
    as_shuffled = pixels.arrange(images, "shuffled").reshape(37, -1)[:, :10].argmax(axis=1)
    assert list(drawn) == list(as_drawn) and list(shuffled) == list(as_shuffled)
    assert list(drawn) != list(shuffled) and drawn.dtype == np.uint8 and drawn.shape == (37,)
    assert len(predicted_labels(PixelReader(), images[:0])) == 0
