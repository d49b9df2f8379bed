"""The Streamlit layer: cached wrappers around core, reusable widgets and plot builders.

Besides pages/, the only code that imports streamlit.
"""
