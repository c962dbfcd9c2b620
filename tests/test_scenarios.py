"""Scenarios: parameters ↔ JSON, the outcome of a scenario on a hand-made year, and comparisons.

Every expected number is worked out by hand in the comments (never by calling the code under test).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from dashboard import sanctions as S
from dashboard import scenarios as SC
from dashboard.i18n import Translator, catalogue
from dashboard.incentives import RewardRule
from dashboard.indicators import IndicatorTable
from dashboard.scheme import GradeRule, Group, Indicator, Scheme
from dashboard.vouchers import VoucherParams

SME, LARGE = "本地中小企业", "本地大型企业"
EXT, INT = "外部用户", "内部用户"

# ----------------------------------------------------------------------------- the hand-made year
# Scheme: one indicator per group, goalposts 0–100 (so normalised = raw), group weights
# org 0.2 / use 0.3 / share 0.5. Score = 0.2·a + 0.3·b + 0.5·c.
SCHEME = Scheme(
    name="hand", version=1,
    groups=(Group("org", 0.2), Group("use", 0.3), Group("share", 0.5)),
    indicators=(Indicator("a", "org", params={"lower": 0, "upper": 100}),
                Indicator("b", "use", params={"lower": 0, "upper": 100}),
                Indicator("c", "share", params={"lower": 0, "upper": 100})),
)
#  unit  a    b    c    score                       grade (90/75/60)
#   1    90  100   90   18 + 30 + 45 = 93           优秀   rank 1
#   2    80   80   70   16 + 24 + 35 = 75           良好   rank 2 (exactly on the line)
#   3    60   70   50   12 + 21 + 25 = 58           较差   rank 4
#   4   100   60   60   20 + 18 + 30 = 68           合格   rank 3
#   5    —    —    —    not reported: no score      较差 (not reporting is a failure)
RAW = pd.DataFrame({"a": [90, 80, 60, 100, np.nan], "b": [100, 80, 70, 60, np.nan],
                    "c": [90, 70, 50, 60, np.nan]}, index=pd.Index([1, 2, 3, 4, 5], name="unit_id"))
UNITS = pd.DataFrame({"name": ["甲单位", "乙单位", "丙单位", "丁单位", "戊单位"],
                      "name_en": ["Unit A", "Unit B", "Unit C", "Unit D", "Unit E"],
                      "status": ["rated"] * 4 + ["not_reported"]}, index=RAW.index)
TABLE = IndicatorTable(raw=RAW, units=UNITS)


def svc(id_, month, firm, fee, unit, instrument, kind=SME, user=EXT):
    return {"id": id_, "start_time": pd.Timestamp(2025, month, 1, 9), "applicant_unit": firm,
            "service_amount_cny": fee, "client_kind": kind, "user_type": user, "unit_id": unit,
            "instrument_id": instrument}


# Vouchers: ratio 0.5, 15,000 per application, no firm cap, no pool, holders get 20 %.
#  id unit firm  fee     voucher right?          voucher                post-subsidy
#   1  1   F1   10,000   SME, external           5,000                  1,000
#   2  2   F2   40,000   SME, external           20,000 → cap 15,000    3,000
#   3  3   F1   20,000   large firm: excluded    —
#   4  1   F3    6,000   internal user: excluded —
#   5  3   F4    8,000   SME, external           4,000                    800
#   6  4   F5    5,000   large firm: excluded    —
# spend 24,000; post-subsidy 4,800; firms served F1, F2, F4 = 3.
# External income (external-user fees): unit 1 10,000; 2 40,000; 3 28,000; 4 5,000; 5 0.
SERVICES = pd.DataFrame([
    svc(1, 3, "F1", 10_000, 1, 10),
    svc(2, 4, "F2", 40_000, 2, 20),
    svc(3, 5, "F1", 20_000, 3, 30, kind=LARGE),
    svc(4, 6, "F3", 6_000, 1, 10, user=INT),
    svc(5, 7, "F4", 8_000, 3, 30),
    svc(6, 8, "F5", 5_000, 4, 11, kind=LARGE),
    {**svc(7, 1, "F1", 99_000, 1, 10), "start_time": pd.Timestamp(2024, 12, 31, 9)},  # other year: ignored
])
VOUCHERS = VoucherParams(voucher_ratio=0.5, per_application_cap_cny=15_000, per_firm_annual_cap_cny=None,
                         pool_cny=None, holder_redemption_share=0.2)
REWARD = RewardRule(pool_cny=100_000, cap_cny=60_000)  # 优秀/良好, basis score
PARAMS_A = SC.ScenarioParams(reward=REWARD, vouchers=VOUCHERS)
PARAMS_B = replace(PARAMS_A, grade_rule=GradeRule(bands=(90.0, 65.0, 55.0)))

# Reporting summary (dashboard.quality.reporting_summary columns the rules read): unit 2 missed
# 3 monthly reports (not_reporting fires at ≥ 3), unit 4 missed 2 (does not fire).
REPORTING = pd.DataFrame({
    "unit_id": [1, 2, 3, 4], "name": ["甲单位", "乙单位", "丙单位", "丁单位"], "name_en": [""] * 4,
    "due": [12, 12, 12, 12], "on_time": [12, 9, 12, 10], "late": [0, 0, 0, 0], "missing": [0, 3, 0, 2],
    "not_due": [0, 0, 0, 0], "on_time_share": [1.0, 0.75, 1.0, 10 / 12], "max_days_late": [0, 0, 0, 0],
    "never_reported": [False, False, False, False],
})
# Instrument 11 of unit 4: declared 外部共享, 1,000 effective hours of which 150 external:
# internal 850, external/internal = 0.176…; one external service record (id 6). It is a
# "nominally open" candidate at a ratio of 0.2 (150 < 170) but not at 0.1 (150 ≥ 85).
ANNUAL = pd.DataFrame({
    "id": [10, 11], "unit_id": [1, 4], "unit_name": ["甲单位", "丁单位"], "unit_name_en": ["", ""],
    "inner_id": ["A-1", "D-1"], "name_zh": ["质谱仪", "色谱仪"], "name_en": ["", ""],
    "exempt": [False, False], "in_service": [True, True], "share_mode": ["外部共享", "外部共享"],
    "effective_hours": [1300.0, 1000.0], "external_hours": [600.0, 150.0], "rated_hours": [1400.0, 1400.0],
})
USAGE = pd.DataFrame({"instrument_id": [10, 11], "year": [2025, 2025], "months_reported": [12, 12],
                      "effective_hours": [1300.0, 1000.0], "external_hours": [600.0, 150.0]})

ONLY_GRADE = (S.SanctionRules().with_rule("not_reporting", enabled=False)
              .with_rule("late_reporting", enabled=False).with_rule("nominally_open", enabled=False))
GRADE_AND_REPORTING = ONLY_GRADE.with_rule("not_reporting", enabled=True, min_missing=3)


def hand_inputs(**kw) -> SC.ScenarioInputs:
    kw.setdefault("reporting", REPORTING)
    kw.setdefault("annual", ANNUAL)
    kw.setdefault("usage", USAGE)
    return SC.build_inputs(2025, TABLE, SCHEME, SERVICES, **kw)


def by_unit(o: SC.ScenarioOutcome) -> pd.DataFrame:
    return o.units.set_index("unit_id")


# ----------------------------------------------------------------------------- JSON


def full_params() -> SC.ScenarioParams:
    return SC.ScenarioParams(
        year=2025,
        weights={"open_ratio": 0.3, "external_share": 0.25},
        grade_rule=GradeRule(mode="quotas", quotas=(0.1, 0.25), pass_score=55.0, fourth_label="不合格"),
        reward=RewardRule(pool_cny=2_500_000, eligible_grades=("优秀",), min_score=70.0,
                          basis="score_x_external_income", cap_cny=400_000, cap_share_of_external_income=0.5),
        sanctions=S.SanctionRules().with_rule("idle_share", enabled=True, max_share=0.6)
        .with_consequences("nominally_open", purchase_restricted_years=2),
        vouchers=VoucherParams(voucher_ratio=0.6, per_application_cap_cny=None, pool_cny=3_000_000,
                               eligible_client_kinds=(SME, LARGE), demand_uplift=0.1),
    )


def test_json_round_trip_keeps_every_parameter():
    p = full_params()
    text = p.to_json()
    data = json.loads(text)
    assert data["version"] == SC.SCHEMA_VERSION == 1
    assert data["weights"] == {"external_share": 0.25, "open_ratio": 0.3}
    assert data["grade_rule"]["mode"] == "quotas" and data["grade_rule"]["fourth_label"] == "不合格"
    assert data["sanctions"]["idle_share"]["enabled"] is True
    assert data["sanctions"]["nominally_open"]["consequences"]["purchase_restricted_years"] == 2
    assert data["vouchers"]["eligible_client_kinds"] == [SME, LARGE]
    back = SC.ScenarioParams.from_json(text)
    assert back == p
    assert back.to_json() == text


def test_json_round_trip_of_a_minimal_scenario_and_integers_from_json():
    p = SC.ScenarioParams()
    assert SC.ScenarioParams.from_json(p.to_json()) == p
    assert p.year is None and p.weights is None and p.grade_rule is None and p.sanctions is None and p.vouchers is None
    # Hand-written JSON with whole numbers reads the same as floats.
    text = json.dumps({"version": 1, "reward": {"pool_cny": 300, "cap_cny": 80}, "grade_rule": {"bands": [90, 75, 60]},
                       "weights": {"a": 1}})
    p = SC.ScenarioParams.from_json(text)
    assert p.reward.pool_cny == 300.0 and p.reward.cap_cny == 80.0
    assert p.grade_rule.bands == (90.0, 75.0, 60.0)
    assert p.weights == (("a", 1.0),)
    assert p.effective_year(2024) == 2024
    assert SC.ScenarioParams(year=2023).effective_year(2024) == 2023


def _doc(**changes) -> str:
    data = json.loads(full_params().to_json())
    for path, value in changes.items():
        keys = path.split("__")
        target = data
        for k in keys[:-1]:
            target = target[k]
        if value is KeyError:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
    return json.dumps(data)


@pytest.mark.parametrize("text, field, reason", [
    ("{not json", "scenario", "not_json"),
    ("[1, 2]", "scenario", "not_object"),
    (_doc(version=KeyError), "version", "missing_version"),
    (_doc(version=2), "version", "unknown_version"),
    (_doc(version="1"), "version", "unknown_version"),
    (_doc(colour="blue"), "colour", "unknown_field"),
    (_doc(reward=KeyError), "reward", "missing_field"),
    (_doc(year=1999), "year", "out_of_range"),
    (_doc(year=2025.5), "year", "not_an_integer"),
    (_doc(weights={"a": -1}), "weights.a", "out_of_range"),
    (_doc(weights={"a": "x"}), "weights.a", "not_a_number"),
    (_doc(weights=[1, 2]), "weights", "not_a_mapping"),
    (_doc(grade_rule__bands=[75, 90, 60]), "grade_rule.bands", "bands_not_falling"),
    (_doc(grade_rule__bands=[90, 75]), "grade_rule.bands", "invalid"),
    (_doc(grade_rule__quotas=[0.6, 0.5]), "grade_rule.quotas", "quotas_too_large"),
    (_doc(grade_rule__mode="curve"), "grade_rule.mode", "bad_choice"),
    (_doc(grade_rule__fourth_label="差"), "grade_rule.fourth_label", "bad_choice"),
    (_doc(grade_rule__pass_score=120), "grade_rule.pass_score", "out_of_range"),
    (_doc(grade_rule__colour=1), "grade_rule.colour", "unknown_field"),
    (_doc(reward__pool_cny=-1), "reward.pool_cny", "out_of_range"),
    (_doc(reward__pool_cny=True), "reward.pool_cny", "not_a_number"),
    (_doc(reward__pool_cny=float("nan")), "reward.pool_cny", "not_a_number"),
    (_doc(reward__basis="size"), "reward.basis", "bad_choice"),
    (_doc(reward__eligible_grades=["优秀", "最好"]), "reward.eligible_grades", "bad_choice"),
    (_doc(reward__eligible_grades="优秀"), "reward.eligible_grades", "not_text"),
    (_doc(reward__min_score=101), "reward.min_score", "out_of_range"),
    (_doc(reward__cap_cny=-5), "reward.cap_cny", "out_of_range"),
    (_doc(reward__lambda=1), "reward.lambda", "unknown_field"),
    (_doc(vouchers__voucher_ratio=1.5), "vouchers.voucher_ratio", "out_of_range"),
    (_doc(vouchers__voucher_ratio="half"), "vouchers.voucher_ratio", "not_a_number"),
    (_doc(vouchers__eligible_client_kinds=["外星企业"]), "vouchers.eligible_client_kinds", "unknown_client_kind"),
    (_doc(vouchers__only_external_users="yes"), "vouchers.only_external_users", "not_a_bool"),
    (_doc(vouchers__bonus=1), "vouchers.bonus", "unknown_field"),
    (_doc(vouchers=5), "vouchers", "not_a_mapping"),
    (_doc(sanctions__idle_share__max_share=1.5), "sanctions.idle_share.max_share", "invalid"),
    (_doc(sanctions__curfew={}), "sanctions", "invalid"),
])
def test_from_json_names_the_field_and_the_reason(text, field, reason):
    with pytest.raises(SC.ScenarioError) as err:
        SC.ScenarioParams.from_json(text)
    assert (err.value.field, err.value.reason) == (field, reason)
    assert reason in SC.ERROR_REASONS


def test_every_error_reason_has_a_message_in_both_languages():
    for lang in ("zh", "en"):
        cat = catalogue(lang)
        missing = [r for r in SC.ERROR_REASONS if f"scenarios.err.{r}" not in cat]
        assert not missing, (lang, missing)
    err = SC.ScenarioError("version", "unknown_version", value=7, supported="1")
    assert err.message(Translator("zh")) == "不支持的情景版本 7（version）；本系统支持的版本：1"
    assert err.message(Translator("en")) == "Unsupported scenario version 7 (version); this system reads version 1"
    too_long = SC.ScenarioError("name", "too_long", value=250, limit=200)
    assert "250" in too_long.message(Translator("zh")) and "200" in too_long.message(Translator("zh"))
    # Every reason renders in both languages with the parameters the code passes.
    for reason in SC.ERROR_REASONS:
        e = SC.ScenarioError("x", reason, value=1, supported="1", inputs_year=2025, limit=3)
        assert e.message(Translator("zh")) and e.message(Translator("en"))


def test_scenario_id_from_a_link():
    assert SC.scenario_id_from_query(None) is None
    assert SC.scenario_id_from_query("") is None
    assert SC.scenario_id_from_query(" 12 ") == 12
    assert SC.scenario_id_from_query(["7"]) == 7
    for bad in ("abc", "-3", "0", "1.5"):
        with pytest.raises(SC.ScenarioError) as err:
            SC.scenario_id_from_query(bad)
        assert (err.value.field, err.value.reason) == ("id", "not_an_integer")


# ----------------------------------------------------------------------------- outcome


def test_external_income_counts_fees_of_external_users_per_unit():
    inputs = hand_inputs()
    assert inputs.external_income.to_dict() == {1: 10_000.0, 2: 40_000.0, 3: 28_000.0, 4: 5_000.0, 5: 0.0}
    assert len(inputs.services) == 6  # the 2024 record is dropped


def test_outcome_of_the_baseline_by_hand():
    o = SC.outcome(PARAMS_A, hand_inputs(), name="A")
    u = by_unit(o)
    assert list(o.units.columns) == list(SC.UNIT_COLUMNS)
    assert list(o.units["unit_id"]) == [1, 2, 4, 3, 5]  # by rank, the unrated last
    assert u["score"].round(9).to_dict() == pytest.approx({1: 93.0, 2: 75.0, 3: 58.0, 4: 68.0, 5: np.nan}, nan_ok=True)
    assert u["grade"].to_dict() == {1: "优秀", 2: "良好", 3: "较差", 4: "合格", 5: "较差"}
    assert u["rank"].dropna().astype(int).to_dict() == {1: 1, 2: 2, 4: 3, 3: 4}
    assert pd.isna(u["rank"][5])
    # Rewards: eligible 优秀/良好 = units 1 and 2, basis = score 93 and 75, pool 100,000, cap 60,000.
    # λ = 100,000 / 168; unit 1: 93 × λ = 55,357.1428… → 55,357.14; unit 2: 75 × λ = 44,642.857… →
    # 44,642.85 + the missing cent (largest remainder .857 > .143) = 44,642.86; both under the cap.
    assert u["reward_cny"].to_dict() == {1: 55_357.14, 2: 44_642.86, 3: 0.0, 4: 0.0, 5: 0.0}
    assert u["reason_if_not"].to_dict() == {1: None, 2: None, 3: "grade", 4: "grade", 5: "not_rated"}
    assert u["voucher_revenue_cny"].to_dict() == {1: 5_000.0, 2: 15_000.0, 3: 4_000.0, 4: 0.0, 5: 0.0}
    assert u["post_subsidy_cny"].to_dict() == {1: 1_000.0, 2: 3_000.0, 3: 800.0, 4: 0.0, 5: 0.0}
    assert u["total_cny"].to_dict() == {1: 56_357.14, 2: 47_642.86, 3: 800.0, 4: 0.0, 5: 0.0}
    assert not u["sanctioned"].any() and not u["excluded"].any()
    assert o.totals == pytest.approx({
        "fiscal_cost_cny": 100_000 + 24_000 + 4_800,  # 128,800
        "reward_pool_cny": 100_000, "reward_paid_cny": 100_000, "reward_unspent_cny": 0, "rewarded_units": 2,
        "voucher_pool_cny": np.nan, "voucher_spend_cny": 24_000, "firms_served": 3, "services_covered": 3,
        "voucher_post_subsidy_cny": 4_800, "voucher_post_subsidy_withheld_cny": 0,
        "sanctioned_units": 0, "excluded_units": 0, "rated_units": 4,
        "units_excellent": 1, "units_good": 1, "units_pass": 1, "units_fourth": 2,
    }, nan_ok=True)
    assert list(o.totals) == list(SC.FIGURES)
    assert o.grade_labels == ("优秀", "良好", "合格", "较差")


def test_lower_grade_lines_move_units_up_and_share_the_pool_wider():
    # Bands 90 / 65 / 55: unit 4 (68) becomes 良好, unit 3 (58) 合格.
    o = SC.outcome(PARAMS_B, hand_inputs())
    u = by_unit(o)
    assert u["grade"].to_dict() == {1: "优秀", 2: "良好", 3: "合格", 4: "良好", 5: "较差"}
    # Eligible 1, 2, 4 with basis 93, 75, 68 (Σ 236): 100,000·93/236 = 39,406.779… ;
    # ·75/236 = 31,779.661… ; ·68/236 = 28,813.559… → floors 39,406.77 + 31,779.66 + 28,813.55
    # = 99,999.98; the two missing cents go to the largest remainders (.966, .932): units 1 and 4.
    assert u["reward_cny"].to_dict() == {1: 39_406.78, 2: 31_779.66, 3: 0.0, 4: 28_813.56, 5: 0.0}
    assert o.totals["reward_paid_cny"] == 100_000.0
    assert (o.totals["units_excellent"], o.totals["units_good"], o.totals["units_pass"], o.totals["units_fourth"]) == (1, 2, 1, 1)


def test_weight_overrides_replace_one_global_weight_and_renormalise():
    # c → 0: weights a 0.2, b 0.3 → 0.4 / 0.6. Scores: 1: 36 + 60 = 96; 2: 32 + 48 = 80;
    # 3: 24 + 42 = 66; 4: 40 + 36 = 76.
    o = SC.outcome(replace(PARAMS_A, weights={"c": 0.0}), hand_inputs())
    u = by_unit(o)
    assert u["score"].round(9).dropna().to_dict() == {1: 96.0, 2: 80.0, 3: 66.0, 4: 76.0}
    assert u["grade"].to_dict() == {1: "优秀", 2: "良好", 3: "合格", 4: "良好", 5: "较差"}
    with pytest.raises(SC.ScenarioError) as err:
        SC.outcome(replace(PARAMS_A, weights={"nope": 1.0}), hand_inputs())
    assert (err.value.field, err.value.reason) == ("weights.nope", "unknown_indicator")
    with pytest.raises(SC.ScenarioError) as err:
        SC.outcome(replace(PARAMS_A, weights={"a": 0.0, "b": 0.0, "c": 0.0}), hand_inputs())
    assert err.value.reason == "no_positive_weight"


def test_a_scenario_of_another_year_is_refused():
    with pytest.raises(SC.ScenarioError) as err:
        SC.outcome(replace(PARAMS_A, year=2024), hand_inputs())
    assert (err.value.field, err.value.reason) == ("year", "year_mismatch")
    assert SC.outcome(replace(PARAMS_A, year=2025), hand_inputs()).year == 2025


def test_sanctions_exclude_units_from_rewards_and_withhold_their_post_subsidy():
    # poor_grade fires on units 3 (较差, 58) and 5 (not reported → 较差); not_reporting on unit 2
    # (3 missing reports). Both rules bar post-subsidy. The only eligible unit left is unit 1:
    # it gets its cap 60,000; 40,000 stays unspent. Voucher post-subsidy: unit 1 keeps 1,000;
    # units 2 (3,000) and 3 (800) are withheld: 3,800. Fiscal cost 60,000 + 24,000 + 1,000.
    o = SC.outcome(replace(PARAMS_A, sanctions=GRADE_AND_REPORTING), hand_inputs(), name="E")
    u = by_unit(o)
    assert u["sanction_rules"].to_dict() == {1: (), 2: ("not_reporting",), 3: ("poor_grade",), 4: (), 5: ("poor_grade",)}
    assert u["sanctioned"].to_dict() == {1: False, 2: True, 3: True, 4: False, 5: True}
    assert u["excluded"].to_dict() == {1: False, 2: True, 3: True, 4: False, 5: True}
    assert u["reason_if_not"][2] == "excluded"
    assert u["reward_cny"].to_dict() == {1: 60_000.0, 2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0}
    assert u["post_subsidy_cny"].to_dict() == {1: 1_000.0, 2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0}
    assert u["post_subsidy_withheld_cny"].to_dict() == {1: 0.0, 2: 3_000.0, 3: 800.0, 4: 0.0, 5: 0.0}
    assert u["total_cny"].to_dict() == {1: 61_000.0, 2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0}
    t = o.totals
    assert (t["reward_paid_cny"], t["reward_unspent_cny"], t["voucher_spend_cny"]) == (60_000.0, 40_000.0, 24_000.0)
    assert (t["voucher_post_subsidy_cny"], t["voucher_post_subsidy_withheld_cny"]) == (1_000.0, 3_800.0)
    assert t["fiscal_cost_cny"] == 85_000.0
    assert (t["sanctioned_units"], t["excluded_units"], t["rewarded_units"]) == (3, 3, 1)
    assert set(o.sanctions.by_unit["unit_id"]) == {2, 3, 5}


def test_the_grade_rule_sees_the_scenarios_own_grades():
    # With bands 90/65/55 unit 3 is 合格: only the unit that did not report is 较差.
    o = SC.outcome(replace(PARAMS_B, sanctions=ONLY_GRADE), hand_inputs())
    assert by_unit(o)["sanctioned"].to_dict() == {1: False, 2: False, 3: False, 4: False, 5: True}
    # 不合格 as the fourth label is caught as well.
    rule = GradeRule(fourth_label="不合格")
    o = SC.outcome(replace(PARAMS_A, grade_rule=rule, sanctions=ONLY_GRADE), hand_inputs())
    assert by_unit(o)["grade"][3] == "不合格" and by_unit(o)["sanctioned"][3]
    assert o.grade_labels[3] == "不合格" and o.totals["units_fourth"] == 2


def test_nominally_open_candidates_follow_the_scenarios_ratio():
    inputs = hand_inputs()  # built with the default ratio 0.10
    at_default = ONLY_GRADE.with_rule("nominally_open", enabled=True)
    at_02 = at_default.with_rule("nominally_open", max_external_ratio=0.2)
    assert by_unit(SC.outcome(replace(PARAMS_A, sanctions=at_default), inputs))["sanction_rules"][4] == ()
    o = SC.outcome(replace(PARAMS_A, sanctions=at_02), inputs)
    assert by_unit(o)["sanction_rules"][4] == ("nominally_open",)
    assert by_unit(o)["excluded"][4]
    # Asking again at 0.10 gives the first answer (no stale candidates).
    assert by_unit(SC.outcome(replace(PARAMS_A, sanctions=at_default), inputs))["sanction_rules"][4] == ()


def test_a_rule_without_its_data_is_a_clear_error():
    inputs = SC.build_inputs(2025, TABLE, SCHEME, SERVICES)  # no reporting, annual or usage frames
    with pytest.raises(SC.ScenarioError) as err:
        SC.outcome(replace(PARAMS_A, sanctions=GRADE_AND_REPORTING), inputs)
    assert (err.value.field, err.value.reason) == ("sanctions", "missing_data")
    # The grade rule needs only the scenario's own grades.
    o = SC.outcome(replace(PARAMS_A, sanctions=ONLY_GRADE), inputs)
    assert o.totals["sanctioned_units"] == 2


def test_no_vouchers_means_no_voucher_money():
    o = SC.outcome(replace(PARAMS_A, vouchers=None), hand_inputs())
    assert o.vouchers is None
    assert (o.totals["voucher_spend_cny"], o.totals["voucher_post_subsidy_cny"]) == (0.0, 0.0)
    assert np.isnan(o.totals["voucher_pool_cny"])
    assert o.totals["fiscal_cost_cny"] == 100_000.0


def test_voucher_revenue_can_be_the_reward_basis():
    # Basis voucher revenue, any grade: units 1, 2, 3 with 5,000 / 15,000 / 4,000 (Σ 24,000),
    # pool 12,000 → λ = 0.5: 2,500 / 7,500 / 2,000.
    rule = RewardRule(pool_cny=12_000, eligible_grades=None, basis="voucher_revenue")
    o = SC.outcome(replace(PARAMS_A, reward=rule), hand_inputs())
    assert by_unit(o)["reward_cny"].to_dict() == {1: 2_500.0, 2: 7_500.0, 3: 2_000.0, 4: 0.0, 5: 0.0}


# ----------------------------------------------------------------------------- comparison


def test_compare_lists_grade_and_money_changes_largest_first():
    inputs = hand_inputs()
    a = SC.outcome(PARAMS_A, inputs, name="A")
    b = SC.outcome(PARAMS_B, inputs, name="B")
    c = SC.compare(a, {"B": b})
    assert c.names == ("B",)
    assert list(c.summary.columns) == [SC.BASELINE, "B"]
    assert list(c.summary.index) == list(SC.FIGURES)
    assert c.summary.at["rewarded_units", SC.BASELINE] == 2 and c.summary.at["rewarded_units", "B"] == 3
    assert c.deltas.at["rewarded_units", "B"] == 1
    assert c.deltas.at["units_good", "B"] == 1 and c.deltas.at["units_fourth", "B"] == -1
    assert c.deltas.at["fiscal_cost_cny", "B"] == 0
    ch = c.changes_for("B")
    assert list(ch.columns) == list(SC.CHANGE_COLUMNS)
    # Money: unit 4 0 → 28,813.56; unit 1 56,357.14 → 40,406.78 (39,406.78 + 1,000);
    # unit 2 47,642.86 → 34,779.66 (31,779.66 + 3,000); unit 3 changes grade only.
    assert list(ch["unit_id"]) == [4, 1, 2, 3]
    assert ch["money_change"].tolist() == [28_813.56, -15_950.36, -12_863.20, 0.0]
    assert ch[["grade_before", "grade_after"]].values.tolist() == [
        ["合格", "良好"], ["优秀", "优秀"], ["良好", "良好"], ["较差", "合格"]]
    assert ch["grade_changed"].tolist() == [True, False, False, True]
    assert (ch["sanction_change"] == "").all()


def test_compare_with_two_scenarios_shows_sanction_changes_and_totals():
    inputs = hand_inputs()
    a = SC.outcome(PARAMS_A, inputs, name="A")
    b = SC.outcome(PARAMS_B, inputs, name="B")
    e = SC.outcome(replace(PARAMS_A, sanctions=GRADE_AND_REPORTING), inputs, name="E")
    c = SC.compare(a, {"B": b, "E": e})
    assert c.names == ("B", "E")
    assert list(c.summary.columns) == [SC.BASELINE, "B", "E"]
    # Totals: fiscal cost 128,800 → 85,000 (−43,800); rewards 100,000 → 60,000; 3 units sanctioned.
    assert c.summary.at["fiscal_cost_cny", "E"] == 85_000.0
    assert c.deltas.at["fiscal_cost_cny", "E"] == -43_800.0
    assert c.deltas.at["reward_unspent_cny", "E"] == 40_000.0
    assert c.deltas.at["sanctioned_units", "E"] == 3
    ch = c.changes_for("E")
    # unit 2 loses 47,642.86; unit 1 gains 61,000 − 56,357.14 = 4,642.86; unit 3 loses its 800
    # post-subsidy; unit 5 becomes sanctioned without money.
    assert list(ch["unit_id"]) == [2, 1, 3, 5]
    assert ch["money_change"].tolist() == [-47_642.86, 4_642.86, -800.0, 0.0]
    assert ch["sanction_change"].tolist() == ["new", "", "new", "new"]
    assert ch["rules_after"].tolist() == [("not_reporting",), (), ("poor_grade",), ("poor_grade",)]
    assert set(c.changes["scenario"]) == {"B", "E"}
    # The other way round the sanctions are lifted.
    back = SC.compare(e, {"A": a}).changes_for("A").set_index("unit_id")
    assert back["sanction_change"].to_dict() == {2: "lifted", 1: "", 3: "lifted", 5: "lifted"}


def test_compare_with_no_difference_has_no_changes_and_a_reserved_name_is_refused():
    inputs = hand_inputs()
    a = SC.outcome(PARAMS_A, inputs)
    same = SC.compare(a, {"again": SC.outcome(PARAMS_A, inputs)})
    assert same.changes.empty and (same.deltas["again"].fillna(0) == 0).all()
    with pytest.raises(ValueError):
        SC.compare(a, {SC.BASELINE: a})


def test_a_year_without_service_records_still_judges_nominally_open():
    # No service record in the year: the rule must see an empty record frame, not refuse for want
    # of data. Then no declared-open instrument served anybody on record, so both instruments with
    # usage (10 of unit 1, 11 of unit 4) are candidates ("no records"); units 2 and 3 hold none.
    inputs = SC.build_inputs(2025, TABLE, SCHEME, SERVICES.iloc[0:0], reporting=REPORTING, annual=ANNUAL, usage=USAGE)
    o = SC.outcome(replace(PARAMS_A, sanctions=ONLY_GRADE.with_rule("nominally_open", enabled=True)), inputs)
    fired = by_unit(o)["sanction_rules"]
    assert [u for u in fired.index if "nominally_open" in fired[u]] == [1, 4]
