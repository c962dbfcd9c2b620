"""Scenarios for the leadership group: a named set of weights, grade lines, reward, sanction and
voucher parameters; what it would mean for every unit; and how scenarios differ (issue 5, item 4).

Pure pandas/numpy: nothing here reads the store or knows about Streamlit. The store side is in
`models/services/scenarios.py` (save with audit, load) and `models/scenario_queries.py` (list);
the meeting brief is `dashboard/brief_html.py`.

Parameters (`ScenarioParams`, frozen) and their JSON
    {"version": 1, "year": 2025 | null, "weights": {indicator id: weight} | null,
     "grade_rule": {mode, bands, quotas, pass_score, fourth_label} | null,
     "reward": RewardRule.to_dict(), "sanctions": SanctionRules.to_dict() | null,
     "vouchers": VoucherParams.to_dict() | null}
    year null = the year chosen on the page; weights null = the scheme's weights; grade_rule
    null = the scheme's grade rule; sanctions null = no sanction rule applied; vouchers null = no
    voucher policy simulated. Weights are GLOBAL indicator weights, as on the evaluation page: an
    indicator not named keeps the scheme's global weight, then all are renormalised to sum 1.
    `from_json` / `from_dict` check every field and raise `ScenarioError(field, reason)`: `field`
    is a dotted path ("reward.pool_cny"), `reason` one of ERROR_REASONS, the catalogue key
    `scenarios.err.<reason>`. A version other than SCHEMA_VERSION is refused (unknown_version).

Inputs (`ScenarioInputs`, built once per year and data revision by `build_inputs`)
    The year's indicator table (raw values and unit statuses, `dashboard.indicators`), the scheme,
    the year's service records (`models.queries.services(year)` columns), the external service
    income per unit and the frames the sanction rules need. `outcome` only re-runs
    normalisation → aggregation → grading → sanctions → vouchers → allocation on them, and the
    inputs remember the last voucher simulations (per VoucherParams), sanction results and
    potential sanction counts (per rules and grades), so moving the reward pool or a cap re-runs
    only scoring and allocation. The memo is thread-safe: the page shares one ScenarioInputs
    between runs and sessions (dashboard/ui/incentives_view.py); nothing here changes a frame of
    the inputs.

Outcome (`outcome(params, inputs)` → `ScenarioOutcome`), one row per unit (UNIT_COLUMNS)
    score, rank, grade    `dashboard.scoring.evaluate` with the scenario's weights and grade rule
    sanction_rules        ids of the sanction rules that fired (`dashboard.sanctions.apply`; the
                          grade rule sees the scenario's grades); sanctioned = at least one
    excluded              barred from the reward pool ("no post-subsidy",
                          `dashboard.sanctions.excluded_from_rewards`)
    reward_cny            `dashboard.incentives.reward_outcome` on score, grade, external income
                          and voucher revenue, without the excluded units
    voucher_revenue_cny   vouchers the unit redeemed in the simulation (`dashboard.vouchers`)
    post_subsidy_cny      holders' post-subsidy on that revenue (holder_redemption_share ×
                          voucher); an excluded unit ("no post-subsidy") gets none: its share is
                          post_subsidy_withheld_cny
    total_cny             reward_cny + post_subsidy_cny: the subsidy money the unit receives
                          (voucher revenue is payment for services rendered, not a subsidy)
    Totals (FIGURES):
    fiscal_cost_cny       = reward_paid_cny + voucher_spend_cny + voucher_post_subsidy_cny: what
                          the budget pays — rewards from the pool, vouchers paid to holders on the
                          firms' behalf, and the holders' post-subsidy (withheld amounts excluded)
    reward_pool_cny, reward_paid_cny, reward_unspent_cny (= pool − paid), rewarded_units (> 0)
    voucher_pool_cny (NaN: unlimited or no voucher policy), voucher_spend_cny, firms_served,
    services_covered, voucher_post_subsidy_cny (paid), voucher_post_subsidy_withheld_cny
    sanctioned_units, excluded_units, rated_units, units_excellent / units_good / units_pass /
    units_fourth (units per grade; units that did not report carry the fourth grade, as in
    `dashboard.scoring`).

Comparison (`compare(baseline, {name: outcome})` → `Comparison`)
    summary: rows FIGURES, columns BASELINE then each scenario; deltas: scenario − baseline.
    changes: one row per (scenario, unit) where the grade, the subsidy money (total_cny, to the
    cent) or the sanctions differ from the baseline, sorted by scenario, then |money change|
    descending, then grade changes first, then unit id.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

import numpy as np
import pandas as pd

from dashboard import incentives, quality, sanctions, scoring, utilisation, vouchers
from dashboard.indicators import IndicatorTable
from dashboard.scheme import GRADE_MODES, GRADES, GradeRule, Scheme, SchemeError

SCHEMA_VERSION = 1
SUPPORTED_VERSIONS = (SCHEMA_VERSION,)
FOURTH_LABELS = ("较差", "不合格")  # national / Inner Mongolia wording of the fourth grade
GRADE_LABELS = GRADES[:3] + FOURTH_LABELS  # every label a reward rule may name
EXTERNAL_USER = "外部用户"
BASELINE = "baseline"  # column of the baseline in Comparison.summary
MIN_YEAR, MAX_YEAR = 2000, 2100

ERROR_REASONS = (
    "not_json", "not_object", "missing_version", "unknown_version", "unknown_field", "missing_field",
    "not_a_number", "not_an_integer", "out_of_range", "not_a_bool", "not_text", "not_a_mapping",
    "bad_choice", "bands_not_falling", "quotas_too_large", "unknown_client_kind", "unknown_indicator",
    "no_positive_weight", "year_mismatch", "missing_data", "empty_name", "too_long", "not_found", "invalid",
)

UNIT_COLUMNS = (
    "unit_id", "name", "name_en", "status", "score", "rank", "grade", "sanctioned", "sanction_rules",
    "excluded", "eligible", "reason_if_not", "reward_cny", "voucher_revenue_cny", "post_subsidy_cny",
    "post_subsidy_withheld_cny", "total_cny",
)
GRADE_FIGURES = ("units_excellent", "units_good", "units_pass", "units_fourth")  # in GradeRule.labels() order
FIGURES = (
    "fiscal_cost_cny", "reward_pool_cny", "reward_paid_cny", "reward_unspent_cny", "rewarded_units",
    "voucher_pool_cny", "voucher_spend_cny", "firms_served", "services_covered", "voucher_post_subsidy_cny",
    "voucher_post_subsidy_withheld_cny", "sanctioned_units", "excluded_units", "rated_units",
) + GRADE_FIGURES
MONEY_FIGURES = frozenset(f for f in FIGURES if f.endswith("_cny"))  # CNY; the others are counts
SANCTION_CHANGES = ("new", "lifted", "rules")  # became sanctioned / no longer / other rules fired
CHANGE_COLUMNS = (
    "scenario", "unit_id", "name", "name_en", "grade_before", "grade_after", "grade_changed",
    "rank_before", "rank_after", "score_before", "score_after", "reward_before", "reward_after",
    "post_subsidy_before", "post_subsidy_after", "money_before", "money_after", "money_change",
    "sanctioned_before", "sanctioned_after", "rules_before", "rules_after", "sanction_change",
)


# --------------------------------------------------------------------------- errors


class ScenarioError(ValueError):
    """A scenario that cannot be used. `field` names the parameter (a dotted path), `reason` is one
    of ERROR_REASONS (catalogue key scenarios.err.<reason>), `params` fill the message."""

    def __init__(self, field_name: str, reason: str, **params: Any):
        self.field = field_name
        self.reason = reason
        self.params = {k: _show(v) for k, v in params.items()}
        super().__init__(f"{field_name}: {reason}" + (f" {self.params}" if self.params else ""))

    def message(self, t) -> str:
        """The error in the language of `t` (a dashboard.i18n.Translator)."""
        values = {"value": "", **self.params, "field": self.field}
        return t(f"scenarios.err.{self.reason}", **values)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


# --------------------------------------------------------------------------- field checks


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _number(v: Any, name: str, *, low: float | None = None, high: float | None = None,
            optional: bool = False, low_open: bool = False) -> float | None:
    if v is None and optional:
        return None
    if not _is_number(v) or not math.isfinite(float(v)):
        raise ScenarioError(name, "not_a_number", value=v)
    x = float(v)
    if (low is not None and (x < low or (low_open and x == low))) or (high is not None and x > high):
        raise ScenarioError(name, "out_of_range", value=v)
    return x


def _mapping(v: Any, name: str) -> dict:
    if not isinstance(v, Mapping):
        raise ScenarioError(name, "not_a_mapping", value=v)
    return dict(v)


def _no_unknown(data: Mapping, known, prefix: str) -> None:
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise ScenarioError(f"{prefix}{unknown[0]}", "unknown_field", value=unknown[0])


# --------------------------------------------------------------------------- grade rule


def grade_rule_to_dict(rule: GradeRule) -> dict:
    return {"mode": rule.mode, "bands": [float(b) for b in rule.bands],
            "quotas": [float(q) for q in rule.quotas], "pass_score": float(rule.pass_score),
            "fourth_label": rule.fourth_label}


def grade_rule_from_dict(data: Any, prefix: str = "grade_rule") -> GradeRule:
    """A checked GradeRule; missing keys take GradeRule's defaults."""
    data = _mapping(data, prefix)
    _no_unknown(data, {f.name for f in fields(GradeRule)}, prefix + ".")
    base = GradeRule()
    mode = data.get("mode", base.mode)
    if mode not in GRADE_MODES:
        raise ScenarioError(f"{prefix}.mode", "bad_choice", value=mode)

    def numbers(key: str, n: int, high: float) -> tuple[float, ...]:
        raw = data.get(key, getattr(base, key))
        if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)) or len(raw) != n:
            raise ScenarioError(f"{prefix}.{key}", "invalid", value=raw)
        return tuple(_number(x, f"{prefix}.{key}", low=0.0, high=high) for x in raw)

    bands = numbers("bands", 3, 100.0)
    if not bands[0] > bands[1] > bands[2]:
        raise ScenarioError(f"{prefix}.bands", "bands_not_falling", value=list(bands))
    quotas = numbers("quotas", 2, 1.0)
    if sum(quotas) > 1.0 + 1e-12:
        raise ScenarioError(f"{prefix}.quotas", "quotas_too_large", value=list(quotas))
    pass_score = _number(data.get("pass_score", base.pass_score), f"{prefix}.pass_score", low=0.0, high=100.0)
    fourth = data.get("fourth_label", base.fourth_label)
    if fourth not in FOURTH_LABELS:
        raise ScenarioError(f"{prefix}.fourth_label", "bad_choice", value=fourth)
    return GradeRule(mode=mode, bands=bands, quotas=quotas, pass_score=pass_score, fourth_label=fourth)


