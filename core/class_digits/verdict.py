"""The verdict on a class's handwriting: how often each network is right on the class set, and whether conv's lead
over flat holds there. Plain numpy and scipy on predicted labels; the predictions come from elsewhere
(core/class_digits/networks.py, in a worker for the app).

- a network's accuracy on the set, with Wilson's 95% score interval (scipy.stats.binomtest(...).proportion_ci
  (method="wilson"); Wilson, JASA 22(158), 1927), beside its MNIST test accuracy: the drop is the cost of new
  writers;
- accuracy per true label (NaN where the set has none of that label);
- the pair conv − flat on the same digits: the difference of accuracies with a paired 95% interval (Bonett &
  Price's adjusted Wald, `paired_difference`), McNemar's exact test on the discordant digits (core/stats.py), and
  which digits one network gets right and the other wrong;
- one sentence saying it, in the Study page's words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from core import formats
from core.class_digits.limits import NUM_LABELS
from core.stats import McNemar, mcnemar_exact, p_value_words

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Network:
    """A stored run as the verdict names it."""
    run_id: str
    label: str              # "conv", "flat (shuffled)", "conv · seed 2" (core.settings.run_labels)
    has_convolution: bool
    mnist_accuracy: float   # the run's accuracy on its own test digits (MNIST's)


@dataclass(frozen=True)
class NetworkResult:
    network: Network
    predicted: np.ndarray   # (N,) uint8: the network's answer for each digit of the set
    right: np.ndarray       # (N,) bool
    accuracy: float         # share of the set it gets right (NaN for an empty set)
    low: float              # Wilson's 95% interval of `accuracy`
    high: float
    per_label: np.ndarray   # (10,) accuracy on the digits of each true label; NaN where there are none

    @property
    def versus_mnist(self) -> float:
        """Accuracy on the class set minus MNIST test accuracy, as a share: below 0 what new writers cost."""
        return self.accuracy - self.network.mnist_accuracy


@dataclass(frozen=True)
class PairedResult:
    first: NetworkResult    # the network with convolutions
    second: NetworkResult
    difference: float       # accuracy first − second on the same digits
    low: float              # its paired 95% interval (Bonett & Price)
    high: float
    mcnemar: McNemar        # only_first_right = b, only_second_right = c, exact p
    only_first_right: np.ndarray   # (b,) positions in the set: first right, second wrong
    only_second_right: np.ndarray  # (c,)

    @property
    def better(self) -> NetworkResult | None:
        """The network whose lead the interval shows (it excludes 0), else None."""
        if self.low > 0:
            return self.first
        if self.high < 0:
            return self.second
        return None


@dataclass(frozen=True)
class Verdict:
    num_digits: int
    networks: tuple[NetworkResult, ...]
    paired: PairedResult | None     # None unless one network has convolutions and one has none
    sentence: str


def wilson_interval(right: int, total: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval for a proportion right/total (scipy.stats.binomtest's proportion_ci with
    method="wilson"); (NaN, NaN) when total is 0."""
    if total == 0:
        return float("nan"), float("nan")
    interval = scipy_stats.binomtest(int(right), int(total)).proportion_ci(confidence_level=confidence,
                                                                           method="wilson")
    return float(interval.low), float(interval.high)


