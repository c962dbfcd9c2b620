"""Layout analysis (seed point 二): instruments, load, spare capacity and outside demand per class
and region; where demand exceeds nearby capacity and where similar instruments sit idle together."""

from __future__ import annotations

import streamlit as st

from dashboard import census
from dashboard.ui import layout_view as view
from dashboard.ui.context import page_context, read
from dashboard.ui.widgets import instruments_or_stop, year_or_stop

ctx = page_context()
t = ctx.t
st.title(t("layout.title"))
instruments = instruments_or_stop(ctx, t("layout.empty"), t("layout.empty_link"))
year_or_stop(ctx, t("layout.no_year"))

regions = read(ctx, "regions")
classes = read(ctx, "instrument_classes")
services = read(ctx, "services", ctx.year)
annual = census.annual_frame(instruments, read(ctx, "usage_by_instrument_year", ctx.year), ctx.year)
st.caption(t("layout.caption", year=ctx.year))

controls = view.read_controls(t)
a = view.analyse(annual, services, regions, classes, controls)
labels = view.labels_for(a.matrix, classes, regions, controls.zones, t)

view.show_cards(view.summary_cards(a, t))
if a.demand.empty:
    st.info(t("layout.no_services", year=ctx.year), icon=":material/receipt_long:")
with st.expander(t("layout.definitions"), icon=":material/functions:"):
    st.table(view.definitions_table(t, controls.lines, basis=controls.basis), hide_index=True)

st.subheader(t("layout.matrix.title"))
view.show_matrix(a, labels, t)
view.show_findings(a, labels, t)
view.show_focus(a, labels, t)
