"""Sanction rules (Alxa 2016 opinions, point 六): which units are sanctioned, on which grounds,
with which consequences.

Pure pandas; nothing here reads the store or knows about Streamlit. Everything is returned as ids
(rule ids, consequence ids, evidence column names, evaluation grade labels and statuses); the page
translates them (catalogue keys `sanctions.rule.<rule id>`, `sanctions.consequence.<consequence
id>`, `sanctions.evidence.<evidence column>`).

Rules (RULE_IDS, always in this order). Each is on/off with its thresholds; ">=" and ">" are
written out because a unit exactly at a threshold is the first question a meeting asks.

    poor_grade      the unit's evaluation grade is one of `grades` (default: the fourth grade under
                    either name, 较差 nationally / 不合格 in Inner Mongolia). The grade is taken as
                    the evaluation gives it: a unit not rated because it did not report gets the
                    fourth grade there (dashboard.scoring), so it is caught here too; a unit with
                    too few instruments has no grade and is never caught.
                    Evidence: grade, score (NaN when not rated), status.
    not_reporting   the unit never reported in the year (reporting_summary.never_reported: something
                    was due and nothing came in), OR missing reports >= `min_missing` (default 3;
                    None = only "never reported" counts).
                    Evidence: never_reported, due, missing, on_time_share.
    late_reporting  late reports >= `min_late` (default 3), OR the latest report came in
                    >= `min_days_late` days after its due date (default 30 [I]); either criterion
                    None = not used (both None: the rule never fires).
                    Evidence: due, late, max_days_late, on_time_share.
    nominally_open  ("名义开放、实际封闭") the unit has >= `min_candidates` (default 1) instruments
                    listed by `dashboard.quality.nominally_open_candidates` at the external/internal
                    hours ratio `max_external_ratio` (default 0.10; an instrument exactly at the
                    ratio is not a candidate, see that function). Only instruments that reported
                    usage in the year can be candidates; an instrument without reports is a
                    reporting failure (not_reporting / late_reporting), never grounds here.
                    Evidence: candidates, candidate_ids (tuple of instrument ids).
    idle_share      (off by default) among units with >= `min_in_service` (default 2) in-service
                    instruments, idle share > `max_share` (default 0.5; exactly at the line does
                    not fire). idle share = in-service instruments classed idle by
                    `dashboard.load.load_class` / in-service instruments (exempt instruments stay
                    in, as on the utilisation page).
                    Evidence: idle, in_service, idle_share, idle_unreported (idle instruments that
                    reported no usage in the year, i.e. whose 0 h is missing data; <NA> when the
                    annual frame has no months_reported column).

Consequences (`Consequences`; CONSEQUENCE_IDS): public_notice (通报), no_post_subsidy (excluded
from the reward / post-subsidy pool: feeds `dashboard.incentives.reward_table(excluded=...)`),
rectification (整改期, `rectification_years` > 0), purchase_restriction (限制新购置,
`purchase_restricted_years` > 0). Defaults follow ../shared/reference/policy_facts.md ("Rewards and
sanctions as applied") and point 六; [I] marks a local choice:
    poor_grade      public notice + no post-subsidy + 1-year rectification period
    not_reporting   public notice + no post-subsidy
    late_reporting  public notice [I]
    nominally_open  public notice + no post-subsidy + purchases restricted 1 year
    idle_share      1-year rectification period
A unit caught by several rules gets the union: the flags OR-ed, the years the maximum.

Purchase restriction: sanctions are decided on the evaluation of year Y; a restriction of N years
covers purchase requests of the years Y+1 … Y+N (`restricted_units`: from_year, until_year, both
inclusive). `flag_purchase_requests` picks the purchase requests the joint review must be warned
about: the applicant is restricted and the request was submitted in the window (flag "in_window"),
or was submitted before the window and is not yet decided, so it will be reviewed while the
restriction is in force (flag "pending"). A request submitted after until_year is never flagged.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np
import pandas as pd

from dashboard import census
from dashboard import quality as Q
from dashboard.load import LOAD_IDLE, LoadLines, load_class

# ------------------------------------------------------------------------------------ ids

POOR_GRADE = "poor_grade"
NOT_REPORTING = "not_reporting"
LATE_REPORTING = "late_reporting"
NOMINALLY_OPEN = "nominally_open"
IDLE_SHARE = "idle_share"
RULE_IDS = (POOR_GRADE, NOT_REPORTING, LATE_REPORTING, NOMINALLY_OPEN, IDLE_SHARE)  # sanctions.rule.<id>

PUBLIC_NOTICE = "public_notice"
NO_POST_SUBSIDY = "no_post_subsidy"
RECTIFICATION = "rectification"
PURCHASE_RESTRICTION = "purchase_restriction"
CONSEQUENCE_IDS = (PUBLIC_NOTICE, NO_POST_SUBSIDY, RECTIFICATION, PURCHASE_RESTRICTION)  # sanctions.consequence.<id>

# The fourth evaluation grade under both of its names (policy_facts.md): 较差 nationally,
# 不合格 in Inner Mongolia; the scheme's GradeRule.fourth_label picks one.
FOURTH_GRADE_LABELS = ("较差", "不合格")

# Evidence columns of `SanctionOutcome.fired` (sanctions.evidence.<column>); each rule fills its own
# (module docstring) and leaves the others missing.
RULE_EVIDENCE = {
    POOR_GRADE: ("grade", "score", "status"),
    NOT_REPORTING: ("never_reported", "due", "missing", "on_time_share"),
    LATE_REPORTING: ("due", "late", "max_days_late", "on_time_share"),
    NOMINALLY_OPEN: ("candidates", "candidate_ids"),
    IDLE_SHARE: ("idle", "in_service", "idle_share", "idle_unreported"),
}
EVIDENCE_COLUMNS = ("grade", "score", "status", "never_reported", "due", "missing", "late", "max_days_late",
                    "on_time_share", "candidates", "candidate_ids", "idle", "in_service", "idle_share",
                    "idle_unreported")
_EVIDENCE_DTYPES = {
    "grade": object, "score": float, "status": object, "never_reported": "boolean", "due": "Int64",
    "missing": "Int64", "late": "Int64", "max_days_late": "Int64", "on_time_share": float,
    "candidates": "Int64", "candidate_ids": object, "idle": "Int64", "in_service": "Int64",
    "idle_share": float, "idle_unreported": "Int64",
}
CONSEQUENCE_COLUMNS = ("public_notice", "no_post_subsidy", "rectification_years", "purchase_restricted_years")
FIRED_COLUMNS = ("unit_id", "rule", *EVIDENCE_COLUMNS, *CONSEQUENCE_COLUMNS, "consequences")
BY_UNIT_COLUMNS = ("unit_id", "name", "name_en", "rules", "consequences", *CONSEQUENCE_COLUMNS)
RESTRICTED_COLUMNS = ("unit_id", "until_year", "rules", "years", "from_year")
RULES_FRAME_COLUMNS = ("rule", "enabled", *CONSEQUENCE_COLUMNS)

MAX_YEARS = 10  # a consequence lasting longer is taken for a typo
EPSILON = 1e-9  # float noise in idle share × in-service comparisons


class SanctionRulesError(ValueError):
    """Sanction rules that cannot be used; the message names the field (e.g. idle_share.max_share)."""


# ------------------------------------------------------------------------------------ rules


@dataclass(frozen=True)
class Consequences:
    """What a rule that fires brings on a unit. Years: 0 = none."""

    public_notice: bool = False
    no_post_subsidy: bool = False
    rectification_years: int = 0
    purchase_restricted_years: int = 0

    def ids(self) -> tuple[str, ...]:
        """The consequence ids that apply, in CONSEQUENCE_IDS order."""
        on = {PUBLIC_NOTICE: self.public_notice, NO_POST_SUBSIDY: self.no_post_subsidy,
              RECTIFICATION: self.rectification_years > 0, PURCHASE_RESTRICTION: self.purchase_restricted_years > 0}
        return tuple(c for c in CONSEQUENCE_IDS if on[c])


@dataclass(frozen=True)
class PoorGradeRule:
    enabled: bool = True
    grades: tuple[str, ...] = FOURTH_GRADE_LABELS  # fires when grade ∈ grades
    consequences: Consequences = Consequences(public_notice=True, no_post_subsidy=True, rectification_years=1)


@dataclass(frozen=True)
class NotReportingRule:
    enabled: bool = True
    min_missing: int | None = 3  # fires when never reported, or missing ≥ min_missing (None: not used)
    consequences: Consequences = Consequences(public_notice=True, no_post_subsidy=True)


@dataclass(frozen=True)
class LateReportingRule:
    enabled: bool = True
    min_late: int | None = 3  # late reports ≥ min_late (None: not used)
    min_days_late: int | None = 30  # [I] or max days late ≥ min_days_late (None: not used)
    consequences: Consequences = Consequences(public_notice=True)  # [I]


@dataclass(frozen=True)
class NominallyOpenRule:
    enabled: bool = True
    min_candidates: int = 1  # candidate instruments ≥ min_candidates
    max_external_ratio: float = Q.DEFAULT_MAX_EXTERNAL_RATIO  # [I] external < ratio × internal hours
    consequences: Consequences = Consequences(public_notice=True, no_post_subsidy=True, purchase_restricted_years=1)


@dataclass(frozen=True)
class IdleShareRule:
    enabled: bool = False
    max_share: float = 0.5  # [I] fires when idle share > max_share
    min_in_service: int = 2  # only units with ≥ min_in_service in-service instruments
    consequences: Consequences = Consequences(rectification_years=1)


_RULE_CLASSES = {POOR_GRADE: PoorGradeRule, NOT_REPORTING: NotReportingRule, LATE_REPORTING: LateReportingRule,
                 NOMINALLY_OPEN: NominallyOpenRule, IDLE_SHARE: IdleShareRule}


@dataclass(frozen=True)
class SanctionRules:
    """All sanction rules; one field per rule id (RULE_IDS)."""

    poor_grade: PoorGradeRule = PoorGradeRule()
    not_reporting: NotReportingRule = NotReportingRule()
    late_reporting: LateReportingRule = LateReportingRule()
    nominally_open: NominallyOpenRule = NominallyOpenRule()
    idle_share: IdleShareRule = IdleShareRule()

    def rule(self, rule_id: str):
        if rule_id not in RULE_IDS:
            raise SanctionRulesError(f"unknown sanction rule {rule_id!r}; expected one of {RULE_IDS}")
        return getattr(self, rule_id)

    def enabled_rules(self) -> tuple[str, ...]:
        return tuple(r for r in RULE_IDS if self.rule(r).enabled)

    def with_rule(self, rule_id: str, **changes) -> "SanctionRules":
        """A copy with fields of one rule changed, e.g. with_rule("idle_share", enabled=True)."""
        current = self.rule(rule_id)
        unknown = sorted(set(changes) - {f.name for f in fields(current)})
        if unknown:
            raise SanctionRulesError(f"{rule_id}: unknown fields {unknown}")
        return replace(self, **{rule_id: replace(current, **changes)}).validate()

    def with_consequences(self, rule_id: str, **changes) -> "SanctionRules":
        """A copy with consequences of one rule changed, e.g.
        with_consequences("nominally_open", purchase_restricted_years=2)."""
        current = self.rule(rule_id).consequences
        unknown = sorted(set(changes) - {f.name for f in fields(Consequences)})
        if unknown:
            raise SanctionRulesError(f"{rule_id}.consequences: unknown fields {unknown}")
        return self.with_rule(rule_id, consequences=replace(current, **changes))

    def validate(self) -> "SanctionRules":
        """Raise SanctionRulesError naming the first wrong field; return self when usable."""
        for rule_id in RULE_IDS:
            rule = getattr(self, rule_id)
            if not isinstance(rule, _RULE_CLASSES[rule_id]):
                raise SanctionRulesError(f"{rule_id} must be a {_RULE_CLASSES[rule_id].__name__}")
            _check_bool(f"{rule_id}.enabled", rule.enabled)
            _validate_consequences(f"{rule_id}.consequences", rule.consequences)
        g = self.poor_grade.grades
        if not isinstance(g, tuple) or not all(isinstance(x, str) and x.strip() for x in g):
            raise SanctionRulesError(f"poor_grade.grades must be a list of grade labels, got {g!r}")
        _check_int("not_reporting.min_missing", self.not_reporting.min_missing, 1, optional=True)
        _check_int("late_reporting.min_late", self.late_reporting.min_late, 1, optional=True)
        _check_int("late_reporting.min_days_late", self.late_reporting.min_days_late, 1, optional=True)
        _check_int("nominally_open.min_candidates", self.nominally_open.min_candidates, 1)
        _check_number("nominally_open.max_external_ratio", self.nominally_open.max_external_ratio, 0.0, None,
                      low_open=True)
        _check_number("idle_share.max_share", self.idle_share.max_share, 0.0, 1.0, high_open=True)
        _check_int("idle_share.min_in_service", self.idle_share.min_in_service, 1)
        return self

    def to_dict(self) -> dict:
        """JSON-ready: {rule id: {field: value, "consequences": {...}}}; tuples as lists."""
        return {rule_id: _plain(asdict(getattr(self, rule_id))) for rule_id in RULE_IDS}

    @classmethod
    def from_dict(cls, data: dict) -> "SanctionRules":
        """Rules from `to_dict` output. Missing rules and fields take their defaults; unknown
        rules or fields and wrong types raise SanctionRulesError naming the field."""
        if not isinstance(data, dict):
            raise SanctionRulesError(f"sanction rules must be an object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(RULE_IDS))
        if unknown:
            raise SanctionRulesError(f"unknown sanction rules {unknown}; expected some of {list(RULE_IDS)}")
        built = {}
        for rule_id in RULE_IDS:
            if rule_id not in data:
                continue
            part = data[rule_id]
            if not isinstance(part, dict):
                raise SanctionRulesError(f"{rule_id} must be an object, got {type(part).__name__}")
            klass = _RULE_CLASSES[rule_id]
            names = {f.name for f in fields(klass)}
            extra = sorted(set(part) - names)
            if extra:
                raise SanctionRulesError(f"{rule_id}: unknown fields {extra}")
            values = dict(part)
            if "consequences" in values:
                values["consequences"] = _consequences_from(f"{rule_id}.consequences", values["consequences"],
                                                            klass().consequences)
            if "grades" in values:
                grades = values["grades"]
                if isinstance(grades, str) or not isinstance(grades, (list, tuple)):
                    raise SanctionRulesError(f"{rule_id}.grades must be a list of grade labels, got {grades!r}")
                values["grades"] = tuple(grades)
            for name in ("max_external_ratio", "max_share"):
                if name in values:  # JSON may give 1 for 1.0
                    _check_number(f"{rule_id}.{name}", values[name], None, None)
                    values[name] = float(values[name])
            built[rule_id] = klass(**values)
        return cls(**built).validate()


def _plain(value):
    """Nested dict with tuples as lists and numpy scalars as Python values (JSON-ready)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _consequences_from(path: str, data, default: Consequences) -> Consequences:
    if not isinstance(data, dict):
        raise SanctionRulesError(f"{path} must be an object, got {type(data).__name__}")
    extra = sorted(set(data) - {f.name for f in fields(Consequences)})
    if extra:
        raise SanctionRulesError(f"{path}: unknown fields {extra}")
    return replace(default, **data)


