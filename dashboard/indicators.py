"""Raw indicator values of the open-sharing performance evaluation, per holding unit and year.

`load_inputs(engine, year)` reads the store frames (the only function here that touches the
store); `compute_indicators(inputs, year, scheme)` turns them into an `IndicatorTable`: `.raw`
(index unit_id, one float column per indicator id of the scheme, NaN where undefined) and `.units`
(index unit_id: name, name_en, unit_type, region_code, eligible_instruments, reported, status).

What an indicator measures is code: one small pure function per indicator id in `INDICATORS`,
each reading a prepared `Basis` and returning one value per unit. Their formula texts are in the
catalogues (`eval.ind.<id>.formula`, filled with `formula_params(policy)`); keep both in step.

Scope rule: the evaluation sees only a unit's *eligible* instruments — in the register that year
(commissioned by 31 December, or without a commissioning date), not exempt from opening (no
exemption reason), status not 待报废 — and only the usage and service records of those
instruments. Hours of an instrument without a usage row count as 0.

Every unit is kept in the output, also those not rated, so the page can list them:
- "too_few_instruments": fewer eligible instruments than `scheme.min_instruments`;
- "not_reported": no usage submission with a submission time for the year and no usage rows;
- "rated": everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from dashboard import census
from dashboard.national import RATING_SCORES
from dashboard.load import LOAD_IDLE, LoadLines, load_class
from dashboard.policy import DEFAULTS, PolicyDefaults, rated_hours
from dashboard.scheme import Scheme, SchemeError
from models import queries as Q

LOCAL_TZ = "Asia/Shanghai"  # due dates are Beijing calendar days; submission times are stored in UTC
MONTHS_PER_YEAR = 12
EXTERNAL_SHARE_MODE = census.EXTERNAL_SHARE_MODE  # 外部共享
SCRAP_STATUS = census.SCRAP_STATUS  # 待报废
EXTERNAL_USER = "外部用户"
USAGE_KIND = "usage"

STATUS_RATED = "rated"
STATUS_TOO_FEW = "too_few_instruments"
STATUS_NOT_REPORTED = "not_reported"
STATUSES = (STATUS_RATED, STATUS_TOO_FEW, STATUS_NOT_REPORTED)  # catalogue keys eval.status.<status>

UNIT_COLUMNS = ["name", "name_en", "unit_type", "region_code", "eligible_instruments", "reported", "status"]
SERVICE_COLUMNS = ["instrument_id", "user_type", "applicant_unit", "service_amount_cny", "rating", "voucher_amount_cny"]


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class EvaluationInputs:
    """The store frames one evaluation year needs (columns as `models.queries` returns them).

    units: id, name, name_en, unit_type, region_code.
    instruments: id, unit_id, start_date, status, exempt_reason, share_mode, booking_url, purpose,
        original_value.
    usage_year: instrument_id, year, effective_hours, external_hours, months_reported.
    services_year: instrument_id, user_type, applicant_unit, service_amount_cny, rating,
        voucher_amount_cny (start_time optional: when present, rows of other years are dropped).
    submissions_year: unit_id, kind, year, month, due_date, submitted_at (UTC; NaT: not in).
    """

    units: pd.DataFrame
    instruments: pd.DataFrame
    usage_year: pd.DataFrame
    services_year: pd.DataFrame
    submissions_year: pd.DataFrame


def load_inputs(engine: Engine, year: int) -> EvaluationInputs:
    """Read what `compute_indicators` needs for `year` from the store."""
    return EvaluationInputs(
        units=Q.units_for_evaluation(engine),
        instruments=Q.instruments_for_evaluation(engine),
        usage_year=Q.usage_by_instrument_year(engine, year),
        services_year=Q.services_for_evaluation(engine, year),
        submissions_year=Q.submissions(engine, year, kind=USAGE_KIND),
    )


@dataclass(frozen=True)
class IndicatorTable:
    raw: pd.DataFrame  # index unit_id; one float column per indicator id of the scheme
    units: pd.DataFrame  # index unit_id; UNIT_COLUMNS


def formula_params(policy: PolicyDefaults = DEFAULTS) -> dict[str, str]:
    """Policy numbers quoted in the formula texts (`eval.ind.<id>.formula`): general, special, low_use."""
    return census.definition_params(policy)


# --------------------------------------------------------------------------- basis


@dataclass(frozen=True)
class Basis:
    """What the indicator functions read, prepared once per evaluation.

    instruments: the eligible instruments (index instrument id) with unit_id, is_open,
        has_booking, original_value, rated_hours, effective_hours, external_hours,
        months_in_service, months_reported (≤ months_in_service).
    services: the year's service records of eligible instruments (instrument_id, unit_id,
        service_amount_cny, voucher_amount_cny), with external (user type 外部用户), client (the
        applicant unit, trimmed) and score (the rating's score, NaN when unrated).
    submissions: the year's monthly usage submissions, with on_time (bool).
    """

    unit_ids: pd.Index
    instruments: pd.DataFrame
    services: pd.DataFrame
    submissions: pd.DataFrame
    policy: PolicyDefaults

    def per_unit_sum(self, values: pd.Series) -> pd.Series:
        """Sum of an instrument-indexed series per unit (0 for units without eligible instruments)."""
        return values.groupby(self.instruments["unit_id"]).sum().reindex(self.unit_ids, fill_value=0).astype(float)

    def eligible_count(self) -> pd.Series:
        return self.instruments.groupby("unit_id").size().reindex(self.unit_ids, fill_value=0)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator per unit; NaN where the denominator is 0 (undefined, not zero)."""
    return (numerator / denominator.where(denominator > 0)).astype(float)


def _text(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).str.strip()


def _per_value(series: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`fn(series)` for a column of few distinct values: `fn` runs on the distinct values (missing
    included) and the results are spread back to the rows (same index). The service records of
    a year repeat a handful of user types and ratings over hundreds of thousands of rows."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    per_value = np.asarray(fn(pd.Series(uniques, dtype=series.dtype)))
    return pd.Series(per_value[codes], index=series.index)


def _months_in_service(start: pd.Series, year: int) -> pd.Series:
    """Months of `year` an instrument was in the register: 12, or from its commissioning month on."""
    commissioned_this_year = start.dt.year == year
    return pd.Series(
        np.where(commissioned_this_year, MONTHS_PER_YEAR - start.dt.month + 1, MONTHS_PER_YEAR),
        index=start.index,
    ).astype(int)


def eligible_instruments(instruments: pd.DataFrame, year: int) -> pd.DataFrame:
    """In the register that year, not exempt, not awaiting scrapping."""
    frame = census.in_register(instruments, year)
    keep = (_text(frame["exempt_reason"]) == "") & (_text(frame["status"]) != SCRAP_STATUS)
    return frame[keep]


def _of_year(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """Rows of `year` when the frame carries a year column (frames of one year pass unchanged)."""
    return frame[frame["year"] == year] if "year" in frame.columns else frame


def _instrument_basis(inputs: EvaluationInputs, year: int, policy: PolicyDefaults) -> pd.DataFrame:
    elig = eligible_instruments(inputs.instruments, year).set_index("id")
    usage = _of_year(inputs.usage_year, year).groupby("instrument_id")[
        ["effective_hours", "external_hours", "months_reported"]
    ].sum()
    usage = usage.reindex(elig.index, fill_value=0)
    months = _months_in_service(pd.to_datetime(elig["start_date"]), year)
    return pd.DataFrame({
        "unit_id": elig["unit_id"],
        "is_open": _text(elig["share_mode"]) == EXTERNAL_SHARE_MODE,
        "has_booking": _text(elig["booking_url"]) != "",
        "original_value": elig["original_value"].astype(float),
        "rated_hours": elig["purpose"].map(lambda p: rated_hours(p, policy)).astype(float),
        "effective_hours": usage["effective_hours"].astype(float),
        "external_hours": usage["external_hours"].astype(float),
        "months_in_service": months,
        # A usage row before commissioning does not make up for a missing one after it.
        "months_reported": np.minimum(usage["months_reported"].astype(int), months),
    }, index=elig.index)


def _service_basis(inputs: EvaluationInputs, year: int, instruments: pd.DataFrame) -> pd.DataFrame:
    services = inputs.services_year
    if "start_time" in services.columns and not services.empty:
        services = services[pd.to_datetime(services["start_time"]).dt.year == year]
    services = services.loc[services["instrument_id"].isin(instruments.index), SERVICE_COLUMNS]
    return pd.DataFrame({
        "instrument_id": services["instrument_id"],
        "unit_id": services["instrument_id"].map(instruments["unit_id"]),
        "service_amount_cny": services["service_amount_cny"],
        "voucher_amount_cny": services["voucher_amount_cny"],
        "external": _per_value(services["user_type"], lambda v: _text(v) == EXTERNAL_USER),
        "client": _per_value(services["applicant_unit"], _text),
        "score": _per_value(services["rating"], lambda v: _text(v).map(RATING_SCORES).astype(float)),
    }, index=services.index)


def _submission_basis(inputs: EvaluationInputs, year: int) -> pd.DataFrame:
    subs = _of_year(inputs.submissions_year, year)
    subs = subs[(subs["kind"] == USAGE_KIND) & subs["month"].notna()].copy()
    submitted = pd.to_datetime(subs["submitted_at"], utc=True)
    local_day = submitted.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).dt.normalize()
    subs["submitted"] = submitted.notna()
    subs["on_time"] = submitted.notna() & (local_day <= pd.to_datetime(subs["due_date"]))
    return subs


def prepare_basis(inputs: EvaluationInputs, year: int, policy: PolicyDefaults = DEFAULTS) -> Basis:
    instruments = _instrument_basis(inputs, year, policy)
    return Basis(
        unit_ids=pd.Index(inputs.units["id"], name="unit_id"),
        instruments=instruments,
        services=_service_basis(inputs, year, instruments),
        submissions=_submission_basis(inputs, year),
        policy=policy,
    )


# --------------------------------------------------------------------------- indicators
# Each: Basis -> Series indexed by unit_id. The formula texts in the catalogues say the same.


def open_ratio(b: Basis) -> pd.Series:
    """Eligible instruments shared with outside users (外部共享) / eligible instruments."""
    return _ratio(b.per_unit_sum(b.instruments["is_open"]), b.eligible_count())


def reporting_timeliness(b: Basis) -> pd.Series:
    """Months of the year whose usage submission came in by its due date (Beijing day) / 12."""
    on_time = b.submissions[b.submissions["on_time"]]
    months = on_time.groupby("unit_id")["month"].nunique().reindex(b.unit_ids, fill_value=0)
    return (months / MONTHS_PER_YEAR).clip(upper=1.0).astype(float)


def reporting_completeness(b: Basis) -> pd.Series:
    """Instrument-months with a usage row / instrument-months in service (eligible instruments)."""
    inst = b.instruments
    return _ratio(b.per_unit_sum(inst["months_reported"]), b.per_unit_sum(inst["months_in_service"])).clip(upper=1.0)


def online_booking(b: Basis) -> pd.Series:
    """Open eligible instruments with a booking address / open eligible instruments."""
    inst = b.instruments
    return _ratio(b.per_unit_sum(inst["is_open"] & inst["has_booking"]), b.per_unit_sum(inst["is_open"]))


def effective_hours_ratio(b: Basis) -> pd.Series:
    """Σ effective hours / Σ rated hours (not capped here: the goalpost caps it)."""
    inst = b.instruments
    return _ratio(b.per_unit_sum(inst["effective_hours"]), b.per_unit_sum(inst["rated_hours"]))


def above_low_use_share(b: Basis) -> pd.Series:
    """Eligible instruments with effective hours ≥ the low-use line / eligible instruments."""
    busy = load_class(b.instruments, LoadLines.from_policy(b.policy)) != LOAD_IDLE
    return _ratio(b.per_unit_sum(busy), b.eligible_count())


def external_hours_per_instrument(b: Basis) -> pd.Series:
    """Σ external-service hours / eligible instruments."""
    return _ratio(b.per_unit_sum(b.instruments["external_hours"]), b.eligible_count())


def external_share(b: Basis) -> pd.Series:
    """Σ external-service hours / Σ effective hours (NaN without effective hours)."""
    inst = b.instruments
    return _ratio(b.per_unit_sum(inst["external_hours"]), b.per_unit_sum(inst["effective_hours"]))


def _external_services(b: Basis) -> pd.DataFrame:
    return b.services[b.services["external"]]


def outside_clients(b: Basis) -> pd.Series:
    """Distinct applicant units among the year's external-user service records."""
    ext = _external_services(b)
    named = ext[ext["client"] != ""]
    return named.groupby("unit_id")["client"].nunique().reindex(b.unit_ids, fill_value=0).astype(float)


def external_income_ratio(b: Basis) -> pd.Series:
    """Σ fees of external-user service records / Σ original value of eligible instruments."""
    income = _external_services(b).groupby("unit_id")["service_amount_cny"].sum()
    income = income.reindex(b.unit_ids, fill_value=0).astype(float)
    return _ratio(income, b.per_unit_sum(b.instruments["original_value"]))


def user_rating(b: Basis) -> pd.Series:
    """Mean rating score (非常满意 5 … 极差 1) of the year's rated service records (NaN when none)."""
    rated = b.services[b.services["score"].notna()]
    return rated.groupby("unit_id")["score"].mean().reindex(b.unit_ids).astype(float)


def voucher_services(b: Basis) -> pd.Series:
    """Service records of the year paid partly with an innovation voucher."""
    paid = b.services[b.services["voucher_amount_cny"].fillna(0) > 0]
    return paid.groupby("unit_id").size().reindex(b.unit_ids, fill_value=0).astype(float)


INDICATORS: dict[str, Callable[[Basis], pd.Series]] = {
    fn.__name__: fn
    for fn in (
        open_ratio, reporting_timeliness, reporting_completeness, online_booking,
        effective_hours_ratio, above_low_use_share,
        external_hours_per_instrument, external_share, outside_clients, external_income_ratio,
        user_rating, voucher_services,
    )
}


# --------------------------------------------------------------------------- table


def _check_known(scheme: Scheme) -> None:
    unknown = [i for i in scheme.indicator_ids() if i not in INDICATORS]
    if unknown:
        raise SchemeError(f"indicators without a computation: {unknown}; known ids: {sorted(INDICATORS)}")


def _reported(inputs: EvaluationInputs, b: Basis, year: int) -> pd.Series:
    """A unit reported when a usage submission of the year came in or usage rows exist."""
    submitted = set(b.submissions.loc[b.submissions["submitted"], "unit_id"])
    usage = _of_year(inputs.usage_year, year)
    holder = inputs.instruments.set_index("id")["unit_id"]
    with_rows = set(usage["instrument_id"].map(holder).dropna())
    return pd.Series(b.unit_ids.isin(submitted | with_rows), index=b.unit_ids)


def _unit_frame(inputs: EvaluationInputs, b: Basis, year: int, scheme: Scheme) -> pd.DataFrame:
    units = inputs.units.set_index("id").reindex(b.unit_ids)
    eligible = b.eligible_count().astype(int)
    reported = _reported(inputs, b, year)
    status = np.where(
        eligible < scheme.min_instruments, STATUS_TOO_FEW, np.where(reported, STATUS_RATED, STATUS_NOT_REPORTED)
    )
    frame = units[["name", "name_en", "unit_type", "region_code"]].copy()
    frame["eligible_instruments"] = eligible
    frame["reported"] = reported.astype(bool)
    frame["status"] = status
    return frame[UNIT_COLUMNS]


def compute_indicators(
    inputs: EvaluationInputs, year: int, scheme: Scheme, policy: PolicyDefaults = DEFAULTS
) -> IndicatorTable:
    """Raw values of the scheme's indicators for every unit in `inputs.units`, and unit statuses.

    Raises SchemeError when the scheme names an indicator without a computation."""
    _check_known(scheme)
    b = prepare_basis(inputs, year, policy)
    raw = pd.DataFrame({i: INDICATORS[i](b) for i in scheme.indicator_ids()}, index=b.unit_ids, dtype=float)
    raw.index.name = "unit_id"
    return IndicatorTable(raw=raw, units=_unit_frame(inputs, b, year, scheme))
