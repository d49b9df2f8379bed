"""A study in people's words: its tables as a reader wants them (percent, points, "p < 10⁻⁹"), and one
self-contained HTML report (verdicts, interactive charts with plotly's JavaScript inlined, tables, data source,
machine and library versions) that opens offline. The Study page, the CLI and the report share these tables."""

from __future__ import annotations

import functools
from datetime import datetime, UTC
from importlib import metadata
from pathlib import Path

import pandas as pd

from core import formats
from core.data import Dataset
from core.pixels import PERMUTATION_SEED
from core.stats import p_value_words
from core.study import STUDENT, THRESHOLD, StudyReport, machine_description, student_comparison
from core.formats import count, points
from core.study.words import seeds_wanted

PIXELS_NOTE = (f" — shuffled: one fixed permutation of the 784 pixel positions (seed {PERMUTATION_SEED}), the same "
               f"for training, validation and test images")
TEMPLATES = Path(__file__).parent / "templates"
LIBRARIES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "pandas", "scipy", "plotly", "streamlit")


def _percent(value) -> str:
    return formats.percent(value)


def _interval_percent(low, high, needed=0, seeds=1) -> str:
    """An accuracy's CI, or why there is none (core/study/words.py's words)."""
    if low != low or needed:
        return f"{count(int(seeds), 'seed')}: {seeds_wanted(int(needed or 2))}"
    return f"{low:.1%} to {high:.1%}"


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per network and sample size: mean accuracy with its 95% CI over seeds, training time, H1's verdict."""
    return pd.DataFrame({
        "network": summary["architecture"],
        "images": [f"{size:,}" for size in summary["sample_size"]],
        "seeds": summary["seeds"],
        "mean accuracy": [_percent(value) for value in summary["mean_accuracy"]],
        "95% CI": [_interval_percent(low, high, needed, seeds) for low, high, needed, seeds in
                   zip(summary["ci_low"], summary["ci_high"], _needed(summary), summary["seeds"])],
        "training time": [formats.seconds(seconds) for seconds in summary["mean_train_seconds"]],
        f"at least {THRESHOLD:.0%}? (H1)": summary["h1"],
    })


def _needed(table: pd.DataFrame):
    return table["seeds_for_ci"] if "seeds_for_ci" in table else [0] * len(table)


def mcnemar_table(gaps: pd.DataFrame) -> pd.DataFrame:
    """The counts behind McNemar's test, per pair and size: what the verdict tables leave out."""
    return pd.DataFrame({
        "difference": gaps["first"] + " − " + gaps["second"],
        "images": [f"{size:,}" for size in gaps["sample_size"]],
        "seed": gaps["mcnemar_seed"],
        "right by the first only": [f"{value:,}" for value in gaps["only_first_right"]],
        "by the second only": [f"{value:,}" for value in gaps["only_second_right"]],
        "McNemar": [p_value_words(p_value) for p_value in gaps["mcnemar_p"]],
    })


def student_table(report: StudyReport) -> pd.DataFrame:
    """The student's reported numbers next to ours at the same sample size ('–' where we have none)."""
    student = student_comparison(report)
    ours = report.summary[report.summary["sample_size"] == STUDENT["sample_size"]].set_index("architecture")
    return pd.DataFrame({
        "network": student["architecture"],
        "student's accuracy": [_percent(value) for value in student["student_accuracy"]],
        "ours (mean over seeds)": [_percent(value) for value in student["our_mean_accuracy"]],
        "our 95% CI": [_interval_percent(*ours.loc[name, ["ci_low", "ci_high", "seeds_for_ci", "seeds"]])
                       if name in ours.index else "–" for name in student["architecture"]],
        "student's training time": [formats.seconds(seconds) for seconds in student["student_train_seconds"]],
        "our training time": [formats.seconds(seconds) for seconds in student["our_train_seconds"]],
    })


def cells_table(cells: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "network": cells["architecture"], "images": [f"{size:,}" for size in cells["sample_size"]],
        "seed": cells["seed"], "test accuracy": [_percent(value) for value in cells["test_accuracy"]],
        "test loss": [f"{value:.3f}" for value in cells["test_loss"]],
        "training time": [formats.seconds(seconds) for seconds in cells["train_seconds"]], "run": cells["run_id"],
    })


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a run depends on (read from package metadata: nothing is imported)."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def check_table(check: pd.DataFrame) -> pd.DataFrame:
    """The prediction check: each arm's curve fitted on the smaller sizes, its prediction for a larger one
    with the 95% band over resampled seeds, the measured mean and the miss in points."""
    return pd.DataFrame({
        "network": check["architecture"], "fitted on (images)": check["fitted_on"],
        "predicted at": [f"{size:,}" for size in check["sample_size"]],
        "prediction": [_percent(value) for value in check["predicted"]],
        "95% band": ["no band (too few resampled fits)" if low != low else f"{low:.1%} to {high:.1%}"
                     for low, high in zip(check["low"], check["high"])],
        "measured (mean)": [_percent(value) for value in check["measured"]],
        "miss": [points(value) for value in check["error"]],
    })


