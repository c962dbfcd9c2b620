"""Display shaping of the evaluation page (dashboard/ui/evaluation_frames.py), on literal data.

A three-indicator scheme keeps every number hand-checkable: one indicator per group, goalposts
0 → 1, group weights 1 : 1 : 2, so the global weights are 0.25, 0.25 and 0.5.

    unit  open_ratio  effective_hours_ratio  external_share  score
    A     0.8         0.6                    0.5             0.25·80 + 0.25·60 + 0.5·50 = 60
    B     1.0         0.2                    0.9             25 + 5 + 45 = 75
    C     0.4         1.0                    0.3             10 + 25 + 15 = 50
    D     (did not report)          E  (one eligible instrument: too few)

Ranks B 1, A 2, C 3; bands 90/75/60 grade them 良好, 合格, 较差.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from dashboard import scoring, weighting
from dashboard.i18n import Translator
from dashboard.scheme import GradeRule, Group, Indicator, Scheme, default_scheme
from dashboard.ui import evaluation_frames as V

ZH, EN = Translator("zh"), Translator("en")
GOAL = {"lower": 0, "upper": 1}
SCHEME = Scheme(
    name="三指标测试方案", version=1,
    groups=(Group("org", 1), Group("use", 1), Group("share", 2)),
    indicators=(Indicator("open_ratio", "org", params=GOAL), Indicator("effective_hours_ratio", "use", params=GOAL),
                Indicator("external_share", "share", params=GOAL)),
)
IDS = [1, 2, 3, 4, 5]  # A B C D E
RAW = pd.DataFrame({"open_ratio": [0.8, 1.0, 0.4, np.nan, 1.0],
                    "effective_hours_ratio": [0.6, 0.2, 1.0, np.nan, 0.5],
                    "external_share": [0.5, 0.9, 0.3, np.nan, 0.1]},
                   index=pd.Index(IDS, name="unit_id"))
UNITS = pd.DataFrame({
    "name": ["甲研究院", "乙检测中心", "丙医院", "丁公司", "戊站"],
    "name_en": ["Institute A", "", "Hospital C", None, "Station E"],
    "unit_type": ["科研院所", "检验检测", "医疗卫生", "企业", "其他"],
    "region_code": ["152921", "152921", "152922", "152923", "152923"],
    "eligible_instruments": [3, 2, 4, 2, 1],
    "reported": [True, True, True, False, True],
    "status": ["rated", "rated", "rated", "not_reported", "too_few_instruments"],
}, index=pd.Index(IDS, name="unit_id"))
REGIONS = {"152921": "阿拉善左旗", "152922": "阿拉善右旗", "152923": "额济纳旗"}


@pytest.fixture
def result():
    return scoring.evaluate(RAW, UNITS, SCHEME)


def test_the_worked_example_scores_as_the_docstring_says(result):
    assert result.rated()["score"].round(9).to_dict() == {2: 75.0, 1: 60.0, 3: 50.0}
    assert list(result.rated()["grade"]) == ["良好", "合格", "较差"]


# ---------------------------------------------------------------------------- AHP helpers
def test_saaty_labels_and_values():
    assert V.SAATY_LABELS[0] == "1/9" and V.SAATY_LABELS[8] == "1" and V.SAATY_LABELS[-1] == "9"
    assert len(V.SAATY_LABELS) == 17
    assert V.saaty_value("1/3") == pytest.approx(1 / 3)
    assert V.saaty_value("7") == 7.0
    assert V.saaty_text(0.2) == "1/5" and V.saaty_text(5.0) == "5"


def test_default_judgements_follow_the_scheme_group_weights():
    # 25 : 40 : 35 — org/use = 0.625 is nearer 1/2 than 1 on a log scale (0.22 vs 0.47);
    # org/share = 0.714 is nearer 1 (0.34 vs 0.36); use/share = 1.14 is nearest 1.
    assert V.default_judgements(default_scheme()) == {(0, 1): "1/2", (0, 2): "1", (1, 2): "1"}
    assert V.nearest_saaty(3.2) == "3" and V.nearest_saaty(0.13) == "1/8" and V.nearest_saaty(40) == "9"


def test_ahp_result_of_consistent_judgements():
    # 1 : 2 : 4 is perfectly consistent: a12 = 1/2, a13 = 1/4, a23 = 1/2.
    res = V.ahp_result({(0, 1): "1/2", (0, 2): "1/4", (1, 2): "1/2"})
    assert list(res.weights) == pytest.approx([1 / 7, 2 / 7, 4 / 7])
    assert res.cr == pytest.approx(0, abs=1e-9) and res.ri == 0.58
    frame = V.ahp_frame(res, ZH)
    assert list(frame.columns) == ["一级指标", "权重（%）"]
    assert list(frame["权重（%）"]) == [14.29, 28.57, 57.14]


def test_worst_judgements_name_every_equal_one_in_a_three_by_three_matrix():
    res = V.ahp_result({(0, 1): "7", (0, 2): "1/7", (1, 2): "7"})
    worst = V.worst_judgements(res)
    assert len(worst) == 3  # in a 3 × 3 matrix each judgement deviates by the same factor
    text = V.judgement_text(worst[0], ZH)
    assert text == f"“组织管理”对“运行使用”判断为 7，而权重隐含约 {res.weights[0] / res.weights[1]:.2f}"
    assert V.judgement_text(worst[2], EN).startswith('"Operation and use" vs "Sharing services" judged 7 ')


def test_worst_judgement_is_the_odd_one_out_in_a_larger_matrix():
    # Weights 8 : 4 : 2 : 1 judged consistently except a14, entered the wrong way round.
    a = weighting.matrix_from_judgements(4, {(0, 1): 2, (0, 2): 4, (0, 3): 1 / 8, (1, 2): 2, (1, 3): 4, (2, 3): 2})
    res = weighting.ahp(a)
    worst = V.worst_judgements(res)
    assert [(j.i, j.j) for j in worst] == [(0, 3)]
    assert V.saaty_text(worst[0].judged) == "1/8"


# ---------------------------------------------------------------------------- scheme settings
def test_build_scheme_applies_every_setting():
    rule = GradeRule(mode="quotas", quotas=(0.2, 0.3), fourth_label="不合格")
    built = V.build_scheme(SCHEME, {"share": 0.0}, {"open_ratio": 5.0}, "geometric", rule, {"external_share": "rank"})
    assert [g.weight for g in built.groups] == [1, 1, 0]
    assert built.indicators[0].weight == 5.0 and built.indicators[2].method == "rank"
    assert built.aggregation == "geometric" and built.grade == rule
    assert V.setting_problems(built) == []


def test_setting_problems_name_what_cannot_be_applied():
    bands = GradeRule(bands=(90.0, 95.0, 60.0))
    no_groups = V.build_scheme(SCHEME, {"org": 0, "use": 0, "share": 0}, {}, "arithmetic", SCHEME.grade, {})
    assert V.setting_problems(no_groups) == [("evaluation.problem.no_group_weight", {})]
    empty_group = V.build_scheme(SCHEME, {}, {"external_share": 0}, "arithmetic", SCHEME.grade, {})
    assert V.setting_problems(empty_group) == [("evaluation.problem.group_without_indicator", {"group": "share"})]
    assert V.setting_problems(V.build_scheme(SCHEME, {}, {}, "arithmetic", bands, {})) == [("evaluation.problem.bands", {})]
    quotas = GradeRule(mode="quotas", quotas=(0.6, 0.5))
    assert V.setting_problems(V.build_scheme(SCHEME, {}, {}, "arithmetic", quotas, {})) == [("evaluation.problem.quotas", {})]


def two_in_org(share_weight: float, open_weight: float, booking_weight: float) -> Scheme:
    """Four indicators: two in 组织管理 (open ratio, online booking), one in each other group."""
    return Scheme(name="s", version=1, groups=(Group("org", 1), Group("use", 1), Group("share", share_weight)),
                  indicators=(Indicator("open_ratio", "org", params=GOAL, weight=open_weight),
                              Indicator("online_booking", "org", params=GOAL, weight=booking_weight),
                              Indicator("effective_hours_ratio", "use", params=GOAL),
                              Indicator("external_share", "share", params=GOAL)))


def test_weights_frame_shows_group_within_group_and_global_weights():
    scheme = two_in_org(2, 1, 3)
    frame = V.weights_frame(scheme, scoring.indicator_weights(scheme), ZH)
    assert list(frame.columns) == ["一级指标", "二级指标", "一级指标权重（%）", "一级指标内权重（%）", "全局权重（%）"]
    assert frame.values.tolist() == [
        ["组织管理", "对外开放比例", 25.0, 25.0, 6.25],
        ["组织管理", "网上预约覆盖率", 25.0, 75.0, 18.75],
        ["运行使用", "有效机时达标率", 25.0, 100.0, 25.0],
        ["共享服务", "对外服务机时占比", 50.0, 100.0, 50.0],
    ]


def test_definitions_frame_of_the_default_scheme():
    scheme = default_scheme()
    frame = V.definitions_frame(scheme, scoring.indicator_weights(scheme), ZH)
    assert list(frame.columns) == ["一级指标", "二级指标", "计算方法", "计量单位", "方向", "标准化方法及参数",
                                   "一级指标内权重（%）", "全局权重（%）"]
    first = frame.iloc[0]
    assert (first["一级指标"], first["二级指标"], first["计量单位"], first["方向"]) == ("组织管理", "对外开放比例", "比例（0–1）", "越高越好")
    assert first["标准化方法及参数"].startswith("目标值法：下限 0 计 0 分，上限 1 计 100 分")
    assert (first["一级指标内权重（%）"], first["全局权重（%）"]) == (40.0, 10.0)  # 25 % × 40 %
    hours = frame[frame["二级指标"] == "有效机时达标率"].iloc[0]
    assert "1400" in hours["计算方法"] and "800" in hours["计算方法"]
    assert frame["全局权重（%）"].sum() == pytest.approx(100, abs=0.02)


# ---------------------------------------------------------------------------- ranking
def test_move_and_grade_change_texts():
    assert [V.move_text(m) for m in (2, -1, 0, pd.NA, None)] == ["↑2", "↓1", "–", "", ""]
    assert V.grade_change_text("良好", "优秀", ZH) == "良好 → 优秀"
    assert V.grade_change_text("良好", "优秀", EN) == "Good → Excellent"
    assert V.grade_change_text("合格", "合格", ZH) == ""
    assert V.grade_change_text(None, "合格", ZH) == "— → 合格"


def test_ranking_frame_against_a_published_baseline(result):
    snap = {"units": [{"unit_id": 1, "rank": 1, "grade": "良好"}, {"unit_id": 2, "rank": 2, "grade": "良好"},
                      {"unit_id": 3, "rank": 3, "grade": "较差"}, {"unit_id": 4, "rank": None, "grade": "较差"}]}
    moves = scoring.rank_moves(result, V.baseline_table(snap))
    frame = V.ranking_frame(result, UNITS, moves, REGIONS, ZH)
    assert list(frame.columns) == ["名次", "名次变化", "单位名称", "单位类型", "所在旗区", "综合得分",
                                   "组织管理", "运行使用", "共享服务", "评价等级", "等级变化"]
    assert frame.values.tolist() == [
        [1, "↑1", "乙检测中心", "检验检测", "阿拉善左旗", 75.0, 100.0, 20.0, 90.0, "良好", ""],
        [2, "↓1", "甲研究院", "科研院所", "阿拉善左旗", 60.0, 80.0, 60.0, 50.0, "合格", "良好 → 合格"],
        [3, "–", "丙医院", "医疗卫生", "阿拉善右旗", 50.0, 40.0, 100.0, 30.0, "较差", ""],
    ]


def test_ranking_frame_within_a_peer_group_in_english(result):
    moves = scoring.rank_moves(result, result)
    frame = V.ranking_frame(result, UNITS, moves, REGIONS, EN, unit_ids=[1, 3])
    assert list(frame["Rank"]) == [2, 3] and list(frame["Rank in group"]) == [1, 2]
    assert list(frame["Unit"]) == ["Institute A", "Hospital C"]
    assert list(frame["Grade"]) == ["Pass", "Poor"] and list(frame["Rank move"]) == ["–", "–"]


def test_unrated_frame_gives_reason_and_grade(result):
    frame = V.unrated_frame(result, UNITS, REGIONS, ZH)
    assert frame.values.tolist() == [
        ["丁公司", "企业", "额济纳旗", 2, "本年度未报送仪器使用情况，评为末等", "较差"],
        ["戊站", "其他", "额济纳旗", 1, "在评仪器少于 2 台套，不参加排名", "—"],
    ]


def test_scorecard_frame_adds_up_to_the_score(result):
    frame = V.scorecard_frame(result, 1, ZH)
    assert list(frame.columns) == ["一级指标", "二级指标", "原始值", "标准化得分（0–100）", "全局权重（%）",
                                   "贡献分（权重 × 标准化得分）"]
    assert frame.values.tolist() == [
        ["组织管理", "对外开放比例", "0.8000", "80.00", "25.00", "20.000"],
        ["运行使用", "有效机时达标率", "0.6000", "60.00", "25.00", "15.000"],
        ["共享服务", "对外服务机时占比", "0.5000", "50.00", "50.00", "25.000"],
        ["合计", "", "", "", "100.00", "60.000"],
    ]


def test_scorecard_frame_of_a_unit_not_rated(result):
    frame = V.scorecard_frame(result, 4, EN)
    assert list(frame["Raw value"]) == ["—", "—", "—", ""]
    assert list(frame["Contribution (weight × normalised)"]) == ["—", "—", "—", "—"]


def test_scorecard_frame_with_geometric_aggregation():
    geo = scoring.evaluate(RAW, UNITS, V.build_scheme(SCHEME, {}, {}, "geometric", SCHEME.grade, {}))
    frame = V.scorecard_frame(geo, 1, ZH)
    # 100 · 0.8^0.25 · 0.6^0.25 · 0.5^0.5 = 100 · 0.9457 · 0.8801 · 0.7071 = 58.86
    product = 0.8 ** 0.25 * 0.6 ** 0.25 * 0.5 ** 0.5
    assert frame.iloc[-1]["几何平均因子"] == f"{product:.4f}"
    assert 100 * product == pytest.approx(geo.table.loc[1, "score"])


# ---------------------------------------------------------------------------- instruments
ANNUAL = pd.DataFrame({
    "id": [10, 11, 12],
    "name_zh": ["液相色谱仪", "气象雷达", "电镜"], "name_en": ["HPLC", "", "SEM"],
    "unit_name": ["甲研究院", "戊站", "甲研究院"], "unit_name_en": ["Institute A", "", "Institute A"],
    "purpose": ["通用", "专用", "通用"],
    "effective_hours": [700.0, 600.0, 0.0], "external_hours": [350.0, 60.0, 0.0],
    "rated_hours": [1400.0, 800.0, 1400.0], "utilisation": [0.5, 0.75, 0.0],
})


def test_instrument_frame_by_utilisation_and_by_external_share():
    by_use = V.instrument_frame(ANNUAL, "utilisation", ZH)
    assert list(by_use["仪器名称"]) == ["气象雷达", "液相色谱仪", "电镜"]
    assert list(by_use["利用率（%）"]) == [75.0, 50.0, 0.0]
    by_share = V.instrument_frame(ANNUAL, "external_share", EN)
    assert list(by_share["Instrument"]) == ["HPLC", "气象雷达", "SEM"]  # no English name: Chinese
    assert by_share["External share (%)"].tolist()[:2] == [50.0, 10.0]
    assert math.isnan(by_share["External share (%)"].iloc[2])  # no use: no share, last
    assert list(by_share["Rank"]) == [1, 2, 3]


# ---------------------------------------------------------------------------- robustness
def test_rank_band_frame_orders_by_current_rank():
    mc = pd.DataFrame({"base_rank": [2, 1], "median_rank": [2.0, 1.0], "p5_rank": [1.0, 1.0], "p95_rank": [3.0, 2.0]},
                      index=[7, 8])
    frame = V.rank_band_frame(mc, pd.Series({7: "甲", 8: "乙"}))
    assert frame.values.tolist() == [["乙", 1.0, 1.0, 1.0, 2.0], ["甲", 2.0, 2.0, 1.0, 3.0]]
    chart = V.rank_band_chart(frame, {k: k for k in ("unit", "rank", "base_rank", "median_rank", "p5_rank", "p95_rank")})
    assert len(chart.layer) == 3


def test_drop_one_frame_worked_by_hand(result):
    rated = result.rated()
    drop = scoring.drop_one_ranks(result.normalised.loc[rated.index], result.weights, rated["share"])
    names = UNITS["name"]
    frame = V.drop_one_frame(drop, rated["rank"], names, ZH)
    assert list(frame.columns) == ["去掉的指标", "Spearman ρ", "Kendall τ", "名次变化的单位数", "最大变化"]
    # Without open_ratio A and C tie at 53.33 and the share score (50 > 30) keeps A ahead: no move.
    assert frame.iloc[0].tolist() == ["对外开放比例", 1.0, 1.0, 0, "–"]
    # Without external_share A and C tie at 70, A first on the share score, B falls from 1 to 3:
    # d² = 1 + 4 + 1 → ρ = 1 − 6·6/(3·8) = −0.5; one concordant pair of three → τ = −1/3.
    assert frame.iloc[2].tolist() == ["对外服务机时占比", -0.5, -0.3333, 3, "↓2 乙检测中心"]


def test_publications_frame():
    pubs = pd.DataFrame({"id": [3], "year": [2025], "scheme_id": [1], "scheme_name": ["默认方案"], "scheme_version": [2],
                         "fingerprint": ["ab" * 32], "published_at": [pd.Timestamp("2026-01-05 08:30:00")],
                         "published_by": ["evaluation page"]})
    frame = V.publications_frame(pubs, EN)
    assert frame.values.tolist() == [[3, "2026-01-05 08:30", "默认方案 v2", "evaluation page", "ab" * 32]]


# ---------------------------------------------------------------------------- scheme versions
def test_fixed_weight_scheme_carries_override_weights_as_its_own():
    # Global 0.5 / 0.3 / 0.2 on one indicator per group: group weights 50 / 30 / 20, each
    # indicator 100 % of its group, so the stored scheme's own weights give back the override.
    weights = pd.Series({"open_ratio": 0.5, "effective_hours_ratio": 0.3, "external_share": 0.2})
    fixed = V.fixed_weight_scheme(SCHEME, weights)
    assert [g.weight for g in fixed.groups] == pytest.approx([50, 30, 20])
    assert [i.weight for i in fixed.indicators] == pytest.approx([100, 100, 100])
    assert list(scoring.indicator_weights(fixed)) == pytest.approx([0.5, 0.3, 0.2])
    assert V.fixed_weight_scheme(SCHEME, None) is SCHEME


def test_fixed_weight_scheme_with_two_indicators_in_a_group_and_an_empty_group():
    scheme = two_in_org(1, 3, 1)
    weights = pd.Series({"open_ratio": 0.3, "online_booking": 0.1, "effective_hours_ratio": 0.6, "external_share": 0.0})
    fixed = V.fixed_weight_scheme(scheme, weights)
    # org: 0.4 → 40, within 0.3/0.4 = 75 and 25; use 60; share 0 keeps its indicator weight 1.
    assert [g.weight for g in fixed.groups] == pytest.approx([40, 60, 0])
    assert [i.weight for i in fixed.indicators] == pytest.approx([75, 25, 100, 1])
    assert list(scoring.indicator_weights(fixed)) == pytest.approx([0.3, 0.1, 0.6, 0.0])


def test_same_definition_ignores_only_the_version_number():
    assert V.same_definition(SCHEME, replace(SCHEME, version=7))
    assert not V.same_definition(SCHEME, replace(SCHEME, name="另一方案"))
    assert not V.same_definition(SCHEME, SCHEME.with_weights({"org": 2}))


def test_schemes_frame_marks_the_newest_version_in_force():
    schemes = pd.DataFrame({"id": [4, 1], "name": ["编辑方案", "默认方案"], "version": [2, 1],
                            "created_at": [pd.Timestamp("2026-02-01 09:15:00"), pd.Timestamp("2026-01-05 08:30:00")],
                            "created_by": ["evaluation page", "system"]})
    frame = V.schemes_frame(schemes, ZH)
    assert list(frame.columns) == ["方案名称", "版本", "保存时间（UTC）", "保存人", "状态"]
    assert frame.values.tolist() == [["编辑方案", 2, "2026-02-01 09:15", "evaluation page", "现行"],
                                     ["默认方案", 1, "2026-01-05 08:30", "system", ""]]
