"""What the layout analysis page shows, shaped for display: the controls, the class × region
heatmap and table, the banner map of one class, the three findings and the drill-down of a cell.

Frame and chart builders are pure (figures in, labelled frames or charts out) so their output can
be checked by hand; the figures themselves come from dashboard.layout.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import formatting as fmt
from dashboard import layout as L
from dashboard import policy as P
from dashboard.census import banner_of
from dashboard.geo import banner_features
from dashboard.i18n import Translator
from dashboard.national import WAN
from dashboard.ui import charts
from dashboard.ui.context import widget_key
from dashboard.ui.labels import localised
from dashboard.ui.widgets import number_column
from dashboard.load import LoadLines

MEASURES = ("instruments", "mean_utilisation", "spare_hours", "demand_hours", "gap_hours")
MAX_HOURS_PER_YEAR = 8784.0  # a leap year's hours: no line can lie above it
DARK_TEXT = fmt.INK
CELL_STEP = 30  # px per heatmap row and column band
# The figures of the matrix table, in column order after class and region.
MATRIX_FIGURES = (
    "instruments", "value_wan", "in_service", "effective_hours", "mean_utilisation", "idle", "saturated",
    "open_instruments", "spare_hours", "demand_services", "demand_hours", "demand_local_hours",
    "demand_elsewhere_hours", "demand_amount_wan", "gap_hours",
)
# Display formats of table figures; every other figure is a whole count or whole hours.
TABLE_FORMATS = {"mean_utilisation": "%.1f%%", "utilisation": "%.1f%%"}  # the others: fmt.table_decimals
DEFINITION_IDS = (
    "instruments", "value", "in_service", "effective_hours", "mean_utilisation", "idle", "saturated",
    "spare_hours", "demand", "demand_local", "gap_hours", "finding_a", "finding_b", "finding_c",
)


# ---- controls --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Controls:
    level: int  # 2 or 4 digits of the class code
    zones: bool  # zones as regions of their own
    measure: str
    basis: str  # demand hours: one of L.BASES, "quantity" (服务量, the default) or "duration"
    lines: LoadLines


def read_controls(t: Translator, policy: P.PolicyDefaults = P.DEFAULTS) -> Controls:
    """The class level, region level and measure on one row; the lines and the demand basis in an
    expander (defaults from the policy, editable)."""
    c1, c2, c3 = st.columns([3, 2, 3], vertical_alignment="bottom")
    level = c1.radio(t("layout.controls.level"), L.LEVELS, key=widget_key("layout_level"), horizontal=True,
                     format_func=lambda v: t(f"layout.level.{v}"))
    zones = c2.toggle(t("layout.controls.zones"), key=widget_key("layout_zones"), help=t("layout.controls.zones_help"))
    measure = c3.selectbox(t("layout.controls.measure"), MEASURES, key=widget_key("layout_measure"),
                           format_func=lambda m: t(f"layout.measure.{m}"))
    with st.expander(t("layout.controls.settings"), icon=":material/tune:"):
        s1, s2, s3 = st.columns([1, 1, 2])
        idle = s1.number_input(t("layout.controls.idle_line"), min_value=0.0, max_value=MAX_HOURS_PER_YEAR,
                               value=float(policy.low_use_hours), step=50.0, format="%g", key=widget_key("layout_idle"))
        saturation = s2.number_input(t("layout.controls.saturation_line"), min_value=0.0, max_value=MAX_HOURS_PER_YEAR,
                                     value=float(policy.saturation_hours), step=50.0, format="%g",
                                     key=widget_key("layout_saturation"))
        basis = s3.radio(t("layout.controls.basis"), L.BASES, index=L.BASES.index(L.DEFAULT_BASIS),
                         key=widget_key("layout_basis"), format_func=lambda b: t(f"layout.basis.{b}"),
                         help=t("layout.controls.basis_help"))
        st.caption(t("layout.controls.settings_note"))
    lines = LoadLines(low_use_hours=float(idle), saturation_hours=float(saturation))
    return Controls(level=int(level), zones=bool(zones), measure=measure, basis=basis, lines=lines)


# ---- labels ----------------------------------------------------------------------------------


def short_region_name(name: str) -> str:
    """A zone's name without its bracketed alias: '孪井滩生态移民示范区（原腾格里经济技术开发区）'
    -> '孪井滩生态移民示范区'; 'X Zone (formerly Y)' -> 'X Zone'."""
    return re.split(r"（| \(", str(name), maxsplit=1)[0].strip()


def region_labels(regions: pd.DataFrame, zones: bool, t: Translator) -> dict[str, str]:
    """Region code -> short display name. With zones on their own, a banner that has zones is
    labelled as the banner without them."""
    names = dict(zip(regions["code"], localised(regions, "name_zh", "name_en", t.lang).map(short_region_name)))
    if not zones:
        return names
    roll = banner_of(regions)
    with_zones = {roll[c] for c in regions["code"] if roll[c] != c}
    return {c: t("layout.region.banner_proper", name=n) if c in with_zones else n for c, n in names.items()}


def class_labels(classes: pd.DataFrame, codes, t: Translator) -> dict[str, str]:
    """Class key -> 'code name' ('01 分析仪器'); an unknown code shows alone; ALL_CLASSES -> 'all'."""
    names = dict(zip(classes["code"], localised(classes, "name_zh", "name_en", t.lang))) if not classes.empty else {}
    out = {}
    for code in codes:
        if code == L.ALL_CLASSES:
            out[code] = t("layout.all_classes")
        else:
            out[code] = f"{code} {names[code]}" if code in names else str(code)
    return out


@dataclass(frozen=True)
class Labels:
    classes: dict[str, str]
    regions: dict[str, str]

    def cls(self, code: str) -> str:
        return self.classes.get(code, str(code))

    def region(self, code: str) -> str:
        return self.regions.get(code, str(code))


def labels_for(matrix: pd.DataFrame, classes: pd.DataFrame, regions: pd.DataFrame, zones: bool, t: Translator) -> Labels:
    return Labels(class_labels(classes, list(dict.fromkeys(matrix["class_code"])), t), region_labels(regions, zones, t))


# ---- values as text --------------------------------------------------------------------------


def measure_text(measure: str, value) -> str:
    """A heatmap cell's printed value: counts and hours whole, utilisation as a percentage."""
    if value is None or pd.isna(value):
        return fmt.MISSING
    if measure == "mean_utilisation":
        return fmt.percent(float(value), 0)
    return fmt.number(float(value))


