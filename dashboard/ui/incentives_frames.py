"""What the incentives page shows, shaped for display: pure builders with no Streamlit call.

The numbers come from the domain modules — `dashboard.scenarios.outcome` (evaluation, sanctions,
vouchers and reward allocation of one set of settings), `dashboard.incentives.boundary_units`,
`dashboard.sanctions` and `dashboard.vouchers`. This module only

- converts between the page's control values (a flat dict, one entry per widget name) and a
  `ScenarioParams`, both ways, so a saved scenario can be put back into the controls;
- turns outcomes into labelled frames, texts and an Altair chart in the page language.

Control values (`CONTROL_NAMES`): money in 万元, shares in %, as the widgets show them. The
conversion to CNY and ratios happens here, once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

import altair as alt
import numpy as np
import pandas as pd

from dashboard import formatting as fmt
from dashboard import incentives as I
from dashboard import sanctions as S
from dashboard import scenarios as SC
from dashboard import scoring
from dashboard import vouchers as V
from dashboard.i18n import Translator
from dashboard.national import WAN
from dashboard.publication import grade_label
from dashboard.scheme import GROUP_IDS, GradeRule, Scheme
from dashboard.ui.labels import localised

# ------------------------------------------------------------------------------------ defaults
# The page's starting settings live with the scenarios (the purchase review and the service finder
# apply the same sanctions): re-exported here for the page.
DEFAULT_POOL_CNY = SC.DEFAULT_POOL_CNY
default_params = SC.default_params
DEFAULT_MARGIN = 3.0  # points either side of a line that count as "near the boundary"
MAX_COMPARED = 3
GRADE_CHOICES = SC.GRADE_LABELS  # 优秀, 良好, 合格, 较差, 不合格
# Chart colours: the shared colour-blind-safe palette (dashboard.formatting).
PRIMARY, ACCENT, WARN = fmt.PRIMARY, fmt.ACCENT, fmt.ALERT
PURCHASE_STATUSES = ("submitted", "checked", "decided")  # PurchaseRequest.status; incentives.purchase.status.<id>

# Widget names (dashboard.ui.context.widget_key adds the language).
POOL = "inc_pool"
BANDS = ("inc_band_0", "inc_band_1", "inc_band_2")
GRADES_ELIGIBLE = "inc_grades"
MIN_SCORE_ON, MIN_SCORE = "inc_min_score_on", "inc_min_score"
BASIS = "inc_basis"
CAP_ON, CAP = "inc_cap_on", "inc_cap"
CAP_SHARE_ON, CAP_SHARE = "inc_cap_share_on", "inc_cap_share"
MARGIN = "inc_margin"
GROUP_WEIGHTS = tuple(f"inc_w_{g}" for g in GROUP_IDS)
RULE_ON = {r: f"inc_on_{r}" for r in S.RULE_IDS}
POOR_GRADES = "inc_s_poor_grades"
MISSING_ON, MISSING = "inc_s_missing_on", "inc_s_missing"
LATE_ON, LATE = "inc_s_late_on", "inc_s_late"
DAYS_ON, DAYS = "inc_s_days_on", "inc_s_days"
NOMINAL_MIN, NOMINAL_RATIO = "inc_s_nominal_min", "inc_s_nominal_ratio"
IDLE_SHARE, IDLE_MIN = "inc_s_idle_share", "inc_s_idle_min"
CONSEQUENCE_FIELDS = {"notice": "public_notice", "nopost": "no_post_subsidy",
                      "rect": "rectification_years", "purchase": "purchase_restricted_years"}
CONSEQUENCE = {(r, f): f"inc_c_{r}_{f}" for r in S.RULE_IDS for f in CONSEQUENCE_FIELDS}
V_ON, V_RATIO = "inc_v_on", "inc_v_ratio"
V_POOL_ON, V_POOL = "inc_v_pool_on", "inc_v_pool"
V_APP_ON, V_APP = "inc_v_app_on", "inc_v_app"
V_FIRM_ON, V_FIRM = "inc_v_firm_on", "inc_v_firm"
V_KINDS, V_EXTERNAL = "inc_v_kinds", "inc_v_external"
V_SHARE, V_UPLIFT = "inc_v_share", "inc_v_uplift"

CONTROL_NAMES = (
    POOL, *BANDS, GRADES_ELIGIBLE, MIN_SCORE_ON, MIN_SCORE, BASIS, CAP_ON, CAP, CAP_SHARE_ON, CAP_SHARE,
    *GROUP_WEIGHTS, *RULE_ON.values(), POOR_GRADES, MISSING_ON, MISSING, LATE_ON, LATE, DAYS_ON, DAYS,
    NOMINAL_MIN, NOMINAL_RATIO, IDLE_SHARE, IDLE_MIN, *CONSEQUENCE.values(),
    V_ON, V_RATIO, V_POOL_ON, V_POOL, V_APP_ON, V_APP, V_FIRM_ON, V_FIRM, V_KINDS, V_EXTERNAL, V_SHARE, V_UPLIFT,
)
# Values shown in a disabled input whose switch is off (a scenario without that limit).
FALLBACK = {MIN_SCORE: 60.0, CAP: 50.0, CAP_SHARE: 50.0, MISSING: 3, LATE: 3, DAYS: 30,
            V_POOL: 100.0, V_APP: 2.0, V_FIRM: 10.0}
WEIGHT_TOLERANCE = 1e-9


# ------------------------------------------------------------------------------------ parameters
def _round(x: float, digits: int = 6) -> float:
    return float(round(float(x), digits))


def group_weights_of(params: SC.ScenarioParams, scheme: Scheme) -> dict[str, float]:
    """Group weights (as the evaluation page shows them, in points) for the scenario's global
    indicator weights: 100 × each group's share of the total; the scheme's when it sets none."""
    if params.weights is None:
        return {g.id: float(g.weight) for g in scheme.groups}
    w = SC.global_weights(params, scheme)
    total = float(w.sum())
    return {g: _round(100.0 * float(sum(w[i.id] for i in scheme.indicators if i.group == g)) / total)
            for g in GROUP_IDS}


def global_weights_from_groups(groups: Mapping[str, float], scheme: Scheme) -> dict[str, float] | None:
    """Global indicator weights for group weights (the scheme's within-group shares kept); None
    when the groups carry the scheme's own proportions (the scenario keeps the scheme weights)."""
    base = {g.id: float(g.weight) for g in scheme.groups}
    total, base_total = sum(groups.values()), sum(base.values())
    if total > 0 and all(abs(groups[g] / total - base[g] / base_total) < WEIGHT_TOLERANCE for g in GROUP_IDS):
        return None
    within = scoring.within_group_weights(scheme)
    return {i.id: (groups[i.group] / total if total > 0 else 0.0) * float(within.loc[i.group, i.id])
            for i in scheme.indicators}


def state_from_params(params: SC.ScenarioParams, scheme: Scheme) -> dict[str, Any]:
    """Control values that reproduce `params` (money in 万元, shares in %)."""
    rule = params.grade_rule or scheme.grade
    reward = params.reward
    rules = params.sanctions or S.SanctionRules()
    sanctions_on = params.sanctions is not None
    vp = params.vouchers or V.VoucherParams()
    state: dict[str, Any] = {
        POOL: _round(reward.pool_cny / WAN),
        GRADES_ELIGIBLE: list(reward.eligible_grades or ()),
        MIN_SCORE_ON: reward.min_score is not None,
        MIN_SCORE: float(reward.min_score) if reward.min_score is not None else FALLBACK[MIN_SCORE],
        BASIS: reward.basis,
        CAP_ON: reward.cap_cny is not None,
        CAP: _round(reward.cap_cny / WAN) if reward.cap_cny is not None else FALLBACK[CAP],
        CAP_SHARE_ON: reward.cap_share_of_external_income is not None,
        CAP_SHARE: (_round(100 * reward.cap_share_of_external_income)
                    if reward.cap_share_of_external_income is not None else FALLBACK[CAP_SHARE]),
        POOR_GRADES: list(rules.poor_grade.grades),
        MISSING_ON: rules.not_reporting.min_missing is not None,
        MISSING: int(rules.not_reporting.min_missing or FALLBACK[MISSING]),
        LATE_ON: rules.late_reporting.min_late is not None,
        LATE: int(rules.late_reporting.min_late or FALLBACK[LATE]),
        DAYS_ON: rules.late_reporting.min_days_late is not None,
        DAYS: int(rules.late_reporting.min_days_late or FALLBACK[DAYS]),
        NOMINAL_MIN: int(rules.nominally_open.min_candidates),
        NOMINAL_RATIO: _round(100 * rules.nominally_open.max_external_ratio),
        IDLE_SHARE: _round(100 * rules.idle_share.max_share),
        IDLE_MIN: int(rules.idle_share.min_in_service),
        V_ON: params.vouchers is not None,
        V_RATIO: min(100, max(1, int(round(100 * vp.voucher_ratio)))),  # the slider's whole percents
        V_POOL_ON: vp.pool_cny is not None,
        V_POOL: _round(vp.pool_cny / WAN) if vp.pool_cny is not None else FALLBACK[V_POOL],
        V_APP_ON: vp.per_application_cap_cny is not None,
        V_APP: _round(vp.per_application_cap_cny / WAN) if vp.per_application_cap_cny is not None else FALLBACK[V_APP],
        V_FIRM_ON: vp.per_firm_annual_cap_cny is not None,
        V_FIRM: _round(vp.per_firm_annual_cap_cny / WAN) if vp.per_firm_annual_cap_cny is not None else FALLBACK[V_FIRM],
        V_KINDS: list(vp.eligible_client_kinds),
        V_EXTERNAL: bool(vp.only_external_users),
        V_SHARE: _round(100 * vp.holder_redemption_share),
        V_UPLIFT: _round(100 * vp.demand_uplift),
    }
    for k, name in enumerate(BANDS):
        state[name] = float(rule.bands[k])
    for g, name in zip(GROUP_IDS, GROUP_WEIGHTS):
        state[name] = group_weights_of(params, scheme)[g]
    for rule_id, name in RULE_ON.items():
        state[name] = sanctions_on and bool(rules.rule(rule_id).enabled)
    for (rule_id, short), name in CONSEQUENCE.items():
        value = getattr(rules.rule(rule_id).consequences, CONSEQUENCE_FIELDS[short])
        state[name] = bool(value) if short in ("notice", "nopost") else int(value)
    return state


def params_from_state(state: Mapping[str, Any], scheme: Scheme) -> SC.ScenarioParams:
    """The scenario the controls describe. Raises dashboard.scenarios.ScenarioError (with the
    field and a catalogue reason) when the values cannot be used, e.g. grade lines not falling."""
    def cny(name: str) -> float:
        return _round(float(state[name]) * WAN, 2)

    grade_rule = SC.grade_rule_to_dict(replace(scheme.grade, mode="bands",
                                               bands=tuple(float(state[b]) for b in BANDS)))
    reward = {
        "pool_cny": cny(POOL),
        "eligible_grades": list(state[GRADES_ELIGIBLE]) or None,
        "min_score": float(state[MIN_SCORE]) if state[MIN_SCORE_ON] else None,
        "basis": state[BASIS],
        "cap_cny": cny(CAP) if state[CAP_ON] else None,
        "cap_share_of_external_income": _round(float(state[CAP_SHARE]) / 100) if state[CAP_SHARE_ON] else None,
    }
    consequences = {r: {} for r in S.RULE_IDS}
    for (rule_id, short), name in CONSEQUENCE.items():
        value = state[name]
        consequences[rule_id][CONSEQUENCE_FIELDS[short]] = bool(value) if short in ("notice", "nopost") else int(value)
    sanctions = {
        S.POOR_GRADE: {"enabled": bool(state[RULE_ON[S.POOR_GRADE]]), "grades": list(state[POOR_GRADES]),
                       "consequences": consequences[S.POOR_GRADE]},
        S.NOT_REPORTING: {"enabled": bool(state[RULE_ON[S.NOT_REPORTING]]),
                          "min_missing": int(state[MISSING]) if state[MISSING_ON] else None,
                          "consequences": consequences[S.NOT_REPORTING]},
        S.LATE_REPORTING: {"enabled": bool(state[RULE_ON[S.LATE_REPORTING]]),
                           "min_late": int(state[LATE]) if state[LATE_ON] else None,
                           "min_days_late": int(state[DAYS]) if state[DAYS_ON] else None,
                           "consequences": consequences[S.LATE_REPORTING]},
        S.NOMINALLY_OPEN: {"enabled": bool(state[RULE_ON[S.NOMINALLY_OPEN]]),
                           "min_candidates": int(state[NOMINAL_MIN]),
                           "max_external_ratio": _round(float(state[NOMINAL_RATIO]) / 100),
                           "consequences": consequences[S.NOMINALLY_OPEN]},
        S.IDLE_SHARE: {"enabled": bool(state[RULE_ON[S.IDLE_SHARE]]),
                       "max_share": _round(float(state[IDLE_SHARE]) / 100), "min_in_service": int(state[IDLE_MIN]),
                       "consequences": consequences[S.IDLE_SHARE]},
    }
    vouchers = None
    if state[V_ON]:
        vouchers = {
            "voucher_ratio": _round(float(state[V_RATIO]) / 100),
            "per_application_cap_cny": cny(V_APP) if state[V_APP_ON] else None,
            "per_firm_annual_cap_cny": cny(V_FIRM) if state[V_FIRM_ON] else None,
            "eligible_client_kinds": list(state[V_KINDS]),
            "only_external_users": bool(state[V_EXTERNAL]),
            "pool_cny": cny(V_POOL) if state[V_POOL_ON] else None,
            "holder_redemption_share": _round(float(state[V_SHARE]) / 100),
            "demand_uplift": _round(float(state[V_UPLIFT]) / 100),
        }
    groups = {g: float(state[name]) for g, name in zip(GROUP_IDS, GROUP_WEIGHTS)}
    if sum(groups.values()) <= 0:
        raise SC.ScenarioError("weights", "no_positive_weight")
    return SC.ScenarioParams.from_dict({
        "version": SC.SCHEMA_VERSION, "year": None,
        "weights": global_weights_from_groups(groups, scheme),
        "grade_rule": grade_rule, "reward": reward, "sanctions": sanctions, "vouchers": vouchers,
    })


def changed_from(state: Mapping[str, Any], reference: Mapping[str, Any]) -> bool:
    """Whether the controls differ from `reference` (e.g. the loaded scenario's values)."""
    def same(a, b) -> bool:
        if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
            return list(a or ()) == list(b or ())
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-6)
        return a == b
    return any(not same(state.get(k), reference.get(k)) for k in CONTROL_NAMES)


