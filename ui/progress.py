"""Training with progress on a page: a bar per run (its place in the workers' line, then its epochs), a Cancel
button and the learning curves drawn as they grow."""

from __future__ import annotations

import logging
import time
import uuid

import numpy as np
import streamlit as st

from core.config import TrainConfig
from core.data import Dataset
from core.formats import loss, percent
from core.records import EpochReport
from core.runs import OverBudget, Outcome, StoreError, WorkerCrashed
from ui import cache
from ui.formats import trained_in
from ui.state import CANCEL_TRAINING, owner

log = logging.getLogger(__name__)


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

def network_name(config: TrainConfig) -> str:
    """A run's network by its one name on every page: "conv", "conv (shuffled)" (core/pixels.py)."""
    from core.pixels import arm_label

    return arm_label(config.architecture, config.pixels)


def train_with_progress(configs: list[TrainConfig], dataset: Dataset, area=None) -> list[Outcome]:
    """Open stored runs at once; queue the missing ones together (each takes its place in the workers' line
    now), then wait for each with a progress bar — its place in line while it waits, its epochs while it trains
    — and the learning curves drawn as they grow. The bars come first, in `area` (default: here), so they are in
    view where the user looks after the click; the curves below them. Errors become messages."""
    area = area or st.container()
    runs = cache.current_runs()
    to_train = [config for config in configs if not runs.has(config, dataset)]
    with area:
        bars = [st.progress(0.0, text=f"{network_name(config)}: waiting…") for config in configs]
        cancel = st.empty()  # gone once every run has landed: there is nothing left to cancel
        if to_train:  # pressing it reruns the page, which stops this run: what it queued is dropped
            cancel.button("Cancel training", key=CANCEL_TRAINING, help="Drops this session's runs that have not "
                          "started; a run that has started finishes and is stored (opening it later is instant).")
    curves_area = st.empty()  # the live curves are drawn once the runs are queued: the worker starts meanwhile
    curves, requests, outcomes = None, [], []
    click = uuid.uuid4().hex  # this click's runs take one turn together in the workers' queue
    for config, bar in zip(configs, bars):
        try:
            requests.append(runs.request(config, dataset, owner(), request=click))
        except OverBudget as error:
            bar.empty()
            st.error(f"{network_name(config)} was not trained: {error}")
            requests.append(None)
    try:
        if to_train:
            curves = LiveCurves(curves_area, max(config.num_epochs for config in to_train),
                                last=network_name(to_train[-1]))
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
    label = network_name(config)
    bar = LastDrawn(bar, f"{label}: preparing…")
    bar.progress(0.0, text=f"{label}: preparing…")
    report = progress_reporter(bar, label)
    if curves is not None:
        report = curves.reporter(label, then=report)

    def in_line(place) -> None:  # called at least every second: a page handles Cancel and reruns when it draws
        if place.starting is not None:  # a fresh server's worker is still importing TensorFlow
            bar.progress(0.0, text=f"{label}: {place.describe()}")
        elif place.place:
            bar.progress(0.0, text=f"{label}: {place.describe()} (sessions take turns on this server's workers)")
        elif not bar.started:
            bar.started = True
            bar.progress(0.0, text=f"{label}: starting…")
        else:  # running: the epoch line stays as the last epoch drew it
            bar.redraw()

    try:
        outcome = request.result(on_event=report, on_queue=in_line)
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
    """The learning curves of the runs training now, drawn empty at once, then after each run's last epoch but the
    last run's (the comparison draws that at once; a draw then took CPU from that run's test-set prediction,
    benchmarks/README.md §6), and otherwise at most every LIVE_SECONDS. (Drawing at the click lets the browser load
    the charts' code while the server starts TensorFlow; measured, the comparison did not appear sooner:
    benchmarks/README.md §6.) Not more often: with the browser on the same 2 cores, a redraw every second cost
    training time."""

    LIVE_SECONDS = 5.0

    def __init__(self, placeholder, num_epochs: int, last: str | None = None):
        """`last`: the label of the run that trains last, whose last epoch is not drawn."""
        self.placeholder = placeholder
        self.last = last
        self.num_epochs = num_epochs  # the x axis is the whole run from the start: the curves grow along it
        self.histories: dict[str, dict] = {}
        self._drawn_at = 0.0
        self._draw()

    def reporter(self, label: str, then):
        """An on_epoch function for run `label` that records its metrics, draws when due, then calls `then`."""
        history = self.histories.setdefault(label, {})

        def report(progress: EpochReport) -> None:
            for name, value in progress.metrics.items():
                history.setdefault(name, []).append(value)
            if progress.epoch == progress.num_epochs:
                due = label != self.last
            else:
                due = time.perf_counter() - self._drawn_at >= self.LIVE_SECONDS
            if due:
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
