"""Utilisation figures on a hand-made fixture; every expected number is worked out by hand below.

Fixture (year 2025, previous year 2024), default policy: rated 1400 h 通用 / 800 h 专用; lines:
idle < 800 h, saturated ≥ 1200 h.

| id | unit | type | class  | region | purpose | value     | status | exempt | mode     | 2025 eff/ext/samples/down | 2024 eff |
|----|------|------|--------|--------|---------|-----------|--------|--------|----------|---------------------------|----------|
| 1  | 1    | 高校 | 010501 | 152921 | 通用    | 1,000,000 | 正常   |        | 自营     | 1500 / 300 / 120 / 10     | 1000     |
| 2  | 1    | 高校 | 010201 | Z01    | 专用    |   200,000 | 正常   | 国防   | 自营     |  600 /   0 /  30 / 40     |  800     |
| 3  | 2    | 企业 | 020101 | 152923 | 通用    | 3,000,000 | 正常   |        | 代理     |  350 / 350 /  10 /  0     |  —       |
| 4  | 2    | 企业 | 020101 | 152923 | 专用    |    80,000 | 待报废 |        | 融资租赁 |   50 /   0 /   0 /  0     |  100     |
| 5  | 3    | 企业 | 010101 | 152922 | 通用    |   500,000 | 正常   |        | 自营     |  — (no rows)              |  — (commissioned 2025-03) |

In service 2025: 1, 2, 3, 5 (4 awaits scrapping). Rated: 1400, 800, 1400, 1400 = 5000 h.
Effective 1500 + 600 + 350 + 0 = 2450 h → utilisation 0.49. External 650 h → share 650/2450.
Load: 1 saturated (1500 ≥ 1200); 2 (600), 3 (350), 5 (0) idle.
2024 register: 1, 2, 3, 4 (5 not yet commissioned); in service 1, 2, 3: effective 1800 h, rated 3600 h.
Z01 is a zone of banner 152921.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard import policy as P
from dashboard import utilisation as U
from dashboard.load import LoadLines, load_class

NAN = math.nan


def _instruments() -> pd.DataFrame:
    rows = [
        (1, 1, "A1", "高校", "010501", "152921", "通用", 1_000_000, "正常", "", "自营", date(2018, 1, 1)),
        (2, 1, "A2", "高校", "010201", "Z01", "专用", 200_000, "正常", "国防", "自营", date(2018, 1, 1)),
        (3, 2, "B1", "企业", "020101", "152923", "通用", 3_000_000, "正常", "", "代理", date(2019, 6, 1)),
        (4, 2, "B2", "企业", "020101", "152923", "专用", 80_000, "待报废", "", "融资租赁", date(2010, 1, 1)),
        (5, 3, "C1", "企业", "010101", "152922", "通用", 500_000, "正常", "", "自营", date(2025, 3, 1)),
    ]
    frame = pd.DataFrame(rows, columns=["id", "unit_id", "inner_id", "unit_type", "class_code", "region_code", "purpose",
                                        "original_value", "status", "exempt_reason", "operation_mode", "start_date"])
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["share_mode"] = "外部共享"
    frame["name_zh"] = frame["inner_id"] + "仪器"
    return frame


def _usage() -> pd.DataFrame:
    rows = [
        # instrument_id, year, effective, external, samples, downtime
        (1, 2025, 1500.0, 300.0, 120, 10.0),
        (2, 2025, 600.0, 0.0, 30, 40.0),
        (3, 2025, 350.0, 350.0, 10, 0.0),
        (4, 2025, 50.0, 0.0, 0, 0.0),
        (1, 2024, 1000.0, 0.0, 5, 0.0),
        (2, 2024, 800.0, 0.0, 5, 0.0),
        (4, 2024, 100.0, 0.0, 5, 0.0),
    ]
    frame = pd.DataFrame(rows, columns=["instrument_id", "year", "effective_hours", "external_hours", "samples", "downtime_hours"])
    # instrument 3 reported 7 months of 2025; instrument 5 (commissioned 2025-03) has no row at all
    frame["months_reported"] = [12, 12, 7, 12, 12, 12, 12]
    return frame


REGIONS = pd.DataFrame({
    "code": ["152921", "152922", "152923", "Z01"],
    "name_zh": ["阿拉善左旗", "阿拉善右旗", "额济纳旗", "高新区"],
    "name_en": ["Alxa Left", "Alxa Right", "Ejin", "Hi-tech zone"],
    "kind": ["banner", "banner", "banner", "zone"],
    "within": ["", "", "", "152921"],
})


def frames(policy: P.PolicyDefaults = P.DEFAULTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(2025 frame, 2024 frame) of the fixture."""
    return (U.utilisation_frame(_instruments(), _usage(), 2025, policy, REGIONS),
            U.utilisation_frame(_instruments(), _usage(), 2024, policy, REGIONS))


