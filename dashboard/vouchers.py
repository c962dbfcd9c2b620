"""Innovation-voucher (创新券) simulation on the service records of one year (issue 5, item 3).

A policy is described by `VoucherParams`; `simulate(services, params, year)` replays the year's
service records as if that policy had been in force and returns a `VoucherOutcome`. Pure
pandas/numpy: no Streamlit, no store access (the page passes `models.queries.services(year)`).
No display text either: the outcome carries ids and keys (cap types, exclusion reasons, region
keys of the reference values) that the page translates.

Rules, in this order, for every service record whose start_time falls in `year`:

1. Eligibility. A record is eligible when its client_kind is one of `eligible_client_kinds`, its
   user_type is 外部用户 (when `only_external_users`), its client_region_code is one of
   `client_region_codes` (when that tuple is not empty), it names a firm (applicant_unit not
   blank; the firm is applicant_unit with surrounding spaces removed) and its fee
   (service_amount_cny) is above 0. An excluded record is counted once, under the first rule it
   fails, in the order of EXCLUSION_REASONS.
2. Order. Eligible records are served first come, first served by start_time (the recorded start
   of the service stands in for the moment of the voucher application); records starting at the
   same moment are served in ascending record id (the order they entered the store). The same
   order spends each firm's annual cap and the pool.
3. Request of one service = voucher_ratio × fee, then the per-application cap:
   per_service = min(voucher_ratio × fee, per_application_cap_cny).
4. Demand uplift u (an ASSUMPTION, default 0): eligible firms are assumed to buy (1 + u) times the
   services they bought, of the same kinds, sizes and dates. Each record then stands for (1 + u)
   services: its request is (1 + u) × per_service. The per-application cap applies to each single
   service (step 3, before the multiplication); the annual cap and the pool apply to the total.
   Services of firms that bought nothing in the year are not invented: the uplift only scales
   recorded demand. services_covered stays a count of records; services_covered_est =
   services_covered × (1 + u) is the number of services it stands for.
5. Per-firm annual cap: voucher = min(request, per_firm_annual_cap_cny − vouchers the firm was
   already paid this year).
6. Pool: voucher = min(that, pool_cny − vouchers already paid from the pool). When the pool is
   empty the record is refused; the pool "runs out" in the month (of start_time) of the record
   that brings the remaining pool to exactly 0.
7. Holder: the voucher is redeemed by the unit holding the instrument (unit_id); the holder
   receives holder_redemption_share × voucher as fiscal post-subsidy.

A cap or pool that is None does not limit. Money is worked in whole cents (fen): the fee is
rounded to the cent, and each product (ratio × fee, (1 + u) × request, share × voucher) is rounded
to the cent, halves up, per record; totals are sums of those cents, so they add up exactly.

A limit "binds" on a record when it lowers that record's voucher (counted per limit in
`VoucherOutcome.binding`; a record can be lowered by several); a record is "refused" by a limit
when that limit lowers its voucher to 0 (`VoucherOutcome.refused`).

`demand_cny` is what the vouchers would cost with the same caps and no pool limit: the pool that
would pay every eligible request. Since the pool is spent in one order,
spend = min(pool, demand) exactly.

Reference values from other regions (policy_facts.md, "Innovation vouchers (创新券) and
post-subsidy") are in REFERENCE_VALUES, one row per (region, parameter), for display next to the
controls (`references_for(field)`); the source of each default is in DEFAULT_SOURCES.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from dashboard.national import CLIENT_KINDS

EXTERNAL_USER = "外部用户"
LOCAL_SME = "本地中小企业"
BASIS_KIND = "voucher_revenue"  # the reward basis kind this module feeds (dashboard.incentives)

# Limits in the order they are applied (keys of VoucherOutcome.binding / .refused).
LIMIT_APPLICATION = "per_application"
LIMIT_FIRM = "per_firm_annual"
LIMIT_POOL = "pool"
LIMITS = (LIMIT_APPLICATION, LIMIT_FIRM, LIMIT_POOL)

# Why a record of the year gets no voucher, in the order the rules are checked.
EXCLUSION_REASONS = ("client_kind", "internal_user", "client_region", "no_firm", "no_fee")

MONTHS = tuple(range(1, 13))
REQUIRED_COLUMNS = ("id", "start_time", "applicant_unit", "service_amount_cny", "client_kind", "user_type", "unit_id")

POLICY_SOURCE = "policy_facts.md: Innovation vouchers (创新券) and post-subsidy"
INFERENCE_SOURCE = "[I] local assumption (policy_facts.md: provider post-subsidy options)"


# --------------------------------------------------------------------------- parameters


class VoucherParamsError(ValueError):
    """An invalid voucher parameter. `field` names it, `reason` is a key for the page's catalogue."""

    def __init__(self, field_name: str, reason: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.reason = reason  # out_of_range / not_a_number / unknown_client_kind / unknown_field / not_a_bool / not_text


@dataclass(frozen=True)
class VoucherParams:
    """A voucher policy. Every value is editable; sources of the defaults in DEFAULT_SOURCES."""

    voucher_ratio: float = 0.5  # share of the fee a voucher pays, 0 < r ≤ 1
    per_application_cap_cny: float | None = 20_000  # per service record; None = no cap
    per_firm_annual_cap_cny: float | None = 100_000  # per firm and year; None = no cap
    eligible_client_kinds: tuple[str, ...] = (LOCAL_SME,)
    only_external_users: bool = True
    client_region_codes: tuple[str, ...] = ()  # empty = any region
    pool_cny: float | None = 1_000_000  # the year's voucher budget; None = unlimited
    holder_redemption_share: float = 0.2  # post-subsidy to the holder, share of voucher revenue
    demand_uplift: float = 0.0  # ASSUMPTION: extra services of eligible firms, share of baseline

    def __post_init__(self) -> None:
        _number(self, "voucher_ratio", low=0.0, high=1.0, low_open=True)
        _number(self, "per_application_cap_cny", low=0.0, low_open=True, optional=True)
        _number(self, "per_firm_annual_cap_cny", low=0.0, low_open=True, optional=True)
        _number(self, "pool_cny", low=0.0, low_open=True, optional=True)
        _number(self, "holder_redemption_share", low=0.0, high=1.0)
        _number(self, "demand_uplift", low=0.0)
        if not isinstance(self.only_external_users, (bool, np.bool_)):
            raise VoucherParamsError("only_external_users", "not_a_bool", "must be true or false")
        object.__setattr__(self, "only_external_users", bool(self.only_external_users))
        kinds = _texts(self, "eligible_client_kinds")
        unknown = [k for k in kinds if k not in CLIENT_KINDS]
        if unknown:
            raise VoucherParamsError("eligible_client_kinds", "unknown_client_kind", f"unknown client kinds {unknown}")
        object.__setattr__(self, "eligible_client_kinds", kinds)
        object.__setattr__(self, "client_region_codes", _texts(self, "client_region_codes"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "VoucherParams":
        """Inverse of to_dict. Missing keys take the defaults; unknown keys are an error."""
        if not isinstance(data, dict):
            raise VoucherParamsError("voucher_params", "not_a_mapping", "must be a mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise VoucherParamsError(unknown[0], "unknown_field", f"unknown voucher parameters {unknown}")
        return cls(**data)


def _number(p: VoucherParams, name: str, *, low: float, high: float | None = None,
            low_open: bool = False, optional: bool = False) -> None:
    value = getattr(p, name)
    if value is None and optional:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise VoucherParamsError(name, "not_a_number", f"must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise VoucherParamsError(name, "not_a_number", f"must be a finite number, got {value!r}")
    if value < low or (low_open and value == low) or (high is not None and value > high):
        bound = f"{'>' if low_open else '≥'} {low:g}" + (f" and ≤ {high:g}" if high is not None else "")
        raise VoucherParamsError(name, "out_of_range", f"must be {bound}, got {value:g}")
    object.__setattr__(p, name, value)


def _texts(p: VoucherParams, name: str) -> tuple[str, ...]:
    value = getattr(p, name)
    if isinstance(value, str) or not isinstance(value, (tuple, list, set, frozenset)):
        raise VoucherParamsError(name, "not_text", "must be a list of texts")
    if not all(isinstance(v, str) for v in value):
        raise VoucherParamsError(name, "not_text", "must be a list of texts")
    out = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))  # order kept, repeats dropped
    return tuple(sorted(out)) if isinstance(value, (set, frozenset)) else out


DEFAULTS = VoucherParams()


# --------------------------------------------------------------------------- reference values


@dataclass(frozen=True)
class ReferenceValue:
    """One figure from another region's voucher rules, for display next to the control `param`.

    `region` is a key (catalogue vouchers.ref.region.<region>), `value` the figure in the unit of
    the parameter (share 0–1 or CNY), `value_high` the upper end of a range, `qualifier` a key
    (vouchers.ref.qualifier.<qualifier>) saying what the figure applies to, `inferred` marks a
    local assumption [I] rather than a published rule."""

    region: str
    param: str
    value: float | None
    qualifier: str = ""
    value_high: float | None = None
    source: str = POLICY_SOURCE
    inferred: bool = False


REFERENCE_VALUES: tuple[ReferenceValue, ...] = (
    ReferenceValue("shandong", "voucher_ratio", 0.60, "less_developed_cities"),
    ReferenceValue("shandong", "voucher_ratio", 0.40, "other_cities"),
    ReferenceValue("shandong", "per_firm_annual_cap_cny", 500_000, "paid_monthly"),
    ReferenceValue("liaocheng", "voucher_ratio", 0.30, "extra_for_local_suppliers"),
    ReferenceValue("liaocheng", "per_firm_annual_cap_cny", 650_000, "per_year"),
    ReferenceValue("yuhuan", "voucher_ratio", 1.00, "services_under_10k_fully_covered"),
    ReferenceValue("yuhuan", "per_application_cap_cny", 20_000),
    ReferenceValue("yuhuan", "per_firm_annual_cap_cny", 100_000),
    ReferenceValue("guangzhou", "voucher_ratio", 0.70, "up_to"),
    ReferenceValue("guangzhou", "per_firm_annual_cap_cny", 3_000_000),
    ReferenceValue("karamay", "voucher_ratio", 0.30, "up_to_paid_afterwards"),
    ReferenceValue("karamay", "per_firm_annual_cap_cny", None, "no_cap_stated"),
    ReferenceValue("inner_mongolia", "voucher_ratio", None, "no_rule_found"),
    ReferenceValue("provider_post_subsidy", "holder_redemption_share", 0.10, "range", value_high=0.30,
                   source=INFERENCE_SOURCE, inferred=True),
)

# Where each default of VoucherParams comes from: (reference region key or "inference", inferred?).
DEFAULT_SOURCES: dict[str, tuple[str, bool]] = {
    "voucher_ratio": ("inference", True),  # between Shandong's 40 % and 60 %; the demo's cover ratio
    "per_application_cap_cny": ("yuhuan", False),
    "per_firm_annual_cap_cny": ("yuhuan", False),
    "eligible_client_kinds": ("inference", True),  # local SMEs, the usual voucher target
    "only_external_users": ("inference", True),  # a firm's use of its own instruments is not a purchase
    "client_region_codes": ("inference", True),
    "pool_cny": ("inference", True),
    "holder_redemption_share": ("inference", True),  # midpoint of the 10–30 % range
    "demand_uplift": ("inference", True),  # no uplift unless the user assumes one
}


def references_for(param: str) -> list[ReferenceValue]:
    """Reference values to show next to the control of `param` (possibly none)."""
    if param not in {f.name for f in fields(VoucherParams)}:
        raise KeyError(param)
    return [r for r in REFERENCE_VALUES if r.param == param]


# --------------------------------------------------------------------------- outcome


RECORD_COLUMNS = (
    "id", "month", "start_time", "unit_id", "applicant_unit", "client_kind", "fee_cny", "requested_cny",
    "demand_cny", "voucher_cny", "post_subsidy_cny", "capped_per_application", "capped_per_firm_annual", "capped_pool",
)
HOLDER_COLUMNS = ("unit_id", "services", "services_covered", "voucher_revenue_cny", "post_subsidy_cny")
FIRM_COLUMNS = ("applicant_unit", "client_kind", "services", "services_covered", "fee_cny", "voucher_cny", "reached_annual_cap")
MONTHLY_COLUMNS = ("month", "demand_cny", "spend_cny", "cumulative_cny", "remaining_cny", "services_covered", "refused_pool")


@dataclass(frozen=True)
class VoucherOutcome:
    """What a voucher policy would have cost and whom it would have served in `year` (CNY)."""

    year: int
    params: VoucherParams
    spend_cny: float  # vouchers paid
    demand_cny: float  # vouchers under the caps with no pool limit (the pool that pays everyone)
    requested_cny: float  # voucher_ratio × fee × (1 + uplift), before any cap
    eligible_fee_cny: float  # fees of eligible records × (1 + uplift)
    post_subsidy_cny: float  # paid to holders: Σ holder_redemption_share × voucher (per record)
    eligible_services: int  # eligible records
    services_covered: int  # eligible records with a voucher above 0
    services_covered_est: float  # services_covered × (1 + uplift)
    firms_eligible: int  # distinct firms among eligible records
    firms_served: int  # distinct firms with a voucher above 0
    pool_remaining_cny: float | None  # None: unlimited pool
    pool_exhausted_month: int | None  # month the remaining pool reached 0; None: never
    binding: dict[str, int]  # records whose voucher a limit lowered, per limit (LIMITS)
    refused: dict[str, int]  # records a limit lowered to 0, per limit (per_firm_annual, pool)
    excluded: dict[str, int]  # the year's records without a voucher right, per EXCLUSION_REASONS
    records: pd.DataFrame  # one row per eligible record, RECORD_COLUMNS, in serving order
    by_holder: pd.DataFrame  # one row per holding unit with an eligible record, HOLDER_COLUMNS
    by_firm: pd.DataFrame  # one row per eligible firm, FIRM_COLUMNS
    monthly: pd.DataFrame  # twelve rows, MONTHLY_COLUMNS (remaining_cny NaN for an unlimited pool)

    @property
    def refused_for_pool(self) -> int:
        """Eligible records refused because the pool was empty."""
        return self.refused[LIMIT_POOL]

    def voucher_revenue(self) -> pd.Series:
        """The reward basis "voucher_revenue": voucher revenue per holding unit (index unit_id, CNY).

        Units without eligible records are absent (their basis is 0)."""
        s = self.by_holder.set_index("unit_id")["voucher_revenue_cny"].astype(float)
        s.name = BASIS_KIND
        return s

    def summary(self) -> dict[str, Any]:
        """The headline figures as a flat dict (for scenario comparison and the meeting brief)."""
        return {
            "spend_cny": self.spend_cny, "demand_cny": self.demand_cny, "pool_cny": self.params.pool_cny,
            "pool_remaining_cny": self.pool_remaining_cny, "pool_exhausted_month": self.pool_exhausted_month,
            "post_subsidy_cny": self.post_subsidy_cny, "firms_served": self.firms_served,
            "firms_eligible": self.firms_eligible, "services_covered": self.services_covered,
            "services_covered_est": self.services_covered_est, "eligible_services": self.eligible_services,
            "refused_pool": self.refused[LIMIT_POOL], "refused_per_firm_annual": self.refused[LIMIT_FIRM],
        }


# --------------------------------------------------------------------------- simulation


def _cents(x: float) -> int:
    """CNY (or a product in cents) → whole cents, halves up; float noise below 1e-6 is dropped."""
    return int(math.floor(round(float(x), 6) + 0.5))


_TIE_MARGIN = 1e-3  # x·10⁶ this close to a half (plus its rounding error): rounded by `_cents` itself


def _cents_array(x: np.ndarray) -> np.ndarray:
    """`_cents` of every element (int64), vectorised.

    Python's round(x, 6) is the double nearest to N/10⁶, N = x·10⁶ (exact) rounded to a whole
    number. y = x·10⁶ in floating point is within |y|·2⁻⁵³ of the exact product, so when y is
    farther than that from a half, rint(y) is that same N; and with |y| < 2⁵⁰, N and 10⁶ are exact
    doubles and N/10⁶ is correctly rounded: the same double. Elements nearer a half than
    _TIE_MARGIN + |y|·2⁻⁵¹ (twice the error bound, and more), or beyond 2⁵⁰, or not finite, go
    through `_cents` one by one (none do for whole-cent fees and ratios of a few decimals), so the
    result is `_cents`'s, element for element."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    with np.errstate(invalid="ignore", over="ignore"):
        y = x * 1e6
        near = np.rint(y)
        margin = _TIE_MARGIN + np.abs(y) * 2.0 ** -51
        safe = np.isfinite(y) & (np.abs(y) < 2.0 ** 50) & (np.abs(np.abs(y - near) - 0.5) > margin)
        out = np.floor(np.where(safe, near, 0.0) / 1e6 + 0.5)
    cents = out.astype(np.int64)
    for i in np.flatnonzero(~safe):
        cents[i] = _cents(x[i])
    return cents


def _cap_cents(cap: float | None) -> int | None:
    return None if cap is None else _cents(cap * 100)


def _text(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.na_value is not pd.NA:
        # the store's text columns (pandas "str"): the same values and dtype without the round
        # trip through Python objects
        return s.fillna("").str.strip()
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def _year_frame(services: pd.DataFrame, params: VoucherParams, year: int) -> pd.DataFrame:
    if services is None or len(services) == 0:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in REQUIRED_COLUMNS + ("client_region_code",)})
        return empty.assign(start_time=pd.Series(dtype="datetime64[ns]"))
    needed = REQUIRED_COLUMNS + (("client_region_code",) if params.client_region_codes else ())
    missing = [c for c in needed if c not in services.columns]
    if missing:
        raise ValueError(f"service records lack columns {missing}")
    # Only the columns the simulation reads (the store's records carry long texts besides).
    df = services[[c for c in (*REQUIRED_COLUMNS, "client_region_code") if c in services.columns]].copy()
    df["start_time"] = pd.to_datetime(df["start_time"])
    in_year = (df["start_time"].dt.year == int(year)).to_numpy()
    if not in_year.all():  # a read of the year's records (the page's) needs no filtering
        df = df[in_year]
    if "client_region_code" not in df.columns:
        df["client_region_code"] = ""
    return df.reset_index(drop=True)


def _exclusion(df: pd.DataFrame, params: VoucherParams) -> np.ndarray:
    """First failed eligibility rule per record: 0 when eligible, else 1 + its position in
    EXCLUSION_REASONS (int8; codes rather than texts, which cost a comparison of every record
    per reason)."""
    fee = pd.to_numeric(df["service_amount_cny"], errors="coerce")
    checks = {
        "client_kind": ~_text(df["client_kind"]).isin(params.eligible_client_kinds),
        "internal_user": (_text(df["user_type"]) != EXTERNAL_USER) if params.only_external_users else None,
        "client_region": (
            ~_text(df["client_region_code"]).isin(params.client_region_codes) if params.client_region_codes else None
        ),
        "no_firm": _text(df["applicant_unit"]) == "",
        "no_fee": ~(fee > 0),
    }
    reason = np.zeros(len(df), dtype=np.int8)
    for code, key in reversed(list(enumerate(EXCLUSION_REASONS, start=1))):  # the first failing rule wins
        fails = checks[key]
        if fails is not None:
            reason[fails.to_numpy(dtype=bool)] = code
    return reason


def _serve(want: np.ndarray, firm: np.ndarray, cap_firm: int | None, pool: int | None):
    """Serve the requests `want` (cents, serving order) of the firms `firm` (codes) under the
    per-firm annual cap and the pool: (after the firm cap, voucher, pool left, index of the record
    that emptied the pool or None). All int64 cents.

    Worked out without a loop over the records: until the pool is empty every record gets what
    the firm cap leaves it, and a firm's running total of that is min(cap, running total of its
    requests); the record that empties the pool gets what is left; after it, nothing is paid and
    every firm's total stays where it was, so the firm cap leaves each later record
    min(request, cap − that total). The same numbers as serving one record after the other."""
    n = want.size
    if cap_firm is None:
        after = want.copy()
    else:
        running = pd.Series(want).groupby(firm, sort=False).cumsum().to_numpy(np.int64)
        after = np.minimum(running, cap_firm) - np.minimum(running - want, cap_firm)
    if pool is None:
        return after, after.copy(), None, None
    paid = np.cumsum(after)
    emptied = int(np.searchsorted(paid, pool, side="left"))  # the first record with Σ paid ≥ pool
    if emptied >= n:
        return after, after.copy(), pool - (int(paid[-1]) if n else 0), None
    voucher = np.zeros(n, dtype=np.int64)
    voucher[:emptied] = after[:emptied]
    voucher[emptied] = pool - (int(paid[emptied - 1]) if emptied else 0)
    if cap_firm is not None and emptied + 1 < n:
        totals = np.zeros(int(firm.max()) + 1, dtype=np.int64)
        np.add.at(totals, firm[:emptied + 1], voucher[:emptied + 1])
        later = firm[emptied + 1:]
        after = after.copy()
        after[emptied + 1:] = np.minimum(want[emptied + 1:], np.maximum(cap_firm - totals[later], 0))
    return after, voucher, 0, emptied


def simulate(services: pd.DataFrame, params: VoucherParams, year: int) -> VoucherOutcome:
    """Replay `year`'s service records under `params` (rules in the module docstring).

    `services` needs the columns of `models.queries.services`: id, start_time, applicant_unit,
    service_amount_cny, client_kind, user_type, unit_id (and client_region_code when
    params.client_region_codes is set). Records of other years are ignored."""
    df = _year_frame(services, params, year)
    reason = _exclusion(df, params) if len(df) else np.zeros(0, dtype=np.int8)
    counts = np.bincount(reason, minlength=len(EXCLUSION_REASONS) + 1)
    excluded = {k: int(counts[code]) for code, k in enumerate(EXCLUSION_REASONS, start=1)}

    el = df[reason == 0] if len(df) else df
    el = el.assign(applicant_unit=_text(el["applicant_unit"]), client_kind=_text(el["client_kind"]),
                   id=pd.to_numeric(el["id"]))
    el = el.sort_values(["start_time", "id"], kind="stable").reset_index(drop=True)

    k = 1.0 + params.demand_uplift
    ratio = params.voucher_ratio
    cap_app = _cap_cents(params.per_application_cap_cny)
    cap_firm = _cap_cents(params.per_firm_annual_cap_cny)
    pool = _cap_cents(params.pool_cny)

    n = len(el)
    fee_c = _cents_array(el["service_amount_cny"].astype(float).to_numpy() * 100)
    fee_k = _cents_array(k * fee_c.astype(float))  # the fee the record stands for, with the uplift
    one = _cents_array(ratio * fee_c.astype(float))  # one service's request
    one_capped = one if cap_app is None else np.minimum(one, cap_app)
    requested = _cents_array(k * one.astype(float))
    want = _cents_array(k * one_capped.astype(float))
    firm_codes = pd.factorize(el["applicant_unit"].to_numpy(dtype=object))[0].astype(np.int64)

    after_firm, voucher, pool_left, exhausted_at = _serve(want, firm_codes, cap_firm, pool)
    demand = _serve(want, firm_codes, cap_firm, None)[1]
    subsidy = _cents_array(params.holder_redemption_share * voucher.astype(float))

    months = el["start_time"].dt.month.to_numpy() if n else np.array([], dtype=int)
    recs = pd.DataFrame({
        "id": el["id"].to_numpy(),
        "month": months.astype(int),
        "start_time": el["start_time"].to_numpy(),
        "unit_id": el["unit_id"].to_numpy(),
        "applicant_unit": el["applicant_unit"].to_numpy(dtype=object),
        "client_kind": el["client_kind"].to_numpy(dtype=object),
        "fee_cny": fee_k.astype(float) / 100,
        "requested_cny": requested.astype(float) / 100,
        "demand_cny": demand.astype(float) / 100,
        "voucher_cny": voucher.astype(float) / 100,
        "post_subsidy_cny": subsidy.astype(float) / 100,
        "capped_per_application": one_capped < one,
        "capped_per_firm_annual": after_firm < want,
        "capped_pool": voucher < after_firm,
    }, columns=list(RECORD_COLUMNS))
    covered = voucher > 0
    recs["covered"] = covered

    binding = {
        LIMIT_APPLICATION: int(recs["capped_per_application"].sum()),
        LIMIT_FIRM: int(recs["capped_per_firm_annual"].sum()),
        LIMIT_POOL: int(recs["capped_pool"].sum()),
    }
    refused_pool = (after_firm > 0) & (voucher == 0)
    refused = {
        LIMIT_FIRM: int(((want > 0) & (after_firm == 0)).sum()),
        LIMIT_POOL: int(refused_pool.sum()),
    }

    spend_c = int(voucher.sum())
    by_holder = _by_holder(recs, voucher, subsidy)
    by_firm = _by_firm(recs, voucher, cap_firm)
    monthly = _monthly(recs, voucher, demand, refused_pool, pool)
    outcome = VoucherOutcome(
        year=int(year), params=params,
        spend_cny=spend_c / 100, demand_cny=int(demand.sum()) / 100, requested_cny=int(requested.sum()) / 100,
        eligible_fee_cny=int(fee_k.sum()) / 100,
        post_subsidy_cny=int(subsidy.sum()) / 100,
        eligible_services=n, services_covered=int(covered.sum()),
        services_covered_est=round(float(covered.sum()) * k, 6),
        firms_eligible=int(recs["applicant_unit"].nunique()),
        firms_served=int(recs.loc[covered, "applicant_unit"].nunique()),
        pool_remaining_cny=None if pool is None else pool_left / 100,
        pool_exhausted_month=None if exhausted_at is None else int(months[exhausted_at]),
        binding=binding, refused=refused, excluded=excluded,
        records=recs.drop(columns="covered"), by_holder=by_holder, by_firm=by_firm, monthly=monthly,
    )
    return outcome


def _by_holder(recs: pd.DataFrame, voucher: list[int], subsidy: list[int]) -> pd.DataFrame:
    if recs.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c.endswith("_cny") else "int64") for c in HOLDER_COLUMNS})
    g = recs.assign(v=np.array(voucher, dtype=np.int64), s=np.array(subsidy, dtype=np.int64))
    g = g.groupby("unit_id", sort=True)
    out = pd.DataFrame({
        "services": g.size(),
        "services_covered": g["covered"].sum().astype("int64"),
        "voucher_revenue_cny": g["v"].sum() / 100,
        "post_subsidy_cny": g["s"].sum() / 100,
    }).reset_index()
    out = out.sort_values(["voucher_revenue_cny", "unit_id"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)[list(HOLDER_COLUMNS)]


def _by_firm(recs: pd.DataFrame, voucher: list[int], cap_firm: int | None) -> pd.DataFrame:
    if recs.empty:
        return pd.DataFrame({
            "applicant_unit": pd.Series(dtype=object), "client_kind": pd.Series(dtype=object),
            "services": pd.Series(dtype="int64"), "services_covered": pd.Series(dtype="int64"),
            "fee_cny": pd.Series(dtype=float), "voucher_cny": pd.Series(dtype=float),
            "reached_annual_cap": pd.Series(dtype=bool),
        })
    g = recs.assign(v=np.array(voucher, dtype=np.int64)).groupby("applicant_unit", sort=True)
    out = pd.DataFrame({
        "client_kind": g["client_kind"].first(),  # the kind on the firm's first record served
        "services": g.size(),
        "services_covered": g["covered"].sum().astype("int64"),
        "fee_cny": g["fee_cny"].sum().round(2),
        "v": g["v"].sum(),
    }).reset_index()
    out["voucher_cny"] = out["v"] / 100
    out["reached_annual_cap"] = (out["v"] >= cap_firm) if cap_firm is not None else False
    out = out.drop(columns="v")
    out = out.sort_values(["voucher_cny", "applicant_unit"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)[list(FIRM_COLUMNS)]


def _monthly(
    recs: pd.DataFrame, voucher: list[int], demand: list[int], refused_pool: np.ndarray, pool: int | None
) -> pd.DataFrame:
    m = recs["month"].to_numpy(dtype=int) if len(recs) else np.zeros(0, dtype=int)
    v = np.array(voucher, dtype=np.int64)
    d = np.array(demand, dtype=np.int64)
    spend = np.array([int(v[m == month].sum()) for month in MONTHS], dtype=np.int64)
    cum = np.cumsum(spend)
    out = pd.DataFrame({
        "month": np.array(MONTHS, dtype="int64"),
        "demand_cny": np.array([int(d[m == month].sum()) for month in MONTHS], dtype=float) / 100,
        "spend_cny": spend / 100,
        "cumulative_cny": cum / 100,
        "remaining_cny": (pool - cum) / 100 if pool is not None else np.full(12, np.nan),
        "services_covered": np.array([int(((m == month) & (v > 0)).sum()) for month in MONTHS], dtype="int64"),
        "refused_pool": np.array([int(((m == month) & refused_pool).sum()) for month in MONTHS], dtype="int64"),
    })
    return out[list(MONTHLY_COLUMNS)]


# --------------------------------------------------------------------------- recorded use


@dataclass(frozen=True)
class RecordedUse:
    """Vouchers actually recorded on the year's service records (voucher_amount_cny > 0)."""

    spend_cny: float
    services: int
    firms: int
    by_unit: pd.Series  # voucher revenue per holding unit (index unit_id, CNY)


def recorded_use(services: pd.DataFrame, year: int) -> RecordedUse:
    """The recorded baseline to set a simulation against: Σ voucher_amount_cny of `year`'s records,
    the records with a voucher, distinct applicant units among them, and revenue per holder."""
    if services is None or len(services) == 0 or "voucher_amount_cny" not in services.columns:
        return RecordedUse(0.0, 0, 0, pd.Series(dtype=float, name=BASIS_KIND).rename_axis("unit_id"))
    df = services[pd.to_datetime(services["start_time"]).dt.year == int(year)]
    amount = pd.to_numeric(df["voucher_amount_cny"], errors="coerce").fillna(0.0)
    used = df[amount > 0].assign(v=amount[amount > 0])
    by_unit = used.groupby("unit_id")["v"].sum().round(2).astype(float).rename(BASIS_KIND)
    return RecordedUse(
        spend_cny=round(float(used["v"].sum()), 2), services=int(len(used)),
        firms=int(_text(used["applicant_unit"]).replace("", np.nan).dropna().nunique()), by_unit=by_unit,
    )
