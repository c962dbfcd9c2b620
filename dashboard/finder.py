"""Service finder (找服务, 用户对接): a firm or researcher types what it needs in plain words and
gets the instruments open to outside users that can do it, ranked by relevance (issue 10).

Pure pandas/numpy apart from `load_catalogue` and the CLI (`run_find`), which read the store.
Ids and numbers out, never display text: the page and the CLI translate.

Which instruments are offered (`offered`): share mode 外部共享 (open to outside users), no
exemption reason, status neither 待修 (under repair) nor 待报废 (awaiting scrapping). Every other
instrument is never offered; the ones left out among the open instruments are counted by reason
(EXCLUSION_REASONS). A holder under sanction stays listed, flagged with its sanction rules.

Matching (every number is kept, so the page can show why an instrument came first):
- query normalisation: NFKC (full-width → half-width), lower case; the query is cut into terms at
  spaces and punctuation (a hyphen stays inside a term: "ICP-MS"), and each term keeps only
  letters and digits (`dupcheck.normalise`);
- tokens: each Chinese character is a token, a run of Latin letters or digits is one token
  ("hplc", "1260"); grams: the token n-grams of n = 1, 2, 3 (`dupcheck.ngrams` on the token
  sequence), weighted by n² (a matched trigram counts 9, a bigram 4, a single character 1);
- coverage of a term x by a field text F: c(x, F) = Σ weights of x's grams found in F / Σ weights
  of all of x's grams (0…1); a term of two or more tokens needs at least one matched gram of two
  or more tokens, otherwise c = 0 (single shared characters are noise);
- synonyms (SYNONYM_GROUPS, SYNONYM_RULES): a term containing a key (a Chinese key anywhere in the
  term, a Latin key as the whole term) is also matched through each expansion s, at
  synonym_factor β of the credit: r_f(t) = max(c(t, F_f), β · max_s c(s, F_f));
- fields and weights W_f: name (Chinese and English name, model, maker) 1.0 > class name (the
  4-digit middle class) 0.8 > main functions 0.7 > technical specifications 0.6 > service content
  (the record's 服务内容 and the service_content of its service records) 0.5;
- term relevance R(t) = 1 − Π_f (1 − W_f · r_f(t)): a full match in the name alone gives 1, one in
  the service content alone 0.5, and every further field adds to it without passing 1;
- relevance = the mean of R(t) over the query's terms (an instrument that covers every term comes
  before one that covers some); an instrument is listed when relevance ≥ min_relevance (0.2).
Ranking: relevance (rounded to 0.001), then distance (nearest first, unknown last), then
available before unknown before busy, then rating (best first, unrated last), then instrument id.

Per instrument (all explained on the page):
- distance: great-circle km from the seat of the chosen region to the holder's coordinates, else
  to the seat of the instrument's region (`purchases.match_distances`);
- load in the chosen year (`dashboard.load`): busy when effective hours ≥ the saturation line
  (1200 h), available below it, unknown when the instrument reported no usage in the year;
- rating: mean of the rated service records (非常满意 5 … 极差 1, `national.RATING_SCORES`),
  with the number of rated records; records of every year count;
- hourly fee: the first "<number> 元/机时" (or 元/小时, 元/h) of the fee standard, NaN when none;
- voucher eligibility (`dashboard.vouchers` policy): an innovation voucher pays part of a fee an
  eligible firm pays for a service from an outside instrument, so an instrument accepts vouchers
  when it is open to outside users (needed while the policy's only_external_users holds) and its
  fee standard names a charge (not blank, not free); voucher_records counts its records already
  paid partly with a voucher;
- contact: the instrument's contact, phone and e-mail, each falling back to the holder's.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from dashboard import census
from dashboard import vouchers as V
from dashboard.dupcheck import ngrams, normalise
from dashboard.load import LOAD_SATURATED, LoadLines, load_class
from dashboard.national import RATING_SCORES
from dashboard.policy import rated_hours
from dashboard.purchases import match_distances

OPEN_MODE = census.EXTERNAL_SHARE_MODE  # 外部共享
REPAIR_STATUS = "待修"
SCRAP_STATUS = census.SCRAP_STATUS  # 待报废

# Why an instrument is not offered (finder.excluded.<id>), in the order they are checked.
NOT_OPEN, EXEMPT, SCRAPPED, UNDER_REPAIR = "not_open", "exempt", "scrapped", "under_repair"
EXCLUSION_REASONS = (NOT_OPEN, EXEMPT, SCRAPPED, UNDER_REPAIR)

# Load states (finder.load.<id>).
AVAILABLE, BUSY, UNKNOWN = "available", "busy", "unknown"
LOAD_STATES = (AVAILABLE, BUSY, UNKNOWN)

# Searched fields (finder.field.<id>) with their default weights, strongest first.
NAME, CLASS, FUNCTIONS, SPECS, SERVICE = "name", "class", "functions", "specs", "service"
FIELDS = (NAME, CLASS, FUNCTIONS, SPECS, SERVICE)

NGRAM_SIZES = (1, 2, 3)
_TOKEN = re.compile(r"[0-9a-z]+|[^0-9a-z]")
# Term separators: anything but letters, digits, the underscore and in-word marks (- . · /).
_SEPARATOR = re.compile(r"[^\w\-.·/]+")
_HOURLY_FEE = re.compile(r"(\d+(?:\.\d+)?)\s*元\s*/\s*(?:机时|小时|h\b|时)", re.IGNORECASE)
_FREE = re.compile(r"免费|不收费|无偿")

# ------------------------------------------------------------------------------------- synonyms
# A small table of the names people use for common tests, compiled for this project by hand from
# (1) the names of the national instrument classification (data/reference/instrument_classes.csv),
# (2) the usual Chinese short names and Latin abbreviations of analytical techniques (液相 / HPLC,
# 气相 / GC, 核磁 / NMR, 扫描电镜 / SEM …), and (3) the technique the common test-method standards
# name for a test, e.g. GB/T 228.1 金属材料 拉伸试验 (universal testing machine), HJ 803 土壤和沉积物
# 金属元素的测定 (ICP-MS), GB/T 17141 土壤质量 铅、镉的测定 (graphite-furnace atomic absorption) and
# GB/T 22105 土壤质量 总汞、总砷、总铅的测定 (atomic fluorescence). Extend it here; keep it short.
# Groups: every member stands for every other one.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("液相色谱", "高效液相色谱", "液相", "HPLC"),
    ("气相色谱", "气相", "GC"),
    ("气质联用", "气相色谱-质谱", "GC-MS"),
    ("液质联用", "液相色谱-质谱", "液相色谱-串联质谱", "LC-MS", "LC-MS/MS"),
    ("电感耦合等离子体质谱", "ICP-MS"),
    ("电感耦合等离子体发射光谱", "ICP-OES", "ICP-AES"),
    ("原子吸收", "AAS"),
    ("原子荧光", "AFS"),
    ("红外光谱", "FTIR", "FT-IR"),
    ("核磁共振", "核磁", "NMR"),
    ("扫描电子显微镜", "扫描电镜", "SEM"),
    ("X射线衍射", "XRD"),
    ("X射线荧光", "XRF"),
    ("万能试验机", "万能材料试验机"),
    ("荧光定量PCR", "qPCR", "PCR"),
)
# Rules: a key stands for its expansions (not the other way round).
SYNONYM_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("UPLC", ("超高效液相色谱", "液相色谱")),
    ("重金属", ("原子吸收", "电感耦合等离子体质谱", "原子荧光", "电感耦合等离子体发射光谱")),
    ("拉伸", ("万能试验机",)),
    ("拉力", ("万能试验机",)),
    ("压缩试验", ("万能试验机",)),
    ("弯曲试验", ("万能试验机",)),
    ("成分分析", ("色谱", "质谱")),
    ("农药残留", ("气相色谱", "液相色谱", "质谱")),
    ("农残", ("气相色谱", "液相色谱", "质谱")),
    ("热分析", ("同步热分析", "差示扫描量热")),
    ("tensile", ("万能试验机",)),
)


def _synonym_table() -> dict[str, tuple[str, ...]]:
    """Normalised key → normalised expansions (groups and rules merged, order kept)."""
    table: dict[str, list[str]] = {}

    def add(key: str, values) -> None:
        k = normalise(key)
        out = table.setdefault(k, [])
        for v in values:
            nv = normalise(v)
            if nv and nv != k and nv not in out:
                out.append(nv)

    for group in SYNONYM_GROUPS:
        for member in group:
            add(member, group)
    for key, values in SYNONYM_RULES:
        add(key, values)
    return {k: tuple(v) for k, v in table.items()}


SYNONYMS = _synonym_table()


# ------------------------------------------------------------------------------------ rules


@dataclass(frozen=True)
class FinderRules:
    """Field weights (0…1, name strongest), the synonym factor β and the listing threshold."""

    weights: tuple[tuple[str, float], ...] = ((NAME, 1.0), (CLASS, 0.8), (FUNCTIONS, 0.7), (SPECS, 0.6),
                                              (SERVICE, 0.5))
    synonym_factor: float = 0.8
    min_relevance: float = 0.2
    lines: LoadLines = field(default_factory=LoadLines)  # the saturation line makes "busy"
    vouchers: V.VoucherParams = V.DEFAULTS

    def weight(self, name: str) -> float:
        return dict(self.weights)[name]


@dataclass(frozen=True)
class FinderFilter:
    """What the user narrowed the list to; empty fields do not filter."""

    regions: tuple[str, ...] = ()  # region codes; a banner also matches the zones inside it
    classes: tuple[str, ...] = ()  # 2- or 4-digit class codes (prefixes of the 6-digit code)
    max_fee_per_hour: float | None = None  # CNY per machine hour
    include_unpriced: bool = True  # keep instruments whose fee standard names no hourly price
    min_rating: float | None = None  # mean rating (1–5); unrated instruments are left out when set


# --------------------------------------------------------------------------------- text to grams


def query_terms(query: str) -> tuple[str, ...]:
    """The normalised terms of a query, in order, without repeats: "  液相色谱，ＨＰＬＣ  土壤 " →
    ("液相色谱", "hplc", "土壤")."""
    text = unicodedata.normalize("NFKC", str(query or "")).lower()
    out: list[str] = []
    for piece in _SEPARATOR.split(text):
        term = normalise(piece)
        if term and term not in out:
            out.append(term)
    return tuple(out)


def tokens(norm: str) -> tuple[str, ...]:
    """Tokens of a normalised text: one per Chinese character, one per run of Latin letters or
    digits ("pcr仪" → ("pcr", "仪"))."""
    return tuple(_TOKEN.findall(norm))


def grams(norm: str) -> dict[str, int]:
    """The token n-grams (n = 1…3) of a normalised text → their number of tokens."""
    toks = tokens(norm)
    out: dict[str, int] = {}
    if not toks:
        return out
    # dupcheck.ngrams cuts a sequence; a tuple of tokens is cut like a string of characters.
    for n in NGRAM_SIZES:
        for gram in ngrams(toks, n):
            out["".join(gram)] = len(gram)
    return out


def text_grams(text) -> set[str]:
    """Every gram of a free text (its pieces between spaces and punctuation cut separately)."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return set()
    out: set[str] = set()
    for piece in _SEPARATOR.split(unicodedata.normalize("NFKC", str(text)).lower()):
        out.update(grams(normalise(piece)))
    return out


