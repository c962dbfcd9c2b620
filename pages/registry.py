"""Registry: search and filter the instrument list, look at one instrument's record, use and cost
price per machine hour, and run the fee calculator over a class of instruments."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import census, fees
from dashboard import registry as R
from dashboard.ui import fees_view
from dashboard.ui import registry_view as view
from dashboard.ui.context import page_context, read
from dashboard.ui.widgets import instruments_or_stop

ctx = page_context()
t = ctx.t
st.title(t("registry.title"))
instruments = instruments_or_stop(ctx, t("registry.empty"), t("registry.empty_link"))

regions = read(ctx, "regions")
classes = read(ctx, "instrument_classes")
view.apply_instrument_link(instruments)
chosen = view.read_filter(instruments, regions, classes, t)
filtered = R.filter_instruments(instruments, chosen, regions)
st.markdown(t("registry.count", shown=len(filtered), total=len(instruments)))
if filtered.empty:
    st.info(t("registry.no_match"))
    st.stop()
view.show_table(filtered, classes, t)

st.subheader(t("registry.detail.title"))
view.show_detail(view.choose_instrument(filtered, t), classes, ctx)

st.subheader(t("fees.class.title"))
st.caption(t("fees.class.intro"))
usage = read(ctx, "usage_by_instrument_year", ctx.year) if ctx.year is not None else pd.DataFrame()
annual = census.annual_frame(instruments, usage, ctx.year)
if annual.empty:
    st.info(t("fees.class.empty", year=ctx.year))
    st.stop()
code = fees_view.choose_class(annual, classes, t)
inputs, fee_policy, band = fees_view.read_class_inputs(ctx.year, t)
fees_view.show_class_result(fees.cost_frame(fees.in_class(annual, code), inputs, fee_policy, band), code, classes, ctx, band, inputs)