def measure_titles(t: Translator) -> dict[str, str]:
    """Display name (with unit) of each matrix figure used in charts and tables."""
    return {k: t(f"layout.col.{k}") for k in (*MATRIX_FIGURES, "class", "region")}


# ---- heatmap ---------------------------------------------------------------------------------


def heatmap_frame(matrix: pd.DataFrame, measure: str, labels: Labels) -> pd.DataFrame:
    """One row per cell for the heatmap: class and region labels, the measure's value and text,
    a text shade that stays readable on the cell's fill, and the figures shown in the tooltip."""
    value = matrix[measure].astype(float)
    if measure == "mean_utilisation":
        value = value * 100.0  # percent on the colour scale and in the tooltip
    # A fill is dark in the top 40 % of its side of the scale (the gap scale is diverging around 0,
    # each side stretched to its own extreme).
    high = float(value.clip(lower=0).max()) if value.notna().any() else 0.0
    low = float(-value.clip(upper=0).min()) if value.notna().any() else 0.0
    dark_fill = ((value > 0) & (value > 0.6 * high)) | ((value < 0) & (-value > 0.6 * low))
    return pd.DataFrame({
        "cls": matrix["class_code"].map(labels.cls).values,
        "region": matrix["region_code"].map(labels.region).values,
        "value": value.values,
        "text": [measure_text(measure, v) for v in matrix[measure]],
        "shade": ["light" if d else "dark" for d in dark_fill],
        "instruments": matrix["instruments"].values,
        "mean_utilisation": (matrix["mean_utilisation"] * 100.0).round(1).values,
        "spare_hours": matrix["spare_hours"].values,
        "demand_hours": matrix["demand_hours"].values,
        "gap_hours": matrix["gap_hours"].values,
    })


