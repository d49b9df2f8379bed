import json
import re
import time

import numpy as np
import pandas as pd
import pytest

from core import cli
from core.runs import jobs as jobs_module
from core.runs import RunStore
from core.study import (StudySpec, analyse, estimate_seconds, h1_verdict, h2_verdict, run_study,
                        student_comparison)
from core.architectures import PRESETS
from tests.fakes import FakeTrainer, service

PRESETS_CONV = PRESETS["conv"]

SPEC = StudySpec(sample_sizes=(100, 300), num_seeds=2, num_epochs=1)


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "study-store")


@pytest.mark.parametrize("low, high, verdict", [
    (0.81, 0.90, "supported"), (0.80, 0.85, "supported"), (0.70, 0.79, "not supported"),
    (0.78, 0.83, "inconclusive"), (np.nan, np.nan, "too few seeds"),
])
def test_h1_verdict_branches(low, high, verdict):
    assert h1_verdict(low, high) == verdict


@pytest.mark.parametrize("low, high, verdict", [
    (-0.01, 0.015, "comparable"), (0.03, 0.06, "conv better"), (-0.06, -0.03, "flat better"),
    (0.01, 0.05, "inconclusive"), (-0.03, 0.01, "inconclusive"), (np.nan, np.nan, "too few seeds"),
])
def test_h2_verdict_branches(low, high, verdict):
    assert h2_verdict(low, high, margin=0.02) == verdict


def test_default_sizes_stop_at_the_pool_and_include_it():
    assert StudySpec().sizes(4000) == [100, 300, 1000, 3000, 4000]
    assert StudySpec().sizes(60000) == [100, 300, 1000, 3000, 10000, 60000]


@pytest.mark.parametrize("kwargs, message", [
    ({"architectures": ()}, "at least one architecture"), ({"sample_sizes": ()}, "at least one sample size"),
    ({"num_seeds": 0}, "Seeds must be"), ({"margin": 0}, "margin"), ({"architectures": ("mlp",)}, "Unknown"),
    ({"precision": "fp8"}, "Unknown precision"),
])
def test_bad_specs_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StudySpec(**kwargs)


def test_a_study_passes_its_precision_to_every_cell():
    configs = StudySpec(sample_sizes=(100,), num_seeds=2, precision="bfloat16").configs(4000)
    assert [(config.architecture, config.precision) for config in configs] == \
        [("flat", "float32"), ("conv", "bfloat16")] * 2


def test_a_size_above_the_pool_is_refused_before_training(digits, store):
    trainer = FakeTrainer()
    with pytest.raises(ValueError, match="larger than the 4,000"):
        run_study(StudySpec(sample_sizes=(100, 5000)), digits, service(store, trainer))
    assert trainer.calls == []


def test_a_study_runs_end_to_end_and_a_second_run_trains_nothing(digits, store):
    trainer, cells = FakeTrainer(), []
    run_study(SPEC, digits, service(store, trainer), on_cell=cells.append)
    assert len(trainer.calls) == 8 and len(store.list_runs()) == 8
    # In this process each cell is reported as it starts, then when it has finished (where and how long).
    assert [(cell.index, cell.seconds is not None) for cell in cells] == [(index, done) for index in range(1, 9)
                                                                          for done in (False, True)]
    assert not any(cell.cached or cell.error for cell in cells)
    cells.clear()
    run_study(SPEC, digits, service(store, trainer), on_cell=cells.append)
    assert len(trainer.calls) == 8  # everything came from the store
    assert all(cell.cached for cell in cells)


def test_resuming_after_an_interruption_trains_only_the_missing_cells(digits, store):
    trainer = FakeTrainer()

    def interrupt_at_cell_five(cell):
        if cell.index == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_study(SPEC, digits, service(store, trainer), on_cell=interrupt_at_cell_five)
    # Cell 5 had started when Ctrl-C came: as on the workers, a started run finishes and is stored (the CLI's
    # process ends at once instead, and its run is not stored); the cells not started yet were dropped.
    time.sleep(0.5)  # whatever had started has finished (a fake cell takes milliseconds)
    trained = len(trainer.calls)
    assert 5 <= trained < 8  # the fake cells are instant: the executor may have started one more before the cancel
    assert estimate_seconds(SPEC, digits, service(store))[1] == 8 - trained
    run_study(SPEC, digits, service(store, trainer))
    assert len(trainer.calls) == 8
    assert estimate_seconds(SPEC, digits, service(store)) == (0.0, 0)


