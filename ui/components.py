"""Reusable widgets: the experiment controls, the data-source line and training with progress bars."""

from __future__ import annotations

import logging
import time

import numpy as np
import streamlit as st

from core.architectures import DEFAULT_ARCHITECTURES, PRECISION_HELP, PRECISIONS, ArchitectureSpec
from core.config import MAX_BATCH_SIZE, MAX_EPOCHS, MAX_SEED, TrainConfig
from core.recipes import RECIPES
from core.data import DATASETS, MIN_SAMPLE_SIZE, DataUnavailable, Dataset
from core.runs import Outcome, StoreError
from core.training import EpochReport
from ui import cache

log = logging.getLogger(__name__)

QUICK_SAMPLE_SIZES = [100, 300, 1000, 3000, 10000, "full"]
DEFAULTS = TrainConfig()


# The choices a page's widgets hold. Streamlit forgets a widget's value when a run does not draw it (a visit
# to another page); re-saving these before every run makes them plain session values, kept until the page's
# widgets own them again (Streamlit's documented way to keep widget state across pages).
KEPT_CHOICES = ("dataset", "sample_size", "recipe", "epochs", "batch_size", "seed", "precision", "architectures",
                "study_sizes", "study_seeds", "study_epochs", "study_batch_size", "study_margin",
                "study_architectures", "study_pairs", "study_recipe", "study_precision",
                "data_dataset", "data_sample_size", "data_seed")


def keep_choices() -> None:
    """Call before every page run (app.py)."""
    for key in KEPT_CHOICES:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def dataset_select(key: str) -> str:
    return st.selectbox("Dataset", list(DATASETS), key=key, format_func=lambda name: DATASETS[name]["label"])


def load_or_stop(name: str) -> Dataset:
    """The dataset, or a clear error and a stopped page when no source has it."""
    try:
        return cache.dataset(name)
    except DataUnavailable as error:
        st.error(str(error))
        st.stop()


def data_source_line(dataset: Dataset) -> None:
    st.caption(f"**Data:** {dataset.source} — {dataset.pool_size:,} training images available, "
               f"{len(dataset.y_test):,} test images.")


def bounded_number(column, label: str, key: str, low, high, step, default, help: str | None = None):
    """A number input bounded to what the config accepts, so the field never shows one value while another is used.

    A value kept from before that is now out of range (another data source's pool) is brought into range first,
    with a notice; the bounds are in the help text. Browsers keep an out-of-range typed value in the field,
    marked invalid, and send nothing: the value used is the last valid one, which `values_line` shows.
    """
    st.session_state.setdefault(key, default)
    value = st.session_state[key]
    if not low <= value <= high:
        st.session_state[key] = min(max(value, low), high)
        column.caption(f"{label}: {value:,} is outside {low:,} to {high:,}; using {st.session_state[key]:,}.")
    bounds = f"From {low:,} to {high:,}."
    return column.number_input(label, min_value=low, max_value=high, step=step, key=key,
                               help=f"{help} {bounds}" if help else bounds)


def sample_size_input(pool_size: int, key: str) -> int:
    """Quick picks (100 … full, only those the pool has) plus any number from 10 to the pool's size."""
    picks = [size for size in QUICK_SAMPLE_SIZES if size == "full" or size < pool_size]

    def apply_pick():
        pick = st.session_state[f"{key}_pick"]
        if pick is not None:
            st.session_state[key] = pool_size if pick == "full" else pick

    st.segmented_control("Sample size quick picks", picks, key=f"{key}_pick", on_change=apply_pick,
                         format_func=lambda size: f"full ({pool_size:,})" if size == "full" else f"{size:,}",
                         label_visibility="collapsed")
    return bounded_number(st, "Training images (balanced across classes)", key, MIN_SAMPLE_SIZE, pool_size, 100,
                          min(DEFAULTS.sample_size, pool_size), help="Drawn from the pool of this data source.")


def training_controls() -> dict:
    """Epochs, batch size and seed; their state lives in session_state so callbacks may set it."""
    columns = st.columns(3)
    return {
        "num_epochs": bounded_number(columns[0], "Epochs", "epochs", 1, MAX_EPOCHS, 1, DEFAULTS.num_epochs),
        "batch_size": bounded_number(columns[1], "Batch size", "batch_size", 1, MAX_BATCH_SIZE, 16,
                                     DEFAULTS.batch_size),
        "seed": bounded_number(columns[2], "Seed", "seed", 0, MAX_SEED, 1, DEFAULTS.seed),
    }