def paired_difference(first_right, second_right, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(difference, low, high): accuracy of first − accuracy of second on the same items (booleans, one per
    item, in the same order), with the adjusted Wald interval for a difference of paired proportions of Bonett
    & Price, "Adjusted Wald confidence interval for a difference of binomial proportions based on paired data",
    Journal of Educational and Behavioral Statistics 37(4), 2012, pp. 479-488: with b items only the first gets
    right and c only the second, p_b = (b + 1)/(n + 2), p_c = (c + 1)/(n + 2), and the interval is
    p_b − p_c ± z·sqrt((p_b + p_c − (p_b − p_c)²)/(n + 2)), z the normal quantile (scipy.stats.norm), clipped to
    [−1, 1]. The difference itself is (b − c)/n. NaNs for no items; ValueError when the lengths differ."""
    first_right, second_right = np.asarray(first_right, dtype=bool), np.asarray(second_right, dtype=bool)
    if first_right.shape != second_right.shape:
        raise ValueError("Both networks must answer the same digits.")
    total = len(first_right)
    if total == 0:
        return float("nan"), float("nan"), float("nan")
    b = int((first_right & ~second_right).sum())
    c = int((~first_right & second_right).sum())
    p_b, p_c = (b + 1) / (total + 2), (c + 1) / (total + 2)
    z = scipy_stats.norm.ppf(0.5 + confidence / 2)
    half = z * np.sqrt((p_b + p_c - (p_b - p_c) ** 2) / (total + 2))
    centre = p_b - p_c
    return (b - c) / total, float(max(-1.0, centre - half)), float(min(1.0, centre + half))


def network_result(network: Network, labels: np.ndarray, predicted: np.ndarray) -> NetworkResult:
    """One network's accuracy on the set (labels and predicted: (N,) ints 0-9), its interval and per label."""
    labels, predicted = np.asarray(labels), np.asarray(predicted, dtype=np.uint8)
    if predicted.shape != labels.shape:
        raise ValueError(f"{network.label} answered {len(predicted):,} digits of {len(labels):,}.")
    right = predicted == labels
    accuracy = float(right.mean()) if len(right) else float("nan")
    per_label = np.array([right[labels == label].mean() if (labels == label).any() else np.nan
                          for label in range(NUM_LABELS)])
    return NetworkResult(network, predicted, right, accuracy, *wilson_interval(int(right.sum()), len(right)),
                         per_label)


def pair(results: list[NetworkResult]) -> tuple[NetworkResult, NetworkResult] | None:
    """The two networks the verdict compares: the runs labelled "conv" and "flat" when both are there, else the
    first with convolutions and the first without; None when there is no such pair."""
    by_label = {result.network.label: result for result in results}
    if "conv" in by_label and "flat" in by_label:
        return by_label["conv"], by_label["flat"]
    convolutional = [result for result in results if result.network.has_convolution]
    other = [result for result in results if not result.network.has_convolution]
    return (convolutional[0], other[0]) if convolutional and other else None


def evaluate(labels: np.ndarray, networks: list[Network], predictions: dict) -> Verdict:
    """The verdict on a set with true `labels` (N,) from each network's predicted labels (`predictions`: run id
    -> (N,)). ValueError when a network's predictions do not match the set."""
    labels = np.asarray(labels)
    results = [network_result(network, labels, predictions[network.run_id]) for network in networks]
    paired = None
    chosen = pair(results)
    if chosen is not None and len(labels):
        first, second = chosen
        difference, low, high = paired_difference(first.right, second.right)
        paired = PairedResult(first, second, difference, low, high, mcnemar_exact(first.right, second.right),
                              np.flatnonzero(first.right & ~second.right), np.flatnonzero(~first.right & second.right))
    verdict = Verdict(len(labels), tuple(results), paired, "")
    return Verdict(verdict.num_digits, verdict.networks, paired, sentence(verdict))


def _points(value: float) -> str:
    return f"{value * 100:.1f}"


def sentence(verdict: Verdict) -> str:
    """The verdict in one sentence, e.g. "On 214 digits from this class, conv is right on 91.6% and flat on 83.2%:
    conv better by 8.4 points (95% CI 3.1 to 13.7 points), McNemar p = 0.0021." Said here only (the CLI and
    the page both print it)."""
    count = verdict.num_digits
    if count == 0:
        return "This class set has no digits yet: draw some first."
    head = f"On {count:,} digit{'s' if count != 1 else ''} from this class, "
    if verdict.paired is None:
        parts = [f"{result.network.label} is right on {formats.percent(result.accuracy)} (95% CI "
                 f"{formats.percent(result.low)} to {formats.percent(result.high)})" for result in verdict.networks]
        tail = "" if len(verdict.networks) != 1 else "; choose a network with convolutions and one without to " \
                                                         "compare them"
        return head + ", ".join(parts) + tail + "." if parts else "Choose the networks to evaluate."
    paired = verdict.paired
    first, second = paired.first.network.label, paired.second.network.label
    said = (f"{head}{first} is right on {formats.percent(paired.first.accuracy)} and {second} on "
            f"{formats.percent(paired.second.accuracy)}: ")
    better = paired.better
    if better is paired.first:
        said += (f"{first} better by {_points(paired.difference)} points (95% CI {_points(paired.low)} to "
                 f"{_points(paired.high)} points)")
    elif better is paired.second:
        said += (f"{second} better by {_points(-paired.difference)} points (95% CI {_points(-paired.high)} to "
                 f"{_points(-paired.low)} points)")
    else:
        said += (f"no clear difference ({first} − {second} {formats.points(paired.difference)}, 95% CI "
                 f"{formats.points_range(paired.low, paired.high)})")
    return f"{said}, McNemar {p_value_words(paired.mcnemar.p_value)}."
