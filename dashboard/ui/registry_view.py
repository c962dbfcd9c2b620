"""What the registry page shows, shaped for display: the result table, one instrument's national
record and yearly use; plus the filter widgets, the instrument picker and the detail panel.

The frame builders are pure (rows in, labelled frames out) so their output can be checked by hand;
filtering and usage totals come from dashboard.registry.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard import policy
from dashboard import registry as R
from dashboard.i18n import Translator
from dashboard.national import INSTRUMENT_COLUMNS, SHARE_MODES, STATUSES, WAN
from dashboard.ui import charts
from dashboard.ui import fees_view
from dashboard import formatting as fmt
from dashboard.ui.context import PageContext, read, widget_key
from dashboard.ui.labels import localised
from dashboard.ui.widgets import number_column

TABLE_COLUMNS = ("inner_id", "name", "unit", "region", "class", "value_wan", "purpose", "share_mode", "status")
LINK_PARAM = "instrument"  # ?instrument=<id> opens the page on that instrument (the service finder links here)
FILTER_WIDGETS = ("registry_regions", "registry_units", "registry_share", "registry_top", "registry_middle",
                  "registry_status", "registry_value")


def with_local_names(classes: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The classes frame with a "name" column in `lang`, for R.class_label / R.class_path."""
    return classes.assign(name=localised(classes, "name_zh", "name_en", lang))


