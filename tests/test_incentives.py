"""Reward / post-subsidy allocation: hand-worked examples (expected values typed by hand).

Water-filling reminder used in the comments: breakpoints tᵢ = capᵢ/basisᵢ sorted; payout at tₖ is
f(tₖ) = Σ_{j<k} capⱼ + tₖ·Σ_{j≥k} basisⱼ; the first k with f(tₖ) > pool gives
λ = (pool − Σ_{j<k} capⱼ) / Σ_{j≥k} basisⱼ.
"""

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.incentives import (
    BASIS_KINDS,
    BOUNDARY_COLUMNS,
    REASONS,
    TABLE_COLUMNS,
    RewardRule,
    allocate,
    allocate_detail,
    boundary_units,
    reward_outcome,
    reward_table,
)
from dashboard.scheme import GradeRule

INF = math.inf


# ------------------------------------------------------------------------------------ allocate

def test_issue_example():
    # eligible: basis ≥ 40 → the first four. t = 80/90 = .889, 80/80 = 1, 80/70 = 1.143, 80/50 = 1.6
    # f(.889) = .889·290 = 257.8; f(1) = 80 + 200 = 280; f(1.143) = 160 + 1.143·120 = 297.1;
    # f(1.6) = 320 > 300 → three capped, λ = (300 − 240)/50 = 1.2 → 50·1.2 = 60.
    basis = np.array([90, 80, 70, 50, 30])
    out = allocate(basis, 300, 80, eligible=basis >= 40)
    assert out.tolist() == [80, 80, 80, 60, 0]
    d = allocate_detail(basis, 300, 80, eligible=basis >= 40)
    assert d.lam == pytest.approx(1.2)
    assert d.unspent == 0
    assert d.capped.tolist() == [True, True, True, False, False]
    assert d.cents.tolist() == [8000, 8000, 8000, 6000, 0]
    assert d.total == 300


def test_no_caps_is_proportional():
    # λ = 100/(3 + 1) = 25
    d = allocate_detail([3, 1], 100, None)
    assert d.amounts.tolist() == [75, 25]
    assert d.lam == 25 and d.unspent == 0
    assert d.capped.tolist() == [False, False]
    assert allocate([3, 1], 100, INF).tolist() == [75, 25]


def test_all_capped_leaves_remainder_unspent():
    # Σ caps = 60 ≤ 100 → everyone gets 30, 40 unspent; smallest λ with both capped = max(30/10, 30/20) = 3
    d = allocate_detail([10, 20], 100, 30)
    assert d.amounts.tolist() == [30, 30]
    assert d.unspent == 40
    assert d.lam == 3
    assert d.capped.tolist() == [True, True]


def test_zero_pool_pays_nothing():
    d = allocate_detail([5, 7], 0, 10)
    assert d.amounts.tolist() == [0, 0]
    assert d.unspent == 0 and d.lam == 0


def test_one_unit():
    assert allocate([5], 100, 40).tolist() == [40]
    assert allocate_detail([5], 100, 40).unspent == 60
    assert allocate([5], 100).tolist() == [100]
    assert allocate_detail([5], 100).lam == 20  # 100/5


def test_empty_input():
    d = allocate_detail([], 100, None)
    assert d.amounts.tolist() == [] and d.unspent == 100


def test_nobody_eligible_leaves_everything_unspent():
    d = allocate_detail([1, 2], 50, 10, eligible=[False, False])
    assert d.amounts.tolist() == [0, 0] and d.unspent == 50 and d.lam == 0


def test_ineligible_zero_basis_and_zero_cap_get_nothing():
    # basis [4, 0, −1, 2, 6], caps [inf, 9, 9, 0, inf], eligible [T, T, T, T, F]
    # only unit 0 takes part (1: basis 0, 2: basis < 0, 3: cap 0, 4: ineligible) → all 12 to unit 0
    out = allocate([4, 0, -1, 2, 6], 12, [INF, 9, 9, 0, INF], eligible=[1, 1, 1, 1, 0])
    assert out.tolist() == [12, 0, 0, 0, 0]
    # a negative cap counts as 0
    assert allocate([1, 1], 10, [-5, INF]).tolist() == [0, 10]


