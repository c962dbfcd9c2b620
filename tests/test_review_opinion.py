"""The printable review opinion (dashboard/review_opinion.py) of a hand-made request, check and
decisions, in both languages: what it says, in which order, escaped, and with nothing fetched.

Hand-worked figures:
- quoted price 1,960,000 CNY → 196万元 (exact 1,960,000元) / CNY 1.96 million; tier expert panel
  (500,000 ≤ price < 2,000,000) and just under the 2,000,000 edge (≥ 0.95 × 2,000,000).
- match rank 1 (id 11): 400 h a year < low-use line 800 h → idle_sharable; spare 1,200 − 400 = 800 h.
- match rank 2 (id 12): 1,000 h a year, between 800 and 1,200 → normal_load; spare 200 h; counted
  over 2 of the 3 years (commissioned in 2024).
- 12 matches → 10 rows and "2 more".
- generated 2026-03-01 02:00 UTC → 10:00 in Beijing; checked 2026-02-15 06:30 UTC → 14:30.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from dashboard import dupcheck as D
from dashboard import purchases as P
from dashboard.i18n import Translator
from dashboard.review_opinion import decision_in_force, render_opinion
from tests.test_dupcheck import lc, registry

ZH, EN = Translator("zh"), Translator("en")
AT = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing
EVIL = "<script>alert(1)</script>"


def text_of(page: str) -> str:
    """The visible text: tags removed, entities decoded, white space collapsed."""
    body = page.split("<body>", 1)[1]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def section(page: str, heading: str) -> str:
    """The visible text of the <section> whose <h2> is `heading`."""
    for part in page.split("<section>")[1:]:
        if f"<h2>{html.escape(heading)}</h2>" in part:
            return text_of("<body>" + part.split("</section>")[0])
    raise AssertionError(f"no section {heading!r}")


def request(**kw) -> dict:
    return {
        "id": 7, "request_no": "ALS-CG-2026-0007", "applicant_unit_id": 3,
        "applicant_name": "阿拉善盟环境监测站", "applicant_name_en": "Alxa League Environmental Monitoring Station",
        "instrument_name": "液相色谱仪", "class_code": "010501", "model": "LC-2030", "manufacturer": "岛津",
        "key_specs": "流速 0.001–10 mL/min\n耐压 44 MPa", "quoted_price": 1_960_000.0,
        "quotes": "三家询价：196万、203万、210万", "funding": "地方财政资金",
        "justification": "水质有机污染物监测任务增加", "expected_annual_hours": 900.0, "region_code": "152921",
        "region_name_zh": "阿拉善左旗", "region_name_en": "Alxa Left Banner",
        "submitted_date": pd.Timestamp("2026-02-10"), "status": "decided",
    } | kw


def match(rank: int, instrument_id: int, name: str, **kw) -> dict:
    base = {
        "rank": rank, "instrument_id": instrument_id, "inner_id": f"I-{instrument_id}", "name_zh": name,
        "model": f"M-{instrument_id}", "manufacturer": "", "class_code": "010501", "unit_id": 100 + rank,
        "unit_name": f"单位{rank}", "unit_name_en": f"Unit {rank}", "region_code": "152922",
        "region_name_zh": "阿拉善右旗", "region_name_en": "Alxa Right Banner", "share_mode": "外部共享",
        "status": "正常", "purpose": "通用", "original_value": 600_000.0, "name_similarity": 0.5,
        "class_relation": "same_class", "class_score": 1.0, "model_match": False, "maker_match": False,
        "specs_similarity": 0.0, "score": 0.5 - rank / 100, "reasons": ["same_class"], "years_counted": 3,
        "avg_hours": 1300.0, "rated_hours": 1400.0, "spare_hours": 0.0, "load": "saturated", "in_service": True,
        "sharable": True, "distance_km": 100.0 + rank,
    }
    return base | kw


def check(**kw) -> dict:
    first = match(1, 11, "高效液相色谱仪", unit_name="阿拉善盟疾控中心", unit_name_en="Alxa League CDC",
                  region_name_zh="阿拉善左旗", region_name_en="Alxa Left Banner", model="1260 Infinity II",
                  score=0.6881, name_similarity=0.8875, reasons=["name", "same_class"], avg_hours=400.0,
                  spare_hours=800.0, load="idle", distance_km=3.2)
    second = match(2, 12, "超高效液相色谱仪", unit_name="内蒙古阿拉善经济开发区检测中心", unit_name_en="",
                   share_mode="内部共享", score=0.6512, reasons=["name", "model"], avg_hours=1000.0,
                   spare_hours=200.0, load="normal", years_counted=2, distance_km=212.46, sharable=False)
    others = [match(r, 10 + r, f"液相色谱仪{r}号") for r in range(3, 13)]
    others[-1]["distance_km"] = None  # rank 12: not shown anyway
    others[0]["distance_km"] = None   # rank 3: no coordinates
    base = {
        "request": {"name": "液相色谱仪", "model": "LC-2030", "class_code": "010501", "price_cny": 1_960_000.0,
                    "unit_id": 3, "date": "2026-02-15"},
        "tier": "expert_panel", "verdict": "reject", "rules": ["idle_sharable", "normal_load"],
        "flags": ["near_threshold"], "years": [2023, 2024, 2025],
        "matches": [second, first] + others,  # stored out of rank order on purpose
        "evidence": [
            {"kind": "rule", "id": "idle_sharable", "instrument_id": 11, "unit_id": 101, "value": 400.0, "line": 800.0},
            {"kind": "rule", "id": "normal_load", "instrument_id": 12, "unit_id": 102, "value": 1000.0, "line": 1200.0},
            {"kind": "flag", "id": "near_threshold", "instrument_id": None, "unit_id": 3, "value": 1_960_000.0,
             "line": 2_000_000.0},
        ],
        "review_rules": {"tier_edges_cny": [50_000, 500_000, 2_000_000], "low_use_hours": 800.0,
                         "saturation_hours": 1200.0, "history_years": 3},
        "checked_at": "2026-02-15T06:30:00+00:00", "checked_by": "王审核",
    }
    return base | kw


def decisions() -> list[dict]:
    first = {"id": 5, "request_id": 7, "verdict": "调整", "reasons": "可先使用疾控中心的仪器", "conditions": "先行签订共享协议",
             "reviewers": "张三、李四", "decided_date": date(2026, 2, 20), "supersedes_id": None,
             "created_at": datetime(2026, 2, 20, 1, 0, tzinfo=timezone.utc)}
    second = {"id": 9, "request_id": 7, "verdict": "不予通过", "reasons": "同类外部共享仪器年均仅 400 小时", "conditions": "",
              "reviewers": "张三、李四、王五", "decided_date": date(2026, 2, 27), "supersedes_id": 5,
              "created_at": datetime(2026, 2, 27, 8, 15)}  # naive from the store = UTC → 16:15 Beijing
    return [first, second]


# --------------------------------------------------------------------------- Chinese


def test_page_is_self_contained_a4_html():
    page = render_opinion(request(), check(), decisions(), ZH, demo=False, generated_at=AT)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    assert "@page { size: A4" in page and "@media print" in page
    low = page.lower()
    assert "<script" not in low and "http" not in low and "<img" not in low and "<a " not in low
    assert "src=" not in low and "href=" not in low and "url(" not in low


def test_header_title_request_number_and_beijing_time():
    text = text_of(render_opinion(request(), check(), decisions(), ZH, demo=False, generated_at=AT))
    assert "阿拉善盟大型科研仪器购置查重评议意见书" in text
    assert "申请编号：ALS-CG-2026-0007 · 生成时间：2026-03-01 10:00（北京时间）" in text
    assert "演示数据" not in text and "草稿" not in text


def test_request_section_lists_every_field():
    page = render_opinion(request(), check(), decisions(), ZH, demo=False, generated_at=AT)
    text = section(page, "一、申请概况")
    for expected in ("申请编号 ALS-CG-2026-0007", "申请单位 阿拉善盟环境监测站", "拟购仪器名称 液相色谱仪",
                     "仪器分类代码 010501", "规格型号 LC-2030", "生产厂商 岛津", "流速 0.001–10 mL/min 耐压 44 MPa",
                     "报价 196万元（1,960,000元）", "询价情况 三家询价：196万、203万、210万", "资金来源 地方财政资金",
                     "购置理由 水质有机污染物监测任务增加", "预计年使用机时 900 小时", "放置地点 阿拉善左旗",
                     "申请日期 2026-02-10", "评议层级 专家评议（50万–200万元）", "办理状态 已评议"):
        assert expected in text, expected
    # multi-line specifications keep their line break when printed
    assert 'class="text">流速 0.001–10 mL/min\n耐压 44 MPa</td>' in page


def test_duplicate_check_section_trace_and_suggested_verdict():
    page = render_opinion(request(), check(), decisions(), ZH, demo=False, generated_at=AT)
    text = section(page, "二、查重结果")
    assert "查重时间：2026-02-15 14:30（北京时间）；查重人：王审核" in text
    assert "有效机时统计年度：2023–2025" in text
    assert "评议分级门槛 5万元 / 50万元 / 200万元；低效线 800 小时；饱和线 1,200 小时；统计最近 3 个有数据年度" in text
    assert "查重建议结论： 不予通过" in text
    # rule trace: label, the verdict each rule suggests, the instrument and its numbers vs the line
    assert "已有对外共享的同类仪器使用不足（低于低效线）（建议：不予通过）" in text
    assert "高效液相色谱仪（阿拉善盟疾控中心，表中第 1 项）：年均有效机时 400 小时，低于低效线 800 小时" in text
    assert "已有同类仪器负荷介于低效线与饱和线之间（建议：调整）" in text
    assert ("超高效液相色谱仪（内蒙古阿拉善经济开发区检测中心，表中第 2 项）：年均有效机时 1,000 小时，"
            "达到低效线但低于饱和线 1,200 小时") in text
    assert "提示：报价略低于评议分级门槛" in text
    assert "报价 196万元（1,960,000元），略低于200万元（2,000,000元）的评议分级门槛" in text
    # the trace follows the rules order, flags last
    assert text.index("400 小时，低于低效线") < text.index("1,000 小时，达到") < text.index("提示：")


def _match_rows(page: str) -> list[list[str]]:
    table = page.split('<table class="matches">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in body.split("</tr>") if "<td" in row]


def test_similar_instruments_table_in_rank_order_with_distances():
    page = render_opinion(request(), check(), decisions(), ZH, demo=False, generated_at=AT)
    rows = _match_rows(page)
    assert len(rows) == 10
    assert [r[0] for r in rows] == [str(i) for i in range(1, 11)]
    assert rows[0] == ["1", "高效液相色谱仪", "1260 Infinity II", "阿拉善盟疾控中心", "阿拉善左旗", "3.2", "外部共享", "正常",
                       "400 小时", "800 小时", "低效", "0.69", "名称相似、同一小类"]
    assert rows[1] == ["2", "超高效液相色谱仪", "M-12", "内蒙古阿拉善经济开发区检测中心", "阿拉善右旗", "212.5", "内部共享",
                       "正常", "1,000 小时（2 个年度）", "200 小时", "正常", "0.65", "名称相似、型号相同"]
    assert rows[2][5] == "—"  # no distance
    assert rows[3][5] == "104.0" and rows[3][10] == "饱和"
    text = section(page, "二、查重结果")
    assert "相似在册仪器（共 12 台）" in text
    assert "另有 2 台相似仪器未列出（表中按相似度列前 10 台）" in text
    assert "液相色谱仪11号" not in text and "液相色谱仪12号" not in text


def test_decision_in_force_and_superseded_history():
    page = render_opinion(request(), check(), decisions(), ZH, demo=False, generated_at=AT)
    text = section(page, "三、评议结论")
    in_force = text.split("历史决定（已被取代）")[0]
    history = text.split("历史决定（已被取代）")[1]
    assert "现行评议结论" in in_force
    assert "评议结论 不予通过" in in_force and "决定编号 第 9 号" in in_force
    assert "理由 同类外部共享仪器年均仅 400 小时" in in_force and "条件 无" in in_force
    assert "评议专家 张三、李四、王五" in in_force and "评议日期 2026-02-27" in in_force
    assert "录入时间 2026-02-27 16:15（北京时间）" in in_force and "取代 取代第 5 号决定" in in_force
    assert "可先使用疾控中心的仪器" not in in_force
    assert "第 5 号 调整 2026-02-20 张三、李四 可先使用疾控中心的仪器 先行签订共享协议 已被第 9 号决定取代" in history
    assert 'data-in-force="9"' in page
    # the decision agrees with the suggestion: no "differs" notice
    assert "不同" not in text


def test_decision_in_force_follows_the_chain_not_the_list_order():
    ds = decisions()
    assert decision_in_force(ds)["id"] == 9
    assert decision_in_force(list(reversed(ds)))["id"] == 9
    assert decision_in_force([]) is None


def test_decision_differing_from_the_suggestion_is_pointed_out():
    ds = decisions()[:1]  # only the 调整 decision
    text = section(render_opinion(request(), check(), ds, ZH, demo=False, generated_at=AT), "三、评议结论")
    assert "评议结论 调整" in text and "条件 先行签订共享协议" in text
    assert "评议结论与查重建议结论（不予通过）不同" in text
    assert "历史决定" not in text


def test_signature_block():
    text = text_of(render_opinion(request(), check(), decisions(), ZH, demo=False, generated_at=AT))
    assert "评议组组长（签字）：" in text and "日期：" in text and "（盖章）" in text


def test_draft_notice_when_no_decision():
    page = render_opinion(request(status="checked"), check(), [], ZH, demo=False, generated_at=AT)
    text = text_of(page)
    assert text.count("草稿：尚未记录评议结论，本意见书不具效力。") == 2  # header and decision section
    assert "办理状态 已查重，待评议" in text
    assert "现行评议结论" not in text and 'data-draft="1"' in page


def test_no_check_notice_and_tier_from_the_price():
    page = render_opinion(request(status="submitted", quoted_price=450_000.0), None, [], ZH, demo=False,
                          generated_at=AT)
    text = section(page, "二、查重结果")
    assert "本申请尚无查重记录" in text
    assert "查重建议结论" not in text and 'class="matches"' not in page
    assert "评议层级 书面审查（5万–50万元）" in section(page, "一、申请概况")
    assert "报价 45万元（450,000元）" in section(page, "一、申请概况")


def test_check_without_matches():
    empty = check(matches=[], rules=["no_similar"], flags=[], verdict="pass",
                  evidence=[{"kind": "rule", "id": "no_similar", "instrument_id": None, "unit_id": None,
                             "value": 0.0, "line": 0.0}])
    text = section(render_opinion(request(), empty, [], ZH, demo=False, generated_at=AT), "二、查重结果")
    assert "查重建议结论： 通过" in text
    assert "无在用的同类仪器（建议：通过）" in text and "未发现相似的在册仪器" in text
    assert "相似在册仪器（共 0 台）" in text


def test_demo_notice_toggles():
    on = render_opinion(request(), check(), decisions(), ZH, demo=True, generated_at=AT)
    off = render_opinion(request(), check(), decisions(), ZH, demo=False, generated_at=AT)
    assert 'data-demo="1"' in on and "演示数据：" in text_of(on)
    assert 'data-demo="1"' not in off and "演示数据" not in text_of(off)
    assert "Demo data:" in text_of(render_opinion(request(), check(), [], EN, demo=True, generated_at=AT))


def test_store_and_user_text_is_escaped():
    req = request(applicant_name=EVIL, justification=EVIL, key_specs="a & b < c")
    chk = check(checked_by=EVIL)
    chk["matches"][1]["name_zh"] = EVIL  # rank 1
    ds = decisions()
    ds[1]["reasons"] = EVIL
    page = render_opinion(req, chk, ds, ZH, demo=True, generated_at=AT)
    assert "<script" not in page.lower() and "http" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &amp; b &lt; c" in page
    text = text_of(page)
    assert f"申请单位 {EVIL}" in text and f"查重人：{EVIL}" in text and f"{EVIL}（阿拉善盟疾控中心，表中第 1 项）" in text


# --------------------------------------------------------------------------- English


def test_english_labels_and_names():
    page = render_opinion(request(), check(), decisions(), EN, demo=False, generated_at=AT)
    assert '<html lang="en">' in page
    text = text_of(page)
    assert "Review opinion on a proposed purchase of a research instrument" in text
    assert "Request no.: ALS-CG-2026-0007 · Generated: 2026-03-01 10:00 (Beijing time)" in text
    req = section(page, "1. The request")
    for expected in ("Applicant Alxa League Environmental Monitoring Station", "Quoted price CNY 1.96 million (CNY 1,960,000)",
                     "Funding Local government funds", "Expected annual hours 900 h", "Location Alxa Left Banner",
                     "Review tier expert panel (CNY 0.5–2 million)", "Status decided"):
        assert expected in req, expected
    chk = section(page, "2. Duplicate check")
    assert "Checked at: 2026-02-15 14:30 (Beijing time); by: 王审核" in chk
    assert "Suggested verdict: reject" in chk
    assert "高效液相色谱仪 (Alxa League CDC, row 1 of the table): averages 400 h, below the low-use line of 800 h" in chk
    # no English name for the holder of rank 2: the Chinese one
    assert "超高效液相色谱仪 (内蒙古阿拉善经济开发区检测中心, row 2 of the table)" in chk
    assert "price CNY 1.96 million (CNY 1,960,000), just under the review threshold of CNY 2 million (CNY 2,000,000)" in chk
    rows = _match_rows(page)
    assert rows[0] == ["1", "高效液相色谱仪", "1260 Infinity II", "Alxa League CDC", "Alxa Left Banner", "3.2",
                       "Open to outside users", "Normal", "400 h", "800 h", "idle", "0.69", "similar name, same class"]
    assert rows[1][4] == "Alxa Right Banner" and rows[1][6] == "Shared internally" and rows[1][8] == "1,000 h (2 yr)"
    dec = section(page, "3. Review decision")
    assert "Verdict reject" in dec and "Decision no. No. 9" in dec
    assert "No. 5 adjust 2026-02-20" in dec and "superseded by decision No. 9" in dec
    assert "Head of the review group (signature):" in text and "(Seal)" in text
    for label in ("申请单位", "查重建议结论", "评议组组长", "北京时间", "评议结论", "万元"):
        assert label not in text, label


def test_english_falls_back_to_the_region_code_without_names():
    req = request(region_name_en=None)
    del req["region_name_zh"]
    text = section(render_opinion(req, None, [], EN, demo=False, generated_at=AT), "1. The request")
    assert "Location 152921" in text
    assert "No duplicate check is on record" in text_of(render_opinion(req, None, [], EN, demo=False, generated_at=AT))
    assert "Draft: no decision recorded yet." in text_of(render_opinion(req, None, [], EN, demo=False, generated_at=AT))


# --------------------------------------------------------------------------- a real snapshot


def test_renders_a_snapshot_made_by_the_duplicate_check():
    """The stored form (check_snapshot → JSON → dict) of a real duplicate check prints."""
    inst, usage = registry()
    req = lc()
    rec = D.recommend(req, inst, usage)
    snap = P.check_snapshot(req, rec, pd.Series([3.0, None, 12.5][:len(rec.matches)], index=rec.matches.index))
    snap = json.loads(json.dumps(snap)) | {"checked_at": "2026-03-01T00:00:00+00:00", "checked_by": "系统"}
    page = render_opinion(request(instrument_name="液相色谱仪", quoted_price=400_000.0, status="checked"), snap, [], ZH,
                          demo=False, generated_at=AT)
    text = section(page, "二、查重结果")
    assert "查重建议结论： 不予通过" in text
    # rank 1 is the out-of-service 液相色谱仪 (id 9, exact name): no rule; instrument 1 (单位1, rank 2):
    # 300/400/500 h → 400 h < 800 h; instrument 2 (单位2, rank 3): 900/1000/1100 → 1,000 h
    assert "液相色谱仪（单位0，表中第 1 项）" not in text
    assert "高效液相色谱仪（单位1，表中第 2 项）：年均有效机时 400 小时，低于低效线 800 小时" in text
    assert "年均有效机时 1,000 小时，达到低效线但低于饱和线 1,200 小时" in text
    rows = _match_rows(page)
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(rec.matches) + 1)]
    assert rows[0][:2] == ["1", "液相色谱仪"] and rows[0][7] == "待报废"
    assert [r[5] for r in rows] == ["3.0", "—", "12.5"]
