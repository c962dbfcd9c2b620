"""Read queries: each returns a pandas DataFrame. Aggregation that SQL does well happens here,
so pages and charts receive small frames, never raw usage rows."""

from __future__ import annotations

from datetime import datetime
from itertools import islice

import pandas as pd
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression
from sqlmodel import select

from models import scenario_queries
from models import tables as T


FRAME_CHUNK_ROWS = 50_000


def _frame(engine: Engine, stmt) -> pd.DataFrame:
    """The rows of `stmt` as a DataFrame, typed as `pd.DataFrame.from_records` types all of them.

    The rows are turned into columns FRAME_CHUNK_ROWS at a time, so a large read never holds all
    its rows as Python objects at once (`services(engine, 2025)` of the national benchmark store,
    715,797 records: peak resident memory 1,785 → 630 MiB, and no slower)."""
    with engine.connect() as conn:
        result = conn.execute(stmt)
        columns = list(result.keys())
        # Plain tuples: given SQLAlchemy Row objects pandas probes each one for array attributes,
        # which was 40 % of reading the usage table at province scale.
        rows = (tuple(row) for row in result)
        parts = []
        while chunk := list(islice(rows, FRAME_CHUNK_ROWS)):
            parts.append(pd.DataFrame.from_records(chunk, columns=columns))
            del chunk
    if len(parts) <= 1:
        return parts[0] if parts else pd.DataFrame.from_records([], columns=columns)
    return _joined(parts)


def _joined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts one under the other, each column typed as if inferred from all rows at once.

    A column typed alike in every part keeps that type. One typed differently in some part (a part
    with only NULLs in it is an object column, others int64, float64, str or datetime64) is
    inferred again from the parts' values, as `from_records` would from the whole column."""
    first = parts[0]
    uneven = [i for i, dtype in enumerate(first.dtypes) if any(p.dtypes.iloc[i] != dtype for p in parts[1:])]
    if not uneven:
        return pd.concat(parts, ignore_index=True)
    even = [i for i in range(first.shape[1]) if i not in uneven]
    frame = pd.concat([p.iloc[:, even] for p in parts], ignore_index=True)
    for i in uneven:  # ascending: each lands at its own position
        name = first.columns[i]
        values = [(v,) for p in parts for v in p.iloc[:, i].astype(object).tolist()]
        frame.insert(i, name, pd.DataFrame.from_records(values, columns=[name]).iloc[:, 0], allow_duplicates=True)
    return frame


def _in_year(engine: Engine, moment, year: int) -> list:
    """WHERE terms for the rows whose naive local datetime column `moment` lies in `year`: the
    half-open range [1 Jan year, 1 Jan year+1), the same rows as `pd.to_datetime(...).dt.year == year`.

    On SQLite the range is also narrowed to the rowids between the first and the last matching row
    (two scalar subqueries on the column's index), and the range itself is tested on each row
    of that stretch (`+column`: no index) instead of looking every match up through the index.
    Rows are stored in id order, so when records of different years are interleaved (as the
    demo generator writes them) the index path costs a B-tree search per matching row — 2.2 s
    instead of 0.9 s for the 416,000 service records of 2025 at province scale — while a store
    imported year by year reads only that year's stretch either way. PostgreSQL plans the
    plain range from its statistics."""
    start, end = datetime(year, 1, 1), datetime(year + 1, 1, 1)
    if engine.dialect.name != "sqlite":
        return [moment >= start, moment < end]
    table = moment.table
    key = table.primary_key.columns.values()[0]
    rows = table.alias(f"{table.name}_of_year")
    span = [rows.c[moment.key] >= start, rows.c[moment.key] < end]
    unindexed = UnaryExpression(moment, operator=operators.custom_op("+"), type_=moment.type)
    return [
        key >= select(func.min(rows.c[key.key])).where(*span).scalar_subquery(),
        key <= select(func.max(rows.c[key.key])).where(*span).scalar_subquery(),
        unindexed >= start, unindexed < end,
    ]


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