def test_per_unit_caps_array():
    # basis [1, 2, 3], caps [10, 10, 100], pool 60.  t = 10, 5, 33.3 → sorted: unit1 (5), unit0 (10), unit2
    # f(5) = 0 + 5·6 = 30; f(10) = 10 + 10·4 = 50; f(33.3) = 20 + 100 = 120 > 60
    # → units 1 and 0 capped, λ = (60 − 20)/3 = 13.333 → unit2 40
    d = allocate_detail([1, 2, 3], 60, [10, 10, 100])
    assert d.amounts.tolist() == [10, 10, 40]
    assert d.lam == pytest.approx(40 / 3)
    assert d.capped.tolist() == [True, True, False]


def test_largest_remainder_rounding_keeps_the_total():
    # 100/3 = 33.333… each: floors 33.33·3 = 99.99, one cent left; equal remainders → first unit
    assert allocate([1, 1, 1], 100).tolist() == [33.34, 33.33, 33.33]
    # remainders differ: basis [1, 2] pool 0.05 → 1.6667 and 3.3333 cents → floors 1 + 3 = 4, one
    # cent to the larger remainder (.6667, unit 0) → [0.02, 0.03]
    assert allocate([1, 2], 0.05).tolist() == [0.02, 0.03]


def test_rounding_gives_the_cent_to_an_unfilled_unit_not_past_a_cap():
    # caps [33.33, inf, inf]: t0 = 33.33, f(33.33) = 33.33·3 = 99.99 ≤ 100 → unit 0 capped,
    # λ = (100 − 33.33)/2 = 33.335 → 33.335 each: floors 33.33, one cent, tie → unit 1
    assert allocate([1, 1, 1], 100, [33.33, INF, INF]).tolist() == [33.33, 33.34, 33.33]


def test_caps_and_pool_are_floored_to_cents():
    # caps 10.009 → 10.00, Σ = 20.00 < pool → 80.00 unspent
    d = allocate_detail([1, 1], 100, 10.009)
    assert d.amounts.tolist() == [10, 10] and d.unspent == 80
    # pool 100.009 → 100.00 → 50.00 each
    assert allocate([1, 1], 100.009).tolist() == [50, 50]
    # 0.29 CNY is 29 cents (0.29·100 = 28.999… in floats)
    assert allocate([1], 0.29).tolist() == [0.29]


@pytest.mark.parametrize("kwargs, message", [
    (dict(basis=[1, 2], budget=-1), "budget must be ≥ 0"),
    (dict(basis=[1, 2], budget=float("nan")), "budget must be finite"),
    (dict(basis=[1, 2], budget=float("inf")), "budget must be finite"),
    (dict(basis=[1, 2], budget="lots"), "budget must be a number"),
    (dict(basis=[1, float("nan")], budget=1), "basis has NaN or infinite values at positions [1]"),
    (dict(basis=[[1, 2]], budget=1), "one-dimensional"),
    (dict(basis=[1, 2], budget=1, caps=[1, 2, 3]), "caps has shape (3,), basis has (2,)"),
    (dict(basis=[1, 2], budget=1, caps=[1, float("nan")]), "caps has NaN at positions [1]"),
    (dict(basis=[1, 2], budget=1, eligible=[True]), "eligible has shape (1,)"),
    (dict(basis=[1, 2], budget=1, eligible=[0.5, 1]), "eligible must be booleans"),
])
def test_invalid_inputs_are_rejected(kwargs, message):
    with pytest.raises(ValueError) as err:
        allocate(**kwargs)
    assert message in str(err.value)


