"""Innovation-voucher simulation: hand-made service records, every number worked out by hand."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import replace
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import vouchers as V
from models import queries
from tests.factories import add_instrument, add_service, add_unit

SME, LARGE = "本地中小企业", "本地大型企业"
EXT, INT = "外部用户", "内部用户"


def rec(id_, start, firm, fee, unit, kind=SME, user=EXT, region="152921"):
    return {"id": id_, "start_time": pd.Timestamp(start), "applicant_unit": firm, "service_amount_cny": fee,
            "client_kind": kind, "user_type": user, "unit_id": unit, "client_region_code": region}


# Holders: units 1 and 2. Firms A, B, C (local SMEs), L (large firm).
# Rows are typed out of id order on purpose: id 10 comes before id 9 and both start at the same moment.
ROWS = [
    rec(1, "2025-01-10 09:00", "A", 10_000, 1),
    rec(2, "2025-01-20 09:00", "B", 60_000, 2),
    rec(3, "2025-02-05 09:00", "L", 40_000, 1, kind=LARGE),    # excluded: client kind
    rec(4, "2025-02-10 09:00", "A", 8_000, 2, user=INT),       # excluded: internal user
    rec(5, "2025-03-01 09:00", "A", 50_000, 1),
    rec(6, "2025-03-15 09:00", "A", 40_000, 2),
    rec(7, "2025-04-02 09:00", "A", 30_000, 1),
    rec(8, "2025-04-20 09:00", "A", 2_000, 2),
    rec(10, "2025-05-06 10:00", "C", 44_000, 2, region="Z01"),  # tie with id 9: id 9 is served first
    rec(9, "2025-05-06 10:00", "B", 36_000, 1),
    rec(11, "2025-06-01 09:00", "C", 4_000, 1, region="Z01"),
    rec(12, "2025-07-01 09:00", "B", 1_000, 2),
    rec(13, "2024-12-31 23:00", "A", 10_000, 1),               # other year: ignored, not even excluded
    rec(14, "2025-08-01 09:00", "C", 0, 1, region="Z01"),       # excluded: no fee
    rec(15, "2025-08-02 09:00", "  ", 5_000, 2),                # excluded: no firm named
]
SERVICES = pd.DataFrame(ROWS)

# ratio 0.5, 20,000 per application, 50,000 per firm and year, pool 100,000, holders get 20 %.
P = V.VoucherParams(voucher_ratio=0.5, per_application_cap_cny=20_000, per_firm_annual_cap_cny=50_000,
                    pool_cny=100_000, holder_redemption_share=0.2)

# Served in order id 1, 2, 5, 6, 7, 8, 9, 10, 11, 12 (request = 0.5 × fee, then the limits):
#  id  month firm  fee     0.5×fee  app cap  firm paid before → after   pool left before  voucher
#   1   1    A    10,000   5,000    5,000    A 0      → 5,000           100,000           5,000
#   2   1    B    60,000  30,000   20,000*   B 0      → 20,000           95,000          20,000
#   5   3    A    50,000  25,000   20,000*   A 5,000  → 25,000           75,000          20,000
#   6   3    A    40,000  20,000   20,000    A 25,000 → 45,000           55,000          20,000
#   7   4    A    30,000  15,000   15,000    A 45,000: 5,000 left*       35,000           5,000
#   8   4    A     2,000   1,000    1,000    A 50,000: 0 left (refused)  30,000               0
#   9   5    B    36,000  18,000   18,000    B 20,000 → 38,000           30,000          18,000
#  10   5    C    44,000  22,000   20,000*   C 0                         12,000*         12,000 → pool 0 in May
#  11   6    C     4,000   2,000    2,000    C 12,000                         0 (refused)     0
#  12   7    B     1,000     500      500    B 38,000                         0 (refused)     0
# (* = the limit binds.) Spend 5+20+20+20+5+18+12 = 100,000 = the pool.


def test_the_hand_worked_year_with_every_limit_binding():
    o = V.simulate(SERVICES, P, 2025)
    assert o.spend_cny == 100_000
    assert o.pool_remaining_cny == 0
    assert o.pool_exhausted_month == 5
    # Records 1, 2, 5, 6, 7, 9, 10 got a voucher; A, B and C all got one.
    assert (o.eligible_services, o.services_covered, o.services_covered_est) == (10, 7, 7)
    assert (o.firms_eligible, o.firms_served) == (3, 3)
    assert o.binding == {"per_application": 3, "per_firm_annual": 2, "pool": 3}  # ids 2,5,10 | 7,8 | 10,11,12
    assert o.refused == {"per_firm_annual": 1, "pool": 2}  # id 8 | ids 11, 12
    assert o.refused_for_pool == 2
    assert o.excluded == {"client_kind": 1, "internal_user": 1, "client_region": 0, "no_firm": 1, "no_fee": 1}
    # Requested before caps: 5,000+30,000+25,000+20,000+15,000+1,000+18,000+22,000+2,000+500 = 138,500
    assert o.requested_cny == 138_500
    # Fees of eligible records: 10+60+50+40+30+2+36+44+4+1 thousand = 277,000
    assert o.eligible_fee_cny == 277_000
    # Without a pool limit: A 5+20+20+5+0 = 50,000; B 20+18+0.5 = 38,500; C 20+2 = 22,000 → 110,500
    assert o.demand_cny == 110_500
    assert o.post_subsidy_cny == 20_000  # 20 % of 100,000


def test_records_are_served_by_start_time_then_record_id():
    o = V.simulate(SERVICES, P, 2025)
    r = o.records
    assert r["id"].tolist() == [1, 2, 5, 6, 7, 8, 9, 10, 11, 12]
    assert r["voucher_cny"].tolist() == [5_000, 20_000, 20_000, 20_000, 5_000, 0, 18_000, 12_000, 0, 0]
    assert r["demand_cny"].tolist() == [5_000, 20_000, 20_000, 20_000, 5_000, 0, 18_000, 20_000, 2_000, 500]
    assert r["capped_per_application"].tolist() == [False, True, True, False, False, False, False, True, False, False]
    assert r["capped_per_firm_annual"].tolist() == [False, False, False, False, True, True, False, False, False, False]
    assert r["capped_pool"].tolist() == [False, False, False, False, False, False, False, True, True, True]
    # Had id 10 (C) gone first at the tie: C 20,000 (left 10,000), then B only 10,000 instead of 18,000.
    swapped = SERVICES.assign(id=SERVICES["id"].replace({9: 10, 10: 9}))
    s = V.simulate(swapped, P, 2025).records.set_index("applicant_unit")
    assert s.loc[s["month"] == 5, "voucher_cny"].to_dict() == {"C": 20_000, "B": 10_000}


def test_holders_firms_and_the_reward_basis():
    o = V.simulate(SERVICES, P, 2025)
    # unit 1: ids 1 (5,000), 5 (20,000), 7 (5,000), 9 (18,000), 11 (0) → 48,000; 20 % = 9,600
    # unit 2: ids 2 (20,000), 6 (20,000), 8 (0), 10 (12,000), 12 (0) → 52,000; 20 % = 10,400
    h = o.by_holder
    assert list(h.columns) == list(V.HOLDER_COLUMNS)
    assert h["unit_id"].tolist() == [2, 1]  # most revenue first
    assert h["services"].tolist() == [5, 5]
    assert h["services_covered"].tolist() == [3, 4]
    assert h["voucher_revenue_cny"].tolist() == [52_000, 48_000]
    assert h["post_subsidy_cny"].tolist() == [10_400, 9_600]
    basis = o.voucher_revenue()
    assert basis.name == "voucher_revenue" and basis.to_dict() == {2: 52_000.0, 1: 48_000.0}
    # Firms: A 50,000 (its cap), B 20,000 + 18,000 = 38,000, C 12,000.
    f = o.by_firm.set_index("applicant_unit")
    assert f["voucher_cny"].to_dict() == {"A": 50_000, "B": 38_000, "C": 12_000}
    assert f["reached_annual_cap"].to_dict() == {"A": True, "B": False, "C": False}
    assert f["services"].to_dict() == {"A": 5, "B": 3, "C": 2}
    assert f["services_covered"].to_dict() == {"A": 4, "B": 2, "C": 1}
    assert f["fee_cny"].to_dict() == {"A": 132_000, "B": 97_000, "C": 48_000}  # 10+50+40+30+2 | 60+36+1 | 44+4


def test_monthly_burn_down_and_the_month_the_pool_runs_out():
    m = V.simulate(SERVICES, P, 2025).monthly
    assert list(m.columns) == list(V.MONTHLY_COLUMNS)
    assert m["month"].tolist() == list(range(1, 13))
    # Jan 5,000 + 20,000; Mar 20,000 + 20,000; Apr 5,000; May 18,000 + 12,000
    assert m["spend_cny"].tolist() == [25_000, 0, 40_000, 5_000, 30_000, 0, 0, 0, 0, 0, 0, 0]
    assert m["cumulative_cny"].tolist() == [25_000, 25_000, 65_000, 70_000] + [100_000] * 8
    assert m["remaining_cny"].tolist() == [75_000, 75_000, 35_000, 30_000] + [0] * 8
    assert m["services_covered"].tolist() == [2, 0, 2, 1, 2, 0, 0, 0, 0, 0, 0, 0]
    assert m["refused_pool"].tolist() == [0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]  # ids 11 (Jun), 12 (Jul)
    # Demand under the caps: May 18,000 + 20,000; Jun 2,000; Jul 500
    assert m["demand_cny"].tolist() == [25_000, 0, 40_000, 5_000, 38_000, 2_000, 500, 0, 0, 0, 0, 0]


def test_an_unlimited_pool_pays_the_whole_demand_and_never_runs_out():
    o = V.simulate(SERVICES, replace(P, pool_cny=None), 2025)
    assert o.spend_cny == 110_500 and o.demand_cny == 110_500
    assert o.pool_exhausted_month is None and o.pool_remaining_cny is None
    assert o.refused == {"per_firm_annual": 1, "pool": 0}
    assert o.binding["pool"] == 0
    assert o.monthly["remaining_cny"].isna().all()
    # A pool just above the demand: never runs out, 500 left.
    big = V.simulate(SERVICES, replace(P, pool_cny=111_000), 2025)
    assert (big.spend_cny, big.pool_remaining_cny, big.pool_exhausted_month) == (110_500, 500, None)


def test_a_pool_exactly_equal_to_the_demand_runs_out_with_the_last_voucher():
    # The last paid record is id 12 (500 CNY, July).
    o = V.simulate(SERVICES, replace(P, pool_cny=110_500), 2025)
    assert (o.spend_cny, o.pool_remaining_cny, o.pool_exhausted_month, o.refused_for_pool) == (110_500, 0, 7, 0)


def test_no_caps_leave_only_the_ratio_and_the_pool():
    o = V.simulate(SERVICES, replace(P, per_application_cap_cny=None, per_firm_annual_cap_cny=None, pool_cny=None), 2025)
    assert o.spend_cny == 138_500  # = requested
    assert o.binding == {"per_application": 0, "per_firm_annual": 0, "pool": 0}


def test_more_client_kinds_and_internal_users_widen_eligibility():
    p = replace(P, pool_cny=None, eligible_client_kinds=(SME, LARGE), only_external_users=False)
    o = V.simulate(SERVICES, p, 2025)
    # L (id 3) 20,000 now counts; A's internal id 4 (Feb, 4,000) comes before ids 5, 6, 7:
    # A 5,000 + 4,000 + 20,000 + 20,000 = 49,000, so id 7 gets the last 1,000 and id 8 nothing.
    r = o.records.set_index("id")["voucher_cny"]
    assert (r[3], r[4], r[7], r[8]) == (20_000, 4_000, 1_000, 0)
    assert o.spend_cny == 50_000 + 20_000 + 38_500 + 22_000  # A, L, B, C = 130,500
    assert o.excluded == {"client_kind": 0, "internal_user": 0, "client_region": 0, "no_firm": 1, "no_fee": 1}
    assert o.firms_served == 4


def test_client_region_filter():
    p = replace(P, client_region_codes=("152921", "152922", "152923"))
    o = V.simulate(SERVICES, p, 2025)
    # C sits in Z01: ids 10, 11, 14 are excluded (14 under "client_region", the first rule it fails).
    # Left: 5,000 + 20,000 + 20,000 + 20,000 + 5,000 + 0 + 18,000 + 500 = 88,500 of the 100,000 pool.
    assert o.excluded["client_region"] == 3 and o.excluded["no_fee"] == 0
    assert (o.spend_cny, o.pool_remaining_cny, o.pool_exhausted_month) == (88_500, 11_500, None)
    assert o.firms_served == 2


def test_nothing_is_eligible_when_no_client_kind_is_chosen():
    o = V.simulate(SERVICES, replace(P, eligible_client_kinds=()), 2025)
    assert (o.spend_cny, o.eligible_services, o.excluded["client_kind"]) == (0, 0, 14)


def test_demand_uplift_multiplies_capped_requests_of_single_services():
    rows = pd.DataFrame([
        rec(1, "2025-02-01 09:00", "A", 10_000, 1),
        rec(2, "2025-03-01 09:00", "A", 60_000, 1),
        rec(3, "2025-04-01 09:00", "A", 40_000, 2),
    ])
    p = V.VoucherParams(voucher_ratio=0.5, per_application_cap_cny=20_000, per_firm_annual_cap_cny=50_000,
                        pool_cny=None, demand_uplift=0.5)
    o = V.simulate(rows, p, 2025)
    # Each record stands for 1.5 services of the same fee:
    #   id 1: 0.5 × 10,000 = 5,000 per service → × 1.5 = 7,500
    #   id 2: 0.5 × 60,000 = 30,000 → capped at 20,000 per service → × 1.5 = 30,000 (A: 37,500)
    #        (scaling the fee instead would give min(0.5 × 90,000, 20,000) = 20,000)
    #   id 3: 0.5 × 40,000 = 20,000 → × 1.5 = 30,000 → A has 50,000 − 37,500 = 12,500 left
    assert o.records["voucher_cny"].tolist() == [7_500, 30_000, 12_500]
    assert o.spend_cny == 50_000
    assert o.requested_cny == 1.5 * (5_000 + 30_000 + 20_000)  # 82,500
    assert o.eligible_fee_cny == 1.5 * 110_000  # 165,000
    assert (o.services_covered, o.services_covered_est) == (3, 4.5)
    assert o.binding == {"per_application": 1, "per_firm_annual": 1, "pool": 0}
    # No uplift: 5,000 + 20,000 + 20,000 = 45,000
    assert V.simulate(rows, replace(p, demand_uplift=0.0), 2025).spend_cny == 45_000


def test_money_is_rounded_to_the_cent_halves_up():
    rows = pd.DataFrame([rec(1, "2025-02-01 09:00", "A", 1_000.01, 1), rec(2, "2025-02-02 09:00", "B", 333.33, 1)])
    p = V.VoucherParams(voucher_ratio=0.5, pool_cny=None, holder_redemption_share=0.25, demand_uplift=0.1)
    r = V.simulate(rows, p, 2025).records
    # id 1: 100,001 fen × 0.5 = 50,000.5 → 50,001 fen; × 1.1 = 55,001.1 → 55,001 fen = 550.01 CNY;
    #       post-subsidy 0.25 × 55,001 = 13,750.25 → 13,750 fen = 137.50
    # id 2: 33,333 fen × 0.5 = 16,666.5 → 16,667; × 1.1 = 18,333.7 → 18,334 fen = 183.34;
    #       post-subsidy 0.25 × 18,334 = 4,583.5 → 4,584 fen = 45.84
    assert r["voucher_cny"].tolist() == [550.01, 183.34]
    assert r["post_subsidy_cny"].tolist() == [137.50, 45.84]
    assert r["fee_cny"].tolist() == [1_100.01, 366.66]  # 1.1 × 100,001 = 110,001.1 → 110,001; 1.1 × 33,333 = 36,666.3


def test_empty_input_gives_zeros_and_full_frames():
    for frame in (pd.DataFrame(), SERVICES[SERVICES["id"] == 13]):  # nothing at all; only another year
        o = V.simulate(frame, P, 2025)
        assert (o.spend_cny, o.demand_cny, o.services_covered, o.firms_served) == (0, 0, 0, 0)
        assert (o.pool_remaining_cny, o.pool_exhausted_month) == (100_000, None)
        assert o.binding == {"per_application": 0, "per_firm_annual": 0, "pool": 0}
        assert o.excluded == dict.fromkeys(V.EXCLUSION_REASONS, 0)
        assert list(o.by_holder.columns) == list(V.HOLDER_COLUMNS) and o.by_holder.empty
        assert list(o.by_firm.columns) == list(V.FIRM_COLUMNS) and o.by_firm.empty
        assert list(o.records.columns) == list(V.RECORD_COLUMNS) and o.records.empty
        assert o.monthly["spend_cny"].tolist() == [0] * 12 and o.monthly["remaining_cny"].tolist() == [100_000] * 12
        assert o.voucher_revenue().empty


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="unit_id"):
        V.simulate(SERVICES.drop(columns="unit_id"), P, 2025)
    # client_region_code is needed only when regions are filtered
    V.simulate(SERVICES.drop(columns="client_region_code"), P, 2025)
    with pytest.raises(ValueError, match="client_region_code"):
        V.simulate(SERVICES.drop(columns="client_region_code"), replace(P, client_region_codes=("152921",)), 2025)


def test_summary_carries_the_headline_figures():
    s = V.simulate(SERVICES, P, 2025).summary()
    assert s["spend_cny"] == 100_000 and s["pool_exhausted_month"] == 5 and s["refused_pool"] == 2
    assert s["firms_served"] == 3 and s["services_covered"] == 7 and s["post_subsidy_cny"] == 20_000


# --------------------------------------------------------------------------- recorded use


def test_recorded_use_sums_the_voucher_amounts_of_the_year():
    df = SERVICES.assign(voucher_amount_cny=0.0)
    df.loc[df["id"] == 1, "voucher_amount_cny"] = 1_000.5
    df.loc[df["id"] == 6, "voucher_amount_cny"] = 2_000
    df.loc[df["id"] == 9, "voucher_amount_cny"] = 300
    df.loc[df["id"] == 13, "voucher_amount_cny"] = 9_999  # 2024: not counted
    r = V.recorded_use(df, 2025)
    # 1,000.5 (A, unit 1) + 2,000 (A, unit 2) + 300 (B, unit 1) = 3,300.5; firms A, B
    assert (r.spend_cny, r.services, r.firms) == (3_300.5, 3, 2)
    assert r.by_unit.to_dict() == {1: 1_300.5, 2: 2_000.0}
    assert V.recorded_use(pd.DataFrame(), 2025).spend_cny == 0


# --------------------------------------------------------------------------- parameters


def test_defaults_and_reference_values_come_from_the_policy_facts():
    d = V.VoucherParams()
    assert (d.voucher_ratio, d.per_application_cap_cny, d.per_firm_annual_cap_cny) == (0.5, 20_000, 100_000)
    assert (d.eligible_client_kinds, d.only_external_users, d.client_region_codes) == ((SME,), True, ())
    assert (d.pool_cny, d.holder_redemption_share, d.demand_uplift) == (1_000_000, 0.2, 0.0)
    yuhuan = {r.param: r.value for r in V.REFERENCE_VALUES if r.region == "yuhuan" and r.param != "voucher_ratio"}
    assert yuhuan == {"per_application_cap_cny": 20_000, "per_firm_annual_cap_cny": 100_000}
    assert [r.value for r in V.references_for("per_firm_annual_cap_cny")] == [500_000, 650_000, 100_000, 3_000_000, None]
    assert sorted(r.value for r in V.references_for("voucher_ratio") if r.value is not None) == [0.3, 0.3, 0.4, 0.6, 0.7, 1.0]
    (share,) = V.references_for("holder_redemption_share")
    assert (share.value, share.value_high, share.inferred) == (0.10, 0.30, True)
    assert V.references_for("pool_cny") == []
    assert set(V.DEFAULT_SOURCES) == {f for f in V.VoucherParams.__dataclass_fields__}
    for region, _ in V.DEFAULT_SOURCES.values():
        assert region == "inference" or region in {r.region for r in V.REFERENCE_VALUES}
    with pytest.raises(KeyError):
        V.references_for("nonsense")


@pytest.mark.parametrize("field, value, reason", [
    ("voucher_ratio", 0, "out_of_range"), ("voucher_ratio", 1.2, "out_of_range"),
    ("voucher_ratio", float("nan"), "not_a_number"), ("voucher_ratio", "0.5", "not_a_number"),
    ("voucher_ratio", True, "not_a_number"),
    ("per_application_cap_cny", 0, "out_of_range"), ("per_firm_annual_cap_cny", -1, "out_of_range"),
    ("pool_cny", 0, "out_of_range"), ("holder_redemption_share", 1.01, "out_of_range"),
    ("holder_redemption_share", -0.1, "out_of_range"), ("demand_uplift", -0.1, "out_of_range"),
    ("demand_uplift", float("inf"), "not_a_number"),
    ("eligible_client_kinds", ("小微企业",), "unknown_client_kind"), ("eligible_client_kinds", SME, "not_text"),
    ("client_region_codes", (152921,), "not_text"), ("only_external_users", "yes", "not_a_bool"),
])
def test_invalid_parameters_are_refused_with_the_field_and_a_reason(field, value, reason):
    with pytest.raises(V.VoucherParamsError) as e:
        V.VoucherParams(**{field: value})
    assert (e.value.field, e.value.reason) == (field, reason)


def test_params_round_trip_through_a_dict():
    p = V.VoucherParams(voucher_ratio=0.6, per_application_cap_cny=None, eligible_client_kinds=[SME, LARGE, SME],
                        client_region_codes=["152921"], pool_cny=2_000_000, demand_uplift=0.25)
    assert p.eligible_client_kinds == (SME, LARGE)  # a list becomes a tuple, repeats dropped
    d = p.to_dict()
    assert d["eligible_client_kinds"] == [SME, LARGE] and d["per_application_cap_cny"] is None
    assert V.VoucherParams.from_dict(d) == p
    assert V.VoucherParams.from_dict({}) == V.DEFAULTS
    assert V.VoucherParams.from_dict({"pool_cny": 500_000}).pool_cny == 500_000.0
    with pytest.raises(V.VoucherParamsError) as e:
        V.VoucherParams.from_dict({"ratio": 0.5})
    assert (e.value.field, e.value.reason) == ("ratio", "unknown_field")
    with pytest.raises(V.VoucherParamsError):
        replace(p, voucher_ratio=2.0)  # replace re-validates


# --------------------------------------------------------------------------- properties


_records = st.lists(
    st.tuples(st.integers(1, 12), st.integers(0, 3), st.sampled_from("ABCD"), st.integers(0, 80_000),
              st.sampled_from([1, 2, 3]), st.sampled_from([SME, LARGE]), st.sampled_from([EXT, INT])),
    max_size=30,
)


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame([
        rec(i + 1, f"2025-{m:02d}-{1 + 7 * d:02d} 09:00", firm, fee, unit, kind, user)
        for i, (m, d, firm, fee, unit, kind, user) in enumerate(rows)
    ], columns=list(SERVICES.columns))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_records, ratio=st.sampled_from([0.3, 0.5, 0.7, 1.0]),
       app_cap=st.sampled_from([None, 5_000, 20_000]), firm_cap=st.sampled_from([None, 10_000, 50_000]),
       pool=st.sampled_from([None, 1_000, 30_000, 200_000]), uplift=st.sampled_from([0.0, 0.25, 1.0]))
def test_invariants(rows, ratio, app_cap, firm_cap, pool, uplift):
    p = V.VoucherParams(voucher_ratio=ratio, per_application_cap_cny=app_cap, per_firm_annual_cap_cny=firm_cap,
                        pool_cny=pool, demand_uplift=uplift)
    o = V.simulate(_frame(rows), p, 2025)
    r = o.records
    cents = lambda x: round(x * 100)  # noqa: E731
    # the pool is spent in one order: spend = min(pool, demand) to the cent
    assert cents(o.spend_cny) == (cents(o.demand_cny) if pool is None else min(cents(pool), cents(o.demand_cny)))
    # no record above its own request or (1 + uplift) × the per-application cap
    assert (r["voucher_cny"] <= r["requested_cny"] + 1e-9).all()
    if app_cap is not None:
        assert (r["voucher_cny"] <= (1 + uplift) * app_cap + 0.01).all()
    if firm_cap is not None:
        assert (o.by_firm["voucher_cny"] <= firm_cap + 1e-9).all()
    # the pieces add up
    assert cents(o.by_holder["voucher_revenue_cny"].sum()) == cents(o.spend_cny)
    assert cents(o.by_firm["voucher_cny"].sum()) == cents(o.spend_cny)
    assert cents(o.monthly["spend_cny"].sum()) == cents(o.spend_cny)
    assert cents(o.monthly["demand_cny"].sum()) == cents(o.demand_cny)
    assert o.services_covered == int((r["voucher_cny"] > 0).sum())
    assert o.eligible_services + sum(o.excluded.values()) == len(rows)
    if pool is not None:
        assert (o.pool_exhausted_month is not None) == (cents(o.spend_cny) == cents(pool))
        assert o.refused_for_pool == 0 or o.pool_exhausted_month is not None
    # a bigger pool or a higher ratio never spends less
    bigger = V.simulate(_frame(rows), replace(p, pool_cny=None if pool is None else pool * 2), 2025)
    assert bigger.spend_cny >= o.spend_cny
    if ratio < 1.0:
        assert V.simulate(_frame(rows), replace(p, voucher_ratio=1.0), 2025).spend_cny >= o.spend_cny


@pytest.fixture(scope="module")
def demo_services():
    from dashboard.demo import generate_demo

    d = generate_demo()
    unit_of = d.instruments.set_index("id")["unit_id"]
    return d.services.assign(unit_id=d.services["instrument_id"].map(unit_of))


def test_demo_year_with_the_defaults(demo_services):
    o = V.simulate(demo_services, V.DEFAULTS, 2025)
    assert 0 < o.spend_cny <= 1_000_000
    assert o.spend_cny == min(1_000_000, o.demand_cny)
    assert (o.records["client_kind"] == SME).all()
    assert o.by_firm["voucher_cny"].max() <= 100_000
    assert o.records["voucher_cny"].max() <= 20_000
    assert o.post_subsidy_cny == pytest.approx(0.2 * o.spend_cny, abs=0.01 * o.services_covered)
    assert set(o.by_holder["unit_id"]) <= set(demo_services["unit_id"])


# --------------------------------------------------------------------------- store


def test_simulation_on_records_read_from_the_store(engine):
    # Two holders; three external SME records, two of them at the same moment (the earlier id wins).
    u1 = add_unit(engine, "阿拉善盟测试研究院")
    u2 = add_unit(engine, "阿拉善盟检验检测中心", unit_type="检验检测")
    i1 = add_instrument(engine, u1, "HPLC-1", "高效液相色谱仪")
    i2 = add_instrument(engine, u2, "ICP-1", "电感耦合等离子体质谱仪")
    kw = {"client_kind": SME, "user_type": EXT, "client_region_code": "152921"}
    add_service(engine, i2, datetime(2025, 3, 5, 9), "甲公司", 30_000, **kw)   # 15,000
    add_service(engine, i1, datetime(2025, 3, 5, 9), "乙公司", 50_000, **kw)   # 25,000 → cap 20,000 → pool 5,000 left
    add_service(engine, i1, datetime(2025, 6, 1, 9), "甲公司", 8_000, **kw)    # 4,000 → refused, pool empty
    add_service(engine, i1, datetime(2025, 6, 2, 9), "丙公司", 8_000, client_kind=LARGE, user_type=EXT)
    add_service(engine, i1, datetime(2024, 6, 2, 9), "甲公司", 8_000, **kw)    # other year
    o = V.simulate(queries.services(engine, 2025), V.VoucherParams(pool_cny=20_000), 2025)
    # 15,000 (甲, unit 2) then 乙 min(25,000, 20,000, pool 5,000) = 5,000 (unit 1); pool out in March
    assert (o.spend_cny, o.pool_exhausted_month, o.refused_for_pool) == (20_000, 3, 1)
    assert o.voucher_revenue().to_dict() == {u2: 15_000.0, u1: 5_000.0}
    assert o.binding == {"per_application": 1, "per_firm_annual": 0, "pool": 2}
    assert o.excluded["client_kind"] == 1
    assert o.by_holder.set_index("unit_id")["post_subsidy_cny"].to_dict() == {u2: 3_000.0, u1: 1_000.0}


# --------------------------------------------------------------------------- equivalence
# The simulation once served the records one by one in Python (1.3 s for a province year); it is
# now vectorised (`_cents_array`, `_serve`). The former implementation, kept here verbatim apart
# from its names, must give the same outcome to the cent on seeded random records.

def _former_cents(x: float) -> int:
    """CNY (or a product in cents) → whole cents, halves up; float noise below 1e-6 is dropped."""
    return int(math.floor(round(float(x), 6) + 0.5))


def _former_cap_cents(cap: float | None) -> int | None:
    return None if cap is None else _former_cents(cap * 100)


def _former_text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def _former_year_frame(services: pd.DataFrame, params: V.VoucherParams, year: int) -> pd.DataFrame:
    if services is None or len(services) == 0:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in V.REQUIRED_COLUMNS + ("client_region_code",)})
        return empty.assign(start_time=pd.Series(dtype="datetime64[ns]"))
    needed = V.REQUIRED_COLUMNS + (("client_region_code",) if params.client_region_codes else ())
    missing = [c for c in needed if c not in services.columns]
    if missing:
        raise ValueError(f"service records lack columns {missing}")
    df = services.copy()
    df["start_time"] = pd.to_datetime(df["start_time"])
    df = df[df["start_time"].dt.year == int(year)]
    if "client_region_code" not in df.columns:
        df["client_region_code"] = ""
    return df.reset_index(drop=True)


def _former_exclusion(df: pd.DataFrame, params: V.VoucherParams) -> pd.Series:
    """First failed eligibility rule per record ("" when eligible)."""
    fee = pd.to_numeric(df["service_amount_cny"], errors="coerce")
    checks = {
        "client_kind": ~_former_text(df["client_kind"]).isin(params.eligible_client_kinds),
        "internal_user": (_former_text(df["user_type"]) != V.EXTERNAL_USER) if params.only_external_users else None,
        "client_region": (
            ~_former_text(df["client_region_code"]).isin(params.client_region_codes) if params.client_region_codes else None
        ),
        "no_firm": _former_text(df["applicant_unit"]) == "",
        "no_fee": ~(fee > 0),
    }
    reason = pd.Series("", index=df.index, dtype=object)
    for key in reversed(V.EXCLUSION_REASONS):  # the first failing rule wins
        fails = checks[key]
        if fails is not None:
            reason = reason.mask(fails.to_numpy(dtype=bool), key)
    return reason


def _former_simulate(services: pd.DataFrame, params: V.VoucherParams, year: int) -> V.VoucherOutcome:
    """Replay `year`'s service records under `params` (rules in the module docstring).

    `services` needs the columns of `models.queries.services`: id, start_time, applicant_unit,
    service_amount_cny, client_kind, user_type, unit_id (and client_region_code when
    params.client_region_codes is set). Records of other years are ignored."""
    df = _former_year_frame(services, params, year)
    reason = _former_exclusion(df, params) if len(df) else pd.Series(dtype=object)
    excluded = {k: int((reason == k).sum()) for k in V.EXCLUSION_REASONS}

    el = df[(reason == "").to_numpy(dtype=bool)] if len(df) else df
    el = el.assign(applicant_unit=_former_text(el["applicant_unit"]), client_kind=_former_text(el["client_kind"]),
                   id=pd.to_numeric(el["id"]))
    el = el.sort_values(["start_time", "id"], kind="stable").reset_index(drop=True)

    k = 1.0 + params.demand_uplift
    ratio = params.voucher_ratio
    cap_app = _former_cap_cents(params.per_application_cap_cny)
    cap_firm = _former_cap_cents(params.per_firm_annual_cap_cny)
    pool = _former_cap_cents(params.pool_cny)

    n = len(el)
    fee_c = [_former_cents(f * 100) for f in el["service_amount_cny"].astype(float)]
    fee_k = [_former_cents(k * f) for f in fee_c]  # the fee the record stands for, with the uplift
    one = [_former_cents(ratio * f) for f in fee_c]  # one service's request
    one_capped = [x if cap_app is None else min(x, cap_app) for x in one]
    requested = [_former_cents(k * x) for x in one]
    want = [_former_cents(k * x) for x in one_capped]
    firms = el["applicant_unit"].tolist()

    def serve(pool_c: int | None):
        paid_firm: dict[str, int] = {}
        pool_left = pool_c
        after_firm, voucher = [0] * n, [0] * n
        exhausted_at = None
        for i in range(n):
            a = want[i]
            if cap_firm is not None:
                a = min(a, max(cap_firm - paid_firm.get(firms[i], 0), 0))
            v = a if pool_left is None else min(a, pool_left)
            after_firm[i], voucher[i] = a, v
            paid_firm[firms[i]] = paid_firm.get(firms[i], 0) + v
            if pool_left is not None:
                pool_left -= v
                if pool_left == 0 and exhausted_at is None:
                    exhausted_at = i
        return after_firm, voucher, pool_left, exhausted_at

    after_firm, voucher, pool_left, exhausted_at = serve(pool)
    _, demand, _, _ = serve(None)
    subsidy = [_former_cents(params.holder_redemption_share * v) for v in voucher]

    months = el["start_time"].dt.month.to_numpy() if n else np.array([], dtype=int)
    recs = pd.DataFrame({
        "id": el["id"].to_numpy(),
        "month": months.astype(int),
        "start_time": el["start_time"].to_numpy(),
        "unit_id": el["unit_id"].to_numpy(),
        "applicant_unit": el["applicant_unit"].to_numpy(dtype=object),
        "client_kind": el["client_kind"].to_numpy(dtype=object),
        "fee_cny": np.array(fee_k, dtype=float) / 100,
        "requested_cny": np.array(requested, dtype=float) / 100,
        "demand_cny": np.array(demand, dtype=float) / 100,
        "voucher_cny": np.array(voucher, dtype=float) / 100,
        "post_subsidy_cny": np.array(subsidy, dtype=float) / 100,
        "capped_per_application": np.array([c < o for c, o in zip(one_capped, one)], dtype=bool),
        "capped_per_firm_annual": np.array([a < w for a, w in zip(after_firm, want)], dtype=bool),
        "capped_pool": np.array([v < a for v, a in zip(voucher, after_firm)], dtype=bool),
    }, columns=list(V.RECORD_COLUMNS))
    covered = np.array(voucher, dtype=np.int64) > 0 if n else np.zeros(0, dtype=bool)
    recs["covered"] = covered

    binding = {
        V.LIMIT_APPLICATION: int(recs["capped_per_application"].sum()),
        V.LIMIT_FIRM: int(recs["capped_per_firm_annual"].sum()),
        V.LIMIT_POOL: int(recs["capped_pool"].sum()),
    }
    refused = {
        V.LIMIT_FIRM: sum(1 for a, w in zip(after_firm, want) if w > 0 and a == 0),
        V.LIMIT_POOL: sum(1 for v, a in zip(voucher, after_firm) if a > 0 and v == 0),
    }
    refused_pool = np.array([a > 0 and v == 0 for v, a in zip(voucher, after_firm)], dtype=bool)

    spend_c = sum(voucher)
    by_holder = V._by_holder(recs, voucher, subsidy)
    by_firm = V._by_firm(recs, voucher, cap_firm)
    monthly = V._monthly(recs, voucher, demand, refused_pool, pool)
    outcome = V.VoucherOutcome(
        year=int(year), params=params,
        spend_cny=spend_c / 100, demand_cny=sum(demand) / 100, requested_cny=sum(requested) / 100,
        eligible_fee_cny=sum(fee_k) / 100,
        post_subsidy_cny=sum(subsidy) / 100,
        eligible_services=n, services_covered=int(covered.sum()),
        services_covered_est=round(float(covered.sum()) * k, 6),
        firms_eligible=int(recs["applicant_unit"].nunique()),
        firms_served=int(recs.loc[covered, "applicant_unit"].nunique()),
        pool_remaining_cny=None if pool is None else pool_left / 100,
        pool_exhausted_month=None if exhausted_at is None else int(months[exhausted_at]),
        binding=binding, refused=refused, excluded=excluded,
        records=recs.drop(columns="covered"), by_holder=by_holder, by_firm=by_firm, monthly=monthly,
    )
    return outcome



def _random_services(rng: np.random.Generator, n: int, text_dtype) -> pd.DataFrame:
    firms = np.array(["甲公司", "乙公司", " 丙公司 ", "丁公司", "", "  ", None, "戊公司", "己公司"], dtype=object)
    kinds = np.array([SME, SME, LARGE, " 本地中小企业", "科研院所", None], dtype=object)
    users = np.array([EXT, EXT, EXT, INT, " 外部用户 ", None], dtype=object)
    regions = np.array(["152921", "152922", "Z01", "", None], dtype=object)
    fee = rng.choice([rng.uniform(1, 90_000), 0.0, -5.0, np.nan, 0.005, 123.455, 40_000.0, 1e-7, 19_999.995], n)
    fee = np.where(rng.random(n) < 0.6, rng.integers(1, 9_000_000, n) / 100, fee)
    start = pd.Timestamp("2024-12-01") + pd.to_timedelta(rng.integers(0, 430, n), unit="D") \
        + pd.to_timedelta(rng.choice([9, 9, 10, 14], n), unit="h")
    frame = pd.DataFrame({
        "id": rng.permutation(n) + 1,
        "start_time": start,
        "applicant_unit": firms[rng.integers(0, len(firms), n)],
        "service_amount_cny": fee,
        "client_kind": kinds[rng.integers(0, len(kinds), n)],
        "user_type": users[rng.integers(0, len(users), n)],
        "unit_id": rng.integers(1, 8, n),
        "client_region_code": regions[rng.integers(0, len(regions), n)],
        "service_content": ["内容"] * n,
    })
    for col in ("applicant_unit", "client_kind", "user_type", "client_region_code", "service_content"):
        frame[col] = frame[col].astype(text_dtype)
    return frame


def _random_params(rng: np.random.Generator) -> V.VoucherParams:
    def pick(options):
        return options[int(rng.integers(0, len(options)))]

    return V.VoucherParams(
        voucher_ratio=pick([0.5, 0.333333, 0.45, 1.0, 0.07, 0.123456789]),
        per_application_cap_cny=pick([None, 20_000, 12_345.675, 999.99, 0.01]),
        per_firm_annual_cap_cny=pick([None, 100_000, 30_000.5, 5_000, 0.004]),
        eligible_client_kinds=pick([(SME,), (SME, LARGE), (SME, "科研院所"), ()]),
        only_external_users=pick([True, False]),
        client_region_codes=pick([(), ("152921",), ("152921", "Z01")]),
        pool_cny=pick([None, 1_000_000, 150_000, 20_000.015, 0.001, 1.0]),
        holder_redemption_share=pick([0.2, 0.0, 0.15, 0.333, 1.0]),
        demand_uplift=pick([0.0, 0.1, 0.37, 1 / 3, 2.5]),
    )


def _assert_same_outcome(got: V.VoucherOutcome, want: V.VoucherOutcome) -> None:
    for f in dataclasses.fields(V.VoucherOutcome):
        a, b = getattr(got, f.name), getattr(want, f.name)
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, check_exact=True, obj=f.name)
        else:
            assert a == b and type(a) is type(b), (f.name, a, b)


@pytest.mark.parametrize("seed", range(30))
def test_simulation_equals_the_former_record_by_record_version(seed):
    rng = np.random.default_rng(seed)
    services = _random_services(rng, int(rng.integers(0, 400)), "str" if seed % 2 else object)
    for _ in range(4):
        params = _random_params(rng)
        want = _former_simulate(services, params, 2025)
        _assert_same_outcome(V.simulate(services, params, 2025), want)
        if want.demand_cny > 0:  # a pool exactly the demand runs out with the last voucher
            exact = replace(params, pool_cny=want.demand_cny)
            _assert_same_outcome(V.simulate(services, exact, 2025), _former_simulate(services, exact, 2025))


def test_cents_of_an_array_are_the_cents_of_each_element():
    values = np.array([0.5, 1.5, 2.675 * 100, 0.0049999995, 0.0050000005, 12.4999995, 12.5000005, 1e-7, 123.455 * 100,
                       0.1 + 0.2, 1e14 + 0.5, 2.0 ** 51, 4.5e15 + 1, 1.4999994999999999, 7.0000004999,
                       9e6 + 0.4999995, 9e6 + 0.4999996, 9e6 + 0.49999949, 4e8 + 0.4999995, 1.1e9 + 0.25, -3.5, -2.4999995,
                       np.nextafter(12.4999995, 13), np.nextafter(12.4999995, 12), 0.0, 1e-300])
    rng = np.random.default_rng(0)
    halves = rng.integers(0, 10**9, 2000) + 0.5 + rng.choice([-1, 1], 2000) * rng.uniform(0, 2e-6, 2000)
    values = np.concatenate([values, rng.uniform(0, 1e7, 2000), rng.integers(0, 10**9, 2000) / 100 * 0.37,
                             rng.uniform(0, 1e9, 2000) * rng.choice([1.1, 1 / 3, 0.123457], 2000), halves])
    assert V._cents_array(values).tolist() == [V._cents(v) for v in values]
