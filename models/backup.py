"""Backup and restore of the whole store: every table of `SQLModel.metadata` in one versioned file.

File format (version 1) — a ZIP archive holding

- `manifest.json`: `{"format": "alxa-sharing-backup", "version": 1, "created_at": ISO 8601 UTC,
  "schema_revision": the Alembic revision of the store or null, "backend": "sqlite" | "postgresql",
  "tables": [{"name", "file", "columns": [{"name", "type"}], "rows", "sha256"}, ...]}`, the tables
  in dependency order (parents before children);
- `tables/<name>.jsonl`: one JSON array per row, the values in the manifest's column order, rows
  by primary key; `sha256` is the hex digest of this entry's bytes.

Values are typed by column ("type" in the manifest): `int`, `bool`, `str`, null for NULL; `float`
as a JSON number written with Python's repr (reads back bit for bit; NaN and ±infinity as the
strings "NaN", "Infinity", "-Infinity"); `date` as "YYYY-MM-DD"; `datetime_tz` (the aware UTC
audit, creation and publication times) as ISO 8601 with "+00:00"; `datetime` (the naive local
times of service records) as ISO 8601 without an offset.

A backup only reads, inside one snapshot (a REPEATABLE READ transaction on PostgreSQL, one read
transaction on SQLite), and writes the file through a temporary name, so a failure never leaves
half a file.

A restore refuses (`BackupError` with a catalogue key, nothing written) a store that holds any
data besides the reference tables (region, instrumentclass) and StoreMeta, which `init_store`
fills in every new store; and a damaged, changed or foreign file: it checks the whole file first —
the ZIP structure and every member's CRC, the format name and version, the schema (exactly this
program's tables and columns), every table's row count and checksum, every value's type and
NULL-ness. Otherwise, in one transaction: the reference tables are replaced by the backup's, the
backup's StoreMeta keys replace the store's, every other table is inserted with Core inserts in
dependency order keeping the primary keys (Core inserts bypass the ORM guard on evidence tables;
audit entries come back exactly as they were), PostgreSQL sequences are moved past the restored
ids, and one audit entry `store.restore` is added. The data revision becomes one more than the
larger of the backup's and the store's, so no read cache can mistake the restored data for an
earlier state. Rows the database refuses (BackupError "backup.err.rejected") roll everything back.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import (Boolean, Date, DateTime, Float, Integer, Numeric, String, delete, func, insert, inspect,
                        select, text)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.schema import Column, Table
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from dashboard import auth
from models import tables as T
from models.db import session_scope
from models.services.audit import record_write

FORMAT = "alxa-sharing-backup"
VERSION = 1
MANIFEST = "manifest.json"
# Filled by init_store in every new store: a restore replaces them instead of refusing the store.
REFERENCE_TABLES = ("region", "instrumentclass")
META_TABLE = T.StoreMeta.__tablename__
REVISION_KEY = "data_revision"
INSERT_CHUNK_ROWS = 5_000
NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
KINDS = ("int", "float", "bool", "str", "date", "datetime", "datetime_tz")


class BackupError(Exception):
    """A refused backup or restore. `key` is a translation-catalogue key (`backup.err.*`); `params`
    fill its placeholders (the caller adds `file`)."""

    def __init__(self, key: str, **params):
        super().__init__(f"{key} {params}")
        self.key = key
        self.params = params


@dataclass(frozen=True)
class TableEntry:
    name: str
    file: str
    columns: tuple[tuple[str, str], ...]  # (name, type)
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    created_at: str
    schema_revision: str | None
    backend: str
    tables: tuple[TableEntry, ...]

    @property
    def row_counts(self) -> dict[str, int]:
        return {t.name: t.rows for t in self.tables}


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    file_sha256: str
    audit_id: int
    data_revision: int
    row_counts: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- column types


def column_kind(column: Column) -> str:
    """The value type of a column in the file format (one of KINDS)."""
    sa_type = column.type
    base = sa_type.impl if isinstance(sa_type, TypeDecorator) else sa_type
    if isinstance(base, DateTime):
        return "datetime_tz" if base.timezone else "datetime"
    if isinstance(base, Date):
        return "date"
    if isinstance(base, Boolean):
        return "bool"
    if isinstance(base, Integer):
        return "int"
    if isinstance(base, (Float, Numeric)):
        return "float"
    if isinstance(base, String):
        return "str"
    raise TypeError(f"{column.table.name}.{column.name}: no backup encoding for {sa_type!r}")


def _tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(SQLModel.metadata.sorted_tables)


def _schema() -> dict[str, tuple[tuple[str, str], ...]]:
    return {t.name: tuple((c.name, column_kind(c)) for c in t.columns) for t in _tables()}


def _encode_float(value) -> float | str:
    value = float(value)
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _encode_utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


_ENCODERS = {"int": int, "float": _encode_float, "bool": bool, "str": str, "date": date.isoformat,
             "datetime": datetime.isoformat, "datetime_tz": _encode_utc}


def _encode(kind: str, value):
    """The JSON value of one column value (None stays None)."""
    return None if value is None else _ENCODERS[kind](value)


def _decode_int(value) -> int:
    if type(value) is int:
        return value
    raise ValueError(value)


def _decode_float(value) -> float:
    if type(value) in (int, float):
        return float(value)
    if isinstance(value, str) and value in NONFINITE:
        return NONFINITE[value]
    raise ValueError(value)


def _decode_bool(value) -> bool:
    if type(value) is bool:
        return value
    raise ValueError(value)


def _decode_str(value) -> str:
    if isinstance(value, str):
        return value
    raise ValueError(value)


def _decode_date(value) -> date:
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    raise ValueError(value)


def _decode_naive(value) -> datetime:
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            return parsed
    raise ValueError(value)


def _decode_utc(value) -> datetime:
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is not None:
            return parsed.astimezone(timezone.utc)
    raise ValueError(value)


_DECODERS = {"int": _decode_int, "float": _decode_float, "bool": _decode_bool, "str": _decode_str,
             "date": _decode_date, "datetime": _decode_naive, "datetime_tz": _decode_utc}


def _decode(kind: str, value):
    """The Python value of one encoded value (None stays None); ValueError when it is not of the
    column's type."""
    return None if value is None else _DECODERS[kind](value)


