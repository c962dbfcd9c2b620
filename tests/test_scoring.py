"""Scoring engine: normalisation, weights, aggregation, grading, ranks, robustness, fingerprint.

Every expected number is worked by hand in the comments next to it.
"""

import math

import numpy as np
import pandas as pd
import pytest

from dashboard import scoring as S
from dashboard.scheme import GradeRule, Group, Indicator, Scheme, default_scheme

approx = pytest.approx


def ind(id_, method="goalpost", direction="higher", group="share", weight=1.0, **params):
    return Indicator(id=id_, group=group, direction=direction, method=method, params=params, weight=weight)


def scheme(indicators, org=1.0, use=0.0, share=1.0, **kw):
    groups = (Group("org", org), Group("use", use), Group("share", share))
    return Scheme(name="test", version=1, groups=groups, indicators=tuple(indicators), **kw).validate()


def frame(rows: dict, columns) -> pd.DataFrame:
    """{unit_id: [values…]} → DataFrame indexed by unit_id."""
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(columns)).rename_axis("unit_id")


# --------------------------------------------------------------------------- normalisation
def test_goalpost_caps_at_both_ends_and_missing_values_earn_nothing():
    # L = 0.2, U = 0.7, U − L = 0.5:  0.0 → −40 → 0;  0.2 → 0;  0.45 → 50;  0.7 → 100;
    # 1.0 → 160 → 100;  NaN → 0.
    i = ind("x", lower=0.2, upper=0.7)
    assert S.normalise([0.0, 0.2, 0.45, 0.7, 1.0, np.nan], i) == approx([0, 0, 50, 100, 100, 0])


def test_goalpost_lower_is_better():
    # 100·(U − x)/(U − L):  0.0 → 140 → 100;  0.2 → 100;  0.45 → 50;  0.7 → 0;  1.0 → −60 → 0;
    # NaN → 0 as well (no data earns nothing, whatever the direction).
    i = ind("x", direction="lower", lower=0.2, upper=0.7)
    assert S.normalise([0.0, 0.2, 0.45, 0.7, 1.0, np.nan], i) == approx([100, 100, 50, 0, 0, 0])


def test_minmax_both_directions_constant_column_and_nan():
    # min 2, max 10 over the values present: 2 → 0, 4 → 25, 10 → 100; NaN → 0.
    assert S.normalise([2, 4, 10, np.nan], ind("x", "minmax")) == approx([0, 25, 100, 0])
    # lower is better: mirror to −2, −4, −10 (min −10, max −2): 2 → 100, 4 → 75, 10 → 0.
    assert S.normalise([2, 4, 10, np.nan], ind("x", "minmax", "lower")) == approx([100, 75, 0, 0])
    # constant: nobody is worse than anybody → 100 each (the missing one still 0).
    assert S.normalise([3, 3, np.nan], ind("x", "minmax")) == approx([100, 100, 0])


def test_zscore_maps_to_50_plus_10z_with_capping_and_constant_column():
    # 1, 2, 3: mean 2, population sd √(2/3) = 0.816497 → z = ∓1.224745 → 37.7526, 50, 62.2474.
    assert S.normalise([1, 2, 3], ind("x", "zscore")) == approx([37.752551, 50, 62.247449])
    assert S.normalise([1, 2, 3], ind("x", "zscore", "lower")) == approx([62.247449, 50, 37.752551])
    # 26 zeros and one 1: p = 1/27, sd = √26/27; z(1) = √26 = 5.099 → 100.99 → capped at 100;
    # z(0) = −1/√26 = −0.19612 → 48.0388.
    out = S.normalise([0.0] * 26 + [1.0], ind("x", "zscore"))
    assert out[-1] == 100.0 and out[0] == approx(48.038820)
    # constant 0.1 (whose float sd is 1e-17, not 0) → 50 each; NaN → 0.
    assert S.normalise([0.1, 0.1, 0.1, np.nan], ind("x", "zscore")) == approx([50, 50, 50, 0])


