"""Write services of the purchase review: submit or import requests, record a duplicate-check run,
record a review decision. Each write is one transaction with its audit entry; a refused write
raises `dashboard.purchases.ReviewError` and changes nothing.

Decisions and check runs are never changed or deleted (models.tables guards both at flush time):
a new decision supersedes the one in force.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Mapping

import pandas as pd
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from dashboard import auth
from dashboard import dupcheck as D
from dashboard import purchases as PR
from models import queries
from models import tables as T
from models.db import bump_revision, session_scope
from models.services.audit import record_write

BEIJING_OFFSET = timedelta(hours=8)


def reference(engine: Engine) -> PR.Reference:
    return PR.Reference(units=queries.units(engine), classes=queries.instrument_classes(engine),
                        regions=queries.regions(engine))


def _taken_numbers(session: Session) -> set[str]:
    return set(session.exec(select(T.PurchaseRequest.request_no)).all())


def _existing_numbers(engine: Engine) -> set[str]:
    with Session(engine) as s:  # a read: no write lock
        return _taken_numbers(s)


_Prepare = Callable[[set[str]], tuple[list[dict], str]]


def _insert_requests(engine: Engine, prepare: _Prepare, actor: str, action: str) -> list[tuple[int, str]]:
    """Store the rows `prepare(taken)` returns with its audit summary, or raise the ReviewError it
    raises. `taken` is the request numbers in the store, read inside this write transaction, and
    store writers are serialised (models.db): two submissions at once cannot pick the same number,
    and a number given by the user and taken meanwhile is refused. Should the store's unique
    constraint still refuse a number (a writer outside this app), that is a request_no_taken
    refusal too; nothing is written."""
    rows: list[dict] = []
    try:
        with session_scope(engine) as s:
            rows, summary = prepare(_taken_numbers(s))
            added = [T.PurchaseRequest(**r, status=PR.SUBMITTED) for r in rows]
            s.add_all(added)
            s.flush()
            out = [(int(r.id), r.request_no) for r in added]
            record_write(s, actor=actor, action=action, entity="purchaserequest",
                         entity_key=",".join(no for _, no in out)[:250], summary=summary,
                         after=[{**r, "id": i} for r, (i, _) in zip(rows, out)])
    except IntegrityError as exc:
        if "request_no" not in str(exc.orig) or not rows:
            raise
        taken = _existing_numbers(engine)
        clash = [r["request_no"] for r in rows if r["request_no"] in taken] or [rows[0]["request_no"]]
        raise PR.ReviewError([PR.FieldError("request_no", "request_no_taken", clash[0])]) from exc
    return out


def submit_request(engine: Engine, raw: Mapping, *, actor: str, today: date) -> tuple[int, str]:
    """Store one request typed in the form; (id, request number)."""
    actor = auth.require(actor, auth.PURCHASE_ENTER).audit_name()
    clean, errors = PR.clean_request(raw, reference(engine), today)
    if clean["request_no"] and clean["request_no"] in _existing_numbers(engine):
        errors.append(PR.FieldError("request_no", "request_no_taken", clean["request_no"]))
    if errors:
        raise PR.ReviewError(errors)

    def prepare(taken: set[str]) -> tuple[list[dict], str]:
        if clean["request_no"] and clean["request_no"] in taken:  # given, and taken since the check
            raise PR.ReviewError([PR.FieldError("request_no", "request_no_taken", clean["request_no"])])
        rows = PR.number_requests([clean], taken)
        return rows, f"request {rows[0]['request_no']}"

    return _insert_requests(engine, prepare, actor, "purchase.submit")[0]


def import_requests(engine: Engine, frame: pd.DataFrame, *, actor: str, today: date,
                    aliases: Mapping[str, str], source: str = "") -> list[tuple[int, str]]:
    """Store every row of an imported table, or none (ReviewError lists every problem)."""
    actor = auth.require(actor, auth.PURCHASE_ENTER).audit_name()
    ref = reference(engine)

    def prepare(taken: set[str]) -> tuple[list[dict], str]:
        # Checked and numbered inside the write transaction (a table of requests is small).
        rows, errors = PR.parse_request_table(frame, ref, today, aliases, taken)
        if errors:
            raise PR.ReviewError(errors)
        return rows, f"{len(rows)} requests from {source}".strip()

    return _insert_requests(engine, prepare, actor, "purchase.import")


@dataclass(frozen=True)
class CheckRun:
    id: int
    snapshot: dict
    recommendation: D.Recommendation


@dataclass(frozen=True)
class CheckInputs:
    """The frames a check reads, loaded once for a batch of checks."""

    instruments: pd.DataFrame
    usage: pd.DataFrame
    requests: pd.DataFrame
    units: pd.DataFrame
    regions: pd.DataFrame


def check_inputs(engine: Engine) -> CheckInputs:
    return CheckInputs(queries.instruments(engine), queries.usage_by_instrument_year(engine),
                       queries.purchase_requests(engine), queries.units(engine), queries.regions(engine))


def _evaluate(request_id: int, data: CheckInputs, restricted: pd.DataFrame | None, review: D.ReviewRules,
              on_date: date | None) -> tuple[D.Recommendation, dict]:
    hit = data.requests[data.requests["id"] == int(request_id)]
    if hit.empty:
        raise PR.ReviewError([PR.FieldError("request", "unknown_request", str(request_id))])
    row = hit.iloc[0].to_dict()
    check = PR.check_of(row, on_date)
    rec = D.recommend(check, data.instruments, data.usage, requests=data.requests[data.requests["id"] != int(request_id)],
                      restricted=restricted, review=review)
    distances = PR.match_distances(rec.matches, row["region_code"], data.units, data.regions)
    return rec, PR.check_snapshot(check, rec, distances, review)


def _check_row(request_id: int, rec: D.Recommendation, snapshot: dict, actor: str,
               at: datetime | None) -> T.DuplicateCheck:
    run = T.DuplicateCheck(request_id=int(request_id), checked_by=actor or "system", tier=rec.tier,
                           suggested_verdict=rec.verdict, rules=",".join(rec.rules),
                           snapshot_json=json.dumps(snapshot, ensure_ascii=False))
    if at is not None:
        run.checked_at = at
    return run


def run_check(engine: Engine, request_id: int, *, actor: str, restricted: pd.DataFrame | None = None,
              review: D.ReviewRules = D.ReviewRules(), on_date: date | None = None,
              at: datetime | None = None, inputs: CheckInputs | None = None) -> CheckRun:
    """Run the duplicate check of a stored request against the register and keep the result; a
    submitted request becomes checked (a decided one stays decided). The request's own row is
    left out of the split detection."""
    actor = auth.require(actor, auth.PURCHASE_CHECK).audit_name()
    rec, snapshot = _evaluate(request_id, inputs or check_inputs(engine), restricted, review, on_date)
    with session_scope(engine) as s:
        req = s.exec(select(T.PurchaseRequest).where(T.PurchaseRequest.id == int(request_id)).with_for_update()).one()
        run = _check_row(req.id, rec, snapshot, actor, at)
        s.add(run)
        before = req.status
        if req.status == PR.SUBMITTED:
            req.status = PR.CHECKED
            s.add(req)
        s.flush()
        run_id = int(run.id)
        record_write(s, actor=actor, action="purchase.check", entity="purchaserequest", entity_key=req.request_no,
                     summary=f"check {run_id}: {rec.tier} {rec.verdict} {','.join(rec.rules)}",
                     before={"status": before}, after={"status": req.status, "check_id": run_id,
                                                       "suggested_verdict": rec.verdict})
    return CheckRun(run_id, snapshot, rec)


def record_decision(engine: Engine, request_id: int, raw: Mapping, *, actor: str, today: date) -> int:
    """Record the review group's decision; it supersedes the decision in force. Needs a duplicate
    check on record. Returns the new decision's id."""
    actor = auth.require(actor, auth.PURCHASE_DECIDE).audit_name()
    with session_scope(engine) as s:
        req = s.exec(select(T.PurchaseRequest).where(T.PurchaseRequest.id == int(request_id)).with_for_update()).first()
        if req is None:
            raise PR.ReviewError([PR.FieldError("request", "unknown_request", str(request_id))])
        if req.status == PR.SUBMITTED:
            raise PR.ReviewError([PR.FieldError("request", "not_checked", req.request_no)])
        clean, errors = PR.clean_decision(raw, req.submitted_date, today)
        if errors:
            raise PR.ReviewError(errors)
        decisions = s.exec(select(T.ReviewDecision).where(T.ReviewDecision.request_id == req.id)).all()
        current = PR.current_decisions(pd.DataFrame(
            [d.model_dump() for d in decisions], columns=list(T.ReviewDecision.model_fields)))
        supersedes = int(current["id"].iloc[0]) if len(current) else None
        decision = T.ReviewDecision(request_id=req.id, supersedes_id=supersedes, **clean)
        s.add(decision)
        req.status = PR.DECIDED
        s.add(req)
        s.flush()
        new_id = int(decision.id)
        record_write(s, actor=actor, action="purchase.decide", entity="purchaserequest", entity_key=req.request_no,
                     summary=f"decision {new_id}: {clean['verdict']}" + (f" (supersedes {supersedes})" if supersedes else ""),
                     before=current.iloc[0].to_dict() if len(current) else None,
                     after={**clean, "id": new_id, "supersedes_id": supersedes})
    return new_id


