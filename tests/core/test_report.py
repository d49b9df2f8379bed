"""The study in people's words, and the HTML report that opens offline."""

import html
import re

import numpy as np
import pandas as pd
import pytest

from core import cli
from core.runs import jobs as jobs_module
from core.report import mcnemar_table, report_file_name, student_table, study_html, summary_table
from core.stats import p_value_words
from core.runs import RunStore
from core.study import StudySpec, analyse, run_study
from tests.fakes import FakeTrainer, service

SPEC = StudySpec(sample_sizes=(100, 1000), num_seeds=2, num_epochs=1)


@pytest.fixture
def report(digits, tmp_path):
    store = RunStore(tmp_path / "report-store")
    run_study(SPEC, digits, service(store, FakeTrainer()))
    return analyse(SPEC, digits, service(store))


@pytest.mark.parametrize("p_value, words", [
    (3e-20, "p < 10⁻⁹"), (3.04e-9, "p = 3.0 × 10⁻⁹"), (0.000123, "p = 1.2 × 10⁻⁴"), (0.0123, "p = 0.012"),
    (0.5, "p = 0.5"), (1.0, "p = 1"), (float("nan"), "–"), (None, "–"),
])
def test_p_values_are_written_as_people_write_them(p_value, words):
    assert p_value_words(p_value) == words


def test_the_summary_speaks_percent_and_seconds_and_says_when_there_is_no_interval():
    summary = pd.DataFrame({"architecture": ["conv", "flat", "flat"], "sample_size": [1000, 100, 300],
                            "seeds": [3, 1, 2], "mean_accuracy": [0.9342, 0.61, 0.9465],
                            "ci_low": [0.9211, np.nan, 0.8766], "ci_high": [0.9473, np.nan, 1.0],
                            "mean_train_seconds": [7.345, 0.5, 0.5],
                            "h1": ["supported", "too few seeds", "too few seeds"], "seeds_for_ci": [0, 2, 3]})
    table = summary_table(summary)
    assert table.iloc[0].to_dict() == {"network": "conv", "images": "1,000", "seeds": 3, "mean accuracy": "93.4%",
                                       "95% CI": "92.1% to 94.7%", "training time": "7.3 s",
                                       "at least 80%? (H1)": "supported"}
    assert table.loc[1, "95% CI"] == "1 seed: 2 or more seeds give a CI"
    assert table.loc[2, "95% CI"] == "2 seeds: about 3 seeds would give a CI"  # never "87.7% to 100.0%"
    assert not any("_" in column for column in table.columns)


def test_mcnemars_counts_speak_images_and_p_values(report):
    table = mcnemar_table(report.gaps)
    assert list(table["difference"]) == ["conv − flat"] * 2 and list(table["images"]) == ["100", "1,000"]
    assert list(table["right by the first only"]) == [f"{value:,}" for value in report.gaps["only_first_right"]]
    assert list(table["McNemar"]) == [p_value_words(p) for p in report.gaps["mcnemar_p"]]
    assert not any("_" in column for column in table.columns)


def test_the_report_is_named_after_its_study():
    assert report_file_name(SPEC, 4000) == "study-mnist-flat-conv-100-1000.html"
    spatial = StudySpec(architectures=("flat", "conv"), pixels=("drawn", "shuffled"), sample_sizes=(100, 300))
    assert report_file_name(spatial, 4000) == "study-mnist-flat-conv-shuffled-100-300.html"


def test_the_students_table_puts_our_mean_next_to_the_reported_numbers(report):
    table = student_table(report).set_index("network")
    assert (table.loc["conv", "student's accuracy"] == "91.0%"
            and table.loc["flat", "student's training time"] == "2.7 s")
    ours = report.summary.set_index(["architecture", "sample_size"]).loc[("conv", 1000), "mean_accuracy"]
    assert table.loc["conv", "ours (mean over seeds)"] == f"{ours:.1%}"