# --------------------------------------------------------------------------- reward rule


def reward_rule_from_dict(data: Any, prefix: str = "reward") -> incentives.RewardRule:
    """A checked incentives.RewardRule; missing keys take RewardRule's defaults."""
    data = _mapping(data, prefix)
    _no_unknown(data, {f.name for f in fields(incentives.RewardRule)}, prefix + ".")
    base = incentives.RewardRule()
    pool = _number(data.get("pool_cny", base.pool_cny), f"{prefix}.pool_cny", low=0.0)
    grades = data.get("eligible_grades", base.eligible_grades)
    if grades is not None:
        if isinstance(grades, (str, bytes)) or not isinstance(grades, (list, tuple)):
            raise ScenarioError(f"{prefix}.eligible_grades", "not_text", value=grades)
        bad = [g for g in grades if g not in GRADE_LABELS]
        if bad:
            raise ScenarioError(f"{prefix}.eligible_grades", "bad_choice", value=bad[0])
        grades = tuple(dict.fromkeys(grades))
    min_score = _number(data.get("min_score"), f"{prefix}.min_score", low=0.0, high=100.0, optional=True)
    basis = data.get("basis", base.basis)
    if basis not in incentives.BASIS_KINDS:
        raise ScenarioError(f"{prefix}.basis", "bad_choice", value=basis)
    cap = _number(data.get("cap_cny"), f"{prefix}.cap_cny", low=0.0, optional=True)
    share = _number(data.get("cap_share_of_external_income"), f"{prefix}.cap_share_of_external_income",
                    low=0.0, optional=True)
    try:
        return incentives.RewardRule(pool_cny=pool, eligible_grades=grades, min_score=min_score, basis=basis,
                                     cap_cny=cap, cap_share_of_external_income=share).validate()
    except ValueError as exc:  # pragma: no cover - every field is checked above
        raise ScenarioError(prefix, "invalid", value=str(exc)) from exc