def by_key(figures: pd.DataFrame) -> dict:
    return {row["key"]: row for _, row in figures.iterrows()}


# ---- the frame --------------------------------------------------------------------------------


def test_utilisation_frame_adds_samples_downtime_class_and_banner():
    annual, previous = frames()
    rows = annual.set_index("id")
    assert rows["samples"].to_dict() == {1: 120.0, 2: 30.0, 3: 10.0, 4: 0.0, 5: 0.0}
    assert rows["downtime_hours"].to_dict() == {1: 10.0, 2: 40.0, 3: 0.0, 4: 0.0, 5: 0.0}
    assert rows["top_class"].to_dict() == {1: "01", 2: "01", 3: "02", 4: "02", 5: "01"}
    assert rows["banner_code"].to_dict() == {1: "152921", 2: "152921", 3: "152923", 4: "152923", 5: "152922"}
    assert rows["rated_hours"].to_dict() == {1: 1400.0, 2: 800.0, 3: 1400.0, 4: 800.0, 5: 1400.0}
    assert rows["in_service"].to_dict() == {1: True, 2: True, 3: True, 4: False, 5: True}
    # 2024: instrument 5 was not commissioned yet.
    assert sorted(previous["id"]) == [1, 2, 3, 4]
    assert previous.set_index("id")["effective_hours"].to_dict() == {1: 1000.0, 2: 800.0, 3: 0.0, 4: 100.0}


def test_edited_rated_hours_flow_into_the_frame():
    policy = P.PolicyDefaults(rated_hours_general=1000, rated_hours_special=600)
    annual, _ = frames(policy)
    rows = annual.set_index("id")
    assert rows["rated_hours"].to_dict() == {1: 1000.0, 2: 600.0, 3: 1000.0, 4: 600.0, 5: 1000.0}
    assert rows.loc[1, "utilisation"] == pytest.approx(1.5)  # 1500 / 1000


def test_in_service_drops_scrapped_and_keeps_exempt():
    annual, _ = frames()
    kept = U.in_service(annual)
    assert sorted(kept["id"]) == [1, 2, 3, 5]
    assert bool(kept.set_index("id").loc[2, "exempt"])  # exempt instrument 2 stays in


# ---- load lines --------------------------------------------------------------------------------


def test_load_class_absolute_and_share_lines():
    annual, _ = frames()
    kept = U.in_service(annual).set_index("id")
    assert load_class(kept).to_dict() == {1: "saturated", 2: "idle", 3: "idle", 5: "idle"}
    # Share 0.5: idle lines 700 h (通用) and 400 h (专用); instrument 2 (600 h, 专用) is normal.
    share = LoadLines(low_use_share=0.5)
    assert load_class(kept, share).to_dict() == {1: "saturated", 2: "normal", 3: "idle", 5: "idle"}
    # Absolute 500 h: 600 h is normal; saturation raised to 1600 h: 1500 h is normal.
    assert load_class(kept, LoadLines(low_use_hours=500, saturation_hours=1600)).to_dict() == {
        1: "normal", 2: "normal", 3: "idle", 5: "idle"}


# ---- totals and groups ----------------------------------------------------------------------------