# ------------------------------------------------------------------------------------ sanctions reach
def potential_counts(rules: S.SanctionRules, inputs: SC.ScenarioInputs, outcome: SC.ScenarioOutcome) -> pd.Series:
    """Units each rule catches with its thresholds as set, switched on or not. Index RULE_IDS."""
    return SC.potential_sanction_counts(rules, inputs, outcome.evaluation.table)


# ------------------------------------------------------------------------------------ small texts
def unit_names(units: pd.DataFrame, lang: str) -> pd.Series:
    """Display name per unit id from a frame with unit_id (or index), name, name_en."""
    frame = units.set_index("unit_id") if "unit_id" in units.columns else units
    return localised(frame, "name", "name_en", lang)


def grade_text(grade, t: Translator) -> str:
    if not isinstance(grade, str) or not grade:
        return fmt.MISSING
    return grade_label(grade, t)


def wan_value(cny) -> float:
    """CNY → 万元 rounded to 4 decimals (1 元), NaN kept."""
    if cny is None or (isinstance(cny, float) and math.isnan(cny)):
        return float("nan")
    return round(float(cny) / WAN, 4)


def share_text(ratio: float) -> str:
    return fmt.trimmed(100 * float(ratio), 1) + "%"


def month_text(month, t: Translator) -> str:
    return t(f"vouchers.month.{int(month)}")


