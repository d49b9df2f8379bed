"""Numbers and words as the pages show them: core/formats.py's formats as Streamlit columns, the glossary section
and a run's training time."""

from __future__ import annotations

import streamlit as st

from core.formats import PERCENT_COLUMN, seconds
from core.glossary import explain


def percent_column(label: str | None = None, **options):
    """A dataframe column of shares (0.892) shown as core.formats.percent shows them ("89.2%")."""
    return st.column_config.NumberColumn(label, **PERCENT_COLUMN, **options)

def glossary(terms) -> None:
    """The page's words of statistics and numerics, explained (core/glossary.py), behind an expander."""
    with st.expander("What the words mean", icon=":material/menu_book:"):
        st.markdown("\n".join(f"- **{term}**: {explain(term)}" for term in terms))

def trained_in(run) -> str:
    """A run's training time in words: the one definition (its train_seconds) and format everywhere."""
    return f"trained in {seconds(run.train_seconds)}"
