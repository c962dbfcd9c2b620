"""Audit entries are written by every write service, inside the same transaction as the write."""

from __future__ import annotations

import json

from sqlmodel import Session

from dashboard import auth

from models import tables as T
from models.db import bump_revision


def record_write(
    session: Session,
    *,
    actor,  # dashboard.auth.Actor or a process name
    action: str,
    entity: str = "",
    entity_key: str = "",
    summary: str = "",
    before: object = None,
    after: object = None,
) -> None:
    """Add an audit entry and mark the data as changed (same transaction as the write)."""
    session.add(
        T.AuditEntry(
            actor=auth.actor_of(actor).audit_name(),
            action=action,
            entity=entity,
            entity_key=entity_key,
            summary=summary,
            before_json="" if before is None else json.dumps(before, ensure_ascii=False, default=str),
            after_json="" if after is None else json.dumps(after, ensure_ascii=False, default=str),
        )
    )
    bump_revision(session)
