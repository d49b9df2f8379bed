"""The Try-it page's pieces: choosing runs, getting a digit, predictions and the views inside."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from core import pixels, settings
from core.decode import ImageProblem, format_words, preview, read_upload
from core.preprocess import EmptyImage, PreparedDigit, prepare_digit
from core.runs import StoredRun
from core import figures
from ui import cache, drawing, plots
from ui.state import SHOWN_RUNS
from ui.controls import bounded_number
from ui.run_choice import pick_runs

INPUTS = ["Draw", "Upload", "Test digit"]
UPLOADS_KEPT = 32  # uploads whose reading is kept (all sessions), each a 160x160 preview and a 28x28 digit
def short_labels(runs: list[StoredRun]) -> list[str]:
    """Column titles: the network's name, plus what else differs between the runs, in words (core/settings.py)."""
    return settings.run_labels([run.config for run in runs], fallbacks=[f"trained {run.trained_at}" for run in runs])


def default_run_ids(rows: list[dict]) -> list[str]:
    """The runs of this session's latest comparison; else, per network, the best-scoring stored run (the
    highest test accuracy, the newest of equals) on the data most runs here use, MNIST first."""
    known = {row["run_id"] for row in rows}
    latest = [run_id for run_id in st.session_state.get(SHOWN_RUNS, {}) if run_id in known]
    if latest:
        return latest
    datasets = [row["dataset"] for row in rows]
    dataset = "mnist" if "mnist" in datasets else max(set(datasets), key=datasets.count)
    best: dict[str, dict] = {}
    for row in rows:  # newest first: an equal score keeps the newer run
        current = best.get(row["architecture"])
        if row["dataset"] == dataset and (current is None or row["test_accuracy"] > current["test_accuracy"]):
            best[row["architecture"]] = row
    return [row["run_id"] for row in best.values()]


def choose_runs() -> list[StoredRun]:
    """The stored runs to try (default: the session's last comparison, else each network's best run); the page
    stops with a message when there are none."""
    rows = cache.current_store().list_runs()
    runs = pick_runs(rows, "Models to try", "try_runs", default_run_ids(rows) if rows else [],
                     "Preselected: the models of your last comparison, or else each network's best-scoring stored run.",
                     "No trained models yet: train the two networks on the Compare page first.")
    if runs is None:
        st.stop()
    return runs


def looks(runs: list[StoredRun], digit: np.ndarray) -> dict:
    """run id -> core.inside.Look (the answer and the views inside) for the (28, 28) digit, computed in a worker
    process where the models stay loaded; the same digit again is not recomputed. A failure is a message and a
    stopped page."""
    from core.runs import OverBudget, WorkerCrashed

    try:
        with st.spinner("Asking the models…"):
            return cache.looks(tuple(run.run_id for run in runs), digit)
    except (ValueError, OverBudget, WorkerCrashed, OSError) as error:
        st.error(f"The models could not be asked: {error}")
        st.stop()


def get_digit(runs: list[StoredRun]) -> tuple[PreparedDigit, np.ndarray | None] | None:
    """The digit to predict and, for an upload, the picture as it was read ((160, 160) uint8, upright); or None
    with a message saying what is missing or what is wrong with the picture (never a traceback)."""
    mode = st.segmented_control("Input", INPUTS, default="Draw", key="input_mode") or "Draw"
    try:
        if mode == "Draw":
            st.caption("Draw one digit, large, in the middle of the square.")
            st.space("medium")  # the canvas's toolbar shows above it on hover: room for it, not over the hint
            pixels = drawing.canvas_pixels(key="canvas")
            if pixels is None:
                st.info("Draw a digit first.")
                return None
            return prepare_digit(pixels), None
        if mode == "Upload":
            # No type list: the browser would refuse other files itself and leave the previous upload's answers on
            # screen; here every file is read, and one that cannot be says why.
            upload = st.file_uploader(f"A picture of one digit ({format_words()})", key="upload")
            if upload is None:
                st.info("Upload a picture of one digit.")
                return None
            data = upload.getvalue()
            digit, shown, problem = read_digit(hashlib.sha256(data).hexdigest(), data)
            if problem is not None:
                raise problem
            return digit, shown
        dataset = cache.dataset(runs[0].config.dataset)
        index = bounded_number(st, f"Test image (0 to {len(dataset.y_test) - 1:,})", "test_digit", 0,
                               len(dataset.y_test) - 1, 1, 0)
        st.caption(f"True class: {dataset.class_names[dataset.y_test[index]]}")
        return PreparedDigit(dataset.x_test[index].astype(np.float32) / 255.0), None
    except EmptyImage as problem:  # the same blank picture: what to do differs for a canvas and an upload
        st.info(f"Draw a digit first. {problem}" if mode == "Draw" else
                f"{problem} Upload a picture of one digit, written large on plain paper.")
    except ImageProblem as problem:
        st.error(str(problem))
    return None


