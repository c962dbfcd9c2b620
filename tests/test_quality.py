"""Data-quality rules on hand-made frames; every expected number is worked out by hand in the
comments (never by calling the code under test)."""

from __future__ import annotations

import math
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session

from dashboard import quality as Q
from dashboard.national import INSTRUMENT_COLUMNS
from models import queries
from models import tables as T
from tests.factories import add_unit

UTC = timezone.utc


def _subs(rows) -> pd.DataFrame:
    """Submission rows as models.queries.submissions returns them."""
    frame = pd.DataFrame(rows, columns=["unit_id", "kind", "year", "month", "due_date", "submitted_at"])
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["due_date"] = pd.to_datetime(frame["due_date"])
    frame["month"] = frame["month"].astype("Int64")
    return frame


def _units(*ids) -> pd.DataFrame:
    return pd.DataFrame({"id": list(ids), "name": [f"单位{i}" for i in ids], "name_en": [f"Unit {i}" for i in ids]})


def _by_month(status: pd.DataFrame, unit_id: int, kind: str = "usage") -> dict:
    rows = status[(status["unit_id"] == unit_id) & (status["kind"] == kind)]
    return {(None if pd.isna(m) else int(m)): (s, None if pd.isna(d) else int(d))
            for m, s, d in zip(rows["month"], rows["status"], rows["days_late"])}


# ---------------------------------------------------------------------------------- timeliness

NAT = None
TIMELINESS_ROWS = [
    # unit 1, usage 2025
    (1, "usage", 2025, 1, date(2025, 2, 10), datetime(2025, 2, 10, 15, 59, tzinfo=UTC)),  # 23:59 Beijing on the due day
    (1, "usage", 2025, 2, date(2025, 3, 10), datetime(2025, 3, 10, 16, 0, tzinfo=UTC)),  # 00:00 Beijing the next day
    (1, "usage", 2025, 3, date(2025, 4, 10), NAT),  # due before the check day: missing
    (1, "usage", 2025, 4, date(2025, 5, 10), datetime(2025, 5, 9, 20, 0, tzinfo=UTC)),  # 04:00 Beijing on the 10th
    (1, "usage", 2025, 5, date(2025, 6, 10), NAT),  # due after the check day: not due
    (1, "usage", 2025, 6, date(2025, 7, 10), datetime(2025, 7, 25, 2, 0, tzinfo=UTC)),  # 10:00 Beijing 25 Jul: 15 days
    # unit 2 never reports
    (2, "usage", 2025, 1, date(2025, 2, 10), NAT),
    (2, "usage", 2025, 2, date(2025, 3, 10), NAT),
    # unit 3: an annual instrument report, on time; and a usage month on time
    (3, "instruments", 2025, None, date(2025, 3, 31), datetime(2025, 3, 30, 1, 0, tzinfo=UTC)),
    (3, "usage", 2025, 1, date(2025, 2, 10), datetime(2025, 2, 1, 1, 0, tzinfo=UTC)),
    # another year and a unit not in the unit list: both ignored
    (1, "usage", 2024, 12, date(2025, 1, 10), NAT),
    (99, "usage", 2025, 1, date(2025, 2, 10), NAT),
]
AS_OF = date(2025, 6, 1)


def test_on_time_late_missing_and_not_due_with_the_beijing_day():
    status = Q.reporting_status(_subs(TIMELINESS_ROWS), _units(1, 2, 3), 2025, as_of=AS_OF)
    assert list(status.columns) == Q.STATUS_COLUMNS
    assert _by_month(status, 1) == {
        1: ("on_time", None),
        2: ("late", 1),
        3: ("missing", None),
        4: ("on_time", None),
        5: ("not_due", None),
        6: ("late", 15),
    }
    assert _by_month(status, 2) == {1: ("missing", None), 2: ("missing", None)}
    assert _by_month(status, 3, "instruments") == {None: ("on_time", None)}
    assert 99 not in set(status["unit_id"])
    # the Beijing calendar day of the submission, not the UTC one
    jan = status[(status["unit_id"] == 1) & (status["month"] == 1)].iloc[0]
    assert jan["submitted_local_date"] == pd.Timestamp("2025-02-10")
    feb = status[(status["unit_id"] == 1) & (status["month"] == 2)].iloc[0]
    assert feb["submitted_local_date"] == pd.Timestamp("2025-03-11")


