"""Roles in the write services themselves: each write refuses a role that lacks its permission
and then writes nothing (not even an audit entry), and each permitted write leaves an audit entry
naming who acted. Accounts: Argon2 hashes, sign-in, the last administrator is kept."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlmodel import Session, select

from dashboard import auth
from dashboard.evaluation import publish, run_evaluation
from dashboard.scheme import default_scheme
from dashboard.scenarios import ScenarioParams
from dashboard.transfer import import_file
from models import queries
from models import tables as T
from models.services import purchases as SP
from models.services import users as U
from models.services.demo import load_demo
from models.services.evaluation import publish_evaluation, save_scheme
from models.services.scenarios import save_scenario
from tests.factories import add_instrument, add_unit, add_usage

TODAY = date(2026, 3, 10)
VIEWER = auth.Actor("wang", auth.VIEWER)
EVALUATOR = auth.Actor("li", auth.EVALUATOR)
REVIEWER = auth.Actor("zhao", auth.REVIEWER)
ADMIN = auth.Actor("admin", auth.ADMIN)
UNITS_CSV = "单位名称,单位类型,所在地区\n阿拉善盟新单位,企业,152921\n".encode("utf-8")


def test_grants_of_each_role():
    assert auth.GRANTS[auth.VIEWER] == frozenset()
    assert auth.GRANTS[auth.EVALUATOR] == {auth.SCHEME_SAVE, auth.SCENARIO_SAVE}
    assert auth.GRANTS[auth.REVIEWER] == {auth.PURCHASE_ENTER, auth.PURCHASE_CHECK, auth.PURCHASE_DECIDE}
    assert auth.GRANTS[auth.ADMIN] == frozenset(auth.PERMISSIONS)
    assert auth.actor_of("cli") == auth.Actor("cli", auth.ADMIN, auth.SYSTEM)  # a local process
    assert auth.actor_of(None).name == "system"
    assert not auth.ANONYMOUS_ACTOR.signed_in and not auth.ANONYMOUS_ACTOR.can(auth.SCENARIO_SAVE)
    with pytest.raises(auth.PermissionDenied):
        auth.require(EVALUATOR, auth.PUBLISH)
    with pytest.raises(ValueError):
        auth.require(ADMIN, "no.such.permission")


def _audit_count(engine) -> int:
    return queries.count_rows(engine, T.AuditEntry)


def _table_counts(engine) -> dict:
    models = (T.Unit, T.Instrument, T.PurchaseRequest, T.DuplicateCheck, T.ReviewDecision, T.Scenario,
              T.IndicatorScheme, T.PublishedEvaluation, T.User, T.AuditEntry)
    return {m.__name__: queries.count_rows(engine, m) for m in models} | {"revision": queries.store_meta(engine, "data_revision")}


@pytest.fixture
def registry(engine):
    """Two units with two instruments each and 2025 usage; one submitted and one checked request."""
    a = add_unit(engine, "甲研究院", region_code="152921")
    b = add_unit(engine, "乙检测中心", region_code="152922")
    for unit, tag in ((a, "A"), (b, "B")):
        for n in range(2):
            add_usage(engine, add_instrument(engine, unit, f"{tag}{n}", "高效液相色谱仪"), 2025, [60.0] * 12)
    raw = {"applicant": "甲研究院", "instrument_name": "液相色谱仪", "class_code": "010501", "quoted_price": 300_000,
           "funding": "地方财政资金", "justification": "检测任务增加", "submitted_date": "2026-03-01"}
    first, _ = SP.submit_request(engine, raw, actor=ADMIN, today=TODAY)
    second, _ = SP.submit_request(engine, raw, actor=ADMIN, today=TODAY)
    SP.run_check(engine, second, actor=ADMIN, on_date=TODAY)
    U.create_user(engine, "wang", auth.VIEWER, "viewer-pass", actor=ADMIN)
    return {"a": a, "submitted": first, "checked": second}


def _writes(engine, ids) -> dict:
    """Every write service, each as a call taking the actor."""
    scheme = default_scheme()
    table, result = run_evaluation(engine, 2025, scheme)
    decision = {"verdict": "reject", "reasons": "可共享", "reviewers": "书面审查组", "decided_date": TODAY}
    frame = pd.DataFrame({"申请单位": ["甲研究院"], "仪器名称": ["气相色谱仪"], "分类代码": ["010502"],
                          "报价（元）": ["80000"], "资金来源": ["地方财政资金"], "购置理由": ["教学"]}, index=[2])
    from dashboard.ui.purchases_view import aliases  # the page's header aliases (both languages)
    return {
        auth.SCHEME_SAVE: lambda who: save_scheme(engine, scheme, actor=who),
        auth.SCENARIO_SAVE: lambda who: save_scenario(engine, "方案", "", ScenarioParams(), actor=who),
        auth.PUBLISH: lambda who: publish(engine, 2025, scheme, result, table, actor=who),
        "publish_evaluation": lambda who: publish_evaluation(engine, year=2025, scheme_id=1, snapshot={},
                                                             fingerprint="f" * 64, actor=who),
        auth.DATA_IMPORT: lambda who: import_file(engine, "units", "units.csv", UNITS_CSV, actor=who),
        auth.DEMO_LOAD: lambda who: load_demo(engine, instruments=30, replace=True, actor=who),
        auth.PURCHASE_ENTER: lambda who: SP.submit_request(engine, {
            "applicant": "甲研究院", "instrument_name": "气相色谱仪", "class_code": "010502", "quoted_price": 90_000,
            "funding": "地方财政资金", "justification": "教学"}, actor=who, today=TODAY),
        "import_requests": lambda who: SP.import_requests(engine, frame, actor=who, today=TODAY, aliases=aliases()),
        auth.PURCHASE_CHECK: lambda who: SP.run_check(engine, ids["submitted"], actor=who, on_date=TODAY),
        auth.PURCHASE_DECIDE: lambda who: SP.record_decision(engine, ids["checked"], decision, actor=who, today=TODAY),
        auth.USERS_MANAGE: lambda who: U.create_user(engine, "new-user", auth.EVALUATOR, "long-enough", actor=who),
        "set_role": lambda who: U.set_role(engine, "wang", auth.REVIEWER, actor=who),
        "set_active": lambda who: U.set_active(engine, "wang", False, actor=who),
        "set_password": lambda who: U.set_password(engine, "wang", "another-pass", actor=who),
    }


def test_a_viewer_cannot_write_through_any_service(engine, registry):
    for name, write in _writes(engine, registry).items():
        before = _table_counts(engine)
        with pytest.raises(auth.PermissionDenied):
            write(VIEWER)
        assert _table_counts(engine) == before, name


def test_roles_without_the_permission_are_refused(engine, registry):
    writes = _writes(engine, registry)
    for who in (EVALUATOR, REVIEWER):
        for name in (auth.PUBLISH, auth.DATA_IMPORT, auth.DEMO_LOAD, auth.USERS_MANAGE):
            before = _table_counts(engine)
            with pytest.raises(auth.PermissionDenied):
                writes[name](who)
            assert _table_counts(engine) == before, (who.role, name)
    for name in (auth.PURCHASE_ENTER, auth.PURCHASE_CHECK, auth.PURCHASE_DECIDE):
        with pytest.raises(auth.PermissionDenied):
            writes[name](EVALUATOR)
    for name in (auth.SCHEME_SAVE, auth.SCENARIO_SAVE):
        with pytest.raises(auth.PermissionDenied):
            writes[name](REVIEWER)


def test_every_permitted_write_leaves_an_audit_entry_naming_the_actor(engine, registry):
    writes = _writes(engine, registry)
    allowed = {auth.SCHEME_SAVE: EVALUATOR, auth.SCENARIO_SAVE: EVALUATOR, auth.PURCHASE_ENTER: REVIEWER,
               "import_requests": REVIEWER, auth.PURCHASE_CHECK: REVIEWER, auth.PURCHASE_DECIDE: REVIEWER}
    order = [auth.SCHEME_SAVE, auth.SCENARIO_SAVE, auth.PURCHASE_ENTER, "import_requests", auth.PURCHASE_CHECK,
             auth.PURCHASE_DECIDE, auth.PUBLISH, auth.DATA_IMPORT, auth.USERS_MANAGE, "set_role", "set_active",
             "set_password", auth.DEMO_LOAD]  # the demo load last: it replaces the registry
    for name in order:
        who = allowed.get(name, ADMIN)
        before = _audit_count(engine)
        writes[name](who)
        with Session(engine) as s:
            newest = s.exec(select(T.AuditEntry).order_by(T.AuditEntry.id.desc())).first()
        assert _audit_count(engine) > before, name
        assert newest.actor == who.name, name


def test_passwords_are_argon2_hashes_and_sign_in_checks_them(engine):
    U.create_user(engine, "admin", auth.ADMIN, "correct horse", actor="cli", email="Admin@Alxa.gov.cn")
    with Session(engine) as s:
        row = s.exec(select(T.User)).one()
    assert row.password_hash.startswith("$argon2id$") and "correct horse" not in row.password_hash
    assert U.authenticate(engine, "admin", "correct horse") == auth.Actor("admin", auth.ADMIN)
    assert U.authenticate(engine, "admin", "wrong") is None
    assert U.authenticate(engine, "nobody", "correct horse") is None
    assert U.actor_for_email(engine, "admin@alxa.gov.cn") == auth.Actor("admin", auth.ADMIN)
    U.create_user(engine, "li", auth.EVALUATOR, "long-enough", actor="cli")
    U.set_active(engine, "li", False, actor=ADMIN)
    assert U.authenticate(engine, "li", "long-enough") is None  # deactivated
    U.set_password(engine, "admin", "new password", actor=ADMIN)
    assert U.authenticate(engine, "admin", "correct horse") is None
    assert U.authenticate(engine, "admin", "new password") is not None
    listed = queries.users(engine)
    assert list(listed["username"]) == ["admin", "li"] and "password_hash" not in listed.columns
    assert list(listed["active"]) == [True, False]


def test_account_rules(engine):
    with pytest.raises(U.UserError) as err:
        U.create_user(engine, "a b", auth.VIEWER, "long-enough", actor="cli")
    assert err.value.code == "username_invalid"
    with pytest.raises(U.UserError) as err:
        U.create_user(engine, "short", auth.VIEWER, "1234567", actor="cli")
    assert err.value.code == "password_short"
    with pytest.raises(U.UserError) as err:
        U.create_user(engine, "x", "superuser", "long-enough", actor="cli")
    assert err.value.code == "role_invalid"
    with pytest.raises(U.UserError) as err:
        U.create_user(engine, "sso", auth.VIEWER, None, actor="cli")
    assert err.value.code == "email_required"
    U.create_user(engine, "admin", auth.ADMIN, "long-enough", actor="cli")
    with pytest.raises(U.UserError) as err:
        U.create_user(engine, "admin", auth.VIEWER, "long-enough", actor="cli")
    assert err.value.code == "username_taken"
    for change in (lambda: U.set_role(engine, "admin", auth.VIEWER, actor="cli"),
                   lambda: U.set_active(engine, "admin", False, actor="cli")):
        with pytest.raises(U.UserError) as err:
            change()
        assert err.value.code == "last_admin"
    assert queries.users(engine)["role"].tolist() == [auth.ADMIN]
    assert queries.count_rows(engine, T.User) == 1


def test_audit_entries_cannot_be_changed_through_the_orm(engine):
    U.create_user(engine, "admin", auth.ADMIN, "long-enough", actor="cli")
    with Session(engine) as s:
        entry = s.exec(select(T.AuditEntry)).one()
        entry.summary = "rewritten"
        s.add(entry)
        with pytest.raises(PermissionError):
            s.commit()
    with Session(engine) as s:
        entry = s.exec(select(T.AuditEntry)).one()
        assert entry.summary != "rewritten"
        s.delete(entry)
        with pytest.raises(PermissionError):
            s.commit()
    assert _audit_count(engine) == 1


def test_user_command_creates_the_first_administrator(run_cli, monkeypatch, db_url):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("first-admin-pass\n"))
    code, out, err = run_cli("user", "add", "admin", "--role", "admin", "--password-stdin")
    assert code == 0 and "admin" in out
    code, out, _ = run_cli("user", "list")
    assert code == 0 and out.split("\t")[:2] == ["admin", "admin"]
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = run_cli("--lang", "en", "user", "add", "li", "--role", "evaluator", "--password-stdin")
    assert code == 2 and "at least 8 characters" in err
    code, _, err = run_cli("--lang", "en", "user", "deactivate", "admin")
    assert code == 2 and "last active administrator" in err
    from models.db import make_engine

    eng = make_engine(db_url)
    try:
        assert U.authenticate(eng, "admin", "first-admin-pass") == auth.Actor("admin", auth.ADMIN)
        audit = queries.audit_entries(eng)
        assert list(audit["action"]) == ["user.create"] and list(audit["actor"]) == ["cli"]
    finally:
        eng.dispose()


def test_restore_needs_the_administrator(engine, tmp_path):
    from models.backup import restore_backup

    before = _table_counts(engine)
    with pytest.raises(auth.PermissionDenied):
        restore_backup(engine, tmp_path / "any.zip", actor=REVIEWER)  # refused before the file is read
    assert _table_counts(engine) == before


def test_audit_filter_and_neutralised_export(engine):
    from dashboard import audit as A

    U.create_user(engine, "=cmd", auth.VIEWER, "long-enough", actor="cli")
    U.create_user(engine, "zhao", auth.REVIEWER, "long-enough", actor=ADMIN)
    entries = queries.audit_entries(engine)
    assert list(entries["entity_key"]) == ["zhao", "=cmd"]  # newest first
    assert list(A.filter_entries(entries, A.AuditFilter(actors=("admin",)))["entity_key"]) == ["zhao"]
    assert list(A.filter_entries(entries, A.AuditFilter(groups=("import",)))["id"]) == []
    assert list(A.filter_entries(entries, A.AuditFilter(text="REVIEWER"))["entity_key"]) == ["zhao"]
    today = pd.Timestamp.now(tz="Asia/Shanghai").date()
    assert len(A.filter_entries(entries, A.AuditFilter(start=today, end=today))) == 2
    assert A.filter_entries(entries, A.AuditFilter(end=date(2020, 1, 1))).empty
    text = A.export_csv(entries).decode("utf-8-sig")
    assert "'=cmd" in text and ",=cmd" not in text
