"""Display shaping of the overview page (dashboard/ui/overview_view.py), on literal frames.

The figures are worked out by hand from the rows below; no store is involved."""

from __future__ import annotations

import math

import pandas as pd

from dashboard.census import Kpis
from dashboard.i18n import Translator
from dashboard.ui import overview_view as V

ZH, EN = Translator("zh"), Translator("en")

# Three instruments of 2025 in small_registry: 318万元, 1 of 3 open, 2040 h over 3 instruments
# (680 h each) against rated 1400 + 1400 + 800 (1200 h each), 480 external hours, 2 below 800 h.
KPIS = Kpis(instruments=3, total_value_cny=3_180_000.0, open_count=1, open_eligible=3, open_share=1 / 3,
            avg_effective_hours=680.0, avg_rated_hours=1200.0, external_hours=480.0, idle_count=2,
            in_service_count=3)

# Four instruments: two classes (01 has an English name, 07 has none), three unit types,
# three fundings and every value band (40,000 lies under the 50,000 census floor).
ANNUAL = pd.DataFrame({
    "class_code": ["010501", "010502", "070401", "010101"],
    "unit_type": ["科研院所", "科研院所", "其他", "企业"],
    "funding": ["地方财政资金", "单位自有资金", "中央财政资金", "地方财政资金"],
    "original_value": [600_000.0, 80_000.0, 2_500_000.0, 40_000.0],
})
CLASSES = pd.DataFrame({"code": ["01", "07"], "name_zh": ["分析仪器", "大气探测仪器"],
                        "name_en": ["Analytical instruments", ""]})


def test_kpi_cards_in_chinese():
    cards = V.kpi_cards(KPIS, ZH, year_known=True)
    assert [(label, value) for label, value, _ in cards] == [
        ("仪器数量", "3"),
        ("仪器原值合计", "318万元"),
        ("对外开放比例", "33.3%"),
        ("平均有效机时 / 平均额定机时", "680 / 1,200 小时"),
        ("对外服务机时合计", "480 小时"),
        ("低效运行仪器", "2"),
    ]
    helps = [help_text for _, _, help_text in cards]
    assert helps[0] == ZH("overview.kpi.instruments.formula")
    assert helps[2] == ZH("overview.kpi.open_share.formula") + "\n\n3 台在用且非免于开放的仪器中 1 台外部共享"
    assert helps[5].endswith("\n\n在用仪器共 3 台")


def test_every_kpi_card_help_gives_its_formula_with_the_policy_numbers():
    """The ? of each card shows the formula of the definitions table, policy numbers filled in."""
    for lang in (ZH, EN):
        cards = V.kpi_cards(KPIS, lang, year_known=True)
        formulas = V.definitions_table(lang).iloc[:, 1].tolist()
        assert len(cards) == len(formulas)
        for (_, _, help_text), formula in zip(cards, formulas):
            assert help_text.startswith(formula)
            assert "{" not in help_text
    assert "800" in V.kpi_cards(KPIS, ZH, year_known=True)[5][2]  # the low-use line in force


def test_kpi_card_helps_name_the_in_service_scope():
    """5 instruments of which 1 awaits scrapping: the hour cards say they cover the other 4."""
    k = Kpis(instruments=5, total_value_cny=1_000_000.0, open_count=2, open_eligible=3, open_share=2 / 3,
             avg_effective_hours=500.0, avg_rated_hours=1100.0, external_hours=120.0, idle_count=3, in_service_count=4)
    helps = {label: help_text.split("\n\n")[-1] for label, _, help_text in V.kpi_cards(k, EN, year_known=True)}
    assert helps["Avg effective hours / avg rated hours"] == "Mean over 4 instruments in service (1 awaiting scrapping left out)"
    assert helps["External-service hours"] == "Sum over 4 instruments in service (1 awaiting scrapping left out)"
    assert helps["Open to outside users"] == "2 of 3 in-service, non-exempt instruments are open to outside users"