def join(items, t: Translator) -> str:
    return t("incentives.list_separator").join(str(i) for i in items if i)


def rules_text(rules, t: Translator) -> str:
    return join([t(f"sanctions.rule.{r}") for r in rules], t)


def consequence_ids_text(c: S.Consequences | Mapping, t: Translator, year: int | None = None) -> str:
    """'通报；取消后补助；整改期 1 年；限制新购置 1 年（2026 年）'."""
    get = (lambda k: c[k]) if isinstance(c, Mapping) else (lambda k: getattr(c, k))
    parts = []
    if get("public_notice"):
        parts.append(t("sanctions.consequence.public_notice"))
    if get("no_post_subsidy"):
        parts.append(t("sanctions.consequence.no_post_subsidy"))
    rect = int(get("rectification_years"))
    if rect > 0:
        parts.append(t("sanctions.consequence.rectification_years", years=rect))
    buy = int(get("purchase_restricted_years"))
    if buy > 0:
        if year is None:
            parts.append(t("sanctions.consequence.purchase_years", years=buy))
        else:
            parts.append(t("sanctions.consequence.purchase_until", years=buy, start=year + 1, end=year + buy))
    return t("incentives.clause_separator").join(parts) if parts else t("sanctions.consequence.none")


def evidence_text(row: Mapping, t: Translator, instruments: Mapping[int, str] | None = None,
                  ratio: float | None = None) -> str:
    """The evidence of one fired rule (a row of SanctionOutcome.fired) in words."""
    rule = row["rule"]
    if rule == S.POOR_GRADE:
        score = row.get("score")
        if score is None or pd.isna(score):
            return t("sanctions.evidence.poor_grade_unrated", grade=grade_text(row["grade"], t))
        return t("sanctions.evidence.poor_grade", grade=grade_text(row["grade"], t), score=f"{float(score):.2f}")
    if rule == S.NOT_REPORTING:
        due = _int(row.get("due"))
        if bool(row.get("never_reported")) is True and not pd.isna(row.get("never_reported")):
            return t("sanctions.evidence.never_reported", due=due)
        return t("sanctions.evidence.missing", due=due, missing=_int(row.get("missing")),
                 on_time=_pct(row.get("on_time_share")))
    if rule == S.LATE_REPORTING:
        return t("sanctions.evidence.late", due=_int(row.get("due")), late=_int(row.get("late")),
                 days=_int(row.get("max_days_late")))
    if rule == S.NOMINALLY_OPEN:
        ids = row.get("candidate_ids") or ()
        names = [instruments.get(int(i), str(i)) if instruments else str(i) for i in ids]
        return t("sanctions.evidence.nominally_open", count=_int(row.get("candidates")),
                 ratio=share_text(ratio) if ratio is not None else fmt.MISSING, instruments=join(names, t))
    if rule == S.IDLE_SHARE:
        text = t("sanctions.evidence.idle_share", in_service=_int(row.get("in_service")), idle=_int(row.get("idle")),
                 share=_pct(row.get("idle_share")))
        unreported = row.get("idle_unreported")
        if unreported is not None and not pd.isna(unreported) and int(unreported) > 0:
            text += t("sanctions.evidence.idle_unreported", count=int(unreported))
        return text
    return ""


