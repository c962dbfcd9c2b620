"""Layout analysis (seed point 二): where the instruments of each class stand, how loaded they are,
how much room they leave for outside users, and where the outside demand for that class comes
from. Pure functions over the frames of `models.queries` and `census.annual_frame`.

Terms, as shown in the page's definitions table:

- A *cell* is one instrument class × one region. The class is the first `level` digits of the
  class code (2: 大类 top class, 4: 中类 middle class, 0: all classes together). The region is the
  banner (旗) — zones (开发区/示范区) rolled up into the banner they lie in via `census.banner_of`
  — or, with `zones=True`, each region code on its own (a banner then means the banner without its
  zones).
- Load (effective hours, mean utilisation, idle, saturated) is taken over the cell's in-service
  instruments (status not 待报废), classified by `utilisation.load_class` with the given
  `LoadLines`; the lines are never redefined here.
- Spare capacity of an instrument = max(0, saturation line − effective hours) when it is in service
  and open to outside users (share mode 外部共享), else 0. Spare capacity of a cell is the sum.
- Demand is read from the service records of the year whose user type is 外部用户 (outside the
  holding unit): internal use is the holder's own and already sits in the effective hours, and it
  says nothing about what the rest of the league needs. A record counts for the class of the
  instrument that served it and for the region of the *client* (client_region_code). Clients
  outside the league or without a region are reported apart and enter no cell.
- The hours of a record (the demand *basis*, `BASES`; the first is the default):
  - "quantity" (default): the national field 服务量 (ServiceRecord.service_quantity), the machine
    hours the holder reports for the service, including preparation and necessary post-processing
    and excluding idle running — the same notion as the effective hours that spare capacity is
    measured in. Blank counts 0, negative values are clipped at 0. Caveat: the national definition
    lets some holders report samples, tests or trainees there instead of hours.
  - "duration": the wall-clock span end_time − start_time (clipped at 0). A service that runs over
    several days counts its nights and days off too (in the 2025 demo the durations add up to about
    2.6× the reported 服务量), so demand would look far larger than capacity; it is kept as an
    option to show the elapsed time clients tie an instrument up for.
- Gap = demand hours − spare capacity (h). Finding (a) lists cells with gap > 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.census import EXTERNAL_SHARE_MODE, banner_of
from dashboard.load import LOAD_IDLE, LOAD_SATURATED, LoadLines, load_class

EXTERNAL_USER = "外部用户"
LEVELS = (2, 4)
ALL_CLASSES = ""  # the class key of level 0: every instrument in one class
BASES = ("quantity", "duration")  # demand basis; BASES[0] is the default
DEFAULT_BASIS = BASES[0]

MATRIX_COLUMNS = [
    "class_code", "region_code", "instruments", "value_cny", "in_service", "effective_hours",
    "mean_utilisation", "idle", "saturated", "open_instruments", "spare_hours", "demand_services",
    "demand_hours", "demand_amount_cny", "demand_local_hours", "demand_elsewhere_hours", "gap_hours",
]
_INT_COLUMNS = ("instruments", "in_service", "idle", "saturated", "open_instruments", "demand_services")


# ---- keys ------------------------------------------------------------------------------------


def class_key(codes: pd.Series, level: int) -> pd.Series:
    """The class of each code at `level` digits (level 0: ALL_CLASSES for every row)."""
    return codes.fillna("").astype(str).str[:level]


def region_key(codes: pd.Series, regions: pd.DataFrame, zones: bool = False) -> pd.Series:
    """The region of each code: its banner, or (zones=True) the code itself. Codes that are not a
    league region (blank, or a division outside the league) give NaN."""
    codes = codes.fillna("").astype(str)
    if zones:
        return codes.where(codes.isin(set(regions["code"])))
    return codes.map(banner_of(regions))


def region_order(regions: pd.DataFrame, zones: bool = False) -> list[str]:
    """Region codes of the matrix columns: the banners by code; with zones, each banner followed by
    the zones that lie in it."""
    banners = sorted(regions.loc[regions["kind"] == "banner", "code"])
    if not zones:
        return banners
    roll = banner_of(regions)
    out = []
    for banner in banners:
        out.append(banner)
        out.extend(sorted(c for c in regions["code"] if c != banner and roll[c] == banner))
    return out


# ---- instruments -----------------------------------------------------------------------------


def instrument_load(annual: pd.DataFrame, lines: LoadLines = LoadLines()) -> pd.DataFrame:
    """The annual frame with load (idle/normal/saturated), open (in service and 外部共享) and
    spare_hours = max(0, saturation line − effective hours) for open instruments, else 0."""
    out = annual.copy()
    out["load"] = load_class(out, lines) if not out.empty else pd.Series(dtype=object)
    out["open"] = out["in_service"].astype(bool) & (out["share_mode"] == EXTERNAL_SHARE_MODE)
    headroom = (float(lines.saturation_hours) - out["effective_hours"].astype(float)).clip(lower=0.0)
    out["spare_hours"] = headroom.where(out["open"], 0.0).astype(float)
    return out


# ---- demand ----------------------------------------------------------------------------------


def service_hours(services: pd.DataFrame, basis: str = DEFAULT_BASIS) -> pd.Series:
    """Hours of each service record: 服务量 ("quantity", blank → 0), or end_time − start_time
    ("duration"); never below 0."""
    if basis not in BASES:
        raise ValueError(f"unknown demand basis {basis!r}; expected one of {BASES}")
    if basis == "quantity":
        return services["service_quantity"].astype(float).fillna(0.0).clip(lower=0.0)
    delta = pd.to_datetime(services["end_time"]) - pd.to_datetime(services["start_time"])
    return (delta.dt.total_seconds() / 3600.0).fillna(0.0).clip(lower=0.0)


def external_demand(
    services: pd.DataFrame,
    annual: pd.DataFrame,
    regions: pd.DataFrame,
    level: int = 2,
    zones: bool = False,
    basis: str = DEFAULT_BASIS,
) -> pd.DataFrame:
    """One row per external service record (user type 外部用户) of an instrument in `annual`.

    Columns: service_id, instrument_id, class_code (at `level`), client_region (NaN: outside the
    league or blank), client_scope ("league" / "outside" / "unknown"), serving_region, hours,
    amount_cny, applicant_unit, client_kind."""
    columns = ["service_id", "instrument_id", "class_code", "client_region", "client_scope",
               "serving_region", "hours", "amount_cny", "applicant_unit", "client_kind"]
    if services.empty or annual.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("hours", "amount_cny") else object) for c in columns})
    ext = services[services["user_type"] == EXTERNAL_USER]
    held = annual[["id", "class_code", "region_code"]].rename(columns={"id": "instrument_id"})
    merged = ext.merge(held, on="instrument_id", how="inner")
    client_code = merged["client_region_code"].fillna("").astype(str).str.strip()
    client_region = region_key(client_code, regions, zones)
    scope = np.where(client_region.notna(), "league", np.where(client_code == "", "unknown", "outside"))
    return pd.DataFrame({
        "service_id": merged["id"].values,
        "instrument_id": merged["instrument_id"].values,
        "class_code": class_key(merged["class_code"], level).values,
        "client_region": client_region.values,
        "client_scope": scope,
        "serving_region": region_key(merged["region_code"], regions, zones).values,
        "hours": service_hours(merged, basis).values,
        "amount_cny": merged["service_amount_cny"].astype(float).fillna(0.0).values,
        "applicant_unit": merged["applicant_unit"].fillna("").astype(str).values,
        "client_kind": merged["client_kind"].fillna("").astype(str).values,
    })


def demand_scope_totals(demand: pd.DataFrame) -> pd.DataFrame:
    """External demand by client scope (league / outside / unknown): services, hours, amount_cny.
    Every scope is listed, 0 when empty."""
    scopes = pd.DataFrame({"client_scope": ["league", "outside", "unknown"]})
    grouped = demand.groupby("client_scope").agg(
        services=("hours", "size"), hours=("hours", "sum"), amount_cny=("amount_cny", "sum")).reset_index()
    out = scopes.merge(grouped, how="left", on="client_scope")
    out["services"] = out["services"].fillna(0).astype("int64")
    out[["hours", "amount_cny"]] = out[["hours", "amount_cny"]].fillna(0.0).astype(float)
    return out


# ---- the matrix ------------------------------------------------------------------------------


def class_region_matrix(
    annual: pd.DataFrame,
    services: pd.DataFrame,
    regions: pd.DataFrame,
    lines: LoadLines = LoadLines(),
    level: int = 2,
    zones: bool = False,
    basis: str = DEFAULT_BASIS,
) -> pd.DataFrame:
    """One row per class × region: every class that has an instrument or league demand, crossed
    with every region of `region_order` (empty cells carry zeros).

    instruments, value_cny: all instruments in the register; in_service, effective_hours,
    mean_utilisation (NaN without an in-service instrument), idle, saturated, open_instruments,
    spare_hours: in-service ones; demand_*: external records of clients located in the region
    (demand_local_hours: of which served by an instrument in the same region;
    demand_elsewhere_hours: served elsewhere); gap_hours = demand_hours − spare_hours."""
    inst = instrument_load(annual, lines)
    inst["cls"] = class_key(inst["class_code"], level)
    inst["region"] = region_key(inst["region_code"], regions, zones)
    inst = inst[inst["region"].notna()]
    stock = inst.groupby(["cls", "region"]).agg(
        instruments=("id", "size"), value_cny=("original_value", "sum"))
    working = inst[inst["in_service"].astype(bool)].assign(
        is_idle=lambda f: f["load"] == LOAD_IDLE, is_saturated=lambda f: f["load"] == LOAD_SATURATED)
    load = working.groupby(["cls", "region"]).agg(
        in_service=("id", "size"), effective_hours=("effective_hours", "sum"),
        mean_utilisation=("utilisation", "mean"), idle=("is_idle", "sum"), saturated=("is_saturated", "sum"),
        open_instruments=("open", "sum"), spare_hours=("spare_hours", "sum"))

    demand = external_demand(services, annual, regions, level, zones, basis)
    demand = demand[demand["client_scope"] == "league"].assign(
        local=lambda f: f["hours"].where(f["serving_region"] == f["client_region"], 0.0))
    wanted = demand.groupby(["class_code", "client_region"]).agg(
        demand_services=("hours", "size"), demand_hours=("hours", "sum"),
        demand_amount_cny=("amount_cny", "sum"), demand_local_hours=("local", "sum"))
    wanted.index = wanted.index.set_names(["cls", "region"])

    classes = sorted(set(inst["cls"]) | set(demand["class_code"]))
    grid = pd.MultiIndex.from_product([classes, region_order(regions, zones)], names=["cls", "region"])
    out = pd.DataFrame(index=grid).join(stock).join(load).join(wanted).reset_index()
    out = out.rename(columns={"cls": "class_code", "region": "region_code"})
    for col in MATRIX_COLUMNS[2:]:
        if col not in out:
            out[col] = np.nan
    fill = [c for c in MATRIX_COLUMNS[2:] if c not in ("mean_utilisation", "demand_elsewhere_hours", "gap_hours")]
    out[fill] = out[fill].astype(float).fillna(0.0)
    for col in _INT_COLUMNS:
        out[col] = out[col].astype("int64")
    out["mean_utilisation"] = out["mean_utilisation"].astype(float)
    out["demand_elsewhere_hours"] = out["demand_hours"] - out["demand_local_hours"]
    out["gap_hours"] = out["demand_hours"] - out["spare_hours"]
    return out[MATRIX_COLUMNS].reset_index(drop=True)


# ---- findings --------------------------------------------------------------------------------


def demand_over_capacity(matrix: pd.DataFrame) -> pd.DataFrame:
    """Finding (a): cells whose external demand hours from clients located there exceed the spare
    capacity of that class there (gap_hours > 0), largest gap first."""
    hits = matrix[matrix["gap_hours"] > 0]
    return hits.sort_values(["gap_hours", "class_code", "region_code"], ascending=[False, True, True],
                            kind="stable").reset_index(drop=True)


def demand_without_instruments(matrix: pd.DataFrame) -> pd.DataFrame:
    """Finding (c): cells with external demand but no instrument of the class in the region at all
    (not even one out of service), most demand hours first."""
    hits = matrix[(matrix["demand_services"] > 0) & (matrix["instruments"] == 0)]
    return hits.sort_values(["demand_hours", "class_code", "region_code"], ascending=[False, True, True],
                            kind="stable").reset_index(drop=True)


IDLE_GROUP_COLUMNS = [
    "class_code", "banner_code", "group_size", "group_hours", "group_value_cny", "id", "inner_id",
    "name_zh", "name_en", "unit_name", "unit_name_en", "region_code", "share_mode", "effective_hours",
    "rated_hours", "utilisation", "original_value",
]


def idle_side_by_side(
    annual: pd.DataFrame, regions: pd.DataFrame, lines: LoadLines = LoadLines(), min_count: int = 2
) -> pd.DataFrame:
    """Finding (b): idle instruments of the same 4-digit class in the same banner, in groups of at
    least `min_count`. Only in-service instruments without an exemption count: an exempt
    instrument is not a candidate for sharing or reallocation.

    One row per instrument with its group's size, hours and value; groups with the most members
    first, then by class and banner; inside a group the least-used first."""
    inst = instrument_load(annual, lines)
    idle = inst[inst["in_service"].astype(bool) & ~inst["exempt"].astype(bool) & (inst["load"] == LOAD_IDLE)].copy()
    idle["class_code"] = class_key(idle["class_code"], 4)
    idle["banner_code"] = region_key(idle["region_code"], regions, zones=False)
    idle = idle[idle["banner_code"].notna()]
    group = idle.groupby(["class_code", "banner_code"])
    idle["group_size"] = group["id"].transform("size").astype("int64")
    idle["group_hours"] = group["effective_hours"].transform("sum").astype(float)
    idle["group_value_cny"] = group["original_value"].transform("sum").astype(float)
    out = idle[idle["group_size"] >= min_count]
    for col in ("name_en", "unit_name", "unit_name_en", "inner_id"):
        if col not in out:
            out = out.assign(**{col: ""})
    out = out.sort_values(["group_size", "class_code", "banner_code", "effective_hours", "id"],
                          ascending=[False, True, True, True, True], kind="stable")
    return out[IDLE_GROUP_COLUMNS].reset_index(drop=True)


# ---- drill-down ------------------------------------------------------------------------------


def cell_instruments(
    annual: pd.DataFrame,
    regions: pd.DataFrame,
    class_code: str,
    region_code: str,
    lines: LoadLines = LoadLines(),
    level: int = 2,
    zones: bool = False,
) -> pd.DataFrame:
    """The instruments of one cell (class_code at `level`, ALL_CLASSES with level 0) with their
    load and spare hours; most effective hours first."""
    inst = instrument_load(annual, lines)
    keep = (class_key(inst["class_code"], level) == class_code) & (region_key(inst["region_code"], regions, zones) == region_code)
    return inst[keep].sort_values(["effective_hours", "id"], ascending=[False, True], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class CellDemand:
    """External demand of one cell: totals and the split by where it was served."""

    services: int
    hours: float
    amount_cny: float
    clients: int  # distinct applicant units
    by_serving_region: pd.DataFrame  # serving_region, services, hours, amount_cny, clients


def cell_demand(demand: pd.DataFrame, class_code: str, region_code: str) -> CellDemand:
    """Summary of the `external_demand` rows of clients in `region_code` for `class_code`.
    `by_serving_region` is sorted by hours, most first; NaN serving region cannot occur (every
    instrument lies in a league region)."""
    rows = demand[(demand["class_code"] == class_code) & (demand["client_region"] == region_code)]
    split = rows.groupby("serving_region").agg(
        services=("hours", "size"), hours=("hours", "sum"), amount_cny=("amount_cny", "sum"),
        clients=("applicant_unit", "nunique")).reset_index()
    split = split.sort_values(["hours", "serving_region"], ascending=[False, True], kind="stable").reset_index(drop=True)
    split["services"] = split["services"].astype("int64")
    split["clients"] = split["clients"].astype("int64")
    return CellDemand(
        services=len(rows), hours=float(rows["hours"].sum()), amount_cny=float(rows["amount_cny"].sum()),
        clients=int(rows["applicant_unit"].nunique()), by_serving_region=split,
    )
