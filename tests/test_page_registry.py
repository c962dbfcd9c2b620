"""The registry page, driven through the whole app with AppTest on a small_registry store."""

from __future__ import annotations

from tests.apptest_utils import open_app, wkey
from tests.factories import add_unit, filled_store, small_registry

PAGE = "pages/registry.py"


def _store(db_url, fill=small_registry):
    return filled_store(db_url, fill)


def count_line(at) -> str:
    return at.markdown[0].value


def result_ids(at, column: str = "内部编码") -> list[str]:
    return at.dataframe[0].value[column].tolist()


def test_lists_every_instrument_with_localised_labels(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert count_line(at) == "共 **3** 台套，符合条件 **3** 台套"
    table = at.dataframe[0].value
    assert list(table.columns) == ["内部编码", "仪器名称", "持有单位", "安放地区", "分类", "原值（万元）", "仪器类别", "共享模式", "运行状态"]
    radar = table[table["内部编码"] == "RADAR-1"].iloc[0]
    assert (radar["安放地区"], radar["原值（万元）"], radar["共享模式"]) == ("额济纳旗", 250.0, "不共享")
    assert radar["分类"] == "070401 主动大气遥感仪器"


def test_english_headers_and_enumeration_labels(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    assert count_line(at) == "**3** of **3** instruments match"
    table = at.dataframe[0].value.set_index("Asset no.")
    assert table.loc["HPLC-1", "Sharing mode"] == "Open to outside users"
    assert table.loc["GC-1", "Sharing mode"] == "Shared internally"
    assert table.loc["RADAR-1", "Purpose"] == "Special purpose"
    assert table.loc["RADAR-1", "Location"] == "Ejin Banner"
    assert table.loc["RADAR-1", "Status"] == "Normal"


def test_search_text_matches_name_model_and_maker(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    at.text_input(key=wkey(at, "registry_text")).set_value("色谱").run()
    assert count_line(at) == "共 **3** 台套，符合条件 **2** 台套"
    assert result_ids(at) == ["HPLC-1", "GC-1"]
    at.text_input(key=wkey(at, "registry_text")).set_value("infinity").run()
    assert result_ids(at) == ["HPLC-1"]
    at.text_input(key=wkey(at, "registry_text")).set_value("找不到").run()
    assert count_line(at) == "共 **3** 台套，符合条件 **0** 台套"
    assert not at.dataframe
    assert "没有符合条件" in at.info[0].value


def test_region_share_mode_and_value_filters(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    at.multiselect(key=wkey(at, "registry_regions")).set_value(["152921"]).run()
    assert result_ids(at) == ["HPLC-1", "GC-1"]
    at.multiselect(key=wkey(at, "registry_share")).set_value(["外部共享"]).run()
    assert result_ids(at) == ["HPLC-1"]
    at.multiselect(key=wkey(at, "registry_regions")).set_value([]).run()
    at.multiselect(key=wkey(at, "registry_share")).set_value([]).run()
    slider = at.slider(key=wkey(at, "registry_value"))
    assert slider.value == (8.0, 250.0)
    slider.set_value((50.0, 100.0)).run()
    assert result_ids(at) == ["HPLC-1"]
    at.slider(key=wkey(at, "registry_value")).set_value((100.0, 250.0)).run()
    assert result_ids(at) == ["RADAR-1"]


def test_detail_view_shows_record_and_usage_of_the_chosen_instrument(monkeypatch, db_url):
    ids = _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    at.selectbox(key=wkey(at, "registry_selected")).set_value(ids["radar"]).run()
    record = dict(at.table[0].value.values.tolist())
    assert record["中文名称"] == "多普勒天气雷达"
    assert record["所属单位"] == "额济纳旗气象站"
    assert record["原值"] == "250万元"
    assert record["仪器类别"] == "专用"
    assert record["主要购置经费来源"] == "中央财政资金"
    assert record["设备分类编码"] == "070401 大气探测仪器 › 主动大气遥感仪器"
    annual = at.table[1].value
    assert annual.values.tolist() == [["2025", 12, "600", "0", "800", "75.0%", "0.0%"]]
    assert any("专用仪器额定 800 小时/年" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) == 1


def test_detail_annual_totals_of_an_instrument_with_two_years(monkeypatch, db_url):
    ids = _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    at.selectbox(key=wkey(at, "registry_selected")).set_value(ids["hplc"]).run()
    record = dict(at.table[0].value.values.tolist())
    assert record["Sharing mode"] == "Open to outside users"
    assert record["Original value"] == "CNY 600,000"
    annual = at.table[1].value.set_index("Year")
    assert annual.loc["2024", "Utilisation (effective/rated)"] == "42.9%"  # 600 / 1400
    assert annual.loc["2025", "Effective hours"] == "1,200"
    assert annual.loc["2025", "External share"] == "40.0%"  # 480 / 1200


def test_empty_registry_shows_how_to_fill_it(monkeypatch, db_url):
    _store(db_url, fill=lambda eng: add_unit(eng, "空单位"))
    at = open_app(monkeypatch, db_url, page=PAGE)
    assert "仪器名录为空" in at.info[0].value
    assert not at.dataframe and not at.text_input


def test_filters_survive_a_language_switch(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    at.text_input(key=wkey(at, "registry_text")).set_value("色谱").run()
    at.multiselect(key=wkey(at, "registry_share")).set_value(["外部共享"]).run()
    assert result_ids(at) == ["HPLC-1"]
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception and not at.warning
    assert at.text_input(key=wkey(at, "registry_text")).value == "色谱"
    assert at.multiselect(key=wkey(at, "registry_share")).value == ["外部共享"]
    assert count_line(at) == "**1** of **3** instruments match"
    assert result_ids(at, "Asset no.") == ["HPLC-1"]


def test_value_range_survives_a_language_switch(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE)
    at.slider(key=wkey(at, "registry_value")).set_value((100.0, 250.0)).run()
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception and not at.warning
    assert at.slider(key=wkey(at, "registry_value")).value == (100.0, 250.0)
    assert result_ids(at, "Asset no.") == ["RADAR-1"]