def test_kpi_cards_without_a_usage_year_show_hour_figures_as_missing():
    values = {label: value for label, value, _ in V.kpi_cards(KPIS, EN, year_known=False)}
    assert values == {
        "Instruments": "3",
        "Total original value": "CNY 3.18 million",
        "Open to outside users": "33.3%",
        "Avg effective hours / avg rated hours": "—",
        "External-service hours": "—",
        "Low-use instruments": "—",
    }


def test_kpi_cards_of_an_empty_year_have_no_average():
    empty = Kpis(0, 0.0, 0, 0, None, None, None, 0.0, 0, 0)
    values = [value for _, value, _ in V.kpi_cards(empty, EN, year_known=True)]
    assert values == ["0", "CNY 0", "—", "—", "0 h", "0"]


def test_definitions_table_quotes_the_policy_numbers():
    table = V.definitions_table(EN)
    assert list(table.columns) == ["Indicator", "Formula", "Unit", "Source"]
    assert table["Indicator"].tolist() == [
        "Instruments", "Total original value", "Open to outside users",
        "Avg effective hours / avg rated hours", "External-service hours", "Low-use instruments"]
    formula = dict(zip(table["Indicator"], table["Formula"]))
    assert "general purpose 1400 h/yr, special purpose 800 h/yr" in formula["Avg effective hours / avg rated hours"]
    assert "fewer than 800 effective hours" in formula["Low-use instruments"]
    assert table.loc[table["Indicator"] == "Low-use instruments", "Unit"].item() == "instruments"
    # The scope of each figure is stated: the register for count and value, in service for the rest.
    assert "awaiting scrapping" in formula["Instruments"] and "awaiting scrapping" in formula["Open to outside users"]
    for hours in ("Avg effective hours / avg rated hours", "External-service hours", "Low-use instruments"):
        assert "instruments in service" in formula[hours] or "In-service instruments" in formula[hours], hours
    # No promise of a settings page: the low-use line is the default of dashboard/policy.py.
    source = dict(zip(table["Indicator"], table["Source"]))["Low-use instruments"]
    assert "by default 800 h/yr" in source and "dashboard/policy.py" in source and "editable" not in source


def test_definitions_in_chinese_state_the_scope_and_the_default_line():
    table = V.definitions_table(ZH)
    formula = dict(zip(table["指标"], table["计算公式"]))
    assert "在用仪器" in formula["平均有效机时 / 平均额定机时"] and "在用仪器" in formula["对外服务机时合计"]
    assert "在用" in formula["对外开放比例"] and "待报废" in formula["仪器数量"]
    source = dict(zip(table["指标"], table["来源"]))["低效运行仪器"]
    assert "默认 800 小时/年" in source and "dashboard/policy.py" in source and "政策参数中修改" not in source


def test_axis_titles_cover_every_chart_field():
    titles = V.axis_titles(ZH)
    assert set(titles) == {"instruments", "value_wan", "units", "region", "unit", "unit_instruments", "category"}
    assert (titles["value_wan"], titles["region"]) == ("原值（万元）", "旗区")


def test_chart_frame_converts_yuan_to_wan():
    counts = pd.DataFrame({"key": ["a", "b"], "instruments": [2, 1], "value_cny": [680_000.0, 2_500_000.0]})
    frame = V.chart_frame(counts, pd.Series(["A", "B"]))
    assert frame.to_dict("list") == {"label": ["A", "B"], "instruments": [2, 1], "value_wan": [68.0, 250.0]}


def rows(frame: pd.DataFrame) -> list[list]:
    return frame[["label", "instruments", "value_wan"]].values.tolist()