def test_percentile_rank_with_ties_single_unit_and_constant_column():
    # 10, 20, 20, 40: average ranks 1, 2.5, 2.5, 4 → 100·(r − 1)/3 = 0, 50, 50, 100.
    assert S.normalise([10, 20, 20, 40], ind("x", "rank")) == approx([0, 50, 50, 100])
    assert S.normalise([10, 20, 20, 40], ind("x", "rank", "lower")) == approx([100, 50, 50, 0])
    assert S.normalise([7.5], ind("x", "rank")) == approx([100])  # alone: nobody beats it
    assert S.normalise([5, 5, 5], ind("x", "rank")) == approx([50, 50, 50])  # everyone tied
    # NaN is out of the population: 10 and 30 ranked among themselves → 0, 100; NaN → 0.
    assert S.normalise([10, np.nan, 30], ind("x", "rank")) == approx([0, 0, 100])


def test_all_missing_column_is_zero():
    assert S.normalise([np.nan, np.nan], ind("x", "minmax")) == approx([0, 0])


# --------------------------------------------------------------------------- weights
def test_global_weights_are_group_share_times_share_within_group():
    inds = [ind("a", group="org", weight=1), ind("b", group="org", weight=3), ind("c", group="use", weight=7),
            ind("d", group="share", weight=1), ind("e", group="share", weight=1)]
    inds = [Indicator(**{**i.__dict__, "params": {"lower": 0, "upper": 1}}) for i in inds]
    # groups 2 : 3 : 5 → 0.2, 0.3, 0.5.  a = 0.2·1/4 = 0.05, b = 0.2·3/4 = 0.15, c = 0.3·7/7 = 0.3,
    # d = e = 0.5·1/2 = 0.25.
    w = S.indicator_weights(scheme(inds, org=2, use=3, share=5))
    assert w.to_dict() == approx({"a": 0.05, "b": 0.15, "c": 0.3, "d": 0.25, "e": 0.25})
    assert w.sum() == approx(1.0)
    # group org weighs 0: a = b = 0; use 3/8 = 0.375, share 5/8 → d = e = 0.3125.
    w = S.indicator_weights(scheme(inds, org=0, use=3, share=5))
    assert w.to_dict() == approx({"a": 0, "b": 0, "c": 0.375, "d": 0.3125, "e": 0.3125})
    # indicator e weighs 0: d takes the whole share group, 0.5.
    inds[4] = Indicator(**{**inds[4].__dict__, "weight": 0.0})
    assert S.indicator_weights(scheme(inds, org=2, use=3, share=5))["d"] == approx(0.5)


def test_default_scheme_weights():
    w = S.indicator_weights(default_scheme())
    # open_ratio: org 25/100 × 40/100 = 0.1; effective_hours_ratio: use 0.40 × 60/100 = 0.24;
    # voucher_services: share 0.35 × 10/100 = 0.035.
    assert w["open_ratio"] == approx(0.1)
    assert w["effective_hours_ratio"] == approx(0.24)
    assert w["voucher_services"] == approx(0.035)
    assert w.sum() == approx(1.0)


# --------------------------------------------------------------------------- aggregation
# Three units × three indicators. Groups org 40, use 0 (no indicator), share 60.
# a (org), b (share, 3), c (share, 1) → global weights a 0.4, b 0.6·3/4 = 0.45, c 0.6·1/4 = 0.15.
# Goalposts 0..100, so the raw values are the normalised values.
ABC = [ind("a", group="org", lower=0, upper=100), ind("b", weight=3, lower=0, upper=100),
       ind("c", weight=1, lower=0, upper=100)]
N3 = frame({1: [100, 50, 20], 2: [0, 80, 60], 3: [40, 40, 40]}, "abc")
W3 = pd.Series({"a": 0.4, "b": 0.45, "c": 0.15})


def test_arithmetic_aggregation_by_hand():
    # u1: 0.4·100 + 0.45·50 + 0.15·20 = 40 + 22.5 + 3 = 65.5
    # u2: 0.4·0 + 0.45·80 + 0.15·60 = 0 + 36 + 9 = 45
    # u3: 40 everywhere → 40
    assert S.aggregate(N3, W3).to_list() == approx([65.5, 45, 40])
    # weights are renormalised: 4 : 4.5 : 1.5 is the same vector
    assert S.aggregate(N3, W3 * 10).to_list() == approx([65.5, 45, 40])


