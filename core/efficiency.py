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

Refusals, each with its reason: fewer than MIN_SIZES sample sizes; an accuracy that hardly rises with n (a
flat curve has no size to solve for); a fit that does not converge; and an answer outside
[smallest size / MAX_EXTRAPOLATION, largest size × MAX_EXTRAPOLATION] — beyond what was measured.

The honest check: the curves are fitted again on the smaller sizes only and their predictions for the
larger, measured ones are reported next to the measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MODEL_WORDS = "inverse power law accuracy(n) = a − b·(n/1,000)^(−c)"
REFERENCE_SIZE = 1000       # n is divided by this: b is the shortfall from the ceiling at 1,000 images
MIN_SIZES = 3               # three parameters: at least three sample sizes
MIN_RISE = 0.01             # the mean accuracy must rise by at least 1 point from the smallest to the largest size
MAX_EXTRAPOLATION = 4.0     # an answer at most 4× beyond the sizes measured (either side)
NUM_RESAMPLES = 300         # bootstrap resamples of the seeds: about a second for a study's arms here
BOOTSTRAP_SEED = 26
CHECK_HELD_OUT = 2          # the prediction check holds out up to this many of the largest sizes
CEILING_BOUNDS = (0.0, 1.0)
RATE_BOUNDS = (0.05, 3.0)


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


def fit_curve(sizes, accuracies) -> CurveFit:
    """The inverse power law through mean accuracies (0..1) at `sizes` (images; one value per size).
    Raises NotFittable with the reason when the points cannot support it."""
    sizes = np.asarray(sizes, dtype=float)
    accuracies = np.asarray(accuracies, dtype=float)
    if sizes.shape != accuracies.shape or sizes.ndim != 1:
        raise ValueError("One mean accuracy per sample size is needed.")
    if len(np.unique(sizes)) < MIN_SIZES:
        raise NotFittable(f"{len(np.unique(sizes))} sample size(s) measured; a learning curve has three parameters, "
                          f"so it needs at least {MIN_SIZES}")
    if not np.all(np.isfinite(accuracies)) or np.any((accuracies < 0) | (accuracies > 1)):
        raise ValueError("Accuracies must be numbers from 0 to 1.")
    order = np.argsort(sizes)
    sizes, accuracies = sizes[order], accuracies[order]
    rise = accuracies[-1] - accuracies[0]
    if rise < MIN_RISE:
        raise NotFittable(f"the accuracy hardly rises with the sample size ({accuracies[0]:.1%} at {sizes[0]:,.0f} "
                          f"images, {accuracies[-1]:.1%} at {sizes[-1]:,.0f}): a flat curve says nothing about "
                          f"how many images a given accuracy needs")
    return _fitted(sizes, accuracies)


def _fitted(sizes: np.ndarray, accuracies: np.ndarray) -> CurveFit:
    """The least-squares fit for checked, sorted points (no refusals here)."""
    from scipy.optimize import minimize_scalar

    scaled = sizes / REFERENCE_SIZE
    grid = RATE_GRID
    errors = _grid_errors(scaled, accuracies, grid)
    best = int(np.argmin(errors))
    bounds = (grid[max(0, best - 1)], grid[min(len(grid) - 1, best + 1)])
    found = minimize_scalar(lambda rate: _solve(scaled, accuracies, rate)[2], bounds=bounds, method="bounded",
                            options={"xatol": 1e-4})
    rate = float(found.x) if found.success and found.fun <= errors[best] else float(grid[best])
    ceiling, shortfall, _ = _solve(scaled, accuracies, rate)
    if not np.isfinite([ceiling, shortfall]).all():
        raise NotFittable("the curve fit did not converge")
    return CurveFit(float(ceiling), float(shortfall), rate, tuple(int(size) for size in sizes))


RATE_GRID = np.geomspace(*RATE_BOUNDS, 64)


