"""What the utilisation page shows, shaped for display: the analysis controls, headline cards, the
definitions table, the group table and its drill-down, the lists, the operation-mode comparison
and the charts (distribution, monthly trend, modes).

Frame and chart builders are pure (figures in, labelled frames or altair charts out) so their
output can be checked by hand; every figure comes from dashboard.utilisation.
"""

from __future__ import annotations

import dataclasses
import math

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import policy as P
from dashboard import registry as R
from dashboard import utilisation as U
from dashboard.load import LOAD_CLASSES, LOAD_IDLE, LOAD_NORMAL, LOAD_SATURATED, LoadLines
from dashboard.i18n import Translator
from dashboard.national import WAN
from dashboard import formatting as fmt
from dashboard.ui.charts import ACCENT, PRIMARY
from dashboard.ui.context import widget_key
from dashboard.ui.labels import localised
from dashboard.ui.widgets import number_column

IDLE_RULES = ("hours", "share")
TREND_MEASURES = ("effective_hours", "utilisation", "external_hours")
LOAD_COLOURS = {load: fmt.LOAD_COLOURS[load] for load in LOAD_CLASSES}
PREVIOUS_COLOUR = fmt.PREVIOUS
MAX_HOURS_PER_YEAR = 8784.0  # a leap year's hours: no rated or line value can exceed it
DEFAULT_TOP = 10
# Figures of the definitions table, in the order of the page.
DEFINITIONS = (
    "scope", "effective", "rated", "utilisation", "avg_effective", "external", "external_share", "samples",
    "downtime", "idle", "saturated", "effective_change", "utilisation_change", "monthly", "distribution",
)
# The columns of the group table, the drill-down and the operation-mode comparison.
FIGURE_COLUMNS = (
    "instruments", "value_wan", "effective_hours", "rated_hours", "utilisation", "avg_effective_hours",
    "external_hours", "external_share", "samples", "downtime_hours", "idle", "saturated",
    "effective_change", "utilisation_change",
)
# The figures come right after the name and unit, so they are visible without scrolling sideways.
# months_reported sits next to the hours: 0 months means the 0 h is a missing report.
LIST_COLUMNS = ("inner_id", "name", "unit", "value_wan", "effective_hours", "months_reported", "rated_hours",
                "utilisation", "external_hours", "idle_line", "load", "class", "region", "operation_mode")
LIST_NUMBER_COLUMNS = ("value_wan", "effective_hours", "months_reported", "rated_hours", "utilisation",
                       "external_hours", "idle_line")


# ---- controls --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Controls:
    """What the user set: the policy (rated hours) and the load lines."""

    policy: P.PolicyDefaults
    lines: LoadLines