def _reward_rule_to_dict(rule: incentives.RewardRule) -> dict:
    data = rule.to_dict()
    for key in ("pool_cny", "min_score", "cap_cny", "cap_share_of_external_income"):
        if data[key] is not None:
            data[key] = float(data[key])
    return data


# --------------------------------------------------------------------------- vouchers


def voucher_params_from_dict(data: Any, prefix: str = "vouchers") -> vouchers.VoucherParams:
    data = _mapping(data, prefix)
    try:
        return vouchers.VoucherParams.from_dict(data)
    except vouchers.VoucherParamsError as exc:
        reason = exc.reason if exc.reason in ERROR_REASONS else "invalid"
        raise ScenarioError(f"{prefix}.{exc.field}", reason, value=data.get(exc.field, "")) from exc


# --------------------------------------------------------------------------- sanctions


def sanction_rules_from_dict(data: Any, prefix: str = "sanctions") -> sanctions.SanctionRules:
    """Checked sanctions.SanctionRules; the error names the rule field when the module does."""
    data = _mapping(data, prefix)
    try:
        return sanctions.SanctionRules.from_dict(data)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        head = message.split(" ", 1)[0].rstrip(":,")
        path = f"{prefix}.{head}" if head.split(".")[0] in sanctions.RULE_IDS else prefix
        raise ScenarioError(path, "invalid", value=message) from exc


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class ScenarioParams:
    """Everything a scenario sets (module docstring). Dicts given for `weights` become a sorted
    tuple of (indicator id, weight) pairs; a dict for `sanctions` becomes SanctionRules."""

    year: int | None = None
    weights: tuple[tuple[str, float], ...] | None = None
    grade_rule: GradeRule | None = None
    reward: incentives.RewardRule = field(default_factory=incentives.RewardRule)
    sanctions: sanctions.SanctionRules | None = None  # None = no sanction rule applied
    vouchers: vouchers.VoucherParams | None = None  # None = no voucher policy simulated

    def __post_init__(self) -> None:
        if self.year is not None:
            if not isinstance(self.year, (int, np.integer)) or isinstance(self.year, bool):
                raise ScenarioError("year", "not_an_integer", value=self.year)
            if not MIN_YEAR <= int(self.year) <= MAX_YEAR:
                raise ScenarioError("year", "out_of_range", value=self.year)
            object.__setattr__(self, "year", int(self.year))
        if self.weights is not None:
            object.__setattr__(self, "weights", _weights(self.weights))
        if isinstance(self.grade_rule, Mapping):
            object.__setattr__(self, "grade_rule", grade_rule_from_dict(self.grade_rule))
        elif self.grade_rule is not None:
            object.__setattr__(self, "grade_rule", grade_rule_from_dict(grade_rule_to_dict(self.grade_rule)))
        if isinstance(self.reward, Mapping):
            object.__setattr__(self, "reward", reward_rule_from_dict(self.reward))
        elif not isinstance(self.reward, incentives.RewardRule):
            raise ScenarioError("reward", "not_a_mapping", value=self.reward)
        if isinstance(self.sanctions, Mapping):
            object.__setattr__(self, "sanctions", sanction_rules_from_dict(self.sanctions))
        elif self.sanctions is not None:
            if not isinstance(self.sanctions, sanctions.SanctionRules):
                raise ScenarioError("sanctions", "not_a_mapping", value=type(self.sanctions).__name__)
            try:
                self.sanctions.validate()
            except ValueError as exc:
                raise ScenarioError("sanctions", "invalid", value=str(exc)) from exc
        if isinstance(self.vouchers, Mapping):
            object.__setattr__(self, "vouchers", voucher_params_from_dict(self.vouchers))
        elif self.vouchers is not None and not isinstance(self.vouchers, vouchers.VoucherParams):
            raise ScenarioError("vouchers", "not_a_mapping", value=self.vouchers)

    # ---------------------------------------------------------------- helpers
    def effective_year(self, page_year: int) -> int:
        """The year the scenario is evaluated in: its own, else the page's."""
        return int(page_year) if self.year is None else self.year

    def weights_series(self) -> pd.Series | None:
        if self.weights is None:
            return None
        return pd.Series(dict(self.weights), dtype=float, name="weight")

    # ---------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        return {
            "version": SCHEMA_VERSION,
            "year": self.year,
            "weights": None if self.weights is None else {k: float(v) for k, v in self.weights},
            "grade_rule": None if self.grade_rule is None else grade_rule_to_dict(self.grade_rule),
            "reward": _reward_rule_to_dict(self.reward),
            "sanctions": None if self.sanctions is None else self.sanctions.to_dict(),
            "vouchers": None if self.vouchers is None else self.vouchers.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> "ScenarioParams":
        """Checked parameters from `to_dict` output (ScenarioError on the first problem)."""
        if not isinstance(data, Mapping):
            raise ScenarioError("scenario", "not_object", value=type(data).__name__)
        if "version" not in data:
            raise ScenarioError("version", "missing_version")
        version = data["version"]
        if not isinstance(version, int) or isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
            raise ScenarioError("version", "unknown_version", value=version,
                                supported=", ".join(str(v) for v in SUPPORTED_VERSIONS))
        known = {"version"} | {f.name for f in fields(cls)}
        _no_unknown(data, known, "")
        for key in ("reward",):
            if key not in data:
                raise ScenarioError(key, "missing_field")
        weights = data.get("weights")
        if weights is not None:
            weights = _mapping(weights, "weights")
        grade = data.get("grade_rule")
        sanctions = data.get("sanctions")
        voucher = data.get("vouchers")
        return cls(
            year=data.get("year"),
            weights=weights,
            grade_rule=None if grade is None else grade_rule_from_dict(grade),
            reward=reward_rule_from_dict(data["reward"]),
            sanctions=None if sanctions is None else sanction_rules_from_dict(sanctions),
            vouchers=None if voucher is None else voucher_params_from_dict(voucher),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "ScenarioParams":
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise ScenarioError("scenario", "not_json", value=str(exc)) from exc
        return cls.from_dict(data)


def _weights(raw: Any) -> tuple[tuple[str, float], ...]:
    items = raw.items() if isinstance(raw, Mapping) else raw
    try:
        pairs = [(k, v) for k, v in items]
    except (TypeError, ValueError) as exc:
        raise ScenarioError("weights", "not_a_mapping", value=raw) from exc
    out: dict[str, float] = {}
    for key, value in pairs:
        if not isinstance(key, str) or not key.strip():
            raise ScenarioError("weights", "not_text", value=key)
        out[key.strip()] = _number(value, f"weights.{key}", low=0.0)
    return tuple(sorted(out.items()))


def scenario_id_from_query(value: Any) -> int | None:
    """The saved-scenario id of a shareable link (?scenario=<id>): None when absent or blank; a
    positive whole number otherwise (ScenarioError "id"/"not_an_integer" for anything else). A
    list (repeated query parameter) uses its first value."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if not text.isdigit() or int(text) <= 0:
        raise ScenarioError("id", "not_an_integer", value=text)
    return int(text)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, eq=False)
class ScenarioInputs:
    """What `outcome` needs for one year (build with `build_inputs`, once per year and revision).

    table            the year's IndicatorTable: raw (index unit_id × indicator ids) and units
                     (index unit_id: name, name_en, …, status)
    scheme           the indicator scheme the scores use (its grade rule unless a scenario sets one)
    services         the year's service records, columns of models.queries.services (at least
                     id, start_time, applicant_unit, service_amount_cny, client_kind, user_type,
                     unit_id; instrument_id for the nominally-open rule) — vouchers, external
                     income, sanctions
    external_income  CNY per unit (index unit_id): fees of the year's external-user (外部用户)
                     service records on all the unit's instruments
    sanction_inputs  dashboard.sanctions.SanctionInputs of the year (its `evaluation` is replaced
                     by each scenario's own grades); None = only the grade rule has data
    usage            the year's usage (usage_by_instrument_year or usage_monthly), to recompute
                     the nominally-open candidates when a scenario uses another external/internal
                     ratio than the one sanction_inputs were built with; None = cannot
    """

    year: int
    table: IndicatorTable
    scheme: Scheme
    services: pd.DataFrame
    external_income: pd.Series
    sanction_inputs: sanctions.SanctionInputs | None = None
    usage: pd.DataFrame | None = None
    _candidates: dict = field(default_factory=dict, repr=False)  # ratio → candidates (memo)
    _memo: dict = field(default_factory=dict, repr=False)  # vouchers / sanctions already worked out


MEMO_SIZE = 32  # results kept per ScenarioInputs; moving the reward pool re-uses vouchers and sanctions
_MEMO_LOCK = threading.Lock()  # the page shares one ScenarioInputs between runs and sessions


def _memoised(inputs: ScenarioInputs, key, compute):
    with _MEMO_LOCK:
        if key in inputs._memo:
            return inputs._memo[key]
    value = compute()  # outside the lock: two runs may both work it out, with the same result
    with _MEMO_LOCK:
        if key not in inputs._memo:
            while len(inputs._memo) >= MEMO_SIZE:
                inputs._memo.pop(next(iter(inputs._memo)))
            inputs._memo[key] = value
        return inputs._memo[key]


def external_income(services: pd.DataFrame, year: int | None = None) -> pd.Series:
    """Σ service_amount_cny of external-user (外部用户) records per unit_id, CNY."""
    if services is None or services.empty:
        return pd.Series(dtype=float, name="external_income_cny").rename_axis("unit_id")
    # only the columns read here are filtered (a year's records carry many more)
    df = services[[c for c in ("start_time", "user_type", "service_amount_cny", "unit_id") if c in services.columns]]
    if year is not None and "start_time" in df.columns:
        df = df[pd.to_datetime(df["start_time"]).dt.year == int(year)]
    ext = df[df["user_type"].fillna("").astype(str).str.strip() == EXTERNAL_USER]
    amount = pd.to_numeric(ext["service_amount_cny"], errors="coerce").fillna(0.0)
    out = amount.groupby(ext["unit_id"]).sum().astype(float)
    out.index.name = "unit_id"
    return out.rename("external_income_cny")


def _units_for_sanctions(table: IndicatorTable) -> pd.DataFrame:
    units = table.units
    out = pd.DataFrame({"id": units.index.to_numpy()})
    for col in ("name", "name_en"):
        out[col] = units[col].to_numpy(object) if col in units.columns else ""
    return out


def build_inputs(year: int, table: IndicatorTable, scheme: Scheme, services: pd.DataFrame | None, *,
                 reporting: pd.DataFrame | None = None, annual: pd.DataFrame | None = None,
                 usage: pd.DataFrame | None = None, load_lines=None,
                 sanction_inputs: sanctions.SanctionInputs | None = None) -> ScenarioInputs:
    """Inputs of `year` from frames the page already has (cached per data revision).

    services   models.queries.services(year) (rows of other years are dropped)
    reporting  dashboard.quality.reporting_summary of the year — not_reporting / late_reporting
    annual     census.annual_frame of the year — nominally_open / idle_share
    usage      the year's usage rows — nominally_open
    load_lines dashboard.load.LoadLines of the page's policy — idle_share
    sanction_inputs  ready-made SanctionInputs instead (then reporting/annual/load_lines are unused)
    A frame left out only matters when a scenario turns on a rule that reads it (ScenarioError)."""
    services = services if services is not None else pd.DataFrame()
    if not services.empty and "start_time" in services.columns:
        in_year = (pd.to_datetime(services["start_time"]).dt.year == int(year)).to_numpy()
        # a read of the year's records (the page's) is kept as it is, not copied row by row
        services = services.reset_index(drop=True) if in_year.all() else services[in_year].reset_index(drop=True)
    income = external_income(services).reindex(table.units.index, fill_value=0.0)
    if sanction_inputs is None:
        sanction_inputs = sanctions.build_inputs(
            int(year), _units_for_sanctions(table), None, reporting, annual,
            # A year without service records still has its (empty) records: every open
            # instrument then served nobody outside, which the nominally-open rule must see.
            services if "instrument_id" in services.columns else None, usage, load_lines=load_lines)
    return ScenarioInputs(year=int(year), table=table, scheme=scheme, services=services,
                          external_income=income, sanction_inputs=sanction_inputs, usage=usage)


def inputs_from_frames(year: int, table: IndicatorTable, scheme: Scheme, *, units: pd.DataFrame,
                       instruments: pd.DataFrame, usage: pd.DataFrame, submissions: pd.DataFrame,
                       services: pd.DataFrame, as_of) -> ScenarioInputs:
    """`build_inputs` from the store's frames of `year` (the one recipe the incentives page, the
    purchase review and the service finder share): reporting status as of `as_of` (a date),
    the year's utilisation and the service records.

    units, instruments  models.queries.units / instruments
    usage               models.queries.usage_by_instrument_year(year)
    submissions         models.queries.submissions(year)
    services            the year's service records (models.queries.services_for_incentives)"""
    status = quality.reporting_status(submissions, units, year, instruments, as_of=as_of)
    return build_inputs(year, table, scheme, services, reporting=quality.reporting_summary(status, units),
                        annual=utilisation.utilisation_frame(instruments, usage, year), usage=usage)


