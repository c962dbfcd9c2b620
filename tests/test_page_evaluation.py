"""The evaluation page, driven through the whole app with AppTest.

Most tests run on the demo store (80 instruments: 29 rated units, 4 with too few instruments,
2 that did not report). The expected rankings are computed in the test with the domain functions
(dashboard.indicators, dashboard.scoring, dashboard.weighting) for the weights the test sets, so
a page that ignored a widget, or applied it differently, would show another order.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from dashboard import evaluation, indicators, publication, scoring, weighting
from dashboard.auth import Actor
from dashboard.i18n import Translator
from dashboard.scheme import GROUP_IDS, Scheme
from dashboard.ui import evaluation_frames as frames
from dashboard.ui import evaluation_view as view
from dashboard.ui.context import PageContext
from dashboard.ui.evaluation_frames import WeightChoice
from models import evaluations as E
from models import queries
from models.db import data_revision, init_store, make_engine
from models.services.imports import apply_import
from models.services.demo import load_demo
from tests.apptest_utils import open_app, wkey
from tests.factories import add_instrument, add_unit, add_usage, small_registry

PAGE = "pages/evaluation.py"
YEAR = 2025


@pytest.fixture
def demo_url(db_url):
    eng = make_engine(db_url)
    init_store(eng)
    load_demo(eng, instruments=80)
    eng.dispose()
    return db_url


def _domain(db_url) -> tuple[indicators.IndicatorTable, Scheme]:
    eng = make_engine(db_url)
    try:
        scheme = evaluation.current_scheme(eng)
        table = indicators.compute_indicators(indicators.load_inputs(eng, YEAR), YEAR, scheme)
    finally:
        eng.dispose()
    return table, scheme


def expected_order(table, scheme: Scheme, weights: pd.Series | None = None) -> list[str]:
    """Unit names of the rated units in rank order, as dashboard.scoring ranks them."""
    result = scoring.evaluate(table.raw, table.units, scheme, weights)
    return list(table.units.loc[result.rated().index, "name"])


def frame_with(at, column: str) -> pd.DataFrame:
    """The first data frame or static table on the page with `column` (AppTest renders every
    tab)."""
    return next(el.value for el in list(at.dataframe) + list(at.table) if column in el.value.columns)


def ranking(at, unit_column: str = "单位名称", move_column: str = "名次变化") -> pd.DataFrame:
    return frame_with(at, move_column)


def shown_order(at) -> list[str]:
    return list(ranking(at)["单位名称"])


def notice_fingerprint(at) -> str:
    """The fingerprint under the notice downloads (that of the live ranking by default)."""
    return next(c.value for c in at.caption if c.value.startswith("结果指纹：")).split("：", 1)[1]


def fingerprint_of(table, scheme: Scheme, weights: pd.Series | None = None) -> str:
    """The fingerprint publishing the ranking of `table` under `scheme` would store."""
    return scoring.result_fingerprint(scoring.evaluate(table.raw, table.units, scheme, weights),
                                      publication.data_fingerprint(table))


def test_demo_store_ranks_several_units_as_scoring_does(monkeypatch, demo_url):
    table, scheme = _domain(demo_url)
    statuses = table.units["status"].value_counts()
    assert statuses["rated"] >= 10 and statuses["too_few_instruments"] >= 1 and statuses["not_reported"] >= 1
    at = open_app(monkeypatch, demo_url, page=PAGE)
    shown = ranking(at)
    expected = scoring.evaluate(table.raw, table.units, scheme)
    assert list(shown["单位名称"]) == expected_order(table, scheme)
    assert list(shown["名次"]) == list(expected.rated()["rank"].astype(int))
    assert np.allclose(shown["综合得分"], expected.rated()["score"].round(2))
    # No publication yet: the baseline is the ranking under the scheme in force, so nothing moved.
    assert set(shown["名次变化"]) == {"–"}
    assert any("尚未发布" in c.value for c in at.caption)
    unrated = frame_with(at, "原因")
    reasons = dict(zip(unrated["单位名称"], unrated["原因"]))
    not_reported = table.units[table.units["status"] == "not_reported"]["name"]
    too_few = table.units[table.units["status"] == "too_few_instruments"]["name"]
    assert all(reasons[n] == "本年度未报送仪器使用情况，评为末等" for n in not_reported)
    assert all(reasons[n] == "在评仪器少于 2 台套，不参加排名" for n in too_few)
    grades = dict(zip(unrated["单位名称"], unrated["评价等级"]))
    assert {grades[n] for n in not_reported} == {"较差"} and {grades[n] for n in too_few} == {"—"}


def test_changing_a_group_weight_reranks_as_scoring_says(monkeypatch, demo_url):
    table, scheme = _domain(demo_url)
    before = expected_order(table, scheme)
    changed = scheme.with_weights(group_weights={"use": 0.0, "share": 60.0})
    after = expected_order(table, changed)
    assert after != before  # the change matters on this store, so the test can tell
    at = open_app(monkeypatch, demo_url, page=PAGE)
    assert shown_order(at) == before
    at.number_input(key=wkey(at, "eval_group_use")).set_value(0.0).run()
    at.number_input(key=wkey(at, "eval_group_share")).set_value(60.0).run()
    assert shown_order(at) == after
    assert notice_fingerprint(at) == fingerprint_of(table, changed) != fingerprint_of(table, scheme)
    # Rank moves against the baseline (the unchanged ranking): baseline rank − current rank.
    moves = dict(zip(ranking(at)["单位名称"], ranking(at)["名次变化"]))
    climber = next(name for name in after if after.index(name) < before.index(name))
    assert moves[climber] == f"↑{before.index(climber) - after.index(climber)}"
    # The renormalised weights: 25 / (25 + 0 + 60) for the organisation group.
    weights = frame_with(at, "全局权重（%）")
    org = weights[weights["一级指标"] == "组织管理"]["一级指标权重（%）"].iloc[0]
    assert org == pytest.approx(100 * 25 / 85, abs=0.01)


def test_ahp_judgements_set_the_group_weights_as_weighting_ahp_says(monkeypatch, demo_url):
    table, scheme = _domain(demo_url)
    at = open_app(monkeypatch, demo_url, page=PAGE)
    at.radio(key=wkey(at, "eval_method")).set_value("ahp").run()
    judgements = {(0, 1): "1/3", (0, 2): "1/5", (1, 2): "1/2"}  # 共享服务 > 运行使用 > 组织管理
    for (i, j), label in judgements.items():
        at.select_slider(key=wkey(at, f"eval_ahp_{i}_{j}")).set_value(label).run()
    ahp = weighting.ahp(weighting.matrix_from_judgements(3, {(0, 1): 1 / 3, (0, 2): 1 / 5, (1, 2): 1 / 2}))
    assert ahp.consistent
    shown = frame_with(at, "权重（%）")
    assert list(shown["权重（%）"]) == pytest.approx(list(100 * ahp.weights), abs=0.01)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["一致性比率 CR"] == f"{ahp.cr:.4f}"
    assert metrics["随机一致性指标 RI"] == "0.58"
    assert any("Saaty (1980)" in c.value for c in at.caption)
    expected = expected_order(table, scheme.with_weights(group_weights=dict(zip(GROUP_IDS, ahp.weights))))
    assert shown_order(at) == expected
    assert expected != expected_order(table, scheme)


def test_inconsistent_ahp_judgements_warn_and_are_not_applied(monkeypatch, demo_url):
    table, scheme = _domain(demo_url)
    at = open_app(monkeypatch, demo_url, page=PAGE)
    at.radio(key=wkey(at, "eval_method")).set_value("ahp").run()
    # 组织管理 ≫ 运行使用, 运行使用 ≫ 共享服务, yet 共享服务 ≫ 组织管理: a cycle.
    for (i, j), label in {(0, 1): "7", (0, 2): "1/7", (1, 2): "7"}.items():
        at.select_slider(key=wkey(at, f"eval_ahp_{i}_{j}")).set_value(label).run()
    ahp = weighting.ahp(weighting.matrix_from_judgements(3, {(0, 1): 7, (0, 2): 1 / 7, (1, 2): 7}))
    assert not ahp.consistent
    warning = next(w.value for w in at.warning if "一致性不可接受" in w.value)
    assert f"CR = {ahp.cr:.4f}" in warning
    worst = ahp.worst_judgements[0]
    names = ("组织管理", "运行使用", "共享服务")
    assert f"“{names[worst.i]}”对“{names[worst.j]}”判断为 {'7' if worst.judged > 1 else '1/7'}" in warning
    # Not applied: the ranking keeps the scheme's group weights.
    assert shown_order(at) == expected_order(table, scheme)
    assert at.checkbox(key=wkey(at, "eval_publish_confirm")).disabled


def test_entropy_weights_rank_as_weighting_entropy_says(monkeypatch, demo_url):
    table, scheme = _domain(demo_url)
    at = open_app(monkeypatch, demo_url, page=PAGE)
    at.radio(key=wkey(at, "eval_method")).set_value("entropy").run()
    rated = table.units.index[table.units["status"] == "rated"]
    normalised = scoring.normalise_table(table.raw.loc[rated, scheme.indicator_ids()], scheme)
    w = pd.Series(weighting.entropy(normalised.to_numpy(float)), index=scheme.indicator_ids())
    assert shown_order(at) == expected_order(table, scheme, w)
    weights = frame_with(at, "全局权重（%）")
    assert list(weights["全局权重（%）"]) == pytest.approx(list((100 * w).round(2)), abs=0.01)


def test_quota_grading_and_the_fourth_label_grade_as_scoring_says(monkeypatch, demo_url):
    table, scheme = _domain(demo_url)
    at = open_app(monkeypatch, demo_url, page=PAGE)
    at.radio(key=wkey(at, "eval_grade_mode")).set_value("quotas").run()
    at.number_input(key=wkey(at, "eval_quota_0")).set_value(10.0).run()
    at.radio(key=wkey(at, "eval_fourth")).set_value("不合格").run()
    rule = replace(scheme.grade, mode="quotas", quotas=(0.10, 0.30), fourth_label="不合格")
    expected = scoring.evaluate(table.raw, table.units, replace(scheme, grade=rule))
    shown = ranking(at)
    assert list(shown["评价等级"]) == list(expected.rated()["grade"])
    assert list(shown["评价等级"]).count("优秀") == 3  # ⌊0.10 · 29 + 0.5⌋
    unrated = frame_with(at, "原因")
    assert "不合格" in set(unrated["评价等级"])  # units that did not report get the fourth label


def test_settings_survive_a_method_switch_and_a_language_switch(monkeypatch, demo_url):
    table, scheme = _domain(demo_url)
    at = open_app(monkeypatch, demo_url, page=PAGE)
    at.number_input(key=wkey(at, "eval_group_org")).set_value(60.0).run()
    at.radio(key=wkey(at, "eval_method")).set_value("critic").run()
    at.radio(key=wkey(at, "eval_method")).set_value("direct").run()
    assert at.number_input(key=wkey(at, "eval_group_org")).value == 60.0
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception
    assert at.number_input(key=wkey(at, "eval_group_org")).value == 60.0
    expected = scoring.evaluate(table.raw, table.units, scheme.with_weights(group_weights={"org": 60.0}))
    names = table.units["name_en"].where(table.units["name_en"].fillna("") != "", table.units["name"])
    assert list(frame_with(at, "Rank move")["Unit"]) == list(names.loc[expected.rated().index])


def test_scorecard_contributions_add_up_to_the_score(monkeypatch, demo_url):
    table, scheme = _domain(demo_url)
    result = scoring.evaluate(table.raw, table.units, scheme)
    third = result.rated().index[2]
    at = open_app(monkeypatch, demo_url, page=PAGE)
    at.selectbox(key=wkey(at, "eval_unit")).set_value(third).run()
    card = next(tb.value for tb in at.table if "贡献分（权重 × 标准化得分）" in tb.value.columns)
    total = card.iloc[-1]
    assert total["一级指标"] == "合计"
    assert float(total["贡献分（权重 × 标准化得分）"]) == pytest.approx(result.table.loc[third, "score"], abs=0.001)
    contributions = card.iloc[:-1]["贡献分（权重 × 标准化得分）"].astype(float)
    assert contributions.sum() == pytest.approx(result.table.loc[third, "score"], abs=0.01)
    expected = scoring.scorecard(result, third)
    assert list(card.iloc[:-1]["标准化得分（0–100）"]) == [f"{v:,.2f}" for v in expected["normalised"]]


def test_peer_filter_ranks_within_the_unit_type(monkeypatch, demo_url):
    table, scheme = _domain(demo_url)
    result = scoring.evaluate(table.raw, table.units, scheme)
    rated_units = table.units.loc[result.rated().index]
    labs = rated_units[rated_units["unit_type"] == "检验检测"]["name"].tolist()
    assert len(labs) >= 2
    at = open_app(monkeypatch, demo_url, page=PAGE)
    at.multiselect(key=wkey(at, "eval_filter_types")).set_value(["检验检测"]).run()
    shown = ranking(at)
    assert list(shown["单位名称"]) == labs
    assert list(shown["组内名次"]) == list(range(1, len(labs) + 1))
    assert set(shown["单位类型"]) == {"检验检测"}


def test_monte_carlo_runs_on_request(monkeypatch, demo_url):
    at = open_app(monkeypatch, demo_url, page=PAGE)
    assert any("运行模拟" in i.value for i in at.info)
    charts_before = len(at.get("vega_lite_chart"))
    at.number_input(key=wkey(at, "eval_mc_n")).set_value(200).run()
    at.button(key="eval_mc_run").click().run()
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == charts_before + 1
    assert any("200 次模拟" in c.value and "2016" in c.value for c in at.caption)
    # A weight change makes the stored run stale.
    at.number_input(key=wkey(at, "eval_group_org")).set_value(50.0).run()
    assert any("已失效" in i.value for i in at.info)


def test_publishing_twice_gives_one_publication_with_the_same_fingerprint(monkeypatch, demo_url):
    at = open_app(monkeypatch, demo_url, page=PAGE)
    shown = notice_fingerprint(at)
    assert at.button(key="eval_publish").disabled  # not confirmed yet
    at.checkbox(key=wkey(at, "eval_publish_confirm")).check().run()
    at.button(key="eval_publish").click().run()
    assert not at.exception
    first = next(s.value for s in at.success if "已发布" in s.value)
    eng = make_engine(demo_url)
    pubs = E.published_evaluations(eng, YEAR)
    assert len(pubs) == 1
    fingerprint = pubs["fingerprint"].iloc[0]
    assert fingerprint == shown  # the live ranking's fingerprint, shown before publishing, is what was stored
    assert fingerprint in first
    assert any("完全一致" in s.value and fingerprint in s.value for s in at.success)
    assert list(frame_with(at, "结果指纹（SHA-256）")["结果指纹（SHA-256）"]) == [fingerprint]
    assert any("名次变化与已发布结果（第" in c.value for c in at.caption)  # the baseline is now the publication

    at.checkbox(key=wkey(at, "eval_publish_confirm")).check().run()
    at.button(key="eval_publish").click().run()
    second = next(s.value for s in at.success if "相同结果已发布过" in s.value)
    assert fingerprint in second
    assert len(E.published_evaluations(eng, YEAR)) == 1
    eng.dispose()


def test_the_notice_of_the_live_ranking_is_made_on_request_with_the_fingerprint_shown(monkeypatch, demo_url):
    at = open_app(monkeypatch, demo_url, page=PAGE)
    at.number_input(key=wkey(at, "eval_group_use")).set_value(10.0).run()
    table, scheme = _domain(demo_url)
    live = scheme.with_weights(group_weights={"use": 10.0})
    assert notice_fingerprint(at) == fingerprint_of(table, live)
    eng = make_engine(demo_url)
    try:
        ctx = PageContext(lang="zh", t=Translator("zh"), year=YEAR, engine=eng, revision=data_revision(eng))
        choice = WeightChoice(live, None, "direct", applied=True)
        result = frames.evaluate(table, choice)
        make, fingerprint = view.notice_source(ctx, YEAR, "current", choice, result, table)
        snap = make()
        expected = evaluation.build_snapshot(eng, YEAR, live, result, table)
    finally:
        eng.dispose()
    assert fingerprint == snap["fingerprint"] == notice_fingerprint(at)
    assert {k: v for k, v in snap.items() if k != "created_at"} == {k: v for k, v in expected.items() if k != "created_at"}
    rows = publication.notice_csv(snap, Translator("zh")).decode("utf-8-sig").splitlines()
    assert len(rows) == 1 + len(table.units)


def test_new_usage_imported_through_the_service_shows_at_the_next_run(monkeypatch, demo_url):
    """Every cache of the page (indicator table, data fingerprint, ranking under the scheme in
    force, instrument table) is keyed by the data revision, which a write service bumps."""
    table, scheme = _domain(demo_url)
    before = scoring.evaluate(table.raw, table.units, scheme)
    last = before.rated().index[-1]  # the lowest-ranked unit gets a very busy year
    at = open_app(monkeypatch, demo_url, page=PAGE)
    assert shown_order(at) == expected_order(table, scheme)
    fingerprint = notice_fingerprint(at)
    eng = make_engine(demo_url)
    try:
        instruments = queries.instruments(eng)
        mine = instruments[instruments["unit_id"] == last]
        records = [{"unit": unit, "inner_id": inner, "year": YEAR, "month": m, "effective_hours": 350.0,
                    "external_hours": 200.0} for unit, inner in zip(mine["unit_name"], mine["inner_id"]) for m in range(1, 13)]
        counts = apply_import(eng, "usage", records, actor=Actor(name="tester", role="admin"), file_name="usage.csv",
                              due_day=10)
    finally:
        eng.dispose()
    assert counts.changed
    at.run()
    assert not at.exception
    after, _ = _domain(demo_url)
    assert shown_order(at) == expected_order(after, scheme) != expected_order(table, scheme)
    shown = ranking(at)
    expected = scoring.evaluate(after.raw, after.units, scheme)
    assert np.allclose(shown["综合得分"], expected.rated()["score"].round(2))
    # The baseline (the ranking under the scheme in force) is recomputed too: nothing moved.
    assert set(shown["名次变化"]) == {"–"}
    assert notice_fingerprint(at) == fingerprint_of(after, scheme) != fingerprint
    hours = frame_with(at, "有效机时（小时）")
    busy = hours[hours["仪器名称"].isin(set(mine["name_zh"])) & (hours["单位名称"] == mine["unit_name"].iloc[0])]
    assert len(busy) == len(mine) and set(busy["有效机时（小时）"]) == {4200.0}


def test_english_page_shows_english_labels(monkeypatch, demo_url):
    at = open_app(monkeypatch, demo_url, page=PAGE, lang="en")
    assert at.title[0].value == "Open-sharing performance evaluation"
    # The default scheme's name (stored in Chinese) is shown in English, no Chinese in the caption.
    caption = next(c.value for c in at.main.caption if c.value.startswith("Evaluation year"))
    assert "Alxa League research-instrument open-sharing performance evaluation (default scheme)" in caption
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in caption)
    shown = frame_with(at, "Rank move")
    assert list(shown.columns[:6]) == ["Rank", "Rank move", "Unit", "Unit type", "Location", "Score"]
    assert list(shown.columns[6:]) == ["Organisation", "Use", "Sharing", "Grade", "Grade change"]
    assert set(shown["Grade"]) <= {"Excellent", "Good", "Pass", "Poor"}
    definitions = frame_with(at, "Formula")
    assert "Open ratio" in set(definitions["Indicator"])
    assert set(definitions["Direction"]) == {"higher is better"}
    assert definitions["Global weight (%)"].sum() == pytest.approx(100, abs=0.05)
    assert at.radio(key=wkey(at, "eval_method")).options == ["Direct entry", "AHP", "Entropy", "CRITIC",
                                                              "Subjective + objective blend"]
    reasons = set(frame_with(at, "Reason")["Reason"])
    assert "No usage reported for the year: lowest grade" in reasons


def test_store_without_usage_explains_what_is_needed(monkeypatch, db_url):
    eng = make_engine(db_url)
    init_store(eng)
    unit = add_unit(eng, "只有名录的单位")
    add_instrument(eng, unit, "X-1", "测试仪器")
    eng.dispose()
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert not at.exception
    assert "尚无仪器使用数据" in at.info[0].value
    assert at.get("page_link")
    assert not at.dataframe and not at.get("tab")


def test_year_without_rated_units_says_why(monkeypatch, db_url):
    eng = make_engine(db_url)
    init_store(eng)
    for name, inner in (("单台套研究所", "A-1"), ("单台套检测站", "B-1")):  # min_instruments is 2
        unit = add_unit(eng, name)
        add_usage(eng, add_instrument(eng, unit, inner, "测试仪器"), YEAR, [10.0] * 12)
    eng.dispose()
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert not at.exception
    assert "2025 年没有单位参评" in at.info[0].value
    unrated = frame_with(at, "原因")
    assert list(unrated["单位名称"]) == ["单台套研究所", "单台套检测站"]
    assert set(unrated["原因"]) == {"在评仪器少于 2 台套，不参加排名"}
    assert not at.get("tab") and not at.main.button


def test_a_unit_with_one_instrument_is_listed_apart(monkeypatch, db_url):
    eng = make_engine(db_url)
    init_store(eng)
    small_registry(eng)  # the institute has two instruments, the weather station one
    eng.dispose()
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert not at.exception
    assert list(frame_with(at, "原因")["单位名称"]) == ["额济纳旗气象站"]
    assert list(ranking(at)["单位名称"]) == ["阿拉善盟测试研究院"]
    assert any("参评单位少于 2 家" in i.value for i in at.info)  # nothing to test for robustness


def _stored_schemes(db_url) -> pd.DataFrame:
    eng = make_engine(db_url)
    try:
        return E.indicator_schemes(eng)
    finally:
        eng.dispose()


def _scheme_in_force(db_url) -> Scheme:
    eng = make_engine(db_url)
    try:
        return evaluation.current_scheme(eng)
    finally:
        eng.dispose()


def test_saving_the_weights_stores_one_new_scheme_version(monkeypatch, demo_url):
    table, scheme = _domain(demo_url)
    before = _stored_schemes(demo_url)
    same_name = before[before["name"] == scheme.name]["version"]
    version = int(same_name.max()) + 1 if len(same_name) else 1  # the store numbers per name
    at = open_app(monkeypatch, demo_url, page=PAGE)
    assert at.text_input(key=wkey(at, "eval_scheme_name")).value == scheme.name
    at.number_input(key=wkey(at, "eval_group_use")).set_value(10.0).run()
    at.button(key="eval_scheme_save").click().run()
    assert not at.exception
    after = _stored_schemes(demo_url)
    assert len(after) == len(before) + 1
    assert (after["name"].iloc[0], int(after["version"].iloc[0])) == (scheme.name, version)
    edited = scheme.with_weights(group_weights={"use": 10.0})
    assert _scheme_in_force(demo_url) == replace(edited, version=version)  # the definition carries its number
    assert any(f"第 {version} 版，现为现行方案" in s.value for s in at.success)
    # The page now runs on the stored version: caption, versions list, ranking, baseline.
    assert any(f"（第 {version} 版）" in c.value for c in at.caption)
    versions = frame_with(at, "保存人")
    assert versions.iloc[0].tolist()[:2] == [scheme.name, version] and versions["状态"].iloc[0] == "现行"
    assert shown_order(at) == expected_order(table, edited)
    assert set(ranking(at)["名次变化"]) == {"–"}  # compared with the ranking under the new scheme

    at.button(key="eval_scheme_save").click().run()  # unchanged: nothing new
    assert len(_stored_schemes(demo_url)) == len(before) + 1
    assert any(f"第 {version} 版（现行方案），未保存新版本" in i.value for i in at.info)

    reopened = open_app(monkeypatch, demo_url, page=PAGE)
    assert reopened.number_input(key=wkey(reopened, "eval_group_use")).value == 10.0
    assert shown_order(reopened) == expected_order(table, edited)


def test_saving_entropy_weights_stores_them_as_the_scheme_weights(monkeypatch, demo_url):
    table, scheme = _domain(demo_url)
    rated = table.units.index[table.units["status"] == "rated"]
    normalised = scoring.normalise_table(table.raw.loc[rated, scheme.indicator_ids()], scheme)
    w = pd.Series(weighting.entropy(normalised.to_numpy(float)), index=scheme.indicator_ids())
    at = open_app(monkeypatch, demo_url, page=PAGE, lang="en")
    at.radio(key=wkey(at, "eval_method")).set_value("entropy").run()
    at.text_input(key=wkey(at, "eval_scheme_name")).set_value("Entropy weights 2025").run()
    at.button(key="eval_scheme_save").click().run()
    assert not at.exception
    assert any('Saved as "Entropy weights 2025" version 1' in s.value for s in at.success)
    stored = _scheme_in_force(demo_url)
    assert (stored.name, stored.version) == ("Entropy weights 2025", 1)
    assert list(scoring.indicator_weights(stored)) == pytest.approx(list(w), abs=1e-12)
    # Switching back to direct entry shows the stored weights, which rank as entropy did.
    at.radio(key=wkey(at, "eval_method")).set_value("direct").run()
    names = table.units["name_en"].where(table.units["name_en"].fillna("") != "", table.units["name"])
    expected = scoring.evaluate(table.raw, table.units, scheme, w)
    assert list(frame_with(at, "Rank move")["Unit"]) == list(names.loc[expected.rated().index])


def test_settings_with_problems_cannot_be_saved(monkeypatch, demo_url):
    at = open_app(monkeypatch, demo_url, page=PAGE)
    assert not at.button(key="eval_scheme_save").disabled
    for group in GROUP_IDS:
        at.number_input(key=wkey(at, f"eval_group_{group}")).set_value(0.0).run()
    assert at.button(key="eval_scheme_save").disabled
    assert any("当前设置未生效" in c.value and "不能保存" in c.value for c in at.caption)
    at.number_input(key=wkey(at, "eval_group_org")).set_value(1.0).run()
    at.text_input(key=wkey(at, "eval_scheme_name")).set_value("  ").run()
    assert at.button(key="eval_scheme_save").disabled
    assert any("请填写方案名称" in c.value for c in at.caption)