def _colour_scale(measure: str, values: pd.Series) -> alt.Scale:
    """Blues from 0 up; for the gap a diverging red–blue scale around 0, each side stretched to its
    own extreme (0 stays the neutral midpoint even when every gap has the same sign)."""
    if measure == "gap_hours":
        low = min(float(values.min()) if values.notna().any() else 0.0, 0.0)
        high = max(float(values.max()) if values.notna().any() else 0.0, 0.0)
        low, high = (low or -1.0), (high or 1.0)
        # Red where demand exceeds the spare capacity, blue where capacity is left over.
        return alt.Scale(scheme=fmt.DIVERGING_SCHEME, reverse=True, domain=[low, high], domainMid=0)
    return alt.Scale(scheme=fmt.SEQUENTIAL_SCHEME, zero=True)


# Drawn under every cell and banner: where the measure has no value (utilisation without an
# in-service instrument) Vega-Lite leaves the coloured mark out and this light grey shows.
MISSING_FILL = fmt.BLANK


def _legend_format(measure: str) -> dict:
    # Whole instruments on the legend, never 0.5 of one.
    return {"format": "d", "tickMinStep": 1} if measure == "instruments" else {}


def _colour(measure: str, field: str, values: pd.Series, title: str, legend: alt.Legend) -> alt.Color:
    return alt.Color(f"{field}:Q", title=title, scale=_colour_scale(measure, values), legend=legend)


def _tooltips(titles: dict[str, str], label_field: str, label_title: str, extra: list | None = None) -> list:
    return [
        alt.Tooltip(f"{label_field}:N", title=label_title),
        *(extra or []),
        alt.Tooltip("instruments:Q", title=titles["instruments"], format=",d"),
        alt.Tooltip("mean_utilisation:Q", title=titles["mean_utilisation"], format=",.1f"),
        alt.Tooltip("spare_hours:Q", title=titles["spare_hours"], format=",.0f"),
        alt.Tooltip("demand_hours:Q", title=titles["demand_hours"], format=",.0f"),
        alt.Tooltip("gap_hours:Q", title=titles["gap_hours"], format=",.0f"),
    ]


def heatmap(frame: pd.DataFrame, measure: str, class_order: list[str], region_order: list[str],
            titles: dict[str, str], legend_title: str) -> alt.LayerChart:
    """Class × region heatmap coloured by `measure`, each cell printed with its value."""
    base = alt.Chart(frame).encode(
        # Up to three regions (the banners) fit side by side; more (with the zones) are slanted.
        x=alt.X("region:N", sort=region_order, title=None,
                axis=alt.Axis(orient="top", labelAngle=0 if len(region_order) <= 3 else -30,
                              labelAlign="center" if len(region_order) <= 3 else "left",
                              labelLimit=220, labelFontSize=12)),
        y=alt.Y("cls:N", sort=class_order, title=None, axis=alt.Axis(labelLimit=280, labelFontSize=12)),
    )
    background = base.mark_rect(color=MISSING_FILL, stroke="white", strokeWidth=1.5)
    rects = base.mark_rect(stroke="white", strokeWidth=1.5).encode(
        color=_colour(measure, "value", frame["value"], legend_title,
                      alt.Legend(orient="bottom", direction="horizontal", gradientLength=220, titleLimit=400,
                                 **_legend_format(measure))),
        tooltip=_tooltips(titles, "cls", titles["class"], [alt.Tooltip("region:N", title=titles["region"])]),
    )
    texts = base.mark_text(fontSize=12).encode(
        text="text:N",
        color=alt.Color("shade:N", scale=alt.Scale(domain=["light", "dark"], range=["white", DARK_TEXT]), legend=None),
    )
    return alt.layer(background, rects, texts).properties(height=alt.Step(CELL_STEP), width="container")


def matrix_table(matrix: pd.DataFrame, labels: Labels, t: Translator) -> pd.DataFrame:
    """The matrix as a table with localised headers: money in 万元, utilisation in %."""
    titles = measure_titles(t)
    data = {
        "class": matrix["class_code"].map(labels.cls),
        "region": matrix["region_code"].map(labels.region),
        "instruments": matrix["instruments"],
        "value_wan": matrix["value_cny"] / WAN,
        "in_service": matrix["in_service"],
        "effective_hours": matrix["effective_hours"],
        "mean_utilisation": matrix["mean_utilisation"] * 100.0,
        "idle": matrix["idle"],
        "saturated": matrix["saturated"],
        "open_instruments": matrix["open_instruments"],
        "spare_hours": matrix["spare_hours"],
        "demand_services": matrix["demand_services"],
        "demand_hours": matrix["demand_hours"],
        "demand_local_hours": matrix["demand_local_hours"],
        "demand_elsewhere_hours": matrix["demand_elsewhere_hours"],
        "demand_amount_wan": matrix["demand_amount_cny"] / WAN,
        "gap_hours": matrix["gap_hours"],
    }
    return pd.DataFrame({titles[k]: v.values for k, v in data.items()})