def _validate_consequences(path: str, c) -> None:
    if not isinstance(c, Consequences):
        raise SanctionRulesError(f"{path} must be Consequences")
    _check_bool(f"{path}.public_notice", c.public_notice)
    _check_bool(f"{path}.no_post_subsidy", c.no_post_subsidy)
    _check_int(f"{path}.rectification_years", c.rectification_years, 0, MAX_YEARS)
    _check_int(f"{path}.purchase_restricted_years", c.purchase_restricted_years, 0, MAX_YEARS)


def _check_bool(path: str, v) -> None:
    if not isinstance(v, (bool, np.bool_)):
        raise SanctionRulesError(f"{path} must be true or false, got {v!r}")


def _check_int(path: str, v, low: int, high: int | None = None, optional: bool = False) -> None:
    if v is None and optional:
        return
    ok = isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
    if not ok or v < low or (high is not None and v > high):
        bound = f"between {low} and {high}" if high is not None else f"≥ {low}"
        none = " or null" if optional else ""
        raise SanctionRulesError(f"{path} must be a whole number {bound}{none}, got {v!r}")


def _check_number(path: str, v, low: float | None, high: float | None,
                  low_open: bool = False, high_open: bool = False) -> None:
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) \
        and math.isfinite(float(v))
    if ok and low is not None:
        ok = float(v) > low if low_open else float(v) >= low
    if ok and high is not None:
        ok = float(v) < high if high_open else float(v) <= high
    if not ok:
        lo = "" if low is None else (f"> {low}" if low_open else f"≥ {low}")
        hi = "" if high is None else (f"< {high}" if high_open else f"≤ {high}")
        bound = " and ".join(b for b in (lo, hi) if b) or "finite"
        raise SanctionRulesError(f"{path} must be a number {bound}, got {v!r}")


