"""Load the deterministic demonstration data (`dashboard.demo.generate_demo`) into the store.

One transaction: optionally clear all non-reference data, bulk-insert every table (SQLAlchemy
Core `insert()` with lists of rows), map the generator's local ids to database ids, set the
StoreMeta key "demo_seed" (the app shows a demo notice while it exists) and write one audit
entry. Database ids are always assigned by the database (RETURNING), never inserted
explicitly, so PostgreSQL sequences stay right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from dashboard import auth
from dashboard.demo import DEFAULT_SEED, DemoData, generate_demo
from models import tables as T
from models.db import session_scope
from models.services.audit import record_write

DEMO_SEED_KEY = "demo_seed"
REFERENCE_TABLES = ("region", "instrumentclass")
# Tables a replace never empties: reference data, and the audit trail, which outlives any data it
# describes (the replacement itself is audited).
KEPT_ON_REPLACE = REFERENCE_TABLES + ("auditentry", "appuser")  # accounts outlive the demo data
INSERT_CHUNK_ROWS = 20_000


class StoreNotEmpty(RuntimeError):
    """The store already holds units; loading demo data needs `replace=True`."""

    def __init__(self, unit_count: int):
        super().__init__(f"the store already holds {unit_count} units; pass replace=True to replace all data")
        self.unit_count = unit_count


def load_demo(
    engine: Engine,
    seed: int = DEFAULT_SEED,
    scale: str = "league",
    instruments: int | None = None,
    replace: bool = False,
    actor: str = "system",
) -> dict[str, int]:
    """Generate and load the demo data; returns the number of rows loaded per frame.

    Raises StoreNotEmpty (writing nothing) when units exist and `replace` is false; with
    `replace` every table but reference data and the audit trail is emptied first, in the same
    transaction.
    """
    actor = auth.require(actor, auth.DEMO_LOAD).audit_name()
    existing = _unit_count(engine)
    if existing and not replace:
        raise StoreNotEmpty(existing)
    data = generate_demo(seed=seed, scale=scale, instruments=instruments)
    with session_scope(engine) as session:
        conn = session.connection()
        existing = conn.execute(select(func.count()).select_from(T.Unit)).scalar_one()
        if existing and not replace:
            raise StoreNotEmpty(existing)
        if replace:
            _clear_non_reference(conn)
        _insert_all(conn, data)
        meta = T.StoreMeta.__table__
        conn.execute(delete(meta).where(meta.c.key == DEMO_SEED_KEY))
        conn.execute(insert(meta), [{"key": DEMO_SEED_KEY, "value": str(seed)}])
        counts = data.counts()
        record_write(
            session,
            actor=actor,
            action="demo.load",
            entity="store",
            entity_key=f"seed={seed}",
            summary=f"demo data seed={seed} scale={scale} replace={replace}",
            after={"seed": seed, "scale": scale, "counts": counts},
        )
    # The demo's checked and decided requests come with the duplicate check they went through.
    from models.services.purchases import backfill_demo_checks

    backfill_demo_checks(engine, actor="demo")  # simulated runs, named as such
    return counts


def _unit_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(T.Unit)).scalar_one())


def _clear_non_reference(conn: Connection) -> None:
    """Empty every table except reference data and the audit trail; of StoreMeta drop only the
    demo seed."""
    for table in reversed(SQLModel.metadata.sorted_tables):  # children before parents
        if table.name in KEPT_ON_REPLACE:
            continue
        if table.name == T.StoreMeta.__tablename__:
            conn.execute(delete(table).where(table.c.key == DEMO_SEED_KEY))
        else:
            conn.execute(delete(table))


def _insert_all(conn: Connection, data: DemoData) -> None:
    """Insert parents before children, translating local ids through each table's id map."""
    units = _insert(conn, T.Unit, data.units, {})
    instruments = _insert(conn, T.Instrument, data.instruments, {"unit_id": units})
    _insert(conn, T.UsageMonthly, data.usage, {"instrument_id": instruments}, returning=False)
    services = _insert(conn, T.ServiceRecord, data.services, {"instrument_id": instruments})
    vouchers = _insert(conn, T.Voucher, data.vouchers, {})
    _insert(
        conn, T.Redemption, data.redemptions,
        {"voucher_id": vouchers, "service_record_id": services, "unit_id": units}, returning=False,
    )
    requests = _insert(conn, T.PurchaseRequest, data.purchase_requests, {"applicant_unit_id": units})
    _insert_decisions(conn, data.review_decisions, requests)
    _insert(conn, T.Submission, data.submissions, {"unit_id": units}, returning=False)


def _insert_decisions(conn: Connection, frame: pd.DataFrame, requests: np.ndarray) -> None:
    """Review decisions reference earlier decisions: insert those first, then the later ones."""
    first = frame[frame["supersedes_id"].isna()]
    later = frame[frame["supersedes_id"].notna()]
    decided = _insert(conn, T.ReviewDecision, first, {"request_id": requests})
    if not later.empty:
        # Chains are one step deep in the generator: later decisions supersede first ones.
        _insert(conn, T.ReviewDecision, later, {"request_id": requests, "supersedes_id": decided}, returning=False)


def _insert(
    conn: Connection, model, frame: pd.DataFrame, foreign: dict[str, np.ndarray], returning: bool = True
) -> np.ndarray:
    """Bulk-insert `frame` (local ids in column "id"); return the local→database id map.

    The map is an array indexed by local id (entry 0 unused, -1 where no row), so foreign keys
    translate by fancy indexing.
    """
    table = model.__table__
    local_ids = frame["id"].to_numpy(dtype=np.int64) if len(frame) else np.array([], dtype=np.int64)
    id_map = np.full(int(local_ids.max(initial=0)) + 1, -1, dtype=np.int64)
    if frame.empty:
        return id_map
    body = frame.drop(columns=["id"]).copy()
    for column, mapping in foreign.items():
        local = body[column]
        present = local.notna().to_numpy()
        mapped = np.full(len(body), None, dtype=object)
        mapped[present] = mapping[local[present].to_numpy(dtype=np.int64)].tolist()
        body[column] = mapped
    # Chunks bound the memory of the row dicts at province scale (about a million rows).
    ids: list[int] = []
    for start in range(0, len(body), INSERT_CHUNK_ROWS):
        rows = _records(body.iloc[start:start + INSERT_CHUNK_ROWS])
        if returning:
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids.extend(conn.execute(stmt, rows).scalars().all())
        else:
            conn.execute(insert(table), rows)
    if returning:
        id_map[local_ids] = ids
    return id_map


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values (None for missing, datetime for timestamps)."""
    columns = [_python_values(frame[c]) for c in frame.columns]
    names = list(frame.columns)
    return [dict(zip(names, values)) for values in zip(*columns)]


def _python_values(series: pd.Series) -> list:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in series]
    missing = series.isna().to_numpy()
    values = series.tolist()
    if missing.any():
        return [None if gap else v for v, gap in zip(values, missing)]
    return values