def expansions(term: str) -> tuple[str, ...]:
    """The synonyms a (normalised) term is also matched through: those of every key it contains
    (a Latin key only when it is the whole term)."""
    out: list[str] = []
    for key, values in SYNONYMS.items():
        hit = term == key if key.isascii() else key in term
        if hit:
            out.extend(v for v in values if v != term and v not in out)
    return tuple(out)


# ------------------------------------------------------------------------------------ the index


@dataclass(frozen=True, eq=False)
class FieldIndex:
    """An inverted index of one field: codes[i] is the distinct text of catalogue row i (−1 when
    empty); postings[gram] the sorted ids of the distinct texts containing the gram."""

    codes: np.ndarray
    postings: dict[str, np.ndarray]
    n_texts: int


def build_field_index(texts: pd.Series) -> FieldIndex:
    """Index a field, each distinct text once (a register repeats a few hundred names and
    descriptions over all its instruments)."""
    values = texts.fillna("").astype(str).to_numpy(object)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    lists: dict[str, list[int]] = {}
    empty = -1
    for i, text in enumerate(uniques):
        gs = text_grams(text)
        if not gs:
            empty = i if text == "" else empty
        for g in gs:
            lists.setdefault(g, []).append(i)
    codes = codes.astype(np.int64)
    if empty >= 0:
        codes[codes == empty] = -1
    postings = {g: np.asarray(ids, dtype=np.int64) for g, ids in lists.items()}
    return FieldIndex(codes=codes, postings=postings, n_texts=len(uniques))


