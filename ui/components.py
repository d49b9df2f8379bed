"""Reusable widgets: the experiment controls, the data-source line and training with progress bars."""

from __future__ import annotations

import logging
import time

import numpy as np
import streamlit as st

from core import settings
from core.architectures import DEFAULT_ARCHITECTURES, PRESETS, ArchitectureSpec
from core.config import TrainConfig
from core.recipes import RECIPES
from core.data import DATASETS, DataUnavailable, Dataset
from core.formats import PERCENT_COLUMN, loss, percent, seconds
from core.glossary import explain
from core.runs import Outcome, StoreError
from core.safe_text import literal
from core.training import EpochReport
from ui import cache

log = logging.getLogger(__name__)

QUICK_SAMPLE_SIZES = [100, 300, 1000, 3000, 10000, settings.FULL]
DEFAULTS = TrainConfig()


# The choices a page's widgets hold. Streamlit forgets a widget's value when a run does not draw it (a visit
# to another page); re-saving these before every run makes them plain session values, kept until the page's
# widgets own them again (Streamlit's documented way to keep widget state across pages).
KEPT_CHOICES = tuple(key for form in settings.FORMS for key in form.keys)  # declared in core/settings.py


def keep_choices() -> None:
    """Call before every page run (app.py)."""
    for key in KEPT_CHOICES:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def percent_column(label: str | None = None, **options):
    """A dataframe column of shares (0.892) shown as core.formats.percent shows them ("89.2%")."""
    return st.column_config.NumberColumn(label, **PERCENT_COLUMN, **options)


def glossary(terms) -> None:
    """The page's words of statistics and numerics, explained (core/glossary.py), behind an expander."""
    with st.expander("What the words mean", icon=":material/menu_book:"):
        st.markdown("\n".join(f"- **{term}**: {explain(term)}" for term in terms))


def trained_in(run) -> str:
    """A run's training time in words: the one definition (its train_seconds) and format everywhere."""
    return f"trained in {seconds(run.train_seconds)}"


def dataset_select(key: str) -> str:
    return choice_select(settings.DATASET, key)


def choice_select(setting: settings.Setting, key: str, **options) -> str:
    """A selectbox for a declared choice (core/settings.py): its label, choices in words and help."""
    st.session_state.setdefault(key, settings.default(setting))
    return st.selectbox(setting.widget_label, list(setting.choices), key=key,
                        format_func=lambda value: setting.choices[value] or value, help=setting.help or None,
                        **options)


def setting_input(column, setting: settings.Setting, key: str, default=None, high=None):
    """A number input for a declared setting: its label, bounds, step and help (core/settings.py); `high` for a
    bound only the page knows (the pool's size), `default` where the page's differs from the config's."""
    value = settings.default(setting) if default is None else default
    number = float if setting.kind == "number" else int
    return bounded_number(column, setting.widget_label, key, number(setting.low), number(high or setting.high),
                          number(setting.step), value, help=setting.help or None)


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
    picks = [size for size in QUICK_SAMPLE_SIZES if size == settings.FULL or size < pool_size]
    if st.session_state.get(key) == settings.FULL:  # from a link: the whole pool
        st.session_state[key] = pool_size

    def apply_pick():
        pick = st.session_state[f"{key}_pick"]
        if pick is not None:
            st.session_state[key] = pool_size if pick == settings.FULL else pick

    st.segmented_control("Sample size quick picks", picks, key=f"{key}_pick", on_change=apply_pick,
                         format_func=lambda size: f"full ({pool_size:,})" if size == settings.FULL else f"{size:,}",
                         label_visibility="collapsed")
    return setting_input(st, settings.SAMPLE_SIZE, key, min(DEFAULTS.sample_size, pool_size), high=pool_size)


def training_controls() -> dict:
    """Epochs, batch size and seed; their state lives in session_state so callbacks may set it."""
    columns = st.columns(3)
    return {
        setting.name: setting_input(column, setting, settings.COMPARE_FORM.key(setting))
        for column, setting in zip(columns, (settings.EPOCHS, settings.BATCH_SIZE, settings.SEED))
    }


def values_line(placeholder, sample_size: int, settings: dict) -> None:
    """What Train will use, in words: a field marked invalid in the browser keeps its last valid value."""
    placeholder.caption(f"Trains on {sample_size:,} images · {settings['num_epochs']} epochs · "
                        f"batch {settings['batch_size']} · seed {settings['seed']}")


