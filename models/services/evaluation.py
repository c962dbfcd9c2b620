"""Write services of the performance evaluation: scheme versions and published rankings.

Published evaluations are immutable: there is no update path. A later publication for the same
year supersedes an earlier one; publishing the same result again (same fingerprint) writes nothing.

A publication is one transaction (the snapshot row, its audit entry, the revision bump): stored
whole or not at all. Its scheme is stored as a version first, in a transaction of its own
(`ensure_scheme`, which reuses an identical version). Store writers are serialised (models.db), so
publications at once behave as one after the other: the same result twice is stored once, two
different results for a year are two complete publications, the later one (higher id) in force.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dashboard import auth
from dashboard.scheme import Scheme
from models import tables as T
from models.db import session_scope
from models.services.audit import record_write


@dataclass(frozen=True)
class Publication:
    id: int
    created: bool  # False: an identical publication already existed


def save_scheme(engine: Engine, scheme: Scheme, *, actor: str) -> int:
    """Store `scheme` as the next version of its name; returns the new row id."""
    actor = _scheme_writer(scheme, actor)
    with session_scope(engine) as s:
        return _add_version(s, scheme, actor)


def ensure_scheme(engine: Engine, scheme: Scheme, *, actor: str = "system") -> int:
    """The id of a stored scheme with exactly this definition, storing it first if needed. One
    transaction: two callers at once store it once."""
    with session_scope(engine) as s:
        for row in s.exec(select(T.IndicatorScheme).where(T.IndicatorScheme.name == scheme.name)):
            if Scheme.from_json(row.definition_json).to_json() == scheme.to_json():
                return row.id
        return _add_version(s, scheme, _scheme_writer(scheme, actor))


def _scheme_writer(scheme: Scheme, actor) -> str:
    """The audit name of `actor` once it may save schemes and `scheme` is valid."""
    actor = auth.require(actor, auth.SCHEME_SAVE).audit_name()
    scheme.validate()
    return actor


def _add_version(s: Session, scheme: Scheme, actor: str) -> int:
    """Add `scheme` as the next version of its name inside the write transaction `s` (writers are
    serialised, models.db, so two saves at once get two versions); returns the new row id."""
    latest = s.exec(
        select(func.max(T.IndicatorScheme.version)).where(T.IndicatorScheme.name == scheme.name)
    ).one()
    version = (latest or 0) + 1
    row = T.IndicatorScheme(name=scheme.name, version=version, definition_json=scheme.to_json(),
                            created_by=actor)
    s.add(row)
    s.flush()
    record_write(s, actor=actor, action="scheme.save", entity="indicatorscheme", entity_key=str(row.id),
                 summary=f"{scheme.name} v{version}", after=scheme.to_dict())
    return row.id


def publish_evaluation(engine: Engine, *, year: int, scheme_id: int, snapshot: dict, fingerprint: str,
                       actor: str) -> Publication:
    """Store an immutable snapshot of a ranking, unless the same one is already published."""
    actor = auth.require(actor, auth.PUBLISH).audit_name()
    with session_scope(engine) as s:
        same = s.exec(
            select(T.PublishedEvaluation).where(
                T.PublishedEvaluation.year == year, T.PublishedEvaluation.fingerprint == fingerprint
            )
        ).first()
        if same is not None:
            return Publication(same.id, created=False)
        row = T.PublishedEvaluation(
            year=year, scheme_id=scheme_id, fingerprint=fingerprint, published_by=actor,
            snapshot_json=json.dumps(snapshot, ensure_ascii=False, sort_keys=True),
        )
        s.add(row)
        s.flush()
        record_write(s, actor=actor, action="evaluation.publish", entity="publishedevaluation",
                     entity_key=str(row.id), summary=f"year {year}, fingerprint {fingerprint[:12]}",
                     after={"year": year, "scheme_id": scheme_id, "fingerprint": fingerprint})
        return Publication(row.id, created=True)
