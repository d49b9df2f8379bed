"""The side-by-side comparison of stored runs: metrics, curves, confusion, mistakes, summaries, timing."""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from core.settings import run_labels as run_labels_of
from core.evaluation import (comparison_table, confusion_matrix, mistakes_by_model, per_class_report,
                             row_normalised)
from core.formats import loss, percent, points, seconds
from core.glossary import explain
from core.runs import Outcome, StoredRun
from core.safe_text import literal
from ui import cache, plots
from ui.formats import glossary, percent_column
from ui.robustness_view import robustness_section
from ui.runs_view import PEAK_MEMORY_HELP

GALLERY_SIZE = 30  # mistakes to a page of the gallery
TERMS = ("accuracy", "points", "loss", "train seconds", "epoch", "seed", "precision", "recall", "f1", "support",
         "bfloat16")


def run_labels(runs: list[StoredRun]) -> list[str]:
    """Short unique labels: the network ("conv (shuffled)" on shuffled pixels), plus whatever else differs between
    the runs (core/settings.py), else the run's id."""
    return run_labels_of([run.config for run in runs], fallbacks=[run.run_id[:6] for run in runs])


def show_comparison(outcomes: list[Outcome]) -> None:
    runs = [outcome.run for outcome in outcomes]
    labels = run_labels(runs)
    answer(runs)
    headline(outcomes, labels)
    glossary(TERMS)

    st.subheader("Learning curves")
    st.caption("Training (solid) and validation (dashed) per epoch; the validation digits come from the "
               "training pool outside the sample, never from the test set.")
    histories = {label: run.history for label, run in zip(labels, runs)}
    for column, metric in zip(st.columns(2), ("loss", "accuracy")):  # one above the other on a phone
        column.markdown(f"**{metric.capitalize()}**")
        column.plotly_chart(plots.learning_curve(histories, metric), key=f"learning_curves_{metric}")

    dataset = cache.dataset(runs[0].config.dataset)
    if any(run.config.dataset != dataset.name or run.data_key != dataset.key for run in runs):
        st.warning("These runs were trained on different data (or on a data source no longer in use), so "
                   "their test-set confusion matrices and mistakes are not shown side by side.")
    else:
        root = cache.current_store().location
        try:
            probabilities = {label: cache.test_probabilities(root, run.run_id) for label, run in zip(labels, runs)}
        except ValueError as error:  # deleted by another session while this page was drawn
            st.warning(f"{error} Its confusion matrices, mistakes and robustness are not shown.")
        else:
            confusion_section(dataset, probabilities)
            mistakes_section(dataset, probabilities)
            robustness_section(runs, labels, dataset)

    st.subheader("Model summaries")
    for column, label, run in zip(st.columns(len(runs)), labels, runs):
        column.markdown(f"**{literal(label)}** — {run.num_params:,} parameters")
        column.table(readable_layers(run.layers), hide_index=True)

    st.subheader("Timing")
    table = comparison_table(outcomes).assign(run=labels).set_index("run")
    st.dataframe(timing_table(table), key="timing_table", column_config={
        "_index": st.column_config.TextColumn("", help=PEAK_MEMORY_HELP + " " + explain("train seconds"))})
    downloads(table, labels, runs)


def answer(runs: list[StoredRun]) -> None:
    """The answer in a short paragraph (core/answers.py): each network against the 80% bar, the gap, how sure one
    seed can be, and a link to the study that would settle it."""
    from core.answers import compare_answer, study_query, study_words

    accuracies = {row["run_id"]: row["test_accuracy"] for row in cache.current_store().list_runs()}
    pool_size = cache.dataset(runs[0].config.dataset).pool_size
    sentences, study = compare_answer(runs, accuracies, pool_size)
    link = "study?" + urlencode(study_query(study))
    st.info(literal(" ".join(sentences)) + f" [The study that settles it]({link}): {literal(study_words(study))}.",
            icon=":material/lightbulb:")


