"""Census statistics, checked against hand-worked numbers.

small_registry (tests/factories.py), 2025: HPLC-1 通用 600,000 CNY 外部共享 1200 h (480 external);
GC-1 通用 80,000 内部共享 240 h; RADAR-1 专用 2,500,000 不共享 600 h (额济纳旗). 2024: HPLC-1 600 h only.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard import census as C
from dashboard.policy import PolicyDefaults
from models import queries as Q
from tests.factories import add_instrument, add_unit, small_registry


def frames(engine):
    return {
        "instruments": Q.instruments(engine),
        "usage": Q.usage_by_instrument_year(engine),
        "units": Q.units(engine),
        "regions": Q.regions(engine),
        "classes": Q.instrument_classes(engine),
    }


def literal_instruments(rows: list[dict]) -> pd.DataFrame:
    """Instrument rows as the instruments query returns them, with defaults for unnamed columns."""
    defaults = {"unit_id": 1, "class_code": "010501", "original_value": 100_000.0, "purpose": "通用",
                "share_mode": "外部共享", "status": "正常", "exempt_reason": "", "region_code": "152921",
                "start_date": pd.Timestamp("2018-05-01"), "funding": "地方财政资金", "unit_type": "高校"}
    out = pd.DataFrame([{**defaults, "inner_id": f"I-{r['id']}", **r} for r in rows])
    out["start_date"] = pd.to_datetime(out["start_date"])
    return out


def literal_usage(rows: list[tuple[int, int, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["instrument_id", "year", "effective_hours", "external_hours"])


# ---- annual frame and KPIs on the hand-made registry -----------------------------------------


def test_annual_frame_rated_hours_and_utilisation(engine):
    ids = small_registry(engine)
    f = frames(engine)
    annual = C.annual_frame(f["instruments"], f["usage"], 2025).set_index("id")
    assert annual.loc[ids["hplc"], "rated_hours"] == 1400
    assert annual.loc[ids["radar"], "rated_hours"] == 800
    assert annual.loc[ids["hplc"], "utilisation"] == pytest.approx(1200 / 1400)
    assert annual.loc[ids["radar"], "utilisation"] == pytest.approx(600 / 800)
    assert annual.loc[ids["gc"], "external_hours"] == 0
    assert annual.loc[ids["hplc"], "external_hours"] == 480


def test_kpis_2025(engine):
    small_registry(engine)
    f = frames(engine)
    k = C.kpis(C.annual_frame(f["instruments"], f["usage"], 2025))
    assert k.instruments == 3
    assert k.total_value_cny == 3_180_000
    assert (k.open_count, k.open_eligible) == (1, 3)
    assert k.open_share == pytest.approx(1 / 3)
    assert k.avg_effective_hours == pytest.approx((1200 + 240 + 600) / 3)  # 680
    assert k.avg_rated_hours == pytest.approx((1400 + 1400 + 800) / 3)  # 1200
    assert k.external_hours == 480
    assert k.idle_count == 2  # GC-1 240 h and RADAR-1 600 h are below 800 h
    assert k.in_service_count == 3


def test_kpis_2024_count_instruments_without_usage_as_zero_hours(engine):
    small_registry(engine)
    f = frames(engine)
    k = C.kpis(C.annual_frame(f["instruments"], f["usage"], 2024))
    assert k.instruments == 3
    assert k.avg_effective_hours == pytest.approx(600 / 3)  # GC-1 and RADAR-1 have no 2024 rows
    assert k.external_hours == 0
    assert k.idle_count == 3  # HPLC-1 600 h, the others 0 h


def test_instrument_commissioned_after_the_year_is_not_in_that_years_census(engine):
    ids = small_registry(engine)
    add_instrument(engine, ids["unit1"], "NEW-1", "新仪器", original_value=1_000_000, start_date=pd.Timestamp("2025-03-01").date())
    f = frames(engine)
    assert C.kpis(C.annual_frame(f["instruments"], f["usage"], 2024)).instruments == 3
    k2025 = C.kpis(C.annual_frame(f["instruments"], f["usage"], 2025))
    assert k2025.instruments == 4
    assert k2025.total_value_cny == 4_180_000
    assert k2025.idle_count == 3  # the new instrument has no usage: 0 h


# ---- exemption, idle line, scrapping ---------------------------------------------------------


def test_exempt_instruments_are_left_out_of_the_open_share_denominator():
    inst = literal_instruments([
        {"id": 1, "share_mode": "外部共享"},
        {"id": 2, "share_mode": "外部共享", "exempt_reason": "国防"},
        {"id": 3, "share_mode": "不共享", "exempt_reason": "国家安全"},
        {"id": 4, "share_mode": "不共享"},
    ])
    k = C.kpis(C.annual_frame(inst, literal_usage([]), 2025))
    assert (k.open_count, k.open_eligible) == (1, 2)
    assert k.open_share == 0.5  # 2/4 if the exempt ones counted
    assert k.instruments == 4  # exempt instruments stay in the census


def test_open_share_is_none_when_every_instrument_is_exempt():
    inst = literal_instruments([{"id": 1, "exempt_reason": "国防"}])
    assert C.kpis(C.annual_frame(inst, literal_usage([]), 2025)).open_share is None


def test_idle_count_uses_the_low_use_line_and_skips_instruments_awaiting_scrapping():
    inst = literal_instruments([
        {"id": 1},  # 799.5 h: idle
        {"id": 2},  # exactly 800 h: not below the line
        {"id": 3, "status": "待报废"},  # 0 h but awaiting scrapping: not counted
        {"id": 4, "status": "待修"},  # 0 h, no rows: idle (still part of the working stock)
    ])
    usage = literal_usage([(1, 2025, 799.5, 0.0), (2, 2025, 800.0, 0.0), (1, 2024, 5000.0, 0.0)])
    annual = C.annual_frame(inst, usage, 2025)
    k = C.kpis(annual)
    assert k.idle_count == 2
    assert k.in_service_count == 3
    stricter = PolicyDefaults(low_use_hours=1000)
    assert C.kpis(annual, stricter).idle_count == 3


def test_hours_and_openness_cover_instruments_in_service_the_census_covers_all():
    """One scope (as the utilisation page and the evaluation): count and value over the register;
    hours over instruments in service (exempt ones stay in); open share over in-service non-exempt.

    1 通用 外部共享 1000 h (200 external); 2 专用 不共享 400 h; 3 通用 外部共享 待报废 300 h (100
    external); 4 专用 外部共享 exempt 600 h (50 external). Register: 4 instruments, 40万元.
    In service 1, 2, 4: mean effective (1000 + 400 + 600) / 3 = 666.7 h, mean rated (1400 + 800 +
    800) / 3 = 1000 h, external 200 + 50 = 250 h, idle 2 and 4. Open base 1, 2: 1 of 2 open.
    (Counting the whole register would give 575 h, 350 h external and 2 of 3 open.)"""
    inst = literal_instruments([
        {"id": 1},
        {"id": 2, "purpose": "专用", "share_mode": "不共享"},
        {"id": 3, "status": "待报废"},
        {"id": 4, "purpose": "专用", "exempt_reason": "国防"},
    ])
    usage = literal_usage([(1, 2025, 1000.0, 200.0), (2, 2025, 400.0, 0.0), (3, 2025, 300.0, 100.0),
                           (4, 2025, 600.0, 50.0)])
    k = C.kpis(C.annual_frame(inst, usage, 2025))
    assert (k.instruments, k.total_value_cny, k.in_service_count) == (4, 400_000, 3)
    assert k.avg_effective_hours == pytest.approx(2000 / 3)
    assert k.avg_rated_hours == 1000
    assert k.external_hours == 250
    assert k.idle_count == 2
    assert (k.open_count, k.open_eligible, k.open_share) == (1, 2, 0.5)


def test_a_register_of_instruments_awaiting_scrapping_only_has_no_hour_means():
    inst = literal_instruments([{"id": 1, "status": "待报废"}])
    k = C.kpis(C.annual_frame(inst, literal_usage([(1, 2025, 300.0, 100.0)]), 2025))
    assert (k.instruments, k.in_service_count, k.external_hours, k.idle_count) == (1, 0, 0.0, 0)
    assert k.avg_effective_hours is None and k.avg_rated_hours is None and k.open_share is None


def test_usage_rows_of_several_years_sum_only_the_chosen_year():
    inst = literal_instruments([{"id": 1, "purpose": "专用"}])
    usage = literal_usage([(1, 2024, 100.0, 10.0), (1, 2025, 400.0, 40.0), (1, 2025, 200.0, 20.0)])
    row = C.annual_frame(inst, usage, 2025).iloc[0]
    assert (row["effective_hours"], row["external_hours"]) == (600.0, 60.0)
    assert row["utilisation"] == pytest.approx(600 / 800)


# ---- distributions ---------------------------------------------------------------------------


def test_distributions_by_class_unit_type_and_funding(engine):
    small_registry(engine)
    f = frames(engine)
    annual = C.annual_frame(f["instruments"], f["usage"], 2025)
    by_class = C.by_class(annual, f["classes"])
    assert by_class[["key", "name_zh", "instruments", "value_cny"]].values.tolist() == [
        ["01", "分析仪器", 2, 680_000.0],
        ["07", "大气探测仪器", 1, 2_500_000.0],
    ]
    assert by_class["name_en"].tolist() == ["Analytical instruments", "Atmospheric sounding instruments"]
    by_type = C.by_field(annual, "unit_type", ("高校", "科研院所", "医疗卫生", "检验检测", "企业", "其他"))
    assert by_type[["key", "instruments", "value_cny"]].values.tolist() == [["科研院所", 2, 680_000.0], ["其他", 1, 2_500_000.0]]
    by_funding = C.by_field(annual, "funding", ("中央财政资金", "地方财政资金", "单位自有资金", "其他资金"))
    assert by_funding["key"].tolist() == ["中央财政资金", "地方财政资金", "单位自有资金"]
    assert by_funding["value_cny"].tolist() == [2_500_000.0, 600_000.0, 80_000.0]


def test_value_bands_default_edges(engine):
    small_registry(engine)
    f = frames(engine)
    bands = C.by_value_band(C.annual_frame(f["instruments"], f["usage"], 2025))
    # 5–10万: GC-1 (8万); 10–50万: none; 50–200万: HPLC-1 (60万); ≥200万: RADAR-1 (250万)
    assert bands["lower_cny"].tolist() == [50_000, 100_000, 500_000, 2_000_000]
    assert bands["instruments"].tolist() == [1, 0, 1, 1]
    assert bands["value_cny"].tolist() == [80_000.0, 0.0, 600_000.0, 2_500_000.0]
    assert math.isnan(bands["upper_cny"].iloc[-1])


def test_value_band_edges_belong_to_the_upper_band_and_below_floor_band_appears_when_used():
    inst = literal_instruments([
        {"id": 1, "original_value": 49_999}, {"id": 2, "original_value": 100_000},
        {"id": 3, "original_value": 2_000_000}, {"id": 4, "original_value": 99_999.99},
    ])
    bands = C.by_value_band(C.annual_frame(inst, literal_usage([]), None))
    assert bands["lower_cny"].tolist() == [0, 50_000, 100_000, 500_000, 2_000_000]
    assert bands["instruments"].tolist() == [1, 1, 1, 0, 1]
    custom = C.by_value_band(C.annual_frame(inst, literal_usage([]), None), edges=(50_000, 1_000_000))
    assert custom["instruments"].tolist() == [1, 2, 1]


# ---- regions and map -------------------------------------------------------------------------


def test_regional_rollup_counts_zones_in_their_banner_and_points_keep_own_coordinates(engine):
    small_registry(engine)
    zone_unit = add_unit(engine, "高新区检测中心", unit_type="检验检测", region_code="Z01")  # no coordinates
    add_instrument(engine, zone_unit, "ICP-1", "电感耦合等离子体质谱仪", original_value=1_200_000, region_code="Z01")
    add_unit(engine, "右旗空单位", unit_type="企业", region_code="152922")  # holds nothing
    f = frames(engine)
    annual = C.annual_frame(f["instruments"], f["usage"], 2025)
    regions = C.by_region(annual, f["units"], f["regions"]).set_index("code")
    assert list(regions.index) == ["152921", "152922", "152923"]
    assert regions.loc["152921", ["instruments", "value_cny", "units"]].tolist() == [3, 1_880_000.0, 2]
    assert regions.loc["152922", ["instruments", "value_cny", "units"]].tolist() == [0, 0.0, 1]
    assert regions.loc["152923", ["instruments", "value_cny", "units"]].tolist() == [1, 2_500_000.0, 1]
    points = C.unit_points(annual, f["units"], f["regions"]).set_index("name")
    assert "右旗空单位" not in points.index
    assert points.loc["高新区检测中心", ["lat", "lon"]].tolist() == [39.42, 106.71]  # the zone's seat
    assert points.loc["阿拉善盟测试研究院", ["lat", "lon", "instruments", "value_cny"]].tolist() == [38.84, 105.67, 2, 680_000.0]


# ---- empty inputs ----------------------------------------------------------------------------


def test_empty_store_gives_zero_figures_and_empty_distributions(engine):
    f = frames(engine)
    annual = C.annual_frame(f["instruments"], f["usage"], 2025)
    k = C.kpis(annual)
    assert (k.instruments, k.total_value_cny, k.idle_count, k.external_hours) == (0, 0.0, 0, 0.0)
    assert k.open_share is None and k.avg_effective_hours is None
    assert C.by_class(annual, f["classes"]).empty
    assert C.by_field(annual, "unit_type").empty
    assert C.by_value_band(annual)["instruments"].tolist() == [0, 0, 0, 0]
    assert C.by_region(annual, f["units"], f["regions"])["instruments"].tolist() == [0, 0, 0]
    assert C.unit_points(annual, f["units"], f["regions"]).empty


def test_instruments_without_any_usage_for_the_year(engine):
    small_registry(engine)
    f = frames(engine)
    annual = C.annual_frame(f["instruments"], f["usage"].iloc[0:0], 2025)
    k = C.kpis(annual)
    assert (k.instruments, k.avg_effective_hours, k.external_hours, k.idle_count) == (3, 0.0, 0.0, 3)
    assert annual["utilisation"].tolist() == [0.0, 0.0, 0.0]


def test_definition_params_quote_the_policy_in_use():
    assert C.definition_params(PolicyDefaults(rated_hours_general=1500, low_use_hours=600)) == {
        "general": "1500", "special": "800", "low_use": "600"}
