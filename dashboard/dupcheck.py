"""Duplicate check (查重) of a new purchase request and the suggested verdict with its rule trace.

Pure pandas/numpy: the registry (`models.queries.instruments`), the annual usage
(`models.queries.usage_by_instrument_year`) and optional request / restriction frames come in;
a `Recommendation` dataclass with ids and numbers (never display text) goes out.

Matching (every number is in the `matches` frame, so a reviewer can check it by hand):
- names are normalised (NFKC: full-width → half-width; lower case; spaces and punctuation removed)
  and cut into character n-grams (n = 2 and 3; a name shorter than n uses its whole text);
- for each n: dice = 2|A∩B| / (|A|+|B|), containment = |A∩B| / min(|A|,|B|);
  name_similarity = mean over n of (dice + containment) / 2.
  e.g. 液相色谱仪 vs 高效液相色谱仪: bigrams 4 of 4 shared (dice 0.8, containment 1), trigrams 3 of 3
  (dice 0.75, containment 1) → (0.9 + 0.875) / 2 = 0.8875;
- class relation: same 6-digit code (1.0) > same 4-digit middle class (0.6) > same 2-digit top
  class (0.3, neighbouring) > other (0);
- model match: normalised models equal, or one contains the other (≥ 3 characters);
  maker match: normalised makers equal; specs similarity: bigram dice of the key specifications;
- score = w_name·name_similarity + w_class·class_score + w_model·model + w_maker·maker
  + w_specs·specs_similarity. A registered instrument matches when score ≥ min_score AND
  (name_similarity ≥ min_name_similarity OR the model matches): a same-class instrument never
  matches on its class alone.

Cost (issue 8: one check ≤ 300 ms at 100,000 instruments and 500,000 instrument-years of usage):
each per-row measure (name similarity, class relation, model, maker, specs, rated hours) is
computed once per distinct value and spread back over the rows — a national register repeats a
few hundred names, models and codes — and the n-gram sets of names are cached between checks;
only the matched instruments' usage is pivoted; the rule trace and `to_dict` read column lists,
not iterrows (a common name can match thousands of instruments).
The numbers are exactly those of the row-by-row definition above (tests/test_dupcheck_speed.py).

Use of each match: the average effective hours over the last `history_years` years with usage
data (years before the instrument's commissioning year are left out; a year without rows counts
0 h), spare capacity = max(0, saturation line − hours) and the load class of `dashboard.load`.

Verdict (policy_facts.md, "Duplicate check and joint review"; the most severe fired rule wins):
- reject (不予通过): applicant under purchase restriction; or a similar sharable instrument
  (外部共享, in service) runs below the low-use line (800 h);
- adjust (调整): a similar in-service instrument runs between the low-use and saturation lines;
  or a similar under-used instrument is not (externally) shared — opening it could cover part of
  the need;
- pass (通过): no similar instrument in service, or all similar in-service ones are saturated.
Tier by price (edges 5万 / 50万 / 200万, editable): below_floor, desk_check, expert_panel,
joint_review. Flags: price just under a tier edge; possible split; applicant restricted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from dashboard import policy as P
from dashboard.load import LOAD_IDLE, LOAD_NORMAL, LOAD_SATURATED, LoadLines, load_class
from dashboard.national import OUT_OF_SERVICE_STATUSES
from dashboard.sanctions import is_restricted

SHARABLE_MODE = "外部共享"
_GRAM_CACHE_SIZE = 8192  # distinct names whose n-grams are kept between checks

# Verdict ids (dupcheck.verdict.<id>) and tier ids (dupcheck.tier.<id>).
PASS, ADJUST, REJECT = "pass", "adjust", "reject"
VERDICTS = (PASS, ADJUST, REJECT)
BELOW_FLOOR, DESK_CHECK, EXPERT_PANEL, JOINT_REVIEW = "below_floor", "desk_check", "expert_panel", "joint_review"
TIERS = (BELOW_FLOOR, DESK_CHECK, EXPERT_PANEL, JOINT_REVIEW)

# Rule ids (dupcheck.rule.<id>) with the verdict each one suggests.
RULE_RESTRICTED = "applicant_restricted"
RULE_IDLE_SHARABLE = "idle_sharable"
RULE_NORMAL_LOAD = "normal_load"
RULE_IDLE_NOT_SHARED = "idle_not_shared"
RULE_NO_SIMILAR = "no_similar"
RULE_ALL_SATURATED = "all_saturated"
RULE_VERDICT = {RULE_RESTRICTED: REJECT, RULE_IDLE_SHARABLE: REJECT, RULE_NORMAL_LOAD: ADJUST,
                RULE_IDLE_NOT_SHARED: ADJUST, RULE_NO_SIMILAR: PASS, RULE_ALL_SATURATED: PASS}
RULE_IDS = tuple(RULE_VERDICT)

# Flag ids (dupcheck.flag.<id>).
FLAG_NEAR_THRESHOLD = "near_threshold"
FLAG_SPLIT = "possible_split"
FLAG_RESTRICTED = "restricted"
FLAG_IDS = (FLAG_NEAR_THRESHOLD, FLAG_SPLIT, FLAG_RESTRICTED)

# Class relation ids (dupcheck.class.<id>) and match reason ids (dupcheck.reason.<id>).
CLASS_SAME = "same_class"
CLASS_MIDDLE = "same_middle_class"
CLASS_TOP = "same_top_class"
CLASS_OTHER = "other_class"
CLASS_UNKNOWN = "no_class"  # the request gives no class code
CLASS_RELATIONS = (CLASS_SAME, CLASS_MIDDLE, CLASS_TOP, CLASS_OTHER, CLASS_UNKNOWN)
REASON_NAME, REASON_MODEL, REASON_MAKER, REASON_SPECS = "name", "model", "maker", "specs"

MATCH_COLUMNS = (
    "rank", "instrument_id", "inner_id", "name_zh", "model", "manufacturer", "class_code", "unit_id", "unit_name",
    "unit_name_en", "region_code", "region_name_zh", "region_name_en", "share_mode", "status", "purpose",
    "original_value", "name_similarity", "class_relation", "class_score", "model_match", "maker_match",
    "specs_similarity", "score", "reasons", "years_counted", "avg_hours", "rated_hours", "spare_hours", "load",
    "in_service", "sharable",
)
EVIDENCE_COLUMNS = ("kind", "id", "instrument_id", "unit_id", "value", "line")


@dataclass(frozen=True)
class PurchaseCheck:
    """The request being checked. price_cny in CNY; unit_id the applicant (optional)."""

    name: str
    price_cny: float
    model: str = ""
    class_code: str = ""
    unit_id: int | None = None
    maker: str = ""
    specs: str = ""
    on_date: date | None = None  # review date: restriction year and split window (default today)

    def day(self) -> date:
        return self.on_date or date.today()


@dataclass(frozen=True)
class MatchRules:
    """Weights and thresholds of the similarity score (sum of weights = 1)."""

    w_name: float = 0.55
    w_class: float = 0.20
    w_model: float = 0.15
    w_maker: float = 0.05
    w_specs: float = 0.05
    class_scores: tuple[float, float, float] = (1.0, 0.6, 0.3)  # same 6-digit / 4-digit / 2-digit
    min_name_similarity: float = 0.75
    min_score: float = 0.35
    ngram_sizes: tuple[int, ...] = (2, 3)


@dataclass(frozen=True)
class ReviewRules:
    """Tiers, load lines and flag parameters of the review; defaults from policy_facts.md."""

    tier_edges_cny: tuple[float, float, float] = (50_000, 500_000, 2_000_000)  # desk / panel / joint
    near_share: float = 0.05  # a price within 5 % below an edge is "just under" it
    near_edges_cny: tuple[float, ...] = (500_000, 2_000_000)
    split_window_days: int = 365
    low_use_hours: float = P.DEFAULTS.low_use_hours
    saturation_hours: float = P.DEFAULTS.saturation_hours
    history_years: int = 3

    def lines(self) -> LoadLines:
        return LoadLines(low_use_hours=self.low_use_hours, saturation_hours=self.saturation_hours)


@dataclass(frozen=True)
class Recommendation:
    """verdict (VERDICTS), tier (TIERS), fired rule ids (in RULE_IDS order), flag ids, the ranked
    matches (MATCH_COLUMNS) and the evidence rows (EVIDENCE_COLUMNS: kind rule/flag, id,
    instrument_id, unit_id, value, line — e.g. idle_sharable: the hours and the 800 h line)."""

    verdict: str
    tier: str
    rules: tuple[str, ...]
    flags: tuple[str, ...]
    matches: pd.DataFrame = field(repr=False)
    evidence: pd.DataFrame = field(repr=False)
    years: tuple[int, ...] = ()  # the usage years averaged


# ----------------------------------------------------------------------------------- similarity


def normalise(text) -> str:
    """NFKC (full-width → half-width), lower case, only letters and digits (CJK kept)."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = unicodedata.normalize("NFKC", str(text)).lower()
    return "".join(ch for ch in s if ch.isalnum())


