"""The incentives & scenarios page, driven through the whole app with AppTest.

A small hand-made store (four units, two instruments each, 2025), built so that every figure the
tests check can be worked out by hand:

    unit        instrument 1 (外部共享)         instrument 2 (内部共享)   services of instrument 1
    甲研究院 A   120 h/month, 60 h external     80 h/month               甲企业 Jan 10,000 and Mar 30,000,
                                                                         乙企业 May 50,000 (local SMEs)
    乙检测中心 B  90 h/month, 30 h external     60 h/month               丙企业 Feb 8,000 (outside the league)
    丙医院 C      50 h/month, 10 h external     30 h/month               某医院 Jun 2,000 (health care)
    丁观测站 D    70 h/month, no external       40 h/month               none → "nominally open, actually closed"

Every unit reports its monthly usage on time, so no reporting rule fires. The evaluation ranks
A > B > D > C (scores about 67.8, 46.9, 35.6, 27.9); the tests read the scores the page shows and
work the allocation out from them: with basis "score" and no cap, reward = pool × score / Σ scores
of the eligible units.

Vouchers under the default policy (50 % of the fee, at most 20,000 per application, 100,000 per
firm and year, local SMEs only, external users only, pool 100万): A's three services give
5,000 + 15,000 + min(25,000, 20,000) = 40,000 = 4万元; the holder's post-subsidy is 20 % = 8,000.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pandas as pd
import pytest
import streamlit.testing.v1.app_test as app_test_module
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from models import tables as T
from models.db import init_store, make_engine
from tests.apptest_utils import ENTRY, ROOT, _NavigationPagesManager, open_app, wkey
from tests.factories import add_instrument, add_service, add_unit, add_usage

PAGE = "pages/incentives.py"
YEAR = 2025
UTC = timezone.utc

UNITS = {  # key: (zh name, en name, instrument-1 h/month, of which external, instrument-2 h/month)
    "A": ("甲研究院", "Institute A", 120.0, 60.0, 80.0),
    "B": ("乙检测中心", "Testing Centre B", 90.0, 30.0, 60.0),
    "C": ("丙医院", "Hospital C", 50.0, 10.0, 30.0),
    "D": ("丁观测站", "Station D", 70.0, 0.0, 40.0),
}


def build_store(engine) -> dict[str, int]:
    ids: dict[str, int] = {}
    for key, (name, name_en, h1, x1, h2) in UNITS.items():
        unit = add_unit(engine, name, name_en=name_en)
        first = add_instrument(engine, unit, f"{key}1", f"{key}1号仪器")
        second = add_instrument(engine, unit, f"{key}2", f"{key}2号仪器", share_mode="内部共享")
        add_usage(engine, first, YEAR, [h1] * 12, [x1] * 12)
        add_usage(engine, second, YEAR, [h2] * 12)
        ids[key], ids[f"{key}1"] = unit, first
    sme = {"user_type": "外部用户", "client_kind": "本地中小企业"}
    add_service(engine, ids["A1"], datetime(YEAR, 1, 8, 9), "甲企业", 10_000.0, **sme)
    add_service(engine, ids["A1"], datetime(YEAR, 3, 9, 9), "甲企业", 30_000.0, **sme)
    add_service(engine, ids["A1"], datetime(YEAR, 5, 12, 9), "乙企业", 50_000.0, **sme)
    add_service(engine, ids["B1"], datetime(YEAR, 2, 10, 9), "丙企业", 8_000.0, user_type="外部用户",
                client_kind="盟外企业")
    add_service(engine, ids["C1"], datetime(YEAR, 6, 10, 9), "某医院", 2_000.0, user_type="外部用户",
                client_kind="医疗卫生")
    with Session(engine) as s:
        for key in UNITS:
            for month in range(1, 13):
                due = date(YEAR + 1, 1, 10) if month == 12 else date(YEAR, month + 1, 10)
                s.add(T.Submission(unit_id=ids[key], kind="usage", year=YEAR, month=month, due_date=due,
                                   submitted_at=datetime(due.year, due.month, 1, 2, 0, tzinfo=UTC)))
        s.commit()
    return ids


@pytest.fixture
def store(db_url):
    eng = make_engine(db_url)
    init_store(eng)
    ids = build_store(eng)
    eng.dispose()
    return db_url, ids


# ------------------------------------------------------------------------------------ helpers
LABELS = {
    "zh": {"unit": "单位", "score": "得分", "grade": "等级", "reward": "奖补（万元）", "reason": "未获奖补原因",
           "capped": "达到上限", "rewarded": "获奖补单位", "paid": "已分配", "unspent": "未分配",
           "good": "良好", "pass": "合格", "poor": "较差", "excellent": "优秀", "yes": "是",
           "names": {k: v[0] for k, v in UNITS.items()}},
    "en": {"unit": "Unit", "score": "Score", "grade": "Grade", "reward": "Reward (CNY 10k)", "reason": "Why not eligible",
           "capped": "At cap", "rewarded": "Units rewarded", "paid": "Paid out", "unspent": "Unspent",
           "good": "Good", "pass": "Pass", "poor": "Poor", "excellent": "Excellent", "yes": "yes",
           "names": {k: v[1] for k, v in UNITS.items()}},
}
MONEY = {  # how the page writes an amount in CNY (dashboard.formatting.money)
    "zh": {0: "0元", 400_000: "40万元", 600_000: "60万元", 1_000_000: "100万元", 2_000_000: "200万元"},
    "en": {0: "CNY 0", 400_000: "CNY 400,000", 600_000: "CNY 600,000", 1_000_000: "CNY 1 million",
           2_000_000: "CNY 2 million"},
}
COUNT = {"zh": "{} 个", "en": "{}"}


def check(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def set_number(at: AppTest, name: str, value) -> AppTest:
    return check(at.number_input(key=wkey(at, name)).set_value(value).run())


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(el.value for el in list(at.dataframe) + list(at.table) if column in el.value.columns)


def has_frame_with(at: AppTest, column: str) -> bool:
    return any(column in el.value.columns for el in list(at.dataframe) + list(at.table))


def reward_table(at: AppTest, lang: str = "zh") -> pd.DataFrame:
    L = LABELS[lang]
    table = frame_with(at, L["reason"])
    keys = {name: key for key, name in L["names"].items()}
    return table.assign(key=table[L["unit"]].map(keys)).set_index("key")


def column(at: AppTest, name: str, lang: str = "zh") -> dict[str, object]:
    return reward_table(at, lang)[LABELS[lang][name]].to_dict()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [e.value for e in at.error] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def click(at: AppTest, label: str) -> AppTest:
    return check(next(b for b in at.button if b.label == label).click().run())


def open_page(monkeypatch, url: str, lang: str = "zh", query: dict | None = None) -> AppTest:
    """Like tests.apptest_utils.open_app, with URL query parameters (a shared link)."""
    if query is None:
        return open_app(monkeypatch, url, page=PAGE, lang=lang)
    monkeypatch.setattr(app_test_module, "PagesManager", _NavigationPagesManager)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(PAGE)
    at.query_params.update(query)
    return check(at.run())


def test_every_card_explains_its_figure(monkeypatch, store):
    """Every headline card carries its formula in the help (traceability of the numbers)."""
    url, _ = store
    at = open_page(monkeypatch, url, "zh")
    cards = [(m.label, m.help) for m in at.metric]
    assert len(cards) >= 10 and all(h for _, h in cards), [label for label, h in cards if not h]
    helps = dict(reversed(cards))  # the first card of a label (the headline one) wins
    assert helps["奖补已分配"].startswith("Σ 各单位分得的奖补")
    assert "收费 × 创新券比例" in helps["创新券支出"]
    assert "评为“良好”" in helps["良好"]


# ------------------------------------------------------------------------------------ rewards
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_grade_lines_and_pool_move_the_reward_table_and_totals(monkeypatch, store, lang):
    url, _ = store
    L, money, count = LABELS[lang], MONEY[lang], COUNT[lang]
    at = open_page(monkeypatch, url, lang)
    # Default lines 90 / 75 / 60: A (≈67.8) is 合格, the others 较差; only 优秀 / 良好 are eligible.
    assert set(column(at, "reward", lang).values()) == {0.0}
    m = metrics(at)
    assert m[L["rewarded"]] == count.format(0)
    assert m[L["paid"]] == money[0] and m[L["unspent"]] == money[2_000_000]

    # 良好 from 45 and 合格 from 30: A and B are 良好, D (≈35.6) 合格, C (≈27.9) 较差.
    set_number(at, "inc_band_2", 30.0)
    set_number(at, "inc_band_1", 45.0)
    grades = column(at, "grade", lang)
    assert grades == {"A": L["good"], "B": L["good"], "D": L["pass"], "C": L["poor"]}
    score, reward = column(at, "score", lang), column(at, "reward", lang)
    # The pool of 200万 shared in proportion to the scores: A + B = 200 exactly.
    assert reward["A"] + reward["B"] == pytest.approx(200.0, abs=1e-9)
    assert reward["A"] == pytest.approx(200 * score["A"] / (score["A"] + score["B"]), abs=0.01)
    assert reward["C"] == 0 and reward["D"] == 0
    m = metrics(at)
    assert m[L["rewarded"]] == count.format(2)
    assert m[L["paid"]] == money[2_000_000] and m[L["unspent"]] == money[0]
    assert (m[L["excellent"]], m[L["good"]], m[L["pass"]], m[L["poor"]]) == tuple(
        count.format(n) for n in (0, 2, 1, 1))

    # Pool 100万: the same shares of half the money.
    set_number(at, "inc_pool", 100.0)
    reward = column(at, "reward", lang)
    assert reward["A"] + reward["B"] == pytest.approx(100.0, abs=1e-9)
    assert reward["A"] == pytest.approx(100 * score["A"] / (score["A"] + score["B"]), abs=0.01)
    assert reward["B"] == pytest.approx(100 * score["B"] / (score["A"] + score["B"]), abs=0.01)
    assert metrics(at)[L["paid"]] == money[1_000_000]

    # A cap of 30万 per unit: λ·score exceeds 30万 for both, so both get exactly 30万, 40万 unspent.
    check(at.checkbox(key=wkey(at, "inc_cap_on")).check().run())
    set_number(at, "inc_cap", 30.0)
    assert column(at, "reward", lang) == {"A": 30.0, "B": 30.0, "C": 0.0, "D": 0.0}
    assert column(at, "capped", lang)["A"] == L["yes"] and column(at, "capped", lang)["B"] == L["yes"]
    m = metrics(at)
    assert m[L["paid"]] == money[600_000] and m[L["unspent"]] == money[400_000]


def test_grade_lines_that_do_not_fall_are_refused_with_a_clear_message(monkeypatch, store):
    url, _ = store
    at = open_page(monkeypatch, url)
    set_number(at, "inc_band_1", 30.0)  # 良好 from 30 while 合格 is still from 60
    assert any("必须从高到低排列" in e.value for e in at.error)
    assert at.number_input(key=wkey(at, "inc_band_1")).value == 30.0  # what was entered stays
    set_number(at, "inc_band_2", 20.0)
    assert not at.error
    assert column(at, "grade")["D"] == "良好"


def test_boundary_units_show_the_money_if_they_cross(monkeypatch, store):
    url, _ = store
    at = open_page(monkeypatch, url)
    set_number(at, "inc_band_2", 30.0)
    set_number(at, "inc_band_1", 45.0)
    set_number(at, "inc_margin", 3.0)
    score = column(at, "score")
    near = frame_with(at, "跨线后奖补（万元）")
    b = near[near["单位"] == "乙检测中心"].iloc[0]  # B ≈ 46.9: 1.9 points above the 良好 line
    assert b["临界线"] == "良好线 45 分"
    assert b["距离（分）"] == pytest.approx(score["B"] - 45, abs=0.01)
    # Crossing down makes B 合格: not eligible, A takes the whole pool of 200万.
    assert b["跨线后奖补（万元）"] == 0.0
    assert b["变化（万元）"] == pytest.approx(-200 * score["B"] / (score["A"] + score["B"]), abs=0.01)


# ------------------------------------------------------------------------------------ sanctions
def test_a_sanction_switch_changes_the_list_and_reward_eligibility(monkeypatch, store):
    url, _ = store
    at = open_page(monkeypatch, url)
    set_number(at, "inc_band_2", 20.0)
    set_number(at, "inc_band_1", 30.0)  # A, B and D are 良好, C is 合格: nobody is graded 较差
    sanctions = frame_with(at, "触发的规则")
    assert list(sanctions["单位"]) == ["丁观测站"]
    d = sanctions.iloc[0]
    assert d["触发的规则"] == "名义开放、实际封闭"
    assert "D1 D1号仪器" in d["依据"] and "10%" in d["依据"]
    assert d["后果"] == "通报；取消后补助；限制新购置 1 年（2026–2026 年）"
    reward, reason = column(at, "reward"), column(at, "reason")
    assert reward["D"] == 0 and reason["D"] == "受惩戒（名义开放、实际封闭），取消后补助"
    assert reward["A"] + reward["B"] == pytest.approx(200.0, abs=1e-9)

    check(at.toggle(key=wkey(at, "inc_on_nominally_open")).set_value(False).run())
    assert not has_frame_with(at, "触发的规则")
    assert "按当前规则，没有单位受到惩戒。" in texts(at)
    assert "关闭（开启将涉及 1 个单位）" in texts(at)  # the switch still says what it would do
    score, reward, reason = column(at, "score"), column(at, "reward"), column(at, "reason")
    total = score["A"] + score["B"] + score["D"]
    assert reason["D"] == ""
    assert reward["A"] + reward["B"] + reward["D"] == pytest.approx(200.0, abs=1e-9)
    assert reward["D"] == pytest.approx(200 * score["D"] / total, abs=0.01)
    assert metrics(at)["受惩戒单位"] == "0 个"


def test_poor_grade_sanction_follows_the_grade_lines(monkeypatch, store):
    url, _ = store
    at = open_page(monkeypatch, url)
    # Default lines: B, C and D are 较差 (poor_grade), D also nominally open.
    by_unit = frame_with(at, "触发的规则").set_index("单位")["触发的规则"].to_dict()
    assert by_unit == {"乙检测中心": "评价等级为较差/不合格", "丙医院": "评价等级为较差/不合格",
                       "丁观测站": "评价等级为较差/不合格、名义开放、实际封闭"}
    assert metrics(at)["受惩戒单位"] == "3 个"
    check(at.toggle(key=wkey(at, "inc_on_poor_grade")).set_value(False).run())
    assert list(frame_with(at, "触发的规则")["单位"]) == ["丁观测站"]


# ------------------------------------------------------------------------------------ vouchers
def test_voucher_ratio_and_pool_change_the_spend(monkeypatch, store):
    url, ids = store
    at = open_page(monkeypatch, url)
    m = metrics(at)
    assert m["创新券支出"] == "4万元"  # 5,000 + 15,000 + 20,000 (the last one capped at 2万)
    assert m["受益企业"] == "2 家"
    assert m["资金池用完"] == "未用完（余 96万元）"
    assert m["财政支出合计"] == "4.8万元"  # no reward yet (nobody 优秀/良好) + 4万 + 20 % post-subsidy
    holders = frame_with(at, "兑付收入（万元）").set_index("单位")
    assert holders.loc["甲研究院", "兑付收入（万元）"] == 4.0 and holders.loc["甲研究院", "后补助（万元）"] == 0.8

    check(at.slider(key=wkey(at, "inc_v_ratio")).set_value(30).run())
    assert metrics(at)["创新券支出"] == "2.7万元"  # 3,000 + 9,000 + 15,000

    set_number(at, "inc_v_pool", 2.0)  # 3,000 + 9,000 + 8,000: the pool is gone in May
    m = metrics(at)
    assert m["创新券支出"] == "2万元" and m["资金池用完"] == "5月" and m["受益企业"] == "2 家"

    check(at.slider(key=wkey(at, "inc_v_ratio")).set_value(50).run())  # 5,000 + 15,000 = 2万 in March
    m = metrics(at)
    assert m["创新券支出"] == "2万元" and m["资金池用完"] == "3月" and m["受益企业"] == "1 家"
    assert "资金池在 3月 用完，此后 1 笔符合条件的服务未能用券。" in texts(at)

    check(at.toggle(key=wkey(at, "inc_v_on")).set_value(False).run())
    assert "未模拟创新券" in texts(at)
    assert metrics(at)["创新券支出"] == "0元"  # the headline: no voucher policy, nothing spent
    assert "资金池用完" not in metrics(at)


# ------------------------------------------------------------------------------------ scenarios
def _set_text(at: AppTest, name: str, value: str, area: bool = False) -> None:
    widget = at.text_area(key=wkey(at, name)) if area else at.text_input(key=wkey(at, name))
    widget.set_value(value)


def _save(at: AppTest, name: str, note: str) -> AppTest:
    _set_text(at, "inc_save_name", name)
    _set_text(at, "inc_save_note", note, area=True)
    return click(at, "保存情景")


def _lines(at: AppTest) -> None:
    set_number(at, "inc_band_2", 30.0)
    set_number(at, "inc_band_1", 45.0)  # A and B 良好 (eligible), D 合格, C 较差


def test_save_load_and_compare_scenarios_and_find_them_after_a_restart(monkeypatch, store):
    url, _ = store
    at = open_page(monkeypatch, url)
    _lines(at)
    set_number(at, "inc_pool", 100.0)
    score = column(at, "score")
    at = _save(at, "方案甲", "资金池 100 万元")
    assert "已保存为情景 #1 方案甲。" in texts(at)
    assert at.query_params.get("scenario") in ("1", ["1"])

    set_number(at, "inc_pool", 300.0)
    at = _save(at, "方案乙", "资金池 300 万元")
    assert "已保存为情景 #2 方案乙。" in texts(at)

    # Saving needs a name; the error comes from the catalogue and the note typed is kept.
    at = _save(at, "  ", "不会丢失的说明")
    assert any(e.value == "请填写情景名称" for e in at.error)
    assert at.text_area(key=wkey(at, "inc_save_note")).value == "不会丢失的说明"
    saved = frame_with(at, "保存时间（北京时间）")
    assert list(saved["名称"]) == ["方案乙", "方案甲"] and list(saved["说明"]) == ["资金池 300 万元", "资金池 100 万元"]

    # Load 方案甲: its pool and lines come back into the controls.
    check(at.selectbox(key=wkey(at, "inc_load_choice")).set_value(1).run())
    at = click(at, "载入")
    assert at.number_input(key=wkey(at, "inc_pool")).value == 100.0
    assert at.number_input(key=wkey(at, "inc_band_1")).value == 45.0
    assert "当前为已保存情景 **#1 方案甲**。" in texts(at)
    assert metrics(at)["已分配"] == "100万元"

    # Compare 方案乙 with 方案甲 as the baseline.
    check(at.selectbox(key=wkey(at, "inc_baseline")).set_value("1").run())
    check(at.multiselect(key=wkey(at, "inc_compare")).set_value(["2"]).run())
    summary = frame_with(at, "指标").set_index("指标")
    assert summary.loc["奖补资金池", "基准：#1 方案甲"] == "100万元"
    assert summary.loc["奖补资金池", "#2 方案乙"] == "300万元"
    assert summary.loc["奖补资金池", "#2 方案乙 较基准"] == "+200万元"
    assert summary.loc["奖补已分配", "#2 方案乙 较基准"] == "+200万元"
    assert summary.loc["受惩戒单位数", "#2 方案乙"] == "2"  # C (较差) and D (nominally open) in both
    assert summary.loc["受惩戒单位数", "#2 方案乙 较基准"] == "±0"
    changes = frame_with(at, "资金变化（万元）").set_index("单位")
    assert set(changes.index) == {"甲研究院", "乙检测中心"}  # nobody changes grade or sanctions
    # A's money is its reward plus its voucher post-subsidy (20 % of 4万 = 0.8万) in both.
    share_a = score["A"] / (score["A"] + score["B"])
    assert changes.loc["甲研究院", "基准资金（万元）"] == pytest.approx(100 * share_a + 0.8, abs=0.01)
    assert changes.loc["甲研究院", "情景资金（万元）"] == pytest.approx(300 * share_a + 0.8, abs=0.01)
    assert changes.loc["甲研究院", "资金变化（万元）"] == pytest.approx(200 * share_a, abs=0.01)
    assert changes.loc["乙检测中心", "等级（基准 → 情景）"] == "良好"
    assert any(b.label == "下载比较简报" for b in at.get("download_button"))

    # After a restart: a new session on the same store lists both and loads 方案乙.
    again = open_page(monkeypatch, url)
    saved = frame_with(again, "保存时间（北京时间）")
    assert list(saved["名称"]) == ["方案乙", "方案甲"]
    assert again.number_input(key=wkey(again, "inc_pool")).value == 200.0  # defaults until loaded
    check(again.selectbox(key=wkey(again, "inc_load_choice")).set_value(2).run())
    again = click(again, "载入")
    assert again.number_input(key=wkey(again, "inc_pool")).value == 300.0
    assert again.number_input(key=wkey(again, "inc_band_1")).value == 45.0
    assert metrics(again)["已分配"] == "300万元"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_shared_link_opens_the_scenario(monkeypatch, store, lang):
    url, _ = store
    at = open_page(monkeypatch, url)
    _lines(at)
    set_number(at, "inc_pool", 150.0)
    check(at.toggle(key=wkey(at, "inc_on_late_reporting")).set_value(False).run())
    _save(at, "会议方案", "")

    linked = open_page(monkeypatch, url, lang=lang, query={"scenario": "1"})
    assert linked.number_input(key=wkey(linked, "inc_pool")).value == 150.0
    assert linked.number_input(key=wkey(linked, "inc_band_2")).value == 30.0
    assert linked.toggle(key=wkey(linked, "inc_on_late_reporting")).value is False
    status = {"zh": "当前为已保存情景 **#1 会议方案**。", "en": "Showing saved scenario **#1 会议方案**."}[lang]
    assert status in texts(linked)
    assert metrics(linked)[LABELS[lang]["paid"]] == {"zh": "150万元", "en": "CNY 1.5 million"}[lang]
    assert any(c.value.endswith("?scenario=1") for c in linked.code)


def test_a_link_to_a_missing_scenario_says_so(monkeypatch, store):
    url, _ = store
    at = open_page(monkeypatch, url, query={"scenario": "42"})
    assert any("无法载入情景 42" in e.value and "找不到情景 42" in e.value for e in at.error)
    assert at.number_input(key=wkey(at, "inc_pool")).value == 200.0  # defaults kept


# ------------------------------------------------------------------------------------ empty states
def test_store_without_usage_points_to_the_data_page(monkeypatch, db_url):
    eng = make_engine(db_url)
    init_store(eng)
    add_instrument(eng, add_unit(eng, "只有名录的单位"), "X-1", "测试仪器")
    eng.dispose()
    at = open_page(monkeypatch, db_url)
    assert any("尚无仪器使用数据" in i.value for i in at.info)
    assert at.get("page_link") and not at.metric and not at.get("tab")


def test_no_rated_unit_explains_why(monkeypatch, db_url):
    eng = make_engine(db_url)
    init_store(eng)
    unit = add_unit(eng, "只有一台仪器的单位")
    only = add_instrument(eng, unit, "X1", "单台仪器")
    add_usage(eng, only, YEAR, [10.0] * 12)
    eng.dispose()
    at = open_page(monkeypatch, db_url)
    assert any("没有可参加评价的单位" in i.value for i in at.info)
    assert not at.metric


def test_definitions_name_the_formula_units_and_sources(monkeypatch, store):
    url, _ = store
    at = open_page(monkeypatch, url)
    definitions = frame_with(at, "规则（当前取值）").set_index("项目")
    assert "min(上限ᵢ, λ × 分配依据ᵢ)" in definitions.loc["奖补分配公式", "规则（当前取值）"]
    assert definitions.loc["创新券：抵扣额", "规则（当前取值）"].startswith("每次抵扣 = min(50% × 服务金额, 每次上限 2万元)")
    assert "〔本地假设〕" in definitions.loc["惩戒：迟报", "来源"]


def test_settings_survive_a_language_switch(monkeypatch, store):
    url, _ = store
    at = open_page(monkeypatch, url)
    _lines(at)
    set_number(at, "inc_pool", 150.0)
    check(at.toggle(key=wkey(at, "inc_on_nominally_open")).set_value(False).run())
    check(at.radio(key="lang").set_value("en").run())
    assert at.number_input(key=wkey(at, "inc_pool")).value == 150.0
    assert at.number_input(key=wkey(at, "inc_band_1")).value == 45.0
    assert at.toggle(key=wkey(at, "inc_on_nominally_open")).value is False
    assert metrics(at)["Paid out"] == "CNY 1.5 million"
    assert "off (would catch 1)" in texts(at)


# ------------------------------------------------------------------------------------ controls ↔ scenario
def test_controls_and_scenario_parameters_convert_both_ways():
    from dashboard import sanctions, scenarios, vouchers
    from dashboard.incentives import RewardRule
    from dashboard.scheme import GradeRule, default_scheme
    from dashboard.ui import incentives_frames as F

    scheme = default_scheme()
    params = scenarios.ScenarioParams(
        grade_rule=GradeRule(bands=(85.0, 70.0, 50.0), fourth_label=scheme.grade.fourth_label),
        reward=RewardRule(pool_cny=3_500_000.0, eligible_grades=("优秀",), min_score=72.0, basis="score_x_external_income",
                          cap_cny=400_000.0, cap_share_of_external_income=0.5),
        sanctions=sanctions.SanctionRules().with_rule("idle_share", enabled=True, max_share=0.6)
        .with_consequences("late_reporting", rectification_years=2),
        vouchers=vouchers.VoucherParams(voucher_ratio=0.4, per_application_cap_cny=None, pool_cny=2_500_000.0,
                                        holder_redemption_share=0.15, demand_uplift=0.1),
    )
    state = F.state_from_params(params, scheme)
    # The controls show money in 万元 and shares in %.
    assert state[F.POOL] == 350.0 and state[F.CAP] == 40.0 and state[F.CAP_SHARE] == 50.0
    assert state[F.V_RATIO] == 40 and state[F.V_POOL] == 250.0 and state[F.V_APP_ON] is False
    assert state[F.IDLE_SHARE] == 60.0 and state[F.RULE_ON["idle_share"]] is True
    assert [state[b] for b in F.BANDS] == [85.0, 70.0, 50.0]
    back = F.params_from_state(state, scheme)
    assert back.to_dict() == params.to_dict()
    # The defaults keep the scheme's weights (no override stored) and its grade lines.
    defaults = F.params_from_state(F.state_from_params(F.default_params(scheme), scheme), scheme)
    assert defaults.weights is None and defaults.grade_rule.bands == scheme.grade.bands
    assert defaults.reward.pool_cny == 2_000_000.0
    # Group weights 50 / 25 / 25: each group's indicators keep their shares within the group.
    changed = dict(state, **{F.GROUP_WEIGHTS[0]: 50.0, F.GROUP_WEIGHTS[1]: 25.0, F.GROUP_WEIGHTS[2]: 25.0})
    weights = dict(F.params_from_state(changed, scheme).weights)
    org = [i for i in scheme.indicators if i.group == "org"]
    org_total = sum(i.weight for i in org)
    assert sum(weights[i.id] for i in org) == pytest.approx(0.5)
    assert weights[org[0].id] == pytest.approx(0.5 * org[0].weight / org_total)
    assert F.state_from_params(F.params_from_state(changed, scheme), scheme)[F.GROUP_WEIGHTS[0]] == pytest.approx(50.0)


# ------------------------------------------------------------------------------------ purchase review flags
def _add_requests(url: str, ids: dict[str, int]) -> None:
    """D (nominally open in 2025 → purchases restricted in 2026) applies three times, A once."""
    from models.db import bump_revision

    eng = make_engine(url)
    rows = [  # request no, unit, submitted, status, quoted price CNY
        ("ALS-CG-2026-0001", "D", date(2026, 3, 2), "submitted", 480_000.0),  # in the window: flagged
        ("ALS-CG-2025-0002", "D", date(2025, 12, 15), "checked", 1_250_000.0),  # open from before: flagged
        ("ALS-CG-2025-0003", "D", date(2025, 5, 1), "decided", 300_000.0),  # decided before: not flagged
        ("ALS-CG-2026-0004", "A", date(2026, 4, 1), "submitted", 900_000.0),  # A not restricted
    ]
    with Session(eng) as s:
        for no, key, day, status, price in rows:
            s.add(T.PurchaseRequest(request_no=no, applicant_unit_id=ids[key], instrument_name=f"{key}拟购仪器",
                                    class_code="010501", quoted_price=price, region_code="152921",
                                    submitted_date=day, status=status))
        bump_revision(s)
        s.commit()
    eng.dispose()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_requests_of_a_restricted_unit_are_flagged_for_the_review(monkeypatch, store, lang):
    url, ids = store
    _add_requests(url, ids)
    at = open_page(monkeypatch, url, lang=lang)
    cols = {"zh": ("申请编号", "申请单位", "报价（万元）", "提交日期", "办理状态", "提示原因", "限制至（年）", "导致限制的规则"),
            "en": ("Request no.", "Applicant", "Quoted price (CNY 10k)", "Submitted", "Status", "Why flagged",
                   "Restricted until (year)", "Rules behind the restriction")}[lang]
    no, applicant, price, submitted, status, why, until, rules = cols
    flagged = frame_with(at, why)
    assert list(flagged[no]) == ["ALS-CG-2025-0002", "ALS-CG-2026-0001"]  # oldest first
    assert set(flagged[applicant]) == {LABELS[lang]["names"]["D"]}
    assert list(flagged[price]) == [125.0, 48.0]
    assert list(flagged[submitted]) == ["2025-12-15", "2026-03-02"]
    assert list(flagged[until]) == [2026, 2026]
    if lang == "zh":
        assert list(flagged[status]) == ["已形式审查", "已提交"]
        assert list(flagged[why]) == ["2026 年前提交，尚未评议，将在限制期（2026–2026 年）内评议",
                                      "在限制期（2026–2026 年）内提交"]
        assert set(flagged[rules]) == {"名义开放、实际封闭"}
        assert "联合评议时将提示以下 2 项购置申请的申请单位（1 个）处于限制新购期" in texts(at)
    else:
        assert list(flagged[status]) == ["Checked", "Submitted"]
        assert "The joint review will be warned" in texts(at)

    # the restriction comes from the nominally-open rule: switching it off lifts every flag
    check(at.toggle(key=wkey(at, "inc_on_nominally_open")).set_value(False).run())
    assert not has_frame_with(at, why)
    empty = {"zh": "按当前方案，没有购置申请来自处于限制新购期的单位（限制期自 2026 年起算）。",
             "en": "Under the current scenario no purchase request comes from a unit under purchase restriction "
                   "(restrictions start in 2026)."}[lang]
    assert empty in texts(at)


def test_a_longer_restriction_flags_later_requests(monkeypatch, store):
    url, ids = store
    _add_requests(url, ids)
    at = open_page(monkeypatch, url)
    set_number(at, "inc_c_nominally_open_purchase", 0)  # no purchase restriction: nothing flagged
    assert not has_frame_with(at, "提示原因")
    set_number(at, "inc_c_nominally_open_purchase", 2)
    flagged = frame_with(at, "提示原因")
    assert list(flagged["申请编号"]) == ["ALS-CG-2025-0002", "ALS-CG-2026-0001"]
    assert list(flagged["限制至（年）"]) == [2027, 2027]
    definitions = frame_with(at, "规则（当前取值）").set_index("项目")
    assert "尚未评议" in definitions.loc["限制新购期内的购置申请", "规则（当前取值）"]


# ------------------------------------------------------------------------------------ sanctions table
def _former_sanctions_frame(o, t, instruments=None):
    """F.sanctions_frame before it grouped the fired rows once (it filtered them unit by unit)."""
    from dashboard.ui import incentives_frames as F

    columns = [t("incentives.col.unit"), t("sanctions.col.rules"), t("sanctions.col.evidence"),
               t("sanctions.col.consequences")]
    if o.sanctions is None or o.sanctions.by_unit.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    names = F.unit_names(o.units, t.lang)
    ratio = o.params.sanctions.nominally_open.max_external_ratio if o.params.sanctions else None
    fired = o.sanctions.fired
    rows = []
    for r in o.sanctions.by_unit.to_dict("records"):
        own = fired[fired["unit_id"] == r["unit_id"]].to_dict("records")
        evidence = t("incentives.clause_separator").join(
            t("sanctions.evidence.item", rule=t("sanctions.rule." + e["rule"]),
              evidence=F.evidence_text(e, t, instruments, ratio)) for e in own)
        rows.append([names.get(r["unit_id"], str(r["unit_id"])), F.rules_text(r["rules"], t), evidence,
                     F.consequence_ids_text(r, t, o.year)])
    return pd.DataFrame(rows, columns=columns)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sanctions_table_equals_the_former_unit_by_unit_version(seed, lang):
    from types import SimpleNamespace

    from dashboard import sanctions as S
    from dashboard.i18n import Translator
    from dashboard.ui import incentives_frames as F
    from tests.test_sanctions import random_sanction_case

    rules, inputs = random_sanction_case(seed)
    units = inputs.units.rename(columns={"id": "unit_id"})
    if "name_en" not in units:
        units["name_en"] = ""
    o = SimpleNamespace(sanctions=S.apply(rules, inputs), units=units, params=SimpleNamespace(sanctions=rules),
                        year=YEAR)
    labels = {int(i): f"仪器{i}" for i in range(1000, 1400, 2)}  # some candidates have a label, others not
    t = Translator(lang)
    pd.testing.assert_frame_equal(F.sanctions_frame(o, t, labels), _former_sanctions_frame(o, t, labels),
                                  check_exact=True)


# ------------------------------------------------------------------------------------ the page's lean read
def test_the_lean_read_of_service_records_gives_the_same_records_and_scenario(store):
    """The page reads only the service-record columns its numbers use
    (models.queries.services_for_incentives); the rows, their order and types, and every figure of a scenario
    are those of the full read (models.queries.services)."""
    from dashboard import indicators, quality, scenarios, utilisation
    from dashboard.scheme import default_scheme
    from dashboard.ui import incentives_frames as F
    from models import queries

    url, ids = store
    eng = make_engine(url)
    add_service(eng, ids["A1"], datetime(YEAR - 1, 12, 31, 23), "甲企业", 7_000.0, user_type="外部用户",
                client_kind="本地中小企业")  # the year before: not read
    add_service(eng, ids["D1"], datetime(YEAR, 12, 31, 23, 59), "某大学", 1_234.5, user_type="外部用户",
                client_kind="高校", client_region_code="Z01")
    full = queries.services(eng, YEAR)
    lean = queries.services_for_incentives(eng, YEAR)
    assert list(lean.columns) == list(queries.INCENTIVE_SERVICE_COLUMNS) and len(lean) == 6
    pd.testing.assert_frame_equal(lean, full[list(queries.INCENTIVE_SERVICE_COLUMNS)], check_exact=True)
    none = queries.services_for_incentives(eng, 1999)
    pd.testing.assert_frame_equal(none, queries.services(eng, 1999)[list(queries.INCENTIVE_SERVICE_COLUMNS)])

    scheme = default_scheme()
    table = indicators.compute_indicators(indicators.load_inputs(eng, YEAR), YEAR, scheme)
    units, instruments = queries.units(eng), queries.instruments(eng)
    usage = queries.usage_by_instrument_year(eng, YEAR)
    status = quality.reporting_status(queries.submissions(eng, YEAR), units, YEAR, instruments, as_of=date(2026, 6, 30))
    reporting, annual = quality.reporting_summary(status, units), utilisation.utilisation_frame(instruments, usage, YEAR)
    params = F.default_params(scheme)
    other_ratio = replace(params, sanctions=params.sanctions.with_rule("nominally_open", max_external_ratio=0.3))
    for p in (params, other_ratio):
        got, want = (scenarios.outcome(p, scenarios.build_inputs(YEAR, table, scheme, frame, reporting=reporting,
                                                                 annual=annual, usage=usage))
                     for frame in (lean, full))
        pd.testing.assert_frame_equal(got.units, want.units, check_exact=True)
        assert got.totals == want.totals
        pd.testing.assert_frame_equal(got.sanctions.fired, want.sanctions.fired, check_exact=True)
        pd.testing.assert_frame_equal(got.vouchers.records, want.vouchers.records, check_exact=True)
    eng.dispose()
