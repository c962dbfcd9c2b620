"""What the overview page shows, shaped for display: KPI cards, the definitions table, the map
frames and the labelled distributions; plus the measure picker and the card and chart grids.

The frame builders are pure (figures in, labelled frames out) so their output can be checked by
hand; the figures themselves come from dashboard.census.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import census
from dashboard.i18n import Translator
from dashboard.national import FUNDINGS, UNIT_TYPES, WAN
from dashboard.ui import charts
from dashboard import formatting as fmt
from dashboard.ui.context import widget_key
from dashboard.ui.labels import localised

MEASURES = ("instruments", "value_wan")
AXES = ("instruments", "value_wan", "units", "region", "unit", "unit_instruments", "category")
CARDS_PER_ROW = 3  # three KPI cards a row keep the numbers readable on a laptop screen
CHARTS_PER_ROW = 2


def kpi_cards(k: census.Kpis, t: Translator, year_known: bool) -> list[tuple[str, str, str]]:
    """(label, value, help) of each KPI card, in census.KPI_IDS order. Without a usage year the
    hour figures are shown as missing rather than as zero. Every help gives the formula; that of
    the rate and hour cards also names their scope (instruments in service, how many awaiting
    scrapping are left out)."""
    hour_value = (lambda v: fmt.hours(v, t)) if year_known else (lambda v: fmt.MISSING)
    avg = (
        f"{fmt.number(k.avg_effective_hours)} / {fmt.hours(k.avg_rated_hours, t)}"
        if year_known and k.avg_effective_hours is not None else fmt.MISSING
    )
    scope = {"in_service": fmt.number(k.in_service_count), "scrapped": fmt.number(k.instruments - k.in_service_count)}
    values = {
        "instruments": (fmt.number(k.instruments), ""),
        "value": (fmt.money(k.total_value_cny, t), ""),
        "open_share": (fmt.percent(k.open_share), t("overview.kpi.open_share.detail", open=k.open_count, eligible=k.open_eligible)),
        "avg_hours": (avg, t("overview.kpi.avg_hours.detail", **scope)),
        "external_hours": (hour_value(k.external_hours), t("overview.kpi.external_hours.detail", **scope)),
        "idle": (fmt.number(k.idle_count) if year_known else fmt.MISSING,
                 t("overview.kpi.idle.detail", total=k.in_service_count)),
    }
    return [(t(f"overview.kpi.{kid}.label"), values[kid][0], kpi_help(kid, values[kid][1], t)) for kid in census.KPI_IDS]


def kpi_help(kid: str, detail: str, t: Translator) -> str:
    """A card's help: the formula behind the figure (as in the definitions table), then the
    card's scope in numbers when it has one."""
    formula = t(f"overview.kpi.{kid}.formula", **census.definition_params())
    return f"{formula}\n\n{detail}" if detail else formula


def definitions_table(t: Translator) -> pd.DataFrame:
    """Indicator, formula (quoting the policy numbers in force), unit and source of every KPI."""
    params = census.definition_params()
    return pd.DataFrame({
        t("overview.def.indicator"): [t(f"overview.kpi.{kid}.label") for kid in census.KPI_IDS],
        t("overview.def.formula"): [t(f"overview.kpi.{kid}.formula", **params) for kid in census.KPI_IDS],
        t("overview.def.unit"): [t(f"overview.kpi.{kid}.unit") for kid in census.KPI_IDS],
        t("overview.def.source"): [t(f"overview.kpi.{kid}.source", **params) for kid in census.KPI_IDS],
    })


def axis_titles(t: Translator) -> dict[str, str]:
    """Display names of the chart fields, as charts.region_map and charts.distribution_bars take them."""
    return {key: t(f"overview.axis.{key}") for key in AXES}


def chart_frame(frame: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """A census count-and-value frame as the charts take it: label, instruments, value_wan."""
    return pd.DataFrame({"label": labels.values, "instruments": frame["instruments"].values,
                         "value_wan": (frame["value_cny"] / WAN).values})


def labelled_distributions(annual: pd.DataFrame, classes: pd.DataFrame, t: Translator) -> list[tuple[str, pd.DataFrame]]:
    """(title key, chart frame) of the four distributions, labelled in the translator's language."""
    by_class = census.by_class(annual, classes)
    by_type = census.by_field(annual, "unit_type", UNIT_TYPES)
    by_band = census.by_value_band(annual)
    by_funding = census.by_field(annual, "funding", FUNDINGS)
    class_labels = by_class["key"] + " " + localised(by_class, "name_zh", "name_en", t.lang)
    band_labels = [fmt.value_band(lo, hi, t) for lo, hi in zip(by_band["lower_cny"], by_band["upper_cny"])]
    return [
        ("overview.dist.class", chart_frame(by_class, class_labels)),
        ("overview.dist.unit_type", chart_frame(by_type, by_type["key"].map(lambda v: t.enum("unit_type", v)))),
        ("overview.dist.value_band", chart_frame(by_band, pd.Series(band_labels, dtype=object))),
        ("overview.dist.funding", chart_frame(by_funding, by_funding["key"].map(lambda v: t.enum("funding", v)))),
    ]


def map_frames(annual: pd.DataFrame, units: pd.DataFrame, regions: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(banner frame, unit point frame) for charts.region_map, labelled in `lang`."""
    banners = census.by_region(annual, units, regions)
    banner_frame = chart_frame(banners, localised(banners, "name_zh", "name_en", lang)).assign(
        code=banners["code"].values, units=banners["units"].values)
    points = census.unit_points(annual, units, regions)
    point_frame = chart_frame(points, localised(points, "name", "name_en", lang)).assign(
        lat=points["lat"].values, lon=points["lon"].values)
    return banner_frame, point_frame


def read_measure(t: Translator) -> str:
    """The measure (instrument count or value) that colours the map and sizes the bars."""
    return st.radio(
        t("overview.measure"), MEASURES, key=widget_key("overview_measure"), horizontal=True,
        format_func=lambda m: t(f"overview.measure.{m}"),
    )


def show_kpi_cards(cards: list[tuple[str, str, str]]) -> None:
    for start in range(0, len(cards), CARDS_PER_ROW):
        row = cards[start:start + CARDS_PER_ROW]
        for column, (label, value, help_text) in zip(st.columns(CARDS_PER_ROW), row):
            column.metric(label, value, help=help_text or None, border=True, height="stretch")


def show_distributions(distributions: list[tuple[str, pd.DataFrame]], measure: str, titles: dict[str, str], t: Translator) -> None:
    for start in range(0, len(distributions), CHARTS_PER_ROW):
        row = distributions[start:start + CHARTS_PER_ROW]
        for column, (title_key, frame) in zip(st.columns(CHARTS_PER_ROW), row):
            with column:
                st.subheader(t(title_key))
                st.altair_chart(charts.distribution_bars(frame, measure, titles), width="stretch")