def units_for_evaluation(engine: Engine) -> pd.DataFrame:
    """The rows of `units` (same order) with only the columns the evaluation reads: id, name,
    name_en, unit_type, region_code."""
    U = T.Unit
    stmt = (
        select(U.id, U.name, U.name_en, U.unit_type, U.region_code)
        .join(T.Region, T.Region.code == U.region_code)
        .order_by(U.id)
    )
    return _frame(engine, stmt)


def instruments_for_evaluation(engine: Engine) -> pd.DataFrame:
    """The rows of `instruments` (same order) with only the columns the evaluation reads: id,
    unit_id, start_date (datetime64), status, exempt_reason, share_mode, booking_url, purpose,
    original_value. `instruments` also reads every long text of every instrument (specifications,
    functions, sharing rules …): at national scale 5 s and 600 MiB, against a fraction of that."""
    N = T.Instrument
    stmt = (
        select(N.id, N.unit_id, N.start_date, N.status, N.exempt_reason, N.share_mode, N.booking_url,
               N.purpose, N.original_value)
        .join(T.Unit, T.Unit.id == N.unit_id)
        .join(T.Region, T.Region.code == N.region_code)
        .order_by(N.id)
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
    """Service records (every ServiceRecord column) with the holding unit and inner id of the
    instrument, by id; all years, or the records whose start_time lies in `year` (naive local
    time: the half-open range [1 Jan year, 1 Jan year+1), asked of the database)."""
    stmt = (
        select(T.ServiceRecord, T.Instrument.unit_id, T.Instrument.inner_id)
        .join(T.Instrument, T.Instrument.id == T.ServiceRecord.instrument_id)
        .order_by(T.ServiceRecord.id)
    )
    if year is None:
        return _frame(engine, stmt)
    df = _frame(engine, stmt.where(*_in_year(engine, T.ServiceRecord.__table__.c.start_time, year)))
    if df.empty:
        # No record that year: the columns typed as a read of records would type them (a frame
        # of no rows from the database would leave every column an object column).
        df = _frame(engine, stmt.limit(1)).iloc[:0]
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

    Same rows as `services(engine, year)`, but only the eight columns needed (the long texts of
    every record stay in the database). start_time is a naive local datetime, so the year is the
    half-open range [1 Jan year, 1 Jan year+1)."""
    S = T.ServiceRecord
    stmt = (
        select(S.id, S.instrument_id, T.Instrument.unit_id, S.user_type, S.applicant_unit,
               S.service_amount_cny, S.rating, S.voucher_amount_cny)
        .join(T.Instrument, T.Instrument.id == S.instrument_id)
        .where(*_in_year(engine, S.__table__.c.start_time, year))
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


INCENTIVE_SERVICE_COLUMNS = ("id", "instrument_id", "unit_id", "start_time", "service_amount_cny",
                             "applicant_unit", "user_type", "client_kind", "client_region_code",
                             "voucher_amount_cny")


def services_for_incentives(engine: Engine, year: int) -> pd.DataFrame:
    """The service records of `year` with only the columns the incentives page reads (voucher
    simulation, external income, nominally-open check): the same rows, in the same id order and
    typed as `services(engine, year)` gives them (also when the year has no record), without the
    long texts — 64 MB instead of 145 MB at province scale."""
    S = T.ServiceRecord
    stmt = (
        select(*[T.Instrument.unit_id if c == "unit_id" else getattr(S, c) for c in INCENTIVE_SERVICE_COLUMNS])
        .join(T.Instrument, T.Instrument.id == S.instrument_id)
        .order_by(S.id)
    )
    df = _frame(engine, stmt.where(*_in_year(engine, S.__table__.c.start_time, year)))
    if df.empty:
        # No record that year: typed as a read of records types them (an empty result would
        # leave every column an object column).
        df = _frame(engine, stmt.limit(1)).iloc[:0]
    return df
