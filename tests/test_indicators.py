"""Raw evaluation indicators per unit, checked against hand-worked numbers.

Two sources: a hand-made store (tests/factories.py plus submissions written with sqlmodel; runs on
SQLite and PostgreSQL through the `engine` fixture) and literal DataFrames for the pure functions.
Year under evaluation: 2025. Rated hours 1400 通用 / 800 专用, low-use line 800 h (policy defaults).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime, timezone

import pandas as pd
import pytest
from sqlmodel import Session

from dashboard import indicators as I
from dashboard.policy import PolicyDefaults
from dashboard.scheme import Indicator, SchemeError, default_scheme
from models import queries as Q
from models import tables as T
from models.services.demo import load_demo
from tests.factories import add_instrument, add_service, add_unit

YEAR = 2025
SCHEME = default_scheme()


# =========================================================================== hand-made store


def add_usage_months(engine, instrument_id: int, year: int, months: dict[int, tuple[float, float]]) -> None:
    """Usage rows for the given months: {month: (effective hours, external hours)}."""
    with Session(engine) as s:
        for m, (h, x) in months.items():
            s.add(T.UsageMonthly(instrument_id=instrument_id, year=year, month=m, effective_hours=h, external_hours=x))
        s.commit()


def add_submission(engine, unit_id: int, year: int, month: int, submitted_at: datetime | None) -> None:
    """A monthly usage submission due on the 10th of the following month."""
    due = date(year + 1, 1, 10) if month == 12 else date(year, month + 1, 10)
    with Session(engine) as s:
        s.add(T.Submission(unit_id=unit_id, kind="usage", year=year, month=month, due_date=due, submitted_at=submitted_at))
        s.commit()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def build_store(engine) -> dict[str, int]:
    """Five units; the worked numbers are in the tests below.

    甲研究院 (A):
      A1 通用 外部共享 booking url, 1,000,000 CNY: 100 h/month × 12 = 1200 h, external 50 × 12 = 600 h
      A2 专用 外部共享 no url, 500,000 CNY, commissioned 2025-07-01 (6 months in service):
         rows for July–October only, 100 h each = 400 h, no external
      A3 通用 内部共享, 500,000 CNY: no usage rows (0 h, 0 of 12 months)
      excluded: A4 exempt (国防) with 12 × 200 h external and a 50,000 CNY external service;
                A5 待报废 with 12 × 150 h; A6 commissioned 2026-03-01
      submissions: Jan–Oct on the 5th; Nov at 2025-12-10 15:59 UTC (= 23:59 on the due day in
      Beijing: on time); Dec at 2026-01-10 16:30 UTC (= 00:30 on 11 Jan in Beijing: late);
      a 2024 December submission (other year)
      services 2025 on A1: 乙公司 external 10,000 (非常满意 5, voucher 3,000); 乙公司 external 20,000
      (一般 3); 丙大学 external 5,000 (no rating, voucher 2,000); internal 1,000 (基本满意 4);
      a 2024 external service of 戊公司 (other year)
    乙气象站 (B): B1 通用 不共享 300,000: 70 h × 12 = 840 h; B2 专用 外部共享 with url 200,000:
      10 h × 12 = 120 h, 5 h × 12 = 60 h external. No submissions at all, but usage rows.
    丙中心 (C): one eligible instrument (C1, 80 h × 12) + one exempt → too few instruments.
    丁公司 (D): two eligible instruments (不共享), no usage rows, one submission never sent → not reported.
    戊所 (E): no instruments at all.
    """
    a = add_unit(engine, "甲研究院", unit_type="科研院所")
    b = add_unit(engine, "乙气象站", unit_type="其他", region_code="152923")
    c = add_unit(engine, "丙中心", unit_type="检验检测")
    d = add_unit(engine, "丁公司", unit_type="企业")
    e = add_unit(engine, "戊所", unit_type="科研院所")

    a1 = add_instrument(engine, a, "A1", "液相色谱仪", original_value=1_000_000, booking_url="https://book.example/a1")
    a2 = add_instrument(engine, a, "A2", "雷达", original_value=500_000, purpose="专用", start_date=date(2025, 7, 1))
    add_instrument(engine, a, "A3", "气相色谱仪", original_value=500_000, share_mode="内部共享")
    a4 = add_instrument(engine, a, "A4", "保密设备", exempt_reason="国防")
    a5 = add_instrument(engine, a, "A5", "旧质谱仪", status="待报废")
    add_instrument(engine, a, "A6", "新电镜", start_date=date(2026, 3, 1))
    add_usage_months(engine, a1, YEAR, {m: (100.0, 50.0) for m in range(1, 13)})
    add_usage_months(engine, a2, YEAR, {m: (100.0, 0.0) for m in range(7, 11)})
    add_usage_months(engine, a4, YEAR, {m: (200.0, 200.0) for m in range(1, 13)})
    add_usage_months(engine, a5, YEAR, {m: (150.0, 0.0) for m in range(1, 13)})
    for m in range(1, 11):
        add_submission(engine, a, YEAR, m, utc(YEAR, m + 1, 5, 2, 0))
    add_submission(engine, a, YEAR, 11, utc(YEAR, 12, 10, 15, 59))
    add_submission(engine, a, YEAR, 12, utc(YEAR + 1, 1, 10, 16, 30))
    add_submission(engine, a, YEAR - 1, 12, utc(YEAR, 1, 3, 2, 0))
    add_service(engine, a1, datetime(YEAR, 3, 2, 9), "乙公司", 10_000, user_type="外部用户", rating="非常满意", voucher_amount_cny=3_000)
    add_service(engine, a1, datetime(YEAR, 4, 2, 9), "乙公司", 20_000, user_type="外部用户", rating="一般")
    add_service(engine, a1, datetime(YEAR, 5, 2, 9), "丙大学", 5_000, user_type="外部用户", voucher_amount_cny=2_000)
    add_service(engine, a1, datetime(YEAR, 6, 2, 9), "甲研究院", 1_000, user_type="内部用户", rating="基本满意")
    add_service(engine, a4, datetime(YEAR, 6, 3, 9), "丁公司", 50_000, user_type="外部用户", rating="极差")
    add_service(engine, a1, datetime(YEAR - 1, 6, 3, 9), "戊公司", 9_000, user_type="外部用户")

    b1 = add_instrument(engine, b, "B1", "自动气象站", original_value=300_000, share_mode="不共享", region_code="152923")
    b2 = add_instrument(engine, b, "B2", "探空雷达", original_value=200_000, purpose="专用", region_code="152923",
                        booking_url="https://book.example/b2")
    add_usage_months(engine, b1, YEAR, {m: (70.0, 0.0) for m in range(1, 13)})
    add_usage_months(engine, b2, YEAR, {m: (10.0, 5.0) for m in range(1, 13)})

    c1 = add_instrument(engine, c, "C1", "光谱仪")
    add_instrument(engine, c, "C2", "涉密光谱仪", exempt_reason="国家安全")
    add_usage_months(engine, c1, YEAR, {m: (80.0, 0.0) for m in range(1, 13)})

    add_instrument(engine, d, "D1", "发酵罐", share_mode="不共享")
    add_instrument(engine, d, "D2", "冻干机", share_mode="不共享")
    add_submission(engine, d, YEAR, 1, None)
    return {"A": a, "B": b, "C": c, "D": d, "E": e}


@pytest.fixture
def store(engine):
    ids = build_store(engine)
    table = I.compute_indicators(I.load_inputs(engine, YEAR), YEAR, SCHEME)
    return ids, table


def test_unit_a_indicators_worked_by_hand(store):
    ids, table = store
    a = table.raw.loc[ids["A"]]
    # Eligible: A1, A2, A3 (A4 exempt, A5 待报废, A6 commissioned 2026).
    assert table.units.loc[ids["A"], "eligible_instruments"] == 3
    assert a["open_ratio"] == pytest.approx(2 / 3)  # A1, A2 外部共享
    assert a["reporting_timeliness"] == pytest.approx(11 / 12)  # Jan–Nov on time, Dec late (Beijing day)
    assert a["reporting_completeness"] == pytest.approx(16 / 30)  # (12 + 4 + 0) / (12 + 6 + 12)
    assert a["online_booking"] == pytest.approx(1 / 2)  # A1 has a url, A2 not
    assert a["effective_hours_ratio"] == pytest.approx(1600 / 3600)  # (1200 + 400 + 0) / (1400 + 800 + 1400)
    assert a["above_low_use_share"] == pytest.approx(1 / 3)  # only A1 (1200 h) reaches 800 h
    assert a["external_hours_per_instrument"] == pytest.approx(200.0)  # 600 / 3
    assert a["external_share"] == pytest.approx(0.375)  # 600 / 1600
    assert a["outside_clients"] == 2  # 乙公司, 丙大学 (丁公司 served by exempt A4, 戊公司 in 2024)
    assert a["external_income_ratio"] == pytest.approx(0.0175)  # 35,000 / 2,000,000
    assert a["user_rating"] == pytest.approx(4.0)  # (5 + 3 + 4) / 3; the unrated record is left out
    assert a["voucher_services"] == 2
    assert table.units.loc[ids["A"], "status"] == "rated"


def test_unit_b_indicators_worked_by_hand(store):
    ids, table = store
    b = table.raw.loc[ids["B"]]
    assert b["open_ratio"] == pytest.approx(0.5)
    assert b["reporting_timeliness"] == 0.0  # no submissions
    assert b["reporting_completeness"] == pytest.approx(1.0)  # 24 / 24
    assert b["online_booking"] == pytest.approx(1.0)  # B2 is open and has a url
    assert b["effective_hours_ratio"] == pytest.approx(960 / 2200)  # (840 + 120) / (1400 + 800)
    assert b["above_low_use_share"] == pytest.approx(0.5)  # B1: 840 ≥ 800
    assert b["external_hours_per_instrument"] == pytest.approx(30.0)  # 60 / 2
    assert b["external_share"] == pytest.approx(0.0625)  # 60 / 960
    assert b["outside_clients"] == 0 and b["voucher_services"] == 0
    assert b["external_income_ratio"] == 0.0  # 0 / 500,000
    assert math.isnan(b["user_rating"])  # no service records: undefined, not 0
    # Usage rows without submission records still count as reported.
    assert table.units.loc[ids["B"], ["reported", "status"]].tolist() == [True, "rated"]


def test_statuses_of_units_not_rated(store):
    ids, table = store
    u = table.units
    assert u.loc[ids["C"], ["eligible_instruments", "status"]].tolist() == [1, "too_few_instruments"]
    assert u.loc[ids["D"], ["eligible_instruments", "reported", "status"]].tolist() == [2, False, "not_reported"]
    assert u.loc[ids["E"], ["eligible_instruments", "status"]].tolist() == [0, "too_few_instruments"]
    assert list(u.index) == list(table.raw.index) == [ids[k] for k in "ABCDE"]
    assert u.loc[ids["B"], ["name", "unit_type", "region_code"]].tolist() == ["乙气象站", "其他", "152923"]


def test_undefined_values_are_nan_not_zero(store):
    ids, table = store
    d, e = table.raw.loc[ids["D"]], table.raw.loc[ids["E"]]
    assert math.isnan(d["online_booking"])  # nothing open
    assert math.isnan(d["external_share"])  # no effective hours
    assert d["effective_hours_ratio"] == 0.0 and d["reporting_completeness"] == 0.0
    assert d["reporting_timeliness"] == 0.0  # its one submission never came in
    # No eligible instruments: every per-instrument ratio is undefined; counts are 0.
    for col in ("open_ratio", "reporting_completeness", "effective_hours_ratio", "above_low_use_share",
                "external_hours_per_instrument", "external_income_ratio"):
        assert math.isnan(e[col]), col
    assert e["outside_clients"] == 0 and e["reporting_timeliness"] == 0


def test_raw_columns_follow_the_scheme_and_are_float(store):
    _, table = store
    assert list(table.raw.columns) == SCHEME.indicator_ids()
    assert table.raw.index.name == table.units.index.name == "unit_id"
    assert all(str(t) == "float64" for t in table.raw.dtypes)


def test_policy_numbers_change_the_values(engine):
    ids = build_store(engine)
    # The low-use line is raised above the default saturation line, so saturation moves too:
    # an instrument at or above the saturation line is never idle (dashboard.load.load_class).
    policy = PolicyDefaults(rated_hours_general=1200, rated_hours_special=600, low_use_hours=1250,
                            saturation_hours=1500)
    raw = I.compute_indicators(I.load_inputs(engine, YEAR), YEAR, SCHEME, policy).raw
    assert raw.loc[ids["A"], "effective_hours_ratio"] == pytest.approx(1600 / 3000)  # 1200 + 600 + 1200
    assert raw.loc[ids["A"], "above_low_use_share"] == 0.0  # 1200 h < 1250 h


def test_scheme_selects_indicators_and_min_instruments(engine):
    ids = build_store(engine)
    subset = replace(SCHEME, indicators=SCHEME.indicators[:2], min_instruments=1)
    table = I.compute_indicators(I.load_inputs(engine, YEAR), YEAR, subset)
    assert list(table.raw.columns) == ["open_ratio", "reporting_timeliness"]
    assert table.units.loc[ids["C"], "status"] == "rated"  # one instrument is now enough
    assert table.units.loc[ids["E"], "status"] == "too_few_instruments"


def test_unknown_indicator_id_is_refused_by_name(engine):
    build_store(engine)
    scheme = replace(SCHEME, indicators=SCHEME.indicators + (Indicator("staff_certified", "org", params={"lower": 0, "upper": 1}),))
    with pytest.raises(SchemeError, match="staff_certified"):
        I.compute_indicators(I.load_inputs(engine, YEAR), YEAR, scheme)


def test_submissions_query_reads_utc_and_filters(engine):
    ids = build_store(engine)
    subs = Q.submissions(engine, YEAR, kind="usage")
    assert len(subs) == 13  # A: 12 months of 2025; D: one unsent
    nov = subs[(subs["unit_id"] == ids["A"]) & (subs["month"] == 11)].iloc[0]
    assert nov["submitted_at"] == pd.Timestamp("2025-12-10 15:59", tz="UTC")
    assert nov["due_date"] == pd.Timestamp("2025-12-10")
    assert subs.loc[subs["unit_id"] == ids["D"], "submitted_at"].isna().all()
    assert len(Q.submissions(engine)) == 14


def test_services_for_evaluation_match_services_and_the_year_edges(engine):
    build_store(engine)
    b1 = Q.instruments(engine).set_index("inner_id").loc["B1", "id"]
    add_service(engine, int(b1), datetime(YEAR, 12, 31, 23, 30), "末日公司", 1.0, end_time=datetime(YEAR, 12, 31, 23, 59))
    add_service(engine, int(b1), datetime(YEAR + 1, 1, 1, 0, 0), "元旦公司", 1.0)
    fast = Q.services_for_evaluation(engine, YEAR)
    pd.testing.assert_frame_equal(fast, Q.services(engine, YEAR)[list(fast.columns)])
    assert len(fast) == 6 and "末日公司" in set(fast["applicant_unit"])  # 5 of 2025 in build_store + 31 Dec


def test_empty_store_gives_empty_tables(engine):
    table = I.compute_indicators(I.load_inputs(engine, YEAR), YEAR, SCHEME)
    assert table.raw.empty and table.units.empty
    assert list(table.raw.columns) == SCHEME.indicator_ids()


# =========================================================================== literal frames


def literal_inputs(instruments: list[dict], usage=(), services=(), submissions=(), units=(1, 2)) -> I.EvaluationInputs:
    inst_defaults = {"unit_id": 1, "start_date": pd.Timestamp("2018-05-01"), "status": "正常", "exempt_reason": "",
                     "share_mode": "外部共享", "booking_url": "", "purpose": "通用", "original_value": 100_000.0}
    svc_defaults = {"user_type": "外部用户", "applicant_unit": "某公司", "service_amount_cny": 0.0, "rating": "",
                    "voucher_amount_cny": 0.0, "start_time": pd.Timestamp(f"{YEAR}-06-01 09:00")}
    inst = pd.DataFrame([{**inst_defaults, **r} for r in instruments])
    inst["start_date"] = pd.to_datetime(inst["start_date"])
    return I.EvaluationInputs(
        units=pd.DataFrame({"id": list(units), "name": [f"U{u}" for u in units], "name_en": "",
                            "unit_type": "高校", "region_code": "152921"}),
        instruments=inst,
        usage_year=pd.DataFrame(list(usage), columns=["instrument_id", "year", "effective_hours", "external_hours", "months_reported"]),
        services_year=pd.DataFrame([{**svc_defaults, **r} for r in services],
                                   columns=["instrument_id", *svc_defaults]),
        submissions_year=pd.DataFrame(list(submissions), columns=["unit_id", "kind", "year", "month", "due_date", "submitted_at"]),
    )


def test_eligibility_excludes_exempt_scrapped_and_later_instruments():
    inputs = literal_inputs([
        {"id": 1}, {"id": 2, "exempt_reason": "国家利益"}, {"id": 3, "status": "待报废"},
        {"id": 4, "start_date": pd.Timestamp("2026-01-01")}, {"id": 5, "start_date": pd.NaT},
        {"id": 6, "start_date": pd.Timestamp("2025-12-31"), "status": "待修"},
    ])
    # No start date counts as in the register (as in the census); 待修 is still in service.
    assert sorted(I.eligible_instruments(inputs.instruments, YEAR)["id"]) == [1, 5, 6]


def test_completeness_counts_months_from_commissioning_and_caps_each_instrument():
    # Instrument 1 commissioned 2025-10-15: 3 months in service, but 5 usage rows → counts 3.
    # Instrument 2 since 2018: 12 months, 6 rows. Completeness = (3 + 6) / (3 + 12) = 0.6.
    inputs = literal_inputs(
        [{"id": 1, "start_date": pd.Timestamp("2025-10-15")}, {"id": 2}],
        usage=[(1, YEAR, 50.0, 0.0, 5), (2, YEAR, 60.0, 0.0, 6), (2, YEAR - 1, 999.0, 0.0, 12)],
    )
    raw = I.compute_indicators(inputs, YEAR, SCHEME).raw
    assert raw.loc[1, "reporting_completeness"] == pytest.approx(0.6)
    assert raw.loc[1, "effective_hours_ratio"] == pytest.approx(110 / 2800)  # the 2024 row is ignored


def test_timeliness_uses_the_beijing_day_and_counts_each_month_once():
    due = pd.Timestamp(f"{YEAR}-02-10")
    subs = [
        (1, "usage", YEAR, 1, due, pd.Timestamp(f"{YEAR}-02-10 15:59", tz="UTC")),  # 23:59 Beijing: on time
        (1, "usage", YEAR, 1, due, pd.Timestamp(f"{YEAR}-02-09 01:00", tz="UTC")),  # a resubmission of January
        (1, "usage", YEAR, 2, pd.Timestamp(f"{YEAR}-03-10"), pd.Timestamp(f"{YEAR}-03-10 16:00", tz="UTC")),  # 00:00 on the 11th: late
        (1, "usage", YEAR, 3, pd.Timestamp(f"{YEAR}-04-10"), pd.Timestamp(f"{YEAR}-04-10 08:00")),  # naive: read as UTC, on time
        (1, "instruments", YEAR, None, pd.Timestamp(f"{YEAR}-01-31"), pd.Timestamp(f"{YEAR}-01-02", tz="UTC")),  # annual, other kind
        (2, "usage", YEAR, 1, due, pd.NaT),
    ]
    inputs = literal_inputs([{"id": 1}, {"id": 2}, {"id": 3, "unit_id": 2}, {"id": 4, "unit_id": 2}], submissions=subs)
    table = I.compute_indicators(inputs, YEAR, SCHEME)
    assert table.raw.loc[1, "reporting_timeliness"] == pytest.approx(2 / 12)  # January and March
    assert table.raw.loc[2, "reporting_timeliness"] == 0.0
    # Unit 2 has neither a sent submission nor usage rows.
    assert table.units["status"].tolist() == ["rated", "not_reported"]


def test_service_indicators_on_literal_records():
    # Unit 1: instruments 1 and 2 (eligible, 1,000,000 CNY together); instrument 3 exempt.
    inputs = literal_inputs(
        [{"id": 1, "original_value": 400_000.0}, {"id": 2, "original_value": 600_000.0},
         {"id": 3, "exempt_reason": "特殊情形"}, {"id": 4, "unit_id": 2}, {"id": 5, "unit_id": 2}],
        services=[
            {"instrument_id": 1, "applicant_unit": "甲", "service_amount_cny": 30_000.0, "rating": "非常满意"},
            {"instrument_id": 2, "applicant_unit": " 甲 ", "service_amount_cny": 10_000.0, "rating": "不满意", "voucher_amount_cny": 5_000.0},
            {"instrument_id": 2, "applicant_unit": "乙", "service_amount_cny": 0.0, "voucher_amount_cny": 0.0},
            {"instrument_id": 2, "applicant_unit": "", "service_amount_cny": 2_000.0},  # no client named
            {"instrument_id": 1, "applicant_unit": "丙", "user_type": "内部用户", "service_amount_cny": 7_000.0, "rating": "一般"},
            {"instrument_id": 3, "applicant_unit": "丁", "service_amount_cny": 90_000.0, "rating": "极差"},  # exempt
            {"instrument_id": 1, "applicant_unit": "戊", "start_time": pd.Timestamp(f"{YEAR + 1}-01-02 09:00")},  # next year
        ],
    )
    raw = I.compute_indicators(inputs, YEAR, SCHEME).raw
    assert raw.loc[1, "outside_clients"] == 2  # 甲 (spaces trimmed), 乙
    assert raw.loc[1, "external_income_ratio"] == pytest.approx(0.042)  # (30,000 + 10,000 + 0 + 2,000) / 1,000,000
    assert raw.loc[1, "user_rating"] == pytest.approx(10 / 3)  # (5 + 2 + 3) / 3, internal users' ratings count
    assert raw.loc[1, "voucher_services"] == 1
    assert math.isnan(raw.loc[2, "user_rating"]) and raw.loc[2, "outside_clients"] == 0


def test_hours_indicators_on_literal_usage():
    # Unit 1: 通用 1500 h (1000 external) and 专用 0 h (no row) → ratio 1500 / 2200, above line 1 of 2.
    inputs = literal_inputs(
        [{"id": 1}, {"id": 2, "purpose": "专用", "share_mode": "不共享"}, {"id": 3, "unit_id": 2}, {"id": 4, "unit_id": 2}],
        usage=[(1, YEAR, 1500.0, 1000.0, 12), (3, YEAR, 800.0, 0.0, 12), (4, YEAR, 799.5, 0.0, 12)],
    )
    raw = I.compute_indicators(inputs, YEAR, SCHEME).raw
    assert raw.loc[1, "effective_hours_ratio"] == pytest.approx(1500 / 2200)
    assert raw.loc[1, "above_low_use_share"] == 0.5
    assert raw.loc[1, "external_hours_per_instrument"] == 500.0
    assert raw.loc[1, "external_share"] == pytest.approx(1000 / 1500)
    assert raw.loc[2, "above_low_use_share"] == 0.5  # exactly 800 h counts, 799.5 h does not
    assert raw.loc[2, "effective_hours_ratio"] == pytest.approx(1599.5 / 2800)  # not capped here
    assert raw.loc[2, "external_share"] == 0.0


def test_effective_hours_ratio_is_left_uncapped_for_the_goalpost():
    inputs = literal_inputs([{"id": 1, "purpose": "专用"}, {"id": 2, "purpose": "专用"}],
                            usage=[(1, YEAR, 2000.0, 0.0, 12), (2, YEAR, 1200.0, 0.0, 12)])
    assert I.compute_indicators(inputs, YEAR, SCHEME).raw.loc[1, "effective_hours_ratio"] == pytest.approx(2.0)


def test_every_indicator_of_the_default_scheme_has_a_computation_and_texts():
    from dashboard.i18n import catalogue

    assert set(SCHEME.indicator_ids()) <= set(I.INDICATORS)
    for lang in ("zh", "en"):
        cat = catalogue(lang)
        for ind in SCHEME.indicator_ids():
            for part in ("name", "formula", "unit"):
                assert f"eval.ind.{ind}.{part}" in cat
        assert all(f"eval.status.{s}" in cat for s in I.STATUSES)
    assert catalogue("zh")["eval.group.share.name"] == "共享服务"
    # Formula texts quote the policy numbers actually used.
    params = I.formula_params(PolicyDefaults(low_use_hours=600))
    assert "600" in catalogue("zh")["eval.ind.above_low_use_share.formula"].format(**params)


# =========================================================================== demo data


def test_demo_data_gives_sane_values_and_all_three_statuses(engine):
    load_demo(engine, instruments=80)
    table = I.compute_indicators(I.load_inputs(engine, YEAR), YEAR, SCHEME)
    raw, units = table.raw, table.units
    assert list(units.index) == Q.units(engine)["id"].tolist() == list(raw.index)
    ratios = ["open_ratio", "reporting_timeliness", "reporting_completeness", "online_booking",
              "above_low_use_share", "external_share"]
    assert ((raw[ratios] >= 0) & (raw[ratios] <= 1) | raw[ratios].isna()).all().all()
    non_negative = ["effective_hours_ratio", "external_hours_per_instrument", "external_income_ratio",
                    "outside_clients", "voucher_services"]
    assert (raw[non_negative].fillna(0) >= 0).all().all()
    assert raw["user_rating"].dropna().between(1, 5).all()
    assert (raw[["outside_clients", "voucher_services"]] % 1 == 0).all().all()

    counts = units["status"].value_counts()
    assert set(counts.index) == set(I.STATUSES)
    assert counts["rated"] > counts["too_few_instruments"] + counts["not_reported"]
    assert (units.loc[units["status"] == "too_few_instruments", "eligible_instruments"] < SCHEME.min_instruments).all()
    assert not units.loc[units["status"] == "not_reported", "reported"].any()
    # Rated units have their hour indicators defined; never-reporting units score no hours.
    rated = raw[units["status"] == "rated"]
    assert rated[["open_ratio", "effective_hours_ratio", "reporting_completeness"]].notna().all().all()
    assert (raw.loc[units["status"] == "not_reported", "effective_hours_ratio"] == 0).all()