def report_file_name(spec, pool_size: int) -> str:
    """The report's file name, after the study: 'study-mnist-flat-conv-100-1000.html' (shuffled pixels add
    '-shuffled'); names are letters, digits, '-' and '_' (core/architectures.py), so the name is safe as it is."""
    sizes = "-".join(str(size) for size in spec.sizes(pool_size))
    orders = "".join(f"-{order}" for order in spec.pixels if order != "drawn")
    return f"study-{spec.dataset}-{'-'.join(spec.names)}{orders}-{sizes}.html"


def verdict_parts(report: StudyReport, efficiency=None) -> dict:
    """What the page, the report and the CLI say, in this order: the summary, the H1 and difference tables (plain
    text cells), each verdict word's meaning, the note on McNemar beside an undecided verdict, and the further
    answers (capacity, spatial structure, data efficiency, prediction check) the study can give."""
    from core.study.efficiency_words import efficiency_sentences
    from core.study.tables import h1_table, pairs_table
    from core.study.words import mcnemar_note, verdict_meanings

    spec, summary, gaps = report.spec, report.summary, report.gaps
    words = list(summary["h1"]) + list(gaps["verdict"])
    further = [report.verdicts[name] for name in ("capacity", "spatial") if name in report.verdicts]
    if efficiency is not None:
        further += list(efficiency_sentences(efficiency).values())
    return {"summary": report.verdicts.get("summary", ""),
            "h1": h1_table(summary, list(spec.networks)) if not summary.empty else None,
            "pairs": pairs_table(gaps, spec.pairs) if not gaps.empty else None,
            "meanings": verdict_meanings(words, spec.margin), "mcnemar": mcnemar_note(gaps) if not gaps.empty else None,
            "further": further}


def study_html(report: StudyReport, dataset: Dataset, efficiency=None) -> str:
    """The whole study as one HTML file that needs no network: plotly's JavaScript is inlined once.
    `efficiency`: core.efficiency's analysis of the report's cells (computed here when not given).
    Rendered from core/templates/study_report.html with autoescape: every text is escaped there, except
    the charts and tables plotly, pandas and core/study/tables.py write (they escape their own text; the template
    marks them safe)."""
    from core import figures  # plotly: only when a report is written
    from core.efficiency import analyse_efficiency
    from core.study.efficiency_words import MODEL_WORDS
    from core.study.tables import html_table

    spec = report.spec
    if efficiency is None:
        efficiency = analyse_efficiency(report.cells)
    curves = "dotted: fitted learning curves with their 95% bands" if efficiency.fits else ""
    charts = [("Accuracy against sample size" + (f" ({curves})" if curves else ""),
               figures.accuracy_vs_size(report.summary, report.cells, curves=efficiency.bands)),
              ("Training time against sample size", figures.time_vs_size(report.summary))]
    if not report.gaps.empty:
        charts.append(("The gaps: first − second, with their 95% CI over seeds",
                       figures.gap_vs_size(report.gaps, spec.margin)))
    charts = [(title, figure.to_html(full_html=False, include_plotlyjs=position == 0, div_id=f"chart{position}",
                                     config={"responsive": True}))
              for position, (title, figure) in enumerate(charts)] if not report.cells.empty else []
    tables = [("Every network and sample size", summary_table(report.summary))]
    if not report.gaps.empty:
        tables.append(("McNemar's test: the test digits only one network of a pair gets right (one seed)",
                       mcnemar_table(report.gaps)))
    if not efficiency.check.empty:
        tables.append(("Prediction check: learning curves fitted on the smaller sizes, "
                       "against the larger ones measured",
                       check_table(efficiency.check)))
    if not report.summary.empty and (report.summary["sample_size"] == STUDENT["sample_size"]).any():
        tables.append((f"The student's table, next to ours ({STUDENT['sample_size']:,} images; student: "
                       f"{STUDENT['machine']}, one run each)", student_table(report)))
    parts = verdict_parts(report, efficiency)
    return _template().render(
        dataset=dataset, spec=spec, written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        missing=report.missing, num_cells=len(report.cells), threshold=f"{THRESHOLD:.0%}",
        summary=parts["summary"], h1=html_table(parts["h1"]) if parts["h1"] is not None else None,
        pairs=html_table(parts["pairs"]) if parts["pairs"] is not None else None,
        meanings=parts["meanings"], mcnemar=parts["mcnemar"],
        further=parts["further"], charts=charts,
        tables=[(title, _table(table)) for title, table in tables], cells=_table(cells_table(report.cells)),
        sizes=", ".join(f"{size:,}" for size in spec.sizes(dataset.pool_size)),
        epochs=spec.configs(dataset.pool_size)[0].num_epochs, model_words=MODEL_WORDS,
        num_resamples=efficiency.num_resamples, pixels_note=PIXELS_NOTE, machine=machine_description(),
        versions=", ".join(f"{name} {version}" for name, version in library_versions().items()))


@functools.cache
def _template():
    """The report's Jinja2 template, loaded once per process (autoescape on)."""
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return environment.get_template("study_report.html")


def _table(table: pd.DataFrame) -> str:
    """A table as HTML; pandas escapes its cells."""
    return '<div class="table">' + table.to_html(index=False, escape=True, border=0, na_rep="–") + "</div>"
