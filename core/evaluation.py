"""Evaluation from stored test predictions: plain numpy and pandas results, no plotting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import NUM_CLASSES


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    labels = np.asarray(labels, dtype=int)
    predicted = np.asarray(predicted, dtype=int)
    if labels.shape != predicted.shape:
        raise ValueError(f"{len(labels)} labels but {len(predicted)} predictions.")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts


def row_normalised(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its total (recall on the diagonal); empty rows stay zero."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)


def per_class_report(counts: np.ndarray, class_names: list[str] | None = None) -> pd.DataFrame:
    """Precision, recall, F1 and support per class from a confusion matrix."""
    true_positive = np.diag(counts).astype(float)
    predicted_total = counts.sum(axis=0)
    support = counts.sum(axis=1)
    precision = np.divide(true_positive, predicted_total, out=np.zeros_like(true_positive),
                          where=predicted_total > 0)
    recall = np.divide(true_positive, support, out=np.zeros_like(true_positive), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)
    names = class_names or [str(c) for c in range(len(counts))]
    return pd.DataFrame({"class": names, "precision": precision, "recall": recall, "f1": f1,
                         "support": support})


def misclassified(labels: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """Wrongly classified test images: index, true, predicted, confidence; most confident first."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    table = pd.DataFrame({"index": wrong, "true": labels[wrong], "predicted": predicted[wrong],
                          "confidence": probabilities[wrong, predicted[wrong]]})
    return table.sort_values("confidence", ascending=False, kind="stable").reset_index(drop=True)


def mistakes_by_model(labels: np.ndarray, probabilities: dict[str, np.ndarray], only: str | None = None,
                      ) -> pd.DataFrame:
    """Test images that at least one model got wrong, with each model's guess and confidence,
    the most confident mistake first.

    `only=name` keeps the images only that model got wrong (every other model right); `only="all"`
    keeps those every model got wrong.
    """
    columns, wrong_by = {}, {}
    for name, probs in probabilities.items():
        predicted = probs.argmax(axis=1)
        columns[f"predicted_{name}"] = predicted
        columns[f"confidence_{name}"] = probs[np.arange(len(labels)), predicted]
        wrong_by[name] = predicted != labels
    wrong = np.vstack(list(wrong_by.values()))  # (num_models, num_test)
    if only is None:
        keep = wrong.any(axis=0)
    elif only == "all":
        keep = wrong.all(axis=0)
    elif only in wrong_by:
        keep = wrong_by[only] & ~np.delete(wrong, list(wrong_by).index(only), axis=0).any(axis=0)
    else:
        raise ValueError(f"Unknown filter {only!r}: use a model name or 'all'.")
    table = pd.DataFrame({"index": np.arange(len(labels)), "true": labels, **columns})[keep]
    # Most confident mistake first: the images a model is surest about and still gets wrong.
    wrong_confidence = np.max([np.where(wrong_by[name], columns[f"confidence_{name}"], 0.0)
                               for name in probabilities], axis=0)[keep]
    order = np.argsort(-wrong_confidence, kind="stable")
    return table.iloc[order].reset_index(drop=True)


def comparison_table(outcomes) -> pd.DataFrame:
    """The headline table the CLI prints and the dashboard shows: one row per run."""
    rows = []
    for outcome in outcomes:
        run = outcome.run
        rows.append({
            "architecture": run.config.architecture,
            "params": run.num_params,
            "test_accuracy": run.test_accuracy,
            "test_loss": run.test_loss,
            "train_seconds": run.train_seconds,
            "seconds_per_epoch": run.seconds_per_epoch,
            "inference_ms_per_image": run.inference_ms_per_image,
            "peak_memory_mb": float("nan") if run.peak_memory_mb is None else run.peak_memory_mb,  # NaN: not recorded
            "status": "cached" if outcome.cached else "trained now",
        })
    return pd.DataFrame(rows)