def show_matrix(a: Analysis, labels: Labels, t: Translator) -> None:
    """The class × region matrix as a heatmap of the chosen measure, and as a table of every figure."""
    measure = a.controls.measure
    chart_tab, table_tab = st.tabs([t("layout.matrix.chart"), t("layout.matrix.table")])
    with chart_tab:
        frame = heatmap_frame(a.matrix, measure, labels)
        class_order = [labels.cls(c) for c in dict.fromkeys(a.matrix["class_code"])]
        region_order = [labels.region(c) for c in L.region_order(a.regions, a.controls.zones)]
        st.altair_chart(heatmap(frame, measure, class_order, region_order, measure_titles(t),
                                t(f"layout.measure.{measure}")), width="stretch")
        st.caption(t(f"layout.matrix.caption.{measure}"))
    with table_tab:
        show_table(matrix_table(a.matrix, labels, t), t, MATRIX_FIGURES)


# ---- map -------------------------------------------------------------------------------------


def map_frame(banner_matrix: pd.DataFrame, class_code: str, labels: Labels) -> pd.DataFrame:
    """The banner rows of one class (code, label and the five measures), for `layout_map`."""
    rows = banner_matrix[banner_matrix["class_code"] == class_code]
    return pd.DataFrame({
        "code": rows["region_code"].values,
        "label": rows["region_code"].map(labels.region).values,
        "instruments": rows["instruments"].values,
        "mean_utilisation": (rows["mean_utilisation"] * 100.0).round(1).values,
        "spare_hours": rows["spare_hours"].values,
        "demand_hours": rows["demand_hours"].values,
        "gap_hours": rows["gap_hours"].values,
    })


def map_features(frame: pd.DataFrame) -> list[dict]:
    """The banner outlines carrying the figures of `frame` (banners without a row get zeros)."""
    rows = frame.set_index("code").to_dict("index")
    out = []
    for feature in banner_features():
        feature = copy.deepcopy(feature)
        code = feature["properties"]["code"]
        row = rows.get(code, {})
        utilisation = row.get("mean_utilisation")
        feature["properties"].update({
            "label": row.get("label", code),
            "instruments": int(row.get("instruments", 0)),
            "mean_utilisation": None if utilisation is None or pd.isna(utilisation) else float(utilisation),
            "spare_hours": float(row.get("spare_hours", 0.0)),
            "demand_hours": float(row.get("demand_hours", 0.0)),
            "gap_hours": float(row.get("gap_hours", 0.0)),
        })
        out.append(feature)
    return out


def layout_map(frame: pd.DataFrame, measure: str, titles: dict[str, str], legend_title: str) -> alt.LayerChart:
    """Banner map coloured by `measure` of one class; banner names printed on top."""
    features = map_features(frame)
    outlines = alt.Chart(alt.Data(values=features)).mark_geoshape(color=MISSING_FILL, stroke="white", strokeWidth=1.5)
    shapes = (
        alt.Chart(alt.Data(values=features))
        .mark_geoshape(stroke="white", strokeWidth=1.5)
        .encode(
            color=_colour(measure, f"properties.{measure}", frame[measure], legend_title,
                          alt.Legend(orient="bottom-left", gradientLength=160, titleLimit=400, **_legend_format(measure))),
            tooltip=[
                alt.Tooltip("properties.label:N", title=titles["region"]),
                alt.Tooltip("properties.instruments:Q", title=titles["instruments"], format=",d"),
                alt.Tooltip("properties.mean_utilisation:Q", title=titles["mean_utilisation"], format=",.1f"),
                alt.Tooltip("properties.spare_hours:Q", title=titles["spare_hours"], format=",.0f"),
                alt.Tooltip("properties.demand_hours:Q", title=titles["demand_hours"], format=",.0f"),
                alt.Tooltip("properties.gap_hours:Q", title=titles["gap_hours"], format=",.0f"),
            ],
        )
    )
    names = pd.DataFrame([
        {"label": f["properties"]["label"], "value": measure_text(measure, _as_ratio(measure, f["properties"][measure])),
         "lon": f["properties"]["centroid"][0], "lat": f["properties"]["centroid"][1]}
        for f in features
    ])
    # Each banner's name with the measure's value below it; dark text on a white halo reads on
    # light and dark fills alike.
    layers = [outlines, shapes]
    for field, dy, size in (("label", -14, 13), ("value", 4, 14)):
        base = alt.Chart(names).encode(longitude="lon:Q", latitude="lat:Q", text=f"{field}:N")
        style = {"fontSize": size, "fontWeight": "bold", "dy": dy}
        layers += [base.mark_text(color="white", stroke="white", strokeWidth=4, strokeJoin="round", **style),
                   base.mark_text(color=DARK_TEXT, **style)]
    return (
        alt.layer(*layers)
        .project(type="mercator")
        .properties(height=charts.MAP_HEIGHT, width="container")
        .configure_view(stroke=None)
    )


