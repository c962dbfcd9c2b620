"""Domain core of the Alxa League open-sharing dashboard (no Streamlit outside dashboard.ui)."""
