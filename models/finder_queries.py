"""Read queries of the service finder (找服务, `dashboard.finder`). Each returns a DataFrame.

`share_mode` narrows every query to the instruments of one share mode (the finder passes
外部共享, so the closed and internal-only instruments are never even read); None reads all. The
rule of which instruments are offered (share mode, exemption, status) is applied in
`dashboard.finder.offered`, not here.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import case, func
from sqlalchemy.engine import Engine
from sqlmodel import select

from models import tables as T

# Instrument columns the finder shows or searches (the long free texts of the national record
# included: functions, specifications, service content, sharing rules, fee standard).
INSTRUMENT_COLUMNS = (
    "id", "unit_id", "inner_id", "name_zh", "name_en", "class_code", "model", "manufacturer", "purpose",
    "original_value", "technical_specs", "functions", "service_content", "status", "share_mode", "exempt_reason",
    "sharing_rules", "fee_standard", "booking_url", "address", "contact", "phone", "email", "region_code",
)


def _frame(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(stmt)
        columns = list(result.keys())
        rows = [tuple(row) for row in result]  # plain tuples: see models.queries._frame
    return pd.DataFrame.from_records(rows, columns=columns)


def finder_instruments(engine: Engine, share_mode: str | None = None) -> pd.DataFrame:
    """Instruments (INSTRUMENT_COLUMNS) with their holder and region: unit_name, unit_name_en,
    unit_type, unit_address, unit_lat, unit_lon (NaN when unknown), unit_contact, unit_phone,
    unit_email, region_name_zh, region_name_en; by instrument id."""
    I, U, R = T.Instrument, T.Unit, T.Region
    stmt = (
        select(*(getattr(I, c) for c in INSTRUMENT_COLUMNS),
               U.name.label("unit_name"), U.name_en.label("unit_name_en"), U.unit_type.label("unit_type"),
               U.address.label("unit_address"), U.lat.label("unit_lat"), U.lon.label("unit_lon"),
               U.contact.label("unit_contact"), U.phone.label("unit_phone"), U.email.label("unit_email"),
               R.name_zh.label("region_name_zh"), R.name_en.label("region_name_en"))
        .join(U, U.id == I.unit_id)
        .join(R, R.code == I.region_code)
        .order_by(I.id)
    )
    if share_mode is not None:
        stmt = stmt.where(I.share_mode == share_mode)
    df = _frame(engine, stmt)
    df["original_value"] = df["original_value"].astype(float)
    for col in ("unit_lat", "unit_lon"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def service_texts(engine: Engine, share_mode: str | None = None) -> pd.DataFrame:
    """The distinct non-empty service contents of each instrument's service records
    (instrument_id, service_content), by instrument then text."""
    S, I = T.ServiceRecord, T.Instrument
    stmt = (
        select(S.instrument_id, S.service_content).distinct()
        .join(I, I.id == S.instrument_id)
        .where(S.service_content != "")
        .order_by(S.instrument_id, S.service_content)
    )
    if share_mode is not None:
        stmt = stmt.where(I.share_mode == share_mode)
    return _frame(engine, stmt)


def service_ratings(engine: Engine, share_mode: str | None = None) -> pd.DataFrame:
    """Service records per instrument and rating (the stored national text, "" when unrated):
    instrument_id, rating, records, voucher_records (voucher_amount_cny > 0), last_start (the
    latest start_time, a naive local datetime); by instrument then rating."""
    S, I = T.ServiceRecord, T.Instrument
    stmt = (
        select(S.instrument_id, S.rating, func.count().label("records"),
               func.sum(case((S.voucher_amount_cny > 0, 1), else_=0)).label("voucher_records"),
               func.max(S.start_time).label("last_start"))
        .join(I, I.id == S.instrument_id)
        .group_by(S.instrument_id, S.rating)
        .order_by(S.instrument_id, S.rating)
    )
    if share_mode is not None:
        stmt = stmt.where(I.share_mode == share_mode)
    df = _frame(engine, stmt)
    for col in ("records", "voucher_records"):
        df[col] = pd.to_numeric(df[col]).fillna(0).astype("int64")
    df["last_start"] = pd.to_datetime(df["last_start"])
    df["rating"] = df["rating"].fillna("").astype(str) if len(df) else df["rating"]
    return df