def test_a_report_due_on_the_check_day_is_not_yet_missing():
    rows = [(1, "usage", 2025, 5, date(2025, 6, 10), NAT)]
    assert _by_month(Q.reporting_status(_subs(rows), _units(1), 2025, as_of=date(2025, 6, 10)), 1) == {5: ("not_due", None)}
    assert _by_month(Q.reporting_status(_subs(rows), _units(1), 2025, as_of=date(2025, 6, 11)), 1) == {5: ("missing", None)}


def test_the_earliest_of_several_submissions_counts():
    rows = [
        (1, "usage", 2025, 1, date(2025, 2, 10), datetime(2025, 2, 20, 2, 0, tzinfo=UTC)),
        (1, "usage", 2025, 1, date(2025, 2, 10), datetime(2025, 2, 3, 2, 0, tzinfo=UTC)),
    ]
    status = Q.reporting_status(_subs(rows), _units(1), 2025, as_of=AS_OF)
    assert len(status) == 1
    assert status.iloc[0]["status"] == "on_time"


def test_summary_counts_shares_and_puts_units_that_never_reported_first():
    status = Q.reporting_status(_subs(TIMELINESS_ROWS), _units(1, 2, 3), 2025, as_of=AS_OF)
    summary = Q.reporting_summary(status, _units(1, 2, 3), "usage")
    assert list(summary.columns) == Q.SUMMARY_COLUMNS
    assert list(summary["unit_id"]) == [2, 1, 3]
    u2, u1, u3 = (summary.iloc[i] for i in range(3))
    # unit 2: 2 due, both missing, share 0/2, never reported
    assert (u2["due"], u2["on_time"], u2["late"], u2["missing"], u2["not_due"]) == (2, 0, 0, 2, 0)
    assert u2["on_time_share"] == 0.0 and bool(u2["never_reported"]) and pd.isna(u2["max_days_late"])
    # unit 1: due = 2 on time + 2 late + 1 missing = 5; share 2/5; longest delay 15 days
    assert (u1["due"], u1["on_time"], u1["late"], u1["missing"], u1["not_due"]) == (5, 2, 2, 1, 1)
    assert u1["on_time_share"] == pytest.approx(0.4) and u1["max_days_late"] == 15 and not u1["never_reported"]
    assert (u3["due"], u3["on_time"], u3["on_time_share"]) == (1, 1, 1.0)
    assert summary.iloc[0]["name"] == "单位2" and summary.iloc[0]["name_en"] == "Unit 2"
    # all kinds together: unit 3 has its annual report too
    both = Q.reporting_summary(status, _units(1, 2, 3)).set_index("unit_id")
    assert both.loc[3, "due"] == 2 and both.loc[3, "on_time"] == 2


def test_due_dates_follow_the_due_day_of_the_next_month():
    assert Q.due_date(2025, 1, 10) == date(2025, 2, 10)
    assert Q.due_date(2025, 12, 10) == date(2026, 1, 10)
    assert Q.due_date(2025, 1, 31) == date(2025, 2, 28)
    assert Q.due_date(2024, 1, 31) == date(2024, 2, 29)  # leap year


def _holdings(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "unit_id", "start_date"]).assign(
        start_date=lambda f: pd.to_datetime(f["start_date"]))


def test_months_owed_start_with_the_first_instrument_and_fill_gaps_in_the_log():
    instruments = _holdings([
        (1, 4, "2025-10-15"),  # unit 4 owes October-December
        (2, 4, "2026-03-01"),  # commissioned later: owes nothing more
        (3, 5, None),  # no date: owes every month
        (4, 6, "2019-01-01"),  # earlier year: every month
        (5, 7, "2026-01-01"),  # commissioned after the year: owes nothing
    ])
    expected = Q.expected_usage_reports(instruments, 2025)
    months = expected.groupby("unit_id")["month"].apply(list).to_dict()
    assert months == {4: [10, 11, 12], 5: list(range(1, 13)), 6: list(range(1, 13))}
    dec = expected[(expected["unit_id"] == 4) & (expected["month"] == 12)].iloc[0]
    assert dec["due_date"] == pd.Timestamp("2026-01-10")

    # unit 4 reported October on time: the log row is kept, November and December are missing
    log = _subs([(4, "usage", 2025, 10, date(2025, 11, 10), datetime(2025, 11, 5, 3, 0, tzinfo=UTC))])
    status = Q.reporting_status(log, _units(4, 5, 6, 7), 2025, instruments, as_of=date(2026, 3, 1))
    assert _by_month(status, 4) == {10: ("on_time", None), 11: ("missing", None), 12: ("missing", None)}
    summary = Q.reporting_summary(status, _units(4, 5, 6, 7), "usage")
    # units 5 and 6 owe 12 months each and sent nothing: first; unit 7 owes nothing: not listed
    assert list(summary["unit_id"]) == [5, 6, 4]
    assert list(summary["never_reported"]) == [True, True, False]
    assert summary.iloc[2]["on_time_share"] == pytest.approx(1 / 3)


