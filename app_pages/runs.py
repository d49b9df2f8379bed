"""Runs: everything in the store; open any two or more in Compare, or delete them."""

import streamlit as st

from ui import cache
from ui.runs_view import PEAK_MEMORY_HELP, networks_section, run_choice_label, runs_table

st.title("Stored runs")
store = cache.current_store()
st.caption(f"The store keeps every trained run {store.where()} (set `RUN_STORE_DIR` to move it, or a database URL: "
           f"`RUN_STORE_URL` or `[connections.runs] url` in the app's secrets).")

rows = store.list_runs()
networks_section(store, rows)
used = sum(row["size_bytes"] or 0 for row in rows)
st.caption(f"{len(rows)} runs, {used / 1024**2:,.0f} MB of {store.max_bytes / 1024**2:,.0f} MB; beyond that the least "
           f"recently used runs are removed (set `RUN_STORE_MAX_MB` to change the limit).")
if not rows:
    st.info("No runs yet: train the student's experiment on the Compare page.")
    st.page_link("app_pages/compare.py", label="Go to Compare", icon=":material/compare_arrows:")
    st.stop()

st.dataframe(runs_table(rows), hide_index=True, key="runs_table", column_config={
    "params": st.column_config.NumberColumn(format="localized"),
    "test accuracy": st.column_config.NumberColumn(format="percent"),
    "train s": st.column_config.NumberColumn(format="%.1f"),
    "peak memory MB": st.column_config.NumberColumn(format="%.0f", help=PEAK_MEMORY_HELP),
    "trained at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
})
labels = {row["run_id"]: run_choice_label(row) for row in rows}
chosen = st.multiselect("Runs to open or delete", list(labels), format_func=labels.get, key="chosen_runs")

left, right = st.columns(2)
if left.button("Open in Compare", key="open_runs", disabled=not chosen, type="primary"):
    st.session_state["compare"] = {run_id: True for run_id in chosen}
    st.switch_page("app_pages/compare.py")
if right.button("Delete", key="delete_runs", disabled=not chosen):
    for run_id in chosen:
        store.delete(run_id)
    st.session_state.pop("chosen_runs")
    st.toast(f"Deleted {len(chosen)} run(s).")
    st.rerun()