# ------------------------------------------------------------------------------- reward_table

def units_frame():
    """A 92 优秀, B 80 良好, C 76 良好 (no external income), D 73 合格, E not rated, F 88 良好."""
    return pd.DataFrame({
        "unit_id": ["A", "B", "C", "D", "E", "F"],
        "score": [92, 80, 76, 73, np.nan, 88],
        "grade": ["优秀", "良好", "良好", "合格", None, "良好"],
        "external_income_cny": [200_000, 100_000, 0, 300_000, 0, 50_000],
        "voucher_revenue_cny": [50_000, 0, 20_000, 10_000, np.nan, 0],
    })


def test_reward_by_score_with_an_absolute_cap():
    # eligible A, B, C (D grade 合格, E not rated, F excluded). basis 92, 80, 76; cap 35 000.
    # t: A 380.43, B 437.5, C 460.53. f(tA) = 380.43·248 = 94 348 ≤ 100 000;
    # f(tB) = 35 000 + 437.5·156 = 103 250 > 100 000 → A capped, λ = 65 000/156 = 416.667
    # B 33 333.333, C 31 666.667 → cents: floors 3 333 333 + 3 166 666, one cent to C (.667)
    rule = RewardRule(pool_cny=100_000, eligible_grades=("优秀", "良好"), basis="score",
                      cap_cny=35_000)
    out = reward_outcome(units_frame(), rule, excluded={"F"})
    t = out.table
    assert list(t.columns) == list(TABLE_COLUMNS)
    assert t["unit_id"].tolist() == list("ABCDEF")
    assert t["eligible"].tolist() == [True, True, True, False, False, False]
    assert t["reason_if_not"].tolist() == [None, None, None, "grade", "not_rated", "excluded"]
    assert t["basis"].tolist() == [92, 80, 76, 73, 0, 88]
    assert t["cap"].tolist() == [35_000] * 6
    assert t["reward"].tolist() == [35_000, 33_333.33, 31_666.67, 0, 0, 0]
    assert t["capped"].tolist() == [True, False, False, False, False, False]
    assert t["share"].tolist() == pytest.approx([0.35, 0.3333333, 0.3166667, 0, 0, 0])
    assert out.total == 100_000 and out.unspent == 0
    assert out.lam == pytest.approx(65_000 / 156)


def test_reward_by_score_times_income_capped_by_income_share_leaves_unspent():
    # grades 优秀/良好 and score ≥ 78 → A, B (C 76 below the minimum, F excluded).
    # basis A 92·200 000 = 18 400 000, B 80·100 000 = 8 000 000; caps 0.5·income = 100 000, 50 000
    # Σ caps = 150 000 ≤ 200 000 → both capped, 50 000 unspent
    rule = RewardRule(pool_cny=200_000, eligible_grades=("优秀", "良好"), min_score=78,
                      basis="score_x_external_income", cap_share_of_external_income=0.5)
    out = reward_outcome(units_frame(), rule, excluded=["F"])
    t = out.table
    assert t["reason_if_not"].tolist() == [None, None, "min_score", "grade", "not_rated", "excluded"]
    assert t["basis"].tolist() == [18_400_000, 8_000_000, 0, 21_900_000, 0, 4_400_000]
    assert t["cap"].tolist() == [100_000, 50_000, 0, 150_000, 0, 25_000]
    assert t["reward"].tolist() == [100_000, 50_000, 0, 0, 0, 0]
    assert t["capped"].tolist() == [True, True, False, False, False, False]
    assert out.unspent == 50_000 and out.total == 150_000


