"""Placeholder: being built (issue 4)."""

from __future__ import annotations

import streamlit as st

from dashboard.ui.context import page_context

ctx = page_context()
st.title(ctx.t("nav.quality"))
