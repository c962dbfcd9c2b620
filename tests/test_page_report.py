"""The Census & report page, driven through the whole app with AppTest.

Store: small_registry (tests/factories.py) plus two service records. 2025: 3 instruments, 318万元,
effective 1200 + 240 + 600 = 2,040 h of 1400 + 1400 + 800 = 3,600 rated (56.7 %), external 480 h,
1 of 3 open (33.3 %), idle GC-1 and RADAR-1. 2024: HPLC-1 600 h only (16.7 %), all three idle.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

import openpyxl
import pytest
import streamlit.elements.widgets.button as button_module
from sqlmodel import Session

from models import tables as T
from models.db import init_store, make_engine
from tests.apptest_utils import open_app
from tests.factories import add_service, add_unit, small_registry

PAGE = "pages/report.py"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _fill(engine):
    ids = small_registry(engine)
    add_service(engine, ids["hplc"], datetime(2025, 3, 1, 9), "甲公司", 1000.0)
    add_service(engine, ids["hplc"], datetime(2025, 4, 1, 9), "乙公司", 500.0)
    return ids


def _store(db_url, fill=_fill, demo_seed: str | None = None):
    eng = make_engine(db_url)
    init_store(eng)
    fill(eng)
    if demo_seed is not None:
        with Session(eng) as s:
            s.add(T.StoreMeta(key="demo_seed", value=demo_seed))
            s.commit()
    eng.dispose()


@pytest.fixture
def downloads(monkeypatch):
    """What each download button offers: label -> (file name, mime type, data)."""
    offered: dict[str, tuple[str, str, bytes]] = {}
    original = button_module.marshall_file

    def record(coordinates, data, proto, mimetype, file_name=None, **kw):
        offered[proto.label] = (file_name, mimetype, data)
        return original(coordinates, data, proto, mimetype, file_name, **kw)

    monkeypatch.setattr(button_module, "marshall_file", record)
    return offered


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def preview(at) -> str:
    frames = at.get("iframe")
    assert len(frames) == 1
    return frames[0].proto.srcdoc


def headline_row(html: str, label: str) -> list[str]:
    """The cells after the label of one row of the report's headline table."""
    table = re.search(r'<table data-table="headline">.*?</table>', html, re.S).group(0)
    row = re.search(rf"<tr><td>{re.escape(label)}</td>(.*?)</tr>", table, re.S).group(1)
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


def test_headline_downloads_and_preview_in_chinese(monkeypatch, db_url, downloads):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert at.title[0].value == "普查与年报"
    assert at.main.caption[0].value.startswith("2025 年度")
    assert metrics(at) == {"仪器数量": "3", "仪器原值合计": "318万元", "开放率": "33.3%", "利用率": "56.7%",
                           "对外服务机时": "480 小时", "低效运行仪器": "2"}
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["对外服务机时"] == "+480 小时" and deltas["低效运行仪器"] == "-1"  # 2024: 0 h and 3 idle
    assert deltas["利用率"] == "+40.0 个百分点"  # 56.7 % against 16.7 %
    assert [b.label for b in at.get("download_button")] == ["下载年报（HTML，可离线打开、打印）", "下载年报表格（Excel）"]
    name, mime, data = downloads["下载年报（HTML，可离线打开、打印）"]
    assert (name, mime) == ("alxa-annual-report-2025-zh.html", "text/html")
    assert data.decode("utf-8") == preview(at)
    name, mime, data = downloads["下载年报表格（Excel）"]
    assert (name, mime) == ("alxa-annual-report-2025-zh.xlsx", XLSX_MIME)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[:2] == ["主要指标", "按旗区"]
    html = preview(at)
    assert '<html lang="zh-CN">' in html and "2025 年度统计年报" in html
    assert "原值合计 318万元" in html and "服务外部用户单位 2 家" in html and html.count("<svg ") == 10
    assert "演示数据" not in html
    # 2024 had usage but no service record: a real 0 to compare with.
    assert headline_row(html, "服务记录数") == ["2", "0", "+2", "—", "条"]
    assert "（北京时间）" in html and "UTC" not in html
    # The definitions behind the cards
    definitions = at.expander[0].table[0].value
    assert list(definitions.columns) == ["指标", "定义与计算公式", "单位", "依据与来源"]
    assert len(definitions) == 15 and definitions.iloc[0, 0] == "仪器数量"
    # Each card's ? gives the formula of that table, then what the change compares.
    formulas = dict(zip(definitions["指标"], definitions["定义与计算公式"]))
    for m in at.metric:
        assert m.proto.help == f"{formulas[m.label]}\n\n与 2024 年相比的变化；比率类指标以百分点表示。"


def test_the_sidebar_year_drives_figures_files_and_preview(monkeypatch, db_url, downloads):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    at.sidebar.selectbox[0].set_value(2024).run()
    assert not at.exception
    shown = metrics(at)
    assert shown["利用率"] == "16.7%" and shown["低效运行仪器"] == "3" and shown["对外服务机时"] == "0 小时"
    deltas = {m.label: m.delta for m in at.metric}
    # No usage in 2023: the hour figures have nothing to compare with; the register does (all from 2018).
    assert not deltas["利用率"] and not deltas["对外服务机时"] and not deltas["低效运行仪器"]
    assert deltas["仪器数量"] == "持平"
    assert "2024 年度统计年报" in preview(at)
    # 2024 is the first year with data: no services in 2024 (a real 0) and nothing at all in 2023,
    # so the year-over-year of the service figures is "—", not a change against an invented 0.
    assert headline_row(preview(at), "服务记录数") == ["0", "—", "—", "—", "条"]
    assert headline_row(preview(at), "服务收入") == ["0.00", "—", "—", "—", "万元"]
    assert {v[0] for v in downloads.values()} >= {"alxa-annual-report-2024-zh.html", "alxa-annual-report-2024-zh.xlsx"}


def test_english_and_switching_language(monkeypatch, db_url, downloads):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    assert at.title[0].value == "Census & annual report"
    assert metrics(at)["Total original value"] == "CNY 3.18 million"
    assert [b.label for b in at.get("download_button")] == ["Download the report (HTML, opens offline, prints)",
                                                             "Download the tables (Excel)"]
    assert downloads["Download the tables (Excel)"][0] == "alxa-annual-report-2025-en.xlsx"
    assert '<html lang="en">' in preview(at) and "Annual statistical report 2025" in preview(at)
    at.sidebar.radio(key="lang").set_value("zh").run()
    assert at.title[0].value == "普查与年报" and '<html lang="zh-CN">' in preview(at)
    assert downloads["下载年报（HTML，可离线打开、打印）"][0] == "alxa-annual-report-2025-zh.html"


def test_demo_store_report_carries_the_demo_notice(monkeypatch, db_url):
    _store(db_url, demo_seed="2016")
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert "随机种子 2016" in preview(at)


def test_empty_registry(monkeypatch, db_url):
    _store(db_url, fill=lambda eng: add_unit(eng, "只有单位"))  # a store without any unit gets the demo data
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert "仪器名录为空" in at.info[0].value
    assert not at.get("download_button") and not at.get("iframe")


def test_registry_without_usage_says_so(monkeypatch, db_url):
    def fill(eng):
        from tests.factories import add_instrument

        add_instrument(eng, add_unit(eng, "无记录单位"), "X-1", "离心机")

    _store(db_url, fill=fill)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    assert at.info[0].value.startswith("There is no monthly usage yet")
    assert not at.get("download_button")
