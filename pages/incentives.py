"""Incentives & scenarios: reward pool, grade lines, sanction switches and vouchers, with what
each setting means for every unit and for the budget; saved scenarios, comparison and the brief."""

from __future__ import annotations

import streamlit as st

from dashboard import formatting as fmt
from dashboard import scenarios
from dashboard.scheme import display_name
from dashboard.ui import incentives_frames as frames
from dashboard.ui import incentives_view as view
from dashboard.ui.context import page_context, read, widget_key
from dashboard.ui.evaluation_view import current_scheme, indicator_table
from dashboard.ui.widgets import year_or_stop

ctx = page_context()
t = ctx.t
st.title(t("incentives.title"))
year = year_or_stop(ctx, t("incentives.empty"), t("incentives.empty_link"))
scheme = current_scheme(ctx)
table = indicator_table(ctx, year, scheme)
rated = int((table.units["status"] == "rated").sum())
st.caption(t("incentives.caption", year=year, scheme=fmt.md_text(display_name(scheme.name, t)), version=scheme.version, rated=rated,
             total=len(table.units)))
if rated == 0:
    view.show_no_evaluation(ctx, year, scheme)
    st.stop()

view.prepare_controls(ctx, scheme)
view.show_flash()
bar = st.container()
front = view.front(t)
state = view.read_controls(front, scheme, t)
with bar:
    view.show_scenario_bar(ctx, scheme, state)

try:
    params = frames.params_from_state(state, scheme)
except scenarios.ScenarioError as exc:
    params = None
    view.show_setting_error(front, exc, t)

live = None
if params is not None:
    inputs = view.scenario_inputs(ctx, year, scheme)
    live = view.outcome(ctx, year, scheme, params)
    view.show_headline(front, live, t)
    view.show_consequences(front, live, frames.potential_counts(params.sanctions, inputs, live), t)

tab_rewards, tab_sanctions, tab_boundary, tab_vouchers, tab_scenarios = st.tabs(
    [t("incentives.tab.rewards"), t("incentives.tab.sanctions"), t("incentives.tab.boundary"),
     t("incentives.tab.vouchers"), t("incentives.tab.scenarios")],
    key=widget_key("inc_tabs"))  # keyed: saving a scenario keeps the user on the scenarios tab
if live is not None:
    with tab_rewards:
        view.show_rewards(live, t)
    with tab_sanctions:
        view.show_sanctions(live, inputs, t)
        view.show_purchase_flags(live, read(ctx, "purchase_requests"), t)
    with tab_boundary:
        view.show_boundary(live, inputs, view.margin(), t)
    with tab_vouchers:
        view.show_vouchers(live, t)
with tab_scenarios:
    view.show_scenarios(ctx, year, scheme, params, live, state)
if params is not None:
    view.show_definitions(params, t)
