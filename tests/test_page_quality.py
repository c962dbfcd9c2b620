"""The data-quality page, driven through the whole app with AppTest on a hand-made store.

The store (year 2025, all reports long due):
- 报送单位 (unit A): HPLC-1 (外部共享, 100 h a month but 700 h in February > 28 × 24 = 672 h,
  40 h external each month, 2 external service records); OLD-1 (待报废, 10 h in January);
  CHEAP-1 (40,000 CNY, below the 5万 floor, 内部共享); NMR-1 (外部共享, 50 h a month, all
  internal, no service record). Monthly usage reports all on time except March (5 days late); an
  annual instrument report on time.
- 未报单位 (unit B): GC-1 (外部共享, no usage, no records, no reports): owes 12 monthly reports.

Hand-worked figures: units that never reported 1 (B); late 1; missing 12; anomalies 3
(HPLC Feb hours, OLD Jan use while awaiting scrapping, CHEAP below the floor).
Nominally open: declared HPLC-1, NMR-1, GC-1 (3); GC-1 reported no usage, so it is set aside (not
judged, not counted); judged 2; candidates 1 (NMR-1: no external records, external 0 h of 600 h
internal). HPLC: effective 11 × 100 + 700 = 1800 h, external 480 h, internal 1320 h,
external/internal = 36.4 %: a candidate once the line is above 36.4 %.
Completeness: factories fill the 10 required fields and affiliate, source, customs_supervised
(HPLC also name_en, manufacturer and model): unit A (3 + 3 + 3 + 6) + 40 = 55 of 120 = 45.8 %,
unit B 13 of 30 = 43.3 %; league 68 of 150 = 45.3 %.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlmodel import Session

from models import tables as T
from models.db import bump_revision, init_store, make_engine
from tests.apptest_utils import open_app, wkey
from tests.factories import add_instrument, add_service, add_unit, add_usage, filled_store

PAGE = "pages/quality.py"
UTC = timezone.utc


def _fill(eng) -> dict:
    a = add_unit(eng, "报送单位", name_en="Reporting Unit")
    b = add_unit(eng, "未报单位", name_en="Silent Unit", region_code="152923")
    hplc = add_instrument(eng, a, "HPLC-1", "高效液相色谱仪", name_en="HPLC", manufacturer="安捷伦", model="1260")
    old = add_instrument(eng, a, "OLD-1", "旧天平", status="待报废")
    add_instrument(eng, a, "CHEAP-1", "小型离心机", original_value=40_000, share_mode="内部共享")
    nmr = add_instrument(eng, a, "NMR-1", "核磁共振波谱仪")
    add_instrument(eng, b, "GC-1", "气相色谱仪")
    hours = [100.0] * 12
    hours[1] = 700.0
    add_usage(eng, hplc, 2025, hours, [40.0] * 12)
    add_usage(eng, old, 2025, [10.0])
    add_usage(eng, nmr, 2025, [50.0] * 12)
    add_service(eng, hplc, datetime(2025, 3, 3, 9), "某企业", 800.0, user_type="外部用户")
    add_service(eng, hplc, datetime(2025, 5, 6, 9), "另一企业", 600.0, user_type="外部用户")
    with Session(eng) as s:
        for month in range(1, 13):
            due = date(2026, 1, 10) if month == 12 else date(2025, month + 1, 10)
            # 10:00 Beijing (02:00 UTC) on the 5th before the due day; March 5 days after it
            day = due + timedelta(days=5) if month == 3 else due - timedelta(days=5)
            s.add(T.Submission(unit_id=a, kind="usage", year=2025, month=month, due_date=due,
                               submitted_at=datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)))
        s.add(T.Submission(unit_id=a, kind="instruments", year=2025, month=None, due_date=date(2025, 3, 31),
                           submitted_at=datetime(2025, 3, 20, 2, 0, tzinfo=UTC)))
        s.commit()
    return {"a": a, "b": b}


def _store(db_url, fill=_fill):
    filled_store(db_url, fill)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frames(at) -> list:
    return [d.value for d in at.dataframe]


def frame_with(at, column: str):
    """The first table that has `column`."""
    return next(f for f in frames(at) if column in f.columns)


def test_headline_and_timeliness_in_chinese(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert at.title[0].value == "数据质量"
    assert [t.label for t in at.tabs] == ["报送及时性", "字段完整度", "数据异常", "名义开放、实际封闭"]
    assert metrics(at) == {
        "全年未报送单位": "1",
        "逾期报送（次）": "1",
        "未报送（次）": "12",
        "名录字段完整度": "45.3%",
        "异常记录（条）": "3",
        "疑似名义开放仪器": "1",
    }
    summary = frame_with(at, "按时报送率")
    assert list(summary["持有单位"]) == ["未报单位", "报送单位"]  # never reported first
    silent, reporting = summary.iloc[0], summary.iloc[1]
    assert (silent["全年未报送"], silent["应报（次）"], silent["未报"], silent["按时报送率"]) == ("是", 12, 12, 0.0)
    assert (reporting["按时"], reporting["逾期"], reporting["未报"]) == (11, 1, 0)
    assert reporting["按时报送率"] == 91.7  # 11 / 12
    assert reporting["最长逾期（天）"] == "5"
    assert "月度使用数据：2 个持有单位应报送，其中 1 个全年未报送（排在最前）。" in [m.value for m in at.markdown]
    assert [b.label for b in at.get("download_button")][:2] == ["下载单位汇总（CSV）", "下载逐次报送明细（CSV）"]


def test_the_report_kind_switches_to_the_annual_instrument_report(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    kind = at.radio(key=wkey(at, "quality_kind"))
    assert kind.options == ["月度使用数据", "仪器信息"]
    kind.set_value("instruments").run()
    summary = frame_with(at, "按时报送率")
    assert list(summary["持有单位"]) == ["报送单位"]  # only unit A owes an annual instrument report
    assert (summary.iloc[0]["应报（次）"], summary.iloc[0]["按时"]) == (1, 1)
    shown = metrics(at)
    assert (shown["全年未报送单位"], shown["逾期报送（次）"], shown["未报送（次）"]) == ("0", "0", "0")
    assert "仪器信息" in next(m.help for m in at.metric if m.label == "全年未报送单位")


def test_completeness_table_and_medal_lines(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    table = frame_with(at, "综合完整度").set_index("持有单位")
    assert table.loc["报送单位", "综合完整度"] == 45.8  # 55 / 120
    assert table.loc["未报单位", "综合完整度"] == 43.3  # 13 / 30
    assert table.loc["报送单位", "必填字段完整度"] == 100.0
    assert table.loc["未报单位", "推荐字段完整度"] == 15.0  # 3 / 20
    assert set(table["奖牌"]) == {"无奖牌"}
    # empty on all four of unit A's instruments, in layout order (英文名称 is empty on only three)
    assert table.loc["报送单位", "最常缺失的字段"] == "产地国别、主要技术指标、主要功能"
    # a bronze line at 44 % gives unit A (45.8 %) bronze, unit B (43.3 %) still none
    at.number_input(key=wkey(at, "quality_bronze")).set_value(44.0).run()
    table = frame_with(at, "综合完整度").set_index("持有单位")
    assert table.loc["报送单位", "奖牌"] == "铜牌" and table.loc["未报单位", "奖牌"] == "无奖牌"
    assert "金牌 0 个、银牌 0 个、铜牌 1 个、无奖牌 1 个" in [m.value for m in at.markdown]
    fields = frame_with(at, "未填写的仪器数").set_index("字段")
    assert fields.loc["英文名称", "未填写的仪器数"] == 4  # every instrument but HPLC-1
    assert fields.loc["电子邮箱", "缺失比例"] == 100.0


def test_anomaly_list_and_rule_filter(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    counts = frame_with(at, "记录数").set_index("异常规则")
    assert counts.loc["有效机时超过当月时长", "记录数"] == 1
    assert counts.loc["待报废仪器仍有使用", "记录数"] == 1
    assert counts.loc["原值低于纳入标准", "记录数"] == 1
    assert counts.loc["对外机时超过有效机时", "记录数"] == 0
    listing = frame_with(at, "说明")
    assert list(listing["内部编码"]) == ["HPLC-1", "OLD-1", "CHEAP-1"]
    assert list(listing["期间"]) == ["2025-02", "2025-01", "2025"]
    assert listing.iloc[0]["说明"] == "有效机时 700 小时，超过当月时长 672 小时"
    assert listing.iloc[2]["说明"] == "原值 4万元，低于纳入标准 5万元"
    rule = at.selectbox(key=wkey(at, "quality_rule"))
    rule.set_value("below_census_floor").run()
    assert list(frame_with(at, "说明")["内部编码"]) == ["CHEAP-1"]
    assert "显示 1 条，共 3 条异常记录。" in [m.value for m in at.markdown]


def test_the_ratio_line_moves_instruments_onto_the_nominal_open_list(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    listing = frame_with(at, "外部用户服务记录（条）")
    assert list(listing["内部编码"]) == ["NMR-1"]
    nmr = listing.iloc[0]
    assert nmr["疑似依据"] == "全年无外部用户服务记录、对外机时远低于内部机时"
    assert (nmr["外部用户服务记录（条）"], nmr["本年已报送月数"], nmr["内部机时（小时）"]) == (0, 12, 600.0)
    # declared: HPLC-1, NMR-1, GC-1 (OLD-1 awaits scrapping, CHEAP-1 is shared internally); GC-1 sent no usage
    assert "在 2 台报送了使用数据、声明外部共享的在用、非免于开放仪器中，1 台疑似名义开放、实际封闭，涉及 1 个单位。" in [
        m.value for m in at.markdown]
    at.number_input(key=wkey(at, "quality_ratio")).set_value(40.0).run()
    listing = frame_with(at, "外部用户服务记录（条）").set_index("内部编码")
    assert list(listing.index) == ["NMR-1", "HPLC-1"]  # one unit: lowest ratio first (0 % before 36.4 %)
    hplc = listing.loc["HPLC-1"]
    assert (hplc["有效机时（小时）"], hplc["对外服务机时（小时）"], hplc["内部机时（小时）"]) == (1800.0, 480.0, 1320.0)
    assert hplc["对外 ÷ 内部机时"] == 36.4 and hplc["外部用户服务记录（条）"] == 2
    assert hplc["疑似依据"] == "对外机时远低于内部机时"
    assert metrics(at)["疑似名义开放仪器"] == "2"
    by_unit = frame_with(at, "参与判断的仪器").set_index("持有单位")
    assert list(by_unit.index) == ["报送单位"]
    assert tuple(by_unit.loc["报送单位", ["声明外部共享的仪器", "未报送使用数据（未判断）", "参与判断的仪器", "疑似名义开放"]]) == (2, 0, 2, 2)
    assert by_unit.loc["报送单位", "疑似占比（占参与判断的仪器）"] == 100.0
    definitions = at.table[0].value
    assert any("40%" in rule for rule in definitions["规则与阈值"])


def test_an_instrument_that_reported_no_usage_is_set_aside_not_a_candidate(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    # GC-1 (unit B sent nothing all year) is neither on the suspect list nor in the card
    assert "GC-1" not in list(frame_with(at, "外部用户服务记录（条）")["内部编码"])
    assert metrics(at)["疑似名义开放仪器"] == "1"
    assert "全年未报送使用数据的 1 台无法判断，未计入" in next(m.help for m in at.metric if m.label == "疑似名义开放仪器")
    assert ("另有 1 台（1 个单位）声明外部共享的仪器全年未报送使用数据，无法判断是否名义开放，未计入疑似名单和“疑似名义开放仪器”指标；"
            "这属于报送问题，请见“报送及时性”页签。") in [c.value for c in at.caption]
    assert "未计入：全年未报送使用数据的仪器（1 台）" in [h.value for h in at.subheader]
    aside = next(f for f in frames(at) if "本年已报送月数" in f.columns and "外部用户服务记录（条）" not in f.columns)
    assert list(aside["内部编码"]) == ["GC-1"] and list(aside["持有单位"]) == ["未报单位"]
    assert list(aside["未判断原因"]) == ["全年未报送使用数据，无法判断"] and list(aside["本年已报送月数"]) == [0]
    labels = [b.label for b in at.get("download_button")]
    assert "下载未报送、未判断仪器名单（CSV）" in labels
    # a wider line does not pull it in either
    at.number_input(key=wkey(at, "quality_ratio")).set_value(90.0).run()
    assert "GC-1" not in list(frame_with(at, "外部用户服务记录（条）")["内部编码"])
    # the definitions say why
    rule = at.table[0].value.set_index("检查项").loc["名义开放、实际封闭（疑似）", "规则与阈值"]
    assert "全年未报送任何月度使用数据的仪器不作判断" in rule
    source = at.table[0].value.set_index("检查项").loc["按时报送", "来源"]
    assert "政策参数" not in source and "本看板中不能修改" in source


def test_english_page(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    assert at.title[0].value == "Data quality"
    assert [t.label for t in at.tabs] == ["Reporting timeliness", "Record completeness", "Anomalies",
                                          "Nominally open, actually closed"]
    shown = metrics(at)
    assert shown["Units that never reported"] == "1" and shown["Anomalous records"] == "3"
    summary = frame_with(at, "On-time share")
    assert list(summary["Holding unit"]) == ["Silent Unit", "Reporting Unit"]
    assert summary.iloc[0]["Never reported"] == "Yes"
    listing = frame_with(at, "Detail")
    assert listing.iloc[0]["Detail"] == "Effective hours 700 h, above the month's 672 h"
    assert listing.iloc[0]["Instrument"] == "HPLC"
    assert shown["Possibly nominally open"] == "1"
    at.number_input(key=wkey(at, "quality_ratio")).set_value(40.0).run()
    assert shown != metrics(at) and metrics(at)["Possibly nominally open"] == "2"
    table = frame_with(at, "External-user service records").set_index("Internal number")
    assert table.loc["NMR-1", "Grounds"] == ("No external-user service record all year, "
                                             "External hours far below internal hours")
    aside = next(f for f in frames(at) if "Months reported" in f.columns
                 and "External-user service records" not in f.columns)
    assert list(aside["Why not judged"]) == ["No usage reported all year: cannot be judged"]
    assert any(c.value.startswith("Set aside: 1 more instrument(s) declared as shared externally, at 1 unit(s)")
               and "Reporting timeliness" in c.value for c in at.caption)
    definitions = at.table[0].value
    assert list(definitions.columns) == ["Check", "Rule and threshold", "Source"]


def test_the_chosen_ratio_survives_a_language_switch(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    at.number_input(key=wkey(at, "quality_ratio")).set_value(40.0).run()
    at.sidebar.radio[0].set_value("en").run()
    assert at.number_input(key=wkey(at, "quality_ratio")).value == 40.0
    assert metrics(at)["Possibly nominally open"] == "2"


def _clean(eng) -> None:
    a = add_unit(eng, "规范单位")
    inst = add_instrument(eng, a, "OK-1", "规范仪器")
    add_usage(eng, inst, 2025, [100.0] * 12, [40.0] * 12)
    add_service(eng, inst, datetime(2025, 4, 1, 9), "客户", 100.0, user_type="外部用户")
    with Session(eng) as s:
        for month in range(1, 13):
            due = date(2026, 1, 10) if month == 12 else date(2025, month + 1, 10)
            s.add(T.Submission(unit_id=a, kind="usage", year=2025, month=month, due_date=due,
                               submitted_at=datetime(due.year, due.month, due.day, 1, 0, tzinfo=UTC)))
        s.commit()


def test_empty_states_when_nothing_is_wrong(monkeypatch, db_url):
    _store(db_url, _clean)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert [s.value for s in at.success] == [
        "2025 年未发现异常记录。",
        "在 1 台报送了使用数据、声明外部共享的在用、非免于开放仪器中，未发现疑似名义开放、实际封闭的仪器。",
    ]
    shown = metrics(at)
    assert (shown["全年未报送单位"], shown["逾期报送（次）"], shown["未报送（次）"], shown["异常记录（条）"]) == ("0", "0", "0", "0")
    assert not at.exception


def test_no_usage_year_and_empty_registry(monkeypatch, db_url):
    eng = make_engine(db_url)
    init_store(eng)
    unit = add_unit(eng, "空单位")
    eng.dispose()
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert at.info[0].value.startswith("仪器名录为空")
    eng = make_engine(db_url)
    add_instrument(eng, unit, "X-1", "无使用仪器")
    with Session(eng) as s:
        bump_revision(s)
        s.commit()
    eng.dispose()
    at.run()
    assert at.info[0].value.startswith("尚无月度使用记录")
    assert not at.tabs
