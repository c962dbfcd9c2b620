"""Schema migrations (models/migrations) on every configured backend: a populated store of the first
schema (0001) upgrades to head keeping every row, stores made by create_all before migrations are
recognised and stamped, the migrated schema is exactly the models' (and what create_all makes), a
failed upgrade changes nothing, and init_store does no Alembic work on a store already at head.

The populated 0001 store (rows written with raw SQL, as the app of that time stored them):
- 甲研究院 (科研院所, 152921) holds XRD-1; 乙检测中心 (检验检测, 152922) holds HPLC-A and GC-1.
- Usage 2025: HPLC-A Jan–Mar effective 100 + 120 + 80 = 300 h, external 40 + 50 + 30 = 120 h,
  samples 10 + 12 + 8 = 30; GC-1 January 60 h, nothing external.
- One service on HPLC-A (5 Mar 2025 09:00–17:30 local, 3,200 CNY for 丙公司) paid with voucher
  V2025-001 (quota 20,000 CNY; subsidy 640 CNY).
- Purchase requests PR-2025-001 (甲研究院, 液相色谱仪, 300,000 CNY, decided) and PR-2025-002
  (submitted); PR-2025-001 has decision 调整 (20 Apr 2025) superseded by 通过 (10 May 2025).
- Submissions of 乙检测中心 for January (in at 10 Feb 2025 17:00 UTC) and February (missing); three
  audit entries; an indicator scheme with one publication; a scenario; data revision 42.
"""

from __future__ import annotations

import shutil
import threading
from datetime import date, datetime, timezone

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import bindparam, inspect, text
from sqlmodel import Session, SQLModel, select

from models import migrations as M
from models import queries as q
from models import tables as T
from models.db import REFERENCE_DIR, data_revision, init_store, make_engine, table_names
from tests.stores import store_url

FIRST_TABLES = sorted(M.LEGACY_SCHEMAS[-1][1])
UTC = timezone.utc


# --- helpers ---------------------------------------------------------------------------------------

def migrate(engine, revision: str, *, down: bool = False) -> None:
    """Run Alembic to `revision` the way init_store does (one locked transaction)."""
    with M.migration_connection(engine) as conn:
        cfg = M.alembic_config(conn)
        (command.downgrade if down else command.upgrade)(cfg, revision)


def drop_version_table(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {M.VERSION_TABLE}"))


_TYPED = {date: sa.Date(), datetime: sa.DateTime(timezone=True)}


def insert(conn, table: str, returning: bool = True, **values) -> int | None:
    """INSERT one row with plain SQL; dates and times are bound as the app's column types bind them
    (SQLite keeps them as text)."""
    cols = ", ".join(values)
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + c for c in values)})"
    stmt = text(sql + (" RETURNING id" if returning else ""))
    stmt = stmt.bindparams(*[bindparam(k, type_=_TYPED[type(v)]) for k, v in values.items() if type(v) in _TYPED])
    result = conn.execute(stmt, values)
    return result.scalar_one() if returning else None


def insert_reference(conn) -> None:
    regions = pd.read_csv(REFERENCE_DIR / "regions.csv", dtype={"code": str, "within": str}).fillna("")
    for rec in regions.to_dict("records"):
        insert(conn, "region", returning=False, **rec)
    classes = pd.read_csv(REFERENCE_DIR / "instrument_classes.csv", dtype={"code": str})
    for rec in classes.to_dict("records"):
        insert(conn, "instrumentclass", returning=False, code=rec["code"], level=int(rec["level"]),
               name_zh=rec["name_zh"], name_en=rec["name_en"], purpose=rec["purpose"],
               parent=rec["code"][:2] if len(rec["code"]) == 4 else "")


UNIT = dict(name_en="", address="", lat=None, lon=None, credit_code="", contact="", phone="", email="",
            is_sme=False, note="")
INSTRUMENT = dict(
    name_en="", affiliate="不附属", source="购置", funding="", country="", manufacturer="", model="",
    start_date=date(2018, 6, 1), purpose="通用", technical_specs="", functions="", disciplines="",
    service_content="", status="正常", sharing_rules="", fee_standard="", booking_url="", address="",
    share_mode="外部共享", annual_run_hours=None, annual_service_hours=None, customs_supervised="否",
    contact="", phone="", email="", exempt_reason="", operation_mode="自营",
)
REQUEST = dict(model="", manufacturer="", key_specs="", quotes="", funding="地方财政资金", justification="教学科研急需",
               expected_annual_hours=800.0, region_code="152921")
