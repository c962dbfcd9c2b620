"""The annual statistical report: every figure against an independent computation.

The fixture below is a small registry written as the query frames (instruments, usage, services,
regions, classes). Expected values are either worked out by hand (the literal numbers in the
docstrings and asserts) or computed here with plain pandas — never by calling the code under test.

Register 2025 (commissioned by 31 Dec 2025 or undated): ids 1, 2, 3, 4, 5, 6, 8 (7 is from 2026).
Register 2024: ids 1, 2, 3, 4, 5, 8 (6 is from March 2025).

Scope: id 4 awaits scrapping (待报废). It counts in instruments, value and holding units, but not in
any hour, utilisation, load, external-service or service-record figure, nor in the openness rates;
its 40 external hours in 2025 and its service records are there to show that. Ids 5 and 8 are
exempt from opening but in service: their hours count, they stay out of the openness rates.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import numpy as np
import openpyxl
import pandas as pd
import pytest

from dashboard import report as R
from dashboard import report_html as H
from dashboard.i18n import Translator
from dashboard.policy import PolicyDefaults
from dashboard.report_xlsx import render_xlsx
from models.db import data_revision
from tests.factories import add_service, small_registry

YEAR = 2025
ZH, EN = Translator("zh"), Translator("en")

REGIONS = pd.DataFrame([
    {"code": "152921", "name_zh": "阿拉善左旗", "name_en": "Alxa Left Banner", "kind": "banner", "within": "152921"},
    {"code": "152922", "name_zh": "阿拉善右旗", "name_en": "Alxa Right Banner", "kind": "banner", "within": "152922"},
    {"code": "152923", "name_zh": "额济纳旗", "name_en": "Ejin Banner", "kind": "banner", "within": "152923"},
    {"code": "Z01", "name_zh": "高新区", "name_en": "Hi-tech zone", "kind": "zone", "within": "152921"},
])
CLASSES = pd.DataFrame([
    {"code": "01", "name_zh": "分析仪器", "name_en": "Analytical instruments"},
    {"code": "0101", "name_zh": "电子光学仪器", "name_en": "Electron-optical instruments"},
    {"code": "09", "name_zh": "医学诊断仪器", "name_en": "Medical diagnostic instruments"},
])
COLUMNS = ["id", "unit_id", "unit_type", "region_code", "class_code", "original_value", "purpose", "share_mode",
           "status", "exempt_reason", "start_date", "funding", "country"]
ROWS = [
    (1, 1, "高校", "152921", "010101", 600_000, "通用", "外部共享", "正常", "", "2018-05-01", "中央财政资金", "美国"),
    (2, 1, "高校", "Z01", "010201", 80_000, "通用", "内部共享", "正常", "", "2020-01-10", "地方财政资金", "中国"),
    (3, 2, "企业", "152922", "090101", 2_500_000, "专用", "不共享", "正常", "", "2019-07-01", "单位自有资金", ""),
    (4, 2, "企业", "152922", "010301", 150_000, "通用", "外部共享", "待报废", "", "2010-03-01", "地方财政资金", "中国"),
    (5, 3, "医疗卫生", "152923", "021001", 30_000, "专用", "外部共享", "正常", "国防", "2016-06-01", "", "日本"),
    (6, 3, "医疗卫生", "152923", "010101", 1_200_000, "通用", "外部共享", "正常", "", "2025-03-01", "中央财政资金", "美国"),
    (7, 1, "高校", "152921", "010101", 300_000, "通用", "外部共享", "正常", "", "2026-02-01", "中央财政资金", "美国"),
    (8, 2, "企业", "152921", "010101", 50_000, "通用", "内部共享", "正常", "特殊情形", None, "其他资金", "德国"),
]
USAGE = [  # instrument, year, effective, external
    (1, 2025, 1300.0, 500.0), (2, 2025, 900.0, 0.0), (3, 2025, 850.0, 0.0), (4, 2025, 100.0, 40.0),
    (6, 2025, 1250.0, 300.0), (7, 2025, 10.0, 10.0), (8, 2025, 799.5, 0.0),
    (1, 2024, 1000.0, 200.0), (2, 2024, 700.0, 0.0), (3, 2024, 1200.0, 0.0), (4, 2024, 300.0, 0.0), (5, 2024, 50.0, 50.0),
    (1, 2023, 999.0, 999.0),
]
SERVICES = [  # instrument, user type, applicant unit, amount
    (1, "外部用户", "甲公司", 1000.0), (1, "外部用户", "甲公司", 500.0), (6, "外部用户", "乙公司", 2000.0),
    (3, "外部用户", "", 300.0), (2, "内部用户", "本单位", 100.0), (6, "外部用户", " 乙公司 ", 250.0),
    (4, "外部用户", "丙公司", 700.0),  # awaiting scrapping: left out
]
SERVICES_PREV = [(1, "外部用户", "甲公司", 800.0), (2, "内部用户", "X", 200.0),
                 (4, "外部用户", "丁公司", 300.0)]  # awaiting scrapping: left out


def instruments() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=COLUMNS)
    df["start_date"] = pd.to_datetime(df["start_date"])
    df["original_value"] = df["original_value"].astype(float)
    return df


def usage() -> pd.DataFrame:
    return pd.DataFrame(USAGE, columns=["instrument_id", "year", "effective_hours", "external_hours"])


def services(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["instrument_id", "user_type", "applicant_unit", "service_amount_cny"])


def inputs(**overrides) -> R.ReportInputs:
    base = dict(instruments=instruments(), usage=usage(), services=services(SERVICES),
                services_prev=services(SERVICES_PREV), units=pd.DataFrame(), regions=REGIONS, classes=CLASSES)
    return R.ReportInputs(**{**base, **overrides})


@pytest.fixture(scope="module")
def report() -> R.AnnualReport:
    return R.build_report(inputs(), YEAR)


# ---- the independent computation ------------------------------------------------------------


def expected_register(year: int) -> pd.DataFrame:
    """The register of `year` with that year's hours, rated hours, in-service and exempt flags."""
    inst = instruments()
    reg = inst[inst["start_date"].isna() | (inst["start_date"] <= pd.Timestamp(f"{year}-12-31"))].copy()
    u = usage()
    hours = u[u["year"] == year].groupby("instrument_id")[["effective_hours", "external_hours"]].sum()
    reg = reg.join(hours, on="id")
    reg[["effective_hours", "external_hours"]] = reg[["effective_hours", "external_hours"]].fillna(0.0)
    reg["rated"] = np.where(reg["purpose"] == "通用", 1400.0, 800.0)
    reg["in_service"] = reg["status"] != "待报废"
    reg["exempt"] = reg["exempt_reason"] != ""
    return reg