def test_distributions_in_english_with_chinese_fallback_for_unnamed_classes():
    dists = dict(V.labelled_distributions(ANNUAL, CLASSES, EN))
    assert list(dists) == ["overview.dist.class", "overview.dist.unit_type", "overview.dist.value_band", "overview.dist.funding"]
    # class 01: 600,000 + 80,000 + 40,000 = 72万元; class 07 has no English name.
    assert rows(dists["overview.dist.class"]) == [["01 Analytical instruments", 3, 72.0], ["07 大气探测仪器", 1, 250.0]]
    # national order of unit types: 科研院所 before 企业 before 其他
    assert rows(dists["overview.dist.unit_type"]) == [
        ["Research institute", 2, 68.0], ["Enterprise", 1, 4.0], ["Other", 1, 250.0]]
    # bands 50k/100k/500k/2M; the band under the floor shows because it holds 40,000
    assert rows(dists["overview.dist.value_band"]) == [
        ["< CNY 50k", 1, 4.0], ["CNY 50k–100k", 1, 8.0], ["CNY 100k–500k", 0, 0.0],
        ["CNY 500k–2M", 1, 60.0], ["≥ CNY 2M", 1, 250.0]]
    assert rows(dists["overview.dist.funding"]) == [
        ["Central government funds", 1, 250.0], ["Local government funds", 2, 64.0], ["Unit's own funds", 1, 8.0]]


def test_distributions_in_chinese():
    dists = dict(V.labelled_distributions(ANNUAL, CLASSES, ZH))
    assert dists["overview.dist.class"]["label"].tolist() == ["01 分析仪器", "07 大气探测仪器"]
    assert dists["overview.dist.unit_type"]["label"].tolist() == ["科研院所", "企业", "其他"]
    assert dists["overview.dist.value_band"]["label"].tolist() == ["<5万元", "5–10万元", "10–50万元", "50–200万元", "≥200万元"]


# Two banners and a zone inside 阿拉善左旗; unit 2 sits in the zone without coordinates, unit 3 holds nothing.
REGIONS = pd.DataFrame({
    "code": ["152921", "152923", "152971"],
    "name_zh": ["阿拉善左旗", "额济纳旗", "阿拉善经济开发区"],
    "name_en": ["Alxa Left Banner", "Ejin Banner", "Alxa Economic Development Zone"],
    "kind": ["banner", "banner", "zone"],
    "within": ["152921", "152923", "152921"],
    "lat": [38.83, 41.95, 39.21],
    "lon": [105.67, 101.06, 105.85],
})
UNITS = pd.DataFrame({
    "id": [1, 2, 3],
    "name": ["测试研究院", "开发区检测站", "额济纳旗气象站"],
    "name_en": ["Test Institute", None, None],
    "region_code": ["152921", "152971", "152923"],
    "lat": [38.84, math.nan, math.nan],
    "lon": [105.67, math.nan, math.nan],
})
HOLDINGS = pd.DataFrame({
    "unit_id": [1, 1, 2],
    "region_code": ["152921", "152921", "152971"],
    "original_value": [600_000.0, 80_000.0, 2_500_000.0],
})


def test_map_frames_roll_zones_into_banners_and_label_in_english():
    banners, points = V.map_frames(HOLDINGS, UNITS, REGIONS, "en")
    assert banners[["code", "label", "instruments", "value_wan", "units"]].values.tolist() == [
        ["152921", "Alxa Left Banner", 3, 318.0, 2],  # the zone's instrument and unit count here
        ["152923", "Ejin Banner", 0, 0.0, 1],
    ]
    assert points[["label", "instruments", "value_wan", "lat", "lon"]].values.tolist() == [
        ["Test Institute", 2, 68.0, 38.84, 105.67],
        ["开发区检测站", 1, 250.0, 39.21, 105.85],  # no English name; placed at the zone seat
    ]


def test_map_frames_in_chinese():
    banners, points = V.map_frames(HOLDINGS, UNITS, REGIONS, "zh")
    assert banners["label"].tolist() == ["阿拉善左旗", "额济纳旗"]
    assert points["label"].tolist() == ["测试研究院", "开发区检测站"]
