"""Indicator weights: subjective (AHP) and objective (entropy, CRITIC), and their blend.

Pure numpy, no store and no UI. Public API (quoted in the README for scripting):

- ``ahp(matrix) -> AhpResult`` — Saaty's analytic hierarchy process on a pairwise comparison matrix
  (1–9 scale): principal-eigenvector weights, λmax, CI, RI, CR and the judgements that disagree most
  with the weights. ``ahp_weights(matrix, max_cr=0.10)`` returns the weights or raises
  ``InconsistentJudgements`` when CR is above the threshold.
- ``matrix_from_judgements(n, judgements)`` / ``judgements_from_matrix(matrix)`` — the reciprocal
  matrix from its upper triangle and back.
- ``entropy(X)`` and ``critic(X)`` — objective weights from a data matrix X of alternatives (rows)
  × criteria (columns), already oriented so that larger is better (the evaluation normalises every
  indicator to 0–100 first).
- ``blend(subjective, objective, alpha=0.5)`` and ``normalise(weights)``.

Inputs may be lists or numpy arrays; every weight vector returned is a 1-D float array, all entries
>= 0, summing to 1. Bad input raises ``WeightingInputError`` (a ``ValueError``; ``AhpInputError`` for
matrices) whose message names the offending cell; the exception also carries ``reason`` (a short
code), ``cell`` and ``value`` so that the UI can translate it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

# Saaty's random consistency index RI(n) for n = 1..15, as published in Saaty (1980), "The Analytic
# Hierarchy Process" (the n = 11..15 values are the Oak Ridge simulation reported there; the dip at
# n = 12 is as published). The UI names the source through SAATY_RI_SOURCE.
SAATY_1980_RANDOM_INDEX: tuple[float, ...] = (
    0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59,
)
SAATY_RI_SOURCE = "Saaty (1980)"
MAX_AHP_SIZE = len(SAATY_1980_RANDOM_INDEX)  # no published RI beyond 15 criteria
DEFAULT_MAX_CR = 0.10  # Saaty's rule of thumb: CR above 10 % means the judgements need revisiting
SAATY_MIN, SAATY_MAX = 1.0 / 9.0, 9.0
# Relative tolerance for the diagonal, reciprocity and the 1/9..9 bounds. 0.5 % accepts reciprocals
# typed with three decimals (1/9 as 0.111 is 0.1 % off, 1/7 as 0.143 is 0.1 % off) but rejects a
# matrix whose two halves genuinely disagree.
DEFAULT_TOLERANCE = 0.005


class WeightingInputError(ValueError):
    """Input that cannot be weighted. ``reason`` is a short code, ``cell`` the 0-based position
    (row, column) or None, ``value`` the offending value or None."""

    def __init__(self, message: str, *, reason: str, cell: tuple[int, ...] | None = None,
                 value: float | None = None):
        super().__init__(message)
        self.reason = reason
        self.cell = cell
        self.value = value


class AhpInputError(WeightingInputError):
    """A pairwise comparison matrix (or judgement) that is not a valid Saaty matrix."""


@dataclass(frozen=True)
class Judgement:
    """One pairwise judgement compared with what the AHP weights imply.

    ``i``, ``j`` are 0-based criteria (i < j); ``judged`` is a_ij as entered; ``implied`` is
    w_i / w_j; ``deviation`` = max(judged/implied, implied/judged) >= 1 (1 = fully consistent)."""

    i: int
    j: int
    judged: float
    implied: float
    deviation: float


@dataclass(frozen=True)
class AhpResult:
    weights: np.ndarray  # principal right eigenvector, all > 0, sums to 1
    lambda_max: float
    ci: float  # (λmax − n) / (n − 1); 0 for n <= 2
    ri: float  # SAATY_1980_RANDOM_INDEX[n − 1]
    cr: float  # ci / ri; 0 for n <= 2 (every 1×1 or 2×2 reciprocal matrix is consistent)
    consistent: bool  # cr <= max_cr
    max_cr: float
    worst_judgements: tuple[Judgement, ...]  # every i < j pair, most inconsistent first

    @property
    def n(self) -> int:
        return len(self.weights)


class InconsistentJudgements(ValueError):
    """Raised by ``ahp_weights`` when CR exceeds the threshold; ``result`` holds the full AHP result
    (so the caller can show CR and the judgements to revisit)."""

    def __init__(self, result: AhpResult):
        worst = result.worst_judgements[0]
        super().__init__(
            f"inconsistent pairwise judgements: CR = {result.cr:.3f} > {result.max_cr:.2f}; "
            f"revisit matrix[{worst.i}][{worst.j}] = {worst.judged:g} (the weights imply "
            f"{worst.implied:.3g})")
        self.result = result


# --------------------------------------------------------------------------------------------- AHP

def ahp(matrix, max_cr: float = DEFAULT_MAX_CR, tol: float = DEFAULT_TOLERANCE) -> AhpResult:
    """Saaty's AHP on a reciprocal pairwise comparison matrix.

    ``matrix[i][j]`` says how much more important criterion i is than j on Saaty's scale 1/9..9
    (diagonal 1, ``matrix[j][i] = 1 / matrix[i][j]``). Weights are the principal right eigenvector
    normalised to sum 1; λmax its eigenvalue; CI = (λmax − n)/(n − 1); CR = CI/RI with Saaty's (1980)
    random index; ``consistent`` is CR <= ``max_cr``. ``worst_judgements`` lists every pair i < j
    with its deviation factor max(a_ij / (w_i/w_j), (w_i/w_j) / a_ij), most inconsistent first.
    Raises AhpInputError naming the cell for a matrix that is not square, has more than 15 rows,
    a non-finite or non-positive entry, a diagonal other than 1, an entry outside 1/9..9 or a
    non-reciprocal pair (all within the relative tolerance ``tol``).
    """
    a = _validated_matrix(matrix, tol)
    n = a.shape[0]
    weights, lambda_max = _principal_eigenvector(a)
    # λmax >= n for every positive reciprocal matrix; rounding can put it a hair below n.
    ci = max(0.0, (lambda_max - n) / (n - 1)) if n > 2 else 0.0
    ri = SAATY_1980_RANDOM_INDEX[n - 1]
    cr = ci / ri if ri > 0 else 0.0
    return AhpResult(weights=weights, lambda_max=lambda_max, ci=ci, ri=ri, cr=cr,
                     consistent=cr <= max_cr, max_cr=max_cr,
                     worst_judgements=_rank_judgements(a, weights))


def ahp_weights(matrix, max_cr: float = DEFAULT_MAX_CR, tol: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """AHP weights, or InconsistentJudgements (carrying the result) when CR > ``max_cr``."""
    result = ahp(matrix, max_cr=max_cr, tol=tol)
    if not result.consistent:
        raise InconsistentJudgements(result)
    return result.weights


def matrix_from_judgements(n: int, judgements: Mapping[tuple[int, int], float],
                           tol: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """The n×n reciprocal matrix from judgements {(i, j): a_ij} (0-based, normally i < j).

    Missing pairs mean "equally important" (1). A key with i > j is accepted and stored as
    a_ji = 1/value; giving both (i, j) and (j, i) is an error, as is i == j or an index out of range.
    The finished matrix is validated like ``ahp`` does."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise AhpInputError(f"the number of criteria must be a positive integer, got {n!r}",
                            reason="bad_size")
    if n > MAX_AHP_SIZE:
        raise AhpInputError(f"AHP supports at most {MAX_AHP_SIZE} criteria (Saaty's random index "
                            f"table ends there), got {n}", reason="too_large")
    a = np.ones((n, n))
    seen: set[tuple[int, int]] = set()
    for (i, j), value in judgements.items():
        _check_pair(n, i, j, seen)
        v = _positive_number(value, (i, j))
        lo, hi = (i, j) if i < j else (j, i)
        a[lo, hi] = v if i < j else 1.0 / v
        a[hi, lo] = 1.0 / a[lo, hi]
    return _validated_matrix(a, tol)