def test_reward_by_voucher_revenue_any_grade():
    # no grade condition, no minimum: A 50 000, C 20 000, D 10 000 take part (B and E no revenue,
    # F no revenue); λ = 16 000/80 000 = 0.2 → 10 000, 4 000, 2 000. E is not "not_rated":
    # this rule does not use the score.
    rule = RewardRule(pool_cny=16_000, eligible_grades=None, basis="voucher_revenue")
    t = reward_table(units_frame(), rule)
    assert t["reason_if_not"].tolist() == [None, "no_basis", None, None, "no_basis", "no_basis"]
    assert t["reward"].tolist() == [10_000, 0, 4_000, 2_000, 0, 0]
    assert t["cap"].isna().all()  # no cap set
    assert not t["capped"].any()


def test_smaller_of_two_caps_applies_and_zero_cap_is_a_reason():
    # cap = min(60 000, 0.25·income): A 50 000, B 25 000, C 0 (no income → no_cap)
    # basis score: A 92, B 80 → λ = 100 000/172 = 581.4 → both above caps → 75 000 paid, 25 000 unspent
    rule = RewardRule(pool_cny=100_000, eligible_grades=("优秀", "良好"), cap_cny=60_000,
                      cap_share_of_external_income=0.25)
    out = reward_outcome(units_frame(), rule, excluded={"F"})
    t = out.table
    assert t["cap"].tolist()[:3] == [50_000, 25_000, 0]
    assert t["reason_if_not"].tolist()[:3] == [None, None, "no_cap"]
    assert t["reward"].tolist()[:3] == [50_000, 25_000, 0]
    assert out.unspent == 25_000


def test_reward_table_accepts_unit_id_as_index_and_checks_columns():
    frame = units_frame().set_index("unit_id")
    rule = RewardRule(pool_cny=1_000, basis="voucher_revenue", eligible_grades=None)
    assert reward_table(frame, rule)["unit_id"].tolist() == list("ABCDEF")
    with pytest.raises(ValueError, match="missing columns"):
        reward_table(frame.drop(columns="voucher_revenue_cny"), rule)
    with pytest.raises(ValueError, match="unit_id repeats"):
        reward_table(pd.concat([frame, frame]), rule)


@pytest.mark.parametrize("rule, message", [
    (RewardRule(pool_cny=-1), "pool_cny"),
    (RewardRule(pool_cny=1, basis="size"), "basis must be one of"),
    (RewardRule(pool_cny=1, cap_cny=-5), "cap_cny"),
    (RewardRule(pool_cny=1, cap_share_of_external_income=float("nan")), "cap_share"),
    (RewardRule(pool_cny=1, eligible_grades="优秀"), "eligible_grades"),
])
def test_invalid_rules_are_rejected(rule, message):
    with pytest.raises(ValueError, match=message):
        rule.validate()


def test_rule_dict_round_trip():
    rule = RewardRule(pool_cny=5e5, eligible_grades=("优秀",), min_score=70.0,
                      basis="score_x_external_income", cap_cny=1e5,
                      cap_share_of_external_income=0.3)
    assert RewardRule.from_dict(rule.to_dict()) == rule
    assert RewardRule.from_dict({"pool_cny": 10, "eligible_grades": None}).eligible_grades is None
    with pytest.raises(ValueError, match="unknown fields"):
        RewardRule.from_dict({"pool": 1})
    assert set(BASIS_KINDS) == {"score", "score_x_external_income", "voucher_revenue"}
    assert "excluded" in REASONS


# ----------------------------------------------------------------------------- boundary_units

RULE_SCORE = RewardRule(pool_cny=100_000, eligible_grades=("优秀", "良好"), cap_cny=35_000)


