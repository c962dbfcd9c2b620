"""What the data-quality page shows, shaped for display: the headline cards, the definitions
table, the timeliness summary and unit × month grid, the completeness tables, the anomaly list and
the "nominally open" candidates (and, apart, the instruments not judged for lack of usage reports); plus the widgets (report kind, medal lines, anomaly rule,
external-share ratio) and the render helpers.

The frame builders are pure (rule results in, labelled frames out) so their output can be checked
by hand; the rules themselves are in dashboard.quality.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import quality as Q
from dashboard.i18n import Translator
from dashboard.policy import DEFAULTS, PolicyDefaults
from dashboard import formatting as fmt
from dashboard.ui.context import widget_key
from dashboard.ui.labels import localised

CARDS_PER_ROW = 3
ALL_RULES = "all"
# Grid colours from the shared colour-blind-safe palette (no red against green): blue on time,
# orange late, dark red missing, grey not yet due.
STATUS_COLOURS = {Q.ON_TIME: fmt.PRIMARY, Q.LATE: fmt.ACCENT, Q.MISSING: fmt.ALERT, Q.NOT_DUE: fmt.MUTED}
GRID_LABEL_PX = 380  # room for the longest English unit names (the tooltip has the full name)
GRID_ROW_PX = 24  # a fixed band per unit: the grid grows with the units and no name is skipped
GRID_MAX_UNITS = 40  # the grid shows the units with the worst record first; the table lists all
CSV_MIME = "text/csv"


# ---------------------------------------------------------------------------------- shared


def percent_number(ratio: pd.Series) -> pd.Series:
    """Ratios as percentages rounded to 0.1 (shown with a % sign by the table's column format)."""
    return (ratio.astype(float) * 100).round(1)


def month_label(month, t: Translator) -> str:
    """'3月' / 'Mar'; an annual report (month <NA>) 'annual'."""
    return t("quality.month.annual") if pd.isna(month) else t(f"quality.month.{int(month)}")


def count_text(value) -> str:
    """A whole count as text, '—' when there is none (an empty cell reads better than 'None')."""
    return fmt.MISSING if pd.isna(value) else fmt.number(float(value))


def period_label(year: int, month) -> str:
    """'2025-03' for a month, '2025' for a year (language-neutral)."""
    return f"{int(year)}" if pd.isna(month) else f"{int(year)}-{int(month):02d}"


def percent_columns(frame: pd.DataFrame, t: Translator, keys: tuple[str, ...]) -> dict:
    """column_config showing the given (already translated) percent columns with one decimal."""
    return {t(k): st.column_config.NumberColumn(format="%.1f%%") for k in keys if t(k) in frame}


def download(label: str, frame: pd.DataFrame, file_name: str, key: str) -> None:
    st.download_button(label, data=Q.frame_csv(frame), file_name=file_name, mime=CSV_MIME, key=key,
                       on_click="ignore", icon=":material/download:")


# ---------------------------------------------------------------------------------- headline


@dataclass(frozen=True)
class Headline:
    never_reported: int
    late: int
    missing: int
    overall_share: float | None
    anomalies: int
    candidates: int
    set_aside: int = 0  # declared-open instruments not judged: no usage reported in the year


def headline(summary: pd.DataFrame, complete: pd.DataFrame, found: pd.DataFrame, candidates: pd.DataFrame,
             set_aside: pd.DataFrame | None = None) -> Headline:
    """Counts for the cards: units that never reported, late and missing reports (of the chosen
    kind), the league-wide share of filled national fields, anomaly hits and candidates (the
    set-aside, non-reporting instruments are not candidates; their count goes in the card's help)."""
    cells = complete["required_cells"].sum() + complete["recommended_cells"].sum() if not complete.empty else 0
    filled = complete["required_filled"].sum() + complete["recommended_filled"].sum() if not complete.empty else 0
    return Headline(
        never_reported=int(summary["never_reported"].sum()) if not summary.empty else 0,
        late=int(summary["late"].sum()) if not summary.empty else 0,
        missing=int(summary["missing"].sum()) if not summary.empty else 0,
        overall_share=float(filled / cells) if cells else None,
        anomalies=len(found),
        candidates=len(candidates),
        set_aside=0 if set_aside is None else len(set_aside),
    )


def headline_cards(h: Headline, kind: str, t: Translator) -> list[tuple[str, str, str]]:
    """(label, value, help) of each card."""
    kind_name = t(f"quality.kind.{kind}")
    return [
        (t("quality.card.never_reported"), fmt.number(h.never_reported), t("quality.card.never_reported.help", kind=kind_name)),
        (t("quality.card.late"), fmt.number(h.late), t("quality.card.late.help", kind=kind_name)),
        (t("quality.card.missing"), fmt.number(h.missing), t("quality.card.missing.help", kind=kind_name)),
        (t("quality.card.completeness"), fmt.percent(h.overall_share), t("quality.card.completeness.help")),
        (t("quality.card.anomalies"), fmt.number(h.anomalies), t("quality.card.anomalies.help")),
        (t("quality.card.candidates"), fmt.number(h.candidates), t("quality.card.candidates.help", set_aside=h.set_aside)),
    ]


def show_cards(cards: list[tuple[str, str, str]]) -> None:
    for start in range(0, len(cards), CARDS_PER_ROW):
        for column, (label, value, help_text) in zip(st.columns(CARDS_PER_ROW), cards[start:start + CARDS_PER_ROW]):
            column.metric(label, value, help=help_text or None, border=True, height="stretch")


DEFINITION_IDS = ("on_time", "late", "missing", "expected", "completeness", "medal",
                  *(f"rule.{r}" for r in Q.RULES), "nominal")


def definitions_table(t: Translator, lines: Q.MedalLines, ratio: float, policy: PolicyDefaults = DEFAULTS) -> pd.DataFrame:
    """Item, rule (quoting the thresholds in force) and source of every check on the page."""
    params = {
        "due_day": policy.report_due_day,
        "gold": fmt.trimmed(lines.gold * 100, 1), "silver": fmt.trimmed(lines.silver * 100, 1),
        "bronze": fmt.trimmed(lines.bronze * 100, 1),
        "floor": fmt.money(policy.census_floor_cny, t), "ratio": fmt.trimmed(ratio * 100, 1),
        "required": len(Q.REQUIRED_FIELDS), "recommended": len(Q.RECOMMENDED_FIELDS),
    }
    return pd.DataFrame({
        t("quality.def.item"): [t(f"quality.def.{i}.item") for i in DEFINITION_IDS],
        t("quality.def.rule"): [t(f"quality.def.{i}.rule", **params) for i in DEFINITION_IDS],
        t("quality.def.source"): [t(f"quality.def.{i}.source") for i in DEFINITION_IDS],
    })


# ---------------------------------------------------------------------------------- timeliness


def available_kinds(status: pd.DataFrame) -> list[str]:
    """Report kinds present in the status rows, in REPORT_KINDS order (usage when there is none)."""
    present = set(status["kind"]) if not status.empty else set()
    kinds = [k for k in Q.REPORT_KINDS if k in present]
    return kinds or [Q.USAGE_KIND]


def read_kind(kinds: list[str], t: Translator) -> str:
    """The report kind to look at; a choice only when there is more than one."""
    if len(kinds) == 1:
        return kinds[0]
    return st.radio(t("quality.timeliness.kind"), kinds, key=widget_key("quality_kind"), horizontal=True,
                    format_func=lambda k: t(f"quality.kind.{k}"))


def summary_frame(summary: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """The per-unit timeliness summary with localised headers (percent columns as numbers)."""
    return pd.DataFrame({
        t("quality.col.unit"): localised(summary, "name", "name_en", t.lang).values,
        t("quality.col.never_reported"): summary["never_reported"].map(
            lambda v: t("quality.yes") if v else t("quality.no")).values,
        t("quality.col.due"): summary["due"].values,
        t("quality.col.on_time"): summary["on_time"].values,
        t("quality.col.late"): summary["late"].values,
        t("quality.col.missing"): summary["missing"].values,
        t("quality.col.not_due"): summary["not_due"].values,
        t("quality.col.on_time_share"): percent_number(summary["on_time_share"]).values,
        t("quality.col.max_days_late"): summary["max_days_late"].map(count_text).values,
    })


def status_frame(status: pd.DataFrame, summary: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """Every report of the chosen kind, one row each, in the summary's unit order (for download)."""
    order = {uid: i for i, uid in enumerate(summary["unit_id"])}
    rows = status[status["unit_id"].isin(order)].copy()
    rows["_o"] = rows["unit_id"].map(order)
    rows = rows.sort_values(["_o"], kind="stable")
    names = summary.set_index("unit_id")
    unit = rows["unit_id"].map(localised(names, "name", "name_en", t.lang))
    return pd.DataFrame({
        t("quality.col.unit"): unit.values,
        t("quality.col.period"): [period_label(y, m) for y, m in zip(rows["year"], rows["month"])],
        t("quality.col.due_date"): rows["due_date"].dt.strftime("%Y-%m-%d").values,
        t("quality.col.submitted_date"): rows["submitted_local_date"].dt.strftime("%Y-%m-%d").fillna("").values,
        t("quality.col.status"): rows["status"].map(lambda s: t(f"quality.status.{s}")).values,
        t("quality.col.days_late"): rows["days_late"].map(count_text).values,
    })


def grid_frame(status: pd.DataFrame, summary: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """The unit × month grid data: unit, period (month label), status label, order keys and
    tooltip texts. Rows in the summary's unit order."""
    detail = status_frame(status, summary, t)
    order = {uid: i for i, uid in enumerate(summary["unit_id"])}
    rows = status[status["unit_id"].isin(order)].copy()
    rows["_o"] = rows["unit_id"].map(order)
    rows = rows.sort_values(["_o"], kind="stable")
    return pd.DataFrame({
        "unit": detail[t("quality.col.unit")].values,
        "period": [month_label(m, t) for m in rows["month"]],
        "month_order": rows["month"].fillna(13).astype(int).values,
        "status": detail[t("quality.col.status")].values,
        "due_date": detail[t("quality.col.due_date")].values,
        "submitted": detail[t("quality.col.submitted_date")].values,
        "days_late": rows["days_late"].astype("float").values,
    })


def status_grid(grid: pd.DataFrame, t: Translator) -> alt.Chart:
    """Heat map: units down, months across, cells coloured by report status."""
    units = list(dict.fromkeys(grid["unit"]))
    periods = list(dict.fromkeys(grid.sort_values("month_order", kind="stable")["period"]))
    labels = [t(f"quality.status.{s}") for s in Q.STATUSES]
    colours = [STATUS_COLOURS[s] for s in Q.STATUSES]
    return (
        alt.Chart(grid)
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("period:O", sort=periods, title=None, axis=alt.Axis(orient="top", labelAngle=0)),
            y=alt.Y("unit:N", sort=units, title=None, axis=alt.Axis(labelLimit=GRID_LABEL_PX, labelOverlap=False)),
            color=alt.Color("status:N", title=None,
                            scale=alt.Scale(domain=labels, range=colours), legend=alt.Legend(orient="top")),
            tooltip=[
                alt.Tooltip("unit:N", title=t("quality.col.unit")),
                alt.Tooltip("period:O", title=t("quality.col.period")),
                alt.Tooltip("status:N", title=t("quality.col.status")),
                alt.Tooltip("due_date:N", title=t("quality.col.due_date")),
                alt.Tooltip("submitted:N", title=t("quality.col.submitted_date")),
                alt.Tooltip("days_late:Q", title=t("quality.col.days_late")),
            ],
        )
        .properties(height=alt.Step(GRID_ROW_PX), width="container")
    )


def show_timeliness(status: pd.DataFrame, summary: pd.DataFrame, kind: str, year: int, t: Translator) -> None:
    if summary.empty:
        st.info(t("quality.timeliness.none", kind=t(f"quality.kind.{kind}")), icon=":material/event_busy:")
        return
    st.markdown(t("quality.timeliness.lead", kind=t(f"quality.kind.{kind}"), units=len(summary),
                  never=int(summary["never_reported"].sum())))
    table = summary_frame(summary, t)
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config=percent_columns(table, t, ("quality.col.on_time_share",)))
    st.subheader(t("quality.timeliness.grid"))
    rows = status[status["kind"] == kind]
    st.altair_chart(status_grid(grid_frame(rows, summary.head(GRID_MAX_UNITS), t), t), width="stretch")
    if len(summary) > GRID_MAX_UNITS:
        st.caption(t("quality.timeliness.grid_cut", shown=GRID_MAX_UNITS, total=len(summary)))
    c1, c2 = st.columns(2)
    with c1:
        download(t("quality.download.summary"), table, f"reporting_summary_{kind}_{year}.csv", "quality_dl_summary")
    with c2:
        download(t("quality.download.status"), status_frame(rows, summary, t), f"reporting_status_{kind}_{year}.csv",
                 "quality_dl_status")


# ---------------------------------------------------------------------------------- completeness


def read_medal_lines(t: Translator) -> Q.MedalLines:
    """Medal lines in %, editable; each line is kept no higher than the one above it."""
    base = Q.MedalLines()
    c1, c2, c3 = st.columns(3)
    gold = c1.number_input(t("quality.medal.line.gold"), 0.0, 100.0, base.gold * 100, 1.0, format="%.0f",
                           key=widget_key("quality_gold"))
    silver = c2.number_input(t("quality.medal.line.silver"), 0.0, 100.0, base.silver * 100, 1.0, format="%.0f",
                             key=widget_key("quality_silver"))
    bronze = c3.number_input(t("quality.medal.line.bronze"), 0.0, 100.0, base.bronze * 100, 1.0, format="%.0f",
                             key=widget_key("quality_bronze"))
    silver = min(silver, gold)
    bronze = min(bronze, silver)
    return Q.MedalLines(gold=gold / 100, silver=silver / 100, bronze=bronze / 100)


def medal_label(medal: str, t: Translator) -> str:
    return t(f"quality.medal.{medal}")


def field_label(key: str, t: Translator) -> str:
    return t(f"registry.field.{key}")


def completeness_frame(complete: pd.DataFrame, t: Translator) -> pd.DataFrame:
    sep = t("quality.list_separator")
    return pd.DataFrame({
        t("quality.col.unit"): localised(complete, "name", "name_en", t.lang).values,
        t("quality.col.instruments"): complete["instruments"].values,
        t("quality.col.required_share"): percent_number(complete["required_share"]).values,
        t("quality.col.recommended_share"): percent_number(complete["recommended_share"]).values,
        t("quality.col.overall_share"): percent_number(complete["overall_share"]).values,
        t("quality.col.medal"): complete["medal"].map(lambda m: medal_label(m, t)).values,
        t("quality.col.top_missing"): complete["top_missing"].map(
            lambda keys: sep.join(field_label(k, t) for k in keys)).values,
    })


def fields_frame(fields: pd.DataFrame, t: Translator) -> pd.DataFrame:
    return pd.DataFrame({
        t("quality.col.field"): fields["field"].map(lambda k: field_label(k, t)).values,
        t("quality.col.field_kind"): fields["required"].map(
            lambda r: t("quality.field.required") if r else t("quality.field.recommended")).values,
        t("quality.col.missing_instruments"): fields["missing"].values,
        t("quality.col.missing_share"): percent_number(fields["missing_share"]).values,
    })


def medal_counts(complete: pd.DataFrame, t: Translator) -> str:
    counts = complete["medal"].value_counts() if not complete.empty else pd.Series(dtype="int64")
    parts = [t("quality.medal.count", medal=medal_label(m, t), count=int(counts.get(m, 0))) for m in Q.MEDALS]
    return t("quality.list_separator").join(parts)


def show_completeness(complete: pd.DataFrame, fields: pd.DataFrame, year: int, t: Translator) -> None:
    if complete.empty:
        st.info(t("quality.completeness.none"), icon=":material/inventory_2:")
        return
    st.markdown(medal_counts(complete, t))
    table = completeness_frame(complete, t)
    st.dataframe(table, hide_index=True, width="stretch", column_config=percent_columns(
        table, t, ("quality.col.required_share", "quality.col.recommended_share", "quality.col.overall_share")))
    download(t("quality.download.completeness"), table, f"completeness_{year}.csv", "quality_dl_completeness")
    st.subheader(t("quality.completeness.fields"))
    if fields.empty:
        st.success(t("quality.completeness.all_filled"), icon=":material/check_circle:")
        return
    ftable = fields_frame(fields, t)
    st.dataframe(ftable, hide_index=True, width="stretch",
                 column_config=percent_columns(ftable, t, ("quality.col.missing_share",)))


# ---------------------------------------------------------------------------------- anomalies


def hours_text(value: float, t: Translator) -> str:
    """Hours with up to two decimals, so 744.5 h is never shown as the 744 h it exceeds."""
    return fmt.MISSING if pd.isna(value) else t("format.hours", value=fmt.trimmed(float(value), 2))


def anomaly_detail(row: pd.Series, t: Translator) -> str:
    """The rule hit in words, with the value and the limit: 'effective 800 h > month 672 h'."""
    rule = row["rule"]
    if rule == Q.RULE_BELOW_CENSUS_FLOOR:
        value, limit = fmt.money(row["value"], t), fmt.money(row["limit"], t)
    else:
        value, limit = hours_text(row["value"], t), hours_text(row["limit"], t)
    start = row["start_date"].strftime("%Y-%m-%d") if pd.notna(row["start_date"]) else fmt.MISSING
    return t(f"quality.detail.{rule}", value=value, limit=limit, start=start)


def counts_frame(counts: pd.DataFrame, t: Translator) -> pd.DataFrame:
    return pd.DataFrame({
        t("quality.col.rule"): counts["rule"].map(lambda r: t(f"quality.rule.{r}")).values,
        t("quality.col.hits"): counts["hits"].values,
        t("quality.col.instruments"): counts["instruments"].values,
    })


def anomaly_frame(found: pd.DataFrame, t: Translator, numbers: bool = False) -> pd.DataFrame:
    """The anomaly list as shown; with `numbers` (the download) value and limit also as plain
    numbers (hours, or CNY for the census floor)."""
    frame = pd.DataFrame({
        t("quality.col.rule"): found["rule"].map(lambda r: t(f"quality.rule.{r}")).values,
        t("quality.col.unit"): localised(found, "unit_name", "unit_name_en", t.lang).values,
        t("quality.col.instrument"): localised(found, "name_zh", "name_en", t.lang).values,
        t("quality.col.inner_id"): found["inner_id"].values,
        t("quality.col.period"): [period_label(y, m) for y, m in zip(found["year"], found["month"])],
        t("quality.col.detail"): [anomaly_detail(row, t) for _, row in found.iterrows()],
    })
    if numbers:
        frame[t("quality.col.value")] = found["value"].round(2).values
        frame[t("quality.col.limit")] = found["limit"].round(2).values
    return frame


def read_rule(counts: pd.DataFrame, t: Translator) -> str:
    """The rule to list: all rules, or one rule that has hits."""
    options = [ALL_RULES] + [r for r, n in zip(counts["rule"], counts["hits"]) if n > 0]
    return st.selectbox(t("quality.anomalies.rule"), options, key=widget_key("quality_rule"),
                        format_func=lambda r: t("quality.anomalies.all") if r == ALL_RULES else t(f"quality.rule.{r}"))


def show_anomalies(found: pd.DataFrame, year: int, t: Translator) -> None:
    counts = Q.anomaly_counts(found)
    st.dataframe(counts_frame(counts, t), hide_index=True, width="stretch")
    if found.empty:
        st.success(t("quality.anomalies.none", year=year), icon=":material/check_circle:")
        return
    rule = read_rule(counts, t)
    shown = found if rule == ALL_RULES else found[found["rule"] == rule]
    st.markdown(t("quality.anomalies.count", shown=len(shown), total=len(found)))
    shown = shown.reset_index(drop=True)
    st.dataframe(anomaly_frame(shown, t), hide_index=True, width="stretch")
    download(t("quality.download.anomalies"), anomaly_frame(shown, t, numbers=True), f"anomalies_{year}.csv",
             "quality_dl_anomalies")


# ---------------------------------------------------------------------------------- nominally open


def read_ratio(t: Translator) -> float:
    """The 'far below' line: external hours under this share of internal hours (in %)."""
    value = st.number_input(t("quality.nominal.ratio"), 0.0, 100.0, Q.DEFAULT_MAX_EXTERNAL_RATIO * 100, 1.0,
                            format="%.0f", key=widget_key("quality_ratio"), help=t("quality.nominal.ratio_help"))
    return value / 100


def reasons_text(row: pd.Series, t: Translator) -> str:
    sep = t("quality.list_separator")
    return sep.join(t(f"quality.reason.{r}") for r in Q.REASONS if row[r])


def candidates_frame(candidates: pd.DataFrame, t: Translator) -> pd.DataFrame:
    return pd.DataFrame({
        t("quality.col.unit"): localised(candidates, "unit_name", "unit_name_en", t.lang).values,
        t("quality.col.instrument"): localised(candidates, "name_zh", "name_en", t.lang).values,
        t("quality.col.reasons"): [reasons_text(row, t) for _, row in candidates.iterrows()],
        t("quality.col.months_reported"): candidates["months_reported"].values,
        t("quality.col.external_records"): candidates["external_records"].values,
        t("quality.col.effective_hours"): candidates["effective_hours"].round(1).values,
        t("quality.col.internal_hours"): candidates["internal_hours"].round(1).values,
        t("quality.col.external_hours"): candidates["external_hours"].round(1).values,
        t("quality.col.external_ratio"): percent_number(candidates["external_ratio"]).values,
        t("quality.col.inner_id"): candidates["inner_id"].values,
    })


def set_aside_frame(set_aside: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """The declared-open instruments that reported no usage: who, what, and why not judged."""
    return pd.DataFrame({
        t("quality.col.unit"): localised(set_aside, "unit_name", "unit_name_en", t.lang).values,
        t("quality.col.instrument"): localised(set_aside, "name_zh", "name_en", t.lang).values,
        t("quality.col.inner_id"): set_aside["inner_id"].values,
        t("quality.col.not_judged_reason"): [reasons_text(row, t) for _, row in set_aside.iterrows()],
        t("quality.col.months_reported"): set_aside["months_reported"].values,
    })


def by_unit_frame(by_unit: pd.DataFrame, t: Translator) -> pd.DataFrame:
    return pd.DataFrame({
        t("quality.col.unit"): localised(by_unit, "unit_name", "unit_name_en", t.lang).values,
        t("quality.col.declared"): by_unit["declared"].values,
        t("quality.col.not_reported"): by_unit["not_reported"].values,
        t("quality.col.judged"): by_unit["judged"].values,
        t("quality.col.candidates"): by_unit["candidates"].values,
        t("quality.col.candidate_share"): percent_number(by_unit["candidate_share"]).values,
    })


def show_candidates(candidates: pd.DataFrame, by_unit: pd.DataFrame, set_aside: pd.DataFrame, declared: int,
                    year: int, t: Translator) -> None:
    """The candidates (reporting instruments only), then, apart, the instruments set aside because
    no usage was reported for them."""
    judged = declared - len(set_aside)
    if candidates.empty:
        st.success(t("quality.nominal.none", judged=judged), icon=":material/check_circle:")
    else:
        st.markdown(t("quality.nominal.count", candidates=len(candidates), judged=judged, units=len(by_unit)))
    if not set_aside.empty:
        st.caption(t("quality.nominal.set_aside", n=len(set_aside), units=set_aside["unit_id"].nunique(),
                     declared=declared, tab=t("quality.tab.timeliness")))
    if not candidates.empty:
        utable = by_unit_frame(by_unit, t)
        st.dataframe(utable, hide_index=True, width="stretch",
                     column_config=percent_columns(utable, t, ("quality.col.candidate_share",)))
        table = candidates_frame(candidates, t)
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config=percent_columns(table, t, ("quality.col.external_ratio",)))
        download(t("quality.download.candidates"), table, f"nominally_open_{year}.csv", "quality_dl_candidates")
    if not set_aside.empty:
        st.subheader(t("quality.nominal.set_aside_title", n=len(set_aside)))
        aside = set_aside_frame(set_aside, t)
        st.dataframe(aside, hide_index=True, width="stretch")
        download(t("quality.download.set_aside"), aside, f"nominally_open_not_reported_{year}.csv",
                 "quality_dl_set_aside")