def expected_figures(year: int, svc: pd.DataFrame) -> dict:
    """Count, value and units over the register; everything else over the instruments in service
    (openness: in service and not exempt); service records of instruments in service only."""
    reg = expected_register(year)
    live = reg[reg["in_service"]]
    eligible = live[~live["exempt"]]
    svc = svc[svc["instrument_id"].isin(live["id"])]
    ext = svc[svc["user_type"] == "外部用户"]
    names = ext["applicant_unit"].str.strip()
    return {
        "instruments": len(reg),
        "value": reg["original_value"].sum(),
        "units": reg["unit_id"].nunique(),
        "scrapped": int((~reg["in_service"]).sum()),
        "in_service": len(live),
        "exempt": int(live["exempt"].sum()),
        "eligible": len(eligible),
        "open_count": int((eligible["share_mode"] == "外部共享").sum()),
        "internal_count": int((eligible["share_mode"] == "内部共享").sum()),
        "closed_count": int((eligible["share_mode"] == "不共享").sum()),
        "open_rate": (eligible["share_mode"] == "外部共享").mean(),
        "participation_rate": eligible["share_mode"].isin(["外部共享", "内部共享"]).mean(),
        "effective_hours": live["effective_hours"].sum(),
        "rated_hours": live["rated"].sum(),
        "utilisation_rate": live["effective_hours"].sum() / live["rated"].sum(),
        "mean_effective_hours": live["effective_hours"].mean(),
        "idle": int((live["effective_hours"] < 800).sum()),
        "saturated": int((live["effective_hours"] >= 1200).sum()),
        "normal": int(((live["effective_hours"] >= 800) & (live["effective_hours"] < 1200)).sum()),
        "external_hours": live["external_hours"].sum(),
        "external_share": live["external_hours"].sum() / live["effective_hours"].sum(),
        "service_records": len(svc),
        "external_records": len(ext),
        "clients": names[names != ""].nunique(),
        "income": svc["service_amount_cny"].sum(),
        "external_income_cny": ext["service_amount_cny"].sum(),
    }


EXPECTED = {YEAR: expected_figures(YEAR, services(SERVICES)), YEAR - 1: expected_figures(YEAR - 1, services(SERVICES_PREV))}


def _figure(fig: R.YearFigures, name: str):
    return {"value": fig.value_cny, "income": fig.income_cny}.get(name, getattr(fig, name, None))


def test_the_independent_computation_agrees_with_the_hand_worked_numbers():
    """Guards the test's own arithmetic (see the module docstring for the registers).

    2025: register 1, 2, 3, 4, 5, 6, 8 (7 instruments, 461万元, 3 units); in service all but 4 (6);
    eligible (in service, not exempt) 1, 2, 3, 6: open 1 and 6, internal 2, closed 3 → 2/4.
    Effective 1300 + 900 + 850 + 0 + 1250 + 799.5 = 5099.5 h of rated 1400 + 1400 + 800 + 800 + 1400
    + 1400 = 7200 h; external 500 + 300 = 800 h (id 4's 40 h left out). Idle 5 (0 h), 8 (799.5 h);
    normal 2, 3; saturated 1, 6. Services without id 4's record: 6 records, 5 external, clients
    甲公司 and 乙公司, 4150 CNY of which 4050 external.
    2024: register 1, 2, 3, 4, 5, 8; in service 1, 2, 3, 5, 8; eligible 1, 2, 3, open 1 → 1/3.
    Effective 1000 + 700 + 1200 + 50 + 0 = 2950 h of 1400 + 1400 + 800 + 800 + 1400 = 5800 h;
    external 200 + 50 = 250 h; idle 2, 5, 8; normal 1; saturated 3."""
    e = EXPECTED[YEAR]
    assert (e["instruments"], e["value"], e["units"], e["scrapped"], e["in_service"]) == (7, 4_610_000, 3, 1, 6)
    assert (e["exempt"], e["eligible"], e["open_count"], e["internal_count"], e["closed_count"]) == (2, 4, 2, 1, 1)
    assert (e["open_rate"], e["participation_rate"]) == (0.5, 0.75)
    assert e["effective_hours"] == 5099.5 and e["rated_hours"] == 7200 and e["external_hours"] == 800
    assert e["mean_effective_hours"] == pytest.approx(5099.5 / 6)
    assert (e["idle"], e["normal"], e["saturated"]) == (2, 2, 2)
    assert (e["service_records"], e["external_records"], e["clients"], e["income"], e["external_income_cny"]) == (6, 5, 2, 4150, 4050)
    p = EXPECTED[YEAR - 1]
    assert (p["instruments"], p["value"], p["in_service"], p["eligible"]) == (6, 3_410_000, 5, 3)
    assert (p["effective_hours"], p["rated_hours"], p["external_hours"], p["mean_effective_hours"]) == (2950, 5800, 250, 590)
    assert (p["idle"], p["normal"], p["saturated"]) == (3, 1, 1) and p["open_rate"] == pytest.approx(1 / 3)
    assert (p["service_records"], p["clients"], p["income"]) == (2, 1, 1000)


