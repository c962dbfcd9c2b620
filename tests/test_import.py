"""Importing national-layout files: reading, every validation rule, all-or-nothing upserts, the CLI."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import date, datetime

import openpyxl
import pytest
from sqlmodel import Session, select

from dashboard import importer, transfer
from dashboard.__main__ import main
from dashboard.i18n import catalogue
from dashboard.importer import FileReadError, ImportReference, parse_file
from dashboard.national import LAYOUTS
from models import db
from models import tables as T
from models.db import data_revision
from models.queries import count_rows
from tests.factories import add_unit, small_registry

TODAY = date(2026, 3, 15)
REF = ImportReference(
    regions={"152921": "152921", "阿拉善左旗": "152921", "alxa left banner": "152921",
             "152922": "152922", "阿拉善右旗": "152922", "alxa right banner": "152922",
             "152923": "152923", "额济纳旗": "152923", "ejin banner": "152923", "Z01": "Z01"},
    middle_classes=frozenset({"0105", "0704"}),
    unit_regions={"测试研究院": "152921", "气象站": "152923"},
    instrument_keys=frozenset({("测试研究院", "HPLC-1"), ("气象站", "RADAR-1")}),
    today=TODAY,
    now=datetime(2026, 3, 15, 12, 0),
)


def csv_bytes(rows, encoding="utf-8") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    book = openpyxl.Workbook()
    for r in rows:
        book.active.append(list(r))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def codes(parsed):
    return [(e.row, e.column, e.code) for e in parsed.errors]


# A valid row of each kind (column header -> value) that single tests spoil one cell at a time.
GOOD = {
    "units": {"单位名称": "新单位", "单位类型": "企业", "所在地区": "152921", "纬度": "39.1"},
    "instruments": {
        "所在单位仪器内部编码": "LC-9", "所属单位": "测试研究院", "中文名称": "液相色谱仪", "设备分类编码": "010501",
        "原值": "12.5", "主要购置经费来源": "单位自有资金", "启用日期": "2020-06-30", "仪器类别": "通用",
        "运行状态": "正常", "共享模式": "外部共享", "年总运行机时": "1000", "年服务机时": "300",
    },
    "usage": {"所属单位": "测试研究院", "所在单位仪器内部编码": "HPLC-1", "年月": "2026-01",
              "有效机时": "100", "对外服务机时": "40", "样品数": "12", "停机时长": "0"},
    "services": {
        "所属单位": "测试研究院", "所在单位仪器内部编码": "HPLC-1", "服务金额": "800",
        "实际服务开始时间": "2026-01-05 09:00:00", "实际服务结束时间": "2026-01-05 13:30:00",
        "服务方式": "委托共享", "服务量": "4.5", "申请人单位": "某企业", "服务类型": "外部用户",
        "申请人单位所在地区": "", "创新券抵扣金额": "",
    },
}


def one_row(kind, **changes) -> bytes:
    row = dict(GOOD[kind])
    row.update(changes)
    return csv_bytes([list(row), list(row.values())])


def parse(kind, data, name="f.csv", ref=REF):
    return parse_file(kind, name, data, ref)


# ---------------------------------------------------------------- reading


def test_gbk_file_is_read_and_regions_resolve_by_code_or_name():
    data = csv_bytes([["单位名称", "单位类型", "所在地区"], ["甲", "企业", "阿拉善右旗"],
                      ["乙", "高校", "Ejin Banner"], ["丙", "其他", "z01"]], encoding="gbk")
    parsed = parse("units", data)
    assert parsed.ok, codes(parsed)
    assert [(r["name"], r["region_code"]) for r in parsed.records] == [("甲", "152922"), ("乙", "152923"), ("丙", "Z01")]


def test_utf8_bom_file_with_english_keys_and_padded_headers():
    data = "\ufeff name , unit_type ,region_code\n甲,企业,152921\n".encode("utf-8")
    parsed = parse("units", data)
    assert parsed.ok, codes(parsed)
    assert parsed.records == [{"name": "甲", "unit_type": "企业", "region_code": "152921"}]


def test_xlsx_with_typed_cells_converts_units_and_keeps_class_code_digits():
    rows = [list(GOOD["instruments"]), list(GOOD["instruments"].values())]
    header = rows[0]
    rows[1][header.index("设备分类编码")] = 10501  # Excel dropped the leading zero
    rows[1][header.index("原值")] = 12.5  # 万元
    rows[1][header.index("启用日期")] = datetime(2020, 6, 30)  # a date cell
    rows[1][header.index("年总运行机时")] = 1000.0
    parsed = parse("instruments", xlsx_bytes(rows), name="list.XLSX")
    assert parsed.ok, codes(parsed)
    rec = parsed.records[0]
    assert rec["class_code"] == "010501"
    assert rec["original_value"] == 125_000.0  # 12.5 万元
    assert rec["start_date"] == date(2020, 6, 30)
    assert rec["annual_run_hours"] == 1000.0
    assert "region_code" not in rec  # column absent: the write service uses the unit's region


def test_blank_lines_skipped_but_row_numbers_are_the_files():
    data = csv_bytes([["单位名称", "单位类型", "所在地区"], ["甲", "企业", "152921"], ["", "", ""],
                      ["乙", "企业", "火星"]])
    parsed = parse("units", data)
    assert len(parsed.rows) == 2
    assert codes(parsed) == [(4, "所在地区", "unknown_region")]


def test_unknown_extension_empty_and_damaged_files_are_read_errors():
    with pytest.raises(FileReadError) as exc:
        parse("units", b"x", name="units.txt")
    assert exc.value.code == "unknown_extension"
    with pytest.raises(FileReadError) as exc:
        parse("units", b"\r\n  \r\n")
    assert exc.value.code == "empty_file"
    with pytest.raises(FileReadError) as exc:
        parse("units", b"PK\x03\x04 not really a workbook", name="u.xlsx")
    assert exc.value.code == "unreadable"
    with pytest.raises(FileReadError) as exc:
        parse("units", b"\xff\xfe\xff\x80abc")
    assert exc.value.code == "encoding"


def test_header_errors_name_the_column():
    data = csv_bytes([["单位名称", "name", "所在地区", "颜色"], ["甲", "乙", "152921", "红"]])
    parsed = parse("units", data)
    assert codes(parsed) == [(1, "name", "duplicate_column"), (1, "颜色", "unknown_column"),
                             (1, "单位类型", "missing_column")]
    assert not parsed.rows  # rows are not read under a broken header


def test_header_only_file_is_an_error():
    assert codes(parse("units", csv_bytes([["单位名称", "单位类型", "所在地区"]]))) == [(2, "", "no_data_rows")]


def test_full_width_parentheses_in_header_accepted():
    row = dict(GOOD["instruments"], **{"所属（附属）关系": "附属于科学仪器中心"})
    parsed = parse("instruments", csv_bytes([list(row), list(row.values())]))
    assert parsed.ok, codes(parsed)
    assert parsed.records[0]["affiliate"] == "附属于科学仪器中心"


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(delimiter):
    text = f"单位名称{delimiter}单位类型{delimiter}所在地区\n\"甲,乙\"{delimiter}企业{delimiter}152921\n"
    parsed = parse("units", text.encode("utf-8"))
    assert parsed.ok, codes(parsed)
    assert parsed.records == [{"name": "甲,乙", "unit_type": "企业", "region_code": "152921"}]


def test_mixed_line_endings_and_full_width_spaces_around_headers_and_cells():
    data = "\u3000单位名称\u3000,单位类型\xa0,所在地区\r\n甲\u3000,企业,152921\n乙,企业,152922\r丙,企业,Z01".encode()
    parsed = parse("units", data)
    assert parsed.ok, codes(parsed)
    assert [(r.row, r.record["name"], r.record["region_code"]) for r in parsed.rows] == [
        (2, "甲", "152921"), (3, "乙", "152922"), (4, "丙", "Z01")]


def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for r in rows:
            sheet.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


UNIT_ROWS = [["单位名称", "单位类型", "所在地区"], ["甲", "企业", "152921"]]


def test_xlsx_records_are_read_from_the_sheet_with_the_layout_headers():
    # An empty first sheet and an instructions sheet are passed over.
    data = workbook_bytes({"Sheet1": [], "填表说明": [["请在下一页填写"], ["单位名称为必填项"]], "单位": UNIT_ROWS})
    parsed = parse("units", data, name="u.xlsx")
    assert parsed.ok, codes(parsed)
    assert [r["name"] for r in parsed.records] == ["甲"]


def test_xlsx_with_records_on_two_sheets_is_refused():
    # Reading one and dropping the other would import half the records without a word.
    data = workbook_bytes({"2024": UNIT_ROWS, "2025": [UNIT_ROWS[0], ["乙", "企业", "152922"]]})
    with pytest.raises(FileReadError) as exc:
        parse("units", data, name="u.xlsx")
    assert (exc.value.code, exc.value.params) == ("several_sheets", {"sheets": "2024, 2025"})


def test_xlsx_without_layout_headers_reports_the_first_sheets_headers():
    data = workbook_bytes({"Sheet1": [], "说明": [["填表说明"], ["x"]]})
    assert codes(parse("units", data, name="u.xlsx"))[:2] == [(1, "填表说明", "unknown_column"),
                                                              (1, "单位名称", "missing_column")]


def test_xlsx_month_and_class_code_cells_typed_as_numbers():
    rows = [list(GOOD["usage"]), list(GOOD["usage"].values())]
    rows[1][2] = 202601  # 年月 typed as a number
    parsed = parse("usage", xlsx_bytes(rows), name="u.xlsx")
    assert parsed.ok, codes(parsed)
    assert (parsed.records[0]["year"], parsed.records[0]["month"]) == (2026, 1)


def test_unit_defined_twice_in_one_file_with_different_regions_is_refused():
    data = csv_bytes([["单位名称", "单位类型", "所在地区"], ["甲", "企业", "152921"], ["甲", "企业", "152922"]])
    parsed = parse("units", data)
    assert [(e.row, e.column, e.code, e.params) for e in parsed.errors] == [
        (3, "单位名称", "duplicate_key", {"first_row": 2})]


def test_layout_length_limits_fit_the_store_columns():
    """A value the importer accepts must fit its column, or PostgreSQL rejects the whole import."""
    from sqlalchemy import String

    tables = {"units": T.Unit, "instruments": T.Instrument, "usage": T.UsageMonthly, "services": T.ServiceRecord}
    # Columns whose stored value is not the cell text: resolved region codes and checked class codes.
    resolved = {"region_code": 16, "client_region_code": 6, "class_code": 6}
    for kind, model in tables.items():
        for col in LAYOUTS[kind]:
            column = model.__table__.columns.get(col.key)
            if column is None or not isinstance(column.type, String) or column.type.length is None:
                continue
            if col.key in resolved:
                longest = resolved[col.key]
            elif col.kind == "enum":
                longest = max(len(c) for c in col.choices)
            else:
                longest = col.max_len or importer.GENERIC_MAX_LEN
            assert longest <= column.type.length, (kind, col.key, longest, column.type.length)


# ---------------------------------------------------------------- cell rules

CELL_CASES = [
    ("units", "单位名称", "", "required"),
    ("units", "单位类型", "公司", "not_in_list"),
    ("units", "所在地区", "北京", "unknown_region"),
    ("units", "纬度", "95", "out_of_range"),
    ("units", "是否中小企业", "也许", "not_bool"),
    ("units", "统一社会信用代码", "9" * 19, "too_long"),
    ("units", "单位名称", "=HYPERLINK(\"http://x\")", "formula"),
    ("units", "单位名称", "+cmd|' /C calc'!A0", "formula"),
    ("units", "单位名称", "@SUM(1)", "formula"),
    ("units", "单位名称", "-SUM(A1:A9)", "formula"),
    ("units", "单位名称", "甲\x00乙", "bad_characters"),
    ("instruments", "设备分类编码", "019901", "unknown_class"),  # 0199 is no middle class
    ("instruments", "设备分类编码", "01050", "unknown_class"),
    ("instruments", "设备分类编码", "01050A", "unknown_class"),
    ("instruments", "原值", "-1", "negative"),
    ("instruments", "原值", "十万", "not_number"),
    ("instruments", "原值", "=A1*2", "not_number"),
    ("instruments", "原值", "9" * 400, "too_large"),
    ("instruments", "原值", "nan", "not_number"),
    ("instruments", "启用日期", "2020-02-30", "bad_date"),
    ("instruments", "启用日期", "30.06.2020", "bad_date"),
    ("instruments", "启用日期", "2026-03-16", "future_date"),
    ("instruments", "仪器类别", "通用型", "not_in_list"),
    ("instruments", "所属单位", "不存在的单位", "unknown_unit"),
    ("instruments", "中文名称", "仪" * 201, "too_long"),
    ("instruments", "主要技术指标", "x" * 100_000, "too_long"),
    ("instruments", "年总运行机时", "9000", "hours_exceed_year"),
    ("instruments", "年服务机时", "1200", "service_exceeds_run"),
    ("instruments", "安放地区", "Z09", "unknown_region"),
    ("usage", "年月", "2026-13", "bad_month"),
    ("usage", "年月", "202613", "bad_month"),
    ("usage", "年月", "20261", "bad_month"),  # YYYYM is ambiguous
    ("usage", "样品数", "3000000000", "too_large"),  # beyond a PostgreSQL INTEGER
    ("usage", "有效机时", "١٢", "not_number"),  # only ASCII and full-width digits are digits here
    ("services", "申请人单位所在地区", "١١٠٠٠٠", "unknown_client_region"),
    ("usage", "年月", "2026-04", "future_month"),
    ("usage", "有效机时", "745", "hours_exceed_month"),  # January: 31 × 24 = 744
    ("usage", "停机时长", "745", "hours_exceed_month"),
    ("usage", "对外服务机时", "100.5", "external_exceeds_effective"),
    ("usage", "样品数", "1.5", "not_integer"),
    ("usage", "所在单位仪器内部编码", "NOPE-1", "unknown_instrument"),
    ("usage", "所在单位仪器内部编码", "RADAR-1", "unknown_instrument"),  # belongs to the other unit
    ("services", "实际服务结束时间", "2026-01-05 09:00:00", "end_not_after_start"),
    ("services", "实际服务开始时间", "2026-01-05 9点", "bad_datetime"),
    ("services", "实际服务结束时间", "2026-03-15 12:30:00", "future_time"),
    ("services", "服务方式", "上门", "not_in_list"),
    ("services", "申请人单位所在地区", "北京", "unknown_client_region"),
    ("services", "创新券抵扣金额", "800.01", "voucher_exceeds_amount"),
]


@pytest.mark.parametrize("kind,column,value,code", CELL_CASES)
def test_each_rule_reports_row_column_value_and_reason(kind, column, value, code):
    parsed = parse(kind, one_row(kind, **{column: value}))
    assert [(e.row, e.column, e.code) for e in parsed.errors] == [(2, column, code)]
    assert parsed.errors[0].value == importer.shown(value)
    assert len(parsed.errors[0].value) <= importer.SHOWN_VALUE_LEN


@pytest.mark.parametrize(
    "kind,column,value,stored",
    [
        ("units", "是否中小企业", "是", True),
        ("units", "所在地区", "阿拉善左旗", "152921"),
        ("instruments", "启用日期", "2020/6/3", date(2020, 6, 3)),
        ("instruments", "原值", "1,250.5", 12_505_000.0),
        ("instruments", "原值", "0.01", 100.0),
        ("instruments", "安放地区", "额济纳旗", "152923"),
        ("instruments", "安放地区", "", "152921"),  # blank: the unit's region
        ("instruments", "所属(附属)关系", "", "不附属"),  # blank means "not affiliated"
        ("instruments", "仪器设备来源", "", ""),
        ("usage", "有效机时", "744", 744.0),
        ("usage", "年月", "2026/2", 2),
        ("services", "实际服务开始时间", "2026/1/5 9:00", datetime(2026, 1, 5, 9, 0)),
        ("services", "申请人单位所在地区", "110000", "110000"),  # outside the league: division code
        ("services", "申请人单位所在地区", "Ejin Banner", "152923"),
        ("units", "电话", "+86 (483) 833-1234", "+86 (483) 833-1234"),
        ("usage", "年月", "202602", 2),  # YYYYMM, also what Excel makes of a typed 202602
        ("usage", "样品数", "１２", 12),  # full-width digits from a Chinese input method
        ("usage", "样品数", "1e3", 1000),
        ("usage", "停机时长", "-0", 0.0),
        ("instruments", "启用日期", "２０２０－０６－３０", date(2020, 6, 30)),
        ("instruments", "设备分类编码", "０１０５０１", "010501"),
        ("instruments", "设备分类编码", "10501", "010501"),  # a CSV saved by Excel lost the leading zero
        ("services", "申请人单位所在地区", "１１００００", "110000"),  # stored as ASCII, not as typed
        ("services", "申请人单位所在地区", "ｚ０１", "Z01"),
        ("services", "实际服务结束时间", "2026-01-06 02:00", datetime(2026, 1, 6, 2, 0)),  # across midnight
        ("instruments", "中文名称", "-80℃超低温冰箱", "-80℃超低温冰箱"),  # a leading minus without formula syntax
        ("instruments", "中文名称", "'-80℃超低温冰箱", "-80℃超低温冰箱"),  # as our CSV export writes it
        ("instruments", "中文名称", "'普通名称", "'普通名称"),  # an apostrophe before ordinary text stays
    ],
)
def test_accepted_spellings(kind, column, value, stored):
    parsed = parse(kind, one_row(kind, **{column: value}))
    assert parsed.ok, codes(parsed)
    key = next(c.key for c in LAYOUTS[kind] if c.zh == column)
    assert parsed.records[0][key] == stored


def test_leap_february_has_696_hours():
    assert parse("usage", one_row("usage", 年月="2024-02", 有效机时="696")).ok
    assert codes(parse("usage", one_row("usage", 年月="2024-02", 有效机时="697"))) == [(2, "有效机时", "hours_exceed_month")]
    assert parse("usage", one_row("usage", 年月="2025-02", 有效机时="673")).errors[0].params == {"limit": 672}


def test_one_bad_row_among_good_rows_is_reported_and_all_errors_collected():
    rows = [["单位名称", "单位类型", "所在地区", "纬度"],
            ["甲", "企业", "152921", "39"],
            ["乙", "大学", "152922", "abc"],  # two errors in one row
            ["丙", "企业", "152923", "40"],
            ["甲", "企业", "152921", "39"]]  # duplicate of row 2
    parsed = parse("units", csv_bytes(rows))
    assert [(e.row, e.column, e.value, e.code) for e in parsed.errors] == [
        (3, "单位类型", "大学", "not_in_list"),
        (3, "纬度", "abc", "not_number"),
        (5, "单位名称", "甲", "duplicate_key"),
    ]
    assert parsed.errors[2].params == {"first_row": 2}
    assert parsed.errors[0].params["allowed"].startswith("高校 / 科研院所")


def test_duplicate_service_key_inside_the_file():
    row = GOOD["services"]
    other = dict(row, 服务金额="500")  # same instrument, start time and applicant unit
    parsed = parse("services", csv_bytes([list(row), list(row.values()), list(other.values())]))
    assert codes(parsed) == [(3, "申请人单位", "duplicate_key")]


def test_duplicate_month_is_found_whatever_its_spelling():
    row = GOOD["usage"]
    other = dict(row, 年月="2026/1")
    parsed = parse("usage", csv_bytes([list(row), list(row.values()), list(other.values())]))
    assert codes(parsed) == [(3, "年月", "duplicate_key")]


def test_values_beyond_the_last_header_are_an_error():
    data = csv_bytes([["单位名称", "单位类型", "所在地区"], ["甲", "企业", "152921", "多余"], ["乙", "企业", "152921"]])
    parsed = parse("units", data)
    assert [(e.row, e.code, e.params) for e in parsed.errors] == [(1, "unnamed_column", {"position": 4})]


def test_every_error_code_has_a_reason_in_both_languages():
    # The error classes refuse codes outside these sets, so every reason shown is covered here.
    for lang in ("zh", "en"):
        missing = sorted(c for c in importer.FILE_ERROR_CODES | importer.DATA_ERROR_CODES
                         if f"data.err.{c}" not in catalogue(lang))
        assert not missing, (lang, missing)


def test_error_table_is_in_the_chosen_language():
    parsed = parse("usage", one_row("usage", 有效机时="745"))
    from dashboard.i18n import Translator

    en = transfer.error_table(parsed.errors, Translator("en"))
    assert list(en.columns) == ["Row", "Column", "Value", "Reason"]
    assert en.iloc[0].tolist() == [2, "有效机时", "745", "more than the hours in that month (744)"]
    zh = transfer.error_table(parsed.errors, Translator("zh"))
    assert zh.iloc[0].tolist()[-1] == "超过当月小时数（744）"


# ---------------------------------------------------------------- writing (both backends)


def units_file(*rows) -> bytes:
    return csv_bytes([["单位名称", "单位类型", "所在地区", "纬度", "是否中小企业"], *rows])


def test_import_units_then_reimport_changes_nothing(engine):
    data = units_file(["甲研究院", "科研院所", "阿拉善左旗", "38.8", "否"], ["乙公司", "企业", "Z01", "", "是"])
    first = transfer.import_file(engine, "units", "units.csv", data, actor="tester")
    assert first.written and (first.counts.inserted, first.counts.updated, first.counts.unchanged) == (2, 0, 0)
    revision = data_revision(engine)
    with Session(engine) as s:
        units = {u.name: u for u in s.exec(select(T.Unit))}
        audit = s.exec(select(T.AuditEntry)).one()
    assert (units["甲研究院"].region_code, units["甲研究院"].lat, units["甲研究院"].is_sme) == ("152921", 38.8, False)
    assert (units["乙公司"].region_code, units["乙公司"].lat, units["乙公司"].is_sme) == ("Z01", None, True)
    assert (audit.actor, audit.action, audit.entity_key) == ("tester", "import.units", "units.csv")
    assert audit.summary == "units.csv: 2 inserted, 0 updated, 0 unchanged"
    assert json.loads(audit.after_json)["inserted"] == 2

    again = transfer.import_file(engine, "units", "units.csv", data, actor="tester")
    assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, 2)
    assert not again.written
    assert data_revision(engine) == revision
    assert count_rows(engine, T.AuditEntry) == 1


def test_update_touches_only_columns_in_the_file(engine):
    add_unit(engine, "甲研究院", unit_type="科研院所", region_code="152921", lat=38.8, contact="王工")
    data = csv_bytes([["单位名称", "单位类型", "所在地区"], ["甲研究院", "高校", "152921"]])
    out = transfer.import_file(engine, "units", "u.csv", data, actor="t")
    assert (out.counts.inserted, out.counts.updated) == (0, 1)
    with Session(engine) as s:
        unit = s.exec(select(T.Unit)).one()
    assert (unit.unit_type, unit.lat, unit.contact) == ("高校", 38.8, "王工")


def test_bad_file_writes_nothing(engine):
    small_registry(engine)
    before = (count_rows(engine, T.Unit), data_revision(engine))
    data = units_file(["新单位一", "企业", "152921", "", ""], ["新单位二", "企业", "152999", "", ""])
    out = transfer.import_file(engine, "units", "u.csv", data, actor="t")
    assert not out.ok and out.counts is None and not out.written
    assert [(e.row, e.column, e.value, e.code) for e in out.parsed.errors] == [(3, "所在地区", "152999", "unknown_region")]
    assert (count_rows(engine, T.Unit), data_revision(engine)) == before


def test_instruments_value_in_wan_region_default_and_upsert(engine):
    ids = small_registry(engine)
    header = ["所在单位仪器内部编码", "所属单位", "中文名称", "设备分类编码", "原值", "主要购置经费来源", "启用日期",
              "仪器类别", "运行状态", "共享模式", "安放地区"]
    rows = [["HPLC-1", "阿拉善盟测试研究院", "高效液相色谱仪", "010501", "61.25", "地方财政资金", "2018-05-01", "通用",
             "正常", "外部共享", ""],
            ["ICP-1", "额济纳旗气象站", "电感耦合等离子体光谱仪", "010401", "88.80", "中央财政资金", "2021-09-01", "通用",
             "正常", "外部共享", ""]]
    out = transfer.import_file(engine, "instruments", "i.csv", csv_bytes([header, *rows]), actor="t")
    assert out.ok, codes(out.parsed)
    assert (out.counts.inserted, out.counts.updated, out.counts.unchanged) == (1, 1, 0)
    with Session(engine) as s:
        hplc = s.get(T.Instrument, ids["hplc"])
        icp = s.exec(select(T.Instrument).where(T.Instrument.inner_id == "ICP-1")).one()
    assert hplc.original_value == 612_500.0 and hplc.manufacturer == "安捷伦"  # untouched column kept
    assert (icp.unit_id, icp.original_value, icp.region_code) == (ids["unit2"], 888_000.0, "152923")


def test_instrument_file_cannot_reference_a_unit_only_in_the_units_file(engine):
    data = one_row("instruments", 所属单位="未入库单位")
    out = transfer.import_file(engine, "instruments", "i.csv", data, actor="t")
    assert [(e.column, e.code) for e in out.parsed.errors] == [("所属单位", "unknown_unit")]
    assert count_rows(engine, T.Instrument) == 0


def test_usage_import_records_submissions_once(engine):
    ids = small_registry(engine)
    header = list(GOOD["usage"])
    rows = [["阿拉善盟测试研究院", "HPLC-1", "2025-12", "110", "40", "12", "0"],  # updates 100 -> 110
            ["阿拉善盟测试研究院", "GC-1", "2025-12", "20", "0", "20", "0"],  # as stored
            ["阿拉善盟测试研究院", "HPLC-1", "2026-01", "90", "30", "9", "2.5"],  # new
            ["额济纳旗气象站", "RADAR-1", "2026-01", "50", "0", "0", "0"]]  # new
    out = transfer.import_file(engine, "usage", "usage.csv", csv_bytes([header, *rows]), actor="t")
    assert out.ok, codes(out.parsed)
    assert (out.counts.inserted, out.counts.updated, out.counts.unchanged, out.counts.submissions) == (2, 1, 1, 3)
    with Session(engine) as s:
        subs = s.exec(select(T.Submission).order_by(T.Submission.unit_id, T.Submission.year, T.Submission.month)).all()
        dec = s.exec(select(T.UsageMonthly).where(T.UsageMonthly.instrument_id == ids["hplc"],
                                                  T.UsageMonthly.year == 2025, T.UsageMonthly.month == 12)).one()
    assert dec.effective_hours == 110.0
    assert [(x.unit_id, x.kind, x.year, x.month, x.due_date) for x in subs] == [
        (ids["unit1"], "usage", 2025, 12, date(2026, 1, 10)),  # due the 10th of the next month
        (ids["unit1"], "usage", 2026, 1, date(2026, 2, 10)),
        (ids["unit2"], "usage", 2026, 1, date(2026, 2, 10)),
    ]
    assert all(x.submitted_at is not None for x in subs)
    revision = data_revision(engine)
    again = transfer.import_file(engine, "usage", "usage.csv", csv_bytes([header, *rows]), actor="t")
    assert (again.counts.inserted, again.counts.updated, again.counts.unchanged, again.counts.submissions) == (0, 0, 4, 0)
    assert data_revision(engine) == revision and count_rows(engine, T.Submission) == 3


def test_pending_submission_is_marked_submitted(engine):
    ids = small_registry(engine)
    with Session(engine) as s:
        s.add(T.Submission(unit_id=ids["unit2"], kind="usage", year=2026, month=1, due_date=date(2026, 2, 5)))
        s.commit()
    data = csv_bytes([list(GOOD["usage"]), ["额济纳旗气象站", "RADAR-1", "2026-01", "50", "0", "0", "0"]])
    out = transfer.import_file(engine, "usage", "u.csv", data, actor="t")
    assert out.counts.submissions == 1
    with Session(engine) as s:
        sub = s.exec(select(T.Submission)).one()
    assert sub.due_date == date(2026, 2, 5) and sub.submitted_at is not None


def test_services_upsert_on_instrument_start_and_applicant(engine):
    ids = small_registry(engine)
    header = list(GOOD["services"])
    row = ["阿拉善盟测试研究院", "HPLC-1", "800", "2025-06-03 09:00:00", "2025-06-03 12:00:00", "委托共享", "3",
           "某企业", "外部用户", "Z01", "300"]
    out = transfer.import_file(engine, "services", "s.csv", csv_bytes([header, row]), actor="t")
    assert (out.counts.inserted, out.counts.updated) == (1, 0)
    row2 = list(row)
    row2[2] = "900"
    out = transfer.import_file(engine, "services", "s.csv", csv_bytes([header, row2]), actor="t")
    assert (out.counts.inserted, out.counts.updated) == (0, 1)
    with Session(engine) as s:
        rec = s.exec(select(T.ServiceRecord)).one()
    assert (rec.instrument_id, rec.service_amount_cny, rec.voucher_amount_cny, rec.client_region_code) == (
        ids["hplc"], 900.0, 300.0, "Z01")
    assert rec.start_time == datetime(2025, 6, 3, 9, 0) and rec.end_time == datetime(2025, 6, 3, 12, 0)


def test_dry_run_computes_counts_and_writes_nothing(engine):
    small_registry(engine)
    before = (count_rows(engine, T.Unit), data_revision(engine), count_rows(engine, T.AuditEntry))
    data = units_file(["新单位", "企业", "152921", "", ""], ["额济纳旗气象站", "其他", "152923", "41.96", "否"])
    out = transfer.import_file(engine, "units", "u.csv", data, actor="t", dry_run=True)
    assert (out.counts.inserted, out.counts.updated, out.counts.unchanged) == (1, 0, 1)
    assert not out.written
    assert (count_rows(engine, T.Unit), data_revision(engine), count_rows(engine, T.AuditEntry)) == before


def test_integer_beyond_the_database_range_is_a_row_error_not_a_crash(engine):
    small_registry(engine)
    data = csv_bytes([list(GOOD["usage"]), ["阿拉善盟测试研究院", "HPLC-1", "2026-01", "100", "40", "3000000000", "0"]])
    out = transfer.import_file(engine, "usage", "u.csv", data, actor="t")
    assert [(e.row, e.column, e.code) for e in out.parsed.errors] == [(2, "样品数", "too_large")]
    assert out.parsed.errors[0].params == {"max": 2_147_483_647}
    assert count_rows(engine, T.UsageMonthly) == 48 and count_rows(engine, T.Submission) == 0


def _stale_reference(monkeypatch, **extra):
    """Validation sees a store in which more exists than at write time (a concurrent delete)."""
    real = transfer.load_reference

    def load(engine, now=None):
        ref = real(engine, now)
        return dataclasses.replace(
            ref,
            unit_regions={**ref.unit_regions, **extra.get("units", {})},
            instrument_keys=ref.instrument_keys | set(extra.get("instruments", ())),
        )

    monkeypatch.setattr(transfer, "load_reference", load)


def test_store_error_during_the_write_rolls_everything_back_and_is_reported(engine, monkeypatch):
    ids = small_registry(engine)
    _stale_reference(monkeypatch, instruments=[("阿拉善盟测试研究院", "GONE-1")])
    before = (count_rows(engine, T.UsageMonthly), count_rows(engine, T.Submission), data_revision(engine))
    header = list(GOOD["usage"])
    rows = [["阿拉善盟测试研究院", "HPLC-1", "2026-01", "90", "30", "9", "0"],  # fine on its own
            ["阿拉善盟测试研究院", "GONE-1", "2026-01", "10", "0", "1", "0"]]
    out = transfer.import_file(engine, "usage", "u.csv", csv_bytes([header, *rows]), actor="t")
    assert not out.ok and not out.written and out.counts is None
    assert [(e.row, e.code) for e in out.parsed.errors] == [(1, "store_rejected")]
    assert "GONE-1" in out.parsed.errors[0].params["detail"]
    assert (count_rows(engine, T.UsageMonthly), count_rows(engine, T.Submission), data_revision(engine)) == before
    with Session(engine) as s:
        assert s.get(T.Instrument, ids["hplc"]) is not None


def test_store_error_in_the_cli_exits_1_with_a_clear_message(cli, engine, monkeypatch, tmp_path, capsys):
    _stale_reference(monkeypatch, units={"已删除单位": "152921"})
    path = tmp_path / "i.csv"
    path.write_bytes(one_row("instruments", 所属单位="已删除单位"))
    assert cli("--lang", "en", "import", "instruments", str(path)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "已删除单位" in err
    assert err.strip().endswith("i.csv: 1 errors; nothing was imported.")
    assert count_rows(engine, T.Instrument) == 0 and count_rows(engine, T.AuditEntry) == 0


def test_usage_before_the_instruments_start_date_is_accepted(engine):
    # HPLC-1 was put into service on 2018-05-01; trial runs before acceptance are real use and the
    # start date in registers is often the accounting date, so earlier months are not refused.
    ids = small_registry(engine)
    data = csv_bytes([list(GOOD["usage"]), ["阿拉善盟测试研究院", "HPLC-1", "2017-12", "30", "0", "3", "0"]])
    out = transfer.import_file(engine, "usage", "u.csv", data, actor="t")
    assert out.ok and (out.counts.inserted, out.counts.submissions) == (1, 1)
    with Session(engine) as s:
        row = s.exec(select(T.UsageMonthly).where(T.UsageMonthly.instrument_id == ids["hplc"],
                                                  T.UsageMonthly.year == 2017)).one()
    assert (row.month, row.effective_hours) == (12, 30.0)


# ---------------------------------------------------------------- CLI


@pytest.fixture
def cli(monkeypatch, engine, db_url):
    """Run `python -m dashboard ...` in-process against the test store."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    db.get_engine.cache_clear()  # get_engine() caches per argument, not per DATABASE_URL
    yield lambda *argv: main(list(argv))
    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose()  # the cached engine of this store (a cache hit, nothing created)
    db.get_engine.cache_clear()