def test_analyse_summarises_cells_and_answers_both_hypotheses(digits, store):
    run_study(SPEC, digits, service(store, FakeTrainer()))
    report = analyse(SPEC, digits, service(store))
    assert report.missing == 0 and len(report.cells) == 8
    assert list(report.summary["seeds"]) == [2, 2, 2, 2]
    assert set(report.summary["h1"]) <= {"supported", "not supported", "inconclusive", "too few seeds"}
    assert list(report.gaps["sample_size"]) == [100, 300]
    # the fake conv is right ~95% of the time, flat ~85%: conv better in every pair, McNemar agrees
    assert (report.gaps["mean_difference"] > 0.05).all() and (report.gaps["mcnemar_p"] < 0.001).all()
    assert set(report.verdicts) == {"summary"}  # no matched networks, no shuffled pixels: nothing more to answer
    assert "conv − flat: conv is better by more than 2 points at 100 and 300 images." in report.verdicts["summary"]


def test_a_run_deleted_between_reading_the_store_and_its_predictions_counts_as_missing(digits, store, monkeypatch):
    """Another session deletes a run (or a full store evicts it) after analyse listed it and before McNemar's test
    read its predictions: the backend's KeyError made the page and the CLI fail; analyse now reads the store again."""
    from core.study import analysis

    run_study(SPEC, digits, service(store, FakeTrainer()))
    summarise, deleted = analysis.summarise, []

    def delete_one_meanwhile(cells):
        if not deleted:
            deleted.append(cells["run_id"].iloc[0])
            store.delete(deleted[0])
        return summarise(cells)

    monkeypatch.setattr(analysis, "summarise", delete_one_meanwhile)
    report = analyse(SPEC, digits, service(store))
    assert deleted and report.missing == 1 and len(report.cells) == 7
    assert deleted[0] not in set(report.cells["run_id"])


def test_partial_studies_report_what_is_missing(digits, store):
    run_study(StudySpec(sample_sizes=(100,), num_seeds=2, num_epochs=1), digits, service(store, FakeTrainer()))
    report = analyse(SPEC, digits, service(store))
    assert report.missing == 4 and set(report.cells["sample_size"]) == {100}


def test_a_study_of_one_network_answers_h1_only(digits, store):
    spec = StudySpec(architectures=("conv",), sample_sizes=(100,), num_seeds=3, num_epochs=1)
    run_study(spec, digits, service(store, FakeTrainer()))
    report = analyse(spec, digits, service(store))
    assert report.gaps.empty and set(report.verdicts) == {"summary"}
    assert "conv − flat" not in report.verdicts["summary"] and "H2" not in report.verdicts["summary"]


def test_student_comparison_puts_the_reported_numbers_next_to_ours(digits, store):
    spec = StudySpec(sample_sizes=(1000,), num_seeds=2, num_epochs=1)
    run_study(spec, digits, service(store, FakeTrainer()))
    table = student_comparison(analyse(spec, digits, service(store))).set_index("architecture")
    assert table.loc["conv", "student_accuracy"] == 0.91 and table.loc["flat", "student_train_seconds"] == 2.66
    assert 0 < table.loc["conv", "our_mean_accuracy"] <= 1


def test_estimate_uses_stored_timings(digits, store):
    spec = StudySpec(architectures=("flat",), sample_sizes=(100,), num_seeds=1, num_epochs=1)
    fallback, missing = estimate_seconds(spec, digits, service(store))
    assert missing == 1 and fallback > 0
    run_study(StudySpec(architectures=("flat",), sample_sizes=(300,), num_seeds=1, num_epochs=1), digits,
              service(store, FakeTrainer()))  # fake: 0.01 s per epoch for 300 images
    measured, _ = estimate_seconds(spec, digits, service(store))
    assert measured == pytest.approx(0.01 / 300 * 100 + 1.5)


