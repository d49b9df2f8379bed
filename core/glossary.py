"""The words of statistics and numerics the pages use, each explained once.

The pages show a term's explanation where it appears (a widget's or a column's help) and list the terms they
use in a short "What the words mean" section (ui/formats.py's `glossary`)."""

from __future__ import annotations

from core.settings import THRESHOLD

TERMS = {
    "accuracy": "Test accuracy: the share of the test digits (never seen in training) whose most probable class is "
                "the true one.",
    "train seconds": "Training time: the wall time of model.fit, all epochs, on the machine that trained it — the "
                     "same number in the progress line, the metric, the tables and the CLI.",
    "H1": "The student's first hypothesis: a network reaches at least {threshold} test accuracy. "
          "Supported when the whole 95% CI is at or above it, not supported when the whole CI is below it, "
          "inconclusive otherwise.",
    "H2": "The student's second hypothesis: the flat network is comparable to the convolutional one — their "
          "accuracies differ by less than the margin (in percentage points). Comparable when the whole 95% CI "
          "of the difference lies within ±margin; one network better when the CI lies beyond it.",
    "95% CI": "95% confidence interval over seeds: a range for the mean accuracy (or difference) over all "
              "possible seeds, drawn from the seeds trained (Student's t); 95 of 100 studies like this one would "
              "catch the true mean in theirs. One seed gives no interval; more seeds give a narrower one.",
    "McNemar's test": "Compares two networks on the same test digits (one seed): of the digits exactly one of "
                      "them gets right, are they split evenly? A small p (say below 0.05) means one network "
                      "really gets more of them right, not by luck of which digits are hard.",
    "p": "The p-value: how often a split at least this uneven would happen by chance if the two networks were "
         "equally good. 'p < 10⁻⁹' is far below any usual threshold.",
    "points": "Percentage points: the difference of two percentages (89.2% − 84.2% = +5.0 points).",
    "precision": "Of the test digits a network called this class, the share that really are it.",
    "recall": "Of the test digits of this class, the share the network called it.",
    "f1": "F1 score: the harmonic mean of precision and recall (high only when both are).",
    "support": "How many test digits are of this class.",
    "loss": "Cross-entropy on the test set: low when the network gives the true class a high probability "
            "(lower is better; accuracy counts only the top answer).",
    "epoch": "One pass over the training images.",
    "seed": "The number that fixes the random choices: which training images are drawn, the first weights, "
            "the order of batches. Same seed, same run.",
    "bfloat16": "A 16-bit floating-point format with float32's range and fewer digits: the convolutions run "
                "in it (weights stay 32-bit); faster only on CPUs with bfloat16 instructions.",
    "float32": "The usual 32-bit floating-point numbers: what the student's networks computed with.",
}


def explain(term: str) -> str:
    """The term's explanation (KeyError for a term the glossary lacks: a test lists every term a page uses)."""
    return TERMS[term].format(threshold=f"{THRESHOLD:.0%}")


def with_term(help: str, term: str | None) -> str:
    """A setting's help followed by its glossary term's explanation (core/settings.py `Setting.term`), if any."""
    return f"{help} {explain(term)}" if term else help