DEFAULT_POOL_CNY = 2_000_000.0  # [I] the incentives page's starting reward pool (no official figure found)


def default_params(scheme: Scheme) -> ScenarioParams:
    """The incentives page's starting settings: the scheme's grade lines and weights, post-subsidy
    for 优秀 / 良好 from a [I] pool of 200万元 shared by score without cap, the default sanction
    rules and the default voucher policy. Also the baseline of a comparison, and the sanctions the
    purchase review and the service finder apply."""
    return ScenarioParams(
        grade_rule=replace(scheme.grade, mode="bands"),
        reward=incentives.RewardRule(pool_cny=DEFAULT_POOL_CNY),
        sanctions=sanctions.SanctionRules(),
        vouchers=vouchers.VoucherParams(),
    )


# --------------------------------------------------------------------------- outcome


@dataclass(frozen=True, eq=False)
class ScenarioOutcome:
    """One scenario worked out for one year (module docstring)."""

    name: str
    params: ScenarioParams
    year: int
    units: pd.DataFrame  # UNIT_COLUMNS, rated units by rank then the others by id
    totals: dict  # FIGURES → number (NaN where not applicable)
    grade_labels: tuple[str, str, str, str]  # the labels behind GRADE_FIGURES
    evaluation: scoring.EvaluationResult
    reward: incentives.RewardOutcome
    vouchers: vouchers.VoucherOutcome | None
    sanctions: Any = None  # dashboard.sanctions.SanctionOutcome or None

    def figure(self, key: str) -> float:
        return self.totals[key]

    def grade_rule(self) -> GradeRule:
        return self.evaluation.scheme.grade