def ngrams(text: str, n: int) -> set[str]:
    """Character n-grams of a normalised text; a text shorter than n gives itself."""
    if not text:
        return set()
    if len(text) < n:
        return {text}
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def dice(a: set, b: set) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def containment(a: set, b: set) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


@lru_cache(maxsize=_GRAM_CACHE_SIZE)
def _grams(norm: str, sizes: tuple[int, ...]) -> tuple[frozenset[str], ...]:
    """The n-gram sets (one per size) of a normalised text. Cached: a register repeats a few
    hundred names over all its instruments, and every check meets them again."""
    return tuple(frozenset(ngrams(norm, n)) for n in sizes)


def _grams_similarity(ga: tuple[frozenset[str], ...], gb: tuple[frozenset[str], ...]) -> float:
    return float(np.mean([(dice(a, b) + containment(a, b)) / 2 for a, b in zip(ga, gb)]))


def name_similarity(a: str, b: str, sizes: tuple[int, ...] = (2, 3)) -> float:
    """Mean over n of (dice + containment) / 2 of the character n-grams of the normalised names."""
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return 0.0
    sizes = tuple(sizes)
    return _grams_similarity(_grams(na, sizes), _grams(nb, sizes))


def class_relation(request_code: str, code: str) -> str:
    """same_class (6 digits equal) / same_middle_class (first 4) / same_top_class (first 2) / other;
    no_class when the request has no code (class score 0)."""
    r, c = str(request_code or "").strip(), str(code or "").strip()
    if not r:
        return CLASS_UNKNOWN
    if len(r) >= 6 and r[:6] == c[:6]:
        return CLASS_SAME
    if len(r) >= 4 and r[:4] == c[:4]:
        return CLASS_MIDDLE
    if len(r) >= 2 and r[:2] == c[:2]:
        return CLASS_TOP
    return CLASS_OTHER


