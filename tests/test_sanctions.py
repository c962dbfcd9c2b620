"""Sanction rules on a hand-made set of eight units. Every expected value is written out by hand in
the fixture comments (never computed by the code under test).

Boundaries (each tested with a unit exactly at the threshold):
- poor_grade:      grade ∈ grades (label match; 合格 at score 60.0 is not caught);
- not_reporting:   never reported, or missing ≥ 3  (missing 3 fires, missing 2 does not);
- late_reporting:  late ≥ 3 (3 fires, 2 does not), or max days late ≥ 30 (30 fires, 29 does not);
- nominally_open:  candidates ≥ 1 (1 fires; with ≥ 2, 1 does not and 2 does);
- idle_share:      idle / in-service > 0.5 (1 of 2 = 0.5 does not fire, 3 of 4 fires), only
                   units with ≥ 2 in-service instruments (1 of 1 idle does not fire).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session

from dashboard import census, incentives
from dashboard import quality as Q
from dashboard import sanctions as S
from dashboard.evaluation import run_evaluation
from dashboard.load import LoadLines
from models import queries
from models import tables as T
from tests.factories import add_instrument, add_service, add_unit, add_usage

YEAR = 2025


# ---------------------------------------------------------------------------------- fixture

def _units() -> pd.DataFrame:
    ids = list(range(1, 9))
    return pd.DataFrame({"id": ids, "name": [f"单位{i}" for i in ids], "name_en": [f"Unit {i}" for i in ids]})


def _evaluation() -> pd.DataFrame:
    """EvaluationResult.table shape: index unit_id; score, grade, status (+ rank)."""
    rows = [
        # unit, score, grade, status
        (1, 55.0, "较差", "rated"),  # poor grade: fires
        (2, 60.0, "合格", "rated"),  # at the 60 band edge, 合格: near miss
        (3, np.nan, "较差", "not_reported"),  # not rated for not reporting: fourth grade, fires
        (4, 80.0, "良好", "rated"),
        (5, 92.0, "优秀", "rated"),
        (6, 70.0, "合格", "rated"),
        (7, np.nan, "", "too_few_instruments"),  # no grade: never caught
        (8, 65.0, "合格", "rated"),
    ]
    table = pd.DataFrame(rows, columns=["unit_id", "score", "grade", "status"]).set_index("unit_id")
    table["rank"] = pd.array([5, 4, pd.NA, 2, 1, 3, pd.NA, 3], dtype="Int64")
    return table


def _reporting() -> pd.DataFrame:
    """reporting_summary shape (SUMMARY_COLUMNS); due = on_time + late + missing."""
    rows = [
        # unit, due, on_time, late, missing, not_due, max_days_late, never_reported
        (1, 12, 12, 0, 0, 0, None, False),
        (2, 12, 9, 0, 3, 0, None, False),  # missing 3 = threshold: not_reporting fires
        (3, 12, 0, 0, 12, 0, None, True),  # never reported: fires
        (4, 12, 10, 0, 2, 0, None, False),  # missing 2: near miss
        (5, 12, 9, 3, 0, 0, 5, False),  # late 3 = threshold: late_reporting fires
        (6, 12, 10, 2, 0, 0, 29, False),  # late 2, 29 days: near miss on both
        (7, 12, 11, 1, 0, 0, 30, False),  # 30 days late = threshold: fires
        (8, 12, 12, 0, 0, 0, None, False),
        (99, 12, 0, 0, 12, 0, None, True),  # not in the units list: ignored
    ]
    frame = pd.DataFrame(rows, columns=["unit_id", "due", "on_time", "late", "missing", "not_due",
                                        "max_days_late", "never_reported"])
    frame["max_days_late"] = pd.array(frame["max_days_late"], dtype="Int64")
    frame["on_time_share"] = frame["on_time"] / frame["due"]
    frame["name"] = frame["unit_id"].map(lambda i: f"单位{i}")
    frame["name_en"] = frame["unit_id"].map(lambda i: f"Unit {i}")
    return frame[Q.SUMMARY_COLUMNS]


def _candidates() -> pd.DataFrame:
    """nominally_open_candidates shape (CANDIDATE_COLUMNS) at ratio 0.10: unit 4 one instrument,
    unit 5 two."""
    rows = [
        # instrument, unit, effective, external, records
        (41, 4, 600.0, 0.0, 0),
        (52, 5, 500.0, 10.0, 2),  # listed before 51 on purpose: ids come back sorted
        (51, 5, 400.0, 0.0, 0),
    ]
    frame = pd.DataFrame(rows, columns=["instrument_id", "unit_id", "effective_hours", "external_hours",
                                        "external_records"])
    frame["internal_hours"] = frame["effective_hours"] - frame["external_hours"]
    frame["external_ratio"] = frame["external_hours"] / frame["internal_hours"]
    frame["months_reported"] = 12
    frame["no_records"] = frame["external_records"] == 0
    frame["low_ratio"] = True
    frame["not_reported"] = False
    for col in ("unit_name", "unit_name_en", "inner_id", "name_zh", "name_en"):
        frame[col] = ""
    return frame[Q.CANDIDATE_COLUMNS]


def _annual() -> pd.DataFrame:
    """census.annual_frame columns the idle rule reads; idle = effective < 800 h (default line)."""
    rows = [
        # id, unit, effective, in_service, months_reported
        (11, 1, 100.0, True, 12),  # unit 1: 1 of 1 idle (share 1.0) but < 2 in service
        (61, 6, 0.0, True, 0),  # unit 6: 3 of 4 idle = 0.75; one idle reported nothing
        (62, 6, 500.0, True, 12),
        (63, 6, 799.0, True, 12),
        (64, 6, 800.0, True, 12),  # exactly at the line: not idle
        (81, 8, 100.0, True, 12),  # unit 8: 1 of 2 in service idle = 0.5 exactly
        (82, 8, 1000.0, True, 12),
        (83, 8, 0.0, False, 0),  # awaiting scrapping: out of scope (else 2 of 3)
        (71, 7, 900.0, True, 12),
        (72, 7, 1300.0, True, 12),
    ]
    frame = pd.DataFrame(rows, columns=["id", "unit_id", "effective_hours", "in_service", "months_reported"])
    frame["rated_hours"] = 1400.0
    frame["external_hours"] = 0.0
    frame["exempt"] = False
    frame["months_reported"] = pd.array(frame["months_reported"], dtype="Int64")
    return frame


def _inputs(**changes) -> S.SanctionInputs:
    base = dict(year=YEAR, units=_units(), evaluation=_evaluation(), reporting=_reporting(),
                candidates=_candidates(), annual=_annual())
    base.update(changes)
    return S.SanctionInputs(**base)


def _fired(outcome: S.SanctionOutcome) -> set[tuple[int, str]]:
    return {(int(u), r) for u, r in zip(outcome.fired["unit_id"], outcome.fired["rule"])}


def _row(outcome: S.SanctionOutcome, unit_id: int, rule: str) -> pd.Series:
    rows = outcome.fired[(outcome.fired["unit_id"] == unit_id) & (outcome.fired["rule"] == rule)]
    assert len(rows) == 1
    return rows.iloc[0]


DEFAULT_FIRED = {
    (1, "poor_grade"),
    (2, "not_reporting"),
    (3, "poor_grade"), (3, "not_reporting"),
    (4, "nominally_open"),
    (5, "late_reporting"), (5, "nominally_open"),
    (7, "late_reporting"),
}


# ---------------------------------------------------------------------------------- defaults

def test_defaults_follow_policy_facts():
    rules = S.SanctionRules()
    assert rules.enabled_rules() == ("poor_grade", "not_reporting", "late_reporting", "nominally_open")
    assert rules.poor_grade.grades == ("较差", "不合格")
    assert rules.poor_grade.consequences == S.Consequences(True, True, 1, 0)
    assert rules.not_reporting.consequences == S.Consequences(True, True, 0, 0)
    assert rules.nominally_open.consequences == S.Consequences(True, True, 0, 1)
    assert rules.idle_share.consequences == S.Consequences(False, False, 1, 0)
    assert (rules.not_reporting.min_missing, rules.late_reporting.min_late) == (3, 3)
    assert (rules.nominally_open.min_candidates, rules.nominally_open.max_external_ratio) == (1, 0.10)
    assert (rules.idle_share.max_share, rules.idle_share.min_in_service) == (0.5, 2)
    frame = S.rules_frame(rules)
    assert list(frame.columns) == list(S.RULES_FRAME_COLUMNS)
    assert list(frame["rule"]) == list(S.RULE_IDS)
    assert list(frame["enabled"]) == [True, True, True, True, False]
    assert list(frame["purchase_restricted_years"]) == [0, 0, 0, 1, 0]


def test_each_rule_fires_for_its_unit_and_not_for_the_near_miss():
    outcome = S.apply(S.SanctionRules(), _inputs())
    assert list(outcome.fired.columns) == list(S.FIRED_COLUMNS)
    assert _fired(outcome) == DEFAULT_FIRED
    # fired is ordered by unit, then rule order
    assert list(zip(outcome.fired["unit_id"], outcome.fired["rule"])) == sorted(
        DEFAULT_FIRED, key=lambda p: (p[0], S.RULE_IDS.index(p[1])))
    assert 99 not in set(outcome.fired["unit_id"])  # not in the units list


def test_evidence_is_numbers_of_the_rule():
    outcome = S.apply(S.SanctionRules(), _inputs())
    r = _row(outcome, 1, "poor_grade")
    assert (r["grade"], r["score"], r["status"]) == ("较差", 55.0, "rated")
    assert pd.isna(r["missing"]) and pd.isna(r["candidates"])  # other rules' evidence left empty
    r = _row(outcome, 3, "poor_grade")
    assert np.isnan(r["score"]) and r["status"] == "not_reported"
    r = _row(outcome, 3, "not_reporting")
    assert (bool(r["never_reported"]), r["due"], r["missing"], r["on_time_share"]) == (True, 12, 12, 0.0)
    r = _row(outcome, 2, "not_reporting")
    assert (bool(r["never_reported"]), r["missing"], r["on_time_share"]) == (False, 3, 0.75)
    r = _row(outcome, 5, "late_reporting")
    assert (r["late"], r["max_days_late"], r["on_time_share"]) == (3, 5, 0.75)
    r = _row(outcome, 7, "late_reporting")
    assert (r["late"], r["max_days_late"]) == (1, 30)
    r = _row(outcome, 5, "nominally_open")
    assert (r["candidates"], r["candidate_ids"]) == (2, (51, 52))
    assert pd.isna(r["grade"]) or r["grade"] is None
    r = _row(outcome, 4, "nominally_open")
    assert (r["candidates"], r["candidate_ids"]) == (1, (41,))
    fired = outcome.fired
    assert str(fired["missing"].dtype) == "Int64" and str(fired["never_reported"].dtype) == "boolean"
    assert fired["score"].dtype == float and fired["idle_share"].dtype == float


def test_by_unit_unions_consequences():
    outcome = S.apply(S.SanctionRules(), _inputs())
    by = outcome.by_unit
    assert list(by.columns) == list(S.BY_UNIT_COLUMNS)
    # two rules first (units 3 and 5), then by unit id
    assert list(by["unit_id"]) == [3, 5, 1, 2, 4, 7]
    rows = by.set_index("unit_id")
    assert rows.loc[3, "rules"] == ("poor_grade", "not_reporting")
    assert rows.loc[3, "consequences"] == ("public_notice", "no_post_subsidy", "rectification")
    assert (rows.loc[3, "rectification_years"], rows.loc[3, "purchase_restricted_years"]) == (1, 0)
    # late (notice only) + nominally open (notice, no subsidy, 1 year restriction)
    assert rows.loc[5, "rules"] == ("late_reporting", "nominally_open")
    assert rows.loc[5, "consequences"] == ("public_notice", "no_post_subsidy", "purchase_restriction")
    assert (bool(rows.loc[5, "no_post_subsidy"]), rows.loc[5, "purchase_restricted_years"]) == (True, 1)
    assert rows.loc[7, "consequences"] == ("public_notice",)
    assert not rows.loc[7, "no_post_subsidy"] and rows.loc[7, "public_notice"]
    assert rows.loc[1, "name"] == "单位1" and rows.loc[1, "name_en"] == "Unit 1"
    assert S.excluded_from_rewards(outcome) == {1, 2, 3, 4, 5}
    assert S.publicly_noticed(outcome) == {1, 2, 3, 4, 5, 7}
    counts = S.rule_counts(outcome)
    assert counts.to_dict() == {"poor_grade": 2, "not_reporting": 2, "late_reporting": 2,
                                "nominally_open": 2, "idle_share": 0}


def test_restricted_until_year():
    outcome = S.apply(S.SanctionRules(), _inputs())
    restricted = S.restricted_units(outcome, YEAR)
    assert list(restricted.columns) == list(S.RESTRICTED_COLUMNS)
    assert restricted.to_dict("list") == {
        "unit_id": [4, 5], "until_year": [2026, 2026], "rules": [("nominally_open",), ("nominally_open",)],
        "years": [1, 1], "from_year": [2026, 2026],
    }
    assert S.restricted_units(outcome).equals(restricted)  # year defaults to the outcome's
    assert S.is_restricted(restricted, 4, 2026)
    assert not S.is_restricted(restricted, 4, 2025) and not S.is_restricted(restricted, 4, 2027)
    assert not S.is_restricted(restricted, 1, 2026)


def test_restriction_years_are_editable_and_the_longest_counts():
    rules = (S.SanctionRules()
             .with_consequences("nominally_open", purchase_restricted_years=3)
             .with_consequences("poor_grade", purchase_restricted_years=1)
             .with_consequences("not_reporting", purchase_restricted_years=2))
    outcome = S.apply(rules, _inputs())
    restricted = S.restricted_units(outcome, YEAR).set_index("unit_id")
    assert restricted["until_year"].to_dict() == {1: 2026, 2: 2027, 3: 2027, 4: 2028, 5: 2028}
    # unit 3: poor grade 1 year, not reporting 2 years → 2 years, both rules listed
    assert restricted.loc[3, "rules"] == ("poor_grade", "not_reporting")
    assert restricted.loc[3, "years"] == 2
    assert S.is_restricted(restricted.reset_index(), 4, 2028)
    assert not S.is_restricted(restricted.reset_index(), 4, 2029)
    assert outcome.by_unit.set_index("unit_id").loc[3, "purchase_restricted_years"] == 2


def test_consequence_switches_change_exclusions():
    rules = S.SanctionRules().with_consequences("nominally_open", no_post_subsidy=False)
    outcome = S.apply(rules, _inputs())
    assert S.excluded_from_rewards(outcome) == {1, 2, 3}
    assert outcome.by_unit.set_index("unit_id").loc[5, "consequences"] == ("public_notice", "purchase_restriction")
    rules = S.SanctionRules().with_consequences("late_reporting", public_notice=False)
    row = S.apply(rules, _inputs()).by_unit.set_index("unit_id").loc[7]
    assert row["consequences"] == () and not row["public_notice"]  # still listed: the rule fired


def test_exclusions_feed_the_reward_table():
    outcome = S.apply(S.SanctionRules(), _inputs())
    units = _evaluation().reset_index()[["unit_id", "score", "grade"]]
    rule = incentives.RewardRule(pool_cny=1000.0, eligible_grades=("优秀", "良好", "合格"))
    table = incentives.reward_table(units, rule, excluded=S.excluded_from_rewards(outcome)).set_index("unit_id")
    # units 2, 4, 5 would be eligible by grade but are excluded; 6 and 8 (合格) share the pool
    assert table.loc[[2, 4, 5], "reason_if_not"].tolist() == ["excluded"] * 3
    assert table.loc[[2, 4, 5], "reward"].tolist() == [0.0, 0.0, 0.0]
    assert table.loc[6, "reward"] + table.loc[8, "reward"] == pytest.approx(1000.0)


# ---------------------------------------------------------------------------------- switches

@pytest.mark.parametrize("rule_id", S.RULE_IDS)
def test_switching_a_rule_off_removes_only_its_hits(rule_id):
    all_on = S.SanctionRules().with_rule("idle_share", enabled=True)
    expected_all = DEFAULT_FIRED | {(6, "idle_share")}
    assert _fired(S.apply(all_on, _inputs())) == expected_all
    off = all_on.with_rule(rule_id, enabled=False)
    assert _fired(S.apply(off, _inputs())) == {p for p in expected_all if p[1] != rule_id}


def test_all_rules_off_sanctions_nobody_and_needs_no_frames():
    rules = S.SanctionRules()
    for rule_id in S.RULE_IDS:
        rules = rules.with_rule(rule_id, enabled=False)
    outcome = S.apply(rules, S.SanctionInputs(year=YEAR))
    assert outcome.fired.empty and list(outcome.fired.columns) == list(S.FIRED_COLUMNS)
    assert outcome.by_unit.empty and list(outcome.by_unit.columns) == list(S.BY_UNIT_COLUMNS)
    assert S.excluded_from_rewards(outcome) == set()
    assert S.restricted_units(outcome, YEAR).empty
    assert S.rule_counts(outcome).sum() == 0


def test_a_rule_on_without_its_frame_says_which():
    with pytest.raises(ValueError, match="reporting"):
        S.apply(S.SanctionRules(), _inputs(reporting=None))


# ---------------------------------------------------------------------------------- thresholds

def _hits(rules: S.SanctionRules, rule_id: str, **inputs) -> set[int]:
    return {u for u, r in _fired(S.apply(rules, _inputs(**inputs))) if r == rule_id}


def test_poor_grade_labels():
    assert _hits(S.SanctionRules(), "poor_grade") == {1, 3}
    wider = S.SanctionRules().with_rule("poor_grade", grades=("合格", "较差"))
    assert _hits(wider, "poor_grade") == {1, 2, 3, 6, 8}
    # the Inner Mongolia name of the fourth grade is caught by default
    table = _evaluation()
    table["grade"] = table["grade"].replace({"较差": "不合格"})
    assert _hits(S.SanctionRules(), "poor_grade", evaluation=table) == {1, 3}
    # an evaluation table with unit_id as a column works as well
    assert _hits(S.SanctionRules(), "poor_grade", evaluation=_evaluation().reset_index()) == {1, 3}


def test_not_reporting_thresholds():
    rules = S.SanctionRules()
    assert _hits(rules, "not_reporting") == {2, 3}  # missing 3 ≥ 3; never reported
    assert _hits(rules.with_rule("not_reporting", min_missing=4), "not_reporting") == {3}
    assert _hits(rules.with_rule("not_reporting", min_missing=2), "not_reporting") == {2, 3, 4}
    assert _hits(rules.with_rule("not_reporting", min_missing=None), "not_reporting") == {3}


def test_late_reporting_thresholds():
    rules = S.SanctionRules()
    assert _hits(rules, "late_reporting") == {5, 7}  # late 3 ≥ 3; 30 days ≥ 30
    assert _hits(rules.with_rule("late_reporting", min_late=2), "late_reporting") == {5, 6, 7}
    assert _hits(rules.with_rule("late_reporting", min_days_late=29), "late_reporting") == {5, 6, 7}
    assert _hits(rules.with_rule("late_reporting", min_days_late=31), "late_reporting") == {5}
    assert _hits(rules.with_rule("late_reporting", min_days_late=None), "late_reporting") == {5}
    assert _hits(rules.with_rule("late_reporting", min_late=None), "late_reporting") == {7}
    assert _hits(rules.with_rule("late_reporting", min_late=None, min_days_late=None), "late_reporting") == set()


def test_nominally_open_thresholds():
    rules = S.SanctionRules()
    assert _hits(rules, "nominally_open") == {4, 5}
    assert _hits(rules.with_rule("nominally_open", min_candidates=2), "nominally_open") == {5}
    assert _hits(rules.with_rule("nominally_open", min_candidates=3), "nominally_open") == set()
    assert _hits(rules, "nominally_open", candidates=_candidates().iloc[0:0]) == set()


def test_candidates_at_another_ratio_are_refused():
    rules = S.SanctionRules().with_rule("nominally_open", max_external_ratio=0.2)
    with pytest.raises(ValueError, match="ratio"):
        S.apply(rules, _inputs())
    assert _hits(rules, "nominally_open", candidates_ratio=0.2) == {4, 5}


def test_idle_share_thresholds():
    on = S.SanctionRules().with_rule("idle_share", enabled=True)
    assert _hits(on, "idle_share") == {6}  # unit 8 at exactly 0.5 does not fire; unit 1 has 1 instrument
    r = _row(S.apply(on, _inputs()), 6, "idle_share")
    assert (r["idle"], r["in_service"], r["idle_share"], r["idle_unreported"]) == (3, 4, 0.75, 1)
    assert _hits(on.with_rule("idle_share", max_share=0.49), "idle_share") == {6, 8}
    assert _hits(on.with_rule("idle_share", max_share=0.75), "idle_share") == set()  # 0.75 is not > 0.75
    assert _hits(on.with_rule("idle_share", min_in_service=1), "idle_share") == {1, 6}
    assert _hits(on.with_rule("idle_share", min_in_service=5), "idle_share") == set()
    # a lower idle line (500 h): unit 6 has 0 h only below it → 1 of 4
    assert _hits(on, "idle_share", load_lines=LoadLines(low_use_hours=500)) == set()
    # without months_reported the unreported count is unknown
    r = _row(S.apply(on, _inputs(annual=_annual().drop(columns="months_reported"))), 6, "idle_share")
    assert pd.isna(r["idle_unreported"])


def test_idle_shares_by_unit():
    shares = S.idle_shares(_annual()).set_index("unit_id")
    assert shares["in_service"].to_dict() == {1: 1, 6: 4, 7: 2, 8: 2}
    assert shares["idle"].to_dict() == {1: 1, 6: 3, 7: 0, 8: 1}
    assert shares["idle_share"].to_dict() == {1: 1.0, 6: 0.75, 7: 0.0, 8: 0.5}


# ---------------------------------------------------------------------------------- (de)serialising

def test_round_trip_through_json():
    rules = (S.SanctionRules().with_rule("idle_share", enabled=True, max_share=0.4)
             .with_rule("poor_grade", grades=("不合格",))
             .with_rule("late_reporting", min_days_late=None)
             .with_consequences("nominally_open", purchase_restricted_years=2))
    data = json.loads(json.dumps(rules.to_dict(), ensure_ascii=False))
    assert data["poor_grade"]["grades"] == ["不合格"]
    assert data["nominally_open"]["consequences"]["purchase_restricted_years"] == 2
    assert S.SanctionRules.from_dict(data) == rules
    assert S.SanctionRules.from_dict(S.SanctionRules().to_dict()) == S.SanctionRules()


def test_from_dict_fills_defaults():
    rules = S.SanctionRules.from_dict({"idle_share": {"enabled": True, "max_share": 1 / 3},
                                       "nominally_open": {"consequences": {"purchase_restricted_years": 2}}})
    assert rules.idle_share == S.IdleShareRule(enabled=True, max_share=1 / 3)
    # the other consequences of the rule keep their defaults
    assert rules.nominally_open.consequences == S.Consequences(True, True, 0, 2)
    assert rules.poor_grade == S.PoorGradeRule()
    assert S.SanctionRules.from_dict({}) == S.SanctionRules()
    # JSON may write a whole number for a ratio
    whole = S.SanctionRules.from_dict({"nominally_open": {"max_external_ratio": 1}})
    assert whole.nominally_open.max_external_ratio == 1.0


@pytest.mark.parametrize("data, field", [
    ({"poor_grades": {}}, "poor_grades"),
    ({"poor_grade": {"grade": ["较差"]}}, "grade"),
    ({"poor_grade": {"consequences": {"notice": True}}}, "notice"),
    ({"poor_grade": {"enabled": "yes"}}, "poor_grade.enabled"),
    ({"poor_grade": {"grades": "较差"}}, "poor_grade.grades"),
    ({"poor_grade": {"grades": [""]}}, "poor_grade.grades"),
    ({"poor_grade": []}, "poor_grade"),
    ({"not_reporting": {"min_missing": 0}}, "not_reporting.min_missing"),
    ({"not_reporting": {"min_missing": 2.5}}, "not_reporting.min_missing"),
    ({"late_reporting": {"min_days_late": True}}, "late_reporting.min_days_late"),
    ({"nominally_open": {"min_candidates": None}}, "nominally_open.min_candidates"),
    ({"nominally_open": {"max_external_ratio": 0}}, "nominally_open.max_external_ratio"),
    ({"nominally_open": {"max_external_ratio": "0.1"}}, "nominally_open.max_external_ratio"),
    ({"idle_share": {"max_share": 1.0}}, "idle_share.max_share"),
    ({"idle_share": {"max_share": -0.1}}, "idle_share.max_share"),
    ({"idle_share": {"max_share": float("nan")}}, "idle_share.max_share"),
    ({"idle_share": {"min_in_service": 0}}, "idle_share.min_in_service"),
    ({"idle_share": {"consequences": {"rectification_years": -1}}}, "idle_share.consequences.rectification_years"),
    ({"nominally_open": {"consequences": {"purchase_restricted_years": 11}}},
     "nominally_open.consequences.purchase_restricted_years"),
    ({"poor_grade": {"consequences": {"public_notice": 1}}}, "poor_grade.consequences.public_notice"),
    ({"poor_grade": {"consequences": []}}, "poor_grade.consequences"),
])
def test_from_dict_rejects_with_the_field_named(data, field):
    with pytest.raises(S.SanctionRulesError, match=field.replace(".", r"\.")):
        S.SanctionRules.from_dict(data)


def test_from_dict_rejects_a_non_object():
    with pytest.raises(S.SanctionRulesError):
        S.SanctionRules.from_dict(["poor_grade"])


def test_with_rule_validates_and_rejects_unknown_fields():
    with pytest.raises(S.SanctionRulesError, match="idle_share.max_share"):
        S.SanctionRules().with_rule("idle_share", max_share=2.0)
    with pytest.raises(S.SanctionRulesError, match="unknown fields"):
        S.SanctionRules().with_rule("idle_share", line=0.4)
    with pytest.raises(S.SanctionRulesError, match="unknown sanction rule"):
        S.SanctionRules().with_rule("idle", enabled=True)


# ---------------------------------------------------------------------------------- integration

def _submit(engine, unit_id: int, months, late_days: int = 0) -> None:
    with Session(engine) as s:
        for m in months:
            due = Q.due_date(YEAR, m)
            at = datetime(due.year, due.month, due.day, 2, 0, tzinfo=timezone.utc) + pd.Timedelta(days=late_days)
            s.add(T.Submission(unit_id=unit_id, kind="usage", year=YEAR, month=m, due_date=due, submitted_at=at))
        s.commit()


def test_with_the_real_quality_functions_and_the_store(engine):
    """Three units read back from the store through the page's queries:
    A reports on time, its 外部共享 instrument has external hours and an external service record;
    B reports on time, its 外部共享 instrument has no external service record → nominally open;
    C reports nothing: its 外部共享 instrument is NOT a candidate (no usage reported), C is caught
    as not reporting (12 reports missing, never reported)."""
    a = add_unit(engine, "甲单位")
    b = add_unit(engine, "乙单位")
    c = add_unit(engine, "丙单位")
    ia = add_instrument(engine, a, "A-1", "液相色谱仪")
    ib = add_instrument(engine, b, "B-1", "气相色谱仪")
    add_instrument(engine, c, "C-1", "质谱仪")  # declared open, no usage reported
    add_usage(engine, ia, YEAR, [100.0] * 12, [40.0] * 12)
    add_usage(engine, ib, YEAR, [100.0] * 12, [0.0] * 12)
    add_service(engine, ia, datetime(YEAR, 3, 2, 9), "盟外企业", 2000.0, user_type="外部用户")
    _submit(engine, a, range(1, 13))
    _submit(engine, b, range(1, 13))

    units = queries.units(engine)
    instruments = queries.instruments(engine)
    usage = queries.usage_by_instrument_year(engine, YEAR)
    status = Q.reporting_status(queries.submissions(engine, YEAR), units, YEAR, instruments=instruments,
                                as_of=date(YEAR + 1, 3, 1))
    reporting = Q.reporting_summary(status, units, kind="usage")
    annual = census.annual_frame(instruments, usage, YEAR)
    _, result = run_evaluation(engine, YEAR)
    inputs = S.build_inputs(YEAR, units, result, reporting, annual, queries.services(engine, YEAR), usage)
    outcome = S.apply(S.SanctionRules().with_rule("idle_share", enabled=True), inputs)

    fired = _fired(outcome)
    assert (b, "nominally_open") in fired
    assert _row(outcome, b, "nominally_open")["candidate_ids"] == (ib,)
    assert (c, "not_reporting") in fired and (c, "nominally_open") not in fired
    r = _row(outcome, c, "not_reporting")
    assert (bool(r["never_reported"]), r["missing"]) == (True, 12)
    assert not {(a, "nominally_open"), (a, "not_reporting"), (a, "late_reporting")} & fired
    # each unit has one in-service instrument: below the 2-instrument minimum of the idle rule
    assert not any(rule == "idle_share" for _, rule in fired)
    # poor grade follows the evaluation's own fourth-grade labels
    fourth = set(result.table.index[result.table["grade"].isin(S.FOURTH_GRADE_LABELS)])
    assert {u for u, rule in fired if rule == "poor_grade"} == fourth
    assert S.excluded_from_rewards(outcome) >= {b, c}
    assert set(S.restricted_units(outcome, YEAR)["unit_id"]) == {b}


def test_to_dict_is_json_ready_with_numpy_values():
    rules = S.SanctionRules().with_rule("idle_share", enabled=np.bool_(True), min_in_service=np.int64(3))
    data = rules.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert S.SanctionRules.from_dict(data) == rules


# ---------------------------------------------------------------------------------- purchase review flags

def _restricted() -> pd.DataFrame:
    """restricted_units shape, written by hand: unit 4 restricted in 2026 only, unit 5 2026–2028."""
    return pd.DataFrame({
        "unit_id": [4, 5], "until_year": [2026, 2028], "rules": [("nominally_open",), ("poor_grade", "nominally_open")],
        "years": [1, 3], "from_year": [2026, 2026],
    })[list(S.RESTRICTED_COLUMNS)]


def _requests() -> pd.DataFrame:
    rows = [
        # request no, applicant, submitted, status      expected
        ("R01", 4, date(2026, 3, 1), "submitted"),  # in the window → in_window
        ("R02", 4, date(2026, 11, 30), "decided"),  # in the window, already decided → still in_window
        ("R03", 4, date(2025, 12, 20), "checked"),  # before the window, open → pending
        ("R04", 4, date(2025, 6, 1), "decided"),  # before the window, decided → not flagged
        ("R05", 4, date(2027, 1, 5), "submitted"),  # after until_year 2026 → not flagged
        ("R06", 1, date(2026, 5, 1), "submitted"),  # applicant not restricted → not flagged
        ("R07", 5, date(2028, 12, 31), "decided"),  # last day of until_year → in_window
        ("R08", 5, date(2026, 1, 1), "submitted"),  # first day of from_year → in_window
        ("R09", 5, date(2029, 1, 1), "submitted"),  # day after the window → not flagged
        ("R10", 5, date(2024, 2, 2), "submitted"),  # two years before, still open → pending
    ]
    frame = pd.DataFrame(rows, columns=["request_no", "applicant_unit_id", "submitted_date", "status"])
    frame["quoted_price"] = 480_000.0
    return frame


def test_flagged_requests_are_in_the_window_or_still_open_from_before():
    flagged = S.flag_purchase_requests(_requests(), _restricted())
    assert list(flagged.columns) == ["request_no", "applicant_unit_id", "submitted_date", "status", "quoted_price",
                                     "from_year", "until_year", "rules", "flag"]
    # oldest submission first
    assert list(flagged["request_no"]) == ["R10", "R03", "R08", "R01", "R02", "R07"]
    assert list(flagged["flag"]) == ["pending", "pending", "in_window", "in_window", "in_window", "in_window"]
    assert list(flagged["until_year"]) == [2028, 2026, 2028, 2026, 2026, 2028]
    assert list(flagged["from_year"]) == [2026] * 6
    assert flagged["until_year"].dtype == "int64"
    assert list(flagged["rules"]) == [("poor_grade", "nominally_open"), ("nominally_open",),
                                      ("poor_grade", "nominally_open"), ("nominally_open",), ("nominally_open",),
                                      ("poor_grade", "nominally_open")]
    assert list(flagged.index) == list(range(6))
    assert (flagged["quoted_price"] == 480_000.0).all()  # other columns kept


def test_flagging_agrees_with_is_restricted_for_requests_in_the_window():
    flagged = S.flag_purchase_requests(_requests(), _restricted())
    in_window = set(flagged.loc[flagged["flag"] == S.FLAG_IN_WINDOW, "request_no"])
    reqs = _requests()
    expected = {r.request_no for r in reqs.itertuples()
                if S.is_restricted(_restricted(), r.applicant_unit_id, r.submitted_date.year)}
    assert in_window == expected == {"R01", "R02", "R07", "R08"}


def test_flagging_accepts_timestamps_and_an_open_request_without_date():
    reqs = pd.DataFrame({"request_no": ["A", "B", "C"], "applicant_unit_id": [4, 4, 4],
                         "submitted_date": pd.to_datetime(["2026-07-01", None, None]),
                         "status": ["checked", "submitted", "decided"]})
    flagged = S.flag_purchase_requests(reqs, _restricted())
    # B: no date but open → pending (listed after the dated ones); C: no date and decided → not flagged
    assert list(zip(flagged["request_no"], flagged["flag"])) == [("A", "in_window"), ("B", "pending")]


def test_nothing_flagged_without_restriction_or_requests():
    none = S.flag_purchase_requests(_requests(), _restricted().iloc[0:0])
    assert none.empty and list(none.columns)[-4:] == list(S.FLAG_COLUMNS)
    empty = S.flag_purchase_requests(_requests().iloc[0:0], _restricted())
    assert empty.empty and "flag" in empty.columns


def test_flags_follow_the_sanction_outcome():
    outcome = S.apply(S.SanctionRules(), _inputs())  # units 4 and 5 restricted in 2026 (nominally open)
    flagged = S.flag_purchase_requests(_requests(), S.restricted_units(outcome, YEAR))
    assert list(flagged["request_no"]) == ["R10", "R03", "R08", "R01", "R02"]  # R07 (2028) now after the window
    assert list(flagged["flag"]) == ["pending", "pending", "in_window", "in_window", "in_window"]
    off = S.SanctionRules().with_rule("nominally_open", enabled=False)
    assert S.flag_purchase_requests(_requests(), S.restricted_units(S.apply(off, _inputs()), YEAR)).empty


# ---------------------------------------------------------------------------------- equivalence
# The per-unit summary and the purchase restrictions once looped over `fired.groupby("unit_id")`
# (2.3 s for 3,010 units: every column sliced once per unit); they now group the rows in one
# pass. The former code, kept here, must give the same frames on seeded random inputs.

def _former_by_unit(fired: pd.DataFrame, units: pd.DataFrame | None) -> pd.DataFrame:
    if fired.empty:
        return S._by_unit(fired, units)
    rows = []
    for uid, group in fired.groupby("unit_id", sort=True):
        union = set().union(*group["consequences"])
        rows.append({
            "unit_id": uid,
            "rules": tuple(group["rule"]),
            "consequences": tuple(c for c in S.CONSEQUENCE_IDS if c in union),
            "public_notice": bool(group["public_notice"].any()),
            "no_post_subsidy": bool(group["no_post_subsidy"].any()),
            "rectification_years": int(group["rectification_years"].max()),
            "purchase_restricted_years": int(group["purchase_restricted_years"].max()),
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
    return out[list(S.BY_UNIT_COLUMNS)].reset_index(drop=True)


def _former_restricted_units(outcome: S.SanctionOutcome, year: int | None = None) -> pd.DataFrame:
    year = outcome.year if year is None else year
    fired = outcome.fired
    restricting = fired[fired["purchase_restricted_years"] > 0]
    if restricting.empty:
        return S.restricted_units(outcome, year)
    rows = []
    for uid, group in restricting.groupby("unit_id", sort=True):
        years = int(group["purchase_restricted_years"].max())
        rows.append({"unit_id": uid, "until_year": int(year) + years, "rules": tuple(group["rule"]),
                     "years": years, "from_year": int(year) + 1})
    out = pd.DataFrame(rows, columns=list(S.RESTRICTED_COLUMNS))
    for col in ("until_year", "years", "from_year"):
        out[col] = out[col].astype("int64")
    return out


def random_sanction_case(seed: int, n: int | None = None) -> tuple[S.SanctionRules, S.SanctionInputs]:
    """Seeded random units, evaluation, reporting, candidates and annual frames, and rules with
    random thresholds and consequences (every rule on)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 120)) if n is None else n
    ids = (rng.permutation(n) * 3 + 5).tolist() if seed % 3 else [f"U{k:03d}" for k in rng.permutation(n)]
    units = pd.DataFrame({"id": ids, "name": [f"单位{i}" for i in ids], "name_en": [f"Unit {i}" for i in ids]})
    if seed % 4 == 0:
        units = units.drop(columns="name_en")
    grades = np.array(["优秀", "良好", "合格", "较差", "不合格", ""], dtype=object)
    evaluation = pd.DataFrame({
        "unit_id": ids, "score": rng.uniform(30, 100, n).round(2), "grade": grades[rng.integers(0, 6, n)],
        "status": np.array(["rated", "not_reported", "too_few_instruments"], dtype=object)[rng.integers(0, 3, n)],
    }).set_index("unit_id")
    due = rng.integers(0, 13, n)
    late = rng.integers(0, 5, n)
    missing = rng.integers(0, 6, n)
    reporting = pd.DataFrame({
        "unit_id": ids, "due": due, "on_time": np.maximum(due - late - missing, 0), "late": late, "missing": missing,
        "not_due": 0, "max_days_late": pd.array(np.where(late > 0, rng.integers(1, 60, n), -1), dtype="Int64"),
        "never_reported": rng.random(n) < 0.1,
    })
    reporting.loc[reporting["max_days_late"] < 0, "max_days_late"] = pd.NA
    reporting["on_time_share"] = reporting["on_time"] / reporting["due"].replace(0, np.nan)
    reporting["name"] = reporting["name_en"] = ""
    reporting = reporting[Q.SUMMARY_COLUMNS]
    holders = [u for u in ids if rng.random() < 0.3]
    cand_units = [u for u in holders for _ in range(int(rng.integers(1, 4)))]
    candidates = pd.DataFrame({"instrument_id": rng.permutation(len(cand_units)) + 1000, "unit_id": cand_units})
    for col in Q.CANDIDATE_COLUMNS:
        if col not in candidates:
            candidates[col] = 0
    candidates = candidates[Q.CANDIDATE_COLUMNS]
    m = 3 * n
    annual = pd.DataFrame({
        "id": np.arange(m) + 1, "unit_id": [ids[k] for k in rng.integers(0, n, m)] if n else [],
        "effective_hours": rng.choice([0.0, 100.0, 799.0, 800.0, 1500.0], m), "in_service": rng.random(m) < 0.9,
        "months_reported": pd.array(rng.choice([0, 6, 12], m), dtype="Int64"),
        "rated_hours": 1400.0, "external_hours": 0.0, "exempt": rng.random(m) < 0.05,
    })
    rules = S.SanctionRules().with_rule(S.IDLE_SHARE, enabled=True, max_share=float(rng.choice([0.3, 0.5])))
    rules = rules.with_rule(S.NOT_REPORTING, min_missing=int(rng.integers(1, 5)))
    rules = rules.with_rule(S.LATE_REPORTING, min_late=int(rng.integers(1, 4)), min_days_late=int(rng.integers(10, 40)))
    for rule_id in S.RULE_IDS:
        rules = rules.with_consequences(rule_id, public_notice=bool(rng.random() < 0.7),
                                        no_post_subsidy=bool(rng.random() < 0.5),
                                        rectification_years=int(rng.integers(0, 3)),
                                        purchase_restricted_years=int(rng.integers(0, 3)))
    inputs = S.SanctionInputs(year=YEAR, units=units, evaluation=evaluation, reporting=reporting,
                              candidates=candidates, annual=annual)
    return rules, inputs


