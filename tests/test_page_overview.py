"""The overview page, driven through the whole app with AppTest on a small_registry store."""

from __future__ import annotations

import json

import pandas as pd
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

from tests.apptest_utils import open_app, wkey
from tests.factories import add_instrument, add_unit, add_usage, filled_store, small_registry

PAGE = "pages/overview.py"


def _store(db_url, fill=small_registry):
    filled_store(db_url, fill)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def charts(at):
    return at.get("vega_lite_chart")


def chart_data(chart) -> pd.DataFrame:
    """The (single) data frame a distribution chart was given."""
    return convert_arrow_bytes_to_pandas_df(chart.proto.datasets[0].data.data)


def map_features(at) -> dict[str, dict]:
    """Banner figures carried by the map, by region code; the map is the first chart."""
    spec = json.loads(charts(at)[0].proto.spec)
    shapes = spec["layer"][0]
    return {f["properties"]["code"]: f["properties"] for f in shapes["data"]["values"]}


def map_colour_field(at) -> str:
    return json.loads(charts(at)[0].proto.spec)["layer"][0]["encoding"]["color"]["field"]


def test_kpis_of_the_latest_year_in_chinese(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert at.title[0].value == "总览"
    assert metrics(at) == {
        "仪器数量": "3",
        "仪器原值合计": "318万元",
        "对外开放比例": "33.3%",
        "平均有效机时 / 平均额定机时": "680 / 1,200 小时",
        "对外服务机时合计": "480 小时",
        "低效运行仪器": "2",
    }
    helps = {m.label: m.help for m in at.metric}
    assert helps["对外开放比例"].endswith("\n\n3 台在用且非免于开放的仪器中 1 台外部共享")
    assert helps["平均有效机时 / 平均额定机时"].endswith("\n\n在用仪器 3 台的平均值（不含待报废 0 台）")
    # Every card's ? starts with its formula (the definitions table), even the plain counts.
    assert helps["仪器数量"].startswith("统计年末前已启用（或未填启用日期）的入库仪器台套数")
    assert helps["低效运行仪器"].startswith("在用仪器（运行状态不为“待报废”）中本年有效机时低于 800 小时的台套数")


def test_an_instrument_awaiting_scrapping_counts_in_the_census_only(monkeypatch, db_url):
    """small_registry plus OLD-1 (通用, 150,000 CNY, 外部共享, 待报废) with 2025 usage of 30 h/month
    (360 h, 120 h external): 4 instruments and 333万元, but the hour and openness cards stay those of
    the 3 instruments in service (680 / 1,200 h, 480 h, 1 of 3 open) — as on the utilisation page."""
    def fill(eng):
        ids = small_registry(eng)
        old = add_instrument(eng, ids["unit1"], "OLD-1", "旧离心机", original_value=150_000, status="待报废")
        add_usage(eng, old, 2025, [30.0] * 12, [10.0] * 12)

    _store(db_url, fill=fill)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert metrics(at) == {
        "仪器数量": "4",
        "仪器原值合计": "333万元",
        "对外开放比例": "33.3%",
        "平均有效机时 / 平均额定机时": "680 / 1,200 小时",
        "对外服务机时合计": "480 小时",
        "低效运行仪器": "2",
    }
    helps = {m.label: m.help for m in at.metric}
    assert helps["对外服务机时合计"].endswith("\n\n在用仪器 3 台之和（不含待报废 1 台）")
    assert helps["对外开放比例"].endswith("\n\n3 台在用且非免于开放的仪器中 1 台外部共享")


def test_switching_the_year_changes_the_hour_figures(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    at.sidebar.selectbox[0].set_value(2024).run()
    shown = metrics(at)
    assert shown["平均有效机时 / 平均额定机时"] == "200 / 1,200 小时"  # 600 h over 3 instruments
    assert shown["对外服务机时合计"] == "0 小时"
    assert shown["低效运行仪器"] == "3"
    assert shown["仪器数量"] == "3"
    assert at.caption[0].value.startswith("2024 年度")


def test_english_labels_and_money(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    assert at.title[0].value == "Overview"
    shown = metrics(at)
    assert shown["Instruments"] == "3"
    assert shown["Total original value"] == "CNY 3.18 million"
    assert shown["Avg effective hours / avg rated hours"] == "680 / 1,200 h"
    labels = chart_data(charts(at)[2])["label"].tolist()  # unit type distribution
    assert labels == ["Research institute", "Other"]
    funding = chart_data(charts(at)[4])
    assert funding["label"].tolist() == ["Central government funds", "Local government funds", "Unit's own funds"]


def test_definitions_table_names_formula_unit_and_source(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    table = at.expander[0].table[0].value
    assert list(table.columns) == ["指标", "计算公式", "单位", "来源"]
    avg = table[table["指标"] == "平均有效机时 / 平均额定机时"].iloc[0]
    assert "通用 1400 小时/年" in avg["计算公式"] and "专用 800 小时/年" in avg["计算公式"]
    assert "教高司条函〔2000〕010号" in avg["来源"]
    idle = table[table["指标"] == "低效运行仪器"].iloc[0]
    assert "低于 800 小时" in idle["计算公式"]


def test_map_colours_banners_by_the_chosen_measure(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    banners = map_features(at)
    assert {code: b["instruments"] for code, b in banners.items()} == {"152921": 2, "152922": 0, "152923": 1}
    assert banners["152923"]["value_wan"] == 250.0
    assert banners["152921"]["label"] == "阿拉善左旗"
    assert map_colour_field(at) == "properties.instruments"
    at.radio(key=wkey(at, "overview_measure")).set_value("value_wan").run()
    assert map_colour_field(at) == "properties.value_wan"
    # the distribution bars follow the same measure
    bars = json.loads(charts(at)[1].proto.spec)["layer"][0]["encoding"]["x"]["field"]
    assert bars == "value_wan"


def test_distribution_charts_get_aggregated_frames(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    by_class = chart_data(charts(at)[1])
    assert by_class[["label", "instruments", "value_wan"]].values.tolist() == [
        ["01 分析仪器", 2, 68.0], ["07 大气探测仪器", 1, 250.0]]
    bands = chart_data(charts(at)[3])
    assert bands["label"].tolist() == ["5–10万元", "10–50万元", "50–200万元", "≥200万元"]
    assert bands["instruments"].tolist() == [1, 0, 1, 1]


def test_empty_registry_shows_how_to_fill_it(monkeypatch, db_url):
    # One unit but no instrument: the store is in use (no demo loading) and the registry is empty.
    _store(db_url, fill=lambda eng: add_unit(eng, "空单位"))
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    assert "registry is empty" in at.info[0].value
    assert not at.metric
    assert not charts(at)


def test_registry_without_usage_shows_counts_and_no_hour_figures(monkeypatch, db_url):
    def registry_only(eng):
        unit = add_unit(eng, "阿拉善盟测试研究院")
        add_instrument(eng, unit, "HPLC-1", "高效液相色谱仪", original_value=600_000)

    _store(db_url, fill=registry_only)
    at = open_app(monkeypatch, db_url, page=PAGE)
    shown = metrics(at)
    assert (shown["仪器数量"], shown["仪器原值合计"], shown["对外开放比例"]) == ("1", "60万元", "100.0%")
    assert shown["平均有效机时 / 平均额定机时"] == shown["低效运行仪器"] == "—"
    assert at.caption[0].value == "尚无使用记录：机时类指标暂不可用，仅显示名录统计。"
