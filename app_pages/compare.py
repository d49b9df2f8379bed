"""Compare: choose an experiment, train it once (or open it from the store), see both models side by side."""

import streamlit as st

from core.architectures import DEFAULT_ARCHITECTURES
from core.config import TrainConfig, configs_for
from core.runs import Outcome
from core.safe_text import literal
from ui import background, cache, compare_state, controls, links, progress, server_notice
from ui.network_choice import architecture_select
from ui.state import CANCEL_TRAINING, SHOWN_RUNS
from ui.network_editor import network_editor

st.title("Does a convolutional network beat a flat one?")
server_notice.training_notice()  # a server too small to train says so here; stored runs still open
intro = st.empty()  # said from the settings, once the sidebar has them
progress_area = st.container()  # Train's progress: at the top, in view after the click
network_editor()
opened_link = links.open_link("compare", links.COMPARE)  # a shared address sets the choices before the widgets
named_runs = links.runs_in_address()  # runs=ID,ID: exactly these stored runs (the Runs page's Open in Compare)
if named_runs:
    compare_state.open_runs(named_runs)

with st.sidebar:
    st.header("Experiment")
    # Train first: above the controls, it stays put when a control below it changes height (a multiselect
    # shrinks as it loses focus, which used to move the button away from under the first click).
    clicked = st.button("Train", type="primary", key="train", width="stretch")
    values_used = st.empty()
    dataset_name = controls.dataset_select(key="dataset")
    dataset = controls.load_or_stop(dataset_name)
    sample_size = controls.sample_size_input(dataset.pool_size, key="sample_size")
    recipe = controls.recipe_select(key="recipe", epochs_key="epochs")
    settings = controls.training_controls()
    controls.values_line(values_used, sample_size, settings)
    precision = controls.precision_select(key="precision")
    settings["pixels"] = controls.pixels_select(key="pixels")
    architectures = architecture_select(key="architectures")
controls.data_source_line(dataset)

if st.session_state.get(CANCEL_TRAINING):
    st.info("Training cancelled: runs that had not started were dropped; one that had started finishes and is "
            "stored, so pressing **Train** again opens it at once.")
try:
    configs = configs_for(dataset, architectures, sample_size, recipe=recipe, precision=precision, **settings)
except ValueError as error:
    configs = None
    if clicked or opened_link:
        st.error(literal(error))
if configs and clicked:
    compare_state.training_started()
    compare_state.trained(configs, dataset, progress.train_with_progress(configs, dataset, progress_area))
elif configs:  # the settings on screen show their stored runs without a click (nothing trains)
    compare_state.show_stored_for(configs, dataset, from_link=opened_link)
opened = compare_state.opened_runs()
links.mirror(links.COMPARE, runs=opened)  # the address shows what is on screen: copy it to share the comparison

shown = st.session_state.get(SHOWN_RUNS, {})
if shown:
    runs, problems = cache.stored_runs(list(shown))
    for problem in problems:
        st.warning(problem)
    if opened and runs:
        intro.markdown(compare_state.opened_intro(runs))
        values_used.caption(f"Showing the {len(runs)} runs this address names; **Train** trains the settings below.")
    if runs:
        from ui.compare_view import show_comparison  # plotly and pandas: ~0.35 s, not needed for first paint

        show_comparison([Outcome(run, cached=shown[run.run_id]) for run in runs])
elif not clicked and not opened_link:
    student = configs == [TrainConfig(architecture=name) for name in DEFAULT_ARCHITECTURES]  # the defaults
    st.info("Nothing is stored for these settings yet" + (" (the defaults reproduce the student's experiment)"
                                                          if student else "") + ": press **Train** (in the sidebar; "
            "on a phone, open it with » at the top left).")
if not (opened and shown):
    intro.markdown(compare_state.compare_intro(dataset, sample_size, architectures, settings["pixels"]))
if not clicked:
    background.prepare_in_background(dataset, architectures, sample_size, recipe, precision, settings)
