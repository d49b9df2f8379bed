"""Runs: everything in the store; open any two or more in Compare, or delete them."""

import streamlit as st

from ui import cache, server_notice
from ui.links import RUNS_PARAM
from ui.runs_view import (EXACT_CHOICE, delete_with_confirmation, deleted_notice, networks_section, run_choice_label,
                          show_runs_table)

st.title("Stored runs")
store = cache.current_store()
st.caption(f"The store keeps every trained run {store.where()} (set `RUN_STORE_DIR` to move it, or a database URL: "
           f"`RUN_STORE_URL` or `[connections.runs] url` in the app's secrets).")

deleted_notice("runs")
rows = store.list_runs()
networks_section(store, rows)
used = sum(row["size_bytes"] or 0 for row in rows)
st.caption(f"{len(rows)} runs, {used / 1024**2:,.0f} MB of {store.max_bytes / 1024**2:,.0f} MB; beyond that the least "
           f"recently used runs are removed (set `RUN_STORE_MAX_MB` to change the limit).")
server_notice.server_caption()  # which memory budget, workers and threads are in force, and where they came from
if not rows:
    st.info("No runs yet: train the student's experiment on the Compare page.")
    st.page_link("app_pages/compare.py", label="Go to Compare", icon=":material/compare_arrows:")
    st.stop()

show_runs_table(rows)
labels = {row["run_id"]: run_choice_label(row) for row in rows}
chosen = st.multiselect("Runs to open or delete", list(labels), format_func=labels.get, key="chosen_runs",
                        placeholder="Choose runs (type to filter)", **EXACT_CHOICE)

left, right = st.columns(2)
if left.button("Open in Compare", key="open_runs", disabled=not chosen, type="primary"):
    st.switch_page("app_pages/compare.py", query_params={RUNS_PARAM: ",".join(chosen)})  # exactly these runs
delete_with_confirmation("runs", chosen, labels, "run", store.delete, where=right)