def test_the_html_report_has_the_verdicts_charts_tables_and_versions_and_needs_no_network(report, digits):
    page = study_html(report, digits)
    for verdict in report.verdicts.values():
        assert verdict in html.unescape(page)  # escaped in the page (see the escaping test)
    # H1 and the differences (the verdicts), then the numbers: every network and size, McNemar's counts, the
    # student's table, all cells
    assert page.count("<table") == 6 and page.count('<table class="verdicts">') == 2
    # the fake's flat varies little over 2 seeds (a CI); conv's 2 seeds stretch Student's t past 100% (none)
    assert ("<tr><td>1,000</td><td><b>supported</b><br>84.7%<br>CI 83.4% to 86.0%</td><td><b>too few seeds</b><br>"
            "94.6%<br>2 seeds: about 3 seeds would give a CI</td></tr>") in page
    assert "CI 87.7% to 100.0%" not in page and "87.7%" not in page
    assert page.count('class="plotly-graph-div"') == 3
    assert len(re.findall(r"plotly\.js v\d", page)) == 1  # plotly's JavaScript inlined once, not fetched
    assert not re.search(r"<script[^>]+src=", page)  # nothing fetched (tests/e2e opens it offline)
    assert digits.source in page and "keras " in page and "numpy " in page
    assert "conv</b> (600,810 parameters)" in page


def test_the_report_template_escapes_every_text_it_is_given(report, digits, monkeypatch):
    from dataclasses import replace

    from core import report as report_module

    monkeypatch.setattr(report_module, "machine_description", lambda: "<img src=x onerror=alert(2)>")
    page = study_html(report, replace(digits, source="<script>alert(1)</script> & 'co'"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;co&#39;" in page and "<script>alert(1)" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page and "<img src=x" not in page
    assert page.count('class="plotly-graph-div"') == 3  # the charts' own HTML is kept as it is


def test_an_empty_study_still_writes_a_report_that_says_so(digits, tmp_path):
    page = study_html(analyse(SPEC, digits, service(RunStore(tmp_path / "empty"))), digits)
    assert "No cell of this study is stored yet" in page and "8 cells were not trained yet" in page


@pytest.fixture
def fake_trainer(monkeypatch):
    trainer = FakeTrainer()
    monkeypatch.setattr(jobs_module, "train", trainer)
    return trainer


STUDY = ["study", "--sizes", "100", "--seeds", "2", "--epochs", "1"]


def test_the_cli_writes_the_report_after_printing_readable_tables(capsys, fake_trainer, tmp_path):
    path = tmp_path / "study.html"
    code = cli.main(STUDY + ["--report", str(path)])
    out, err = capsys.readouterr()
    assert code == 0 and f"wrote {path}" in err
    assert "mean accuracy" in out and "McNemar p" in out and "mean_accuracy" not in out
    assert "H1: does each network reach at least 80%?" in path.read_text()


def test_a_report_path_that_cannot_be_written_exits_2_before_any_training(capsys, fake_trainer, tmp_path):
    code = cli.main(STUDY + ["--report", str(tmp_path / "absent" / "study.html")])
    assert code == 2 and fake_trainer.calls == []
    assert "does not exist" in capsys.readouterr().err


def test_the_report_has_the_spatial_verdict_the_multiplier_and_the_prediction_check(digits, tmp_path):
    from tests.core.test_study import learning_curve

    spec = StudySpec(architectures=("flat", "conv"), pixels=("drawn", "shuffled"), sample_sizes=(100, 300, 1000, 3000),
                     num_seeds=2, num_epochs=1)
    store = RunStore(tmp_path / "spatial-store")
    run_study(spec, digits, service(store, FakeTrainer(learning_curve())))
    page = html.unescape(study_html(analyse(spec, digits, service(store)), digits))
    assert "Is it the spatial structure? At 1,000 images, shuffling the pixels changed conv's accuracy by" in page
    assert re.search(r"to reach conv's accuracy at 100 images \(\d+\.\d%\), flat needs about \d+\.\d × 100", page)
    assert "Prediction check: learning curves fitted on the smaller sizes" in page
    assert "conv fitted curve" in page  # the curves are drawn on the accuracy chart
    assert "Accuracy against sample size (dotted: fitted learning curves" in page
    assert "one fixed permutation of the 784 pixel positions (seed 784)" in page