def _refuse_constant(name: str):
    raise ValueError(name)  # bare NaN / Infinity are not JSON


_JSON = json.JSONDecoder(parse_constant=_refuse_constant)


# --------------------------------------------------------------------------- backup


def schema_revision(conn: Connection) -> str | None:
    """The Alembic revision(s) the store is at (comma-joined), or None without alembic_version."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    revisions = sorted(str(r) for r in conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return ",".join(revisions) or None


def _snapshot_connection(engine: Engine):
    """A connection whose reads all see one snapshot of the store."""
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    conn.begin()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if not raw.in_transaction:  # pysqlite opens transactions only for writes
            conn.exec_driver_sql("BEGIN")
    return conn


def write_backup(engine: Engine, path: str | os.PathLike, *, now: datetime | None = None) -> BackupResult:
    """Write every table of the store to `path` (see the module docstring); returns the manifest."""
    path = Path(path)
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    created_at = stamp.isoformat()
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        conn = _snapshot_connection(engine)
        try:
            revision = schema_revision(conn)
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                entries = tuple(_dump_table(conn, zf, table, stamp) for table in _tables())
                manifest = Manifest(created_at=created_at, schema_revision=revision, backend=conn.dialect.name,
                                    tables=entries)
                document = json.dumps(_manifest_json(manifest), ensure_ascii=False, indent=2) + "\n"
                zf.writestr(_member(MANIFEST, stamp), document)
        finally:
            conn.rollback()
            conn.close()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BackupResult(path=path, manifest=manifest)


def _member(name: str, stamp: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _dump_table(conn: Connection, zf: zipfile.ZipFile, table: Table, stamp: datetime) -> TableEntry:
    columns = list(table.columns)
    kinds = [column_kind(c) for c in columns]
    order = list(table.primary_key.columns) or columns
    name = f"tables/{table.name}.jsonl"
    digest = hashlib.sha256()
    rows = 0
    encoders = [_ENCODERS[k] for k in kinds]
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    result = conn.execution_options(yield_per=INSERT_CHUNK_ROWS).execute(select(*columns).order_by(*order))
    with zf.open(_member(name, stamp), "w", force_zip64=True) as fh:
        for batch in result.partitions():
            data = "".join(
                dumps([None if v is None else f(v) for f, v in zip(encoders, row)]) + "\n" for row in batch
            ).encode("utf-8")
            digest.update(data)
            fh.write(data)
            rows += len(batch)
    return TableEntry(name=table.name, file=name, columns=tuple((c.name, k) for c, k in zip(columns, kinds)),
                      rows=rows, sha256=digest.hexdigest())


def _manifest_json(manifest: Manifest) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "created_at": manifest.created_at,
        "schema_revision": manifest.schema_revision,
        "backend": manifest.backend,
        "tables": [
            {"name": t.name, "file": t.file, "columns": [{"name": n, "type": k} for n, k in t.columns],
             "rows": t.rows, "sha256": t.sha256}
            for t in manifest.tables
        ],
    }


# --------------------------------------------------------------------------- checking a file


_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError)


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise BackupError("backup.err.missing")
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise BackupError("backup.err.not_a_backup") from None
    except OSError as exc:
        raise BackupError("backup.err.unreadable", reason=exc.strerror or str(exc)) from None


def _read_manifest(zf: zipfile.ZipFile) -> Manifest:
    try:
        raw = zf.read(MANIFEST)
    except KeyError:
        raise BackupError("backup.err.not_a_backup") from None
    except _DAMAGE as exc:
        raise BackupError("backup.err.damaged", reason=str(exc)) from None
    try:
        doc = _JSON.decode(raw.decode("utf-8"))
    except ValueError:
        raise BackupError("backup.err.not_a_backup") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise BackupError("backup.err.foreign", format=str(found))
    if doc.get("version") != VERSION:
        raise BackupError("backup.err.version", version=str(doc.get("version")), supported=VERSION)
    try:
        tables = tuple(
            TableEntry(
                name=_typed(t["name"], str), file=_typed(t["file"], str),
                columns=tuple((_typed(c["name"], str), _typed(c["type"], str)) for c in _typed(t["columns"], list)),
                rows=_typed(t["rows"], int), sha256=_typed(t["sha256"], str),
            )
            for t in _typed(doc["tables"], list)
        )
        revision = doc.get("schema_revision")
        manifest = Manifest(created_at=_typed(doc["created_at"], str),
                            schema_revision=None if revision is None else _typed(revision, str),
                            backend=str(doc.get("backend", "")), tables=tables)
    except (KeyError, TypeError, ValueError):
        raise BackupError("backup.err.manifest") from None
    return manifest


def _typed(value, kind: type):
    if type(value) is not kind:
        raise TypeError(value)
    return value


def _check_schema(manifest: Manifest) -> None:
    """The backup must hold exactly this program's tables with the same columns and types."""
    expected = _schema()
    names = [t.name for t in manifest.tables]
    problems = []
    if len(set(names)) != len(names):
        problems.append("duplicate tables")
    problems += [f"-{n}" for n in sorted(set(expected) - set(names))]
    problems += [f"+{n}" for n in sorted(set(names) - set(expected))]
    problems += [t.name for t in manifest.tables if t.name in expected and t.columns != expected[t.name]]
    if problems:
        raise BackupError("backup.err.schema", detail=", ".join(problems),
                          revision=manifest.schema_revision or "-")