def rules_frame(rules: SanctionRules) -> pd.DataFrame:
    """One row per rule (RULE_IDS order): rule, enabled and its consequences
    (RULES_FRAME_COLUMNS), for showing the consequences beside the switches."""
    rows = []
    for rule_id in RULE_IDS:
        r = rules.rule(rule_id)
        rows.append({"rule": rule_id, "enabled": bool(r.enabled), **asdict(r.consequences)})
    return pd.DataFrame(rows, columns=list(RULES_FRAME_COLUMNS))


# ------------------------------------------------------------------------------------ inputs


@dataclass(frozen=True, eq=False)
class SanctionInputs:
    """The frames the rules read, all of one year. A frame may be None only while the rules that
    read it are off (`apply` says which one is missing).

    year        the evaluated year (purchase restrictions count from it).
    units       models.queries.units (id; name and name_en are carried into by_unit when present).
                When given, only these units can be sanctioned.
    evaluation  dashboard.scoring.EvaluationResult.table (index unit_id, or a unit_id column;
                grade, score, status) — poor_grade.
    reporting   dashboard.quality.reporting_summary (SUMMARY_COLUMNS) — not_reporting,
                late_reporting. The page chooses the report kinds (all kinds, or kind="usage").
    candidates  dashboard.quality.nominally_open_candidates (CANDIDATE_COLUMNS), computed at
                `candidates_ratio` — nominally_open. `apply` refuses candidates computed at
                another ratio than the rule's; `build_inputs` computes them at the rule's ratio.
    annual      census.annual_frame or utilisation.utilisation_frame of the year (unit_id,
                effective_hours, rated_hours, in_service; months_reported optional) — idle_share.
    load_lines  the idle line (dashboard.load.LoadLines; the page passes its policy's lines)."""

    year: int | None = None
    units: pd.DataFrame | None = None
    evaluation: pd.DataFrame | None = None
    reporting: pd.DataFrame | None = None
    candidates: pd.DataFrame | None = None
    candidates_ratio: float = Q.DEFAULT_MAX_EXTERNAL_RATIO
    annual: pd.DataFrame | None = None
    load_lines: LoadLines = field(default_factory=LoadLines)