def recipe_select(key: str, epochs_key: str) -> str:
    """The training recipe; choosing one also sets the epochs to that recipe's default."""
    def apply_default_epochs():
        st.session_state[epochs_key] = RECIPES[st.session_state[key]].default_epochs

    return choice_select(settings.RECIPE, key, on_change=apply_default_epochs)


def precision_select(key: str) -> str:
    return choice_select(settings.PRECISION, key)


def pixels_select(key: str) -> str:
    """As drawn or shuffled (core/pixels.py declares the choices, labels and help)."""
    return choice_select(settings.PIXELS, key)


JUST_SAVED = "_network_just_saved"  # a network saved by the editor, to add to the next architecture choice
SHOWN = "_networks_shown"  # name -> the saved network's spec as this session first showed it (or saved it)


def shown_networks() -> dict[str, ArchitectureSpec]:
    """Every network, as this session shows it: a saved network changed by another session since this one first
    showed it keeps the version shown here (what is on screen is what trains); `remember_shown` adopts another."""
    networks = dict(cache.networks())
    shown = st.session_state.setdefault(SHOWN, {})
    for name, spec in list(networks.items()):
        if name in PRESETS:
            continue
        if name not in shown:
            shown[name] = spec
        elif shown[name].hash != spec.hash:
            networks[name] = shown[name]
    return networks


def remember_shown(spec: ArchitectureSpec) -> None:
    """This session now shows `spec` under its name (saved or loaded by it)."""
    st.session_state.setdefault(SHOWN, {})[spec.name] = spec


def architecture_select(key: str, label: str = "Architectures") -> list[ArchitectureSpec]:
    """The networks to train: presets and the user's saved ones, each shown with its parameter count."""
    networks = shown_networks()
    stored = cache.networks()
    changed = [name for name, spec in networks.items() if name in stored and stored[name].hash != spec.hash]
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
    if described:  # descriptions are a user's text: shown as text, never as Markdown
        st.caption("  \n".join(f"**{spec.name}** — {literal(spec.description)}" for spec in described))
    for name in changed:
        if name in names:
            st.caption(f"{name} was changed in another session: this page trains the version it shows "
                       f"({networks[name].num_params:,} parameters). Load it in the editor to use the new one.")
    problems = cache.network_problems()
    if problems:
        st.caption(f"{len(problems)} saved network file{'s' if len(problems) > 1 else ''} could not be read and "
                   f"{'are' if len(problems) > 1 else 'is'} left out: " + ", ".join(literal(name, 60)
                                                                                  for name in list(problems)[:5]))
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


def start_workers_now() -> None:
    """Start the worker processes now (idempotent), as the first script run of a page whose buttons need model work
    begins: TensorFlow's import (5-9 s here) then overlaps the page's own run and paint instead of following it. A
    spawned worker does not take the server's interpreter lock, so the page does not wait for it. Nothing when the
    app trains in its own process (the import there would hold that lock: `prepare_in_background` does it after
    paint). A store that cannot be opened is left for the page to report."""
    from core.runs import StoreError

    try:
        cache.service(cache.store_location()).executor.start_processes()
    except StoreError:
        return


def start_workers_after_paint(dataset: Dataset | None = None) -> None:
    """Call last on a page whose buttons need model work (a study, Try it): once it has painted, the worker
    processes start, so TensorFlow's import (seconds) happens while the user reads the page. Nothing when the
    app trains in its own process."""
    from core.runs import StoreError
    from ui import background

    try:
        background.prepare_after_paint(cache.service(cache.store_location()), [], dataset)
    except StoreError:
        return


def prepare_in_background(dataset: Dataset, architectures: list[ArchitectureSpec], sample_size, recipe: str,
                          precision: str, settings: dict) -> None:
    """Call last on a page: once it has painted, prepare the training its Train button would start (TensorFlow
    imported, models built and traced), so the click starts at the first epoch. Nothing for settings that
    cannot train or whose runs are all stored (opening those needs no TensorFlow), nor for settings that only came
    from a link the user has not touched yet (a link's settings are not the user's request), nor for runs over the
    memory budget (core/costs.py)."""
    from core.runs import StoreError
    from ui import background, links

    try:
        configs = build_configs(dataset, architectures, sample_size, recipe, precision, **settings)
        if links.untouched_link_settings(configs):
            return
        background.prepare_after_paint(cache.service(cache.store_location()), configs, dataset)
    except (ValueError, StoreError):  # Train will say what is wrong
        return