def _int(v) -> str:
    return fmt.MISSING if v is None or pd.isna(v) else f"{int(v):,}"


def _pct(v) -> str:
    return fmt.MISSING if v is None or pd.isna(v) else fmt.percent(float(v), 0)


def instrument_labels(instruments: pd.DataFrame, lang: str) -> dict[int, str]:
    """Instrument id → 'HPLC-1 高效液相色谱仪' (English name when present and asked for)."""
    if instruments is None or instruments.empty:
        return {}
    names = localised(instruments, "name_zh", "name_en", lang) if "name_en" in instruments else instruments["name_zh"]
    return {int(i): f"{inner} {name}".strip() for i, inner, name in
            zip(instruments["id"], instruments["inner_id"].fillna(""), names)}


def candidate_labels(o: SC.ScenarioOutcome, inputs: SC.ScenarioInputs, lang: str) -> dict[int, str]:
    """`instrument_labels` of the instruments the nominally-open rule names in the outcome (the
    only ones the sanctions table shows), from the year's register rows the inputs already hold
    (every candidate is one of them) rather than from the whole register."""
    if o.sanctions is None or o.sanctions.fired.empty:
        return {}
    ids = {int(i) for ids in o.sanctions.fired["candidate_ids"] if ids for i in ids}
    annual = inputs.sanction_inputs.annual if inputs.sanction_inputs is not None else None
    if not ids or annual is None or annual.empty:
        return {}
    return instrument_labels(annual[annual["id"].isin(ids)], lang)


# ------------------------------------------------------------------------------------ headline
@dataclass(frozen=True)
class Card:
    label: str
    value: str
    help: str = ""


def reward_cards(o: SC.ScenarioOutcome, t: Translator) -> list[Card]:
    tot = o.totals
    eligible = int(o.units["eligible"].sum())
    return [
        Card(t("incentives.card.rewarded"), t("incentives.units_count", count=int(tot["rewarded_units"])),
             t("incentives.card.rewarded.help", eligible=eligible)),
        Card(t("incentives.card.paid"), fmt.money(tot["reward_paid_cny"], t), t("incentives.card.paid.help")),
        Card(t("incentives.card.unspent"), fmt.money(tot["reward_unspent_cny"], t), t("incentives.card.unspent.help")),
    ]


def grade_cards(o: SC.ScenarioOutcome, t: Translator) -> list[Card]:
    cards = [Card(grade_text(label, t), t("incentives.units_count", count=int(o.totals[key])),
                  t("incentives.card.grade.help", grade=grade_text(label, t)))
             for key, label in zip(SC.GRADE_FIGURES, o.grade_labels)]
    return cards


def voucher_cards(o: SC.ScenarioOutcome, t: Translator) -> list[Card]:
    v = o.vouchers
    if v is None:
        return []
    if v.params.pool_cny is None:
        runs_out = t("vouchers.card.unlimited")
    elif v.pool_exhausted_month is None:
        runs_out = t("vouchers.card.not_exhausted", left=fmt.money(v.pool_remaining_cny, t))
    else:
        runs_out = month_text(v.pool_exhausted_month, t)
    return [
        Card(t("vouchers.card.spend"), fmt.money(v.spend_cny, t),
             t("vouchers.card.spend.help", demand=fmt.money(v.demand_cny, t))),
        Card(t("vouchers.card.firms"), t("vouchers.card.firms_count", count=fmt.number(v.firms_served)),
             t("vouchers.card.firms.help", eligible=v.firms_eligible, services=v.services_covered)),
        Card(t("vouchers.card.runs_out"), runs_out,
             t("vouchers.card.runs_out.help", refused=v.refused_for_pool)),
    ]


def headline_cards(o: SC.ScenarioOutcome, t: Translator) -> list[Card]:
    tot = o.totals
    return [
        Card(t("incentives.card.fiscal_cost"), fmt.money(tot["fiscal_cost_cny"], t), t("incentives.card.fiscal_cost.help")),
        Card(t("incentives.card.reward_paid"), fmt.money(tot["reward_paid_cny"], t), t("incentives.card.reward_paid.help")),
        Card(t("incentives.card.voucher_spend"), fmt.money(tot["voucher_spend_cny"], t),
             t("incentives.card.voucher_spend.help")),
        Card(t("incentives.card.post_subsidy"), fmt.money(tot["voucher_post_subsidy_cny"], t),
             t("incentives.card.post_subsidy.help", withheld=fmt.money(tot["voucher_post_subsidy_withheld_cny"], t))),
        Card(t("incentives.card.sanctioned"), t("incentives.units_count", count=int(tot["sanctioned_units"])),
             t("incentives.card.sanctioned.help", excluded=int(tot["excluded_units"]))),
    ]


def rule_reach_text(rule_id: str, enabled: bool, count: int, t: Translator) -> str:
    key = "sanctions.reach.on" if enabled else "sanctions.reach.off"
    return t(key, count=count)


# ------------------------------------------------------------------------------------ tables
def basis_header(basis: str, t: Translator) -> str:
    return t(f"incentives.col.basis.{basis}")


def basis_values(table: pd.DataFrame, basis: str) -> pd.Series:
    """The allocation basis as shown: score points, points × 万元, or 万元."""
    if basis == "score":
        return table["basis"].astype(float).round(2)
    return (table["basis"].astype(float) / WAN).round(4)


