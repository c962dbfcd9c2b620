"""Weights: AHP (Saaty), entropy, CRITIC, blend — against hand-worked and published numbers.

Closed form used below for 3×3 reciprocal matrices (independent of the eigen-solver): with
t = (a12·a23 / a13)^(1/3), λmax = 1 + t + 1/t, and the principal eigenvector is proportional to the
row geometric means. Every pair of a 3×3 matrix deviates from the weights by the same factor t (or
1/t), so "which judgement is worst" is only meaningful from n = 4 on.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dashboard.weighting import (
    SAATY_1980_RANDOM_INDEX,
    SAATY_RI_SOURCE,
    AhpInputError,
    InconsistentJudgements,
    WeightingInputError,
    ahp,
    ahp_weights,
    blend,
    critic,
    entropy,
    judgements_from_matrix,
    matrix_from_judgements,
    normalise,
)


def consistent_matrix(w):
    w = np.asarray(w, dtype=float)
    return w[:, None] / w[None, :]


# --------------------------------------------------------------------------------------------- AHP

def test_saaty_random_index_table_is_the_published_one():
    assert SAATY_RI_SOURCE == "Saaty (1980)"
    assert SAATY_1980_RANDOM_INDEX == (0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49,
                                       1.51, 1.48, 1.56, 1.57, 1.59)


def test_perfectly_consistent_matrix_gives_back_its_weights():
    # a_ij = w_i / w_j from w = (0.6, 0.3, 0.1): [[1, 2, 6], [1/2, 1, 3], [1/6, 1/3, 1]].
    # t = (2·3/6)^(1/3) = 1 -> λmax = 1 + 1 + 1 = 3, CI = (3 − 3)/2 = 0, CR = 0/0.58 = 0.
    r = ahp([[1, 2, 6], [1 / 2, 1, 3], [1 / 6, 1 / 3, 1]])
    np.testing.assert_allclose(r.weights, [0.6, 0.3, 0.1], atol=1e-12)
    assert r.lambda_max == pytest.approx(3.0, abs=1e-12)
    assert r.ci == pytest.approx(0.0, abs=1e-12) and r.cr == pytest.approx(0.0, abs=1e-12)
    assert r.ri == 0.58 and r.consistent
    assert all(g.deviation == pytest.approx(1.0) for g in r.worst_judgements)


def test_textbook_three_by_three_example():
    # A = [[1, 3, 5], [1/3, 1, 3], [1/5, 1/3, 1]].
    # Row geometric means: 15^(1/3) = 2.466212, 1^(1/3) = 1, (1/15)^(1/3) = 0.405480; sum 3.871692
    #   -> w = (0.636986, 0.258285, 0.104729)  (numpy.linalg.eig gives the same to 1e-9).
    # t = (3·3/5)^(1/3) = 1.8^(1/3) = 1.216440 -> λmax = 1 + 1.216440 + 0.822071 = 3.038511
    # CI = 0.038511 / 2 = 0.019256; CR = 0.019256 / 0.58 = 0.033199 <= 0.10 -> consistent.
    r = ahp([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    np.testing.assert_allclose(r.weights, [0.636986, 0.258285, 0.104729], atol=1e-5)
    assert r.lambda_max == pytest.approx(3.038511, abs=1e-5)
    assert r.ci == pytest.approx(0.019256, abs=1e-5)
    assert r.cr == pytest.approx(0.033199, abs=1e-5)
    assert r.consistent
    # Each judgement is off by the factor t = 1.216440 (a12 = 3 vs implied 2.466212).
    assert [(g.i, g.j) for g in r.worst_judgements] == [(0, 1), (0, 2), (1, 2)]
    first = r.worst_judgements[0]
    assert (first.judged, round(first.implied, 5), round(first.deviation, 5)) == (3.0, 2.46621, 1.21644)
    np.testing.assert_allclose(ahp_weights([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]), r.weights)


def test_circular_preference_is_flagged_and_rejected():
    # A > B (3), B > C (3) yet C > A (3): a13 = 1/3. t = (3·3 / (1/3))^(1/3) = 27^(1/3) = 3
    # -> λmax = 1 + 3 + 1/3 = 4.333333, CI = 1.333333/2 = 0.666667, CR = 0.666667/0.58 = 1.149425.
    # By symmetry the weights are equal.
    matrix = [[1, 3, 1 / 3], [1 / 3, 1, 3], [3, 1 / 3, 1]]
    r = ahp(matrix)
    np.testing.assert_allclose(r.weights, [1 / 3] * 3, atol=1e-12)
    assert r.lambda_max == pytest.approx(13 / 3, abs=1e-9)
    assert r.cr == pytest.approx((2 / 3) / 0.58, abs=1e-9) and not r.consistent
    with pytest.raises(InconsistentJudgements) as exc:
        ahp_weights(matrix)
    assert exc.value.result.cr == pytest.approx(1.149425, abs=1e-6)
    assert "CR = 1.149 > 0.10" in str(exc.value)
    # A lenient threshold accepts it: the threshold is a parameter.
    assert ahp(matrix, max_cr=1.2).consistent


def test_planted_reversed_judgement_is_the_worst_one():
    # Consistent from w = (8, 4, 2, 1): a12 = 2, a13 = 4, a14 = 8, a23 = 2, a24 = 4, a34 = 2.
    # Plant a reversal: criterion 1 vs 4 judged 1/8 instead of 8.
    a = consistent_matrix([8, 4, 2, 1])
    a[0, 3], a[3, 0] = 1 / 8, 8
    r = ahp(a)
    # numpy.linalg.eig: λmax = 6.734648, CI = 2.734648/3 = 0.911549, CR = 0.911549/0.90 = 1.012832.
    assert r.lambda_max == pytest.approx(6.734648, abs=1e-5)
    assert r.cr == pytest.approx(1.012832, abs=1e-5) and not r.consistent
    worst = r.worst_judgements[0]
    assert (worst.i, worst.j, worst.judged) == (0, 3, 0.125)
    # w = (0.217612, 0.301673, 0.150837, 0.329878): implied w1/w4 = 0.659675, deviation 5.277397.
    assert worst.implied == pytest.approx(0.659675, abs=1e-5)
    assert worst.deviation == pytest.approx(5.277397, abs=1e-5)
    assert worst.deviation > r.worst_judgements[1].deviation
    assert len(r.worst_judgements) == 6  # every pair i < j
    with pytest.raises(InconsistentJudgements, match=r"revisit matrix\[0\]\[3\] = 0.125"):
        ahp_weights(a)


def test_one_and_two_criteria():
    r1 = ahp([[1]])
    assert r1.weights.tolist() == [1.0] and r1.lambda_max == pytest.approx(1.0)
    assert (r1.ci, r1.ri, r1.cr, r1.consistent, r1.worst_judgements) == (0.0, 0.0, 0.0, True, ())
    # 2×2: w = (3, 1)/4 = (0.75, 0.25), λmax = 2 exactly; every 2×2 reciprocal matrix is consistent.
    r2 = ahp(np.array([[1, 3], [1 / 3, 1]]))
    np.testing.assert_allclose(r2.weights, [0.75, 0.25], atol=1e-12)
    assert r2.lambda_max == pytest.approx(2.0) and r2.cr == 0.0 and r2.consistent


@pytest.mark.parametrize(
    ("matrix", "reason", "cell", "message"),
    [
        ([[1, 3], [0.5, 1]], "not_reciprocal", (1, 0), r"matrix\[1\]\[0\] = 0.5 is not the reciprocal of matrix\[0\]\[1\] = 3"),
        ([[1, 0], [0, 1]], "not_positive", (0, 1), r"matrix\[0\]\[1\] = 0 must be a positive"),
        ([[1, 10], [0.1, 1]], "out_of_scale", (0, 1), r"matrix\[0\]\[1\] = 10 is outside Saaty's scale 1/9..9"),
        ([[1, 2, 3], [0.5, 1, 1]], "not_square", None, r"must be square, got shape \(2, 3\)"),
        ([[2, 1], [1, 1]], "diagonal", (0, 0), r"matrix\[0\]\[0\] = 2 is on the diagonal"),
        ([[1, float("nan")], [1, 1]], "not_positive", (0, 1), r"matrix\[0\]\[1\] = nan"),
        ([[1, -2], [-0.5, 1]], "not_positive", (0, 1), r"matrix\[0\]\[1\] = -2"),
        ([[1, "x"], [1, 1]], "not_numeric", None, r"numbers only"),
        ([], "not_square", None, r"must be square"),
    ],
)
def test_invalid_matrices_name_the_cell(matrix, reason, cell, message):
    with pytest.raises(AhpInputError, match=message) as exc:
        ahp(matrix)
    assert exc.value.reason == reason and exc.value.cell == cell
    assert isinstance(exc.value, ValueError)


def test_more_than_fifteen_criteria_is_a_clear_error():
    with pytest.raises(AhpInputError, match="at most 15 criteria") as exc:
        ahp(np.ones((16, 16)))
    assert exc.value.reason == "too_large"
    assert ahp(np.ones((15, 15))).ri == 1.59


def test_reciprocals_typed_with_three_decimals_are_accepted():
    # 1/3 typed as 0.333 (0.1 % off) passes the 0.5 % tolerance; 0.3 (10 % off) does not.
    r = ahp([[1, 3, 5], [0.333, 1, 3], [0.2, 0.333, 1]])
    np.testing.assert_allclose(r.weights, [0.636986, 0.258285, 0.104729], atol=1e-3)
    with pytest.raises(AhpInputError, match="not the reciprocal"):
        ahp([[1, 3], [0.3, 1]])


def test_matrix_from_judgements_fills_reciprocals_and_ones():
    a = matrix_from_judgements(3, {(0, 1): 3, (0, 2): 5, (2, 1): 1 / 3})  # (2, 1) = 1/3 -> a12 = 3
    np.testing.assert_allclose(a, [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    np.testing.assert_allclose(matrix_from_judgements(3, {(0, 2): 2}),
                               [[1, 1, 2], [1, 1, 1], [0.5, 1, 1]])  # missing pairs = 1
    assert judgements_from_matrix(a) == pytest.approx({(0, 1): 3, (0, 2): 5, (1, 2): 3})
    assert np.allclose(matrix_from_judgements(3, judgements_from_matrix(a)), a)


@pytest.mark.parametrize(
    ("n", "judgements", "reason", "message"),
    [
        (3, {(0, 1): 3, (1, 0): 3}, "duplicate", r"\(1, 0\) is given twice"),
        (3, {(0, 3): 3}, "out_of_range", r"\(0, 3\) refers to a criterion outside 0..2"),
        (3, {(1, 1): 3}, "diagonal", r"compares a criterion with itself"),
        (3, {(0, 1): 0}, "not_positive", r"judgement \(0, 1\) = 0 must be a positive"),
        (3, {(0, 1): "much"}, "not_a_number", r"'much' is not a number"),
        (3, {(0, 2): 12}, "out_of_scale", r"matrix\[0\]\[2\] = 12 is outside"),
        (0, {}, "bad_size", r"positive integer"),
        (16, {}, "too_large", r"at most 15"),
    ],
)
def test_bad_judgements_are_named(n, judgements, reason, message):
    with pytest.raises(AhpInputError, match=message) as exc:
        matrix_from_judgements(n, judgements)
    assert exc.value.reason == reason


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1.0, 9.0), min_size=1, max_size=15))
def test_ahp_recovers_the_weights_of_any_consistent_matrix(raw):
    # Raw weights within 1..9 keep every ratio inside Saaty's 1/9..9 scale.
    w = np.array(raw) / sum(raw)
    r = ahp(consistent_matrix(raw))
    np.testing.assert_allclose(r.weights, w, rtol=1e-8, atol=1e-12)
    assert r.lambda_max == pytest.approx(len(raw), rel=1e-9)
    assert r.cr == pytest.approx(0.0, abs=1e-8) and r.consistent


SAATY_VALUES = [1 / 9, 1 / 7, 1 / 5, 1 / 3, 1, 3, 5, 7, 9]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8).flatmap(
    lambda n: st.lists(st.sampled_from(SAATY_VALUES), min_size=n * (n - 1) // 2,
                       max_size=n * (n - 1) // 2).map(lambda v: (n, v))))
def test_ahp_on_any_valid_matrix_gives_positive_normalised_weights(case):
    n, values = case
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    r = ahp(matrix_from_judgements(n, dict(zip(pairs, values))))
    assert r.weights.shape == (n,) and (r.weights > 0).all()
    assert r.weights.sum() == pytest.approx(1.0)
    assert r.lambda_max >= n - 1e-9 and r.cr >= 0
    devs = [g.deviation for g in r.worst_judgements]
    assert len(devs) == len(pairs)
    assert all(a >= b - 1e-9 for a, b in zip(devs, devs[1:]))  # most inconsistent first
    assert all(d >= 1 - 1e-9 for d in devs)


# ------------------------------------------------------------------------------------- entropy

def test_entropy_worked_by_hand_with_a_zero_and_a_constant_column():
    # X (3 alternatives × 3 criteria): c1 = (1, 1, 2), c2 = (0, 1, 1) (a zero), c3 = (5, 5, 5).
    # m = 3, k = 1/ln 3 = 0.910239.
    # c1: p = (1/4, 1/4, 1/2); Σ p ln p = −(2·¼·ln 4 + ½·ln 2) = −1.5 ln 2 = −1.039721
    #     e1 = 1.039721 / 1.098612 = 0.946395, d1 = 0.053605
    # c2: p = (0, 1/2, 1/2); 0·ln 0 = 0; Σ p ln p = −ln 2 = −0.693147
    #     e2 = 0.693147 / 1.098612 = 0.630930, d2 = 0.369070
    # c3: constant, p = (1/3, 1/3, 1/3), e3 = 1, d3 = 0.
    # w = d / Σd = (0.053605, 0.369070, 0) / 0.422675 = (0.126824, 0.873176, 0).
    w = entropy([[1, 0, 5], [1, 1, 5], [2, 1, 5]])
    np.testing.assert_allclose(w, [0.126824, 0.873176, 0.0], atol=1e-6)
    assert w[2] == 0.0 and w.sum() == pytest.approx(1.0)
    # The constant column changes nothing for the others.
    np.testing.assert_allclose(entropy(np.array([[1, 0], [1, 1], [2, 1]])), w[:2], atol=1e-12)


def test_entropy_degenerate_inputs_give_equal_weights_never_nan():
    np.testing.assert_allclose(entropy([[3, 3, 3], [3, 3, 3]]), [1 / 3] * 3)  # all constant
    np.testing.assert_allclose(entropy([[0, 0], [0, 0], [0, 0]]), [0.5, 0.5])  # all zero
    np.testing.assert_allclose(entropy([[10, 80, 5]]), [1 / 3] * 3)  # m = 1
    # An all-zero column next to an informative one: weight 0, not NaN.
    np.testing.assert_allclose(entropy([[0, 0], [0, 100]]), [0.0, 1.0])
    # Rounding noise is not information: 0.1 + 0.2 vs 0.3 counts as constant.
    np.testing.assert_allclose(entropy([[0.1 + 0.2, 0], [0.3, 1]]), [0.0, 1.0])


@pytest.mark.parametrize(
    ("X", "reason", "message"),
    [
        ([[1, 2], [-1, 3]], "negative", r"X\[1\]\[0\] = -1 is negative"),
        ([[1, 2], [float("nan"), 3]], "not_finite", r"X\[1\]\[0\] = nan is not a finite"),
        ([1, 2, 3], "not_a_matrix", r"2-D matrix"),
        ([[]], "not_a_matrix", r"2-D matrix"),
    ],
)
def test_entropy_rejects_bad_data(X, reason, message):
    with pytest.raises(WeightingInputError, match=message) as exc:
        entropy(X)
    assert exc.value.reason == reason


# -------------------------------------------------------------------------------------- CRITIC

def test_critic_worked_by_hand():
    # X = [[0, 0, 1], [5, 10, 0], [10, 5, 1]] -> min-max per column:
    #   z1 = (0, .5, 1), z2 = (0, 1, .5), z3 = (1, 0, 1).
    # Population σ: σ1 = σ2 = sqrt(((.5)² + 0 + (.5)²)/3) = sqrt(1/6) = 0.408248;
    #   z3 mean 2/3: σ3 = sqrt((1/9 + 4/9 + 1/9)/3) = sqrt(2/9) = 0.471405.
    # Pearson: r12 = (.25/3)/(1/6) = 0.5; r13 = (−1/6 + 0 + 1/6)/3 / (σ1σ3) = 0;
    #   r23 = ((−.5)(1/3) + (.5)(−2/3) + 0)/3 / sqrt(1/6 · 2/9) = (−1/6)/0.192450 = −0.866025.
    # C1 = 0.408248 · (0 + 0.5 + 1)          = 0.612372
    # C2 = 0.408248 · (0.5 + 0 + 1.866025)   = 0.965926
    # C3 = 0.471405 · (1 + 1.866025 + 0)     = 1.351058;  ΣC = 2.929356
    # w = (0.209047, 0.329740, 0.461213).
    w = critic([[0, 0, 1], [5, 10, 0], [10, 5, 1]])
    np.testing.assert_allclose(w, [0.209047, 0.329740, 0.461213], atol=1e-6)
    assert w.sum() == pytest.approx(1.0)


def test_critic_constant_column_gets_zero_and_counts_as_uncorrelated():
    # Same data plus a constant 4th column: its weight is 0; for the others r with it is taken as
    # 0, adding σ_j·(1 − 0) to each C_j: C = (1.020621, 1.374174, 1.822463), ΣC = 4.217258.
    w = critic(np.array([[0, 0, 1, 7], [5, 10, 0, 7], [10, 5, 1, 7]]))
    np.testing.assert_allclose(w, [0.242011, 0.325846, 0.432144, 0.0], atol=1e-6)
    assert w[3] == 0.0
    np.testing.assert_allclose(critic([[0, 7], [5, 7], [10, 7]]), [1.0, 0.0])


def test_critic_degenerate_inputs_give_equal_weights_and_negatives_are_fine():
    np.testing.assert_allclose(critic([[4, 4], [4, 4]]), [0.5, 0.5])
    np.testing.assert_allclose(critic([[1, 2, 3]]), [1 / 3] * 3)  # m = 1
    # Min-max removes any offset, so shifting a column does not change the weights.
    base = np.array([[0, 0, 1], [5, 10, 0], [10, 5, 1]], dtype=float)
    np.testing.assert_allclose(critic(base - [50, 0, 3]), critic(base), atol=1e-12)
    with pytest.raises(WeightingInputError, match=r"X\[0\]\[1\] = inf"):
        critic([[1, float("inf")], [2, 3]])


# ------------------------------------------------------------------------- objective properties

@st.composite
def data_and_permutation(draw):
    m = draw(st.integers(2, 8))
    n = draw(st.integers(1, 6))
    X = draw(arrays(float, (m, n), elements=st.floats(0, 100)))
    perm = draw(st.permutations(range(n)))
    return X, list(perm)


@pytest.mark.parametrize("method", [entropy, critic], ids=["entropy", "critic"])
@settings(max_examples=80, deadline=None)
@given(case=data_and_permutation())
def test_objective_weights_are_valid_and_follow_column_permutations(method, case):
    X, perm = case
    w = method(X)
    assert w.shape == (X.shape[1],) and w.dtype == float
    assert np.isfinite(w).all() and (w >= 0).all()
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(method(X[:, perm]), w[perm], atol=1e-9)


# --------------------------------------------------------------------------- blend and normalise

def test_blend_mixes_normalised_weights():
    # 0.5·(0.6, 0.3, 0.1) + 0.5·(0.2, 0.2, 0.6) = (0.4, 0.25, 0.35)
    np.testing.assert_allclose(blend([0.6, 0.3, 0.1], [0.2, 0.2, 0.6]), [0.4, 0.25, 0.35])
    # α = 0.7 with unnormalised subjective weights (6, 3, 1) -> same as (0.6, 0.3, 0.1):
    # 0.7·0.6 + 0.3·0.2 = 0.48; 0.7·0.3 + 0.3·0.2 = 0.27; 0.7·0.1 + 0.3·0.6 = 0.25
    np.testing.assert_allclose(blend(np.array([6, 3, 1]), [0.2, 0.2, 0.6], alpha=0.7),
                               [0.48, 0.27, 0.25])
    np.testing.assert_allclose(blend([1, 1], [0, 1], alpha=0), [0, 1])
    np.testing.assert_allclose(blend([1, 1], [0, 1], alpha=1), [0.5, 0.5])


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (([0.5, 0.5], [0.5, 0.5], 1.5), "bad_alpha"),
        (([0.5, 0.5], [0.5, 0.5], -0.1), "bad_alpha"),
        (([0.5, 0.5], [0.5, 0.5], float("nan")), "bad_alpha"),
        (([0.5, 0.5], [0.5, 0.5], "half"), "bad_alpha"),
        (([0.5, 0.5], [0.2, 0.3, 0.5], 0.5), "length_mismatch"),
        (([0, 0], [0.5, 0.5], 0.5), "all_zero"),
    ],
)
def test_blend_rejects_bad_input(args, reason):
    with pytest.raises(WeightingInputError) as exc:
        blend(*args)
    assert exc.value.reason == reason


def test_normalise():
    w = normalise([2, 1, 1])
    np.testing.assert_allclose(w, [0.5, 0.25, 0.25])
    assert isinstance(w, np.ndarray) and w.dtype == float
    np.testing.assert_allclose(normalise(np.array([0, 3])), [0, 1])
    with pytest.raises(WeightingInputError, match="all weights are zero"):
        normalise([0, 0, 0])
    with pytest.raises(WeightingInputError, match=r"weight\[1\] = -1 must be a finite number >= 0"):
        normalise([2, -1])
    with pytest.raises(WeightingInputError, match=r"weight\[0\] = inf"):
        normalise([math.inf, 1])
    with pytest.raises(WeightingInputError, match="non-empty list"):
        normalise([])
    with pytest.raises(WeightingInputError, match="non-empty list"):
        normalise([[0.5, 0.5]])