def model_match(a: str, b: str) -> bool:
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return False
    return na == nb or (min(len(na), len(nb)) >= 3 and (na in nb or nb in na))


# ------------------------------------------------------------------------------------- matching


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    return frame[col].fillna("").astype(str) if col in frame else pd.Series("", index=frame.index, dtype=object)


def _per_distinct(values: pd.Series, fn) -> pd.Series:
    """`values.map(fn)` (same values, same dtype), with `fn` called once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    mapped = pd.Series(uniques, dtype=values.dtype).map(fn).take(codes)
    mapped.index = values.index
    return mapped


def recent_hours(instruments: pd.DataFrame, usage: pd.DataFrame, history_years: int = 3,
                 up_to_year: int | None = None) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """Average effective hours per instrument over the last `history_years` usage years (≤ up_to_year).

    Returns (frame with instrument_id, years_counted, avg_hours; the years). A year before the
    instrument's commissioning year is left out; a counted year without rows is 0 h; an
    instrument with no counted year gets 0 h and years_counted 0."""
    years = sorted(int(y) for y in usage["year"].unique()) if len(usage) else []
    if up_to_year is not None:
        years = [y for y in years if y <= up_to_year]
    years = years[-history_years:] if history_years > 0 else []
    ids = instruments["id"].to_numpy()
    if not years:
        return pd.DataFrame({"instrument_id": ids, "years_counted": 0, "avg_hours": 0.0}), ()
    wanted = usage["year"].isin(years) & usage["instrument_id"].isin(ids)  # pivot only what is asked for
    rows = usage.loc[wanted, ["instrument_id", "year", "effective_hours"]]
    if rows.empty:
        table = pd.DataFrame(0.0, index=ids, columns=years)
    else:
        table = rows.pivot_table(index="instrument_id", columns="year", values="effective_hours", aggfunc="sum")
        table = table.reindex(index=ids, columns=years).fillna(0.0)
    start = pd.to_datetime(instruments["start_date"], errors="coerce").dt.year if "start_date" in instruments \
        else pd.Series(np.nan, index=instruments.index)
    start = start.fillna(0).to_numpy()
    counted = np.array(years)[None, :] >= start[:, None]
    n = counted.sum(axis=1)
    total = (table.to_numpy() * counted).sum(axis=1)
    avg = np.divide(total, n, out=np.zeros(len(ids)), where=n > 0)
    return pd.DataFrame({"instrument_id": ids, "years_counted": n.astype("int64"), "avg_hours": avg}), tuple(years)


def find_matches(request: PurchaseCheck, instruments: pd.DataFrame, usage: pd.DataFrame,
                 rules: MatchRules = MatchRules(), review: ReviewRules = ReviewRules(),
                 policy: P.PolicyDefaults = P.DEFAULTS) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """The registered instruments similar to the request, best first (MATCH_COLUMNS), and the
    usage years averaged."""
    inst = instruments.reset_index(drop=True)
    if inst.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in MATCH_COLUMNS}), ()
    # Every per-row measure is computed once per distinct value and spread back over the rows:
    # at national scale 100,000 instruments share a few hundred names, models, makers and codes.
    sizes = tuple(rules.ngram_sizes)
    req_name = normalise(request.name)
    req_grams = _grams(req_name, sizes) if req_name else None

    def name_score(n: str) -> float:
        norm = normalise(n)
        return _grams_similarity(req_grams, _grams(norm, sizes)) if req_grams is not None and norm else 0.0

    name_sim = _per_distinct(_text(inst, "name_zh"), name_score).astype(float)
    relation = _per_distinct(_text(inst, "class_code"), lambda c: class_relation(request.class_code, c))
    scores = dict(zip((CLASS_SAME, CLASS_MIDDLE, CLASS_TOP), rules.class_scores))
    class_score = _per_distinct(relation, lambda r: scores.get(r, 0.0)).astype(float)
    model_ok = _per_distinct(_text(inst, "model"), lambda m: model_match(request.model, m)).astype(bool)
    maker_req = normalise(request.maker)
    maker_ok = _per_distinct(_text(inst, "manufacturer"), lambda m: bool(maker_req) and normalise(m) == maker_req) \
        .astype(bool)
    spec_req = ngrams(normalise(request.specs), 2)
    specs_sim = _per_distinct(_text(inst, "technical_specs"), lambda s: dice(spec_req, ngrams(normalise(s), 2))) \
        .astype(float)
    score = (rules.w_name * name_sim + rules.w_class * class_score + rules.w_model * model_ok.astype(float)
             + rules.w_maker * maker_ok.astype(float) + rules.w_specs * specs_sim)
    keep = (score >= rules.min_score - 1e-12) & ((name_sim >= rules.min_name_similarity - 1e-12) | model_ok)
    used = set(MATCH_COLUMNS) | {"id", "start_date", "purpose", "status", "share_mode"}
    out = inst.loc[keep, [c for c in inst.columns if c in used]].copy()  # the other columns are never shown
    out["name_similarity"] = name_sim[keep].round(4)
    out["class_relation"] = relation[keep]
    out["class_score"] = class_score[keep]
    out["model_match"] = model_ok[keep]
    out["maker_match"] = maker_ok[keep]
    out["specs_similarity"] = specs_sim[keep].round(4)
    out["score"] = score[keep].round(4)
    out["reasons"] = [
        tuple(r for r, on in ((REASON_NAME, ns >= rules.min_name_similarity - 1e-12), (rel, rel not in (CLASS_OTHER, CLASS_UNKNOWN)),
                               (REASON_MODEL, mo), (REASON_MAKER, ma), (REASON_SPECS, sp > 0)) if on)
        for ns, rel, mo, ma, sp in zip(out["name_similarity"], out["class_relation"], out["model_match"],
                                       out["maker_match"], out["specs_similarity"])
    ]
    hours, years = recent_hours(out, usage, review.history_years, request.day().year)  # the matches' usage only
    out = out.merge(hours, how="left", left_on="id", right_on="instrument_id")
    out["rated_hours"] = _per_distinct(_text(out, "purpose"), lambda p: P.rated_hours(p, policy)).astype(float)
    out["spare_hours"] = np.maximum(0.0, review.saturation_hours - out["avg_hours"].astype(float))
    out["load"] = load_class(out.assign(effective_hours=out["avg_hours"]), review.lines()) if len(out) else \
        pd.Series(dtype=object)
    status = _text(out, "status")
    out["in_service"] = ~status.isin(OUT_OF_SERVICE_STATUSES)
    out["sharable"] = _text(out, "share_mode") == SHARABLE_MODE
    out = out.sort_values(["score", "name_similarity", "instrument_id"], ascending=[False, False, True], kind="stable")
    out = out.reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    for col in MATCH_COLUMNS:
        if col not in out:
            out[col] = ""
    return out[list(MATCH_COLUMNS)], years


# --------------------------------------------------------------------------------- recommendation


def tier_of(price_cny: float, review: ReviewRules = ReviewRules()) -> str:
    """below_floor < edge 1 ≤ desk_check < edge 2 ≤ expert_panel < edge 3 ≤ joint_review."""
    return TIERS[int(np.searchsorted(np.asarray(review.tier_edges_cny, dtype=float), float(price_cny), side="right"))]


def near_threshold(price_cny: float, review: ReviewRules = ReviewRules()) -> float | None:
    """The edge the price lies just under (edge·(1 − near_share) ≤ price < edge), else None."""
    for edge in review.near_edges_cny:
        if edge * (1 - review.near_share) <= price_cny < edge:
            return float(edge)
    return None


def split_candidates(request: PurchaseCheck, requests: pd.DataFrame | None,
                     review: ReviewRules = ReviewRules()) -> pd.DataFrame:
    """Other requests of the same applicant and 4-digit middle class submitted within
    `split_window_days` of the review date (either side). Columns of `requests` (needs
    applicant_unit_id, class_code, quoted_price, submitted_date)."""
    if requests is None or requests.empty or request.unit_id is None or len(str(request.class_code)) < 4:
        return pd.DataFrame(columns=list(requests.columns) if requests is not None else [])
    day = pd.Timestamp(request.day())
    when = pd.to_datetime(requests["submitted_date"], errors="coerce")
    same = (requests["applicant_unit_id"] == request.unit_id) \
        & (requests["class_code"].astype(str).str[:4] == str(request.class_code)[:4]) \
        & ((when - day).abs() <= pd.Timedelta(days=review.split_window_days))
    return requests.loc[same.fillna(False).astype(bool)]


def recommend(request: PurchaseCheck, instruments: pd.DataFrame, usage: pd.DataFrame, *,
              requests: pd.DataFrame | None = None, restricted: pd.DataFrame | None = None,
              rules: MatchRules = MatchRules(), review: ReviewRules = ReviewRules(),
              policy: P.PolicyDefaults = P.DEFAULTS) -> Recommendation:
    """Match the request against the registry and suggest a verdict with its rule trace."""
    matches, years = find_matches(request, instruments, usage, rules, review, policy)
    evidence: list[dict] = []

    def add(kind, rid, instrument_id=None, unit_id=None, value=np.nan, line=np.nan):
        evidence.append({"kind": kind, "id": rid, "instrument_id": instrument_id, "unit_id": unit_id,
                         "value": float(value), "line": float(line)})

    fired: set[str] = set()
    flags: list[str] = []
    restricted_now = (restricted is not None and request.unit_id is not None and not restricted.empty
                      and is_restricted(restricted, request.unit_id, request.day().year))
    if restricted_now:
        fired.add(RULE_RESTRICTED)
        row = restricted[restricted["unit_id"] == request.unit_id].iloc[0]
        add("rule", RULE_RESTRICTED, unit_id=request.unit_id, value=int(row["from_year"]), line=int(row["until_year"]))
    live = matches[matches["in_service"].astype(bool)] if len(matches) else matches
    # column lists rather than iterrows: a common name can match thousands of instruments
    live_rows = list(zip(*(live[c].tolist() for c in ("load", "sharable", "instrument_id", "unit_id", "avg_hours"))))
    for load, sharable, instrument_id, unit_id, hours in live_rows:
        rid = None
        if load == LOAD_IDLE:
            rid = RULE_IDLE_SHARABLE if sharable else RULE_IDLE_NOT_SHARED
            line = review.low_use_hours
        elif load == LOAD_NORMAL:
            rid, line = RULE_NORMAL_LOAD, review.saturation_hours
        if rid:
            fired.add(rid)
            add("rule", rid, instrument_id=int(instrument_id), unit_id=unit_id, value=hours, line=line)
    if live.empty:
        fired.add(RULE_NO_SIMILAR)
        add("rule", RULE_NO_SIMILAR, value=len(matches), line=0)
    elif (live["load"] == LOAD_SATURATED).all():
        fired.add(RULE_ALL_SATURATED)
        for _, _, instrument_id, unit_id, hours in live_rows:
            add("rule", RULE_ALL_SATURATED, instrument_id=int(instrument_id), unit_id=unit_id, value=hours,
                line=review.saturation_hours)
    edge = near_threshold(request.price_cny, review)
    if edge is not None:
        flags.append(FLAG_NEAR_THRESHOLD)
        add("flag", FLAG_NEAR_THRESHOLD, unit_id=request.unit_id, value=request.price_cny, line=edge)
    others = split_candidates(request, requests, review)
    if len(others):
        total = float(request.price_cny) + float(others["quoted_price"].astype(float).sum())
        if TIERS.index(tier_of(total, review)) > TIERS.index(tier_of(request.price_cny, review)):
            flags.append(FLAG_SPLIT)
            crossed = [e for e in review.tier_edges_cny if request.price_cny < e <= total][-1]
            add("flag", FLAG_SPLIT, unit_id=request.unit_id, value=total, line=crossed)
    if restricted_now:
        flags.append(FLAG_RESTRICTED)
    rule_order = tuple(r for r in RULE_IDS if r in fired)
    severity = [VERDICTS.index(RULE_VERDICT[r]) for r in rule_order]
    verdict = VERDICTS[max(severity)] if severity else PASS
    ev = pd.DataFrame(evidence, columns=list(EVIDENCE_COLUMNS))
    if len(ev):
        order = {r: i for i, r in enumerate(RULE_IDS + FLAG_IDS)}
        ev = ev.sort_values("id", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return Recommendation(verdict=verdict, tier=tier_of(request.price_cny, review), rules=rule_order,
                          flags=tuple(flags), matches=matches, evidence=ev, years=years)


def to_dict(request: PurchaseCheck, rec: Recommendation, english: bool = False) -> dict:
    """A JSON-ready view (ids and numbers only; with `english` also the English unit and region
    names of the matches)."""
    def plain(v):
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, (np.floating, float)):
            return None if np.isnan(v) else float(v)
        if isinstance(v, (np.bool_,)):
            return bool(v)
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        return v

    def column(values: pd.Series) -> list:
        dtype, items = values.dtype, values.tolist()
        if isinstance(dtype, np.dtype) and dtype.kind in "iub":  # already Python int / bool
            return items
        if isinstance(dtype, np.dtype) and dtype.kind == "f":
            return [None if v != v else v for v in items]  # NaN → None
        return [plain(v) for v in items]

    def rows(frame: pd.DataFrame, cols) -> list[dict]:  # by column, not iterrows: thousands of matches
        return [dict(zip(cols, row)) for row in zip(*(column(frame[c]) for c in cols))]

    match_cols = [c for c in MATCH_COLUMNS if english or c not in ("unit_name_en", "region_name_en")]
    return {
        "request": {"name": request.name, "model": request.model, "class_code": request.class_code,
                    "price_cny": float(request.price_cny), "unit_id": request.unit_id,
                    "date": request.day().isoformat()},
        "tier": rec.tier, "verdict": rec.verdict, "rules": list(rec.rules), "flags": list(rec.flags),
        "years": list(rec.years), "matches": rows(rec.matches, match_cols),
        "evidence": rows(rec.evidence, EVIDENCE_COLUMNS),
    }


# ------------------------------------------------------------------------------------------ CLI

CLASS_PATTERN = re.compile(r"^\d{2}(\d{2}(\d{2})?)?$")


class DupcheckInputError(ValueError):
    """A bad command-line input; `key` and `params` name the catalogue message."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key, self.params = key, params


