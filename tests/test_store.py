"""Schema creation and reference data, on every configured backend."""

from datetime import date, datetime, timezone

import pandas as pd
import pytest
from sqlmodel import Session, select

from models import queries as q
from models import tables as T
from models.db import data_revision, init_store, make_engine, table_names
from models.services.audit import record_write

ENTITY_TABLES = {
    "region", "instrumentclass", "unit", "instrument", "usagemonthly", "servicerecord",
    "voucher", "redemption", "purchaserequest", "reviewdecision", "indicatorscheme",
    "publishedevaluation", "scenario", "auditentry", "submission", "storemeta",
}


def test_schema_has_every_entity_table(engine):
    assert ENTITY_TABLES <= set(table_names(engine))


def test_reference_data_loaded_once_even_when_init_runs_again(engine):
    init_store(engine)
    init_store(engine)
    regions = q.regions(engine)
    assert list(regions["code"]) == ["152921", "152922", "152923", "Z01", "Z02", "Z03"]
    classes = q.instrument_classes(engine)
    assert len(classes) == 89
    chrom = classes.set_index("code").loc["0105"]
    assert chrom["name_zh"] == "色谱仪器" and chrom["parent"] == "01" and chrom["purpose"] == "general"


def test_init_on_empty_database_creates_schema(db_url):
    eng = make_engine(db_url)
    assert "instrument" not in table_names(eng)
    init_store(eng)
    assert "instrument" in table_names(eng)
    eng.dispose()


def test_audit_write_bumps_revision_in_same_transaction(engine):
    assert data_revision(engine) == 0
    with Session(engine) as s:
        record_write(s, actor="tester", action="test.write", summary="x", after={"a": 1})
        s.commit()
    assert data_revision(engine) == 1
    with Session(engine) as s:
        entry = s.exec(select(T.AuditEntry)).one()
        assert (entry.actor, entry.action, entry.after_json) == ("tester", "test.write", '{"a": 1}')


def test_audit_entry_rolled_back_with_failed_write(engine):
    with Session(engine) as s:
        record_write(s, actor="tester", action="test.write")
        s.rollback()
    assert data_revision(engine) == 0
    assert q.count_rows(engine, T.AuditEntry) == 0


def test_aware_times_survive_a_postgresql_server_in_beijing_time(db_url):
    """A submission time written as aware UTC reads back unchanged even when the server's
    default time zone is Asia/Shanghai (simulated through the connection options)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL converts aware datetimes to the session time zone; SQLite does not")
    from urllib.parse import parse_qs, quote, urlsplit

    parts = urlsplit(db_url)
    options = parse_qs(parts.query).get("options", [""])[0]
    shanghai_url = db_url.split("?")[0] + "?options=" + quote(f"{options} -ctimezone=Asia/Shanghai".strip())
    eng = make_engine(shanghai_url)
    init_store(eng)
    with Session(eng) as s:
        unit = T.Unit(name="甲单位", unit_type="企业", region_code="152921")
        s.add(unit)
        s.commit()
        s.add(T.Submission(unit_id=unit.id, kind="usage", year=2025, month=1, due_date=date(2025, 2, 10),
                           submitted_at=datetime(2025, 2, 10, 17, 0, tzinfo=timezone.utc)))
        s.commit()
    got = q.submissions(eng, 2025)["submitted_at"].iloc[0]
    eng.dispose()
    assert got == pd.Timestamp("2025-02-10 17:00", tz="UTC")