def test_no_submissions_at_all_give_empty_frames_with_the_columns():
    empty = _subs([])
    status = Q.reporting_status(empty, _units(1), 2025, as_of=AS_OF)
    assert status.empty and list(status.columns) == Q.STATUS_COLUMNS
    summary = Q.reporting_summary(status, _units(1))
    assert summary.empty and list(summary.columns) == Q.SUMMARY_COLUMNS


def test_a_unit_without_any_log_entry_owes_every_month():
    instruments = _holdings([(1, 8, "2020-05-01")])
    status = Q.reporting_status(_subs([]), _units(8), 2024, instruments, as_of=date(2025, 1, 10))
    # December 2024 is due on 10 January 2025, the check day itself: not yet missing
    assert list(status["status"]) == ["missing"] * 11 + ["not_due"]
    summary = Q.reporting_summary(status, _units(8))
    assert (summary.iloc[0]["due"], summary.iloc[0]["missing"], summary.iloc[0]["not_due"]) == (11, 11, 1)
    assert bool(summary.iloc[0]["never_reported"])


def test_timeliness_read_back_from_the_store(engine):
    """Aware UTC times written to the store come back so the Beijing-day rule still holds."""
    uid = add_unit(engine, "报送测试单位")
    with Session(engine) as s:
        s.add(T.Submission(unit_id=uid, kind="usage", year=2025, month=1, due_date=date(2025, 2, 10),
                           submitted_at=datetime(2025, 2, 10, 15, 59, tzinfo=UTC)))
        s.add(T.Submission(unit_id=uid, kind="usage", year=2025, month=2, due_date=date(2025, 3, 10),
                           submitted_at=datetime(2025, 3, 10, 16, 0, tzinfo=UTC)))
        s.add(T.Submission(unit_id=uid, kind="usage", year=2025, month=3, due_date=date(2025, 4, 10)))
        s.commit()
    status = Q.reporting_status(queries.submissions(engine, 2025), queries.units(engine), 2025, as_of=AS_OF)
    assert _by_month(status, uid) == {1: ("on_time", None), 2: ("late", 1), 3: ("missing", None)}


# ---------------------------------------------------------------------------------- completeness


def _full_record(**overrides) -> dict:
    """An instrument row with every national and local field filled."""
    row = {c.key: "x" for c in INSTRUMENT_COLUMNS}
    row.pop("unit")
    row.update(unit_name="单位", unit_name_en="", original_value=100_000.0, annual_run_hours=1000.0,
               annual_service_hours=200.0, start_date=pd.Timestamp("2020-01-01"), exempt_reason="")
    row.update(overrides)
    return row


def _instruments(rows: list[tuple[int, int, dict]]) -> pd.DataFrame:
    return pd.DataFrame([{"id": i, "unit_id": u, **rec} for i, u, rec in rows])


RECOMMENDED = [c.key for c in INSTRUMENT_COLUMNS if not c.required and not c.local]


def test_national_field_counts():
    # 10 required and 20 recommended national fields; local extensions are not counted
    assert len(Q.REQUIRED_FIELDS) == 10 and len(Q.RECOMMENDED_FIELDS) == 20
    assert "exempt_reason" not in Q.RECOMMENDED_FIELDS and "region_code" not in Q.RECOMMENDED_FIELDS