def test_boundary_units_grade_lines():
    # margin 3 around 90 / 75 / 60: A 92 (2 above 90), C 76 (1 above 75), D 73 (2 below 75);
    # B 80 and F (excluded) and E (no score) not listed.
    # A → 89.99 良好: basis 89.99; f(tA = 388.93) = 388.93·245.99 = 95 674 ≤ 100 000,
    #   f(tB) = 103 250 → A still capped, 35 000 → 35 000.
    # C → 74.99 合格: out; A and B share 100 000, both capped at 35 000 → C 31 666.67 → 0.
    # D → 75 良好: basis 92, 80, 76, 75 (Σ 323), f(tA) = 380.43·323 > 100 000 → nobody capped,
    #   λ = 100 000/323; D = 7 500 000/323 = 23 219.814 → floors 2 848 297 + 2 476 780 +
    #   2 352 941 + 2 321 981 = 9 999 999 cents, the cent to the largest remainder (D .424) → 23 219.82
    out = boundary_units(units_frame(), RULE_SCORE, (90, 75, 60), margin=3, excluded={"F"})
    assert list(out.columns) == list(BOUNDARY_COLUMNS)
    assert out["unit_id"].tolist() == ["C", "A", "D"]
    assert out["line"].tolist() == [75, 90, 75]
    assert out["line_kind"].tolist() == ["grade"] * 3
    assert out["direction"].tolist() == ["down", "down", "up"]
    assert out["distance"].tolist() == [1, 2, 2]
    assert out["new_score"].tolist() == pytest.approx([74.99, 89.99, 75])
    assert out["new_grade"].tolist() == ["合格", "良好", "良好"]
    assert out["eligible"].tolist() == [True, True, False]
    assert out["eligible_if_crossed"].tolist() == [False, True, True]
    assert out["reward"].tolist() == [31_666.67, 35_000, 0]
    assert out["reward_if_crossed"].tolist() == [0, 35_000, 23_219.82]
    assert out["change"].tolist() == [-31_666.67, 0, 23_219.82]
    assert out["nearest"].all()


def test_boundary_units_minimum_score_line():
    # min score 78: now A, B take part, both capped at 35 000 (λ = 100 000/172 > both breakpoints).
    # B 80 → 77.99: below the minimum → 35 000 → 0.
    # C 76 is 1 above 75 (nearest; 74.99 合格, still nothing) and 2 below 78 (→ 78: A capped,
    #   λ = 65 000/158; B 32 911.392, C 32 088.608 → the spare cent to C (.7595) → 32 088.61).
    # D 73 → 75 良好 but still below 78 → 0 → 0.
    rule = RewardRule(pool_cny=100_000, eligible_grades=("优秀", "良好"), cap_cny=35_000,
                      min_score=78)
    out = boundary_units(units_frame(), rule, GradeRule(bands=(90, 75, 60)), excluded={"F"})
    assert list(zip(out["unit_id"], out["line"], out["line_kind"], out["direction"])) == [
        ("C", 75, "grade", "down"),
        ("A", 90, "grade", "down"),
        ("B", 78, "min_score", "down"),
        ("C", 78, "min_score", "up"),
        ("D", 75, "grade", "up"),
    ]
    assert out["nearest"].tolist() == [True, True, True, False, True]
    assert out["reward"].tolist() == [0, 35_000, 35_000, 0, 0]
    assert out["reward_if_crossed"].tolist() == [0, 35_000, 0, 32_088.61, 0]
    assert out["change"].tolist() == [0, 0, -35_000, 32_088.61, 0]


def test_boundary_units_fourth_label_and_shared_line():
    # grade rule with 不合格 and min score equal to the 60 line: one line, kind "both".
    units = pd.DataFrame({"unit_id": [1, 2], "score": [61.0, 95.0], "grade": ["合格", "优秀"]})
    rule = RewardRule(pool_cny=1_000, eligible_grades=None, min_score=60)
    out = boundary_units(units, rule, GradeRule(bands=(90, 75, 60), fourth_label="不合格"),
                         margin=1.5)
    # unit 1: 61 → 59.99 不合格, below 60 → out; basis score: 61/(61+95) of 1 000 = 391.03 → 0
    assert out["unit_id"].tolist() == [1]
    assert out["line_kind"].tolist() == ["both"]
    assert out["new_grade"].tolist() == ["不合格"]
    assert out["reward"].tolist() == [391.03]  # 61 000/156 = 391.026 → 391.03
    assert out["reward_if_crossed"].tolist() == [0]


