import warnings

import numpy as np
import pytest

from core.evaluation import confusion_matrix, mistakes_by_model, per_class_report, row_normalised

LABELS = np.array([0, 0, 1, 1, 2, 2])
PREDICTED = np.array([0, 1, 1, 1, 2, 0])


def one_hot(predicted, confidence=0.8, num_classes=3):
    probabilities = np.full((len(predicted), num_classes), (1 - confidence) / (num_classes - 1))
    probabilities[np.arange(len(predicted)), predicted] = confidence
    return probabilities


def test_confusion_matrix_by_hand():
    counts = confusion_matrix(LABELS, PREDICTED, num_classes=3)
    assert counts.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert row_normalised(counts)[0].tolist() == [0.5, 0.5, 0.0]


def test_confusion_matrix_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="6 labels but 5 predictions"):
        confusion_matrix(LABELS, PREDICTED[:5])


def test_per_class_precision_and_recall_by_hand():
    report = per_class_report(LABELS, PREDICTED, ["a", "b", "c"], num_classes=3)
    assert report["precision"].tolist() == pytest.approx([0.5, 2 / 3, 1.0])
    assert report["recall"].tolist() == pytest.approx([0.5, 1.0, 0.5])
    assert report["support"].tolist() == [2, 2, 2]
    assert report["class"].tolist() == ["a", "b", "c"]
    assert report["f1"].tolist() == pytest.approx([0.5, 0.8, 2 / 3])


def test_a_class_never_drawn_or_never_predicted_keeps_its_row_with_zeros_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn's UndefinedMetricWarning would fail here
        report = per_class_report(LABELS, PREDICTED, num_classes=4)
        counts = confusion_matrix(LABELS, PREDICTED, num_classes=4)
    assert counts.shape == (4, 4) and counts[3].tolist() == counts[:, 3].tolist() == [0, 0, 0, 0]
    assert report.iloc[3][["precision", "recall", "f1", "support"]].tolist() == [0, 0, 0, 0]
    assert report["class"].tolist() == ["0", "1", "2", "3"]


def test_mistakes_by_model_filters_only_one_model_or_both():
    flat = one_hot(np.array([0, 1, 1, 0, 2, 0]))  # wrong at 1, 3, 5
    conv = one_hot(np.array([0, 0, 1, 1, 2, 0]))  # wrong at 5 only
    both = {"flat": flat, "conv": conv}
    flat[3] = [0.9, 0.05, 0.05]  # flat's most confident mistake
    assert mistakes_by_model(LABELS, both)["index"].tolist() == [3, 1, 5]
    assert mistakes_by_model(LABELS, both, only="flat")["index"].tolist() == [3, 1]
    assert mistakes_by_model(LABELS, both, only="conv")["index"].tolist() == []
    table = mistakes_by_model(LABELS, both, only="all")
    assert table["index"].tolist() == [5]
    assert table[["predicted_flat", "predicted_conv"]].iloc[0].tolist() == [0, 0]
    with pytest.raises(ValueError, match="Unknown filter"):
        mistakes_by_model(LABELS, both, only="mlp")
