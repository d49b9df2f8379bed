"""Study: accuracy against sample size over seeds, and a statistical verdict on the two hypotheses."""

import streamlit as st

from core.formats import count
from core.safe_text import literal
from core.study import analyse, run_study
from ui import cache, controls, links, server_notice, study_view
from ui.network_editor import network_editor
from ui.state import owner

st.title("The study: when does conv beat flat?")
server_notice.training_notice()  # a server too small to train says so here; stored studies still open
st.markdown("One run proves little: seeds move accuracy by points at 1,000 digits. Here every "
            "architecture is trained at several sample sizes with several seeds; the verdicts use 95% "
            "confidence intervals over seeds and McNemar's exact test on the same test images.")

links.open_link("study", links.STUDY)  # a shared address sets the choices before the widgets
dataset = controls.load_or_stop(controls.dataset_select(key="study_dataset"))
controls.data_source_line(dataset)
study_view.preset_buttons()
network_editor()
# The settings first, Run study beside them (under them on a phone): in view on a laptop's first screen, and its
# progress under the button, where the user looks after the click.
settings_area, run_area = st.columns([3, 1])
try:
    with settings_area:
        spec = study_view.spec_controls(dataset)
    spec.configs(dataset.pool_size)
except ValueError as error:
    st.error(literal(error))
    st.stop()

links.mirror(links.STUDY)  # the address always shows these choices: copy it to share the study
runs = cache.current_runs()
with run_area:
    button_area = st.empty()  # the button first: in the first screen at 1366x768, its estimate and choices under it
    where, address = study_view.executor_choice()
    missing, allowed = study_view.size_gate(spec, dataset, runs, shared=where == "here")
if button_area.button("Run study", type="primary", key="run_study", disabled=missing == 0 or not allowed):
    with run_area:  # the status and the bars under the button: in view after the click
        study_runs = study_view.connect(runs, where, address)
        on_cell, on_epoch, failures = study_view.study_progress(study_runs.executor.slots)
    try:
        run_study(spec, dataset, study_runs, on_cell=on_cell, on_epoch=on_epoch, owner=owner())
        if failures:  # the others are stored and in the report below
            st.error(f"{count(len(failures), 'cell')} failed: " + "; ".join(failures))
        else:
            st.rerun()  # repaint the estimate and the report from the now complete store
    except Exception as error:  # finished cells are stored; say what stopped the rest
        st.error(f"The study stopped: {error}. Finished cells are kept; press Run study to resume.")
    finally:  # leaving the page ends the run with an exception here: outstanding cells were cancelled
        if study_runs is not runs:
            study_runs.executor.shutdown()

study_view.show_report(analyse(spec, dataset, runs), dataset)
