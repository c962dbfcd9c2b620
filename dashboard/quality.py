"""Data quality: reporting timeliness, completeness of the national record, anomalies in the usage
data, and candidates for "nominally open, actually closed" (名义开放、实际封闭).

Pure functions over the frames of `models.queries` (submissions, units, instruments,
usage_monthly, usage_by_instrument_year, services). The lists they return feed the sanction
rules of the incentives issue, so their columns are fixed and documented here:

- `reporting_status(...)`  one row per unit, report kind and month (or annual report);
- `reporting_summary(...)` one row per unit: due / on time / late / missing counts;
- `completeness(...)`      one row per unit: filled shares of the national fields and a medal;
- `anomalies(...)`         one row per rule hit, with instrument, unit, month, value and limit;
- `nominally_open_candidates(...)` one row per suspect instrument, with the evidence; instruments
  that reported no usage in the year are never candidates: `not_reported_open(...)` lists them
  apart (reason not_reported), as their 0 h is missing data.

Time zones: a due date is a calendar day in Beijing time (Asia/Shanghai); submission times are
aware UTC. A report is on time when its Beijing calendar day is on or before the due date.
"""

from __future__ import annotations

import calendar
import math
import numbers
from dataclasses import dataclass
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd

from dashboard import census
from dashboard import policy as P
from dashboard.exporter import csv_document, neutralised
from dashboard.national import INSTRUMENT_COLUMNS, Column

LOCAL_TZ = "Asia/Shanghai"
USAGE_KIND = "usage"
REPORT_KINDS = ("usage", "instruments", "services")  # catalogue keys quality.kind.<kind>
EXTERNAL_USER = "外部用户"
EXTERNAL_SHARE_MODE = census.EXTERNAL_SHARE_MODE  # 外部共享
SCRAP_STATUS = census.SCRAP_STATUS  # 待报废

# ---------------------------------------------------------------------------------- timeliness

ON_TIME = "on_time"
LATE = "late"
MISSING = "missing"
NOT_DUE = "not_due"  # not in yet, but its due date has not passed
STATUSES = (ON_TIME, LATE, MISSING, NOT_DUE)  # catalogue keys quality.status.<status>

STATUS_COLUMNS = ["unit_id", "kind", "year", "month", "due_date", "submitted_at", "submitted_local_date",
                  "status", "days_late"]
SUMMARY_COLUMNS = ["unit_id", "name", "name_en", "due", "on_time", "late", "missing", "not_due",
                   "on_time_share", "max_days_late", "never_reported"]


def due_date(year: int, month: int, due_day: int = P.DEFAULTS.report_due_day) -> date:
    """A monthly report is due on `due_day` of the following month (the last day if shorter).
    Same rule as the importer, which records submissions."""
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, min(due_day, calendar.monthrange(year, month)[1]))


def local_today() -> date:
    """Today's calendar day in Beijing time."""
    return pd.Timestamp(datetime.now(timezone.utc)).tz_convert(LOCAL_TZ).date()