DECISION = dict(reasons="", conditions="", reviewers="评议组")
AUDIT = dict(entity="", entity_key="", summary="", before_json="", after_json="")


def populate_first_schema(conn) -> dict[str, int]:
    """The rows described in the module docstring, in the 0001 tables."""
    insert_reference(conn)
    insert(conn, "storemeta", returning=False, key="data_revision", value="42")
    ids = {}
    ids["jia"] = insert(conn, "unit", name="甲研究院", unit_type="科研院所", region_code="152921", **UNIT)
    ids["yi"] = insert(conn, "unit", name="乙检测中心", unit_type="检验检测", region_code="152922",
                       **{**UNIT, "lat": 39.8334, "lon": 105.6663})
    ids["xrd"] = insert(conn, "instrument", unit_id=ids["jia"], inner_id="XRD-1", name_zh="X射线衍射仪",
                        class_code="0103", original_value=1_200_000.0, region_code="152921", **INSTRUMENT)
    ids["hplc"] = insert(conn, "instrument", unit_id=ids["yi"], inner_id="HPLC-A", name_zh="高效液相色谱仪",
                         class_code="0105", original_value=850_000.0, region_code="152922", **INSTRUMENT)
    ids["gc"] = insert(conn, "instrument", unit_id=ids["yi"], inner_id="GC-1", name_zh="气相色谱仪",
                       class_code="0105", original_value=420_000.0, region_code="152922", **INSTRUMENT)
    for month, eff, ext, samples in ((1, 100.0, 40.0, 10), (2, 120.0, 50.0, 12), (3, 80.0, 30.0, 8)):
        insert(conn, "usagemonthly", instrument_id=ids["hplc"], year=2025, month=month, effective_hours=eff,
               external_hours=ext, samples=samples, downtime_hours=0.0)
    insert(conn, "usagemonthly", instrument_id=ids["gc"], year=2025, month=1, effective_hours=60.0,
           external_hours=0.0, samples=5, downtime_hours=2.0)
    ids["service"] = insert(
        conn, "servicerecord", instrument_id=ids["hplc"], service_amount_cny=3200.0,
        start_time=datetime(2025, 3, 5, 9, 0), end_time=datetime(2025, 3, 5, 17, 30), service_content="农残检测",
        service_way="委托共享", service_quantity=8.5, project_name="", project_funding="", applicant="王工",
        applicant_unit="丙公司", user_type="外部用户", direction="科技开发", rating="满意", client_region_code="152921",
        client_kind="本地中小企业", voucher_amount_cny=3200.0)
    ids["voucher"] = insert(conn, "voucher", code="V2025-001", firm_name="丙公司", firm_region_code="152921",
                            is_sme=True, year=2025, quota_cny=20_000.0, issued_date=date(2025, 1, 15))
    insert(conn, "redemption", voucher_id=ids["voucher"], service_record_id=ids["service"], unit_id=ids["yi"],
           amount_cny=3200.0, redeemed_date=date(2025, 3, 20), subsidy_cny=640.0)
    ids["pr1"] = insert(conn, "purchaserequest", request_no="PR-2025-001", applicant_unit_id=ids["jia"],
                        instrument_name="液相色谱仪", class_code="010501", quoted_price=300_000.0,
                        submitted_date=date(2025, 4, 1), status="decided", **REQUEST)
    ids["pr2"] = insert(conn, "purchaserequest", request_no="PR-2025-002", applicant_unit_id=ids["jia"],
                        instrument_name="离心机", class_code="0399", quoted_price=60_000.0,
                        submitted_date=date(2025, 4, 3), status="submitted", **REQUEST)
    ids["d1"] = insert(conn, "reviewdecision", request_id=ids["pr1"], verdict="调整", decided_date=date(2025, 4, 20),
                       supersedes_id=None, created_at=datetime(2025, 4, 20, 2, 0, tzinfo=UTC), **DECISION)
    ids["d2"] = insert(conn, "reviewdecision", request_id=ids["pr1"], verdict="通过", decided_date=date(2025, 5, 10),
                       supersedes_id=ids["d1"], created_at=datetime(2025, 5, 10, 2, 0, tzinfo=UTC), **DECISION)
    ids["scheme"] = insert(conn, "indicatorscheme", name="2025 考核方案", version=1, definition_json="{}",
                           created_at=datetime(2025, 1, 2, 1, 0, tzinfo=UTC), created_by="admin")
    insert(conn, "publishedevaluation", year=2025, scheme_id=ids["scheme"], snapshot_json='{"rows": []}',
           fingerprint="ab12", published_at=datetime(2026, 1, 20, 8, 0, tzinfo=UTC), published_by="admin")
    insert(conn, "scenario", name="基准情景", params_json='{"envelope": 1, "note": "会前测算", "params": {}}',
           created_at=datetime(2026, 2, 1, 3, 0, tzinfo=UTC), created_by="analyst")
    insert(conn, "submission", unit_id=ids["yi"], kind="usage", year=2025, month=1, due_date=date(2025, 2, 10),
           submitted_at=datetime(2025, 2, 10, 17, 0, tzinfo=UTC))
    insert(conn, "submission", unit_id=ids["yi"], kind="usage", year=2025, month=2, due_date=date(2025, 3, 10),
           submitted_at=None)
    for hour, action in ((1, "import.instruments"), (2, "purchase.decide"), (3, "purchase.decide")):
        insert(conn, "auditentry", at=datetime(2025, 5, 10, hour, 0, tzinfo=UTC), actor="admin", action=action, **AUDIT)
    return ids