def values_line(placeholder, sample_size: int, settings: dict) -> None:
    """What Train will use, in words: a field marked invalid in the browser keeps its last valid value."""
    placeholder.caption(f"Trains on {sample_size:,} images · {settings['num_epochs']} epochs · "
                        f"batch {settings['batch_size']} · seed {settings['seed']}")


def recipe_select(key: str, epochs_key: str) -> str:
    """The training recipe; choosing one also sets the epochs to that recipe's default."""
    def apply_default_epochs():
        st.session_state[epochs_key] = RECIPES[st.session_state[key]].default_epochs

    return st.selectbox("Recipe", list(RECIPES), key=key, on_change=apply_default_epochs,
                        format_func=lambda name: RECIPES[name].label,
                        help="The student's recipe is the baseline. Improved: augmentation, a cosine "
                             "learning-rate schedule and early stopping. Averaged: the same augmentation and "
                             "schedule over 200 epochs with weight decay and averaged weights — the most "
                             "accurate, about 19× the student's training time. Same networks, same parameters.")


def precision_select(key: str) -> str:
    return st.selectbox("Arithmetic", list(PRECISIONS), key=key, format_func=lambda name: PRECISIONS[name],
                        help=PRECISION_HELP)


JUST_SAVED = "_network_just_saved"  # a network saved by the editor, to add to the next architecture choice


def architecture_select(key: str, label: str = "Architectures") -> list[ArchitectureSpec]:
    """The networks to train: presets and the user's saved ones, each shown with its parameter count."""
    networks = cache.networks()
    chosen = list(st.session_state.get(key, DEFAULT_ARCHITECTURES))
    chosen = [name for name in chosen if name in networks]  # a saved network may have been deleted
    just_saved = st.session_state.pop(JUST_SAVED, None)
    if just_saved in networks and just_saved not in chosen:
        chosen.append(just_saved)
    st.session_state[key] = chosen
    names = st.multiselect(label, list(networks), key=key,
                           format_func=lambda name: f"{name} · {networks[name].num_params:,}",
                           help="Presets, then your own networks ('Design your own network', under the title). "
                                "The number is the network's parameter count.")
    described = [networks[name] for name in names if networks[name].description]
    if described:
        st.caption("  \n".join(f"**{spec.name}** — {spec.description}" for spec in described))
    return [networks[name] for name in names]


def build_configs(dataset: Dataset, architectures: list[ArchitectureSpec], sample_size, recipe: str = "student",
                  precision: str = "float32", **settings) -> list[TrainConfig]:
    """One config per architecture; raises ValueError with a user-facing message for bad input."""
    from core.data import check_sample_size

    if not architectures:
        raise ValueError("Choose at least one architecture to train.")
    check_sample_size(sample_size, dataset.pool_size)
    return [TrainConfig.for_network(spec, dataset=dataset.name, sample_size=sample_size, recipe=recipe,
                                    precision=precision, **settings)
            for spec in architectures]


def prepare_in_background(dataset: Dataset, architectures: list[ArchitectureSpec], sample_size, recipe: str,
                          precision: str, settings: dict) -> None:
    """Call last on a page: once it has painted, prepare the training its Train button would start (TensorFlow
    imported, models built and traced), so the click starts at the first epoch. Nothing for settings that
    cannot train or whose runs are all stored (opening those needs no TensorFlow)."""
    from core.runs import StoreError
    from ui import background

    try:
        configs = build_configs(dataset, architectures, sample_size, recipe, precision, **settings)
        background.prepare_after_paint(cache.service(cache.store_location()), configs, dataset)
    except (ValueError, StoreError):  # Train will say what is wrong
        return


def open_stored(configs: list[TrainConfig], dataset: Dataset) -> None:
    """A shared link's comparison: its stored runs are shown without training; the rest wait for Train."""
    runs = cache.current_runs()
    stored = [run.run_id for run in (runs.get(config, dataset) for config in configs) if run is not None]
    st.session_state["compare"] = {run_id: True for run_id in stored}
    if len(stored) < len(configs):
        st.info(f"{len(configs) - len(stored)} of the {len(configs)} runs of this link are not stored on this "
                f"server yet: press **Train** to train them" + (" (the stored ones are shown below)." if stored else "."))