def test_totals_with_previous_year():
    annual, previous = frames()
    row = U.totals(annual, LoadLines(), previous)
    assert row["instruments"] == 4
    assert row["value_cny"] == 4_700_000  # 1,000,000 + 200,000 + 3,000,000 + 500,000
    assert row["effective_hours"] == 2450
    assert row["rated_hours"] == 5000
    assert row["utilisation"] == pytest.approx(0.49)
    assert row["avg_effective_hours"] == pytest.approx(612.5)
    assert row["external_hours"] == 650
    assert row["external_share"] == pytest.approx(650 / 2450)
    assert row["samples"] == 160
    assert row["downtime_hours"] == 50
    assert row["idle"] == 3
    assert row["saturated"] == 1
    assert row["effective_hours_prev"] == 1800  # 1000 + 800 + 0 (instrument 4 scrapped)
    assert row["utilisation_prev"] == pytest.approx(0.5)  # 1800 / 3600
    assert row["effective_change"] == pytest.approx(650 / 1800)  # (2450 − 1800) / 1800
    assert row["utilisation_change"] == pytest.approx(-0.01)  # 0.49 − 0.50


def test_previous_year_totals_on_their_own():
    _, previous = frames()
    row = U.totals(previous)
    assert (row["instruments"], row["effective_hours"], row["rated_hours"]) == (3, 1800, 3600)
    assert (row["idle"], row["saturated"]) == (1, 0)  # 1000 h and 800 h are normal; instrument 3 (0 h) idle
    assert math.isnan(row["effective_change"])


def test_totals_under_share_rule_and_edited_lines():
    annual, _ = frames()
    row = U.totals(annual, LoadLines(low_use_share=0.5))
    assert (row["idle"], row["saturated"]) == (2, 1)
    row = U.totals(annual, LoadLines(low_use_share=0.5, saturation_hours=1600))
    assert (row["idle"], row["saturated"]) == (2, 0)
    row = U.totals(annual, LoadLines(low_use_hours=500))
    assert (row["idle"], row["saturated"]) == (2, 1)


def test_totals_with_edited_rated_hours():
    policy = P.PolicyDefaults(rated_hours_general=1000, rated_hours_special=600)
    annual, previous = frames(policy)
    row = U.totals(annual, LoadLines(low_use_share=0.5), previous)
    assert row["rated_hours"] == 3600  # 1000 + 600 + 1000 + 1000
    assert row["utilisation"] == pytest.approx(2450 / 3600)
    assert row["utilisation_prev"] == pytest.approx(1800 / 2600)  # 1000 + 600 + 1000
    # Share 0.5 of 1000 / 600 h: lines 500 h / 300 h; 1 saturated, 2 normal (600 ≥ 300), 3 and 5 idle.
    assert (row["idle"], row["saturated"]) == (2, 1)


def test_group_figures_by_unit():
    annual, previous = frames()
    figures = U.group_figures(annual, "unit", LoadLines(), previous)
    assert list(figures.columns) == U.GROUP_COLUMNS
    # Ordered by utilisation, highest first: unit 1 (2100/2200), unit 2 (350/1400), unit 3 (0).
    assert list(figures["key"]) == [1, 2, 3]
    one, two, three = (by_key(figures)[k] for k in (1, 2, 3))
    assert (one["instruments"], one["effective_hours"], one["rated_hours"]) == (2, 2100, 2200)
    assert one["utilisation"] == pytest.approx(2100 / 2200)
    assert one["external_share"] == pytest.approx(300 / 2100)
    assert (one["samples"], one["downtime_hours"], one["idle"], one["saturated"]) == (150, 50, 1, 1)
    assert one["effective_hours_prev"] == 1800
    assert one["effective_change"] == pytest.approx(300 / 1800)
    assert one["utilisation_change"] == pytest.approx(300 / 2200)
    # Unit 2: the scrapped instrument 4 is left out; last year 0 h → no relative change.
    assert (two["instruments"], two["effective_hours"], two["rated_hours"], two["value_cny"]) == (1, 350, 1400, 3_000_000)
    assert two["utilisation"] == pytest.approx(0.25)
    assert two["external_share"] == pytest.approx(1.0)
    assert two["effective_hours_prev"] == 0
    assert math.isnan(two["effective_change"])
    assert two["utilisation_change"] == pytest.approx(0.25)
    # Unit 3: no use (share undefined) and no instrument last year (changes undefined).
    assert (three["effective_hours"], three["utilisation"], three["idle"]) == (0, 0, 1)
    assert math.isnan(three["external_share"])
    assert math.isnan(three["effective_hours_prev"])
    assert math.isnan(three["utilisation_change"])