def test_completeness_shares_medals_and_most_missing_fields():
    blank12 = {k: "" for k in RECOMMENDED[:12]}
    blank13 = {k: None for k in RECOMMENDED[:13]}
    instruments = _instruments([
        (1, 1, _full_record()),
        # missing: funding (blank text, required), booking_url, annual_run_hours (NaN), email
        (2, 1, _full_record(funding="  ", booking_url="", annual_run_hours=np.nan, email=None)),
        (3, 2, _full_record()),
        (4, 3, _full_record(**blank12)),
        (5, 4, _full_record(**blank13)),
        (6, 4, _full_record(start_date=pd.Timestamp("2026-02-01"), funding="")),  # not in the 2025 register
    ])
    out = Q.completeness(instruments, _units(1, 2, 3, 4), 2025).set_index("unit_id")
    assert list(out.reset_index().columns) == Q.COMPLETENESS_COLUMNS
    # unit 1: required 19/20 = 95 %; recommended 37/40 = 92.5 %; overall 56/60 = 93.33 % -> silver
    u1 = out.loc[1]
    assert (u1["instruments"], u1["required_filled"], u1["required_cells"]) == (2, 19, 20)
    assert (u1["recommended_filled"], u1["recommended_cells"]) == (37, 40)
    assert u1["required_share"] == pytest.approx(0.95)
    assert u1["recommended_share"] == pytest.approx(0.925)
    assert u1["overall_share"] == pytest.approx(56 / 60)
    assert u1["medal"] == "silver"
    # each missing once: layout order decides -> funding, booking_url, annual_run_hours
    assert u1["top_missing"] == ["funding", "booking_url", "annual_run_hours"]
    # unit 2: everything filled -> 100 % gold, nothing missing
    assert out.loc[2, "overall_share"] == 1.0 and out.loc[2, "medal"] == "gold" and out.loc[2, "top_missing"] == []
    # unit 3: 10 + 8 of 30 = 60 % exactly -> bronze (the line is inclusive)
    assert out.loc[3, "overall_share"] == pytest.approx(0.6) and out.loc[3, "medal"] == "bronze"
    # unit 4: one instrument in 2025, 10 + 7 of 30 = 56.7 % -> no medal
    assert out.loc[4, "instruments"] == 1
    assert out.loc[4, "overall_share"] == pytest.approx(17 / 30) and out.loc[4, "medal"] == "none"
    # lowest share first
    assert list(out.index) == [4, 3, 1, 2]
    # other lines: unit 1 (93.3 %) is gold when gold starts at 90 %
    lined = Q.completeness(instruments, _units(1, 2, 3, 4), 2025, Q.MedalLines(gold=0.9, silver=0.7, bronze=0.5))
    assert lined.set_index("unit_id").loc[1, "medal"] == "gold"
    assert lined.set_index("unit_id").loc[4, "medal"] == "bronze"


def test_medal_lines_are_inclusive():
    lines = Q.MedalLines()
    assert [Q.medal(s, lines) for s in (1.0, 0.95, 0.9499, 0.8, 0.7999, 0.6, 0.5999, 0.0)] == [
        "gold", "gold", "silver", "silver", "bronze", "bronze", "none", "none"]
    assert Q.medal(float("nan"), lines) == "none"


def test_missing_fields_over_the_register():
    instruments = _instruments([
        (1, 1, _full_record(email="", booking_url="")),
        (2, 1, _full_record(email="")),
        (3, 2, _full_record(email=None, funding="")),
    ])
    fields = Q.missing_fields(instruments, 2025)
    assert list(fields.columns) == Q.FIELD_COLUMNS
    # email 3 of 3; then booking_url and funding once each, in layout order (funding comes first)
    assert list(fields["field"]) == ["email", "funding", "booking_url"]
    assert list(fields["missing"]) == [3, 1, 1]
    assert list(fields["required"]) == [False, True, False]
    assert fields.iloc[0]["missing_share"] == 1.0 and fields.iloc[1]["missing_share"] == pytest.approx(1 / 3)


# ---------------------------------------------------------------------------------- anomalies


def _anomaly_instruments() -> pd.DataFrame:
    rows = [
        # id, unit, status, start, value
        (1, 1, "正常", "2020-01-01", 600_000.0),
        (2, 1, "待报废", "2020-01-01", 300_000.0),
        (3, 1, "正常", "2024-06-15", 200_000.0),
        (4, 2, "正常", "2020-01-01", 49_999.99),
        (5, 2, "正常", "2020-01-01", 50_000.0),
        (6, 2, "正常", "2025-03-01", 10_000.0),  # below the floor but not in the 2024 register
    ]
    frame = pd.DataFrame(rows, columns=["id", "unit_id", "status", "start_date", "original_value"])
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["inner_id"] = [f"I-{i}" for i in frame["id"]]
    frame["name_zh"] = [f"仪器{i}" for i in frame["id"]]
    frame["name_en"] = ""
    frame["unit_name"] = frame["unit_id"].map({1: "甲单位", 2: "乙单位"})
    frame["unit_name_en"] = ""
    return frame


