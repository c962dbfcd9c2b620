"""Fee calculation (seed point 四): the cost-compensating, non-profit price of one machine hour,
and how an instrument's listed fee compares with it. Pure functions, no Streamlit.

Cost build-up (policy_facts.md, "Fees": 运行成本 = 消耗 + 服务 + 折旧 + 其它), per hour of use:

    depreciation = original value × (1 − residual share) ÷ depreciation years × share of the year
                   still in the depreciation period ÷ divisor hours
    maintenance  = original value × maintenance share per year ÷ divisor hours
    staff        = annual staff cost (CNY/yr) ÷ divisor hours
    consumables  = consumables per hour (CNY/h, charged per running hour)
    energy       = power (kW) × electricity price (CNY/kWh)
    total        = sum of the five

The divisor hours are the rated annual hours (1400 通用 / 800 专用, the national rule
"折旧 per hour = annual depreciation / rated annual hours") or, as an option, the hours the
instrument actually ran in the year: low use spreads the same yearly fixed costs over fewer
hours, so the cost price rises. With no divisor hours the yearly costs cannot be spread and the
cost price is undefined (NoHoursError; NaN in the class frame).

Depreciation ends with the service life (straight line, whole years). The reference year is the
year the cost price is worked out for (the sidebar year; FeeInputs.reference_year):

    years in service      = reference year − year of start_date   (0 when the start is later)
    share of the year     = min(1, max(0, depreciation years − years in service))
    fully depreciated     ⇔ years in service ≥ depreciation years   (share 0: 0 CNY/h)

The year of commissioning counts as the first full year of depreciation, so with a 10-year life an
instrument started in 2015 is depreciated 2015–2024 and carries no depreciation from 2025 on (at 9
years it still carries the full yearly amount). A fractional life (10.5 years) charges half the
yearly amount in its last year (10 years in service). When the start date or the reference year is
unknown, the age cannot be told: depreciation is charged in full (the cost price is not
understated) and the breakdown says so.

Listed fees are read from the free text of the national field 参考收费标准 (fee_standard):
"参考收费300元/机时（不含耗材）", "内部核算 120 元/小时", "200–300元/h"; a text with no amount per
hour ("按自治区医疗服务价格项目规范执行", "500元/样") has no hourly fee.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard import policy as P

BASIS_RATED = "rated"
BASIS_EFFECTIVE = "effective"
BASES = (BASIS_RATED, BASIS_EFFECTIVE)

# Components of the cost price, in display order (catalogue fees.component.<id>).
COMPONENTS = ("depreciation", "maintenance", "staff", "consumables", "energy")

# [I] Local defaults where no official figure was found; every one is editable in the app.
DEFAULT_CONSUMABLES_PER_HOUR = 0.0  # listed fees usually exclude consumables (billed per sample)
DEFAULT_STAFF_COST_PER_YEAR = 60_000.0  # about half of one technician's yearly cost in Inner Mongolia
DEFAULT_POWER_KW = 2.0  # typical bench instrument with its peripherals while running
DEFAULT_ELECTRICITY_PRICE = 0.6  # CNY/kWh, Inner Mongolia industrial and commercial power
DEFAULT_AROUND_BAND = 0.20  # a listed fee within ±20 % of the cost price counts as "around cost"

# Verdicts of the comparison listed fee vs cost price (catalogue fees.verdict.<id>).
VERDICT_BELOW = "below"
VERDICT_AROUND = "around"
VERDICT_ABOVE = "above"
VERDICT_NO_FEE = "no_fee"  # the fee text states no amount per hour
VERDICT_NO_COST = "no_cost"  # no divisor hours: the cost price is undefined
VERDICTS = (VERDICT_BELOW, VERDICT_AROUND, VERDICT_ABOVE, VERDICT_NO_FEE, VERDICT_NO_COST)


class NoHoursError(ValueError):
    """The divisor hours are zero or missing: yearly costs cannot be spread over hours of use."""


@dataclass(frozen=True)
class FeeInputs:
    """The assumptions of the cost build-up, shared by every instrument they are applied to.

    Shares are fractions (0.06 = 6 %). `basis` chooses the divisor hours: the rated hours of the
    instrument (default) or its effective hours of the year. `reference_year` is the year whose
    cost price is worked out: it tells how long an instrument has been in service, and so whether
    it is fully depreciated (None: never, depreciation is charged in full)."""

    depreciation_years: float = P.DEFAULTS.depreciation_years
    residual_share: float = P.DEFAULTS.residual_share
    maintenance_share: float = P.DEFAULTS.maintenance_share_per_year
    consumables_per_hour: float = DEFAULT_CONSUMABLES_PER_HOUR
    staff_cost_per_year: float = DEFAULT_STAFF_COST_PER_YEAR
    power_kw: float = DEFAULT_POWER_KW
    electricity_price: float = DEFAULT_ELECTRICITY_PRICE
    basis: str = BASIS_RATED
    reference_year: int | None = None  # the year the cost is worked out for; None: age unknown

    def __post_init__(self):
        if not self.depreciation_years > 0:
            raise ValueError("depreciation_years must be positive")
        if not 0 <= self.residual_share < 1:
            raise ValueError("residual_share must lie in [0, 1)")
        if self.basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}")
        if self.reference_year is not None and not float(self.reference_year).is_integer():
            raise ValueError("reference_year must be a whole year or None")
        for name in ("maintenance_share", "consumables_per_hour", "staff_cost_per_year", "power_kw", "electricity_price"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")

    @classmethod
    def from_policy(cls, policy: P.PolicyDefaults = P.DEFAULTS, **overrides) -> "FeeInputs":
        """The inputs with the policy's depreciation and maintenance figures, plus `overrides`."""
        base = dict(depreciation_years=policy.depreciation_years, residual_share=policy.residual_share,
                    maintenance_share=policy.maintenance_share_per_year)
        return cls(**{**base, **overrides})


