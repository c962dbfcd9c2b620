"""Rewards and post-subsidy (后补助): share a pool among eligible units, capped per unit.

Pure numpy/pandas; nothing here reads the store or knows about Streamlit. Labels are returned as
ids (reason ids, line kinds, directions); the page translates them.

Allocation rule (`allocate`, public API fixed by issue 5)
    Every eligible unit i gets  xᵢ = min(capᵢ, λ·basisᵢ)  with one λ ≥ 0 for all, chosen so that
    Σ xᵢ = pool. When the pool is at least the sum of the eligible caps, everyone eligible gets
    their cap and the remainder is unspent. Units that are not eligible, whose basis is ≤ 0 or
    whose cap is ≤ 0 take no part and get 0.

    λ is found by water-filling over the breakpoints tᵢ = capᵢ / basisᵢ (the λ at which unit i
    reaches its cap): sorted ascending, the payout at tₖ is
        f(tₖ) = Σ_{j<k} capⱼ + tₖ · Σ_{j≥k} basisⱼ,
    which is non-decreasing in k; the first k with f(tₖ) > pool gives
        λ = (pool − Σ_{j<k} capⱼ) / Σ_{j≥k} basisⱼ.
    O(n log n) for the sort.

Money and cents
    Amounts are CNY rounded to whole cents. The pool and every cap are first floored to whole
    cents (an amount never exceeds a cap, and never more than the pool is paid). The real-valued
    amounts are floored to cents and the missing cents go one each to the units with the largest
    fractional cent (ties: larger basis first, then earlier position), never past a cap
    (largest-remainder rounding). Hence Σ amounts = min(pool, Σ eligible caps) exactly, in cents.

Reward rule (`RewardRule`, `reward_table`)
    units frame, one row per unit, columns (unit_id as a column or as the index):
        unit_id              any hashable id, unique
        score                evaluation score 0–100; NaN = not rated
        grade                grade label (dashboard.scheme.GRADES, the fourth one configurable:
                             较差 / 不合格); empty/NaN = no grade
        external_income_cny  external service income of the year, CNY (NaN counts as 0); needed
                             for basis "score_x_external_income" and for the share-of-income cap
        voucher_revenue_cny  revenue redeemed from innovation vouchers, CNY (NaN counts as 0);
                             needed for basis "voucher_revenue"
    Eligibility: not excluded (sanction "no post-subsidy"), grade in `eligible_grades` (when set),
    score ≥ `min_score` (when set), basis > 0 and cap > 0. The first condition that fails is the
    unit's `reason_if_not` (one of REASONS). A rule that uses the score (grades, minimum score or a
    score basis) needs a score: units without one are "not_rated".
    Basis: "score" → score; "score_x_external_income" → score × external income;
    "voucher_revenue" → voucher-redeemed revenue.
    Cap: the smallest of the caps that are set — `cap_cny`, and `cap_share_of_external_income` ×
    the unit's external income; none set → no cap (NaN in the table).

Boundaries (`boundary_units`)
    Units within `margin` points of a grade line (score bands, lower edges; a score ≥ the line is
    on the upper side, as in dashboard.scoring) or of `min_score`. For each such (unit, line) the
    allocation is re-run with only that unit moved just across: up to exactly the line, or down to
    the line − `step`; its grade follows the bands, its basis the new score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from dashboard.scheme import GradeRule
from dashboard.scoring import grade as _score_grade

BASIS_KINDS = ("score", "score_x_external_income", "voucher_revenue")
REASONS = ("excluded", "not_rated", "grade", "min_score", "no_basis", "no_cap")
LINE_KINDS = ("grade", "min_score", "both")
DIRECTIONS = ("up", "down")
DEFAULT_ELIGIBLE_GRADES = ("优秀", "良好")  # post-subsidy goes to 优秀 / 良好 (policy_facts.md)
SCORE_DECIMALS = 9  # scores compared at this precision, as in dashboard.scoring (TIE_DECIMALS)
_SNAP_DECIMALS = 6  # fractions of a cent below 1e-6 are float noise

TABLE_COLUMNS = ("unit_id", "score", "grade", "eligible", "reason_if_not", "basis", "cap",
                 "reward", "capped", "share")
BOUNDARY_COLUMNS = ("unit_id", "score", "grade", "line", "line_kind", "direction", "distance",
                    "nearest", "new_score", "new_grade", "eligible", "eligible_if_crossed",
                    "reward", "reward_if_crossed", "change")


# --------------------------------------------------------------------------- allocation
@dataclass(frozen=True, eq=False)
class Allocation:
    """Result of `allocate_detail`.

    amounts  CNY per unit, whole cents (float array, same order as the input)
    cents    the same amounts as integer cents (int64 array); exact sums
    lam      λ in CNY per unit of basis: the real-valued λ of the water-filling; when every
             eligible cap is reached, the smallest λ at which they all are (max capᵢ/basisᵢ);
             0 when nobody takes part
    unspent  pool (floored to cents) minus the amounts paid, CNY
    capped   bool array: the unit takes part and was paid exactly its cap
    """

    amounts: np.ndarray
    cents: np.ndarray
    lam: float
    unspent: float
    capped: np.ndarray

    @property
    def total(self) -> float:
        return int(self.cents.sum()) / 100.0


def _to_cents_floor(values: np.ndarray) -> np.ndarray:
    """CNY → whole cents, rounded down (float noise such as 0.29·100 = 28.999… is snapped first).
    +inf stays +inf. Returned as float so that inf survives."""
    with np.errstate(invalid="ignore"):
        return np.floor(np.round(values * 100.0, _SNAP_DECIMALS))


def _validated(basis, budget, caps, eligible) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    try:
        b = np.asarray(basis, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"basis must be numbers: {exc}") from exc
    if b.ndim != 1:
        raise ValueError(f"basis must be one-dimensional, got shape {b.shape}")
    bad = np.flatnonzero(~np.isfinite(b))
    if bad.size:
        raise ValueError(f"basis has NaN or infinite values at positions {bad.tolist()}")

    try:
        pool = float(budget)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"budget must be a number, got {budget!r}") from exc
    if not np.isfinite(pool):
        raise ValueError(f"budget must be finite, got {pool}")
    if pool < 0:
        raise ValueError(f"budget must be ≥ 0, got {pool}")

    if caps is None:
        c = np.full(b.shape, np.inf)
    else:
        try:
            c = np.asarray(caps, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"caps must be numbers or None: {exc}") from exc
        if c.ndim == 0:
            c = np.full(b.shape, float(c))
        elif c.shape != b.shape:
            raise ValueError(f"caps has shape {c.shape}, basis has {b.shape}")
        bad = np.flatnonzero(np.isnan(c))
        if bad.size:
            raise ValueError(f"caps has NaN at positions {bad.tolist()} (use inf or None for no cap)")
        if np.any(c == -np.inf):
            raise ValueError("caps must not be −inf")

    if eligible is None:
        e = np.ones(b.shape, dtype=bool)
    else:
        raw = np.asarray(eligible)
        if raw.shape != b.shape:
            raise ValueError(f"eligible has shape {raw.shape}, basis has {b.shape}")
        if raw.dtype != bool:
            try:
                num = raw.astype(float)
            except (TypeError, ValueError) as exc:
                raise ValueError("eligible must be booleans") from exc
            if not np.all(np.isin(num, (0.0, 1.0))):
                raise ValueError("eligible must be booleans (or 0/1)")
            raw = num.astype(bool)
        e = raw.astype(bool)
    return b, pool, c, e


def _water_fill(b: np.ndarray, c: np.ndarray, pool: float) -> tuple[np.ndarray, float]:
    """Real-valued min(cᵢ, λ·bᵢ) summing to `pool` (< Σc), all bᵢ > 0, cᵢ > 0 (may be inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = c / b
    order = np.argsort(t, kind="stable")
    ts, cs, bs = t[order], c[order], b[order]
    finite = np.isfinite(ts)
    caps_before = np.concatenate(([0.0], np.cumsum(np.where(finite, cs, 0.0))[:-1]))
    basis_from = np.cumsum(bs[::-1])[::-1]
    with np.errstate(invalid="ignore"):
        payout = np.where(finite, caps_before + ts * basis_from, np.inf)
    payout = np.maximum.accumulate(payout)  # non-decreasing in exact arithmetic; remove noise
    k = int(np.searchsorted(payout, pool, side="right"))
    k = min(k, len(b) - 1)
    lam = max(0.0, (pool - caps_before[k]) / basis_from[k])
    return np.minimum(c, lam * b), lam


def _first_by_priority(candidates: np.ndarray, k: int, rem: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The `k` first of `candidates` (positions, ascending) in rounding priority — largest
    remainder, then larger basis, then earlier position — as a set. A partition on the remainder
    and a sort of the ties on the threshold only: O(n) where sorting every unit was O(n log n)."""
    if k >= candidates.size:
        return candidates
    r = rem[candidates]
    threshold = np.partition(r, candidates.size - k)[candidates.size - k]  # the k-th largest
    above = candidates[r > threshold]
    tied = candidates[r == threshold]
    need = k - above.size
    if need < tied.size:
        tied = tied[np.lexsort((tied, -b[tied]))[:need]]
    return np.concatenate([above, tied])


def _round_to_cents(x: np.ndarray, cap_c: np.ndarray, b: np.ndarray, target: int) -> np.ndarray:
    """Largest-remainder rounding of real cents `x` (≤ cap_c) to integers summing to `target`."""
    snapped = np.round(x, _SNAP_DECIMALS)
    floor = np.floor(snapped)
    rem = snapped - floor
    out = floor.astype(np.int64)
    missing = target - int(out.sum())
    while missing > 0:  # normally one pass: missing = Σ remainders < number of units with one
        room = np.flatnonzero(out < cap_c)
        if room.size == 0:
            break
        take = _first_by_priority(room, missing, rem, b)
        out[take] += 1
        missing -= take.size
    if missing < 0:  # only from float noise
        priority = np.lexsort((np.arange(len(x)), -b, -rem))  # largest remainder, larger basis, first
        while missing < 0:
            have = priority[::-1][out[priority[::-1]] > 0]
            if have.size == 0:
                break
            take = have[:-missing]
            out[take] -= 1
            missing += take.size
    return out


def allocate_detail(basis, budget, caps=None, eligible=None) -> Allocation:
    """Share `budget` (CNY) as min(capᵢ, λ·basisᵢ) over eligible units (module docstring).

    basis     1-D numbers, no NaN; units with basis ≤ 0 get 0
    budget    the pool in CNY, finite, ≥ 0
    caps      scalar or 1-D like basis, CNY; None or inf = no cap; units with cap ≤ 0 get 0
    eligible  bools like basis, None = all eligible
    Raises ValueError on NaN, negative or infinite budget, or shape mismatches.
    """
    return _allocate_valid(*_validated(basis, budget, caps, eligible))


def _allocate_valid(b: np.ndarray, pool: float, c: np.ndarray, e: np.ndarray) -> Allocation:
    """`allocate_detail` on inputs `_validated` already checked (1-D float basis and caps, bool
    eligible, pool ≥ 0)."""
    n = b.shape[0]
    cap_c = _to_cents_floor(np.maximum(c, 0.0))
    pool_c = int(_to_cents_floor(np.array(pool)))
    active = e & (b > 0) & (cap_c > 0)
    cents = np.zeros(n, dtype=np.int64)
    capped = np.zeros(n, dtype=bool)
    if not active.any() or pool_c == 0:
        return Allocation(cents / 100.0, cents, 0.0, pool_c / 100.0, capped)

    ba, ca = b[active], cap_c[active]
    if np.all(np.isfinite(ca)) and ca.sum() <= pool_c:
        paid = ca.astype(np.int64)
        lam_c = float(np.max(ca / ba))
    else:
        real, lam_c = _water_fill(ba, ca, float(pool_c))
        paid = _round_to_cents(real, ca, ba, pool_c)
    cents[active] = paid
    capped[active] = paid == ca
    return Allocation(cents / 100.0, cents, lam_c / 100.0,
                      (pool_c - int(cents.sum())) / 100.0, capped)


def allocate(basis, budget, caps=None, eligible=None) -> np.ndarray:
    """Amounts in CNY (whole cents): every eligible unit gets min(capᵢ, λ·basisᵢ), Σ = min(budget,
    Σ eligible caps). See `allocate_detail` for λ and the unspent remainder."""
    return allocate_detail(basis, budget, caps, eligible).amounts


# --------------------------------------------------------------------------- reward rule
@dataclass(frozen=True)
class RewardRule:
    """Who shares the reward / post-subsidy pool, on which basis, up to which cap."""

    pool_cny: float = 0.0
    eligible_grades: tuple[str, ...] | None = DEFAULT_ELIGIBLE_GRADES  # None/() = any grade
    min_score: float | None = None  # None = no minimum
    basis: str = "score"  # one of BASIS_KINDS
    cap_cny: float | None = None  # absolute cap per unit; None = none
    cap_share_of_external_income: float | None = None  # cap = share × external income; None = none

    def validate(self) -> "RewardRule":
        """Raise ValueError naming the first problem; return self when usable."""
        if not _finite_number(self.pool_cny) or self.pool_cny < 0:
            raise ValueError(f"pool_cny must be a finite number ≥ 0, got {self.pool_cny!r}")
        if self.basis not in BASIS_KINDS:
            raise ValueError(f"basis must be one of {BASIS_KINDS}, got {self.basis!r}")
        if self.eligible_grades is not None:
            if isinstance(self.eligible_grades, str) or not all(
                    isinstance(g, str) for g in self.eligible_grades):
                raise ValueError(f"eligible_grades must be a tuple of grade labels, "
                                 f"got {self.eligible_grades!r}")
        if self.min_score is not None and not _finite_number(self.min_score):
            raise ValueError(f"min_score must be a number or None, got {self.min_score!r}")
        if self.cap_cny is not None and (not _finite_number(self.cap_cny) or self.cap_cny < 0):
            raise ValueError(f"cap_cny must be a finite number ≥ 0 or None, got {self.cap_cny!r}")
        share = self.cap_share_of_external_income
        if share is not None and (not _finite_number(share) or share < 0):
            raise ValueError(f"cap_share_of_external_income must be a number ≥ 0 or None, "
                             f"got {share!r}")
        return self

    def uses_score(self) -> bool:
        return bool(self.eligible_grades) or self.min_score is not None or self.basis != "voucher_revenue"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["eligible_grades"] = None if self.eligible_grades is None else list(self.eligible_grades)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "RewardRule":
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"reward rule: unknown fields {unknown}")
        grades = data.get("eligible_grades", DEFAULT_ELIGIBLE_GRADES)

        def opt(name):
            v = data.get(name)
            return None if v is None else _as_float(name, v)

        return cls(
            pool_cny=_as_float("pool_cny", data.get("pool_cny", 0.0)),
            eligible_grades=None if grades is None else tuple(grades),
            min_score=opt("min_score"),
            basis=data.get("basis", "score"),
            cap_cny=opt("cap_cny"),
            cap_share_of_external_income=opt("cap_share_of_external_income"),
        ).validate()


def _finite_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) \
        and bool(np.isfinite(v))


def _as_float(name: str, v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"reward rule: {name} must be a number, got {v!r}") from exc


@dataclass(frozen=True, eq=False)
class RewardOutcome:
    """`reward_table` plus the allocation's λ and unspent remainder."""

    table: pd.DataFrame
    allocation: Allocation
    rule: RewardRule

    @property
    def total(self) -> float:
        return self.allocation.total

    @property
    def unspent(self) -> float:
        return self.allocation.unspent

    @property
    def lam(self) -> float:
        return self.allocation.lam


def _units_frame(units: pd.DataFrame, rule: RewardRule) -> pd.DataFrame:
    frame = units.set_index("unit_id") if "unit_id" in units.columns else units.copy()
    frame.index.name = "unit_id"
    if not frame.index.is_unique:
        dup = frame.index[frame.index.duplicated()].unique().tolist()
        raise ValueError(f"units: unit_id repeats: {dup}")
    needed = []
    if rule.uses_score():
        needed.append("score")
    if rule.eligible_grades:
        needed.append("grade")
    if rule.basis == "score_x_external_income" or rule.cap_share_of_external_income is not None:
        needed.append("external_income_cny")
    if rule.basis == "voucher_revenue":
        needed.append("voucher_revenue_cny")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"units: missing columns {missing} needed by the reward rule")
    for col in ("score", "external_income_cny", "voucher_revenue_cny"):
        if col in frame.columns:
            try:
                frame[col] = pd.to_numeric(frame[col], errors="raise").astype(float)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"units: column {col} must be numeric: {exc}") from exc
    return frame


