"""Scoring of the open-sharing performance evaluation: normalise, weight, aggregate, grade, rank.

Pure numpy/pandas/scipy over DataFrames; nothing here reads the store or knows about Streamlit, so
every score on the evaluation page can be traced by hand (see `scorecard`).

Inputs
    raw     DataFrame, index unit_id, one float column per indicator id of the scheme (NaN where
            an indicator is undefined for a unit) — `dashboard.indicators.IndicatorTable.raw`.
    units   DataFrame, index unit_id, with a "status" column: rated | too_few_instruments |
            not_reported — `IndicatorTable.units`.
    scheme  `dashboard.scheme.Scheme`.

Conventions (each one is a decision an evaluator may ask about, so they are all written here)
    * Normalised values are 0–100, 100 = best. Methods that depend on the population (minmax,
      zscore, rank) are computed over the RATED units only, and over those with a value.
    * A missing raw value (NaN) normalises to 0 whatever the direction: no data earns nothing.
      (Not "the worst value of the others" — a unit must not profit from leaving a field empty.)
    * goalpost: 100·(x−L)/(U−L), or 100·(U−x)/(U−L) when lower is better, capped to [0, 100].
    * minmax:   100·(x−min)/(max−min); a constant column gives 100 to everyone (nobody is worse
      than anybody).
    * zscore:   50 + 10·z capped to [0, 100], z with the population standard deviation (ddof=0);
      a constant column gives 50 to everyone. (±5 standard deviations span the scale.)
    * rank:     percentile rank 100·(r−1)/(n−1) with average ranks r for ties (1 = lowest), i.e.
      the share of the other units a unit beats, ties counted half; one unit alone gets 100, a
      constant column gives 50 to everyone.
    * "lower is better" for minmax/zscore/rank mirrors the values (x → −x) before normalising.
    * Global weight of an indicator = group share × share within its group (both renormalised);
      they sum to 1. Zero-weight groups and indicators are allowed.
    * Aggregation: arithmetic Σ wᵢ·nᵢ (default), or geometric 100·Π (max(nᵢ, floor)/100)^wᵢ with a
      floor (default 1 point) so that a single zero does not zero the whole score.
      Contributions wᵢ·nᵢ always add up to the ARITHMETIC score; for the geometric score the
      scorecard also shows each factor (max(nᵢ, floor)/100)^wᵢ, whose product ×100 is the score.
    * Ranks: 1 = best; by score descending, then by the tie-break group score (共享服务)
      descending; units equal on both share the better rank ("min" method: 1, 1, 3).
      Scores are compared after rounding to 9 decimals so that float noise makes no ties or
      breaks none.
    * Grades by bands: score ≥ 90 优秀, ≥ 75 良好, ≥ 60 合格, else the fourth label.
      Grades by quotas: k₁ = ⌊q₁·n + 0.5⌋ units (round half up) are 优秀, the next
      k₂ = ⌊q₂·n + 0.5⌋ places 良好, the rest 合格. Places are counted from the top by rank, so a
      tie at a boundary is broken by the tie-break score, and units still tied on both fall on
      the better side (the grade below then has fewer places). Whatever its rank, a unit below
      the pass score gets the fourth label (see `GradeRule.pass_score`).
    * Units not rated get no score and no rank; "not_reported" units get the fourth label (not
      reporting is itself a failure), "too_few_instruments" units get an empty grade.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dashboard.scheme import GROUP_IDS, GradeRule, Indicator, Scheme

RATED, TOO_FEW, NOT_REPORTED = "rated", "too_few_instruments", "not_reported"
STATUSES = (RATED, TOO_FEW, NOT_REPORTED)
TABLE_COLUMNS = ("score",) + GROUP_IDS + ("rank", "grade", "status")

GEOMETRIC_FLOOR = 1.0  # points; a 0 counts as 1 in the geometric mean (0 would zero the product)
TIE_DECIMALS = 9  # scores are compared at this precision when ranking and grading
ZSCORE_CENTRE, ZSCORE_SPREAD = 50.0, 10.0  # z-score → 50 + 10·z
QUOTA_EPSILON = 1e-9  # 0.15·10 may be 1.4999999…; quotas round half up on the intended value
FINGERPRINT_DECIMALS = 6


# --------------------------------------------------------------------------- normalisation
def _minmax(v: np.ndarray) -> np.ndarray:
    lo, hi = v.min(), v.max()
    if hi == lo:
        return np.full_like(v, 100.0)  # nobody is worse than anybody
    return 100.0 * (v - lo) / (hi - lo)


def _zscore(v: np.ndarray) -> np.ndarray:
    # Test constancy on min/max, not on std: the std of [0.1, 0.1, 0.1] is 1e-17, not 0.
    if v.max() == v.min():
        return np.full_like(v, ZSCORE_CENTRE)
    z = (v - v.mean()) / v.std()
    return np.clip(ZSCORE_CENTRE + ZSCORE_SPREAD * z, 0.0, 100.0)


def _percentile_rank(v: np.ndarray) -> np.ndarray:
    if v.size == 1:
        return np.array([100.0])
    r = stats.rankdata(v, method="average")
    return 100.0 * (r - 1.0) / (v.size - 1.0)


_POPULATION_METHODS = {"minmax": _minmax, "zscore": _zscore, "rank": _percentile_rank}


def _goalpost(x: np.ndarray, indicator: Indicator) -> np.ndarray:
    lo, hi = float(indicator.params["lower"]), float(indicator.params["upper"])
    share = (x - lo) / (hi - lo) if indicator.direction == "higher" else (hi - x) / (hi - lo)
    return np.clip(100.0 * share, 0.0, 100.0)


def normalise(values, indicator: Indicator) -> np.ndarray:
    """One indicator's raw values (of the rated units) → 0–100, 100 best; NaN → 0."""
    x = np.asarray(values, dtype=float)
    out = np.zeros_like(x)
    present = ~np.isnan(x)
    if not present.any():
        return out
    if indicator.method == "goalpost":
        out[present] = _goalpost(x[present], indicator)
    else:
        oriented = x[present] if indicator.direction == "higher" else -x[present]
        out[present] = _POPULATION_METHODS[indicator.method](oriented)
    return out


