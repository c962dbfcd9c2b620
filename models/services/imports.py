"""Writing validated import records: all or nothing, upsert on natural keys.

Natural keys: unit name; unit + internal asset number; instrument + year + month;
instrument + start time + applicant unit. A record whose fields all equal the stored ones counts
as unchanged; when nothing at all changes, no audit entry is written and the data revision stays.
Records only carry the columns present in the file, so an update never blanks a column the file
did not have. The records are expected to be validated (dashboard.importer); anything the
database still refuses (a unit deleted since validation, a constraint validation does not know)
rolls everything back and raises ImportRejected.
"""

from __future__ import annotations

from dashboard import auth
import calendar
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel, select

from models import tables as T
from models.db import WRITE_TRANSACTION
from models.services.audit import record_write


@dataclass(frozen=True)
class ImportCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    submissions: int = 0  # usage: unit-months newly recorded as submitted

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.submissions)


class StaleReference(LookupError):
    """A unit or instrument named by a validated record no longer exists."""


class ImportRejected(RuntimeError):
    """The store refused the write; the transaction was rolled back, nothing is written."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def apply_import(
    engine: Engine,
    kind: str,
    records: list[dict],
    *,
    actor: str,
    file_name: str,
    due_day: int,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ImportCounts:
    """Upsert `records` of `kind` in one transaction. With dry_run the counts are worked out the
    same way and the transaction is rolled back. Raises ImportRejected when the store refuses."""
    if not dry_run:
        actor = auth.require(actor, auth.DATA_IMPORT).audit_name()
    now = now or datetime.now(timezone.utc)
    # A write transaction even for a dry run (it flushes its rows before rolling back): the store's
    # writers are serialised, so the reads it upserts against stay true until it commits.
    with Session(engine, execution_options=WRITE_TRANSACTION) as session:
        try:
            counts = _WRITERS[kind](session, records, due_day=due_day, now=now)
            if counts.changed and not dry_run:
                record_write(
                    session,
                    actor=actor,
                    action=f"import.{kind}",
                    entity=kind,
                    entity_key=file_name,
                    summary=f"{file_name}: {counts.inserted} inserted, {counts.updated} updated, "
                    f"{counts.unchanged} unchanged",
                    after={"file": file_name, **asdict(counts)},
                )
            if dry_run:
                session.rollback()
            else:
                session.commit()
            return counts
        except (StaleReference, SQLAlchemyError) as exc:
            session.rollback()
            raise ImportRejected(_rejection_detail(exc)) from exc
        except BaseException:
            session.rollback()
            raise


def _rejection_detail(exc: Exception) -> str:
    """The reason in one line: the missing reference, or the database's own message (its first
    line; SQLAlchemy appends the statement and parameters, which can be huge)."""
    if isinstance(exc, StaleReference):
        key = exc.args[0]
        return " / ".join(key) if isinstance(key, tuple) else str(key)
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


class _Tally:
    def __init__(self):
        self.inserted = self.updated = self.unchanged = 0

    def counts(self, submissions: int = 0) -> ImportCounts:
        return ImportCounts(self.inserted, self.updated, self.unchanged, submissions)


def _with_defaults(model: type[SQLModel], values: dict) -> dict:
    """Blank (None) cells take the table's default, so non-nullable columns stay valid."""
    out = {}
    for key, value in values.items():
        if value is None:
            value = model.model_fields[key].get_default(call_default_factory=True)
        out[key] = value
    return out