def expected_usage_reports(instruments: pd.DataFrame, year: int,
                           due_day: int = P.DEFAULTS.report_due_day) -> pd.DataFrame:
    """The monthly usage reports a unit owes for `year`: every month from the commissioning month
    of its first instrument (an instrument without a date counts from January).

    Columns: unit_id, kind, year, month, due_date (datetime64 day)."""
    columns = ["unit_id", "kind", "year", "month", "due_date"]
    if instruments.empty:
        return _empty(columns)
    start = pd.to_datetime(instruments["start_date"])
    first = pd.Series(np.where(start.isna(), 1,
                               np.where(start.dt.year < year, 1, np.where(start.dt.year == year, start.dt.month, 13))),
                      index=instruments.index)
    first_month = first.groupby(instruments["unit_id"]).min()
    rows = [(int(uid), USAGE_KIND, year, m, pd.Timestamp(due_date(year, m, due_day)))
            for uid, f in first_month.items() for m in range(int(f), 13)]
    if not rows:
        return _empty(columns)
    out = pd.DataFrame(rows, columns=columns)
    out["month"] = out["month"].astype("Int64")
    return out


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def reporting_status(submissions: pd.DataFrame, units: pd.DataFrame, year: int,
                     instruments: pd.DataFrame | None = None, as_of: date | None = None,
                     due_day: int = P.DEFAULTS.report_due_day) -> pd.DataFrame:
    """One row per unit, report kind and month (month <NA> for an annual report) of `year`.

    submissions: the Submission rows (unit_id, kind, year, month, due_date, submitted_at aware UTC,
        NaT when not reported). Several rows for one unit-kind-month: the earliest submission counts.
    units: id (only these units are kept).
    instruments: when given, every monthly usage report a unit owes (`expected_usage_reports`) is
        listed even without a Submission row, so a unit that never uploaded shows as missing.
    as_of: the Beijing day the check is made (default today); a report not in whose due date is
        on or after this day is "not_due", before it "missing".

    Columns (STATUS_COLUMNS): unit_id, kind, year, month (Int64), due_date (datetime64),
    submitted_at (UTC), submitted_local_date (datetime64 day, Beijing), status (on_time / late /
    missing / not_due), days_late (Int64: Beijing days after the due date, late rows only).
    Sorted by unit, kind, month (annual last)."""
    as_of = as_of or local_today()
    subs = submissions[submissions["year"] == year] if not submissions.empty else submissions
    subs = subs[["unit_id", "kind", "year", "month", "due_date", "submitted_at"]].copy() if not subs.empty else \
        _empty(["unit_id", "kind", "year", "month", "due_date", "submitted_at"])
    if instruments is not None:
        expected = expected_usage_reports(instruments, year, due_day)
        if not subs.empty and not expected.empty:  # a Submission row (and its due date) wins
            have = set(zip(subs["unit_id"].astype(int), subs["kind"], subs["month"].fillna(0).astype(int)))
            keep = [(u, k, int(m)) not in have for u, k, m in zip(expected["unit_id"], expected["kind"], expected["month"])]
            expected = expected[keep]
        expected = expected.assign(submitted_at=pd.NaT)
        subs = pd.concat([subs, expected], ignore_index=True) if not subs.empty else expected
    unit_ids = set(units["id"].astype(int)) if not units.empty else set()
    subs = subs[subs["unit_id"].isin(unit_ids)] if not subs.empty else subs
    if subs.empty:
        out = _empty(STATUS_COLUMNS)
        out["month"] = out["month"].astype("Int64")
        out["days_late"] = out["days_late"].astype("Int64")
        return out
    subs = subs.assign(
        unit_id=subs["unit_id"].astype(int),
        month=pd.array(subs["month"], dtype="Int64"),
        due_date=pd.to_datetime(subs["due_date"]).dt.normalize(),
        submitted_at=pd.to_datetime(subs["submitted_at"], utc=True),
    )
    subs["_m"] = subs["month"].fillna(0).astype(int)  # groupby drops <NA> keys: annual is 0
    grouped = subs.groupby(["unit_id", "kind", "_m"], as_index=False).agg(
        year=("year", "first"), month=("month", "first"), due_date=("due_date", "min"),
        submitted_at=("submitted_at", "min"))
    grouped["month"] = pd.array(grouped["month"], dtype="Int64")
    local = grouped["submitted_at"].dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).dt.normalize()
    grouped["submitted_local_date"] = local
    submitted = grouped["submitted_at"].notna()
    late_days = (local - grouped["due_date"]).dt.days
    past_due = grouped["due_date"] < pd.Timestamp(as_of)
    grouped["status"] = np.select(
        [submitted & (late_days <= 0), submitted, past_due], [ON_TIME, LATE, MISSING], default=NOT_DUE)
    grouped["days_late"] = pd.array(np.where(grouped["status"] == LATE, late_days, np.nan), dtype="Int64")
    grouped["year"] = grouped["year"].astype(int)
    grouped["_annual"] = grouped["month"].isna()
    grouped = grouped.sort_values(["unit_id", "kind", "_annual", "_m"], kind="stable")
    return grouped[STATUS_COLUMNS].reset_index(drop=True)


