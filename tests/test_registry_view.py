"""Display shaping of the registry page (dashboard/ui/registry_view.py) and the shared
localised-name helper (dashboard/ui/labels.py), on literal frames; no store is involved."""

from __future__ import annotations

import math

import pandas as pd

from dashboard.i18n import Translator
from dashboard.national import INSTRUMENT_COLUMNS
from dashboard.ui import registry_view as V
from dashboard.ui.labels import localised

ZH, EN = Translator("zh"), Translator("en")

CLASSES = pd.DataFrame({"code": ["01", "0105", "07"], "name_zh": ["分析仪器", "色谱仪器", "大气探测仪器"],
                        "name_en": ["Analytical instruments", "Chromatographs", ""]})

# Built from records the way the store query builds them, so a missing English name arrives as
# pandas' missing value (NaN), not as None.
FILTERED = pd.DataFrame.from_records([
    {"id": 11, "inner_id": "HPLC-1", "name_zh": "高效液相色谱仪", "name_en": "HPLC", "unit_name": "测试研究院",
     "unit_name_en": None, "region_name_zh": "阿拉善左旗", "region_name_en": "Alxa Left Banner",
     "class_code": "010501", "original_value": 600_000.0, "purpose": "通用", "share_mode": "外部共享", "status": "正常"},
    {"id": 12, "inner_id": "RADAR-1", "name_zh": "多普勒天气雷达", "name_en": "", "unit_name": "气象站",
     "unit_name_en": "Weather Station", "region_name_zh": "额济纳旗", "region_name_en": "Ejin Banner",
     "class_code": "070401", "original_value": 2_500_000.0, "purpose": "专用", "share_mode": "不共享", "status": "待修"},
])


# ---- localised (shared by both pages) --------------------------------------------------------

def test_localised_column_prefers_english_and_falls_back_to_chinese():
    assert localised(FILTERED, "name_zh", "name_en", "en").tolist() == ["HPLC", "多普勒天气雷达"]  # "" falls back
    assert localised(FILTERED, "unit_name", "unit_name_en", "en").tolist() == ["测试研究院", "Weather Station"]  # NaN falls back
    assert localised(FILTERED, "unit_name", "unit_name_en", "zh").tolist() == ["测试研究院", "气象站"]


def test_localised_value_of_one_row_never_shows_a_missing_marker():
    hplc, radar = FILTERED.iloc[0], FILTERED.iloc[1]
    assert localised(hplc, "unit_name", "unit_name_en", "en") == "测试研究院"
    assert localised(radar, "name_zh", "name_en", "en") == "多普勒天气雷达"
    assert localised(radar, "unit_name", "unit_name_en", "en") == "Weather Station"
    assert localised(radar, "unit_name", "unit_name_en", "zh") == "气象站"


# ---- result table ----------------------------------------------------------------------------

def test_table_frame_in_english():
    table = V.table_frame(FILTERED, CLASSES, EN)
    assert list(table.columns) == ["Asset no.", "Instrument", "Holding unit", "Location", "Class",
                                   "Value (10k CNY)", "Purpose", "Sharing mode", "Status"]
    assert table.values.tolist() == [
        ["HPLC-1", "HPLC", "测试研究院", "Alxa Left Banner", "010501 Chromatographs", 60.0,
         "General purpose", "Open to outside users", "Normal"],
        # 07 has no English name: the Chinese one, not a blank
        ["RADAR-1", "多普勒天气雷达", "Weather Station", "Ejin Banner", "070401 大气探测仪器", 250.0,
         "Special purpose", "Not shared", "Awaiting repair"],
    ]


def test_table_frame_in_chinese():
    table = V.table_frame(FILTERED, CLASSES, ZH)
    assert table.iloc[0].tolist() == ["HPLC-1", "高效液相色谱仪", "测试研究院", "阿拉善左旗", "010501 色谱仪器", 60.0,
                                      "通用", "外部共享", "正常"]


def test_instrument_labels_name_inner_id_and_unit():
    assert V.instrument_labels(FILTERED, "en") == {
        11: "HPLC · HPLC-1 · 测试研究院", 12: "多普勒天气雷达 · RADAR-1 · Weather Station"}
    assert V.instrument_labels(FILTERED, "zh")[12] == "多普勒天气雷达 · RADAR-1 · 气象站"