@st.cache_data(max_entries=UPLOADS_KEPT, show_spinner="Reading the picture…")
def read_digit(digest: str, _data: bytes) -> tuple[PreparedDigit | None, np.ndarray | None, ImageProblem | None]:
    """An uploaded file (its SHA-256 `digest` the key, so a rerun does not decode it again) -> (the digit, the
    picture as read for display ((160, 160) uint8, core.decode.preview), None), or (None, None, the problem,
    with its message for the user)."""
    try:
        picture = read_upload(_data)
        return prepare_digit(picture), preview(picture.grey), None
    except ImageProblem as problem:
        return None, None, problem


def show_seen(container, digit: PreparedDigit, picture: np.ndarray | None) -> None:
    """The picture as read (for an upload: a square preview, whatever its shape), the 28x28 it became, and a line
    for each thing done to it."""
    if picture is not None:
        container.image(picture, caption="Your picture, as read", width=160)
    container.plotly_chart(plots.digit_image(np.round(digit.pixels * 255), "What the models see (28×28)"),
                           key="seen_digit")
    for note in digit.notes:
        container.caption(f"**{note.kind.capitalize()}:** {note.text}")


def show_predictions(runs: list[StoredRun], looks: dict, digit: PreparedDigit, picture: np.ndarray | None = None):
    labels = short_labels(runs)
    class_names = cache.dataset(runs[0].config.dataset).class_names
    left, right = st.columns([1, 3])
    show_seen(left, digit, picture)
    guesses = {}
    with right:
        for position, (column, label, run) in enumerate(zip(st.columns(len(runs)), labels, runs)):
            probabilities = looks[run.run_id].probabilities
            top = int(np.argmax(probabilities))
            guesses[label] = top
            column.metric(label, class_names[top], f"{probabilities[top]:.0%} confident", delta_color="off",
                          delta_arrow="off")  # a confidence, not a change: no arrow
            column.plotly_chart(plots.probability_bars(probabilities, class_names, label,
                                                       figures.colour(run.config.architecture, position)),
                                key=f"probabilities_{run.run_id}")
    if any(run.config.pixels != pixels.DRAWN for run in runs):
        st.caption("A model trained on shuffled pixels is given this digit shuffled by the same fixed permutation "
                   "its training images had; its saliency and first-layer weights below are put back where the "
                   "pixels were drawn.")
    if len(set(guesses.values())) > 1:
        st.warning("The models disagree: " + ", ".join(f"{label} says {class_names[guess]}"
                                                      for label, guess in guesses.items()) + ".")


def show_inside(runs: list[StoredRun], looks: dict, digit: np.ndarray) -> None:
    labels = short_labels(runs)
    st.subheader("Saliency: which pixels move the top guess")
    for column, label, run in zip(st.columns(len(runs)), labels, runs):
        column.plotly_chart(plots.saliency_overlay(digit, looks[run.run_id].saliency, label),
                            key=f"saliency_{run.run_id}")
    for label, run in zip(labels, runs):
        look = looks[run.run_id]
        if look.filters is not None:
            st.subheader(f"Inside {label}")
            size = look.filters.shape[1]
            st.plotly_chart(plots.image_grid(look.filters, f"First layer's {len(look.filters)} filters "
                                                           f"({size}×{size})", diverging=True),
                            key=f"filters_{run.run_id}")
            if run.config.pixels != pixels.DRAWN:
                st.caption("Trained on shuffled pixels: its filters and feature maps below are of the shuffled "
                           "digit, where neighbouring pixels are unrelated.")
            for name, maps in look.feature_maps.items():
                st.plotly_chart(plots.image_grid(np.moveaxis(maps, -1, 0), f"{name}: {maps.shape[-1]} feature maps"),
                                key=f"maps_{run.run_id}_{name}")
        if look.dense_weights is not None:
            st.subheader(f"Inside {label}")
            st.plotly_chart(plots.image_grid(look.dense_weights, "First layer: each unit's 784 weights as a 28×28 "
                                             "image", columns=10, diverging=True), key=f"weights_{run.run_id}")
