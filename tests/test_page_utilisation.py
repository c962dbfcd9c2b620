"""The utilisation page, driven through the whole app with AppTest; expected numbers by hand.

Store: tests.factories.small_registry plus two instruments:
- OLD-1 (额济纳旗气象站, 专用, 待报废, 300,000 CNY) 100 h/month in 2025 → left out everywhere;
- AG-1 (阿拉善盟测试研究院, 通用, 代理, 1,000,000 CNY) 10 h/month in 2025, all external (120 h).

2025, in service: HPLC-1 1200 h (通用, external 480 h), GC-1 240 h (通用), RADAR-1 600 h (专用),
AG-1 120 h (通用). Rated 1400 × 3 + 800 = 5000 h; effective 2160 h → utilisation 43.2 %;
average 540 h; external 600 h → share 600 / 2160 = 27.8 %. Idle (< 800 h): GC-1, RADAR-1, AG-1
= 3; saturated (≥ 1200 h): HPLC-1 = 1.
2024: HPLC-1 600 h only → utilisation 600 / 5000 = 12.0 %, average 150 h, external share 0,
idle 4, saturated 0. Changes: +31.2 points, +260.0 %, +27.8 points, −1, +1.
"""

from __future__ import annotations

import json

import pandas as pd
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

from tests.apptest_utils import open_app, wkey
from tests.factories import add_instrument, add_unit, add_usage, filled_store, small_registry

PAGE = "pages/utilisation.py"


def _fill(eng, previous_year: bool = True) -> dict[str, int]:
    ids = small_registry(eng)
    ids["old"] = add_instrument(eng, ids["unit2"], "OLD-1", "老旧雷达", class_code="070401", original_value=300_000,
                                purpose="专用", status="待报废", region_code="152923")
    ids["agent"] = add_instrument(eng, ids["unit1"], "AG-1", "代理质谱仪", class_code="010501", original_value=1_000_000,
                                  operation_mode="代理")
    add_usage(eng, ids["old"], 2025, [100.0] * 12)
    add_usage(eng, ids["agent"], 2025, [10.0] * 12, [10.0] * 12)
    return ids


def _store(db_url, fill=_fill) -> dict:
    return filled_store(db_url, fill) or {}


def _only_2025(eng):
    """The store above without any 2024 usage: HPLC-1's 2024 rows are not written."""
    u1 = add_unit(eng, "阿拉善盟测试研究院", unit_type="科研院所", region_code="152921")
    hplc = add_instrument(eng, u1, "HPLC-1", "高效液相色谱仪", original_value=600_000)
    add_usage(eng, hplc, 2025, [100.0] * 12, [40.0] * 12)
    return {"unit1": u1, "hplc": hplc}


def headline(at) -> dict[str, tuple[str, str]]:
    """The six headline cards: label -> (value, delta)."""
    return {m.label: (m.value, m.proto.delta) for m in list(at.metric)[:6]}


def values(at) -> dict[str, str]:
    return {label: value for label, (value, _) in headline(at).items()}


def group_table(at) -> pd.DataFrame:
    return at.dataframe[0].value


def drill_table(at) -> pd.DataFrame:
    return at.dataframe[1].value


def chart_data(chart) -> pd.DataFrame:
    return convert_arrow_bytes_to_pandas_df(chart.proto.datasets[0].data.data)


def trend_chart(at, drill: bool = False) -> pd.DataFrame:
    """Data of the league trend chart (or the drill-down one): the charts with a series column."""
    trends = [chart_data(c) for c in at.get("vega_lite_chart") if "series" in json.dumps(json.loads(c.proto.spec)["encoding"])]
    return trends[0] if drill else trends[-1]


def set_number(at, name: str, value: float):
    at.number_input(key=wkey(at, name)).set_value(value).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


# ---- headline figures and controls ------------------------------------------------------------------


