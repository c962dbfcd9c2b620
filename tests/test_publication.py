"""Publishing an evaluation: immutable snapshot, fingerprints, verification, the public notice.

The store (`evaluation_store`) is small and hand-made, so the scores can be worked by hand with
the default scheme (global weights = group share × share within the group):

- 甲研究院 (A): 2 general-purpose 外部共享 instruments, 100 h/month each, nothing external.
    org: open ratio 1 → 100 × 0.10 = 10; completeness 24/24 → 100 × 0.05 = 5; timeliness and
    online booking 0.  use: hours 2400 / rated 2 × 1400 = 0.857143 → 85.7143 × 0.24 = 20.5714;
    both instruments ≥ 800 h → 100 × 0.16 = 16.  share: 0.          score 51.571429
- <script>…检测中心 (B): 2 such instruments, 30 h/month each, 20 h/month of it external.
    org: 10 + 5.  use: 720 / 2800 = 0.257143 → 25.7143 × 0.24 = 6.1714; none ≥ 800 h → 0.
    share: 240 external h per instrument / 400 → 60 × 0.0875 = 5.25; external share 480 / 720
    capped at 0.5 → 100 × 0.07 = 7.                                 score 33.421429
- 丙站 (C): one instrument → too few instruments, not ranked.
- 丁所 (D): 2 instruments, no usage for 2025 → not reported, lowest grade.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session, select

from dashboard import publication, scoring
from dashboard.evaluation import EvaluationUnavailable, build_snapshot, publish, run_evaluation, verify_publication
from dashboard.i18n import Translator
from dashboard.indicators import IndicatorTable
from dashboard.scheme import GROUP_IDS, Group, Indicator, Scheme, default_scheme
from models import evaluations as E
from models import tables as T
from models.queries import count_rows
from models.services import evaluation as services
from models.services.evaluation import save_scheme
from tests.factories import add_instrument, add_unit, add_usage

YEAR = 2025
SCRIPT_NAME = "<script>alert(1)</script>检测中心"


@pytest.fixture
def store(engine):
    """The hand-made store of the module docstring; returns the engine and the ids."""
    a = add_unit(engine, "甲研究院", unit_type="科研院所", region_code="152921")
    b = add_unit(engine, SCRIPT_NAME, unit_type="检验检测", region_code="152922")
    c = add_unit(engine, "丙站", unit_type="其他", region_code="152923")
    d = add_unit(engine, "丁所", unit_type="科研院所", region_code="152921")
    ids = {"A": a, "B": b, "C": c, "D": d}
    for key, unit in list(ids.items()):
        count = 1 if key == "C" else 2
        for n in range(count):
            inst = add_instrument(engine, unit, f"{key}-{n}", f"仪器{key}{n}")
            ids[f"{key}{n}"] = inst
            if key == "A":
                add_usage(engine, inst, YEAR, [100.0] * 12)
            elif key == "B":
                add_usage(engine, inst, YEAR, [30.0] * 12, [20.0] * 12)
            elif key == "C":
                add_usage(engine, inst, YEAR, [10.0] * 12)
    return engine, ids


def _audit(engine, action: str) -> list[T.AuditEntry]:
    with Session(engine) as s:
        return list(s.exec(select(T.AuditEntry).where(T.AuditEntry.action == action)).all())


# --------------------------------------------------------------------------- the evaluation


def test_hand_worked_scores_ranks_and_statuses(store):
    engine, ids = store
    _, result = run_evaluation(engine, YEAR)
    table = result.table
    assert table.loc[ids["A"], "score"] == pytest.approx(51.571429, abs=1e-6)
    assert table.loc[ids["B"], "score"] == pytest.approx(33.421429, abs=1e-6)
    assert list(table["rank"].dropna()) == [1, 2]
    assert table.loc[ids["C"], "status"] == "too_few_instruments" and table.loc[ids["C"], "grade"] == ""
    assert table.loc[ids["D"], "status"] == "not_reported" and table.loc[ids["D"], "grade"] == "较差"


# --------------------------------------------------------------------------- snapshot


def test_snapshot_holds_scheme_weights_units_and_a_timestamp_free_fingerprint(store):
    engine, ids = store
    table, result = run_evaluation(engine, YEAR)
    data_fp = publication.data_fingerprint(table)
    early = publication.snapshot(YEAR, result.scheme, result, table, data_fp,
                                 now=datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc))
    late = publication.snapshot(YEAR, result.scheme, result, table, data_fp,
                                now=datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc))
    assert early["created_at"] == "2026-01-05T08:00:00+00:00" != late["created_at"]
    assert early["fingerprint"] == late["fingerprint"] == scoring.result_fingerprint(result, data_fp)
    assert publication.snapshot_scheme(early) == default_scheme() and early["scheme"]["version"] == 1
    assert sum(early["weights"].values()) == pytest.approx(1.0)
    assert early["weights"]["effective_hours_ratio"] == pytest.approx(0.24)
    # Rated units by rank, then the others by id.
    assert [u["unit_id"] for u in early["units"]] == [ids["A"], ids["B"], ids["C"], ids["D"]]
    a = early["units"][0]
    assert (a["name"], a["unit_type"], a["region_code"], a["rank"], a["grade"]) == ("甲研究院", "科研院所", "152921", 1, "较差")
    assert a["raw"]["effective_hours_ratio"] == pytest.approx(0.857143)
    assert a["normalised"]["effective_hours_ratio"] == pytest.approx(85.714286)
    assert a["groups"]["org"] == pytest.approx(60.0)  # (100·40 + 0·25 + 100·20 + 0·15) / 100
    assert a["score"] == pytest.approx(51.571429)
    assert early["units"][2]["rank"] is None and early["units"][2]["score"] is None
    assert json.loads(json.dumps(early)) == early  # plain JSON, no NaN


def test_data_fingerprint_ignores_float_noise_but_not_real_changes():
    raw = pd.DataFrame({"x": [0.5, float("nan")], "y": [1.0, 2.0]}, index=pd.Index([1, 2], name="unit_id"))
    units = pd.DataFrame({"status": ["rated", "rated"]}, index=raw.index)
    base = publication.data_fingerprint(IndicatorTable(raw, units))
    noisy = raw.copy()
    noisy.loc[1, "x"] += 1e-12
    assert publication.data_fingerprint(IndicatorTable(noisy, units)) == base
    assert publication.data_fingerprint(IndicatorTable(raw[["y", "x"]], units)) == base  # column order
    filled = raw.fillna(0.0)
    assert publication.data_fingerprint(IndicatorTable(filled, units)) != base  # NaN is not 0
    moved = units.replace({"status": {"rated": "not_reported"}})
    assert publication.data_fingerprint(IndicatorTable(raw, moved)) != base


# Fingerprints are stored with every publication and re-computed to verify it, so they must never
# change for the same inputs. The literal values below were computed by the per-unit implementation
# (cell and row look-ups) that the column-wise one replaced; a unit absent from the indicator matrix
# (unit 30) and a rated unit with a missing value (unit 8) are included.
GOAL = {"lower": 0, "upper": 1}
PIN_SCHEME = Scheme(
    name="三指标测试方案", version=1, groups=(Group("org", 1), Group("use", 1), Group("share", 2)),
    indicators=(Indicator("open_ratio", "org", params=GOAL), Indicator("effective_hours_ratio", "use", params=GOAL),
                Indicator("external_share", "share", method="minmax")))
PIN_IDS = [11, 3, 7, 20, 5, 8]
PIN_RAW = pd.DataFrame({"open_ratio": [0.8, 1.0, 0.4, np.nan, 1.0, 0.4],
                        "effective_hours_ratio": [0.6, 0.2, 1.0, np.nan, 0.5, np.nan],
                        "external_share": [0.5, 0.9, 0.3, np.nan, 0.1, 0.3 + 1e-13]},
                       index=pd.Index(PIN_IDS, name="unit_id"))
PIN_UNITS = pd.DataFrame({
    "name": ["甲研究院", "乙检测中心", "丙医院", "丁公司", "戊站", "己所"],
    "name_en": ["Institute A", "", "Hospital C", None, "Station E", np.nan],
    "unit_type": ["科研院所", "检验检测", "医疗卫生", "企业", "其他", "科研院所"],
    "region_code": ["152921", "152921", "152922", "152923", "152923", "152999"],
    "eligible_instruments": [3, 2, 4, 2, 1, 5],
    "status": ["rated", "rated", "rated", "not_reported", "too_few_instruments", "rated"],
}, index=pd.Index(PIN_IDS, name="unit_id"))
PIN_REGIONS = {"152921": ("阿拉善左旗", "Alxa Left Banner"), "152922": ("阿拉善右旗", "")}
PIN_NOW = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
PIN_VARIANTS = {  # scheme, override weights, result fingerprint, SHA-256 of the whole snapshot (sorted JSON)
    "arithmetic": (PIN_SCHEME, None, "159d10aae6abc90173cdc0bb5613e5f549bfd6a5520e18227f5be2a25ffd73b7",
                   "26fc9675be064a1c188a070f783828bcef3c79ceb74be18e8d6746a6745cb660"),
    "geometric, quotas": (replace(PIN_SCHEME, aggregation="geometric", grade=replace(PIN_SCHEME.grade, mode="quotas")),
                          None, "f125675ffd2508dd9b1d6bf1245894d35c06cbbec56ca6f57ba7549a1d9c422c",
                          "72d99cde5e2c18eb5bc8ee6d65a2b9353ef55791ab605498887c53256de8f57c"),
    "override weights": (PIN_SCHEME, pd.Series({"open_ratio": 2.0, "effective_hours_ratio": 0.0, "external_share": 1.0}),
                         "11a2120572964e78039f253fce1eb8b65e487133b37d3bbaa8bc7e1d63bf7c15",
                         "69a96b2581c832fe719b6c3d4fb961ae987adb91f7202fd75b848fb63c2a7bf2"),
}


@pytest.mark.parametrize("variant", list(PIN_VARIANTS))
def test_fingerprints_and_snapshots_stay_those_of_the_first_implementation(variant):
    scheme, weights, result_fp, snapshot_sha = PIN_VARIANTS[variant]
    table = IndicatorTable(PIN_RAW, PIN_UNITS)
    data_fp = publication.data_fingerprint(table)
    assert data_fp == "23301c03d7ac58cd62dbfea1893d61467565f53ec0d4deaf007e3ea2fecc7dd1"
    result = scoring.evaluate(PIN_RAW, PIN_UNITS, scheme, weights)
    assert scoring.result_fingerprint(result, data_fp) == result_fp
    snap = publication.snapshot(YEAR, scheme, result, table, data_fp, regions=PIN_REGIONS, now=PIN_NOW)
    assert snap["fingerprint"] == result_fp
    text = json.dumps(snap, sort_keys=True, ensure_ascii=False)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == snapshot_sha


def _reference_record(uid, unit: pd.Series, table, result, regions) -> dict:
    """The first implementation of a snapshot's unit record (a row look-up per unit)."""
    res = result.table.loc[uid] if uid in result.table.index else pd.Series(dtype=object)
    status = str(unit["status"])
    rank = res.get("rank") if status == "rated" else None
    region_zh, region_en = regions.get(str(unit["region_code"]), ("", ""))
    name_en = unit.get("name_en")
    return {
        "unit_id": int(uid), "name": unit["name"], "name_en": name_en if isinstance(name_en, str) else "",
        "unit_type": unit["unit_type"], "region_code": str(unit["region_code"]),
        "region_name_zh": region_zh, "region_name_en": region_en,
        "eligible_instruments": int(unit["eligible_instruments"]), "status": status,
        "raw": dict(table.raw.loc[uid]) if uid in table.raw.index else {},
        "normalised": dict(result.normalised.loc[uid]) if uid in result.normalised.index else {},
        "groups": {g: res.get(g) for g in GROUP_IDS} if status == "rated" else {g: None for g in GROUP_IDS},
        "score": res.get("score") if status == "rated" else None,
        "rank": None if rank is None or pd.isna(rank) else int(rank),
        "grade": "" if pd.isna(res.get("grade", "")) else str(res.get("grade", "") or ""),
    }