def scheme_for(params: ScenarioParams, scheme: Scheme) -> Scheme:
    """`scheme` with the scenario's grade rule (unchanged when it sets none)."""
    return scheme if params.grade_rule is None else replace(scheme, grade=params.grade_rule)


def global_weights(params: ScenarioParams, scheme: Scheme) -> pd.Series | None:
    """The scheme's global weights with the scenario's overrides (not yet renormalised); None
    when the scenario keeps the scheme's weights. Unknown indicator ids are a ScenarioError."""
    if params.weights is None:
        return None
    ids = scheme.indicator_ids()
    unknown = [k for k, _ in params.weights if k not in ids]
    if unknown:
        raise ScenarioError(f"weights.{unknown[0]}", "unknown_indicator", value=unknown[0])
    w = scoring.indicator_weights(scheme).copy()
    for key, value in params.weights:
        w[key] = float(value)
    if not (w > 0).any():
        raise ScenarioError("weights", "no_positive_weight")
    return w


def sanction_inputs_for(rules: sanctions.SanctionRules, inputs: ScenarioInputs,
                     table: pd.DataFrame) -> sanctions.SanctionInputs:
    """The year's sanction inputs with the scenario's grades, and the nominally-open candidates
    at the scenario's ratio (recomputed from the year's frames when it differs)."""
    base = inputs.sanction_inputs
    if base is None:
        base = sanctions.SanctionInputs(year=inputs.year, units=_units_for_sanctions(inputs.table))
    ratio = float(rules.nominally_open.max_external_ratio)
    if rules.nominally_open.enabled and not math.isclose(float(base.candidates_ratio), ratio, abs_tol=1e-12):
        if base.annual is not None and inputs.usage is not None:
            if ratio not in inputs._candidates:
                inputs._candidates[ratio] = quality.nominally_open_candidates(
                    base.annual, sanctions.records_for_open_check(inputs.services), inputs.usage, ratio, inputs.year)
            base = replace(base, candidates=inputs._candidates[ratio], candidates_ratio=ratio)
        else:
            base = replace(base, candidates=None, candidates_ratio=ratio)  # apply names the missing frame
    return replace(base, evaluation=table)


