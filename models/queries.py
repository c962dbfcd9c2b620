"""Read queries: each returns a pandas DataFrame. Aggregation that SQL does well happens here,
so pages and charts receive small frames, never raw usage rows."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from models import scenario_queries
from models import tables as T


def _frame(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(stmt)
        columns = list(result.keys())
        # Plain tuples: given SQLAlchemy Row objects pandas probes each one for array attributes,
        # which was 40 % of reading the usage table at province scale.
        rows = [tuple(row) for row in result]
    return pd.DataFrame.from_records(rows, columns=columns)


def regions(engine: Engine) -> pd.DataFrame:
    return _frame(engine, select(T.Region).order_by(T.Region.code))


def instrument_classes(engine: Engine) -> pd.DataFrame:
    return _frame(engine, select(T.InstrumentClass).order_by(T.InstrumentClass.code))


def units(engine: Engine) -> pd.DataFrame:
    """Holding units with their region names and instrument counts."""
    counts = (
        select(T.Instrument.unit_id, func.count().label("instrument_count"))
        .group_by(T.Instrument.unit_id)
        .subquery()
    )
    stmt = (
        select(
            T.Unit,
            T.Region.name_zh.label("region_name_zh"),
            T.Region.name_en.label("region_name_en"),
            func.coalesce(counts.c.instrument_count, 0).label("instrument_count"),
        )
        .join(T.Region, T.Region.code == T.Unit.region_code)
        .outerjoin(counts, counts.c.unit_id == T.Unit.id)
        .order_by(T.Unit.id)
    )
    return _frame(engine, stmt)


def instruments(engine: Engine) -> pd.DataFrame:
    """All instruments with holder name, holder type and region names."""
    stmt = (
        select(
            T.Instrument,
            T.Unit.name.label("unit_name"),
            T.Unit.name_en.label("unit_name_en"),
            T.Unit.unit_type.label("unit_type"),
            T.Region.name_zh.label("region_name_zh"),
            T.Region.name_en.label("region_name_en"),
        )
        .join(T.Unit, T.Unit.id == T.Instrument.unit_id)
        .join(T.Region, T.Region.code == T.Instrument.region_code)
        .order_by(T.Instrument.id)
    )
    df = _frame(engine, stmt)
    if not df.empty:
        df["start_date"] = pd.to_datetime(df["start_date"])
    return df


def usage_by_instrument_year(engine: Engine, year: int | None = None) -> pd.DataFrame:
    """Annual usage totals per instrument (all years, or one year)."""
    stmt = select(
        T.UsageMonthly.instrument_id,
        T.UsageMonthly.year,
        func.sum(T.UsageMonthly.effective_hours).label("effective_hours"),
        func.sum(T.UsageMonthly.external_hours).label("external_hours"),
        func.sum(T.UsageMonthly.samples).label("samples"),
        func.sum(T.UsageMonthly.downtime_hours).label("downtime_hours"),
        func.count().label("months_reported"),
    ).group_by(T.UsageMonthly.instrument_id, T.UsageMonthly.year)
    if year is not None:
        stmt = stmt.where(T.UsageMonthly.year == year)
    df = _frame(engine, stmt.order_by(T.UsageMonthly.instrument_id, T.UsageMonthly.year))
    for col in ("effective_hours", "external_hours", "downtime_hours"):
        df[col] = df[col].astype(float)
    df["samples"] = df["samples"].astype("int64")
    return df


def usage_monthly_for(engine: Engine, instrument_id: int) -> pd.DataFrame:
    """Monthly usage history of one instrument."""
    stmt = (
        select(T.UsageMonthly)
        .where(T.UsageMonthly.instrument_id == instrument_id)
        .order_by(T.UsageMonthly.year, T.UsageMonthly.month)
    )
    return _frame(engine, stmt)


def usage_monthly(engine: Engine, year: int | None = None) -> pd.DataFrame:
    """Monthly usage rows of every instrument (all years, or one year), ordered by instrument and
    month. Columns: instrument_id, year, month, effective_hours, external_hours, samples,
    downtime_hours."""
    U = T.UsageMonthly
    stmt = select(U.instrument_id, U.year, U.month, U.effective_hours, U.external_hours, U.samples,
                  U.downtime_hours)
    if year is not None:
        stmt = stmt.where(U.year == year)
    df = _frame(engine, stmt.order_by(U.instrument_id, U.year, U.month))
    for col in ("effective_hours", "external_hours", "downtime_hours"):
        df[col] = df[col].astype(float)
    for col in ("year", "month", "samples"):
        df[col] = df[col].astype("int64")
    return df


def usage_years(engine: Engine) -> list[int]:
    """Years that have any usage data, ascending."""
    with engine.connect() as conn:
        rows = conn.execute(select(T.UsageMonthly.year).distinct().order_by(T.UsageMonthly.year))
        return [int(r[0]) for r in rows]


def services(engine: Engine, year: int | None = None) -> pd.DataFrame:
    """Service records with the holding unit of the instrument."""
    stmt = (
        select(T.ServiceRecord, T.Instrument.unit_id, T.Instrument.inner_id)
        .join(T.Instrument, T.Instrument.id == T.ServiceRecord.instrument_id)
        .order_by(T.ServiceRecord.id)
    )
    df = _frame(engine, stmt)
    if year is not None and not df.empty:
        df = df[pd.to_datetime(df["start_time"]).dt.year == year].reset_index(drop=True)
    return df


def store_meta(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        row = conn.execute(select(T.StoreMeta.value).where(T.StoreMeta.key == key)).first()
        return None if row is None else row[0]


def count_rows(engine: Engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def submissions(engine: Engine, year: int | None = None, kind: str | None = None) -> pd.DataFrame:
    """Reporting submissions (all, or of one year and/or kind), oldest first.

    submitted_at comes back as aware UTC timestamps (NaT: not reported). The store writes aware UTC
    datetimes; PostgreSQL keeps them in a timestamptz column (whatever the server's time zone) and
    SQLite as naive UTC wall time, so naive values are read as UTC here. due_date is a datetime64
    day; month is nullable (None for an annual submission)."""
    stmt = select(T.Submission).order_by(T.Submission.id)
    if year is not None:
        stmt = stmt.where(T.Submission.year == year)
    if kind is not None:
        stmt = stmt.where(T.Submission.kind == kind)
    df = _frame(engine, stmt)
    df["submitted_at"] = pd.to_datetime(df["submitted_at"], utc=True)
    df["due_date"] = pd.to_datetime(df["due_date"])
    df["month"] = df["month"].astype("Int64")
    return df


def services_for_evaluation(engine: Engine, year: int) -> pd.DataFrame:
    """The service records of one year, with only the columns the evaluation reads.

    Same rows as `services(engine, year)`, but `services` reads every year and every column and
    filters in pandas (≈1 s for the league demo, ≈16 s at province scale); this asks the database
    for one year and the eight columns needed. start_time is a naive local datetime, so the year
    is the half-open range [1 Jan year, 1 Jan year+1)."""
    S = T.ServiceRecord
    stmt = (
        select(S.id, S.instrument_id, T.Instrument.unit_id, S.user_type, S.applicant_unit,
               S.service_amount_cny, S.rating, S.voucher_amount_cny)
        .join(T.Instrument, T.Instrument.id == S.instrument_id)
        .where(S.start_time >= datetime(year, 1, 1), S.start_time < datetime(year + 1, 1, 1))
        .order_by(S.id)
    )
    return _frame(engine, stmt)


def scenarios(engine: Engine) -> pd.DataFrame:
    """Saved scenarios, newest first (id, name, note, created_at, created_by)."""
    return scenario_queries.list_scenarios(engine)


def purchase_requests(engine: Engine) -> pd.DataFrame:
    """Purchase requests (every PurchaseRequest column) with the applicant unit's name and name_en
    as applicant_name, applicant_name_en and the location's region_name_zh, region_name_en;
    oldest submission first, then id. submitted_date is a datetime64 day; quoted_price in CNY
    (float)."""
    P = T.PurchaseRequest
    stmt = (
        select(P, T.Unit.name.label("applicant_name"), T.Unit.name_en.label("applicant_name_en"),
               T.Region.name_zh.label("region_name_zh"), T.Region.name_en.label("region_name_en"))
        .join(T.Unit, T.Unit.id == P.applicant_unit_id)
        .join(T.Region, T.Region.code == P.region_code)
        .order_by(P.submitted_date, P.id)
    )
    df = _frame(engine, stmt)
    df["submitted_date"] = pd.to_datetime(df["submitted_date"])
    df["quoted_price"] = df["quoted_price"].astype(float)
    return df


def review_decisions(engine: Engine) -> pd.DataFrame:
    """Every review decision (ReviewDecision columns), by request then id (oldest first);
    decided_date a date, supersedes_id nullable Int64."""
    D = T.ReviewDecision
    df = _frame(engine, select(D).order_by(D.request_id, D.id))
    df["supersedes_id"] = df["supersedes_id"].astype("Int64")
    return df


def duplicate_checks(engine: Engine, request_id: int | None = None) -> pd.DataFrame:
    """Duplicate-check runs (DuplicateCheck columns) of every request or of one, by request then
    id (oldest first)."""
    C = T.DuplicateCheck
    stmt = select(C).order_by(C.request_id, C.id)
    if request_id is not None:
        stmt = stmt.where(C.request_id == int(request_id))
    return _frame(engine, stmt)


def audit_entries(engine: Engine) -> pd.DataFrame:
    """The audit trail (AuditEntry columns), newest first; `at` an aware UTC timestamp."""
    A = T.AuditEntry
    df = _frame(engine, select(A).order_by(A.at.desc(), A.id.desc()))
    at = pd.to_datetime(df["at"])
    df["at"] = at.dt.tz_localize("UTC") if at.dt.tz is None else at.dt.tz_convert("UTC")
    return df


def users(engine: Engine) -> pd.DataFrame:
    """Accounts without their password hashes (id, username, display_name, email, role, active,
    created_at, has_password), by username."""
    U = T.User
    df = _frame(engine, select(U.id, U.username, U.display_name, U.email, U.role, U.active, U.created_at,
                               (U.password_hash != "").label("has_password")).order_by(U.username))
    df["active"] = df["active"].astype(bool)
    df["has_password"] = df["has_password"].astype(bool)
    return df