# ---- one instrument's record -----------------------------------------------------------------

def record_row(**values) -> pd.Series:
    """An instrument row with every national field empty except those given (plus the name columns)."""
    row = {column.key: None for column in INSTRUMENT_COLUMNS}
    row.update(FILTERED.iloc[0].to_dict())
    row.update(values)
    return pd.Series(row)


def test_record_values_in_english():
    row = record_row(start_date=pd.Timestamp(2018, 5, 1), annual_run_hours=1200.0, customs_supervised="否",
                     model="1260 Infinity II", funding="中央财政资金")
    value = lambda key: V.record_value(row, key, CLASSES, EN)  # noqa: E731
    assert value("unit") == "测试研究院"  # the unit has no English name
    assert value("region_code") == "Alxa Left Banner"
    assert value("class_code") == "010501 Analytical instruments › Chromatographs"
    assert value("original_value") == "CNY 600,000"
    assert value("start_date") == "2018-05-01"
    assert value("annual_run_hours") == "1,200 h"
    assert value("customs_supervised") == "No"
    assert value("funding") == "Central government funds"
    assert value("model") == "1260 Infinity II"


def test_record_values_that_are_not_recorded_show_a_dash():
    row = record_row(start_date=pd.NaT, annual_service_hours=math.nan, model="")
    for key in ("start_date", "annual_service_hours", "model", "manufacturer", "exempt_reason"):
        assert V.record_value(row, key, CLASSES, ZH) == "—", key


def test_record_values_in_chinese():
    row = record_row()
    assert V.record_value(row, "class_code", CLASSES, ZH) == "010501 分析仪器 › 色谱仪器"
    assert V.record_value(row, "original_value", CLASSES, ZH) == "60万元"
    assert V.record_value(row, "share_mode", CLASSES, ZH) == "外部共享"


def test_record_table_lists_every_national_field_in_layout_order():
    table = V.record_table(record_row(), CLASSES, EN)
    assert list(table.columns) == ["Field", "Value"]
    assert len(table) == len(INSTRUMENT_COLUMNS)
    assert table.iloc[0].tolist() == ["Unit's internal asset number", "HPLC-1"]
    assert table.iloc[2].tolist() == ["Chinese name", "高效液相色谱仪"]


# ---- yearly use ------------------------------------------------------------------------------

def test_annual_table_formats_hours_and_ratios():
    # 2024: six months reported, no use (no external share); 2025: 1200 h of 1400 rated, 480 external.
    history = pd.DataFrame({
        "year": [2024, 2025], "months": [6, 12], "effective_hours": [0.0, 1200.0], "external_hours": [0.0, 480.0],
        "rated_hours": [1400.0, 1400.0], "utilisation": [0.0, 1200 / 1400], "external_share": [math.nan, 0.4],
    })
    table = V.annual_table(history, EN)
    assert list(table.columns) == ["Year", "Months reported", "Effective hours", "External hours", "Rated hours",
                                   "Utilisation (effective/rated)", "External share"]
    assert table.values.tolist() == [
        ["2024", 6, "0", "0", "1,400", "0.0%", "—"],
        ["2025", 12, "1,200", "480", "1,400", "85.7%", "40.0%"],
    ]


# ---- value slider ----------------------------------------------------------------------------

def values(*cny: float) -> pd.DataFrame:
    return pd.DataFrame({"original_value": list(cny)})


def test_slider_bounds_are_whole_wan_around_the_values():
    assert V.slider_bounds(values(80_000, 600_000, 2_500_000)) == (8.0, 250.0)
    assert V.slider_bounds(values(85_000, 2_512_345)) == (8.0, 252.0)  # 8.5 down, 251.2345 up
    assert V.slider_bounds(values(85_000)) == (8.0, 9.0)  # one value between two whole 万元


def test_no_slider_when_there_is_nothing_to_choose():
    assert V.slider_bounds(values(80_000, 80_000)) is None
    assert V.slider_bounds(values()) is None