def test_group_figures_without_previous_year_leave_changes_blank():
    annual, _ = frames()
    figures = U.group_figures(annual, "unit")
    assert figures[["effective_hours_prev", "utilisation_prev", "effective_change", "utilisation_change"]].isna().all().all()


def test_group_figures_by_class_region_banner_type_and_mode():
    annual, previous = frames()
    lines = LoadLines()
    by_class = by_key(U.group_figures(annual, "class", lines))
    assert list(by_class) == ["01", "02"]
    assert (by_class["01"]["instruments"], by_class["01"]["effective_hours"], by_class["01"]["rated_hours"]) == (3, 2100, 3600)
    assert by_class["01"]["utilisation"] == pytest.approx(2100 / 3600)
    assert by_class["02"]["effective_hours"] == 350

    by_region = by_key(U.group_figures(annual, "region", lines))
    assert list(by_region) == ["152921", "152922", "152923", "Z01"]
    assert [by_region[k]["effective_hours"] for k in by_region] == [1500, 0, 350, 600]

    by_banner = by_key(U.group_figures(annual, "banner", lines, previous))
    assert list(by_banner) == ["152921", "152922", "152923"]  # Z01 rolled up into 152921
    assert (by_banner["152921"]["instruments"], by_banner["152921"]["effective_hours"]) == (2, 2100)
    assert by_banner["152921"]["effective_change"] == pytest.approx(300 / 1800)

    by_type = U.group_figures(annual, "unit_type", lines)
    assert list(by_type["key"]) == ["高校", "企业"]  # national order
    firms = by_key(by_type)["企业"]
    assert (firms["instruments"], firms["effective_hours"], firms["rated_hours"], firms["idle"]) == (2, 350, 2800, 2)
    assert firms["utilisation"] == pytest.approx(0.125)

    by_mode = U.group_figures(annual, "operation_mode", lines)
    assert list(by_mode["key"]) == ["自营", "代理"]  # the only 融资租赁 instrument is scrapped
    assert by_key(by_mode)["自营"]["effective_hours"] == 2100


def test_group_figures_per_instrument():
    annual, _ = frames()
    figures = U.group_figures(annual, "instrument")
    assert list(figures["key"]) == [1, 2, 3, 5]  # utilisation 1500/1400, 600/800, 350/1400, 0
    assert list(figures["instruments"]) == [1, 1, 1, 1]
    assert list(figures["saturated"]) == [1, 0, 0, 0]


def test_unknown_dimension_is_an_error():
    annual, _ = frames()
    with pytest.raises(ValueError):
        U.group_figures(annual, "colour")


def test_operation_mode_comparison_lists_every_mode():
    annual, previous = frames()
    modes = U.operation_mode_comparison(annual, LoadLines(), previous)
    assert list(modes["key"]) == ["自营", "代理", "融资租赁"]
    own, agent, lease = (by_key(modes)[k] for k in ("自营", "代理", "融资租赁"))
    assert (own["instruments"], own["effective_hours"], own["rated_hours"], own["external_hours"]) == (3, 2100, 3600, 300)
    assert own["utilisation"] == pytest.approx(2100 / 3600)
    assert own["external_share"] == pytest.approx(300 / 2100)
    assert (own["idle"], own["saturated"]) == (2, 1)
    assert own["effective_hours_prev"] == 1800
    assert own["effective_change"] == pytest.approx(300 / 1800)
    assert (agent["instruments"], agent["effective_hours"], agent["external_hours"]) == (1, 350, 350)
    assert agent["external_share"] == pytest.approx(1.0)
    assert (lease["instruments"], lease["effective_hours"], lease["idle"]) == (0, 0, 0)
    assert math.isnan(lease["utilisation"]) and math.isnan(lease["external_share"])


