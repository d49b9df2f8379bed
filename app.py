"""Entrypoint: `streamlit run app.py`. Page config and navigation only; the pages live in pages/."""

import streamlit as st

import core  # noqa: F401  (quietens TensorFlow's start-up chatter before anything imports it)

st.set_page_config(page_title="Flat vs conv on handwritten digits", page_icon=":material/draw:", layout="wide")

navigation = st.navigation([
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", default=True),
    st.Page("pages/study.py", title="Study", icon=":material/query_stats:"),
    st.Page("pages/try_it.py", title="Try it", icon=":material/draw:"),
    st.Page("pages/data.py", title="Data", icon=":material/grid_on:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/history:"),
])
navigation.run()