def test_boundary_units_empty_and_invalid():
    out = boundary_units(units_frame(), RULE_SCORE, (90, 75, 60), margin=0.5)
    assert out.empty and list(out.columns) == list(BOUNDARY_COLUMNS)
    with pytest.raises(ValueError, match="margin"):
        boundary_units(units_frame(), RULE_SCORE, (90, 75, 60), margin=-1)
    with pytest.raises(ValueError, match="score-band"):
        boundary_units(units_frame(), RULE_SCORE, GradeRule(mode="quotas"))
    with pytest.raises(ValueError, match="three falling"):
        boundary_units(units_frame(), RULE_SCORE, (60, 75, 90))


# ------------------------------------------------------------------ boundary_units: equivalence
# The boundary table once re-ran the whole reward table for every (unit, line) pair (quadratic:
# 5.7 s for 3,010 units); it now re-runs only the allocation with one unit's terms replaced. The
# former implementation, kept here verbatim, must give the same table on seeded random units.

def _former_reward_table(units, rule, excluded=None):
    from dashboard.incentives import SCORE_DECIMALS, _money_column, _to_cents_floor, _units_frame

    rule.validate()
    frame = _units_frame(units, rule)
    n = len(frame)
    barred = set(excluded or ())
    score = frame["score"].to_numpy(float) if "score" in frame.columns else np.full(n, np.nan)
    grade = frame["grade"] if "grade" in frame.columns else pd.Series([None] * n, index=frame.index)
    income = _money_column(frame, "external_income_cny")
    if rule.basis == "score":
        basis = np.nan_to_num(score, nan=0.0)
    elif rule.basis == "score_x_external_income":
        basis = np.nan_to_num(score, nan=0.0) * income
    else:
        basis = _money_column(frame, "voucher_revenue_cny")
    cap = np.full(n, np.inf)
    if rule.cap_cny is not None:
        cap = np.minimum(cap, float(rule.cap_cny))
    if rule.cap_share_of_external_income is not None:
        cap = np.minimum(cap, float(rule.cap_share_of_external_income) * np.maximum(income, 0.0))
    rounded = np.round(score, SCORE_DECIMALS)
    fails = [
        ("excluded", frame.index.isin(list(barred))),
        ("not_rated", np.isnan(score) if rule.uses_score() else np.zeros(n, dtype=bool)),
        ("grade", ~grade.isin(list(rule.eligible_grades)).to_numpy() if rule.eligible_grades
         else np.zeros(n, dtype=bool)),
        ("min_score", ~(rounded >= float(rule.min_score)) if rule.min_score is not None
         else np.zeros(n, dtype=bool)),
        ("no_basis", ~(basis > 0)),
        ("no_cap", ~(_to_cents_floor(cap) > 0)),
    ]
    reason = np.full(n, None, dtype=object)
    for rid, mask in fails:
        reason = np.where((reason == None) & np.asarray(mask, dtype=bool), rid, reason)  # noqa: E711
    eligible = reason == None  # noqa: E711
    alloc = allocate_detail(np.maximum(basis, 0.0), rule.pool_cny, cap, eligible)
    pool = float(rule.pool_cny)
    return pd.DataFrame({
        "unit_id": frame.index.to_numpy(), "score": score,
        "grade": pd.Series(grade.to_numpy(dtype=object), dtype=object),
        "eligible": eligible.astype(bool), "reason_if_not": pd.Series(reason, dtype=object),
        "basis": basis, "cap": np.where(np.isfinite(cap), cap, np.nan), "reward": alloc.amounts,
        "capped": alloc.capped, "share": alloc.amounts / pool if pool > 0 else np.zeros(n),
    }, columns=list(TABLE_COLUMNS))