def _usage(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["instrument_id", "year", "month", "effective_hours", "external_hours",
                                       "samples", "downtime_hours"])


ANOMALY_USAGE = [
    # 2024 is a leap year: February has 29 × 24 = 696 h
    (1, 2024, 1, 100.0, 120.0, 0, 0.0),  # external 120 > effective 100
    (1, 2024, 2, 690.0, 0.0, 0, 6.0),  # 690 + 6 = 696: exactly the month, no hit
    (1, 2024, 3, 744.5, 0.0, 0, 0.0),  # 744.5 > 31 × 24 = 744
    (1, 2024, 4, 700.0, 0.0, 0, 30.0),  # 700 ≤ 720 but 700 + 30 = 730 > 720
    (5, 2024, 2, 697.0, 0.0, 0, 0.0),  # 697 > 696
    (5, 2024, 1, 744.0, 0.0, 0, 0.0),  # exactly 744: no hit
    (2, 2024, 5, 5.0, 0.0, 0, 0.0),  # awaiting scrapping, still used
    (2, 2024, 6, 0.0, 0.0, 0, 0.0),  # awaiting scrapping, no use: no hit
    (3, 2024, 5, 10.0, 0.0, 0, 0.0),  # before commissioning (June 2024)
    (3, 2024, 6, 10.0, 0.0, 0, 0.0),  # the commissioning month itself: fine
    (3, 2024, 4, 0.0, 0.0, 0, 0.0),  # before commissioning but no hours: no hit
    (1, 2023, 2, 1000.0, 0.0, 0, 0.0),  # another year: not checked
]


def test_month_hours_of_leap_and_common_years():
    assert Q.month_hours(2024, 2) == 696.0
    assert Q.month_hours(2023, 2) == 672.0
    assert Q.month_hours(2100, 2) == 672.0  # not a leap year
    assert Q.month_hours(2000, 2) == 696.0
    assert Q.month_hours(2024, 4) == 720.0
    assert list(Q.month_hours(pd.Series([2024, 2025]), pd.Series([2, 2]))) == [696.0, 672.0]


def test_every_anomaly_rule_on_hand_made_rows():
    found = Q.anomalies(_usage(ANOMALY_USAGE), _anomaly_instruments(), 2024)
    assert list(found.columns) == Q.ANOMALY_COLUMNS
    got = [(r, i, None if pd.isna(m) else int(m), v, None if pd.isna(lim) else lim)
           for r, i, m, v, lim in zip(found["rule"], found["instrument_id"], found["month"], found["value"], found["limit"])]
    assert got == [
        ("hours_over_month", 1, 3, 744.5, 744.0),
        ("hours_over_month", 5, 2, 697.0, 696.0),
        ("with_downtime_over_month", 1, 4, 730.0, 720.0),
        ("external_over_effective", 1, 1, 120.0, 100.0),
        ("usage_when_scrapped", 2, 5, 5.0, 0.0),
        ("below_census_floor", 4, None, 49_999.99, 50_000.0),
        ("usage_before_start", 3, 5, 10.0, None),
    ]
    before = found[found["rule"] == "usage_before_start"].iloc[0]
    assert before["start_date"] == pd.Timestamp("2024-06-15") and before["unit_name"] == "甲单位"
    assert before["inner_id"] == "I-3" and before["year"] == 2024
    counts = Q.anomaly_counts(found).set_index("rule")
    assert counts.loc["hours_over_month", "hits"] == 2 and counts.loc["hours_over_month", "instruments"] == 2
    assert counts.loc["usage_when_scrapped", "hits"] == 1
    assert list(counts.index) == list(Q.RULES)


def test_february_of_a_common_year_is_shorter():
    usage = _usage([(1, 2025, 2, 680.0, 0.0, 0, 0.0)])  # 680 > 28 × 24 = 672
    found = Q.anomalies(usage, _anomaly_instruments(), 2025)
    hit = found[found["rule"] == "hours_over_month"]
    assert list(hit["limit"]) == [672.0]
    # in 2025 instrument 6 (10,000 CNY, commissioned 2025) is in the register and below the floor
    assert set(found.loc[found["rule"] == "below_census_floor", "instrument_id"]) == {4, 6}