@dataclass(frozen=True)
class FeeBreakdown:
    """The cost price of one machine hour (CNY/h) by component, and the hours it is spread over.

    `years_in_service` is None when the age is unknown (no start date or no reference year);
    `depreciation_share` is the share of the yearly depreciation charged in the reference year
    (1 inside the service life, 0 once fully depreciated)."""

    depreciation: float
    maintenance: float
    staff: float
    consumables: float
    energy: float
    divisor_hours: float
    basis: str
    years_in_service: int | None = None
    depreciation_share: float = 1.0
    total: float = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "total", sum(self.components().values()))

    @property
    def fully_depreciated(self) -> bool:
        return self.depreciation_share <= 0

    def components(self) -> dict[str, float]:
        """Component id -> CNY/h, in COMPONENTS order."""
        return {name: getattr(self, name) for name in COMPONENTS}


def divisor_hours(inputs: FeeInputs, rated_hours: float, effective_hours: float | None = None) -> float:
    """The hours the yearly costs are spread over: rated hours, or effective hours on that basis.
    Raises NoHoursError when they are zero, negative or unknown."""
    hours = rated_hours if inputs.basis == BASIS_RATED else effective_hours
    if hours is None or not np.isfinite(hours) or hours <= 0:
        raise NoHoursError(f"no {inputs.basis} hours to spread the yearly costs over")
    return float(hours)


# ---- service life ----------------------------------------------------------------------------

def service_years(start_dates: pd.Series, reference_year: int | None) -> pd.Series:
    """Whole years in service at `reference_year`: reference year − year of the start date, 0 when
    the start is later; NaN when the start date or the reference year is unknown."""
    start = pd.to_datetime(pd.Series(start_dates), errors="coerce")
    if reference_year is None:
        return pd.Series(np.nan, index=start.index, dtype=float)
    return (int(reference_year) - start.dt.year.astype(float)).clip(lower=0)


def years_in_service(start_date, reference_year: int | None) -> int | None:
    """`service_years` of one start date (None when unknown)."""
    years = service_years(pd.Series([start_date], dtype=object), reference_year).iloc[0]
    return None if pd.isna(years) else int(years)


