"""What the server's settings and host mean for a visitor (core/server_settings.py): a bad setting, a server too
small to train, and which budget is in force. One call per page."""

from __future__ import annotations

import streamlit as st

from core import server_settings


def settings_problems() -> None:
    """Every server setting that was refused or bounded, in one message (app.py, on every page)."""
    problems = server_settings.check().problems
    if problems:
        st.warning("This server's settings need a look: " + " ".join(problems), icon=":material/settings:")


def training_notice() -> bool:
    """On a page whose buttons train or predict: say once, plainly, when this server cannot train. True when it can."""
    checked = server_settings.check()
    if not checked.training:
        st.warning(checked.training_off, icon=":material/memory:")
    return checked.training


def server_caption() -> None:
    """The memory budget, workers and threads in force and where each came from (the Runs page)."""
    checked = server_settings.check()
    with st.expander("This server: memory, CPUs, workers"):
        st.markdown("\n".join(f"- {line}" for line in checked.lines()))