OPEN_CHECK_COLUMNS = ("instrument_id", "user_type", "start_time")  # what the nominally-open check reads


def records_for_open_check(services: pd.DataFrame) -> pd.DataFrame:
    """The service records with only the columns `quality.nominally_open_candidates` reads of
    them (it filters the records by year and user type: the other columns need not be copied).
    Records without those columns are passed on as they are (the check names what is missing)."""
    if services is None or not all(c in services.columns for c in OPEN_CHECK_COLUMNS[:2]):
        return services
    return services[[c for c in OPEN_CHECK_COLUMNS if c in services.columns]]


def build_inputs(year: int, units: pd.DataFrame | None, evaluation, reporting: pd.DataFrame | None,
                 annual: pd.DataFrame | None, services: pd.DataFrame | None = None,
                 usage: pd.DataFrame | None = None, rules: SanctionRules | None = None,
                 load_lines: LoadLines | None = None) -> SanctionInputs:
    """Inputs from the page's cached reads. `evaluation` is an EvaluationResult or its table.
    The nominally-open candidates are computed here with
    `quality.nominally_open_candidates(annual, services, usage, rules.nominally_open.max_external_ratio,
    year)` when annual, services and usage are all given (services: models.queries.services(year);
    usage: usage_by_instrument_year(year) or usage_monthly(year))."""
    rules = rules or SanctionRules()
    ratio = float(rules.nominally_open.max_external_ratio)
    candidates = None
    if annual is not None and services is not None and usage is not None:
        candidates = Q.nominally_open_candidates(annual, records_for_open_check(services), usage, ratio, year)
    return SanctionInputs(
        year=year, units=units, evaluation=getattr(evaluation, "table", evaluation), reporting=reporting,
        candidates=candidates, candidates_ratio=ratio, annual=annual,
        load_lines=load_lines if load_lines is not None else LoadLines(),
    )