def progress_reporter(bar, label: str):
    """An on_epoch function that moves `bar` with the epoch, the latest metrics and the time left."""
    seconds: list[float] = []

    def report(progress: EpochReport) -> None:
        seconds.append(progress.seconds)
        left = np.mean(seconds) * (progress.num_epochs - progress.epoch)
        metrics = " · ".join(f"{name.replace('_', ' ')} {value:.3f}" for name, value in progress.metrics.items())
        bar.progress(progress.epoch / progress.num_epochs,
                     text=f"{label}: epoch {progress.epoch}/{progress.num_epochs} · {metrics} · "
                          f"about {left:.0f} s left")

    return report


def train_with_progress(configs: list[TrainConfig], dataset: Dataset) -> list[Outcome]:
    """Open stored runs at once; train missing ones with a progress bar each and their learning curves drawn
    as they grow. Errors become messages."""
    runs = cache.current_runs()
    outcomes = []
    to_train = [config for config in configs if not runs.has(config, dataset)]
    curves = LiveCurves(st.empty(), max(config.num_epochs for config in to_train)) if to_train else None
    for config in configs:
        label = config.spec.label
        bar = st.progress(0.0, text=f"{label}: preparing…")
        started = time.perf_counter()
        report = progress_reporter(bar, label)
        if curves is not None:
            report = curves.reporter(config.architecture, then=report)
        try:
            outcome = runs.get_or_train(config, dataset, on_epoch=report)
        except (StoreError, OSError) as error:
            bar.empty()
            st.error(f"{label} could not be trained or stored: {error}")
            continue
        except Exception as error:  # keep the page usable whatever Keras raises
            log.exception("training %s failed", config)
            bar.empty()
            st.error(f"{label} failed to train: {error}")
            continue
        how = "opened from the store" if outcome.cached else "trained"
        bar.progress(1.0, text=f"{label}: {how} in {time.perf_counter() - started:.1f} s")
        if outcome.problem:
            st.warning(f"{label}: the stored run was broken ({outcome.problem}), so it was trained again.")
        outcomes.append(outcome)
    if curves is not None:
        curves.placeholder.empty()  # the comparison below draws the finished curves
    return outcomes


class LiveCurves:
    """The learning curves of the runs training now, drawn empty at once, then after each run's last epoch and
    otherwise at most every LIVE_SECONDS. (Drawing at the click lets the browser load the charts' code while the
    server starts TensorFlow; measured, the comparison did not appear sooner: benchmarks/README.md §6.) Not more
    often: with the browser on the same 2 cores, a redraw every second cost training time."""

    LIVE_SECONDS = 5.0

    def __init__(self, placeholder, num_epochs: int):
        self.placeholder = placeholder
        self.num_epochs = num_epochs  # the x axis is the whole run from the start: the curves grow along it
        self.histories: dict[str, dict] = {}
        self._drawn_at = 0.0
        self._draw()

    def reporter(self, label: str, then):
        history = self.histories.setdefault(label, {})

        def report(progress: EpochReport) -> None:
            for name, value in progress.metrics.items():
                history.setdefault(name, []).append(value)
            if progress.epoch == progress.num_epochs or time.perf_counter() - self._drawn_at >= self.LIVE_SECONDS:
                self._draw()
            then(progress)

        return report

    def _draw(self) -> None:
        from ui import plots  # plotly: not needed for first paint

        figure = plots.learning_curves(self.histories)
        figure.update_xaxes(range=[0.5, self.num_epochs + 0.5], dtick=max(1, self.num_epochs // 10))
        figure.update_yaxes(range=[0, 1], row=1, col=2)
        if not any(self.histories.values()):  # before the first epoch: both panels' axes, plausible ranges
            for column in (1, 2):
                figure.add_scatter(x=[None], y=[None], showlegend=False, hoverinfo="skip", row=1, col=column)
            figure.update_yaxes(range=[0, 2.5], row=1, col=1)
        with self.placeholder.container():
            st.caption("Learning curves so far: training solid, validation dashed.")
            st.plotly_chart(figure)
        self._drawn_at = time.perf_counter()