def _reference_data_fingerprint(table) -> str:
    raw = table.raw.sort_index()
    matrix = {str(uid): {col: raw.at[uid, col] for col in sorted(raw.columns)} for uid in raw.index}
    statuses = {str(uid): str(s) for uid, s in table.units["status"].sort_index().items()}
    return hashlib.sha256(scoring.canonical_json({"raw": matrix, "status": statuses}).encode("utf-8")).hexdigest()


def _reference_result_fingerprint(result, data_fp: str) -> str:
    rows = result.table[list(scoring.TABLE_COLUMNS)].astype(object).to_dict(orient="index")
    payload = {"scheme": result.scheme.to_dict(), "weights": result.weights.to_dict(), "geometric_floor": result.floor,
               "units": {str(uid): row for uid, row in rows.items()}, "data_fingerprint": data_fp}
    return hashlib.sha256(scoring.canonical_json(payload).encode("utf-8")).hexdigest()


def test_column_wise_snapshot_equals_the_per_unit_one_with_a_unit_missing_from_the_matrix():
    units = pd.concat([PIN_UNITS, pd.DataFrame({"name": ["庚站"], "name_en": ["G"], "unit_type": ["其他"],
                                                "region_code": ["152921"], "eligible_instruments": [2],
                                                "status": ["not_reported"]}, index=pd.Index([30], name="unit_id"))])
    table = IndicatorTable(PIN_RAW, units)  # unit 30 has no row of raw values
    for scheme, weights, _, _ in PIN_VARIANTS.values():
        result = scoring.evaluate(PIN_RAW, units, scheme, weights)
        data_fp = publication.data_fingerprint(table)
        assert data_fp == _reference_data_fingerprint(table)
        assert scoring.result_fingerprint(result, data_fp) == _reference_result_fingerprint(result, data_fp)
        snap = publication.snapshot(YEAR, scheme, result, table, data_fp, regions=PIN_REGIONS, now=PIN_NOW)
        records = [publication._plain(_reference_record(uid, units.loc[uid], table, result, PIN_REGIONS))
                   for uid in units.index]
        assert snap["units"] == publication._ordered_units(records)
        assert json.dumps(snap["units"], ensure_ascii=False) == json.dumps(publication._ordered_units(records),
                                                                           ensure_ascii=False)  # key order too
        missing = next(u for u in snap["units"] if u["unit_id"] == 30)
        assert missing["raw"] == {} and missing["normalised"] == {} and missing["grade"] == scheme.grade.fourth_label


