"""Overview: the year's headline figures, where the instruments are, and how the stock is made up."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import census
from dashboard.national import FUNDINGS, UNIT_TYPES, WAN
from dashboard.ui import charts
from dashboard.ui import format as fmt
from dashboard.ui.context import page_context, read, widget_key
from dashboard.ui.shell import PAGES

MEASURES = ("instruments", "value_wan")

DATA_PAGE = next(path for path, title_key, _ in PAGES if title_key == "nav.data")


def show_empty_state(t) -> None:
    st.info(t("overview.empty"), icon=":material/inventory_2:")
    st.page_link(DATA_PAGE, label=t("overview.empty_link"), icon=":material/upload_file:")


def kpi_cards(k: census.Kpis, t, year_known: bool) -> list[tuple[str, str, str]]:
    """(label, value, help) of each KPI card, in census.KPI_IDS order."""
    hour_value = (lambda v: fmt.hours(v, t)) if year_known else (lambda v: fmt.MISSING)
    avg = (
        f"{fmt.number(k.avg_effective_hours)} / {fmt.hours(k.avg_rated_hours, t)}"
        if year_known and k.instruments else fmt.MISSING
    )
    values = {
        "instruments": (fmt.number(k.instruments), ""),
        "value": (fmt.money(k.total_value_cny, t), ""),
        "open_share": (fmt.percent(k.open_share), t("overview.kpi.open_share.detail", open=k.open_count, eligible=k.open_eligible)),
        "avg_hours": (avg, ""),
        "external_hours": (hour_value(k.external_hours), ""),
        "idle": (fmt.number(k.idle_count) if year_known else fmt.MISSING,
                 t("overview.kpi.idle.detail", total=k.in_service_count)),
    }
    return [(t(f"overview.kpi.{kid}.label"), *values[kid]) for kid in census.KPI_IDS]


def definitions_table(t) -> pd.DataFrame:
    params = census.definition_params()
    return pd.DataFrame({
        t("overview.def.indicator"): [t(f"overview.kpi.{kid}.label") for kid in census.KPI_IDS],
        t("overview.def.formula"): [t(f"overview.kpi.{kid}.formula", **params) for kid in census.KPI_IDS],
        t("overview.def.unit"): [t(f"overview.kpi.{kid}.unit") for kid in census.KPI_IDS],
        t("overview.def.source"): [t(f"overview.kpi.{kid}.source") for kid in census.KPI_IDS],
    })


def with_display(frame: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """A distribution frame as the charts take it: label, instruments, value_wan."""
    return pd.DataFrame({"label": labels.values, "instruments": frame["instruments"].values,
                         "value_wan": (frame["value_cny"] / WAN).values})


def name_column(lang: str) -> str:
    return "name_en" if lang == "en" else "name_zh"


def labelled_distributions(annual: pd.DataFrame, classes: pd.DataFrame, t, lang: str) -> list[tuple[str, pd.DataFrame]]:
    """(title key, chart frame) of the four distributions, with display labels in `lang`."""
    by_class = census.by_class(annual, classes)
    by_type = census.by_field(annual, "unit_type", UNIT_TYPES)
    by_band = census.by_value_band(annual)
    by_funding = census.by_field(annual, "funding", FUNDINGS)
    band_labels = [fmt.value_band(lo, hi, t) for lo, hi in zip(by_band["lower_cny"], by_band["upper_cny"])]
    return [
        ("overview.dist.class", with_display(by_class, by_class["key"] + " " + by_class[name_column(lang)])),
        ("overview.dist.unit_type", with_display(by_type, by_type["key"].map(lambda v: t.enum("unit_type", v)))),
        ("overview.dist.value_band", with_display(by_band, pd.Series(band_labels, dtype=object))),
        ("overview.dist.funding", with_display(by_funding, by_funding["key"].map(lambda v: t.enum("funding", v)))),
    ]


def map_frames(annual: pd.DataFrame, units: pd.DataFrame, regions: pd.DataFrame, lang: str):
    """(banner frame, unit point frame) for charts.region_map, labelled in `lang`."""
    banners = census.by_region(annual, units, regions)
    banner_frame = with_display(banners, banners[name_column(lang)]).assign(
        code=banners["code"].values, units=banners["units"].values)
    points = census.unit_points(annual, units, regions)
    english = (points["name_en"] != "") & (lang == "en")
    point_frame = with_display(points, points["name_en"].where(english, points["name"])).assign(
        lat=points["lat"].values, lon=points["lon"].values)
    return banner_frame, point_frame


ctx = page_context()
t = ctx.t
st.title(t("overview.title"))

instruments = read(ctx, "instruments")
if instruments.empty:
    show_empty_state(t)
    st.stop()

year_known = ctx.year is not None
usage = read(ctx, "usage_by_instrument_year", ctx.year) if year_known else pd.DataFrame()
annual = census.annual_frame(instruments, usage, ctx.year)
kpis = census.kpis(annual)
st.caption(t("overview.caption", year=ctx.year) if year_known else t("overview.no_year"))

# KPI cards, three per row so the numbers stay readable on a laptop screen.
cards = kpi_cards(kpis, t, year_known)
for start in range(0, len(cards), 3):
    for column, (label, value, help_text) in zip(st.columns(3), cards[start:start + 3]):
        column.metric(label, value, help=help_text or None, border=True, height="stretch")
with st.expander(t("overview.definitions"), icon=":material/functions:"):
    st.table(definitions_table(t), hide_index=True)

titles = {
    key: t(f"overview.axis.{key}")
    for key in ("instruments", "value_wan", "units", "region", "unit", "unit_instruments", "category")
}

st.subheader(t("overview.map.title"))
measure = st.radio(
    t("overview.measure"), MEASURES, key=widget_key("overview_measure"), horizontal=True,
    format_func=lambda m: t(f"overview.measure.{m}"),
)
banner_frame, point_frame = map_frames(annual, read(ctx, "units"), read(ctx, "regions"), ctx.lang)
st.altair_chart(charts.region_map(banner_frame, point_frame, measure, titles), width="stretch")
st.caption(t("overview.map.caption"))

distributions = labelled_distributions(annual, read(ctx, "instrument_classes"), t, ctx.lang)
for row_start in range(0, len(distributions), 2):
    for column, (title_key, frame) in zip(st.columns(2), distributions[row_start:row_start + 2]):
        with column:
            st.subheader(t(title_key))
            st.altair_chart(charts.distribution_bars(frame, measure, titles), width="stretch")