# ---- headline figures of both years -----------------------------------------------------------


@pytest.mark.parametrize("year", [YEAR, YEAR - 1])
@pytest.mark.parametrize("name", sorted(EXPECTED[YEAR]))
def test_every_year_figure_matches_the_independent_computation(report, year, name):
    fig = report.current if year == YEAR else report.previous
    assert fig.year == year
    assert _figure(fig, name) == pytest.approx(EXPECTED[year][name])


def test_headline_frame_changes(report):
    h = report.headline.set_index("id")
    assert list(h.index) == list(R.HEADLINE_IDS)
    for fid, row in h.iterrows():
        cur, prev = EXPECTED[YEAR][fid], EXPECTED[YEAR - 1][fid]
        assert row["current"] == pytest.approx(cur) and row["previous"] == pytest.approx(prev)
        assert row["change"] == pytest.approx(cur - prev)
        if row["kind"] == "rate" or prev == 0:
            assert pd.isna(row["change_rel"])
        else:
            assert row["change_rel"] == pytest.approx((cur - prev) / prev)
    assert h.loc["instruments", "change_rel"] == pytest.approx(1 / 6)  # 7 against 6
    assert h.loc["open_rate", "change"] == pytest.approx(0.5 - 1 / 3)  # 16.7 percentage points


def test_a_previous_year_without_usage_or_services_has_no_hour_or_service_figures():
    no_prev = usage()[lambda u: u["year"] != YEAR - 1]
    rep = R.build_report(inputs(usage=no_prev, services_prev=None), YEAR)
    p = rep.previous
    assert p.instruments == 6 and not p.has_usage  # the register is known from commissioning dates
    assert p.effective_hours is None and p.utilisation_rate is None and p.idle is None
    assert p.service_records is None and p.income_cny is None
    h = rep.headline.set_index("id")
    assert pd.isna(h.loc["effective_hours", "change"]) and h.loc["instruments", "change"] == 1


def test_previous_services_are_unknown_only_when_the_year_before_has_no_data_at_all():
    empty, some = services([]), services(SERVICES_PREV)
    assert R.previous_services(empty, [2025], 2025) is None  # 2024: no usage, no services: the first year
    assert R.previous_services(empty, [2024, 2025], 2025) is empty  # usage but no service: a real zero
    assert R.previous_services(some, [2025], 2025) is some  # services without usage still count


def test_load_lines_come_from_the_policy():
    """A policy with a 900 h low-use line and a 1300 h saturation line classifies anew."""
    rep = R.build_report(inputs(), YEAR, PolicyDefaults(low_use_hours=900, saturation_hours=1300))
    live = expected_register(YEAR).query("in_service")
    assert rep.current.idle == int((live["effective_hours"] < 900).sum()) == 3  # 0, 799.5 and 850; 900 h is not idle
    assert rep.current.saturated == int((live["effective_hours"] >= 1300).sum()) == 1


# ---- breakdowns -------------------------------------------------------------------------------


def expected_breakdown(keys: pd.Series) -> pd.DataFrame:
    """Count, value and units over the register; in_service and hours over instruments in service."""
    reg = expected_register(YEAR)
    df = reg.assign(key=keys.loc[reg.index].values)
    g = df.groupby("key").agg(instruments=("id", "size"), value_cny=("original_value", "sum"),
                              units=("unit_id", "nunique"))
    live = df[df["in_service"]].groupby("key").agg(
        in_service=("id", "size"), effective_hours=("effective_hours", "sum"), rated_hours=("rated", "sum"),
        external_hours=("external_hours", "sum"))
    g = g.join(live).fillna({"in_service": 0, "effective_hours": 0.0, "rated_hours": 0.0, "external_hours": 0.0})
    g["instruments_share"] = g["instruments"] / len(reg)
    g["value_share"] = g["value_cny"] / reg["original_value"].sum()
    g["utilisation"] = g["effective_hours"] / g["rated_hours"]
    return g


def _check_breakdown(frame: pd.DataFrame, keys: pd.Series, order: list[str]):
    assert list(frame["key"]) == order
    exp = expected_breakdown(keys)
    got = frame.set_index("key")
    for key in order:
        if key not in exp.index:  # a listed category without instruments
            assert got.loc[key, "instruments"] == 0 and got.loc[key, "value_cny"] == 0
            continue
        for col in exp.columns:
            assert got.loc[key, col] == pytest.approx(exp.loc[key, col], nan_ok=True), (key, col)