def test_a_snapshot_given_the_data_fingerprint_is_the_one_computed_without_it(store):
    engine, _ = store
    table, result = run_evaluation(engine, YEAR)
    data_fp = publication.data_fingerprint(table)
    given = build_snapshot(engine, YEAR, result.scheme, result, table, data_fingerprint=data_fp)
    computed = build_snapshot(engine, YEAR, result.scheme, result, table)
    assert given["data_fingerprint"] == computed["data_fingerprint"] == data_fp
    assert {k: v for k, v in given.items() if k != "created_at"} == {k: v for k, v in computed.items() if k != "created_at"}


# --------------------------------------------------------------------------- publishing


def test_publishing_twice_with_unchanged_data_keeps_one_row_and_one_audit_entry(store):
    engine, _ = store
    table, result = run_evaluation(engine, YEAR)
    first = publish(engine, YEAR, result.scheme, result, table, actor="tester")
    table2, result2 = run_evaluation(engine, YEAR)  # a fresh computation from the store
    second = publish(engine, YEAR, result2.scheme, result2, table2, actor="tester")
    assert first.created and not second.created and second.id == first.id
    rows = E.published_evaluations(engine, YEAR)
    assert list(rows["id"]) == [first.id]
    snap = E.published_snapshot(engine, first.id)
    assert rows.loc[0, "fingerprint"] == snap["fingerprint"] == snap["publication"]["fingerprint"]
    assert rows.loc[0, "scheme_version"] == 1 and rows.loc[0, "published_by"] == "tester"
    audit = _audit(engine, "evaluation.publish")
    assert len(audit) == 1 and audit[0].entity_key == str(first.id)
    assert json.loads(audit[0].after_json)["fingerprint"] == snap["fingerprint"]
    assert len(_audit(engine, "scheme.save")) == 1  # the scheme was stored once, as version 1