def parse_price(text: str) -> float:
    try:
        price = float(str(text).replace(",", ""))
    except ValueError:
        raise DupcheckInputError("dupcheck.err.price", value=text) from None
    if not np.isfinite(price) or price <= 0:
        raise DupcheckInputError("dupcheck.err.price", value=text)
    return price


def resolve_unit(units: pd.DataFrame, text: str | None):
    """The unit id of an id or an exact (zh or en) name; None when not given."""
    if text is None or str(text).strip() == "":
        return None
    s = str(text).strip()
    if s.isdigit() and int(s) in set(units["id"].astype(int)):
        return int(s)
    hit = units[(units["name"].astype(str) == s) | (units["name_en"].fillna("").astype(str) == s)]
    if hit.empty:
        raise DupcheckInputError("dupcheck.err.unit", value=s)
    return int(hit["id"].iloc[0])


def check_class(classes: pd.DataFrame, code: str | None) -> str:
    """A 2-, 4- or 6-digit class code whose top (and middle) class is in the classification."""
    if code is None or str(code).strip() == "":
        return ""
    c = str(code).strip()
    known = set(classes["code"].astype(str))
    if not CLASS_PATTERN.match(c) or c[:2] not in known or (len(c) >= 4 and c[:4] not in known):
        raise DupcheckInputError("dupcheck.err.class", value=c)
    return c


