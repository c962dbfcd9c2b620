"""Census statistics: the yearly picture of the registry, as pure functions over DataFrames.

Inputs are the frames of `models.queries` (instruments, usage_by_instrument_year, units, regions,
instrument_classes). Outputs are small aggregated frames and a KPI dataclass; nothing here reads
the store or knows about Streamlit, so every figure on the overview page can be checked by hand.

Money stays in CNY; formatting (万元 / 亿元) is the display layer's job.

Scope (the same on every page and in the annual report): the instrument count and total value
cover the whole register of the year (the census); every hour, utilisation, external-service and
idle figure covers instruments in service (status not 待报废; exempt instruments stay in); the
open share covers instruments in service that are not exempt from opening.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard import policy as P
from dashboard.load import LOAD_IDLE, LoadLines, load_class

EXTERNAL_SHARE_MODE = "外部共享"
SCRAP_STATUS = "待报废"  # awaiting scrapping: no longer part of the working stock

# The order of the KPI cards and of the definitions table; each id has catalogue texts
# overview.kpi.<id>.label / .formula / .unit / .source.
KPI_IDS = ("instruments", "value", "open_share", "avg_hours", "external_hours", "idle")

ANNUAL_COLUMNS = ("effective_hours", "external_hours", "rated_hours", "utilisation", "in_service", "exempt")


def _year_end(year: int) -> pd.Timestamp:
    return pd.Timestamp(year=year, month=12, day=31)


def in_register(instruments: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """Instruments commissioned by the end of `year` (or without a date); all when year is None.

    An instrument commissioned in 2026 is not part of the 2025 census."""
    if year is None or instruments.empty or "start_date" not in instruments:
        return instruments
    start = pd.to_datetime(instruments["start_date"])
    return instruments[start.isna() | (start <= _year_end(year))]


def annual_frame(
    instruments: pd.DataFrame,
    usage: pd.DataFrame,
    year: int | None,
    policy: P.PolicyDefaults = P.DEFAULTS,
) -> pd.DataFrame:
    """One row per instrument in the register for `year`, with that year's hours.

    `usage` is usage_by_instrument_year (one year or all years; other years are ignored).
    Instruments without usage rows that year get 0 h. Adds rated_hours (1400 通用 / 800 专用),
    utilisation = effective / rated, in_service (status not 待报废) and exempt (an exemption
    reason is recorded)."""
    frame = in_register(instruments, year).copy().reset_index(drop=True)
    hours = _hours_of_year(usage, year)
    frame = frame.merge(hours, how="left", left_on="id", right_on="instrument_id") if not frame.empty else frame
    for col in ("effective_hours", "external_hours"):
        frame[col] = frame[col].fillna(0.0).astype(float) if col in frame else pd.Series(dtype=float)
    frame = frame.drop(columns=["instrument_id"], errors="ignore")
    purposes = frame["purpose"] if "purpose" in frame else pd.Series(dtype=object)
    frame["rated_hours"] = purposes.map(lambda p: P.rated_hours(p, policy)).astype(float)
    frame["utilisation"] = frame["effective_hours"] / frame["rated_hours"]
    frame["in_service"] = _column(frame, "status", "正常") != SCRAP_STATUS
    frame["exempt"] = _column(frame, "exempt_reason", "").fillna("").astype(str).str.strip() != ""
    return frame


def _hours_of_year(usage: pd.DataFrame, year: int | None) -> pd.DataFrame:
    columns = ["instrument_id", "effective_hours", "external_hours"]
    if year is None or usage.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    rows = usage[usage["year"] == year]
    return rows.groupby("instrument_id", as_index=False)[["effective_hours", "external_hours"]].sum()


def _column(frame: pd.DataFrame, name: str, default) -> pd.Series:
    if name in frame:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index, dtype=object)


def in_service(annual: pd.DataFrame) -> pd.DataFrame:
    """Rows of an `annual_frame` in service (status not 待报废): the scope of every hour,
    utilisation, external-service and idle figure. Exempt instruments stay in."""
    return annual[annual["in_service"]] if len(annual) else annual


def open_base(annual: pd.DataFrame) -> pd.DataFrame:
    """Rows of an `annual_frame` in service and not exempt from opening: the denominator of the
    open share (an instrument awaiting scrapping is no longer offered to anyone)."""
    rows = in_service(annual)
    return rows[~rows["exempt"]] if len(rows) else rows


@dataclass(frozen=True)
class Kpis:
    """Headline figures of one year. Ratios and means are None when their denominator is empty.

    instruments and total_value_cny cover the whole register; the other figures cover instruments
    in service (see the module docstring)."""

    instruments: int
    total_value_cny: float
    open_count: int  # 外部共享 among the open base
    open_eligible: int  # in service and not exempt (the denominator of open_share)
    open_share: float | None
    avg_effective_hours: float | None  # mean over instruments in service
    avg_rated_hours: float | None  # mean over instruments in service
    external_hours: float  # sum over instruments in service
    idle_count: int  # among instruments in service
    in_service_count: int


def kpis(annual: pd.DataFrame, policy: P.PolicyDefaults = P.DEFAULTS) -> Kpis:
    """KPIs over an `annual_frame`."""
    n = len(annual)
    if n == 0:
        return Kpis(0, 0.0, 0, 0, None, None, None, 0.0, 0, 0)
    live = in_service(annual)
    eligible = open_base(annual)
    open_count = int((eligible["share_mode"] == EXTERNAL_SHARE_MODE).sum())
    idle = load_class(live, LoadLines.from_policy(policy)) == LOAD_IDLE if len(live) else pd.Series(dtype=bool)
    return Kpis(
        instruments=n,
        total_value_cny=float(annual["original_value"].sum()),
        open_count=open_count,
        open_eligible=len(eligible),
        open_share=open_count / len(eligible) if len(eligible) else None,
        avg_effective_hours=float(live["effective_hours"].mean()) if len(live) else None,
        avg_rated_hours=float(live["rated_hours"].mean()) if len(live) else None,
        external_hours=float(live["external_hours"].sum()),
        idle_count=int(idle.sum()),
        in_service_count=len(live),
    )


def definition_params(policy: P.PolicyDefaults = P.DEFAULTS) -> dict[str, str]:
    """Policy numbers quoted in the KPI formula texts, so the text always matches the rule used."""
    return {
        "general": f"{policy.rated_hours_general:g}",
        "special": f"{policy.rated_hours_special:g}",
        "low_use": f"{policy.low_use_hours:g}",
    }


# ---- distributions ---------------------------------------------------------------------------

DIST_COLUMNS = ["key", "instruments", "value_cny"]


def _count_and_value(frame: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    grouped = (
        pd.DataFrame({"key": key.values, "value_cny": frame["original_value"].astype(float).values})
        .groupby("key", sort=False)
        .agg(instruments=("value_cny", "size"), value_cny=("value_cny", "sum"))
        .reset_index()
    )
    grouped["instruments"] = grouped["instruments"].astype("int64")
    return grouped[DIST_COLUMNS]


def by_field(annual: pd.DataFrame, field: str, order: tuple[str, ...] = ()) -> pd.DataFrame:
    """Instrument count and value per value of `field` (e.g. unit_type, funding).

    Values listed in `order` come first in that order (only those present), then the rest by count."""
    if annual.empty:
        return pd.DataFrame({"key": pd.Series(dtype=object), "instruments": pd.Series(dtype="int64"),
                             "value_cny": pd.Series(dtype=float)})
    out = _count_and_value(annual, annual[field].fillna("").astype(str))
    rank = {value: i for i, value in enumerate(order)}
    out["_rank"] = out["key"].map(lambda k: rank.get(k, len(rank)))
    out = out.sort_values(["_rank", "instruments", "key"], ascending=[True, False, True], kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True)


def by_class(annual: pd.DataFrame, classes: pd.DataFrame) -> pd.DataFrame:
    """Count and value per top-level class (first two digits of class_code), with class names."""
    if annual.empty:
        out = by_field(annual, "class_code")
    else:
        out = by_field(annual.assign(top_class=annual["class_code"].astype(str).str[:2]), "top_class")
    names = classes[["code", "name_zh", "name_en"]] if not classes.empty else pd.DataFrame(columns=["code", "name_zh", "name_en"])
    out = out.merge(names, how="left", left_on="key", right_on="code").drop(columns="code")
    # An unknown top class still shows, under its code.
    out["name_zh"] = out["name_zh"].fillna(out["key"])
    out["name_en"] = out["name_en"].fillna(out["key"])
    return out.sort_values("key", kind="stable").reset_index(drop=True)


def band_index(values_cny: pd.Series, edges: tuple[float, ...]) -> pd.Series:
    """Band number of each value: 0 below edges[0] (under the census floor), i for
    edges[i-1] <= value < edges[i], len(edges) for value >= edges[-1]."""
    return pd.Series(np.searchsorted(np.asarray(edges, dtype=float), values_cny.astype(float).values, side="right"),
                     index=values_cny.index, dtype="int64")


def by_value_band(annual: pd.DataFrame, edges: tuple[float, ...] | None = None) -> pd.DataFrame:
    """Count and value per value band. Columns: band, lower_cny, upper_cny (NaN = open), instruments,
    value_cny. Every band from the first edge up is listed (0 when empty); the band below the first
    edge (under the census floor) is listed only when it holds instruments."""
    edges = tuple(edges if edges is not None else P.DEFAULTS.value_band_edges_cny)
    lowers = [0.0, *edges]
    uppers = [*edges, np.nan]
    bands = pd.DataFrame({"band": range(len(lowers)), "lower_cny": lowers, "upper_cny": uppers})
    if annual.empty:
        counts = pd.DataFrame({"band": pd.Series(dtype="int64"), "instruments": pd.Series(dtype="int64"),
                               "value_cny": pd.Series(dtype=float)})
    else:
        counts = _count_and_value(annual, band_index(annual["original_value"], edges)).rename(columns={"key": "band"})
    out = bands.merge(counts, how="left", on="band")
    out["instruments"] = out["instruments"].fillna(0).astype("int64")
    out["value_cny"] = out["value_cny"].fillna(0.0)
    keep = (out["band"] > 0) | (out["instruments"] > 0)
    return out[keep].reset_index(drop=True)


# ---- regions and map -------------------------------------------------------------------------


def banner_of(regions: pd.DataFrame) -> dict[str, str]:
    """Region code -> code of the banner it lies in (a banner maps to itself)."""
    within = regions["within"].fillna("").astype(str)
    return dict(zip(regions["code"], within.where(within != "", regions["code"])))


def by_region(annual: pd.DataFrame, units: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """Per banner: instruments, value_cny, units (holding units located there). Zones are rolled up
    into the banner they lie in, so the three banners of the map carry all the figures.

    Columns: code, name_zh, name_en, instruments, value_cny, units — one row per banner."""
    banners = regions[regions["kind"] == "banner"][["code", "name_zh", "name_en"]].reset_index(drop=True)
    roll = banner_of(regions)
    out = banners.copy()
    if annual.empty:
        out["instruments"], out["value_cny"] = 0, 0.0
    else:
        inst = _count_and_value(annual, annual["region_code"].map(roll).fillna(annual["region_code"]))
        out = out.merge(inst.rename(columns={"key": "code"}), how="left", on="code")
    unit_counts = (
        units["region_code"].map(roll).value_counts().rename("units").rename_axis("code").reset_index()
        if not units.empty else pd.DataFrame({"code": pd.Series(dtype=object), "units": pd.Series(dtype="int64")})
    )
    out = out.merge(unit_counts, how="left", on="code")
    out["instruments"] = out["instruments"].fillna(0).astype("int64")
    out["value_cny"] = out["value_cny"].fillna(0.0).astype(float)
    out["units"] = out["units"].fillna(0).astype("int64")
    return out


def unit_points(annual: pd.DataFrame, units: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """Map points of holding units at their own coordinates (the region seat when a unit has
    none), with the count and value of their instruments. Units holding no instrument are left out.

    Columns: unit_id, name, name_en, region_code, lat, lon, instruments, value_cny."""
    columns = ["unit_id", "name", "name_en", "region_code", "lat", "lon", "instruments", "value_cny"]
    if annual.empty or units.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    held = _count_and_value(annual, annual["unit_id"]).rename(columns={"key": "unit_id"})
    pts = units.rename(columns={"id": "unit_id"}).merge(held, on="unit_id", how="inner")
    seat = regions.set_index("code")
    pts["lat"] = pts["lat"].astype(float).fillna(pts["region_code"].map(seat["lat"]))
    pts["lon"] = pts["lon"].astype(float).fillna(pts["region_code"].map(seat["lon"]))
    pts["name_en"] = pts["name_en"].fillna("")
    return pts[columns].reset_index(drop=True)