def _rows(zf: zipfile.ZipFile, entry: TableEntry, table: Table) -> Iterator[dict]:
    """The decoded rows of one table file, checked value by value; the row count and checksum are
    checked when the file is exhausted (BackupError on any mismatch)."""
    kinds = [k for _, k in entry.columns]
    names = [n for n, _ in entry.columns]
    nullable = [table.c[n].nullable for n in names]
    decoders = [_DECODERS[k] for k in kinds]
    digest = hashlib.sha256()
    count = 0
    try:
        fh = zf.open(entry.file)
    except KeyError:
        raise BackupError("backup.err.table_missing", table=entry.name) from None
    except _DAMAGE as exc:
        raise BackupError("backup.err.damaged", reason=str(exc)) from None
    with fh:
        while True:
            try:
                line = fh.readline()
            except _DAMAGE as exc:
                raise BackupError("backup.err.damaged", reason=str(exc)) from None
            if not line:
                break
            digest.update(line)
            count += 1
            try:
                values = _JSON.decode(line.decode("utf-8"))
            except ValueError:
                raise BackupError("backup.err.row", table=entry.name, row=count, columns=len(names)) from None
            if not isinstance(values, list) or len(values) != len(names):
                raise BackupError("backup.err.row", table=entry.name, row=count, columns=len(names))
            try:
                if None in values and any(v is None for v, ok in zip(values, nullable) if not ok):
                    raise ValueError("null")
                record = {n: None if v is None else f(v) for n, f, v in zip(names, decoders, values)}
            except (ValueError, TypeError, OverflowError):
                raise _value_error(entry, count, values, nullable) from None
            yield record
    if digest.hexdigest() != entry.sha256:
        raise BackupError("backup.err.checksum", table=entry.name)
    if count != entry.rows:
        raise BackupError("backup.err.rows", table=entry.name, expected=entry.rows, found=count)