def judgements_from_matrix(matrix, tol: float = DEFAULT_TOLERANCE) -> dict[tuple[int, int], float]:
    """The upper triangle {(i, j): a_ij for i < j} of a validated reciprocal matrix."""
    a = _validated_matrix(matrix, tol)
    n = a.shape[0]
    return {(i, j): float(a[i, j]) for i in range(n) for j in range(i + 1, n)}


def _check_pair(n: int, i, j, seen: set) -> None:
    if not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in (i, j)):
        raise AhpInputError(f"judgement key ({i!r}, {j!r}) must be two integer criterion indices",
                            reason="bad_key")
    if not (0 <= i < n and 0 <= j < n):
        raise AhpInputError(f"judgement ({i}, {j}) refers to a criterion outside 0..{n - 1}",
                            reason="out_of_range", cell=(int(i), int(j)))
    if i == j:
        raise AhpInputError(f"judgement ({i}, {j}) compares a criterion with itself (always 1)",
                            reason="diagonal", cell=(int(i), int(j)))
    pair = (min(i, j), max(i, j))
    if pair in seen:
        raise AhpInputError(f"judgement ({i}, {j}) is given twice (as ({i}, {j}) and ({j}, {i}))",
                            reason="duplicate", cell=(int(i), int(j)))
    seen.add(pair)