def readable_layers(layers: list[dict]) -> pd.DataFrame:
    """A run's layer table as people read it: the layer's kind, its output as height × width × channels, its
    parameters with thousands separators (a phone's width: three short columns that wrap)."""
    def shape(text: str) -> str:  # "(None, 26, 26, 32)" -> "26×26×32"; "(None, 4608)" -> "4,608"
        sizes = [part.strip() for part in str(text).strip("()").split(",") if part.strip() not in ("None", "")]
        return "×".join(f"{int(size):,}" if size.isdigit() else size for size in sizes)

    return pd.DataFrame({"layer": [row.get("type", row.get("layer")) for row in layers],
                         "output": [shape(row.get("output_shape", "")) for row in layers],
                         "parameters": [f"{int(row.get('params', 0)):,}" for row in layers]})


def timing_table(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison's numbers, a column per run and a row per measure (two or three runs fit a phone's width),
    each in its one format."""
    measures = {
        "test accuracy": lambda row: percent(row["test_accuracy"]),
        "test loss": lambda row: loss(row["test_loss"]),
        "training time": lambda row: seconds(row["train_seconds"]),
        "per epoch": lambda row: seconds(row["seconds_per_epoch"]),
        "inference per image": lambda row: f"{row['inference_ms_per_image']:.3f} ms",
        "peak memory": lambda row: "–" if row["peak_memory_mb"] != row["peak_memory_mb"]
        else f"{row['peak_memory_mb']:,.0f} MB",
        "parameters": lambda row: f"{row['params']:,}",
        "status": lambda row: row["status"],
    }
    return pd.DataFrame({label: {measure: words(row) for measure, words in measures.items()}
                         for label, row in table.to_dict("index").items()})


def headline(outcomes: list[Outcome], labels: list[str]) -> None:
    reference = outcomes[0].run
    for position, (column, label, outcome) in enumerate(zip(st.columns(len(outcomes)), labels, outcomes)):
        run = outcome.run
        with column:
            st.subheader(label)  # the one name: "conv", "conv (shuffled)" (core/settings.py's run_labels)
            when = run.trained_at.replace("T", " ").replace("+00:00", " UTC")
            epochs_run = len(run.history.get("loss", []))
            stopped = f" (stopped early at {epochs_run})" if epochs_run < run.config.num_epochs else ""
            st.caption(f"{f'from cache · trained {when}' if outcome.cached else f'trained now ({when})'} · "
                       f"{run.config.sample_size:,} images · {run.config.num_epochs} epochs{stopped} · "
                       f"seed {run.config.seed} · {run.config.recipe} recipe"
                       + (f" · {run.config.precision}" if run.config.precision != "float32" else ""))
            other = outcomes[1].run if position == 0 and len(outcomes) > 1 else reference
            compared = other is not run
            st.metric("Test accuracy", percent(run.test_accuracy), help=explain("accuracy"),
                      delta=points(run.test_accuracy - other.test_accuracy) if compared else None)
            st.metric("Test loss", loss(run.test_loss), delta_color="inverse", help=explain("loss"),
                      delta=f"{run.test_loss - other.test_loss:+.3f}" if compared else None)
            st.metric("Training time", seconds(run.train_seconds), delta_color="inverse", help=explain("train seconds"),
                      delta=f"{run.train_seconds - other.train_seconds:+.1f} s" if compared else None)


def confusion_section(dataset, probabilities: dict[str, np.ndarray]) -> None:
    st.subheader("Confusion matrices")
    mode = st.segmented_control("Show", ["counts", "row-normalised"], default="counts", key="confusion_mode")
    normalised = mode == "row-normalised"
    matrices = {label: confusion_matrix(dataset.y_test, probs.argmax(axis=1)) for label, probs in probabilities.items()}
    shown = {label: row_normalised(m) if normalised else m for label, m in matrices.items()}
    for column, (label, matrix) in zip(st.columns(len(shown)), shown.items()):
        column.plotly_chart(plots.confusion_heatmap(matrix, dataset.class_names, label, normalised),
                            key=f"confusion_{label}")
    if len(shown) >= 2:
        (first, a), (second, b) = list(shown.items())[:2]
        st.plotly_chart(plots.difference_heatmap(a, b, dataset.class_names, first, second, normalised),
                        key="confusion_difference")
        st.caption(plots.difference_caption(first, second, normalised))
    with st.expander("Precision, recall and F1 per class"):
        for column, (label, probs) in zip(st.columns(len(probabilities)), probabilities.items()):
            column.markdown(f"**{label}**")
            column.dataframe(per_class_report(dataset.y_test, probs.argmax(axis=1), dataset.class_names),
                             hide_index=True, column_config={
                                 name: percent_column(name, help=explain(name))
                                 for name in ("precision", "recall", "f1")
                             } | {"support": st.column_config.NumberColumn("support", help=explain("support"))})


def mistakes_section(dataset, probabilities: dict[str, np.ndarray]) -> None:
    st.subheader("Misclassified test images")
    labels = list(probabilities)
    options = [f"wrong by {label} only" for label in labels] + (["wrong by all"] if len(labels) > 1 else [])
    choice = st.segmented_control("Filter", ["wrong by any"] + options, default="wrong by any",
                                  key="mistake_filter") or "wrong by any"
    only = None if choice == "wrong by any" else "all" if choice == "wrong by all" else \
        labels[options.index(choice)]
    table = mistakes_by_model(dataset.y_test, probabilities, only=only)
    pages = max(1, -(-len(table) // GALLERY_SIZE))
    page = gallery_page(pages) if pages > 1 else 1
    shown = table.iloc[(page - 1) * GALLERY_SIZE:page * GALLERY_SIZE]
    first = (page - 1) * GALLERY_SIZE + 1
    st.caption(f"{len(table):,} of {len(dataset.y_test):,} test images, the most confident mistakes first"
               + (f"; showing {first:,} to {first + len(shown) - 1:,} (page {page} of {pages})."
                  if len(shown) else "."))
    names = dataset.class_names
    captions = []
    for row in shown.to_dict("records"):
        captions.append(mistake_caption(names, row, labels))
    if len(shown):
        images = [np.kron(dataset.x_test[index], np.ones((3, 3), dtype=np.uint8)) for index in shown["index"]]
        st.image(images, caption=captions, width=112)


def mistake_caption(names: list[str], row: dict, labels: list[str]) -> str:
    """'true 3 · conv right · flat said 5 (84%)': which model was right, and what each wrong one said."""
    true = row["true"]
    right = [label for label in labels if row[f"predicted_{label}"] == true]
    wrong = [f"{label} said {names[row[f'predicted_{label}']]} ({row[f'confidence_{label}']:.0%})"
             for label in labels if label not in right]
    return " · ".join([f"true {names[true]}"] + [f"{label} right" for label in right] + wrong)


def gallery_page(pages: int) -> int:
    """The page of the gallery (GALLERY_SIZE mistakes each): a number field with ‹ and › beside it."""
    key = "mistake_page"
    st.session_state[key] = min(max(1, st.session_state.get(key, 1)), pages)  # a filter with fewer pages

    def step(by: int) -> None:
        st.session_state[key] = min(max(1, st.session_state[key] + by), pages)

    back, field, forward = st.columns([1, 3, 1], vertical_alignment="bottom")
    back.button("‹ Previous", key="mistake_previous", on_click=step, args=(-1,), disabled=st.session_state[key] == 1,
                width="stretch")
    forward.button("Next ›", key="mistake_next", on_click=step, args=(1,), disabled=st.session_state[key] == pages,
                   width="stretch")
    return field.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key=key)


def downloads(table: pd.DataFrame, labels: list[str], runs: list[StoredRun]) -> None:
    columns = st.columns(1 + len(runs))
    columns[0].download_button("Results (CSV)", table.to_csv().encode(), file_name="comparison.csv",
                               mime="text/csv", on_click="ignore", key="download_csv")
    for column, label, run in zip(columns[1:], labels, runs):
        try:
            path = run.model_path
        except KeyError:  # deleted by another session while this page was drawn
            column.caption(f"{label}: its model is no longer in the store.")
            continue
        column.download_button(f"{label} model (.keras)", path.read_bytes, on_click="ignore",
                               file_name=f"{run.config.architecture}-{run.run_id}.keras",
                               mime="application/octet-stream", key=f"download_{run.run_id}")