def depreciation_shares(years: pd.Series | np.ndarray, depreciation_years: float) -> np.ndarray:
    """Share of the yearly depreciation charged at each age: min(1, max(0, life − years in
    service)); 1 where the age is unknown (NaN)."""
    years = np.asarray(years, dtype=float)
    shares = np.clip(depreciation_years - years, 0.0, 1.0)
    return np.where(np.isnan(years), 1.0, shares)


def depreciation_share(years: int | None, depreciation_years: float) -> float:
    """`depreciation_shares` of one age (None = unknown -> 1)."""
    return float(depreciation_shares([np.nan if years is None else years], depreciation_years)[0])


def _per_hour(value_cny, hours, inputs: FeeInputs, share=1.0) -> dict:
    """Component costs per hour; works on scalars and on numpy arrays alike (hours > 0).
    `share` is the share of the yearly depreciation charged (see depreciation_shares)."""
    return {
        "depreciation": value_cny * (1 - inputs.residual_share) / inputs.depreciation_years * share / hours,
        "maintenance": value_cny * inputs.maintenance_share / hours,
        "staff": inputs.staff_cost_per_year / hours,
        "consumables": inputs.consumables_per_hour + 0 * hours,
        "energy": inputs.power_kw * inputs.electricity_price + 0 * hours,
    }


def hourly_cost(value_cny: float, inputs: FeeInputs, rated_hours: float, effective_hours: float | None = None,
                start_date=None) -> FeeBreakdown:
    """The cost price of one hour of an instrument worth `value_cny`, by component.

    The divisor is `rated_hours` (basis "rated") or `effective_hours` (basis "effective");
    NoHoursError when that divisor is zero or missing. Depreciation is 0 when the instrument,
    commissioned on `start_date`, is fully depreciated in `inputs.reference_year`; charged in full
    when either is unknown."""
    hours = divisor_hours(inputs, rated_hours, effective_hours)
    years = years_in_service(start_date, inputs.reference_year)
    share = depreciation_share(years, inputs.depreciation_years)
    parts = _per_hour(float(value_cny), hours, inputs, share)
    return FeeBreakdown(**{k: float(v) for k, v in parts.items()}, divisor_hours=hours, basis=inputs.basis,
                        years_in_service=years, depreciation_share=share)


# ---- listed fees -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ListedFee:
    """An hourly fee read from a fee text, CNY/h. A single amount has low == high; a range
    ("200–300元/机时") or several hourly amounts (internal / external) give low < high."""

    low: float
    high: float

    @property
    def mid(self) -> float:
        """The figure compared with the cost price: the middle of the range."""
        return (self.low + self.high) / 2


