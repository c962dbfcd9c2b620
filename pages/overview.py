"""Overview: the year's headline figures, where the instruments are, and how the stock is made up."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import census
from dashboard.ui import charts
from dashboard.ui import overview_view as view
from dashboard.ui.context import page_context, read
from dashboard.ui.widgets import instruments_or_stop

ctx = page_context()
t = ctx.t
st.title(t("overview.title"))
instruments = instruments_or_stop(ctx, t("overview.empty"), t("overview.empty_link"))

year_known = ctx.year is not None
usage = read(ctx, "usage_by_instrument_year", ctx.year) if year_known else pd.DataFrame()
annual = census.annual_frame(instruments, usage, ctx.year)
st.caption(t("overview.caption", year=ctx.year) if year_known else t("overview.no_year"))

view.show_kpi_cards(view.kpi_cards(census.kpis(annual), t, year_known))
with st.expander(t("overview.definitions"), icon=":material/functions:"):
    st.table(view.definitions_table(t), hide_index=True)

titles = view.axis_titles(t)
st.subheader(t("overview.map.title"))
measure = view.read_measure(t)
banner_frame, point_frame = view.map_frames(annual, read(ctx, "units"), read(ctx, "regions"), ctx.lang)
st.altair_chart(charts.region_map(banner_frame, point_frame, measure, titles), width="stretch")
st.caption(t("overview.map.caption"))

distributions = view.labelled_distributions(annual, read(ctx, "instrument_classes"), t)
view.show_distributions(distributions, measure, titles, t)
