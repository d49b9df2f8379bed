"""The verdict on a class's handwriting: which stored networks to ask, their answers on the set (computed in a
worker process, cached per run and set version), and the page's tables, sentence and grids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import costs, formats
from core.costs import Cost
from core.class_digits import ClassSet
from core.class_digits.networks import default_run_ids, describe, handwriting_rows, predicted_labels_in_worker
from core.class_digits.verdict import Verdict, evaluate
from core.runs import StoredRun
from core.runs import Job, OverBudget, WorkerCrashed
from core.runs.executors import run
from ui import cache
from ui.formats import percent_column
from ui.state import SHOWN_RUNS, owner
from ui.run_choice import pick_runs

SHOWN = "class_verdict_shown"   # session: the verdict was asked for (then it follows the set as it grows)
MAX_DISAGREEMENTS_SHOWN = 48    # digits per grid of "one right, the other wrong"


def in_worker(function, args: tuple, label: str, peak_mb: float):
    """The one place this feature hands model work to the app's executor: `function(*args, emit)` runs where the
    app's models run (a worker process; in the server only with TRAIN_WORKERS=0) and its value comes back."""
    return run(cache.current_runs().executor, Job(function, args, cost=Cost(peak_mb, None), label=label, owner=owner()))


@st.cache_data(max_entries=256, show_spinner=False)
def _predictions(location: str, run_id: str, order: str, code: str, version: str, _images: np.ndarray) -> np.ndarray:
    """A stored run's answers (N,) uint8 on the set `code` at `version` (whose digits are `_images`, not hashed:
    the version names them). A new digit makes a new version of that set only: other sets' entries stay."""
    run = cache.current_store().get(run_id)
    peak_mb = costs.prediction_peak_mb([run.config.spec] if run is not None else [], images=len(_images))
    return in_worker(predicted_labels_in_worker, (location, run_id, order, _images), "asking the networks about "
                     "your class's digits", peak_mb)


def choose_runs() -> list[StoredRun] | None:
    """The stored MNIST runs to ask (default: the session's last comparison, else each network's best run at the
    student's settings); None, with a message, when there are none."""
    rows = handwriting_rows(cache.current_store().list_runs())
    return pick_runs(rows, "Networks to ask", "class_runs", default_run_ids(rows, list(st.session_state.get(
        SHOWN_RUNS, {}))), "Preselected: the networks of your last comparison, or else each network's best-scoring "
        "run at the student's settings (1,000 images, 12 epochs).", "No networks trained on MNIST yet: train flat and "
        "conv on the Compare page first, then come back for the verdict.")


def verdict(runs: list[StoredRun], class_set: ClassSet) -> Verdict | None:
    """Each run asked about the set (in a worker, once per run and set version), then the verdict; None with a
    message when the networks could not be asked."""
    location = cache.store_location()
    try:
        with st.spinner("Asking the networks about your digits…"):
            predictions = {run.run_id: _predictions(location, run.run_id, run.config.pixels, class_set.code,
                                                    class_set.version, class_set.images) for run in runs}
    except (ValueError, OverBudget, WorkerCrashed, OSError) as error:
        st.error(f"The networks could not be asked: {error}")
        return None
    return evaluate(class_set.labels, describe(runs), predictions)


def show_verdict(class_set: ClassSet) -> None:
    st.subheader("Does conv still beat flat on our handwriting?")
    runs = choose_runs()
    if runs is None:
        return
    if not len(class_set):
        st.info("The set has no digits yet: draw some above, then ask the networks.")
        return
    if st.button(f"Ask the networks about our {len(class_set):,} digits", key="class_evaluate", type="primary",
                 icon=":material/gavel:"):
        st.session_state[SHOWN] = True
    if not st.session_state.get(SHOWN):
        st.caption("Each chosen network reads every digit of the set; the verdict compares them on the same digits.")
        return
    found = verdict(runs, class_set)
    if found is not None:
        show(found, class_set)


def show(found: Verdict, class_set: ClassSet) -> None:
    """The sentence, each network beside its MNIST accuracy, accuracy per digit, and the digits that split them."""
    (st.success if found.paired is not None and found.paired.better is not None else st.info)(found.sentence)
    table = pd.DataFrame([{"network": result.network.label, "our digits": result.accuracy,
                           "95% CI": f"{formats.percent(result.low)} to {formats.percent(result.high)}",
                           "MNIST test": result.network.mnist_accuracy,
                           "vs MNIST": formats.points(result.versus_mnist)}
                          for result in found.networks])
    st.dataframe(table, hide_index=True, column_config={
        "our digits": percent_column(help="Share of the class's digits the network gets right."),
        "MNIST test": percent_column(help="The same run's accuracy on MNIST's test digits."),
        "vs MNIST": st.column_config.TextColumn(help="Accuracy on our digits minus the MNIST test accuracy: below "
                                                     "zero, what new writers cost the network.")})
    per_label = pd.DataFrame([result.per_label for result in found.networks], columns=[str(label) for label in
                             range(10)], index=[result.network.label for result in found.networks])
    st.markdown("**Accuracy per digit** (share right among the set's digits of each label)")
    st.dataframe(per_label, column_config={str(label): percent_column() for label in range(10)})
    paired = found.paired
    if paired is None:
        return
    first, second = paired.first.network.label, paired.second.network.label
    for indices, right, wrong, wrong_result in ((paired.only_first_right, first, second, paired.second),
                                                (paired.only_second_right, second, first, paired.first)):
        st.markdown(f"**{right} right, {wrong} wrong: {len(indices):,} digit(s)**")
        if len(indices):
            shown = indices[-MAX_DISAGREEMENTS_SHOWN:]
            st.image([class_set.images[index] for index in shown], width=42,
                     caption=[f"{class_set.labels[index]} ({wrong}: {wrong_result.predicted[index]})"
                              for index in shown])
    st.caption(f"McNemar's exact test uses only these digits: {paired.mcnemar.only_first_right} against "
               f"{paired.mcnemar.only_second_right}. Under each digit: its label, and what the other network said.")