def test_group_members_for_drill_down():
    annual, _ = frames()
    members = U.group_members(annual, "unit", 1, LoadLines(low_use_share=0.5))
    assert list(members["id"]) == [1, 2]  # 1500/1400 before 600/800
    assert list(members["load"]) == ["saturated", "normal"]
    assert list(members["idle_line"]) == [700.0, 400.0]
    assert U.group_members(annual, "unit", 2)["id"].tolist() == [3]  # scrapped 4 left out
    assert U.group_members(annual, "unit", 99).empty


# ---- lists ----------------------------------------------------------------------------------------


def test_idle_and_saturated_lists():
    annual, _ = frames()
    assert U.idle_list(annual)["id"].tolist() == [5, 3, 2]  # 0, 350, 600 h
    assert U.idle_list(annual)["idle_line"].tolist() == [800.0, 800.0, 800.0]
    assert U.idle_list(annual, LoadLines(low_use_share=0.5))["id"].tolist() == [5, 3]
    assert U.saturated_list(annual)["id"].tolist() == [1]
    assert U.saturated_list(annual, LoadLines(saturation_hours=1600)).empty


def test_most_valuable_idle():
    annual, _ = frames()
    assert U.most_valuable_idle(annual, top=2)["id"].tolist() == [3, 5]  # 3,000,000 and 500,000
    assert U.most_valuable_idle(annual)["original_value"].tolist() == [3_000_000, 500_000, 200_000]


def test_the_lists_carry_the_months_reported():
    annual, previous = frames()
    assert annual.set_index("id")["months_reported"].to_dict() == {1: 12, 2: 12, 3: 7, 4: 12, 5: 0}
    assert previous.set_index("id")["months_reported"].to_dict() == {1: 12, 2: 12, 3: 0, 4: 12}
    idle = U.idle_list(annual)  # 5 (0 h, nothing reported), 3 (350 h in 7 months), 2 (600 h in 12)
    assert idle["months_reported"].tolist() == [0, 7, 12]
    assert U.unreported_count(idle) == 1  # instrument 5: its 0 h is missing data
    assert U.most_valuable_idle(annual)["months_reported"].tolist() == [7, 0, 12]  # ids 3, 5, 2
    assert U.unreported_count(U.most_valuable_idle(annual, top=1)) == 0
    saturated = U.saturated_list(annual)
    assert saturated["months_reported"].tolist() == [12] and U.unreported_count(saturated) == 0
    # the idle count itself is unchanged: instrument 5 stays idle
    assert U.totals(annual)["idle"] == 3
    assert U.unreported_count(U.idle_list(annual.iloc[0:0])) == 0


def test_months_reported_unknown_without_the_count_column():
    usage = _usage().drop(columns="months_reported")
    annual = U.utilisation_frame(_instruments(), usage, 2025, regions=REGIONS)
    assert annual["months_reported"].isna().all()
    assert U.unreported_count(U.idle_list(annual)) == 0  # unknown is never taken for "not reported"


# ---- distribution and trend -------------------------------------------------------------------------


def test_utilisation_distribution():
    annual, _ = frames()
    dist = U.utilisation_distribution(annual)
    assert len(dist) == 13 * 3  # every bin × load class
    counts = {(int(b), load): int(n) for b, load, n in zip(dist["bin"], dist["load"], dist["instruments"]) if n}
    # Utilisation: 1 → 1500/1400 = 1.07 (bin 10: 100–120 %), 2 → 0.75 (bin 7), 3 → 0.25 (bin 2), 5 → 0 (bin 0).
    assert counts == {(10, "saturated"): 1, (7, "idle"): 1, (2, "idle"): 1, (0, "idle"): 1}
    top = dist[dist["bin"] == 12].iloc[0]
    assert top["lower"] == 1.5 and math.isnan(top["upper"])


