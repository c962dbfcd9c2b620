"""Engine, sessions, idempotent schema creation and reference-data loading.

`DATABASE_URL` selects the database; without it the store is an SQLite file under `data/`.
"""

from __future__ import annotations

import os
import weakref
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import pandas as pd
from sqlalchemy import event, func, inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine, select

from models import tables as T

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
REFERENCE_DIR = DATA_DIR / "reference"
DEFAULT_SQLITE_PATH = DATA_DIR / "alxa_sharing.sqlite"


def database_url() -> str:
    """The configured database URL (`DATABASE_URL`), or the default SQLite file."""
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        # Use psycopg 3 (the pinned driver) when the URL names no driver.
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # enforce foreign keys as PostgreSQL does
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


# Every engine get_engine has handed out, so their pooled connections can be closed on demand.
_SHARED_ENGINES: "weakref.WeakSet[Engine]" = weakref.WeakSet()


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process; the schema and reference data are ensured on first use."""
    engine = make_engine(url or database_url())
    init_store(engine)
    _SHARED_ENGINES.add(engine)
    return engine


def dispose_shared_engines() -> None:
    """Close the pooled connections of every engine from get_engine and forget them.

    A process that switches stores many times (the test suite opens hundreds) would otherwise keep
    one idle connection per store open and run into the PostgreSQL server's connection limit."""
    for engine in list(_SHARED_ENGINES):
        engine.dispose()
    _SHARED_ENGINES.clear()
    get_engine.cache_clear()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed as one transaction, or rolled back on any error."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def init_store(engine: Engine) -> None:
    """Create missing tables and load missing reference data. Safe to call any number of times."""
    SQLModel.metadata.create_all(engine)
    with session_scope(engine) as s:
        if s.exec(select(func.count()).select_from(T.Region)).one() == 0:
            s.add_all(_reference_regions())
        if s.exec(select(func.count()).select_from(T.InstrumentClass)).one() == 0:
            s.add_all(_reference_classes())
        if s.get(T.StoreMeta, "data_revision") is None:
            s.add(T.StoreMeta(key="data_revision", value="0"))


def _reference_regions() -> list[T.Region]:
    df = pd.read_csv(REFERENCE_DIR / "regions.csv", dtype={"code": str, "within": str})
    return [T.Region(**row) for row in df.fillna("").to_dict("records")]


def _reference_classes() -> list[T.InstrumentClass]:
    df = pd.read_csv(REFERENCE_DIR / "instrument_classes.csv", dtype={"code": str})
    rows = []
    for rec in df.to_dict("records"):
        code = rec["code"]
        rows.append(
            T.InstrumentClass(
                code=code,
                level=int(rec["level"]),
                name_zh=rec["name_zh"],
                name_en=rec["name_en"],
                purpose=rec["purpose"],
                parent=code[:2] if len(code) == 4 else "",
            )
        )
    return rows


def data_revision(engine: Engine) -> int:
    """A number that changes whenever store data change; read queries use it as a cache key."""
    with Session(engine) as s:
        meta = s.get(T.StoreMeta, "data_revision")
        return int(meta.value) if meta else 0


def bump_revision(session: Session) -> None:
    """Mark the data as changed, inside the caller's transaction."""
    meta = session.get(T.StoreMeta, "data_revision", with_for_update=True)
    if meta is None:
        session.add(T.StoreMeta(key="data_revision", value="1"))
    else:
        meta.value = str(int(meta.value) + 1)
        session.add(meta)


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