def read_controls(t: Translator, defaults: P.PolicyDefaults = P.DEFAULTS) -> Controls:
    """Rated hours 通用/专用, the idle rule (absolute hours or a share of rated hours) and the
    saturation line. Both idle inputs are always shown; the one not in use is disabled."""
    with st.container(border=True):
        st.markdown(f"**{t('utilisation.controls.title')}**")
        c1, c2, c3, c4, c5, c6 = st.columns([1, 1, 1.3, 1, 1, 1])
        general = c1.number_input(t("utilisation.controls.rated_general"), min_value=1.0, max_value=MAX_HOURS_PER_YEAR,
                                  value=float(defaults.rated_hours_general), step=50.0, format="%.0f",
                                  key=widget_key("util_rated_general"))
        special = c2.number_input(t("utilisation.controls.rated_special"), min_value=1.0, max_value=MAX_HOURS_PER_YEAR,
                                  value=float(defaults.rated_hours_special), step=50.0, format="%.0f",
                                  key=widget_key("util_rated_special"))
        rule = c3.radio(t("utilisation.controls.idle_rule"), IDLE_RULES, horizontal=True,
                        format_func=lambda r: t(f"utilisation.controls.idle_rule.{r}"), key=widget_key("util_idle_rule"))
        idle_hours = c4.number_input(t("utilisation.controls.idle_hours"), min_value=0.0, max_value=MAX_HOURS_PER_YEAR,
                                     value=float(defaults.low_use_hours), step=50.0, format="%.0f",
                                     disabled=rule != "hours", key=widget_key("util_idle_hours"))
        idle_share = c5.number_input(t("utilisation.controls.idle_share"), min_value=0.0, max_value=200.0,
                                     value=float(defaults.low_use_share_of_rated * 100), step=5.0, format="%.0f",
                                     disabled=rule != "share", key=widget_key("util_idle_share"))
        saturation = c6.number_input(t("utilisation.controls.saturation"), min_value=0.0, max_value=MAX_HOURS_PER_YEAR,
                                     value=float(defaults.saturation_hours), step=50.0, format="%.0f",
                                     key=widget_key("util_saturation"))
    policy = dataclasses.replace(defaults, rated_hours_general=float(general), rated_hours_special=float(special),
                                 low_use_hours=float(idle_hours), saturation_hours=float(saturation),
                                 low_use_share_of_rated=float(idle_share) / 100)
    lines = LoadLines(low_use_hours=float(idle_hours), saturation_hours=float(saturation),
                        low_use_share=float(idle_share) / 100 if rule == "share" else None)
    return Controls(policy, lines)


def read_dimension(t: Translator) -> str:
    return st.selectbox(t("utilisation.groups.dimension"), U.DIMENSIONS, index=U.DIMENSIONS.index("unit"),
                        format_func=lambda d: t(f"utilisation.dim.{d}"), key=widget_key("util_dimension"))


# ---- texts -----------------------------------------------------------------------------------


def idle_rule_text(lines: LoadLines, policy: P.PolicyDefaults, t: Translator) -> str:
    """The idle line in words, with the live numbers: '有效机时低于 800 小时' or the share form."""
    if lines.low_use_share is None:
        return t("utilisation.rule.idle_hours", hours=fmt.number(lines.low_use_hours))
    share = lines.low_use_share
    return t("utilisation.rule.idle_share", share=fmt.trimmed(share * 100, 1),
             general=fmt.number(share * policy.rated_hours_general), special=fmt.number(share * policy.rated_hours_special))


def definition_params(controls: Controls, t: Translator) -> dict[str, str]:
    """The values in force that the formula texts quote."""
    policy, lines = controls.policy, controls.lines
    return {
        "general": fmt.number(policy.rated_hours_general), "special": fmt.number(policy.rated_hours_special),
        "idle_rule": idle_rule_text(lines, policy, t), "saturation": fmt.number(lines.saturation_hours),
    }


def definitions_table(controls: Controls, t: Translator) -> pd.DataFrame:
    """Figure, formula (quoting the values in force), unit and source of every figure on the page."""
    params = definition_params(controls, t)
    return pd.DataFrame({
        t("utilisation.def.figure"): [t(f"utilisation.def.{d}.label") for d in DEFINITIONS],
        t("utilisation.def.formula"): [t(f"utilisation.def.{d}.formula", **params) for d in DEFINITIONS],
        t("utilisation.def.unit"): [t(f"utilisation.def.{d}.unit") for d in DEFINITIONS],
        t("utilisation.def.source"): [t(f"utilisation.def.{d}.source") for d in DEFINITIONS],
    })


def signed_percent(ratio: float | None) -> str | None:
    """+6.2% / -3.0%; "0" when it rounds to zero (a grey delta without arrow); None when missing
    (st.metric then shows no delta)."""
    if ratio is None or (isinstance(ratio, float) and math.isnan(ratio)):
        return None
    text = f"{ratio * 100:+.1f}"
    return "0" if float(text) == 0 else f"{text}%"


