"""The layout analysis page, driven through the whole app with AppTest.

The store holds the fixture of tests/test_layout.py (its docstring works out every number):
eight instruments in three banners and zone Z01, and ten service records of 2025. Demand hours are
the 服务量 by default; test_demand_basis_and_idle_line switches the page to the duration basis.
"""

from __future__ import annotations

import json

import pandas as pd
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

from models.db import init_store, make_engine
from tests.apptest_utils import open_app, wkey
from tests.factories import add_instrument, add_service, add_unit, add_usage, filled_store
from tests.test_layout import INSTRUMENTS, SERVICES

PAGE = "pages/layout.py"


def fill(engine, with_usage: bool = True, with_services: bool = True) -> None:
    units = {}
    ids = {}
    for i, asset, cls, region, purpose, share, status, exempt, value, hours, holder in INSTRUMENTS:
        if holder not in units:
            units[holder] = add_unit(engine, holder, region_code="152921")
        ids[i] = add_instrument(engine, units[holder], asset, f"仪器{asset}", class_code=cls, region_code=region,
                                purpose=purpose, share_mode=share, status=status, exempt_reason=exempt,
                                original_value=value, name_en=f"Instrument {asset}")
        if with_usage:
            add_usage(engine, ids[i], 2025, [float(hours)])
    if with_services:
        for _, inst, user, client, start, end, qty, amount, who in SERVICES:
            add_service(engine, ids[inst], pd.Timestamp(start).to_pydatetime(), who, float(amount),
                        end_time=pd.Timestamp(end).to_pydatetime(), user_type=user, client_region_code=client,
                        service_quantity=float(qty))


def _store(db_url, **kw):
    filled_store(db_url, fill, **kw)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def helps(at) -> dict[str, str]:
    return {m.label: m.help for m in at.metric}


def charts(at):
    return at.get("vega_lite_chart")


def heatmap_cells(at) -> dict[tuple[str, str], float]:
    """(class label, region label) -> value of the heatmap (the first chart)."""
    frame = convert_arrow_bytes_to_pandas_df(charts(at)[0].proto.datasets[0].data.data)
    return {(c, r): v for c, r, v in zip(frame["cls"], frame["region"], frame["value"])}


def heatmap_texts(at) -> dict[tuple[str, str], str]:
    frame = convert_arrow_bytes_to_pandas_df(charts(at)[0].proto.datasets[0].data.data)
    return {(c, r): v for c, r, v in zip(frame["cls"], frame["region"], frame["text"])}


def map_properties(at) -> dict[str, dict]:
    spec = json.loads(charts(at)[1].proto.spec)
    return {f["properties"]["code"]: f["properties"] for f in spec["layer"][0]["data"]["values"]}


def map_colour_field(at) -> str:
    return json.loads(charts(at)[1].proto.spec)["layer"][1]["encoding"]["color"]["field"]  # over the grey outlines