def latest_check(engine: Engine, request_id: int) -> dict | None:
    """The newest check run of a request as its snapshot plus checked_at (ISO, UTC), checked_by
    and id; None when the request was never checked."""
    return PR.latest_check(queries.duplicate_checks(engine, request_id), request_id)


BACKFILL_BATCH = 8  # check runs written per flush; a national-scale snapshot is up to ≈ 7 MB of JSON


def backfill_demo_checks(engine: Engine, *, actor: str = "demo", days_after: int = 7) -> int:
    """Give every checked or decided request without a check run the check it would have had
    `days_after` days after submission (10:00 Beijing time), so the demo's decisions come with
    their evidence. One transaction, part of the demo load (whose audit entry covers it).
    Returns the number of runs added.

    The runs are written as they are worked out, a few at a time (BACKFILL_BATCH), and let go:
    the 774 snapshots of the national demo are 2.1 GB of JSON, which held together while the
    transaction was written took 5.7 GB. Same rows, ids and order as writing them all at once."""
    requests = queries.purchase_requests(engine)
    done = set(queries.duplicate_checks(engine)["request_id"].astype(int)) if len(requests) else set()
    todo = requests[requests["status"].isin([PR.CHECKED, PR.DECIDED]) & ~requests["id"].isin(done)]
    if todo.empty:
        return 0
    inputs = check_inputs(engine)
    added = 0
    with session_scope(engine) as s:
        for row in todo.to_dict("records"):
            day = pd.Timestamp(row["submitted_date"]).date() + timedelta(days=days_after)
            at = (datetime.combine(day, time(10, 0)) - BEIJING_OFFSET).replace(tzinfo=timezone.utc)
            rec, snapshot = _evaluate(int(row["id"]), inputs, None, D.ReviewRules(), day)
            s.add(_check_row(int(row["id"]), rec, snapshot, actor or "demo", at))
            del rec, snapshot
            added += 1
            if added % BACKFILL_BATCH == 0:
                s.flush()
                s.expunge_all()  # written: the session need not keep the snapshots
        s.flush()
        s.expunge_all()
        bump_revision(s)
    return added


__all__ = ["BACKFILL_BATCH", "CheckInputs", "CheckRun", "check_inputs", "backfill_demo_checks", "import_requests", "latest_check", "record_decision", "reference",
           "run_check", "submit_request"]