def potential_sanction_counts(rules: sanctions.SanctionRules, inputs: ScenarioInputs,
                              table: pd.DataFrame) -> pd.Series:
    """Units each rule would catch with its thresholds as set, whether or not it is switched on, so
    a switch can show what turning it on would do. Index sanctions.RULE_IDS. The nominally-open rule
    counts 0 when the inputs lack the frames to judge it."""
    on = rules
    for rule_id in sanctions.RULE_IDS:
        on = on.with_rule(rule_id, enabled=True)

    def count() -> pd.Series:
        base = sanction_inputs_for(on, inputs, table)
        judged = on if base.candidates is not None else on.with_rule(sanctions.NOMINALLY_OPEN, enabled=False)
        return sanctions.rule_counts(sanctions.apply(judged, base))

    return _memoised(inputs, ("potential", on, _table_key(table)), count).copy()


def _table_key(table: pd.DataFrame) -> tuple:
    """What the sanction rules read of an evaluation table (units, grades, scores, statuses)."""
    return (tuple(table.index), tuple(table["grade"].astype(str)),
            tuple(None if np.isnan(x) else round(float(x), 9) for x in table["score"].to_numpy(float)),
            tuple(table["status"].astype(str)))


def _sanctions(params: ScenarioParams, inputs: ScenarioInputs, table: pd.DataFrame):
    """(SanctionOutcome | None, {unit: fired rule ids}, excluded unit ids)."""
    if params.sanctions is None:
        return None, {}, set()
    key = ("sanctions", params.sanctions, *_table_key(table))
    try:
        result = _memoised(inputs, key, lambda: sanctions.apply(
            params.sanctions, sanction_inputs_for(params.sanctions, inputs, table)))
    except ValueError as exc:  # a rule is on whose data the inputs lack
        raise ScenarioError("sanctions", "missing_data", value=str(exc)) from exc
    fired = {row.unit_id: tuple(row.rules) for row in result.by_unit.itertuples(index=False)}
    return result, fired, set(sanctions.excluded_from_rewards(result))