def test_the_census_floor_follows_the_policy():
    from dataclasses import replace

    from dashboard.policy import DEFAULTS

    found = Q.anomalies(_usage([]), _anomaly_instruments(), 2024, replace(DEFAULTS, census_floor_cny=250_000))
    # below 250,000 in the 2024 register: instruments 3 (200,000), 4 and 5
    assert sorted(found["instrument_id"]) == [3, 4, 5]


def test_clean_data_gives_no_anomalies():
    usage = _usage([(1, 2024, 1, 100.0, 40.0, 3, 2.0)])
    found = Q.anomalies(usage, _anomaly_instruments().query("id != 4"), 2024)
    assert found.empty and list(found.columns) == Q.ANOMALY_COLUMNS
    assert Q.anomaly_counts(found)["hits"].sum() == 0


# ---------------------------------------------------------------------------------- nominally open


def _annual() -> pd.DataFrame:
    rows = [
        # id, unit, share mode, exempt, in service, effective, external
        (1, 1, "外部共享", False, True, 1000.0, 50.0),  # A: internal 950, 50/950 = 5.3 % < 10 %
        (2, 1, "外部共享", False, True, 1000.0, 200.0),  # B: 200/800 = 25 %, has records
        (3, 2, "外部共享", False, True, 500.0, 100.0),  # C: 100/400 = 25 %, only internal-user records
        (4, 2, "外部共享", True, True, 500.0, 0.0),  # D: exempt
        (5, 2, "外部共享", False, False, 500.0, 0.0),  # E: awaiting scrapping
        (6, 2, "内部共享", False, True, 500.0, 0.0),  # F: not declared open
        (7, 3, "外部共享", False, True, 0.0, 0.0),  # G: reported 12 months of 0 h, no records
        (8, 3, "外部共享", False, True, 1100.0, 100.0),  # H: 100 = exactly 10 % of 1000: not below
        (9, 4, "外部共享", False, True, 0.0, 0.0),  # I: no usage row in 2025 (one in 2024)
        (10, 3, "外部共享", False, True, 0.0, 0.0),  # J: no usage row, yet 1 external record
        (11, 1, "外部共享", False, True, 300.0, 0.0),  # K: 3 months reported, internal only, no records
    ]
    frame = pd.DataFrame(rows, columns=["id", "unit_id", "share_mode", "exempt", "in_service", "effective_hours",
                                        "external_hours"])
    frame["inner_id"] = [f"N-{i}" for i in frame["id"]]
    frame["name_zh"] = [f"仪器{i}" for i in frame["id"]]
    frame["name_en"] = ""
    frame["unit_name"] = frame["unit_id"].map({1: "甲", 2: "乙", 3: "丙", 4: "丁"})
    frame["unit_name_en"] = ""
    return frame


def _services() -> pd.DataFrame:
    rows = ([(1, "外部用户")] * 3 + [(2, "外部用户")] * 5 + [(3, "内部用户")] * 4 + [(8, "外部用户")] * 2
            + [(10, "外部用户")])
    return pd.DataFrame(rows, columns=["instrument_id", "user_type"])


def _year_usage() -> pd.DataFrame:
    """usage_by_instrument_year rows: hours as in _annual, months_reported as noted there."""
    rows = [(i, 2025, 12) for i in (1, 2, 3, 4, 5, 6, 7, 8)] + [(11, 2025, 3), (9, 2024, 12)]
    frame = pd.DataFrame(rows, columns=["instrument_id", "year", "months_reported"])
    hours = _annual().set_index("id")
    frame["effective_hours"] = frame["instrument_id"].map(hours["effective_hours"])
    frame["external_hours"] = frame["instrument_id"].map(hours["external_hours"])
    return frame


def _flags(frame: pd.DataFrame) -> dict:
    return {int(r["instrument_id"]): (bool(r["no_records"]), bool(r["low_ratio"]), bool(r["not_reported"]))
            for _, r in frame.iterrows()}


