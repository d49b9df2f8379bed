import math

import numpy as np
import pandas as pd
import pytest

from core.efficiency import (MAX_EXTRAPOLATION, CurveFit, NotFittable, analyse_efficiency, as_records, fit_curve,
                             prediction_check)

SIZES = (100, 300, 1000, 3000, 10000)
CONV = (0.99, 0.05, 0.6)   # a, b, c
FLAT = (0.97, 0.08, 0.45)


def law(sizes, a, b, c):
    return a - b * (np.asarray(sizes, dtype=float) / 1000) ** (-c)


def study_cells(curves: dict, sizes=SIZES, seeds=3, noise=0.0, rng=None) -> pd.DataFrame:
    rng = rng or np.random.default_rng(0)
    return pd.DataFrame([{"architecture": label, "sample_size": size, "seed": seed,
                          "test_accuracy": float(law(size, *parameters) + noise * rng.standard_normal())}
                         for label, parameters in curves.items() for size in sizes for seed in range(seeds)])


@pytest.mark.parametrize("parameters", [CONV, FLAT, (0.9, 0.2, 0.3), (0.999, 0.01, 1.5)])
def test_the_fit_recovers_the_parameters_of_an_exact_curve(parameters):
    fit = fit_curve(SIZES, law(SIZES, *parameters))
    assert (fit.ceiling, fit.shortfall, fit.rate) == pytest.approx(parameters, rel=1e-3)
    assert fit.sizes == SIZES


def test_the_fit_recovers_the_parameters_of_a_noisy_curve_within_noise(rng):
    sizes = np.repeat(SIZES, 20)
    accuracies = law(sizes, *FLAT) + rng.normal(0, 0.003, len(sizes))
    means = pd.Series(accuracies).groupby(sizes).mean()
    fit = fit_curve(means.index, means.to_numpy())
    assert fit.ceiling == pytest.approx(FLAT[0], abs=0.01)
    assert fit.accuracy([1000, 5000]) == pytest.approx(law([1000, 5000], *FLAT), abs=0.003)


def test_images_for_inverts_the_curve():
    fit = CurveFit(*FLAT, SIZES)
    assert fit.images_for(float(law(2500, *FLAT))) == pytest.approx(2500)
    assert math.isinf(fit.images_for(FLAT[0]))  # at or above the ceiling: never


@pytest.mark.parametrize("sizes, accuracies, reason", [
    ((100, 1000), (0.8, 0.9), "needs at least 3"),
    ((100, 100, 1000), (0.8, 0.81, 0.9), "needs at least 3"),
    ((100, 300, 1000), (0.90, 0.902, 0.904), "hardly rises"),
    ((100, 300, 1000), (0.95, 0.90, 0.85), "hardly rises"),  # falling
])
def test_the_fit_refuses_degenerate_curves_with_a_reason(sizes, accuracies, reason):
    with pytest.raises(NotFittable, match=reason):
        fit_curve(sizes, accuracies)


def test_bad_accuracies_are_value_errors():
    with pytest.raises(ValueError, match="from 0 to 1"):
        fit_curve((100, 300, 1000), (0.5, 0.7, 80.0))


def test_the_multiplier_is_the_images_flat_needs_for_convs_accuracy():
    efficiency = analyse_efficiency(study_cells({"conv": CONV, "flat": FLAT}), num_resamples=60)
    by_size = {multiplier.sample_size: multiplier for multiplier in efficiency.multipliers}
    # Exact curves: flat needs n with law(n, FLAT) = law(N, CONV).
    target = float(law(300, *CONV))
    expected = 1000 * (FLAT[1] / (FLAT[0] - target)) ** (1 / FLAT[2])
    assert by_size[300].images == pytest.approx(expected, rel=1e-2)
    assert by_size[300].factor == pytest.approx(expected / 300, rel=1e-2)
    assert by_size[300].low <= by_size[300].factor <= by_size[300].high  # no noise: a narrow interval around it
    assert "needs about" in efficiency.sentences["efficiency"]
    # At 10,000 images conv (98.4%) is above flat's ceiling (97%): no number, and why.
    assert by_size[10000].factor is None and "levels off at 97.0%" in by_size[10000].reason


def test_an_answer_far_beyond_the_sizes_measured_is_refused():
    near_ceiling = (0.97, 0.08, 0.2)  # flat creeps up: conv's 1,000-image accuracy needs ~10^6 images
    efficiency = analyse_efficiency(study_cells({"conv": CONV, "flat": near_ceiling}, sizes=(100, 300, 1000)),
                                    num_resamples=30)
    refused = {multiplier.sample_size: multiplier for multiplier in efficiency.multipliers}[1000]
    assert refused.factor is None and "beyond what was measured" in refused.reason
    assert f"{MAX_EXTRAPOLATION:g}× the largest size" in refused.reason


def test_too_few_sizes_and_flat_curves_are_said_in_the_sentence():
    two_sizes = analyse_efficiency(study_cells({"conv": CONV, "flat": FLAT}, sizes=(100, 1000)), num_resamples=20)
    assert ("no estimate" in two_sizes.sentences["efficiency"]
            and "needs at least 3" in two_sizes.sentences["efficiency"])
    assert "needs at least 4 sample sizes" in two_sizes.sentences["check"]
    flat_curve = analyse_efficiency(study_cells({"conv": CONV, "flat": (0.9, 0.0, 0.5)}), num_resamples=20)
    assert "hardly rises" in flat_curve.sentences["efficiency"]


def test_the_interval_covers_the_truth_on_noisy_seeds(rng):
    cells = study_cells({"conv": CONV, "flat": FLAT}, seeds=5, noise=0.004, rng=rng)
    efficiency = analyse_efficiency(cells, num_resamples=200)
    multiplier = {found.sample_size: found for found in efficiency.multipliers}[300]
    truth = 1000 * (FLAT[1] / (FLAT[0] - float(law(300, *CONV)))) ** (1 / FLAT[2]) / 300
    assert multiplier.low <= truth <= multiplier.high
    assert multiplier.high < 3 * multiplier.low  # informative, not everything


def test_the_prediction_check_fits_the_smaller_sizes_and_predicts_the_larger():
    check = prediction_check(study_cells({"conv": CONV}), num_resamples=20)
    assert list(check["sample_size"]) == [3000, 10000]
    assert set(check["fitted_on"]) == {"100, 300, 1,000"}
    assert check["error"].abs().max() < 1e-3  # an exact power law is predicted exactly
    wrong_model = study_cells({"conv": CONV})
    wrong_model.loc[wrong_model["sample_size"] == 10000, "test_accuracy"] -= 0.05  # a curve that turns down
    missed = prediction_check(wrong_model, num_resamples=20).set_index("sample_size")
    assert missed.loc[10000, "error"] == pytest.approx(0.05, abs=1e-3)


def test_bands_and_records_are_ready_for_the_chart_and_json():
    efficiency = analyse_efficiency(study_cells({"conv": CONV, "flat": FLAT}, noise=0.002), num_resamples=40)
    assert set(efficiency.bands["architecture"]) == {"conv", "flat"}
    assert (efficiency.bands["low"] <= efficiency.bands["high"]).all()
    records = as_records(efficiency)
    assert records["fits"]["conv"]["a"] == pytest.approx(CONV[0], abs=0.01)
    assert len(records["multipliers"]) == len(SIZES)


def test_the_same_cells_give_the_same_answer():
    cells = study_cells({"conv": CONV, "flat": FLAT}, noise=0.004)
    first = analyse_efficiency(cells, num_resamples=50)
    assert analyse_efficiency(cells, num_resamples=50).sentences == first.sentences
