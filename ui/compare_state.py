"""Compare's own state: which runs the page shows (trained now, opened from the store, or chosen on the Runs
page) and the words that introduce them."""

from __future__ import annotations

import streamlit as st

from core.architectures import ArchitectureSpec
from core.config import TrainConfig
from core.data import DATASETS, Dataset
from core.runs import Outcome
from ui import cache
from ui.state import FOLLOWED, MISSING, OPENED_RUNS, SHOWN_RUNS

DEFAULTS = TrainConfig()


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


def open_runs(run_ids: tuple[str, ...]) -> None:
    """Show exactly these stored runs (a `runs=` address: the Runs page's "Open in Compare", or a copy of it) until
    a setting changes or Train is pressed; the address keeps naming them meanwhile. Asked again by the same address,
    nothing changes (the page's own state wins)."""
    if st.session_state.get(OPENED_RUNS) == run_ids:
        return
    st.session_state[OPENED_RUNS] = run_ids
    st.session_state[SHOWN_RUNS] = {run_id: True for run_id in run_ids}
    st.session_state.pop(FOLLOWED, None)
    st.session_state.pop(MISSING, None)


def training_started() -> None:
    """A Train click changes the store: when its run ends early (Cancel, a setting changed, another page opened),
    what it stored meanwhile is looked up again on the next run (else the page said "Nothing is stored for these
    settings yet" beside a run the click had stored); `trained` sets the page's runs when it ends normally."""
    st.session_state.pop(FOLLOWED, None)


def opened_runs() -> tuple[str, ...] | None:
    """The run ids the page shows because an address named them (None: it shows its settings' runs)."""
    return st.session_state.get(OPENED_RUNS)


def opened_intro(runs: list) -> str:
    """The page's first lines while it shows runs opened by their ids: what they are, and how to leave them."""
    from ui.compare_view import run_labels

    names = ", ".join(f"**{label}**" for label in run_labels(runs))
    return (f"These {len(runs)} stored runs were opened by their ids (from the Runs page, or a link to them): "
            f"{names}. This page's address names exactly them. Change a setting in the sidebar, or press **Train**, "
            f"to go back to comparing the settings there.")


def show_stored_for(configs: list[TrainConfig], dataset: Dataset, from_link: bool = False) -> None:
    """Without a click, the settings on screen show their stored runs: on a first visit (a plain address, a new tab,
    after a restart), from a shared link, and whenever a setting changes. Only the store is read; nothing trains.
    While runs opened by their ids are shown (`open_runs`), they stay until a setting changes."""
    runs = cache.current_runs()
    ids = tuple(runs.run_id(config, dataset) for config in configs)
    if st.session_state.get(OPENED_RUNS) is not None:
        followed = st.session_state.get(FOLLOWED)
        if followed is None or followed == ids:  # the settings have not changed since the runs were opened
            st.session_state[FOLLOWED] = ids
            return
        del st.session_state[OPENED_RUNS]  # a setting changed: the page follows its settings again
    if st.session_state.get(FOLLOWED) != ids:
        st.session_state[FOLLOWED] = ids
        stored = [run.run_id for run in (runs.get(config, dataset) for config in configs) if run is not None]
        st.session_state[SHOWN_RUNS] = {run_id: True for run_id in stored}
        st.session_state[MISSING] = (len(configs) - len(stored), len(configs), from_link)
    missing, total, link = st.session_state.get(MISSING, (0, 0, False))
    shown = st.session_state.get(SHOWN_RUNS)
    if missing and shown:
        what = "of this link" if link else "for these settings"
        st.info(f"{missing} of the {total} runs {what} {'is' if missing == 1 else 'are'} not stored on this server "
                f"yet: press **Train** to train {'it' if missing == 1 else 'them'} (the stored ones are shown below).")
    elif missing and link:
        st.info(f"{missing} of the {total} runs of this link are not stored on this server yet: press **Train** to "
                f"train them.")


def trained(configs: list[TrainConfig], dataset: Dataset, outcomes: list[Outcome]) -> None:
    """After Train: the page shows these outcomes (as trained now or opened) until a setting changes."""
    st.session_state.pop(OPENED_RUNS, None)
    st.session_state[SHOWN_RUNS] = {outcome.run.run_id: outcome.cached for outcome in outcomes}
    st.session_state[FOLLOWED] = tuple(cache.current_runs().run_id(config, dataset) for config in configs)
    st.session_state.pop(MISSING, None)