def test_there_is_no_service_that_edits_a_publication():
    writers = {name for name in dir(services) if not name.startswith("_") and callable(getattr(services, name))
               and getattr(getattr(services, name), "__module__", "") == services.__name__}
    assert writers == {"Publication", "save_scheme", "ensure_scheme", "publish_evaluation"}


def test_verify_right_after_publishing_says_same(store):
    engine, _ = store
    table, result = run_evaluation(engine, YEAR)
    pub = publish(engine, YEAR, result.scheme, result, table, actor="tester")
    outcome = verify_publication(engine, pub.id)
    assert outcome.same and not outcome.data_changed
    assert outcome.published_fingerprint == outcome.recomputed_fingerprint
    assert outcome.differences.empty


def test_verify_with_live_weights_recomputes_with_the_published_weights(store):
    engine, ids = store
    table, base = run_evaluation(engine, YEAR)
    share_only = pd.Series({i: (1.0 if base.scheme.group_of(i) == "share" else 0.0) for i in base.weights.index})
    _, live = run_evaluation(engine, YEAR, weights=share_only)
    assert live.table.loc[ids["B"], "rank"] == 1  # only B serves outsiders
    pub = publish(engine, YEAR, live.scheme, live, table, actor="tester")
    outcome = verify_publication(engine, pub.id)
    assert outcome.same and outcome.differences.empty