def signed_points(ratio_change: float | None, t: Translator) -> str | None:
    """A rate change in percentage points: '+3.4 个百分点' / '+3.4 pp'; "0" when it rounds to
    zero; None when missing."""
    if ratio_change is None or (isinstance(ratio_change, float) and math.isnan(ratio_change)):
        return None
    text = f"{ratio_change * 100:+.1f}"
    return "0" if float(text) == 0 else t("utilisation.delta.points", value=text)


def signed_count(now: int, before: int | None) -> int | None:
    """The change of a count (an int: Streamlit shows 0 grey, without arrow); None without a previous year."""
    return None if before is None else int(now - before)


# The definition (utilisation.def.<id>) behind each headline card, in card order.
CARD_DEFINITIONS = ("scope", "utilisation", "avg_effective", "external_share", "idle", "saturated")


def kpi_cards(now: pd.Series, before: pd.Series | None, t: Translator, controls: Controls) -> list[dict]:
    """The headline cards (label, value, delta vs the previous year, delta colour, help), from two
    `U.totals` rows; deltas are None without a previous year. Each help is the card's formula
    with the rated hours and lines in force (`controls`)."""
    def prev(column):
        return None if before is None else before[column]

    def rate_change(column):
        return None if before is None else _difference(now[column], before[column])

    def rel_change(column):
        return None if before is None else _relative(now[column], before[column])

    cards = [
        {"label": t("utilisation.kpi.instruments"), "value": fmt.number(now["instruments"]),
         "delta": signed_count(int(now["instruments"]), None if before is None else int(prev("instruments"))),
         "delta_color": "off"},
        {"label": t("utilisation.kpi.utilisation"), "value": fmt.percent(_nan_none(now["utilisation"])),
         "delta": signed_points(rate_change("utilisation"), t), "delta_color": "normal"},
        {"label": t("utilisation.kpi.avg_effective"), "value": fmt.number(_nan_none(now["avg_effective_hours"])),
         "delta": signed_percent(rel_change("avg_effective_hours")), "delta_color": "normal"},
        {"label": t("utilisation.kpi.external_share"), "value": fmt.percent(_nan_none(now["external_share"])),
         "delta": signed_points(rate_change("external_share"), t), "delta_color": "normal"},
        {"label": t("utilisation.kpi.idle"), "value": fmt.number(now["idle"]),
         "delta": signed_count(int(now["idle"]), None if before is None else int(prev("idle"))), "delta_color": "inverse"},
        {"label": t("utilisation.kpi.saturated"), "value": fmt.number(now["saturated"]),
         "delta": signed_count(int(now["saturated"]), None if before is None else int(prev("saturated"))),
         "delta_color": "off"},
    ]
    params = definition_params(controls, t)
    for card, definition in zip(cards, CARD_DEFINITIONS):
        card["help"] = t(f"utilisation.def.{definition}.formula", **params)
    cards[2]["help"] += "\n\n" + t("utilisation.kpi.avg_effective.help")  # the unit of the bare number
    return cards


