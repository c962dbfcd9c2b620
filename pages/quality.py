"""Data quality: who reported on time, how complete the national records are, which usage data
break a rule, and which instruments are declared open but look closed."""

from __future__ import annotations

import streamlit as st

from dashboard import census
from dashboard import quality as Q
from dashboard.ui import quality_view as view
from dashboard.ui.context import page_context, read
from dashboard.ui.widgets import instruments_or_stop, year_or_stop

ctx = page_context()
t = ctx.t
st.title(t("quality.title"))
instruments = instruments_or_stop(ctx, t("quality.empty"), t("quality.empty_link"))
year = year_or_stop(ctx, t("quality.no_year"))

as_of = Q.local_today()
st.caption(t("quality.caption", year=year, as_of=as_of.isoformat()))
units = read(ctx, "units")
top = st.container()
definitions = st.container()

status = Q.reporting_status(read(ctx, "submissions", year), units, year, instruments, as_of=as_of)
usage = read(ctx, "usage_by_instrument_year", year)
annual = census.annual_frame(instruments, usage, year)
found = Q.anomalies(read(ctx, "usage_monthly", year), instruments, year)

tab_time, tab_complete, tab_anomalies, tab_nominal = st.tabs(
    [t("quality.tab.timeliness"), t("quality.tab.completeness"), t("quality.tab.anomalies"), t("quality.tab.nominal")])
with tab_time:
    kind = view.read_kind(view.available_kinds(status), t)
    summary = Q.reporting_summary(status, units, kind)
    view.show_timeliness(status, summary, kind, year, t)
with tab_complete:
    lines = view.read_medal_lines(t)
    complete = Q.completeness(instruments, units, year, lines)
    view.show_completeness(complete, Q.missing_fields(instruments, year), year, t)
with tab_anomalies:
    view.show_anomalies(found, year, t)
with tab_nominal:
    ratio = view.read_ratio(t)
    candidates = Q.nominally_open_candidates(annual, read(ctx, "services_for_evaluation", year), usage, ratio, year)
    set_aside = Q.not_reported_open(annual, usage, year)
    view.show_candidates(candidates, Q.candidates_by_unit(candidates, annual, set_aside), set_aside,
                         len(Q.declared_open(annual)), year, t)

with top:
    view.show_cards(view.headline_cards(view.headline(summary, complete, found, candidates, set_aside), kind, t))
with definitions:
    with st.expander(t("quality.definitions"), icon=":material/functions:"):
        st.table(view.definitions_table(t, lines, ratio), hide_index=True)
