"""Registry filtering and one instrument's usage history (dashboard/registry.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import registry as R
from models import queries as Q
from tests.factories import add_instrument, add_unit, small_registry


@pytest.fixture
def store(engine):
    ids = small_registry(engine)
    zone_unit = add_unit(engine, "高新区检测中心", unit_type="检验检测", region_code="Z01")
    ids["icp"] = add_instrument(engine, zone_unit, "ICP-1", "电感耦合等离子体质谱仪", class_code="010201",
                                original_value=1_200_000, region_code="Z01", status="待修", model="iCAP RQ",
                                manufacturer="Thermo Fisher")
    return engine, ids, Q.instruments(engine), Q.regions(engine)


def inner_ids(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["inner_id"])


def test_no_criteria_keeps_everything(store):
    _, _, inst, regions = store
    assert len(R.filter_instruments(inst, R.RegistryFilter(), regions)) == 4


@pytest.mark.parametrize("text, expected", [
    ("液相", ["HPLC-1"]),  # name
    ("infinity", ["HPLC-1"]),  # model, case-insensitive
    ("thermo", ["ICP-1"]),  # manufacturer
    ("radar-", ["RADAR-1"]),  # inner id
    ("  色谱  ", ["GC-1", "HPLC-1"]),  # surrounding blanks ignored
    ("不存在", []),
])
def test_text_search(store, text, expected):
    _, _, inst, regions = store
    assert inner_ids(R.filter_instruments(inst, R.RegistryFilter(text=text), regions)) == expected


def test_banner_includes_its_zones_and_a_zone_only_itself(store):
    _, _, inst, regions = store
    left = R.filter_instruments(inst, R.RegistryFilter(regions=("152921",)), regions)
    assert inner_ids(left) == ["GC-1", "HPLC-1", "ICP-1"]
    zone = R.filter_instruments(inst, R.RegistryFilter(regions=("Z01",)), regions)
    assert inner_ids(zone) == ["ICP-1"]
    ejin = R.filter_instruments(inst, R.RegistryFilter(regions=("152923",)), regions)
    assert inner_ids(ejin) == ["RADAR-1"]


def test_value_range_in_wan_is_inclusive(store):
    _, _, inst, regions = store
    # values: GC 8万, HPLC 60万, ICP 120万, RADAR 250万
    mid = R.filter_instruments(inst, R.RegistryFilter(min_value_wan=60, max_value_wan=120), regions)
    assert inner_ids(mid) == ["HPLC-1", "ICP-1"]
    low = R.filter_instruments(inst, R.RegistryFilter(max_value_wan=59.99), regions)
    assert inner_ids(low) == ["GC-1"]


def test_share_mode_status_unit_and_classes(store):
    _, ids, inst, regions = store
    assert inner_ids(R.filter_instruments(inst, R.RegistryFilter(share_modes=("外部共享",)), regions)) == ["HPLC-1", "ICP-1"]
    assert inner_ids(R.filter_instruments(inst, R.RegistryFilter(statuses=("待修",)), regions)) == ["ICP-1"]
    assert inner_ids(R.filter_instruments(inst, R.RegistryFilter(unit_ids=(ids["unit2"],)), regions)) == ["RADAR-1"]
    assert inner_ids(R.filter_instruments(inst, R.RegistryFilter(top_classes=("07",)), regions)) == ["RADAR-1"]
    assert inner_ids(R.filter_instruments(inst, R.RegistryFilter(middle_classes=("0105",)), regions)) == ["GC-1", "HPLC-1"]


def test_criteria_combine_with_and(store):
    _, _, inst, regions = store
    flt = R.RegistryFilter(text="色谱", share_modes=("外部共享",), regions=("152921",))
    assert inner_ids(R.filter_instruments(inst, flt, regions)) == ["HPLC-1"]


def test_value_bounds(store):
    _, _, inst, _ = store
    assert R.value_bounds_wan(inst) == (8.0, 250.0)
    assert R.value_bounds_wan(inst.iloc[0:0]) == (0.0, 0.0)


def test_annual_history_and_monthly_frame(store):
    engine, ids, _, _ = store
    monthly = Q.usage_monthly_for(engine, ids["hplc"])
    history = R.annual_history(monthly, "通用")
    assert history["year"].tolist() == [2024, 2025]
    assert history["months"].tolist() == [12, 12]
    assert history["effective_hours"].tolist() == [600.0, 1200.0]
    assert history["external_hours"].tolist() == [0.0, 480.0]
    assert history["utilisation"].tolist() == pytest.approx([600 / 1400, 1200 / 1400])
    assert history["external_share"].tolist() == pytest.approx([0.0, 0.4])
    chart_rows = R.monthly_history(monthly)
    assert len(chart_rows) == 24
    assert chart_rows["month"].iloc[12] == pd.Timestamp("2025-01-01")
    radar = R.annual_history(Q.usage_monthly_for(engine, ids["radar"]), "专用")
    assert radar["utilisation"].tolist() == pytest.approx([600 / 800])


def test_history_of_an_instrument_without_usage_is_empty(store):
    engine, ids, _, _ = store
    monthly = Q.usage_monthly_for(engine, ids["icp"])
    assert R.annual_history(monthly, "通用").empty
    assert R.monthly_history(monthly).empty


def test_class_labels():
    classes = pd.DataFrame({"code": ["01", "0105"], "name_zh": ["分析仪器", "色谱仪器"], "name_en": ["Analytical", "Chromatographs"]})
    assert R.class_path("010501", classes) == "010501 分析仪器 › 色谱仪器"
    assert R.class_label("010501", classes, "name_en") == "010501 Chromatographs"
    assert R.class_label("019901", classes) == "019901 分析仪器"
    assert R.class_label("990101", classes) == "990101"
