"""Placeholder; replaced by the overview page."""

from dashboard.ui.context import page_context

ctx = page_context()
