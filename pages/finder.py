"""Find a service (找服务): a firm or researcher describes the test it needs and gets the instruments
open to outside users that can do it, best first, with holder, distance, fee, load, rating,
voucher eligibility, sanction flag and contact. Open to visitors; signed-in staff can jump to the
instrument in the registry."""

from __future__ import annotations

import streamlit as st

from dashboard import finder as F
from dashboard.ui import finder_view as view
from dashboard.ui.context import page_context, read
from dashboard.ui.labels import localised

ctx = page_context()
t = ctx.t
st.title(t("finder.title"))
st.caption(t("finder.intro"))
with st.spinner(t("finder.preparing")):  # once per data revision (shown only when it takes a while)
    catalogue = view.catalogue(ctx)
if len(catalogue) == 0:
    st.info(t("finder.empty_registry"), icon=":material/inventory_2:")
    st.stop()

regions = read(ctx, "regions")
controls = view.read_controls(t, catalogue, regions, read(ctx, "instrument_classes"))
rules = F.FinderRules()
if not F.query_terms(controls.query):
    view.show_prompt(t)
    view.show_method(rules, t)
    st.stop()

# the year's load and evaluation (for the sanction flags), once per data revision
with st.spinner(t("finder.preparing_year", year=ctx.year if ctx.year is not None else "—")):
    sanctioned, problem = view.sanctioned(ctx)
    load = view.load_states(ctx)
result = F.find(catalogue, controls.query, flt=controls.flt, origin=controls.origin, regions=regions, load=load,
                sanctioned=sanctioned, rules=rules, limit=controls.show)
if ctx.year is None:
    st.caption(t("finder.no_year"))
elif problem:
    st.caption(t("finder.sanction_unavailable", year=ctx.year))
if result.results.empty:
    view.show_no_results(result, t)
else:
    view.show_summary(result, t)
    origin_name = localised(regions.set_index("code").loc[controls.origin], "name_zh", "name_en", t.lang)
    for i in range(len(result.results)):
        view.show_card(result, i, ctx, origin_name)
view.show_method(rules, t)
