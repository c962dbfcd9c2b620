"""Write service of saved scenarios: save (with an audit entry) and load.

Storage: one Scenario row per save. `name` is the column; the note and the parameters go into
params_json as an envelope {"envelope": ENVELOPE_VERSION, "note": note, "params":
ScenarioParams.to_dict()} (the parameters carry their own "version"), so no schema change is needed.

Names are not unique. Saving under a name that exists adds a new row (a new version of that
scenario; older rows stay loadable by id, so shared links keep working) and the audit entry's
"before" is the newest row of that name it supersedes. `load_scenario_by_name` returns the newest.
Saving bumps the data revision (as every audited write does), so cached reads refresh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from dashboard import auth
from dashboard.scenarios import ScenarioError, ScenarioParams
from models import scenario_queries as SQ
from models import tables as T
from models.db import session_scope
from models.scenario_queries import list_scenarios  # noqa: F401  (re-exported for callers)
from models.services.audit import record_write

__all__ = ["ENVELOPE_VERSION", "NAME_MAX", "NOTE_MAX", "StoredScenario", "envelope", "list_scenarios",
           "load_scenario", "load_scenario_by_name", "parse_envelope", "save_scenario"]

ENVELOPE_VERSION = 1
NAME_MAX = 200  # the Scenario.name column
NOTE_MAX = 2000


@dataclass(frozen=True)
class StoredScenario:
    id: int
    name: str
    note: str
    params: ScenarioParams
    created_at: datetime | None  # aware UTC
    created_by: str


def envelope(note: str, params: ScenarioParams) -> dict:
    return {"envelope": ENVELOPE_VERSION, "note": note, "params": params.to_dict()}


def parse_envelope(text: str) -> tuple[str, ScenarioParams]:
    """(note, params) from a stored params_json; ScenarioError when it cannot be used."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ScenarioError("scenario", "not_json", value=str(exc)) from exc
    if not isinstance(data, dict):
        raise ScenarioError("scenario", "not_object", value=type(data).__name__)
    version = data.get("envelope")
    if version != ENVELOPE_VERSION:
        raise ScenarioError("envelope", "unknown_version", value=version, supported=str(ENVELOPE_VERSION))
    if "params" not in data:
        raise ScenarioError("params", "missing_field")
    note = data.get("note", "")
    if not isinstance(note, str):
        raise ScenarioError("note", "not_text", value=note)
    return note, ScenarioParams.from_dict(data["params"])


def _checked_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError("name", "empty_name")
    name = name.strip()
    if len(name) > NAME_MAX:
        raise ScenarioError("name", "too_long", value=len(name), limit=NAME_MAX)
    return name


def _checked_note(note: str | None) -> str:
    note = "" if note is None else note
    if not isinstance(note, str):
        raise ScenarioError("note", "not_text", value=note)
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ScenarioError("note", "too_long", value=len(note), limit=NOTE_MAX)
    return note


def save_scenario(engine: Engine, name: str, note: str, params: ScenarioParams, actor: str = "") -> int:
    """Store `params` under `name` with `note`; returns the new row id (module docstring)."""
    actor = auth.require(actor, auth.SCENARIO_SAVE).audit_name()
    name, note = _checked_name(name), _checked_note(note)
    if not isinstance(params, ScenarioParams):
        raise ScenarioError("params", "not_a_mapping", value=type(params).__name__)
    # Round-trip before writing: what is stored must load back.
    ScenarioParams.from_dict(json.loads(params.to_json()))
    after = envelope(note, params)
    with session_scope(engine) as s:
        # Looked up inside the write transaction: of two saves at once, the later one supersedes
        # the earlier (store writers are serialised, models.db).
        newest = select(T.Scenario).where(T.Scenario.name == name).order_by(T.Scenario.id.desc()).limit(1)
        prev = s.exec(newest).first()
        before = None
        if prev is not None:
            try:
                before = {"id": prev.id, "name": prev.name, **json.loads(prev.params_json or "")}
            except ValueError:
                before = {"id": prev.id, "name": prev.name, "params_json": prev.params_json or ""}
        row = T.Scenario(name=name, params_json=json.dumps(after, ensure_ascii=False, sort_keys=True),
                         created_by=actor or "")
        s.add(row)
        s.flush()
        record_write(s, actor=actor, action="scenario.save", entity="scenario", entity_key=str(row.id),
                     summary=name, before=before, after={"id": row.id, "name": name, **after})
        return int(row.id)


def load_scenario(engine: Engine, scenario_id: int) -> StoredScenario:
    """The scenario with this id; ScenarioError (field "id", reason "not_found") when there is
    none, or the parameters' own error when the stored JSON cannot be used."""
    row = SQ.scenario_row(engine, scenario_id)
    if row is None:
        raise ScenarioError("id", "not_found", value=scenario_id)
    note, params = parse_envelope(row["params_json"])
    return StoredScenario(id=row["id"], name=row["name"], note=note, params=params,
                          created_at=row["created_at"], created_by=row["created_by"])


def load_scenario_by_name(engine: Engine, name: str) -> StoredScenario:
    """The newest scenario saved under `name`; ScenarioError "not_found" when there is none."""
    scenario_id = SQ.latest_scenario_id(engine, name)
    if scenario_id is None:
        raise ScenarioError("name", "not_found", value=name)
    return load_scenario(engine, scenario_id)
