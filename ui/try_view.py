"""The Try-it page's pieces: choosing runs, getting a digit, predictions and the views inside."""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from core import pixels, settings
from core.preprocess import EmptyImage, ImageProblem, PreparedDigit, prepare_digit, read_upload
from core.runs import StoredRun
from ui import cache, drawing, plots
from ui.components import bounded_number

INPUTS = ["Draw", "Upload", "Test digit"]
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"]
# What tells two runs of one network apart, in the order a label adds them: (config field, words for a value)
DISTINCTIONS = tuple((setting.name, setting.words) for setting in (settings.SEED, settings.BATCH_SIZE,
                     settings.OPTIMIZER, settings.LEARNING_RATE, settings.PRECISION, settings.VALIDATION_SIZE))


def _config(row: dict) -> dict:
    return json.loads(row.get("config_json") or "{}") or row


def network_words(architecture: str) -> str:
    from core.architectures import PRESET_LABELS

    return PRESET_LABELS.get(architecture, architecture)


def choice_labels(rows: list[dict]) -> dict[str, str]:
    """run id -> the run in words: network, images, epochs, recipe, test accuracy; never a hash. Runs that
    would read the same get what differs between them (seed, batch, ...), and at last when they were trained."""
    from core.data import DATASETS
    from core.recipes import RECIPES

    def words(row: dict) -> str:
        config = _config(row)
        dataset = DATASETS.get(row["dataset"], {}).get("label", row["dataset"]).split(" (")[0]
        recipe = RECIPES[row["recipe"]].label.split(" (")[0] if row.get("recipe") in RECIPES else row.get("recipe")
        shuffled = " (shuffled pixels)" if config.get("pixels", pixels.DRAWN) != pixels.DRAWN else ""
        return (f"{network_words(row['architecture'])}{shuffled} · {row['sample_size']:,} {dataset} images · "
                f"{config.get('num_epochs', row['num_epochs'])} epochs · {recipe} · "
                f"{row['test_accuracy']:.1%} test accuracy")

    labels = {row["run_id"]: words(row) for row in rows}
    for label in set(labels.values()):
        same = [row for row in rows if labels[row["run_id"]] == label]
        if len(same) < 2:
            continue
        configs = [_config(row) for row in same]
        differing = [(name, text) for name, text in DISTINCTIONS if len({str(c.get(name)) for c in configs}) > 1]
        for row, config in zip(same, configs):
            extra = [text.format(config.get(name)) for name, text in differing] or [f"trained {row['trained_at']}"]
            labels[row["run_id"]] = f"{label} · " + " · ".join(extra)
    return labels


def short_labels(runs: list[StoredRun]) -> list[str]:
    """Column titles: the network's name, plus what else differs between the runs, in words (core/settings.py)."""
    return settings.run_labels([run.config for run in runs], fallbacks=[f"trained {run.trained_at}" for run in runs])


def default_run_ids(rows: list[dict]) -> list[str]:
    """The runs of this session's latest comparison; else, per network, the best-scoring stored run (the
    highest test accuracy, the newest of equals) on the data most runs here use, MNIST first."""
    known = {row["run_id"] for row in rows}
    latest = [run_id for run_id in st.session_state.get("compare", {}) if run_id in known]
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
    rows = cache.current_store().list_runs()
    if not rows:
        st.info("No trained models yet: train the two networks on the Compare page first.")
        st.page_link("app_pages/compare.py", label="Go to Compare", icon=":material/compare_arrows:")
        st.stop()
    labels = choice_labels(rows)
    chosen = st.multiselect("Models to try", list(labels), default=default_run_ids(rows), format_func=labels.get,
                            key="try_runs", help="Preselected: the models of your last comparison, or else each "
                                                 "network's best-scoring stored run.")
    runs, problems = cache.stored_runs(chosen)
    for problem in problems:
        st.warning(problem)
    if not runs:
        st.warning("Choose at least one model.")
        st.stop()
    return runs


def looks(runs: list[StoredRun], digit: np.ndarray) -> dict:
    """run id -> core.inside.Look (the answer and the views inside) for the (28, 28) digit, computed in a worker
    process where the models stay loaded; the same digit again is not recomputed. A failure is a message and a
    stopped page."""
    from core.runs.workers import OverBudget, WorkerCrashed

    try:
        with st.spinner("Asking the models…"):
            return cache.looks(tuple(run.run_id for run in runs), digit)
    except (ValueError, OverBudget, WorkerCrashed, OSError) as error:
        st.error(f"The models could not be asked: {error}")
        st.stop()


def get_digit(runs: list[StoredRun]) -> tuple[PreparedDigit, np.ndarray | None] | None:
    """The digit to predict and, for an upload, the picture as it was read (grey, upright); or None with a
    message saying what is missing or what is wrong with the picture (never a traceback)."""
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
            upload = st.file_uploader("A picture of one digit (PNG, JPEG, WebP, GIF, BMP or TIFF)", type=UPLOAD_TYPES,
                                      key="upload")
            if upload is None:
                st.info("Upload a picture of one digit.")
                return None
            picture = read_upload(upload.getvalue())
            return prepare_digit(picture), picture.grey
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


def show_seen(container, digit: PreparedDigit, picture: np.ndarray | None) -> None:
    """The picture as read (for an upload), the 28x28 it became, and a line for each thing done to it."""
    if picture is not None:
        container.image(np.round(picture).astype(np.uint8), caption="Your picture, as read", width=160)
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
                                                       plots.colour(run.config.architecture, position)),
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
