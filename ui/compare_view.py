"""The side-by-side comparison of stored runs: metrics, curves, confusion, mistakes, summaries, timing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.settings import run_labels as run_labels_of
from core.evaluation import (comparison_table, confusion_matrix, mistakes_by_model, per_class_report,
                             row_normalised)
from core.runs import Outcome, StoredRun
from ui import cache, plots
from ui.robustness_view import robustness_section
from ui.runs_view import PEAK_MEMORY_HELP

GALLERY_SIZE = 30


def run_labels(runs: list[StoredRun]) -> list[str]:
    """Short unique labels: the network ("conv (shuffled)" on shuffled pixels), plus whatever else differs between
    the runs (core/settings.py), else the run's id."""
    return run_labels_of([run.config for run in runs], fallbacks=[run.run_id[:6] for run in runs])


def show_comparison(outcomes: list[Outcome]) -> None:
    runs = [outcome.run for outcome in outcomes]
    labels = run_labels(runs)
    headline(outcomes, labels)

    st.subheader("Learning curves")
    st.caption("Training (solid) and validation (dashed) per epoch; the validation digits come from the "
               "training pool outside the sample, never from the test set.")
    st.plotly_chart(plots.learning_curves({label: run.history for label, run in zip(labels, runs)}),
                    key="learning_curves")

    dataset = cache.dataset(runs[0].config.dataset)
    if any(run.config.dataset != dataset.name or run.data_key != dataset.key for run in runs):
        st.warning("These runs were trained on different data (or on a data source no longer in use), so "
                   "their test-set confusion matrices and mistakes are not shown side by side.")
    else:
        root = cache.current_store().location
        probabilities = {label: cache.test_probabilities(root, run.run_id) for label, run in zip(labels, runs)}
        confusion_section(dataset, probabilities)
        mistakes_section(dataset, probabilities)
        robustness_section(runs, labels, dataset)

    st.subheader("Model summaries")
    for column, label, run in zip(st.columns(len(runs)), labels, runs):
        column.markdown(f"**{label}** — {run.num_params:,} parameters")
        column.dataframe(pd.DataFrame(run.layers), hide_index=True)

    st.subheader("Timing")
    table = comparison_table(outcomes).assign(run=labels).set_index("run")
    st.dataframe(table.drop(columns=["architecture"]), column_config={
        "params": st.column_config.NumberColumn("params", format="localized"),
        "test_accuracy": st.column_config.NumberColumn("test accuracy", format="%.4f"),
        "test_loss": st.column_config.NumberColumn("test loss", format="%.4f"),
        "train_seconds": st.column_config.NumberColumn("train s", format="%.2f"),
        "seconds_per_epoch": st.column_config.NumberColumn("s / epoch", format="%.3f"),
        "inference_ms_per_image": st.column_config.NumberColumn("inference ms / image", format="%.4f"),
        "peak_memory_mb": st.column_config.NumberColumn("peak memory MB", format="%.0f", help=PEAK_MEMORY_HELP),
    }, key="timing_table")
    downloads(table, labels, runs)


def headline(outcomes: list[Outcome], labels: list[str]) -> None:
    reference = outcomes[0].run
    for position, (column, label, outcome) in enumerate(zip(st.columns(len(outcomes)), labels, outcomes)):
        run = outcome.run
        with column:
            st.subheader(run.config.spec.label if label == run.config.architecture else label)
            when = run.trained_at.replace("T", " ").replace("+00:00", " UTC")
            epochs_run = len(run.history.get("loss", []))
            stopped = f" (stopped early at {epochs_run})" if epochs_run < run.config.num_epochs else ""
            st.caption(f"{'from cache' if outcome.cached else 'trained now'} · trained {when} · "
                       f"{run.config.sample_size:,} images · {run.config.num_epochs} epochs{stopped} · "
                       f"seed {run.config.seed} · {run.config.recipe} recipe"
                       + (f" · {run.config.precision}" if run.config.precision != "float32" else ""))
            other = outcomes[1].run if position == 0 and len(outcomes) > 1 else reference
            compared = other is not run
            st.metric("Test accuracy", f"{run.test_accuracy:.2%}",
                      delta=f"{(run.test_accuracy - other.test_accuracy) * 100:+.1f} points" if compared else None)
            st.metric("Test loss", f"{run.test_loss:.3f}", delta_color="inverse",
                      delta=f"{run.test_loss - other.test_loss:+.3f}" if compared else None)
            st.metric("Training time", f"{run.train_seconds:.1f} s", delta_color="inverse",
                      delta=f"{run.train_seconds - other.train_seconds:+.1f} s" if compared else None,
                      help="Wall time of model.fit, all epochs, on the machine that trained it.")


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
        st.plotly_chart(plots.confusion_heatmap(b - a, dataset.class_names, f"{second} minus {first}",
                                                normalised, diverging=True), key="confusion_difference")
        st.caption(f"Blue on the diagonal: {second} gets more of that class right; red off the diagonal: "
                   f"{second} makes that mistake more often than {first}.")
    with st.expander("Precision and recall per class"):
        for column, (label, probs) in zip(st.columns(len(probabilities)), probabilities.items()):
            column.markdown(f"**{label}**")
            column.dataframe(per_class_report(dataset.y_test, probs.argmax(axis=1), dataset.class_names).round(3),
                             hide_index=True)


def mistakes_section(dataset, probabilities: dict[str, np.ndarray]) -> None:
    st.subheader("Misclassified test images")
    labels = list(probabilities)
    options = [f"wrong by {label} only" for label in labels] + (["wrong by all"] if len(labels) > 1 else [])
    choice = st.segmented_control("Filter", ["wrong by any"] + options, default="wrong by any",
                                  key="mistake_filter") or "wrong by any"
    only = None if choice == "wrong by any" else "all" if choice == "wrong by all" else \
        labels[options.index(choice)]
    table = mistakes_by_model(dataset.y_test, probabilities, only=only)
    st.caption(f"{len(table):,} of {len(dataset.y_test):,} test images; showing up to {GALLERY_SIZE}.")
    names = dataset.class_names
    shown = table.head(GALLERY_SIZE)
    captions = []
    for row in shown.to_dict("records"):
        guesses = [f"{label} {names[row[f'predicted_{label}']]} ({row[f'confidence_{label}']:.0%})"
                   for label in labels]
        captions.append(f"true {names[row['true']]} · " + " · ".join(guesses))
    if len(shown):
        images = [np.kron(dataset.x_test[index], np.ones((3, 3), dtype=np.uint8)) for index in shown["index"]]
        st.image(images, caption=captions, width=84)


def downloads(table: pd.DataFrame, labels: list[str], runs: list[StoredRun]) -> None:
    columns = st.columns(1 + len(runs))
    columns[0].download_button("Results (CSV)", table.to_csv().encode(), file_name="comparison.csv",
                               mime="text/csv", on_click="ignore", key="download_csv")
    for column, label, run in zip(columns[1:], labels, runs):
        column.download_button(f"{label} model (.keras)", run.model_path.read_bytes, on_click="ignore",
                               file_name=f"{run.config.architecture}-{run.run_id}.keras",
                               mime="application/octet-stream", key=f"download_{run.run_id}")