def normalise_table(raw: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Every indicator column of `raw` (rated units only) normalised; columns in scheme order."""
    return pd.DataFrame(
        {ind.id: normalise(raw[ind.id], ind) for ind in scheme.indicators},
        index=raw.index, columns=scheme.indicator_ids(), dtype=float,
    )


# --------------------------------------------------------------------------- weights
def indicator_weights(scheme: Scheme) -> pd.Series:
    """Global weight per indicator = group share × share within the group; sums to 1."""
    scheme.validate()
    group_total = sum(g.weight for g in scheme.groups)
    group_share = {g.id: g.weight / group_total for g in scheme.groups}
    within = within_group_weights(scheme)
    weights = {i.id: group_share[i.group] * within.loc[i.group, i.id] for i in scheme.indicators}
    return pd.Series(weights, name="weight", dtype=float)


def within_group_weights(scheme: Scheme, weights: pd.Series | None = None) -> pd.DataFrame:
    """Groups × indicators; each row the weights of that group's indicators, summing to 1.

    With `weights` (global weights, e.g. a live override) the group's slice of them is used.
    A group that carries no global weight still gets a score for display and tie-breaking: its
    slice falls back to the scheme's within-group weights, then to equal weights."""
    ids = scheme.indicator_ids()
    matrix = pd.DataFrame(0.0, index=list(GROUP_IDS), columns=ids)
    for group in GROUP_IDS:
        members = [i for i in scheme.indicators if i.group == group]
        if not members:
            continue  # row of zeros: the group score is NaN
        candidates = [np.array([float(i.weight) for i in members]), np.ones(len(members))]
        if weights is not None:
            candidates.insert(0, weights.reindex([i.id for i in members]).fillna(0.0).to_numpy(float))
        chosen = next(c for c in candidates if c.sum() > 0)
        matrix.loc[group, [i.id for i in members]] = chosen / chosen.sum()
    return matrix


def _aligned_weights(weights: pd.Series, columns) -> np.ndarray:
    """Weights in the order of `columns`, checked and renormalised to sum 1."""
    missing = [c for c in columns if c not in weights.index]
    if missing:
        raise ValueError(f"weights missing for indicators {missing}")
    w = weights.reindex(columns).to_numpy(dtype=float)
    if np.isnan(w).any() or (w < 0).any():
        raise ValueError(f"weights must be numbers ≥ 0, got {dict(zip(columns, w))}")
    if w.sum() <= 0:
        raise ValueError("at least one indicator needs a positive weight")
    return w / w.sum()


def override_weights(weights: pd.Series, scheme: Scheme) -> pd.Series:
    """A global weight vector given by the caller (live weights, Monte Carlo), renormalised."""
    ids = scheme.indicator_ids()
    return pd.Series(_aligned_weights(weights, ids), index=ids, name="weight")


# --------------------------------------------------------------------------- aggregation
def _score_matrix(n: np.ndarray, w: np.ndarray, method: str, floor: float) -> np.ndarray:
    """Scores for weight rows `w` (draws × indicators) and units `n` (units × indicators)."""
    if method == "arithmetic":
        return w @ n.T
    if method == "geometric":
        if floor <= 0:
            raise ValueError(f"geometric floor must be > 0, got {floor}")
        return 100.0 * np.exp(w @ np.log(np.maximum(n, floor) / 100.0).T)
    raise ValueError(f"aggregation must be arithmetic or geometric, got {method!r}")


def aggregate(normalised: pd.DataFrame, weights: pd.Series, method: str = "arithmetic",
              floor: float = GEOMETRIC_FLOOR) -> pd.Series:
    """Score per unit on 0–100: Σ w·n, or 100·Π (max(n, floor)/100)^w (weights renormalised)."""
    w = _aligned_weights(weights, normalised.columns)
    scores = _score_matrix(normalised.to_numpy(float), w[None, :], method, floor)[0]
    return pd.Series(scores, index=normalised.index, name="score")


def group_scores(normalised: pd.DataFrame, weights: pd.Series | None, scheme: Scheme,
                 method: str = "arithmetic", floor: float = GEOMETRIC_FLOOR) -> pd.DataFrame:
    """Scores of 组织管理 / 运行使用 / 共享服务 on the same 0–100 scale, within-group weights."""
    within = within_group_weights(scheme, weights)
    n = normalised.reindex(columns=within.columns).to_numpy(float)
    matrix = _score_matrix(n, within.to_numpy(float), method, floor).T  # units × groups
    matrix[:, within.sum(axis=1).to_numpy() == 0] = np.nan  # a group without indicators
    return pd.DataFrame(matrix, index=normalised.index, columns=list(GROUP_IDS))


# --------------------------------------------------------------------------- ranks and grades
def rank_matrix(scores: np.ndarray, tie_break: np.ndarray) -> np.ndarray:
    """Min ranks (1 = best) per row of `scores` (draws × units); equal scores are ordered by
    `tie_break` (per unit, or per draw × unit); equal on both → the same, better rank."""
    s = np.round(np.atleast_2d(np.asarray(scores, dtype=float)), TIE_DECIMALS)
    t = np.round(np.broadcast_to(np.asarray(tie_break, dtype=float), s.shape), TIE_DECIMALS)
    t = np.where(np.isnan(t), -np.inf, t)  # no tie-break score: last among equals
    order = np.lexsort((-t, -s), axis=-1)
    s_sorted, t_sorted = np.take_along_axis(s, order, -1), np.take_along_axis(t, order, -1)
    starts = np.ones(s.shape, dtype=bool)
    starts[:, 1:] = (s_sorted[:, 1:] != s_sorted[:, :-1]) | (t_sorted[:, 1:] != t_sorted[:, :-1])
    place = np.arange(1, s.shape[1] + 1)
    sorted_ranks = np.maximum.accumulate(np.where(starts, place, 0), axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, sorted_ranks, axis=1)
    return ranks


def rank_units(scores: pd.Series, tie_break: pd.Series) -> pd.Series:
    """Rank per unit: score desc, then tie-break desc; equal on both → same rank (1, 1, 3)."""
    ranks = rank_matrix(scores.to_numpy(float), tie_break.reindex(scores.index).to_numpy(float))
    return pd.Series(ranks[0], index=scores.index, name="rank", dtype=int)


def quota_counts(n: int, quotas: tuple[float, float]) -> tuple[int, int]:
    """Places graded 优秀 and 良好 among n rated units: ⌊q·n + 0.5⌋ each (round half up),
    e.g. 0.15·10 = 1.5 → 2 and 0.30·10 = 3 → 3; capped at n places in all."""
    first = min(n, math.floor(quotas[0] * n + 0.5 + QUOTA_EPSILON))
    second = min(n - first, math.floor(quotas[1] * n + 0.5 + QUOTA_EPSILON))
    return first, second


def _band_index(scores: np.ndarray, bands) -> np.ndarray:
    s = np.round(scores, TIE_DECIMALS)
    return 3 - sum((s >= float(edge)).astype(int) for edge in bands)  # 0 优秀 … 3 fourth label


def _quota_index(scores: np.ndarray, ranks: np.ndarray, rule: GradeRule) -> np.ndarray:
    first, second = quota_counts(scores.shape[-1], rule.quotas)
    index = np.where(ranks <= first, 0, np.where(ranks <= first + second, 1, 2))
    return np.where(np.round(scores, TIE_DECIMALS) < rule.pass_score, 3, index)


def _grade_index(scores: np.ndarray, ranks: np.ndarray, rule: GradeRule) -> np.ndarray:
    if rule.mode == "bands":
        return _band_index(scores, rule.bands)
    return _quota_index(scores, ranks, rule)


def grade(scores: pd.Series, tie_break: pd.Series, rule: GradeRule) -> pd.Series:
    """Grade label per rated unit by score bands or rank quotas (module docstring)."""
    ranks = rank_units(scores, tie_break).to_numpy()
    index = _grade_index(scores.to_numpy(float), ranks, rule)
    labels = np.array(rule.labels(), dtype=object)
    return pd.Series(labels[index], index=scores.index, name="grade", dtype=object)


# --------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class EvaluationResult:
    table: pd.DataFrame  # index unit_id: score, org, use, share, rank, grade, status
    normalised: pd.DataFrame  # rated units × indicators, 0–100
    weights: pd.Series  # indicator → global weight, sums to 1
    contributions: pd.DataFrame  # rated units × indicators: weight × normalised
    scheme: Scheme
    raw: pd.DataFrame  # all units × indicators, as given (for scorecards)
    floor: float = GEOMETRIC_FLOOR

    def rated(self) -> pd.DataFrame:
        return self.table[self.table["status"] == RATED]


def _statuses(units: pd.DataFrame) -> pd.Series:
    if not units.index.is_unique:
        raise ValueError("units: unit_id repeats")
    status = units["status"]
    unknown = sorted(set(status) - set(STATUSES))
    if unknown:
        raise ValueError(f"units: unknown status {unknown}, expected one of {STATUSES}")
    return status


def _indicator_raw(raw: pd.DataFrame, unit_ids, scheme: Scheme) -> pd.DataFrame:
    """Raw values for `unit_ids` in scheme column order; a unit without a row is all NaN."""
    missing = [i for i in scheme.indicator_ids() if i not in raw.columns]
    if missing:
        raise ValueError(f"raw values lack indicator columns {missing}")
    if not raw.index.is_unique:
        raise ValueError("raw values: unit_id repeats")
    return raw.reindex(index=unit_ids, columns=scheme.indicator_ids()).astype(float)


def _result_table(status: pd.Series, score: pd.Series, groups: pd.DataFrame, ranks: pd.Series,
                  grades: pd.Series, fourth_label: str) -> pd.DataFrame:
    table = pd.DataFrame(index=status.index)
    table["score"] = score.reindex(table.index)
    for group in GROUP_IDS:
        table[group] = groups[group].reindex(table.index)
    table["rank"] = ranks.reindex(table.index).astype("Int64")
    not_rated_grade = status.map({TOO_FEW: "", NOT_REPORTED: fourth_label})
    table["grade"] = grades.reindex(table.index).astype(object).fillna(not_rated_grade)
    table["status"] = status
    table.index.name = "unit_id"
    # Rated units by rank (then id), then the units not rated, by id.
    return table.sort_index().sort_values("rank", kind="stable", na_position="last")


def evaluate(raw: pd.DataFrame, units: pd.DataFrame, scheme: Scheme,
             weights: pd.Series | None = None, floor: float = GEOMETRIC_FLOOR) -> EvaluationResult:
    """Score, group scores, rank and grade every unit; `weights` overrides the scheme's global
    weights (Series by indicator id, renormalised) for live weights and what-if analysis."""
    scheme.validate()
    status = _statuses(units)
    rated_ids = status.index[status == RATED]
    normalised = normalise_table(_indicator_raw(raw, rated_ids, scheme), scheme)
    w = indicator_weights(scheme) if weights is None else override_weights(weights, scheme)
    score = aggregate(normalised, w, scheme.aggregation, floor)
    groups = group_scores(normalised, w, scheme, scheme.aggregation, floor)
    tie_break = groups[scheme.tie_break_group]
    table = _result_table(status, score, groups, rank_units(score, tie_break),
                          grade(score, tie_break, scheme.grade), scheme.grade.fourth_label)
    return EvaluationResult(
        table=table, normalised=normalised, weights=w, contributions=normalised * w,
        scheme=scheme, raw=_indicator_raw(raw, status.index, scheme), floor=floor,
    )


def scorecard(result: EvaluationResult, unit_id) -> pd.DataFrame:
    """One unit, one row per indicator: group, raw, normalised, weight, contribution (and the
    geometric factor when the scheme aggregates geometrically). For a rated unit the
    contributions add up to the arithmetic score; not-rated units show their raw values only."""
    scheme = result.scheme
    ids = scheme.indicator_ids()
    card = pd.DataFrame({"group": [scheme.group_of(i) for i in ids]}, index=pd.Index(ids, name="indicator"))
    card["raw"] = result.raw.loc[unit_id, ids].to_numpy(float)
    rated = unit_id in result.normalised.index
    card["normalised"] = result.normalised.loc[unit_id, ids].to_numpy(float) if rated else np.nan
    card["weight"] = result.weights.reindex(ids).to_numpy(float)
    card["contribution"] = result.contributions.loc[unit_id, ids].to_numpy(float) if rated else np.nan
    if scheme.aggregation == "geometric":
        card["factor"] = (np.maximum(card["normalised"], result.floor) / 100.0) ** card["weight"]
    return card


def rank_moves(current, baseline) -> pd.DataFrame:
    """Rank and grade change per unit against a baseline (published) evaluation.

    Accepts EvaluationResults or their tables. move = baseline rank − current rank, so a
    positive move is a climb; NA when the unit is unranked in either."""
    now = getattr(current, "table", current)
    before = getattr(baseline, "table", baseline)
    index = now.index.union(before.index)
    moves = pd.DataFrame(index=index)
    moves["rank"] = now["rank"].reindex(index).astype("Int64")
    moves["rank_baseline"] = before["rank"].reindex(index).astype("Int64")
    moves["move"] = moves["rank_baseline"] - moves["rank"]
    moves["grade"] = now["grade"].reindex(index).astype(object)
    moves["grade_baseline"] = before["grade"].reindex(index).astype(object)
    moves["grade_changed"] = (moves["grade"].fillna("") != moves["grade_baseline"].fillna("")).astype(bool)
    moves.index.name = now.index.name or "unit_id"
    return moves.sort_values("rank", kind="stable", na_position="last")


# --------------------------------------------------------------------------- robustness
def draw_weights(weights: pd.Series, n: int = 1000, noise: float = 0.25, seed: int = 2016) -> np.ndarray:
    """n × indicators: each weight × U(1 − noise, 1 + noise), each row renormalised to sum 1.

    A zero weight stays zero (the noise is relative)."""
    if not 0 <= noise < 1:
        raise ValueError(f"noise must be in [0, 1), got {noise}")
    w = _aligned_weights(weights, weights.index)
    factors = np.random.default_rng(seed).uniform(1.0 - noise, 1.0 + noise, size=(n, w.size))
    drawn = w[None, :] * factors
    return drawn / drawn.sum(axis=1, keepdims=True)


def simulate_ranks(normalised: pd.DataFrame, weights: pd.Series, tie_break_scores: pd.Series,
                   n: int = 1000, noise: float = 0.25, seed: int = 2016,
                   method: str = "arithmetic", floor: float = GEOMETRIC_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """(ranks, scores), each n draws × units (columns in the order of `normalised.index`).

    The tie-break scores are held fixed: they only matter between exactly equal scores, which
    under random weights means units with equal normalised values, whose tie-break scores are
    then equal as well."""
    w = pd.Series(_aligned_weights(weights, normalised.columns), index=normalised.columns)
    draws = draw_weights(w, n, noise, seed)
    scores = _score_matrix(normalised.to_numpy(float), draws, method, floor)
    tie_break = tie_break_scores.reindex(normalised.index).to_numpy(float)
    return rank_matrix(scores, tie_break), scores


def monte_carlo_ranks(normalised: pd.DataFrame, weights: pd.Series, tie_break_scores: pd.Series,
                      n: int = 1000, noise: float = 0.25, seed: int = 2016,
                      method: str = "arithmetic", floor: float = GEOMETRIC_FLOOR,
                      rule: GradeRule | None = None) -> pd.DataFrame:
    """Per unit: base rank, median rank, 5 % and 95 % rank percentiles (linear interpolation),
    best and worst rank over the draws, share of draws at the base rank, and — with a grade
    `rule` — share of draws in the base grade."""
    w = pd.Series(_aligned_weights(weights, normalised.columns), index=normalised.columns)
    tie_break = tie_break_scores.reindex(normalised.index).to_numpy(float)
    base_scores = _score_matrix(normalised.to_numpy(float), w.to_numpy()[None, :], method, floor)
    base_ranks = rank_matrix(base_scores, tie_break)
    ranks, scores = simulate_ranks(normalised, w, tie_break_scores, n, noise, seed, method, floor)
    out = pd.DataFrame(index=normalised.index)
    out["base_rank"] = base_ranks[0]
    out["median_rank"] = np.median(ranks, axis=0)
    out["p5_rank"] = np.percentile(ranks, 5, axis=0)
    out["p95_rank"] = np.percentile(ranks, 95, axis=0)
    out["best_rank"] = ranks.min(axis=0)
    out["worst_rank"] = ranks.max(axis=0)
    out["share_base_rank"] = (ranks == base_ranks).mean(axis=0)
    if rule is not None:
        base_grade = _grade_index(base_scores, base_ranks, rule)
        out["share_base_grade"] = (_grade_index(scores, ranks, rule) == base_grade).mean(axis=0)
    return out


def drop_one_ranks(normalised: pd.DataFrame, weights: pd.Series, tie_break_scores: pd.Series,
                   method: str = "arithmetic", floor: float = GEOMETRIC_FLOOR) -> pd.DataFrame:
    """Units × dropped indicator: the ranks when that indicator is removed and the remaining
    weights renormalised. Dropping the only weighted indicator leaves no ranking (NA column)."""
    ids = list(normalised.columns)
    w = _aligned_weights(weights, ids)
    variants = np.tile(w, (len(ids), 1))
    np.fill_diagonal(variants, 0.0)
    totals = variants.sum(axis=1, keepdims=True)
    usable = totals[:, 0] > 0
    variants = np.divide(variants, totals, out=np.zeros_like(variants), where=totals > 0)
    scores = _score_matrix(normalised.to_numpy(float), variants, method, floor)
    ranks = rank_matrix(scores, tie_break_scores.reindex(normalised.index).to_numpy(float))
    out = pd.DataFrame(ranks.T, index=normalised.index, columns=pd.Index(ids, name="dropped")).astype("Int64")
    out.loc[:, ~usable] = pd.NA
    return out


def rank_correlation(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """(Spearman ρ, Kendall τ-b) between two rankings over the units ranked in both; NaN when
    fewer than two such units or a ranking is constant."""
    pair = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").dropna()
    if len(pair) < 2:
        return math.nan, math.nan
    x, y = pair["a"].to_numpy(float), pair["b"].to_numpy(float)
    return float(stats.spearmanr(x, y).statistic), float(stats.kendalltau(x, y).statistic)


# --------------------------------------------------------------------------- publication
def _canonical(value):
    """JSON-ready value: floats rounded to 6 decimals (NaN → null, −0 → 0), keys as strings."""
    kind = type(value)  # the common exact types first: a fingerprint covers every unit's values
    if kind is float:
        return None if math.isnan(value) else round(value, FINGERPRINT_DECIMALS) + 0.0
    if kind is str:
        return value
    if kind is dict:
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else round(float(value), FINGERPRINT_DECIMALS) + 0.0
    if value is None or value is pd.NA:
        return None
    return str(value)


def canonical_json(payload) -> str:
    """Sorted keys, compact separators, UTF-8 text: the same content gives the same text."""
    return json.dumps(_canonical(payload), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), allow_nan=False)


def result_fingerprint(result: EvaluationResult, data_fingerprint: str) -> str:
    """SHA-256 hex of scheme + weights + per-unit results + data fingerprint (canonical JSON)."""
    columns = list(TABLE_COLUMNS)
    table = result.table[columns]
    values = [table[c].tolist() for c in columns]  # column by column: Python scalars, NA as is
    units = {str(uid): dict(zip(columns, row)) for uid, *row in zip(table.index, *values)}
    payload = {
        "scheme": result.scheme.to_dict(),
        "weights": result.weights.to_dict(),
        "geometric_floor": result.floor,
        "units": units,
        "data_fingerprint": data_fingerprint,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
