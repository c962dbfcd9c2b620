"""Filtering the audit trail (models.queries.audit_entries) for the Audit page and its export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

LOCAL_TZ = "Asia/Shanghai"
EXPORT_COLUMNS = ("id", "at", "actor", "action", "entity", "entity_key", "summary", "before_json", "after_json")


def action_group(action: str) -> str:
    """'import.units' → 'import': the kind of write (catalogue audit.group.<group>)."""
    return str(action).split(".", 1)[0]


@dataclass(frozen=True)
class AuditFilter:
    """Days are Beijing calendar days, both ends included; empty tuples mean "all"."""

    start: date | None = None
    end: date | None = None
    actors: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    text: str = ""


def filter_entries(entries: pd.DataFrame, f: AuditFilter) -> pd.DataFrame:
    """The entries matching every condition of `f` (text: case-insensitive, in the action,
    entity, key, summary, before or after)."""
    if entries.empty:
        return entries
    keep = pd.Series(True, index=entries.index)
    day = pd.to_datetime(entries["at"], utc=True).dt.tz_convert(LOCAL_TZ).dt.date
    if f.start is not None:
        keep &= day >= f.start
    if f.end is not None:
        keep &= day <= f.end
    if f.actors:
        keep &= entries["actor"].isin(f.actors)
    if f.groups:
        keep &= entries["action"].map(action_group).isin(f.groups)
    needle = f.text.strip().lower()
    if needle:
        hay = entries[["action", "entity", "entity_key", "summary", "before_json", "after_json"]].fillna("") \
            .astype(str).agg(" ".join, axis=1).str.lower()
        keep &= hay.str.contains(needle, regex=False)
    return entries[keep]


def export_frame(entries: pd.DataFrame) -> pd.DataFrame:
    """The export's columns, times in Beijing time with their offset."""
    out = entries[list(EXPORT_COLUMNS)].copy()
    out["at"] = pd.to_datetime(out["at"], utc=True).dt.tz_convert(LOCAL_TZ).dt.strftime("%Y-%m-%d %H:%M:%S%z")
    return out


def export_csv(entries: pd.DataFrame) -> bytes:
    """The export as CSV for spreadsheet programs, every formula-like cell neutralised (a
    summary or a name typed by a user could start with = + - @)."""
    from dashboard.exporter import csv_document, neutralised

    frame = export_frame(entries)
    return csv_document(list(frame.columns), [[neutralised(v) for v in row] for row in frame.itertuples(index=False)])