def _grid_errors(scaled: np.ndarray, accuracies: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """`_solve`'s squared error for every power in `rates` at once, (num_rates,)."""
    power = scaled[np.newaxis, :] ** (-rates[:, np.newaxis])            # (num_rates, num_sizes)
    centred = power - power.mean(axis=1, keepdims=True)
    spread = np.einsum("ij,ij->i", centred, centred)
    shortfall = np.maximum(0.0, -(centred @ (accuracies - accuracies.mean())) / np.where(spread > 0, spread, 1))
    ceiling = accuracies.mean() + shortfall * power.mean(axis=1)
    capped = ceiling > CEILING_BOUNDS[1]
    capped_shortfall = np.maximum(0.0, (power @ (CEILING_BOUNDS[1] - accuracies)) / np.einsum("ij,ij->i", power, power))
    shortfall = np.where(capped, capped_shortfall, shortfall)
    ceiling = np.where(capped, CEILING_BOUNDS[1], ceiling)
    residual = accuracies[np.newaxis, :] - (ceiling[:, np.newaxis] - shortfall[:, np.newaxis] * power)
    return np.einsum("ij,ij->i", residual, residual)


def _solve(scaled: np.ndarray, accuracies: np.ndarray, rate: float) -> tuple[float, float, float]:
    """For a given power c: the least-squares ceiling a ≤ 1 and shortfall b ≥ 0, and the sum of squared errors."""
    power = scaled ** (-rate)                       # accuracy = a − b · power
    centred = power - power.mean()
    spread = float(centred @ centred)
    shortfall = max(0.0, -float(centred @ (accuracies - accuracies.mean())) / spread) if spread > 0 else 0.0
    ceiling = float(accuracies.mean() + shortfall * power.mean())
    if ceiling > CEILING_BOUNDS[1]:                 # accuracy cannot pass 1: fix a = 1 and solve for b alone
        ceiling = CEILING_BOUNDS[1]
        shortfall = max(0.0, float(power @ (ceiling - accuracies)) / float(power @ power))
    residual = accuracies - (ceiling - shortfall * power)
    return ceiling, shortfall, float(residual @ residual)


@dataclass(frozen=True)
class Multiplier:
    """How many times N images the other arm needs to reach the better arm's measured accuracy at N."""
    better: str
    other: str
    sample_size: int                 # N
    target: float                    # the better arm's mean accuracy at N
    images: float | None = None      # the other arm's fitted images for it
    factor: float | None = None      # images / N
    low: float | None = None         # 95% interval of the factor over resamples; inf: beyond the limit
    high: float | None = None
    reason: str | None = None        # why there is no number


@dataclass
class Efficiency:
    fits: dict                       # label -> CurveFit fitted on every size
    refused: dict                    # label -> reason it has no fit
    bands: pd.DataFrame              # label, sample_size, fit, low, high: the fitted curve and its 95% band
    multipliers: list                # of Multiplier
    check: pd.DataFrame              # label, fitted_on, sample_size, predicted, low, high, measured, error
    num_resamples: int
    sentences: dict = field(default_factory=dict)  # "efficiency", "check": one plain paragraph each


def _means(cells: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy per arm (rows: sample size, columns: label)."""
    return cells.pivot_table(index="sample_size", columns="architecture", values="test_accuracy", aggfunc="mean")


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


def _fit_column(means: pd.DataFrame, label: str, sizes=None) -> CurveFit:
    if label not in means:
        return fit_curve([], [])
    column = means[label].to_numpy()
    index = means.index.to_numpy()
    keep = ~np.isnan(column) if sizes is None else ~np.isnan(column) & np.isin(index, list(sizes))
    return fit_curve(index[keep], column[keep])


def _interval(values: list[float]) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles; inf stays inf (an answer beyond the limit)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    last = len(ordered) - 1
    return float(ordered[int(math.floor(0.025 * last))]), float(ordered[int(math.ceil(0.975 * last))])


def analyse_efficiency(cells: pd.DataFrame, pairs=(("conv", "flat"),), num_resamples: int = NUM_RESAMPLES,
                       seed: int = BOOTSTRAP_SEED) -> Efficiency:
    """Curves for every arm of a study's `cells` (columns architecture, sample_size, seed, test_accuracy, as
    core.study.analyse makes them), the multipliers for each (better, other) pair present, the prediction
    check, and their sentences. Deterministic for a given `seed`."""
    means = _means(cells) if not cells.empty else pd.DataFrame()
    labels = list(dict.fromkeys(cells["architecture"])) if not cells.empty else []
    fits, refused = {}, {}
    for label in labels:
        try:
            fits[label] = _fit_column(means, label)
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
    multipliers = [multiplier for better, other in pairs if better in labels and other in labels
                   for multiplier in _multipliers(better, other, means, fits, refused, resampled, resampled_means)]
    check = prediction_check(cells, num_resamples=max(50, num_resamples // 3), seed=seed)
    result = Efficiency(fits, refused, bands, multipliers, check, num_resamples)
    result.sentences = {"efficiency": efficiency_sentence(result, pairs), "check": check_sentence(check)}
    return result


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


def _limits(fit: CurveFit) -> tuple[float, float]:
    return min(fit.sizes) / MAX_EXTRAPOLATION, max(fit.sizes) * MAX_EXTRAPOLATION


def _multipliers(better, other, means, fits, refused, resampled, resampled_means) -> list[Multiplier]:
    found = []
    for size in means[better].dropna().index:
        target = float(means.loc[size, better])
        base = dict(better=better, other=other, sample_size=int(size), target=target)
        if other not in fits:
            found.append(Multiplier(**base, reason=f"{other} has no learning curve: {refused.get(other, 'no cells')}"))
            continue
        fit = fits[other]
        smallest, largest = _limits(fit)
        images = fit.images_for(target)
        if math.isinf(images):
            found.append(Multiplier(**base, images=images, reason=(
                f"beyond what was measured: {other}'s curve, fitted on up to {max(fit.sizes):,} images, levels off "
                f"at {fit.ceiling:.1%}, below {better}'s {target:.1%}; it cannot tell whether or when more images "
                f"would get there")))
            continue
        if not smallest <= images <= largest:
            where = "above" if images > largest else "below"
            limit = largest if images > largest else smallest
            found.append(Multiplier(**base, images=images, reason=(
                f"beyond what was measured: {other} would need about {images:,.0f} images, {where} "
                f"{limit:,.0f} ({MAX_EXTRAPOLATION:g}× {'the largest' if where == 'above' else 'below the smallest'} "
                f"size studied)")))
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
        found.append(Multiplier(**base, images=images, factor=images / size, low=low, high=high))
    return found


def prediction_check(cells: pd.DataFrame, num_resamples: int = 100, seed: int = BOOTSTRAP_SEED) -> pd.DataFrame:
    """Each arm fitted on its smaller sizes only (all but the largest CHECK_HELD_OUT, keeping at least
    MIN_SIZES), its prediction for each held-out size with a 95% band over resampled seeds, and the measured
    mean there. Empty when no arm has enough sizes to hold any out."""
    columns = ["architecture", "fitted_on", "sample_size", "predicted", "low", "high", "measured", "error"]
    if cells.empty:
        return pd.DataFrame(columns=columns)
    means = _means(cells)
    rows = []
    for label in dict.fromkeys(cells["architecture"]):
        sizes = list(means[label].dropna().index)
        held_out = sizes[max(MIN_SIZES, len(sizes) - CHECK_HELD_OUT):]
        fitted_on = sizes[:len(sizes) - len(held_out)]
        if not held_out:
            continue
        try:
            fit = _fit_column(means, label, fitted_on)
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


def _size_words(size: float) -> str:
    return f"{size:,.0f}"


def _factor_words(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def efficiency_sentence(result: Efficiency, pairs=(("conv", "flat"),)) -> str:
    """One paragraph: the multiplier at each size of the better arm, or why there is none."""
    head = f"Data efficiency ({MODEL_WORDS}, fitted per network; 95% intervals from {result.num_resamples} " \
           f"resamplings of the seeds): "
    if not result.multipliers:
        present = {label for pair in pairs for label in pair}
        missing = [label for label in sorted(present) if label not in result.fits and label not in result.refused]
        if result.refused:
            return head + "no estimate — " + "; ".join(f"{label}: {reason}" for label, reason in
                                                        result.refused.items()) + "."
        return head + f"needs the {' and the '.join(missing) or 'two'} network(s) in the study."
    parts = []
    for better, other in pairs:
        found = [multiplier for multiplier in result.multipliers
                 if (multiplier.better, multiplier.other) == (better, other)]
        if found and other in result.refused:
            parts.append(f"{other} vs {better} — no estimate, {other} has no learning curve: {result.refused[other]}")
            continue
        above_ceiling = [multiplier for multiplier in found if multiplier.images is not None
                         and math.isinf(multiplier.images)]
        for multiplier in found:
            lead = (f"to reach {better}'s accuracy at {multiplier.sample_size:,} images "
                    f"({multiplier.target:.1%}), {other} ")
            if multiplier in above_ceiling:  # one sentence for all the sizes above the other's ceiling
                if multiplier is above_ceiling[0]:
                    parts.append(_above_ceiling_words(better, other, above_ceiling, result.fits[other]))
                continue
            if multiplier.factor is None:
                parts.append(lead + f"— no number: {multiplier.reason}")
                continue
            high = ("more than " + _factor_words(_limits(result.fits[other])[1] / multiplier.sample_size)
                    if math.isinf(multiplier.high) else _factor_words(multiplier.high))
            parts.append(lead + f"needs about {_factor_words(multiplier.factor)} × {multiplier.sample_size:,} = "
                                f"{_size_words(multiplier.images)} images (95% interval {_factor_words(multiplier.low)}"
                                f"–{high}×)")
    return head + "; ".join(parts) + "."


def _above_ceiling_words(better: str, other: str, multipliers: list, fit: CurveFit) -> str:
    sizes = [f"{multiplier.sample_size:,}" for multiplier in multipliers]
    targets = ", ".join(f"{multiplier.target:.1%}" for multiplier in multipliers)
    where = sizes[0] if len(sizes) == 1 else ", ".join(sizes[:-1]) + " and " + sizes[-1]
    return (f"at {where} images ({better}: {targets}) beyond what was measured: {other}'s curve, fitted on up to "
            f"{max(fit.sizes):,} images, levels off at {fit.ceiling:.1%}, below "
            f"{'that' if len(sizes) == 1 else 'each of these'}, so it cannot tell whether or when more images "
            f"would get {other} there")


def check_sentence(check: pd.DataFrame) -> str:
    """How well the curves fitted on the smaller sizes predicted the larger, measured ones."""
    head = "Prediction check (each curve fitted on the smaller sizes only, predicting the larger ones): "
    if check.empty:
        return head + f"needs at least {MIN_SIZES + 1} sample sizes, so that one can be held out."
    parts = []
    for label, rows in check.groupby("architecture", sort=False):
        predictions = ", ".join(
            f"at {row.sample_size:,} predicted {row.predicted:.1%}"
            + ("" if np.isnan(row.low) else f" (95% band {row.low:.1%}–{row.high:.1%})")
            + f", measured {row.measured:.1%}, off by {row.error * 100:+.1f} points" for row in rows.itertuples())
        parts.append(f"{label} (fitted on {rows['fitted_on'].iloc[0]}): {predictions}")
    inside = int(((check["low"] <= check["measured"]) & (check["measured"] <= check["high"])).sum())
    worst = float(check["error"].abs().max()) * 100
    return (head + "; ".join(parts) + f". {inside} of {len(check)} measurements fall inside their band; the "
            f"largest miss is {worst:.1f} points.")


def as_records(result: Efficiency) -> dict:
    """JSON-friendly: the fitted parameters, the refusals, the multipliers, the check and the sentences."""
    return {"model": MODEL_WORDS, "num_resamples": result.num_resamples,
            "fits": {label: {"a": fit.ceiling, "b": fit.shortfall, "c": fit.rate, "sizes": list(fit.sizes)}
                     for label, fit in result.fits.items()},
            "refused": result.refused,
            "multipliers": [{key: (None if isinstance(value, float) and math.isinf(value) else value)
                             for key, value in vars(multiplier).items()} for multiplier in result.multipliers],
            "check": result.check.to_dict(orient="records"), "sentences": result.sentences}