def dump(engine, tables) -> dict[str, list[tuple]]:
    """Every row of `tables`, in primary-key order, exactly as the database returns them."""
    out = {}
    with engine.connect() as conn:
        for table in tables:
            pk = inspect(conn).get_pk_constraint(table)["constrained_columns"]
            rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY {', '.join(pk)}")).fetchall()
            out[table] = [tuple(r) for r in rows]
    return out


def schema_differences(engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(ctx, SQLModel.metadata)


def reflected_schema(engine) -> dict:
    """Tables with their columns, keys, unique constraints and indexes, as the database reports them."""
    insp = inspect(engine)
    out = {}
    for table in insp.get_table_names():
        if table == M.VERSION_TABLE:
            continue
        out[table] = {
            "columns": [(c["name"], str(c["type"]), getattr(c["type"], "timezone", None), c["nullable"], c.get("default"))
                        for c in insp.get_columns(table)],
            "pk": insp.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted((fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"],
                           tuple(fk["referred_columns"])) for fk in insp.get_foreign_keys(table)),
            "uniques": sorted((u["name"] or "", tuple(u["column_names"])) for u in insp.get_unique_constraints(table)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table)),
        }
    return out


@pytest.fixture
def bare(db_url):
    """An engine on a fresh, empty database (no schema at all)."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


# --- (a) a populated first-schema store upgrades to head keeping everything --------------------------

def test_populated_first_schema_store_upgrades_to_head_keeping_every_row(bare):
    migrate(bare, "0001")
    assert set(table_names(bare)) == set(FIRST_TABLES) | {M.VERSION_TABLE}
    with bare.begin() as conn:
        ids = populate_first_schema(conn)
    before = dump(bare, FIRST_TABLES)
    assert len(before["instrumentclass"]) == 89 and len(before["usagemonthly"]) == 4

    init_store(bare)

    assert M.store_revision(bare) == M.head_revision() == "0004"
    assert dump(bare, FIRST_TABLES) == before  # every row and value of the first schema is kept
    assert data_revision(bare) == 42  # the reference data were not loaded a second time, the revision kept

    units = q.units(bare).set_index("name")
    assert units.loc["甲研究院", "instrument_count"] == 1 and units.loc["乙检测中心", "instrument_count"] == 2
    assert units.loc["乙检测中心", "region_name_zh"] == "阿拉善右旗"
    instruments = q.instruments(bare).set_index("inner_id")
    assert instruments.loc["HPLC-A", "unit_name"] == "乙检测中心"
    assert instruments.loc["XRD-1", "start_date"] == pd.Timestamp("2018-06-01")
    usage = q.usage_by_instrument_year(bare, 2025).set_index("instrument_id")
    hplc = usage.loc[ids["hplc"]]
    assert (hplc["effective_hours"], hplc["external_hours"], hplc["samples"], hplc["months_reported"]) == (300.0, 120.0, 30, 3)
    assert usage.loc[ids["gc"], "effective_hours"] == 60.0
    services = q.services(bare, 2025)
    assert list(services["applicant_unit"]) == ["丙公司"]
    assert services.loc[0, "start_time"] == datetime(2025, 3, 5, 9, 0)  # naive local time, unchanged
    requests = q.purchase_requests(bare)
    assert list(requests["request_no"]) == ["PR-2025-001", "PR-2025-002"]
    assert list(requests["applicant_name"]) == ["甲研究院", "甲研究院"]
    assert requests.loc[0, "quoted_price"] == 300_000.0
    decisions = q.review_decisions(bare)
    assert list(decisions["verdict"]) == ["调整", "通过"]
    assert decisions["supersedes_id"].iloc[1] == ids["d1"]
    assert pd.isna(decisions["supersedes_id"].iloc[0])
    subs = q.submissions(bare, 2025)
    assert subs.loc[0, "submitted_at"] == pd.Timestamp("2025-02-10 17:00", tz="UTC")
    assert pd.isna(subs.loc[1, "submitted_at"])
    audit = q.audit_entries(bare)
    assert list(audit["action"]) == ["purchase.decide", "purchase.decide", "import.instruments"]  # newest first
    assert audit.loc[0, "at"] == pd.Timestamp("2025-05-10 03:00", tz="UTC")
    assert list(q.scenarios(bare)["note"]) == ["会前测算"]
    assert q.duplicate_checks(bare).empty  # the tables the upgrade added are there, and empty
    assert q.count_rows(bare, T.User) == 0

    # The app writes on the upgraded store; new ids follow the old rows (PostgreSQL sequences intact).
    with Session(bare) as s:
        unit = T.Unit(name="丁公司", unit_type="企业", region_code="152921")
        check = T.DuplicateCheck(request_id=ids["pr2"], checked_by="tester", tier="desk", suggested_verdict="pass")
        user = T.User(username="reviewer1", role="reviewer")
        s.add_all([unit, check, user])
        s.commit()
        assert unit.id == ids["yi"] + 1
        assert s.exec(select(T.DuplicateCheck.request_id)).all() == [ids["pr2"]]
    assert list(q.duplicate_checks(bare, ids["pr2"])["tier"]) == ["desk"]
    assert schema_differences(bare) == []


# --- (b) stores made by create_all before migrations --------------------------------------------------

@pytest.mark.parametrize("made_at", ["0001", "0002"])
def test_store_created_before_migrations_is_recognised_stamped_and_upgraded(bare, made_at):
    migrate(bare, made_at)
    drop_version_table(bare)  # as create_all left it: the tables of its time, no version table
    with bare.begin() as conn:
        populate_first_schema(conn)
    before = dump(bare, FIRST_TABLES)
    with bare.connect() as conn:
        assert M.current_revision(conn) is None
        assert M.legacy_revision(conn) == made_at

    init_store(bare)

    assert M.store_revision(bare) == "0004"
    assert dump(bare, FIRST_TABLES) == before
    assert {"duplicatecheck", "appuser"} <= set(table_names(bare))
    assert schema_differences(bare) == []


def test_store_created_by_create_all_of_todays_models_is_stamped_at_head(bare):
    SQLModel.metadata.create_all(bare)
    with bare.begin() as conn:
        insert(conn, "storemeta", returning=False, key="data_revision", value="7")
    with bare.connect() as conn:
        assert M.legacy_revision(conn) == "0003"
    init_store(bare)
    assert M.store_revision(bare) == "0004"
    assert data_revision(bare) == 7
    assert len(q.regions(bare)) == 6 and len(q.instrument_classes(bare)) == 89  # reference data were missing


def test_a_database_with_only_some_of_the_store_tables_is_refused(bare):
    with bare.begin() as conn:
        conn.execute(text("CREATE TABLE unit (id INTEGER PRIMARY KEY, name VARCHAR(200))"))
    with pytest.raises(M.StoreSchemaError, match="unit"):
        init_store(bare)
    assert table_names(bare) == ["unit"]  # nothing was created or stamped


def test_a_store_of_an_unknown_newer_revision_is_refused(engine):
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {M.VERSION_TABLE} SET version_num = '9999'"))
    with pytest.raises(M.StoreSchemaError, match="9999"):
        init_store(engine)


def test_unrelated_tables_do_not_count_as_a_store(bare):
    with bare.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    init_store(bare)
    assert M.store_revision(bare) == "0004"
    assert "notes" in table_names(bare) and "instrument" in table_names(bare)


# --- (c) the migrated schema is the models' schema ----------------------------------------------------

def test_schema_after_upgrade_matches_the_models(engine):
    assert schema_differences(engine) == []


def test_schema_after_upgrade_is_the_one_create_all_makes(engine, backend, tmp_path):
    """Same tables, column types, nullability, key, constraint and index names as create_all
    gives, so stores made before migrations and stores made by migrations are interchangeable."""
    with store_url(backend, tmp_path) as other_url:
        other = make_engine(other_url)
        try:
            SQLModel.metadata.create_all(other)
            assert reflected_schema(engine) == reflected_schema(other)
        finally:
            other.dispose()


# --- a future table-rebuilding revision ----------------------------------------------------------------

REBUILD_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    # SQLite cannot change a column type: batch mode copies unit into a new table, drops the old
    # one (whose rows instruments, requests, submissions and redemptions reference) and renames.
    with op.batch_alter_table("unit") as batch_op:
        batch_op.alter_column("name_en", type_=sa.String(length=300), existing_nullable=False)


def downgrade():
    pass
"""