def coverage(term: str, index: FieldIndex) -> np.ndarray:
    """c(term, F) of every catalogue row (module docstring), as floats 0…1."""
    gs = grams(term)
    total = float(sum(n * n for n in gs.values()))
    if not gs or index.n_texts == 0:
        return np.zeros(len(index.codes))
    acc = np.zeros(index.n_texts + 1)  # the last slot stands for an empty text
    multi = np.zeros(index.n_texts + 1, dtype=bool)
    for gram, n in gs.items():
        ids = index.postings.get(gram)
        if ids is None:
            continue
        acc[ids] += n * n
        if n >= 2:
            multi[ids] = True
    cov = acc / total
    if max(gs.values()) >= 2:
        cov = np.where(multi, cov, 0.0)
    cov[-1] = 0.0
    return cov[index.codes]


# ------------------------------------------------------------------------------------ catalogue

CATALOGUE_COLUMNS = (
    "instrument_id", "inner_id", "name_zh", "name_en", "model", "manufacturer", "class_code", "class_name_zh",
    "class_name_en", "purpose", "unit_id", "unit_name", "unit_name_en", "unit_type", "region_code", "region_name_zh",
    "region_name_en", "banner_code", "address", "unit_lat", "unit_lon", "status", "share_mode", "functions",
    "technical_specs", "service_content", "record_services", "sharing_rules", "fee_standard", "fee_per_hour",
    "charges_fee", "voucher_eligible", "booking_url", "contact", "phone", "email", "service_records",
    "voucher_records", "rated_records", "rating", "last_service",
)


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The offered instruments (CATALOGUE_COLUMNS, rows 0…n−1), the index of each searched field,
    and how many open instruments were left out, by reason (EXCLUSION_REASONS)."""

    rows: pd.DataFrame
    index: dict[str, FieldIndex]
    excluded: dict[str, int]

    def __len__(self) -> int:
        return len(self.rows)


def exclusion_reason(instruments: pd.DataFrame) -> pd.Series:
    """Why each instrument is not offered ("" when it is): the first of not_open (share mode not
    外部共享), exempt (an exemption reason), scrapped (待报废), under_repair (待修)."""
    text = {c: instruments[c].fillna("").astype(str).str.strip() if c in instruments else
            pd.Series("", index=instruments.index) for c in ("share_mode", "exempt_reason", "status")}
    checks = {NOT_OPEN: text["share_mode"] != OPEN_MODE, EXEMPT: text["exempt_reason"] != "",
              SCRAPPED: text["status"] == SCRAP_STATUS, UNDER_REPAIR: text["status"] == REPAIR_STATUS}
    reason = pd.Series("", index=instruments.index, dtype=object)
    for key in reversed(EXCLUSION_REASONS):  # the first failing check wins
        reason = reason.mask(checks[key].to_numpy(bool), key)
    return reason


def offered(instruments: pd.DataFrame) -> pd.DataFrame:
    """The instruments that may be offered to outside users (module docstring)."""
    return instruments[exclusion_reason(instruments) == ""]


def hourly_fee(fee_standard) -> float:
    """The first "<n> 元/机时" (元/小时, 元/h) of a fee standard; NaN when it names none."""
    if not isinstance(fee_standard, str):
        return float("nan")
    m = _HOURLY_FEE.search(unicodedata.normalize("NFKC", fee_standard))
    return float(m.group(1)) if m else float("nan")


def charges_fee(fee_standard) -> bool:
    """The fee standard names a charge: not blank and not free (免费 / 不收费 / 无偿)."""
    text = fee_standard.strip() if isinstance(fee_standard, str) else ""
    return bool(text) and not _FREE.search(text)


def rating_summary(ratings: pd.DataFrame) -> pd.DataFrame:
    """Per instrument from `finder_queries.service_ratings`: service_records, voucher_records,
    rated_records, rating (mean score 1–5, NaN when none rated), last_service."""
    cols = ["instrument_id", "service_records", "voucher_records", "rated_records", "rating", "last_service"]
    if ratings is None or ratings.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    df = ratings.assign(score=ratings["rating"].fillna("").astype(str).str.strip().map(RATING_SCORES).astype(float))
    df["rated"] = df["records"].where(df["score"].notna(), 0)
    df["points"] = (df["score"] * df["records"]).fillna(0.0)
    g = df.groupby("instrument_id")
    out = pd.DataFrame({
        "service_records": g["records"].sum(), "voucher_records": g["voucher_records"].sum(),
        "rated_records": g["rated"].sum(), "points": g["points"].sum(), "last_service": g["last_start"].max(),
    })
    out["rating"] = (out["points"] / out["rated_records"]).where(out["rated_records"] > 0)
    return out.reset_index()[cols]


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    return frame[col].fillna("").astype(str) if col in frame else pd.Series("", index=frame.index, dtype=object)


def _join(*parts: pd.Series) -> pd.Series:
    out = parts[0]
    for p in parts[1:]:
        out = out + " " + p
    return out.str.strip()


def build_catalogue(instruments: pd.DataFrame, services: pd.DataFrame | None = None,
                    ratings: pd.DataFrame | None = None, classes: pd.DataFrame | None = None,
                    regions: pd.DataFrame | None = None, rules: FinderRules = FinderRules()) -> Catalogue:
    """The searchable catalogue, built once per data revision.

    instruments: `finder_queries.finder_instruments` (any share modes: the closed ones are dropped
    here); services: `finder_queries.service_texts`; ratings: `finder_queries.service_ratings`;
    classes, regions: the reference frames (`models.queries`)."""
    reason = exclusion_reason(instruments)
    excluded = {r: int((reason == r).sum()) for r in EXCLUSION_REASONS}
    inst = instruments[reason == ""].reset_index(drop=True)
    rows = pd.DataFrame({"instrument_id": inst["id"].astype("int64")})
    for col in ("inner_id", "name_zh", "name_en", "model", "manufacturer", "class_code", "purpose", "unit_name",
                "unit_name_en", "unit_type", "region_code", "region_name_zh", "region_name_en", "status",
                "share_mode", "functions", "technical_specs", "service_content", "sharing_rules", "fee_standard",
                "booking_url"):
        rows[col] = _text(inst, col).to_numpy(object)
    rows["unit_id"] = inst["unit_id"].astype("int64").to_numpy() if len(inst) else pd.Series(dtype="int64")
    for col in ("unit_lat", "unit_lon"):
        rows[col] = pd.to_numeric(inst[col], errors="coerce").astype(float).to_numpy() if col in inst else np.nan
    own_address = _text(inst, "address")
    rows["address"] = own_address.where(own_address != "", _text(inst, "unit_address")).to_numpy(object)
    for col in ("contact", "phone", "email"):
        own, holder = _text(inst, col), _text(inst, f"unit_{col}")
        rows[col] = own.where(own.str.strip() != "", holder).to_numpy(object)

    # class names: the 4-digit middle class, else the 2-digit top class
    names_zh, names_en = {}, {}
    if classes is not None and not classes.empty:
        names_zh = dict(zip(classes["code"].astype(str), classes["name_zh"].astype(str)))
        names_en = dict(zip(classes["code"].astype(str), classes["name_en"].fillna("").astype(str)))
    codes = rows["class_code"].astype(str)
    for col, names in (("class_name_zh", names_zh), ("class_name_en", names_en)):
        lookup = {c: names.get(c[:4]) or names.get(c[:2]) or "" for c in codes.unique()}
        rows[col] = codes.map(lookup).to_numpy(object)
    roll = census.banner_of(regions) if regions is not None and not regions.empty else {}
    rows["banner_code"] = rows["region_code"].map({c: roll.get(c, c) for c in rows["region_code"].unique()}) \
        .to_numpy(object)

    # service contents of the service records, one text per instrument
    if services is not None and len(services):
        svc = services.assign(text=_text(services, "service_content").str.strip())
        svc = svc[svc["text"] != ""].drop_duplicates(["instrument_id", "text"])
        many = svc["instrument_id"].duplicated(keep=False)  # most instruments have one text: no join
        joined = pd.concat([svc.loc[~many].set_index("instrument_id")["text"],
                            svc.loc[many].groupby("instrument_id")["text"].agg("；".join)])
        rows["record_services"] = rows["instrument_id"].map(joined).fillna("").to_numpy(object)
    else:
        rows["record_services"] = ""

    rows["fee_per_hour"] = rows["fee_standard"].map(hourly_fee).astype(float)
    rows["charges_fee"] = rows["fee_standard"].map(charges_fee).astype(bool)
    open_ok = rows["share_mode"] == OPEN_MODE if rules.vouchers.only_external_users else True
    rows["voucher_eligible"] = (rows["charges_fee"] & open_ok).astype(bool)

    summary = rating_summary(ratings).set_index("instrument_id")
    ids = rows["instrument_id"]
    for col in ("service_records", "voucher_records", "rated_records"):
        rows[col] = ids.map(summary[col]).fillna(0).astype("int64")
    rows["rating"] = ids.map(summary["rating"]).astype(float)
    rows["last_service"] = pd.to_datetime(ids.map(summary["last_service"]))
    rows = rows[list(CATALOGUE_COLUMNS)]

    texts = {
        NAME: _join(rows["name_zh"], rows["name_en"], rows["model"], rows["manufacturer"]),
        CLASS: _join(rows["class_name_zh"], rows["class_name_en"]),
        FUNCTIONS: rows["functions"],
        SPECS: rows["technical_specs"],
        SERVICE: _join(rows["service_content"], rows["record_services"]),
    }
    return Catalogue(rows=rows, index={f: build_field_index(texts[f]) for f in FIELDS}, excluded=excluded)


def load_catalogue(engine, rules: FinderRules = FinderRules()) -> Catalogue:
    """`build_catalogue` from the store: the open instruments only are read."""
    from models import finder_queries as FQ
    from models import queries as Q

    return build_catalogue(FQ.finder_instruments(engine, OPEN_MODE), FQ.service_texts(engine, OPEN_MODE),
                           FQ.service_ratings(engine, OPEN_MODE), Q.instrument_classes(engine), Q.regions(engine),
                           rules)


# ------------------------------------------------------------------------------------ year facts


def load_states(catalogue: Catalogue, usage: pd.DataFrame | None, lines: LoadLines = LoadLines()) -> pd.DataFrame:
    """Per offered instrument in one year: instrument_id, effective_hours (NaN without a report),
    load (busy / available / unknown). usage: `usage_by_instrument_year(year)` rows."""
    rows = catalogue.rows
    out = pd.DataFrame({"instrument_id": rows["instrument_id"].to_numpy()})
    if usage is None or usage.empty:
        out["effective_hours"] = np.nan
        out["load"] = UNKNOWN
        return out
    hours = usage.groupby("instrument_id")["effective_hours"].sum()
    out["effective_hours"] = out["instrument_id"].map(hours).astype(float)
    frame = pd.DataFrame({"effective_hours": out["effective_hours"].fillna(0.0),
                          "rated_hours": rows["purpose"].map(rated_hours).astype(float)})
    busy = load_class(frame, lines).to_numpy() == LOAD_SATURATED if len(frame) else np.array([], dtype=bool)
    out["load"] = np.where(out["effective_hours"].isna(), UNKNOWN, np.where(busy, BUSY, AVAILABLE))
    return out


def sanctioned_units(by_unit: pd.DataFrame | None) -> dict[int, tuple[str, ...]]:
    """unit id → its sanction rule ids, from a `sanctions.SanctionOutcome.by_unit` frame."""
    if by_unit is None or by_unit.empty:
        return {}
    return {int(u): tuple(r) for u, r in zip(by_unit["unit_id"], by_unit["rules"])}


# ------------------------------------------------------------------------------------ search

RESULT_COLUMNS = (
    "rank", *CATALOGUE_COLUMNS, "relevance", "distance_km", "effective_hours", "load", "sanctioned",
    "sanction_rules",
)
_LOAD_ORDER = {AVAILABLE: 0, UNKNOWN: 1, BUSY: 2}


@dataclass(frozen=True, eq=False)
class FindResult:
    """The ranked list of one query.

    terms: the query's normalised terms; expansions: term → the synonyms it was also matched
    through; results: RESULT_COLUMNS, best first; field_scores: array (results × terms × FIELDS)
    of r_f(t); term_relevance: array (results × terms) of R(t); searched: offered instruments;
    matched: those at or above the relevance threshold before the filters; filtered: those left
    by the filters (before `limit`); excluded: open instruments left out, by reason."""

    query: str
    terms: tuple[str, ...]
    expansions: dict[str, tuple[str, ...]]
    results: pd.DataFrame
    field_scores: np.ndarray
    term_relevance: np.ndarray
    searched: int
    matched: int
    filtered: int
    excluded: dict[str, int]
    origin: str | None = None
    rules: FinderRules = FinderRules()


def _empty_results() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RESULT_COLUMNS})


def scores(catalogue: Catalogue, terms: tuple[str, ...], rules: FinderRules = FinderRules()
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, tuple[str, ...]]]:
    """(relevance per row, R(t) per row and term, r_f(t) per row, term and field, expansions)."""
    n = len(catalogue)
    field_scores = np.zeros((n, len(terms), len(FIELDS)))
    used: dict[str, tuple[str, ...]] = {}
    for j, term in enumerate(terms):
        alternatives = [(term, 1.0)] + [(s, rules.synonym_factor) for s in expansions(term)]
        used[term] = tuple(s for s, _ in alternatives[1:])
        for k, f in enumerate(FIELDS):
            index = catalogue.index[f]
            best = np.zeros(n)
            for text, factor in alternatives:
                np.maximum(best, factor * coverage(text, index), out=best)
            field_scores[:, j, k] = best
    weights = np.array([rules.weight(f) for f in FIELDS])
    term_rel = 1.0 - np.prod(1.0 - field_scores * weights[None, None, :], axis=2)
    relevance = term_rel.mean(axis=1) if terms else np.zeros(n)
    return relevance, term_rel, field_scores, used


def _filter_mask(rows: pd.DataFrame, flt: FinderFilter) -> np.ndarray:
    mask = np.ones(len(rows), dtype=bool)
    if flt.regions:
        chosen = set(flt.regions)
        mask &= (rows["region_code"].isin(chosen) | rows["banner_code"].isin(chosen)).to_numpy()
    if flt.classes:
        prefixes = tuple(str(c) for c in flt.classes)
        mask &= rows["class_code"].astype(str).str.startswith(prefixes).to_numpy()
    if flt.max_fee_per_hour is not None:
        fee = rows["fee_per_hour"].to_numpy(float)
        priced_ok = fee <= float(flt.max_fee_per_hour) + 1e-9
        mask &= np.where(np.isnan(fee), bool(flt.include_unpriced), priced_ok)
    elif not flt.include_unpriced:
        mask &= ~np.isnan(rows["fee_per_hour"].to_numpy(float))
    if flt.min_rating is not None:
        rating = rows["rating"].to_numpy(float)
        mask &= ~np.isnan(rating) & (rating >= float(flt.min_rating) - 1e-9)
    return mask


def find(catalogue: Catalogue, query: str, *, flt: FinderFilter = FinderFilter(), origin: str | None = None,
         regions: pd.DataFrame | None = None, load: pd.DataFrame | None = None,
         sanctioned: Mapping[int, tuple[str, ...]] | None = None, rules: FinderRules = FinderRules(),
         limit: int | None = None) -> FindResult:
    """The offered instruments matching `query`, best first (module docstring).

    origin: region code the distances are measured from (None: no distances; needs `regions`);
    load: `load_states` of the year (None: every load unknown); sanctioned: `sanctioned_units`;
    limit: keep only the first `limit` results (the counts still cover all)."""
    terms = query_terms(query)
    sanctioned = sanctioned or {}
    if not terms or len(catalogue) == 0:
        return FindResult(query=query, terms=terms, expansions={t: expansions(t) for t in terms},
                          results=_empty_results(), field_scores=np.zeros((0, len(terms), len(FIELDS))),
                          term_relevance=np.zeros((0, len(terms))), searched=len(catalogue), matched=0,
                          filtered=0, excluded=dict(catalogue.excluded), origin=origin, rules=rules)
    relevance, term_rel, field_scores, used = scores(catalogue, terms, rules)
    hit = relevance >= rules.min_relevance - 1e-12
    matched = int(hit.sum())
    rows = catalogue.rows
    keep = np.flatnonzero(hit & _filter_mask(rows, flt))
    out = rows.iloc[keep].reset_index(drop=True)
    out["relevance"] = np.round(relevance[keep], 6)
    if origin is not None and regions is not None and len(out):
        units = pd.DataFrame({"id": out["unit_id"], "lat": out["unit_lat"], "lon": out["unit_lon"]}).drop_duplicates("id")
        out["distance_km"] = match_distances(out, origin, units, regions).astype(float)
    else:
        out["distance_km"] = np.nan
    if load is not None and len(out):
        facts = load.set_index("instrument_id")
        out["effective_hours"] = out["instrument_id"].map(facts["effective_hours"]).astype(float)
        out["load"] = out["instrument_id"].map(facts["load"]).fillna(UNKNOWN).astype(object)
    else:
        out["effective_hours"] = np.nan
        out["load"] = UNKNOWN
    out["sanction_rules"] = [tuple(sanctioned.get(int(u), ())) for u in out["unit_id"]]
    out["sanctioned"] = out["sanction_rules"].map(bool).astype(bool)
    order = np.lexsort((
        out["instrument_id"].to_numpy(),
        np.nan_to_num(-out["rating"].to_numpy(float), nan=np.inf),
        out["load"].map(_LOAD_ORDER).to_numpy(),
        np.nan_to_num(out["distance_km"].to_numpy(float), nan=np.inf),
        -np.round(out["relevance"].to_numpy(float), 3),
    ))
    if limit is not None:
        order = order[:max(0, int(limit))]
    out = out.iloc[order].reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    picked = keep[order]
    return FindResult(query=query, terms=terms, expansions=used, results=out[list(RESULT_COLUMNS)],
                      field_scores=field_scores[picked], term_relevance=term_rel[picked], searched=len(catalogue),
                      matched=matched, filtered=len(keep), excluded=dict(catalogue.excluded), origin=origin, rules=rules)


# ------------------------------------------------------------------------------------ output


def _plain(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.floating, float)):
        return None if np.isnan(v) else round(float(v), 6)
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.isoformat()
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if v is None or v is pd.NaT:
        return None
    return v


JSON_COLUMNS = (
    "rank", "instrument_id", "inner_id", "name_zh", "name_en", "model", "manufacturer", "class_code",
    "class_name_zh", "class_name_en", "unit_id", "unit_name", "unit_name_en", "region_code", "region_name_zh",
    "region_name_en", "banner_code", "address", "distance_km", "relevance", "fee_standard", "fee_per_hour",
    "voucher_eligible", "voucher_records", "rating", "rated_records", "service_records", "effective_hours", "load",
    "sanctioned", "sanction_rules", "contact", "phone", "email", "booking_url", "status",
)


def to_dict(result: FindResult, year: int | None = None) -> dict:
    """A JSON-ready view: the query, its terms and synonyms, the counts and every result with
    its per-term, per-field scores."""
    items = []
    cols = {c: result.results[c].tolist() for c in JSON_COLUMNS}
    for i in range(len(result.results)):
        item = {c: _plain(cols[c][i]) for c in JSON_COLUMNS}
        item["terms"] = [
            {"term": term, "relevance": round(float(result.term_relevance[i, j]), 6),
             "fields": {f: round(float(result.field_scores[i, j, k]), 6) for k, f in enumerate(FIELDS)}}
            for j, term in enumerate(result.terms)]
        items.append(item)
    return {
        "query": result.query, "terms": list(result.terms),
        "synonyms": {t: list(v) for t, v in result.expansions.items()},
        "origin": result.origin, "year": year,
        "rules": {"weights": dict(result.rules.weights), "synonym_factor": result.rules.synonym_factor,
                  "min_relevance": result.rules.min_relevance,
                  "saturation_hours": result.rules.lines.saturation_hours},
        "searched": result.searched, "matched": result.matched, "filtered": result.filtered, "shown": len(items),
        "excluded": dict(result.excluded), "results": items,
    }


# ------------------------------------------------------------------------------------ CLI


class FinderInputError(ValueError):
    """A bad command-line input; `key` and `params` name the catalogue message."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key, self.params = key, params