def _money_column(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.zeros(len(frame))
    return frame[col].fillna(0.0).to_numpy(float)


@dataclass(frozen=True, eq=False)
class _Terms:
    """What `reward_outcome` works out per unit before the allocation (arrays in frame order)."""

    score: np.ndarray
    grade: pd.Series
    income: np.ndarray
    basis: np.ndarray
    cap: np.ndarray
    barred: np.ndarray  # the "excluded" test, as reward_outcome makes it
    reason: np.ndarray  # REASONS id or None (object array)

    @property
    def eligible(self) -> np.ndarray:
        return self.reason == None  # noqa: E711


def _basis_of(rule: RewardRule, score: np.ndarray, income: np.ndarray, revenue: np.ndarray) -> np.ndarray:
    if rule.basis == "score":
        return np.nan_to_num(score, nan=0.0)
    if rule.basis == "score_x_external_income":
        return np.nan_to_num(score, nan=0.0) * income
    return revenue


def _terms(frame: pd.DataFrame, rule: RewardRule, barred: set) -> _Terms:
    n = len(frame)
    score = frame["score"].to_numpy(float) if "score" in frame.columns else np.full(n, np.nan)
    grade = frame["grade"] if "grade" in frame.columns else pd.Series([None] * n, index=frame.index)
    income = _money_column(frame, "external_income_cny")
    basis = _basis_of(rule, score, income, _money_column(frame, "voucher_revenue_cny"))

    cap = np.full(n, np.inf)
    if rule.cap_cny is not None:
        cap = np.minimum(cap, float(rule.cap_cny))
    if rule.cap_share_of_external_income is not None:
        cap = np.minimum(cap, float(rule.cap_share_of_external_income) * np.maximum(income, 0.0))

    rounded = np.round(score, SCORE_DECIMALS)
    is_barred = np.asarray(frame.index.isin(list(barred)), dtype=bool)
    fails = [
        ("excluded", is_barred),
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
    return _Terms(score, grade, income, basis, cap, is_barred, reason)


def _moved_reason(terms: _Terms, i: int, rule: RewardRule, score: float, grade: str, basis: float):
    """The reason_if_not of unit position `i` with another score, grade and basis (the same tests,
    in the same order, as `_terms`; exclusion and cap do not depend on the score)."""
    if terms.barred[i]:
        return "excluded"
    if rule.uses_score() and np.isnan(score):
        return "not_rated"
    if rule.eligible_grades and grade not in list(rule.eligible_grades):
        return "grade"
    if rule.min_score is not None and not (np.round(np.array([score]), SCORE_DECIMALS)[0] >= float(rule.min_score)):
        return "min_score"
    if not basis > 0:
        return "no_basis"
    if not _to_cents_floor(np.array([terms.cap[i]]))[0] > 0:
        return "no_cap"
    return None


def reward_outcome(units: pd.DataFrame, rule: RewardRule,
                   excluded: Iterable | None = None) -> RewardOutcome:
    """Reward per unit under `rule` (module docstring); `excluded` = unit ids barred by sanctions
    (no post-subsidy)."""
    rule.validate()
    frame = _units_frame(units, rule)
    n = len(frame)
    terms = _terms(frame, rule, set(excluded or ()))
    eligible = terms.eligible

    alloc = allocate_detail(np.maximum(terms.basis, 0.0), rule.pool_cny, terms.cap, eligible)
    pool = float(rule.pool_cny)
    table = pd.DataFrame({
        "unit_id": frame.index.to_numpy(),
        "score": terms.score,
        "grade": pd.Series(terms.grade.to_numpy(dtype=object), dtype=object),
        "eligible": eligible.astype(bool),
        "reason_if_not": pd.Series(terms.reason, dtype=object),  # None when eligible
        "basis": terms.basis,
        "cap": np.where(np.isfinite(terms.cap), terms.cap, np.nan),
        "reward": alloc.amounts,
        "capped": alloc.capped,
        "share": alloc.amounts / pool if pool > 0 else np.zeros(n),
    }, columns=list(TABLE_COLUMNS))
    return RewardOutcome(table=table, allocation=alloc, rule=rule)


def reward_table(units: pd.DataFrame, rule: RewardRule, excluded: Iterable | None = None) -> pd.DataFrame:
    """One row per unit, in input order, columns TABLE_COLUMNS:
    unit_id, score, grade (as given), eligible (takes part in the allocation), reason_if_not (a
    REASONS id or None), basis, cap (CNY; NaN = no cap), reward (CNY, whole cents), capped (paid
    exactly its cap), share (reward / pool)."""
    return reward_outcome(units, rule, excluded).table


# --------------------------------------------------------------------------- boundaries
def _bands_rule(grade_lines) -> GradeRule:
    if isinstance(grade_lines, GradeRule):
        if grade_lines.mode != "bands":
            raise ValueError("boundary_units needs score-band grading (grade lines), "
                             f"got mode {grade_lines.mode!r}")
        return grade_lines
    lines = tuple(float(x) for x in grade_lines)
    if len(lines) != 3 or not (lines[0] > lines[1] > lines[2]):
        raise ValueError(f"grade_lines must be three falling lower edges (优秀, 良好, 合格), got {lines}")
    return GradeRule(mode="bands", bands=lines)


def _band_grade(score: float, rule: GradeRule) -> str:
    s = pd.Series([score])
    return str(_score_grade(s, pd.Series([0.0]), rule).iloc[0])


def boundary_units(units: pd.DataFrame, rule: RewardRule, grade_lines: GradeRule | Sequence[float],
                   margin: float = 3.0, excluded: Iterable | None = None,
                   step: float = 0.01) -> pd.DataFrame:
    """Units near a grade line or the minimum score, and their reward if they crossed it.

    grade_lines  a band `GradeRule` (its fourth label is used), or the three lower edges of
                 优秀 / 良好 / 合格 (fourth label 较差)
    margin       points either side of a line (≥ 0)
    step         how far below a line a unit moving down lands (points, > 0)
    One row per (unit, line) within the margin (a line equal to min_score is one line, kind
    "both"), columns BOUNDARY_COLUMNS: line_kind in LINE_KINDS, direction "up" (moves to the
    line) or "down" (moves to line − step), distance (points to the line; 0 = on the line, upper
    side), nearest (the unit's nearest line: smaller distance, then higher line), new_score,
    new_grade, eligible / eligible_if_crossed, reward / reward_if_crossed (CNY) and change.
    Units without a score and excluded units (they get nothing either way) are not listed.
    Sorted by distance, then unit_id, then line (high to low).
    """
    if not _finite_number(margin) or margin < 0:
        raise ValueError(f"margin must be a number ≥ 0, got {margin!r}")
    if not _finite_number(step) or step <= 0:
        raise ValueError(f"step must be a number > 0, got {step!r}")
    bands = _bands_rule(grade_lines)
    base = reward_outcome(units, rule, excluded)
    frame = _units_frame(units, rule)
    if "score" not in frame.columns:
        frame["score"] = np.nan
    if "grade" not in frame.columns:
        frame["grade"] = None
    frame["grade"] = frame["grade"].astype(object)
    barred = set(excluded or ())
    base_table = base.table

    kinds: dict[float, str] = {float(x): "grade" for x in bands.bands}
    if rule.min_score is not None:
        m = float(rule.min_score)
        kinds[m] = "both" if m in kinds else "min_score"
    lines = sorted(kinds, reverse=True)

    # Moving one unit across a line changes only that unit's score, grade, basis and eligibility:
    # the allocation is re-run on the other units' terms, worked out once (as reward_outcome would
    # work them out on the moved frame), with that unit's entries replaced.
    terms = _terms(frame, rule, barred)
    basis_all = np.maximum(terms.basis, 0.0)
    eligible_all = terms.eligible.astype(bool)
    pool = float(rule.pool_cny)
    new_grades: dict[float, str] = {}
    base_grade = base_table["grade"].to_numpy(object)
    base_eligible = base_table["eligible"].to_numpy(bool)
    base_reward = base_table["reward"].to_numpy(float)

    rows = []
    for i, (uid, score) in enumerate(frame["score"].items()):
        if uid in barred or not np.isfinite(score):
            continue
        s = round(float(score), SCORE_DECIMALS)
        for line in lines:
            up = s < line
            distance = round(line - s if up else s - line, SCORE_DECIMALS)
            if distance > margin:
                continue
            new_score = line if up else line - step
            if new_score not in new_grades:
                new_grades[new_score] = _band_grade(new_score, bands)
            new_grade = new_grades[new_score]
            moved_basis = _basis_of(rule, np.array([new_score], dtype=float), terms.income[i:i + 1],
                                    terms.basis[i:i + 1])
            reason = _moved_reason(terms, i, rule, new_score, new_grade, float(moved_basis[0]))
            moved_b = np.maximum(moved_basis, 0.0)[0]
            reward_now = float(base_reward[i])
            if reason is not None:  # out of the allocation: nothing, whatever the others get
                reward_after = 0.0
            elif eligible_all[i] and moved_b == basis_all[i]:  # the base allocation again
                reward_after = reward_now
            else:
                b = basis_all.copy()
                b[i] = moved_b
                e = eligible_all.copy()
                e[i] = True
                reward_after = float(_allocate_valid(b, pool, terms.cap, e).amounts[i])
            rows.append({
                "unit_id": uid, "score": float(score), "grade": base_grade[i], "line": line,
                "line_kind": kinds[line], "direction": "up" if up else "down",
                "distance": distance, "new_score": new_score,
                "new_grade": new_grade, "eligible": bool(base_eligible[i]),
                "eligible_if_crossed": reason is None, "reward": reward_now,
                "reward_if_crossed": reward_after,
                "change": round(reward_after - reward_now, 2),
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


__all__ = [
    "Allocation", "BASIS_KINDS", "BOUNDARY_COLUMNS", "DEFAULT_ELIGIBLE_GRADES", "DIRECTIONS",
    "LINE_KINDS", "REASONS", "RewardOutcome", "RewardRule", "TABLE_COLUMNS", "allocate",
    "allocate_detail", "boundary_units", "reward_outcome", "reward_table",
]