def test_geometric_aggregation_with_floor_by_hand():
    # u1: 100 · 1^0.4 · 0.5^0.45 · 0.2^0.15 = 100 · 1 · 0.732043 · 0.785515 = 57.5031
    # u2: a = 0 is floored to 1 point: 100 · 0.01^0.4 · 0.8^0.45 · 0.6^0.15
    #     = 100 · 0.158489 · 0.904462 · 0.926238 = 13.2774
    # u3: 40 everywhere (weights sum to 1) → 40
    expected = [100 * 0.5**0.45 * 0.2**0.15, 100 * 0.01**0.4 * 0.8**0.45 * 0.6**0.15, 40.0]
    assert expected == approx([57.5031, 13.2774, 40], abs=1e-3)
    assert S.aggregate(N3, W3, "geometric").to_list() == approx(expected)
    # floor 10 points: u2 = 100 · 0.1^0.4 · 0.904462 · 0.926238 = 100 · 0.398107 · 0.837748 = 33.3513
    assert S.aggregate(N3, W3, "geometric", floor=10)[2] == approx(33.3513, abs=1e-3)
    with pytest.raises(ValueError, match="floor"):
        S.aggregate(N3, W3, "geometric", floor=0)


def test_group_scores_use_within_group_weights():
    s = scheme(ABC, org=40, use=0, share=60)
    g = S.group_scores(N3, S.indicator_weights(s), s)
    # org = a;  share = ¾·b + ¼·c: u1 37.5 + 5 = 42.5, u2 60 + 15 = 75, u3 40;  use has no indicator.
    assert g["org"].to_list() == approx([100, 0, 40])
    assert g["share"].to_list() == approx([42.5, 75, 40])
    assert g["use"].isna().all()
    # geometric share, u1: 100 · 0.5^0.75 · 0.2^0.25 = 100 · 0.594604 · 0.668740 = 39.7635
    gg = S.group_scores(N3, S.indicator_weights(s), s, "geometric")
    assert gg.loc[1, "share"] == approx(39.7635, abs=1e-3)


def test_a_group_without_weight_still_gets_a_score_from_the_scheme_weights():
    s = scheme(ABC, org=1, use=0, share=0)  # share carries no global weight
    g = S.group_scores(N3, S.indicator_weights(s), s)
    assert g["share"].to_list() == approx([42.5, 75, 40])  # ¾·b + ¼·c as before


# --------------------------------------------------------------------------- ranks and grades
def test_ranks_by_score_then_tie_break_then_shared():
    scores = pd.Series({1: 80.0, 2: 90.0, 3: 80.0, 4: 80.0, 5: 70.0})
    share = pd.Series({1: 50.0, 2: 0.0, 3: 60.0, 4: 50.0, 5: 0.0})
    # 2 (90) first; among the 80s, 3 has the better share score (60) → 2nd; 1 and 4 are equal on
    # both → both 3rd ("min" ranks); 5 → 5th.
    assert S.rank_units(scores, share).to_dict() == {1: 3, 2: 1, 3: 2, 4: 3, 5: 5}


def test_float_noise_neither_makes_nor_breaks_ties():
    scores = pd.Series({"x": 0.1 + 0.2, "y": 0.3})  # 0.30000000000000004 vs 0.3
    assert S.rank_units(scores, pd.Series({"x": 1.0, "y": 2.0})).to_dict() == {"x": 2, "y": 1}


@pytest.mark.parametrize("score, label", [
    (100.0, "优秀"), (90.0, "优秀"), (90 - 1e-12, "优秀"), (89.999, "良好"), (75.0, "良好"),
    (74.9999, "合格"), (60.0, "合格"), (59.99, "不合格"), (0.0, "不合格"),
])
def test_band_grades_at_the_exact_edges(score, label):
    rule = GradeRule(mode="bands", fourth_label="不合格")
    assert S.grade(pd.Series({1: score}), pd.Series({1: 0.0}), rule)[1] == label