def _as_ratio(measure: str, value):
    """Map properties carry utilisation in percent; measure_text wants the ratio."""
    if measure == "mean_utilisation" and value is not None:
        return value / 100.0
    return value


# ---- findings --------------------------------------------------------------------------------


def _cell_findings_table(rows: pd.DataFrame, labels: Labels, t: Translator, measures: tuple[str, ...]) -> pd.DataFrame:
    """A findings table keyed by class and region, with the given matrix measures as columns
    (demand_amount_wan is computed from demand_amount_cny)."""
    titles = measure_titles(t)
    columns = {
        titles["class"]: rows["class_code"].map(labels.cls).values,
        titles["region"]: rows["region_code"].map(labels.region).values,
    }
    for measure in measures:
        values = rows["demand_amount_cny"] / WAN if measure == "demand_amount_wan" else rows[measure]
        columns[titles[measure]] = values.values
    return pd.DataFrame(columns)


def over_capacity_table(rows: pd.DataFrame, labels: Labels, t: Translator) -> pd.DataFrame:
    """Finding (a) with its evidence: demand, where it was served, spare capacity, gap."""
    return _cell_findings_table(rows, labels, t, (
        "demand_services", "demand_hours", "demand_local_hours", "demand_elsewhere_hours", "instruments",
        "open_instruments", "saturated", "spare_hours", "gap_hours"))


def no_instrument_table(rows: pd.DataFrame, labels: Labels, t: Translator) -> pd.DataFrame:
    """Finding (c): demand where the class has no instrument at all."""
    return _cell_findings_table(rows, labels, t, ("demand_services", "demand_hours", "demand_amount_wan"))


