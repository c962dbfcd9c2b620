"""Widgets shared by several pages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.ui.context import PageContext, read
from dashboard.ui.shell import PAGES

DATA_PAGE = next(path for path, title_key, _ in PAGES if title_key == "nav.data")


def show_empty_registry(message: str, link_label: str) -> None:
    """Tell the user the registry is empty and link to the Data page, where it is filled."""
    st.info(message, icon=":material/inventory_2:")
    st.page_link(DATA_PAGE, label=link_label, icon=":material/upload_file:")


def instruments_or_stop(ctx: PageContext, empty_message: str, empty_link_label: str) -> pd.DataFrame:
    """The instrument list; on an empty registry, the empty-state notice instead and the page stops
    (everything a registry page shows is built from the instruments)."""
    instruments = read(ctx, "instruments")
    if instruments.empty:
        show_empty_registry(empty_message, empty_link_label)
        st.stop()
    return instruments


def year_or_stop(ctx: PageContext, message: str, data_link_label: str | None = None) -> int:
    """The sidebar year; when the store has no usage year yet, a notice instead (with a link to
    the Data page when `data_link_label` is given) and the page stops: its figures are all of one
    year."""
    if ctx.year is None:
        if data_link_label is None:
            st.info(message, icon=":material/event_busy:")
        else:
            show_empty_registry(message, data_link_label)
        st.stop()
    return ctx.year


def flash(key: str, kind: str, text: str) -> None:
    """Keep a message (kind "success" or "error") under session `key` to show once after the
    rerun that a write triggers."""
    st.session_state[key] = (kind, text)


def show_flash(key: str) -> None:
    """Show and forget the message kept under `key`, if any."""
    kind, text = st.session_state.pop(key, (None, None))
    if kind == "success":
        st.success(text, icon=":material/check_circle:")
    elif kind == "error":
        st.error(text, icon=":material/error:")


def number_column(decimals: int, **kwargs) -> st.column_config.NumberColumn:
    """A table column of numbers with thousands separators and exactly `decimals` decimals
    (Streamlit's "localized" format, its precision fixed by the step): 18,201.0 next to 5,389.5."""
    return st.column_config.NumberColumn(format="localized", step=10.0 ** -decimals if decimals else 1, **kwargs)