def _value_error(entry: TableEntry, row: int, values: list, nullable: list[bool]) -> BackupError:
    """The refusal naming the first value of a row that is not of its column's type."""
    for (name, kind), may_be_null, value in zip(entry.columns, nullable, values):
        try:
            if value is None and not may_be_null:
                raise ValueError(value)
            _decode(kind, value)
        except (ValueError, TypeError, OverflowError):
            return BackupError("backup.err.value", table=entry.name, row=row, column=name, kind=kind,
                               value=json.dumps(value, ensure_ascii=False)[:80])
    return BackupError("backup.err.row", table=entry.name, row=row, columns=len(entry.columns))


def _check_crc(zf: zipfile.ZipFile) -> None:
    """Every member decompresses and matches its CRC-32 (damage on disk or in transfer)."""
    try:
        bad = zf.testzip()
    except _DAMAGE as exc:
        raise BackupError("backup.err.damaged", reason=str(exc)) from None
    if bad is not None:
        raise BackupError("backup.err.damaged", reason=f"CRC-32 mismatch in {bad}")


def verify_backup(path: str | os.PathLike) -> Manifest:
    """Check a backup file completely (structure, format, version, schema, row counts, checksums,
    every value); returns its manifest or raises BackupError. Reads only the file."""
    with _open_zip(Path(path)) as zf:
        manifest = _read_manifest(zf)
        _check_crc(zf)
        _check_schema(manifest)
        metadata = SQLModel.metadata.tables
        for entry in manifest.tables:
            for _ in _rows(zf, entry, metadata[entry.name]):
                pass
    return manifest


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- restore


def data_tables() -> list[str]:
    """Tables a restore needs empty: all but the reference tables and StoreMeta."""
    return [t.name for t in _tables() if t.name not in REFERENCE_TABLES and t.name != META_TABLE]


def held_rows(conn: Connection) -> dict[str, int]:
    """Row counts of the data tables that are not empty."""
    metadata = SQLModel.metadata.tables
    counts = {}
    for name in data_tables():
        n = int(conn.execute(select(func.count()).select_from(metadata[name])).scalar_one())
        if n:
            counts[name] = n
    return counts


