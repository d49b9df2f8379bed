"""Robustness from stored models: level 0 reproduces the stored accuracy, the table is cached beside the run,
and a cache that cannot be trusted is recomputed."""

import numpy as np
import pytest

from core.config import TrainConfig
from core.perturb import PERTURBATIONS
from core.robustness import CACHE_FILE, measure, summarise_over_seeds
from core.runs import RunStore
from tests.fakes import run_folder, service


@pytest.fixture(scope="module")
def stored(digits, tmp_path_factory):
    """Real trained runs (2 epochs on 300 digits): flat and conv."""
    store = RunStore(tmp_path_factory.mktemp("robust") / "store")
    return {name: service(store).get_or_train(TrainConfig(architecture=name, sample_size=300, num_epochs=2), digits).run
            for name in ("flat", "conv")}


class CountingLoader:
    def __init__(self, run):
        self.run, self.calls = run, 0

    def __call__(self):
        self.calls += 1
        return self.run.load_model()


@pytest.fixture
def fresh(stored):
    for run in stored.values():
        (run_folder(run) / CACHE_FILE).unlink(missing_ok=True)
    return stored


def test_level_zero_reproduces_the_stored_test_accuracy_exactly(fresh, digits):
    for run in fresh.values():
        table = measure(run, digits).table(digits.y_test)
        identities = table[[level == PERTURBATIONS[name].levels[0] for name, level in
                            zip(table["perturbation"], table["level"])]]
        assert len(identities) == 4 and set(identities["accuracy"]) == {run.test_accuracy}


def test_every_perturbation_and_level_is_measured_and_accuracy_falls_with_the_shift(fresh, digits):
    table = measure(fresh["conv"], digits, names=("shift", "rotate", "scale", "noise", "elastic")).table(
        digits.y_test, names=("shift", "rotate", "scale", "noise", "elastic"))
    assert len(table) == sum(len(p.levels) for p in PERTURBATIONS.values())
    assert table["accuracy"].between(0, 1).all()
    shifts = table[table["perturbation"] == "shift"]["accuracy"].to_numpy()
    assert shifts[0] > shifts[-1] + 0.2  # four pixels off centre costs this barely trained net a lot


def test_a_second_look_comes_from_the_cache_without_loading_the_model(fresh, digits):
    run = fresh["flat"]
    first = CountingLoader(run)
    measured = measure(run, digits, load_model=first)
    assert first.calls == 1 and measured.computed == 20 and (run_folder(run) / CACHE_FILE).exists()
    again = CountingLoader(run)
    reopened = measure(RunStore(run_folder(run).parents[1]).get(run.run_id), digits, load_model=again)
    assert again.calls == 0 and reopened.computed == 0
    assert all(np.array_equal(measured.predictions[key], reopened.predictions[key]) for key in measured.predictions)


def test_asking_for_one_more_perturbation_computes_only_that_one(fresh, digits):
    run = fresh["flat"]
    measure(run, digits, names=("shift",))
    more = measure(run, digits, names=("shift", "elastic"))
    assert more.computed == len(PERTURBATIONS["elastic"].levels)


def damage_bytes(path):
    path.write_bytes(path.read_bytes()[:100])


def impossible_labels(path):
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["shift@1"] = np.full_like(arrays["shift@1"], 42)
    np.savez(path, **arrays)


def other_version(path):
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["meta"] = np.array(str(arrays["meta"]).replace('"version": 1', '"version": 0'))
    np.savez(path, **arrays)


@pytest.mark.parametrize("damage", [damage_bytes, impossible_labels, other_version])
def test_a_cache_that_cannot_be_trusted_is_recomputed(fresh, digits, damage):
    run = fresh["flat"]
    expected = measure(run, digits).table(digits.y_test)
    damage(run_folder(run) / CACHE_FILE)
    loader = CountingLoader(run)
    again = measure(run, digits, load_model=loader)
    assert loader.calls == 1 and again.computed == 20
    assert again.table(digits.y_test).equals(expected)


def test_a_store_that_cannot_keep_the_cache_still_gives_the_table(fresh, digits, monkeypatch):
    def refuse(*args):
        raise PermissionError(13, "Permission denied")

    from core import atomic

    monkeypatch.setattr(atomic.os, "replace", refuse)
    run = fresh["flat"]
    assert len(measure(run, digits).table(digits.y_test)) == 20
    assert not (run_folder(run) / CACHE_FILE).exists()
    assert not [path for path in run_folder(run).iterdir() if path.name.endswith(".tmp")]


def test_a_run_on_other_data_is_refused(stored, digits):
    other = digits.__class__(**{**digits.__dict__, "key": "another"})
    with pytest.raises(ValueError, match="other data"):
        measure(stored["flat"], other)


def test_summaries_over_seeds_have_a_ci_only_with_two_seeds_or_more():
    import pandas as pd

    def table(accuracy):
        return pd.DataFrame({"perturbation": ["shift"], "level": [1], "accuracy": [accuracy]})

    summary = summarise_over_seeds({"conv": [table(0.8), table(0.9)], "flat": [table(0.5)]}).set_index("network")
    assert summary.loc["conv", "mean_accuracy"] == pytest.approx(0.85) and summary.loc["conv", "ci_low"] < 0.8
    assert np.isnan(summary.loc["flat", "ci_low"]) and summary.loc["flat", "seeds"] == 1