def outcome(params: ScenarioParams, inputs: ScenarioInputs, name: str = "") -> ScenarioOutcome:
    """Work out `params` on `inputs` (module docstring). Raises ScenarioError when the scenario
    names another year than the inputs', an unknown indicator, or the scheme rejects it."""
    if params.year is not None and params.year != inputs.year:
        raise ScenarioError("year", "year_mismatch", value=params.year, inputs_year=inputs.year)
    scheme = scheme_for(params, inputs.scheme)
    weights = global_weights(params, scheme)
    try:
        result = scoring.evaluate(inputs.table.raw, inputs.table.units, scheme, weights=weights)
    except SchemeError as exc:
        raise ScenarioError("grade_rule", "invalid", value=str(exc)) from exc
    table = result.table
    unit_ids = table.index

    sanction_outcome, fired, excluded = _sanctions(params, inputs, table)

    if params.vouchers is not None:
        voucher_outcome = _memoised(inputs, ("vouchers", params.vouchers),
                                    lambda: vouchers.simulate(inputs.services, params.vouchers, inputs.year))
        holders = voucher_outcome.by_holder.set_index("unit_id")
        revenue = holders["voucher_revenue_cny"].astype(float).reindex(unit_ids, fill_value=0.0)
        subsidy = holders["post_subsidy_cny"].astype(float).reindex(unit_ids, fill_value=0.0)
    else:
        voucher_outcome = None
        revenue = pd.Series(0.0, index=unit_ids)
        subsidy = pd.Series(0.0, index=unit_ids)
    is_excluded = pd.Series(unit_ids.isin(list(excluded)), index=unit_ids)
    withheld = subsidy.where(is_excluded, 0.0)
    paid_subsidy = subsidy.where(~is_excluded, 0.0)

    frame = pd.DataFrame({
        "unit_id": unit_ids,
        "score": table["score"].to_numpy(float),
        "grade": table["grade"].to_numpy(object),
        "external_income_cny": inputs.external_income.reindex(unit_ids, fill_value=0.0).to_numpy(float),
        "voucher_revenue_cny": revenue.to_numpy(float),
    })
    grade_or_none = frame["grade"].where(frame["grade"].astype(str) != "", None)
    reward = incentives.reward_outcome(frame.assign(grade=grade_or_none), params.reward, excluded=excluded)
    rt = reward.table.set_index("unit_id")

    names = inputs.table.units.reindex(unit_ids)
    units = pd.DataFrame({
        "unit_id": unit_ids,
        "name": names["name"].to_numpy(object) if "name" in names else "",
        "name_en": names["name_en"].to_numpy(object) if "name_en" in names else "",
        "status": table["status"].to_numpy(object),
        "score": table["score"].to_numpy(float),
        "rank": table["rank"].to_numpy(),
        "grade": table["grade"].to_numpy(object),
        "sanctioned": [bool(fired.get(u)) for u in unit_ids],
        "sanction_rules": [tuple(fired.get(u, ())) for u in unit_ids],
        "excluded": is_excluded.to_numpy(bool),
        "eligible": rt["eligible"].reindex(unit_ids).to_numpy(bool),
        "reason_if_not": pd.Series([r if isinstance(r, str) else None for r in rt["reason_if_not"].reindex(unit_ids)],
                                   dtype=object),
        "reward_cny": rt["reward"].reindex(unit_ids).to_numpy(float),
        "voucher_revenue_cny": revenue.to_numpy(float),
        "post_subsidy_cny": paid_subsidy.to_numpy(float),
        "post_subsidy_withheld_cny": withheld.to_numpy(float),
    })
    units["rank"] = units["rank"].astype("Int64")
    units["total_cny"] = _cents_sum(units["reward_cny"], units["post_subsidy_cny"])
    units = units[list(UNIT_COLUMNS)].reset_index(drop=True)

    labels = scheme.grade.labels()
    totals = _totals(units, reward, voucher_outcome, labels, params)
    return ScenarioOutcome(name=name, params=params, year=inputs.year, units=units, totals=totals,
                           grade_labels=labels, evaluation=result, reward=reward,
                           vouchers=voucher_outcome, sanctions=sanction_outcome)


def _cents(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float) * 100.0).astype(np.int64)


def _cents_sum(*columns) -> np.ndarray:
    return sum(_cents(c) for c in columns) / 100.0


def _money(values) -> float:
    return int(_cents(values).sum()) / 100.0


def _totals(units: pd.DataFrame, reward: incentives.RewardOutcome, voucher: vouchers.VoucherOutcome | None,
            labels, params: ScenarioParams) -> dict:
    reward_paid = reward.total
    spend = voucher.spend_cny if voucher is not None else 0.0
    subsidy_paid = _money(units["post_subsidy_cny"])
    pool = voucher.params.pool_cny if voucher is not None else None
    totals = {
        "fiscal_cost_cny": _money([reward_paid, spend, subsidy_paid]),
        "reward_pool_cny": float(params.reward.pool_cny),
        "reward_paid_cny": reward_paid,
        "reward_unspent_cny": reward.unspent,
        "rewarded_units": int((units["reward_cny"] > 0).sum()),
        "voucher_pool_cny": float("nan") if pool is None else float(pool),
        "voucher_spend_cny": float(spend),
        "firms_served": int(voucher.firms_served) if voucher is not None else 0,
        "services_covered": int(voucher.services_covered) if voucher is not None else 0,
        "voucher_post_subsidy_cny": subsidy_paid,
        "voucher_post_subsidy_withheld_cny": _money(units["post_subsidy_withheld_cny"]),
        "sanctioned_units": int(units["sanctioned"].sum()),
        "excluded_units": int(units["excluded"].sum()),
        "rated_units": int((units["status"] == scoring.RATED).sum()),
    }
    grades = units["grade"].astype(str)
    for key, label in zip(GRADE_FIGURES, labels):
        totals[key] = int((grades == label).sum())
    return {k: totals[k] for k in FIGURES}


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True, eq=False)
class Comparison:
    """A baseline and up to a few scenarios side by side (module docstring)."""

    baseline: ScenarioOutcome
    outcomes: dict  # name → ScenarioOutcome, in the order given
    summary: pd.DataFrame  # index FIGURES; columns BASELINE, then the scenario names
    deltas: pd.DataFrame  # index FIGURES; columns the scenario names: scenario − baseline
    changes: pd.DataFrame  # CHANGE_COLUMNS

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.outcomes)

    def changes_for(self, name: str) -> pd.DataFrame:
        return self.changes[self.changes["scenario"] == name].reset_index(drop=True)