# ------------------------------------------------------------------------------------ outcome


@dataclass(frozen=True, eq=False)
class SanctionOutcome:
    """fired: one row per (unit, rule that fired), FIRED_COLUMNS, by unit id then RULE_IDS order:
        unit_id, rule, the evidence columns (EVIDENCE_COLUMNS; the rule's own filled, the others
        missing), the rule's consequences (public_notice, no_post_subsidy, rectification_years,
        purchase_restricted_years) and consequences (tuple of consequence ids).
    by_unit: one row per sanctioned unit, BY_UNIT_COLUMNS: unit_id, name, name_en ("" when the
        units frame has none), rules (tuple of rule ids), consequences (union, tuple of ids), the
        flags OR-ed and the years the maximum over its rules. Most rules first, then unit id.
    rules, year: what produced it."""

    fired: pd.DataFrame
    by_unit: pd.DataFrame
    rules: SanctionRules
    year: int | None = None


def _unit_ids_of(frame: pd.DataFrame) -> pd.Series:
    if "unit_id" in frame.columns:
        return frame["unit_id"]
    return pd.Series(frame.index, index=frame.index, name="unit_id")


def _need(inputs: SanctionInputs, name: str, rule_id: str) -> pd.DataFrame:
    frame = getattr(inputs, name)
    if frame is None:
        raise ValueError(f"sanction rule {rule_id} is on but the inputs have no {name} frame")
    return frame


def _poor_grade(rule: PoorGradeRule, inputs: SanctionInputs) -> pd.DataFrame:
    table = _need(inputs, "evaluation", POOR_GRADE)
    frame = pd.DataFrame({
        "unit_id": _unit_ids_of(table).to_numpy(),
        "grade": table["grade"].to_numpy(object),
        "score": pd.to_numeric(table["score"], errors="coerce").to_numpy(float),
        "status": table["status"].to_numpy(object) if "status" in table else None,
    })
    return frame[frame["grade"].isin(list(rule.grades))]


def _int_column(frame: pd.DataFrame, name: str) -> pd.Series:
    return pd.array(pd.to_numeric(frame[name], errors="coerce"), dtype="Int64") if name in frame else \
        pd.array([pd.NA] * len(frame), dtype="Int64")


def _reporting(inputs: SanctionInputs, rule_id: str) -> pd.DataFrame:
    rep = _need(inputs, "reporting", rule_id)
    return pd.DataFrame({
        "unit_id": rep["unit_id"].to_numpy(),
        "never_reported": pd.array(rep["never_reported"].astype(bool), dtype="boolean"),
        "due": _int_column(rep, "due"),
        "missing": _int_column(rep, "missing"),
        "late": _int_column(rep, "late"),
        "max_days_late": _int_column(rep, "max_days_late"),
        "on_time_share": pd.to_numeric(rep["on_time_share"], errors="coerce").astype(float).to_numpy(),
    })


def _not_reporting(rule: NotReportingRule, inputs: SanctionInputs) -> pd.DataFrame:
    rep = _reporting(inputs, NOT_REPORTING)
    hit = rep["never_reported"].fillna(False).astype(bool)
    if rule.min_missing is not None:
        hit = hit | (rep["missing"] >= rule.min_missing).fillna(False).astype(bool)
    return rep.loc[hit.to_numpy(), ["unit_id", *RULE_EVIDENCE[NOT_REPORTING]]]


def _late_reporting(rule: LateReportingRule, inputs: SanctionInputs) -> pd.DataFrame:
    rep = _reporting(inputs, LATE_REPORTING)
    hit = pd.Series(False, index=rep.index)
    if rule.min_late is not None:
        hit = hit | (rep["late"] >= rule.min_late).fillna(False).astype(bool)
    if rule.min_days_late is not None:
        hit = hit | (rep["max_days_late"] >= rule.min_days_late).fillna(False).astype(bool)
    return rep.loc[hit.to_numpy(), ["unit_id", *RULE_EVIDENCE[LATE_REPORTING]]]


def _nominally_open(rule: NominallyOpenRule, inputs: SanctionInputs) -> pd.DataFrame:
    cands = _need(inputs, "candidates", NOMINALLY_OPEN)
    if not math.isclose(float(inputs.candidates_ratio), float(rule.max_external_ratio), rel_tol=0, abs_tol=1e-12):
        raise ValueError(
            f"nominally-open candidates were computed at ratio {inputs.candidates_ratio} but the rule uses "
            f"{rule.max_external_ratio}; rebuild the inputs with build_inputs(..., rules=rules)")
    if cands.empty:
        return pd.DataFrame(columns=["unit_id", *RULE_EVIDENCE[NOMINALLY_OPEN]])
    grouped = cands.groupby("unit_id")["instrument_id"]
    frame = pd.DataFrame({
        "candidates": grouped.size().astype("int64"),
        "candidate_ids": grouped.agg(lambda ids: tuple(sorted(int(i) for i in ids))),
    }).reset_index()
    frame["candidates"] = pd.array(frame["candidates"], dtype="Int64")
    return frame[frame["candidates"] >= rule.min_candidates]


