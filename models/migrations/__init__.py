"""Schema migrations of the store (Alembic), run by `models.db.init_store` on every store it opens.

Revisions live in `versions/`: 0001 is the first schema that shipped, frozen as explicit
`op.create_table` calls; every later schema change is one more revision. `upgrade_store(engine)`
brings any store to the newest revision (head):

- an empty database gets every revision from 0001;
- a store made by `SQLModel.metadata.create_all` before migrations existed (no `alembic_version`
  table) is matched by its tables against the schemas that shipped (`LEGACY_SCHEMAS`), stamped with
  that revision, then upgraded;
- a store with `alembic_version` gets the revisions it lacks.

At head this costs two small catalogue queries and no Alembic machinery. The upgrade itself runs in
one transaction that holds the store's migration lock (`migration_connection`), so concurrent app
starts upgrade a store once, and a failed revision leaves the store as it was.

The version table is created unqualified, so on PostgreSQL it lands in the first schema of the
connection's search_path, next to the store's tables (the tests' per-test schemas rely on this).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

SCRIPT_DIR = Path(__file__).resolve().parent
VERSION_TABLE = "alembic_version"
# First key of the PostgreSQL advisory lock that serialises upgrades; the second is the schema.
_PG_LOCK_KEY = 0x616C78  # "alx"

# The tables of each schema that was ever created by create_all, newest first. Frozen: a store
# created since migrations exist always has alembic_version, so later revisions need no entry.
_TABLES_0001 = frozenset({
    "auditentry", "indicatorscheme", "instrument", "instrumentclass", "publishedevaluation",
    "purchaserequest", "redemption", "region", "reviewdecision", "scenario", "servicerecord",
    "storemeta", "submission", "unit", "usagemonthly", "voucher",
})
LEGACY_SCHEMAS: tuple[tuple[str, frozenset[str]], ...] = (
    ("0003", _TABLES_0001 | {"duplicatecheck", "appuser"}),
    ("0002", _TABLES_0001 | {"duplicatecheck"}),
    ("0001", _TABLES_0001),
)
_LEGACY_TABLES = frozenset().union(*(tables for _, tables in LEGACY_SCHEMAS))


class StoreSchemaError(RuntimeError):
    """The store's schema cannot be brought to this version of the app automatically."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for this package, without any alembic.ini; with `connection`,
    env.py migrates through it (inside the caller's transaction) instead of opening its own."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_DIR).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision in versions/."""
    head = _script().get_current_head()
    assert head is not None, "models/migrations/versions holds no revision"
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in the store, or None when it has no version table (empty or legacy)."""
    return MigrationContext.configure(conn).get_current_revision()


def store_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)


def legacy_revision(conn: Connection) -> str | None:
    """The revision whose tables a store without version table has (made by create_all before
    migrations existed), or None when it has none of the store's tables (a new database)."""
    tables = set(inspect(conn).get_table_names())
    for revision, needed in LEGACY_SCHEMAS:
        if needed <= tables:
            return revision
    ours = sorted(tables & _LEGACY_TABLES)
    if ours:
        raise StoreSchemaError(
            f"the database has some of the store's tables ({', '.join(ours)}) but not all the tables "
            "of any schema that shipped; it cannot be migrated automatically"
        )
    return None


def upgrade_store(engine: Engine, seed: Callable[[Connection], None] | None = None) -> str:
    """Bring the store to the newest revision (see the module docstring); return that revision.

    `seed(conn)`, when given, runs after an upgrade inside the same transaction and lock (init_store
    loads reference data there, so two processes opening a new store at once do not both load
    them). It does not run when the store is already at head."""
    head = head_revision()
    with engine.connect() as conn:  # the cheap path: already at head
        if current_revision(conn) == head:
            return head
    with migration_connection(engine) as conn:
        current = current_revision(conn)  # again, under the lock: another process may have upgraded
        if current == head:
            return head
        cfg = alembic_config(conn)
        if current is None:
            legacy = legacy_revision(conn)
            if legacy is not None:
                command.stamp(cfg, legacy)
        else:
            try:
                _script().get_revision(current)
            except Exception as exc:  # alembic raises ResolutionError / CommandError
                raise StoreSchemaError(
                    f"the store is at schema revision {current!r}, which this version of the app does "
                    "not know (was it opened by a newer version?)"
                ) from exc
        command.upgrade(cfg, "head")
        if seed is not None:
            seed(conn)
    return head


def _sqlite_in_memory(engine: Engine) -> bool:
    return engine.url.database in (None, "", ":memory:") or "mode=memory" in str(engine.url)


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside one transaction that holds the store's migration lock; committed when
    the block ends, rolled back on any error.

    SQLite: the connection runs in AUTOCOMMIT mode, so neither the driver nor the engine's begin
    hook (models.db.make_engine) starts a transaction, and the block runs in our own
    `BEGIN IMMEDIATE`, which takes the database's write lock at once (other processes wait for it
    through the busy timeout); SQLite's DDL is transactional, so a failed revision is rolled back
    whole. Foreign keys are off while tables are rebuilt (batch migrations copy and drop tables), as
    SQLite requires, and checked with `PRAGMA foreign_key_check` before the commit. Afterwards a
    file store's connection is discarded rather than pooled: SQLAlchemy would hand it back with
    the driver's default transaction handling, not the one make_engine set up.
    PostgreSQL: DDL is transactional; a transaction-scoped advisory lock keyed by the current schema
    serialises upgrades of the same store."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
            conn.commit()
            try:
                with conn.begin():
                    if not conn.connection.dbapi_connection.in_transaction:
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
                    yield conn
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StoreSchemaError(f"the migration left rows with broken foreign keys: {broken[:5]}")
            finally:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
                if not _sqlite_in_memory(engine):  # an in-memory database lives in its one connection
                    conn.invalidate()
        else:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key, hashtext(current_schema()))"),
                        {"key": _PG_LOCK_KEY},
                    )
                yield conn
