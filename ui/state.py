"""The session-state keys that more than one module reads or writes, named once.

A page's own widgets keep their keys beside them (core/settings.py declares the settings' keys); what crosses
modules or pages is here.
"""

SHOWN_RUNS = "compare"                 # Compare's runs on screen: run id -> True when opened from the store
OPENED_RUNS = "compare_opened_runs"    # set by the Runs page: its chosen runs are shown until a setting changes
CANCEL_TRAINING = "cancel_training"    # Compare's Cancel training button
FOLLOWED = "_compare_followed"         # run ids of the settings whose stored runs Compare last looked up
MISSING = "_compare_missing"           # (runs not stored, runs asked, from a link) while those settings are on screen
JUST_SAVED = "_network_just_saved"     # a network saved by the editor, to add to the next architecture choice
SHOWN_NETWORKS = "_networks_shown"     # name -> a saved network's spec as this session first showed it (or saved it)
QUEUE_OWNER = "_queue_owner"           # this session's name in the workers' queue (a random id)


def owner() -> str:
    """Who this session is to the workers' queue (core/runs/fair_queue.py): sessions take turns, not jobs."""
    import uuid

    import streamlit as st

    return st.session_state.setdefault(QUEUE_OWNER, uuid.uuid4().hex)
