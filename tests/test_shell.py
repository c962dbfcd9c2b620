"""The app shell: sidebar language and year, demo notice, navigation."""

from models import tables as T
from models.db import bump_revision, init_store, make_engine
from sqlmodel import Session
from tests.apptest_utils import open_app
from tests.factories import small_registry


def _store(db_url):
    eng = make_engine(db_url)
    init_store(eng)
    small_registry(eng)
    return eng


def test_sidebar_offers_years_with_usage_latest_first(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url)
    year_box = at.sidebar.selectbox[0]
    assert year_box.options == ["2025", "2024"]
    assert year_box.value == 2025


def test_language_switch_changes_sidebar_labels(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url)
    assert at.sidebar.selectbox[0].label == "统计年度"
    at.sidebar.radio[0].set_value("en").run()
    assert at.sidebar.selectbox[0].label == "Year"


def test_demo_notice_only_when_demo_data_loaded(monkeypatch, db_url):
    eng = _store(db_url)
    at = open_app(monkeypatch, db_url)
    assert not at.sidebar.warning
    with Session(eng) as s:  # as the demo loader does: mark the data changed in the same write
        s.add(T.StoreMeta(key="demo_seed", value="2016"))
        bump_revision(s)
        s.commit()
    at = open_app(monkeypatch, db_url)
    assert "演示数据" in at.sidebar.warning[0].value and "2016" in at.sidebar.warning[0].value
    assert any("演示数据" in c.value for c in at.caption)


def test_language_switch_keeps_the_chosen_year(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url)
    at.sidebar.selectbox[0].set_value(2024).run()
    at.sidebar.radio[0].set_value("en").run()
    assert at.sidebar.radio[0].value == "en"
    assert at.sidebar.selectbox[0].label == "Year"
    assert at.sidebar.selectbox[0].value == 2024
    at.sidebar.radio[0].set_value("zh").run()
    assert at.sidebar.selectbox[0].value == 2024 and at.sidebar.selectbox[0].label == "统计年度"
