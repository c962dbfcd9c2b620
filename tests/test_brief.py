"""The one-page meeting brief: what it says for a hand-made scenario and comparison, in both
languages; user text escaped; nothing fetched from anywhere."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import datetime, timezone

import pandas as pd
import pytest

from dashboard import scenarios as SC
from dashboard.brief_html import BriefMeta, render_brief
from dashboard.i18n import Translator
from tests.test_scenarios import GRADE_AND_REPORTING, PARAMS_A, PARAMS_B, TABLE, hand_inputs

ZH, EN = Translator("zh"), Translator("en")
AT = datetime(2026, 1, 5, 8, 30, tzinfo=timezone.utc)  # 16:30 in Beijing
EVIL = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def outcomes():
    inputs = hand_inputs()
    return {
        "A": SC.outcome(PARAMS_A, inputs, name="现行办法"),
        "B": SC.outcome(PARAMS_B, inputs, name="放宽良好线"),
        "E": SC.outcome(replace(PARAMS_A, sanctions=GRADE_AND_REPORTING), inputs, name="严格惩戒"),
    }


def text_of(page: str) -> str:
    """The visible text: tags removed, entities decoded, white space collapsed."""
    body = page.split("<body>", 1)[1]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_single_scenario_brief_in_chinese(outcomes):
    page = render_brief(outcomes["E"], ZH, BriefMeta(generated_at=AT, note="对迟报和较差单位从严", scenario_ids=(12,)))
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    assert "@page { size: A4" in page
    # Printed, the differing cells keep their highlight and long tables repeat their header.
    print_css = page[page.index("@media print"):page.index("</style>")]
    assert "td.diff" in print_css and "print-color-adjust: exact" in print_css
    assert "thead { display: table-header-group; }" in print_css
    text = text_of(page)
    assert "情景：严格惩戒" in text
    assert "说明：对迟报和较差单位从严" in text
    assert "评价年度：2025年" in text and "2026-01-05 16:30（北京时间）" in text
    assert "情景编号：12" in text
    # Key parameters.
    assert "10万元" in text  # pool 100,000
    assert "优秀 ≥90 分，良好 ≥75 分，合格 ≥60 分，其余较差" in text
    assert "等级为优秀、良好" in text and "评价得分" in text and "6万元" in text
    assert "评价等级为较差/不合格、未报送数据" in text  # the rules switched on
    assert "50%" in text and "每次申请 1.5万元，每家企业每年 不限，资金池 不限；持有单位后补助 20%" in text
    # Headline: 60,000 + 24,000 + 1,000 = 85,000 → 8.5万元; 3 units sanctioned.
    assert "财政支出合计 8.5万元" in text
    assert "奖补已分配 6万元" in text and "奖补未分配 4万元" in text
    assert "创新券支出 2.4万元" in text and "持有单位创新券后补助 1,000元" in text
    assert "受惩戒单位数 3" in text
    assert "优秀 1 良好 1 合格 1 较差 2 参评单位数 4" in text
    # Who receives the most: only unit 1 (60,000 + 1,000).
    assert "甲单位 优秀 93.0 6万元 1,000元 6.1万元" in text
    # Sanctioned units with their rules and consequences.
    assert "乙单位" in text and "未报送数据" in text and "通报、取消后补助" in text
    assert "丙单位 较差 评价等级为较差/不合格 通报、取消后补助、限期整改" in text
    assert "演示数据" not in text
    assert "口径" in text and "财政支出合计 = 奖补已分配 + 创新券支出 + 持有单位创新券后补助" in text


def test_single_scenario_brief_in_english(outcomes):
    page = render_brief(outcomes["A"], EN, BriefMeta(generated_at=AT, demo_seed="2016"))
    assert '<html lang="en">' in page
    text = text_of(page)
    assert "Scenario: 现行办法" in text  # the name is the user's, not translated
    assert "Evaluation year 2025 · generated 2026-01-05 16:30 (Beijing time)" in text
    assert "Excellent ≥ 90, Good ≥ 75, Pass ≥ 60, else Poor" in text
    assert "Reward pool CNY 100,000" in text
    assert "Total fiscal cost CNY 128,800" in text  # 100,000 + 24,000 + 4,800
    assert "no sanction rule" in text
    assert "Demo data (seed 2016)" in text
    assert "Unit A Excellent 93.0 CNY 55,357 CNY 1,000 CNY 56,357" in text
    assert "Under this scenario's rules no unit is sanctioned." in text
    assert not re.search(r"[\u4e00-\u9fff]", text.replace("现行办法", "")), "Chinese left in the English brief"


def test_comparison_brief_lists_changes_against_the_baseline(outcomes):
    c = SC.compare(outcomes["A"], {"放宽良好线": outcomes["B"], "严格惩戒": outcomes["E"]})
    page = render_brief(c, ZH, BriefMeta(generated_at=AT, notes={SC.BASELINE: "现行", "放宽良好线": "良好线降到65分"}))
    text = text_of(page)
    assert "情景比较：放宽良好线、严格惩戒" in text
    assert "基准（现行办法）" in text
    assert "基准（现行办法） · 说明：现行" in text and "放宽良好线 · 说明：良好线降到65分" in text
    # Figures with deltas: fiscal cost 12.88万 → 12.88万 (0) and 8.5万 (−4.38万).
    assert "财政支出合计 12.88万元 12.88万元 0 8.5万元 −4.38万元" in text
    assert "受惩戒单位数 0 0 0 3 +3" in text
    assert "良好单位数 1 2 +1 1 0" in text
    # Parameters that differ from the baseline are marked.
    assert '<td class="diff">优秀 ≥90 分，良好 ≥65 分，合格 ≥55 分，其余较差</td>' in page
    # Changes: largest money change first; grade moves and new sanctions spelt out.
    b_part = text.split("放宽良好线（与基准相比）")[1].split("严格惩戒（与基准相比）")[0]
    assert b_part.index("丁单位") < b_part.index("甲单位") < b_part.index("乙单位") < b_part.index("丙单位")
    assert "丁单位 合格 → 良好 +2.88万元 2.88万元" in b_part
    assert "甲单位 优秀 −1.6万元 4.04万元" in b_part
    assert "丙单位 较差 → 合格 0 800元" in b_part
    e_part = text.split("严格惩戒（与基准相比）")[1]
    assert "乙单位 良好 −4.76万元 0元 新增惩戒：未报送数据" in e_part
    assert "戊单位 较差 0 0元 新增惩戒：评价等级为较差/不合格" in e_part


def test_comparison_brief_in_english(outcomes):
    c = SC.compare(outcomes["A"], {"B": outcomes["B"]})
    text = text_of(render_brief(c, EN, BriefMeta(generated_at=AT)))
    assert "Scenario comparison: B" in text and "Baseline (现行办法)" in text
    assert "Units graded good 1 2 +1" in text
    assert "Unit D Pass → Good +CNY 28,814 CNY 28,814" in text
    assert "Main changes against the baseline" in text


def test_comparison_with_no_change_says_so(outcomes):
    same = SC.outcome(PARAMS_A, hand_inputs(), name="再算一次")
    text = text_of(render_brief(SC.compare(outcomes["A"], {"再算一次": same}), ZH, BriefMeta(generated_at=AT)))
    assert "与基准相比，没有单位的等级、资金或惩戒发生变化。" in text


def test_long_lists_are_cut_and_counted():
    # Twelve rated units, every one with the same indicators: all 优秀 and all rewarded.
    ids = pd.Index(range(1, 13), name="unit_id")
    raw = pd.DataFrame({"a": 95.0, "b": 95.0, "c": 95.0}, index=ids)
    units = pd.DataFrame({"name": [f"单位{i}" for i in ids], "name_en": "", "status": "rated"}, index=ids)
    inputs = SC.build_inputs(2025, replace(TABLE, raw=raw, units=units), hand_inputs().scheme, None)
    o = SC.outcome(PARAMS_A, inputs)
    text = text_of(render_brief(o, ZH, BriefMeta(generated_at=AT)))
    assert "另有 4 个单位，详见系统页面。" in text  # 12 listed as 8 + 4


def test_user_text_is_escaped(outcomes):
    evil_unit = replace(outcomes["A"], units=outcomes["A"].units.assign(name=lambda d: d["name"].where(d["unit_id"] != 1, "<b>甲</b>")))
    page = render_brief(evil_unit, ZH, BriefMeta(generated_at=AT, name=EVIL, note="<img src=x onerror=alert(1)>"))
    assert "<script" not in page and "<img" not in page and "<b>甲" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;b&gt;甲&lt;/b&gt;" in page
    c = SC.compare(outcomes["A"], {EVIL: outcomes["B"]})
    page = render_brief(c, EN, BriefMeta(generated_at=AT, notes={EVIL: EVIL}))
    assert "<script" not in page and "&lt;script&gt;" in page


def test_the_brief_makes_no_request(outcomes):
    c = SC.compare(outcomes["A"], {"B": outcomes["B"], "E": outcomes["E"]})
    for subject in (outcomes["E"], c):
        for t in (ZH, EN):
            page = render_brief(subject, t, BriefMeta(generated_at=AT, demo_seed="7"))
            assert not re.search(r"https?:", page, re.IGNORECASE)
            assert not re.search(r"<(script|img|link|iframe|object|embed)\b", page, re.IGNORECASE)
            assert "url(" not in page and "src=" not in page and "@import" not in page


def test_render_brief_refuses_other_things():
    with pytest.raises(TypeError):
        render_brief({"not": "an outcome"}, ZH, BriefMeta(generated_at=AT))