def _nan_none(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _difference(now, before):
    now, before = _nan_none(now), _nan_none(before)
    return None if now is None or before is None else now - before


def _relative(now, before):
    now, before = _nan_none(now), _nan_none(before)
    return None if now is None or not before else (now - before) / before


# ---- labels ----------------------------------------------------------------------------------


def group_labels(keys: pd.Series, dimension: str, annual: pd.DataFrame, classes: pd.DataFrame,
                 regions: pd.DataFrame, t: Translator) -> pd.Series:
    """Display name of each group key under `dimension`, in the translator's language."""
    if dimension == "instrument":
        rows = annual.drop_duplicates("id").set_index("id")
        names = localised(rows, "name_zh", "name_en", t.lang) + " · " + rows["inner_id"].astype(str)
        return keys.map(names).fillna(keys.astype(str))
    if dimension == "unit":
        rows = annual.drop_duplicates("unit_id").set_index("unit_id")
        return keys.map(localised(rows, "unit_name", "unit_name_en", t.lang)).fillna(keys.astype(str))
    if dimension == "class":
        names = dict(zip(classes["code"], localised(classes, "name_zh", "name_en", t.lang))) if not classes.empty else {}
        return keys.map(lambda c: f"{c} {names[c]}" if c in names else str(c))
    if dimension in ("region", "banner"):
        names = dict(zip(regions["code"], localised(regions, "name_zh", "name_en", t.lang))) if not regions.empty else {}
        return keys.map(lambda c: names.get(c, str(c)))
    return keys.map(lambda v: t.enum(dimension, v) or str(v))


def _class_text(codes: pd.Series, classes: pd.DataFrame, lang: str) -> pd.Series:
    named = classes.assign(name=localised(classes, "name_zh", "name_en", lang)) if not classes.empty else classes
    return codes.astype(str).map(lambda c: R.class_label(c, named, "name") if not classes.empty else c)


# ---- frames ----------------------------------------------------------------------------------


def figure_values(figures: pd.DataFrame) -> dict[str, pd.Series]:
    """The figure columns as shown: money in 万元, rates and changes in % (×100), rate changes in
    percentage points (×100); missing stays NaN (a blank cell)."""
    return {
        "instruments": figures["instruments"].astype("int64"),
        "value_wan": (figures["value_cny"].astype(float) / WAN).round(2),
        "effective_hours": figures["effective_hours"].astype(float).round(1),
        "rated_hours": figures["rated_hours"].astype(float).round(0),
        "utilisation": (100 * figures["utilisation"].astype(float)).round(1),
        "avg_effective_hours": figures["avg_effective_hours"].astype(float).round(1),
        "external_hours": figures["external_hours"].astype(float).round(1),
        "external_share": (100 * figures["external_share"].astype(float)).round(1),
        "samples": figures["samples"].astype(float).round(0).astype("int64"),
        "downtime_hours": figures["downtime_hours"].astype(float).round(1),
        "idle": figures["idle"].astype("int64"),
        "saturated": figures["saturated"].astype("int64"),
        "effective_change": (100 * figures["effective_change"].astype(float)).round(1),
        "utilisation_change": (100 * figures["utilisation_change"].astype(float)).round(1),
    }


def group_table(figures: pd.DataFrame, labels: pd.Series, dimension: str, t: Translator) -> pd.DataFrame:
    """`U.group_figures` with a label column headed by the dimension name, localised headers."""
    values = figure_values(figures)
    data = {t(f"utilisation.dim.{dimension}"): labels.values}
    data.update({t(f"utilisation.col.{c}"): values[c].values for c in FIGURE_COLUMNS})
    return pd.DataFrame(data)


def mode_table(figures: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """The operation-mode comparison side by side: one row per figure, one column per mode;
    display text (blank '—' for a missing rate)."""
    values = figure_values(figures)
    modes = [t.enum("operation_mode", m) for m in figures["key"]]
    rows = []
    for column in FIGURE_COLUMNS:
        cells = [_cell(v, column) for v in values[column]]
        rows.append([t(f"utilisation.col.{column}"), *cells])
    return pd.DataFrame(rows, columns=[t("utilisation.modes.figure"), *modes])


def _cell(value, column: str) -> str:
    """Display text of one figure (already scaled by figure_values); '—' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt.MISSING
    if column in ("instruments", "idle", "saturated", "samples"):
        return fmt.number(value)
    if column in ("effective_change", "utilisation_change"):
        return f"{value:+.1f}"
    return fmt.number(value, 2 if column == "value_wan" else (0 if column == "rated_hours" else 1))


def instrument_table(rows: pd.DataFrame, classes: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """Instrument rows (lists and drill-down) with unit, class, region, mode, value in 万元, hours,
    months of usage reported in the year, utilisation in %, the instrument's idle line and its
    load class."""
    data = {
        "inner_id": rows["inner_id"].astype(str),
        "name": localised(rows, "name_zh", "name_en", t.lang),
        "unit": localised(rows, "unit_name", "unit_name_en", t.lang),
        "class": _class_text(rows["class_code"], classes, t.lang),
        "region": localised(rows, "region_name_zh", "region_name_en", t.lang),
        "operation_mode": rows["operation_mode"].map(lambda v: t.enum("operation_mode", v)),
        "value_wan": (rows["original_value"].astype(float) / WAN).round(2),
        "effective_hours": rows["effective_hours"].astype(float).round(1),
        "months_reported": rows["months_reported"].astype("Int64"),
        "rated_hours": rows["rated_hours"].astype(float).round(0),
        "utilisation": (100 * rows["utilisation"].astype(float)).round(1),
        "external_hours": rows["external_hours"].astype(float).round(1),
        "idle_line": rows["idle_line"].astype(float).round(0),
        "load": rows["load"].map(lambda v: t(f"utilisation.load.{v}")),
    }
    return pd.DataFrame({t(f"utilisation.list.{c}"): data[c].values for c in LIST_COLUMNS})


def distribution_frame(dist: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """`U.utilisation_distribution` as the chart takes it: bin label, load label, instruments."""
    def label(lower, upper):
        if pd.isna(upper):
            return t("utilisation.dist.open", low=fmt.trimmed(lower * 100, 0))
        return t("utilisation.dist.range", low=fmt.trimmed(lower * 100, 0), high=fmt.trimmed(upper * 100, 0))

    return pd.DataFrame({
        "bin": dist["bin"].astype("int64").values,
        "label": [label(lo, hi) for lo, hi in zip(dist["lower"], dist["upper"])],
        "load": dist["load"].map(lambda v: t(f"utilisation.load.{v}")).values,
        "load_order": dist["load"].map({c: i for i, c in enumerate(LOAD_CLASSES)}).values,
        "instruments": dist["instruments"].astype("int64").values,
    })


def trend_frame(trends: list[pd.DataFrame], measure: str, t: Translator) -> pd.DataFrame:
    """Monthly trends of one or two years (`U.monthly_trend` frames) as the chart takes them:
    month (1–12), month label, series (the year), value (hours, or utilisation in %)."""
    frame = pd.concat([tr for tr in trends if not tr.empty], ignore_index=True) if any(not tr.empty for tr in trends) else None
    if frame is None:
        return pd.DataFrame({"month": pd.Series(dtype="int64"), "month_label": pd.Series(dtype=object),
                             "series": pd.Series(dtype=object), "value": pd.Series(dtype=float)})
    value = frame[measure].astype(float) * (100 if measure == "utilisation" else 1)
    return pd.DataFrame({
        "month": frame["month"].astype("int64").values,
        "month_label": frame["month"].map(lambda m: t(f"utilisation.month.{int(m)}")).values,
        "series": frame["year"].map(lambda y: t("utilisation.trend.series", year=int(y))).values,
        "value": value.round(2).values,
    })


def mode_chart_frame(figures: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """Utilisation and external share per operation mode, long form: mode, figure, value (%)."""
    rows = []
    for _, row in figures.iterrows():
        for column in ("utilisation", "external_share"):
            value = row[column]
            rows.append({"mode": t.enum("operation_mode", row["key"]), "figure": t(f"utilisation.col.{column}"),
                         "value": None if pd.isna(value) else round(float(value) * 100, 1)})
    return pd.DataFrame(rows, columns=["mode", "figure", "value"])


# ---- charts ----------------------------------------------------------------------------------


def distribution_chart(frame: pd.DataFrame, titles: dict[str, str]) -> alt.Chart:
    """Stacked bars: instruments per utilisation bin, coloured by load class.
    frame: bin, label, load, load_order, instruments; titles: bin, instruments, load."""
    order = list(frame.sort_values("bin")["label"].drop_duplicates())
    loads = list(frame.sort_values("load_order")["load"].drop_duplicates())
    colours = [LOAD_COLOURS[c] for c in LOAD_CLASSES][: len(loads)]
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("label:N", sort=order, title=titles["bin"], axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(instruments):Q", title=titles["instruments"], axis=alt.Axis(format="d", tickMinStep=1)),
            color=alt.Color("load:N", title=titles["load"], scale=alt.Scale(domain=loads, range=colours),
                            legend=alt.Legend(orient="top")),
            order=alt.Order("load_order:Q"),
            tooltip=[alt.Tooltip("label:N", title=titles["bin"]), alt.Tooltip("load:N", title=titles["load"]),
                     alt.Tooltip("instruments:Q", title=titles["instruments"])],
        )
        .properties(height=300, width="container")
    )


def trend_chart(frame: pd.DataFrame, titles: dict[str, str]) -> alt.Chart:
    """One line per year over the months. frame: month, month_label, series, value;
    titles: month, value, series. The latest year is drawn in the primary colour."""
    series = sorted(frame["series"].unique())
    colours = [PREVIOUS_COLOUR] * (len(series) - 1) + [PRIMARY] if series else []
    months = list(frame.sort_values("month")["month_label"].drop_duplicates())
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("month_label:N", sort=months, title=titles["month"], axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=titles["value"]),
            color=alt.Color("series:N", title=titles["series"], scale=alt.Scale(domain=series, range=colours),
                            legend=alt.Legend(orient="top")),
            tooltip=[alt.Tooltip("series:N", title=titles["series"]), alt.Tooltip("month_label:N", title=titles["month"]),
                     alt.Tooltip("value:Q", title=titles["value"], format=",.1f")],
        )
        .properties(height=300, width="container")
    )


def mode_chart(frame: pd.DataFrame, titles: dict[str, str]) -> alt.Chart:
    """Grouped horizontal bars (long mode names stay readable): utilisation and external share
    (%) per operation mode. frame: mode, figure, value; titles: mode, value, figure."""
    modes = list(frame["mode"].drop_duplicates())
    figures = list(frame["figure"].drop_duplicates())
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("mode:N", sort=modes, title=None, axis=alt.Axis(labelLimit=220)),
            yOffset=alt.YOffset("figure:N", sort=figures),
            x=alt.X("value:Q", title=titles["value"]),
            color=alt.Color("figure:N", title=titles["figure"], sort=figures,
                            scale=alt.Scale(domain=figures, range=[PRIMARY, ACCENT]), legend=alt.Legend(orient="top")),
            tooltip=[alt.Tooltip("mode:N", title=titles["mode"]), alt.Tooltip("figure:N", title=titles["figure"]),
                     alt.Tooltip("value:Q", title=titles["value"], format=",.1f")],
        )
        .properties(height=alt.Step(22), width="container")
    )


# ---- rendering -------------------------------------------------------------------------------


def _number_config(t: Translator, keys: tuple[str, ...], prefix: str) -> dict:
    """Column formats: rates in % with one decimal, changes signed, counts/hours/money with
    thousands separators and fixed decimals (fmt.table_decimals; the values are already rounded)."""
    config = {}
    for key in keys:
        label = t(f"{prefix}.{key}")
        if key in ("utilisation", "external_share"):
            config[label] = st.column_config.NumberColumn(format="%.1f")
        elif key in ("effective_change", "utilisation_change"):
            config[label] = st.column_config.NumberColumn(format="%+.1f")
        else:
            config[label] = number_column(fmt.table_decimals(key))
    return config


def show_kpi_cards(cards: list[dict]) -> None:
    for column, card in zip(st.columns(len(cards)), cards):
        column.metric(card["label"], card["value"], delta=card["delta"], delta_color=card["delta_color"],
                      help=card.get("help"), border=True)


def show_group_table(table: pd.DataFrame, t: Translator) -> None:
    st.dataframe(table, hide_index=True, width="stretch", column_config=_number_config(t, FIGURE_COLUMNS, "utilisation.col"))


def show_instrument_table(table: pd.DataFrame, t: Translator) -> None:
    """Names and units get a medium width (full text on hover), so the figures after them show
    without scrolling sideways."""
    config = _number_config(t, LIST_NUMBER_COLUMNS, "utilisation.list")
    config.update({t(f"utilisation.list.{key}"): st.column_config.TextColumn(width="medium") for key in ("name", "unit")})
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)


def choose_group(figures: pd.DataFrame, labels: pd.Series, dimension: str, t: Translator):
    """The drill-down picker: one option per group of the table (label and instrument count)."""
    options = dict(zip(figures["key"], (labels + " · " + figures["instruments"].map(
        lambda n: t("utilisation.drill.count", n=int(n)))).values))
    keys = list(options)
    return st.selectbox(t("utilisation.drill.choose"), keys, format_func=lambda k: options[k],
                        key=widget_key(f"util_drill_{dimension}"))


def read_trend_measure(t: Translator, name: str) -> str:
    return st.radio(t("utilisation.trend.measure"), TREND_MEASURES, horizontal=True,
                    format_func=lambda m: t(f"utilisation.trend.measure.{m}"), key=widget_key(name))


def trend_titles(measure: str, t: Translator) -> dict[str, str]:
    return {"month": t("utilisation.axis.month"), "value": t(f"utilisation.trend.measure.{measure}"),
            "series": t("utilisation.axis.year")}


def read_top(t: Translator) -> int:
    return int(st.number_input(t("utilisation.lists.top"), min_value=1, max_value=100, value=DEFAULT_TOP, step=1,
                               key=widget_key("util_top")))


# ---- page sections ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PageData:
    """Everything the sections draw from: this year's and (if any) last year's utilisation
    frames and monthly rows, the reference frames and the controls."""

    year: int
    annual: pd.DataFrame
    previous: pd.DataFrame | None
    monthly: pd.DataFrame
    monthly_previous: pd.DataFrame
    classes: pd.DataFrame
    regions: pd.DataFrame
    controls: Controls

    @property
    def lines(self) -> LoadLines:
        return self.controls.lines


def trends(data: PageData, annual: pd.DataFrame, previous: pd.DataFrame | None) -> list[pd.DataFrame]:
    """Monthly trend of `annual`'s instruments this year, and of `previous`'s last year."""
    out = [U.monthly_trend(data.monthly, annual, data.year)]
    if previous is not None:
        out.insert(0, U.monthly_trend(data.monthly_previous, previous, data.year - 1))
    return out


def show_trend(data: PageData, annual: pd.DataFrame, previous: pd.DataFrame | None, t: Translator, name: str) -> None:
    measure = read_trend_measure(t, name)
    frame = trend_frame(trends(data, annual, previous), measure, t)
    if frame.empty:
        st.info(t("utilisation.trend.empty"))
        return
    st.altair_chart(trend_chart(frame, trend_titles(measure, t)), width="stretch")


def show_groups(data: PageData, t: Translator) -> None:
    dimension = read_dimension(t)
    figures = U.group_figures(data.annual, dimension, data.lines, data.previous)
    labels = group_labels(figures["key"], dimension, data.annual, data.classes, data.regions, t)
    st.caption(t("utilisation.groups.caption", groups=len(figures)))
    show_group_table(group_table(figures, labels, dimension, t), t)
    if data.previous is None:
        st.caption(t("utilisation.no_previous", year=data.year - 1))

    st.subheader(t("utilisation.drill.title"))
    key = choose_group(figures, labels, dimension, t)
    members = U.group_members(data.annual, dimension, key, data.lines)
    if members.empty:
        st.info(t("utilisation.drill.empty"))
        return
    row = figures[figures["key"] == key].iloc[0]
    before = None
    if data.previous is not None:
        prev_members = U.group_members(data.previous, dimension, key, data.lines)
        before = U.totals(prev_members, data.lines) if not prev_members.empty else None
    show_kpi_cards(kpi_cards(row, before, t, data.controls))
    show_instrument_table(instrument_table(members, data.classes, t), t)
    st.markdown(f"**{t('utilisation.drill.trend')}**")
    previous_members = None if data.previous is None else U.group_members(data.previous, dimension, key, data.lines)
    show_trend(data, members, previous_members, t, "util_drill_trend")


def show_distribution_and_trend(data: PageData, t: Translator) -> None:
    st.subheader(t("utilisation.dist.title"))
    dist = distribution_frame(U.utilisation_distribution(data.annual, data.lines), t)
    titles = {"bin": t("utilisation.axis.bin"), "instruments": t("utilisation.axis.instruments"), "load": t("utilisation.axis.load")}
    st.altair_chart(distribution_chart(dist, titles), width="stretch")
    st.caption(t("utilisation.dist.caption"))
    st.subheader(t("utilisation.trend.title"))
    show_trend(data, data.annual, data.previous, t, "util_trend_measure")
    st.caption(t("utilisation.trend.caption"))


def show_lists(data: PageData, t: Translator) -> None:
    """The most valuable idle instruments first (the short list a meeting acts on), then the full
    idle and saturated lists."""
    lines, policy = data.lines, data.controls.policy
    rule = idle_rule_text(lines, policy, t)
    title_col, top_col = st.columns([4, 1], vertical_alignment="bottom")
    title_col.subheader(t("utilisation.lists.valuable"))
    with top_col:
        top = read_top(t)
    valuable = U.most_valuable_idle(data.annual, lines, top)
    _show_list(valuable, data.classes, t, t("utilisation.lists.idle_empty"))
    if not valuable.empty:
        st.caption(t("utilisation.lists.valuable_caption", n=len(valuable), value=fmt.money(valuable["original_value"].sum(), t),
                     rule=rule))
        if U.unreported_count(valuable):
            st.caption(t("utilisation.lists.unreported", n=U.unreported_count(valuable)))

    idle = U.idle_list(data.annual, lines)
    st.subheader(t("utilisation.lists.idle", n=len(idle)))
    st.caption(t("utilisation.lists.idle_caption", rule=rule))
    if not idle.empty:
        st.caption(unreported_text(idle, t))
    _show_list(idle, data.classes, t, t("utilisation.lists.idle_empty"))

    saturated = U.saturated_list(data.annual, lines)
    st.subheader(t("utilisation.lists.saturated", n=len(saturated)))
    st.caption(t("utilisation.lists.saturated_caption", hours=fmt.number(lines.saturation_hours)))
    _show_list(saturated, data.classes, t, t("utilisation.lists.saturated_empty"))


def unreported_text(idle: pd.DataFrame, t: Translator) -> str:
    """How many idle instruments reported no usage in the year: their 0 h is missing data."""
    n = U.unreported_count(idle)
    return t("utilisation.lists.unreported", n=n) if n else t("utilisation.lists.all_reported", total=len(idle))


def _show_list(rows: pd.DataFrame, classes: pd.DataFrame, t: Translator, empty: str) -> None:
    if rows.empty:
        st.info(empty)
    else:
        show_instrument_table(instrument_table(rows, classes, t), t)


def show_modes(data: PageData, t: Translator) -> None:
    figures = U.operation_mode_comparison(data.annual, data.lines, data.previous)
    st.caption(t("utilisation.modes.caption"))
    table_col, chart_col = st.columns([3, 2])
    with table_col:
        st.table(mode_table(figures, t), hide_index=True)
    with chart_col:
        titles = {"mode": t("utilisation.axis.mode"), "value": t("utilisation.axis.percent"), "figure": t("utilisation.axis.figure")}
        st.altair_chart(mode_chart(mode_chart_frame(figures, t), titles), width="stretch")
