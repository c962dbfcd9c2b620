"""The Census & report page's parts: reading the report's inputs through the cache, the headline
cards, the definitions table, producing the files (cached per data revision, year and language)
and the download buttons and preview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard import report as R
from dashboard import report_html as H
from dashboard.i18n import Translator
from dashboard.report_xlsx import render_xlsx
from dashboard.ui.context import PageContext, read

HTML_MIME = "text/html"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CARDS_PER_ROW = 3
PREVIEW_HEIGHT = 900
# Cards whose rise is bad news: their delta is coloured the other way round.
RISE_IS_BAD = {"idle"}


@dataclass(frozen=True)
class ReportFiles:
    html: str
    xlsx: bytes
    html_name: str
    xlsx_name: str


def read_inputs(ctx: PageContext, instruments: pd.DataFrame, year: int) -> R.ReportInputs:
    """The report's inputs for `year`, every query through the revision-keyed cache (the same
    inputs as `report.load_inputs`: no previous-year services when year − 1 has no data at all)."""
    usage = pd.concat([read(ctx, "usage_by_instrument_year", year - 1), read(ctx, "usage_by_instrument_year", year)],
                      ignore_index=True)
    services_prev = R.previous_services(read(ctx, "services_for_evaluation", year - 1), read(ctx, "usage_years"), year)
    return R.ReportInputs(
        instruments=instruments,
        usage=usage,
        services=read(ctx, "services_for_evaluation", year),
        services_prev=services_prev,
        units=read(ctx, "units"),
        regions=read(ctx, "regions"),
        classes=read(ctx, "instrument_classes"),
    )


def page_meta(ctx: PageContext) -> R.ReportMeta:
    return R.ReportMeta(generated_at=datetime.now().astimezone(), revision=ctx.revision,
                        demo_seed=read(ctx, "store_meta", "demo_seed"))


def card_help(report: R.AnnualReport, figure: str, t: Translator) -> str:
    """A card's help: the figure's formula (as in the methods annex), then what the change compares."""
    formula = t(f"report.fig.{figure}.formula", **R.definition_params(report.policy))
    return f"{formula}\n\n{t('report.page.delta_help', year=report.year - 1)}"


def show_cards(report: R.AnnualReport, t: Translator) -> None:
    cards = H.summary_cards(report, t)
    for start in range(0, len(cards), CARDS_PER_ROW):
        for column, card in zip(st.columns(CARDS_PER_ROW), cards[start:start + CARDS_PER_ROW]):
            flat = card.change_value is None or card.change_value == 0
            colour = "off" if flat else "inverse" if card.figure in RISE_IS_BAD else "normal"
            column.metric(card.label, card.value, delta=card.change, delta_color=colour,
                          help=card_help(report, card.figure, t), border=True,
                          height="stretch", delta_arrow="off" if flat else "auto",
                          delta_description=t("report.page.delta_vs", year=report.year - 1) if card.change else None)


def definitions_frame(report: R.AnnualReport, t: Translator) -> pd.DataFrame:
    """The methods annex's definitions table as a frame (figure, formula, unit, source)."""
    table = R.definitions_table(report, t)
    return pd.DataFrame([[c.value for c in row] for row in table.rows], columns=table.headers)


@st.cache_data(show_spinner=False, max_entries=8)
def _render(url: str, revision: int, year: int, lang: str, _report: R.AnnualReport, _meta: R.ReportMeta) -> ReportFiles:
    """The HTML and Excel files; keyed by store, data revision, year and language (the figures are a
    function of those), so a rerun of the page does not draw the charts again."""
    t = Translator(lang)
    html_name, xlsx_name = H.file_names(year, lang)
    return ReportFiles(H.render_html(_report, _meta, t), render_xlsx(_report, _meta, t), html_name, xlsx_name)


def report_files(ctx: PageContext, report: R.AnnualReport) -> ReportFiles:
    with st.spinner(ctx.t("report.page.generating", year=report.year)):
        return _render(ctx.engine.url.render_as_string(hide_password=False), ctx.revision, report.year, ctx.lang,
                       report, page_meta(ctx))


def show_downloads(files: ReportFiles, t: Translator) -> None:
    st.subheader(t("report.page.downloads"))
    row = st.container(horizontal=True)
    row.download_button(t("report.page.download_html"), data=files.html.encode("utf-8"), file_name=files.html_name,
                         mime=HTML_MIME, key="report_download_html", on_click="ignore",
                         icon=":material/description:", help=t("report.page.download_help"))
    row.download_button(t("report.page.download_xlsx"), data=files.xlsx, file_name=files.xlsx_name,
                          mime=XLSX_MIME, key="report_download_xlsx", on_click="ignore",
                          icon=":material/table_view:", help=t("report.page.download_help"))


def show_preview(files: ReportFiles, t: Translator) -> None:
    """The report itself in an isolated frame (its style sheet cannot touch the app's)."""
    st.subheader(t("report.page.preview"))
    st.iframe(files.html, height=PREVIEW_HEIGHT)
