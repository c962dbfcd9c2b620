"""Placeholder; replaced by the registry page."""

from dashboard.ui.context import page_context

ctx = page_context()
