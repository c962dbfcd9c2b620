"""Write services of the purchase review (models/services/purchases.py) on every configured
backend, on a small hand-made registry.

Registry (usage years 2024 and 2025; every instrument in service since 2018):
- 乙检测中心 (152921, holder coordinates 39.8334 N 105.6663 E: one degree north of the seat of
  阿拉善左旗 at 38.8334 N 105.6663 E, so 2π·6371/360 = 111.19 km → 111.2 km from a request located
  in 阿拉善左旗):
  - HPLC-A 高效液相色谱仪 010501, 外部共享: 2024 50 h/month = 600 h, 2025 30 h/month = 360 h →
    average 480 h < 800 h: idle, spare 1200 − 480 = 720 h;
  - HPLC-B 高效液相色谱仪 010501, 内部共享: 2024 110 h/month = 1320 h, 2025 120 h/month = 1440 h →
    average 1380 h ≥ 1200 h: saturated, spare 0 h;
  - GC-1 气相色谱仪 010502, 外部共享, 20 h/month: name similarity 0.708 < 0.75, not a match.
- 甲研究院 (152921, no coordinates): the applicant.

A request 液相色谱仪 010501 for 300,000 CNY matches both HPLCs (name similarity 0.8875, score
0.55 × 0.8875 + 0.20 × 1 = 0.688125 → 0.6881; equal scores rank by instrument id); 300,000 lies in
the desk-check tier (50,000 ≤ p < 500,000) and is not within 5 % under an edge. The idle sharable
HPLC-A fires idle_sharable → suggested verdict reject; the saturated HPLC-B fires nothing.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pandas as pd
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from dashboard import purchases as PR
from dashboard.i18n import catalogue
from models import queries as q
from models import tables as T
from models.services import purchases as SP
from tests.factories import add_instrument, add_unit, add_usage

TODAY = date(2026, 3, 10)
CHECK_DAY = date(2026, 3, 6)
ALIASES = PR.header_aliases({"zh": catalogue("zh"), "en": catalogue("en")})

REQUEST = {
    "applicant": "甲研究院",
    "instrument_name": "液相色谱仪",
    "class_code": "010501",
    "quoted_price": "300,000",
    "funding": "地方财政资金",
    "justification": "教学科研急需",
    "submitted_date": "2026-03-02",
}


def registry(engine) -> dict[str, int]:
    applicant = add_unit(engine, "甲研究院", name_en="Institute A", region_code="152921")
    holder = add_unit(engine, "乙检测中心", name_en="Testing Centre B", region_code="152921", lat=39.8334, lon=105.6663)
    idle = add_instrument(engine, holder, "HPLC-A", "高效液相色谱仪", share_mode="外部共享", model="1260 Infinity II",
                          manufacturer="安捷伦")
    busy = add_instrument(engine, holder, "HPLC-B", "高效液相色谱仪", share_mode="内部共享", model="LC-20AT",
                          manufacturer="岛津")
    gc = add_instrument(engine, holder, "GC-1", "气相色谱仪", class_code="010502", share_mode="外部共享")
    add_usage(engine, idle, 2024, [50.0] * 12)
    add_usage(engine, idle, 2025, [30.0] * 12)
    add_usage(engine, busy, 2024, [110.0] * 12)
    add_usage(engine, busy, 2025, [120.0] * 12)
    add_usage(engine, gc, 2025, [20.0] * 12)
    return {"applicant": applicant, "holder": holder, "idle": idle, "busy": busy, "gc": gc}


def count(engine, table) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(table)).one()


def counts(engine) -> tuple[int, ...]:
    return tuple(count(engine, t) for t in (T.PurchaseRequest, T.DuplicateCheck, T.ReviewDecision, T.AuditEntry))


def audits(engine, action: str) -> list[T.AuditEntry]:
    with Session(engine) as s:
        return list(s.exec(select(T.AuditEntry).where(T.AuditEntry.action == action).order_by(T.AuditEntry.id)).all())


def status(engine, request_id: int) -> str:
    with Session(engine) as s:
        return s.get(T.PurchaseRequest, request_id).status


def codes(exc_info) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in exc_info.value.errors]


# ---------------------------------------------------------------------------------- submitting


def test_submit_numbers_the_request_and_writes_an_audit_entry(engine):
    ids = registry(engine)
    before = counts(engine)
    rid, no = SP.submit_request(engine, REQUEST, actor="填报员", today=TODAY)
    assert no == "ALS-CG-2026-0001"
    assert counts(engine) == (before[0] + 1, before[1], before[2], before[3] + 1)
    row = q.purchase_requests(engine).set_index("id").loc[rid]
    assert row["request_no"] == no and row["applicant_unit_id"] == ids["applicant"] and row["status"] == "submitted"
    assert row["quoted_price"] == 300_000.0 and row["region_code"] == "152921"  # the applicant's region
    assert row["submitted_date"] == pd.Timestamp("2026-03-02") and row["expected_annual_hours"] == 0.0
    audit = audits(engine, "purchase.submit")
    assert len(audit) == 1 and audit[0].actor == "填报员" and audit[0].entity == "purchaserequest"
    assert audit[0].entity_key == no and audit[0].summary == f"request {no}"
    assert json.loads(audit[0].after_json)[0]["id"] == rid

    # the next one of the same year continues; another year starts at 0001; a given number is kept
    assert SP.submit_request(engine, REQUEST, actor="填报员", today=TODAY)[1] == "ALS-CG-2026-0002"
    assert SP.submit_request(engine, {**REQUEST, "submitted_date": "2025-12-31"}, actor="x", today=TODAY)[1] \
        == "ALS-CG-2025-0001"
    assert SP.submit_request(engine, {**REQUEST, "request_no": "ALS-CG-2026-0040"}, actor="x", today=TODAY)[1] \
        == "ALS-CG-2026-0040"
    assert SP.submit_request(engine, REQUEST, actor="x", today=TODAY)[1] == "ALS-CG-2026-0041"


def test_bad_input_raises_and_writes_nothing(engine):
    registry(engine)
    SP.submit_request(engine, REQUEST, actor="x", today=TODAY)
    before = counts(engine)
    with pytest.raises(PR.ReviewError) as exc:
        SP.submit_request(engine, {**REQUEST, "quoted_price": "0", "class_code": "0199", "applicant": "丙公司"},
                          actor="x", today=TODAY)
    assert codes(exc) == [("applicant", "unknown_unit"), ("class_code", "class_code"), ("quoted_price", "price")]
    with pytest.raises(PR.ReviewError) as exc:
        SP.submit_request(engine, {**REQUEST, "request_no": "ALS-CG-2026-0001"}, actor="x", today=TODAY)
    assert codes(exc) == [("request_no", "request_no_taken")]
    with pytest.raises(PR.ReviewError) as exc:  # longer than the column: refused before the store sees it
        SP.submit_request(engine, {**REQUEST, "request_no": "ALS-CG-2026-" + "0" * 25 + "2"}, actor="x", today=TODAY)
    assert codes(exc) == [("request_no", "request_no")]
    assert counts(engine) == before


# ----------------------------------------------------------------------------------- checking


def test_run_check_keeps_the_matches_and_moves_submitted_to_checked(engine):
    ids = registry(engine)
    rid, no = SP.submit_request(engine, REQUEST, actor="x", today=TODAY)
    assert SP.latest_check(engine, rid) is None
    at = datetime(2026, 3, 6, 2, 30, tzinfo=timezone.utc)
    run = SP.run_check(engine, rid, actor="审核员", on_date=CHECK_DAY, at=at)
    assert status(engine, rid) == "checked"
    assert run.recommendation.verdict == "reject" and run.recommendation.rules == ("idle_sharable",)

    checks = q.duplicate_checks(engine)
    assert list(checks["id"]) == [run.id] and int(checks.iloc[0]["request_id"]) == rid
    stored = checks.iloc[0]
    assert (stored["tier"], stored["suggested_verdict"], stored["rules"], stored["checked_by"]) == (
        "desk_check", "reject", "idle_sharable", "审核员")
    snap = json.loads(stored["snapshot_json"])
    assert snap == run.snapshot
    assert snap["request"] == {"name": "液相色谱仪", "model": "", "class_code": "010501", "price_cny": 300_000.0,
                               "unit_id": ids["applicant"], "date": "2026-03-06"}
    assert (snap["tier"], snap["verdict"], snap["rules"], snap["flags"], snap["years"]) == (
        "desk_check", "reject", ["idle_sharable"], [], [2024, 2025])
    got = [(m["rank"], m["instrument_id"], m["inner_id"], m["name_zh"], m["unit_name_en"], m["avg_hours"],
            m["spare_hours"], m["load"], m["sharable"], m["distance_km"]) for m in snap["matches"]]
    assert got == [
        (1, ids["idle"], "HPLC-A", "高效液相色谱仪", "Testing Centre B", 480.0, 720.0, "idle", True, 111.2),
        (2, ids["busy"], "HPLC-B", "高效液相色谱仪", "Testing Centre B", 1380.0, 0.0, "saturated", False, 111.2),
    ]
    assert [m["score"] for m in snap["matches"]] == [0.6881, 0.6881]
    assert [m["name_similarity"] for m in snap["matches"]] == [0.8875, 0.8875]
    assert snap["evidence"] == [{"kind": "rule", "id": "idle_sharable", "instrument_id": ids["idle"],
                                 "unit_id": ids["holder"], "value": 480.0, "line": 800.0}]
    assert snap["review_rules"] == {"tier_edges_cny": [50_000, 500_000, 2_000_000], "low_use_hours": 800,
                                    "saturation_hours": 1200, "history_years": 3}

    latest = SP.latest_check(engine, rid)
    assert latest["id"] == run.id and latest["checked_by"] == "审核员"
    assert latest["checked_at"] == "2026-03-06T02:30:00+00:00" and latest["verdict"] == "reject"
    audit = audits(engine, "purchase.check")
    assert len(audit) == 1 and audit[0].entity_key == no
    assert audit[0].summary == f"check {run.id}: desk_check reject idle_sharable"
    assert json.loads(audit[0].before_json) == {"status": "submitted"}
    assert json.loads(audit[0].after_json) == {"status": "checked", "check_id": run.id, "suggested_verdict": "reject"}

    # a second run is kept beside the first; the newest is the latest
    again = SP.run_check(engine, rid, actor="复核员", on_date=CHECK_DAY)
    assert list(q.duplicate_checks(engine, rid)["id"]) == [run.id, again.id]
    assert SP.latest_check(engine, rid)["id"] == again.id and status(engine, rid) == "checked"

    with pytest.raises(PR.ReviewError) as exc:
        SP.run_check(engine, 9999, actor="x")
    assert codes(exc) == [("request", "unknown_request")]


def test_without_the_idle_sharable_instrument_the_saturated_one_passes(engine):
    ids = registry(engine)
    with Session(engine) as s:  # HPLC-A out of service (registry edit, not a review record)
        inst = s.get(T.Instrument, ids["idle"])
        inst.status = "待报废"
        s.add(inst)
        s.commit()
    rid, _ = SP.submit_request(engine, REQUEST, actor="x", today=TODAY)
    run = SP.run_check(engine, rid, actor="x", on_date=CHECK_DAY)
    assert run.recommendation.verdict == "pass" and run.recommendation.rules == ("all_saturated",)
    assert [m["in_service"] for m in run.snapshot["matches"]] == [False, True]


def test_a_restricted_applicant_is_rejected(engine):
    ids = registry(engine)
    rid, _ = SP.submit_request(engine, {**REQUEST, "instrument_name": "多功能酶标仪", "class_code": "0110"},
                               actor="x", today=TODAY)
    restricted = pd.DataFrame({"unit_id": [ids["applicant"]], "until_year": [2026], "rules": [("nominally_open",)],
                               "years": [1], "from_year": [2026]})
    free = SP.run_check(engine, rid, actor="x", on_date=CHECK_DAY)
    assert free.recommendation.verdict == "pass" and free.recommendation.rules == ("no_similar",)
    run = SP.run_check(engine, rid, actor="x", on_date=CHECK_DAY, restricted=restricted)
    assert run.recommendation.verdict == "reject"
    assert run.snapshot["rules"] == ["applicant_restricted", "no_similar"] and run.snapshot["flags"] == ["restricted"]
    assert run.snapshot["evidence"][0] == {"kind": "rule", "id": "applicant_restricted", "instrument_id": None,
                                           "unit_id": ids["applicant"], "value": 2026.0, "line": 2026.0}
    assert q.duplicate_checks(engine, rid)["rules"].tolist() == ["no_similar", "applicant_restricted,no_similar"]
    # the restriction runs to 2026: a check dated 2027 no longer fires it
    later = SP.run_check(engine, rid, actor="x", on_date=date(2027, 1, 5), restricted=restricted)
    assert later.recommendation.rules == ("no_similar",)


# ------------------------------------------------------------------------------------ deciding

DECISION = {"verdict": "不予通过", "reasons": "乙检测中心同类仪器闲置且外部共享", "reviewers": "张三、李四",
            "decided_date": "2026-03-08"}


def test_record_decision_needs_a_check_then_valid_input_and_supersedes(engine):
    registry(engine)
    rid, no = SP.submit_request(engine, REQUEST, actor="x", today=TODAY)
    before = counts(engine)
    with pytest.raises(PR.ReviewError) as exc:
        SP.record_decision(engine, rid, DECISION, actor="评议组", today=TODAY)
    assert codes(exc) == [("request", "not_checked")] and exc.value.errors[0].value == no
    assert counts(engine) == before and status(engine, rid) == "submitted"

    SP.run_check(engine, rid, actor="x", on_date=CHECK_DAY)
    before = counts(engine)
    with pytest.raises(PR.ReviewError) as exc:
        SP.record_decision(engine, rid, {"verdict": "调整", "reasons": "可共享", "reviewers": "",
                                         "decided_date": "2026-03-01"}, actor="评议组", today=TODAY)
    assert codes(exc) == [("reviewers", "required"), ("conditions", "conditions_required"),
                          ("decided_date", "before_submission")]
    assert counts(engine) == before and status(engine, rid) == "checked"

    first = SP.record_decision(engine, rid, DECISION, actor="评议组", today=TODAY)
    assert status(engine, rid) == "decided"
    assert counts(engine) == (before[0], before[1], before[2] + 1, before[3] + 1)
    second = SP.record_decision(engine, rid, {"verdict": "adjust", "reasons": "复议：改为与乙检测中心共享",
                                              "conditions": "与乙检测中心签订共享协议", "reviewers": "张三、王五"},
                                actor="评议组", today=TODAY)
    assert second > first
    dec = q.review_decisions(engine).set_index("id")
    assert list(dec.index) == [first, second]
    assert pd.isna(dec.at[first, "supersedes_id"]) and dec.at[second, "supersedes_id"] == first
    # the first decision is unchanged
    assert (dec.at[first, "verdict"], dec.at[first, "reasons"], dec.at[first, "reviewers"]) == (
        "不予通过", DECISION["reasons"], "张三、李四")
    assert pd.Timestamp(dec.at[first, "decided_date"]).date() == date(2026, 3, 8)
    assert (dec.at[second, "verdict"], dec.at[second, "conditions"]) == ("调整", "与乙检测中心签订共享协议")
    assert pd.Timestamp(dec.at[second, "decided_date"]).date() == TODAY  # blank: today
    cur = PR.current_decisions(q.review_decisions(engine))
    assert list(cur["id"]) == [second]

    audit = audits(engine, "purchase.decide")
    assert [a.summary for a in audit] == [f"decision {first}: 不予通过", f"decision {second}: 调整 (supersedes {first})"]
    assert audit[0].before_json == "" and json.loads(audit[1].before_json)["id"] == first
    assert json.loads(audit[1].after_json)["supersedes_id"] == first

    # a new check of a decided request keeps it decided
    SP.run_check(engine, rid, actor="x", on_date=CHECK_DAY)
    assert status(engine, rid) == "decided"

    with pytest.raises(PR.ReviewError) as exc:
        SP.record_decision(engine, 9999, DECISION, actor="x", today=TODAY)
    assert codes(exc) == [("request", "unknown_request")]


def test_decisions_and_checks_cannot_be_changed_or_deleted(engine):
    registry(engine)
    rid, _ = SP.submit_request(engine, REQUEST, actor="x", today=TODAY)
    run = SP.run_check(engine, rid, actor="x", on_date=CHECK_DAY)
    did = SP.record_decision(engine, rid, DECISION, actor="x", today=TODAY)
    for model, key, field, value in ((T.ReviewDecision, did, "verdict", "通过"),
                                     (T.DuplicateCheck, run.id, "suggested_verdict", "pass")):
        with Session(engine) as s:
            row = s.get(model, key)
            setattr(row, field, value)
            s.add(row)
            with pytest.raises(PermissionError):
                s.commit()
            s.rollback()
        with Session(engine) as s:
            s.delete(s.get(model, key))
            with pytest.raises(PermissionError):
                s.commit()
            s.rollback()
        with Session(engine) as s:
            assert getattr(s.get(model, key), field) != value
    assert list(q.review_decisions(engine)["verdict"]) == ["不予通过"]
    assert list(q.duplicate_checks(engine)["suggested_verdict"]) == ["reject"]


# ------------------------------------------------------------------------------------ importing


def frame(rows: list[list], index: list[int]) -> pd.DataFrame:
    cols = ["申请单位", "仪器名称", "分类代码", "报价（元）", "资金来源", "购置理由", "申请日期"]
    return pd.DataFrame(rows, columns=cols, index=index, dtype=object)


GOOD_ROWS = [
    ["甲研究院", "液相色谱仪", "010501", "300000", "地方财政资金", "教学", "2026-03-01"],
    ["Institute A", "多功能酶标仪", "011001", "120,000", "单位自有资金", "检测", "2025-11-03"],
    ["乙检测中心", "气相色谱仪", "010502", "80000", "其他资金", "科研", "2026-02-15"],
]


def test_import_with_one_bad_row_writes_nothing(engine):
    registry(engine)
    before = counts(engine)
    bad = GOOD_ROWS[:1] + [GOOD_ROWS[1][:2] + ["0199"] + GOOD_ROWS[1][3:]] + GOOD_ROWS[2:]
    with pytest.raises(PR.ReviewError) as exc:
        SP.import_requests(engine, frame(bad, [2, 3, 5]), actor="x", today=TODAY, aliases=ALIASES)
    assert exc.value.errors == (PR.FieldError("class_code", "class_code", "0199", 3),)
    assert counts(engine) == before


def test_a_good_import_numbers_every_row(engine):
    ids = registry(engine)
    SP.submit_request(engine, REQUEST, actor="x", today=TODAY)  # ALS-CG-2026-0001
    before = counts(engine)
    out = SP.import_requests(engine, frame(GOOD_ROWS, [2, 3, 5]), actor="导入员", today=TODAY, aliases=ALIASES,
                             source="申请.xlsx")
    assert [no for _, no in out] == ["ALS-CG-2026-0002", "ALS-CG-2025-0001", "ALS-CG-2026-0003"]
    assert counts(engine) == (before[0] + 3, before[1], before[2], before[3] + 1)
    df = q.purchase_requests(engine).set_index("request_no")
    assert df.at["ALS-CG-2025-0001", "applicant_unit_id"] == ids["applicant"]
    assert df.at["ALS-CG-2025-0001", "quoted_price"] == 120_000.0
    assert df.at["ALS-CG-2026-0003", "region_code"] == "152921" and df.at["ALS-CG-2026-0003", "status"] == "submitted"
    audit = audits(engine, "purchase.import")
    assert len(audit) == 1 and audit[0].summary == "3 requests from 申请.xlsx"
    assert audit[0].entity_key == "ALS-CG-2026-0002,ALS-CG-2025-0001,ALS-CG-2026-0003"

    # the same file again with its numbers: all taken, nothing written
    again = frame(GOOD_ROWS, [2, 3, 5]).assign(申请编号=[no for _, no in out])
    with pytest.raises(PR.ReviewError) as exc:
        SP.import_requests(engine, again, actor="x", today=TODAY, aliases=ALIASES)
    assert [(e.code, e.row) for e in exc.value.errors] == [("request_no_taken", 2), ("request_no_taken", 3),
                                                           ("request_no_taken", 5)]
    assert count(engine, T.PurchaseRequest) == before[0] + 3


def test_import_from_a_csv_file(engine):
    registry(engine)
    text = ("申请单位,仪器名称,分类代码,报价（元）,资金来源,购置理由,申请日期\n"
            "甲研究院,液相色谱仪,010501,\"300,000\",地方财政资金,教学,2026-03-01\n"
            ",,,,,,\n"
            "甲研究院,液相色谱仪,010501,三十万,地方财政资金,教学,2026-03-01\n")
    with pytest.raises(PR.ReviewError) as exc:
        SP.import_requests(engine, PR.read_request_file("a.csv", text.encode("gb18030")), actor="x", today=TODAY,
                           aliases=ALIASES)
    assert exc.value.errors == (PR.FieldError("quoted_price", "price", "三十万", 4),)
    fixed = text.replace("三十万", "310000")
    out = SP.import_requests(engine, PR.read_request_file("a.csv", fixed.encode("gb18030")), actor="x", today=TODAY,
                             aliases=ALIASES)
    assert [no for _, no in out] == ["ALS-CG-2026-0001", "ALS-CG-2026-0002"]
    assert list(q.purchase_requests(engine)["quoted_price"]) == [300_000.0, 310_000.0]


# ------------------------------------------------------------------------------------ backfill


def add_request(engine, request_no: str, unit_id: int, submitted: date, status: str) -> int:
    with Session(engine) as s:
        r = T.PurchaseRequest(request_no=request_no, applicant_unit_id=unit_id, instrument_name="液相色谱仪",
                              class_code="010501", quoted_price=300_000.0, region_code="152921",
                              submitted_date=submitted, status=status)
        s.add(r)
        s.commit()
        return r.id


def test_backfill_adds_checks_only_to_checked_or_decided_requests_without_one(engine):
    ids = registry(engine)
    assert SP.backfill_demo_checks(engine) == 0  # no requests at all
    u = ids["applicant"]
    submitted = add_request(engine, "ALS-CG-2026-0001", u, date(2026, 1, 5), "submitted")
    checked = add_request(engine, "ALS-CG-2026-0002", u, date(2026, 1, 10), "checked")
    decided = add_request(engine, "ALS-CG-2025-0001", u, date(2025, 12, 28), "decided")
    has_one = add_request(engine, "ALS-CG-2026-0003", u, date(2026, 2, 1), "submitted")
    kept = SP.run_check(engine, has_one, actor="审核员", on_date=CHECK_DAY)
    assert status(engine, has_one) == "checked"

    assert SP.backfill_demo_checks(engine, actor="demo") == 2
    checks = q.duplicate_checks(engine)
    assert sorted(checks["request_id"].astype(int)) == sorted([checked, decided, has_one])
    assert list(q.duplicate_checks(engine, has_one)["id"]) == [kept.id]
    # a week after submission, 10:00 Beijing time = 02:00 UTC
    first = SP.latest_check(engine, checked)
    assert first["checked_at"] == "2026-01-17T02:00:00+00:00" and first["checked_by"] == "demo"
    assert first["request"]["date"] == "2026-01-17" and first["verdict"] == "reject"
    second = SP.latest_check(engine, decided)
    assert second["checked_at"] == "2026-01-04T02:00:00+00:00" and second["request"]["date"] == "2026-01-04"
    assert SP.latest_check(engine, submitted) is None
    assert [status(engine, i) for i in (submitted, checked, decided)] == ["submitted", "checked", "decided"]
    assert SP.backfill_demo_checks(engine) == 0  # nothing left to do
    assert count(engine, T.DuplicateCheck) == 3


# The backfill once held every run (snapshot JSON included) until one final write: 5.7 GB for
# the 774 checks of the national demo. It now writes them a few at a time; the former version,
# kept here, must write the same rows (ids, times, snapshots) on a seeded random set of requests.

def _former_backfill(engine, *, actor: str = "demo", days_after: int = 7) -> int:
    from datetime import time, timedelta

    from dashboard import dupcheck as D
    from models.db import bump_revision, session_scope

    requests = q.purchase_requests(engine)
    done = set(q.duplicate_checks(engine)["request_id"].astype(int)) if len(requests) else set()
    todo = requests[requests["status"].isin([PR.CHECKED, PR.DECIDED]) & ~requests["id"].isin(done)]
    if todo.empty:
        return 0
    inputs = SP.check_inputs(engine)
    runs = []
    for row in todo.to_dict("records"):
        day = pd.Timestamp(row["submitted_date"]).date() + timedelta(days=days_after)
        at = (datetime.combine(day, time(10, 0)) - SP.BEIJING_OFFSET).replace(tzinfo=timezone.utc)
        rec, snapshot = SP._evaluate(int(row["id"]), inputs, None, D.ReviewRules(), day)
        runs.append(SP._check_row(int(row["id"]), rec, snapshot, actor or "demo", at))
    with session_scope(engine) as s:
        s.add_all(runs)
        bump_revision(s)
    return len(runs)


def _seeded_requests(engine, seed: int) -> int:
    """The registry plus 17 requests of random names, classes, prices, dates and statuses."""
    import random

    rng = random.Random(seed)
    applicant = registry(engine)["applicant"]
    names = [("液相色谱仪", "010501"), ("高效液相色谱仪", "010501"), ("气相色谱仪", "010502"), ("离心机", "030101")]
    with Session(engine) as s:
        for k in range(17):
            name, code = rng.choice(names)
            s.add(T.PurchaseRequest(request_no=f"ALS-CG-2026-{k + 1:04d}", applicant_unit_id=applicant,
                                    instrument_name=name, class_code=code,
                                    quoted_price=float(rng.choice([30_000, 300_000, 480_000, 2_500_000])),
                                    region_code="152921", submitted_date=date(2025, 12, 1) + (date(2026, 1, 1) - date(2025, 12, 1)) * rng.random(),
                                    status=rng.choice(["submitted", "checked", "decided", "checked"])))
        s.commit()
    return int(q.purchase_requests(engine)["status"].isin(["checked", "decided"]).sum())


def test_backfill_written_in_batches_equals_the_former_single_write(engine, backend, tmp_path, monkeypatch):
    from models.db import data_revision, make_engine, init_store
    from tests.stores import store_url

    expected = _seeded_requests(engine, seed=8)
    with store_url(backend, tmp_path) as url:
        former = make_engine(url)
        init_store(former)
        assert _seeded_requests(former, seed=8) == expected > SP.BACKFILL_BATCH
        assert _former_backfill(former) == expected
        monkeypatch.setattr(SP, "BACKFILL_BATCH", 3)  # several flushes and a remainder
        assert SP.backfill_demo_checks(engine) == expected
        columns = ["id", "request_id", "checked_at", "checked_by", "tier", "suggested_verdict", "rules", "snapshot_json"]
        pd.testing.assert_frame_equal(q.duplicate_checks(engine)[columns], q.duplicate_checks(former)[columns],
                                      check_exact=True)
        assert data_revision(engine) == data_revision(former)
        former.dispose()