def resolve_region(regions: pd.DataFrame, text: str | None) -> str | None:
    """The region code of a code or a Chinese or English name (case and width ignored)."""
    if text is None or str(text).strip() == "":
        return None
    wanted = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    for col in ("code", "name_zh", "name_en"):
        values = regions[col].fillna("").astype(str).map(lambda v: unicodedata.normalize("NFKC", v).strip().casefold())
        hit = regions[values == wanted]
        if len(hit):
            return str(hit["code"].iloc[0])
    raise FinderInputError("cli.find.err.region", value=str(text).strip())


def store_sanctions(engine, year: int) -> dict[int, tuple[str, ...]]:
    """The holders under sanction on `year`'s evaluation, as the finder page takes them: the
    default scenario settings of the incentives page (`scenarios.default_params`) on the
    evaluation of the current scheme, with the reporting, utilisation and service records of the
    year (`scenarios.inputs_from_frames`, the page's recipe)."""
    from dashboard import evaluation, indicators, quality
    from dashboard import scenarios as SC
    from models import queries as Q

    scheme = evaluation.current_scheme(engine)
    table = indicators.compute_indicators(indicators.load_inputs(engine, year), year, scheme)
    inputs = SC.inputs_from_frames(
        year, table, scheme, units=Q.units(engine), instruments=Q.instruments(engine),
        usage=Q.usage_by_instrument_year(engine, year), submissions=Q.submissions(engine, year),
        services=Q.services_for_incentives(engine, year), as_of=quality.local_today())
    outcome = SC.outcome(SC.default_params(scheme), inputs)
    return sanctioned_units(outcome.sanctions.by_unit if outcome.sanctions is not None else None)