def test_cli_import_counts_exit_codes_and_dry_run(cli, engine, tmp_path, capsys):
    good = tmp_path / "units.csv"
    good.write_bytes(units_file(["甲研究院", "科研院所", "152921", "", ""]))
    assert cli("--lang", "en", "import", "units", str(good), "--dry-run") == 0
    assert "would insert 1, update 0" in capsys.readouterr().out
    assert count_rows(engine, T.Unit) == 0
    assert cli("--lang", "en", "import", "units", str(good)) == 0
    assert capsys.readouterr().out.strip() == "units.csv: 1 inserted, 0 updated, 0 unchanged."
    assert cli("import", "units", str(good)) == 0
    assert "新增 0 条，更新 0 条，1 条不变" in capsys.readouterr().out

    bad = tmp_path / "bad.csv"
    bad.write_bytes(units_file(["乙公司", "企业", "152921", "", ""], ["丙公司", "公司", "152921", "91", ""]))
    assert cli("--lang", "en", "import", "units", str(bad)) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "row 3, column '单位类型', value '公司': not one of the national values: 高校 / 科研院所 / 医疗卫生 / 检验检测 / 企业 / 其他",
        "row 3, column '纬度', value '91': outside the range -90.0 to 90.0",
        "bad.csv: 2 errors; nothing was imported.",
    ]
    assert count_rows(engine, T.Unit) == 1  # 乙公司 not written either