@pytest.mark.parametrize("n, counts", [
    (10, (2, 3)),   # 0.15·10 + 0.5 = 2.0 → 2;   0.30·10 + 0.5 = 3.5 → 3
    (7, (1, 2)),    # 1.05 + 0.5 = 1.55 → 1;     2.1 + 0.5 = 2.6 → 2
    (3, (0, 1)),    # 0.45 + 0.5 = 0.95 → 0;     0.9 + 0.5 = 1.4 → 1
    (35, (5, 11)),  # 5.25 + 0.5 = 5.75 → 5;     10.5 + 0.5 = 11.0 → 11
    (0, (0, 0)),
])
def test_quota_counts_round_half_up(n, counts):
    assert S.quota_counts(n, (0.15, 0.30)) == counts


def test_quota_counts_never_exceed_the_units():
    assert S.quota_counts(1, (0.5, 0.5)) == (1, 0)  # ⌊1.0⌋ = 1 优秀, no place left for 良好


def test_quota_grading_tie_at_the_boundary_broken_by_share_score():
    rule = GradeRule(mode="quotas", quotas=(0.2, 0.4), pass_score=60)
    # n = 5: 优秀 ⌊1 + 0.5⌋ = 1 place, 良好 ⌊2 + 0.5⌋ = 2 places.
    scores = pd.Series({"A": 85.0, "B": 85.0, "C": 70.0, "D": 65.0, "E": 50.0})
    share = pd.Series({"A": 60.0, "B": 70.0, "C": 0.0, "D": 0.0, "E": 0.0})
    # A and B tie on 85; B has the better share score → B rank 1 优秀, A rank 2 良好, C rank 3 良好,
    # D rank 4 合格, E below the pass score → 较差.
    assert S.grade(scores, share, rule).to_dict() == {"A": "良好", "B": "优秀", "C": "良好", "D": "合格", "E": "较差"}
    # Tied on both → both rank 1 and both on the better side (优秀); C at rank 3 still within the
    # first 1 + 2 places → 良好; D rank 4 → 合格.
    share["A"] = 70.0
    assert S.grade(scores, share, rule).to_dict() == {"A": "优秀", "B": "优秀", "C": "良好", "D": "合格", "E": "较差"}


def test_quota_grading_below_pass_score_is_the_fourth_grade_whatever_the_rank():
    rule = GradeRule(mode="quotas", quotas=(0.34, 0.33), pass_score=60, fourth_label="不合格")
    # n = 3 → 1 优秀 place and 1 良好 place, but every score is below 60.
    scores = pd.Series({1: 55.0, 2: 50.0, 3: 40.0})
    assert set(S.grade(scores, pd.Series({1: 0.0, 2: 0.0, 3: 0.0}), rule)) == {"不合格"}


# --------------------------------------------------------------------------- evaluate
# m: minmax (org), g: goalpost 0..10 (share); groups org 1 : share 1 → weights 0.5 / 0.5.
MG = [ind("m", "minmax", group="org"), ind("g", lower=0, upper=10)]
RAW = frame({1: [10, 5], 2: [20, 10], 3: [1000, 10], 4: [np.nan, np.nan], 5: [15, np.nan]}, "mg")
UNITS = pd.DataFrame({"status": ["rated", "rated", "too_few_instruments", "not_reported", "rated"]},
                     index=pd.Index([1, 2, 3, 4, 5], name="unit_id"))