def idle_groups(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per group of finding (b): class, banner, idle instruments, holders, hours, value."""
    if rows.empty:
        return pd.DataFrame(columns=["class_code", "banner_code", "group_size", "holders", "group_hours", "group_value_cny"])
    grouped = rows.groupby(["class_code", "banner_code"], sort=False).agg(
        group_size=("id", "size"), holders=("unit_name", "nunique"), group_hours=("effective_hours", "sum"),
        group_value_cny=("original_value", "sum")).reset_index()
    return grouped


def idle_group_table(rows: pd.DataFrame, labels: Labels, classes: pd.DataFrame, t: Translator) -> pd.DataFrame:
    groups = idle_groups(rows)
    middle = class_labels(classes, list(groups["class_code"]), t)
    return pd.DataFrame({
        t("layout.col.middle_class"): groups["class_code"].map(middle).values,
        t("layout.col.banner"): groups["banner_code"].map(labels.region).values,
        t("layout.col.idle_instruments"): groups["group_size"].values,
        t("layout.col.holders"): groups["holders"].values,
        t("layout.col.group_hours"): groups["group_hours"].values,
        t("layout.col.group_value_wan"): (groups["group_value_cny"] / WAN).values,
    })


def idle_instrument_table(rows: pd.DataFrame, labels: Labels, classes: pd.DataFrame, region_names: dict[str, str],
                          t: Translator) -> pd.DataFrame:
    """Every instrument of finding (b), with its group, holder, place and hours."""
    middle = class_labels(classes, list(dict.fromkeys(rows["class_code"])), t)
    return pd.DataFrame({
        t("layout.col.middle_class"): rows["class_code"].map(middle).values,
        t("layout.col.banner"): rows["banner_code"].map(labels.region).values,
        t("layout.col.name"): localised(rows, "name_zh", "name_en", t.lang).values,
        t("layout.col.inner_id"): rows["inner_id"].values,
        t("layout.col.holder"): localised(rows, "unit_name", "unit_name_en", t.lang).values,
        t("layout.col.location"): rows["region_code"].map(region_names).values,
        t("layout.col.share_mode"): rows["share_mode"].map(lambda v: t.enum("share_mode", v)).values,
        t("layout.col.effective_hours"): rows["effective_hours"].values,
        t("layout.col.utilisation"): (rows["utilisation"] * 100.0).values,
        t("layout.col.original_value_wan"): (rows["original_value"] / WAN).values,
    })


# ---- drill-down ------------------------------------------------------------------------------


def cell_instrument_table(rows: pd.DataFrame, region_names: dict[str, str], t: Translator) -> pd.DataFrame:
    """The instruments of a cell with their load and spare capacity."""
    return pd.DataFrame({
        t("layout.col.name"): localised(rows, "name_zh", "name_en", t.lang).values,
        t("layout.col.inner_id"): rows["inner_id"].values,
        t("layout.col.holder"): localised(rows, "unit_name", "unit_name_en", t.lang).values,
        t("layout.col.location"): rows["region_code"].map(region_names).values,
        t("layout.col.share_mode"): rows["share_mode"].map(lambda v: t.enum("share_mode", v)).values,
        t("layout.col.status"): rows["status"].map(lambda v: t.enum("status", v)).values,
        t("layout.col.effective_hours"): rows["effective_hours"].values,
        t("layout.col.external_hours"): rows["external_hours"].values,
        t("layout.col.utilisation"): (rows["utilisation"] * 100.0).values,
        t("layout.col.load"): [t(f"layout.load.{v}") if s else t("layout.load.out_of_service")
                               for v, s in zip(rows["load"], rows["in_service"])],
        t("layout.col.spare_hours"): rows["spare_hours"].values,
        t("layout.col.original_value_wan"): (rows["original_value"] / WAN).values,
    })


def serving_table(summary: L.CellDemand, labels: Labels, t: Translator) -> pd.DataFrame:
    """Where the cell's clients were served: services, hours, amount, clients per serving region."""
    split = summary.by_serving_region
    return pd.DataFrame({
        t("layout.col.serving_region"): split["serving_region"].map(labels.region).values,
        t("layout.col.demand_services"): split["services"].values,
        t("layout.col.demand_hours"): split["hours"].values,
        t("layout.col.demand_amount_wan"): (split["amount_cny"] / WAN).values,
        t("layout.col.clients"): split["clients"].values,
    })


def choose_class(options: list[str], labels: dict[str, str], t: Translator) -> str:
    return st.selectbox(t("layout.focus.class"), options, key=widget_key("layout_class"),
                        format_func=lambda c: labels.get(c, c))


def choose_region(options: list[str], labels: Labels, t: Translator) -> str:
    return st.selectbox(t("layout.focus.region"), options, key=widget_key("layout_region"),
                        format_func=labels.region)


def show_table(frame: pd.DataFrame, t: Translator, number_keys: tuple[str, ...]) -> None:
    """A table whose `number_keys` columns (layout.col.<key> headers) get their display format."""
    config = {t(f"layout.col.{key}"): st.column_config.NumberColumn(format=TABLE_FORMATS[key]) if key in TABLE_FORMATS
              else number_column(fmt.table_decimals(key)) for key in number_keys}
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)


# ---- summary cards and definitions ------------------------------------------------------------


