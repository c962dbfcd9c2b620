"""Backup and restore of the whole store (models/backup.py, `python -m dashboard backup|restore`), on
every configured backend and across backends.

The source store holds the demo (30 instruments) plus one of everything the demo lacks: a review
decision recorded by hand (superseding none, on a checked demo request), a duplicate-check run, a
saved scenario, a stored scheme with a published evaluation, an account, and a unit with awkward
values (a float that is not a short decimal, 0.1 + 0.2 = 0.30000000000000004; text with a newline,
quotes, U+2028 and an emoji; a NULL longitude). A restore into a fresh store must give every read
the same answer, keep every id, and add exactly one audit entry.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session, SQLModel

from dashboard import sanctions as S
from dashboard.evaluation import publish, run_evaluation
from dashboard.i18n import Translator
from dashboard.incentives import RewardRule
from dashboard.scenarios import ScenarioParams
from dashboard.scheme import GradeRule
from dashboard.vouchers import VoucherParams
from models import backup as B
from models import evaluations as E
from models import queries as q
from models import tables as T
from models.db import data_revision, dispose_shared_engines, init_store, make_engine
from models.services import purchases as SP
from models.services.demo import load_demo
from models.services.scenarios import save_scenario
from tests.stores import BACKENDS, store_url

AWKWARD_TEXT = 'line one\nline two "quoted" \\ back\u2028slash 🙂'
AWKWARD_FLOAT = 0.1 + 0.2
PUBLISHED_YEAR = 2025
NOW = datetime(2026, 3, 10, 8, 30, 15, tzinfo=timezone.utc)


def scenario_params() -> ScenarioParams:
    return ScenarioParams(
        year=2025,
        weights={"open_ratio": 0.2, "external_share": 0.3},
        grade_rule=GradeRule(bands=(85.0, 70.0, 60.0), fourth_label="不合格"),
        reward=RewardRule(pool_cny=1_234_567.89, eligible_grades=("优秀", "良好"), min_score=65.0, cap_cny=500_000),
        sanctions=S.SanctionRules(),
        vouchers=VoucherParams(voucher_ratio=0.5, pool_cny=None, per_firm_annual_cap_cny=200_000),
    )


def fill(engine) -> dict:
    """The source store of the module docstring; returns the ids of the hand-made rows."""
    load_demo(engine, instruments=30)
    requests = q.purchase_requests(engine)
    checked = int(requests.loc[requests["status"] == "checked", "id"].min())
    submitted = int(requests.loc[requests["status"] == "submitted", "id"].min())
    run = SP.run_check(engine, submitted, actor="审核员", on_date=date(2026, 3, 6))
    decision = SP.record_decision(engine, checked, {"verdict": "不予通过", "reasons": "同类仪器闲置",
                                                    "reviewers": "张三、李四", "decided_date": "2026-03-08"},
                                  actor="评议组", today=date(2026, 3, 10))
    scenario = save_scenario(engine, "方案甲", AWKWARD_TEXT, scenario_params(), actor="科技局王某")
    table, result = run_evaluation(engine, PUBLISHED_YEAR)
    publication = publish(engine, PUBLISHED_YEAR, result.scheme, result, table, actor="tester")
    with Session(engine) as s:
        unit = T.Unit(name="边角值测试单位", unit_type="其他", region_code="152921", lat=AWKWARD_FLOAT, lon=None,
                      note=AWKWARD_TEXT, is_sme=True)
        user = T.User(username="admin", display_name="管理员", role="admin", password_hash="$argon2id$x",
                      created_at=NOW)
        s.add_all([unit, user])
        s.commit()
        ids = {"unit": unit.id, "user": user.id}
    return {**ids, "check": run.id, "decision": decision, "scenario": scenario, "publication": publication.id}


def raw_tables(engine) -> dict[str, list[tuple]]:
    """Every row of every table, by primary key, as Python values."""
    out = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return out


def reads(engine) -> dict[str, object]:
    """What the app reads: every query of models/queries.py and models/evaluations.py."""
    out = {
        "regions": q.regions(engine), "instrument_classes": q.instrument_classes(engine), "units": q.units(engine),
        "instruments": q.instruments(engine), "usage_by_instrument_year": q.usage_by_instrument_year(engine),
        "usage_2024": q.usage_by_instrument_year(engine, 2024), "usage_monthly": q.usage_monthly(engine),
        "usage_monthly_for_1": q.usage_monthly_for(engine, 1), "usage_years": q.usage_years(engine),
        "services": q.services(engine), "services_2025": q.services(engine, 2025),
        "services_for_evaluation": q.services_for_evaluation(engine, 2025), "submissions": q.submissions(engine),
        "scenarios": q.scenarios(engine), "purchase_requests": q.purchase_requests(engine),
        "review_decisions": q.review_decisions(engine), "duplicate_checks": q.duplicate_checks(engine),
        "users": q.users(engine), "demo_seed": q.store_meta(engine, "demo_seed"),
        "indicator_schemes": E.indicator_schemes(engine), "published_evaluations": E.published_evaluations(engine),
        "latest_scheme": E.latest_scheme(engine),
    }
    publications = out["published_evaluations"]["id"].tolist()
    out["published_snapshots"] = [E.published_snapshot(engine, int(i)) for i in publications]
    return out


def assert_same_reads(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(got[name], value, check_exact=True, obj=name)
        else:
            assert got[name] == value, name


def audit_without_restore(engine) -> pd.DataFrame:
    audit = q.audit_entries(engine)
    return audit[audit["action"] != "store.restore"].reset_index(drop=True)


@pytest.fixture
def target(backend, tmp_path):
    """A second, fresh store (schema and reference data only) on the same backend."""
    with store_url(backend, tmp_path) as url:
        eng = make_engine(url)
        init_store(eng)
        yield eng
        eng.dispose()


@pytest.fixture
def source(engine, tmp_path):
    """(engine, ids, backup path) of the filled store."""
    ids = fill(engine)
    path = tmp_path / "store.zip"
    B.write_backup(engine, path, now=NOW)
    return engine, ids, path


# --------------------------------------------------------------------------- the file


def test_the_file_is_a_zip_with_a_manifest_and_one_typed_jsonl_file_per_table(source):
    engine, ids, path = source
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        members = {name: zf.read(name) for name in zf.namelist()}
    assert (manifest["format"], manifest["version"], manifest["created_at"]) == (
        "alxa-sharing-backup", 1, "2026-03-10T08:30:15+00:00")
    with engine.connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert manifest["schema_revision"] == revision
    assert manifest["backend"] == engine.dialect.name
    names = [t["name"] for t in manifest["tables"]]
    assert sorted(names) == sorted(SQLModel.metadata.tables) and len(members) == len(names) + 1
    # dependency order: every table comes after the tables it references
    for position, name in enumerate(names):
        for fk in SQLModel.metadata.tables[name].foreign_keys:
            if fk.column.table.name != name:
                assert names.index(fk.column.table.name) < position, (name, fk.column.table.name)
    for entry in manifest["tables"]:
        data = members[entry["file"]]
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] == data.count(b"\n") == q.count_rows(engine, SQLModel.metadata.tables[entry["name"]])
        assert [c["name"] for c in entry["columns"]] == [c.name for c in SQLModel.metadata.tables[entry["name"]].c]

    def row(table: str, row_id: int) -> dict:
        entry = next(t for t in manifest["tables"] if t["name"] == table)
        cols = [c["name"] for c in entry["columns"]]
        for line in members[entry["file"]].decode("utf-8").split("\n")[:-1]:  # not splitlines: U+2028
            values = json.loads(line)
            if values[0] == row_id:
                return dict(zip(cols, values))
        raise AssertionError((table, row_id))

    unit = row("unit", ids["unit"])
    assert unit["lat"] == AWKWARD_FLOAT and repr(unit["lat"]) == "0.30000000000000004"
    assert unit["lon"] is None and unit["note"] == AWKWARD_TEXT and unit["is_sme"] is True
    assert row("appuser", ids["user"])["created_at"] == "2026-03-10T08:30:15+00:00"
    decision = row("reviewdecision", ids["decision"])
    assert decision["decided_date"] == "2026-03-08" and decision["created_at"].endswith("+00:00")
    service = row("servicerecord", 1)
    assert len(service["start_time"]) == 19 and "+" not in service["start_time"]  # naive local time, kept so
    # the awkward text sits on one line: the newline is escaped, U+2028 and the emoji are UTF-8
    assert AWKWARD_TEXT.encode("utf-8").replace(b"\n", b"") not in members["tables/unit.jsonl"]
    assert "\u2028".encode("utf-8") in members["tables/unit.jsonl"]


def test_values_encode_by_column_type_and_decode_exactly():
    aware = datetime(2026, 3, 10, 16, 30, tzinfo=timezone.utc)
    assert B._encode("datetime_tz", aware) == "2026-03-10T16:30:00+00:00"
    assert B._decode("datetime_tz", "2026-03-11T00:30:00+08:00") == aware  # any offset reads back as UTC
    assert B._encode("datetime", datetime(2025, 5, 1, 9, 0)) == "2025-05-01T09:00:00"
    for kind, value in (("float", 1e-300), ("float", 123456789.123456789), ("int", 2**40), ("bool", False),
                        ("str", ""), ("date", date(2024, 2, 29))):
        encoded = json.loads(json.dumps(B._encode(kind, value)))
        assert B._decode(kind, encoded) == value and type(B._decode(kind, encoded)) is type(value)
    assert [B._encode("float", v) for v in (math.inf, -math.inf)] == ["Infinity", "-Infinity"]
    assert math.isnan(B._decode("float", B._encode("float", math.nan)))
    for kind, bad in (("int", True), ("int", 1.5), ("bool", 1), ("str", 5), ("float", "1.5"), ("date", "2024-2-29"),
                      ("datetime_tz", "2026-03-10T16:30:00"), ("datetime", "2026-03-10T16:30:00+00:00")):
        with pytest.raises(ValueError):
            B._decode(kind, bad)


# --------------------------------------------------------------------------- restore


def test_restore_into_an_empty_store_gives_identical_reads_and_keeps_every_id(source, target):
    engine, ids, path = source
    expected_raw, expected_reads = raw_tables(engine), reads(engine)
    expected_audit = q.audit_entries(engine)
    revisions = (data_revision(engine), data_revision(target))

    result = B.restore_backup(target, path, actor="cli")

    assert_same_reads(reads(target), expected_reads)
    got_raw = raw_tables(target)
    for name, rows in expected_raw.items():
        if name == "auditentry":
            assert got_raw[name][:-1] == rows  # restored as they were, plus the restore itself
        elif name == "storemeta":
            assert [r for r in got_raw[name] if r[0] != "data_revision"] == [r for r in rows if r[0] != "data_revision"]
        else:
            assert got_raw[name] == rows, name
    pd.testing.assert_frame_equal(audit_without_restore(target), expected_audit, check_exact=True)
    # the hand-made rows kept their ids
    assert q.units(target).set_index("id").at[ids["unit"], "note"] == AWKWARD_TEXT
    assert q.users(target).set_index("id").at[ids["user"], "username"] == "admin"
    assert E.published_snapshot(target, ids["publication"])["publication"]["id"] == ids["publication"]
    assert ids["decision"] in set(q.review_decisions(target)["id"]) and ids["check"] in set(q.duplicate_checks(target)["id"])

    # one audit entry for the restore, numbered after the restored ones
    audit = q.audit_entries(target)
    restore = audit[audit["action"] == "store.restore"]
    assert len(restore) == 1 and len(audit) == len(expected_audit) + 1
    entry = restore.iloc[0]
    assert entry["id"] == result.audit_id == max(expected_audit["id"]) + 1 and entry["actor"] == "cli"
    after = json.loads(entry["after_json"])
    assert after["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result.file_sha256
    assert after["created_at"] == "2026-03-10T08:30:15+00:00"
    assert after["rows"] == {name: len(rows) for name, rows in expected_raw.items()}
    # the data revision moves past both stores' histories
    assert data_revision(target) == result.data_revision == max(revisions) + 1

    # new rows continue after the restored ids (PostgreSQL sequences were reset)
    again = save_scenario(target, "方案乙", "", scenario_params(), actor="x")
    assert again == max(q.scenarios(engine)["id"]) + 1
    assert max(q.audit_entries(target)["id"]) == result.audit_id + 1

    # a backup of the restored store holds the same table files, but for the audit trail and StoreMeta
    copy = path.with_name("copy.zip")
    B.write_backup(target, copy, now=NOW)
    first, second = B.verify_backup(path), B.verify_backup(copy)
    assert {t.name: t.sha256 for t in first.tables if t.name not in ("auditentry", "storemeta", "scenario")} == {
        t.name: t.sha256 for t in second.tables if t.name not in ("auditentry", "storemeta", "scenario")}


def test_a_store_that_holds_data_is_refused_and_left_as_it_was(source, target):
    engine, _, path = source
    before = raw_tables(engine)
    with pytest.raises(B.BackupError) as exc:
        B.restore_backup(engine, path, actor="cli")
    assert exc.value.key == "backup.err.not_empty" and "unit (" in exc.value.params["tables"]
    assert raw_tables(engine) == before

    B.restore_backup(target, path, actor="cli")
    restored = raw_tables(target)
    with pytest.raises(B.BackupError) as exc:
        B.restore_backup(target, path, actor="cli")
    assert exc.value.key == "backup.err.not_empty"
    assert raw_tables(target) == restored


@pytest.mark.parametrize("only", ["appuser", "auditentry"])
def test_even_an_account_or_an_audit_entry_alone_makes_a_store_non_empty(source, target, only):
    _, _, path = source
    with Session(target) as s:
        s.add(T.User(username="first", role="admin") if only == "appuser" else T.AuditEntry(action="x.y"))
        s.commit()
    before = raw_tables(target)
    with pytest.raises(B.BackupError) as exc:
        B.restore_backup(target, path, actor="cli")
    assert exc.value.key == "backup.err.not_empty" and exc.value.params["tables"] == f"{only} (1)"
    assert raw_tables(target) == before


def _rewrite(src: Path, dst: Path, change) -> Path:
    """Copy the archive src to dst, passing each member through change(name, data) -> data | None
    (None drops the member)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
    return dst