def render_text(result: FindResult, t, year: int | None = None) -> str:
    """The ranked list as text lines (one block per instrument)."""
    from dashboard import formatting as F

    en = t.lang == "en"
    lines = [t("cli.find.query", query=result.query, terms=" · ".join(result.terms) or F.MISSING)]
    syn = [f"{term} → {t('finder.sep.list').join(v)}" for term, v in result.expansions.items() if v]
    if syn:
        lines.append(t("cli.find.synonyms", synonyms=t("finder.sep.clause").join(syn)))
    lines.append(t("cli.find.counts", searched=result.searched, matched=result.matched,
                   filtered=result.filtered, shown=len(result.results),
                   excluded=sum(result.excluded.values())))
    if result.results.empty:
        lines.append(t("cli.find.none"))
        return "\n".join(lines)
    for r in result.results.to_dict("records"):
        def pick(zh, en_col):
            return r[en_col] if en and r.get(en_col) else r[zh]
        rating = F.MISSING if pd.isna(r["rating"]) else f"{r['rating']:.1f}"
        distance = F.MISSING if pd.isna(r["distance_km"]) else F.number(r["distance_km"], 1)
        fee = F.MISSING if pd.isna(r["fee_per_hour"]) else F.number(r["fee_per_hour"])
        lines.append(t("cli.find.item", rank=int(r["rank"]), relevance=f"{100 * r['relevance']:.0f}",
                       name=pick("name_zh", "name_en"), model=r["model"] or F.MISSING,
                       unit=pick("unit_name", "unit_name_en"), region=pick("region_name_zh", "region_name_en"),
                       distance=distance))
        lines.append(t("cli.find.item_facts", load=t(f"finder.load.{r['load']}"),
                       hours=F.hours(r["effective_hours"], t) if not pd.isna(r["effective_hours"]) else F.MISSING,
                       year=year if year is not None else F.MISSING, fee=fee, rating=rating, rated=int(r["rated_records"]),
                       voucher=t("cli.find.yes") if r["voucher_eligible"] else t("cli.find.no")))
        contact = " ".join(x for x in (r["contact"], r["phone"], r["email"]) if x) or F.MISSING
        lines.append(t("cli.find.item_contact", contact=contact, fee_standard=r["fee_standard"] or F.MISSING))
        if r["sanctioned"]:
            lines.append(t("cli.find.item_sanction",
                           rules=t("finder.sep.list").join(t(f"sanctions.rule.{x}") for x in r["sanction_rules"])))
    return "\n".join(lines)