def test_months_reported_from_annual_totals_or_monthly_rows():
    assert Q.months_reported(_year_usage(), 2025).to_dict() == {1: 12, 2: 12, 3: 12, 4: 12, 5: 12, 6: 12, 7: 12,
                                                                8: 12, 11: 3}
    assert Q.months_reported(_year_usage(), 2024).to_dict() == {9: 12}
    monthly = pd.DataFrame({"instrument_id": [5, 5, 5, 6, 6], "year": [2025, 2025, 2024, 2025, 2025],
                            "month": [1, 2, 1, 7, 8], "effective_hours": 1.0})
    assert Q.months_reported(monthly, 2025).to_dict() == {5: 2, 6: 2}  # rows counted
    assert Q.months_reported(monthly).to_dict() == {5: 3, 6: 2}  # all years
    assert Q.months_reported(monthly.iloc[0:0], 2025).empty


def test_nominally_open_candidates_only_among_reporting_instruments():
    out = Q.nominally_open_candidates(_annual(), _services(), _year_usage(), year=2025)
    assert list(out.columns) == Q.CANDIDATE_COLUMNS
    # A low ratio; C and G no external-user record; K both (0 h external of 300 h internal).
    # I and J (no usage row in 2025) are not candidates, whatever their records.
    assert _flags(out) == {1: (False, True, False), 3: (True, False, False), 7: (True, False, False),
                           11: (True, True, False)}
    by_id = out.set_index("instrument_id")
    assert by_id.loc[1, "internal_hours"] == 950.0 and by_id.loc[1, "external_ratio"] == pytest.approx(50 / 950)
    assert by_id.loc[1, "external_records"] == 3 and by_id.loc[1, "months_reported"] == 12
    assert by_id.loc[11, "months_reported"] == 3 and by_id.loc[11, "external_ratio"] == 0.0
    assert math.isnan(by_id.loc[7, "external_ratio"])
    # by unit; within unit 1 the lower ratio first: K (0 %) before A (5.3 %)
    assert list(out["instrument_id"]) == [11, 1, 3, 7]


def test_instruments_without_usage_reported_are_set_aside_not_candidates():
    aside = Q.not_reported_open(_annual(), _year_usage(), 2025)
    assert list(aside.columns) == Q.CANDIDATE_COLUMNS
    assert list(aside["instrument_id"]) == [10, 9]  # unit 3 (J) before unit 4 (I)
    assert _flags(aside) == {9: (False, False, True), 10: (False, False, True)}
    assert list(aside["months_reported"]) == [0, 0]
    # the review lists every declared-open instrument: A B C G H I J K
    review = Q.nominal_open_review(_annual(), _services(), _year_usage(), year=2025)
    assert sorted(review["instrument_id"]) == [1, 2, 3, 7, 8, 9, 10, 11]
    assert not (review["not_reported"] & (review["no_records"] | review["low_ratio"])).any()
    assert review.set_index("instrument_id").loc[10, "external_records"] == 1  # kept as evidence
    # counting 2024 too, I reported 12 months and becomes a no-records candidate; J stays aside
    all_years = Q.nominally_open_candidates(_annual(), _services(), _year_usage())
    assert 9 in set(all_years["instrument_id"])
    assert list(Q.not_reported_open(_annual(), _year_usage())["instrument_id"]) == [10]


def test_the_same_rows_from_monthly_usage_rows():
    monthly = pd.DataFrame({"instrument_id": [1] * 12 + [3] * 12 + [7] * 12 + [11] * 3 + [9],
                            "year": [2025] * 39 + [2024], "month": list(range(1, 13)) * 3 + [1, 2, 3, 1]})
    out = Q.nominally_open_candidates(_annual(), _services(), monthly, year=2025)
    assert list(out["instrument_id"]) == [11, 1, 3, 7]
    assert list(out["months_reported"]) == [3, 12, 12, 12]
    # B and H have no monthly row in this frame: set aside with I and J
    assert list(Q.not_reported_open(_annual(), monthly, 2025)["instrument_id"]) == [2, 10, 8, 9]