def table_frame(filtered: pd.DataFrame, classes: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """The result table with localised headers, names and enumeration labels; value in 万元."""
    named = with_local_names(classes, t.lang)
    data = {
        "inner_id": filtered["inner_id"],
        "name": localised(filtered, "name_zh", "name_en", t.lang),
        "unit": localised(filtered, "unit_name", "unit_name_en", t.lang),
        "region": localised(filtered, "region_name_zh", "region_name_en", t.lang),
        "class": filtered["class_code"].map(lambda c: R.class_label(c, named, "name")),
        "value_wan": filtered["original_value"] / WAN,
        "purpose": filtered["purpose"].map(lambda v: t.enum("purpose", v)),
        "share_mode": filtered["share_mode"].map(lambda v: t.enum("share_mode", v)),
        "status": filtered["status"].map(lambda v: t.enum("status", v)),
    }
    return pd.DataFrame({t(f"registry.col.{key}"): data[key].values for key in TABLE_COLUMNS})


def record_table(row: pd.Series, classes: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """The national record of one instrument: field label and display value, in layout order."""
    values = [(t(f"registry.field.{column.key}"), record_value(row, column.key, classes, t))
              for column in INSTRUMENT_COLUMNS]
    return pd.DataFrame(values, columns=[t("registry.detail.field"), t("registry.detail.value")])


def record_value(row: pd.Series, key: str, classes: pd.DataFrame, t: Translator) -> str:
    """Display text of one national field of an instrument row; '—' when nothing is recorded."""
    if key == "unit":
        return localised(row, "unit_name", "unit_name_en", t.lang)
    if key == "region_code":
        return localised(row, "region_name_zh", "region_name_en", t.lang)
    if key == "class_code":
        return R.class_path(row["class_code"], with_local_names(classes, t.lang), "name")
    if key == "original_value":
        return fmt.money(row["original_value"], t)
    if key == "start_date":
        return row["start_date"].strftime("%Y-%m-%d") if pd.notna(row["start_date"]) else fmt.MISSING
    if key in ("annual_run_hours", "annual_service_hours"):
        return fmt.hours(row[key] if pd.notna(row[key]) else None, t)
    if key in R.ENUM_FIELDS:
        return t.enum(R.ENUM_FIELDS[key], row[key]) or fmt.MISSING
    value = row[key]
    return str(value) if pd.notna(value) and str(value) != "" else fmt.MISSING


def annual_table(history: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """R.annual_history as display text: hours with separators, ratios as percentages."""
    return pd.DataFrame({
        t("registry.annual.year"): history["year"].astype(int).astype(str),
        t("registry.annual.months"): history["months"].astype(int),
        t("registry.annual.effective"): history["effective_hours"].map(fmt.number),
        t("registry.annual.external"): history["external_hours"].map(fmt.number),
        t("registry.annual.rated"): history["rated_hours"].map(fmt.number),
        t("registry.annual.utilisation"): history["utilisation"].map(fmt.percent),
        t("registry.annual.external_share"): history["external_share"].map(
            lambda v: fmt.percent(None if pd.isna(v) else v)),
    })


def instrument_labels(filtered: pd.DataFrame, lang: str) -> dict[int, str]:
    """Instrument id -> 'name · inner id · holding unit', the options of the detail picker."""
    labels = (localised(filtered, "name_zh", "name_en", lang) + " · " + filtered["inner_id"]
              + " · " + localised(filtered, "unit_name", "unit_name_en", lang))
    return dict(zip(filtered["id"], labels))


def slider_bounds(instruments: pd.DataFrame) -> tuple[float, float] | None:
    """Ends of the 万元 value slider: whole 万元 outside the values present, so the full range
    includes every instrument; None when all values round to one point (nothing to choose)."""
    low, high = R.value_bounds_wan(instruments)
    low, high = float(math.floor(low)), float(math.ceil(high))
    return (low, high) if high > low else None


def value_range(instruments: pd.DataFrame, t: Translator) -> tuple[float | None, float | None]:
    """The chosen 万元 range, (None, None) when there is no slider."""
    bounds = slider_bounds(instruments)
    if bounds is None:
        return None, None
    return st.slider(t("registry.filter.value"), *bounds, bounds, step=1.0, format="localized",
                     key=widget_key("registry_value"))


def apply_instrument_link(instruments: pd.DataFrame) -> None:
    """On ?instrument=<id>: the search set to that instrument's inner id, the other filters cleared
    and the detail picker on it; the parameter is then taken off the address, so later changes stay
    and the same link works again (an unknown id changes nothing)."""
    value = st.query_params.get(LINK_PARAM)
    if not value:
        return
    del st.query_params[LINK_PARAM]
    row = instruments[instruments["id"].astype(str) == str(value).strip()]
    if row.empty:
        return
    for name in FILTER_WIDGETS:
        st.session_state.pop(widget_key(name), None)
    st.session_state[widget_key("registry_text")] = str(row["inner_id"].iloc[0])
    st.session_state[widget_key("registry_selected")] = int(row["id"].iloc[0])


def read_filter(instruments: pd.DataFrame, regions: pd.DataFrame, classes: pd.DataFrame, t: Translator) -> R.RegistryFilter:
    """The filter widgets; returns what the user chose."""
    text = st.text_input(t("registry.search"), key=widget_key("registry_text"), placeholder=t("registry.search_hint"))
    region_names = dict(zip(regions["code"], localised(regions, "name_zh", "name_en", t.lang)))
    units = instruments.drop_duplicates("unit_id").sort_values("unit_id")
    unit_names = dict(zip(units["unit_id"], localised(units, "unit_name", "unit_name_en", t.lang)))
    class_names = dict(zip(classes["code"], localised(classes, "name_zh", "name_en", t.lang)))
    codes = instruments["class_code"].astype(str)
    choose = t("registry.filter.any")
    col1, col2, col3 = st.columns(3)
    chosen_regions = col1.multiselect(t("registry.filter.region"), list(regions["code"]), key=widget_key("registry_regions"), placeholder=choose,
                                      format_func=lambda c: region_names.get(c, c))
    chosen_units = col2.multiselect(t("registry.filter.unit"), list(unit_names), key=widget_key("registry_units"), placeholder=choose,
                                    format_func=lambda u: unit_names[u])
    chosen_share = col3.multiselect(t("registry.filter.share_mode"), SHARE_MODES, key=widget_key("registry_share"), placeholder=choose,
                                    format_func=lambda v: t.enum("share_mode", v))
    col4, col5, col6 = st.columns(3)
    chosen_top = col4.multiselect(t("registry.filter.top_class"), sorted(codes.str[:2].unique()), key=widget_key("registry_top"), placeholder=choose,
                                  format_func=lambda c: f"{c} {class_names.get(c, '')}")
    middles = sorted(c for c in codes.str[:4].unique() if not chosen_top or c[:2] in chosen_top)
    chosen_middle = col5.multiselect(t("registry.filter.middle_class"), middles, key=widget_key("registry_middle"), placeholder=choose,
                                     format_func=lambda c: f"{c} {class_names.get(c, '')}")
    chosen_status = col6.multiselect(t("registry.filter.status"), STATUSES, key=widget_key("registry_status"), placeholder=choose,
                                     format_func=lambda v: t.enum("status", v))
    low, high = value_range(instruments, t)
    return R.RegistryFilter(
        text=text, regions=tuple(chosen_regions), unit_ids=tuple(chosen_units), top_classes=tuple(chosen_top),
        middle_classes=tuple(chosen_middle), min_value_wan=low, max_value_wan=high,
        share_modes=tuple(chosen_share), statuses=tuple(chosen_status),
    )


def show_table(filtered: pd.DataFrame, classes: pd.DataFrame, t: Translator) -> None:
    st.dataframe(
        table_frame(filtered, classes, t), hide_index=True, width="stretch",
        column_config={t("registry.col.value_wan"): number_column(fmt.WAN_DECIMALS)},
    )


def choose_instrument(filtered: pd.DataFrame, t: Translator) -> pd.Series:
    """The row of the instrument picked for the detail view (the first one until the user picks)."""
    labels = instrument_labels(filtered, t.lang)
    selected = st.selectbox(t("registry.detail.choose"), list(labels), key=widget_key("registry_selected"),
                            format_func=lambda i: labels[i])
    return filtered[filtered["id"] == selected].iloc[0]


def show_detail(row: pd.Series, classes: pd.DataFrame, ctx: PageContext) -> None:
    """The instrument's national record beside its monthly use, rated line and yearly totals; below
    them the fee calculator (cost price per machine hour against the listed fee)."""
    t = ctx.t
    record_col, usage_col = st.columns([2, 3])
    with record_col:
        st.markdown(f"**{t('registry.detail.record')}**")
        st.table(record_table(row, classes, t).map(fmt.md_text), hide_index=True)  # st.table renders Markdown
    with usage_col:
        st.markdown(f"**{t('registry.detail.usage')}**")
        monthly = read(ctx, "usage_monthly_for", int(row["id"]))
        if monthly.empty:
            st.info(t("registry.detail.no_usage"))
        else:
            rated = policy.rated_hours(row["purpose"])
            series = {"effective_hours": t("registry.series.effective"), "external_hours": t("registry.series.external")}
            titles = {"month": t("registry.axis.month"), "hours": t("registry.axis.hours"),
                      "series": t("registry.axis.series"), "rated": t("registry.axis.rated_monthly")}
            st.altair_chart(charts.usage_history(R.monthly_history(monthly), series, rated / 12, titles), width="stretch")
            st.caption(t("registry.detail.rated_note", purpose=t.enum("purpose", row["purpose"]), rated=fmt.number(rated)))
            st.table(annual_table(R.annual_history(monthly, row["purpose"]), t), hide_index=True)
    fees_view.show_instrument_fees(row, monthly, ctx)
