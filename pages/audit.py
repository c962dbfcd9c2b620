"""Audit trail (审计日志): every write with who, when, what, before and after; administrators only."""

from __future__ import annotations

import streamlit as st

from dashboard import audit as A
from dashboard import auth
from dashboard.ui import audit_view as view
from dashboard.ui.auth_view import denied
from dashboard.ui.context import page_context, read

ctx = page_context()
t = ctx.t
st.title(t("audit.title"))
if not ctx.actor.can(auth.AUDIT_READ):
    denied(t, auth.AUDIT_READ)
    st.stop()
st.caption(t("audit.caption"))
entries = read(ctx, "audit_entries")
if entries.empty:
    st.info(t("audit.empty"), icon=":material/inbox:")
    st.stop()
shown = A.filter_entries(entries, view.read_filter(entries, t))
st.caption(t("audit.count", shown=len(shown), total=len(entries)))
st.dataframe(view.entry_table(shown, t), hide_index=True, width="stretch")
if not shown.empty:
    st.download_button(t("audit.export"), A.export_csv(shown),
                       file_name=t("audit.export_file"), mime="text/csv", icon=":material/download:")
    view.show_entry(shown, t)