def test_cli_usage_errors_exit_2(cli, engine, tmp_path, capsys):
    assert cli("import", "units", str(tmp_path / "missing.csv")) == 2
    txt = tmp_path / "units.txt"
    txt.write_text("单位名称\n甲\n", encoding="utf-8")
    assert cli("--lang", "en", "import", "units", str(txt)) == 2
    assert "unsupported file type: units.txt" in capsys.readouterr().err
    broken = tmp_path / "units.xlsx"
    broken.write_bytes(b"not a zip")
    assert cli("import", "units", str(broken)) == 2
    with pytest.raises(SystemExit) as exc:  # argparse: unknown record kind
        cli("import", "vouchers", str(txt))
    assert exc.value.code == 2
    assert count_rows(engine, T.AuditEntry) == 0


def test_cli_import_xlsx_and_formula_text(cli, engine, tmp_path, capsys):
    small_registry(engine)
    path = tmp_path / "units.xlsx"
    path.write_bytes(xlsx_bytes([["单位名称", "单位类型", "所在地区", "备注"],
                                 ["新单位", "企业", 152922, "=1+1"]]))
    assert cli("--lang", "en", "import", "units", str(path)) == 1
    assert "row 2, column '备注', value '=1+1'" in capsys.readouterr().err
    path.write_bytes(xlsx_bytes([["单位名称", "单位类型", "所在地区"], ["新单位", "企业", 152922]]))
    assert cli("import", "units", str(path)) == 0
    with Session(engine) as s:
        assert s.exec(select(T.Unit.region_code).where(T.Unit.name == "新单位")).one() == "152922"