def reason_text(reason, rules: tuple, t: Translator) -> str:
    if not isinstance(reason, str) or not reason:
        return ""
    if reason == "excluded" and rules:
        return t("incentives.reason.excluded_by", rules=rules_text(rules, t))
    return t(f"incentives.reason.{reason}")


def cap_text(cap, t: Translator) -> str:
    """A unit's cap in 万元 with two decimals, or "no cap"."""
    if cap is None or (isinstance(cap, float) and math.isnan(cap)):
        return t("incentives.no_cap")
    return fmt.number(float(cap) / WAN, 2)


def reward_frame(o: SC.ScenarioOutcome, t: Translator) -> pd.DataFrame:
    """One row per unit, the rewarded first (largest reward first), then by rank: unit, grade,
    score, basis, cap, reward (万元), capped, reason if not eligible."""
    units = o.units.set_index("unit_id")
    table = o.reward.table.set_index("unit_id").reindex(units.index)
    names = unit_names(o.units, t.lang)
    order = pd.DataFrame({"reward": -units["reward_cny"].astype(float),
                          "rank": units["rank"].astype(float).fillna(np.inf),
                          "uid": units.index.astype(str)}, index=units.index)
    idx = order.sort_values(["reward", "rank", "uid"], kind="stable").index
    basis = o.params.reward.basis
    frame = pd.DataFrame({
        t("incentives.col.unit"): names.reindex(idx).to_numpy(object),
        t("incentives.col.grade"): [grade_text(g, t) for g in units.loc[idx, "grade"]],
        t("incentives.col.score"): units.loc[idx, "score"].astype(float).round(2).to_numpy(),
        basis_header(basis, t): basis_values(table.loc[idx], basis).to_numpy(),
        t("incentives.col.cap"): [cap_text(c, t) for c in table.loc[idx, "cap"]],
        t("incentives.col.reward"): [wan_value(c) for c in units.loc[idx, "reward_cny"]],
        t("incentives.col.capped"): [t("incentives.yes") if c else "" for c in table.loc[idx, "capped"]],
        t("incentives.col.reason"): [reason_text(r, rules, t) for r, rules in
                                     zip(units.loc[idx, "reason_if_not"], units.loc[idx, "sanction_rules"])],
    })
    return frame


def sanctions_frame(o: SC.ScenarioOutcome, t: Translator, instruments: Mapping[int, str] | None = None) -> pd.DataFrame:
    """One row per sanctioned unit: unit, rules fired, evidence in words, consequences (the union)."""
    columns = [t("incentives.col.unit"), t("sanctions.col.rules"), t("sanctions.col.evidence"),
               t("sanctions.col.consequences")]
    if o.sanctions is None or o.sanctions.by_unit.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    names = unit_names(o.units, t.lang)
    ratio = o.params.sanctions.nominally_open.max_external_ratio if o.params.sanctions else None
    # The fired rows of each unit, in their order (by unit, then RULE_IDS), grouped once: picking
    # them out unit by unit was quadratic (10.8 s for 3,010 units).
    fired_by_unit: dict = {}
    for e in o.sanctions.fired.to_dict("records"):
        fired_by_unit.setdefault(e["unit_id"], []).append(e)
    rows = []
    for r in o.sanctions.by_unit.to_dict("records"):
        own = fired_by_unit.get(r["unit_id"], [])
        evidence = t("incentives.clause_separator").join(
            t("sanctions.evidence.item", rule=t("sanctions.rule." + e["rule"]),
              evidence=evidence_text(e, t, instruments, ratio)) for e in own)
        rows.append([names.get(r["unit_id"], str(r["unit_id"])), rules_text(r["rules"], t), evidence,
                     consequence_ids_text(r, t, o.year)])
    return pd.DataFrame(rows, columns=columns)


def flagged_requests(o: SC.ScenarioOutcome, requests: pd.DataFrame) -> pd.DataFrame:
    """`sanctions.flag_purchase_requests` of the scenario's purchase restrictions (empty when no
    sanction rule is applied or nobody is restricted)."""
    if o.sanctions is None:
        restricted = pd.DataFrame(columns=list(S.RESTRICTED_COLUMNS))
    else:
        restricted = S.restricted_units(o.sanctions, o.year)
    return S.flag_purchase_requests(requests, restricted)


