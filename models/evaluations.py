"""Read queries of the performance evaluation: stored scheme versions and published rankings.

Writes (saving a scheme, publishing a ranking) live in `models/services/evaluation.py`; there is
no update path for a published ranking, so nothing here or there can change one.
"""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import select

from dashboard.scheme import Scheme
from models import tables as T
from models.queries import _frame

SCHEME_COLUMNS = ["id", "name", "version", "created_at", "created_by"]
PUBLICATION_COLUMNS = ["id", "year", "scheme_id", "scheme_name", "scheme_version", "fingerprint",
                       "published_at", "published_by"]


def indicator_schemes(engine: Engine) -> pd.DataFrame:
    """Every stored scheme version (without its definition), newest first."""
    stmt = select(*(getattr(T.IndicatorScheme, c) for c in SCHEME_COLUMNS)).order_by(
        T.IndicatorScheme.id.desc()
    )
    return _frame(engine, stmt)


def scheme_by_id(engine: Engine, scheme_id: int) -> Scheme | None:
    """The stored scheme with this id, or None when there is none."""
    with engine.connect() as conn:
        row = conn.execute(
            select(T.IndicatorScheme.definition_json).where(T.IndicatorScheme.id == scheme_id)
        ).first()
    return None if row is None else Scheme.from_json(row[0])


def latest_scheme(engine: Engine) -> tuple[int, Scheme] | None:
    """(id, scheme) of the most recently stored scheme version, or None when none is stored."""
    with engine.connect() as conn:
        row = conn.execute(
            select(T.IndicatorScheme.id, T.IndicatorScheme.definition_json)
            .order_by(T.IndicatorScheme.id.desc())
            .limit(1)
        ).first()
    return None if row is None else (int(row[0]), Scheme.from_json(row[1]))


def published_evaluations(engine: Engine, year: int | None = None) -> pd.DataFrame:
    """Published rankings (all years, or one), newest first, with their scheme's name and version."""
    stmt = (
        select(
            T.PublishedEvaluation.id,
            T.PublishedEvaluation.year,
            T.PublishedEvaluation.scheme_id,
            T.IndicatorScheme.name.label("scheme_name"),
            T.IndicatorScheme.version.label("scheme_version"),
            T.PublishedEvaluation.fingerprint,
            T.PublishedEvaluation.published_at,
            T.PublishedEvaluation.published_by,
        )
        .outerjoin(T.IndicatorScheme, T.IndicatorScheme.id == T.PublishedEvaluation.scheme_id)
        # ids grow with time; they also order two publications made within the same clock tick
        .order_by(T.PublishedEvaluation.id.desc())
    )
    if year is not None:
        stmt = stmt.where(T.PublishedEvaluation.year == year)
    df = _frame(engine, stmt)
    return df if not df.empty else pd.DataFrame(columns=PUBLICATION_COLUMNS)


def latest_publication_id(engine: Engine, year: int) -> int | None:
    """The id of the publication in force for `year` (the newest), or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(T.PublishedEvaluation.id)
            .where(T.PublishedEvaluation.year == year)
            .order_by(T.PublishedEvaluation.id.desc())
            .limit(1)
        ).first()
    return None if row is None else int(row[0])


def published_snapshot(engine: Engine, pub_id: int) -> dict | None:
    """The stored snapshot of one publication, with its id, stored fingerprint and publication
    time added under "publication"; None when there is no such publication."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                T.PublishedEvaluation.snapshot_json,
                T.PublishedEvaluation.fingerprint,
                T.PublishedEvaluation.scheme_id,
                T.PublishedEvaluation.published_at,
                T.PublishedEvaluation.published_by,
            ).where(T.PublishedEvaluation.id == pub_id)
        ).first()
    if row is None:
        return None
    snap = json.loads(row[0])
    snap["publication"] = {
        "id": int(pub_id),
        "fingerprint": row[1],
        "scheme_id": row[2],
        "published_at": pd.Timestamp(row[3]).isoformat(),
        "published_by": row[4],
    }
    return snap