def test_evaluate_scores_ranks_grades_and_units_not_rated():
    result = S.evaluate(RAW, UNITS, scheme(MG))
    # minmax over the RATED units only (unit 3's 1000 does not count): 10, 20, 15 → 0, 100, 50.
    # g: 5 → 50, 10 → 100, NaN → 0.
    assert result.normalised.loc[[1, 2, 5], "m"].to_list() == approx([0, 100, 50])
    assert result.normalised.loc[[1, 2, 5], "g"].to_list() == approx([50, 100, 0])
    # scores: u1 0.5·0 + 0.5·50 = 25;  u2 100;  u5 0.5·50 + 0 = 25.
    # u1 and u5 tie on 25; share score u1 50 > u5 0 → u1 2nd, u5 3rd.
    t = result.table
    assert t.index.to_list() == [2, 1, 5, 3, 4]  # by rank, then the units not rated
    assert t.loc[[2, 1, 5], "score"].to_list() == approx([100, 25, 25])
    assert t.loc[[2, 1, 5], "rank"].to_list() == [1, 2, 3]
    assert t.loc[[2, 1, 5], "grade"].to_list() == ["优秀", "较差", "较差"]
    assert t.loc[[2, 1, 5], "share"].to_list() == approx([100, 50, 0])
    # not rated: no score, no rank; not reporting is the fourth grade, too few instruments none.
    assert t.loc[[3, 4], "score"].isna().all() and t.loc[[3, 4], "rank"].isna().all()
    assert t.loc[3, "grade"] == "" and t.loc[3, "status"] == "too_few_instruments"
    assert t.loc[4, "grade"] == "较差" and t.loc[4, "status"] == "not_reported"
    assert list(result.normalised.index) == [1, 2, 5]


def test_contributions_add_up_to_the_score_and_scorecard_traces_it():
    result = S.evaluate(RAW, UNITS, scheme(MG))
    sums = result.contributions.sum(axis=1)
    assert sums.to_dict() == approx(result.table["score"].dropna().to_dict())
    card = S.scorecard(result, 1)
    # u1: m raw 10 → 0 × 0.5 = 0;  g raw 5 → 50 × 0.5 = 25;  total 25.
    assert card["raw"].to_list() == [10, 5]
    assert card["normalised"].to_list() == approx([0, 50])
    assert card["contribution"].to_list() == approx([0, 25])
    assert card["group"].to_list() == ["org", "share"]
    not_rated = S.scorecard(result, 3)
    assert not_rated["raw"].to_list() == [1000, 10] and not_rated["contribution"].isna().all()


def test_evaluate_geometric_scorecard_factors_multiply_to_the_score():
    result = S.evaluate(RAW, UNITS, scheme(MG, aggregation="geometric"))
    # u1: 100 · (1/100)^0.5 · (50/100)^0.5 = 100 · 0.1 · 0.707107 = 7.0711 (m = 0 floored to 1)
    assert result.table.loc[1, "score"] == approx(7.0711, abs=1e-4)
    card = S.scorecard(result, 1)
    assert 100 * card["factor"].prod() == approx(result.table.loc[1, "score"])


def test_weight_override_re_ranks():
    result = S.evaluate(RAW, UNITS, scheme(MG), weights=pd.Series({"m": 3.0, "g": 1.0}))
    # weights 0.75 / 0.25: u1 0 + 12.5 = 12.5;  u2 100;  u5 37.5 + 0 = 37.5 → u5 overtakes u1.
    assert result.weights.to_dict() == approx({"m": 0.75, "g": 0.25})
    assert result.table.loc[[2, 5, 1], "rank"].to_list() == [1, 2, 3]
    assert result.table.loc[[2, 5, 1], "score"].to_list() == approx([100, 37.5, 12.5])


def test_evaluate_refuses_bad_input_naming_the_problem():
    with pytest.raises(ValueError, match=r"lack indicator columns \['g'\]"):
        S.evaluate(RAW[["m"]], UNITS, scheme(MG))
    with pytest.raises(ValueError, match="unknown status"):
        S.evaluate(RAW, UNITS.assign(status=["rated"] * 4 + ["late"]), scheme(MG))
    with pytest.raises(ValueError, match=r"weights missing for indicators \['g'\]"):
        S.evaluate(RAW, UNITS, scheme(MG), weights=pd.Series({"m": 1.0}))
    with pytest.raises(ValueError, match="≥ 0"):
        S.evaluate(RAW, UNITS, scheme(MG), weights=pd.Series({"m": 1.0, "g": -1.0}))


def test_rank_moves_against_the_baseline():
    base = S.evaluate(RAW, UNITS, scheme(MG))
    now = S.evaluate(RAW, UNITS, scheme(MG), weights=pd.Series({"m": 3.0, "g": 1.0}))
    moves = S.rank_moves(now, base)
    # u5 3rd → 2nd (+1), u1 2nd → 3rd (−1), u2 stays; not-rated units have no move.
    assert moves.loc[[2, 5, 1], "move"].to_list() == [0, 1, -1]
    assert moves.loc[[3, 4], "move"].isna().all()
    assert not moves["grade_changed"].any()


