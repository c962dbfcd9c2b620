"""Deterministic demonstration data for Alxa League (阿拉善盟).

`generate_demo(seed, scale, instruments)` builds a complete, internally consistent data set —
holding units, instruments, five years of monthly usage (2021–2025), service records, innovation
vouchers and their redemptions, reporting submissions and purchase requests with review
decisions — as pandas DataFrames whose columns are the store's columns (`models/tables.py`).
Rows reference each other through local integer ids starting at 1; the loader
(`models/services/demo.py`) maps them to database ids.

The vocabulary (units, instrument templates, makers, client firms, names, projects, purchase
requests, free texts) lives in `data/demo/*.csv`; this module only draws from it. Everything is
drawn from one numpy Generator seeded with `seed`, so a seed always gives the same data.

What the data are built to show (each is checked in tests/test_demo.py):
- league averages of instruments worth ≥ 300,000 CNY near the published Inner Mongolia 2021
  figures (≈ 700 effective and ≈ 300 external hours a year; see policy_facts.md), with busy
  workhorses (> 1200 h) and idle instruments (< 200 h);
- 2–3 units that never report (no usage rows, submissions missing), some that report late;
- 3–6 "nominally open" instruments: 外部共享 but no external hours and no external records;
- service records whose external quantities add up to the external hours, some paid partly
  with innovation vouchers (with matching Voucher and Redemption rows);
- purchase requests that duplicate idle instruments, unique ones, and one just under 50万.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.national import CENSUS_FLOOR_CNY, purpose_from_class
from models import tables as T

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
REGIONS_CSV = Path(__file__).resolve().parent.parent / "data" / "reference" / "regions.csv"

DEFAULT_SEED = 2016
LEAGUE_INSTRUMENT_RANGE = (320, 381)  # drawn when `instruments` is not given
USAGE_YEARS = tuple(range(2021, 2026))
MONTHS = len(USAGE_YEARS) * 12
# The demo's "today": after the deadline for December 2025 usage (10 January 2026).
REFERENCE_DATE = date(2026, 2, 15)
LOCAL_UTC_OFFSET = timedelta(hours=8)  # Alxa League local time (China Standard Time)

# Calibration targets (Inner Mongolia 2021 round, ≥30万 instruments: 694 h running, 322 h
# external; policy_facts.md). A seed-dependent target in these ranges keeps seeds distinct.
CALIBRATION_VALUE_CNY = 300_000
EFFECTIVE_TARGET_RANGE = (670.0, 730.0)
EXTERNAL_TARGET_RANGE = (280.0, 320.0)

VOUCHER_COVER_RATIO = 0.5  # share of a service fee a voucher may pay
VOUCHER_SUBSIDY_RATE = 0.2  # provider post-subsidy: share of the redeemed amount
VOUCHER_QUOTAS_CNY = (20_000, 30_000, 50_000, 80_000, 100_000)
MAX_RECORDS_PER_MONTH = 4  # external service records per instrument and month
INTERNAL_RECORD_SHARE = 0.12  # share of months with ≥ 4 internal hours that have an internal record


@dataclass(frozen=True)
class Scale:
    """How big a generated data set is: `replicas` copies of the league's 35 units (suffixed
    （仿真NN） from the second on), `instruments` in all (None: drawn from
    LEAGUE_INSTRUMENT_RANGE × replicas), and how finely service records are kept.

    Service records are the largest table (about 80 per instrument over the five years at league
    density, 16 a year). At national scale that would be 8 million rows: generating them alone
    needs several GB (the province scale, 1.8 million rows unthinned, peaks at about 2.6 GB), more
    than the 2 GB the benchmark allows. So a scale can thin them: `records_per_month` caps the
    external records per instrument and month (the month's external hours are then split over
    fewer, longer records, so the external quantities still add up to the external hours);
    `internal_record_share` is the share of months with ≥ 4 internal hours that get an internal
    record; `service_years` keeps service records (and so redemptions and used vouchers) only for
    the last that many usage years. Usage, submissions and everything else always cover all five
    years. The national scale keeps one external record per instrument and month, internal records
    in 4 % of the months, for the last year (2025) only: about 0.7 million rows, and generation
    peaks at about 1.7 GB. Evaluations of 2021–2024 at that scale see no service records.
    """

    replicas: int
    instruments: int | None = None
    records_per_month: int = MAX_RECORDS_PER_MONTH
    internal_record_share: float = INTERNAL_RECORD_SHARE
    service_years: int = 5

    @property
    def thinned(self) -> bool:
        return (self.records_per_month, self.internal_record_share, self.service_years) != (
            MAX_RECORDS_PER_MONTH, INTERNAL_RECORD_SHARE, 5)


# league: the Alxa League demo; province ≈ the autonomous region (≈ 1,000 units, 20,000
# instruments); national ≈ 3,000 units, 100,000 instruments, service records thinned (Scale).
SCALES: dict[str, Scale] = {
    "league": Scale(replicas=1),
    "province": Scale(replicas=29, instruments=20_000),
    "national": Scale(replicas=86, instruments=100_000, records_per_month=1, internal_record_share=0.04,
                      service_years=1),
}
SCALE_ALIASES = {"alxa": "league"}


def scale_of(name: str) -> Scale:
    """The Scale called `name` (a key of SCALES or an alias such as "alxa")."""
    key = SCALE_ALIASES.get(name, name)
    if key not in SCALES:
        raise ValueError(f"unknown scale {name!r}; expected one of {tuple(SCALES) + tuple(SCALE_ALIASES)}")
    return SCALES[key]

# Which kinds of work each unit profile tag asks of others when it is itself a client.
_TAG_DOMAINS = {
    "hosp": "med|bio", "hosp_major": "med|bio", "mmed": "med|lab", "cdc": "bio|lab|med",
    "qual": "qual|mat|elec", "food": "lab|agri", "agri": "agri|lab|bio", "env": "env|lab",
    "meteo": "meteo|env", "edu": "lab|mat|eco|elec", "forest": "eco|lab", "field": "eco|meteo",
    "hydro": "eco|env", "sand": "lab|agri", "chem": "mat|lab|env", "coal": "mat|lab",
    "pool": "lab|mat",
}
_UNIT_TYPE_CLIENT_KIND = {
    "高校": "高校", "科研院所": "科研院所", "医疗卫生": "医疗卫生", "检验检测": "其他", "其他": "其他",
}
_EXEMPT_BY_TAG = {"meteo": "国家安全", "cdc": "重大社会公共利益", "hosp_major": "特殊情形"}
_FIELD_DOMAINS = ("eco", "meteo")
# Monthly activity shape (mean 1): laboratories slow down around the Spring Festival; field
# work peaks in summer; continuous monitoring is flat.
_SEASON_LAB = np.array([0.85, 0.7, 1.0, 1.05, 1.05, 1.05, 0.95, 0.9, 1.1, 1.05, 1.1, 1.2])
_SEASON_FIELD = 1 + 0.45 * np.cos(2 * np.pi * (np.arange(1, 13) - 7) / 12)
_YEAR_FACTOR = np.array([0.92, 0.85, 1.0, 1.07, 1.12])  # 2022 dip (epidemic), then growth

_STATUSES = ("正常", "待机", "偶有故障", "故障频繁", "远程服务中", "待修", "待报废")
_STATUS_P = (0.80, 0.06, 0.06, 0.01, 0.01, 0.035, 0.025)
_SERVICE_WAYS = ("委托共享", "技术共享", "占用共享", "远程共享", "其他")
_RATINGS = ("非常满意", "基本满意", "一般", "不满意", "极差")
_RATING_P = (0.62, 0.30, 0.06, 0.015, 0.005)
_FUNDINGS = ("中央财政资金", "地方财政资金", "单位自有资金", "其他资金")
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@dataclass(frozen=True)
class DemoData:
    """One generated data set: a frame per table, columns as in the store, local ids from 1."""

    units: pd.DataFrame
    instruments: pd.DataFrame
    usage: pd.DataFrame
    services: pd.DataFrame
    vouchers: pd.DataFrame
    redemptions: pd.DataFrame
    purchase_requests: pd.DataFrame
    review_decisions: pd.DataFrame
    submissions: pd.DataFrame

    def counts(self) -> dict[str, int]:
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}


# The store table behind each frame (column order and names come from it).
FRAME_TABLES = {
    "units": T.Unit,
    "instruments": T.Instrument,
    "usage": T.UsageMonthly,
    "services": T.ServiceRecord,
    "vouchers": T.Voucher,
    "redemptions": T.Redemption,
    "purchase_requests": T.PurchaseRequest,
    "review_decisions": T.ReviewDecision,
    "submissions": T.Submission,
}


def table_columns(frame_name: str) -> list[str]:
    return [c.name for c in FRAME_TABLES[frame_name].__table__.columns]


# --------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Vocabulary:
    units: pd.DataFrame
    templates: pd.DataFrame
    makers: pd.DataFrame
    clients: pd.DataFrame
    people: pd.DataFrame
    projects: pd.DataFrame
    requests: pd.DataFrame
    texts: dict[str, str]
    regions: pd.DataFrame


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    def read(name: str, **kw) -> pd.DataFrame:
        return pd.read_csv(DEMO_DIR / f"{name}.csv", keep_default_na=False, **kw)

    texts = read("texts")
    return Vocabulary(
        units=read("units", dtype={"region_code": str}),
        templates=read("instrument_templates", dtype={"class_code": str}),
        makers=read("makers"),
        clients=read("clients", dtype={"region_code": str}),
        people=read("people"),
        projects=read("projects"),
        requests=read("purchase_requests"),
        texts=dict(zip(texts["key"], texts["text"])),
        regions=pd.read_csv(REGIONS_CSV, dtype={"code": str, "within": str}).set_index("code"),
    )


# --------------------------------------------------------------------------- entry point


def generate_demo(seed: int = DEFAULT_SEED, scale: str = "league", instruments: int | None = None) -> DemoData:
    """The demonstration data for `seed` at `scale` (a key of SCALES: "league" — alias "alxa" —,
    "province" or "national"; see Scale for sizes and the thinning of service records);
    `instruments` overrides the scale's number of instruments."""
    size = scale_of(scale)
    if instruments is not None and instruments < 1:
        raise ValueError(f"instruments must be a positive number, got {instruments}")
    vocab = vocabulary()
    rng = np.random.default_rng(seed)
    replicas = size.replicas
    if instruments is None:
        instruments = size.instruments
    if instruments is None:
        low, high = LEAGUE_INSTRUMENT_RANGE
        instruments = int(rng.integers(low * replicas, high * replicas))

    units, utraits = _units(rng, vocab, replicas)
    inst, itraits = _instruments(rng, vocab, units, utraits, instruments)
    usage, ext = _usage(rng, vocab, inst, itraits, utraits)
    services = _services(rng, vocab, utraits, inst, itraits, usage, ext, size)
    services, vouchers, redemptions = _vouchers(rng, services, inst)
    submissions = _submissions(rng, utraits, itraits)
    requests, decisions = _purchase_requests(rng, vocab, units, utraits)
    frames = {
        "units": units, "instruments": inst, "usage": usage, "services": services,
        "vouchers": vouchers, "redemptions": redemptions, "purchase_requests": requests,
        "review_decisions": decisions, "submissions": submissions,
    }
    return DemoData(**{name: frame[table_columns(name)].reset_index(drop=True) for name, frame in frames.items()})