def render_text(request: PurchaseCheck, rec: Recommendation, t) -> str:
    from dashboard import formatting as F

    lines = [t("dupcheck.out.request", name=request.name, model=request.model or F.MISSING,
               code=request.class_code or F.MISSING, price=F.money(request.price_cny, t))]
    lines.append(t("dupcheck.out.tier", tier=t(f"dupcheck.tier.{rec.tier}")))
    years = "–".join(str(y) for y in (rec.years[0], rec.years[-1])) if rec.years else F.MISSING
    if rec.matches.empty:
        lines.append(t("dupcheck.out.no_matches"))
    else:
        lines.append(t("dupcheck.out.matches", count=len(rec.matches), years=years))
        for _, m in rec.matches.iterrows():
            unit = m["unit_name_en"] if t.lang == "en" and m["unit_name_en"] else m["unit_name"]
            region = m["region_name_en"] if t.lang == "en" else m["region_name_zh"]
            reasons = t("dupcheck.out.separator").join(t(f"dupcheck.reason.{r}") for r in m["reasons"])
            lines.append(t("dupcheck.out.match", rank=int(m["rank"]), name=m["name_zh"], model=m["model"] or F.MISSING,
                           code=m["class_code"], unit=unit, region=region,
                           share=t.enum("share_mode", m["share_mode"]), status=t.enum("status", m["status"]),
                           score=f"{m['score']:.2f}", similarity=f"{m['name_similarity']:.2f}",
                           relation=t(f"dupcheck.class.{m['class_relation']}"), reasons=reasons,
                           hours=F.hours(m["avg_hours"], t), spare=F.hours(m["spare_hours"], t),
                           load=t(f"dupcheck.load.{m['load']}")))
    lines.append(t("dupcheck.out.verdict", verdict=t(f"dupcheck.verdict.{rec.verdict}")))
    for _, e in rec.evidence.iterrows():
        label = t(f"dupcheck.{e['kind']}.{e['id']}")
        subject = ""
        if e["instrument_id"] is not None and not pd.isna(e["instrument_id"]):
            row = rec.matches[rec.matches["instrument_id"] == e["instrument_id"]]
            subject = row["name_zh"].iloc[0] if len(row) else str(int(e["instrument_id"]))
        as_year = e["id"] == RULE_RESTRICTED
        value, line = (str(int(e["value"])), str(int(e["line"]))) if as_year else (F.number(e["value"]), F.number(e["line"]))
        lines.append(t(f"dupcheck.out.evidence.{e['id']}", label=label, subject=subject, value=value, line=line))
    if FLAG_RESTRICTED in rec.flags:
        lines.append(t("dupcheck.out.flagged", label=t(f"dupcheck.flag.{FLAG_RESTRICTED}")))
    return "\n".join(lines)