def _figure_column(o: ScenarioOutcome) -> pd.Series:
    return pd.Series({k: o.totals[k] for k in FIGURES}, dtype=float)


def _unit_changes(name: str, before: ScenarioOutcome, after: ScenarioOutcome) -> pd.DataFrame:
    b = before.units.set_index("unit_id")
    a = after.units.set_index("unit_id")
    ids = b.index.union(a.index, sort=False)
    b, a = b.reindex(ids), a.reindex(ids)

    def money(frame, col):
        return frame[col].astype(float).fillna(0.0)

    def rules(frame):
        return [tuple(r) if isinstance(r, tuple) else () for r in frame["sanction_rules"]]

    out = pd.DataFrame({
        "scenario": name,
        "unit_id": ids,
        "name": a["name"].fillna(b["name"]).to_numpy(object),
        "name_en": a["name_en"].fillna(b["name_en"]).to_numpy(object),
        "grade_before": b["grade"].fillna("").to_numpy(object),
        "grade_after": a["grade"].fillna("").to_numpy(object),
        "rank_before": b["rank"].astype("Int64").to_numpy(),
        "rank_after": a["rank"].astype("Int64").to_numpy(),
        "score_before": b["score"].astype(float).to_numpy(),
        "score_after": a["score"].astype(float).to_numpy(),
        "reward_before": money(b, "reward_cny").to_numpy(),
        "reward_after": money(a, "reward_cny").to_numpy(),
        "post_subsidy_before": money(b, "post_subsidy_cny").to_numpy(),
        "post_subsidy_after": money(a, "post_subsidy_cny").to_numpy(),
        "money_before": money(b, "total_cny").to_numpy(),
        "money_after": money(a, "total_cny").to_numpy(),
        "sanctioned_before": b["sanctioned"].fillna(False).astype(bool).to_numpy(),
        "sanctioned_after": a["sanctioned"].fillna(False).astype(bool).to_numpy(),
        "rules_before": rules(b),
        "rules_after": rules(a),
    })
    out["rank_before"] = out["rank_before"].astype("Int64")
    out["rank_after"] = out["rank_after"].astype("Int64")
    out["grade_changed"] = out["grade_before"] != out["grade_after"]
    out["money_change"] = (_cents(out["money_after"]) - _cents(out["money_before"])) / 100.0
    change = np.where(out["sanctioned_after"] & ~out["sanctioned_before"], "new",
                      np.where(out["sanctioned_before"] & ~out["sanctioned_after"], "lifted", ""))
    other_rules = np.array([set(x) != set(y) for x, y in zip(out["rules_before"], out["rules_after"])], dtype=bool)
    change = np.where((change == "") & other_rules, "rules", change)
    out["sanction_change"] = change.astype(object)
    keep = out["grade_changed"] | (out["money_change"] != 0) | (out["sanction_change"] != "")
    out = out[keep].assign(_abs=lambda d: d["money_change"].abs(), _uid=lambda d: d["unit_id"].astype(str))
    out = out.sort_values(["_abs", "grade_changed", "_uid"], ascending=[False, False, True], kind="stable")
    return out.drop(columns=["_abs", "_uid"])[list(CHANGE_COLUMNS)]


def compare(baseline: ScenarioOutcome, others: Mapping[str, ScenarioOutcome]) -> Comparison:
    """The baseline against each scenario in `others` (name → outcome, order kept)."""
    names = list(others)
    if BASELINE in names:
        raise ValueError(f"a scenario may not be called {BASELINE!r} in a comparison")
    summary = pd.DataFrame({BASELINE: _figure_column(baseline)}, index=list(FIGURES))
    for name in names:
        summary[name] = _figure_column(others[name])
    deltas = pd.DataFrame(index=list(FIGURES))
    for name in names:
        diff = summary[name] - summary[BASELINE]
        money = pd.Series([k in MONEY_FIGURES for k in FIGURES], index=list(FIGURES))
        deltas[name] = diff.where(~money, diff.round(2))
    summary.index.name = deltas.index.name = "figure"
    parts = [_unit_changes(name, baseline, others[name]) for name in names]
    changes = (pd.concat(parts, ignore_index=True) if parts
               else pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS}))
    return Comparison(baseline=baseline, outcomes={n: others[n] for n in names}, summary=summary,
                      deltas=deltas, changes=changes.reset_index(drop=True))


__all__ = [
    "BASELINE", "CHANGE_COLUMNS", "Comparison", "ERROR_REASONS", "FIGURES", "GRADE_FIGURES", "MONEY_FIGURES",
    "SANCTION_CHANGES", "SCHEMA_VERSION", "ScenarioError", "ScenarioInputs", "ScenarioOutcome", "ScenarioParams",
    "UNIT_COLUMNS", "build_inputs", "compare", "external_income", "scenario_id_from_query", "global_weights", "grade_rule_from_dict",
    "grade_rule_to_dict", "outcome", "reward_rule_from_dict", "scheme_for", "voucher_params_from_dict",
]
