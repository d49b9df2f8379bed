"""Compare: choose an experiment, train it once (or open it from the store), see both models side by side."""

import streamlit as st

from core.architectures import DEFAULT_ARCHITECTURES
from core.config import TrainConfig
from core.runs import Outcome
from core.safe_text import literal
from ui import cache, components, links
from ui.network_editor import network_editor

st.title("Does a convolutional network beat a flat one?")
intro = st.empty()  # said from the settings, once the sidebar has them
progress_area = st.container()  # Train's progress: at the top, in view after the click
network_editor()
opened_link = links.open_link("compare", links.COMPARE)  # a shared address sets the choices before the widgets

with st.sidebar:
    st.header("Experiment")
    # Train first: above the controls, it stays put when a control below it changes height (a multiselect
    # shrinks as it loses focus, which used to move the button away from under the first click).
    clicked = st.button("Train", type="primary", key="train", width="stretch")
    values_used = st.empty()
    dataset_name = components.dataset_select(key="dataset")
    dataset = components.load_or_stop(dataset_name)
    sample_size = components.sample_size_input(dataset.pool_size, key="sample_size")
    recipe = components.recipe_select(key="recipe", epochs_key="epochs")
    settings = components.training_controls()
    components.values_line(values_used, sample_size, settings)
    precision = components.precision_select(key="precision")
    settings["pixels"] = components.pixels_select(key="pixels")
    architectures = components.architecture_select(key="architectures")
intro.markdown(components.compare_intro(dataset, sample_size, architectures, settings["pixels"]))

components.data_source_line(dataset)
links.mirror(links.COMPARE)  # the address always shows these choices: copy it to share the comparison

if st.session_state.get("cancel_training"):
    st.info("Training cancelled: runs that had not started were dropped; one that had started finishes and is "
            "stored, so pressing **Train** again opens it at once.")
try:
    configs = components.build_configs(dataset, architectures, sample_size, recipe, precision, **settings)
except ValueError as error:
    configs = None
    if clicked or opened_link:
        st.error(literal(error))
if configs and clicked:
    components.trained(configs, dataset, components.train_with_progress(configs, dataset, progress_area))
elif configs:  # the settings on screen show their stored runs without a click (nothing trains)
    components.show_stored_for(configs, dataset, from_link=opened_link)

shown = st.session_state.get("compare", {})
if shown:
    runs, problems = cache.stored_runs(list(shown))
    for problem in problems:
        st.warning(problem)
    if runs:
        from ui.compare_view import show_comparison  # plotly and pandas: ~0.35 s, not needed for first paint

        show_comparison([Outcome(run, cached=shown[run.run_id]) for run in runs])
elif not clicked and not opened_link:
    student = configs == [TrainConfig(architecture=name) for name in DEFAULT_ARCHITECTURES]  # the defaults
    st.info("Nothing is stored for these settings yet" + (" (the defaults reproduce the student's experiment)"
                                                          if student else "") + ": press **Train** (in the sidebar; "
            "on a phone, open it with » at the top left).")
if not clicked:
    components.prepare_in_background(dataset, architectures, sample_size, recipe, precision, settings)
