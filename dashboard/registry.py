"""The instrument registry: filtering the list and one instrument's usage history (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard import policy as P
from dashboard.census import banner_of
from dashboard.national import WAN

# Columns the free-text search looks at.
SEARCH_COLUMNS = ("name_zh", "name_en", "model", "manufacturer", "inner_id")


@dataclass(frozen=True)
class RegistryFilter:
    """What the user asked for; empty fields do not filter."""

    text: str = ""
    regions: tuple[str, ...] = ()  # a banner also matches the zones that lie in it
    unit_ids: tuple[int, ...] = ()
    top_classes: tuple[str, ...] = ()  # 2-digit codes
    middle_classes: tuple[str, ...] = ()  # 4-digit codes
    min_value_wan: float | None = None
    max_value_wan: float | None = None
    share_modes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()


def text_matches(instruments: pd.DataFrame, text: str) -> pd.Series:
    """Rows whose name, English name, model, maker or inner id contains `text` (case-insensitive)."""
    needle = text.strip().casefold()
    mask = pd.Series(False, index=instruments.index)
    for col in SEARCH_COLUMNS:
        if col in instruments:
            hay = instruments[col].fillna("").astype(str).str.casefold()
            mask |= hay.str.contains(needle, regex=False)
    return mask


def filter_instruments(instruments: pd.DataFrame, flt: RegistryFilter, regions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The instruments matching every given criterion. `regions` (the regions frame) lets a banner
    match instruments placed in the zones inside it."""
    mask = pd.Series(True, index=instruments.index)
    if flt.text.strip():
        mask &= text_matches(instruments, flt.text)
    if flt.regions:
        mask &= _region_mask(instruments["region_code"], flt.regions, regions)
    if flt.unit_ids:
        mask &= instruments["unit_id"].isin(flt.unit_ids)
    codes = instruments["class_code"].astype(str)
    if flt.top_classes:
        mask &= codes.str[:2].isin(flt.top_classes)
    if flt.middle_classes:
        mask &= codes.str[:4].isin(flt.middle_classes)
    value_wan = instruments["original_value"].astype(float) / WAN
    if flt.min_value_wan is not None:
        mask &= value_wan >= flt.min_value_wan
    if flt.max_value_wan is not None:
        mask &= value_wan <= flt.max_value_wan
    if flt.share_modes:
        mask &= instruments["share_mode"].isin(flt.share_modes)
    if flt.statuses:
        mask &= instruments["status"].isin(flt.statuses)
    return instruments[mask].reset_index(drop=True)


def _region_mask(codes: pd.Series, chosen: tuple[str, ...], regions: pd.DataFrame | None) -> pd.Series:
    direct = codes.isin(chosen)
    if regions is None or regions.empty:
        return direct
    banner = codes.map(banner_of(regions))
    return direct | banner.isin(chosen)


def value_bounds_wan(instruments: pd.DataFrame) -> tuple[float, float]:
    """Smallest and largest original value in 万元, for the range widget (0, 0 when empty)."""
    if instruments.empty:
        return 0.0, 0.0
    values = instruments["original_value"].astype(float) / WAN
    return float(values.min()), float(values.max())


def monthly_history(usage_monthly: pd.DataFrame) -> pd.DataFrame:
    """Monthly rows of one instrument as a chart frame: month (first day), effective_hours, external_hours."""
    if usage_monthly.empty:
        return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"), "effective_hours": pd.Series(dtype=float),
                             "external_hours": pd.Series(dtype=float)})
    month = pd.to_datetime(dict(year=usage_monthly["year"], month=usage_monthly["month"], day=1))
    return pd.DataFrame({
        "month": month,
        "effective_hours": usage_monthly["effective_hours"].astype(float),
        "external_hours": usage_monthly["external_hours"].astype(float),
    }).sort_values("month").reset_index(drop=True)


def annual_history(usage_monthly: pd.DataFrame, purpose: str, policy: P.PolicyDefaults = P.DEFAULTS) -> pd.DataFrame:
    """Yearly totals of one instrument: year, months, effective_hours, external_hours, rated_hours,
    utilisation (effective / rated) and external_share (external / effective; None without use)."""
    columns = ["year", "months", "effective_hours", "external_hours", "rated_hours", "utilisation", "external_share"]
    if usage_monthly.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    out = (
        usage_monthly.groupby("year")
        .agg(months=("month", "size"), effective_hours=("effective_hours", "sum"), external_hours=("external_hours", "sum"))
        .reset_index()
    )
    out["rated_hours"] = P.rated_hours(purpose, policy)
    out["utilisation"] = out["effective_hours"] / out["rated_hours"]
    used = out["effective_hours"] > 0
    out["external_share"] = (out["external_hours"] / out["effective_hours"]).where(used)
    return out[columns]


# National enumeration field (catalogue "enum.<field>.<value>") of each enumerated instrument column.
ENUM_FIELDS = {
    "affiliate": "affiliate",
    "source": "source",
    "funding": "funding",
    "purpose": "purpose",
    "status": "status",
    "share_mode": "share_mode",
    "customs_supervised": "yes_no",
    "exempt_reason": "exempt_reason",
    "operation_mode": "operation_mode",
}


def class_path(code: str, classes: pd.DataFrame, name_column: str = "name_zh") -> str:
    """'010501 分析仪器 › 色谱仪器': the code with the names of its top and middle classes."""
    names = dict(zip(classes["code"], classes[name_column])) if not classes.empty else {}
    parts = [names[c] for c in (code[:2], code[:4]) if c in names]
    return f"{code} " + " › ".join(parts) if parts else code


def class_label(code: str, classes: pd.DataFrame, name_column: str = "name_zh") -> str:
    """'010501 色谱仪器': the code with the name of the most specific known class (short, for tables)."""
    names = dict(zip(classes["code"], classes[name_column])) if not classes.empty else {}
    for prefix in (code[:4], code[:2]):
        if prefix in names:
            return f"{code} {names[prefix]}"
    return code
