"""Registry: search and filter the instrument list, and look at one instrument's record and use."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard import policy
from dashboard import registry as R
from dashboard.national import INSTRUMENT_COLUMNS, SHARE_MODES, STATUSES, WAN
from dashboard.ui import charts
from dashboard.ui import format as fmt
from dashboard.ui.context import page_context, read, widget_key
from dashboard.ui.shell import PAGES

TABLE_COLUMNS = ("inner_id", "name", "unit", "region", "class", "value_wan", "purpose", "share_mode", "status")

DATA_PAGE = next(path for path, title_key, _ in PAGES if title_key == "nav.data")


def show_empty_state(t) -> None:
    st.info(t("registry.empty"), icon=":material/inventory_2:")
    st.page_link(DATA_PAGE, label=t("registry.empty_link"), icon=":material/upload_file:")


def localised(row_or_frame, zh_column: str, en_column: str, lang: str):
    """The English text when asked for and present, else the Chinese one."""
    zh, en = row_or_frame[zh_column], row_or_frame[en_column]
    if isinstance(zh, pd.Series):
        return en.where((en.fillna("") != "") & (lang == "en"), zh)
    return en if lang == "en" and en else zh


def read_filter(instruments: pd.DataFrame, regions: pd.DataFrame, classes: pd.DataFrame, t, lang: str) -> R.RegistryFilter:
    """The filter widgets; returns what the user chose."""
    text = st.text_input(t("registry.search"), key=widget_key("registry_text"), placeholder=t("registry.search_hint"))
    region_names = dict(zip(regions["code"], localised(regions, "name_zh", "name_en", lang)))
    units = instruments.drop_duplicates("unit_id").sort_values("unit_id")
    unit_names = dict(zip(units["unit_id"], localised(units, "unit_name", "unit_name_en", lang)))
    class_names = dict(zip(classes["code"], localised(classes, "name_zh", "name_en", lang)))
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


def value_range(instruments: pd.DataFrame, t) -> tuple[float | None, float | None]:
    """A 万元 range slider over the values present (whole 万元, so the ends include every instrument)."""
    low, high = R.value_bounds_wan(instruments)
    low, high = float(math.floor(low)), float(math.ceil(high))
    if high <= low:  # one value only: nothing to choose
        return None, None
    chosen = st.slider(t("registry.filter.value"), low, high, (low, high), step=1.0, key=widget_key("registry_value"))
    return chosen


def table_frame(filtered: pd.DataFrame, classes: pd.DataFrame, t, lang: str) -> pd.DataFrame:
    """The result table with localised headers and enumeration labels."""
    name_column = "name_en" if lang == "en" else "name_zh"
    data = {
        "inner_id": filtered["inner_id"],
        "name": localised(filtered, "name_zh", "name_en", lang),
        "unit": localised(filtered, "unit_name", "unit_name_en", lang),
        "region": localised(filtered, "region_name_zh", "region_name_en", lang),
        "class": filtered["class_code"].map(lambda c: R.class_label(c, classes, name_column)),
        "value_wan": filtered["original_value"] / WAN,
        "purpose": filtered["purpose"].map(lambda v: t.enum("purpose", v)),
        "share_mode": filtered["share_mode"].map(lambda v: t.enum("share_mode", v)),
        "status": filtered["status"].map(lambda v: t.enum("status", v)),
    }
    return pd.DataFrame({t(f"registry.col.{key}"): data[key].values for key in TABLE_COLUMNS})


def record_table(row: pd.Series, classes: pd.DataFrame, t, lang: str) -> pd.DataFrame:
    """The national record of one instrument: field label and display value, in layout order."""
    values = []
    for column in INSTRUMENT_COLUMNS:
        values.append((t(f"registry.field.{column.key}"), record_value(row, column.key, classes, t, lang)))
    return pd.DataFrame(values, columns=[t("registry.detail.field"), t("registry.detail.value")])


def record_value(row: pd.Series, key: str, classes: pd.DataFrame, t, lang: str) -> str:
    if key == "unit":
        return localised(row, "unit_name", "unit_name_en", lang)
    if key == "region_code":
        return localised(row, "region_name_zh", "region_name_en", lang)
    if key == "class_code":
        return R.class_path(row["class_code"], classes, "name_en" if lang == "en" else "name_zh")
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


def annual_table(history: pd.DataFrame, t) -> pd.DataFrame:
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


def show_detail(row: pd.Series, classes: pd.DataFrame, ctx) -> None:
    t = ctx.t
    record_col, usage_col = st.columns([2, 3])
    with record_col:
        st.markdown(f"**{t('registry.detail.record')}**")
        st.table(record_table(row, classes, t, ctx.lang), hide_index=True)
    with usage_col:
        st.markdown(f"**{t('registry.detail.usage')}**")
        monthly = read(ctx, "usage_monthly_for", int(row["id"]))
        if monthly.empty:
            st.info(t("registry.detail.no_usage"))
            return
        rated = policy.rated_hours(row["purpose"])
        series = {"effective_hours": t("registry.series.effective"), "external_hours": t("registry.series.external")}
        titles = {"month": t("registry.axis.month"), "hours": t("registry.axis.hours"),
                  "series": t("registry.axis.series"), "rated": t("registry.axis.rated_monthly")}
        st.altair_chart(charts.usage_history(R.monthly_history(monthly), series, rated / 12, titles), width="stretch")
        st.caption(t("registry.detail.rated_note", purpose=t.enum("purpose", row["purpose"]), rated=fmt.number(rated)))
        st.table(annual_table(R.annual_history(monthly, row["purpose"]), t), hide_index=True)


ctx = page_context()
t = ctx.t
st.title(t("registry.title"))

instruments = read(ctx, "instruments")
if instruments.empty:
    show_empty_state(t)
    st.stop()

regions = read(ctx, "regions")
classes = read(ctx, "instrument_classes")
chosen = read_filter(instruments, regions, classes, t, ctx.lang)
filtered = R.filter_instruments(instruments, chosen, regions)
st.markdown(t("registry.count", shown=len(filtered), total=len(instruments)))
if filtered.empty:
    st.info(t("registry.no_match"))
    st.stop()
st.dataframe(
    table_frame(filtered, classes, t, ctx.lang), hide_index=True, width="stretch",
    column_config={t("registry.col.value_wan"): st.column_config.NumberColumn(format="%.2f")},
)

st.subheader(t("registry.detail.title"))
labels = dict(zip(filtered["id"], localised(filtered, "name_zh", "name_en", ctx.lang)
                  + " · " + filtered["inner_id"] + " · " + localised(filtered, "unit_name", "unit_name_en", ctx.lang)))
selected = st.selectbox(t("registry.detail.choose"), list(labels), key=widget_key("registry_selected"), format_func=lambda i: labels[i])
show_detail(filtered[filtered["id"] == selected].iloc[0], classes, ctx)
