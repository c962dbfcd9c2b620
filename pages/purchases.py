"""Purchase review (购置查重评议): requests for instruments bought with fiscal money are checked
against the register and decided by the joint review group (seed point 二)."""

from __future__ import annotations

import streamlit as st

from dashboard.ui import purchases_view as view
from dashboard.ui.context import page_context, read

ctx = page_context()
t = ctx.t
st.title(t("purchases.title"))
st.caption(t("purchases.caption"))
view.show_flash()
requests = read(ctx, "purchase_requests")
decisions = read(ctx, "review_decisions")
demo = read(ctx, "store_meta", "demo_seed") is not None

tab_review, tab_new, tab_import, tab_stats = st.tabs(
    [t("purchases.tab.review"), t("purchases.tab.new"), t("purchases.tab.import"), t("purchases.tab.statistics")])
with tab_review:
    view.review_tab(ctx, requests, decisions, demo)
with tab_new:
    view.new_request_tab(ctx)
with tab_import:
    view.import_tab(ctx)
with tab_stats:
    view.statistics_tab(requests, decisions, t)