def test_distribution_bin_edges_are_closed_below():
    frame = pd.DataFrame({"id": [1, 2, 3], "effective_hours": [140.0, 2100.0, 139.0], "rated_hours": [1400.0] * 3,
                          "utilisation": [0.1, 1.5, 139 / 1400], "in_service": [True] * 3})
    dist = U.utilisation_distribution(frame)
    counts = dist.groupby("bin")["instruments"].sum()
    assert (counts[0], counts[1], counts[12]) == (1, 1, 1)


def _monthly() -> pd.DataFrame:
    rows = [
        # instrument_id, year, month, effective, external
        (1, 2025, 1, 100.0, 10.0),
        (1, 2025, 2, 200.0, 20.0),
        (2, 2025, 1, 50.0, 0.0),
        (4, 2025, 1, 999.0, 0.0),  # scrapped: left out
        (4, 2025, 3, 999.0, 0.0),  # so month 3 has no row of an instrument in service
        (1, 2024, 1, 80.0, 0.0),
    ]
    frame = pd.DataFrame(rows, columns=["instrument_id", "year", "month", "effective_hours", "external_hours"])
    frame["samples"], frame["downtime_hours"] = 0, 0.0
    return frame


def test_monthly_trend_this_and_last_year():
    annual, previous = frames()
    now = U.monthly_trend(_monthly(), annual, 2025)
    assert now["month"].tolist() == [1, 2]
    assert now["effective_hours"].tolist() == [150.0, 200.0]
    assert now["external_hours"].tolist() == [10.0, 20.0]
    assert now["rated_hours"].tolist() == pytest.approx([5000 / 12] * 2)
    assert now["utilisation"].tolist() == pytest.approx([0.36, 0.48])  # 150 × 12 / 5000, 200 × 12 / 5000
    before = U.monthly_trend(_monthly(), previous, 2024)
    assert before["effective_hours"].tolist() == [80.0]
    assert before["utilisation"].tolist() == pytest.approx([80 * 12 / 3600])
    assert U.monthly_trend(_monthly(), annual, 2023).empty


def test_monthly_trend_of_one_group():
    annual, _ = frames()
    members = U.group_members(annual, "unit", 1)
    trend = U.monthly_trend(_monthly(), members, 2025)
    assert trend["effective_hours"].tolist() == [150.0, 200.0]
    assert trend["utilisation"].tolist() == pytest.approx([150 * 12 / 2200, 200 * 12 / 2200])


# ---- empty inputs -------------------------------------------------------------------------------


def test_empty_scope():
    annual, previous = frames()
    nothing = annual[annual["id"] == 4]  # only the scrapped instrument
    row = U.totals(nothing, LoadLines(), previous)
    assert (row["instruments"], row["effective_hours"], row["idle"]) == (0, 0, 0)
    assert math.isnan(row["utilisation"])
    assert row["effective_hours_prev"] == 1800
    assert U.group_figures(nothing, "unit").empty
    assert U.idle_list(nothing).empty
    assert U.utilisation_distribution(nothing)["instruments"].sum() == 0
    assert U.monthly_trend(_monthly(), nothing, 2025).empty
    modes = U.operation_mode_comparison(nothing)
    assert modes["instruments"].tolist() == [0, 0, 0]


def test_no_usage_gives_zero_hours():
    annual = U.utilisation_frame(_instruments(), _usage().iloc[0:0], 2025, regions=REGIONS)
    assert annual["effective_hours"].tolist() == [0.0] * 5
    assert annual["samples"].tolist() == [0.0] * 5
    assert annual["months_reported"].tolist() == [0] * 5
    assert U.unreported_count(U.idle_list(annual)) == 4  # every in-service instrument
    row = U.totals(annual)
    assert (row["instruments"], row["idle"], row["saturated"]) == (4, 4, 0)
    assert row["utilisation"] == 0
    assert np.isnan(row["external_share"])