def test_a_revision_that_rebuilds_a_referenced_table_keeps_rows_and_references(bare, tmp_path):
    scripts = tmp_path / "migrations"
    shutil.copytree(M.SCRIPT_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9001_rebuild_unit.py").write_text(REBUILD_REVISION.replace("{head}", M.head_revision()))
    init_store(bare)
    with bare.begin() as conn:
        conn.execute(text("DELETE FROM region"))  # populate_first_schema brings its own reference rows
        conn.execute(text("DELETE FROM instrumentclass"))
        conn.execute(text("DELETE FROM storemeta"))
        populate_first_schema(conn)
    before = dump(bare, FIRST_TABLES)

    with M.migration_connection(bare) as conn:
        cfg = M.alembic_config(conn)
        cfg.set_main_option("script_location", str(scripts))
        command.upgrade(cfg, "head")

    assert M.store_revision(bare) == "9001"
    assert dump(bare, FIRST_TABLES) == before
    assert inspect(bare).get_columns("unit")[2]["type"].length == 300
    assert {fk["referred_table"] for fk in inspect(bare).get_foreign_keys("instrument")} == {"unit", "region"}
    if bare.dialect.name == "sqlite":
        with bare.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert q.units(bare).set_index("name").loc["乙检测中心", "instrument_count"] == 2


# --- transactions, locking, cost ---------------------------------------------------------------------

def test_a_failed_upgrade_leaves_the_store_as_it_was(bare):
    migrate(bare, "0001")
    with pytest.raises(RuntimeError, match="stop"):
        with M.migration_connection(bare) as conn:
            command.upgrade(M.alembic_config(conn), "head")
            assert M.current_revision(conn) == "0004"  # inside the transaction the upgrade is done
            raise RuntimeError("stop")
    assert M.store_revision(bare) == "0001"
    assert "duplicatecheck" not in table_names(bare) and "appuser" not in table_names(bare)
    if bare.dialect.name == "sqlite":
        with bare.connect() as conn:  # foreign keys are enforced again on the pooled connection
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_init_store_at_head_runs_no_alembic_command(engine, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("Alembic ran on a store already at head")

    monkeypatch.setattr(command, "upgrade", refuse)
    monkeypatch.setattr(command, "stamp", refuse)
    init_store(engine)
    assert M.store_revision(engine) == "0004"


def test_two_processes_opening_a_new_store_at_once_upgrade_it_once(db_url):
    engines = [make_engine(db_url) for _ in range(2)]
    for eng in engines:  # each process has connected already: the race under test is the upgrade's
        eng.connect().close()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def open_store(eng):
        try:
            start.wait()
            init_store(eng)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store, args=(eng,)) for eng in engines]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    try:
        assert errors == []
        assert M.store_revision(engines[0]) == "0004"
        assert len(q.regions(engines[0])) == 6 and len(q.instrument_classes(engines[0])) == 89
    finally:
        for eng in engines:
            eng.dispose()


# --- (d) downgrade ------------------------------------------------------------------------------------

def test_downgrade_to_the_first_schema_and_back(bare):
    migrate(bare, "head")
    migrate(bare, "0001", down=True)
    assert set(table_names(bare)) == set(FIRST_TABLES) | {M.VERSION_TABLE}
    migrate(bare, "base", down=True)
    assert table_names(bare) == [M.VERSION_TABLE]
    init_store(bare)
    assert M.store_revision(bare) == "0004" and schema_differences(bare) == []