def idle_shares(annual: pd.DataFrame, lines: LoadLines = LoadLines()) -> pd.DataFrame:
    """Per unit with in-service instruments: unit_id, in_service, idle (load_class idle),
    idle_share = idle / in_service, idle_unreported (idle and months_reported = 0; <NA> when the
    frame has no months_reported column). Units in unit_id order."""
    columns = ["unit_id", "in_service", "idle", "idle_share", "idle_unreported"]
    rows = census.in_service(annual) if len(annual) else annual
    if not len(rows):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    idle = (load_class(rows, lines) == LOAD_IDLE).to_numpy()
    parts = pd.DataFrame({"unit_id": rows["unit_id"].to_numpy(), "idle": idle.astype(int)})
    has_months = "months_reported" in rows
    if has_months:
        unreported = (pd.to_numeric(rows["months_reported"], errors="coerce") == 0).fillna(False).to_numpy(bool)
        parts["idle_unreported"] = (idle & unreported).astype(int)
    grouped = parts.groupby("unit_id")
    out = pd.DataFrame({"in_service": grouped.size(), "idle": grouped["idle"].sum()}).reset_index()
    out["idle_share"] = out["idle"] / out["in_service"]
    out["idle_unreported"] = (grouped["idle_unreported"].sum().to_numpy() if has_months
                              else pd.array([pd.NA] * len(out), dtype="Int64"))
    for col in ("in_service", "idle", "idle_unreported"):
        out[col] = pd.array(out[col], dtype="Int64")
    return out[columns]


def _idle_share(rule: IdleShareRule, inputs: SanctionInputs) -> pd.DataFrame:
    shares = idle_shares(_need(inputs, "annual", IDLE_SHARE), inputs.load_lines)
    if shares.empty:
        return pd.DataFrame(columns=["unit_id", *RULE_EVIDENCE[IDLE_SHARE]])
    n = shares["in_service"].astype(float)
    # idle / n > line, compared as idle > line × n so that 1 of 2 at a 0.5 line does not fire
    hit = (shares["in_service"] >= rule.min_in_service) & (shares["idle"].astype(float) > rule.max_share * n + EPSILON)
    return shares.loc[hit.fillna(False).astype(bool).to_numpy(), ["unit_id", *RULE_EVIDENCE[IDLE_SHARE]]]


_CHECKS = {POOR_GRADE: _poor_grade, NOT_REPORTING: _not_reporting, LATE_REPORTING: _late_reporting,
           NOMINALLY_OPEN: _nominally_open, IDLE_SHARE: _idle_share}