# --------------------------------------------------------------------------- helpers


def _people(rng: np.random.Generator, vocab: Vocabulary, n: int) -> np.ndarray:
    """`n` person names: Han surname + given name, or a Mongolian name (about 30 %)."""
    pool = {k: g["value"].to_numpy(dtype=object) for k, g in vocab.people.groupby("kind")}
    def draw(kind: str) -> np.ndarray:
        return pool[kind][rng.integers(len(pool[kind]), size=n)]

    han = draw("surname") + draw("given")
    mongolian = draw("mongolian")
    return np.where(rng.random(n) < 0.3, mongolian, han)


def _credit_code(rng: np.random.Generator, prefix: str, area: str) -> str:
    """An invented 统一社会信用代码 with a valid GB 32100 check character."""
    body = prefix + area + "".join(rng.choice(list(_CREDIT_CHARS[:-5]), size=9))
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(body, _CREDIT_WEIGHTS))
    return body + _CREDIT_CHARS[(31 - total % 31) % 31]


def _weighted_choice(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _month_grid() -> pd.DataFrame:
    """The 60 months of 2021–2025 with their lengths."""
    years = np.repeat(USAGE_YEARS, 12)
    months = np.tile(np.arange(1, 13), len(USAGE_YEARS))
    days = pd.to_datetime(pd.DataFrame({"year": years, "month": months, "day": 1})).dt.days_in_month.to_numpy()
    return pd.DataFrame({"year": years, "month": months, "days": days, "hours": days * 24.0})


# --------------------------------------------------------------------------- units


def _units(rng: np.random.Generator, vocab: Vocabulary, replicas: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Holding units (replicated at province scale) and their generator traits."""
    base = vocab.units
    frames = []
    for k in range(replicas):
        u = base.copy()
        u["base_key"] = u["key"]
        if k:
            u["key"] = u["key"] + f"#{k + 1}"
            u["name"] = u["name"] + f"（仿真{k + 1:02d}）"
            u["name_en"] = u["name_en"] + f" (sim {k + 1:02d})"
        u["replica"] = k
        frames.append(u)
    u = pd.concat(frames, ignore_index=True)
    n = len(u)
    u["id"] = np.arange(1, n + 1)

    seat = vocab.regions.loc[u["region_code"]]
    is_zone = (seat["kind"] == "zone").to_numpy()
    jitter = rng.normal(0, 0.015, size=(n, 2))
    u["lat"] = np.round(seat["lat"].to_numpy() + np.where(is_zone, 0, jitter[:, 0]), 5)
    u["lon"] = np.round(seat["lon"].to_numpy() + np.where(is_zone, 0, jitter[:, 1]), 5)
    area = np.where(is_zone, seat["within"].to_numpy(), u["region_code"].to_numpy())
    u["credit_code"] = [
        _credit_code(rng, "91" if t == "企业" else "12", a) for t, a in zip(u["unit_type"], area)
    ]
    u["contact"] = _people(rng, vocab, n)
    u["phone"] = [f"0483-8{x:06d}" for x in rng.integers(0, 1_000_000, size=n)]
    u["email"] = [f"unit{i:04d}@example.com" for i in u["id"]]
    u["is_sme"] = u["is_sme"].astype(str).str.lower().eq("true")
    u["address"] = "内蒙古自治区阿拉善盟" + u["address"]

    traits = pd.DataFrame({
        "id": u["id"], "key": u["key"], "base_key": u["base_key"], "replica": u["replica"],
        "tags": u["profile"].str.split("|"), "weight": u["weight"].astype(float),
        "operation_mode": u["operation_mode"], "unit_type": u["unit_type"],
        "region_code": u["region_code"], "name": u["name"], "is_sme": u["is_sme"],
        "address": u["address"],
    })
    traits["reporting"] = _reporting_behaviour(rng, traits)
    return u, traits


def _reporting_behaviour(rng: np.random.Generator, traits: pd.DataFrame) -> np.ndarray:
    """Per unit: "never" (2–3 small units per league), "late" (4–5) or "ontime"."""
    behaviour = np.full(len(traits), "ontime", dtype=object)
    for _, grp in traits.groupby("replica", sort=True):
        small = grp[(grp["weight"] <= 6) & (grp["operation_mode"] == "自营")].index.to_numpy()
        never = rng.choice(small, size=min(len(small), int(rng.integers(2, 4))), replace=False)
        behaviour[never] = "never"
        rest = np.setdiff1d(grp.index.to_numpy(), never)
        late = rng.choice(rest, size=min(len(rest), int(rng.integers(4, 6))), replace=False)
        behaviour[late] = "late"
    return behaviour


# --------------------------------------------------------------------------- instruments


def _instruments(
    rng: np.random.Generator, vocab: Vocabulary, units: pd.DataFrame, utraits: pd.DataFrame, n_total: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    tpl = vocab.templates
    # Templates that purchase requests present as having no counterpart are kept out of the stock.
    absent = set(vocab.requests.loc[vocab.requests["existing"] == "none", "template"])
    tpl_weight = np.where(tpl["key"].isin(absent), 0.0, tpl["weight"].to_numpy(dtype=float))
    holders = tpl["holders"].str.split("|")

    # How many instruments each unit holds: at least two where the total allows.
    n_units = len(utraits)
    floor = min(2, n_total // n_units)
    per_unit = floor + rng.multinomial(n_total - floor * n_units, utraits["weight"] / utraits["weight"].sum())

    # Which templates: drawn from those whose holder tags meet the unit's profile.
    choice_p: dict[str, np.ndarray] = {}
    unit_idx, tpl_idx = [], []
    for row, count in zip(utraits.itertuples(), per_unit):
        if count == 0:
            continue
        if row.base_key not in choice_p:
            fits = np.array([bool(set(h) & set(row.tags)) for h in holders]) * tpl_weight
            choice_p[row.base_key] = fits / fits.sum()
        unit_idx.append(np.full(count, row.Index))
        tpl_idx.append(rng.choice(len(tpl), size=count, p=choice_p[row.base_key]))
    unit_idx = np.concatenate(unit_idx)
    tpl_idx = np.concatenate(tpl_idx)
    n = len(unit_idx)
    t = tpl.iloc[tpl_idx].reset_index(drop=True)
    ut = utraits.iloc[unit_idx].reset_index(drop=True)

    value = _values(rng, t)
    start = _start_dates(rng, n)
    maker = _makers(rng, vocab, t["key"].to_numpy())
    class_code = t["class_code"].to_numpy()
    purpose = np.array([purpose_from_class(c) for c in class_code], dtype=object)
    flip = rng.random(n) < 0.05  # individual records may differ from the class reading
    purpose[flip] = np.where(purpose[flip] == "通用", "专用", "通用")

    share_mode, exempt = _share_modes(rng, t, ut)
    status = _statuses(rng, start)
    fee = np.maximum(10, np.round(t["fee_per_hour"] * (value / t["value_median"]) ** 0.4 / 10) * 10)
    seq = pd.Series(unit_idx).groupby(unit_idx).cumcount().to_numpy() + 1
    inner_id = [f"ZC{d.year}-{s:04d}" for d, s in zip(start, seq)]
    is_field = t["domain"].isin(_FIELD_DOMAINS).to_numpy()

    inst = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "unit_id": ut["id"].to_numpy(),
        "inner_id": inner_id,
        "name_zh": t["name_zh"],
        "name_en": t["name_en"],
        "affiliate": np.where(ut["operation_mode"] == "代理", "附属于科学仪器中心", "不附属"),
        "class_code": class_code,
        "original_value": value,
        "source": np.array(["购置", "赠送", "研制", "其他"])[_weighted_choice(rng, [0.93, 0.03, 0.02, 0.02], n)],
        "funding": _funding(rng, ut),
        "country": maker["country"],
        "manufacturer": maker["manufacturer"],
        "model": maker["model"],
        "start_date": start,
        "purpose": purpose,
        "technical_specs": t["technical_specs"],
        "functions": t["functions"],
        "disciplines": t["disciplines"],
        "service_content": t["service_content"],
        "status": status,
        "sharing_rules": _sharing_rules(rng, vocab, share_mode, exempt),
        "fee_standard": _fee_texts(vocab, t, share_mode, fee),
        "booking_url": _booking_urls(ut["id"].to_numpy(), inner_id, share_mode),
        "address": _placement(rng, vocab, ut["address"].to_numpy(), is_field),
        "share_mode": share_mode,
        "annual_run_hours": np.nan,
        "annual_service_hours": np.nan,
        "customs_supervised": np.where(
            (maker["country"] != "中国") & ut["unit_type"].isin(["科研院所", "高校"]).to_numpy()
            & (pd.to_datetime(start) >= pd.Timestamp(2021, 1, 1)), "是", "否"),
        "contact": _people(rng, vocab, n),
        "phone": [f"139{x:08d}" for x in rng.integers(47_000_000, 48_000_000, size=n)],
        "email": "",
        "region_code": ut["region_code"].to_numpy(),
        "exempt_reason": exempt,
        "operation_mode": ut["operation_mode"].to_numpy(),
    })
    traits = pd.DataFrame({
        "unit_row": unit_idx,
        "template": t["key"],
        "domain": t["domain"],
        "hours_median": t["hours_median"].astype(float),
        "ext_propensity": t["ext_propensity"].astype(float),
        "session_hours": t["session_hours"].astype(float),
        "samples_per_hour": t["samples_per_hour"].astype(float),
        "fee": fee,
        "reporting": ut["reporting"].to_numpy() != "never",
        "replica": ut["replica"].to_numpy(),
        # Index (0–59) of the first month of 2021–2025 in which the instrument exists.
        "first_month": np.clip([(d.year - USAGE_YEARS[0]) * 12 + d.month - 1 for d in start], 0, None),
    })
    return inst, traits


def _booking_urls(unit_ids: np.ndarray, inner_ids: list[str], share_mode: np.ndarray) -> list[str]:
    """Open instruments of two units in three have an online booking page (a fixed rule, not a
    random draw, so adding it left every other generated value unchanged)."""
    online = (share_mode == "外部共享") & (unit_ids % 3 != 0)
    return [f"https://share.alxa.example.cn/book/{u}/{i}" if o else ""
            for u, i, o in zip(unit_ids, inner_ids, online)]


def _values(rng: np.random.Generator, t: pd.DataFrame) -> np.ndarray:
    """Log-normal original values per template, ≥ the census floor, in whole 100 CNY."""
    v = np.exp(np.log(t["value_median"].to_numpy(float)) + t["value_sigma"].to_numpy(float) * rng.standard_normal(len(t)))
    low = v < CENSUS_FLOOR_CNY
    # Below-floor draws become instruments just above the floor (the census keeps ≥ 5万 only).
    v[low] = CENSUS_FLOOR_CNY * (1 + 0.6 * rng.random(int(low.sum())))
    return np.maximum(np.round(v / 100) * 100, CENSUS_FLOOR_CNY)


def _start_dates(rng: np.random.Generator, n: int) -> np.ndarray:
    """Commissioning dates 2008–2024, recent years a little more frequent."""
    years = np.arange(2008, 2025)
    year = years[_weighted_choice(rng, 1 + 0.08 * (years - 2008), n)]
    first = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1}))
    days_in_year = np.where(pd.DatetimeIndex(first).is_leap_year, 366, 365)
    offset = (rng.random(n) * days_in_year).astype(int)
    return np.array([d.date() for d in first + pd.to_timedelta(offset, unit="D")], dtype=object)


def _makers(rng: np.random.Generator, vocab: Vocabulary, keys: np.ndarray) -> pd.DataFrame:
    out = pd.DataFrame(index=range(len(keys)), columns=["manufacturer", "country", "model"], dtype=object)
    for key, group in vocab.makers.groupby("template", sort=True):
        rows = np.flatnonzero(keys == key)
        if len(rows):
            pick = group.iloc[_weighted_choice(rng, group["weight"].to_numpy(), len(rows))]
            out.loc[rows, ["manufacturer", "country", "model"]] = pick[["manufacturer", "country", "model"]].to_numpy()
    return out


def _share_modes(rng: np.random.Generator, t: pd.DataFrame, ut: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """内部共享 / 外部共享 / 不共享 by kind of holder, plus a few exempt instruments per league."""
    n = len(t)
    modes = np.array(["外部共享", "内部共享", "不共享"], dtype=object)
    p_med, p_firm, p_other = [0.35, 0.45, 0.20], [0.40, 0.35, 0.25], [0.66, 0.22, 0.12]
    draw = np.empty(n, dtype=object)
    is_med = (t["domain"] == "med").to_numpy()
    is_firm = ((ut["unit_type"] == "企业") & (ut["operation_mode"] == "自营")).to_numpy()
    for mask, p in ((is_med, p_med), (~is_med & is_firm, p_firm), (~is_med & ~is_firm, p_other)):
        draw[mask] = modes[_weighted_choice(rng, p, int(mask.sum()))]
    draw[(ut["operation_mode"] != "自营").to_numpy()] = "外部共享"  # pools exist to serve others

    exempt = np.full(n, "", dtype=object)
    tags = ut["tags"].to_numpy()
    reason_of = np.array([next((r for tag, r in _EXEMPT_BY_TAG.items() if tag in tg), "") for tg in tags], dtype=object)
    for replica in np.unique(ut["replica"]):
        candidates = np.flatnonzero((reason_of != "") & (ut["replica"].to_numpy() == replica))
        chosen = rng.choice(candidates, size=min(len(candidates), int(rng.integers(3, 7))), replace=False)
        exempt[chosen] = reason_of[chosen]
        draw[chosen] = "不共享"
    return draw, exempt


def _statuses(rng: np.random.Generator, start: np.ndarray) -> np.ndarray:
    status = np.array(_STATUSES, dtype=object)[_weighted_choice(rng, _STATUS_P, len(start))]
    young = np.array([d.year > 2014 for d in start])
    status[(status == "待报废") & young] = "正常"  # only old instruments await disposal
    return status


def _funding(rng: np.random.Generator, ut: pd.DataFrame) -> np.ndarray:
    n = len(ut)
    public = _weighted_choice(rng, [0.35, 0.50, 0.10, 0.05], n)
    firm = _weighted_choice(rng, [0.0, 0.10, 0.85, 0.05], n)
    idx = np.where(ut["unit_type"].to_numpy() == "企业", firm, public)
    idx = np.where(ut["operation_mode"].to_numpy() == "融资租赁", 3, idx)  # leased: other funds
    return np.array(_FUNDINGS, dtype=object)[idx]


def _sharing_rules(rng: np.random.Generator, vocab: Vocabulary, share_mode: np.ndarray, exempt: np.ndarray) -> list[str]:
    days = rng.integers(1, 4, size=len(share_mode))
    out = []
    for mode, reason, d in zip(share_mode, exempt, days):
        if reason:
            out.append(vocab.texts["sharing.exempt"].format(reason=reason))
        else:
            out.append(vocab.texts[f"sharing.{mode}"].format(days=int(d)))
    return out


def _fee_texts(vocab: Vocabulary, t: pd.DataFrame, share_mode: np.ndarray, fee: np.ndarray) -> list[str]:
    out = []
    for domain, mode, f in zip(t["domain"], share_mode, fee):
        if mode == "不共享":
            out.append("")
        elif domain == "med":
            out.append(vocab.texts["fee.med"])
        elif mode == "内部共享":
            out.append(vocab.texts["fee.internal"].format(fee=int(f)))
        else:
            out.append(vocab.texts["fee.hour"].format(fee=int(f)))
    return out


def _placement(rng: np.random.Generator, vocab: Vocabulary, unit_address: np.ndarray, is_field: np.ndarray) -> np.ndarray:
    n = len(unit_address)
    floor = rng.integers(1, 6, size=n)
    room = floor * 100 + rng.integers(1, 30, size=n)
    plot = rng.integers(1, 13, size=n)
    lab = [vocab.texts["place.lab"].format(floor=f, room=r) for f, r in zip(floor, room)]
    field = [vocab.texts["place.field"].format(n=p) for p in plot]
    return unit_address + np.where(is_field, field, lab)


# --------------------------------------------------------------------------- usage


def _usage(
    rng: np.random.Generator, vocab: Vocabulary, inst: pd.DataFrame, it: pd.DataFrame, utraits: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """Monthly usage rows and the external-hours matrix (instruments × 60 months)."""
    n = len(inst)
    grid = _month_grid()
    month_hours = grid["hours"].to_numpy()
    active, first_fraction = _active_months(inst["start_date"].to_numpy(), grid)
    status = inst["status"].to_numpy()

    group, annual = _annual_levels(rng, vocab, inst, it)
    season = np.where(it["domain"].isin(_FIELD_DOMAINS).to_numpy()[:, None], _SEASON_FIELD[None, :], _SEASON_LAB[None, :])
    season = np.where((it["hours_median"].to_numpy() >= 1500)[:, None], 1.0, season)  # continuous monitoring
    season = season[:, grid["month"].to_numpy() - 1]
    year_factor = _YEAR_FACTOR[grid["year"].to_numpy() - USAGE_YEARS[0]]
    noise = rng.lognormal(0, 0.3, size=(n, MONTHS))
    eff = annual[:, None] / 12 * season * year_factor[None, :] * noise * first_fraction

    down = rng.exponential(2.0, size=(n, MONTHS))
    down += np.where((status == "偶有故障")[:, None], rng.exponential(12, size=(n, MONTHS)), 0)
    down += np.where((status == "故障频繁")[:, None], rng.exponential(40, size=(n, MONTHS)), 0)
    # Broken instruments: the last months of the period carry no use and long downtime.
    broken_months = np.where(np.isin(status, ("待修", "待报废")), rng.integers(1, 9, size=n), 0)
    broken = np.arange(MONTHS)[None, :] >= (MONTHS - broken_months)[:, None]
    eff = np.where(broken, 0.0, eff)
    down = np.where(broken, 0.6 * month_hours[None, :], down)
    down = np.round(np.minimum(down, month_hours[None, :]), 1)
    cap = month_hours[None, :] - down

    reporting = it["reporting"].to_numpy()
    target_group = reporting & (inst["original_value"].to_numpy() >= CALIBRATION_VALUE_CNY)
    eff = _calibrate_effective(rng, eff, cap, active, target_group, group == "normal")
    eff = np.round(np.minimum(eff, cap) * 2) / 2

    share, nominal = _external_shares(rng, inst, it)
    ext = _calibrate_external(rng, eff, share, active, target_group)
    ext = _serve_at_least_once(ext, eff, (inst["share_mode"].to_numpy() == "外部共享") & ~nominal)
    samples = np.round(eff * it["samples_per_hour"].to_numpy()[:, None] * rng.lognormal(0, 0.2, size=(n, MONTHS)))

    rows = active & reporting[:, None]
    i_idx, m_idx = np.nonzero(rows)
    usage = pd.DataFrame({
        "id": np.arange(1, len(i_idx) + 1),
        "instrument_id": inst["id"].to_numpy()[i_idx],
        "year": grid["year"].to_numpy()[m_idx],
        "month": grid["month"].to_numpy()[m_idx],
        "effective_hours": eff[i_idx, m_idx],
        "external_hours": ext[i_idx, m_idx],
        "samples": samples[i_idx, m_idx].astype("int64"),
        "downtime_hours": down[i_idx, m_idx],
    })
    _annual_fields(inst, usage)
    ext = np.where(rows, ext, 0.0)
    return usage, ext


def _active_months(start: np.ndarray, grid: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Which months an instrument exists in, and the share of its first month in use."""
    sy = np.array([d.year for d in start])
    sm = np.array([d.month for d in start])
    sd = np.array([d.day for d in start])
    first = (sy - USAGE_YEARS[0]) * 12 + sm - 1
    idx = np.arange(MONTHS)[None, :]
    active = idx >= first[:, None]
    days = grid["days"].to_numpy()
    first_days = days[np.clip(first, 0, MONTHS - 1)]
    frac = np.where(first >= 0, (first_days - sd + 1) / first_days, 1.0)
    fraction = np.where(idx == first[:, None], frac[:, None], 1.0)
    return active, fraction


def _annual_levels(rng: np.random.Generator, vocab: Vocabulary, inst: pd.DataFrame, it: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Annual effective-hour level and usage group ("idle" / "busy" / "normal") per instrument."""
    n = len(inst)
    u = rng.random(n)
    group = np.where(u < 0.07, "idle", np.where(u < 0.15, "busy", "normal")).astype(object)
    group[np.isin(inst["status"].to_numpy(), ("待机", "待报废"))] = "idle"
    # Purchase requests argue from existing instruments: make that evidence visible.
    for key, existing in zip(vocab.requests["template"], vocab.requests["existing"]):
        same = np.flatnonzero((it["template"].to_numpy() == key) & it["reporting"].to_numpy())
        if existing == "busy":
            group[same] = "busy"
        elif existing == "idle" and len(same):
            for replica in np.unique(it["replica"].to_numpy()[same]):
                in_replica = same[it["replica"].to_numpy()[same] == replica]
                idle = rng.choice(in_replica, size=min(2, len(in_replica)), replace=False)
                group[idle] = "idle"
    annual = it["hours_median"].to_numpy() * rng.lognormal(0, 0.5, size=n)
    annual = np.where(group == "idle", rng.uniform(20, 150, size=n), annual)
    annual = np.where(group == "busy", rng.uniform(1400, 2400, size=n), annual)
    return group, annual


def _calibrate_effective(
    rng: np.random.Generator, eff: np.ndarray, cap: np.ndarray, active: np.ndarray,
    target_group: np.ndarray, scalable: np.ndarray,
) -> np.ndarray:
    """Scale the "normal" instruments so the target group's mean annual hours hit the target.

    The statistic is the one the app reports: the mean, over instrument-years with usage rows,
    of annual effective hours, for instruments worth ≥ 300,000 CNY at reporting units.
    """
    target = rng.uniform(*EFFECTIVE_TARGET_RANGE)
    eff = np.where(active, eff, 0.0)
    instrument_years = _instrument_years(active[target_group])
    if instrument_years == 0:
        return np.minimum(eff, cap)
    for _ in range(4):  # re-solve after capping; converges in two or three rounds
        fixed = eff[target_group & ~scalable].sum()
        movable = eff[target_group & scalable].sum()
        if movable <= 0:
            break
        k = max(0.0, (target * instrument_years - fixed) / movable)
        eff = np.where(scalable[:, None], eff * k, eff)
        eff = np.minimum(eff, cap)
    return eff


def _instrument_years(active: np.ndarray) -> int:
    return int(active.reshape(len(active), len(USAGE_YEARS), 12).any(axis=2).sum())


def _external_shares(rng: np.random.Generator, inst: pd.DataFrame, it: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Share of effective hours served to external users, before calibration.

    Only 外部共享 instruments serve outsiders; 3–6 of them per league are "nominally open"
    (declared 外部共享, no external use at all).
    """
    n = len(inst)
    share = rng.beta(2.0, 2.5, size=n) * it["ext_propensity"].to_numpy()
    open_ = (inst["share_mode"].to_numpy() == "外部共享")
    share = np.where(open_, share, 0.0)
    old = np.array([d.year < USAGE_YEARS[0] for d in inst["start_date"]])
    nominal = np.zeros(n, dtype=bool)
    for replica in np.unique(it["replica"].to_numpy()):
        candidates = np.flatnonzero(open_ & old & it["reporting"].to_numpy() & (it["replica"].to_numpy() == replica)
                                    & (inst["operation_mode"].to_numpy() == "自营"))
        chosen = rng.choice(candidates, size=min(len(candidates), int(rng.integers(3, 7))), replace=False)
        nominal[chosen] = True
    share[nominal] = 0.0
    return share, nominal


def _serve_at_least_once(ext: np.ndarray, eff: np.ndarray, open_: np.ndarray) -> np.ndarray:
    """Open instruments that were used serve outsiders at least once (half an hour in their
    busiest month), so that only the chosen ones are "nominally open"."""
    rows = np.flatnonzero(open_ & (ext.sum(axis=1) == 0) & (eff.sum(axis=1) > 0))
    busiest = eff[rows].argmax(axis=1)
    ext = ext.copy()
    ext[rows, busiest] = np.minimum(0.5, eff[rows, busiest])
    return ext


def _calibrate_external(
    rng: np.random.Generator, eff: np.ndarray, share: np.ndarray, active: np.ndarray, target_group: np.ndarray
) -> np.ndarray:
    """External hours per month, scaled (bisection) so the target group averages the target."""
    target = rng.uniform(*EXTERNAL_TARGET_RANGE)
    noise = rng.lognormal(0, 0.3, size=eff.shape)
    instrument_years = _instrument_years(active[target_group])

    def external(k: float) -> np.ndarray:
        ratio = np.minimum(0.95, k * share)[:, None] * noise
        return np.round(np.minimum(eff, eff * ratio) * 2) / 2

    if instrument_years == 0:
        return external(1.0)
    low, high = 0.0, 50.0
    for _ in range(40):
        mid = (low + high) / 2
        mean = external(mid)[target_group].sum() / instrument_years
        low, high = (mid, high) if mean < target else (low, mid)
    return external((low + high) / 2)


def _annual_fields(inst: pd.DataFrame, usage: pd.DataFrame) -> None:
    """The national record's 年总运行机时 / 年服务机时: the latest year's totals."""
    last = usage[usage["year"] == USAGE_YEARS[-1]].groupby("instrument_id")[["effective_hours", "external_hours"]].sum()
    ids = inst["id"]
    inst["annual_run_hours"] = ids.map(last["effective_hours"]).to_numpy()
    inst["annual_service_hours"] = ids.map(last["external_hours"]).to_numpy()


# --------------------------------------------------------------------------- services


def _client_table(vocab: Vocabulary, utraits: pd.DataFrame) -> pd.DataFrame:
    """Everyone who may use an instrument: listed client firms and bodies, and the units themselves."""
    listed = vocab.clients.assign(
        is_sme=vocab.clients["is_sme"].astype(str).str.lower().eq("true"), unit_row=-1,
    )
    kind = utraits["unit_type"].map(_UNIT_TYPE_CLIENT_KIND)
    kind = np.where(utraits["unit_type"] == "企业", np.where(utraits["is_sme"], "本地中小企业", "本地大型企业"), kind)
    domains = ["|".join(sorted({d for tag in tags for d in _TAG_DOMAINS[tag].split("|")})) for tags in utraits["tags"]]
    units = pd.DataFrame({
        "name": utraits["name"], "client_kind": kind, "region_code": utraits["region_code"],
        "is_sme": utraits["is_sme"], "domains": domains, "unit_row": np.arange(len(utraits)),
    })
    return pd.concat([listed[units.columns], units], ignore_index=True)


def _client_pools(rng: np.random.Generator, clients: pd.DataFrame, it: pd.DataFrame, pool_size: int = 8) -> np.ndarray:
    """Each instrument's regular clients (indices into `clients`), `pool_size` per instrument."""
    client_domains = clients["domains"].str.split("|")
    unit_row = clients["unit_row"].to_numpy()
    by_domain = {
        d: np.flatnonzero([d in ds for ds in client_domains]) for d in sorted(it["domain"].unique())
    }
    pools = np.empty((len(it), pool_size), dtype=np.int64)
    for i, (domain, own) in enumerate(zip(it["domain"], it["unit_row"])):
        eligible = by_domain[domain]
        eligible = eligible[unit_row[eligible] != own]
        pools[i] = rng.choice(eligible, size=pool_size, replace=len(eligible) < pool_size)
    return pools


def _services(
    rng: np.random.Generator, vocab: Vocabulary, utraits: pd.DataFrame,
    inst: pd.DataFrame, it: pd.DataFrame, usage: pd.DataFrame, ext: np.ndarray, size: Scale = SCALES["league"],
) -> pd.DataFrame:
    """Service records: external ones adding up to the external hours, and some internal ones
    (thinned as `size` says: Scale)."""
    clients = _client_table(vocab, utraits)
    pools = _client_pools(rng, clients, it)
    own_client_offset = len(vocab.clients)  # units follow the listed clients in `clients`
    recorded = np.arange(MONTHS) >= (len(USAGE_YEARS) - size.service_years) * 12  # months with records
    rec = pd.concat(
        [_external_records(rng, it, np.where(recorded[None, :], ext, 0.0), pools, size.records_per_month),
         _internal_records(rng, it, usage, ext, own_client_offset, size.internal_record_share, recorded)],
        ignore_index=True,
    ).sort_values(["i", "m", "internal"], kind="stable").reset_index(drop=True)

    n = len(rec)
    i, m, quantity = rec["i"].to_numpy(), rec["m"].to_numpy(), rec["q"].to_numpy()
    is_internal = rec["internal"].to_numpy()
    c = clients.iloc[rec["client"].to_numpy()].reset_index(drop=True)
    start, end = _service_times(rng, inst["start_date"].to_numpy(), _month_grid(), i, m, quantity)
    # Outsiders pay the listed fee less a negotiated discount; insiders half of it at cost.
    price_factor = np.where(is_internal, 0.5, rng.uniform(0.85, 1.0, size=n))
    amount = np.round(quantity * it["fee"].to_numpy()[i] * price_factor / 10) * 10
    project_name, project_funding = _projects(rng, vocab, it["domain"].to_numpy()[i])
    holder_type = utraits["unit_type"].to_numpy()[it["unit_row"].to_numpy()[i]]

    services = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "instrument_id": inst["id"].to_numpy()[i],
        "service_amount_cny": amount,
        "start_time": start,
        "end_time": end,
        "service_content": inst["service_content"].to_numpy()[i],
        "service_way": _service_ways(rng, it["session_hours"].to_numpy()[i]),
        "service_quantity": quantity,
        "project_name": project_name,
        "project_funding": project_funding,
        "applicant": _people(rng, vocab, n),
        "applicant_unit": c["name"].to_numpy(),
        "user_type": np.where(is_internal, "内部用户", "外部用户"),
        "direction": _directions(rng, c["client_kind"].to_numpy(), is_internal, holder_type),
        "rating": np.array(_RATINGS, dtype=object)[_weighted_choice(rng, _RATING_P, n)],
        "client_region_code": c["region_code"].to_numpy(),
        "client_kind": c["client_kind"].to_numpy(),
        "voucher_amount_cny": 0.0,
        # Carried for voucher generation, dropped from the final frame.
        "client_is_sme": c["is_sme"].to_numpy(),
    })
    return _unique_service_keys(services)


def _external_records(rng: np.random.Generator, it: pd.DataFrame, ext: np.ndarray, pools: np.ndarray,
                      records_per_month: int = MAX_RECORDS_PER_MONTH) -> pd.DataFrame:
    """Split each instrument-month's external hours over 1–`records_per_month` records of the
    instrument's clients."""
    i_ext, m_ext = np.nonzero(ext > 0)
    hours = ext[i_ext, m_ext]
    per = np.round(hours / (2 * it["session_hours"].to_numpy()[i_ext]))
    per = np.clip(per, 1, records_per_month).astype(int)
    rec_i, rec_m = np.repeat(i_ext, per), np.repeat(m_ext, per)
    weight = rng.gamma(2.0, 1.0, size=len(rec_i))
    group_start = np.concatenate([[0], np.cumsum(per)[:-1]]).astype(int)
    weight_sum = np.repeat(np.add.reduceat(weight, group_start), per) if len(weight) else weight
    quantity = np.maximum(0.5, np.round(np.repeat(hours, per) * weight / weight_sum * 2) / 2)
    client = pools[rec_i, rng.integers(pools.shape[1], size=len(rec_i))]
    return pd.DataFrame({"i": rec_i, "m": rec_m, "q": quantity, "client": client, "internal": False})


def _internal_records(
    rng: np.random.Generator, it: pd.DataFrame, usage: pd.DataFrame, ext: np.ndarray, own_client_offset: int,
    share: float = INTERNAL_RECORD_SHARE, recorded: np.ndarray | None = None,
) -> pd.DataFrame:
    """Records for a minority of months with internal use (most internal use goes unrecorded)."""
    eff = np.zeros_like(ext)
    month_idx = (usage["year"].to_numpy() - USAGE_YEARS[0]) * 12 + usage["month"].to_numpy() - 1
    eff[usage["instrument_id"].to_numpy() - 1, month_idx] = usage["effective_hours"].to_numpy()
    internal_hours = eff - ext
    keep = (internal_hours >= 4) & (rng.random(ext.shape) < share)
    if recorded is not None:
        keep &= recorded[None, :]
    i_int, m_int = np.nonzero(keep)
    share = rng.uniform(0.1, 0.4, size=len(i_int))
    quantity = np.maximum(0.5, np.round(internal_hours[i_int, m_int] * share * 2) / 2)
    own_client = own_client_offset + it["unit_row"].to_numpy()[i_int]
    return pd.DataFrame({"i": i_int, "m": m_int, "q": quantity, "client": own_client, "internal": True})


def _service_ways(rng: np.random.Generator, session_hours: np.ndarray) -> np.ndarray:
    """Mostly commissioned tests; continuous monitoring is shared as data or remotely."""
    p = np.where((session_hours >= 24)[:, None], [0.3, 0.4, 0.0, 0.3, 0.0], [0.6, 0.2, 0.15, 0.03, 0.02])
    pick = (rng.random(len(session_hours))[:, None] > np.cumsum(p, axis=1)).sum(axis=1).clip(0, len(_SERVICE_WAYS) - 1)
    return np.array(_SERVICE_WAYS, dtype=object)[pick]


def _service_times(
    rng: np.random.Generator, start_date: np.ndarray, grid: pd.DataFrame, i: np.ndarray, m: np.ndarray, quantity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Naive local start/end times inside the month, never before the instrument's start date."""
    days = grid["days"].to_numpy()[m]
    year, month = grid["year"].to_numpy()[m], grid["month"].to_numpy()[m]
    month_start = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))
    sdate = pd.to_datetime(pd.Series(start_date[i]))
    same_month = (sdate.dt.year.to_numpy() == year) & (sdate.dt.month.to_numpy() == month)
    first_day = np.where(same_month, sdate.dt.day.to_numpy() - 1, 0)
    day = first_day + (rng.random(len(m)) * (days - first_day)).astype(int)
    hour = np.array([8, 9, 10, 14, 15])[rng.integers(5, size=len(m))]
    minute = 30 * rng.integers(2, size=len(m))
    start = month_start.to_numpy() + (day * 1440 + hour * 60 + minute).astype("timedelta64[m]")
    # Long jobs run over several working days of 8 hours.
    whole_days = np.floor(quantity / 8).astype(int)
    rest_min = np.round((quantity - 8 * whole_days) * 60).astype(int)
    end = start + (whole_days * 1440 + rest_min).astype("timedelta64[m]")
    return start.astype("datetime64[s]"), end.astype("datetime64[s]")


