"""Utilisation: effective hours against rated hours per group, idle and saturated instruments,
distributions, monthly trends, operation modes, with drill-down to the instruments."""

from __future__ import annotations

import streamlit as st

from dashboard import utilisation as U
from dashboard.ui import utilisation_view as view
from dashboard.ui.context import page_context, read
from dashboard.ui.widgets import instruments_or_stop, year_or_stop

ctx = page_context()
t = ctx.t
st.title(t("utilisation.title"))
instruments = instruments_or_stop(ctx, t("utilisation.empty"), t("utilisation.empty_link"))
year = year_or_stop(ctx, t("utilisation.no_year"))

usage = read(ctx, "usage_by_instrument_year", year)
if usage.empty:
    st.info(t("utilisation.no_usage", year=year), icon=":material/hourglass_empty:")
    st.stop()

controls = view.read_controls(t)
regions = read(ctx, "regions")
annual = U.utilisation_frame(instruments, usage, year, controls.policy, regions)
previous_usage = read(ctx, "usage_by_instrument_year", year - 1)
previous = (U.utilisation_frame(instruments, previous_usage, year - 1, controls.policy, regions)
            if not previous_usage.empty else None)
in_service = U.in_service(annual)
if in_service.empty:
    st.info(t("utilisation.none_in_service", year=year))
    st.stop()

st.caption(t("utilisation.caption", year=year, instruments=len(in_service), scrapped=len(annual) - len(in_service),
             exempt=int(in_service["exempt"].sum())))
now = U.totals(annual, controls.lines, previous)
before = U.totals(previous, controls.lines) if previous is not None else None
view.show_kpi_cards(view.kpi_cards(now, before, t, controls))
st.caption(t("utilisation.kpi.delta_note", year=year - 1) if previous is not None else t("utilisation.no_previous", year=year - 1))
with st.expander(t("utilisation.definitions"), icon=":material/functions:"):
    st.table(view.definitions_table(controls, t), hide_index=True)

data = view.PageData(
    year=year, annual=annual, previous=previous,
    monthly=read(ctx, "usage_monthly", year), monthly_previous=read(ctx, "usage_monthly", year - 1),
    classes=read(ctx, "instrument_classes"), regions=regions, controls=controls,
)
groups_tab, trend_tab, lists_tab, modes_tab = st.tabs(
    [t("utilisation.tab.groups"), t("utilisation.tab.trend"), t("utilisation.tab.lists"), t("utilisation.tab.modes")])
with groups_tab:
    view.show_groups(data, t)
with trend_tab:
    view.show_distribution_and_trend(data, t)
with lists_tab:
    view.show_lists(data, t)
with modes_tab:
    view.show_modes(data, t)
