"""Sign-in, roles in the interface, and the Audit and Users pages, driven with AppTest.

Without sign-in the app is read-only: the write controls are replaced by a note saying which
permission they need, and the Audit and Users pages are not in the menu (the pages refuse too)."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard import auth
from dashboard.ui.context import ACTOR_KEY
from dashboard.ui.shell import PAGES, visible_pages
from models import queries
from models.db import make_engine
from models.services import purchases as SP
from models.services import users as U
from tests.apptest_utils import open_app, wkey
from tests.factories import filled_store, small_registry

NEEDS = "此操作需要有权限的账号"


def _fill(eng):
    ids = small_registry(eng)
    U.create_user(eng, "admin", auth.ADMIN, "admin-password", actor="cli", display_name="管理员")
    U.create_user(eng, "zhao", auth.REVIEWER, "review-password", actor="cli")
    SP.submit_request(eng, {"applicant": "阿拉善盟测试研究院", "instrument_name": "液相色谱仪", "class_code": "010501",
                            "quoted_price": 420_000, "funding": "地方财政资金", "justification": "任务增加",
                            "submitted_date": "2026-03-01"}, actor="cli", today=date(2026, 3, 2))
    return ids


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts + [e.value for e in at.error] + [s.value for s in at.success])


def test_menu_per_role():
    paths = lambda who: [p[0] for p in visible_pages(who)]  # noqa: E731
    assert "pages/audit.py" not in paths(auth.ANONYMOUS_ACTOR) and "pages/users.py" not in paths(auth.ANONYMOUS_ACTOR)
    assert "pages/audit.py" not in paths(auth.Actor("li", auth.EVALUATOR))
    assert paths(auth.Actor("admin", auth.ADMIN)) == [p[0] for p in PAGES]
    assert len(paths(auth.ANONYMOUS_ACTOR)) == len(PAGES) - 2


def test_visitor_is_read_only_and_signs_in(monkeypatch, db_url):
    filled_store(db_url, _fill)
    at = open_app(monkeypatch, db_url, "pages/purchases.py", role=None)
    assert "未登录：只读浏览" in "\n".join(c.value for c in at.sidebar.caption)
    # Purchase review: the list and the request are shown; no check, no decision, no entry.
    assert not [b for b in at.main.button if b.label == "运行查重"]
    assert texts(at).count(NEEDS) == 3  # decision form, entry form, import
    assert "记录评议结论" in texts(at)
    at.switch_page("pages/data.py").run()
    assert not at.file_uploader and NEEDS in texts(at)
    at.switch_page("pages/incentives.py").run()
    assert not [b for b in at.main.button if "保存" in b.label]

    at.text_input(key="auth_username").input("admin")
    at.text_input(key="auth_password").input("wrong-password")
    next(b for b in at.sidebar.button if b.label == "登录").click().run()
    assert "用户名或密码不正确" in at.sidebar.error[0].value
    assert ACTOR_KEY not in at.session_state
    at.text_input(key="auth_password").input("admin-password")
    next(b for b in at.sidebar.button if b.label == "登录").click().run()
    assert at.session_state[ACTOR_KEY] == auth.Actor("admin", auth.ADMIN)
    assert "已登录：admin（管理员）" in "\n".join(c.value for c in at.sidebar.caption)
    at.switch_page("pages/data.py").run()
    assert at.file_uploader  # the data page now offers the import
    at.button(key="auth_sign_out").click().run()
    assert ACTOR_KEY not in at.session_state and not at.file_uploader


def test_reviewer_sees_review_controls_but_not_imports(monkeypatch, db_url):
    filled_store(db_url, _fill)
    at = open_app(monkeypatch, db_url, "pages/purchases.py", role=auth.REVIEWER)
    assert [b for b in at.main.button if b.label == "运行查重"]
    assert NEEDS not in texts(at)
    at.switch_page("pages/data.py").run()
    assert not at.file_uploader and "导入数据" in texts(at)


def test_audit_page_lists_filters_and_shows_before_after(monkeypatch, db_url):
    filled_store(db_url, _fill)
    at = open_app(monkeypatch, db_url, "pages/audit.py", lang="en")
    assert at.title[0].value == "Audit trail"
    table = at.dataframe[0].value
    assert list(table["Action"]) == ["purchase.submit", "user.create", "user.create"]  # newest first
    assert list(table["Who"]) == ["cli", "cli", "cli"]
    assert "3 of 3 entries" in texts(at)
    at.multiselect(key=wkey(at, "audit_groups")).select("user").run()
    assert list(at.dataframe[0].value["Key"]) == ["zhao", "admin"]
    at.text_input(key=wkey(at, "audit_text")).input("zhao").run()
    assert list(at.dataframe[0].value["Key"]) == ["zhao"]
    assert at.json and at.json[-1].value and "reviewer" in at.json[-1].value  # after: the new account
    at.text_input(key=wkey(at, "audit_text")).input("nothing matches this").run()
    assert "0 of 3 entries" in texts(at)


def test_users_page_adds_and_changes_accounts(monkeypatch, db_url):
    filled_store(db_url, _fill)
    at = open_app(monkeypatch, db_url, "pages/users.py")
    assert list(at.dataframe[0].value["用户名"]) == ["admin", "zhao"]
    at.text_input(key="users_new_name").input("li")
    at.selectbox(key=wkey(at, "users_new_role")).set_value(auth.EVALUATOR)
    at.text_input(key="users_new_password").input("short")
    next(b for b in at.main.button if b.label == "新增").click().run()
    assert "密码至少 8 个字符" in at.error[0].value
    at.text_input(key="users_new_password").input("long-enough")
    next(b for b in at.main.button if b.label == "新增").click().run()
    assert "已新增账号 li" in at.success[0].value
    assert list(at.dataframe[0].value["角色"]) == ["管理员", "评价人员", "评议人员"]
    at.selectbox(key="users_change_name").set_value("zhao").run()
    at.selectbox(key=wkey(at, "users_role_zhao")).set_value(auth.VIEWER)
    next(b for b in at.main.button if b.label == "保存修改").click().run()
    eng = make_engine(db_url)
    try:
        assert queries.users(eng).set_index("username").loc["zhao", "role"] == auth.VIEWER
        audit = queries.audit_entries(eng)
        assert list(audit["action"][:2]) == ["user.role", "user.create"]
        assert list(audit["actor"][:2]) == ["test-admin", "test-admin"]
    finally:
        eng.dispose()
    # The last administrator cannot be demoted.
    at.selectbox(key="users_change_name").set_value("admin").run()
    at.selectbox(key=wkey(at, "users_role_admin")).set_value(auth.VIEWER)
    next(b for b in at.main.button if b.label == "保存修改").click().run()
    assert "最后一个有效的管理员" in at.error[0].value
