"""Engine, sessions, schema migration on open and reference-data loading.

`DATABASE_URL` selects the database; without it the store is an SQLite file under `data/`.
"""

from __future__ import annotations

import os
import sqlite3
import weakref
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import pandas as pd
from sqlalchemy import Integer, Text, cast, event, func, inspect, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine, select

from models import tables as T

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
REFERENCE_DIR = DATA_DIR / "reference"
DEFAULT_SQLITE_PATH = DATA_DIR / "alxa_sharing.sqlite"


def database_url() -> str:
    """The configured database URL (`DATABASE_URL`), or the default SQLite file."""
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


# Concurrent writers. A write service reads, then writes from what it read (the next request
# number, the next scheme version, "is this ranking published already?", the scenario a save
# supersedes); two of them interleaved would write duplicates or lose an update. So the store's
# writers are serialised: a transaction opened with WRITE_TRANSACTION (session_scope does) takes
# the store's write lock as it begins, before its first read, and holds it to commit or rollback.
# - SQLite: BEGIN IMMEDIATE, which waits (busy timeout) for the current writer. Taking the lock
#   at the first write instead would not do: a deferred transaction that has read and then wants
#   to write after another connection committed fails at once with SQLITE_BUSY ("database is
#   locked") whatever the busy timeout, since its snapshot is stale. Other transactions begin with
#   a plain BEGIN and never wait for a writer: file stores run in WAL mode, where readers see the
#   last commit while a writer works. pysqlite's own transaction handling (BEGIN only before DML,
#   so reads ran outside any transaction) is switched off; these BEGINs are the ones used.
# - PostgreSQL: a transaction-scoped advisory lock keyed by the store's schema, taken as the
#   transaction's first statement; under READ COMMITTED each later statement sees what the
#   previous holder committed. Plain reads take no lock.
# A write transaction opened while the same thread holds another would wait for itself; both
# backends give up after WRITE_LOCK_TIMEOUT_S with an OperationalError instead of hanging.
WRITE_TRANSACTION = {"store_write": True}  # execution options of a write transaction
WRITE_LOCK_TIMEOUT_S = 30
PG_WRITE_LOCK_KEY = 0x616C7877  # "alxw"; the advisory lock's second key is the schema


def _sqlite_in_memory(url: str) -> bool:
    database = make_url(url).database
    return database in (None, "", ":memory:") or "mode=memory" in url


def make_engine(url: str) -> Engine:
    """An engine on the store at `url`; writers through it are serialised (WRITE_TRANSACTION)."""
    if url.startswith("postgresql://"):
        # Use psycopg 3 (the pinned driver) when the URL names no driver.
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        in_memory = _sqlite_in_memory(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": WRITE_LOCK_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # the driver begins nothing itself; _sqlite_begin does
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")  # enforce foreign keys as PostgreSQL does
            if not in_memory:
                try:
                    cur.execute("PRAGMA journal_mode=WAL")  # persistent: the file stays in WAL mode
                except sqlite3.OperationalError:
                    # A brand-new file another connection is writing right now ("database is
                    # locked" at once, whatever the timeout): that connection switches it to WAL,
                    # or the next one opened here does; writes are correct in either mode.
                    pass
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection):
            options = conn.get_execution_options()
            if options.get("isolation_level") == "AUTOCOMMIT":
                return  # the caller runs its own transactions (models.migrations)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("store_write") else "BEGIN")

        return engine
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "begin")
        def _pg_begin(conn: Connection):
            if conn.get_execution_options().get("store_write"):
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(WRITE_LOCK_TIMEOUT_S)}s'")
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK_KEY}, hashtext(current_schema()))")
                conn.exec_driver_sql("SET LOCAL lock_timeout = DEFAULT")

    return engine


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
    """A session whose work is committed as one transaction, or rolled back on any error. It is a
    write transaction: it holds the store's write lock from its start (WRITE_TRANSACTION), so do
    not open another one inside it."""
    with Session(engine, execution_options=WRITE_TRANSACTION) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def init_store(engine: Engine) -> None:
    """Bring the schema to the newest migration and load missing reference data. Safe to call any
    number of times; cheap when the store is already up to date (see models/migrations)."""
    from models.migrations import upgrade_store  # Alembic loads only when a store is opened

    def seed(conn: Connection) -> None:  # inside the upgrade's transaction and lock
        with Session(bind=conn) as s:
            _load_missing_reference(s)
            s.flush()

    upgrade_store(engine, seed=seed)
    with Session(engine) as s:  # a plain read: the usual case, nothing is missing
        complete = _reference_complete(s)
    if not complete:
        with session_scope(engine) as s:
            _load_missing_reference(s)


def _reference_complete(s: Session) -> bool:
    return (s.exec(select(func.count()).select_from(T.Region)).one() > 0
            and s.exec(select(func.count()).select_from(T.InstrumentClass)).one() > 0
            and s.get(T.StoreMeta, "data_revision") is not None)


def _load_missing_reference(s: Session) -> None:
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
    """Mark the data as changed, inside the caller's transaction. The database adds 1 in one
    UPDATE, so two transactions bumping at once both count (reading the value and writing it
    back plus one could lose one of them)."""
    meta = T.StoreMeta.__table__
    bumped = session.connection().execute(
        update(meta).where(meta.c.key == "data_revision").values(value=cast(cast(meta.c.value, Integer) + 1, Text))
    ).rowcount
    if not bumped:
        session.add(T.StoreMeta(key="data_revision", value="1"))


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