def _former_typed(frame: pd.DataFrame) -> pd.DataFrame:
    for col in S.EVIDENCE_COLUMNS:
        dtype = S._EVIDENCE_DTYPES[col]
        if col not in frame:
            frame[col] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        if dtype is object:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        elif dtype is float:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        else:
            frame[col] = frame[col].astype(dtype)
    return frame


@pytest.mark.parametrize("seed", range(12))
def test_per_unit_summary_and_restrictions_equal_the_former_group_loops(seed, monkeypatch):
    rules, inputs = random_sanction_case(seed)
    outcome = S.apply(rules, inputs)
    with monkeypatch.context() as m:
        m.setattr(S, "_typed", _former_typed)
        former = S.apply(rules, inputs)
    pd.testing.assert_frame_equal(outcome.fired, former.fired, check_exact=True)
    pd.testing.assert_frame_equal(outcome.by_unit, _former_by_unit(outcome.fired, inputs.units), check_exact=True)
    pd.testing.assert_frame_equal(S.restricted_units(outcome), _former_restricted_units(outcome), check_exact=True)
    without_units = S.apply(rules, S.SanctionInputs(**{**inputs.__dict__, "units": None}))
    pd.testing.assert_frame_equal(without_units.by_unit, _former_by_unit(without_units.fired, None), check_exact=True)