_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_RANGE = rf"(?P<low>{_NUM})(?:\s*(?:-|–|—|~|〜|至|到)\s*(?P<high>{_NUM}))?"
_CURRENCY = r"(?:元|块|yuan|cny|rmb)"
_HOUR = r"(?:机时|台时|个小时|小时|钟头|hours?|hrs?|h)(?![a-z])"
_PER = r"(?:/|每|per\s*)"
_PATTERNS = (
    # 300元/机时, 0.5万元/小时, 200-300 元每小时, 120 yuan per hour
    re.compile(rf"{_RANGE}\s*(?P<wan>万)?\s*{_CURRENCY}\s*{_PER}\s*(?:一\s*)?{_HOUR}", re.IGNORECASE),
    # 每机时300元, 每小时收费 200 元, /h: 150元
    re.compile(rf"(?:每|/)\s*(?:一\s*)?{_HOUR}\s*(?:收费|收取|费用|价格)?\s*(?:为)?\s*:?\s*{_RANGE}\s*(?P<wan>万)?\s*{_CURRENCY}",
               re.IGNORECASE),
    # CNY 200/h, ¥300/机时, RMB 150 per hour
    re.compile(rf"(?:cny|rmb|¥)\s*{_RANGE}\s*(?P<wan>万)?\s*{_PER}\s*{_HOUR}", re.IGNORECASE),
)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def parse_hourly_fee(text) -> ListedFee | None:
    """The hourly fee stated in a fee text (CNY/h), or None when it states no amount per hour.

    Full-width characters are folded first (３００元／机时, ２００．５元/小时). Amounts in 万元 are
    converted to CNY. A range gives its ends; several hourly amounts give their lowest and highest."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    folded = unicodedata.normalize("NFKC", str(text))
    spans: list[tuple[float, float]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(folded):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue  # the same amount read by an earlier pattern
            taken.append(m.span())
            scale = 10_000.0 if m.group("wan") else 1.0
            low = _number(m.group("low")) * scale
            high = _number(m.group("high")) * scale if m.group("high") else low
            spans.append((min(low, high), max(low, high)))
    if not spans:
        return None
    return ListedFee(low=min(s[0] for s in spans), high=max(s[1] for s in spans))


# ---- comparison ------------------------------------------------------------------------------

_EDGE = 1e-9

def verdict(listed_per_hour: float | None, cost_per_hour: float | None, band: float = DEFAULT_AROUND_BAND) -> str:
    """below / around / above cost (ratio listed ÷ cost outside / inside [1 − band, 1 + band]),
    no_fee without a listed hourly fee, no_cost without a cost price."""
    return str(verdicts(pd.Series([listed_per_hour], dtype=float), pd.Series([cost_per_hour], dtype=float), band).iloc[0])


def verdicts(listed: pd.Series, cost: pd.Series, band: float = DEFAULT_AROUND_BAND) -> pd.Series:
    """`verdict` row by row (aligned Series of CNY/h; NaN = not known)."""
    if band < 0:
        raise ValueError("band must not be negative")
    listed = listed.astype(float)
    cost = cost.astype(float)
    no_cost = cost.isna() | (cost <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (listed / cost).to_numpy()
    # The band edges count as "around cost"; the tolerance keeps e.g. 120 / 100 at band 0.2 there
    # whatever the float rounding of 1 + band.
    out = np.select(
        [no_cost.to_numpy(), listed.isna().to_numpy(), ratio < 1 - band - _EDGE, ratio > 1 + band + _EDGE],
        [VERDICT_NO_COST, VERDICT_NO_FEE, VERDICT_BELOW, VERDICT_ABOVE],
        default=VERDICT_AROUND,
    )
    return pd.Series(out, index=listed.index, dtype=object)


@dataclass(frozen=True)
class Comparison:
    """Listed fee vs cost price of one instrument. difference = listed − cost (CNY/h),
    ratio = listed ÷ cost; both None when either side is missing."""

    listed: ListedFee | None
    cost_per_hour: float | None
    difference: float | None
    ratio: float | None
    verdict: str


def compare(fee_text, cost_per_hour: float | None, band: float = DEFAULT_AROUND_BAND) -> Comparison:
    """Read the hourly fee from `fee_text` and compare it with `cost_per_hour`."""
    listed = parse_hourly_fee(fee_text)
    mid = listed.mid if listed else None
    both = mid is not None and cost_per_hour is not None and cost_per_hour > 0
    return Comparison(
        listed=listed,
        cost_per_hour=cost_per_hour,
        difference=mid - cost_per_hour if both else None,
        ratio=mid / cost_per_hour if both else None,
        verdict=verdict(mid, cost_per_hour, band),
    )


# ---- one instrument's hours ------------------------------------------------------------------

def effective_hours_of_year(usage_monthly: pd.DataFrame, year: int | None) -> float:
    """Effective hours of one instrument in `year` from its monthly rows (0 when none or no year)."""
    if year is None or usage_monthly.empty:
        return 0.0
    rows = usage_monthly[usage_monthly["year"] == year]
    return float(rows["effective_hours"].sum())


# ---- a class of instruments ------------------------------------------------------------------

FRAME_COLUMNS = (
    "rated_hours", "divisor_hours", "years_in_service", "depreciation_share", "fully_depreciated",
    *COMPONENTS, "cost_per_hour",
    "listed_low", "listed_high", "listed_per_hour", "difference", "ratio", "verdict",
)


def class_codes(instruments: pd.DataFrame) -> list[str]:
    """The top (2-digit) and middle (4-digit) class codes present among `instruments`, sorted so
    that each middle class follows its top class."""
    codes = instruments["class_code"].astype(str)
    return sorted(set(codes.str[:2]) | set(codes.str[:4]))


def in_class(frame: pd.DataFrame, code: str) -> pd.DataFrame:
    """Rows whose class code starts with `code` (a 2-digit top or 4-digit middle class)."""
    return frame[frame["class_code"].astype(str).str.startswith(code)].reset_index(drop=True)


def cost_frame(
    annual: pd.DataFrame,
    inputs: FeeInputs,
    policy: P.PolicyDefaults = P.DEFAULTS,
    band: float = DEFAULT_AROUND_BAND,
) -> pd.DataFrame:
    """Every row of `annual` (a census.annual_frame or any frame with original_value, purpose,
    effective_hours, start_date and fee_standard) with its cost price per hour and the comparison.

    Added columns: rated_hours (by purpose from `policy`), divisor_hours, years_in_service at
    `inputs.reference_year` (NaN when the start date or the year is unknown), depreciation_share
    (1 in the service life, 0 once fully depreciated, 1 when the age is unknown), fully_depreciated
    (bool), the five components,
    cost_per_hour (NaN when the divisor hours are 0), listed_low / listed_high / listed_per_hour
    (NaN when the fee text states no hourly amount), difference (listed − cost), ratio
    (listed ÷ cost) and verdict."""
    out = annual.copy().reset_index(drop=True)
    rated = out["purpose"].map(lambda p: P.rated_hours(p, policy)).astype(float)
    effective = out["effective_hours"].astype(float) if "effective_hours" in out else pd.Series(0.0, index=out.index)
    hours = rated if inputs.basis == BASIS_RATED else effective.fillna(0.0)
    usable = hours > 0
    safe = hours.where(usable, np.nan).to_numpy(dtype=float)
    start = out["start_date"] if "start_date" in out else pd.Series([None] * len(out), index=out.index, dtype=object)
    years = service_years(start, inputs.reference_year)
    share = depreciation_shares(years, inputs.depreciation_years)
    parts = _per_hour(out["original_value"].astype(float).to_numpy(), safe, inputs, share)
    out["rated_hours"] = rated
    out["divisor_hours"] = hours.astype(float)
    out["years_in_service"] = years.to_numpy(dtype=float)
    out["depreciation_share"] = share
    out["fully_depreciated"] = share <= 0
    for name in COMPONENTS:
        out[name] = parts[name]
    out["cost_per_hour"] = sum(parts[name] for name in COMPONENTS)
    fees = out["fee_standard"].map(parse_hourly_fee) if "fee_standard" in out else pd.Series([None] * len(out), dtype=object)
    out["listed_low"] = fees.map(lambda f: f.low if f else np.nan).astype(float)
    out["listed_high"] = fees.map(lambda f: f.high if f else np.nan).astype(float)
    out["listed_per_hour"] = (out["listed_low"] + out["listed_high"]) / 2
    out["difference"] = out["listed_per_hour"] - out["cost_per_hour"]
    out["ratio"] = out["listed_per_hour"] / out["cost_per_hour"]
    out["verdict"] = verdicts(out["listed_per_hour"], out["cost_per_hour"], band)
    return out


SUMMARY_MEASURES = ("cost_per_hour", "listed_per_hour")


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Count (rows with a figure), median, min and max of the cost price and the listed fee of a
    cost_frame; one row per measure, indexed by SUMMARY_MEASURES."""
    rows = {}
    for measure in SUMMARY_MEASURES:
        values = frame[measure].dropna().astype(float) if measure in frame else pd.Series(dtype=float)
        rows[measure] = {
            "count": int(values.size),
            "median": float(values.median()) if values.size else np.nan,
            "min": float(values.min()) if values.size else np.nan,
            "max": float(values.max()) if values.size else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")[["count", "median", "min", "max"]]


def verdict_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Number of rows of each verdict, in VERDICTS order (zeros included)."""
    counts = frame["verdict"].value_counts() if "verdict" in frame else pd.Series(dtype=int)
    return {v: int(counts.get(v, 0)) for v in VERDICTS}
