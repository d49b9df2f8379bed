"""The Streamlit layer: cached wrappers around core, reusable widgets and plot builders.

Besides app_pages/, the only code that imports streamlit.
"""