def test_rank_moves_grade_changes_and_units_new_or_gone():
    now = pd.DataFrame({"rank": [1, 2, pd.NA], "grade": ["优秀", "良好", ""]}, index=["a", "b", "c"])
    before = pd.DataFrame({"rank": [2, 1, 3], "grade": ["良好", "良好", "合格"]}, index=["a", "b", "d"])
    m = S.rank_moves(now, before)
    assert m.loc["a", "move"] == 1 and m.loc["b", "move"] == -1
    # c is new without a grade (not rated): nothing changed; d is gone and had 合格: changed.
    assert m["grade_changed"].to_dict() == {"a": True, "b": False, "c": False, "d": True}
    assert pd.isna(m.loc["c", "move"]) and pd.isna(m.loc["d", "rank"])


# --------------------------------------------------------------------------- robustness
# Units 3 and 4 have identical normalised rows and tie-break scores: they must tie in every draw.
NR = frame({1: [90, 20, 50], 2: [30, 80, 60], 3: [60, 60, 10], 4: [60, 60, 10], 5: [10, 10, 10]}, "abc")
WR = pd.Series({"a": 0.4, "b": 0.35, "c": 0.25})
TB = pd.Series({1: 50.0, 2: 60.0, 3: 10.0, 4: 10.0, 5: 10.0})


def test_monte_carlo_without_noise_reproduces_the_base_ranking_in_every_draw():
    base = S.rank_units(S.aggregate(NR, WR), TB)
    # scores: u1 36 + 7 + 12.5 = 55.5; u2 12 + 28 + 15 = 55; u3 = u4 = 24 + 21 + 2.5 = 47.5; u5 10
    assert base.to_dict() == {1: 1, 2: 2, 3: 3, 4: 3, 5: 5}
    ranks, _ = S.simulate_ranks(NR, WR, TB, n=200, noise=0.0)
    assert (ranks == base.to_numpy()).all()
    mc = S.monte_carlo_ranks(NR, WR, TB, n=200, noise=0.0)
    assert (mc["share_base_rank"] == 1.0).all() and (mc["p5_rank"] == mc["p95_rank"]).all()


def test_monte_carlo_is_reproducible_with_a_seed():
    a = S.monte_carlo_ranks(NR, WR, TB, n=300, seed=7)
    b = S.monte_carlo_ranks(NR, WR, TB, n=300, seed=7)
    pd.testing.assert_frame_equal(a, b)
    r1, _ = S.simulate_ranks(NR, WR, TB, n=300, seed=7)
    r2, _ = S.simulate_ranks(NR, WR, TB, n=300, seed=8)
    assert not (r1 == r2).all()  # u1 and u2 are 0.5 apart: some draws swap them


def test_monte_carlo_clear_leader_and_coin_flip_pair():
    n = frame({"lead": [100, 100], "x": [60, 40], "y": [40, 60], "last": [0, 0]}, "ab")
    w = pd.Series({"a": 0.5, "b": 0.5})
    tb = pd.Series({"lead": 0.0, "x": 1.0, "y": 0.0, "last": 0.0})
    mc = S.monte_carlo_ranks(n, w, tb, rule=GradeRule())
    assert mc.loc["lead", "share_base_rank"] == 1.0 and mc.loc["lead", "p95_rank"] == 1
    assert mc.loc["lead", "share_base_grade"] == 1.0  # 100 → 优秀 in every draw
    # x beats y iff the drawn a-weight exceeds the b-weight: probability ½ under symmetric noise.
    assert 0.4 < mc.loc["x", "share_base_rank"] < 0.6
    assert mc.loc["x", ["p5_rank", "p95_rank", "best_rank", "worst_rank"]].to_list() == [2, 3, 2, 3]
    assert mc.loc["last", "median_rank"] == 4


