"""The fee calculator on the registry page (instrument detail and class section), driven through
the whole app with AppTest. Expected figures are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date

import pandas as pd

from models.db import init_store, make_engine
from tests.apptest_utils import open_app, wkey
from tests.factories import add_instrument, add_unit, add_usage

PAGE = "pages/registry.py"
SEM_FEE = "参考收费300元/机时（不含耗材及特殊前处理）。"
MED_FEE = "按自治区医疗服务价格项目规范执行；科研合作另行协商。"


def fee_store(db_url) -> dict[str, int]:
    """Four instruments, usage in 2025 only.

    - SEM-1 (010101, 通用, 1,400,000 CNY, listed 300 元/机时): 10 months × 70 h = 700 h.
    - XRD-1 (010301, 通用, 700,000 CNY, 内部核算 100 元/机时): 12 × 100 h = 1200 h.
    - MED-1 (011001, 专用, 280,000 CNY, non-numeric medical fee rule): no usage (0 h).
    - RADAR-1 (070401, 专用, 2,500,000 CNY, no fee text): 12 × 50 h = 600 h.
    """
    eng = make_engine(db_url)
    init_store(eng)
    u1 = add_unit(eng, "阿拉善盟测试研究院", region_code="152921")
    u2 = add_unit(eng, "额济纳旗气象站", unit_type="其他", region_code="152923")
    ids = {
        "sem": add_instrument(eng, u1, "SEM-1", "扫描电子显微镜", name_en="Scanning electron microscope",
                              class_code="010101", original_value=1_400_000, fee_standard=SEM_FEE),
        "xrd": add_instrument(eng, u1, "XRD-1", "X射线衍射仪", name_en="X-ray diffractometer", class_code="010301",
                              original_value=700_000, share_mode="内部共享", fee_standard="内部核算100元/机时。"),
        "med": add_instrument(eng, u1, "MED-1", "全自动生化分析仪", class_code="011001", original_value=280_000,
                              purpose="专用", fee_standard=MED_FEE, start_date=date(2020, 3, 1)),
        "radar": add_instrument(eng, u2, "RADAR-1", "多普勒天气雷达", class_code="070401", original_value=2_500_000,
                                purpose="专用", share_mode="不共享", region_code="152923", fee_standard=""),
    }
    add_usage(eng, ids["sem"], 2025, [70.0] * 10)
    add_usage(eng, ids["xrd"], 2025, [100.0] * 12)
    add_usage(eng, ids["radar"], 2025, [50.0] * 12)
    eng.dispose()
    return ids


def table_with(at, header: str) -> pd.DataFrame:
    """The st.table whose columns include `header` (the first one)."""
    return next(t.value for t in at.table if header in t.value.columns)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def markdown_texts(at) -> list[str]:
    return [m.value for m in at.markdown]


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def set_number(at, name: str, value: float):
    at.number_input(key=wkey(at, name)).set_value(value).run()
    assert not at.exception, [e.message for e in at.exception]


def choose(at, ids, which: str):
    at.selectbox(key=wkey(at, "registry_selected")).set_value(ids[which]).run()
    assert not at.exception, [e.message for e in at.exception]


def test_detail_breakdown_and_comparison_with_the_defaults(monkeypatch, db_url):
    ids = fee_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    choose(at, ids, "sem")
    breakdown = table_with(at, "算式").set_index("成本项目")
    # 1,400,000 / 10 / 1400 = 100; × 6 % / 1400 = 60; 60,000 / 1400 = 42.857; 0; 2 × 0.6 = 1.2
    assert breakdown["元/机时"].tolist() == ["100.00", "60.00", "42.86", "0.00", "1.20", "204.06"]
    # SEM started 2018-05-01 (factory default): 7 years in service in 2025, inside the 10-year life
    assert breakdown.loc["折旧", "算式"] == ("原值 1,400,000 元 × (1 − 残值率 0%) ÷ 10 年 ÷ 1,400 小时"
                                           "（至2025年已使用 7 年，未满折旧年限 10 年）")
    assert breakdown.loc["维修维护", "算式"] == "原值 1,400,000 元 × 6%/年 ÷ 1,400 小时"
    assert breakdown.loc["人员", "算式"] == "60,000 元/年 ÷ 1,400 小时"
    assert breakdown.loc["电费", "算式"] == "2 kW × 0.6 元/kWh"
    # listed 300: 300 − 204.057 = +95.94; 300 / 204.057 = 147.0 % -> above cost
    assert metrics(at) == {"成本价（元/机时）": "204.06", "参考收费（元/机时）": "300.00",
                           "差额（收费 − 成本）": "+95.94", "收费 ÷ 成本": "147.0%"}
    assert "判定：:red-badge[高于成本]" in markdown_texts(at)
    assert f"参考收费标准原文：{SEM_FEE}" in captions(at)
    # low use: 700 h in 2025 -> 200 + 120 + 85.714 + 0 + 1.2 = 406.91, 406.914 / 204.057 = 1.99 times
    assert any("2025年实际有效机时 700 小时" in c and "406.91 元/机时" in c and "1.99 倍" in c for c in captions(at))
    # the sources of every default are shown, local choices marked [I]
    sources = table_with(at, "依据").set_index("参数")
    assert sources.loc["年维修维护费率", "默认值"] == "6%"
    assert sources.loc["电价（元/kWh）", "依据"].startswith("[I]")
    assert not at.warning


def test_edited_inputs_and_band_change_the_breakdown_and_verdict(monkeypatch, db_url):
    ids = fee_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    choose(at, ids, "sem")
    set_number(at, "fees_detail_staff", 70_000)
    set_number(at, "fees_detail_consumables", 30)
    set_number(at, "fees_detail_power", 2.5)
    set_number(at, "fees_detail_price", 0.8)
    # 100 + 60 + 70,000/1400 = 50 + 30 + 2.5 × 0.8 = 2 -> 242
    breakdown = table_with(at, "算式").set_index("成本项目")
    assert breakdown["元/机时"].tolist() == ["100.00", "60.00", "50.00", "30.00", "2.00", "242.00"]
    assert breakdown.loc["耗材", "算式"] == "每机时 30 元，直接计入"
    # 300 − 242 = 58; 300 / 242 = 124.0 % -> above the default ±20 % band
    assert metrics(at)["差额（收费 − 成本）"] == "+58.00"
    assert metrics(at)["收费 ÷ 成本"] == "124.0%"
    assert "判定：:red-badge[高于成本]" in markdown_texts(at)
    set_number(at, "fees_detail_band", 25)
    assert "判定：:green-badge[接近成本]" in markdown_texts(at)
    assert any("低于 75% 为低于成本，75%–125% 为接近成本" in c for c in captions(at))
    # residual 10 %: 1,400,000 × 0.9 / 10 / 1400 = 90; 12-year life: 1,260,000 / 12 / 1400 = 75
    set_number(at, "fees_detail_residual", 10)
    set_number(at, "fees_detail_years", 12)
    set_number(at, "fees_detail_maintenance", 5)  # 70,000 / 1400 = 50
    breakdown = table_with(at, "算式").set_index("成本项目")
    assert breakdown.loc["折旧", "元/机时"] == "75.00"
    assert breakdown.loc["折旧", "算式"] == ("原值 1,400,000 元 × (1 − 残值率 10%) ÷ 12 年 ÷ 1,400 小时"
                                           "（至2025年已使用 7 年，未满折旧年限 12 年）")
    assert breakdown.loc["维修维护", "元/机时"] == "50.00"
    assert breakdown.loc["每机时成本价", "元/机时"] == "207.00"  # 75 + 50 + 50 + 30 + 2


def test_rated_hours_and_effective_hours_divisor(monkeypatch, db_url):
    ids = fee_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    choose(at, ids, "sem")
    set_number(at, "fees_detail_rated_general", 1000)
    # 140 + 84 + 60 + 0 + 1.2 = 285.2
    assert table_with(at, "算式").set_index("成本项目").loc["每机时成本价", "元/机时"] == "285.20"
    set_number(at, "fees_detail_rated_general", 1400)
    at.radio(key=wkey(at, "fees_detail_basis")).set_value("effective").run()
    # 700 effective hours: 200 + 120 + 85.714 + 0 + 1.2 = 406.91; listed 300 -> −106.91, 73.7 % -> below
    breakdown = table_with(at, "算式").set_index("成本项目")
    assert breakdown["元/机时"].tolist() == ["200.00", "120.00", "85.71", "0.00", "1.20", "406.91"]
    assert breakdown.loc["人员", "算式"] == "60,000 元/年 ÷ 700 小时"
    assert metrics(at)["差额（收费 − 成本）"] == "-106.91"
    assert metrics(at)["收费 ÷ 成本"] == "73.7%"
    assert "判定：:orange-badge[低于成本]" in markdown_texts(at)
    # the other basis, for comparison: 204.057 / 406.914 = 0.50
    assert any("如按额定机时 1,400 小时分摊，成本价为 204.06 元/机时" in c and "0.5 倍" in c for c in captions(at))


def test_zero_effective_hours_and_a_non_numeric_fee(monkeypatch, db_url):
    ids = fee_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    choose(at, ids, "med")
    # 专用, 800 rated hours: 280,000 / 10 / 800 = 35; 16,800 / 800 = 21; 60,000 / 800 = 75; 1.2 -> 132.2
    assert at.number_input(key=wkey(at, "fees_detail_rated_special")).value == 800
    assert table_with(at, "算式").set_index("成本项目").loc["每机时成本价", "元/机时"] == "132.20"
    assert metrics(at)["参考收费（元/机时）"] == "未标明"
    assert metrics(at)["收费 ÷ 成本"] == "—"
    assert "判定：:gray-badge[未标明按机时收费]" in markdown_texts(at)
    assert f"参考收费标准原文：{MED_FEE}" in captions(at)
    at.radio(key=wkey(at, "fees_detail_basis")).set_value("effective").run()
    assert not at.exception
    assert "2025年没有有效机时记录" in at.warning[0].value
    assert not any("算式" in t.value.columns for t in at.table)
    assert metrics(at)["成本价（元/机时）"] == "—"
    assert "判定：:gray-badge[无法测算成本]" in markdown_texts(at)


def class_rows(at) -> pd.DataFrame:
    return at.dataframe[1].value


def test_class_table_summary_and_verdicts(monkeypatch, db_url):
    fee_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert at.selectbox(key=wkey(at, "fees_class_code")).value == "01"
    # SEM 204.057 (listed 300, 147 % above); MED 专用 132.2 (no hourly fee);
    # XRD 700,000: 50 + 30 + 42.857 + 1.2 = 124.057 (listed 100: 80.6 % -> around)
    rows = class_rows(at)
    assert rows["内部编码"].tolist() == ["SEM-1", "MED-1", "XRD-1"]
    assert rows["成本价（元/机时）"].tolist() == [204.06, 132.2, 124.06]
    assert rows["额定机时（小时）"].tolist() == [1400.0, 800.0, 1400.0]
    assert rows["2025年有效机时（小时）"].tolist() == [700.0, 0.0, 1200.0]
    assert rows["原值（万元）"].tolist() == [140.0, 28.0, 70.0]
    # started 2018, 2020 and 2018: 7, 5 and 7 years in service in 2025, none fully depreciated
    assert rows["至2025年已使用（年）"].tolist() == [7.0, 5.0, 7.0]
    assert rows["已提足折旧"].tolist() == [False, False, False]
    assert "折旧按年直线法计提：截至2025年已使用满 10 年的 0 台套已提足折旧，折旧按 0 计。" in captions(at)
    assert rows["参考收费（元/机时）"].tolist()[::2] == [300.0, 100.0]
    assert pd.isna(rows["参考收费（元/机时）"].iloc[1])
    assert rows["收费 ÷ 成本（%）"].tolist()[::2] == [147.0, 80.6]
    assert rows["判定"].tolist() == ["高于成本", "未标明按机时收费", "接近成本"]
    summary = table_with(at, "中位数（元/机时）").set_index("项目")
    assert summary.loc["成本价"].tolist() == ["3", "132.20", "124.06", "204.06"]
    assert summary.loc["参考收费"].tolist() == ["2", "200.00", "100.00", "300.00"]
    assert ("低于成本 **0** 台套 · 接近成本 **1** 台套 · 高于成本 **1** 台套 · 未标明按机时收费 **1** 台套"
            " · 无法测算 **0** 台套") in markdown_texts(at)
    assert "**01 分析仪器**：共 **3** 台套" in markdown_texts(at)


def test_class_choice_inputs_and_effective_hours(monkeypatch, db_url):
    fee_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    at.selectbox(key=wkey(at, "fees_class_code")).set_value("0103").run()
    assert class_rows(at)["内部编码"].tolist() == ["XRD-1"]
    set_number(at, "fees_class_staff", 0)
    # 50 + 30 + 0 + 0 + 1.2 = 81.2; 100 / 81.2 = 123.2 % -> above
    rows = class_rows(at)
    assert rows["成本价（元/机时）"].tolist() == [81.2]
    assert rows["判定"].tolist() == ["高于成本"]
    at.selectbox(key=wkey(at, "fees_class_code")).set_value("01").run()
    at.radio(key=wkey(at, "fees_class_basis")).set_value("effective").run()
    # staff 0, effective hours: SEM 700 h: 200 + 120 + 1.2 = 321.2 (300/321.2 = 93.4 %, around);
    # XRD 1200 h: 58.333 + 35 + 1.2 = 94.53 (105.8 %, around); MED 0 h: not computable
    rows = class_rows(at)
    assert rows["内部编码"].tolist() == ["SEM-1", "XRD-1", "MED-1"]
    assert rows["成本价（元/机时）"].tolist()[:2] == [321.2, 94.53]
    assert pd.isna(rows["成本价（元/机时）"].iloc[2])
    assert rows["判定"].tolist() == ["接近成本", "接近成本", "无法测算成本"]
    assert any("其中 1 台套本年度没有有效机时" in c for c in captions(at))
    set_number(at, "fees_class_rated_special", 400)  # rated hours do not matter on effective hours
    assert class_rows(at)["成本价（元/机时）"].tolist()[:2] == [321.2, 94.53]
    at.radio(key=wkey(at, "fees_class_basis")).set_value("rated").run()
    # MED on 400 rated hours, staff 0: 280,000 / 10 / 400 = 70; 16,800 / 400 = 42; 1.2 -> 113.2
    rows = class_rows(at).set_index("内部编码")
    assert rows.loc["MED-1", "成本价（元/机时）"] == 113.2
    assert rows.loc["MED-1", "额定机时（小时）"] == 400.0


def test_english_detail_and_class_table(monkeypatch, db_url):
    ids = fee_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    choose(at, ids, "sem")
    breakdown = table_with(at, "Formula").set_index("Cost component")
    assert breakdown["CNY/h"].tolist() == ["100.00", "60.00", "42.86", "0.00", "1.20", "204.06"]
    assert breakdown.loc["Depreciation", "Formula"] == ("value CNY 1,400,000 × (1 − residual 0%) ÷ 10 years ÷ 1,400 h"
                                                        " (in service 7 years by 2025, within the 10-year depreciation period)")
    assert metrics(at) == {"Cost price (CNY/h)": "204.06", "Listed fee (CNY/h)": "300.00",
                           "Difference (fee − cost)": "+95.94", "Fee ÷ cost": "147.0%"}
    assert "Verdict: :red-badge[Above cost]" in markdown_texts(at)
    rows = class_rows(at)
    assert list(rows.columns) == ["Asset no.", "Instrument", "Cost price (CNY/h)", "Listed fee (CNY/h)", "Fee ÷ cost (%)",
                                  "Verdict", "Value (10k CNY)", "Years in service by 2025", "Fully depreciated",
                                  "Purpose", "Rated hours", "Effective hours 2025", "Holding unit"]
    assert rows["Instrument"].tolist() == ["Scanning electron microscope", "全自动生化分析仪", "X-ray diffractometer"]
    assert rows["Verdict"].tolist() == ["Above cost", "No hourly fee stated", "Around cost"]
    assert rows["Purpose"].tolist() == ["General purpose", "Special purpose", "General purpose"]
    summary = table_with(at, "Median (CNY/h)").set_index("Measure")
    assert summary.loc["Cost price", "Median (CNY/h)"] == "132.20"
    assert "**01 Analytical instruments**: **3** instruments" in markdown_texts(at)
    assert not at.warning


def test_edited_inputs_survive_a_language_switch(monkeypatch, db_url):
    ids = fee_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    choose(at, ids, "sem")
    set_number(at, "fees_detail_staff", 70_000)
    at.radio(key=wkey(at, "fees_detail_basis")).set_value("effective").run()
    set_number(at, "fees_class_consumables", 30)
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception and not at.warning
    assert at.number_input(key=wkey(at, "fees_detail_staff")).value == 70_000
    assert at.radio(key=wkey(at, "fees_detail_basis")).value == "effective"
    # 700 h: 200 + 120 + 100 + 0 + 1.2 = 421.2
    assert table_with(at, "Formula").set_index("Cost component").loc["Cost price per hour", "CNY/h"] == "421.20"
    # class consumables 30 on rated hours: SEM 204.057 + 30 = 234.06
    assert class_rows(at)["Cost price (CNY/h)"].tolist()[0] == 234.06


def test_rated_hours_input_follows_the_purpose_of_the_instrument(monkeypatch, db_url):
    ids = fee_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    choose(at, ids, "sem")
    set_number(at, "fees_detail_rated_general", 1000)
    choose(at, ids, "radar")
    # RADAR 专用 800 h: 312.5 + 187.5 + 75 + 0 + 1.2 = 576.2; no fee text
    assert at.number_input(key=wkey(at, "fees_detail_rated_special")).value == 800
    assert table_with(at, "算式").set_index("成本项目").loc["每机时成本价", "元/机时"] == "576.20"
    assert "该仪器未填写参考收费标准。" in captions(at)
    choose(at, ids, "sem")  # the edited general-purpose rated hours were kept
    assert at.number_input(key=wkey(at, "fees_detail_rated_general")).value == 1000
    assert table_with(at, "算式").set_index("成本项目").loc["每机时成本价", "元/机时"] == "285.20"


# ---- depreciation ends with the service life ---------------------------------------------------

AGED_FEE = "参考收费120元/机时"


def aged_store(db_url, with_usage: bool = True) -> dict[str, int]:
    """Four 通用 instruments of 1,400,000 CNY in class 0101, listed 120 元/机时, started 2016, 2015
    and 2014 (9, 10 and 11 years in service in 2025) and one without a start date; usage in 2024
    and 2025 (so both years can be chosen) unless `with_usage` is False (then no year exists).

    At the defaults (10-year life, 1400 rated hours) one hour costs
      in the service life:    100 + 60 + 42.857 + 0 + 1.2 = 204.06 -> 120 / 204.06 = 58.8 %, below cost
      fully depreciated:        0 + 60 + 42.857 + 0 + 1.2 = 104.06 -> 120 / 104.06 = 115.3 %, around cost
    """
    eng = make_engine(db_url)
    init_store(eng)
    unit = add_unit(eng, "阿拉善盟老仪器研究所", region_code="152921")
    common = dict(class_code="010101", original_value=1_400_000, fee_standard=AGED_FEE)
    ids = {
        "old9": add_instrument(eng, unit, "OLD-9", "场发射扫描电镜", name_en="Field-emission SEM",
                               start_date=date(2016, 6, 1), **common),
        "old10": add_instrument(eng, unit, "OLD-10", "透射电子显微镜", name_en="Transmission electron microscope",
                                start_date=date(2015, 1, 1), **common),
        "old11": add_instrument(eng, unit, "OLD-11", "激光共聚焦显微镜", name_en="Confocal laser microscope",
                                start_date=date(2014, 12, 31), **common),
        "nodate": add_instrument(eng, unit, "NODATE-1", "原子力显微镜", name_en="Atomic force microscope",
                                 start_date=None, **common),
    }
    if with_usage:
        add_usage(eng, ids["old9"], 2024, [50.0] * 12)
        add_usage(eng, ids["old9"], 2025, [50.0] * 12)
    eng.dispose()
    return ids


def depreciation_row(at, component: str = "折旧", header: str = "算式", value: str = "元/机时") -> tuple[str, str]:
    breakdown = table_with(at, header).set_index(table_with(at, header).columns[0])
    return breakdown.loc[component, header], breakdown.loc[component, value]


def test_fully_depreciated_instruments_carry_no_depreciation(monkeypatch, db_url):
    ids = aged_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    choose(at, ids, "old9")
    assert depreciation_row(at) == ("原值 1,400,000 元 × (1 − 残值率 0%) ÷ 10 年 ÷ 1,400 小时"
                                    "（至2025年已使用 9 年，未满折旧年限 10 年）", "100.00")
    assert metrics(at)["成本价（元/机时）"] == "204.06"
    assert "判定：:orange-badge[低于成本]" in markdown_texts(at)
    choose(at, ids, "old10")
    assert depreciation_row(at) == ("至2025年已使用 10 年 ≥ 折旧年限 10 年：已提足折旧，0 元/机时", "0.00")
    breakdown = table_with(at, "算式").set_index("成本项目")
    assert breakdown["元/机时"].tolist() == ["0.00", "60.00", "42.86", "0.00", "1.20", "104.06"]
    # 120 − 104.057 = +15.94; 120 / 104.057 = 115.3 % -> around cost
    assert metrics(at)["差额（收费 − 成本）"] == "+15.94"
    assert metrics(at)["收费 ÷ 成本"] == "115.3%"
    assert "判定：:green-badge[接近成本]" in markdown_texts(at)
    choose(at, ids, "old11")
    assert depreciation_row(at) == ("至2025年已使用 11 年 ≥ 折旧年限 10 年：已提足折旧，0 元/机时", "0.00")
    choose(at, ids, "nodate")
    assert depreciation_row(at) == ("原值 1,400,000 元 × (1 − 残值率 0%) ÷ 10 年 ÷ 1,400 小时"
                                    "（未填启用日期，无法判断是否已提足折旧，照常计提）", "100.00")


def test_the_sidebar_year_and_the_period_decide_full_depreciation(monkeypatch, db_url):
    ids = aged_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    choose(at, ids, "old10")
    at.sidebar.selectbox[0].set_value(2024).run()
    assert not at.exception
    # in 2024 OLD-10 has served 9 years: full depreciation again
    assert depreciation_row(at) == ("原值 1,400,000 元 × (1 − 残值率 0%) ÷ 10 年 ÷ 1,400 小时"
                                    "（至2024年已使用 9 年，未满折旧年限 10 年）", "100.00")
    at.sidebar.selectbox[0].set_value(2025).run()
    choose(at, ids, "old11")
    set_number(at, "fees_detail_years", 12)
    # a 12-year life: 11 years in service, still depreciating: 1,400,000 / 12 / 1400 = 83.33
    assert depreciation_row(at) == ("原值 1,400,000 元 × (1 − 残值率 0%) ÷ 12 年 ÷ 1,400 小时"
                                    "（至2025年已使用 11 年，未满折旧年限 12 年）", "83.33")
    choose(at, ids, "old10")
    set_number(at, "fees_detail_years", 10.5)
    # 10.5 years: the 11th year (10 in service) charges half: 1,400,000 / 10.5 × 0.5 / 1400 = 47.62
    assert depreciation_row(at) == ("原值 1,400,000 元 × (1 − 残值率 0%) ÷ 10.5 年 ÷ 1,400 小时 × 0.5"
                                    "（至2025年已使用 10 年，折旧年限 10.5 年：本年为最后一个折旧年度，只计提剩余的 0.5 年）",
                                    "47.62")


def test_class_table_shows_age_and_full_depreciation(monkeypatch, db_url):
    aged_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    rows = class_rows(at)
    # the two still depreciating first (204.06, in register order), then the fully depreciated (104.06)
    assert rows["内部编码"].tolist() == ["OLD-9", "NODATE-1", "OLD-10", "OLD-11"]
    assert rows["成本价（元/机时）"].tolist() == [204.06, 204.06, 104.06, 104.06]
    assert rows["至2025年已使用（年）"].tolist()[::2] == [9.0, 10.0] and rows["至2025年已使用（年）"].iloc[3] == 11.0
    assert pd.isna(rows["至2025年已使用（年）"].iloc[1])
    assert rows["已提足折旧"].tolist() == [False, False, True, True]
    assert rows["收费 ÷ 成本（%）"].tolist() == [58.8, 58.8, 115.3, 115.3]
    assert rows["判定"].tolist() == ["低于成本", "低于成本", "接近成本", "接近成本"]
    assert ("低于成本 **2** 台套 · 接近成本 **2** 台套 · 高于成本 **0** 台套 · 未标明按机时收费 **0** 台套"
            " · 无法测算 **0** 台套") in markdown_texts(at)
    assert ("折旧按年直线法计提：截至2025年已使用满 10 年的 2 台套已提足折旧，折旧按 0 计。"
            "另有 1 台套未填启用日期，照常计提折旧。") in captions(at)
    # 2024: ages 8, 9, 10 -> only OLD-11 is fully depreciated
    at.sidebar.selectbox[0].set_value(2024).run()
    rows = class_rows(at).set_index("内部编码")
    assert rows["已提足折旧"].to_dict() == {"OLD-9": False, "NODATE-1": False, "OLD-10": False, "OLD-11": True}
    assert rows.loc["OLD-10", "成本价（元/机时）"] == 204.06
    assert rows.loc["OLD-11", "至2024年已使用（年）"] == 10.0


def test_fully_depreciated_in_english(monkeypatch, db_url):
    ids = aged_store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    choose(at, ids, "old11")
    assert depreciation_row(at, "Depreciation", "Formula", "CNY/h") == (
        "in service 11 years by 2025 ≥ depreciation period 10 years: fully depreciated, CNY 0/h", "0.00")
    choose(at, ids, "nodate")
    formula, value = depreciation_row(at, "Depreciation", "Formula", "CNY/h")
    assert formula.endswith("(no start date recorded: whether it is fully depreciated cannot be told, "
                            "so depreciation is charged)") and value == "100.00"
    rows = class_rows(at)
    assert rows["Fully depreciated"].tolist() == [False, False, True, True]
    assert ("Straight-line depreciation by whole years: 2 instruments in service for 10 years or more by 2025 are "
            "fully depreciated and carry no depreciation. Without a start date, so charged depreciation in full: 1.") in captions(at)


def test_without_a_year_depreciation_is_charged_and_the_page_says_so(monkeypatch, db_url):
    ids = aged_store(db_url, with_usage=False)
    at = open_app(monkeypatch, db_url, page=PAGE)
    choose(at, ids, "old11")
    assert depreciation_row(at) == ("原值 1,400,000 元 × (1 − 残值率 0%) ÷ 10 年 ÷ 1,400 小时"
                                    "（未选年度，无法判断是否已提足折旧，照常计提）", "100.00")
    rows = class_rows(at)
    assert rows["已使用（年）"].isna().all()
    assert not rows["已提足折旧"].any()
    assert "未选年度，无法判断仪器是否已使用满 10 年，折旧一律照常计提。" in captions(at)