def _refuse_unless_empty(conn: Connection) -> None:
    held = held_rows(conn)
    if held:
        raise BackupError("backup.err.not_empty", tables=", ".join(f"{k} ({v})" for k, v in held.items()))


def restore_backup(engine: Engine, path: str | os.PathLike, *, actor) -> RestoreResult:
    """Restore the backup at `path` into the (empty) store; see the module docstring. Raises
    BackupError, having written nothing, when the file or the store is refused; PermissionDenied
    for a role that may not import data (the command line acts as the administrator)."""
    actor = auth.require(actor, auth.DATA_IMPORT).audit_name()
    path = Path(path)
    with engine.connect() as conn:
        _refuse_unless_empty(conn)  # cheap, before reading the whole file
    manifest = verify_backup(path)
    file_sha = _file_sha256(path)
    metadata = SQLModel.metadata.tables
    entries = {t.name: t for t in manifest.tables}
    try:
        with session_scope(engine) as session, _open_zip(path) as zf:
            conn = session.connection()
            _refuse_unless_empty(conn)
            meta = metadata[META_TABLE]
            store_revision = _revision_value(conn.execute(select(meta.c.value).where(meta.c.key == REVISION_KEY))
                                             .scalar_one_or_none())
            backup_revision = 0
            for table in _tables():
                if table.name in REFERENCE_TABLES:
                    conn.execute(delete(table))
                for chunk in _chunks(_rows(zf, entries[table.name], table)):
                    if table.name == META_TABLE:
                        conn.execute(delete(table).where(table.c.key.in_([r["key"] for r in chunk])))
                        for r in chunk:
                            if r["key"] == REVISION_KEY:
                                backup_revision = _revision_value(r["value"])
                    conn.execute(insert(table), chunk)
            _reset_sequences(conn)
            # record_write adds one to this: past both histories, so no cached read matches.
            revision = max(store_revision, backup_revision)
            if conn.execute(select(meta.c.key).where(meta.c.key == REVISION_KEY)).first() is None:
                conn.execute(insert(meta), [{"key": REVISION_KEY, "value": str(revision)}])
            else:
                conn.execute(meta.update().where(meta.c.key == REVISION_KEY).values(value=str(revision)))
            summary = (f"restored backup created {manifest.created_at} ({sum(manifest.row_counts.values())} rows, "
                       f"{len(manifest.tables)} tables, schema revision {manifest.schema_revision or '-'})")
            record_write(
                session, actor=actor, action="store.restore", entity="store", entity_key=file_sha[:16],
                summary=summary,
                after={"file_sha256": file_sha, "created_at": manifest.created_at,
                       "schema_revision": manifest.schema_revision, "backend": manifest.backend,
                       "rows": manifest.row_counts},
            )
            session.flush()
            audit = metadata[T.AuditEntry.__tablename__]
            audit_id = int(conn.execute(select(func.max(audit.c.id))).scalar_one())
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise BackupError("backup.err.rejected", reason=reason[:300]) from exc
    return RestoreResult(manifest=manifest, file_sha256=file_sha, audit_id=audit_id, data_revision=revision + 1,
                         row_counts=manifest.row_counts)


def _revision_value(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _chunks(rows: Iterator[dict]) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= INSERT_CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: move each serial/identity sequence past the explicitly inserted ids (an empty
    table's sequence starts again at 1). SQLite needs nothing: it continues after max(rowid)."""
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or column_kind(pk[0]) != "int":
            continue
        name, col = quote(table.name), quote(pk[0].name)
        conn.execute(
            text(f"SELECT setval(pg_get_serial_sequence(:table, :column), COALESCE(MAX({col}), 1), "
                 f"MAX({col}) IS NOT NULL) FROM {name}"),
            {"table": name, "column": pk[0].name},
        )