def summary_cards(a: Analysis, t: Translator) -> list[tuple[str, str, str]]:
    """(label, value, help) of the four headline cards; each help gives the formula of the
    definitions table (lines and demand basis in force), then the card's scope in numbers."""
    by_scope = L.demand_scope_totals(a.demand).set_index("client_scope")
    groups = idle_groups(a.idle_rows)
    formulas = definitions_table(t, a.controls.lines, basis=a.controls.basis).set_index(
        t("layout.def.figure"))[t("layout.def.formula")]

    def formula(definition: str) -> str:
        return formulas[t(f"layout.def.{definition}.label")] + "\n\n"

    return [
        (t("layout.card.over"), fmt.number(len(a.over)),
         formula("finding_a") + t("layout.card.over_help", cells=fmt.number(len(a.matrix)))),
        (t("layout.card.idle_groups"), fmt.number(len(groups)),
         formula("finding_b") + t("layout.card.idle_groups_help", instruments=fmt.number(len(a.idle_rows)))),
        (t("layout.card.spare"), fmt.hours(float(a.matrix["spare_hours"].sum()), t),
         formula("spare_hours") + t("layout.card.spare_help", open=fmt.number(int(a.matrix["open_instruments"].sum())))),
        (t("layout.card.demand"), fmt.hours(float(by_scope.loc["league", "hours"]), t),
         formula("demand") + t("layout.card.demand_help", services=fmt.number(int(by_scope.loc["league", "services"])),
                               outside=fmt.number(float(by_scope.loc["outside", "hours"])),
                               unknown=fmt.number(float(by_scope.loc["unknown", "hours"])))),
    ]


def show_cards(cards: list[tuple[str, str, str]]) -> None:
    for column, (label, value, help_text) in zip(st.columns(len(cards)), cards):
        column.metric(label, value, help=help_text or None, border=True, height="stretch")


def definitions_table(
    t: Translator, lines: LoadLines, policy: P.PolicyDefaults = P.DEFAULTS, basis: str = L.DEFAULT_BASIS
) -> pd.DataFrame:
    """Figure, formula (quoting the lines and the demand basis in force), unit and source of
    everything the page shows."""
    params = {
        "low_use": f"{lines.low_use_hours:g}", "saturation": f"{lines.saturation_hours:g}",
        "general": f"{policy.rated_hours_general:g}", "special": f"{policy.rated_hours_special:g}",
        "hours": t(f"layout.def.demand.hours.{basis}"),
    }
    return pd.DataFrame({
        t("layout.def.figure"): [t(f"layout.def.{d}.label") for d in DEFINITION_IDS],
        t("layout.def.formula"): [t(f"layout.def.{d}.formula", **params) for d in DEFINITION_IDS],
        t("layout.def.unit"): [t(f"layout.def.{d}.unit") for d in DEFINITION_IDS],
        t("layout.def.source"): [t(f"layout.def.{d}.source") for d in DEFINITION_IDS],
    })


# ---- page sections ---------------------------------------------------------------------------

OVER_FIGURES = ("demand_services", "demand_hours", "demand_local_hours", "demand_elsewhere_hours", "instruments",
                "open_instruments", "saturated", "spare_hours", "gap_hours")
UNCOVERED_FIGURES = ("demand_services", "demand_hours", "demand_amount_wan")
IDLE_GROUP_FIGURES = ("idle_instruments", "holders", "group_hours", "group_value_wan")
IDLE_INSTRUMENT_FIGURES = ("effective_hours", "utilisation", "original_value_wan")
CELL_FIGURES = ("effective_hours", "external_hours", "utilisation", "spare_hours", "original_value_wan")
SERVING_FIGURES = ("demand_services", "demand_hours", "demand_amount_wan", "clients")


@dataclass(frozen=True)
class Analysis:
    """Everything the page derives from one year's frames under one set of controls."""

    annual: pd.DataFrame
    services: pd.DataFrame
    regions: pd.DataFrame
    classes: pd.DataFrame
    controls: Controls
    matrix: pd.DataFrame
    demand: pd.DataFrame
    over: pd.DataFrame
    idle_rows: pd.DataFrame
    uncovered: pd.DataFrame


def analyse(annual: pd.DataFrame, services: pd.DataFrame, regions: pd.DataFrame, classes: pd.DataFrame,
            c: Controls) -> Analysis:
    matrix = L.class_region_matrix(annual, services, regions, c.lines, c.level, c.zones, c.basis)
    return Analysis(
        annual=annual, services=services, regions=regions, classes=classes, controls=c, matrix=matrix,
        demand=L.external_demand(services, annual, regions, c.level, c.zones, c.basis),
        over=L.demand_over_capacity(matrix),
        idle_rows=L.idle_side_by_side(annual, regions, c.lines),
        uncovered=L.demand_without_instruments(matrix),
    )