def run_find(engine, args, t) -> int:
    """`python -m dashboard find QUERY [--region R] [--near R] [--class CODE] [--max-fee CNY]
    [--min-rating X] [--year Y] [--limit N] [--format text|json]`: prints; writes nothing.
    Bad input → exit 2."""
    from models import queries as Q

    regions = Q.regions(engine)
    try:
        if not query_terms(args.query):
            raise FinderInputError("cli.find.err.query")
        region = resolve_region(regions, args.region)
        near = resolve_region(regions, args.near)
        years = Q.usage_years(engine)
        year = args.year if args.year is not None else (years[-1] if years else None)
        if year is not None and years and year not in years:
            raise FinderInputError("cli.find.err.year", value=year, years=", ".join(str(y) for y in years))
        code = str(args.class_code or "").strip()
        if code and not re.fullmatch(r"\d{2}(\d{2})?", code):
            raise FinderInputError("cli.find.err.class", value=code)
    except FinderInputError as exc:
        print(t(exc.key, **exc.params), file=sys.stderr)
        return 2
    rules = FinderRules()
    catalogue = load_catalogue(engine, rules)
    load = load_states(catalogue, Q.usage_by_instrument_year(engine, year), rules.lines) if year is not None else None
    sanctioned = store_sanctions(engine, year) if year is not None and len(catalogue) else {}
    flt = FinderFilter(regions=(region,) if region else (), classes=(code,) if code else (),
                       max_fee_per_hour=args.max_fee, min_rating=args.min_rating)
    result = find(catalogue, args.query, flt=flt, origin=near, regions=regions, load=load, sanctioned=sanctioned,
                  rules=rules, limit=args.limit)
    if args.format == "json":
        sys.stdout.write(json.dumps(to_dict(result, year), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(result, t, year) + "\n")
    return 0


__all__ = [
    "AVAILABLE", "BUSY", "CATALOGUE_COLUMNS", "Catalogue", "EXCLUSION_REASONS", "FIELDS", "FindResult", "FinderFilter",
    "FinderRules", "LOAD_STATES", "OPEN_MODE", "RESULT_COLUMNS", "SYNONYMS", "UNKNOWN", "build_catalogue",
    "charges_fee", "coverage", "exclusion_reason", "expansions", "find", "grams", "hourly_fee", "load_catalogue",
    "load_states", "offered", "query_terms", "rating_summary", "render_text", "run_find", "sanctioned_units",
    "scores", "store_sanctions", "to_dict", "tokens",
]