def test_region_breakdown_rolls_zones_into_their_banner(report):
    inst = instruments()
    banner = inst["region_code"].replace({"Z01": "152921"})
    _check_breakdown(report.breakdowns["region"], banner, ["152921", "152922", "152923"])
    got = report.breakdowns["region"].set_index("key")
    assert got.loc["152921", "instruments"] == 3 and got.loc["152921", "value_cny"] == 730_000  # ids 1, 2, 8
    assert got.loc["152921", "name_en"] == "Alxa Left Banner"
    # 阿拉善右旗: ids 3 and 4 in the register (265万元), only 3 in service: 850 h of 800 rated, no external
    # hours (id 4's 100 h and 40 external hours are left out).
    right = got.loc["152922"]
    assert (right["instruments"], right["value_cny"], right["in_service"]) == (2, 2_650_000, 1)
    assert (right["effective_hours"], right["rated_hours"], right["external_hours"]) == (850, 800, 0)
    assert right["utilisation"] == pytest.approx(850 / 800)


def test_a_group_without_instruments_in_service_has_no_utilisation():
    """id 4 (awaiting scrapping) alone as 检验检测: counted with its value, but 0 in service, 0 h and a
    utilisation of NaN (shown as —), not 0 %; a unit type without any instrument likewise."""
    inst = instruments()
    inst.loc[inst["id"] == 4, "unit_type"] = "检验检测"
    rep = R.build_report(inputs(instruments=inst), YEAR)
    by_type = rep.breakdowns["unit_type"].set_index("key")
    testing = by_type.loc["检验检测"]
    assert (testing["instruments"], testing["value_cny"], testing["in_service"]) == (1, 150_000, 0)
    assert (testing["effective_hours"], testing["external_hours"]) == (0, 0) and pd.isna(testing["utilisation"])
    assert by_type.loc["科研院所", "instruments"] == 0 and pd.isna(by_type.loc["科研院所", "utilisation"])
    table = {t.id: t for t in R.report_tables(rep, ZH)}["unit_type"]
    row = next(r for r in table.rows if r[0].value == "检验检测")
    assert [H.cell_text(c, ZH) for c in row[1:]] == ["1", f"{1 / 7 * 100:.1f}%", "15.00",
                                                      f"{150_000 / 4_610_000 * 100:.1f}%", "1", "0", "0", "—", "0"]


def test_class_breakdown_by_top_class_with_names(report):
    inst = instruments()
    _check_breakdown(report.breakdowns["class"], inst["class_code"].str[:2], ["01", "02", "09"])
    got = report.breakdowns["class"].set_index("key")
    assert got.loc["01", "name_zh"] == "分析仪器" and got.loc["02", "name_zh"] == "02"  # unknown class: its code


def test_value_band_breakdown(report):
    inst = instruments()
    bands = pd.cut(inst["original_value"], [0, 50_000, 100_000, 500_000, 2_000_000, np.inf], right=False,
                   labels=["0", "1", "2", "3", "4"]).astype(str)
    frame = report.breakdowns["value_band"]
    _check_breakdown(frame, bands, ["0", "1", "2", "3", "4"])  # band 0 (below the floor) is occupied by id 5
    assert list(frame["instruments"]) == [1, 2, 1, 2, 1]
    assert frame["lower_cny"].tolist() == [0, 50_000, 100_000, 500_000, 2_000_000]
    assert frame["upper_cny"].tolist()[:4] == [50_000, 100_000, 500_000, 2_000_000] and pd.isna(frame["upper_cny"].iloc[4])


def test_an_unoccupied_band_below_the_floor_is_not_listed():
    rep = R.build_report(inputs(instruments=instruments().query("id != 5")), YEAR)
    assert list(rep.breakdowns["value_band"]["key"]) == ["1", "2", "3", "4"]


@pytest.mark.parametrize("field, order", [
    ("unit_type", ["高校", "科研院所", "医疗卫生", "检验检测", "企业", "其他"]),
    ("funding", ["中央财政资金", "地方财政资金", "单位自有资金", "其他资金", ""]),
    ("share_mode", ["内部共享", "外部共享", "不共享"]),
    ("country", ["中国", "美国", "德国", "日本", ""]),  # by count, then name; not reported last
])
def test_field_breakdowns(report, field, order):
    _check_breakdown(report.breakdowns[field], instruments()[field], order)


def test_loads_and_exempt_tables(report):
    live = expected_register(YEAR).query("in_service")
    cls = np.where(live["effective_hours"] >= 1200, "saturated", np.where(live["effective_hours"] < 800, "idle", "normal"))
    exp = live.assign(cls=cls).groupby("cls").agg(n=("id", "size"), v=("original_value", "sum"))
    loads = report.loads.set_index("key")
    assert list(loads.index) == ["idle", "normal", "saturated"]
    for key in loads.index:
        assert loads.loc[key, "instruments"] == exp.loc[key, "n"]
        assert loads.loc[key, "value_cny"] == exp.loc[key, "v"]
        assert loads.loc[key, "instruments_share"] == pytest.approx(exp.loc[key, "n"] / len(live))
    assert loads.loc["idle", "value_cny"] == 30_000 + 50_000  # ids 5 and 8
    assert report.exempt.values.tolist() == [["国防", 1], ["特殊情形", 1]]


# ---- errors -----------------------------------------------------------------------------------