def compare_intro(dataset: Dataset, sample_size: int, architectures: list[ArchitectureSpec],
                  pixels: str = "drawn") -> str:
    """The Compare page's first lines, said from the settings on screen (the student's experiment is the default);
    each network by its one name ("conv (shuffled)" on shuffled pixels)."""
    from core.pixels import arm_label

    reads = {"image": "the 28×28 image", "vector": "a 784-vector"}
    networks = " and ".join(f"**{arm_label(spec.name, pixels)}** (reading {reads.get(spec.input, 'a 784-vector')})"
                            for spec in architectures) or "no network yet (choose one in the sidebar)"
    shuffled = " with their pixels shuffled (one fixed permutation)" if pixels != "drawn" else ""
    student = f"The student trained a flat and a convolutional network on {DEFAULTS.sample_size:,} MNIST digits. "
    return (f"{student}These settings train {networks} on **{sample_size:,} {DATASETS[dataset.name]['label']}** "
            f"training images{shuffled}. Change anything, then press **Train**; runs already trained open at once "
            f"from the store.")


FOLLOWED = "_compare_followed"  # the run ids of the settings whose stored runs the page last looked up
MISSING = "_compare_missing"    # (how many of them are not stored, how many there are), while they are on screen
OPENED_RUNS = "compare_opened_runs"  # set by the Runs page: its chosen runs are shown until a setting changes


def show_stored_for(configs: list[TrainConfig], dataset: Dataset, from_link: bool = False) -> None:
    """Without a click, the settings on screen show their stored runs: on a first visit (a plain address, a new tab,
    after a restart), from a shared link, and whenever a setting changes. Only the store is read; nothing trains."""
    runs = cache.current_runs()
    ids = tuple(runs.run_id(config, dataset) for config in configs)
    if st.session_state.pop(OPENED_RUNS, False):
        st.session_state[FOLLOWED] = ids
        st.session_state.pop(MISSING, None)
        return
    if st.session_state.get(FOLLOWED) != ids:
        st.session_state[FOLLOWED] = ids
        stored = [run.run_id for run in (runs.get(config, dataset) for config in configs) if run is not None]
        st.session_state["compare"] = {run_id: True for run_id in stored}
        st.session_state[MISSING] = (len(configs) - len(stored), len(configs), from_link)
    missing, total, link = st.session_state.get(MISSING, (0, 0, False))
    shown = st.session_state.get("compare")
    if missing and shown:
        what = "of this link" if link else "for these settings"
        st.info(f"{missing} of the {total} runs {what} {'is' if missing == 1 else 'are'} not stored on this server "
                f"yet: press **Train** to train {'it' if missing == 1 else 'them'} (the stored ones are shown below).")
    elif missing and link:
        st.info(f"{missing} of the {total} runs of this link are not stored on this server yet: press **Train** to "
                f"train them.")


def trained(configs: list[TrainConfig], dataset: Dataset, outcomes: list[Outcome]) -> None:
    """After Train: the page shows these outcomes (as trained now or opened) until a setting changes."""
    st.session_state["compare"] = {outcome.run.run_id: outcome.cached for outcome in outcomes}
    st.session_state[FOLLOWED] = tuple(cache.current_runs().run_id(config, dataset) for config in configs)
    st.session_state.pop(MISSING, None)


def network_name(config: TrainConfig) -> str:
    """A run's network by its one name on every page: "conv", "conv (shuffled)" (core/pixels.py)."""
    from core.pixels import arm_label

    return arm_label(config.architecture, config.pixels)


class LastDrawn:
    """A progress bar that remembers what it shows, so it can be drawn again unchanged."""

    def __init__(self, bar, text: str):
        self.bar, self.value, self.text, self.started = bar, 0.0, text, False

    def progress(self, value: float, text: str) -> None:
        self.value, self.text = value, text
        self.bar.progress(value, text=text)

    def redraw(self) -> None:
        self.bar.progress(self.value, text=self.text)

    def empty(self) -> None:
        self.bar.empty()


