"""Utilisation analytics: how much each instrument is used against its rated hours, and which
instruments are idle or saturated. Pure functions over the frames of `models.queries`.

"Idle" and "saturated" come from `dashboard.load` (LoadLines, load_class), the one place that
defines those lines.

The utilisation page builds on `utilisation_frame` (census.annual_frame plus samples, downtime,
top class and banner) and reads: `totals`, `group_figures` (per dimension, with year-over-year
change), `group_members` (drill-down), `operation_mode_comparison`, `idle_list`,
`saturated_list`, `most_valuable_idle`, `utilisation_distribution` and `monthly_trend`. Every
figure covers instruments in service only (status not 待报废); exempt instruments stay in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import census
from dashboard import policy as P
from dashboard.load import LOAD_CLASSES, LOAD_IDLE, LOAD_SATURATED, LoadLines, load_class
from dashboard.national import OPERATION_MODES, UNIT_TYPES

# ---- the utilisation frame -------------------------------------------------------------------

# Group dimensions of the utilisation page and the column of `utilisation_frame` that keys each.
DIMENSION_COLUMNS = {
    "instrument": "id",
    "unit": "unit_id",
    "class": "top_class",  # top-level class: the first two digits of class_code
    "region": "region_code",  # the banner or zone the instrument stands in
    "banner": "banner_code",  # zones rolled up into the banner they lie in
    "unit_type": "unit_type",
    "operation_mode": "operation_mode",
}
DIMENSIONS = tuple(DIMENSION_COLUMNS)
# Enumerated dimensions list their groups in the national order, the rest by key.
_DIMENSION_ORDER = {"unit_type": UNIT_TYPES, "operation_mode": OPERATION_MODES}


def utilisation_frame(
    instruments: pd.DataFrame,
    usage: pd.DataFrame,
    year: int | None,
    policy: P.PolicyDefaults = P.DEFAULTS,
    regions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`census.annual_frame` (hours, rated hours under `policy`, utilisation, in_service, exempt)
    plus the year's samples and downtime_hours (0 without usage rows), months_reported (Int64:
    months with a usage row in the year; 0 when the instrument has none, so its 0 h is missing
    data rather than measured idleness; <NA> if `usage` has no months_reported column), top_class (two-digit class code) and banner_code (the
    banner the instrument's region lies in; the region itself when `regions` is not given).

    `usage` is usage_by_instrument_year (one year or all years; other years are ignored)."""
    frame = census.annual_frame(instruments, usage, year, policy)
    extra = ["samples", "downtime_hours"]
    summed = [*extra, "months_reported"] if "months_reported" in usage else extra
    if year is not None and not usage.empty:
        rows = usage[usage["year"] == year]
        sums = rows.groupby("instrument_id", as_index=False)[summed].sum()
        frame = frame.merge(sums, how="left", left_on="id", right_on="instrument_id").drop(columns="instrument_id")
    for col in extra:
        frame[col] = frame[col].fillna(0).astype(float) if col in frame else pd.Series(0.0, index=frame.index)
    if "months_reported" in usage:
        months = frame["months_reported"] if "months_reported" in frame else pd.Series(0, index=frame.index)
        frame["months_reported"] = pd.array(months.fillna(0).astype("int64"), dtype="Int64")
    else:  # a usage frame without the count: unknown, never taken for "nothing reported"
        frame["months_reported"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    frame["top_class"] = frame["class_code"].astype(str).str[:2] if "class_code" in frame else ""
    roll = census.banner_of(regions) if regions is not None and not regions.empty else {}
    codes = frame["region_code"] if "region_code" in frame else pd.Series("", index=frame.index)
    frame["banner_code"] = codes.map(roll).fillna(codes) if roll else codes
    return frame


def in_service(annual: pd.DataFrame) -> pd.DataFrame:
    """The rows of instruments in service (status not 待报废): the scope of every figure here.

    Instruments exempt from opening stay in: they are still run and their load counts."""
    return annual[annual["in_service"]]


# ---- figures per group -----------------------------------------------------------------------

GROUP_COLUMNS = [
    "key", "instruments", "value_cny", "effective_hours", "rated_hours", "utilisation", "avg_effective_hours",
    "external_hours", "external_share", "samples", "downtime_hours", "idle", "saturated",
    "effective_hours_prev", "utilisation_prev", "effective_change", "utilisation_change",
]


def group_keys(annual: pd.DataFrame, dimension: str) -> pd.Series:
    """The group key of each row under `dimension` (one of DIMENSIONS, or "all": one group)."""
    if dimension == "all":
        return pd.Series("all", index=annual.index, dtype=object)
    if dimension not in DIMENSION_COLUMNS:
        raise ValueError(f"unknown dimension {dimension!r}; expected one of {DIMENSIONS}")
    return annual[DIMENSION_COLUMNS[dimension]]


def _sums(annual: pd.DataFrame, dimension: str, lines: LoadLines) -> pd.DataFrame:
    rows = in_service(annual)
    load = load_class(rows, lines) if not rows.empty else pd.Series(dtype=object)
    data = pd.DataFrame({
        "key": group_keys(rows, dimension).values,
        "value_cny": rows["original_value"].astype(float).values,
        "effective_hours": rows["effective_hours"].astype(float).values,
        "rated_hours": rows["rated_hours"].astype(float).values,
        "external_hours": rows["external_hours"].astype(float).values,
        "samples": rows["samples"].astype(float).values if "samples" in rows else 0.0,
        "downtime_hours": rows["downtime_hours"].astype(float).values if "downtime_hours" in rows else 0.0,
        "idle": (load == LOAD_IDLE).values.astype("int64"),
        "saturated": (load == LOAD_SATURATED).values.astype("int64"),
    })
    out = data.groupby("key", sort=False).agg(
        instruments=("effective_hours", "size"), value_cny=("value_cny", "sum"),
        effective_hours=("effective_hours", "sum"), rated_hours=("rated_hours", "sum"),
        external_hours=("external_hours", "sum"), samples=("samples", "sum"),
        downtime_hours=("downtime_hours", "sum"), idle=("idle", "sum"), saturated=("saturated", "sum"),
    ).reset_index()
    for col in ("instruments", "idle", "saturated"):
        out[col] = out[col].astype("int64")
    return out


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0 or missing."""
    den = denominator.astype(float)
    return (numerator.astype(float) / den.where(den > 0)).astype(float)


def group_figures(
    annual: pd.DataFrame,
    dimension: str,
    lines: LoadLines = LoadLines(),
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Utilisation figures of each group of in-service instruments under `dimension`.

    Per group: instruments, value_cny, effective_hours, rated_hours, utilisation = Σ effective /
    Σ rated (an hours-weighted rate, not the mean of the instruments' rates), avg_effective_hours
    = Σ effective / instruments, external_hours, external_share = Σ external / Σ effective (NaN
    without use), samples, downtime_hours, idle and saturated counts (`load_class` with `lines`).

    `previous` is the previous year's frame (same columns, same policy): effective_hours_prev,
    utilisation_prev, effective_change = (E − E_prev) / E_prev and utilisation_change =
    U − U_prev (in rate points, e.g. 0.05 = 5 percentage points). They are NaN when `previous` is
    None, when the group had no in-service instrument then, or (for effective_change) E_prev = 0.

    Rows: groups with at least one in-service instrument; enumerated dimensions in national order,
    unit and instrument by utilisation (highest first), the others by key."""
    out = _sums(annual, dimension, lines)
    out["utilisation"] = _ratio(out["effective_hours"], out["rated_hours"])
    out["avg_effective_hours"] = _ratio(out["effective_hours"], out["instruments"])
    out["external_share"] = _ratio(out["external_hours"], out["effective_hours"])
    if previous is not None:
        prev = _sums(previous, dimension, lines)[["key", "effective_hours", "rated_hours"]]
        prev = prev.rename(columns={"effective_hours": "effective_hours_prev", "rated_hours": "_rated_prev"})
        out = out.merge(prev, how="left", on="key")
        out["utilisation_prev"] = _ratio(out["effective_hours_prev"], out["_rated_prev"])
        out = out.drop(columns="_rated_prev")
    else:
        out["effective_hours_prev"] = np.nan
        out["utilisation_prev"] = np.nan
    out["effective_hours_prev"] = out["effective_hours_prev"].astype(float)
    out["utilisation_prev"] = out["utilisation_prev"].astype(float)
    out["effective_change"] = _ratio(out["effective_hours"] - out["effective_hours_prev"], out["effective_hours_prev"])
    out["utilisation_change"] = (out["utilisation"] - out["utilisation_prev"]).astype(float)
    return _ordered(out[GROUP_COLUMNS], dimension)


def _ordered(out: pd.DataFrame, dimension: str) -> pd.DataFrame:
    if dimension in _DIMENSION_ORDER:
        rank = {value: i for i, value in enumerate(_DIMENSION_ORDER[dimension])}
        out = out.assign(_rank=out["key"].map(lambda k: rank.get(k, len(rank))))
        out = out.sort_values(["_rank", "key"], kind="stable").drop(columns="_rank")
    elif dimension in ("unit", "instrument"):
        out = out.sort_values(["utilisation", "key"], ascending=[False, True], kind="stable", na_position="last")
    else:
        out = out.sort_values("key", kind="stable")
    return out.reset_index(drop=True)


def totals(annual: pd.DataFrame, lines: LoadLines = LoadLines(), previous: pd.DataFrame | None = None) -> pd.Series:
    """The `group_figures` of all in-service instruments as one row (a Series; key "all").
    With no in-service instrument: instruments 0, sums 0, ratios NaN."""
    out = group_figures(annual, "all", lines, previous)
    if out.empty:
        zero = {c: 0.0 for c in GROUP_COLUMNS}
        zero.update(key="all", instruments=0, idle=0, saturated=0, utilisation=np.nan, avg_effective_hours=np.nan,
                    external_share=np.nan, effective_hours_prev=np.nan, utilisation_prev=np.nan,
                    effective_change=np.nan, utilisation_change=np.nan)
        if previous is not None:
            prev = totals(previous, lines)
            zero["effective_hours_prev"], zero["utilisation_prev"] = prev["effective_hours"], prev["utilisation"]
        return pd.Series(zero)[GROUP_COLUMNS]
    return out.iloc[0]


def operation_mode_comparison(
    annual: pd.DataFrame, lines: LoadLines = LoadLines(), previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`group_figures` by operation mode with one row for each of 自营 / 代理 / 融资租赁 (in that
    order; a mode without in-service instruments has 0 instruments, 0 hours and NaN rates),
    followed by any other recorded mode."""
    out = group_figures(annual, "operation_mode", lines, previous)
    missing = [mode for mode in OPERATION_MODES if mode not in set(out["key"])]
    if missing:
        empty = pd.DataFrame({c: [np.nan] * len(missing) for c in GROUP_COLUMNS})
        empty["key"] = missing
        for col in ("instruments", "idle", "saturated"):
            empty[col] = 0
        for col in ("value_cny", "effective_hours", "rated_hours", "external_hours", "samples", "downtime_hours"):
            empty[col] = 0.0
        out = pd.concat([out, empty], ignore_index=True)
        for col in ("instruments", "idle", "saturated"):
            out[col] = out[col].astype("int64")
    return _ordered(out, "operation_mode")


def group_members(annual: pd.DataFrame, dimension: str, key, lines: LoadLines = LoadLines()) -> pd.DataFrame:
    """The in-service instruments of one group (drill-down), with `load` and `idle_line` columns,
    by utilisation (highest first)."""
    rows = in_service(annual)
    rows = rows[group_keys(rows, dimension) == key]
    return _with_load(rows, lines).sort_values(["utilisation", "id"], ascending=[False, True], kind="stable").reset_index(drop=True)


# ---- lists -----------------------------------------------------------------------------------


def _with_load(rows: pd.DataFrame, lines: LoadLines) -> pd.DataFrame:
    if rows.empty:
        return rows.assign(load=pd.Series(dtype=object), idle_line=pd.Series(dtype=float))
    return rows.assign(load=load_class(rows, lines), idle_line=lines.idle_line(rows["rated_hours"]).astype(float))


def idle_list(annual: pd.DataFrame, lines: LoadLines = LoadLines()) -> pd.DataFrame:
    """In-service instruments below their idle line, least used first (then the more valuable).

    Rows of `annual` (utilisation_frame) plus load and idle_line. months_reported tells the
    months with a usage row in the year: an instrument with 0 is idle by the same rule (0 h), but
    its 0 h is a missing report, not proven idleness (see `unreported_count`)."""
    rows = _with_load(in_service(annual), lines)
    rows = rows[rows["load"] == LOAD_IDLE]
    return rows.sort_values(["effective_hours", "original_value", "id"], ascending=[True, False, True],
                            kind="stable").reset_index(drop=True)


def saturated_list(annual: pd.DataFrame, lines: LoadLines = LoadLines()) -> pd.DataFrame:
    """In-service instruments at or above the saturation line, most used first. Same columns as
    `idle_list` (months_reported included)."""
    rows = _with_load(in_service(annual), lines)
    rows = rows[rows["load"] == LOAD_SATURATED]
    return rows.sort_values(["effective_hours", "id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def most_valuable_idle(annual: pd.DataFrame, lines: LoadLines = LoadLines(), top: int = 10) -> pd.DataFrame:
    """The `top` idle instruments of the highest original value (the costliest idle capacity).
    Same columns as `idle_list` (months_reported included)."""
    rows = idle_list(annual, lines)
    return rows.sort_values(["original_value", "id"], ascending=[False, True], kind="stable").head(top).reset_index(drop=True)


def unreported_count(rows: pd.DataFrame) -> int:
    """How many rows of a list (idle_list, saturated_list, most_valuable_idle) reported no usage
    in the year (months_reported = 0)."""
    if rows.empty or "months_reported" not in rows:
        return 0
    return int((rows["months_reported"] == 0).fillna(False).sum())


# ---- distribution and trend ------------------------------------------------------------------

# Lower edges of the utilisation bins: 10-point steps up to 100 %, then 100–120 %, 120–150 % and
# an open top bin ≥ 150 % (utilisation above 100 % is common for 专用 instruments).
UTILISATION_BIN_EDGES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5)


def utilisation_distribution(
    annual: pd.DataFrame, lines: LoadLines = LoadLines(), edges: tuple[float, ...] = UTILISATION_BIN_EDGES,
) -> pd.DataFrame:
    """In-service instruments per utilisation bin and load class.

    Columns: bin (0..len(edges)-1), lower, upper (NaN for the open top bin), load, instruments.
    Every bin × load class is listed (0 when empty), bins ascending, load classes in LOAD_CLASSES order.
    Bin i holds lower ≤ utilisation < upper."""
    lowers = list(edges)
    uppers = [*edges[1:], np.nan]
    grid = pd.DataFrame(
        [(i, lo, hi, load) for i, (lo, hi) in enumerate(zip(lowers, uppers)) for load in LOAD_CLASSES],
        columns=["bin", "lower", "upper", "load"],
    )
    rows = in_service(annual)
    if rows.empty:
        counts = pd.DataFrame({"bin": pd.Series(dtype="int64"), "load": pd.Series(dtype=object),
                               "instruments": pd.Series(dtype="int64")})
    else:
        index = np.searchsorted(np.asarray(edges, dtype=float), rows["utilisation"].astype(float).values, side="right") - 1
        counts = (pd.DataFrame({"bin": np.clip(index, 0, None), "load": load_class(rows, lines).values})
                  .groupby(["bin", "load"]).size().rename("instruments").reset_index())
    out = grid.merge(counts, how="left", on=["bin", "load"])
    out["instruments"] = out["instruments"].fillna(0).astype("int64")
    return out


TREND_COLUMNS = ["year", "month", "effective_hours", "external_hours", "rated_hours", "utilisation"]


def monthly_trend(monthly: pd.DataFrame, annual: pd.DataFrame, year: int) -> pd.DataFrame:
    """Monthly totals of `year` over the in-service instruments of `annual` (that year's frame).

    monthly: usage_monthly rows (other years and other instruments are ignored). One row per
    month that has any usage row: effective_hours, external_hours (sums), rated_hours = Σ rated /
    12 of the in-service instruments (the month's share of the year's rated hours) and
    utilisation = effective / that. Months without any row are left out (not reported yet), not
    shown as 0."""
    rows = in_service(annual)
    empty = pd.DataFrame({c: pd.Series(dtype="int64" if c in ("year", "month") else float) for c in TREND_COLUMNS})
    if monthly.empty or rows.empty:
        return empty
    scope = monthly[(monthly["year"] == year) & monthly["instrument_id"].isin(rows["id"])]
    if scope.empty:
        return empty
    out = scope.groupby("month", as_index=False)[["effective_hours", "external_hours"]].sum()
    out["year"] = int(year)
    out["month"] = out["month"].astype("int64")
    out["rated_hours"] = float(rows["rated_hours"].sum()) / 12
    out["utilisation"] = _ratio(out["effective_hours"], out["rated_hours"])
    return out[TREND_COLUMNS].sort_values("month").reset_index(drop=True)