def test_check_year_errors():
    with pytest.raises(R.ReportUnavailable) as err:
        R.check_year(instruments().iloc[0:0], [2025], 2025)
    assert err.value.key == "report.err.no_data"
    with pytest.raises(R.ReportUnavailable) as err:
        R.check_year(instruments(), [2024, 2025], 2019)
    assert err.value.message(EN) == "There is no monthly usage for 2019: no annual report for that year. Years with data: 2024, 2025."
    with pytest.raises(R.ReportUnavailable) as err:
        R.check_year(instruments(), [], 2025)
    assert err.value.key == "report.err.no_usage"
    R.check_year(instruments(), [2025], 2025)


# ---- tables, cells and the rendered documents ---------------------------------------------------


def test_cell_text_formats():
    cases = [(R.Cell(1234567.0, "wan"), "123.46"), (R.Cell(0.12345, "rate"), "12.3%"), (R.Cell(0.033, "pp"), "+3.3 个百分点"),
             (R.Cell(-0.02, "rel"), "-2.0%"), (R.Cell(13506.0, "dhours"), "+13,506"), (R.Cell(0.0, "dcount"), "0"),
             (R.Cell(-50_000.0, "dwan"), "-5.00"), (R.Cell(None, "count"), "—"), (R.Cell(float("nan"), "rate"), "—"),
             (R.Cell(5199.5, "hours"), "5,200")]
    assert [H.cell_text(c, ZH) for c in cases for c in [c[0]]] == [want for _, want in cases]
    assert H.cell_text(R.Cell(0.1, "pp"), EN) == "+10.0 pp"


def test_card_changes_carry_units():
    assert H.card_change(1_200_000.0, "wan", ZH) == "+120万元"
    assert H.card_change(-50.0, "hours", EN) == "-50 h"
    assert H.card_change(0.1, "rate", ZH) == "+10.0 个百分点"
    assert H.card_change(None, "count", ZH) == "—"
    assert H.card_change(0.0, "wan", ZH) == "持平" and H.card_change(0, "count", EN) == "unchanged"


def test_generation_time_is_printed_in_beijing_time():
    assert R.generated_text(datetime(2026, 1, 5, 8, 30, tzinfo=timezone.utc), ZH) == "2026-01-05 16:30（北京时间）"
    # 20:05 UTC on New Year's Eve is already 04:05 on 1 January in Beijing.
    assert R.generated_text(datetime(2025, 12, 31, 20, 5, tzinfo=timezone.utc), EN) == "2026-01-01 04:05 (Beijing time)"


def test_bar_chart_leaves_out_missing_values_instead_of_drawing_zero():
    chart = H.bar_chart(["甲", "乙", "丙", "丁"], [0.5, float("nan"), None, 0.0], "x", ".0%")
    data = chart.data  # the layers share the base chart's frame
    assert data["label"].tolist() == ["甲", "丁"] and data["value"].tolist() == [0.5, 0.0]  # a real 0 stays
    assert chart.to_dict()["layer"][0]["encoding"]["y"]["sort"] == ["甲", "丁"]


def test_breakdown_labels():
    rep = R.build_report(inputs(), YEAR)
    tables = {t.id: t for t in R.report_tables(rep, EN)}
    labels = lambda tid: [row[0].value for row in tables[tid].rows]  # noqa: E731
    assert labels("region") == ["Alxa Left Banner", "Alxa Right Banner", "Ejin Banner"]
    assert labels("class") == ["01 Analytical instruments", "02", "09 Medical diagnostic instruments"]
    assert labels("value_band") == ["< CNY 50k", "CNY 50k–100k", "CNY 100k–500k", "CNY 500k–2M", "≥ CNY 2M"]
    assert labels("country") == ["China", "United States", "Germany", "Japan", "Not reported"]
    assert labels("funding")[-1] == "Not reported"
    zh_tables = {t.id: t for t in R.report_tables(rep, ZH)}
    assert [row[0].value for row in zh_tables["value_band"].rows] == ["<5万元", "5–10万元", "10–50万元", "50–200万元", "≥200万元"]