def test_after_new_usage_verify_reports_the_changed_units_and_a_new_publication_supersedes(store):
    engine, ids = store
    table, result = run_evaluation(engine, YEAR)
    first = publish(engine, YEAR, result.scheme, result, table, actor="tester")
    # 丁所 reports a busy year on one instrument (2400 h): it becomes rated, scores 41.07
    # and ranks between A and B.
    add_usage(engine, ids["D0"], YEAR, [200.0] * 12)
    outcome = verify_publication(engine, first.id)
    assert not outcome.same and outcome.data_changed
    assert outcome.recomputed_fingerprint != outcome.published_fingerprint
    diff = outcome.differences.set_index("unit_id")
    assert set(diff.index) == {ids["B"], ids["D"]}  # A keeps rank 1 and its score
    assert (diff.loc[ids["D"], "published_status"], diff.loc[ids["D"], "status"]) == ("not_reported", "rated")
    assert (diff.loc[ids["B"], "published_rank"], diff.loc[ids["B"], "rank"]) == (2, 3)
    table2, result2 = run_evaluation(engine, YEAR)
    second = publish(engine, YEAR, result2.scheme, result2, table2, actor="tester")
    assert second.created and second.id != first.id
    assert list(E.published_evaluations(engine, YEAR)["id"]) == [second.id, first.id]  # newest first
    assert E.latest_publication_id(engine, YEAR) == second.id
    assert E.published_snapshot(engine, first.id)["fingerprint"] == outcome.published_fingerprint  # unchanged


def test_publish_refuses_a_result_of_another_scheme(store):
    engine, _ = store
    table, result = run_evaluation(engine, YEAR)
    other = replace(result.scheme, name="另一方案")
    with pytest.raises(ValueError, match="another scheme"):
        publish(engine, YEAR, other, result, table, actor="tester")
    assert count_rows(engine, T.PublishedEvaluation) == 0


def test_verify_of_an_unknown_publication_names_it(engine):
    with pytest.raises(EvaluationUnavailable) as info:
        verify_publication(engine, 999)
    assert info.value.message(Translator("en")) == "There is no published evaluation with id 999."


# --------------------------------------------------------------------------- scheme queries


