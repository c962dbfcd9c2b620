"""Streamlit-facing helpers: the only part of dashboard/ that imports Streamlit."""