def test_a_wider_ratio_lists_more_candidates_and_by_unit_counts_the_judged():
    out = Q.nominally_open_candidates(_annual(), _services(), _year_usage(), max_external_ratio=0.3, year=2025)
    # B (25 %), C (25 %) and H (10 %) are now low too; I and J are still not candidates
    assert _flags(out) == {1: (False, True, False), 2: (False, True, False), 3: (True, True, False),
                           7: (True, False, False), 8: (False, True, False), 11: (True, True, False)}
    default = Q.nominally_open_candidates(_annual(), _services(), _year_usage(), year=2025)
    aside = Q.not_reported_open(_annual(), _year_usage(), 2025)
    by_unit = Q.candidates_by_unit(default, _annual(), aside)
    assert list(by_unit.columns) == Q.BY_UNIT_COLUMNS
    # unit 1 declares A B K, candidates A K: 2 of 3; unit 2 declares C only (D exempt, E scrapped,
    # F internal): 1 of 1; unit 3 declares G H J, J set aside: judged 2, candidate G: 1 of 2.
    # Unit 4 (I only, set aside) has no candidate and is not listed.
    assert list(by_unit["unit_id"]) == [1, 2, 3]
    rows = by_unit.set_index("unit_id")
    assert tuple(rows.loc[1, ["declared", "not_reported", "judged", "candidates"]]) == (3, 0, 3, 2)
    assert rows.loc[1, "candidate_share"] == pytest.approx(2 / 3)
    assert tuple(rows.loc[2, ["declared", "not_reported", "judged", "candidates"]]) == (1, 0, 1, 1)
    assert tuple(rows.loc[3, ["declared", "not_reported", "judged", "candidates"]]) == (3, 1, 2, 1)
    assert rows.loc[3, "candidate_share"] == 0.5
    # without the set-aside frame, nothing is taken off: unit 3 judged 3
    assert Q.candidates_by_unit(default, _annual()).set_index("unit_id").loc[3, "judged"] == 3


def test_service_records_of_other_years_do_not_count():
    services = pd.DataFrame({"instrument_id": [2, 2], "user_type": ["外部用户", "外部用户"],
                             "start_time": pd.to_datetime(["2024-05-01 09:00", "2024-06-01 09:00"])})
    usage = pd.DataFrame({"instrument_id": [2, 2], "year": [2024, 2025], "months_reported": [12, 12]})
    one = _annual()[_annual()["id"] == 2]
    out = Q.nominally_open_candidates(one, services, usage, year=2025)
    assert list(out["instrument_id"]) == [2] and bool(out.iloc[0]["no_records"])
    assert Q.nominally_open_candidates(one, services, usage, year=2024).empty
    assert len(Q.declared_open(_annual())) == 8  # A, B, C, G, H, I, J, K


def test_nothing_declared_gives_empty_frames_with_the_columns():
    none = _annual()[_annual()["share_mode"] != "外部共享"]
    for frame in (Q.nominally_open_candidates(none, _services(), _year_usage(), year=2025),
                  Q.not_reported_open(none, _year_usage(), 2025),
                  Q.nominal_open_review(_annual().iloc[0:0], _services(), _year_usage(), year=2025)):
        assert frame.empty and list(frame.columns) == Q.CANDIDATE_COLUMNS
    assert list(Q.candidates_by_unit(none.iloc[0:0], none).columns) == Q.BY_UNIT_COLUMNS


def test_headline_counts_only_real_candidates():
    from dashboard.i18n import Translator
    from dashboard.ui import quality_view as view

    candidates = Q.nominally_open_candidates(_annual(), _services(), _year_usage(), year=2025)
    aside = Q.not_reported_open(_annual(), _year_usage(), 2025)
    empty = pd.DataFrame({"never_reported": [], "late": [], "missing": []})
    h = view.headline(empty, pd.DataFrame(), pd.DataFrame(), candidates, aside)
    assert (h.candidates, h.set_aside) == (4, 2)
    cards = dict((label, (value, help_text)) for label, value, help_text in view.headline_cards(h, "usage", Translator("zh")))
    value, help_text = cards["疑似名义开放仪器"]
    assert value == "4" and "全年未报送使用数据的 2 台无法判断，未计入" in help_text
    table = view.set_aside_frame(aside, Translator("zh"))
    assert list(table["未判断原因"]) == ["全年未报送使用数据，无法判断"] * 2
    assert list(table["本年已报送月数"]) == [0, 0]


# ---------------------------------------------------------------------------------- downloads


def test_csv_has_bom_crlf_neutralised_text_and_empty_missing_cells():
    frame = pd.DataFrame({"单位": ["=HYPERLINK(1)", "甲"], "机时": [12.0, float("nan")], "天": [3, 4]})
    data = Q.frame_csv(frame)
    assert data.startswith("\ufeff".encode("utf-8"))
    text = data.decode("utf-8-sig")
    assert text.split("\r\n")[:3] == ["单位,机时,天", "'=HYPERLINK(1),12,3", "甲,,4"]