def progress_reporter(bar, label: str):
    """An on_epoch function that moves `bar` with the epoch, the latest metrics and the time left."""
    seconds: list[float] = []

    def report(progress: EpochReport) -> None:
        seconds.append(progress.seconds)
        left = np.mean(seconds) * (progress.num_epochs - progress.epoch)
        metrics = " · ".join(f"{name.replace('_', ' ')} {percent(value) if 'accuracy' in name else loss(value)}"
                             for name, value in progress.metrics.items())
        bar.progress(progress.epoch / progress.num_epochs,
                     text=f"{label}: epoch {progress.epoch}/{progress.num_epochs} · {metrics} · "
                          f"about {left:.0f} s left")

    return report


def train_with_progress(configs: list[TrainConfig], dataset: Dataset, area=None) -> list[Outcome]:
    """Open stored runs at once; queue the missing ones together (each takes its place in the workers' line
    now), then wait for each with a progress bar — its place in line while it waits, its epochs while it trains
    — and the learning curves drawn as they grow. The bars come first, in `area` (default: here), so they are in
    view where the user looks after the click; the curves below them. Errors become messages."""
    from core.runs.workers import OverBudget

    area = area or st.container()
    runs = cache.current_runs()
    to_train = [config for config in configs if not runs.has(config, dataset)]
    with area:
        bars = [st.progress(0.0, text=f"{network_name(config)}: waiting…") for config in configs]
        cancel = st.empty()  # gone once every run has landed: there is nothing left to cancel
        if to_train:  # pressing it reruns the page, which stops this run: what it queued is dropped
            cancel.button("Cancel training", key="cancel_training", help="Drops this session's runs that have not "
                          "started; a run that has started finishes and is stored (opening it later is instant).")
    curves = LiveCurves(st.empty(), max(config.num_epochs for config in to_train)) if to_train else None
    requests, outcomes, asked_at = [], [], time.perf_counter()  # this click's runs keep their places together
    for config, bar in zip(configs, bars):
        try:
            requests.append(runs.request(config, dataset, asked_at))
        except OverBudget as error:
            bar.empty()
            st.error(f"{network_name(config)} was not trained: {error}")
            requests.append(None)
    try:
        for config, request, bar in zip(configs, requests, bars):
            if request is None:
                continue
            outcome = _wait_with_progress(config, request, curves, bar)
            if outcome is not None:
                outcomes.append(outcome)
    except BaseException:  # the page was left or rerun: what this session queued and nobody else waits for goes
        for request in requests:
            if request is not None:
                request.cancel()
        raise
    cancel.empty()
    if curves is not None:
        curves.placeholder.empty()  # the comparison below draws the finished curves
    return outcomes


def _wait_with_progress(config: TrainConfig, request, curves, bar) -> Outcome | None:
    from core.runs.workers import WorkerCrashed

    label = network_name(config)
    bar = LastDrawn(bar, f"{label}: preparing…")
    bar.progress(0.0, text=f"{label}: preparing…")
    report = progress_reporter(bar, label)
    if curves is not None:
        report = curves.reporter(label, then=report)

    def in_line(place) -> None:  # called at least every second: a page handles Cancel and reruns when it draws
        if place.place:
            bar.progress(0.0, text=f"{label}: {place.describe()} (other sessions' trainings go first)")
        elif not bar.started:
            bar.started = True
            bar.progress(0.0, text=f"{label}: starting…")
        else:  # running: the epoch line stays as the last epoch drew it
            bar.redraw()

    try:
        outcome = request.wait(on_epoch=report, on_queue=in_line)
    except (StoreError, OSError) as error:
        bar.empty()
        st.error(f"{label} could not be trained or stored: {error}")
        return None
    except WorkerCrashed as error:
        bar.empty()
        st.error(f"{label} was not trained: {error} Press Train to try again.")
        return None
    except Exception as error:  # keep the page usable whatever Keras raises
        log.exception("training %s failed", config)
        bar.empty()
        st.error(f"{label} failed to train: {error}")
        return None
    how = "opened from the store" if outcome.cached else trained_in(outcome.run)
    bar.progress(1.0, text=f"{label}: {how}")
    if outcome.problem:
        st.warning(f"{label}: the stored run was broken ({outcome.problem}), so it was trained again.")
    return outcome


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