def _finding(title: str, caption: str, empty_text: str, rows: pd.DataFrame, show) -> None:
    st.subheader(title)
    st.caption(caption)
    if rows.empty:
        st.success(empty_text, icon=":material/check_circle:")
    else:
        show()


def show_findings(a: Analysis, labels: Labels, t: Translator) -> None:
    """The three findings, each with its evidence table or a line saying there is none."""
    banner_labels = Labels({}, region_labels(a.regions, False, t))
    full_names = dict(zip(a.regions["code"], localised(a.regions, "name_zh", "name_en", t.lang)))

    def idle_tables() -> None:
        show_table(idle_group_table(a.idle_rows, banner_labels, a.classes, t), t, IDLE_GROUP_FIGURES)
        with st.expander(t("layout.finding.b.instruments", count=len(a.idle_rows)), icon=":material/list:"):
            show_table(idle_instrument_table(a.idle_rows, banner_labels, a.classes, full_names, t), t,
                       IDLE_INSTRUMENT_FIGURES)

    _finding(t("layout.finding.a.title"), t("layout.finding.a.caption"), t("layout.finding.a.none"), a.over,
             lambda: show_table(over_capacity_table(a.over, labels, t), t, OVER_FIGURES))
    _finding(t("layout.finding.b.title"), t("layout.finding.b.caption", low_use=f"{a.controls.lines.low_use_hours:g}"),
             t("layout.finding.b.none"), a.idle_rows, idle_tables)
    _finding(t("layout.finding.c.title"), t("layout.finding.c.caption"), t("layout.finding.c.none"), a.uncovered,
             lambda: show_table(no_instrument_table(a.uncovered, labels, t), t, UNCOVERED_FIGURES))


def show_focus(a: Analysis, labels: Labels, t: Translator) -> None:
    """One class on the banner map, and one cell (that class × a region) in detail."""
    c = a.controls
    st.subheader(t("layout.focus.title"))
    class_options = [L.ALL_CLASSES, *dict.fromkeys(a.matrix["class_code"])]
    focus_labels = class_labels(a.classes, class_options, t)
    col1, col2 = st.columns(2)
    with col1:
        chosen_class = choose_class(class_options, focus_labels, t)
    with col2:
        chosen_region = choose_region(L.region_order(a.regions, c.zones), labels, t)
    level = 0 if chosen_class == L.ALL_CLASSES else c.level
    measure_name = t(f"layout.measure.{c.measure}")

    banners = L.class_region_matrix(a.annual, a.services, a.regions, c.lines, level, False, c.basis)
    banner_labels = Labels(focus_labels, region_labels(a.regions, False, t))
    st.altair_chart(layout_map(map_frame(banners, chosen_class, banner_labels), c.measure, measure_titles(t),
                               measure_name), width="stretch")
    st.caption(t("layout.map.caption", measure=measure_name, cls=focus_labels[chosen_class]))

    heading = {"cls": focus_labels[chosen_class], "region": labels.region(chosen_region)}
    full_names = dict(zip(a.regions["code"], localised(a.regions, "name_zh", "name_en", t.lang)))
    cell = L.cell_instruments(a.annual, a.regions, chosen_class, chosen_region, c.lines, level, c.zones)
    st.markdown(t("layout.drill.instruments", count=fmt.number(len(cell)), **heading))
    if cell.empty:
        st.info(t("layout.drill.no_instruments"), icon=":material/info:")
    else:
        show_table(cell_instrument_table(cell, full_names, t), t, CELL_FIGURES)

    demand = a.demand if level == c.level else L.external_demand(a.services, a.annual, a.regions, level, c.zones, c.basis)
    summary = L.cell_demand(demand, chosen_class, chosen_region)
    st.markdown(t("layout.drill.demand", services=fmt.number(summary.services), hours=fmt.number(summary.hours),
                  amount=fmt.money(summary.amount_cny, t), clients=fmt.number(summary.clients), **heading))
    if summary.services == 0:
        st.info(t("layout.drill.no_demand"), icon=":material/info:")
    else:
        show_table(serving_table(summary, labels, t), t, SERVING_FIGURES)