def _upsert(session: Session, existing, model: type[SQLModel], values: dict, tally: _Tally):
    """Insert a new row, or update `existing` when any field differs; returns the row."""
    values = _with_defaults(model, values)
    if existing is None:
        row = model(**values)
        session.add(row)
        tally.inserted += 1
        return row
    if any(getattr(existing, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(existing, k, v)
        session.add(existing)
        tally.updated += 1
    else:
        tally.unchanged += 1
    return existing


def _write_units(session: Session, records, **_) -> ImportCounts:
    tally = _Tally()
    by_name = {u.name: u for u in session.exec(select(T.Unit))}
    for rec in records:
        by_name[rec["name"]] = _upsert(session, by_name.get(rec["name"]), T.Unit, rec, tally)
    return tally.counts()


def _write_instruments(session: Session, records, **_) -> ImportCounts:
    tally = _Tally()
    units = {u.name: u for u in session.exec(select(T.Unit))}
    existing = {(i.unit_id, i.inner_id): i for i in session.exec(select(T.Instrument))}
    for rec in records:
        unit = units.get(rec["unit"])
        if unit is None:
            raise StaleReference(rec["unit"])
        values = {k: v for k, v in rec.items() if k != "unit"}
        values["unit_id"] = unit.id
        current = existing.get((unit.id, rec["inner_id"]))
        if current is None:
            values.setdefault("region_code", unit.region_code)  # 安放地区 defaults to the unit's
        existing[(unit.id, rec["inner_id"])] = _upsert(session, current, T.Instrument, values, tally)
    return tally.counts()


def _instrument_ids(session: Session, records) -> dict[tuple[str, str], tuple[int, int]]:
    """(unit name, internal number) -> (instrument id, unit id) for the instruments named."""
    wanted = {(r["unit"], r["inner_id"]) for r in records}
    stmt = select(T.Unit.name, T.Instrument.inner_id, T.Instrument.id, T.Unit.id).join(
        T.Unit, T.Unit.id == T.Instrument.unit_id
    )
    found = {(u, i): (iid, uid) for u, i, iid, uid in session.exec(stmt) if (u, i) in wanted}
    missing = wanted - found.keys()
    if missing:
        raise StaleReference(sorted(missing)[0])
    return found


def _write_usage(session: Session, records, *, due_day: int, now: datetime) -> ImportCounts:
    tally = _Tally()
    ids = _instrument_ids(session, records)
    instrument_ids = [iid for iid, _ in ids.values()]
    years = {r["year"] for r in records}
    stmt = select(T.UsageMonthly).where(
        T.UsageMonthly.instrument_id.in_(instrument_ids), T.UsageMonthly.year.in_(years)
    )
    existing = {(u.instrument_id, u.year, u.month): u for u in session.exec(stmt)}
    unit_months = set()
    for rec in records:
        iid, uid, values = _instrument_values(rec, ids)
        key = (iid, rec["year"], rec["month"])
        existing[key] = _upsert(session, existing.get(key), T.UsageMonthly, values, tally)
        unit_months.add((uid, rec["year"], rec["month"]))
    return tally.counts(_record_submissions(session, unit_months, due_day=due_day, now=now))


def _instrument_values(rec: dict, ids: dict) -> tuple[int, int, dict]:
    """(instrument id, unit id, column values) of a usage or service record: the file's unit and
    internal asset number replaced by the instrument's id."""
    iid, uid = ids[(rec["unit"], rec["inner_id"])]
    values = {k: v for k, v in rec.items() if k not in ("unit", "inner_id")}
    values["instrument_id"] = iid
    return iid, uid, values


def due_date(year: int, month: int, due_day: int) -> date:
    """Monthly reports are due on `due_day` of the following month."""
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, min(due_day, calendar.monthrange(year, month)[1]))


def _record_submissions(session: Session, unit_months: set, *, due_day: int, now: datetime) -> int:
    """Mark the unit-months as reported now, unless already reported; returns how many."""
    unit_ids = {uid for uid, _, _ in unit_months}
    stmt = select(T.Submission).where(T.Submission.kind == "usage", T.Submission.unit_id.in_(unit_ids))
    existing = {(s.unit_id, s.year, s.month): s for s in session.exec(stmt)}
    recorded = 0
    for uid, year, month in sorted(unit_months):
        sub = existing.get((uid, year, month))
        if sub is not None and sub.submitted_at is not None:
            continue
        if sub is None:
            sub = T.Submission(unit_id=uid, kind="usage", year=year, month=month,
                               due_date=due_date(year, month, due_day))
        sub.submitted_at = now
        session.add(sub)
        recorded += 1
    return recorded


def _write_services(session: Session, records, **_) -> ImportCounts:
    tally = _Tally()
    ids = _instrument_ids(session, records)
    instrument_ids = [iid for iid, _ in ids.values()]
    stmt = select(T.ServiceRecord).where(T.ServiceRecord.instrument_id.in_(instrument_ids))
    existing = {(s.instrument_id, s.start_time, s.applicant_unit): s for s in session.exec(stmt)}
    for rec in records:
        iid, _, values = _instrument_values(rec, ids)
        key = (iid, rec["start_time"], rec["applicant_unit"])
        existing[key] = _upsert(session, existing.get(key), T.ServiceRecord, values, tally)
    return tally.counts()


_WRITERS = {
    "units": _write_units,
    "instruments": _write_instruments,
    "usage": _write_usage,
    "services": _write_services,
}