def test_headline_figures_with_changes_against_last_year(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert at.title[0].value == "利用分析"
    assert headline(at) == {
        "在用仪器": ("4", "0"),
        "机时利用率": ("43.2%", "+31.2 个百分点"),
        "平均有效机时": ("540", "+260.0%"),
        "对外服务占比": ("27.8%", "+27.8 个百分点"),
        "低效运行仪器": ("3", "-1"),
        "饱和运行仪器": ("1", "1"),
    }
    captions = [c.value for c in at.caption]
    assert any(c.startswith("2025 年度 · 在用仪器 4 台套（已剔除待报废 1 台；含免于开放仪器 0 台）") for c in captions)
    assert "卡片下方的增减为与 2024 年相比（同一额定机时和判定线）。" in captions


def test_every_headline_card_explains_its_formula_with_the_lines_in_force(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    set_number(at, "util_saturation", 1000)
    helps = {m.label: m.proto.help for m in list(at.metric)[:6]}
    assert helps["机时利用率"].startswith("Σ 有效机时 ÷ Σ 额定机时")
    assert helps["平均有效机时"] == "Σ 有效机时 ÷ 在用仪器台套数\n\n单位：小时/台·年"
    assert helps["对外服务占比"].startswith("Σ 对外服务机时 ÷ Σ 有效机时")
    assert "有效机时低于 800 小时" in helps["低效运行仪器"]
    assert helps["饱和运行仪器"] == "在用仪器中有效机时 ≥ 1,000 小时的台套数"
    assert all(helps.values()) and not any("{" in h for h in helps.values())


def test_editing_rated_hours_changes_the_rates(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    set_number(at, "util_rated_general", 1000)
    # Rated 1000 × 3 + 800 = 3800 h: 2160 / 3800 = 56.8 %; last year 600 / 3800 = 15.8 %.
    assert headline(at)["机时利用率"] == ("56.8%", "+41.1 个百分点")
    unit1 = group_table(at).set_index("持有单位").loc["阿拉善盟测试研究院"]
    assert unit1["额定机时（小时）"] == 3000
    assert unit1["机时利用率（%）"] == 52.0  # 1560 / 3000
    set_number(at, "util_rated_special", 400)
    # 2160 / (3000 + 400) = 63.5 %; RADAR-1 600 h at 400 h rated = 150 %.
    assert values(at)["机时利用率"] == "63.5%"
    radar = group_table(at).set_index("持有单位").loc["额济纳旗气象站"]
    assert radar["机时利用率（%）"] == 150.0
    definitions = at.expander[0].table[0].value.set_index("指标")
    assert "通用仪器 1,000 小时/年，专用仪器 400 小时/年" in definitions.loc["额定机时", "计算公式"]


def test_idle_rule_by_hours_and_by_share(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    set_number(at, "util_idle_hours", 200)  # only AG-1 (120 h) is below 200 h
    assert values(at)["低效运行仪器"] == "1"
    at.radio(key=wkey(at, "util_idle_rule")).set_value("share").run()
    # 50 % of rated: 700 h (通用), 400 h (专用): GC-1 240 h and AG-1 120 h idle, RADAR-1 600 h normal.
    # Last year: HPLC-1 600 h < 700 h and three at 0 h: 4 idle.
    assert headline(at)["低效运行仪器"] == ("2", "-2")
    definitions = at.expander[0].table[0].value.set_index("指标")
    assert "有效机时低于额定机时的 50%（通用 700 小时、专用 400 小时）" in definitions.loc["低效运行仪器", "计算公式"]
    set_number(at, "util_idle_share", 10)  # lines 140 h / 80 h: only AG-1
    assert values(at)["低效运行仪器"] == "1"
    idle = at.dataframe[3].value  # lists: most valuable idle, idle, saturated
    assert idle["仪器编号"].tolist() == ["AG-1"]
    assert idle["低效线（小时）"].tolist() == [140]


def test_saturation_line(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    set_number(at, "util_saturation", 1300)
    assert headline(at)["饱和运行仪器"] == ("0", "0")
    assert "按当前饱和线，没有饱和运行的在用仪器。" in [i.value for i in at.info]


# ---- groups and drill-down ------------------------------------------------------------------------


def test_group_table_by_unit(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    table = group_table(at)
    assert table["持有单位"].tolist() == ["额济纳旗气象站", "阿拉善盟测试研究院"]  # 75.0 % before 37.1 %
    weather, institute = table.iloc[0], table.iloc[1]
    assert weather[["仪器数（台套）", "原值（万元）", "有效机时（小时）", "额定机时（小时）", "机时利用率（%）"]].tolist() == [
        1, 250.0, 600.0, 800.0, 75.0]
    assert pd.isna(weather["有效机时同比（%）"])  # 0 h last year
    assert weather["利用率变化（百分点）"] == 75.0
    assert institute[["仪器数（台套）", "原值（万元）", "有效机时（小时）", "额定机时（小时）", "机时利用率（%）",
                      "平均有效机时（小时/台）", "对外服务机时（小时）", "对外服务占比（%）", "服务样品数（个）",
                      "低效（台）", "饱和（台）", "有效机时同比（%）", "利用率变化（百分点）"]].tolist() == [
        3, 168.0, 1560.0, 4200.0, 37.1, 520.0, 600.0, 38.5, 1560, 2, 1, 160.0, 22.9]


def test_changing_the_dimension(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    dimension = at.selectbox(key=wkey(at, "util_dimension"))
    dimension.set_value("operation_mode").run()
    table = group_table(at)
    assert table["运营模式"].tolist() == ["自营", "代理"]
    assert table["机时利用率（%）"].tolist() == [56.7, 8.6]  # 2040 / 3600, 120 / 1400
    assert table["对外服务占比（%）"].tolist() == [23.5, 100.0]  # 480 / 2040, 120 / 120
    at.selectbox(key=wkey(at, "util_dimension")).set_value("class").run()
    table = group_table(at)
    assert table["仪器大类"].tolist() == ["01 分析仪器", "07 大气探测仪器"]
    assert table["有效机时（小时）"].tolist() == [1560.0, 600.0]
    at.selectbox(key=wkey(at, "util_dimension")).set_value("banner").run()
    table = group_table(at)
    assert table.iloc[:, 0].tolist() == ["阿拉善左旗", "额济纳旗"]
    at.selectbox(key=wkey(at, "util_dimension")).set_value("unit_type").run()
    assert group_table(at)["单位类型"].tolist() == ["科研院所", "其他"]
    at.selectbox(key=wkey(at, "util_dimension")).set_value("instrument").run()
    assert group_table(at)["仪器"].tolist() == [
        "高效液相色谱仪 · HPLC-1", "多普勒天气雷达 · RADAR-1", "气相色谱仪 · GC-1", "代理质谱仪 · AG-1"]


def test_drill_down_to_the_instruments_of_a_group(monkeypatch, db_url):
    ids = _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert drill_table(at)["仪器编号"].tolist() == ["RADAR-1"]  # the first group: 额济纳旗气象站 (OLD-1 scrapped)
    at.selectbox(key=wkey(at, "util_drill_unit")).set_value(ids["unit1"]).run()
    drill = drill_table(at)
    assert drill["仪器编号"].tolist() == ["HPLC-1", "GC-1", "AG-1"]
    assert drill["机时利用率（%）"].tolist() == [85.7, 17.1, 8.6]
    assert drill["负荷"].tolist() == ["饱和", "低效", "低效"]
    assert drill["原值（万元）"].tolist() == [60.0, 8.0, 100.0]
    group_cards = {m.label: m.value for m in list(at.metric)[6:]}
    assert group_cards["在用仪器"] == "3"
    assert group_cards["机时利用率"] == "37.1%"
    trend = trend_chart(at, drill=True)
    this_year = trend[trend["series"] == "2025 年"]
    assert this_year["value"].tolist() == [130.0] * 12  # 100 + 20 + 10 h a month


def test_drill_down_follows_the_dimension(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    at.selectbox(key=wkey(at, "util_dimension")).set_value("operation_mode").run()
    at.selectbox(key=wkey(at, "util_drill_operation_mode")).set_value("代理").run()
    assert drill_table(at)["仪器编号"].tolist() == ["AG-1"]
    assert drill_table(at)["运营模式"].tolist() == ["代理"]


# ---- lists, modes, charts, definitions --------------------------------------------------------------


def test_idle_saturated_and_most_valuable_lists(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    valuable, idle, saturated = (at.dataframe[i].value for i in (2, 3, 4))
    assert valuable["仪器编号"].tolist() == ["RADAR-1", "AG-1", "GC-1"]
    assert valuable["原值（万元）"].tolist() == [250.0, 100.0, 8.0]
    assert idle["仪器编号"].tolist() == ["AG-1", "GC-1", "RADAR-1"]  # least used first
    assert idle["有效机时（小时）"].tolist() == [120.0, 240.0, 600.0]
    assert idle["持有单位"].tolist() == ["阿拉善盟测试研究院", "阿拉善盟测试研究院", "额济纳旗气象站"]
    assert saturated["仪器编号"].tolist() == ["HPLC-1"]
    assert saturated["分类"].tolist()[0].startswith("010501")
    assert "以上 3 台低效仪器" in " ".join(c.value for c in at.caption)
    for table in (valuable, idle, saturated):
        assert set(table["本年已报送月数"]) == {12}
    assert "以上 3 台低效仪器本年都报送了使用数据。" in [c.value for c in at.caption]
    set_number(at, "util_top", 1)
    assert at.dataframe[2].value["仪器编号"].tolist() == ["RADAR-1"]


def _with_gaps(eng) -> dict[str, int]:
    """The store plus NEW-1 (通用, 2,000,000 CNY, no usage row in 2025) and PART-1 (通用, 500,000 CNY,
    10 h in each of January to March only)."""
    ids = _fill(eng)
    add_instrument(eng, ids["unit1"], "NEW-1", "未报送光谱仪", original_value=2_000_000)
    part = add_instrument(eng, ids["unit1"], "PART-1", "部分报送天平")
    add_usage(eng, part, 2025, [10.0] * 3)
    return ids


def test_the_lists_show_months_reported_and_count_the_unreported(monkeypatch, db_url):
    _store(db_url, fill=_with_gaps)
    at = open_app(monkeypatch, db_url, page=PAGE)
    # idle is defined as before: NEW-1 (0 h) and PART-1 (30 h) join AG-1, GC-1, RADAR-1
    assert headline(at)["低效运行仪器"][0] == "5"
    valuable, idle = at.dataframe[2].value, at.dataframe[3].value
    assert idle["仪器编号"].tolist() == ["NEW-1", "PART-1", "AG-1", "GC-1", "RADAR-1"]
    assert idle["有效机时（小时）"].tolist() == [0.0, 30.0, 120.0, 240.0, 600.0]
    assert idle["本年已报送月数"].tolist() == [0, 3, 12, 12, 12]
    # by value: RADAR-1 250万, NEW-1 200万, AG-1 100万, PART-1 50万, GC-1 8万
    assert valuable["仪器编号"].tolist() == ["RADAR-1", "NEW-1", "AG-1", "PART-1", "GC-1"]
    assert valuable["本年已报送月数"].tolist() == [12, 0, 12, 3, 12]
    note = ("其中 1 台全年未报送使用数据（“本年已报送月数”为 0）：它们的 0 小时是缺报，不能证明闲置；"
            "低效台数仍按同一口径计入。报送情况见“数据质量”页。")
    assert [c.value for c in at.caption].count(note) == 2  # under the valuable and the full idle list
    # the top-2 list (RADAR-1, NEW-1) still has the unreported NEW-1; the top-1 list has none
    set_number(at, "util_top", 1)
    assert [c.value for c in at.caption].count(note) == 1


def test_english_lists_name_the_unreported(monkeypatch, db_url):
    _store(db_url, fill=_with_gaps)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    idle = at.dataframe[3].value
    assert idle["Months reported"].tolist() == [0, 3, 12, 12, 12]
    assert any(c.value.startswith("1 of them reported no usage all year (0 months reported)") for c in at.caption)


def test_operation_modes_side_by_side(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    modes = at.table[1].value.set_index("指标")
    assert list(modes.columns) == ["自营", "代理", "融资租赁"]
    assert modes.loc["仪器数（台套）"].tolist() == ["3", "1", "0"]
    assert modes.loc["机时利用率（%）"].tolist() == ["56.7", "8.6", "—"]
    assert modes.loc["有效机时（小时）"].tolist() == ["2,040.0", "120.0", "0.0"]
    assert modes.loc["有效机时同比（%）"].tolist() == ["+240.0", "—", "—"]  # 自营 600 → 2040 h; 代理 0 h last year


def test_distribution_and_monthly_trend_charts(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    dist = next(chart_data(c) for c in at.get("vega_lite_chart") if "load_order" in chart_data(c))
    shown = dist[dist["instruments"] > 0]
    # HPLC-1 1200/1400 = 85.7 % (saturated), GC-1 17.1 %, RADAR-1 75 %, AG-1 8.6 %.
    assert sorted(zip(shown["label"], shown["load"], shown["instruments"])) == [
        ("0–10%", "低效", 1), ("10–20%", "低效", 1), ("70–80%", "低效", 1), ("80–90%", "饱和", 1)]
    trend = trend_chart(at)
    assert sorted(trend["series"].unique()) == ["2024 年", "2025 年"]
    assert trend[trend["series"] == "2025 年"]["value"].tolist() == [180.0] * 12  # 100 + 20 + 50 + 10
    assert trend[trend["series"] == "2024 年"]["value"].tolist() == [50.0] * 12
    at.radio(key=wkey(at, "util_trend_measure")).set_value("utilisation").run()
    trend = trend_chart(at)
    assert trend[trend["series"] == "2025 年"]["value"].tolist() == [43.2] * 12  # 180 × 12 / 5000
    assert trend[trend["series"] == "2024 年"]["value"].tolist() == [12.0] * 12  # 50 × 12 / 5000
    assert trend["month_label"].tolist()[:2] == ["1月", "2月"]


def test_definitions_quote_the_lines_in_force(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    table = at.expander[0].table[0].value
    assert list(table.columns) == ["指标", "计算公式", "单位", "来源"]
    rows = table.set_index("指标")
    assert "Σ 有效机时 ÷ Σ 额定机时" in rows.loc["机时利用率", "计算公式"]
    assert "待报废" in rows.loc["统计范围（在用仪器）", "计算公式"]
    assert "免于开放的仪器仍在使用，照常计入" in rows.loc["统计范围（在用仪器）", "计算公式"]
    assert "有效机时低于 800 小时" in rows.loc["低效运行仪器", "计算公式"]
    assert "≥ 1,200 小时" in rows.loc["饱和运行仪器", "计算公式"]
    assert "Σ 对外服务机时 ÷ Σ 有效机时" in rows.loc["对外服务占比", "计算公式"]
    assert "财科教〔2019〕1号" in rows.loc["饱和运行仪器", "来源"]
    set_number(at, "util_saturation", 1000)
    rows = at.expander[0].table[0].value.set_index("指标")
    assert "≥ 1,000 小时" in rows.loc["饱和运行仪器", "计算公式"]


# ---- English ------------------------------------------------------------------------------------


def test_english_page(monkeypatch, db_url):
    ids = _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    assert at.title[0].value == "Utilisation"
    assert headline(at) == {
        "In service": ("4", "0"),
        "Utilisation": ("43.2%", "+31.2 pp"),
        "Avg hours": ("540", "+260.0%"),
        "External share": ("27.8%", "+27.8 pp"),
        "Idle": ("3", "-1"),
        "Saturated": ("1", "1"),
    }
    assert group_table(at)["Holding unit"].tolist() == ["额济纳旗气象站", "阿拉善盟测试研究院"]
    modes = at.table[1].value.set_index("Figure")
    assert list(modes.columns) == ["Self-operated", "Operated by an agent", "Finance lease"]
    assert modes.loc["Utilisation (%)"].tolist() == ["56.7", "8.6", "—"]
    set_number(at, "util_rated_general", 1000)
    assert values(at)["Utilisation"] == "56.8%"
    at.radio(key=wkey(at, "util_idle_rule")).set_value("share").run()
    assert values(at)["Idle"] == "2"
    rows = at.expander[0].table[0].value.set_index("Figure")
    assert "below 50% of rated hours (general-purpose 500 h, special-purpose 400 h)" in rows.loc[
        "Idle (low-use) instruments", "Formula"]
    at.selectbox(key=wkey(at, "util_dimension")).set_value("class").run()
    assert group_table(at)["Instrument class"].tolist() == ["01 Analytical instruments", "07 Atmospheric sounding instruments"]
    at.selectbox(key=wkey(at, "util_drill_class")).set_value("07").run()
    drill = drill_table(at)
    assert drill["Instrument ID"].tolist() == ["RADAR-1"]
    assert drill["Load"].tolist() == ["Normal"]  # 600 h ≥ 50 % of 800 h
    assert ids["radar"]
    trend = trend_chart(at)
    assert sorted(trend["series"].unique()) == ["2024", "2025"]
    assert trend["month_label"].tolist()[:2] == ["Jan", "Feb"]


def test_language_switch_keeps_the_settings(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    set_number(at, "util_rated_general", 1000)
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception
    assert values(at)["Utilisation"] == "56.8%"


# ---- empty states ---------------------------------------------------------------------------------


def test_empty_registry(monkeypatch, db_url):
    _store(db_url, fill=lambda eng: add_unit(eng, "空单位"))
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert at.info[0].value.startswith("仪器名录为空")
    assert not at.metric and not at.dataframe


def test_registry_without_usage(monkeypatch, db_url):
    def registry_only(eng):
        unit = add_unit(eng, "阿拉善盟测试研究院")
        add_instrument(eng, unit, "HPLC-1", "高效液相色谱仪")

    _store(db_url, fill=registry_only)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    assert at.info[0].value.startswith("There are no monthly usage records yet")
    assert not at.metric


def test_no_previous_year_leaves_the_changes_blank(monkeypatch, db_url):
    _store(db_url, fill=_only_2025)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert headline(at) == {
        "在用仪器": ("1", ""), "机时利用率": ("85.7%", ""), "平均有效机时": ("1,200", ""),
        "对外服务占比": ("40.0%", ""), "低效运行仪器": ("0", ""), "饱和运行仪器": ("1", ""),
    }
    assert "没有 2024 年的使用记录，同比数据留空。" in [c.value for c in at.caption]
    row = group_table(at).iloc[0]
    assert pd.isna(row["有效机时同比（%）"]) and pd.isna(row["利用率变化（百分点）"])
    assert "按当前低效线，没有低效运行的在用仪器。" in [i.value for i in at.info]
    assert sorted(trend_chart(at)["series"].unique()) == ["2025 年"]


def test_everything_scrapped(monkeypatch, db_url):
    def scrapped(eng):
        unit = add_unit(eng, "阿拉善盟测试研究院")
        old = add_instrument(eng, unit, "OLD-1", "老旧仪器", status="待报废")
        add_usage(eng, old, 2025, [10.0])

    _store(db_url, fill=scrapped)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert at.info[0].value == "2025 年度没有在用仪器（名录中的仪器均为待报废或尚未启用）。"
    assert not at.metric