def run_dupcheck(engine, args, t) -> int:
    """`python -m dashboard dupcheck --name NAME [--model M] [--class CODE] --price CNY [--unit UNIT]
    [--maker M] [--specs S] [--format text|json]`: prints; writes nothing. Bad input → exit 2."""
    import json
    import sys

    from models import queries

    try:
        if not str(args.name).strip():
            raise DupcheckInputError("dupcheck.err.name")
        price = parse_price(args.price)
        code = check_class(queries.instrument_classes(engine), args.class_code)
        unit_id = resolve_unit(queries.units(engine), args.unit)
    except DupcheckInputError as exc:
        print(t(exc.key, **exc.params), file=sys.stderr)
        return 2
    request = PurchaseCheck(name=str(args.name).strip(), price_cny=price, model=args.model or "", class_code=code,
                            unit_id=unit_id, maker=args.maker or "", specs=args.specs or "")
    rec = recommend(request, queries.instruments(engine), queries.usage_by_instrument_year(engine),
                    requests=queries.purchase_requests(engine))
    if args.format == "json":
        sys.stdout.write(json.dumps(to_dict(request, rec), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(request, rec, t) + "\n")
    return 0


__all__ = [
    "ADJUST", "CLASS_RELATIONS", "EVIDENCE_COLUMNS", "FLAG_IDS", "MATCH_COLUMNS", "MatchRules", "PASS",
    "PurchaseCheck", "REJECT", "RULE_IDS", "Recommendation", "ReviewRules", "TIERS", "VERDICTS",
    "class_relation", "find_matches", "name_similarity", "near_threshold", "normalise", "recent_hours",
    "recommend", "render_text", "run_dupcheck", "split_candidates", "tier_of", "to_dict",
]
