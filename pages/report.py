"""Census & report: the year's census figures and the annual statistical report (统计年报) —
headline cards, downloads (HTML and Excel) and a preview of the report."""

from __future__ import annotations

import streamlit as st

from dashboard import report as R
from dashboard.ui import report_view as view
from dashboard.ui.context import page_context
from dashboard.ui.widgets import instruments_or_stop, year_or_stop

ctx = page_context()
t = ctx.t
st.title(t("report.page.title"))
instruments = instruments_or_stop(ctx, t("report.page.empty"), t("report.page.empty_link"))
year_or_stop(ctx, t("report.page.no_year"))

st.caption(t("report.page.caption", year=ctx.year))
report = R.build_report(view.read_inputs(ctx, instruments, ctx.year), ctx.year)

st.subheader(t("report.page.headline"))
view.show_cards(report, t)
with st.expander(t("report.page.definitions"), icon=":material/functions:"):
    st.table(view.definitions_frame(report, t), hide_index=True)

files = view.report_files(ctx, report)
view.show_downloads(files, t)
view.show_preview(files, t)