def table_with(at, column: str) -> pd.DataFrame:
    """The first table that has `column`, or an empty frame."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    return pd.DataFrame()


def table_named(at, columns: list[str]) -> pd.DataFrame:
    """The table with exactly these columns."""
    return next(f.value for f in at.dataframe if list(f.value.columns) == columns)


def tables_with(at, column: str) -> list[pd.DataFrame]:
    return [f.value for f in at.dataframe if column in f.value.columns]


def test_cards_matrix_and_findings_in_chinese(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert at.title[0].value == "布局分析"
    assert at.radio(key=wkey(at, "layout_basis")).value == "quantity"
    assert metrics(at) == {
        "需求超出余量的格": "2",
        "同类低效仪器扎堆组": "1",
        "对外可用余量合计": "2,200 小时",
        "盟内外部需求机时": "388 小时",  # 服务量: 4 + 24 + 10 + 6 + 12 + 12 + 320
    }
    assert "盟外申请单位 8 小时、地区不明 2 小时" in helps(at)["盟内外部需求机时"]
    assert "共 9 个类别 × 地区格" in helps(at)["需求超出余量的格"]
    # Each card's ? starts with its formula, the saturation line in force filled in.
    assert helps(at)["需求超出余量的格"].startswith("需求缺口 > 0 的类别 × 地区格")
    assert helps(at)["对外可用余量合计"].startswith("对每台在用且共享模式为“外部共享”的仪器取 max(0, 1200 − 本年有效机时)")
    assert helps(at)["同类低效仪器扎堆组"].startswith("同一旗（园区计入所在旗）内、同一中类")
    assert helps(at)["盟内外部需求机时"].startswith("本年（按服务开始时间）用户类型为“外部用户”的服务记录")

    # Heatmap of instrument counts, zones rolled up into their banner.
    cells = heatmap_cells(at)
    assert cells[("01 分析仪器", "阿拉善左旗")] == 3
    assert cells[("01 分析仪器", "额济纳旗")] == 3
    assert cells[("07 大气探测仪器", "额济纳旗")] == 0
    assert len(cells) == 9

    matrix = table_with(at, "对外可用余量（小时）").set_index(["仪器类别", "地区"])
    left = matrix.loc[("01 分析仪器", "阿拉善左旗")]
    assert left["原值（万元）"] == 120.0
    assert left["平均利用率（%）"] == (1800 / 4200) * 100
    assert (left["低效运行（台套）"], left["对外可用余量（小时）"], left["外部需求机时（小时）"]) == (2, 1100.0, 38.0)
    assert (left["其中本地区服务（小时）"], left["其中外地区服务（小时）"], left["需求缺口（小时）"]) == (28.0, 10.0, -1062.0)

    over = tables_with(at, "其中外地区服务（小时）")[1]  # the first is the matrix table
    assert over["仪器类别"].tolist() == ["07 大气探测仪器", "01 分析仪器"]
    assert over["地区"].tolist() == ["额济纳旗", "阿拉善右旗"]
    assert over["需求缺口（小时）"].tolist() == [18.0, 12.0]

    groups = table_with(at, "涉及持有单位数")
    assert groups.iloc[0].tolist() == ["0105 色谱仪器", "阿拉善左旗", 2, 2, 800.0, 60.0]
    idle = table_with(at, "共享模式")
    assert idle["内部编码"].tolist() == ["B", "C"]
    assert idle["安放地区"].tolist() == ["阿拉善高新技术产业开发区（阿拉善经济开发区）", "阿拉善左旗"]
    assert idle["持有单位"].tolist() == ["乙单位", "甲单位"]

    uncovered = table_named(at, ["仪器类别", "地区", "外部服务次数", "外部需求机时（小时）", "服务金额（万元）"])
    assert uncovered["地区"].tolist() == ["额济纳旗", "阿拉善右旗"]
    assert uncovered["外部需求机时（小时）"].tolist() == [18.0, 12.0]


def test_definitions_quote_the_lines_in_force(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    table = next(e.table[0].value for e in at.expander if e.label == "指标口径（公式、单位、来源）")
    assert list(table.columns) == ["指标", "计算公式", "单位", "来源"]
    spare = table[table["指标"] == "对外可用余量"].iloc[0]
    assert "max(0, 1200 − 本年有效机时)" in spare["计算公式"] and "外部共享" in spare["计算公式"]
    assert "财科教〔2019〕1号" in spare["来源"]
    demand = table[table["指标"] == "外部需求（次数、机时、金额）"].iloc[0]["计算公式"]
    assert "机时取“服务量”（默认口径" in demand and "结束时间 − 开始时间" not in demand
    at.number_input(key=wkey(at, "layout_saturation")).set_value(1000.0).run()
    table = next(e.table[0].value for e in at.expander if e.label == "指标口径（公式、单位、来源）")
    assert "max(0, 1000 − 本年有效机时)" in table[table["指标"] == "对外可用余量"].iloc[0]["计算公式"]
    # 1000 h line: spare A 0, B 700, H 600, G 100; the Ejin gap of class 01 grows to 320 − 600 = −280.
    assert metrics(at)["对外可用余量合计"] == "1,400 小时"
    assert metrics(at)["需求超出余量的格"] == "2"  # still 07 × 额济纳旗 (18) and 01 × 阿拉善右旗 (12)
    at.radio(key=wkey(at, "layout_basis")).set_value("duration").run()
    table = next(e.table[0].value for e in at.expander if e.label == "指标口径（公式、单位、来源）")
    demand = table[table["指标"] == "外部需求（次数、机时、金额）"].iloc[0]["计算公式"]
    assert "机时取“结束时间 − 开始时间”（服务时长口径" in demand


def test_measure_selector_recolours_heatmap_and_map(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert map_colour_field(at) == "properties.instruments"
    at.selectbox(key=wkey(at, "layout_measure")).set_value("gap_hours").run()
    cells = heatmap_cells(at)
    assert cells[("01 分析仪器", "额济纳旗")] == -480.0  # 320 − 800
    assert cells[("01 分析仪器", "阿拉善左旗")] == -1062.0  # 38 − 1100
    assert cells[("07 大气探测仪器", "阿拉善左旗")] == -300.0
    assert cells[("07 大气探测仪器", "额济纳旗")] == 18.0
    spec = json.loads(charts(at)[0].proto.spec)
    scale = spec["layer"][1]["encoding"]["color"]["scale"]  # layer 0 is the grey background
    assert (scale["domainMid"], scale["domain"]) == (0, [-1062.0, 18.0])
    assert map_colour_field(at) == "properties.gap_hours"
    at.selectbox(key=wkey(at, "layout_measure")).set_value("mean_utilisation").run()
    texts = heatmap_texts(at)
    assert texts[("07 大气探测仪器", "阿拉善左旗")] == "112%"  # 900 h of 800 rated
    assert texts[("02 物理性能测试仪器", "额济纳旗")] == "—"  # only a scrapped instrument


def test_class_selector_filters_the_map_and_region_drills_down(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    # All classes by default: every instrument on the map.
    assert {c: p["instruments"] for c, p in map_properties(at).items()} == {"152921": 4, "152922": 0, "152923": 4}
    at.selectbox(key=wkey(at, "layout_class")).set_value("01").run()
    props = map_properties(at)
    assert {c: p["instruments"] for c, p in props.items()} == {"152921": 3, "152922": 0, "152923": 3}
    assert props["152923"]["gap_hours"] == -480.0 and props["152921"]["spare_hours"] == 1100.0
    assert props["152922"]["mean_utilisation"] is None
    assert any(c.value.startswith("旗按“01 分析仪器”的仪器数量着色") for c in at.caption)

    at.selectbox(key=wkey(at, "layout_region")).set_value("152923").run()
    drill = table_with(at, "负荷状态")
    assert drill["内部编码"].tolist() == ["D", "I", "H"]
    assert drill["负荷状态"].tolist() == ["饱和运行", "低效运行", "低效运行"]
    assert drill["对外可用余量（小时）"].tolist() == [0.0, 0.0, 800.0]
    texts = [m.value for m in at.markdown]
    assert "**01 分析仪器 · 额济纳旗**：3 台仪器" in texts
    assert "**01 分析仪器 · 额济纳旗** 的外部需求：1 次服务，320 小时，2万元，来自 1 家申请单位" in texts
    served = table_with(at, "提供服务的仪器所在地区")
    assert served["提供服务的仪器所在地区"].tolist() == ["阿拉善左旗"]
    assert served["外部需求机时（小时）"].tolist() == [320.0]

    at.selectbox(key=wkey(at, "layout_region")).set_value("152922").run()
    assert any("该地区没有这一类别的仪器" in i.value for i in at.info)
    assert table_with(at, "提供服务的仪器所在地区")["外部需求机时（小时）"].tolist() == [12.0]  # s8, served by B in Z01

    # Middle classes: "01" is no longer a class to pick, the picker falls back to all classes.
    at.radio(key=wkey(at, "layout_level")).set_value(4).run()
    assert not at.exception
    assert at.selectbox(key=wkey(at, "layout_class")).value == ""
    assert "**全部类别 · 阿拉善右旗**：0 台仪器" in [m.value for m in at.markdown]


def test_english_middle_classes_and_zones(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    assert at.title[0].value == "Layout analysis"
    assert metrics(at)["Spare capacity"] == "2,200 h"
    at.radio(key=wkey(at, "layout_level")).set_value(4).run()
    at.toggle(key=wkey(at, "layout_zones")).set_value(True).run()
    cells = heatmap_cells(at)
    assert cells[("0105 Chromatographs", "Alxa Left Banner (excl. zones)")] == 2  # A and C
    assert cells[("0105 Chromatographs", "Alxa Economic Development Zone")] == 1  # B
    assert len(cells) == 3 * 6  # three banners and three zones
    matrix = table_with(at, "Spare capacity (h)").set_index(["Instrument class", "Region"])
    zone = matrix.loc[("0105 Chromatographs", "Alxa Economic Development Zone")]
    assert (zone["Outside demand (h)"], zone["of which served in the region (h)"], zone["Gap (h)"]) == (24.0, 0.0, -876.0)
    # The region picker now offers the zone; the drill-down of the zone lists B.
    at.selectbox(key=wkey(at, "layout_class")).set_value("0105").run()
    at.selectbox(key=wkey(at, "layout_region")).set_value("Z01").run()
    drill = table_with(at, "Load")
    assert drill["Asset no."].tolist() == ["B"]
    assert drill["Instrument"].tolist() == ["Instrument B"]
    assert drill["Load"].tolist() == ["Idle"]
    assert drill["Sharing mode"].tolist() == ["Open to outside users"]
    # Idle groups stay by banner: B and C together in Alxa Left Banner.
    groups = table_with(at, "Holding units")
    assert groups["Banner"].tolist() == ["Alxa Left Banner"]


def test_demand_basis_and_idle_line(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    at.radio(key=wkey(at, "layout_basis")).set_value("duration").run()
    assert metrics(at)["需求超出余量的格"] == "3"
    assert metrics(at)["盟内外部需求机时"] == "1,078 小时"  # 4 + 56 + 10 + 6 + 30 + 12 + 960
    matrix = table_with(at, "对外可用余量（小时）").set_index(["仪器类别", "地区"])
    left = matrix.loc[("01 分析仪器", "阿拉善左旗")]
    assert (left["外部需求机时（小时）"], left["其中本地区服务（小时）"], left["其中外地区服务（小时）"]) == (70.0, 60.0, 10.0)
    assert left["需求缺口（小时）"] == 70 - 1100
    over = tables_with(at, "其中外地区服务（小时）")[1]
    assert over["仪器类别"].tolist() == ["01 分析仪器", "01 分析仪器", "07 大气探测仪器"]
    assert over["地区"].tolist() == ["额济纳旗", "阿拉善右旗", "额济纳旗"]
    assert over["需求缺口（小时）"].tolist() == [160.0, 30.0, 18.0]  # 960 − 800; 30 − 0; 18 − 0
    uncovered = table_named(at, ["仪器类别", "地区", "外部服务次数", "外部需求机时（小时）", "服务金额（万元）"])
    assert uncovered["外部需求机时（小时）"].tolist() == [30.0, 18.0]
    at.number_input(key=wkey(at, "layout_idle")).set_value(400.0).run()
    assert metrics(at)["同类低效仪器扎堆组"] == "0"
    assert any("没有同一旗内同一中类两台及以上仪器同时低效运行" in s.value for s in at.success)


def test_empty_registry_shows_where_to_import(monkeypatch, db_url):
    # One unit but no instrument: the store is in use (no demo loading) and the registry is empty.
    eng = make_engine(db_url)
    init_store(eng)
    add_unit(eng, "阿拉善盟测试研究院")
    eng.dispose()
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert "仪器名录为空" in at.info[0].value
    assert not at.dataframe


def test_no_usage_year_stops_with_a_notice(monkeypatch, db_url):
    _store(db_url, with_usage=False, with_services=False)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert any("尚无月度使用记录" in i.value for i in at.info)
    assert not at.dataframe


def test_no_service_records_says_so(monkeypatch, db_url):
    _store(db_url, with_services=False)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    assert any("No service records of outside users in 2025" in i.value for i in at.info)
    assert metrics(at)["Demand over capacity"] == "0"
    assert any("No class × region cell has more outside demand" in s.value for s in at.success)
    assert any("Every region with outside demand" in s.value for s in at.success)
