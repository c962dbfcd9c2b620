"""Property tests of `dashboard.incentives.allocate` (hypothesis).

Money inputs are drawn in whole cents so that "to the cent" is an exact integer comparison.
"""

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dashboard.incentives import allocate, allocate_detail

SETTINGS = settings(max_examples=200, deadline=None)

cents = st.integers(min_value=0, max_value=10_000_000_00)  # up to 10 million CNY


@st.composite
def problems(draw, min_size=1, max_size=12):
    n = draw(st.integers(min_value=min_size, max_value=max_size))
    basis = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.01, 1e6, allow_nan=False),
                                    st.integers(-5, 100).map(float)),
                          min_size=n, max_size=n))
    cap_kind = draw(st.sampled_from(["none", "scalar", "array"]))
    if cap_kind == "none":
        caps = None
    elif cap_kind == "scalar":
        caps = draw(cents) / 100
    else:
        caps = [draw(st.one_of(cents.map(lambda c: c / 100), st.just(math.inf))) for _ in range(n)]
    eligible = draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=n, max_size=n)))
    budget = draw(cents) / 100
    return np.array(basis), budget, caps, eligible


def active_caps_cents(basis, caps, eligible):
    """Σ of the caps (in cents) of the units that take part; inf when one has no cap."""
    n = len(basis)
    caps_arr = np.full(n, math.inf) if caps is None else np.broadcast_to(np.asarray(caps, float), (n,))
    elig = np.ones(n, bool) if eligible is None else np.asarray(eligible, bool)
    total = 0
    for b, c, e in zip(basis, caps_arr, elig):
        if not e or b <= 0 or c <= 0:
            continue
        if math.isinf(c):
            return math.inf
        total += round(c * 100)
    return total


def caps_array(caps, n):
    return np.full(n, math.inf) if caps is None else np.broadcast_to(np.asarray(caps, float), (n,))


@SETTINGS
@given(problems())
def test_sum_is_min_of_pool_and_eligible_caps_to_the_cent(p):
    basis, budget, caps, eligible = p
    d = allocate_detail(basis, budget, caps, eligible)
    budget_c = round(budget * 100)
    caps_c = active_caps_cents(basis, caps, eligible)
    anyone = caps_c > 0
    expected = min(budget_c, caps_c) if anyone else 0
    assert int(d.cents.sum()) == expected
    assert round(d.unspent * 100) == budget_c - expected
    np.testing.assert_array_equal(np.round(d.amounts * 100).astype(np.int64), d.cents)


@SETTINGS
@given(problems())
def test_nobody_above_cap_nobody_negative_no_ineligible_paid(p):
    basis, budget, caps, eligible = p
    out = allocate(basis, budget, caps, eligible)
    n = len(basis)
    assert np.all(out >= 0)
    assert np.all(np.round(out * 100) <= np.round(caps_array(caps, n) * 100))
    if eligible is not None:
        assert np.all(out[~np.asarray(eligible, bool)] == 0)
    assert np.all(out[basis <= 0] == 0)


@SETTINGS
@given(problems(), st.data())
def test_more_basis_never_means_less_money(p, data):
    basis, budget, caps, eligible = p
    i = data.draw(st.integers(0, len(basis) - 1))
    extra = data.draw(st.one_of(st.floats(0.01, 1e6, allow_nan=False), st.integers(1, 100).map(float)))
    before = allocate(basis, budget, caps, eligible)[i]
    more = basis.copy()
    more[i] = max(more[i], 0.0) + extra
    after = allocate(more, budget, caps, eligible)[i]
    assert after >= before


@SETTINGS
@given(problems(), st.sampled_from([0.5, 2.0, 3.0, 7.0, 0.1, 1000.0, 1e-3]))
def test_scaling_all_basis_leaves_amounts_unchanged(p, factor):
    basis, budget, caps, eligible = p
    np.testing.assert_array_equal(allocate(basis, budget, caps, eligible),
                                  allocate(basis * factor, budget, caps, eligible))


@SETTINGS
@given(problems())
def test_amounts_follow_min_cap_lambda_basis(p):
    """Within a cent of the real water-filling solution min(capᵢ, λ·basisᵢ)."""
    basis, budget, caps, eligible = p
    d = allocate_detail(basis, budget, caps, eligible)
    n = len(basis)
    elig = np.ones(n, bool) if eligible is None else np.asarray(eligible, bool)
    capc = np.floor(np.round(np.maximum(caps_array(caps, n), 0) * 100, 6))
    active = elig & (basis > 0) & (capc > 0)
    assume(active.any() and budget > 0)
    ideal = np.minimum(capc[active], d.lam * 100 * basis[active])
    assert np.all(np.abs(d.cents[active] - ideal) <= 1 + 1e-6 * np.maximum(1, ideal))