def test_cli_study_prints_the_table_and_both_verdicts(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(jobs_module, "train", FakeTrainer())
    csv_path = tmp_path / "cells.csv"
    code = cli.main(["study", "--sizes", "100", "300", "--seeds", "2", "--epochs", "1", "--csv", str(csv_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[1].startswith("The answer: ")
    assert "H1: does each network reach at least 80%?" in out and "conv − flat (H2)" in out
    assert len(pd.read_csv(csv_path)) == 8
    code = cli.main(["study", "--sizes", "100", "--seeds", "2", "--epochs", "1", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and len(report["cells"]) == 4 and set(report["verdicts"]) == {"summary"}


@pytest.mark.parametrize("argv, message", [
    (["study", "--sizes", "5000"], "larger than the 4,000"),
    (["study", "--seeds", "0"], "Seeds must be between 1 and 20"),
    (["study", "--margin", "0"], "margin"),
    (["study", "--sizes", "x"], "whole number or 'full'"),
    (["study", "--csv", "/nonexistent/folder/cells.csv"], "does not exist"),
])
def test_cli_study_bad_arguments(capsys, monkeypatch, argv, message):
    trainer = FakeTrainer()
    monkeypatch.setattr(jobs_module, "train", trainer)
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert trainer.calls == []


CAPACITY = StudySpec(architectures=("flat", "conv", "flat-wide", "conv-small"), sample_sizes=(100, 300), num_seeds=3,
                     num_epochs=1)


def test_a_study_of_any_networks_compares_the_default_pairs_present(digits, store):
    run_study(CAPACITY, digits, service(store, FakeTrainer()))
    report = analyse(CAPACITY, digits, service(store))
    assert CAPACITY.pairs == (("conv", "flat"), ("conv", "flat-wide"), ("conv-small", "flat"))
    assert sorted(set(zip(report.gaps["first"], report.gaps["second"]))) == sorted(CAPACITY.pairs)
    assert list(report.gaps["sample_size"]) == [100, 300] * 3
    assert len(report.cells) == 24


def test_convolution_is_the_answer_when_matched_conv_networks_still_win(digits, store):
    run_study(CAPACITY, digits,
              service(store, FakeTrainer(lambda config: 0.95 if config.spec.has_convolution else 0.80)))
    sentence = analyse(CAPACITY, digits, service(store)).verdicts["capacity"]
    assert sentence.startswith("Convolution or capacity? Convolution: with parameter counts matched, the convolutional "
                               "network is still better wherever the data decide (4 of 4 cells")
    # flat and flat-wide are equally good here, so conv's whole lead over flat survives matching the parameters
    assert re.search(r"At 300 images conv leads flat by (1\d\.\d) points and flat-wide \(same parameter count\) by "
                     r"\1: about 100% of the gap is convolution, 0% capacity\.", sentence)
    assert re.search(r"conv − flat-wide \(600,810 vs 600,247 parameters\): \+1\d\.\d at 100 \(CI \+1\d", sentence)
    assert re.search(r"conv-small − flat \(42,542 vs 42,310 parameters\): \+1\d\.\d at 100", sentence)


def test_capacity_is_the_answer_when_matched_networks_are_comparable(digits, store):
    def by_parameters(config):
        return 0.95 if config.spec.num_params > 100_000 else 0.80

    run_study(CAPACITY, digits, service(store, FakeTrainer(by_parameters)))
    report = analyse(CAPACITY, digits, service(store))
    assert report.verdicts["capacity"].startswith("Convolution or capacity? Capacity: with parameter counts matched, "
                                                  "the convolutional network is no better (4 of 4 cells")
    assert re.search(r"conv leads flat by 1\d\.\d points and flat-wide \(same parameter count\) by 0\.0: about 0% of "
                     r"the gap is convolution, 100% capacity\.", report.verdicts["capacity"])
    verdicts = {pair: set(group["verdict"]) for pair, group in report.gaps.groupby(["first", "second"])}
    assert verdicts == {("conv", "flat"): {"conv better"}, ("conv", "flat-wide"): {"comparable"},
                        ("conv-small", "flat"): {"comparable"}}


def test_matched_pairs_given_flat_first_are_read_from_the_convolutional_side(digits, store):
    spec = StudySpec(architectures=("conv", "flat-wide"), pairs=(("flat-wide", "conv"),), sample_sizes=(100,),
                     num_seeds=3, num_epochs=1)
    run_study(spec, digits, service(store, FakeTrainer(lambda config: 0.95 if config.spec.has_convolution else 0.80)))
    sentence = analyse(spec, digits, service(store)).verdicts["capacity"]
    assert "Convolution: " in sentence
    assert re.search(r"conv − flat-wide \(600,810 vs 600,247 parameters\): \+1\d\.\d at 100", sentence)


def test_without_a_matched_pair_there_is_no_capacity_sentence(digits, store):
    """Issue 37 item 2: "Convolution or capacity?" appeared in studies with no matched networks."""
    run_study(SPEC, digits, service(store, FakeTrainer()))
    assert "capacity" not in analyse(SPEC, digits, service(store)).verdicts


def test_a_users_own_network_joins_a_study_with_the_pairs_chosen(digits, store):
    from core.architectures import ArchitectureSpec
    from core.layers import Dense

    mine = ArchitectureSpec("mine", "vector", (Dense(20),))
    spec = StudySpec(architectures=("conv", mine), pairs=(("mine", "conv"),), sample_sizes=(100,), num_seeds=3,
                     num_epochs=1)
    run_study(spec, digits, service(store, FakeTrainer(lambda config: 0.95 if config.spec.has_convolution else 0.6)))
    report = analyse(spec, digits, service(store))
    assert [config.spec for config in spec.configs(4000)][:2] == [PRESETS_CONV, mine]
    assert list(report.gaps["verdict"]) == ["conv better"]
    assert report.gaps["mean_difference"].iloc[0] < 0  # mine − conv
    with pytest.raises(ValueError, match="A pair compares two different architectures of the study"):
        StudySpec(architectures=("conv", mine), pairs=(("mine", "flat"),))


# --- Is it the spatial structure? (issue 26) ---------------------------------------------------------------

SPATIAL = StudySpec(architectures=("flat", "conv"), pixels=("drawn", "shuffled"), sample_sizes=(100, 300),
                    num_seeds=2, num_epochs=1)


def learning_curve(conv_shuffled_cost: float = 0.2, flat_shuffled_cost: float = 0.0):
    """A fake trainer's accuracy: an inverse power law per network (conv ahead), minus a cost on shuffled pixels."""
    def accuracy(config):
        a, b, c = (0.99, 0.05, 0.6) if config.spec.has_convolution else (0.97, 0.08, 0.45)
        value = a - b * (config.sample_size / 1000) ** -c
        if config.pixels == "shuffled":
            value -= conv_shuffled_cost if config.spec.has_convolution else flat_shuffled_cost
        return value
    return accuracy


def test_adding_pixel_orders_kept_every_existing_studys_cells_and_run_ids(digits, store):
    for spec in (SPEC, CAPACITY, StudySpec(sample_sizes=(100,), pixels=("drawn",))):
        assert all(config.pixels == "drawn" for config in spec.configs(4000))
    drawn = SPEC.configs(4000)
    spatial = StudySpec(sample_sizes=(100, 300), num_seeds=2, num_epochs=1, pixels=("drawn", "shuffled")).configs(4000)
    assert [config for config in spatial if config.pixels == "drawn"] == drawn  # the same cells, the same ids
    shuffled_ids = {store.id_for(config, digits) for config in spatial if config.pixels == "shuffled"}
    assert len(shuffled_ids) == len(drawn) and not shuffled_ids & {store.id_for(config, digits) for config in drawn}


def test_the_spatial_preset_pairs_each_network_with_its_shuffled_self():
    assert SPATIAL.pairs == (("conv (shuffled)", "conv"), ("flat (shuffled)", "flat"), ("conv", "flat"),
                             ("conv (shuffled)", "flat (shuffled)"))
    assert list(SPATIAL.networks) == ["flat", "conv", "flat (shuffled)", "conv (shuffled)"]
    with pytest.raises(ValueError, match="Unknown pixel order 'sorted'"):
        StudySpec(pixels=("sorted",))
    with pytest.raises(ValueError, match="at least one pixel order"):
        StudySpec(pixels=())
    with pytest.raises(ValueError, match=r"conv \(shuffled\) vs conv"):
        StudySpec(pairs=(("conv (shuffled)", "conv"),))  # no shuffled arm in a drawn-only study


def test_spatial_verdict_is_yes_when_shuffling_costs_conv_and_not_flat(digits, store):
    run_study(SPATIAL, digits, service(store, FakeTrainer(learning_curve(conv_shuffled_cost=0.2))))
    report = analyse(SPATIAL, digits, service(store))
    assert set(report.cells["architecture"]) == {"flat", "conv", "flat (shuffled)", "conv (shuffled)"}
    sentence = report.verdicts["spatial"]
    assert re.match(r"Is it the spatial structure\? At 300 images, shuffling the pixels changed conv's accuracy by "
                    r"-(19|20|21|22)\.\d points", sentence)
    assert "flat's by +0.0 points" in sentence and "Yes:" in sentence
    gaps = report.gaps.set_index(["first", "second", "sample_size"])
    assert gaps.loc[("conv (shuffled)", "conv", 300), "verdict"] == "conv better"
    assert gaps.loc[("flat (shuffled)", "flat", 300), "verdict"] == "comparable"


def test_spatial_verdict_is_no_when_conv_keeps_its_accuracy(digits, store):
    run_study(SPATIAL, digits, service(store, FakeTrainer(learning_curve(conv_shuffled_cost=0.0))))
    assert "No: conv does not lose more than 2 points" in analyse(SPATIAL, digits, service(store)).verdicts["spatial"]


def test_a_study_without_both_pixel_orders_has_no_spatial_verdict(digits, store):
    """Issue 37 item 2: a sentence appears only when its study can answer it."""
    run_study(SPEC, digits, service(store, FakeTrainer()))
    assert set(analyse(SPEC, digits, service(store)).verdicts) == {"summary"}
    shuffled_only = StudySpec(sample_sizes=(100,), num_seeds=2, num_epochs=1, pixels=("shuffled",))
    run_study(shuffled_only, digits, service(store, FakeTrainer()))
    assert "spatial" not in analyse(shuffled_only, digits, service(store)).verdicts


def test_cli_spatial_study_prints_the_sentence_and_the_multiplier(capsys, monkeypatch):
    monkeypatch.setattr(jobs_module, "train", FakeTrainer(learning_curve()))
    code = cli.main(["study", "--architectures", "flat", "conv", "--pixels", "drawn", "shuffled", "--sizes", "100",
                     "300", "1000", "3000", "--seeds", "2", "--epochs", "1"])
    out, err = capsys.readouterr()
    assert code == 0
    assert re.search(r"Is it the spatial structure\? At 1,000 images, shuffling the pixels changed conv's accuracy by "
                     r"-(19|20|21|22)\.\d points", out)
    assert re.search(r"to reach conv's accuracy at 100 images \(\d+\.\d%\), flat needs about \d+\.\d × 100 = [\d,]+ "
                     r"images \(95% interval [\d.]+–[\d.]+×\)", out)
    assert "Cell 3 of 32: flat (shuffled), 100 images, seed 0" in err  # issue 37 item 7: the pixel order said
    assert "Prediction check (each curve fitted on the smaller sizes only" in out
    code = cli.main(["study", "--architectures", "flat", "conv", "--pixels", "drawn", "shuffled", "--sizes", "100",
                     "300", "1000", "3000", "--seeds", "2", "--epochs", "1", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and "spatial" in report["verdicts"]
    assert report["efficiency"]["multipliers"][0]["factor"] > 1
    assert {cell["architecture"] for cell in report["cells"]} == {"flat", "conv", "flat (shuffled)", "conv (shuffled)"}


def test_cli_pairs_may_name_a_shuffled_network_and_bring_its_pixels(capsys, monkeypatch):
    trainer = FakeTrainer(learning_curve())
    monkeypatch.setattr(jobs_module, "train", trainer)
    code = cli.main(["study", "--sizes", "100", "--seeds", "2", "--epochs", "1", "--pairs", "conv (shuffled):conv"])
    assert code == 0
    assert {(config.architecture, config.pixels) for config in trainer.calls} == {
        ("flat", "drawn"), ("conv", "drawn"), ("flat", "shuffled"), ("conv", "shuffled")}
    assert "conv (shuffled) − conv" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["study", "--pixels", "sorted"], "invalid choice: 'sorted'"),
    (["compare", "--pixels", "upside-down"], "invalid choice: 'upside-down'"),
])
def test_cli_bad_pixels_are_one_line_and_exit_2(capsys, monkeypatch, argv, message):
    trainer = FakeTrainer()
    monkeypatch.setattr(jobs_module, "train", trainer)
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert trainer.calls == []