def _unique_service_keys(services: pd.DataFrame) -> pd.DataFrame:
    """Shift clashing start times by whole minutes: (instrument, start, applicant unit) is unique."""
    key = ["instrument_id", "start_time", "applicant_unit"]
    clash = services.groupby(key, sort=False).cumcount().to_numpy()
    shift = clash.astype("timedelta64[m]")
    services["start_time"] = services["start_time"].to_numpy() + shift
    services["end_time"] = services["end_time"].to_numpy() + shift
    return services


def _projects(rng: np.random.Generator, vocab: Vocabulary, domains: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    name = np.empty(len(domains), dtype=object)
    funding = np.empty(len(domains), dtype=object)
    projects = vocab.projects
    for domain in np.unique(domains):
        rows = np.flatnonzero(domains == domain)
        pool = projects[projects["domain"] == domain]
        if pool.empty:
            pool = projects[projects["domain"] == "lab"]
        pick = pool.iloc[rng.integers(len(pool), size=len(rows))]
        name[rows] = pick["name"].to_numpy()
        funding[rows] = pick["funding"].to_numpy()
    return name, funding


def _directions(rng: np.random.Generator, client_kind: np.ndarray, internal: np.ndarray, holder_type: np.ndarray) -> np.ndarray:
    u = rng.random(len(client_kind))
    firm = np.isin(client_kind, ("本地中小企业", "本地大型企业", "盟外企业"))
    research = np.isin(client_kind, ("科研院所", "高校"))
    out = np.where(firm, np.where(u < 0.85, "科技开发", "其他"), "其他")
    out = np.where(research, np.where(u < 0.85, "科学研究", "教学"), out)
    out = np.where((client_kind == "医疗卫生") & (u < 0.4), "科学研究", out)
    out = np.where(internal & (holder_type == "高校"), np.where(u < 0.6, "教学", "科学研究"), out)
    out = np.where(internal & (holder_type == "科研院所"), "科学研究", out)
    return out.astype(object)


# --------------------------------------------------------------------------- vouchers


def _vouchers(
    rng: np.random.Generator, services: pd.DataFrame, inst: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Innovation vouchers of local SMEs, the services they paid part of, and the redemptions.

    A firm holding a voucher in a year pays up to VOUCHER_COVER_RATIO of most services with it
    until the quota is used up; each such service is one redemption by the holding unit, which
    receives VOUCHER_SUBSIDY_RATE of the redeemed amount as post-subsidy.
    """
    year = services["start_time"].dt.year.to_numpy()
    eligible = (
        (services["client_kind"].to_numpy() == "本地中小企业") & services["client_is_sme"].to_numpy()
        & (services["user_type"].to_numpy() == "外部用户") & (services["service_amount_cny"].to_numpy() > 0)
    )
    firms = (
        services.loc[eligible, ["applicant_unit", "client_region_code"]].assign(year=year[eligible])
        .drop_duplicates(["applicant_unit", "year"]).sort_values(["year", "applicant_unit"]).reset_index(drop=True)
    )
    firms = firms[rng.random(len(firms)) < 0.65].reset_index(drop=True)
    firms["quota_cny"] = np.array(VOUCHER_QUOTAS_CNY, dtype=float)[rng.integers(len(VOUCHER_QUOTAS_CNY), size=len(firms))]

    # Services paid partly by voucher, capped by the quota in order of service time.
    svc = services.loc[eligible, ["id", "applicant_unit", "start_time", "end_time", "service_amount_cny", "instrument_id"]]
    svc = svc.assign(year=year[eligible]).merge(firms, on=["applicant_unit", "year"], how="inner")
    svc = svc[rng.random(len(svc)) < 0.75].sort_values(["applicant_unit", "year", "start_time"], kind="stable")
    wanted = np.round(svc["service_amount_cny"].to_numpy() * VOUCHER_COVER_RATIO, 2)
    used_before = svc.assign(w=wanted).groupby(["applicant_unit", "year"])["w"].cumsum().to_numpy() - wanted
    paid = np.round(np.clip(svc["quota_cny"].to_numpy() - used_before, 0, wanted), 2)
    svc = svc.assign(paid=paid)[paid > 0]

    # Vouchers: one per firm and year with use, plus a few issued and never used.
    unused = _unused_vouchers(rng, services, firms)
    vouchers = pd.concat([firms, unused], ignore_index=True).sort_values(["year", "applicant_unit"], kind="stable")
    vouchers = vouchers.reset_index(drop=True)
    vouchers["id"] = np.arange(1, len(vouchers) + 1)
    vouchers["code"] = [f"ALS-CXQ-{y}-{k:05d}" for k, y in enumerate(vouchers["year"], start=1)]
    first_use = svc.groupby(["applicant_unit", "year"])["start_time"].min()
    issue_offset = rng.integers(0, 60, size=len(vouchers))
    issued = []
    for firm, y, off in zip(vouchers["applicant_unit"], vouchers["year"], issue_offset):
        day = date(int(y), 1, 2) + timedelta(days=int(off))
        used = first_use.get((firm, y))
        issued.append(min(day, used.date()) if used is not None else day)
    vouchers["issued_date"] = issued
    vouchers = vouchers.rename(columns={"applicant_unit": "firm_name", "client_region_code": "firm_region_code"})
    vouchers["is_sme"] = True

    voucher_id = vouchers.set_index(["firm_name", "year"])["id"]
    redemptions = pd.DataFrame({
        "id": np.arange(1, len(svc) + 1),
        "voucher_id": voucher_id.loc[list(zip(svc["applicant_unit"], svc["year"]))].to_numpy(),
        "service_record_id": svc["id"].to_numpy(),
        "unit_id": inst["unit_id"].to_numpy()[svc["instrument_id"].to_numpy() - 1],
        "amount_cny": svc["paid"].to_numpy(),
        "redeemed_date": [
            (e + timedelta(days=int(d))).date()
            for e, d in zip(svc["end_time"], rng.integers(5, 46, size=len(svc)))
        ],
        "subsidy_cny": np.round(svc["paid"].to_numpy() * VOUCHER_SUBSIDY_RATE, 2),
    })
    services = services.copy()
    services.loc[services["id"].isin(svc["id"]), "voucher_amount_cny"] = (
        services.loc[services["id"].isin(svc["id"]), "id"].map(svc.set_index("id")["paid"]).to_numpy()
    )
    return services, vouchers, redemptions


def _unused_vouchers(rng: np.random.Generator, services: pd.DataFrame, firms: pd.DataFrame) -> pd.DataFrame:
    """Vouchers issued to local SMEs that used no service that year (about one in ten firms)."""
    sme = services.loc[
        (services["client_kind"] == "本地中小企业") & services["client_is_sme"], ["applicant_unit", "client_region_code"]
    ].drop_duplicates("applicant_unit").sort_values("applicant_unit")
    rows = []
    for y in USAGE_YEARS:
        holding = set(firms.loc[firms["year"] == y, "applicant_unit"])
        idle = sme[~sme["applicant_unit"].isin(holding)]
        pick = idle[rng.random(len(idle)) < 0.1]
        rows.append(pick.assign(year=y))
    out = pd.concat(rows, ignore_index=True)
    out["quota_cny"] = np.array(VOUCHER_QUOTAS_CNY, dtype=float)[rng.integers(len(VOUCHER_QUOTAS_CNY), size=len(out))]
    return out


# --------------------------------------------------------------------------- submissions


def _submissions(rng: np.random.Generator, utraits: pd.DataFrame, it: pd.DataFrame) -> pd.DataFrame:
    """One monthly usage submission per unit and month from the unit's first instrument on.

    Due on the 10th of the following month; on time, late, or missing (never-reporting units,
    and late ones not yet in by the demo's reference date).
    """
    grid = _month_grid()
    first = it.groupby("unit_row")["first_month"].min()
    unit_rows = first.index.to_numpy()
    counts = MONTHS - first.to_numpy()
    u = np.repeat(unit_rows, counts)
    m = np.concatenate([np.arange(f, MONTHS) for f in first.to_numpy()]) if len(first) else np.array([], dtype=int)
    years, months = grid["year"].to_numpy()[m], grid["month"].to_numpy()[m]
    due_year = np.where(months == 12, years + 1, years)
    due_month = np.where(months == 12, 1, months + 1)
    due = pd.to_datetime(pd.DataFrame({"year": due_year, "month": due_month, "day": 10}))

    behaviour = utraits["reporting"].to_numpy()[u]
    n = len(u)
    late_p = np.where(behaviour == "late", 0.6, 0.05)
    is_late = rng.random(n) < late_p
    # Late: days after the due date (habitual latecomers by up to two months); on time: the 1st–10th.
    late_days = np.where(behaviour == "late", rng.integers(3, 61, size=n), rng.integers(1, 21, size=n))
    delay_days = np.where(is_late, late_days, -rng.integers(0, 10, size=n))
    office_minutes = rng.integers(9 * 60, 18 * 60, size=n)
    local = due.to_numpy() + delay_days.astype("timedelta64[D]") + office_minutes.astype("timedelta64[m]")
    utc = pd.to_datetime(local - np.timedelta64(int(LOCAL_UTC_OFFSET.total_seconds()), "s")).tz_localize("UTC")
    missing = (behaviour == "never") | (local >= np.datetime64(REFERENCE_DATE))
    submitted = pd.Series(utc).where(~missing)
    return pd.DataFrame({
        "id": np.arange(1, n + 1),
        "unit_id": utraits["id"].to_numpy()[u],
        "kind": "usage",
        "year": years,
        "month": months,
        "due_date": [d.date() for d in due],
        "submitted_at": submitted,
    })


# --------------------------------------------------------------------------- purchase requests


def _purchase_requests(
    rng: np.random.Generator, vocab: Vocabulary, units: pd.DataFrame, utraits: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Purchase requests from the vocabulary (once per league replica) and their decisions."""
    req = vocab.requests
    tpl = vocab.templates.set_index("key")
    unit_of = utraits.set_index(["base_key", "replica"])
    rows, decisions = [], []
    for replica in sorted(utraits["replica"].unique()):
        for r in req.itertuples():
            unit = unit_of.loc[(r.applicant, replica)]
            submitted = REFERENCE_DATE - timedelta(days=int(r.days_ago) + int(rng.integers(0, 5)))
            request_id = len(rows) + 1
            rows.append({
                "id": request_id,
                "request_no": f"ALS-CG-{submitted.year}-{request_id:04d}",
                "applicant_unit_id": int(unit["id"]),
                "instrument_name": r.instrument_name,
                "class_code": tpl.loc[r.template, "class_code"],
                "model": r.model,
                "manufacturer": r.manufacturer,
                "key_specs": r.key_specs,
                "quoted_price": float(r.quoted_price),
                "quotes": r.quotes,
                "funding": r.funding,
                "justification": r.justification,
                "expected_annual_hours": float(r.expected_annual_hours),
                "region_code": unit["region_code"],
                "submitted_date": submitted,
                "status": r.status,
            })
            if r.status == "decided":
                decisions.extend(_decisions(rng, vocab, r, request_id, submitted, len(decisions)))
    decisions = pd.DataFrame(decisions, columns=table_columns("review_decisions"))
    decisions["supersedes_id"] = decisions["supersedes_id"].astype("Int64")
    return pd.DataFrame(rows), decisions


def _decisions(rng: np.random.Generator, vocab: Vocabulary, r, request_id: int, submitted: date, n_before: int) -> list[dict]:
    """The decision on a decided request; a superseded earlier decision where the vocabulary has one."""
    out = []
    day = submitted + timedelta(days=int(rng.integers(15, 40)))
    if r.superseded_verdict:
        reasons = vocab.texts["review.superseded_reasons"]
        out.append(_decision(n_before + 1, request_id, r.superseded_verdict, reasons, "", r.reviewers, day, None))
        day = day + timedelta(days=int(rng.integers(15, 30)))
    supersedes = out[-1]["id"] if out else None
    out.append(_decision(n_before + len(out) + 1, request_id, r.verdict, r.reasons, r.conditions, r.reviewers, day, supersedes))
    return out


def _decision(
    id_: int, request_id: int, verdict: str, reasons: str, conditions: str, reviewers: str, day: date,
    supersedes: int | None,
) -> dict:
    created = datetime(day.year, day.month, day.day, 10, 0) - LOCAL_UTC_OFFSET
    return {
        "id": id_, "request_id": request_id, "verdict": verdict, "reasons": reasons,
        "conditions": conditions, "reviewers": reviewers, "decided_date": day,
        "supersedes_id": supersedes, "created_at": created.replace(tzinfo=timezone.utc),
    }


# --------------------------------------------------------------------------- command line


def run_demo(engine, args, t) -> int:
    """`python -m dashboard demo [--seed N] [--scale league|province] [--instruments N] [--replace]`."""
    from models.services.demo import StoreNotEmpty, load_demo  # the CLI needs the store; the generator does not

    seed = DEFAULT_SEED if args.seed is None else args.seed
    if args.instruments is not None and args.instruments < 1:
        print(t("demo.cli.bad_instruments", n=args.instruments), file=sys.stderr)
        return 2
    try:
        counts = load_demo(
            engine, seed=seed, scale=args.scale, instruments=args.instruments, replace=args.replace, actor="cli"
        )
    except StoreNotEmpty as exc:
        print(t("demo.cli.store_not_empty", units=exc.unit_count), file=sys.stderr)
        return 2
    print(t("demo.cli.loaded", seed=seed, scale=t(f"demo.scale.{args.scale}")))
    for name in FRAME_TABLES:
        print(t("demo.cli.count_line", label=t(f"demo.count.{name}"), n=counts[name]))
    return 0
