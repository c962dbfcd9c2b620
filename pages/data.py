"""Data: national-layout templates, exports and imports (units, instruments, usage, services)."""

from datetime import date
from functools import partial

import streamlit as st

from dashboard import auth, transfer
from dashboard.formatting import md_text
from dashboard.importer import FileReadError, preview_frame
from dashboard.national import RECORD_KINDS
from dashboard.ui.auth_view import denied
from dashboard.ui.context import page_context, widget_key

MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

ctx = page_context()
t = ctx.t
st.title(t("data.title"))
st.caption(t("data.intro"))

kind = st.selectbox(t("data.kind"), RECORD_KINDS, format_func=lambda k: t(f"data.kind.{k}"), key=widget_key("data_kind"))
with st.expander(t("data.columns_ref")):
    st.dataframe(transfer.column_reference(kind, t), hide_index=True)

st.subheader(t("data.download.header"))
downloads = (
    ("data.download.template_csv", "csv", f"{kind}-template.csv", partial(transfer.template_file, kind, "csv")),
    ("data.download.template_xlsx", "xlsx", f"{kind}-template.xlsx", partial(transfer.template_file, kind, "xlsx")),
    ("data.download.export_csv", "csv", f"{kind}-{date.today():%Y%m%d}.csv", partial(transfer.export_file, ctx.engine, kind, "csv")),
    ("data.download.export_xlsx", "xlsx", f"{kind}-{date.today():%Y%m%d}.xlsx", partial(transfer.export_file, ctx.engine, kind, "xlsx")),
)
for column, (label, fmt, file_name, make) in zip(st.columns(len(downloads)), downloads):
    # A callable defers building the file until the button is pressed.
    column.download_button(t(label), data=make, file_name=file_name, mime=MIME[fmt], on_click="ignore")

st.subheader(t("data.upload.header"))
if not ctx.actor.can(auth.DATA_IMPORT):
    denied(t, auth.DATA_IMPORT)
    st.stop()
upload = st.file_uploader(
    t("data.upload.label"), type=list(MIME), help=t("data.upload.help"), key=f"data_upload_{kind}"
)
if upload is not None:
    try:
        with st.spinner(t("data.checking", file=md_text(upload.name))):
            outcome = transfer.check_file(ctx.engine, kind, upload.name, upload.getvalue())
    except FileReadError as exc:
        outcome = None
        st.error(t("data.unreadable", reason=md_text(transfer.reason(t, exc))))  # names the file or its sheets
    if outcome is not None:
        parsed = outcome.parsed
        st.caption(t("data.preview", rows=len(parsed.rows)))
        st.dataframe(preview_frame(parsed))
        if not outcome.ok:
            st.error(t("data.nothing_imported", count=len(parsed.errors)))
            st.subheader(t("data.errors.title", count=len(parsed.errors)))
            st.dataframe(transfer.error_table(parsed.errors, t), hide_index=True)
        else:
            c = outcome.counts
            st.info(t("data.valid_summary", rows=len(parsed.rows), inserted=c.inserted, updated=c.updated,
                      unchanged=c.unchanged))
            if st.button(t("data.import_button"), type="primary", key=f"data_import_{kind}"):
                with st.spinner(t("data.importing", rows=len(parsed.rows))):
                    done = transfer.import_file(ctx.engine, kind, upload.name, upload.getvalue(), actor=ctx.actor)
                if not done.ok:  # the store changed since the check above
                    st.error(t("data.nothing_imported", count=len(done.parsed.errors)))
                elif done.written:
                    c = done.counts
                    st.success(t("data.imported", inserted=c.inserted, updated=c.updated, unchanged=c.unchanged))
                else:
                    st.info(t("data.no_changes"))
