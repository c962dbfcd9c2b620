"""Performance evaluation: indicator definitions, live weights, ranking, robustness, publication."""

from __future__ import annotations

import streamlit as st

from dashboard import scoring
from dashboard.scheme import display_name
from dashboard import formatting as fmt
from dashboard.ui import evaluation_frames as frames
from dashboard.ui import evaluation_view as view
from dashboard.ui.context import page_context, read
from dashboard.ui.widgets import year_or_stop

ctx = page_context()
t = ctx.t
st.title(t("evaluation.title"))
year = year_or_stop(ctx, t("evaluation.empty"), t("evaluation.empty_link"))
base = view.current_scheme(ctx)
table = view.indicator_table(ctx, year, base)
units = table.units
st.caption(t("evaluation.caption", year=year, scheme=fmt.md_text(display_name(base.name, t)), version=base.version,
             rated=int((units["status"] == "rated").sum()), total=len(units)))
if not (units["status"] == "rated").any():
    view.show_nothing_rated(ctx, year, table, base)
    st.stop()

ranking_tab, weights_tab, definitions_tab, robustness_tab, publication_tab = st.tabs(
    [t("evaluation.tab.ranking"), t("evaluation.tab.weights"), t("evaluation.tab.definitions"),
     t("evaluation.tab.robustness"), t("evaluation.tab.publication")])

# The weights are read first (their tab is drawn out of order) because every other tab shows
# the ranking they produce.
with weights_tab:
    controls, preview = st.columns(2, gap="large")
    with controls:
        choice = view.read_weights(base, table, t)
    weights_area = st.container()
result = frames.evaluate(table, choice)
baseline, baseline_caption = view.baseline(ctx, year, table, base)
moves = scoring.rank_moves(result, baseline)
regions = frames.region_names(read(ctx, "regions"), ctx.lang)
names = frames.unit_labels(units, ctx.lang)

with weights_area:
    view.show_weights(choice, result, t)
    view.show_scheme_save(ctx, choice)
with preview:
    view.show_preview(result, units, moves, t)

with ranking_tab:
    view.show_ranking(result, units, moves, regions, baseline_caption, t)
    view.show_scorecard(result, units, t)
    view.show_instruments(ctx, year)

with definitions_tab:
    view.show_definitions(choice.scheme, result.weights, t)
    st.caption(t("evaluation.definitions.caption"))
    view.show_scheme_versions(ctx)

with robustness_tab:
    view.show_robustness(ctx, year, choice, result, baseline["rank"], names)

with publication_tab:
    view.show_publication(ctx, year, choice, result, table)
