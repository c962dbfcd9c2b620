"""The fee calculator's arithmetic, fee-text reading and verdicts, with numbers worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard import fees as F
from dashboard import policy as P

# value 1,400,000 CNY, 10 years, no residual, 6 % maintenance, staff 70,000 CNY/yr,
# consumables 30 CNY/h, 2.5 kW at 0.8 CNY/kWh, spread over 1400 rated hours:
#   depreciation 1,400,000 / 10 / 1400 = 100      maintenance 84,000 / 1400 = 60
#   staff 70,000 / 1400 = 50   consumables 30   energy 2.5 × 0.8 = 2   total 242
HAND = F.FeeInputs(depreciation_years=10, residual_share=0.0, maintenance_share=0.06,
                   consumables_per_hour=30, staff_cost_per_year=70_000, power_kw=2.5, electricity_price=0.8)


def test_hand_worked_breakdown_on_rated_hours():
    b = F.hourly_cost(1_400_000, HAND, rated_hours=1400)
    assert b.depreciation == pytest.approx(100.0)
    assert b.maintenance == pytest.approx(60.0)
    assert b.staff == pytest.approx(50.0)
    assert b.consumables == pytest.approx(30.0)
    assert b.energy == pytest.approx(2.0)
    assert b.total == pytest.approx(242.0)
    assert (b.divisor_hours, b.basis) == (1400.0, "rated")
    assert list(b.components()) == ["depreciation", "maintenance", "staff", "consumables", "energy"]


def test_residual_share_and_special_purpose_hours():
    # 1,400,000 × (1 − 0.1) / 10 / 1400 = 90
    b = F.hourly_cost(1_400_000, replace(HAND, residual_share=0.1), rated_hours=1400)
    assert b.depreciation == pytest.approx(90.0)
    # special purpose, 800 h: 800,000 × 0.8 / 8 / 800 = 100; maintenance 48,000 / 800 = 60;
    # staff 70,000 / 800 = 87.5; total 100 + 60 + 87.5 + 30 + 2 = 279.5
    b = F.hourly_cost(800_000, replace(HAND, depreciation_years=8, residual_share=0.2), rated_hours=800)
    assert (b.depreciation, b.maintenance, b.staff) == pytest.approx((100.0, 60.0, 87.5))
    assert b.total == pytest.approx(279.5)


def test_effective_hours_divisor_raises_the_cost_of_low_use():
    # the same instrument used 700 h: 200 + 120 + 100 + 30 + 2 = 452 (vs 242 on 1400 rated hours)
    inputs = replace(HAND, basis="effective")
    b = F.hourly_cost(1_400_000, inputs, rated_hours=1400, effective_hours=700)
    assert (b.depreciation, b.maintenance, b.staff, b.consumables, b.energy) == pytest.approx((200, 120, 100, 30, 2))
    assert b.total == pytest.approx(452.0)
    assert b.divisor_hours == 700.0
    # used more than rated (2800 h): fixed costs per hour halve: 50 + 30 + 25 + 30 + 2 = 137
    assert F.hourly_cost(1_400_000, inputs, 1400, 2800).total == pytest.approx(137.0)


@pytest.mark.parametrize("effective", [0, 0.0, -5, None, float("nan")])
def test_zero_effective_hours_are_refused_with_a_clear_error(effective):
    with pytest.raises(F.NoHoursError, match="effective hours"):
        F.hourly_cost(1_400_000, replace(HAND, basis="effective"), 1400, effective)


def test_rated_basis_ignores_missing_effective_hours_and_guards_zero_rated():
    assert F.hourly_cost(1_400_000, HAND, 1400, 0).total == pytest.approx(242.0)
    with pytest.raises(F.NoHoursError, match="rated hours"):
        F.hourly_cost(1_400_000, HAND, 0)


def test_inputs_reject_impossible_values():
    with pytest.raises(ValueError):
        F.FeeInputs(depreciation_years=0)
    with pytest.raises(ValueError):
        F.FeeInputs(residual_share=1.0)
    with pytest.raises(ValueError):
        F.FeeInputs(staff_cost_per_year=-1)
    with pytest.raises(ValueError):
        F.FeeInputs(basis="monthly")


def test_defaults_come_from_the_policy():
    d = F.FeeInputs.from_policy()
    assert (d.depreciation_years, d.residual_share, d.maintenance_share) == (10, 0.0, 0.06)
    assert (d.electricity_price, d.basis) == (0.6, "rated")
    edited = replace(P.DEFAULTS, maintenance_share_per_year=0.05, depreciation_years=8)
    e = F.FeeInputs.from_policy(edited, power_kw=5)
    assert (e.maintenance_share, e.depreciation_years, e.power_kw) == (0.05, 8, 5)
    # default build-up of a 1,400,000 CNY 通用 instrument: 100 + 60 + 60,000/1400 + 0 + 2 × 0.6
    assert F.hourly_cost(1_400_000, d, 1400).total == pytest.approx(100 + 60 + 42.857142857 + 0 + 1.2)


# ---- service life ------------------------------------------------------------------------------
# HAND at reference year 2025, 10-year life. Years in service = 2025 − year of the start date; the
# year of commissioning is the first year of depreciation, so the 10 years of a 2015 instrument are
# 2015–2024 and it carries no depreciation in 2025:
#   start 2016 -> 9 years: 1,400,000 / 10 / 1400 = 100, total 242
#   start 2015 -> 10 years, start 2014 -> 11 years: depreciation 0, total 242 − 100 = 142
AT_2025 = replace(HAND, reference_year=2025)


@pytest.mark.parametrize("start, years, depreciation, total", [
    ("2016-12-31", 9, 100.0, 242.0),
    ("2016-01-01", 9, 100.0, 242.0),
    ("2015-01-01", 10, 0.0, 142.0),
    ("2015-12-31", 10, 0.0, 142.0),
    ("2014-06-30", 11, 0.0, 142.0),
])
def test_depreciation_stops_at_the_end_of_the_service_life(start, years, depreciation, total):
    b = F.hourly_cost(1_400_000, AT_2025, 1400, start_date=pd.Timestamp(start))
    assert b.years_in_service == years
    assert b.depreciation == pytest.approx(depreciation)
    assert b.total == pytest.approx(total)
    assert b.fully_depreciated is (years >= 10)
    assert b.depreciation_share == (0.0 if years >= 10 else 1.0)
    # the other components do not depend on age
    assert (b.maintenance, b.staff, b.consumables, b.energy) == pytest.approx((60, 50, 30, 2))


def test_depreciation_stops_on_effective_hours_too_and_start_dates_of_any_type():
    inputs = replace(AT_2025, basis="effective")
    # 700 h: 9 years 200 + 120 + 100 + 30 + 2 = 452; 10 years 0 + 120 + 100 + 30 + 2 = 252
    assert F.hourly_cost(1_400_000, inputs, 1400, 700, date(2016, 3, 1)).total == pytest.approx(452)
    assert F.hourly_cost(1_400_000, inputs, 1400, 700, date(2015, 3, 1)).total == pytest.approx(252)
    assert F.hourly_cost(1_400_000, inputs, 1400, 700, "2015-03-01").depreciation == 0.0


@pytest.mark.parametrize("start", [None, pd.NaT, float("nan"), "not a date"])
def test_a_missing_start_date_keeps_charging_depreciation(start):
    b = F.hourly_cost(1_400_000, AT_2025, 1400, start_date=start)
    assert (b.years_in_service, b.depreciation_share, b.fully_depreciated) == (None, 1.0, False)
    assert b.depreciation == pytest.approx(100.0)
    assert b.total == pytest.approx(242.0)


def test_without_a_reference_year_depreciation_is_charged_in_full():
    b = F.hourly_cost(1_400_000, HAND, 1400, start_date=date(2000, 1, 1))  # 25 years old, year unknown
    assert (b.years_in_service, b.depreciation, b.total) == (None, pytest.approx(100.0), pytest.approx(242.0))
    assert F.hourly_cost(1_400_000, HAND, 1400).depreciation == pytest.approx(100.0)  # no start either


def test_a_start_after_the_reference_year_counts_as_zero_years():
    b = F.hourly_cost(1_400_000, AT_2025, 1400, start_date=date(2027, 1, 1))
    assert (b.years_in_service, b.depreciation) == (0, pytest.approx(100.0))


def test_edited_depreciation_period_and_a_fractional_last_year():
    # 12-year life: the 11-year-old instrument still depreciates, 1,400,000 / 12 / 1400 = 83.333
    b = F.hourly_cost(1_400_000, replace(AT_2025, depreciation_years=12), 1400, start_date=date(2014, 6, 30))
    assert b.depreciation == pytest.approx(83.3333333)
    # 10.5-year life at 10 years: half a year left: 1,400,000 / 10.5 × 0.5 / 1400 = 47.619
    b = F.hourly_cost(1_400_000, replace(AT_2025, depreciation_years=10.5), 1400, start_date=date(2015, 6, 30))
    assert (b.years_in_service, b.depreciation_share, b.fully_depreciated) == (10, 0.5, False)
    assert b.depreciation == pytest.approx(47.6190476)
    # … and nothing at 11 years; the whole life adds up to 10 full years + 0.5 = 10.5 yearly amounts
    assert F.hourly_cost(1_400_000, replace(AT_2025, depreciation_years=10.5), 1400,
                         start_date=date(2014, 6, 30)).depreciation == 0.0
    shares = F.depreciation_shares(np.arange(0, 15), 10.5)
    assert shares.sum() == pytest.approx(10.5)


def test_service_years_and_shares_vectorised():
    starts = pd.Series(pd.to_datetime(["2016-05-01", "2015-01-01", "2014-12-31", None, "2030-01-01"]))
    years = F.service_years(starts, 2025)
    assert years.iloc[:3].tolist() == [9.0, 10.0, 11.0] and np.isnan(years.iloc[3]) and years.iloc[4] == 0.0
    assert F.depreciation_shares(years, 10).tolist() == [1.0, 0.0, 0.0, 1.0, 1.0]
    assert F.service_years(starts, None).isna().all()
    assert F.years_in_service(date(2015, 7, 1), 2025) == 10
    assert F.years_in_service(None, 2025) is None
    assert F.depreciation_share(None, 10) == 1.0 and F.depreciation_share(9, 10) == 1.0
    assert F.depreciation_share(10, 10) == 0.0


def test_reference_year_must_be_a_whole_year():
    assert F.FeeInputs(reference_year=2025).reference_year == 2025
    assert F.FeeInputs.from_policy(reference_year=2024).reference_year == 2024
    with pytest.raises(ValueError):
        F.FeeInputs(reference_year=2025.5)


# ---- fee texts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, low, high", [
    ("参考收费300元/机时（不含耗材及特殊前处理）。", 300, 300),
    ("内部核算120元/机时。", 120, 120),
    ("参考收费３００元／机时（不含耗材）", 300, 300),  # full-width digits and slash
    ("２００．５元／小时", 200.5, 200.5),  # full-width decimal point
    ("收费 150.50 元/h", 150.5, 150.5),
    ("200-300元/机时", 200, 300),
    ("２００～３００元／小时", 200, 300),
    ("200至300元/台时", 200, 300),
    ("每机时300元", 300, 300),
    ("每小时收费：150元", 150, 150),
    ("收费200元每小时", 200, 200),
    ("校内100元/机时，校外200元/机时", 100, 200),  # two hourly amounts -> their span
    ("0.5万元/机时", 5000, 5000),
    ("1,200元/机时", 1200, 1200),
    ("CNY 200/h", 200, 200),
    ("120 yuan per hour", 120, 120),
    ("测试费80元/样，上机费 250 元/小时", 250, 250),  # the per-sample amount is not hourly
])
def test_hourly_fees_are_read_from_fee_texts(text, low, high):
    fee = F.parse_hourly_fee(text)
    assert fee is not None
    assert (fee.low, fee.high) == (low, high)
    assert fee.mid == (low + high) / 2


@pytest.mark.parametrize("text", [
    "按自治区医疗服务价格项目规范执行；科研合作另行协商。",
    "500元/样",
    "100元/半小时",
    "200元/half day",
    "面议",
    "预约2小时起，按样品收费",
    "",
    None,
    float("nan"),
])
def test_texts_without_an_hourly_amount_give_none(text):
    assert F.parse_hourly_fee(text) is None


# ---- verdicts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("listed, cost, band, expected", [
    (79.99, 100, 0.2, "below"),
    (80, 100, 0.2, "around"),  # the band edges count as around cost
    (100, 100, 0.2, "around"),
    (120, 100, 0.2, "around"),
    (120.01, 100, 0.2, "above"),
    (85, 100, 0.1, "below"),
    (105, 100, 0.0, "above"),
    (None, 100, 0.2, "no_fee"),
    (120, None, 0.2, "no_cost"),
    (None, None, 0.2, "no_cost"),
    (120, 0, 0.2, "no_cost"),
])
def test_verdict_bands(listed, cost, band, expected):
    assert F.verdict(listed, cost, band) == expected


def test_compare_gives_difference_ratio_and_verdict():
    c = F.compare("参考收费300元/机时", 250.0)
    assert (c.listed.mid, c.difference, c.ratio, c.verdict) == (300.0, 50.0, 1.2, "around")
    c = F.compare("参考收费600元/机时", 242.0)
    assert c.difference == pytest.approx(358.0)
    assert c.ratio == pytest.approx(600 / 242)
    assert c.verdict == "above"
    c = F.compare("200-300元/机时", 400.0)  # midpoint 250: ratio 0.625
    assert (c.difference, c.ratio, c.verdict) == (-150.0, 0.625, "below")
    c = F.compare("按自治区医疗服务价格项目规范执行", 242.0)
    assert (c.listed, c.difference, c.ratio, c.verdict) == (None, None, None, "no_fee")
    assert F.compare("300元/机时", None).verdict == "no_cost"


# ---- hours and classes ------------------------------------------------------------------------

def test_effective_hours_of_a_year_from_monthly_rows():
    monthly = pd.DataFrame({"year": [2024, 2025, 2025, 2025], "month": [12, 1, 2, 3],
                            "effective_hours": [40.0, 10.0, 20.5, 30.0]})
    assert F.effective_hours_of_year(monthly, 2025) == 60.5
    assert F.effective_hours_of_year(monthly, 2024) == 40.0
    assert F.effective_hours_of_year(monthly, 2023) == 0.0
    assert F.effective_hours_of_year(monthly, None) == 0.0
    assert F.effective_hours_of_year(monthly.iloc[0:0], 2025) == 0.0


def _annual() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3, 4],
        "class_code": ["010101", "010301", "010105", "070401"],
        "original_value": [1_400_000.0, 700_000.0, 280_000.0, 2_500_000.0],
        "purpose": ["通用", "通用", "专用", "专用"],
        "effective_hours": [700.0, 1400.0, 0.0, 500.0],
        "fee_standard": ["参考收费300元/机时（不含耗材及特殊前处理）。", "内部核算100元/机时。",
                         "按自治区医疗服务价格项目规范执行；科研合作另行协商。", ""],
    })


def test_cost_frame_on_rated_hours_by_hand():
    frame = F.cost_frame(_annual(), HAND)
    # 1: 242 (see HAND); listed 300 -> +58, ratio 1.2397 -> above
    # 2: 700,000: dep 50, maint 30, staff 50, 30, 2 = 162; listed 100 -> -62, 0.617 -> below
    # 3: 专用 800 h, 280,000: dep 35, maint 21, staff 87.5, 30, 2 = 175.5; no hourly fee
    # 4: 专用 800 h, 2,500,000: dep 312.5, maint 187.5, staff 87.5, 30, 2 = 619.5; empty text
    assert frame["rated_hours"].tolist() == [1400.0, 1400.0, 800.0, 800.0]
    assert frame["divisor_hours"].tolist() == [1400.0, 1400.0, 800.0, 800.0]
    assert frame["depreciation"].tolist() == pytest.approx([100, 50, 35, 312.5])
    assert frame["maintenance"].tolist() == pytest.approx([60, 30, 21, 187.5])
    assert frame["cost_per_hour"].tolist() == pytest.approx([242, 162, 175.5, 619.5])
    assert frame["listed_per_hour"].tolist()[:2] == [300.0, 100.0]
    assert frame["listed_per_hour"].isna().tolist() == [False, False, True, True]
    assert frame["difference"].tolist()[:2] == pytest.approx([58, -62])
    assert frame["ratio"].tolist()[:2] == pytest.approx([300 / 242, 100 / 162])
    assert frame["verdict"].tolist() == ["above", "below", "no_fee", "no_fee"]


def test_cost_frame_on_effective_hours_guards_zero_hours():
    frame = F.cost_frame(_annual(), replace(HAND, basis="effective"))
    # 1: 700 h -> 452; 2: 1400 h -> 162; 3: 0 h -> not computable; 4: 500 h:
    #    2,500,000/10/500 = 500, 150,000/500 = 300, 70,000/500 = 140, 30, 2 -> 972
    assert frame["divisor_hours"].tolist() == [700.0, 1400.0, 0.0, 500.0]
    cost = frame["cost_per_hour"].tolist()
    assert cost[0] == pytest.approx(452) and cost[1] == pytest.approx(162) and cost[3] == pytest.approx(972)
    assert np.isnan(cost[2])
    # listed 300 vs 452: ratio 0.664 -> below
    assert frame["verdict"].tolist() == ["below", "below", "no_cost", "no_fee"]


def test_cost_frame_uses_edited_rated_hours():
    policy = replace(P.DEFAULTS, rated_hours_general=1000, rated_hours_special=500)
    frame = F.cost_frame(_annual(), HAND, policy)
    # 1: 1,400,000: 140 + 84 + 70 + 30 + 2 = 326; 3: 280,000 on 500 h: 56 + 33.6 + 140 + 30 + 2 = 261.6
    assert frame["rated_hours"].tolist() == [1000.0, 1000.0, 500.0, 500.0]
    assert frame["cost_per_hour"].tolist()[0] == pytest.approx(326)
    assert frame["cost_per_hour"].tolist()[2] == pytest.approx(261.6)


def test_band_changes_the_verdicts():
    frame = F.cost_frame(_annual(), HAND, band=0.3)  # 300/242 = 1.24 now inside ±30 %
    assert frame["verdict"].tolist()[0] == "around"


def test_classes_summary_and_counts():
    annual = _annual()
    assert F.class_codes(annual) == ["01", "0101", "0103", "07", "0704"]
    assert F.in_class(annual, "01")["id"].tolist() == [1, 2, 3]
    assert F.in_class(annual, "0101")["id"].tolist() == [1, 3]
    assert F.in_class(annual, "0704")["id"].tolist() == [4]
    frame = F.cost_frame(F.in_class(annual, "01"), HAND)
    s = F.summary(frame)
    # costs 242, 162, 175.5 -> median 175.5, min 162, max 242; listed 300, 100 -> median 200
    assert s.loc["cost_per_hour"].tolist() == pytest.approx([3, 175.5, 162, 242])
    assert s.loc["listed_per_hour"].tolist() == pytest.approx([2, 200, 100, 300])
    assert F.verdict_counts(frame) == {"below": 1, "around": 0, "above": 1, "no_fee": 1, "no_cost": 0}


def test_summary_of_a_class_without_figures():
    frame = F.cost_frame(F.in_class(_annual(), "0704"), replace(HAND, basis="effective"))
    frame.loc[:, "effective_hours"] = 0.0
    frame = F.cost_frame(frame.drop(columns=list(F.FRAME_COLUMNS)), replace(HAND, basis="effective"))
    s = F.summary(frame)
    assert s.loc["cost_per_hour", "count"] == 0 and np.isnan(s.loc["cost_per_hour", "median"])
    assert F.verdict_counts(frame)["no_cost"] == 1


def _aged() -> pd.DataFrame:
    """_annual with start dates: 9, 10 and 11 years in service at 2025, and one without a date."""
    frame = _annual()
    frame["start_date"] = pd.to_datetime(["2016-06-01", "2015-01-01", "2014-12-31", None])
    return frame


def test_cost_frame_stops_depreciation_after_the_service_life():
    frame = F.cost_frame(_aged(), AT_2025)
    # 1: 9 years: dep 100, total 242 (listed 300: above)
    # 2: 10 years: dep 0; 700,000: 0 + 30 + 50 + 30 + 2 = 112; listed 100 / 112 = 0.893 -> around (was 162, below)
    # 3: 11 years: 专用 800 h, 280,000: 0 + 21 + 87.5 + 30 + 2 = 140.5; no hourly fee
    # 4: no start date: charged in full, 312.5 + 187.5 + 87.5 + 30 + 2 = 619.5
    assert frame["years_in_service"].tolist()[:3] == [9.0, 10.0, 11.0]
    assert np.isnan(frame["years_in_service"].iloc[3])
    assert frame["fully_depreciated"].tolist() == [False, True, True, False]
    assert frame["depreciation_share"].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert frame["depreciation"].tolist() == pytest.approx([100, 0, 0, 312.5])
    assert frame["maintenance"].tolist() == pytest.approx([60, 30, 21, 187.5])
    assert frame["cost_per_hour"].tolist() == pytest.approx([242, 112, 140.5, 619.5])
    assert frame["ratio"].tolist()[:2] == pytest.approx([300 / 242, 100 / 112])
    assert frame["verdict"].tolist() == ["above", "around", "no_fee", "no_fee"]
    assert F.verdict_counts(frame) == {"below": 0, "around": 1, "above": 1, "no_fee": 2, "no_cost": 0}


def test_cost_frame_reference_year_moves_the_end_of_depreciation():
    # in 2024 the ages are 8, 9, 10, unknown: only the third is fully depreciated
    frame = F.cost_frame(_aged(), replace(HAND, reference_year=2024))
    assert frame["years_in_service"].tolist()[:3] == [8.0, 9.0, 10.0]
    assert frame["depreciation"].tolist() == pytest.approx([100, 50, 0, 312.5])
    # no reference year, or no start_date column: every instrument is charged, as before
    for frame in (F.cost_frame(_aged(), HAND), F.cost_frame(_annual(), AT_2025)):
        assert frame["depreciation"].tolist() == pytest.approx([100, 50, 35, 312.5])
        assert frame["years_in_service"].isna().all()
        assert not frame["fully_depreciated"].any()


def test_cost_frame_on_effective_hours_after_the_service_life():
    frame = F.cost_frame(_aged(), replace(AT_2025, basis="effective"))
    # 2: 1400 effective h, 10 years: 0 + 30 + 50 + 30 + 2 = 112; 3: 0 h stays not computable even
    # though it is fully depreciated; 4: 500 h, no start date: 500 + 300 + 140 + 30 + 2 = 972
    cost = frame["cost_per_hour"].tolist()
    assert cost[0] == pytest.approx(452) and cost[1] == pytest.approx(112) and cost[3] == pytest.approx(972)
    assert np.isnan(cost[2])
    assert frame["verdict"].tolist() == ["below", "around", "no_cost", "no_fee"]