class _Tables(HTMLParser):
    """Cell texts of every <table data-table=...> of a document, and the SVG elements seen."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.svgs: list[str] = []
        self._table = None
        self._cell = None
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "table":
            self._table = a["data-table"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "svg":
            self.svgs.append(a.get("data-chart", ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


META = R.ReportMeta(generated_at=datetime(2026, 1, 5, 8, 30, tzinfo=timezone.utc), revision=42, demo_seed=None)


@pytest.fixture(scope="module")
def document_zh(report) -> str:
    return H.render_html(report, META, ZH)


def _parsed(doc: str) -> _Tables:
    p = _Tables()
    p.feed(doc)
    return p


def test_html_headline_table_shows_the_independent_figures(document_zh):
    rows = {r[0]: r[1:] for r in _parsed(document_zh).tables["headline"][1:]}
    e, p = EXPECTED[YEAR], EXPECTED[YEAR - 1]
    assert rows["仪器数量"] == ["7", "6", "+1", "+16.7%", "台套"]
    assert rows["仪器原值合计"] == [f"{e['value'] / 1e4:,.2f}", f"{p['value'] / 1e4:,.2f}", "+120.00", "+35.2%", "万元"]
    assert rows["开放率"] == ["50.0%", "33.3%", "+16.7 个百分点", "—", "%"]  # 2 of 4 against 1 of 3
    assert rows["有效机时合计"] == ["5,100", "2,950", "+2,150", f"{(5099.5 - 2950) / 2950 * 100:+.1f}%", "小时"]
    assert rows["平均有效机时"][:2] == ["850", "590"]  # 5099.5 h over 6 and 2950 h over 5 in service
    assert rows["对外服务机时"][:3] == ["800", "250", "+550"]
    assert rows["利用率"][:2] == [f"{e['utilisation_rate'] * 100:.1f}%", f"{p['utilisation_rate'] * 100:.1f}%"]
    assert rows["低效运行仪器"][:3] == ["2", "3", "-1"]
    assert rows["饱和运行仪器"][:3] == ["2", "1", "+1"]
    assert rows["服务外部用户单位数"][:3] == ["2", "1", "+1"]
    assert rows["服务收入"][:3] == ["0.41", "0.10", "+0.32"]  # 4,150 and 1,000 CNY in 万元


def test_html_breakdown_and_section_tables(document_zh):
    tables = _parsed(document_zh).tables
    region = tables["region"]
    assert region[0][:4] == ["类别", "仪器数量（台套）", "数量占比", "原值（万元）"]
    assert region[0][6:8] == ["在用（台套）", "有效机时（小时）"]
    assert region[1][:6] == ["阿拉善左旗", "3", f"{3 / 7 * 100:.1f}%", "73.00", f"{730_000 / 4_610_000 * 100:.1f}%", "2"]
    assert region[2][6:8] == ["1", "850"]  # 阿拉善右旗: 2 instruments, id 4 awaits scrapping
    # Openness adds up: 7 = 1 awaiting scrapping + 6 in service; 6 = 2 exempt + 4 eligible.
    assert [r[:2] for r in tables["openness"][1:7]] == [
        ["仪器数量（台套）", "7"], ["其中：待报废（不计入开放率，台套）", "1"], ["在用仪器（台套）", "6"],
        ["其中：免于开放（台套）", "2"], ["在用且非免于开放（开放率分母，台套）", "4"], ["其中：外部共享（台套）", "2"]]
    opening = {r[0]: r[1] for r in tables["openness"][1:]}
    assert opening["开放率"] == "50.0%" and opening["共享参与率"] == "75.0%"
    assert opening["免于开放原因：国防（台套）"] == "1"
    # The use table: every sum is over the 6 instruments in service named in its first row.
    use = {r[0]: r[1] for r in tables["utilisation"][1:]}
    assert use["在用仪器（台套）"] == "6" and use["额定机时合计（小时）"] == "7,200"
    assert use["有效机时合计（小时）"] == "5,100" and use["利用率"] == f"{5099.5 / 7200 * 100:.1f}%"
    assert use["平均有效机时（小时/台套）"] == f"{5099.5 / 6:,.0f}"
    service = {r[0]: r[1] for r in tables["service"][1:]}
    assert service["对外服务机时（小时）"] == "800" and service["对外服务机时占比"] == f"{800 / 5099.5 * 100:.1f}%"
    assert service["其中：外部用户（条）"] == "5" and service["其中：外部用户（万元）"] == "0.41"
    loads = {r[0]: r[1:] for r in tables["loads"][1:]}
    assert loads["低效运行（< 800 小时）"] == ["2", f"{2 / 6 * 100:.1f}%", "8.00"]


def test_html_is_self_contained_with_charts_and_methods(document_zh, report):
    parsed = _parsed(document_zh)
    assert parsed.svgs == ["map", "class", "unit_type", "value_band", "funding", "country", "share_mode", "loads",
                           "utilisation_by_type", "external_by_type"]
    assert not parsed.tags & {"script", "link", "img", "iframe", "object", "embed"}
    # No address to fetch: the only URLs are the SVG namespaces.
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"')]*", document_zh))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert '<html lang="zh-CN">' in document_zh and "@page { size: A4" in document_zh
    # Methods annex: scope, the policy numbers in force, revision and generation time.
    for text in ("单台套价值 5 万元（50,000 元）及以上", "通用仪器 1400 小时/年", "低效运行线 800 小时/年", "饱和线 1200 小时/年",
                 "数据版本 42", "教高司条函〔2000〕010号", "财科教〔2019〕1号"):
        assert text in document_zh, text
    assert "演示数据" not in document_zh
    # Generated 08:30 UTC = 16:30 in Beijing, on the cover and in the annex.
    assert document_zh.count("2026-01-05 16:30（北京时间）") == 2 and "UTC" not in document_zh
    definitions = parsed.tables["definitions"]
    assert [r[0] for r in definitions[1:]] == [ZH(f"report.fig.{fid}.label") for fid in R.HEADLINE_IDS]
    # ids inside the SVGs are unique across the document
    ids = re.findall(r'\bid="([^"]+)"', document_zh)
    assert len(ids) == len(set(ids))


def _svg(doc: str, chart: str) -> str:
    match = re.search(rf'<svg data-chart="{chart}".*?</svg>', doc, re.S)
    assert match, chart
    return match.group(0)


def test_utilisation_chart_leaves_out_unit_types_without_instruments_in_service(document_zh):
    """科研院所 holds no instrument: it is listed with 0 in the count chart, but its utilisation is
    unknown (NaN) and must not be drawn as a 0 % bar."""
    assert ">科研院所<" in _svg(document_zh, "unit_type")
    utilisation = _svg(document_zh, "utilisation_by_type")
    assert ">科研院所<" not in utilisation and ">检验检测<" not in utilisation
    for present in ("高校", "医疗卫生", "企业"):
        assert f">{present}<" in utilisation


def test_html_demo_notice_english_and_escaping(report):
    rep = R.build_report(inputs(regions=REGIONS.assign(name_en=REGIONS["name_en"].replace(
        {"Ejin Banner": "<b>Ejin</b> & co"}))), YEAR)
    doc = H.render_html(rep, R.ReportMeta(META.generated_at, 7, demo_seed="2016"), EN)
    assert '<html lang="en">' in doc and "Annual statistical report 2025" in doc
    assert doc.count("seed 2016") == 2  # cover and annex
    assert "&lt;b&gt;Ejin&lt;/b&gt; &amp; co" in doc and "<b>Ejin</b>" not in doc
    rows = {r[0]: r[1:] for r in _parsed(doc).tables["headline"][1:]}
    assert rows["Openness rate"] == ["50.0%", "33.3%", "+16.7 pp", "—", "%"]
    assert doc.count("2026-01-05 16:30 (Beijing time)") == 2


def test_summary_text_quotes_the_figures(report):
    text = H.summary_text(report, ZH)
    assert text.startswith("2025 年，全盟纳入统计的大型科研仪器共 7 台套，原值合计 461万元，由 3 家单位持有，其中在用 6 台套。")
    assert "在用且非免于开放的 4 台套中，2 台套对外开放共享，开放率 50.0%" in text
    assert "在用仪器全年有效机时 5,100 小时，平均每台套 850 小时" in text and "服务外部用户单位 2 家" in text


def test_excel_workbook_one_sheet_per_table_with_numbers(report):
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(report, META, ZH)))
    assert wb.sheetnames == ["主要指标", "按旗区", "按仪器大类", "按单位类型", "按原值区间", "按经费来源", "按产地国别",
                             "按共享模式", "开放共享", "运行使用", "运行负荷", "对外服务", "指标定义", "说明"]
    ws = wb["主要指标"]
    assert [c.value for c in ws[1]] == ["指标", "2025 年", "2024 年", "增减", "增减率", "单位"]
    rows = {r[0]: r[1:] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["仪器数量"] == (7, 6, 1, pytest.approx(1 / 6), "台套")
    assert rows["仪器原值合计"][:3] == (pytest.approx(461.0), pytest.approx(341.0), pytest.approx(120.0))
    assert rows["开放率"][:3] == (pytest.approx(0.5), pytest.approx(1 / 3), pytest.approx(50 / 3))  # change in points
    assert rows["开放率"][3] is None
    assert ws["B3"].number_format == "#,##0.00" and ws["B5"].number_format == "0.0%"
    # Row 5 is the openness rate: its change is in percentage points and its format says so.
    assert ws["A5"].value == "开放率" and ws["D5"].number_format == '+0.0" 个百分点";-0.0" 个百分点";0.0" 个百分点"'
    assert ws["D2"].number_format == "+#,##0;-#,##0;0" and ws["E2"].number_format == "+0.0%;-0.0%;0.0%"
    band = wb["按原值区间"]
    assert [c.value for c in band["A"][1:6]] == ["<5万元", "5–10万元", "10–50万元", "50–200万元", "≥200万元"]
    assert [c.value for c in band["B"][1:6]] == [1, 2, 1, 2, 1]
    about = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True)}
    assert about["数据版本"] == 42 and about["统计年度"] == 2025
    assert about["生成时间"] == "2026-01-05 16:30（北京时间）"


def test_excel_english_sheet_names_fit_excel():
    rep = R.build_report(inputs(), YEAR)
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(rep, META, EN)))
    assert wb.sheetnames[0] == "Headline" and all(len(n) <= 31 for n in wb.sheetnames)
    assert [c.value for c in wb["By banner"][1]][:2] == ["Category", "Instruments"]
    ws = wb["Headline"]
    assert ws["A5"].value == "Openness rate" and ws["D5"].number_format == '+0.0" pp";-0.0" pp";0.0" pp"'
    assert {r[0]: r[1] for r in wb["About"].iter_rows(values_only=True)}["Generated"] == "2026-01-05 16:30 (Beijing time)"


# ---- reading the store ------------------------------------------------------------------------


def test_load_inputs_from_the_store(engine):
    """small_registry (tests/factories.py): 2025 HPLC-1 1200 h (480 external), GC-1 240 h, RADAR-1 600 h
    (专用); 2024 HPLC-1 600 h only. Services: two external, one internal in 2025; one in 2024."""
    ids = small_registry(engine)
    add_service(engine, ids["hplc"], datetime(2025, 3, 1, 9), "甲公司", 1000.0)
    add_service(engine, ids["hplc"], datetime(2025, 4, 1, 9), "乙公司", 500.0)
    add_service(engine, ids["gc"], datetime(2025, 5, 1, 9), "测试研究院", 80.0, user_type="内部用户")
    add_service(engine, ids["hplc"], datetime(2024, 6, 1, 9), "甲公司", 300.0)
    rep = R.build_report(R.load_inputs(engine, 2025), 2025)
    c, p = rep.current, rep.previous
    assert (c.instruments, c.value_cny, c.units) == (3, 3_180_000, 2)
    assert (c.effective_hours, c.rated_hours, c.external_hours) == (2040, 3600, 480)
    assert (c.idle, c.normal, c.saturated) == (2, 0, 1)  # GC 240 h and RADAR 600 h idle; HPLC 1200 h saturated
    assert c.open_rate == pytest.approx(1 / 3)
    assert (c.service_records, c.external_records, c.clients, c.income_cny) == (3, 2, 2, 1580)
    assert (p.effective_hours, p.idle, p.saturated, p.service_records, p.income_cny) == (600, 3, 0, 1, 300)
    with pytest.raises(R.ReportUnavailable):
        R.load_inputs(engine, 2023)
    meta = R.load_meta(engine)
    assert meta.demo_seed is None and meta.revision == data_revision(engine)


def _first_year_store(engine, with_earlier_service: bool = False) -> dict[str, int]:
    """small_registry: usage in 2024 and 2025 only, so 2024 is the first year with data. Services: one
    in 2024 (甲公司, 300 CNY), optionally one in 2023 (乙公司, 200 CNY) without any usage that year."""
    ids = small_registry(engine)
    add_service(engine, ids["hplc"], datetime(2024, 6, 1, 9), "甲公司", 300.0)
    if with_earlier_service:
        add_service(engine, ids["hplc"], datetime(2023, 6, 1, 9), "乙公司", 200.0)
    return ids


def test_first_year_through_the_store_compares_with_nothing(engine):
    """2024 is the first year: 2023 has no usage and no service record, so its service figures are
    unknown — the report shows "—" for them and for every change, not +1 record against an invented 0."""
    _first_year_store(engine)
    inputs_2024 = R.load_inputs(engine, 2024)
    assert inputs_2024.services_prev is None
    rep = R.build_report(inputs_2024, 2024)
    assert rep.previous.service_records is None and rep.previous.income_cny is None
    rows = {r[0]: r[1:] for r in _parsed(H.render_html(rep, META, ZH)).tables["headline"][1:]}
    assert rows["服务记录数"] == ["1", "—", "—", "—", "条"]
    assert rows["服务外部用户单位数"] == ["1", "—", "—", "—", "家"]
    assert rows["服务收入"] == ["0.03", "—", "—", "—", "万元"]
    assert rows["有效机时合计"] == ["600", "—", "—", "—", "小时"]
    assert rows["仪器数量"][:3] == ["3", "3", "0"]  # the register is known from commissioning dates
    # 2025 against 2024: 2024 has usage, so its services (one record) are real figures.
    rows_2025 = {r[0]: r[1:] for r in _parsed(H.render_html(R.build_report(R.load_inputs(engine, 2025), 2025), META, ZH))
                 .tables["headline"][1:]}
    assert rows_2025["服务记录数"][:3] == ["0", "1", "-1"]


def test_a_year_before_with_services_but_no_usage_is_compared(engine):
    _first_year_store(engine, with_earlier_service=True)
    rep = R.build_report(R.load_inputs(engine, 2024), 2024)
    assert rep.previous.service_records == 1 and rep.previous.income_cny == 200
    assert rep.previous.effective_hours is None  # still no hours in 2023


def test_overview_report_and_utilisation_agree_on_one_scope(engine):
    """small_registry plus OLD-1 (通用, 150,000 CNY, 外部共享, 待报废) with 2025 usage of 30 h/month
    (360 h, 10 h/month = 120 h external) and a 2025 service record. The overview KPIs, the report and
    the utilisation page's totals all leave OLD-1 out of every hour and openness figure, and all
    count it in the register: 4 instruments, 333万元; in service 3: effective 1200 + 240 + 600 = 2040 h
    of 3600 rated (56.7 %), 680 h each, 480 h external; open 1 of 3 in-service non-exempt."""
    from dashboard import census, utilisation
    from dashboard.load import LoadLines
    from models import queries as Q
    from tests.factories import add_instrument, add_usage

    ids = small_registry(engine)
    old = add_instrument(engine, ids["unit1"], "OLD-1", "旧离心机", original_value=150_000, status="待报废")
    add_usage(engine, old, 2025, [30.0] * 12, [10.0] * 12)
    add_service(engine, old, datetime(2025, 3, 1, 9), "丙公司", 900.0)
    add_service(engine, ids["hplc"], datetime(2025, 3, 1, 9), "甲公司", 1000.0)

    inst, usage = Q.instruments(engine), Q.usage_by_instrument_year(engine, 2025)
    k = census.kpis(census.annual_frame(inst, usage, 2025))
    c = R.build_report(R.load_inputs(engine, 2025), 2025).current
    u = utilisation.totals(utilisation.utilisation_frame(inst, usage, 2025), LoadLines())

    assert (k.instruments, k.total_value_cny, c.instruments, c.value_cny) == (4, 3_330_000, 4, 3_330_000)
    assert (k.in_service_count, c.in_service, u["instruments"]) == (3, 3, 3) and c.scrapped == 1
    assert (k.open_count, k.open_eligible, c.open_count, c.eligible) == (1, 3, 1, 3)
    assert k.avg_effective_hours == c.mean_effective_hours == u["avg_effective_hours"] == 680
    assert k.avg_rated_hours == 1200 and c.rated_hours == u["rated_hours"] == 3600
    assert c.effective_hours == u["effective_hours"] == 2040
    assert c.utilisation_rate == pytest.approx(u["utilisation"]) and c.utilisation_rate == pytest.approx(2040 / 3600)
    assert k.external_hours == c.external_hours == u["external_hours"] == 480
    assert k.idle_count == c.idle == u["idle"] == 2
    assert (c.service_records, c.income_cny) == (1, 1000)  # OLD-1's 900 CNY record is left out
