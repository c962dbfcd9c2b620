"""Write services of the performance evaluation: scheme versions and published rankings.

Published evaluations are immutable: there is no update path. A later publication for the same
year supersedes an earlier one; publishing the same result again (same fingerprint) writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

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
    scheme.validate()
    with session_scope(engine) as s:
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


def ensure_scheme(engine: Engine, scheme: Scheme, *, actor: str = "system") -> int:
    """The id of a stored scheme with exactly this definition, storing it first if needed."""
    with session_scope(engine) as s:
        for row in s.exec(select(T.IndicatorScheme).where(T.IndicatorScheme.name == scheme.name)):
            if Scheme.from_json(row.definition_json).to_json() == scheme.to_json():
                return row.id
    return save_scheme(engine, scheme, actor=actor)


def publish_evaluation(engine: Engine, *, year: int, scheme_id: int, snapshot: dict, fingerprint: str,
                       actor: str) -> Publication:
    """Store an immutable snapshot of a ranking, unless the same one is already published."""
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
