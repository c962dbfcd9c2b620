"""The purchase-review page, driven through the whole app with AppTest: a request walked from
entry to a recorded (and then superseded) decision, with the evidence the check shows.

The store (usage 2023–2025, every month reported):
- 甲研究院 (applicant, 阿拉善左旗): GC-A 气相色谱仪 (010502, same middle class, another name),
  30 h a month.
- 乙检测中心 (阿拉善右旗, at its seat 39.2116 N 101.6720 E): HPLC-B 高效液相色谱仪 (010501,
  外部共享) 30 h a month = 360 h a year < 800 h (idle and sharable → reject); LC-B 液相色谱仪
  (010501, 外部共享) 110 h a month = 1320 h ≥ 1200 h (saturated).

The request: 液相色谱仪, class 010501, 420,000 CNY (desk check, 5万–50万).
Hand-worked: name similarity of 液相色谱仪 with 高效液相色谱仪 0.8875 (dupcheck docstring), with
液相色谱仪 1; spare capacity HPLC-B 1200 − 360 = 840 h, LC-B 0 h; distance from the seat of
阿拉善左旗 (38.8334 N, 105.6663 E) to 乙检测中心: Δφ 0.3782°, Δλ 3.9943° at cos 39.02° = 0.7767 →
√(42.05² + 344.97²) ≈ 347.6 km.
"""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session, select

from dashboard import quality
from models import tables as T
from models.db import make_engine
from tests.apptest_utils import open_app, wkey
from tests.factories import add_instrument, add_unit, add_usage, filled_store

PAGE = "pages/purchases.py"


def _fill(eng) -> dict:
    a = add_unit(eng, "甲研究院", name_en="Institute A", region_code="152921", lat=38.8334, lon=105.6663)
    b = add_unit(eng, "乙检测中心", name_en="Testing Centre B", region_code="152922", lat=39.2116, lon=101.6720)
    gc = add_instrument(eng, a, "GC-A", "气相色谱仪", class_code="010502")
    hplc = add_instrument(eng, b, "HPLC-B", "高效液相色谱仪", class_code="010501", region_code="152922",
                          model="1260 Infinity II")
    lc = add_instrument(eng, b, "LC-B", "液相色谱仪", class_code="010501", region_code="152922")
    for year in (2023, 2024, 2025):
        add_usage(eng, gc, year, [30.0] * 12)
        add_usage(eng, hplc, year, [30.0] * 12)
        add_usage(eng, lc, year, [110.0] * 12)
    return {"a": a, "b": b}


def _count(db_url, model) -> int:
    eng = make_engine(db_url)
    try:
        with Session(eng) as s:
            return len(s.exec(select(model)).all())
    finally:
        eng.dispose()


def _rows(db_url, model) -> list:
    eng = make_engine(db_url)
    try:
        with Session(eng) as s:
            return [r.model_dump() for r in s.exec(select(model).order_by(model.id)).all()]
    finally:
        eng.dispose()


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    parts += [s.value for s in at.success] + [i.value for i in at.info] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def errors(at) -> str:
    return "\n".join(e.value for e in at.error)