def test_scheme_queries_return_the_latest_version(engine):
    assert E.latest_scheme(engine) is None and E.indicator_schemes(engine).empty
    base = default_scheme()
    first = save_scheme(engine, base, actor="tester")
    second = save_scheme(engine, base.with_weights({"share": 60}), actor="tester")
    latest_id, latest = E.latest_scheme(engine)
    assert latest_id == second and {g.id: g.weight for g in latest.groups}["share"] == 60
    listed = E.indicator_schemes(engine)
    assert list(listed["id"]) == [second, first] and list(listed["version"]) == [2, 1]
    assert E.scheme_by_id(engine, first) == base and E.scheme_by_id(engine, 999) is None
    assert E.published_snapshot(engine, 999) is None


# --------------------------------------------------------------------------- public notice


@pytest.fixture
def published(store):
    engine, ids = store
    table, result = run_evaluation(engine, YEAR)
    pub = publish(engine, YEAR, result.scheme, result, table, actor="tester")
    return E.published_snapshot(engine, pub.id), ids


def test_notice_csv_lists_the_ranking_then_the_units_not_rated(published):
    snap, _ = published
    data = publication.notice_csv(snap, Translator("zh"))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["名次", "单位名称", "单位类型", "所在旗区", "综合得分", "组织管理", "运行使用", "共享服务", "评价等级", "说明"]
    assert rows[1] == ["1", "甲研究院", "科研院所", "阿拉善左旗", "51.57", "60.00", "91.43", "0.00", "较差", ""]
    assert rows[2][:5] == ["2", SCRIPT_NAME, "检验检测", "阿拉善右旗", "33.42"]
    assert rows[3][0] == "" and rows[3][1] == "丙站" and rows[3][-1] == "在评仪器少于 2 台套，不参加排名"
    assert rows[4][1] == "丁所" and rows[4][-2:] == ["较差", "本年度未报送仪器使用情况，评为末等"]
    assert len(rows) == 5


def test_notice_csv_in_english_and_formula_names_are_neutralised(published):
    snap, _ = published
    snap["units"][0]["name"] = "=HYPERLINK(1)"
    rows = list(csv.reader(io.StringIO(publication.notice_csv(snap, Translator("en")).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Rank", "Unit", "Unit type"] and rows[0][5:8] == [
        "Organisation and management", "Operation and use", "Sharing services"]
    assert rows[1][1] == "'=HYPERLINK(1)" and rows[1][3] == "Alxa Left Banner" and rows[1][-2] == "Poor"


def test_notice_html_escapes_names_ranks_in_order_and_has_the_methods_annex(published):
    snap, _ = published
    page = publication.notice_html(snap, Translator("zh"))
    assert "阿拉善盟大型科研仪器开放共享绩效评价结果公示" in page and "2025" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;检测中心" in page
    assert page.index("甲研究院") < page.index("&lt;script&gt;") < page.index("丙站") < page.index("丁所")
    annex = page[page.index("附件：评价方法说明"):]
    for ind in default_scheme().indicators:
        assert Translator("zh")(f"eval.ind.{ind.id}.name") in annex
    assert "通用 1400 小时/年" in annex  # formula texts are filled with the policy numbers
    assert "目标值法：下限 0 计 0 分，上限 400 计 100 分" in annex  # external hours goalposts
    assert "90 分及以上为“优秀”" in annex and snap["fingerprint"] in annex and snap["data_fingerprint"] in annex
    assert "<td>较差</td><td class=\"num\">3</td>" in page  # A, B (scores below 60) and D
    # Self-contained: no scripts, style sheets, images or links to fetch.
    assert not any(tag in page for tag in ("<link", "<img", "src=", "http://", "https://"))
    # Prints on A4 with the table header repeated on each page.
    assert "@page{size:A4" in page and "thead{display:table-header-group}" in page


def test_notice_html_in_english(published):
    snap, _ = published
    page = publication.notice_html(snap, Translator("en"))
    assert '<html lang="en">' in page and "Annex: evaluation method" in page
    for ind in default_scheme().indicators:
        assert Translator("en")(f"eval.ind.{ind.id}.name") in page
    assert "Fewer than 2 instruments under evaluation" in page
