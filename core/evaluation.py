"""Evaluation from stored test predictions: plain numpy and pandas results, no plotting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import NUM_CLASSES


def _classes(labels, predicted) -> tuple[np.ndarray, np.ndarray]:
    labels, predicted = np.asarray(labels, dtype=int), np.asarray(predicted, dtype=int)
    if labels.shape != predicted.shape:
        raise ValueError(f"{len(labels)} labels but {len(predicted)} predictions.")
    return labels, predicted


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Counts (num_classes, num_classes), int64: row = true class, column = predicted class
    (scikit-learn's confusion_matrix over the classes 0 to num_classes - 1, so a class nobody predicted or
    drew still has its row and column). ValueError when there are not as many predictions as labels."""
    from sklearn.metrics import confusion_matrix as counts  # imported on first use: pages paint without it

    labels, predicted = _classes(labels, predicted)
    return counts(labels, predicted, labels=np.arange(num_classes)).astype(np.int64)


def row_normalised(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its total (recall on the diagonal); empty rows stay zero."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)


def per_class_report(labels: np.ndarray, predicted: np.ndarray, class_names: list[str] | None = None,
                     num_classes: int = NUM_CLASSES) -> pd.DataFrame:
    """Per class (one row each, 0 to num_classes - 1): precision, recall and F1 (fractions 0 to 1; 0 where
    a class was never predicted or never drawn) and support (test images of that class), from
    scikit-learn's precision_recall_fscore_support. ValueError when the lengths differ."""
    from sklearn.metrics import precision_recall_fscore_support

    labels, predicted = _classes(labels, predicted)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=np.arange(num_classes), average=None, zero_division=0)
    names = class_names or [str(c) for c in range(num_classes)]
    return pd.DataFrame({"class": names, "precision": precision, "recall": recall, "f1": f1,
                         "support": support})


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