def _positive_number(value, cell: tuple[int, int]) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise AhpInputError(f"judgement {cell} = {value!r} is not a number",
                            reason="not_a_number", cell=cell) from None
    if not math.isfinite(v) or v <= 0:
        raise AhpInputError(f"judgement {cell} = {v:g} must be a positive finite number",
                            reason="not_positive", cell=cell, value=v)
    return v


def _validated_matrix(matrix, tol: float) -> np.ndarray:
    a = _as_float_array(matrix, "pairwise comparison matrix", AhpInputError)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise AhpInputError(f"the pairwise comparison matrix must be square, got shape {a.shape}",
                            reason="not_square")
    n = a.shape[0]
    if n < 1:
        raise AhpInputError("the pairwise comparison matrix is empty", reason="empty")
    if n > MAX_AHP_SIZE:
        raise AhpInputError(f"AHP supports at most {MAX_AHP_SIZE} criteria (Saaty's random index "
                            f"table ends there), got a {n}×{n} matrix", reason="too_large")
    for (i, j), v in np.ndenumerate(a):  # cell by cell so the first bad one is named
        cell, v = (int(i), int(j)), float(v)
        if not math.isfinite(v) or v <= 0:
            raise AhpInputError(f"matrix[{i}][{j}] = {v:g} must be a positive finite number",
                                reason="not_positive", cell=cell, value=v)
        if i == j and abs(v - 1.0) > tol:
            raise AhpInputError(f"matrix[{i}][{j}] = {v:g} is on the diagonal and must be 1",
                                reason="diagonal", cell=cell, value=v)
        if not SAATY_MIN * (1 - tol) <= v <= SAATY_MAX * (1 + tol):
            raise AhpInputError(f"matrix[{i}][{j}] = {v:g} is outside Saaty's scale 1/9..9",
                                reason="out_of_scale", cell=cell, value=v)
    for i in range(n):
        for j in range(i + 1, n):
            if abs(a[i, j] * a[j, i] - 1.0) > tol:
                raise AhpInputError(
                    f"matrix[{j}][{i}] = {a[j, i]:g} is not the reciprocal of matrix[{i}][{j}] = "
                    f"{a[i, j]:g} (expected {1 / a[i, j]:.4g})",
                    reason="not_reciprocal", cell=(j, i), value=float(a[j, i]))
    return a


