"""Registry: search and filter the instrument list, and look at one instrument's record and use."""

from __future__ import annotations

import streamlit as st

from dashboard import registry as R
from dashboard.ui import registry_view as view
from dashboard.ui.context import page_context, read
from dashboard.ui.widgets import instruments_or_stop

ctx = page_context()
t = ctx.t
st.title(t("registry.title"))
instruments = instruments_or_stop(ctx, t("registry.empty"), t("registry.empty_link"))

regions = read(ctx, "regions")
classes = read(ctx, "instrument_classes")
chosen = view.read_filter(instruments, regions, classes, t)
filtered = R.filter_instruments(instruments, chosen, regions)
st.markdown(t("registry.count", shown=len(filtered), total=len(instruments)))
if filtered.empty:
    st.info(t("registry.no_match"))
    st.stop()
view.show_table(filtered, classes, t)

st.subheader(t("registry.detail.title"))
view.show_detail(view.choose_instrument(filtered, t), classes, ctx)