def frame_with(at, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def fill_form(at, applicant: int, **kw) -> None:
    at.selectbox(key="pr_new_applicant").set_value(applicant)
    at.text_input(key="pr_new_instrument_name").input(kw.get("name", "液相色谱仪"))
    at.selectbox(key="pr_new_class_code").set_value("0105")
    at.text_input(key="pr_new_subclass").input("01")
    at.number_input(key="pr_new_quoted_price").set_value(kw.get("price", 420_000.0))
    at.selectbox(key="pr_new_funding").set_value("地方财政资金")
    at.text_area(key="pr_new_justification").input("食品抽检任务增加，现有设备不足。")


def submit_new(at) -> None:
    next(b for b in at.button if b.label == "提交申请").click()
    at.run()


def test_request_from_entry_to_a_superseded_decision(db_url, monkeypatch):
    ids = filled_store(db_url, _fill)
    at = open_app(monkeypatch, db_url, PAGE)
    assert at.title[0].value == "购置查重评议"
    assert "尚无购置申请" in texts(at)

    # 1. Entry: the required fields left blank are named and nothing is stored; what was typed stays.
    at.text_input(key="pr_new_instrument_name").input("液相色谱仪")
    submit_new(at)
    for field in ("申请单位：必填", "分类代码：必填", "报价（元）：必填", "资金来源：必填", "购置理由：必填"):
        assert field in errors(at)
    assert "仪器名称" not in errors(at)
    assert _count(db_url, T.PurchaseRequest) == 0
    assert at.text_input(key="pr_new_instrument_name").value == "液相色谱仪"

    fill_form(at, ids["a"])
    submit_new(at)
    year = quality.local_today().year
    number = f"ALS-CG-{year}-0001"
    assert f"申请 {number} 已保存" in at.success[0].value
    stored = _rows(db_url, T.PurchaseRequest)
    assert len(stored) == 1 and stored[0]["request_no"] == number and stored[0]["status"] == "submitted"
    assert stored[0]["class_code"] == "010501" and stored[0]["quoted_price"] == 420_000.0
    assert stored[0]["region_code"] == "152921"  # the applicant's banner by default
    assert at.text_input(key="pr_new_instrument_name").value == ""  # the form is emptied after a save

    # 2. The request is listed and selected; a decision needs a check first.
    listed = frame_with(at, "申请编号")
    assert list(listed["申请编号"]) == [number]
    assert list(listed["评议层级"]) == ["书面审查"] and list(listed["状态"]) == ["已提交"]
    assert "请先运行查重" in texts(at)
    assert not [b for b in at.button if b.label.startswith("记录结论")]

    # 3. Duplicate check: the two liquid chromatographs match, the gas chromatograph does not.
    next(b for b in at.button if b.label == "运行查重").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "查重完成：发现相似仪器 2 台，建议结论“不予通过”" in at.success[0].value
    matches = frame_with(at, "相似度")
    assert list(matches["仪器名称"]) == ["液相色谱仪", "高效液相色谱仪"]
    assert list(matches["所属单位"]) == ["乙检测中心", "乙检测中心"]
    assert list(matches["年均有效机时"]) == [1320.0, 360.0]
    assert list(matches["距饱和线余量（小时）"]) == [0.0, 840.0]
    assert list(matches["负荷"]) == ["饱和", "低效"]
    assert list(matches["距离"]) == [347.6, 347.6]
    assert list(matches["共享方式"]) == ["外部共享", "外部共享"]
    evidence = frame_with(at, "证据")
    row = evidence[evidence["规则 / 提示"] == "已有对外共享的同类仪器使用不足（低于低效线）"].iloc[0]
    assert row["指向结论"] == "不予通过" and row["涉及仪器"] == "高效液相色谱仪"
    assert row["证据"] == "年均有效机时 360 小时 < 低效线 800 小时"
    # 甲研究院 never reported its 2025 usage: the default sanction rules restrict its purchases.
    assert "建议结论：不予通过（依据：申请单位处于限制购置期、已有对外共享的同类仪器使用不足（低于低效线））" in errors(at)
    assert "申请单位处于限制购置期" in list(evidence["规则 / 提示"])
    assert _rows(db_url, T.PurchaseRequest)[0]["status"] == "checked"
    assert _count(db_url, T.DuplicateCheck) == 1

    # 4. Decision: reasons and reviewers are required; nothing is recorded until they are given.
    rid = stored[0]["id"]
    assert at.radio(key=wkey(at, f"pr_verdict_{rid}")).value == "reject"  # the suggestion preselected
    record = lambda: next(b for b in at.button if b.label.startswith("记录结论")).click()  # noqa: E731
    record()
    at.run()
    assert "评议理由：必填" in errors(at) and "评议人员：必填" in errors(at)
    assert _count(db_url, T.ReviewDecision) == 0
    at.text_area(key=f"pr_reasons_{rid}").input("同类对外共享仪器年均仅 360 小时，可共享满足需求。")
    at.text_input(key=f"pr_reviewers_{rid}").input("书面审查组（3人）")
    record()
    at.run()
    assert "已记录评议结论 #" in at.success[0].value and "不予通过" in at.success[0].value
    first = _rows(db_url, T.ReviewDecision)
    assert len(first) == 1 and first[0]["verdict"] == "不予通过" and first[0]["supersedes_id"] is None
    history = frame_with(at, "结论编号")
    assert list(history["结论"]) == ["不予通过"] and list(history["效力"]) == ["现行有效"]
    assert at.text_area(key=f"pr_reasons_{rid}").value == ""  # recorded, so the form starts empty
    assert list(frame_with(at, "申请编号")["现行结论"]) == ["不予通过"]

    # 5. A new decision supersedes: 调整 needs its conditions.
    assert "新记录的结论将取代现行结论" in texts(at)
    at.radio(key=wkey(at, f"pr_verdict_{rid}")).set_value("adjust")
    at.text_area(key=f"pr_reasons_{rid}").input("复议：检测任务量经核实确有增加。")
    at.text_input(key=f"pr_reviewers_{rid}").input("专家评议组（5人）")
    record()
    at.run()
    assert "附加条件：结论为“调整”时须写明附加条件" in errors(at) and _count(db_url, T.ReviewDecision) == 1
    at.text_area(key=f"pr_conditions_{rid}").input("与乙检测中心签订共享协议；购置较小配置。")
    record()
    at.run()
    decisions = _rows(db_url, T.ReviewDecision)
    assert [d["verdict"] for d in decisions] == ["不予通过", "调整"]
    assert decisions[1]["supersedes_id"] == decisions[0]["id"]
    assert decisions[0] == first[0]  # the first decision is unchanged
    history = frame_with(at, "结论编号")
    assert list(history["效力"]) == [f"已被 #{decisions[1]['id']} 取代", "现行有效"]

    # 6. Statistics: one request, decided, approved with conditions at its quoted price.
    total = frame_with(at, "批准金额（万元）").iloc[-1]
    assert total["申请年份"] == "合计" and total["申请数"] == 1 and total["已评议"] == 1
    assert total["调整"] == 1 and total["不予通过"] == 0
    assert total["批准金额（万元）"] == 42.0 and total["避免重复购置金额（万元）"] == 0.0
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["批准金额（万元）"] == "42万元"


def test_opinion_download_holds_the_evidence_and_the_decision(db_url, monkeypatch):
    ids = filled_store(db_url, _fill)
    at = open_app(monkeypatch, db_url, PAGE)
    fill_form(at, ids["a"])
    submit_new(at)
    next(b for b in at.button if b.label == "运行查重").click()
    at.run()
    rid = _rows(db_url, T.PurchaseRequest)[0]["id"]
    at.text_area(key=f"pr_reasons_{rid}").input("可共享满足需求。")
    at.text_input(key=f"pr_reviewers_{rid}").input("书面审查组（3人）")
    next(b for b in at.button if b.label.startswith("记录结论")).click()
    at.run()
    button = next(e for e in at.get("download_button") if "评议意见书" in e.proto.label)
    assert button.proto.label == "下载评议意见书（可打印）"
    # The opinion is rendered from the same stored rows the page shows.
    from dashboard.i18n import Translator
    from dashboard.purchases import latest_check
    from dashboard.review_opinion import render_opinion
    from models import queries

    eng = make_engine(db_url)
    try:
        request = queries.purchase_requests(eng).iloc[0].to_dict()
        check = latest_check(queries.duplicate_checks(eng), rid)
        decisions = queries.review_decisions(eng).to_dict("records")
    finally:
        eng.dispose()
    page = render_opinion(request, check, decisions, Translator("zh"), demo=False)
    for text in ("液相色谱仪", "高效液相色谱仪", "乙检测中心", "不予通过", "可共享满足需求。", "书面审查组（3人）", "347.6"):
        assert text in page


def test_english_page_and_statistics_of_an_empty_register(db_url, monkeypatch):
    filled_store(db_url, _fill)
    at = open_app(monkeypatch, db_url, PAGE, lang="en")
    assert at.title[0].value == "Purchase review"
    assert [t.label for t in at.tabs] == ["Requests and review", "New request", "Import", "Statistics"]
    assert "No purchase requests yet" in texts(at)
    assert at.selectbox(key="pr_new_funding").options == [
        "Central government funds", "Local government funds", "Unit's own funds", "Other funds"]
    reference = next(t.value for t in at.table if "Column" in t.value.columns)
    assert list(reference["Key"])[:3] == ["request_no", "applicant", "instrument_name"]
    assert reference.set_index("Key").loc["quoted_price", "Required"] == "yes"


def page_with_two_requests(db_url, monkeypatch):
    """The page after entering two requests of unit a (液相色谱仪 420,000 and 气相色谱仪 1.5 million)."""
    ids = filled_store(db_url, _fill)
    at = open_app(monkeypatch, db_url, PAGE)
    fill_form(at, ids["a"])
    submit_new(at)
    fill_form(at, ids["a"], name="气相色谱仪", price=1_500_000.0)
    submit_new(at)
    return at


def test_the_chosen_request_survives_a_language_switch(db_url, monkeypatch):
    """The picker is keyed per language (its option texts are translated), so after a switch the
    browser shows the English label of the same request, not the stale Chinese one."""
    at = page_with_two_requests(db_url, monkeypatch)
    first = _rows(db_url, T.PurchaseRequest)[0]["id"]
    at.selectbox(key=wkey(at, "pr_selected")).set_value(first).run()
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception
    picker = at.selectbox(key=wkey(at, "pr_selected"))
    assert wkey(at, "pr_selected").endswith("@en") and picker.value == first


def test_filter_and_rule_settings(db_url, monkeypatch):
    at = page_with_two_requests(db_url, monkeypatch)
    listed = frame_with(at, "申请编号")
    assert list(listed["评议层级"]) == ["书面审查", "专家评议"]
    # A stricter saturation line (1400 h) makes LC-B (1320 h) a normal-load match.
    at.number_input(key=wkey(at, "pr_sat")).set_value(1400.0)
    at.selectbox(key=wkey(at, "pr_selected")).set_value(_rows(db_url, T.PurchaseRequest)[0]["id"])
    at.run()
    next(b for b in at.button if b.label == "运行查重").click()
    at.run()
    matches = frame_with(at, "相似度")
    assert list(matches["负荷"]) == ["正常", "低效"]
    assert list(matches["距饱和线余量（小时）"]) == [80.0, 1040.0]
    at.segmented_control(key=wkey(at, "pr_status")).set_value("checked")
    at.run()
    assert list(frame_with(at, "申请编号")["拟购仪器"]) == ["液相色谱仪"]
    # Tier edges that do not rise are refused and the defaults stay in force.
    at.number_input(key=wkey(at, "pr_edge0")).set_value(60.0)  # above the 50万 expert-panel edge
    at.run()
    assert any("规则无效" in e.value for e in at.error)