def _principal_eigenvector(a: np.ndarray) -> tuple[np.ndarray, float]:
    """Perron vector of a positive matrix: the eigenvalue of largest real part is real and simple,
    and its eigenvector can be taken strictly positive (numpy may return it negated)."""
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    w = np.abs(vectors[:, k].real)
    return w / w.sum(), float(values[k].real)


def _rank_judgements(a: np.ndarray, w: np.ndarray) -> tuple[Judgement, ...]:
    n = len(w)
    found = []
    for i in range(n):
        for j in range(i + 1, n):
            implied = float(w[i] / w[j])
            judged = float(a[i, j])
            found.append(Judgement(i, j, judged, implied, max(judged / implied, implied / judged)))
    # Most inconsistent first. Deviations equal up to rounding (every pair of a 3×3 matrix deviates
    # by the same factor) keep matrix order, so the output does not depend on floating-point noise.
    return tuple(sorted(found, key=lambda g: (-round(g.deviation, 9), g.i, g.j)))


# ---------------------------------------------------------------------------- objective weights

def entropy(X) -> np.ndarray:
    """Entropy weight method on X (alternatives × criteria, non-negative, larger is better).

    p_ij = x_ij / Σ_i x_ij; e_j = −k Σ_i p_ij ln p_ij with k = 1/ln m and 0·ln 0 = 0;
    d_j = 1 − e_j; w_j = d_j / Σ d_j. A criterion on which every alternative scores the same
    (including all zeros) carries no information: d_j = 0, weight 0 (never NaN). If every criterion
    is constant, or there is a single alternative (m = 1), the weights are equal.

    Negative values are rejected rather than shifted: the evaluation feeds 0–100 scores, and a shift
    would change the weights depending on an arbitrary offset. NaN/inf are rejected as well.
    """
    x = _data_matrix(X, "entropy")
    m, n = x.shape
    if m == 1:
        return np.full(n, 1.0 / n)
    informative = ~_constant_columns(x)
    d = np.zeros(n)
    if informative.any():
        xi = x[:, informative]
        p = xi / xi.sum(axis=0)  # > 0: a non-negative column that is not constant has a positive sum
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)  # 0·ln 0 = 0
        e = -plogp.sum(axis=0) / math.log(m)
        d[informative] = np.clip(1.0 - e, 0.0, None)
    return _weights_or_equal(d)


def critic(X) -> np.ndarray:
    """CRITIC weights (Diakoulaki, Mavrotas & Papayannakis 1995) on X (alternatives × criteria,
    larger is better).

    Each column is min-max normalised to 0..1; σ_j is its POPULATION standard deviation (ddof = 0 —
    the sample one would multiply every σ_j by the same sqrt(m/(m−1)), so the weights are identical
    either way); r_jk is the Pearson correlation of the normalised columns;
    C_j = σ_j Σ_k (1 − r_jk); w_j = C_j / Σ C_j.
    A constant column has σ = 0 and an undefined correlation: its correlation with every other
    column is taken as 0 and its C_j = 0 (weight 0, never NaN). If every column is constant (or
    m = 1) the weights are equal. NaN/inf are rejected; negative values are allowed (min-max
    normalisation removes the offset).
    """
    x = _data_matrix(X, "critic", allow_negative=True)
    n = x.shape[1]
    informative = ~_constant_columns(x)
    c = np.zeros(n)
    if informative.any():
        xi = x[:, informative]
        z = (xi - xi.min(axis=0)) / (xi.max(axis=0) - xi.min(axis=0))
        sigma = z.std(axis=0, ddof=0)
        centred = z - z.mean(axis=0)
        r = (centred.T @ centred) / (len(z) * np.outer(sigma, sigma))
        r = np.clip(r, -1.0, 1.0)
        # Σ_k over ALL criteria: a constant column k contributes (1 − 0) = 1 to each C_j.
        conflict = (1.0 - r).sum(axis=1) + (n - informative.sum())
        c[informative] = sigma * conflict
    return _weights_or_equal(c)


