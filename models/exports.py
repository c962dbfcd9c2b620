"""Read queries for import and export: the records of each national-layout kind, keyed by layout
column keys (units by name, instruments by unit name + internal number), and the keys that
import validation checks references against. Values are store values (CNY, region codes)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import select

from models import tables as T
from models.queries import _frame

_UNIT_FIELDS = ("name", "name_en", "unit_type", "region_code", "address", "lat", "lon", "credit_code",
                "contact", "phone", "email", "is_sme", "note")
_USAGE_FIELDS = ("year", "month", "effective_hours", "external_hours", "samples", "downtime_hours")


def unit_rows(engine: Engine) -> pd.DataFrame:
    return _frame(engine, select(*(getattr(T.Unit, f) for f in _UNIT_FIELDS)))


def instrument_rows(engine: Engine) -> pd.DataFrame:
    fields = [c for c in T.Instrument.model_fields if c not in ("id", "unit_id")]
    stmt = select(T.Unit.name.label("unit"), *(getattr(T.Instrument, f) for f in fields)).join(
        T.Unit, T.Unit.id == T.Instrument.unit_id
    )
    return _frame(engine, stmt)


def usage_rows(engine: Engine) -> pd.DataFrame:
    stmt = (
        select(T.Unit.name.label("unit"), T.Instrument.inner_id,
               *(getattr(T.UsageMonthly, f) for f in _USAGE_FIELDS))
        .join(T.Instrument, T.Instrument.id == T.UsageMonthly.instrument_id)
        .join(T.Unit, T.Unit.id == T.Instrument.unit_id)
    )
    return _frame(engine, stmt)


def service_rows(engine: Engine) -> pd.DataFrame:
    fields = [c for c in T.ServiceRecord.model_fields if c not in ("id", "instrument_id")]
    stmt = (
        select(T.Unit.name.label("unit"), T.Instrument.inner_id,
               *(getattr(T.ServiceRecord, f) for f in fields))
        .join(T.Instrument, T.Instrument.id == T.ServiceRecord.instrument_id)
        .join(T.Unit, T.Unit.id == T.Instrument.unit_id)
    )
    return _frame(engine, stmt)


EXPORT_QUERIES = {
    "units": unit_rows,
    "instruments": instrument_rows,
    "usage": usage_rows,
    "services": service_rows,
}


def unit_regions(engine: Engine) -> dict[str, str]:
    """Unit name -> region code, for every unit in the store."""
    with engine.connect() as conn:
        return {name: code for name, code in conn.execute(select(T.Unit.name, T.Unit.region_code))}


def instrument_keys(engine: Engine) -> set[tuple[str, str]]:
    """(unit name, internal number) of every instrument in the store."""
    stmt = select(T.Unit.name, T.Instrument.inner_id).join(T.Unit, T.Unit.id == T.Instrument.unit_id)
    with engine.connect() as conn:
        return {(unit, inner) for unit, inner in conn.execute(stmt)}
