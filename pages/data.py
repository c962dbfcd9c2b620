"""Placeholder; replaced by the data page."""

from dashboard.ui.context import page_context

ctx = page_context()
