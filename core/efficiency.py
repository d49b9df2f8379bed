"""Data efficiency: how many images the flat network needs to reach the convolutional one's accuracy.

The model. Each arm's test accuracy against its number of training images n is fitted with the
three-parameter inverse power law

    accuracy(n) = a − b · (n / 1,000)^(−c)        a ≤ 1: the ceiling; b ≥ 0: the shortfall at 1,000 images;
                                                    c > 0: how fast it closes

by least squares on the mean accuracy at each sample size, every size weighted alike: for a given c the
best a and b are a linear least-squares problem, so c is searched (a grid, then scipy.optimize's bounded
scalar minimiser) and a, b solved exactly for it — the same optimum as a general nonlinear fit, and fast
enough to refit hundreds of resamples on a page. Why this model: error falling as a power of the training-set
size is the most common shape
of learning curves in the literature (Hestness et al., "Deep learning scaling is predictable, empirically",
2017; Viering & Loog, "The shape of learning curves: a review", IEEE TPAMI), and this form is the one
Figueroa et al. fitted to predict classifiers' accuracy at larger samples from small ones ("Predicting
sample size required for classification performance", BMC Med Inform Decis Mak 12:8, 2012). It is also
invertible: the images an arm needs for an accuracy t < a are n = 1,000 · (b / (a − t))^(1/c).

Uncertainty. The study's seeds are resampled with replacement at each sample size (a bootstrap; Efron &
Tibshirani 1993), keeping each seed's cells of every arm together (they share their training sample), and
everything is refitted; 95% intervals are the 2.5th and 97.5th percentiles over the resamples.

Refusals, each with its reason (the words: core/study/efficiency_words.py). A curve is refused for fewer than
MIN_SIZES sample sizes; means that go down from one size to the next by more than their seeds' 95% intervals
allow (a zig-zag is no learning curve); an accuracy that falls or hardly rises overall (a flat curve has no size
to solve for); a fit that does not converge or that ends on a bound of the model (a power c at RATE_BOUNDS' edge,
no shortfall b: it matches the points by giving up the shape); and a 95% band of no width (one seed per size, or
seeds that agree exactly: resampling them cannot say how sure the curve is). A multiplier is refused when the
other curve levels off below the target, when the answer lies outside [smallest size / MAX_EXTRAPOLATION,
largest size × MAX_EXTRAPOLATION] — beyond what was measured — and when its 95% interval reaches beyond that
(the seeds do not pin it down). An answer is a number with its interval, or no number and why; never both.

The honest check: the curves are fitted again on the smaller sizes only and their predictions for the
larger, measured ones are reported next to the measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.stats import mean_ci

MODEL_FORMULA = "inverse power law accuracy(n) = a − b·(n/1,000)^(−c)"
REFERENCE_SIZE = 1000       # n is divided by this: b is the shortfall from the ceiling at 1,000 images
MIN_SIZES = 3               # three parameters: at least three sample sizes
MIN_RISE = 0.01             # the mean accuracy must rise by at least 1 point from the smallest to the largest size
MAX_EXTRAPOLATION = 4.0     # an answer at most 4× beyond the sizes measured (either side)
NUM_RESAMPLES = 300         # bootstrap resamples of the seeds: about a second for a study's arms here
BOOTSTRAP_SEED = 26
CHECK_HELD_OUT = 2          # the prediction check holds out up to this many of the largest sizes
CEILING_BOUNDS = (0.0, 1.0)
RATE_BOUNDS = (0.05, 3.0)
RATE_EDGE = 1e-3            # a fitted power within 0.1% of a bound counts as at the bound (a degenerate fit)
MIN_SHORTFALL = 1e-6        # a fitted shortfall below this is no rise at all
MAX_FALL_ONE_SEED = 0.02    # with one seed (no intervals), a mean falling by more than 2 points to the next size


class NotFittable(ValueError):
    """The data cannot support a fit; the message says why, for people."""


@dataclass(frozen=True)
class CurveFit:
    ceiling: float          # a: accuracy as n grows without bound (0..1)
    shortfall: float        # b: how far below the ceiling at REFERENCE_SIZE images
    rate: float             # c: the power
    sizes: tuple            # the sample sizes fitted

    def accuracy(self, sizes) -> np.ndarray:
        """Fitted accuracy at `sizes` (images), same shape."""
        return _law(np.asarray(sizes, dtype=float), self.ceiling, self.shortfall, self.rate)

    def images_for(self, accuracy: float) -> float:
        """Images needed to reach `accuracy`: inf at or above the ceiling; below the curve's start, what the
        formula gives (a small number)."""
        if accuracy >= self.ceiling:
            return math.inf
        if self.shortfall <= 0:
            return 0.0
        return REFERENCE_SIZE * (self.shortfall / (self.ceiling - accuracy)) ** (1 / self.rate)


def _law(sizes, ceiling, shortfall, rate):
    return ceiling - shortfall * (sizes / REFERENCE_SIZE) ** (-rate)


def fit_curve(sizes, accuracies, lows=None, highs=None, strict: bool = True) -> CurveFit:
    """The inverse power law through mean accuracies (0..1) at `sizes` (images; one value per size).
    `lows`, `highs`: each mean's 95% interval over seeds (NaN where one seed gives none), for the check that the
    means rise. Raises NotFittable with the reason when the points cannot support it: too few sizes; means that
    fall from one size to the next by more than their intervals allow (without intervals: by more than
    MAX_FALL_ONE_SEED); an accuracy that falls or hardly rises overall; a fit that does not converge or ends at a
    bound of the model (a power c at RATE_BOUNDS' edge, no shortfall b). `strict=False` (a bootstrap resample,
    whose spread is the answer's uncertainty) checks only the number of sizes and the overall rise."""
    sizes = np.asarray(sizes, dtype=float)
    accuracies = np.asarray(accuracies, dtype=float)
    if sizes.shape != accuracies.shape or sizes.ndim != 1:
        raise ValueError("One mean accuracy per sample size is needed.")
    if len(np.unique(sizes)) < MIN_SIZES:
        count = len(np.unique(sizes))
        raise NotFittable(f"only {count} sample size{'' if count == 1 else 's'} measured; a learning curve has "
                          f"three parameters, so it needs at least {MIN_SIZES}")
    if not np.all(np.isfinite(accuracies)) or np.any((accuracies < 0) | (accuracies > 1)):
        raise ValueError("Accuracies must be numbers from 0 to 1.")
    order = np.argsort(sizes)
    sizes, accuracies = sizes[order], accuracies[order]
    if strict:
        lows = np.full(len(sizes), np.nan) if lows is None else np.asarray(lows, dtype=float)[order]
        highs = np.full(len(sizes), np.nan) if highs is None else np.asarray(highs, dtype=float)[order]
        _check_falls(sizes, accuracies, lows, highs)
    rise = accuracies[-1] - accuracies[0]
    if rise < 0:
        raise NotFittable(f"the accuracy does not rise with the sample size: it falls from {accuracies[0]:.1%} at "
                          f"{sizes[0]:,.0f} images to {accuracies[-1]:.1%} at {sizes[-1]:,.0f}, and a learning "
                          f"curve rises")
    if rise < MIN_RISE:
        raise NotFittable(f"the accuracy hardly rises with the sample size ({accuracies[0]:.1%} at {sizes[0]:,.0f} "
                          f"images, {accuracies[-1]:.1%} at {sizes[-1]:,.0f}): a flat curve says nothing about "
                          f"how many images a given accuracy needs")
    fit = _fitted(sizes, accuracies)
    if strict:
        _check_fit(fit)
    return fit


def _check_falls(sizes: np.ndarray, accuracies: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> None:
    """NotFittable when the mean falls from one size to the next by more than its seeds explain: the later 95%
    interval lies wholly below the earlier one (one seed, no intervals: a fall of more than MAX_FALL_ONE_SEED)."""
    for before in range(len(sizes) - 1):
        after = before + 1
        fall = accuracies[before] - accuracies[after]
        if fall <= 0:
            continue
        known = not np.isnan([lows[before], highs[after]]).any()
        if (known and highs[after] < lows[before]) or (not known and fall > MAX_FALL_ONE_SEED):
            beyond = ("further than the seeds' 95% intervals allow" if known else
                      f"more than {MAX_FALL_ONE_SEED * 100:g} points with one seed")
            raise NotFittable(f"the accuracy goes down from {accuracies[before]:.1%} at {sizes[before]:,.0f} images "
                              f"to {accuracies[after]:.1%} at {sizes[after]:,.0f}, {beyond}; a learning curve rises "
                              f"with the sample size, so these means do not follow one")


def _check_fit(fit: CurveFit) -> None:
    """NotFittable for a fit that ends on a bound of the model: it matches the points only by giving up a shape."""
    low, high = RATE_BOUNDS
    if fit.rate <= low * (1 + RATE_EDGE) or fit.rate >= high * (1 - RATE_EDGE):
        raise NotFittable(f"the best curve through these means needs a power c of {fit.rate:.2f}, at the edge of "
                          f"what the model allows ({low:g} to {high:g}): the means do not have a learning curve's "
                          f"shape")
    if fit.shortfall <= MIN_SHORTFALL:
        raise NotFittable("the best curve through these means is flat (it never falls short of its ceiling), so it "
                          "says nothing about how many images an accuracy needs")


def _fitted(sizes: np.ndarray, accuracies: np.ndarray) -> CurveFit:
    """The least-squares fit for checked, sorted points (no refusals here)."""
    from scipy.optimize import minimize_scalar

    scaled = sizes / REFERENCE_SIZE
    grid = RATE_GRID
    errors = _solve(scaled, accuracies, grid)[2]
    best = int(np.argmin(errors))
    bounds = (grid[max(0, best - 1)], grid[min(len(grid) - 1, best + 1)])
    found = minimize_scalar(lambda rate: _solve(scaled, accuracies, np.array([rate]))[2][0], bounds=bounds,
                            method="bounded", options={"xatol": 1e-4})
    rate = float(found.x) if found.success and found.fun <= errors[best] else float(grid[best])
    ceiling, shortfall, _ = (float(value[0]) for value in _solve(scaled, accuracies, np.array([rate])))
    if not np.isfinite([ceiling, shortfall]).all():
        raise NotFittable("the curve fit did not converge")
    return CurveFit(ceiling, shortfall, rate, tuple(int(size) for size in sizes))


RATE_GRID = np.geomspace(*RATE_BOUNDS, 64)


def _solve(scaled: np.ndarray, accuracies: np.ndarray, rates: np.ndarray) -> tuple[np.ndarray, ...]:
    """For each power c in `rates` (num_rates,): the least-squares ceiling a ≤ 1 and shortfall b ≥ 0, and the sum
    of squared errors — three arrays (num_rates,). For a fixed c the law is linear in a and b: ordinary least
    squares, then, where a passes 1, a = 1 and b solved alone."""
    power = scaled[np.newaxis, :] ** (-rates[:, np.newaxis])            # (num_rates, num_sizes): accuracy = a − b·power
    centred = power - power.mean(axis=1, keepdims=True)
    spread = np.einsum("ij,ij->i", centred, centred)
    slope = -(centred @ (accuracies - accuracies.mean())) / np.where(spread > 0, spread, 1)
    shortfall = np.where(spread > 0, np.maximum(0.0, slope), 0.0)
    ceiling = accuracies.mean() + shortfall * power.mean(axis=1)
    capped = ceiling > CEILING_BOUNDS[1]            # accuracy cannot pass 1: fix a = 1 and solve for b alone
    capped_shortfall = np.maximum(0.0, (power @ (CEILING_BOUNDS[1] - accuracies)) / np.einsum("ij,ij->i", power, power))
    shortfall = np.where(capped, capped_shortfall, shortfall)
    ceiling = np.where(capped, CEILING_BOUNDS[1], ceiling)
    residual = accuracies[np.newaxis, :] - (ceiling[:, np.newaxis] - shortfall[:, np.newaxis] * power)
    return ceiling, shortfall, np.einsum("ij,ij->i", residual, residual)


@dataclass(frozen=True)
class Multiplier:
    """How many times N images the other arm needs to reach the better arm's measured accuracy at N: a factor with
    its 95% interval, or none and why (`refusal`, one of REFUSALS; the words are core/study/efficiency_words.py's)."""
    better: str
    other: str
    sample_size: int                 # N
    target: float                    # the better arm's mean accuracy at N
    images: float | None = None      # the other arm's fitted images for it (inf: above its ceiling)
    factor: float | None = None      # images / N, when there is a number
    low: float | None = None         # its 95% interval over resamples
    high: float | None = None
    refusal: str | None = None       # why there is no number


NO_CURVE, ABOVE_CEILING, BEYOND, UNCERTAIN = "no curve", "above the ceiling", "beyond what was measured", "uncertain"
REFUSALS = {
    NO_CURVE: "the other network has no learning curve (Efficiency.refused says why)",
    ABOVE_CEILING: "the other network's curve levels off below the target",
    BEYOND: f"the answer lies more than {MAX_EXTRAPOLATION:g}× beyond the sizes measured",
    UNCERTAIN: "the 95% interval reaches beyond what was measured: the seeds do not pin the answer down",
}


@dataclass
class Efficiency:
    fits: dict                       # label -> CurveFit fitted on every size
    refused: dict                    # label -> reason it has no fit
    bands: pd.DataFrame              # label, sample_size, fit, low, high: the fitted curve and its 95% band
    multipliers: list                # of Multiplier
    check: pd.DataFrame              # label, fitted_on, sample_size, predicted, low, high, measured, error
    num_resamples: int
    seeds: dict = field(default_factory=dict)  # label -> the most seeds it has at any size


def _means(cells: pd.DataFrame, statistic: str = "mean") -> pd.DataFrame:
    """Mean accuracy per arm (rows: sample size, columns: label); `statistic` "low"/"high": the 95% CI's bounds
    over seeds (NaN with one seed)."""
    if statistic == "mean":
        return cells.pivot_table(index="sample_size", columns="architecture", values="test_accuracy", aggfunc="mean")
    position = 1 if statistic == "low" else 2

    def bound(values) -> float:
        interval = mean_ci(values)
        return (interval.mean, interval.low, interval.high)[position]

    return cells.pivot_table(index="sample_size", columns="architecture", values="test_accuracy", aggfunc=bound,
                             dropna=False)  # one seed: NaN, kept


def _resamples(cells: pd.DataFrame, num_resamples: int, seed: int):
    """Yields `num_resamples` tables like `_means`, each from seeds drawn with replacement at every size (the
    same draw for every arm: one seed's cells share their training sample)."""
    rng = np.random.default_rng(seed)
    labels = list(dict.fromkeys(cells["architecture"]))
    sizes, blocks = [], []
    for size, group in cells.groupby("sample_size", sort=True):
        sizes.append(size)
        blocks.append(group.pivot_table(index="seed", columns="architecture", values="test_accuracy")
                      .reindex(columns=labels).to_numpy())               # (num_seeds, num_arms), NaN: missing
    for _ in range(num_resamples):
        means = np.empty((len(sizes), len(labels)))
        for row, block in enumerate(blocks):
            drawn = block[rng.integers(0, len(block), len(block))]
            counts = (~np.isnan(drawn)).sum(axis=0)
            means[row] = np.where(counts > 0, np.nansum(drawn, axis=0) / np.maximum(counts, 1), np.nan)
        yield pd.DataFrame(means, index=sizes, columns=labels)


def _fit_column(means: pd.DataFrame, label: str, sizes=None, lows=None, highs=None) -> CurveFit:
    """`label`'s curve through its means (at `sizes` only, if given); with `lows` and `highs` (tables like
    `means`: the 95% CIs) every check of `fit_curve`, without them a resample's."""
    if label not in means:
        return fit_curve([], [])
    column = means[label].to_numpy()
    index = means.index.to_numpy()
    keep = ~np.isnan(column) if sizes is None else ~np.isnan(column) & np.isin(index, list(sizes))
    if lows is None:
        return fit_curve(index[keep], column[keep], strict=False)
    def bounds(table: pd.DataFrame) -> np.ndarray:
        return (table[label].reindex(index) if label in table else pd.Series(np.nan, index=index)).to_numpy()[keep]

    return fit_curve(index[keep], column[keep], bounds(lows), bounds(highs))


def _interval(values: list[float]) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles; inf stays inf (an answer beyond the limit)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    last = len(ordered) - 1
    return float(ordered[int(math.floor(0.025 * last))]), float(ordered[int(math.ceil(0.975 * last))])


def analyse_efficiency(cells: pd.DataFrame, pairs=(("conv", "flat"),), num_resamples: int = NUM_RESAMPLES,
                       seed: int = BOOTSTRAP_SEED) -> Efficiency:
    """Curves for every arm of a study's `cells` (columns architecture, sample_size, seed, test_accuracy, as
    core.study.analyse makes them), the multipliers for each (better, other) pair present and the prediction
    check. An arm whose curve has a 95% band of no width (its seeds agree at every size, or it has one seed per
    size: resampling them changes nothing) is refused too. Deterministic for a given `seed`."""
    means = _means(cells) if not cells.empty else pd.DataFrame()
    lows, highs = (_means(cells, "low"), _means(cells, "high")) if not cells.empty else (None, None)
    labels = list(dict.fromkeys(cells["architecture"])) if not cells.empty else []
    seeds = ({label: int(group.groupby("sample_size")["seed"].nunique().max())
              for label, group in cells.groupby("architecture", sort=False)} if not cells.empty else {})
    fits, refused = {}, {}
    for label in labels:
        try:
            fits[label] = _fit_column(means, label, lows=lows, highs=highs)
        except NotFittable as reason:
            refused[label] = str(reason)
    resampled = {label: [] for label in fits}       # per resample: CurveFit or None
    resampled_means = []
    if fits:
        for table in _resamples(cells, num_resamples, seed):
            resampled_means.append(table)
            for label in fits:
                try:
                    resampled[label].append(_fit_column(table, label))
                except NotFittable:
                    resampled[label].append(None)
    bands = _bands(fits, resampled)
    for label in list(fits):
        band = bands[bands["architecture"] == label]
        if len(band) and (band["high"] - band["low"]).max() < ZERO_WIDTH:
            refused[label] = (f"{'it has one seed per sample size' if seeds[label] < 2 else 'its seeds agree exactly'}"
                              f", so resampling them changes nothing and its curve has no 95% band (train 2 or more "
                              f"seeds that differ)")
            del fits[label]
    bands = bands[bands["architecture"].isin(list(fits))].reset_index(drop=True)
    multipliers = [multiplier for better, other in pairs if better in labels and other in labels
                   for multiplier in _multipliers(better, other, means, fits, resampled, resampled_means)]
    check = prediction_check(cells, num_resamples=max(50, num_resamples // 3), seed=seed)
    return Efficiency(fits, refused, bands, multipliers, check, num_resamples, seeds)


ZERO_WIDTH = 1e-9  # a band narrower than this (in accuracy) everywhere has no width


def _bands(fits: dict, resampled: dict) -> pd.DataFrame:
    rows = []
    for label, fit in fits.items():
        grid = np.geomspace(min(fit.sizes), max(fit.sizes), 40)
        curves = np.array([found.accuracy(grid) for found in resampled[label] if found is not None])
        low, high = (np.percentile(curves, [2.5, 97.5], axis=0) if len(curves) >= 10
                     else (np.full_like(grid, np.nan), np.full_like(grid, np.nan)))
        rows += [{"architecture": label, "sample_size": float(size), "fit": float(value), "low": float(lo),
                  "high": float(hi)} for size, value, lo, hi in zip(grid, fit.accuracy(grid), low, high)]
    return pd.DataFrame(rows, columns=["architecture", "sample_size", "fit", "low", "high"])


def limits(fit: CurveFit) -> tuple[float, float]:
    """The sizes an answer may lie between: MAX_EXTRAPOLATION× below the smallest fitted, above the largest."""
    return min(fit.sizes) / MAX_EXTRAPOLATION, max(fit.sizes) * MAX_EXTRAPOLATION


def _multipliers(better, other, means, fits, resampled, resampled_means) -> list[Multiplier]:
    found = []
    for size in means[better].dropna().index:
        target = float(means.loc[size, better])
        base = dict(better=better, other=other, sample_size=int(size), target=target)
        if other not in fits:
            found.append(Multiplier(**base, refusal=NO_CURVE))
            continue
        fit = fits[other]
        smallest, largest = limits(fit)
        images = fit.images_for(target)
        if math.isinf(images):
            found.append(Multiplier(**base, images=images, refusal=ABOVE_CEILING))
            continue
        if not smallest <= images <= largest:
            found.append(Multiplier(**base, images=images, refusal=BEYOND))
            continue
        factors = []
        for curve, table in zip(resampled[other], resampled_means):
            wanted = table.loc[size, better] if size in table.index else np.nan
            if curve is None or np.isnan(wanted):
                factors.append(math.inf)  # no curve in this resample: counted as out of reach
                continue
            needed = curve.images_for(float(wanted))
            factors.append(needed / size if smallest <= needed <= largest or needed < smallest else math.inf)
        low, high = _interval(factors)
        if math.isinf(high):  # a number whose interval has no top is no number
            found.append(Multiplier(**base, images=images, low=low, high=high, refusal=UNCERTAIN))
            continue
        found.append(Multiplier(**base, images=images, factor=images / size, low=low, high=high))
    return found


def prediction_check(cells: pd.DataFrame, num_resamples: int = 100, seed: int = BOOTSTRAP_SEED) -> pd.DataFrame:
    """Each arm fitted on its smaller sizes only (all but the largest CHECK_HELD_OUT, keeping at least
    MIN_SIZES), its prediction for each held-out size with a 95% band over resampled seeds, and the measured
    mean there. Empty when no arm has enough sizes to hold any out."""
    columns = ["architecture", "fitted_on", "sample_size", "predicted", "low", "high", "measured", "error"]
    if cells.empty:
        return pd.DataFrame(columns=columns)
    means, lows, highs = _means(cells), _means(cells, "low"), _means(cells, "high")
    rows = []
    for label in dict.fromkeys(cells["architecture"]):
        sizes = list(means[label].dropna().index)
        held_out = sizes[max(MIN_SIZES, len(sizes) - CHECK_HELD_OUT):]
        fitted_on = sizes[:len(sizes) - len(held_out)]
        if not held_out:
            continue
        try:
            fit = _fit_column(means, label, fitted_on, lows, highs)
        except NotFittable:
            continue
        curves = []
        for table in _resamples(cells[cells["architecture"] == label], num_resamples, seed):
            try:
                curves.append(_fit_column(table, label, fitted_on).accuracy(held_out))
            except NotFittable:
                continue
        low, high = (np.percentile(curves, [2.5, 97.5], axis=0) if len(curves) >= 10
                     else (np.full(len(held_out), np.nan),) * 2)
        for position, size in enumerate(held_out):
            predicted = float(fit.accuracy([size])[0])
            measured = float(means.loc[size, label])
            rows.append({"architecture": label, "fitted_on": ", ".join(f"{value:,}" for value in fitted_on),
                         "sample_size": int(size), "predicted": predicted, "low": float(low[position]),
                         "high": float(high[position]), "measured": measured, "error": predicted - measured})
    return pd.DataFrame(rows, columns=columns)


def as_records(result: Efficiency) -> dict:
    """JSON-friendly: the model, the fitted parameters, the refusals, the multipliers and the check."""
    return {"model": MODEL_FORMULA, "num_resamples": result.num_resamples,
            "fits": {label: {"a": fit.ceiling, "b": fit.shortfall, "c": fit.rate, "sizes": list(fit.sizes)}
                     for label, fit in result.fits.items()},
            "refused": result.refused,
            "multipliers": [{key: (None if isinstance(value, float) and math.isinf(value) else value)
                             for key, value in vars(multiplier).items()} for multiplier in result.multipliers],
            "check": result.check.to_dict(orient="records")}
