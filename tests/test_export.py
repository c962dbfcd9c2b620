"""Exporting in the national layout: formats, number and date spelling, templates, round trip."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest

from dashboard import exporter, transfer
from dashboard.__main__ import main
from dashboard.national import LAYOUTS
from models import db
from models.db import init_store, make_engine
from tests.factories import add_instrument, add_service, add_unit, small_registry
from tests.stores import store_url


def rows_of_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def rows_of_xlsx(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def richer_registry(engine) -> dict[str, int]:
    """small_registry plus a unit and an instrument with most optional fields filled."""
    ids = small_registry(engine)
    u3 = add_unit(engine, "乌斯太化工检测中心", unit_type="检验检测", region_code="Z01", lat=39.42, lon=106.71,
                  name_en="Wusitai Testing Centre", address="阿拉善盟乌斯太镇1号", credit_code="91152900MA0000000X",
                  contact="李工", phone="+86 483 8888888", email="lab@example.cn", is_sme=True, note="代理运营")
    ids["unit3"] = u3
    ids["icp"] = add_instrument(
        engine, u3, "ICP-7", "电感耦合等离子体质谱仪", class_code="010201", original_value=1_234_567.89,
        name_en="ICP-MS", affiliate="附属于科学仪器中心", source="购置", funding="单位自有资金", country="美国",
        manufacturer="赛默飞", model="iCAP RQ", start_date=date(2021, 9, 15), purpose="通用",
        technical_specs="质量范围 4–290 amu", functions="痕量元素分析", disciplines="化学", service_content="元素检测",
        status="偶有故障", sharing_rules="提前三天预约", fee_standard="每样 300 元", booking_url="https://example.cn/b",
        address="检测楼 2 层", share_mode="外部共享", annual_run_hours=1234.5, annual_service_hours=600.25,
        customs_supervised="是", contact="张工", phone="0483-1234567", email="icp@example.cn", region_code="Z01",
        exempt_reason="", operation_mode="代理",
    )
    return ids


def test_units_csv_layout_and_spelling(engine):
    richer_registry(engine)
    rows = rows_of_csv(transfer.export_file(engine, "units", "csv"))
    assert rows[0] == [c.zh for c in LAYOUTS["units"]]
    assert [r[0] for r in rows[1:]] == sorted(["阿拉善盟测试研究院", "额济纳旗气象站", "乌斯太化工检测中心"])
    wst = next(r for r in rows if r[0] == "乌斯太化工检测中心")
    assert wst == ["乌斯太化工检测中心", "Wusitai Testing Centre", "检验检测", "Z01", "阿拉善盟乌斯太镇1号", "39.42",
                   "106.71", "91152900MA0000000X", "李工", "'+86 483 8888888", "lab@example.cn", "是", "代理运营"]
    # The apostrophe keeps a spreadsheet from reading the phone number as a formula.


def test_instruments_csv_value_in_wan_with_two_decimals_and_plain_numbers(engine):
    richer_registry(engine)
    rows = rows_of_csv(transfer.export_file(engine, "instruments", "csv"))
    header = rows[0]
    by_id = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    assert [r[0] for r in rows[1:]] == ["ICP-7", "GC-1", "HPLC-1", "RADAR-1"]  # by unit name, then number
    assert by_id["HPLC-1"]["原值"] == "60.00"
    assert by_id["GC-1"]["原值"] == "8.00"
    assert by_id["ICP-7"]["原值"] == "123.456789"  # 1,234,567.89 CNY: 万元 to the fen, nothing lost
    assert (by_id["ICP-7"]["年总运行机时"], by_id["ICP-7"]["年服务机时"]) == ("1234.5", "600.25")
    assert by_id["HPLC-1"]["年总运行机时"] == ""  # unknown stays blank
    assert by_id["ICP-7"]["启用日期"] == "2021-09-15" and by_id["ICP-7"]["设备分类编码"] == "010201"
    assert by_id["RADAR-1"]["安放地区"] == "152923"


def test_usage_and_services_csv(engine):
    ids = small_registry(engine)
    add_service(engine, ids["hplc"], datetime(2025, 3, 4, 9, 30), "某企业", 1250.0, service_way="委托共享",
                service_quantity=3.0, voucher_amount_cny=500.0, client_region_code="Z01")
    usage = rows_of_csv(transfer.export_file(engine, "usage", "csv"))
    assert usage[0] == ["所属单位", "所在单位仪器内部编码", "年月", "有效机时", "对外服务机时", "样品数", "停机时长"]
    assert len(usage) == 1 + 48
    assert usage[1] == ["阿拉善盟测试研究院", "GC-1", "2025-01", "20", "0", "20", "0"]
    assert usage[13] == ["阿拉善盟测试研究院", "HPLC-1", "2024-01", "50", "0", "50", "0"]
    services = rows_of_csv(transfer.export_file(engine, "services", "csv"))
    rec = dict(zip(services[0], services[1]))
    assert (rec["实际服务开始时间"], rec["实际服务结束时间"]) == ("2025-03-04 09:30:00", "2025-03-04 13:30:00")
    assert (rec["服务金额"], rec["服务量"], rec["创新券抵扣金额"], rec["申请人单位所在地区"]) == ("1250", "3", "500", "Z01")


def test_xlsx_cells_are_typed_and_text_is_never_a_formula(engine):
    ids = small_registry(engine)
    add_instrument(engine, ids["unit1"], "X-1", "=HYPERLINK(\"http://x\")", class_code="010501", original_value=123_400)
    rows = rows_of_xlsx(transfer.export_file(engine, "instruments", "xlsx"))
    header = rows[0]
    assert header == [c.zh for c in LAYOUTS["instruments"]]
    by_id = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    assert by_id["HPLC-1"]["设备分类编码"] == "010501"  # text, leading zero kept
    assert by_id["HPLC-1"]["原值"] == 60 and by_id["X-1"]["原值"] == 12.34
    assert by_id["HPLC-1"]["启用日期"] == datetime(2018, 5, 1)  # a real date cell
    assert by_id["X-1"]["中文名称"] == "=HYPERLINK(\"http://x\")"
    sheet = openpyxl.load_workbook(io.BytesIO(transfer.export_file(engine, "instruments", "xlsx"))).worksheets[0]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


@pytest.mark.parametrize("kind", list(LAYOUTS))
def test_templates_hold_headers_only(kind):
    assert rows_of_csv(transfer.template_file(kind, "csv")) == [[c.zh for c in LAYOUTS[kind]]]
    assert rows_of_xlsx(transfer.template_file(kind, "xlsx")) == [[c.zh for c in LAYOUTS[kind]]]


def test_export_of_float_noise_has_no_spurious_decimals():
    import pandas as pd

    frame = pd.DataFrame([{"unit": "甲", "inner_id": "A", "year": 2025, "month": 3, "effective_hours": 0.1 + 0.2,
                           "external_hours": 1e-9, "samples": 7, "downtime_hours": 120.0}])
    row = rows_of_csv(exporter.csv_bytes("usage", frame))[1]
    assert row[3:] == ["0.3", "0", "7", "120"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_units_and_instruments_into_an_empty_store(engine, backend, tmp_path, fmt):
    richer_registry(engine)
    first = {kind: transfer.export_file(engine, kind, fmt) for kind in ("units", "instruments")}
    with store_url(backend, tmp_path) as url:
        other = make_engine(url)
        init_store(other)
        for kind in ("units", "instruments"):
            out = transfer.import_file(other, kind, f"{kind}.{fmt}", first[kind], actor="t")
            assert out.ok, [(e.row, e.column, e.code) for e in out.parsed.errors]
            assert out.counts.inserted == {"units": 3, "instruments": 4}[kind]
        second = {kind: transfer.export_file(other, kind, fmt) for kind in ("units", "instruments")}
        # Importing the export again changes nothing.
        again = transfer.import_file(other, "instruments", f"i.{fmt}", second["instruments"], actor="t")
        assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, 4)
        other.dispose()
    for kind in ("units", "instruments"):
        if fmt == "csv":
            assert second[kind] == first[kind]
        else:  # workbook bytes carry a creation time; the cells must match
            assert rows_of_xlsx(second[kind]) == rows_of_xlsx(first[kind])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_imported_into_the_same_store_changes_nothing(engine, fmt):
    # 49,996 CNY written as 5.00 万元 would come back as 50,000 CNY: inside the census floor.
    ids = richer_registry(engine)
    add_instrument(engine, ids["unit1"], "PH-1", "酸度计", class_code="010501", original_value=49_996.0)
    add_service(engine, ids["icp"], datetime(2025, 3, 4, 22, 30), "某企业", 1250.5, service_quantity=2.5,
                end_time=datetime(2025, 3, 5, 1, 0))  # across midnight
    for kind in ("units", "instruments", "usage", "services"):
        out = transfer.import_file(engine, kind, f"{kind}.{fmt}", transfer.export_file(engine, kind, fmt), actor="t")
        assert out.ok and (out.counts.inserted, out.counts.updated) == (0, 0), (kind, out.counts)
    rows = rows_of_xlsx(transfer.export_file(engine, "instruments", "xlsx"))
    assert {r[0]: r[6] for r in rows[1:]}["PH-1"] == 4.9996


def test_text_starting_like_a_formula_is_neutralised_in_csv_and_round_trips(engine):
    ids = small_registry(engine)
    add_instrument(engine, ids["unit1"], "FRZ-1", "-80℃超低温冰箱", class_code="011201", original_value=85_000,
                   model="+4 层")
    data = transfer.export_file(engine, "instruments", "csv")
    row = next(r for r in rows_of_csv(data) if r[0] == "FRZ-1")
    assert (row[2], row[11]) == ("'-80℃超低温冰箱", "'+4 层")  # a spreadsheet shows text, runs nothing
    sheet_row = next(r for r in rows_of_xlsx(transfer.export_file(engine, "instruments", "xlsx")) if r[0] == "FRZ-1")
    assert sheet_row[2] == "-80℃超低温冰箱"  # typed text cells need no mark
    again = transfer.import_file(engine, "instruments", "i.csv", data, actor="t")
    assert again.ok and (again.counts.inserted, again.counts.updated) == (0, 0)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_demo_export_reimports_into_a_fresh_store_and_again_changes_nothing(engine, backend, tmp_path, fmt):
    from models.services.demo import load_demo

    loaded = load_demo(engine, instruments=60)
    files = {kind: transfer.export_file(engine, kind, fmt) for kind in ("units", "instruments", "usage", "services")}
    with store_url(backend, tmp_path) as url:
        other = make_engine(url)
        init_store(other)
        try:
            for kind, data in files.items():
                out = transfer.import_file(other, kind, f"{kind}.{fmt}", data, actor="t")
                assert out.ok, (kind, [(e.row, e.column, e.value, e.code) for e in out.parsed.errors[:5]])
                assert (out.counts.inserted, out.counts.updated) == (loaded[kind], 0), kind
            for kind, data in files.items():
                again = transfer.import_file(other, kind, f"{kind}.{fmt}", data, actor="t")
                assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, loaded[kind])
                assert not again.written
            for kind, data in files.items():
                exported = transfer.export_file(other, kind, fmt)
                assert (exported == data) if fmt == "csv" else (rows_of_xlsx(exported) == rows_of_xlsx(data)), kind
        finally:
            other.dispose()


def test_cli_export_formats_and_exit_codes(monkeypatch, engine, db_url, tmp_path, capsys):
    small_registry(engine)
    monkeypatch.setenv("DATABASE_URL", db_url)
    db.get_engine.cache_clear()
    try:
        out = tmp_path / "instruments.xlsx"
        assert main(["--lang", "en", "export", "instruments", "--out", str(out)]) == 0
        assert capsys.readouterr().out.strip() == f"3 records (Instruments) written to {out}."
        assert len(rows_of_xlsx(out.read_bytes())) == 4
        assert main(["export", "usage", "--out", str(tmp_path / "usage.csv")]) == 0
        assert len(rows_of_csv((tmp_path / "usage.csv").read_bytes())) == 49
        assert main(["export", "units", "--out", str(tmp_path / "units.json")]) == 2
        assert main(["export", "units", "--out", str(tmp_path / "no-such-dir" / "u.csv")]) == 2
        assert not (tmp_path / "units.json").exists()
    finally:
        if db.get_engine.cache_info().currsize:
            db.get_engine().dispose()
        db.get_engine.cache_clear()