def test_drawn_weights_stay_within_the_noise_band_and_sum_to_one():
    draws = S.draw_weights(pd.Series({"a": 0.6, "b": 0.4}), n=500, noise=0.25, seed=1)
    assert draws.sum(axis=1) == approx(np.ones(500))
    ratio = draws[:, 0] / draws[:, 1]  # 1.5 · f_a/f_b with f in [0.75, 1.25] → [0.9, 2.5]
    assert ratio.min() >= 1.5 * 0.75 / 1.25 and ratio.max() <= 1.5 * 1.25 / 0.75
    with pytest.raises(ValueError, match="noise"):
        S.draw_weights(pd.Series({"a": 1.0}), noise=1.0)


def test_drop_one_indicator_by_hand():
    n = frame({1: [100, 0, 0], 2: [0, 100, 50], 3: [40, 40, 100]}, "abc")
    w = pd.Series({"a": 0.5, "b": 0.3, "c": 0.2})
    tb = pd.Series({1: 0.0, 2: 0.0, 3: 0.0})
    # base: u1 50, u2 30 + 10 = 40, u3 20 + 12 + 20 = 52 → 3, 1, 2 … i.e. u3 1st, u1 2nd, u2 3rd.
    # drop a (b 0.6, c 0.4): u1 0, u2 60 + 20 = 80, u3 24 + 40 = 64       → u2, u3, u1
    # drop b (a 5/7, c 2/7): u1 71.4, u2 14.3, u3 (200 + 200)/7 = 57.1     → u1, u3, u2
    # drop c (a 0.625, b 0.375): u1 62.5, u2 37.5, u3 25 + 15 = 40        → u1, u3, u2
    d = S.drop_one_ranks(n, w, tb)
    assert d.to_dict() == {"a": {1: 3, 2: 1, 3: 2}, "b": {1: 1, 2: 3, 3: 2}, "c": {1: 1, 2: 3, 3: 2}}
    # only a weighs: dropping it leaves no ranking; dropping b changes nothing.
    d = S.drop_one_ranks(n, pd.Series({"a": 1.0, "b": 0.0, "c": 0.0}), tb)
    assert d["a"].isna().all() and d["b"].to_list() == [1, 3, 2]


def test_rank_correlation():
    a = pd.Series({"p": 1, "q": 2, "r": 3, "s": 4})
    assert S.rank_correlation(a, a) == approx((1.0, 1.0))
    assert S.rank_correlation(a, 5 - a) == approx((-1.0, -1.0))
    # one adjacent swap: ρ = 1 − 6·Σd²/(n(n²−1)) = 1 − 6·2/60 = 0.8; τ = (5 − 1)/6 = 0.6667.
    b = pd.Series({"s": 4, "r": 3, "q": 1, "p": 2})  # aligned by unit, not by position
    assert S.rank_correlation(a, b) == approx((0.8, 2 / 3))
    rho, tau = S.rank_correlation(a, pd.Series({"p": 1, "z": 2}))
    assert math.isnan(rho) and math.isnan(tau)  # one unit in common


# --------------------------------------------------------------------------- fingerprint
def test_fingerprint_is_stable_and_sensitive():
    s = scheme(MG)
    fp = S.result_fingerprint(S.evaluate(RAW, UNITS, s), "data-1")
    assert len(fp) == 64 and int(fp, 16) >= 0
    assert S.result_fingerprint(S.evaluate(RAW.copy(), UNITS.copy(), s), "data-1") == fp
    # the same weights given explicitly (1 : 1 renormalises to 0.5 / 0.5) → the same content
    same = S.evaluate(RAW, UNITS, s, weights=pd.Series({"m": 1.0, "g": 1.0}))
    assert S.result_fingerprint(same, "data-1") == fp
    changed = S.evaluate(RAW, UNITS, s, weights=pd.Series({"m": 0.51, "g": 0.49}))
    assert S.result_fingerprint(changed, "data-1") != fp
    assert S.result_fingerprint(S.evaluate(RAW, UNITS, s), "data-2") != fp


def test_canonical_json_rounds_and_sorts():
    text = S.canonical_json({"b": [0.1234567, float("nan"), -0.0], "a": np.int64(3), "c": pd.NA})
    assert text == '{"a":3,"b":[0.123457,null,0.0],"c":null}'