def _edit_manifest(edit):
    def change(name, data):
        if name != "manifest.json":
            return data
        doc = json.loads(data)
        edit(doc)
        return json.dumps(doc).encode()
    return change


def _edit_table(table: str, edit, *, reseal: bool):
    """Change the rows of one table file; with reseal the manifest's checksum and row count follow."""
    sealed = {}

    def change(name, data):
        if name == f"tables/{table}.jsonl":
            rows = [json.loads(line) for line in data.decode().split("\n")[:-1]]
            rows = edit(rows)
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
            sealed.update(sha256=hashlib.sha256(data).hexdigest(), rows=len(rows))
        return data

    def rewrite(src, dst):
        _rewrite(src, dst, change)
        if not reseal:
            return dst
        tmp = dst.with_suffix(".tmp")

        def seal(doc):
            entry = next(t for t in doc["tables"] if t["name"] == table)
            entry.update(sealed)
        os.replace(_rewrite(dst, tmp, _edit_manifest(seal)), dst)
        return dst
    return rewrite


def _set(row_index: int, column: int, value):
    def edit(rows):
        rows[row_index][column] = value
        return rows
    return edit


def _flip_a_byte(src: Path, dst: Path, member: str = "tables/servicerecord.jsonl") -> Path:
    """Damage one byte in the middle of a member's compressed data (the directory stays intact)."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(member)
    name_len, extra_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0xFF
    dst.write_bytes(bytes(data))
    return dst


CASES = {
    # a byte damaged on disk: the ZIP layer's CRC (or deflate) fails
    "flipped_byte": (_flip_a_byte, "backup.err.damaged", None),
    # a changed value, the manifest left alone: the checksum no longer matches
    "changed_row": (lambda src, dst: _edit_table("unit", _set(0, 1, "改过的单位名"), reseal=False)(src, dst),
                    "backup.err.checksum", {"table": "unit"}),
    "dropped_row": (lambda src, dst: _edit_table("usagemonthly", lambda rows: rows[1:], reseal=False)(src, dst),
                    "backup.err.checksum", {"table": "usagemonthly"}),
    "wrong_version": (lambda src, dst: _rewrite(src, dst, _edit_manifest(lambda d: d.update(version=2))),
                      "backup.err.version", {"version": "2", "supported": 1}),
    "foreign_format": (lambda src, dst: _rewrite(src, dst, _edit_manifest(lambda d: d.update(format="other-app"))),
                       "backup.err.foreign", {"format": "other-app"}),
    "truncated": (lambda src, dst: dst.write_bytes(src.read_bytes()[: len(src.read_bytes()) // 2]) and dst,
                  "backup.err.not_a_backup", {}),
    "random_bytes": (lambda src, dst: dst.write_bytes(bytes(range(256)) * 64) and dst, "backup.err.not_a_backup", {}),
    "zip_without_manifest": (lambda src, dst: _rewrite(src, dst, lambda n, d: None if n == "manifest.json" else d),
                             "backup.err.not_a_backup", {}),
    "missing_table_file": (lambda src, dst: _rewrite(src, dst, lambda n, d: None if n == "tables/unit.jsonl" else d),
                           "backup.err.table_missing", {"table": "unit"}),
    "row_count_lies": (lambda src, dst: _rewrite(src, dst, _edit_manifest(
        lambda d: next(t for t in d["tables"] if t["name"] == "region").update(rows=5))),
        "backup.err.rows", {"table": "region", "expected": 5, "found": 6}),
    "missing_column": (lambda src, dst: _rewrite(src, dst, _edit_manifest(
        lambda d: next(t for t in d["tables"] if t["name"] == "unit")["columns"].pop())),
        "backup.err.schema", None),
    "malformed_manifest": (lambda src, dst: _rewrite(src, dst, _edit_manifest(lambda d: d.update(tables="all"))),
                           "backup.err.manifest", {}),
    # resealed edits pass the checksum but not the value checks
    "text_in_a_number": (lambda src, dst: _edit_table("instrument", _set(0, 7, "五十万"), reseal=True)(src, dst),
                         "backup.err.value", {"table": "instrument", "row": 1, "column": "original_value",
                                              "kind": "float", "value": '"五十万"'}),
    "null_where_required": (lambda src, dst: _edit_table("unit", _set(2, 1, None), reseal=True)(src, dst),
                            "backup.err.value", {"table": "unit", "row": 3, "column": "name", "kind": "str",
                                                 "value": "null"}),
    "short_row": (lambda src, dst: _edit_table("region", lambda rows: [r[:-1] for r in rows], reseal=True)(src, dst),
                  "backup.err.row", {"table": "region", "row": 1, "columns": 9}),
}


def test_damaged_foreign_or_newer_files_are_refused_and_nothing_is_written(source, target, tmp_path):
    _, _, path = source
    before = raw_tables(target)
    for case, (make, key, params) in CASES.items():
        bad = make(path, tmp_path / f"{case}.zip")
        with pytest.raises(B.BackupError) as exc:
            B.verify_backup(bad)
        assert exc.value.key == key, case
        if params is not None:
            assert exc.value.params == params, case
        with pytest.raises(B.BackupError) as exc:
            B.restore_backup(target, bad, actor="cli")
        assert exc.value.key == key, case
        assert raw_tables(target) == before, case
    with pytest.raises(B.BackupError) as exc:
        B.restore_backup(target, tmp_path / "no-such-file.zip", actor="cli")
    assert exc.value.key == "backup.err.missing"


def test_rows_the_database_refuses_roll_back_every_table(source, target, tmp_path):
    """A resealed file whose redemption names a unit that does not exist passes every file check;
    the database refuses it after the units, instruments, services … went in, and the one
    transaction takes them all back."""
    _, _, path = source
    with zipfile.ZipFile(path) as zf:
        entry = next(t for t in json.loads(zf.read("manifest.json"))["tables"] if t["name"] == "redemption")
    unit_column = [c["name"] for c in entry["columns"]].index("unit_id")
    bad = _edit_table("redemption", _set(-1, unit_column, 999_999), reseal=True)(path, tmp_path / "fk.zip")
    B.verify_backup(bad)
    before = raw_tables(target)
    with pytest.raises(B.BackupError) as exc:
        B.restore_backup(target, bad, actor="cli")
    assert exc.value.key == "backup.err.rejected" and exc.value.params["reason"]
    assert raw_tables(target) == before


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs TEST_DATABASE_URL")
@pytest.mark.parametrize("direction", [("sqlite", "postgresql"), ("postgresql", "sqlite")])
def test_a_backup_restores_on_the_other_backend(tmp_path, direction):
    made_on, restored_on = direction
    with store_url(made_on, tmp_path) as src_url, store_url(restored_on, tmp_path) as dst_url:
        src, dst = make_engine(src_url), make_engine(dst_url)
        try:
            init_store(src)
            init_store(dst)
            fill(src)
            path = B.write_backup(src, tmp_path / "cross.zip", now=NOW).path
            expected_raw, expected_reads = raw_tables(src), reads(src)
            B.restore_backup(dst, path, actor="cli")
            assert_same_reads(reads(dst), expected_reads)
            pd.testing.assert_frame_equal(audit_without_restore(dst), q.audit_entries(src), check_exact=True)
            got_raw = raw_tables(dst)
            for name, rows in expected_raw.items():
                if name not in ("auditentry", "storemeta"):
                    assert got_raw[name] == rows, name
            assert save_scenario(dst, "方案乙", "", scenario_params(), actor="x") == max(q.scenarios(src)["id"]) + 1
        finally:
            src.dispose()
            dst.dispose()


# --------------------------------------------------------------------------- the command line


def test_cli_backup_then_restore_refusals_and_success(engine, run_cli, backend, tmp_path, monkeypatch):
    fill(engine)
    out = tmp_path / "cli.zip"
    code, stdout, _ = run_cli("--lang", "en", "backup", "--out", str(out))
    counts = B.verify_backup(out).row_counts
    assert code == 0 and stdout.splitlines()[0].startswith(
        f"Backup written to {out}: {len(counts)} tables, {sum(counts.values())} rows (format version 1, schema revision ")
    assert f"  unit: {counts['unit']}" in stdout.splitlines()

    code, stdout, stderr = run_cli("--lang", "en", "backup", "--out", str(tmp_path / "no-such-dir" / "x.zip"))
    assert code == 2 and stdout == "" and stderr.startswith(f"Could not write the backup {tmp_path / 'no-such-dir' / 'x.zip'}: ")
    assert list(tmp_path.glob("**/*.tmp")) == []

    code, stdout, stderr = run_cli("--lang", "en", "restore", str(out))
    assert code == 2 and stdout == "" and stderr.startswith("The store already holds data (")
    assert stderr.rstrip().endswith("Nothing was restored.")

    with store_url(backend, tmp_path) as other:
        monkeypatch.setenv("DATABASE_URL", other)
        dispose_shared_engines()
        junk = tmp_path / "junk.zip"
        junk.write_bytes(b"not a zip at all")
        code, stdout, stderr = run_cli("restore", str(junk))  # default language: Chinese
        assert code == 2 and stdout == ""
        assert stderr.strip() == Translator("zh")("backup.err.not_a_backup", file=str(junk))

        code, stdout, stderr = run_cli("--lang", "en", "restore", str(out))
        assert code == 0 and stderr == ""
        assert stdout.splitlines()[0].startswith(
            f"Backup of {B.verify_backup(out).created_at} restored from {out}: {len(counts)} tables, "
            f"{sum(counts.values())} rows")
        eng = make_engine(other)
        assert q.count_rows(eng, T.Unit) == counts["unit"]
        with eng.connect() as conn:
            assert conn.execute(select(func.count()).select_from(T.AuditEntry).where(
                T.AuditEntry.action == "store.restore", T.AuditEntry.actor == "cli")).scalar_one() == 1
        eng.dispose()
        dispose_shared_engines()


def test_cli_help_lists_backup_and_restore(capsys):
    from dashboard.__main__ import main

    with pytest.raises(SystemExit):
        main(["--lang", "en", "--help"])
    text_out = capsys.readouterr().out
    t = Translator("en")
    assert "backup" in text_out and "restore" in text_out
    assert " ".join(t("backup.cli.help.restore").split())[:40] in " ".join(text_out.split())