def reporting_summary(status: pd.DataFrame, units: pd.DataFrame, kind: str | None = None) -> pd.DataFrame:
    """Per unit, over the rows of `status` (of one report kind, or all kinds):

    due: reports counted against the unit = on_time + late + missing (reports in, plus those
    whose due date has passed; a report neither in nor due yet is not_due); on_time, late,
    missing, not_due: counts; on_time_share = on_time / due (NaN when nothing is due); max_days_late (Int64);
    never_reported: something was due and nothing came in (on_time + late = 0).
    Only units with at least one row are listed. Order: units that never reported first, then the
    lowest on-time share, most missing, most late, unit id. Columns: SUMMARY_COLUMNS."""
    rows = status if kind is None else status[status["kind"] == kind]
    if rows.empty:
        out = _empty(SUMMARY_COLUMNS)
        for c in ("due", "on_time", "late", "missing", "not_due"):
            out[c] = out[c].astype("int64")
        out["on_time_share"] = out["on_time_share"].astype(float)
        out["max_days_late"] = out["max_days_late"].astype("Int64")
        out["never_reported"] = out["never_reported"].astype(bool)
        return out
    counts = pd.crosstab(rows["unit_id"], rows["status"]).reindex(columns=list(STATUSES), fill_value=0)
    out = counts.astype("int64").reset_index().rename_axis(columns=None)
    out["due"] = out[ON_TIME] + out[LATE] + out[MISSING]
    share = out[ON_TIME] / out["due"].where(out["due"] > 0)
    out["on_time_share"] = share.astype(float)
    max_late = rows.groupby("unit_id")["days_late"].max()
    out["max_days_late"] = pd.array(out["unit_id"].map(max_late), dtype="Int64")
    out["never_reported"] = (out["due"] > 0) & (out[ON_TIME] + out[LATE] == 0)
    names = units.set_index("id")
    out["name"] = out["unit_id"].map(names["name"])
    out["name_en"] = out["unit_id"].map(names["name_en"]).fillna("") if "name_en" in names else ""
    out = out.sort_values(["never_reported", "on_time_share", MISSING, LATE, "unit_id"],
                          ascending=[False, True, False, False, True], na_position="last", kind="stable")
    return out[SUMMARY_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------- completeness

GOLD = "gold"
SILVER = "silver"
BRONZE = "bronze"
NO_MEDAL = "none"
MEDALS = (GOLD, SILVER, BRONZE, NO_MEDAL)  # catalogue keys quality.medal.<medal>

# The national fields of the instrument record (local extensions are left out): required fields
# as the national layout marks them, the others recommended.
NATIONAL_FIELDS: tuple[Column, ...] = tuple(c for c in INSTRUMENT_COLUMNS if not c.local)
REQUIRED_FIELDS = tuple(c.key for c in NATIONAL_FIELDS if c.required)
RECOMMENDED_FIELDS = tuple(c.key for c in NATIONAL_FIELDS if not c.required)
FRAME_COLUMN = {"unit": "unit_name"}  # layout key -> column of the instruments frame

COMPLETENESS_COLUMNS = ["unit_id", "name", "name_en", "instruments", "required_filled", "required_cells",
                        "required_share", "recommended_filled", "recommended_cells", "recommended_share",
                        "overall_share", "medal", "top_missing"]
FIELD_COLUMNS = ["field", "required", "missing", "instruments", "missing_share"]


@dataclass(frozen=True)
class MedalLines:
    """[I] Local choice: medal by the share of national fields filled over a unit's instruments."""

    gold: float = 0.95
    silver: float = 0.80
    bronze: float = 0.60


def medal(share: float, lines: MedalLines = MedalLines()) -> str:
    """gold ≥ lines.gold, silver ≥ lines.silver, bronze ≥ lines.bronze, else none."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return NO_MEDAL
    if share >= lines.gold:
        return GOLD
    if share >= lines.silver:
        return SILVER
    if share >= lines.bronze:
        return BRONZE
    return NO_MEDAL


def filled_cells(instruments: pd.DataFrame) -> pd.DataFrame:
    """True where a national field of an instrument holds a value (not empty, not blank text,
    not NaN/NaT). Columns: the layout keys of NATIONAL_FIELDS; index as `instruments`."""
    out = {}
    for col in NATIONAL_FIELDS:
        name = FRAME_COLUMN.get(col.key, col.key)
        if name not in instruments:
            out[col.key] = pd.Series(False, index=instruments.index)
            continue
        values = instruments[name]
        out[col.key] = values.notna() & (values.astype(str).str.strip() != "")
    return pd.DataFrame(out, index=instruments.index)


def completeness(instruments: pd.DataFrame, units: pd.DataFrame, year: int | None = None,
                 lines: MedalLines = MedalLines(), top: int = 3) -> pd.DataFrame:
    """Per unit, over its instruments in the register of `year` (all when None):

    required_share = filled required cells / (instruments × required fields); the same for the
    recommended fields; overall_share = all filled cells / all cells; medal on overall_share;
    top_missing: up to `top` field keys most often empty (most first, then layout order).
    Order: lowest overall share first. Columns: COMPLETENESS_COLUMNS."""
    frame = census.in_register(instruments, year)
    if frame.empty:
        out = _empty(COMPLETENESS_COLUMNS)
        return out
    filled = filled_cells(frame)
    req = filled[list(REQUIRED_FIELDS)].sum(axis=1)
    rec = filled[list(RECOMMENDED_FIELDS)].sum(axis=1)
    by_unit = pd.DataFrame({"unit_id": frame["unit_id"].astype(int).values, "req": req.values, "rec": rec.values})
    out = by_unit.groupby("unit_id").agg(instruments=("req", "size"), required_filled=("req", "sum"),
                                         recommended_filled=("rec", "sum")).reset_index()
    out["required_cells"] = out["instruments"] * len(REQUIRED_FIELDS)
    out["recommended_cells"] = out["instruments"] * len(RECOMMENDED_FIELDS)
    out["required_share"] = out["required_filled"] / out["required_cells"]
    out["recommended_share"] = out["recommended_filled"] / out["recommended_cells"]
    out["overall_share"] = ((out["required_filled"] + out["recommended_filled"])
                            / (out["required_cells"] + out["recommended_cells"]))
    out["medal"] = out["overall_share"].map(lambda s: medal(s, lines))
    missing = (~filled).groupby(frame["unit_id"].astype(int).values).sum()
    order = {key: i for i, key in enumerate(filled.columns)}

    def top_of(uid: int) -> list[str]:
        row = missing.loc[uid]
        row = row[row > 0]
        ranked = sorted(row.index, key=lambda k: (-row[k], order[k]))
        return ranked[:top]

    out["top_missing"] = out["unit_id"].map(top_of)
    names = units.set_index("id")
    out["name"] = out["unit_id"].map(names["name"])
    out["name_en"] = out["unit_id"].map(names["name_en"]).fillna("")
    for c in ("instruments", "required_filled", "required_cells", "recommended_filled", "recommended_cells"):
        out[c] = out[c].astype("int64")
    out = out.sort_values(["overall_share", "unit_id"], kind="stable")
    return out[COMPLETENESS_COLUMNS].reset_index(drop=True)


def missing_fields(instruments: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """Per national field, how many instruments (in the register of `year`) leave it empty.

    Columns: field (layout key), required (bool), missing, instruments, missing_share; most
    often missing first (layout order among equals); fields never missing are left out."""
    frame = census.in_register(instruments, year)
    if frame.empty:
        return _empty(FIELD_COLUMNS)
    filled = filled_cells(frame)
    out = pd.DataFrame({
        "field": list(filled.columns),
        "required": [c.required for c in NATIONAL_FIELDS],
        "missing": (~filled).sum().astype("int64").values,
        "instruments": len(frame),
        "_order": range(len(filled.columns)),
    })
    out["missing_share"] = out["missing"] / out["instruments"]
    out = out[out["missing"] > 0].sort_values(["missing", "_order"], ascending=[False, True], kind="stable")
    return out[FIELD_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------- anomalies

RULE_HOURS_OVER_MONTH = "hours_over_month"
RULE_WITH_DOWNTIME_OVER_MONTH = "with_downtime_over_month"
RULE_EXTERNAL_OVER_EFFECTIVE = "external_over_effective"
RULE_USAGE_WHEN_SCRAPPED = "usage_when_scrapped"
RULE_BELOW_CENSUS_FLOOR = "below_census_floor"
RULE_USAGE_BEFORE_START = "usage_before_start"
RULES = (RULE_HOURS_OVER_MONTH, RULE_WITH_DOWNTIME_OVER_MONTH, RULE_EXTERNAL_OVER_EFFECTIVE,
         RULE_USAGE_WHEN_SCRAPPED, RULE_BELOW_CENSUS_FLOOR, RULE_USAGE_BEFORE_START)  # quality.rule.<id>

ANOMALY_COLUMNS = ["rule", "unit_id", "unit_name", "unit_name_en", "instrument_id", "inner_id", "name_zh",
                   "name_en", "year", "month", "value", "limit", "start_date"]
EPSILON = 1e-9  # float noise: 744.0000000001 h is not above a 744 h month


def month_hours(year: pd.Series | int, month: pd.Series | int):
    """Hours in a calendar month: days × 24 (February of a leap year: 29 × 24 = 696)."""
    if isinstance(year, pd.Series):
        first = pd.to_datetime(pd.DataFrame({"year": year.astype(int), "month": pd.Series(month).astype(int), "day": 1}))
        return first.dt.days_in_month.astype(float) * 24.0
    return float(calendar.monthrange(int(year), int(month))[1] * 24)


def anomalies(usage: pd.DataFrame, instruments: pd.DataFrame, year: int,
              policy: P.PolicyDefaults = P.DEFAULTS) -> pd.DataFrame:
    """Rule hits in the usage rows of `year` (usage_monthly) and the instrument records.

    Monthly rules (month set), per usage row; value and limit in hours:
    - hours_over_month: effective > month hours (days × 24); value effective, limit month hours;
    - with_downtime_over_month: effective ≤ month hours but effective + downtime > month hours;
      value effective + downtime, limit month hours;
    - external_over_effective: external > effective; value external, limit effective;
    - usage_when_scrapped: effective > 0 for an instrument whose status is 待报废; value effective,
      limit 0;
    - usage_before_start: effective > 0 in a month before the commissioning month; value effective,
      limit NaN (start_date says when).
    Annual rule (month <NA>), per instrument in the register of `year`:
    - below_census_floor: original value < policy.census_floor_cny; value, limit in CNY.
    Columns: ANOMALY_COLUMNS, ordered by rule (RULES order), unit, instrument, month."""
    inst = instruments.set_index("id") if not instruments.empty else instruments
    parts = []
    rows = usage[usage["year"] == year] if not usage.empty else usage
    rows = rows[rows["instrument_id"].isin(inst.index)] if not rows.empty else rows
    if not rows.empty:
        rows = rows.reset_index(drop=True)
        hours = month_hours(rows["year"], rows["month"])
        eff, ext = rows["effective_hours"].astype(float), rows["external_hours"].astype(float)
        down = rows["downtime_hours"].fillna(0).astype(float)
        status = rows["instrument_id"].map(inst["status"])
        start = pd.to_datetime(rows["instrument_id"].map(inst["start_date"]))
        before_start = start.notna() & ((rows["year"] < start.dt.year)
                                        | ((rows["year"] == start.dt.year) & (rows["month"] < start.dt.month)))
        over = eff > hours + EPSILON
        checks = [
            (RULE_HOURS_OVER_MONTH, over, eff, hours),
            (RULE_WITH_DOWNTIME_OVER_MONTH, ~over & (eff + down > hours + EPSILON), eff + down, hours),
            (RULE_EXTERNAL_OVER_EFFECTIVE, ext > eff + EPSILON, ext, eff),
            (RULE_USAGE_WHEN_SCRAPPED, (status == SCRAP_STATUS) & (eff > 0), eff, pd.Series(0.0, index=rows.index)),
            (RULE_USAGE_BEFORE_START, before_start & (eff > 0), eff, pd.Series(np.nan, index=rows.index)),
        ]
        for rule, hit, value, limit in checks:
            if hit.any():
                parts.append(pd.DataFrame({
                    "rule": rule, "instrument_id": rows.loc[hit, "instrument_id"].astype(int),
                    "year": rows.loc[hit, "year"].astype(int), "month": rows.loc[hit, "month"].astype(int),
                    "value": value[hit].astype(float), "limit": limit[hit].astype(float),
                }))
    register = census.in_register(instruments, year)
    if not register.empty:
        low = register[register["original_value"].astype(float) < policy.census_floor_cny]
        if not low.empty:
            parts.append(pd.DataFrame({
                "rule": RULE_BELOW_CENSUS_FLOOR, "instrument_id": low["id"].astype(int), "year": year,
                "month": pd.NA, "value": low["original_value"].astype(float),
                "limit": float(policy.census_floor_cny),
            }))
    if not parts:
        out = _empty(ANOMALY_COLUMNS)
        out["month"] = out["month"].astype("Int64")
        return out
    out = pd.concat(parts, ignore_index=True)
    out["month"] = pd.array(out["month"], dtype="Int64")
    for col, src in (("unit_id", "unit_id"), ("inner_id", "inner_id"), ("name_zh", "name_zh"), ("name_en", "name_en"),
                     ("unit_name", "unit_name"), ("unit_name_en", "unit_name_en"), ("start_date", "start_date")):
        out[col] = out["instrument_id"].map(inst[src]) if src in inst else ""
    out["name_en"] = out["name_en"].fillna("")
    out["unit_name_en"] = out["unit_name_en"].fillna("")
    out["start_date"] = pd.to_datetime(out["start_date"])
    out["_rule"] = out["rule"].map({r: i for i, r in enumerate(RULES)})
    out["_m"] = out["month"].fillna(0).astype(int)
    out = out.sort_values(["_rule", "unit_id", "instrument_id", "_m"], kind="stable")
    return out[ANOMALY_COLUMNS].reset_index(drop=True)


def anomaly_counts(found: pd.DataFrame) -> pd.DataFrame:
    """Hits and distinct instruments per rule, every rule listed (0 when none). Columns: rule,
    hits, instruments."""
    hits = found.groupby("rule").size() if not found.empty else pd.Series(dtype="int64")
    insts = found.groupby("rule")["instrument_id"].nunique() if not found.empty else pd.Series(dtype="int64")
    return pd.DataFrame({
        "rule": list(RULES),
        "hits": [int(hits.get(r, 0)) for r in RULES],
        "instruments": [int(insts.get(r, 0)) for r in RULES],
    })


# ---------------------------------------------------------------------------------- nominally open

DEFAULT_MAX_EXTERNAL_RATIO = 0.10  # [I] external hours below 10 % of internal hours
REASON_NO_RECORDS = "no_records"
REASON_LOW_RATIO = "low_ratio"
# An instrument with no usage row in the year: its 0 h is missing data, so whether it is open
# cannot be judged. Never a candidate (and never grounds for a sanction); listed apart.
REASON_NOT_REPORTED = "not_reported"
CANDIDATE_REASONS = (REASON_NO_RECORDS, REASON_LOW_RATIO)  # the grounds of a candidate
REASONS = (*CANDIDATE_REASONS, REASON_NOT_REPORTED)  # catalogue keys quality.reason.<id>
CANDIDATE_COLUMNS = ["instrument_id", "unit_id", "unit_name", "unit_name_en", "inner_id", "name_zh", "name_en",
                     "months_reported", "effective_hours", "external_hours", "internal_hours", "external_ratio",
                     "external_records", "no_records", "low_ratio", "not_reported"]
BY_UNIT_COLUMNS = ["unit_id", "unit_name", "unit_name_en", "declared", "not_reported", "judged", "candidates",
                   "candidate_share"]


def months_reported(usage: pd.DataFrame, year: int | None = None) -> pd.Series:
    """Months with a usage row per instrument id (of `year` when given; instruments without a
    row are absent, i.e. 0).

    usage: usage_by_instrument_year (its months_reported column is summed) or usage_monthly
    (its rows are counted: one row per instrument and month)."""
    if usage.empty:
        return pd.Series(dtype="int64")
    rows = usage[usage["year"] == year] if year is not None else usage
    if "months_reported" in rows:
        counts = rows.groupby("instrument_id")["months_reported"].sum()
    else:
        counts = rows.groupby("instrument_id").size()
    return counts.astype("int64")


def external_records(services: pd.DataFrame, year: int | None = None) -> pd.Series:
    """Number of external-user (外部用户) service records per instrument id (of `year` by start
    time when given)."""
    if services.empty:
        return pd.Series(dtype="int64")
    rows = services
    if year is not None and "start_time" in rows:
        rows = rows[pd.to_datetime(rows["start_time"]).dt.year == year]
    rows = rows[rows["user_type"].fillna("").astype(str).str.strip() == EXTERNAL_USER]
    return rows.groupby("instrument_id").size().astype("int64")


def declared_open(annual: pd.DataFrame) -> pd.DataFrame:
    """The instruments the nominally-open check looks at: not exempt, in service (not 待报废),
    share mode 外部共享."""
    if annual.empty:
        return annual
    return annual[(~annual["exempt"]) & annual["in_service"] & (annual["share_mode"] == EXTERNAL_SHARE_MODE)]


def _candidate_frame(out: pd.DataFrame) -> pd.DataFrame:
    for col in ("unit_name_en", "name_en"):
        out[col] = out[col].fillna("") if col in out else ""
    out = out.sort_values(["unit_id", "external_ratio", "instrument_id"], na_position="first", kind="stable")
    return out[CANDIDATE_COLUMNS].reset_index(drop=True)


def nominal_open_review(annual: pd.DataFrame, services: pd.DataFrame, usage: pd.DataFrame,
                        max_external_ratio: float = DEFAULT_MAX_EXTERNAL_RATIO,
                        year: int | None = None) -> pd.DataFrame:
    """Every declared-open instrument (`declared_open`) with the evidence of the check; the
    candidates and the set-aside instruments are the rows flagged below.

    annual: census.annual_frame of the year (effective_hours, external_hours, in_service, exempt).
    services: service records (instrument_id, user_type; start_time when `year` is given).
    usage: the year's usage_by_instrument_year (months_reported) or usage_monthly rows (rows of
        other years are ignored when `year` is given).

    Columns (CANDIDATE_COLUMNS):
    - months_reported (int): months with a usage row in the year (0: the unit sent nothing);
    - internal_hours = effective − external (not below 0); external_ratio = external / internal
      (NaN without internal hours); external_records: external-user (外部用户) service records;
    - not_reported (reason not_reported): months_reported = 0. Nothing can be judged: the 0 h is
      missing data. no_records and low_ratio are then False;
    - no_records (reason no_records): reported, and no external-user service record in the year;
    - low_ratio (reason low_ratio): reported, internal > 0 and external < max_external_ratio ×
      internal.
    Order: unit, then lowest external ratio (NaN first), instrument id."""
    pool = declared_open(annual).copy() if not annual.empty else annual
    if pool.empty:
        out = _empty(CANDIDATE_COLUMNS)
        for col in ("no_records", "low_ratio", "not_reported"):
            out[col] = out[col].astype(bool)
        out["months_reported"] = out["months_reported"].astype("int64")
        return out
    records = external_records(services, year)
    months = months_reported(usage, year)
    pool["instrument_id"] = pool["id"].astype(int)
    pool["months_reported"] = pool["instrument_id"].map(months).fillna(0).astype("int64")
    pool["external_records"] = pool["instrument_id"].map(records).fillna(0).astype("int64")
    pool["internal_hours"] = (pool["effective_hours"] - pool["external_hours"]).clip(lower=0.0)
    internal = pool["internal_hours"]
    pool["external_ratio"] = pool["external_hours"] / internal.where(internal > 0)
    reported = pool["months_reported"] > 0
    pool["not_reported"] = ~reported
    pool["no_records"] = reported & (pool["external_records"] == 0)
    pool["low_ratio"] = reported & (internal > 0) & (pool["external_hours"] < max_external_ratio * internal - EPSILON)
    return _candidate_frame(pool)


def nominally_open_candidates(annual: pd.DataFrame, services: pd.DataFrame, usage: pd.DataFrame,
                              max_external_ratio: float = DEFAULT_MAX_EXTERNAL_RATIO,
                              year: int | None = None) -> pd.DataFrame:
    """Instruments declared 外部共享 that look closed in practice: the rows of
    `nominal_open_review` with reason no_records or low_ratio. These are the grounds a sanction
    rule may use.

    Considered: not exempt, in service (not 待报废), share_mode 外部共享, and at least one month of
    usage reported in the year. An instrument that reported no usage is never a candidate (see
    `not_reported_open`): a missing report is a timeliness failure, not proof of closure.
    Columns: CANDIDATE_COLUMNS (not_reported is always False here)."""
    review = nominal_open_review(annual, services, usage, max_external_ratio, year)
    return review[review["no_records"] | review["low_ratio"]].reset_index(drop=True)


def not_reported_open(annual: pd.DataFrame, usage: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """Declared-open instruments set aside by the check because no usage was reported for them in
    the year (reason not_reported): whether they are open cannot be judged. Not candidates; the
    timeliness lists deal with the missing reports. Columns: CANDIDATE_COLUMNS."""
    review = nominal_open_review(annual, pd.DataFrame(), usage, year=year)
    return review[review["not_reported"]].reset_index(drop=True)


def candidates_by_unit(candidates: pd.DataFrame, annual: pd.DataFrame,
                       not_reported: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per unit with candidates: declared (non-exempt, in-service 外部共享 instruments),
    not_reported (of those, set aside for reporting no usage; 0 when `not_reported` is None),
    judged = declared − not_reported, candidates, candidate_share = candidates / judged.
    Most candidates first. Columns: BY_UNIT_COLUMNS."""
    if candidates.empty:
        return _empty(BY_UNIT_COLUMNS)
    declared = declared_open(annual).groupby("unit_id").size()
    unreported = (not_reported.groupby("unit_id").size() if not_reported is not None and not not_reported.empty
                  else pd.Series(dtype="int64"))
    out = candidates.groupby(["unit_id", "unit_name", "unit_name_en"], as_index=False).size().rename(
        columns={"size": "candidates"})
    out["declared"] = out["unit_id"].map(declared).fillna(0).astype("int64")
    out["not_reported"] = out["unit_id"].map(unreported).fillna(0).astype("int64")
    out["judged"] = out["declared"] - out["not_reported"]
    out["candidates"] = out["candidates"].astype("int64")
    out["candidate_share"] = out["candidates"] / out["judged"]
    out = out.sort_values(["candidates", "candidate_share", "unit_id"], ascending=[False, False, True], kind="stable")
    return out[BY_UNIT_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------- downloads


def frame_csv(frame: pd.DataFrame) -> bytes:
    """A display frame as CSV (UTF-8 with BOM, CRLF; headers as shown). Text cells a spreadsheet
    would run as a formula are neutralised; missing values are empty cells."""
    def cell(value) -> str:
        if value is None or value is pd.NA or value is pd.NaT:
            return ""
        if isinstance(value, float):
            return "" if math.isnan(value) else (str(int(value)) if value.is_integer() else repr(value))
        if isinstance(value, numbers.Number):  # a negative whole number is a number, not a formula
            return str(value)
        return neutralised(str(value))

    rows = ([cell(v) for v in row] for row in frame.itertuples(index=False, name=None))
    return csv_document([str(c) for c in frame.columns], rows)
