"""The Try-it page's pieces: choosing runs, getting a digit, predictions and the views inside."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core import inside
from core.preprocess import EmptyImage, ImageProblem, prepare_digit, read_upload
from core.runs import StoredRun
from ui import cache, drawing, plots
from ui.components import bounded_number
from ui.compare_view import run_labels
from ui.runs_view import run_choice_label

INPUTS = ["Draw", "Upload", "Test digit"]


def default_run_ids(rows: list[dict]) -> list[str]:
    """The runs of the latest comparison; else the newest stored run of each architecture."""
    known = {row["run_id"] for row in rows}
    latest = [run_id for run_id in st.session_state.get("compare", {}) if run_id in known]
    if latest:
        return latest
    newest: dict[str, str] = {}
    for row in rows:  # newest first
        newest.setdefault(row["architecture"], row["run_id"])
    return list(newest.values())


def choose_runs() -> list[StoredRun]:
    rows = cache.current_store().list_runs()
    if not rows:
        st.info("No trained models yet: train the two networks on the Compare page first.")
        st.page_link("app_pages/compare.py", label="Go to Compare", icon=":material/compare_arrows:")
        st.stop()
    labels = {row["run_id"]: run_choice_label(row) for row in rows}
    chosen = st.multiselect("Models to try", list(labels), default=default_run_ids(rows), format_func=labels.get,
                            key="try_runs")
    runs, problems = cache.stored_runs(chosen)
    for problem in problems:
        st.warning(problem)
    if not runs:
        st.warning("Choose at least one model.")
        st.stop()
    return runs


def get_digit(runs: list[StoredRun]) -> np.ndarray | None:
    """The 28x28 digit to predict (0..1), or None with a message saying what is missing."""
    mode = st.segmented_control("Input", INPUTS, default="Draw", key="input_mode") or "Draw"
    try:
        if mode == "Draw":
            st.caption("Draw one digit, large, in the middle of the square.")
            pixels = drawing.canvas_pixels(key="canvas")
            if pixels is None:
                st.info("Draw a digit first.")
                return None
            return prepare_digit(pixels)
        if mode == "Upload":
            upload = st.file_uploader("A PNG or JPEG picture of one digit", type=["png", "jpg", "jpeg"],
                                      key="upload")
            if upload is None:
                st.info("Upload a picture of one digit.")
                return None
            return prepare_digit(read_upload(upload.getvalue()))
        dataset = cache.dataset(runs[0].config.dataset)
        index = bounded_number(st, f"Test image (0 to {len(dataset.y_test) - 1:,})", "test_digit", 0,
                               len(dataset.y_test) - 1, 1, 0)
        st.caption(f"True class: {dataset.class_names[dataset.y_test[index]]}")
        return dataset.x_test[index].astype(np.float32) / 255.0
    except EmptyImage as problem:
        st.info(str(problem))
    except ImageProblem as problem:
        st.error(str(problem))
    return None


def show_predictions(runs: list[StoredRun], digit: np.ndarray) -> None:
    root = cache.current_store().location
    labels = run_labels(runs)
    class_names = cache.dataset(runs[0].config.dataset).class_names
    left, right = st.columns([1, 3])
    left.plotly_chart(plots.digit_image(np.round(digit * 255), "What the models see (28×28)"), key="seen_digit")
    guesses = {}
    with right:
        for position, (column, label, run) in enumerate(zip(st.columns(len(runs)), labels, runs)):
            probabilities = inside.predict_probabilities(cache.model(root, run.run_id), digit)
            top = int(np.argmax(probabilities))
            guesses[label] = top
            column.metric(label, class_names[top], f"{probabilities[top]:.0%} confident", delta_color="off")
            column.plotly_chart(plots.probability_bars(probabilities, class_names, label,
                                                       plots.colour(run.config.architecture, position)),
                                key=f"probabilities_{run.run_id}")
    if len(set(guesses.values())) > 1:
        st.warning("The models disagree: " + ", ".join(f"{label} says {class_names[guess]}"
                                                      for label, guess in guesses.items()) + ".")


def show_inside(runs: list[StoredRun], digit: np.ndarray) -> None:
    root = cache.current_store().location
    labels = run_labels(runs)
    st.subheader("Saliency: which pixels move the top guess")
    for column, label, run in zip(st.columns(len(runs)), labels, runs):
        column.plotly_chart(plots.saliency_overlay(digit, inside.saliency(cache.model(root, run.run_id), digit),
                                                   label), key=f"saliency_{run.run_id}")
    for label, run in zip(labels, runs):
        model = cache.model(root, run.run_id)
        filters = inside.first_conv_filters(model)
        if filters is not None:
            st.subheader(f"Inside {label}")
            size = filters.shape[1]
            st.plotly_chart(plots.image_grid(filters, f"First layer's {len(filters)} filters ({size}×{size})",
                                             diverging=True),
                            key=f"filters_{run.run_id}")
            for name, maps in inside.feature_maps(model, digit).items():
                st.plotly_chart(plots.image_grid(np.moveaxis(maps, -1, 0), f"{name}: {maps.shape[-1]} feature maps"),
                                key=f"maps_{run.run_id}_{name}")
        weights = inside.first_dense_weight_images(model)
        if weights is not None:
            st.subheader(f"Inside {label}")
            st.plotly_chart(plots.image_grid(weights, "First layer: each unit's 784 weights as a 28×28 image",
                                             columns=10, diverging=True), key=f"weights_{run.run_id}")