def _empty_fired() -> pd.DataFrame:
    out = pd.DataFrame({"unit_id": pd.Series(dtype=object), "rule": pd.Series(dtype=object)})
    for col in EVIDENCE_COLUMNS:
        out[col] = pd.Series(dtype=_EVIDENCE_DTYPES[col])
    out["public_notice"] = pd.Series(dtype=bool)
    out["no_post_subsidy"] = pd.Series(dtype=bool)
    out["rectification_years"] = pd.Series(dtype="int64")
    out["purchase_restricted_years"] = pd.Series(dtype="int64")
    out["consequences"] = pd.Series(dtype=object)
    return out[list(FIRED_COLUMNS)]


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every evidence column in its dtype (missing ones added, after the others, in
    EVIDENCE_COLUMNS order). Built in one go: adding the columns one by one cost a copy of the
    column labels each (≈1 ms apiece with pandas' Arrow-backed labels)."""
    columns = {c: frame[c] for c in frame.columns}
    for col in EVIDENCE_COLUMNS:
        dtype = _EVIDENCE_DTYPES[col]
        values = columns.get(col)
        if values is None:
            values = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        if dtype is object:
            values = values.astype(object).where(values.notna(), None)
        elif dtype is float:
            values = pd.to_numeric(values, errors="coerce").astype(float)
        else:
            values = values.astype(dtype)
        columns[col] = values
    return pd.DataFrame(columns, index=frame.index)


def _allowed_units(units: pd.DataFrame | None):
    if units is None:
        return None
    ids = units["id"] if "id" in units.columns else _unit_ids_of(units)
    return set(ids.tolist())


def apply(rules: SanctionRules, inputs: SanctionInputs) -> SanctionOutcome:
    """Every enabled rule over the inputs (module docstring) → SanctionOutcome."""
    rules.validate()
    allowed = _allowed_units(inputs.units)
    parts = []
    for rule_id in rules.enabled_rules():
        rule = rules.rule(rule_id)
        hits = _CHECKS[rule_id](rule, inputs)
        if allowed is not None:
            hits = hits[hits["unit_id"].isin(allowed)]
        if hits.empty:
            continue
        hits = hits.copy()
        hits["rule"] = rule_id
        c = rule.consequences
        hits["public_notice"] = bool(c.public_notice)
        hits["no_post_subsidy"] = bool(c.no_post_subsidy)
        hits["rectification_years"] = int(c.rectification_years)
        hits["purchase_restricted_years"] = int(c.purchase_restricted_years)
        hits["consequences"] = [c.ids()] * len(hits)
        parts.append(_typed(hits.reset_index(drop=True)))
    if parts:
        fired = pd.concat(parts, ignore_index=True)
        fired = _typed(fired)
        fired["_r"] = fired["rule"].map({r: i for i, r in enumerate(RULE_IDS)})
        fired = fired.sort_values(["unit_id", "_r"], kind="stable")[list(FIRED_COLUMNS)].reset_index(drop=True)
        for col in ("rectification_years", "purchase_restricted_years"):
            fired[col] = fired[col].astype("int64")
        for col in ("public_notice", "no_post_subsidy"):
            fired[col] = fired[col].astype(bool)
    else:
        fired = _empty_fired()
    return SanctionOutcome(fired=fired, by_unit=_by_unit(fired, inputs.units), rules=rules, year=inputs.year)


def _grouped(fired: pd.DataFrame, union_of: str | None = None) -> tuple[pd.Index, list[list], list[set]]:
    """The unit ids of `fired` as `fired.groupby("unit_id", sort=True)` gives them, with each
    unit's rules in row order and (when `union_of` names a column of tuples) the union of that
    column, in one pass over the rows: looping over the groups sliced every column once per unit
    (2.3 s for 3,010 units)."""
    g = fired.groupby("unit_id", sort=True)
    keys = g.size().index  # the groupby's result index: the keys its iteration yields, in order
    codes = g.ngroup().to_numpy()
    rules: list[list] = [[] for _ in range(len(keys))]
    unions: list[set] = [set() for _ in range(len(keys))]
    extra = fired[union_of] if union_of is not None else [()] * len(fired)
    for code, rule, items in zip(codes, fired["rule"], extra):
        if code >= 0:  # a missing unit id belongs to no group
            rules[code].append(rule)
            unions[code].update(items)
    return keys, rules, unions


def _by_unit(fired: pd.DataFrame, units: pd.DataFrame | None) -> pd.DataFrame:
    if fired.empty:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in BY_UNIT_COLUMNS})
        for col in ("public_notice", "no_post_subsidy"):
            out[col] = out[col].astype(bool)
        for col in ("rectification_years", "purchase_restricted_years"):
            out[col] = out[col].astype("int64")
        return out
    keys, rules, unions = _grouped(fired, "consequences")
    g = fired.groupby("unit_id", sort=True)
    notice, no_post = g["public_notice"].any().to_numpy(), g["no_post_subsidy"].any().to_numpy()
    rect, buy = g["rectification_years"].max().to_numpy(), g["purchase_restricted_years"].max().to_numpy()
    rows = []
    for k, uid in enumerate(keys):
        rows.append({
            "unit_id": uid,
            "rules": tuple(rules[k]),  # fired is in RULE_IDS order within a unit
            "consequences": tuple(c for c in CONSEQUENCE_IDS if c in unions[k]),
            "public_notice": bool(notice[k]),
            "no_post_subsidy": bool(no_post[k]),
            "rectification_years": int(rect[k]),
            "purchase_restricted_years": int(buy[k]),
        })
    out = pd.DataFrame(rows)
    names = units.set_index("id") if units is not None and "id" in units.columns else None
    for col in ("name", "name_en"):
        if names is not None and col in names:
            out[col] = out["unit_id"].map(names[col]).fillna("")
        else:
            out[col] = ""
    out["_n"] = out["rules"].map(len)
    out = out.sort_values(["_n", "unit_id"], ascending=[False, True], kind="stable")
    return out[list(BY_UNIT_COLUMNS)].reset_index(drop=True)


# ------------------------------------------------------------------------------------ helpers


def excluded_from_rewards(outcome: SanctionOutcome) -> set:
    """Unit ids barred from the reward / post-subsidy pool (a fired rule with no_post_subsidy);
    pass to `dashboard.incentives.reward_table(units, rule, excluded=...)`."""
    rows = outcome.by_unit
    return set(rows.loc[rows["no_post_subsidy"].astype(bool), "unit_id"].tolist())


def publicly_noticed(outcome: SanctionOutcome) -> set:
    """Unit ids to be named in the public notice (通报)."""
    rows = outcome.by_unit
    return set(rows.loc[rows["public_notice"].astype(bool), "unit_id"].tolist())


def restricted_units(outcome: SanctionOutcome, year: int | None = None) -> pd.DataFrame:
    """Units whose new purchases are restricted, for the purchase review (issue 6).

    `year` is the evaluated year the sanctions were decided on (default outcome.year). A
    restriction of N years covers requests of from_year = year + 1 to until_year = year + N
    (both inclusive). Columns (RESTRICTED_COLUMNS): unit_id, until_year, rules (tuple of the
    fired rule ids that restrict purchases), years, from_year. Unit id order."""
    year = outcome.year if year is None else year
    fired = outcome.fired
    restricting = fired[fired["purchase_restricted_years"] > 0]
    if restricting.empty:
        return pd.DataFrame({"unit_id": pd.Series(dtype=object), "until_year": pd.Series(dtype="int64"),
                             "rules": pd.Series(dtype=object), "years": pd.Series(dtype="int64"),
                             "from_year": pd.Series(dtype="int64")})[list(RESTRICTED_COLUMNS)]
    if year is None:
        raise ValueError("restricted_units needs the evaluated year (the outcome has none)")
    keys, rules, _ = _grouped(restricting)
    most = restricting.groupby("unit_id", sort=True)["purchase_restricted_years"].max().to_numpy()
    rows = []
    for k, uid in enumerate(keys):
        years = int(most[k])
        rows.append({"unit_id": uid, "until_year": int(year) + years, "rules": tuple(rules[k]),
                     "years": years, "from_year": int(year) + 1})
    out = pd.DataFrame(rows, columns=list(RESTRICTED_COLUMNS))
    for col in ("until_year", "years", "from_year"):
        out[col] = out[col].astype("int64")
    return out


