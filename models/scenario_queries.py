"""Read queries of saved scenarios (the Scenario table). Each returns plain data or a DataFrame.

A row's params_json holds the envelope written by `models.services.scenarios.save_scenario`:
{"envelope": 1, "note": "...", "params": <dashboard.scenarios.ScenarioParams.to_dict()>}.
The note is read from it here; the parameters are parsed and checked by the service
(`load_scenario`). Times come back as aware UTC timestamps: PostgreSQL keeps them in a timestamptz
column, SQLite as naive UTC wall time, which is read as UTC.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import select

from models import tables as T

LIST_COLUMNS = ["id", "name", "note", "created_at", "created_by"]


def _note(params_json: str) -> str:
    """The note of an envelope; "" when the row holds no readable envelope."""
    try:
        data = json.loads(params_json or "{}")
    except ValueError:
        return ""
    note = data.get("note", "") if isinstance(data, dict) else ""
    return note if isinstance(note, str) else ""


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def list_scenarios(engine: Engine) -> pd.DataFrame:
    """Saved scenarios, newest first: id, name, note, created_at (aware UTC), created_by."""
    S = T.Scenario
    stmt = select(S.id, S.name, S.params_json, S.created_at, S.created_by).order_by(S.id.desc())
    with engine.connect() as conn:
        rows = conn.execute(stmt).fetchall()
    frame = pd.DataFrame({
        "id": pd.Series([int(r.id) for r in rows], dtype="int64"),
        "name": pd.Series([r.name for r in rows], dtype=object),
        "note": pd.Series([_note(r.params_json) for r in rows], dtype=object),
        "created_at": pd.to_datetime(pd.Series([_utc(r.created_at) for r in rows], dtype=object), utc=True),
        "created_by": pd.Series([r.created_by or "" for r in rows], dtype=object),
    })
    return frame[LIST_COLUMNS]


def scenario_row(engine: Engine, scenario_id: int) -> dict | None:
    """One stored scenario as a dict (id, name, params_json, created_at aware UTC, created_by), or None."""
    S = T.Scenario
    stmt = select(S.id, S.name, S.params_json, S.created_at, S.created_by).where(S.id == int(scenario_id))
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    return {"id": int(row.id), "name": row.name, "params_json": row.params_json or "",
            "created_at": _utc(row.created_at), "created_by": row.created_by or ""}


def latest_scenario_id(engine: Engine, name: str) -> int | None:
    """The id of the newest scenario saved under exactly `name` (surrounding spaces ignored)."""
    S = T.Scenario
    stmt = select(S.id).where(S.name == name.strip()).order_by(S.id.desc()).limit(1)
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return None if row is None else int(row[0])