def _constant_columns(x: np.ndarray) -> np.ndarray:
    """Columns whose spread is rounding noise relative to their magnitude count as constant, so a
    column like (0.1 + 0.2, 0.3) does not become a maximally spread criterion."""
    spread = x.max(axis=0) - x.min(axis=0)
    scale = np.maximum(1.0, np.abs(x).max(axis=0))
    return spread <= 1e-12 * scale


def _weights_or_equal(raw: np.ndarray) -> np.ndarray:
    total = raw.sum()
    if total <= 0:
        return np.full(len(raw), 1.0 / len(raw))
    return raw / total


# ------------------------------------------------------------------------- blend and normalise

def normalise(weights) -> np.ndarray:
    """Weights scaled to sum 1. They must be a non-empty 1-D vector of finite non-negative numbers,
    not all zero."""
    w = _as_float_array(weights, "weights", WeightingInputError)
    if w.ndim != 1 or w.size == 0:
        raise WeightingInputError(f"weights must be a non-empty list of numbers, got shape {w.shape}",
                                  reason="not_a_vector")
    for k, v in enumerate(w):
        if not math.isfinite(v) or v < 0:
            raise WeightingInputError(f"weight[{k}] = {v:g} must be a finite number >= 0",
                                      reason="negative_or_not_finite", cell=(k,), value=float(v))
    total = w.sum()
    if total <= 0:
        raise WeightingInputError("all weights are zero; at least one must be positive",
                                  reason="all_zero")
    return w / total


def blend(subjective, objective, alpha: float = 0.5) -> np.ndarray:
    """normalise(α·s + (1 − α)·o), each of s and o normalised to sum 1 first (so α is the share of
    the subjective weights whatever scale they were given in). α in [0, 1]: 1 = subjective only."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise WeightingInputError(f"alpha = {alpha!r} is not a number", reason="bad_alpha") from None
    if not 0.0 <= a <= 1.0:  # also rejects NaN
        raise WeightingInputError(f"alpha = {a:g} must be between 0 and 1", reason="bad_alpha",
                                  value=a)
    s, o = normalise(subjective), normalise(objective)
    if s.shape != o.shape:
        raise WeightingInputError(
            f"subjective ({s.size}) and objective ({o.size}) weights differ in length",
            reason="length_mismatch")
    return normalise(a * s + (1.0 - a) * o)


# ------------------------------------------------------------------------------------ helpers

def _as_float_array(data, what: str, error: type[WeightingInputError]) -> np.ndarray:
    try:
        return np.array(data, dtype=float)
    except (TypeError, ValueError):
        raise error(f"the {what} must contain numbers only (and rows of equal length)",
                    reason="not_numeric") from None


def _data_matrix(X, method: str, allow_negative: bool = False) -> np.ndarray:
    x = _as_float_array(X, f"{method} data matrix", WeightingInputError)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise WeightingInputError(
            f"{method}: X must be a 2-D matrix of alternatives × criteria with at least one of "
            f"each, got shape {x.shape}", reason="not_a_matrix")
    for (i, j), v in np.ndenumerate(x):
        if not math.isfinite(v):
            raise WeightingInputError(f"{method}: X[{i}][{j}] = {v} is not a finite number",
                                      reason="not_finite", cell=(int(i), int(j)), value=float(v))
        if v < 0 and not allow_negative:
            raise WeightingInputError(
                f"{method}: X[{i}][{j}] = {v:g} is negative; the entropy method needs data >= 0 "
                f"(normalise to 0–100 first)", reason="negative", cell=(int(i), int(j)),
                value=float(v))
    return x


__all__: Sequence[str] = (
    "SAATY_1980_RANDOM_INDEX", "SAATY_RI_SOURCE", "DEFAULT_MAX_CR", "MAX_AHP_SIZE",
    "WeightingInputError", "AhpInputError", "InconsistentJudgements", "Judgement", "AhpResult",
    "ahp", "ahp_weights", "matrix_from_judgements", "judgements_from_matrix",
    "entropy", "critic", "blend", "normalise",
)