def is_restricted(restricted: pd.DataFrame, unit_id, on_year: int) -> bool:
    """Whether `unit_id` is under purchase restriction in `on_year` (a row of `restricted_units`
    with from_year ≤ on_year ≤ until_year)."""
    rows = restricted[restricted["unit_id"] == unit_id]
    return bool(((rows["from_year"] <= on_year) & (on_year <= rows["until_year"])).any())


FLAG_IN_WINDOW = "in_window"  # submitted from_year … until_year
FLAG_PENDING = "pending"  # submitted before from_year, not decided yet
FLAG_IDS = (FLAG_IN_WINDOW, FLAG_PENDING)  # incentives.purchase.flag.<id>
DECIDED = "decided"  # PurchaseRequest.status of a request with a review decision
FLAG_COLUMNS = ("from_year", "until_year", "rules", "flag")  # added by flag_purchase_requests


def flag_purchase_requests(requests: pd.DataFrame, restricted: pd.DataFrame) -> pd.DataFrame:
    """The purchase requests whose applicant is under purchase restriction, for the joint review.

    requests: one row per request with at least applicant_unit_id, submitted_date (date or
    datetime) and status (submitted / checked / decided); every other column is kept.
    restricted: `restricted_units` (unit_id, from_year, until_year, rules).

    A request of a restricted applicant is flagged when, with y = the year of submitted_date,
        from_year ≤ y ≤ until_year                  → flag "in_window" (whatever its status), or
        y < from_year and status != "decided"       → flag "pending" (will be reviewed during the
                                                      restriction).
    Requests submitted after until_year are not flagged (the restriction is over); a request
    without a submitted date counts as "pending" when not decided.

    Returns the flagged requests with every input column plus FLAG_COLUMNS: from_year,
    until_year (int64), rules (tuple of rule ids that restrict the applicant), flag (FLAG_IDS).
    Ordered by submitted_date, then input order; a fresh 0…n-1 index."""
    out_columns = [*requests.columns, *[c for c in FLAG_COLUMNS if c not in requests.columns]]
    if requests.empty or restricted.empty:
        empty = requests.iloc[0:0].copy()
        empty["from_year"] = pd.Series(dtype="int64")
        empty["until_year"] = pd.Series(dtype="int64")
        empty["rules"] = pd.Series(dtype=object)
        empty["flag"] = pd.Series(dtype=object)
        return empty[out_columns].reset_index(drop=True)
    window = restricted.set_index("unit_id")
    frame = requests.reset_index(drop=True)
    unit = frame["applicant_unit_id"]
    from_year = unit.map(window["from_year"])
    until_year = unit.map(window["until_year"])
    year = pd.to_datetime(frame["submitted_date"], errors="coerce").dt.year
    in_window = (year >= from_year) & (year <= until_year)
    pending = (year < from_year).fillna(False).astype(bool) | (year.isna() & from_year.notna())
    pending = pending & (frame["status"].astype(str) != DECIDED)
    keep = (in_window.fillna(False).astype(bool) | pending).to_numpy()
    out = frame.loc[keep].copy()
    out["from_year"] = from_year[keep].astype("int64").to_numpy()
    out["until_year"] = until_year[keep].astype("int64").to_numpy()
    out["rules"] = [tuple(window.at[u, "rules"]) for u in out["applicant_unit_id"]]
    out["flag"] = np.where(in_window[keep].fillna(False).astype(bool).to_numpy(), FLAG_IN_WINDOW, FLAG_PENDING)
    out["flag"] = out["flag"].astype(object)
    out["_date"] = pd.to_datetime(out["submitted_date"], errors="coerce")
    out = out.sort_values("_date", kind="stable", na_position="last").drop(columns="_date")
    return out[out_columns].reset_index(drop=True)


def rule_counts(outcome: SanctionOutcome) -> pd.Series:
    """Units caught per rule, every rule listed (0 when none or off); index RULE_IDS."""
    counts = outcome.fired.groupby("rule")["unit_id"].nunique() if not outcome.fired.empty else pd.Series(dtype="int64")
    return pd.Series([int(counts.get(r, 0)) for r in RULE_IDS], index=pd.Index(RULE_IDS, name="rule"),
                     name="units", dtype="int64")


__all__ = [
    "BY_UNIT_COLUMNS", "CONSEQUENCE_COLUMNS", "CONSEQUENCE_IDS", "Consequences", "DECIDED", "EVIDENCE_COLUMNS",
    "FIRED_COLUMNS", "FLAG_COLUMNS", "FLAG_IDS", "FLAG_IN_WINDOW", "FLAG_PENDING", "FOURTH_GRADE_LABELS",
    "IdleShareRule", "LateReportingRule", "NominallyOpenRule", "NotReportingRule", "PoorGradeRule",
    "RESTRICTED_COLUMNS", "RULES_FRAME_COLUMNS", "RULE_EVIDENCE", "RULE_IDS", "SanctionInputs", "SanctionOutcome",
    "SanctionRules", "SanctionRulesError", "apply", "build_inputs", "excluded_from_rewards",
    "flag_purchase_requests", "idle_shares", "is_restricted", "publicly_noticed", "restricted_units",
    "records_for_open_check", "rule_counts", "rules_frame",
]
