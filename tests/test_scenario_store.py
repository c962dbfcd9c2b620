"""Saved scenarios in the store (SQLite, and PostgreSQL when TEST_DATABASE_URL is set): save with an
audit entry, load by id and by name, list, and load again after a restart."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
import pytest
from sqlmodel import Session, select

from dashboard import sanctions as S
from dashboard.incentives import RewardRule
from dashboard.scenarios import ScenarioError, ScenarioParams
from dashboard.scheme import GradeRule
from dashboard.vouchers import VoucherParams
from models import tables as T
from models.db import data_revision, init_store, make_engine
from models.scenario_queries import LIST_COLUMNS, list_scenarios
from models.services.scenarios import (NAME_MAX, NOTE_MAX, load_scenario, load_scenario_by_name,
                                       parse_envelope, save_scenario)


def params(pool: float = 3_000_000, ratio: float = 0.5) -> ScenarioParams:
    return ScenarioParams(
        year=2025,
        weights={"open_ratio": 0.2, "external_share": 0.3},
        grade_rule=GradeRule(bands=(85.0, 70.0, 60.0), fourth_label="不合格"),
        reward=RewardRule(pool_cny=pool, eligible_grades=("优秀", "良好"), min_score=65.0, cap_cny=500_000),
        sanctions=S.SanctionRules().with_rule("idle_share", enabled=True, max_share=0.4)
        .with_consequences("poor_grade", rectification_years=2),
        vouchers=VoucherParams(voucher_ratio=ratio, pool_cny=None, per_firm_annual_cap_cny=200_000),
    )


def audit_entries(engine) -> list[T.AuditEntry]:
    with Session(engine) as s:
        return list(s.exec(select(T.AuditEntry).where(T.AuditEntry.action == "scenario.save").order_by(T.AuditEntry.id)))


def test_save_and_load_round_trip_with_audit(engine):
    rev = data_revision(engine)
    before = datetime.now(timezone.utc)
    sid = save_scenario(engine, "  方案甲：扩大奖补  ", "  提高资金池到300万元  ", params(), actor="科技局王某")
    assert isinstance(sid, int)
    got = load_scenario(engine, sid)
    assert got.id == sid
    assert got.name == "方案甲：扩大奖补" and got.note == "提高资金池到300万元"  # trimmed
    assert got.params == params()
    assert got.created_by == "科技局王某"
    assert got.created_at.tzinfo is not None and before.replace(microsecond=0) <= got.created_at.replace(microsecond=0)
    assert data_revision(engine) == rev + 1  # the list cache refreshes

    (entry,) = audit_entries(engine)
    assert (entry.actor, entry.entity, entry.entity_key, entry.summary) == ("科技局王某", "scenario", str(sid), "方案甲：扩大奖补")
    assert entry.before_json == ""  # nothing superseded
    after = json.loads(entry.after_json)
    assert after["id"] == sid and after["note"] == "提高资金池到300万元" and after["envelope"] == 1
    assert ScenarioParams.from_dict(after["params"]) == params()


def test_the_row_holds_a_versioned_envelope(engine):
    sid = save_scenario(engine, "A", "note", params())
    with Session(engine) as s:
        row = s.get(T.Scenario, sid)
    data = json.loads(row.params_json)
    assert set(data) == {"envelope", "note", "params"}
    assert data["params"]["version"] == 1
    note, p = parse_envelope(row.params_json)
    assert (note, p) == ("note", params())


def test_same_name_saves_a_new_version_and_newest_wins_by_name(engine):
    first = save_scenario(engine, "方案乙", "第一版", params(pool=1_000_000), actor="a")
    second = save_scenario(engine, "方案乙", "第二版", params(pool=2_000_000), actor="b")
    other = save_scenario(engine, "方案丙", "", params(ratio=0.3))
    assert first < second < other
    assert load_scenario_by_name(engine, "方案乙").id == second
    assert load_scenario_by_name(engine, " 方案乙 ").params.reward.pool_cny == 2_000_000
    assert load_scenario(engine, first).params.reward.pool_cny == 1_000_000  # old links still open
    entries = audit_entries(engine)
    assert len(entries) == 3
    superseded = json.loads(entries[1].before_json)
    assert superseded["id"] == first and superseded["note"] == "第一版"
    assert superseded["params"]["reward"]["pool_cny"] == 1_000_000
    assert entries[2].before_json == ""

    listed = list_scenarios(engine)
    assert list(listed.columns) == LIST_COLUMNS
    assert listed["id"].tolist() == [other, second, first]  # newest first
    assert listed["name"].tolist() == ["方案丙", "方案乙", "方案乙"]
    assert listed["note"].tolist() == ["", "第二版", "第一版"]
    assert listed["created_by"].tolist() == ["system", "b", "a"]  # no name given: the trusted local process
    assert str(listed["created_at"].dt.tz) == "UTC"


def test_empty_store_lists_nothing(engine):
    listed = list_scenarios(engine)
    assert listed.empty and list(listed.columns) == LIST_COLUMNS


@pytest.mark.parametrize("name, note, field, reason", [
    ("", "x", "name", "empty_name"),
    ("   ", "x", "name", "empty_name"),
    ("长" * (NAME_MAX + 1), "", "name", "too_long"),
    ("A", "注" * (NOTE_MAX + 1), "note", "too_long"),
])
def test_invalid_name_or_note_writes_nothing(engine, name, note, field, reason):
    rev = data_revision(engine)
    with pytest.raises(ScenarioError) as err:
        save_scenario(engine, name, note, params())
    assert (err.value.field, err.value.reason) == (field, reason)
    assert list_scenarios(engine).empty and audit_entries(engine) == []
    assert data_revision(engine) == rev


def test_loading_what_is_not_there_or_is_broken(engine):
    with pytest.raises(ScenarioError) as err:
        load_scenario(engine, 999)
    assert (err.value.field, err.value.reason) == ("id", "not_found")
    with pytest.raises(ScenarioError) as err:
        load_scenario_by_name(engine, "无此方案")
    assert (err.value.field, err.value.reason) == ("name", "not_found")

    future = json.dumps({"envelope": 1, "note": "来自新版本", "params": {"version": 9, "reward": {}}})
    with Session(engine) as s:
        s.add(T.Scenario(name="坏的", params_json="{broken"))
        s.add(T.Scenario(name="未来", params_json=future))
        s.add(T.Scenario(name="外壳", params_json=json.dumps({"envelope": 5, "params": {}})))
        s.commit()
    ids = dict(zip(list_scenarios(engine)["name"], list_scenarios(engine)["id"]))
    with pytest.raises(ScenarioError) as err:
        load_scenario(engine, ids["坏的"])
    assert err.value.reason == "not_json"
    with pytest.raises(ScenarioError) as err:
        load_scenario(engine, ids["未来"])
    assert (err.value.field, err.value.reason) == ("version", "unknown_version")
    with pytest.raises(ScenarioError) as err:
        load_scenario(engine, ids["外壳"])
    assert (err.value.field, err.value.reason) == ("envelope", "unknown_version")
    # The list still works and shows the readable note.
    listed = list_scenarios(engine).set_index("name")
    assert listed.loc["坏的", "note"] == "" and listed.loc["未来", "note"] == "来自新版本"


def test_a_saved_scenario_loads_equal_after_a_restart(db_url):
    eng = make_engine(db_url)
    init_store(eng)
    sid = save_scenario(eng, "会后保留的方案", "重启后应完全一致", params(pool=1_234_567.89), actor="lead")
    listed_before = list_scenarios(eng)
    eng.dispose()

    again = make_engine(db_url)
    try:
        got = load_scenario(again, sid)
        assert got.params == params(pool=1_234_567.89)
        assert (got.name, got.note, got.created_by) == ("会后保留的方案", "重启后应完全一致", "lead")
        listed_after = list_scenarios(again)
        pd.testing.assert_frame_equal(listed_before, listed_after)
    finally:
        again.dispose()