def _former_boundary_units(units, rule, grade_lines, margin=3.0, excluded=None, step=0.01):
    from dashboard.incentives import SCORE_DECIMALS, _band_grade, _bands_rule, _units_frame

    bands = _bands_rule(grade_lines)
    base = _former_reward_table(units, rule, excluded)
    frame = _units_frame(units, rule)
    if "score" not in frame.columns:
        frame["score"] = np.nan
    if "grade" not in frame.columns:
        frame["grade"] = None
    frame["grade"] = frame["grade"].astype(object)
    barred = set(excluded or ())
    base_by_id = base.set_index("unit_id")
    kinds = {float(x): "grade" for x in bands.bands}
    if rule.min_score is not None:
        m = float(rule.min_score)
        kinds[m] = "both" if m in kinds else "min_score"
    lines = sorted(kinds, reverse=True)
    rows = []
    for uid, score in frame["score"].items():
        if uid in barred or not np.isfinite(score):
            continue
        s = round(float(score), SCORE_DECIMALS)
        for line in lines:
            up = s < line
            distance = round(line - s if up else s - line, SCORE_DECIMALS)
            if distance > margin:
                continue
            new_score = line if up else line - step
            moved = frame.copy()
            moved.loc[uid, "score"] = new_score
            moved.loc[uid, "grade"] = _band_grade(new_score, bands)
            after = _former_reward_table(moved, rule, excluded).set_index("unit_id").loc[uid]
            now = base_by_id.loc[uid]
            rows.append({
                "unit_id": uid, "score": float(score), "grade": now["grade"], "line": line,
                "line_kind": kinds[line], "direction": "up" if up else "down",
                "distance": distance, "new_score": new_score,
                "new_grade": moved.loc[uid, "grade"], "eligible": bool(now["eligible"]),
                "eligible_if_crossed": bool(after["eligible"]), "reward": float(now["reward"]),
                "reward_if_crossed": float(after["reward"]),
                "change": round(float(after["reward"]) - float(now["reward"]), 2),
            })
    out = pd.DataFrame(rows, columns=[c for c in BOUNDARY_COLUMNS if c != "nearest"])
    if out.empty:
        out["nearest"] = pd.Series(dtype=bool)
        return out[list(BOUNDARY_COLUMNS)]
    out = out.sort_values(["distance", "line"], ascending=[True, False], kind="stable")
    out["nearest"] = ~out.duplicated("unit_id", keep="first")
    out["_uid"] = out["unit_id"].astype(str)
    out = out.sort_values(["distance", "_uid", "line"], ascending=[True, True, False],
                          kind="stable").drop(columns="_uid")
    return out[list(BOUNDARY_COLUMNS)].reset_index(drop=True)


def _random_units(rng, n):
    score = rng.uniform(50, 100, n).round(rng.integers(0, 4))
    score[rng.random(n) < 0.15] = rng.choice([60.0, 75.0, 90.0, 74.99, 89.999999999, 60.0000000001, 78.0])
    score[rng.random(n) < 0.08] = np.nan
    grade = np.where(score >= 90, "优秀", np.where(score >= 75, "良好", np.where(score >= 60, "合格", "较差"))).astype(object)
    grade[np.isnan(score)] = None
    grade[rng.random(n) < 0.05] = rng.choice([None, np.nan, ""])  # a score without a grade
    income = rng.choice([0.0, 5_000.0, 123_456.78, 1e6], n) * rng.random(n).round(2)
    revenue = rng.uniform(0, 80_000, n).round(2)
    revenue[rng.random(n) < 0.3] = 0.0
    revenue[rng.random(n) < 0.1] = np.nan
    ids = rng.permutation(n) + 1 if rng.random() < 0.5 else np.array([f"U{k:03d}" for k in rng.permutation(n)], object)
    return pd.DataFrame({"unit_id": ids, "score": score, "grade": grade, "external_income_cny": income,
                         "voucher_revenue_cny": revenue})