def purchase_flags_frame(flagged: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """One row per flagged purchase request: request no, applicant, instrument, quoted price
    (万元), submitted date, status, why flagged, restricted until (year), rules behind it."""
    columns = [t("incentives.purchase.col.request_no"), t("incentives.purchase.col.applicant"),
               t("incentives.purchase.col.instrument"), t("incentives.purchase.col.price"),
               t("incentives.purchase.col.submitted"), t("incentives.purchase.col.status"),
               t("incentives.purchase.col.flag"), t("incentives.purchase.col.until"),
               t("incentives.purchase.col.rules")]
    if flagged.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    names = localised(flagged, "applicant_name", "applicant_name_en", t.lang)
    submitted = pd.to_datetime(flagged["submitted_date"], errors="coerce")
    return pd.DataFrame({
        columns[0]: flagged["request_no"].astype(str).to_numpy(object),
        columns[1]: names.to_numpy(object),
        columns[2]: flagged["instrument_name"].astype(str).to_numpy(object),
        columns[3]: [wan_value(v) for v in flagged["quoted_price"]],
        columns[4]: [d.strftime("%Y-%m-%d") if pd.notna(d) else fmt.MISSING for d in submitted],
        columns[5]: [t(f"incentives.purchase.status.{v}") if v in PURCHASE_STATUSES else str(v)
                     for v in flagged["status"]],
        columns[6]: [t(f"incentives.purchase.flag.{f}", start=a, end=b)
                     for f, a, b in zip(flagged["flag"], flagged["from_year"], flagged["until_year"])],
        columns[7]: flagged["until_year"].astype(int).to_numpy(),
        columns[8]: [rules_text(r, t) for r in flagged["rules"]],
    })


def boundary_input(o: SC.ScenarioOutcome, inputs: SC.ScenarioInputs) -> pd.DataFrame:
    """The units frame of `incentives.boundary_units` for an outcome (the scenario's scores and
    grades, the year's external income and the simulated voucher revenue)."""
    units = o.units
    grade = units["grade"].where(units["grade"].astype(str) != "", None)
    return pd.DataFrame({
        "unit_id": units["unit_id"].to_numpy(),
        "score": units["score"].astype(float).to_numpy(),
        "grade": grade.to_numpy(object),
        "external_income_cny": inputs.external_income.reindex(units["unit_id"], fill_value=0.0).to_numpy(float),
        "voucher_revenue_cny": units["voucher_revenue_cny"].astype(float).to_numpy(),
    })


def boundary(o: SC.ScenarioOutcome, inputs: SC.ScenarioInputs, margin: float) -> pd.DataFrame:
    """incentives.boundary_units for the outcome (empty when the grade rule is not score bands)."""
    rule = o.grade_rule()
    if rule.mode != "bands":
        return pd.DataFrame(columns=list(I.BOUNDARY_COLUMNS))
    excluded = set(o.units.loc[o.units["excluded"], "unit_id"])
    return I.boundary_units(boundary_input(o, inputs), o.params.reward, rule, margin=margin, excluded=excluded)


def line_text(line: float, kind: str, grade_rule: GradeRule, t: Translator) -> str:
    labels = grade_rule.labels()
    if kind == "min_score":
        return t("incentives.line.min_score", line=fmt.trimmed(line))
    grade = next((labels[k] for k, b in enumerate(grade_rule.bands) if math.isclose(b, line)), "")
    key = "incentives.line.both" if kind == "both" else "incentives.line.grade"
    return t(key, grade=grade_text(grade, t), line=fmt.trimmed(line))


def boundary_frame(found: pd.DataFrame, o: SC.ScenarioOutcome, t: Translator) -> pd.DataFrame:
    """Units near a line: unit, score, grade, line, distance, what crossing means, reward now,
    reward if crossed and the change (万元)."""
    names = unit_names(o.units, t.lang)
    rule = o.grade_rule()
    return pd.DataFrame({
        t("incentives.col.unit"): [names.get(u, str(u)) for u in found["unit_id"]],
        t("incentives.col.score"): found["score"].astype(float).round(2).to_numpy(),
        t("incentives.col.grade"): [grade_text(g, t) for g in found["grade"]],
        t("incentives.col.line"): [line_text(line, kind, rule, t) for line, kind in zip(found["line"], found["line_kind"])],
        t("incentives.col.distance"): found["distance"].astype(float).round(2).to_numpy(),
        t("incentives.col.crossing"): [
            t(f"incentives.crossing.{d}", grade=grade_text(g, t), eligible=t("incentives.yes") if e else t("incentives.no"))
            for d, g, e in zip(found["direction"], found["new_grade"], found["eligible_if_crossed"])],
        t("incentives.col.reward"): [wan_value(v) for v in found["reward"]],
        t("incentives.col.reward_if_crossed"): [wan_value(v) for v in found["reward_if_crossed"]],
        t("incentives.col.change"): [wan_value(v) for v in found["change"]],
    })


def holders_frame(o: SC.ScenarioOutcome, t: Translator) -> pd.DataFrame:
    """Holding units with voucher revenue: services, services with a voucher, voucher revenue,
    post-subsidy paid and withheld by sanctions (万元), largest revenue first."""
    columns = [t("incentives.col.unit"), t("vouchers.col.services"), t("vouchers.col.covered"),
               t("vouchers.col.revenue"), t("vouchers.col.post_subsidy"), t("vouchers.col.withheld")]
    if o.vouchers is None or o.vouchers.by_holder.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    names = unit_names(o.units, t.lang)
    units = o.units.set_index("unit_id")
    h = o.vouchers.by_holder
    paid = units["post_subsidy_cny"].reindex(h["unit_id"]).fillna(0.0).to_numpy()
    withheld = units["post_subsidy_withheld_cny"].reindex(h["unit_id"]).fillna(0.0).to_numpy()
    return pd.DataFrame({
        columns[0]: [names.get(u, str(u)) for u in h["unit_id"]],
        columns[1]: h["services"].astype(int).to_numpy(),
        columns[2]: h["services_covered"].astype(int).to_numpy(),
        columns[3]: [wan_value(v) for v in h["voucher_revenue_cny"]],
        columns[4]: [wan_value(v) for v in paid],
        columns[5]: [wan_value(v) for v in withheld],
    })


def limits_frame(v: V.VoucherOutcome, t: Translator) -> pd.DataFrame:
    """How often each limit lowered or refused a voucher, and why records had no voucher right."""
    rows = [(t(f"vouchers.limit.{k}"), int(v.binding.get(k, 0)),
             str(int(v.refused[k])) if k in v.refused else fmt.MISSING) for k in V.LIMITS]
    return pd.DataFrame(rows, columns=[t("vouchers.col.limit"), t("vouchers.col.binding"), t("vouchers.col.refused")])


def exclusions_frame(v: V.VoucherOutcome, t: Translator) -> pd.DataFrame:
    return pd.DataFrame({
        t("vouchers.col.exclusion"): [t(f"vouchers.exclusion.{k}") for k in V.EXCLUSION_REASONS],
        t("vouchers.col.records"): [int(v.excluded.get(k, 0)) for k in V.EXCLUSION_REASONS],
    })


def burn_down_frame(v: V.VoucherOutcome, t: Translator) -> pd.DataFrame:
    """Monthly spend and cumulative spend (万元), with month labels."""
    m = v.monthly
    return pd.DataFrame({
        "month": m["month"].astype(int).to_numpy(),
        "label": [month_text(x, t) for x in m["month"]],
        "spend": (m["spend_cny"].astype(float) / WAN).round(4).to_numpy(),
        "demand": (m["demand_cny"].astype(float) / WAN).round(4).to_numpy(),
        "cumulative": (m["cumulative_cny"].astype(float) / WAN).round(4).to_numpy(),
    })


def burn_down_chart(frame: pd.DataFrame, pool_wan: float | None, runs_out: int | None,
                    titles: Mapping[str, str]) -> alt.LayerChart:
    """Bars: vouchers paid per month; line: cumulative; dashed rule: the pool; a vertical rule at
    the month the pool runs out. titles: month, amount (y axis), spend, cumulative, pool, runs_out."""
    order = list(frame["label"])
    x = alt.X("label:N", sort=order, title=titles["month"], axis=alt.Axis(labelAngle=0))
    series = alt.Color("series:N", title=None, legend=alt.Legend(orient="top"),
                       scale=alt.Scale(domain=[titles["spend"], titles["cumulative"]], range=[PRIMARY, ACCENT]))
    tooltip = [alt.Tooltip("label:N", title=titles["month"]),
               alt.Tooltip("spend:Q", title=titles["spend"], format=",.2f"),
               alt.Tooltip("cumulative:Q", title=titles["cumulative"], format=",.2f")]
    bars = alt.Chart(frame.assign(series=titles["spend"])).mark_bar(opacity=0.8).encode(
        x=x, y=alt.Y("spend:Q", title=titles["amount"]), color=series, tooltip=tooltip)
    line = alt.Chart(frame.assign(series=titles["cumulative"])).mark_line(point=True, strokeWidth=2.5).encode(
        x=x, y=alt.Y("cumulative:Q", title=titles["amount"]), color=series, tooltip=tooltip)
    layers = [bars, line]
    if pool_wan is not None:
        pool = pd.DataFrame({"pool": [pool_wan], "text": [titles["pool"]]})
        layers.append(alt.Chart(pool).mark_rule(color=WARN, strokeDash=[6, 4], strokeWidth=2).encode(y="pool:Q"))
        layers.append(alt.Chart(pool).mark_text(color=WARN, align="left", dx=4, dy=-8, fontWeight="bold").encode(
            y="pool:Q", x=alt.value(0), text="text:N"))
    if runs_out is not None:
        label = frame.loc[frame["month"] == runs_out, "label"].iloc[0]
        mark = pd.DataFrame({"label": [label], "text": [titles["runs_out"]]})
        layers.append(alt.Chart(mark).mark_rule(color=WARN, strokeWidth=2).encode(x=alt.X("label:N", sort=order)))
        layers.append(alt.Chart(mark).mark_text(color=WARN, align="left", dx=6, dy=0, baseline="top",
                                                fontWeight="bold").encode(
            x=alt.X("label:N", sort=order), y=alt.value(4), text="text:N"))
    return alt.layer(*layers).properties(height=320)


# ------------------------------------------------------------------------------------ references
def reference_text(param: str, t: Translator) -> str:
    """'参考：山东 60%（欠发达地区）、40%（其他地区）；广州 最高 70%…' for a voucher control."""
    refs = V.references_for(param)
    if not refs:
        return ""
    by_region: dict[str, list[str]] = {}
    for r in refs:
        by_region.setdefault(r.region, []).append(_reference_value(r, param, t))
    parts = [t("vouchers.ref.item", region=t(f"vouchers.ref.region.{region}"), values=join(values, t))
             for region, values in by_region.items()]
    return t("vouchers.ref.caption", items=t("incentives.clause_separator").join(parts))


def _reference_value(r: V.ReferenceValue, param: str, t: Translator) -> str:
    if r.value is None:
        value = ""
    elif param.endswith("_cny"):
        value = fmt.money(r.value, t)
    else:
        value = share_text(r.value)
        if r.value_high is not None:
            value = t("vouchers.ref.range", low=value, high=share_text(r.value_high))
    qualifier = t(f"vouchers.ref.qualifier.{r.qualifier}") if r.qualifier else ""
    inferred = t("incentives.inferred_mark") if r.inferred else ""
    if value and qualifier:
        return t("vouchers.ref.value_qualified", value=value, qualifier=qualifier) + inferred
    return (value or qualifier) + inferred


def default_source_text(param: str, t: Translator) -> str:
    region, inferred = V.DEFAULT_SOURCES.get(param, ("inference", True))
    if inferred:
        return t("vouchers.default_source.inferred")
    return t("vouchers.default_source.region", region=t(f"vouchers.ref.region.{region}"))


# ------------------------------------------------------------------------------------ definitions
def definitions_frame(params: SC.ScenarioParams, t: Translator) -> pd.DataFrame:
    """Item, definition (with the values in force), unit and source of everything on the page."""
    r = params.reward
    rules = params.sanctions or S.SanctionRules()
    vp = params.vouchers or V.VoucherParams()
    rule = params.grade_rule
    labels = rule.labels() if rule else GradeRule().labels()
    eligibility = []
    if r.eligible_grades:
        eligibility.append(t("incentives.def.eligible_grades", grades=join([grade_text(g, t) for g in r.eligible_grades], t)))
    if r.min_score is not None:
        eligibility.append(t("incentives.def.min_score", score=fmt.trimmed(r.min_score)))
    caps = []
    if r.cap_cny is not None:
        caps.append(t("incentives.def.cap_cny", amount=fmt.money(r.cap_cny, t)))
    if r.cap_share_of_external_income is not None:
        caps.append(t("incentives.def.cap_share", share=share_text(r.cap_share_of_external_income)))

    def opt_money(v):
        return t("vouchers.unlimited") if v is None else fmt.money(v, t)

    rows = [
        ("allocation", {}),
        ("eligibility", {"rule": join(eligibility, t) or t("incentives.def.anyone")}),
        ("basis", {"basis": t(f"incentives.basis.{r.basis}")}),
        ("cap", {"cap": join(caps, t) or t("incentives.def.no_cap")}),
        ("unspent", {}),
        ("grade_lines", {"g1": grade_text(labels[0], t), "g2": grade_text(labels[1], t), "g3": grade_text(labels[2], t),
                         "g4": grade_text(labels[3], t),
                         "b1": fmt.trimmed(rule.bands[0]) if rule else "90", "b2": fmt.trimmed(rule.bands[1]) if rule else "75",
                         "b3": fmt.trimmed(rule.bands[2]) if rule else "60"}),
        ("boundary", {}),
        ("rule.poor_grade", {"grades": join([grade_text(g, t) for g in rules.poor_grade.grades], t)}),
        ("rule.not_reporting", {"missing": rules.not_reporting.min_missing if rules.not_reporting.min_missing is not None
                                else fmt.MISSING}),
        ("rule.late_reporting", {"late": rules.late_reporting.min_late if rules.late_reporting.min_late is not None
                                 else fmt.MISSING,
                                 "days": rules.late_reporting.min_days_late if rules.late_reporting.min_days_late is not None
                                 else fmt.MISSING}),
        ("rule.nominally_open", {"ratio": share_text(rules.nominally_open.max_external_ratio),
                                 "count": rules.nominally_open.min_candidates}),
        ("rule.idle_share", {"share": share_text(rules.idle_share.max_share), "min": rules.idle_share.min_in_service}),
        ("consequences", {}),
        ("purchase_flag", {}),
        ("voucher.eligible", {"kinds": join([t.enum("client_kind", k) for k in vp.eligible_client_kinds], t)}),
        ("voucher.amount", {"ratio": share_text(vp.voucher_ratio), "app": opt_money(vp.per_application_cap_cny),
                            "firm": opt_money(vp.per_firm_annual_cap_cny)}),
        ("voucher.pool", {"pool": opt_money(vp.pool_cny)}),
        ("voucher.holder", {"share": share_text(vp.holder_redemption_share)}),
        ("voucher.uplift", {"uplift": share_text(vp.demand_uplift)}),
        ("fiscal_cost", {}),
    ]
    return pd.DataFrame({
        t("incentives.def.col.item"): [t(f"incentives.def.{k}.item") for k, _ in rows],
        t("incentives.def.col.definition"): [t(f"incentives.def.{k}.text", **p) for k, p in rows],
        t("incentives.def.col.unit"): [t(f"incentives.def.{k}.unit") for k, _ in rows],
        t("incentives.def.col.source"): [t(f"incentives.def.{k}.source") for k, _ in rows],
    })


# ------------------------------------------------------------------------------------ scenarios
def scenario_label(row: Mapping, t: Translator) -> str:
    return t("incentives.scenario.option", id=int(row["id"]), name=row["name"])


def scenarios_frame(saved: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """Saved scenarios, newest first: id, name, note, saved at (Beijing time), saved by."""
    at = pd.to_datetime(saved["created_at"], utc=True).dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%d %H:%M")
    return pd.DataFrame({
        t("incentives.scenario.col.id"): saved["id"].astype(int).to_numpy(),
        t("incentives.scenario.col.name"): saved["name"].to_numpy(object),
        t("incentives.scenario.col.note"): saved["note"].to_numpy(object),
        t("incentives.scenario.col.saved_at"): at.to_numpy(object),
    })


def figure_value(key: str, value, t: Translator) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t("vouchers.unlimited") if key == "voucher_pool_cny" else fmt.MISSING
    return fmt.money(float(value), t) if key in SC.MONEY_FIGURES else fmt.number(float(value))


def delta_value(key: str, value, t: Translator) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    v = float(value)
    if v == 0:
        return "±0"
    sign = "+" if v > 0 else "−"
    body = fmt.money(abs(v), t) if key in SC.MONEY_FIGURES else fmt.number(abs(v))
    return sign + body


def comparison_summary(c: SC.Comparison, labels: Mapping[str, str], t: Translator) -> pd.DataFrame:
    """Figures side by side: one row per figure, the baseline, then per scenario its value and
    its difference to the baseline."""
    data = {t("incentives.compare.col.figure"): [t(f"scenarios.fig.{k}") for k in SC.FIGURES]}
    data[labels[SC.BASELINE]] = [figure_value(k, c.summary.loc[k, SC.BASELINE], t) for k in SC.FIGURES]
    for name in c.names:
        data[labels[name]] = [figure_value(k, c.summary.loc[k, name], t) for k in SC.FIGURES]
        data[t("incentives.compare.col.delta", name=labels[name])] = [
            delta_value(k, c.deltas.loc[k, name], t) for k in SC.FIGURES]
    return pd.DataFrame(data)


def comparison_changes(c: SC.Comparison, labels: Mapping[str, str], t: Translator) -> pd.DataFrame:
    """Per scenario, the units whose grade, money or sanctions differ from the baseline."""
    ch = c.changes
    names = localised(ch, "name", "name_en", t.lang) if not ch.empty else pd.Series(dtype=object)

    def grade_change(b, a):
        if b == a:
            return grade_text(a, t) if a else fmt.MISSING
        return f"{grade_text(b, t)} → {grade_text(a, t)}"

    def sanction_change(kind, after):
        if kind == "new":
            return t("incentives.compare.sanction.new", rules=rules_text(after, t))
        if kind == "lifted":
            return t("incentives.compare.sanction.lifted")
        if kind == "rules":
            return t("incentives.compare.sanction.rules", rules=rules_text(after, t))
        return ""

    return pd.DataFrame({
        t("incentives.compare.col.scenario"): [labels.get(s, s) for s in ch["scenario"]],
        t("incentives.col.unit"): names.to_numpy(object) if len(ch) else [],
        t("incentives.compare.col.grade"): [grade_change(b, a) for b, a in zip(ch["grade_before"], ch["grade_after"])],
        t("incentives.compare.col.money_before"): [wan_value(v) for v in ch["money_before"]],
        t("incentives.compare.col.money_after"): [wan_value(v) for v in ch["money_after"]],
        t("incentives.compare.col.money_change"): [wan_value(v) for v in ch["money_change"]],
        t("incentives.compare.col.sanctions"): [sanction_change(k, r) for k, r in zip(ch["sanction_change"], ch["rules_after"])],
    })


__all__ = [
    "ACTOR", "CONTROL_NAMES", "Card", "candidate_labels", "DEFAULT_MARGIN", "DEFAULT_POOL_CNY", "boundary", "boundary_frame",
    "burn_down_chart", "burn_down_frame", "changed_from", "comparison_changes", "comparison_summary",
    "default_params", "definitions_frame", "evidence_text", "flagged_requests", "grade_cards", "headline_cards",
    "holders_frame", "params_from_state", "potential_counts", "purchase_flags_frame", "reference_text", "reward_cards", "reward_frame", "sanctions_frame",
    "scenarios_frame", "state_from_params", "voucher_cards",
]