BOUNDARY_RULES = [
    RewardRule(pool_cny=100_000),
    RewardRule(pool_cny=1_000_000, cap_cny=35_000),
    RewardRule(pool_cny=2_000_000.37, eligible_grades=None, min_score=75, cap_cny=50_000),
    RewardRule(pool_cny=500_000, eligible_grades=("合格", "良好"), min_score=70.5, basis="score_x_external_income",
               cap_share_of_external_income=0.3),
    RewardRule(pool_cny=300_000, eligible_grades=None, basis="voucher_revenue", cap_cny=12_345.67),
    RewardRule(pool_cny=10_000_000, eligible_grades=("优秀",), cap_cny=20_000, cap_share_of_external_income=0.5),
    RewardRule(pool_cny=0.0),
]


@pytest.mark.parametrize("seed", range(4))
def test_boundary_units_equals_the_former_quadratic_version(seed):
    rng = np.random.default_rng(seed)
    units = _random_units(rng, int(rng.integers(1, 50)))
    excluded = set(units["unit_id"].sample(frac=0.1, random_state=seed))
    for k, rule in enumerate(BOUNDARY_RULES):
        lines = GradeRule(bands=(90, 75, 60), fourth_label="不合格") if k % 2 else (90, 75, 60)
        for margin, step in ((3.0, 0.01), (0.0, 0.01), (12.5, 0.5)):
            got = boundary_units(units, rule, lines, margin=margin, excluded=excluded, step=step)
            want = _former_boundary_units(units, rule, lines, margin=margin, excluded=excluded, step=step)
            pd.testing.assert_frame_equal(got, want, check_exact=True)
            got_table = reward_table(units, rule, excluded=excluded)
            pd.testing.assert_frame_equal(got_table, _former_reward_table(units, rule, excluded), check_exact=True)


def _former_round_to_cents(x, cap_c, b, target):
    """The largest-remainder rounding before it partitioned instead of sorting every unit."""
    snapped = np.round(x, 6)
    floor = np.floor(snapped)
    rem = snapped - floor
    out = floor.astype(np.int64)
    priority = np.lexsort((np.arange(len(x)), -b, -rem))
    missing = target - int(out.sum())
    while missing > 0:
        room = priority[out[priority] < cap_c[priority]]
        if room.size == 0:
            break
        take = room[:missing]
        out[take] += 1
        missing -= take.size
    while missing < 0:
        have = priority[::-1][out[priority[::-1]] > 0]
        if have.size == 0:
            break
        take = have[:-missing]
        out[take] -= 1
        missing += take.size
    return out


@pytest.mark.parametrize("seed", range(40))
def test_rounding_equals_the_former_sorting_version(seed, monkeypatch):
    # Tied remainders and tied bases on purpose (equal scores, equal caps), so the order among
    # ties decides who gets the spare cents.
    import dashboard.incentives as inc

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    basis = rng.choice([60.0, 75.5, 80.0, 92.25, 1.0, 3.0], n) if seed % 2 else rng.uniform(0, 100, n).round(2)
    caps = rng.choice([None, 350.0, 1_000.01, np.inf], p=[0.4, 0.2, 0.2, 0.2])
    if caps is None and seed % 3 == 0:
        caps = rng.choice([120.0, 333.33, np.inf], n)
    eligible = rng.random(n) < 0.8
    budget = float(rng.choice([1.0, 99.99, 10_000.0, 123_456.78, 7.0 * n]))
    got = allocate_detail(basis, budget, caps, eligible)
    monkeypatch.setattr(inc, "_round_to_cents", _former_round_to_cents)
    want = allocate_detail(basis, budget, caps, eligible)
    assert got.cents.tolist() == want.cents.tolist()
    assert got.capped.tolist() == want.capped.tolist()
    assert (got.lam, got.unspent) == (want.lam, want.unspent)
