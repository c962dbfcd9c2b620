"""Bad and hostile input against the importers: property-based tests (hypothesis) and a fixed fuzz
corpus of hand-made hostile files.

Importers under test: national-layout files through `dashboard.transfer.import_file` (units,
instruments, usage, services) and purchase requests through `dashboard.purchases.read_request_file`
+ `models.services.purchases.import_requests`. Every case must either import (only when the file
is valid) or give a coded error (a file error `data.err.<code>`, cell errors with row, column,
value and `data.err.<code>`, or purchase errors `purchases.err.<code>`) — and then the store is
exactly as before: the row count of every table and the data revision unchanged.

The properties run a fixed number of derandomised examples (the same ones on every run, so CI is
reproducible) on every store backend of the `engine` fixture (SQLite; PostgreSQL too when
TEST_DATABASE_URL is set). The store starts as `tests.factories.small_registry`: 阿拉善盟测试研究院
with HPLC-1 and GC-1, 额济纳旗气象站 with RADAR-1; HPLC-1 has 100 h in January 2025.
"""

from __future__ import annotations

import csv
import io
import random
import tomllib
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Callable

import openpyxl
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from sqlmodel import Session, SQLModel, select

from dashboard import importer, transfer
from dashboard import purchases as PR
from dashboard.i18n import LANGUAGES, catalogue
from dashboard.importer import FileReadError
from dashboard.national import LAYOUTS
from models import tables as T
from models.db import data_revision, init_store, make_engine
from models.queries import count_rows
from models.services import purchases as SP
from tests.factories import small_registry
from tests.stores import BACKENDS, store_url

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
KINDS = tuple(LAYOUTS)
UNIT = "阿拉善盟测试研究院"
PURCHASE_TODAY = date(2026, 3, 15)
ALIASES = PR.header_aliases({lang: catalogue(lang) for lang in LANGUAGES})


@pytest.fixture
def store(engine):
    small_registry(engine)
    return engine


@pytest.fixture(scope="module", params=BACKENDS)
def corpus_store(request, tmp_path_factory):
    """One small_registry store per backend for the whole fuzz corpus: every case must leave it as
    it was (each test checks that), so the cases can share it."""
    with store_url(request.param, tmp_path_factory.mktemp("corpus")) as url:
        eng = make_engine(url)
        init_store(eng)
        small_registry(eng)
        yield eng
        eng.dispose()


# ------------------------------------------------------------------------------------- files

# One valid record per kind against small_registry (header as in the national layout -> cell).
GOOD = {
    "units": {"单位名称": "阿拉善盟新单位", "单位类型": "企业", "所在地区": "152921"},
    "instruments": {"所在单位仪器内部编码": "FZ-1", "所属单位": UNIT, "中文名称": "液相色谱仪", "设备分类编码": "010501",
                    "原值": "12.5", "主要购置经费来源": "单位自有资金", "启用日期": "2020-06-30", "仪器类别": "通用",
                    "运行状态": "正常", "共享模式": "外部共享"},
    "usage": {"所属单位": UNIT, "所在单位仪器内部编码": "HPLC-1", "年月": "2025-01", "有效机时": "100",
              "对外服务机时": "40"},
    "services": {"所属单位": UNIT, "所在单位仪器内部编码": "HPLC-1", "服务金额": "800",
                 "实际服务开始时间": "2025-01-05 09:00:00", "实际服务结束时间": "2025-01-05 13:30:00",
                 "服务方式": "委托共享", "服务量": "4.5", "申请人单位": "某企业", "服务类型": "外部用户"},
}
# The column of each kind that tells records apart, and three different values of it.
KEY_VARIANTS = {
    "units": ("单位名称", ["新单位甲", "新单位乙", "新单位丙"]),
    "instruments": ("所在单位仪器内部编码", ["FZ-1", "FZ-2", "FZ-3"]),
    "usage": ("年月", ["2025-01", "2025-02", "2025-03"]),
    "services": ("申请人单位", ["甲企业", "乙企业", "丙企业"]),
}


def csv_file(rows, encoding: str = "utf-8") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_file(*sheets) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for n, rows in enumerate(sheets, start=1):
        sheet = book.create_sheet(f"Sheet{n}")
        for row in rows:
            sheet.append(list(row))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def table(kind: str, *changes: dict) -> list[list]:
    """Header and one row per dict of changes to the GOOD record (one unchanged row without any)."""
    header = list(GOOD[kind])
    return [header] + [list({**GOOD[kind], **c}.values()) for c in (changes or ({},))]


def three_rows(kind: str) -> list[list]:
    column, values = KEY_VARIANTS[kind]
    return table(kind, *({column: v} for v in values))


def good_file(kind: str, fmt: str, rows: list[list] | None = None) -> bytes:
    rows = rows or table(kind)
    return csv_file(rows) if fmt == "csv" else xlsx_file(rows)


# ------------------------------------------------------------------------------------- store


def store_state(engine) -> tuple[dict[str, int], int]:
    """Row count of every table of the store, and the data revision."""
    return {tb.name: count_rows(engine, tb) for tb in SQLModel.metadata.sorted_tables}, data_revision(engine)


def attempt(engine, kind: str, file_name: str, data: bytes):
    """transfer.import_file's outcome, or the FileReadError it raised."""
    try:
        return transfer.import_file(engine, kind, file_name, data, actor="fuzz")
    except FileReadError as exc:
        return exc


def assert_coded_refusal_or_valid_import(engine, before, result, rows_at_most: int | None = None) -> None:
    """The contract: a coded error and an unchanged store, or a valid file imported completely.
    (The outcomes are hypothesis events: `pytest --hypothesis-show-statistics` counts them.)"""
    event("imported" if not isinstance(result, FileReadError) and result.ok else
          f"file error {result.code}" if isinstance(result, FileReadError) else
          "cell errors " + ",".join(sorted({e.code for e in result.parsed.errors})))
    if isinstance(result, FileReadError):
        assert result.code in importer.FILE_ERROR_CODES
        assert store_state(engine) == before
        return
    if not result.ok:
        assert result.parsed.errors and not result.written and result.counts is None
        for e in result.parsed.errors:
            assert e.code in importer.DATA_ERROR_CODES
            assert e.row >= 1 and len(e.value) <= importer.SHOWN_VALUE_LEN
        assert store_state(engine) == before
        return
    c = result.counts
    assert c.inserted + c.updated + c.unchanged == len(result.parsed.rows) >= 1
    if rows_at_most is not None:
        assert len(result.parsed.rows) <= rows_at_most


# ----------------------------------------------------------------------------- properties

# Bytes of every sort: random ones, text in the two supported encodings and in a foreign one, and
# text behind a valid header, so that both the readers and the validation are reached.
any_text = st.text(max_size=400)
noise = st.one_of(
    st.binary(max_size=2048),
    any_text.map(lambda s: s.encode("utf-8")),
    any_text.map(lambda s: s.encode("gb18030")),
    any_text.map(lambda s: s.encode("utf-16")),
    st.tuples(st.sampled_from(KINDS), any_text).map(lambda ks: (",".join(GOOD[ks[0]]) + "\r\n" + ks[1]).encode("utf-8")),
)


@SETTINGS
@given(data=noise, kind=st.sampled_from(KINDS), ext=st.sampled_from(("csv", "xlsx")))
def test_any_bytes_import_only_when_valid_else_a_coded_error_and_nothing_written(store, data, kind, ext):
    before = store_state(store)
    assert_coded_refusal_or_valid_import(store, before, attempt(store, kind, f"fuzz.{ext}", data))


@SETTINGS
@given(kind=st.sampled_from(KINDS), fmt=st.sampled_from(("csv", "xlsx")), cut=st.integers(min_value=0))
def test_a_truncated_file_is_refused_or_imports_what_it_still_holds(store, kind, fmt, cut):
    full = good_file(kind, fmt, three_rows(kind))
    data = full[: cut % len(full)]
    before = store_state(store)
    result = attempt(store, kind, f"cut.{fmt}", data)
    if fmt == "xlsx":  # a zip archive keeps its directory at the end: any cut leaves it unreadable
        assert isinstance(result, FileReadError) and result.code == "unreadable"
    assert_coded_refusal_or_valid_import(store, before, result, rows_at_most=3)


hostile_cell = st.one_of(
    st.text(max_size=80),
    st.tuples(st.sampled_from(["=", "+", "-", "@", "\t=", "\r=", "'=", " ="]), st.text(max_size=40)).map("".join),
    st.floats().map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.dates().map(str),
    st.datetimes().map(str),
    st.integers(150, 3000).map(lambda n: "长" * n),
)


@SETTINGS
@given(kind=st.sampled_from(KINDS), position=st.integers(min_value=0), value=hostile_cell)
def test_one_hostile_cell_is_reported_on_its_row_or_the_record_imports(store, kind, position, value):
    header = list(GOOD[kind])
    column = header[position % len(header)]
    before = store_state(store)
    result = attempt(store, kind, "cell.csv", csv_file(table(kind, {column: value})))
    assert not isinstance(result, FileReadError), result.code
    assert_coded_refusal_or_valid_import(store, before, result, rows_at_most=1)
    for e in result.parsed.errors:
        assert e.row == 2 and e.column in header


@SETTINGS
@given(hours=st.one_of(st.floats(), st.integers(-(10**15), 10**15), st.floats(-10, 800), st.integers(-5, 800)))
@example(hours=float("nan")).via("the edges")
@example(hours=float("-inf"))
@example(hours=-0.0)
@example(hours=744.0)
@example(hours=744.0001)
@example(hours=-1e13)
def test_hours_import_exactly_when_between_zero_and_the_hours_of_the_month(store, hours):
    """January 2025 has 31 × 24 = 744 hours; 对外服务机时 is 0, so only the effective hours decide."""
    text = repr(hours) if isinstance(hours, float) else str(hours)
    before = store_state(store)
    result = attempt(store, "usage", "hours.csv", csv_file(table("usage", {"有效机时": text, "对外服务机时": "0"})))
    codes = [(e.column, e.code) for e in result.parsed.errors]
    event(str(codes) if codes else "imported")
    value = float(hours)
    if value != value or abs(value) == float("inf"):
        assert codes == [("有效机时", "not_number")]
    elif abs(value) > 1e12:
        assert codes == [("有效机时", "too_large")]
    elif value < 0:
        assert codes == [("有效机时", "negative")]
    elif value > 744:
        assert codes == [("有效机时", "hours_exceed_month")]
    else:
        assert result.ok, codes
        with Session(store) as s:
            row = s.exec(select(T.UsageMonthly).where(T.UsageMonthly.year == 2025, T.UsageMonthly.month == 1,
                                                      T.UsageMonthly.effective_hours == value)).all()
        assert len(row) == 1
        return
    assert store_state(store) == before


@SETTINGS
@given(day=st.one_of(st.dates(), st.dates(date(1890, 1, 1), date(2030, 12, 31))))
@example(day=date(1899, 12, 31)).via("the edges")
@example(day=date(1900, 1, 1))
def test_a_start_date_imports_exactly_when_from_1900_to_today(store, day):
    today = transfer.local_now().date()
    before = store_state(store)
    result = attempt(store, "instruments", "dates.csv", csv_file(table("instruments", {"启用日期": day.isoformat()})))
    codes = [(e.column, e.code) for e in result.parsed.errors]
    event(str(codes) if codes else "imported")
    if day.year < importer.MIN_YEAR:
        assert codes == [("启用日期", "too_old")]
    elif day > today:
        assert codes == [("启用日期", "future_date")]
    else:
        assert result.ok, codes
        with Session(store) as s:
            assert s.exec(select(T.Instrument.start_date).where(T.Instrument.inner_id == "FZ-1")).one() == day
        return
    assert store_state(store) == before


# Any character but lone surrogates (no encoding can write them); control characters included.
free_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=260)


@SETTINGS
@given(name=free_text)
@example(name="长" * 200).via("the edges")
@example(name="长" * 201)
@example(name=" =1+1")
@example(name="'=1+1")
@example(name="'-80℃超低温冰箱")
@example(name="-80℃超低温冰箱")
@example(name="+86 (483) 833 1234")
@example(name="\u3000")
@example(name="<img src=x onerror=alert(1)>")
@example(name="a\x00b")
def test_a_free_text_cell_is_stored_exactly_as_written_or_refused_with_its_reason(store, name):
    """中文名称 (at most 200 characters) is free text: kept as written, surrounding blanks aside."""
    before = store_state(store)
    result = attempt(store, "instruments", "text.csv", csv_file(table("instruments", {"中文名称": name})))
    codes = [e.code for e in result.parsed.errors]
    event(str(codes) if codes else "imported")
    text = name.strip()
    controls = any(ord(c) < 32 and c not in "\t\n\r" or ord(c) == 127 for c in text)
    if not text:
        assert codes == ["required"]
    elif controls:
        assert codes == ["bad_characters"]
    elif len(text) > 200:
        assert codes == ["too_long"]
    elif text.lstrip(" \t\r\n")[:1] in ("=", "@"):
        assert codes == ["formula"]
    elif text[0] in "+-'":
        assert codes in ([], ["formula"])  # + and - only with formula syntax after them
    else:
        assert result.ok, codes
    if result.ok:
        with Session(store) as s:
            stored = s.exec(select(T.Instrument.name_zh).where(T.Instrument.inner_id == "FZ-1")).one()
        assert stored == (text[1:] if text[:1] == "'" and text[1:2] in importer.FORMULA_START else text)
    else:
        assert store_state(store) == before


# ---------------------------------------------------------------------- purchase requests

PURCHASE = {"request_no": "", "applicant": UNIT, "instrument_name": "质谱仪", "class_code": "0105", "model": "M-1",
            "manufacturer": "某厂", "key_specs": "分辨率 0.1", "quoted_price": "1000000", "quotes": "三家询价",
            "funding": "地方财政资金", "justification": "监测任务增加", "expected_annual_hours": "900",
            "location": "", "submitted_date": "2026-01-05"}


def purchase_file(*changes: dict, fmt: str = "csv") -> bytes:
    header = list(PR.REQUEST_FIELDS)
    rows = [header] + [[{**PURCHASE, **c}[f] for f in header] for c in (changes or ({},))]
    return csv_file(rows) if fmt == "csv" else xlsx_file(rows)


def import_purchases(engine, file_name: str, data: bytes):
    """The requests imported, or the FileReadError / ReviewError raised."""
    try:
        frame = PR.read_request_file(file_name, data)
        return SP.import_requests(engine, frame, actor="fuzz", today=PURCHASE_TODAY, aliases=ALIASES, source=file_name)
    except (FileReadError, PR.ReviewError) as exc:
        return exc


def assert_purchase_contract(engine, before, result) -> None:
    requests_before = before[0]["purchaserequest"]
    event("imported" if isinstance(result, list) else
          f"file error {result.code}" if isinstance(result, FileReadError) else
          "errors " + ",".join(sorted({e.code for e in result.errors})))
    if isinstance(result, FileReadError):
        assert result.code in importer.FILE_ERROR_CODES
    elif isinstance(result, PR.ReviewError):
        assert result.errors
        keys = set(catalogue("en"))
        for e in result.errors:
            assert f"purchases.err.{e.code}" in keys and len(e.value) <= 80
    else:
        assert len(result) >= 1
        assert count_rows(engine, T.PurchaseRequest) == requests_before + len(result)
        return
    assert store_state(engine) == before


@SETTINGS
@given(data=noise, ext=st.sampled_from(("csv", "xlsx")))
def test_any_bytes_as_purchase_requests_give_a_coded_error_and_write_nothing(store, data, ext):
    before = store_state(store)
    assert_purchase_contract(store, before, import_purchases(store, f"fuzz.{ext}", data))


@SETTINGS
@given(field=st.sampled_from(PR.REQUEST_FIELDS), value=hostile_cell)
def test_one_hostile_purchase_field_is_refused_on_its_row_or_the_request_imports(store, field, value):
    before = store_state(store)
    result = import_purchases(store, "requests.csv", purchase_file({field: value}))
    assert not isinstance(result, FileReadError), result.code
    assert_purchase_contract(store, before, result)
    if isinstance(result, PR.ReviewError):
        assert {e.row for e in result.errors} == {2} and field in {e.field for e in result.errors}


# ------------------------------------------------------------------------------ fuzz corpus


@cache
def zip_bomb() -> bytes:
    """A valid workbook with one more member of 300 MB of zeros (about 0.3 MB packed)."""
    buf = io.BytesIO(good_file("units", "xlsx"))
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("xl/media/padding.bin", "w", force_zip64=True) as member:
            block = bytes(1024 * 1024)
            for _ in range(300):
                member.write(block)
    return buf.getvalue()


def formula_object_workbook(formula) -> bytes:
    """A units workbook whose 单位名称 cell holds an array or data-table formula (openpyxl reads
    those back as objects, not as text)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(GOOD["units"]))
    sheet.append(list(GOOD["units"].values()))
    sheet["A2"] = formula
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def truncated_csv() -> bytes:
    """Three usage rows, cut in the middle of the last row's 有效机时 (after '2025-03,1')."""
    data = good_file("usage", "csv", three_rows("usage"))
    return data[: data.rindex(b"2025-03") + len(b"2025-03,1")]


def future(days: int) -> date:
    return transfer.local_now().date() + timedelta(days=days)


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    file_name: str
    data: Callable[[], bytes]
    file_error: str | None = None  # the FileReadError's code, or
    cells: tuple[tuple[int, str, str], ...] = ()  # every (row, column, code) of the data errors


RANDOM = random.Random(20260315)
RANDOM_BYTES = RANDOM.randbytes(4096)
CORPUS = [
    Case("random_bytes_csv", "units", "units.csv", lambda: b"\xff\xfe\x00" + RANDOM_BYTES, file_error="encoding"),
    Case("random_bytes_xlsx", "units", "units.xlsx", lambda: RANDOM_BYTES, file_error="unreadable"),
    Case("empty_csv", "units", "units.csv", lambda: b"", file_error="empty_file"),
    Case("bom_and_blank_lines_csv", "units", "units.csv", lambda: b"\xef\xbb\xbf\r\n ,, \r\n", file_error="empty_file"),
    Case("empty_xlsx", "units", "units.xlsx", lambda: b"", file_error="unreadable"),
    Case("csv_named_xlsx", "units", "units.xlsx", lambda: good_file("units", "csv"), file_error="unreadable"),
    Case("wrong_extension", "units", "units.txt", lambda: good_file("units", "csv"), file_error="unknown_extension"),
    Case("truncated_xlsx", "usage", "usage.xlsx", lambda: good_file("usage", "xlsx", three_rows("usage"))[:-200],
         file_error="unreadable"),
    Case("truncated_csv", "usage", "usage.csv", truncated_csv, cells=((4, "对外服务机时", "required"),)),
    Case("utf16_csv", "units", "units.csv", lambda: csv_file(table("units"), "utf-16"), file_error="encoding"),
    # Big5 bytes decode (as GB18030) to other characters: no header is known (checked by name below).
    Case("big5_csv", "units", "units.csv", lambda: csv_file([["單位名稱", "單位類型", "所在地區"], ["新單位", "企業", "152921"]], "big5")),
    Case("nul_in_cell_csv", "units", "units.csv", lambda: csv_file(table("units", {"单位名称": "新\x00单位"})),
         cells=((2, "单位名称", "bad_characters"),)),
    Case("giant_cell_csv", "units", "units.csv", lambda: csv_file(table("units", {"单位名称": "长" * 200_000})),
         file_error="unreadable"),
    Case("long_text", "units", "units.csv", lambda: csv_file(table("units", {"单位名称": "长" * 201})),
         cells=((2, "单位名称", "too_long"),)),
    Case("huge_number", "instruments", "i.csv", lambda: csv_file(table("instruments", {"原值": "1e400"})),
         cells=((2, "原值", "too_large"),)),
    Case("huge_integer", "usage", "u.csv", lambda: csv_file([list(GOOD["usage"]) + ["样品数"],
                                                            list(GOOD["usage"].values()) + ["3000000000"]]),
         cells=((2, "样品数", "too_large"),)),
    Case("hundreds_of_digits", "instruments", "i.csv", lambda: csv_file(table("instruments", {"原值": "9" * 400})),
         cells=((2, "原值", "too_large"),)),
    Case("negative_hours", "usage", "u.csv", lambda: csv_file(table("usage", {"有效机时": "-5", "对外服务机时": "0"})),
         cells=((2, "有效机时", "negative"),)),
    Case("hours_beyond_the_month", "usage", "u.csv", lambda: csv_file(table("usage", {"有效机时": "745", "对外服务机时": "0"})),
         cells=((2, "有效机时", "hours_exceed_month"),)),
    Case("future_date", "instruments", "i.csv", lambda: csv_file(table("instruments", {"启用日期": future(2).isoformat()})),
         cells=((2, "启用日期", "future_date"),)),
    Case("future_month", "usage", "u.csv", lambda: csv_file(table("usage", {"年月": future(40).strftime("%Y-%m")})),
         cells=((2, "年月", "future_month"),)),
    Case("future_service_time", "services", "s.csv", lambda: csv_file(table("services", {
        "实际服务开始时间": f"{future(2).isoformat()} 09:00:00", "实际服务结束时间": f"{future(2).isoformat()} 10:00:00"})),
         cells=((2, "实际服务开始时间", "future_time"), (2, "实际服务结束时间", "future_time"))),
    Case("year_zero_month", "usage", "u.csv", lambda: csv_file(table("usage", {"年月": "0000-05"})),
         cells=((2, "年月", "too_old"),)),
    Case("year_one_date", "instruments", "i.csv", lambda: csv_file(table("instruments", {"启用日期": "0001-01-01"})),
         cells=((2, "启用日期", "too_old"),)),
    Case("formula_equals", "units", "units.csv", lambda: csv_file(table("units", {"单位名称": "=cmd|' /C calc'!A0"})),
         cells=((2, "单位名称", "formula"),)),
    Case("formula_plus", "units", "units.csv", lambda: csv_file(table("units", {"单位名称": "+SUM(1,2)"})),
         cells=((2, "单位名称", "formula"),)),
    Case("formula_minus", "units", "units.csv", lambda: csv_file(table("units", {"单位名称": "-1+cmd|'/C calc'!A0"})),
         cells=((2, "单位名称", "formula"),)),
    Case("formula_at", "units", "units.csv", lambda: csv_file(table("units", {"单位名称": "@SUM(A1:A9)"})),
         cells=((2, "单位名称", "formula"),)),
    Case("formula_after_tab", "units", "units.csv", lambda: csv_file(table("units", {"单位名称": "\t=1+1"})),
         cells=((2, "单位名称", "formula"),)),
    Case("formula_behind_our_mark", "units", "units.csv", lambda: csv_file(table("units", {"单位名称": "'=1+1"})),
         cells=((2, "单位名称", "formula"),)),
    Case("formula_cell_xlsx", "units", "units.xlsx", lambda: xlsx_file(table("units", {"单位名称": "=1+1"})),
         cells=((2, "单位名称", "formula"),)),
    Case("array_formula_xlsx", "units", "units.xlsx",
         lambda: formula_object_workbook(ArrayFormula("A2:A2", "=HYPERLINK(\"http://x.invalid\",\"点击\")")),
         cells=((2, "单位名称", "formula"),)),
    Case("data_table_formula_xlsx", "units", "units.xlsx",
         lambda: formula_object_workbook(DataTableFormula(ref="A2:A2", r1="B1")), cells=((2, "单位名称", "formula"),)),
    Case("formula_in_number_xlsx", "instruments", "i.xlsx", lambda: xlsx_file(table("instruments", {"原值": "=1+1"})),
         cells=((2, "原值", "not_number"),)),
    Case("duplicate_key", "units", "units.csv", lambda: csv_file(table("units", {}, {})),
         cells=((3, "单位名称", "duplicate_key"),)),
    Case("duplicate_column", "units", "units.csv", lambda: csv_file([list(GOOD["units"]) + ["单位名称"],
                                                                     list(GOOD["units"].values()) + ["别名"]]),
         cells=((1, "单位名称", "duplicate_column"),)),
    Case("unknown_unit", "usage", "u.csv", lambda: csv_file(table("usage", {"所属单位": "<img src=x onerror=alert(1)>"})),
         cells=((2, "所属单位", "unknown_unit"),)),
    Case("header_only", "units", "units.csv", lambda: csv_file([list(GOOD["units"])]), cells=((2, "", "no_data_rows"),)),
    Case("several_sheets", "units", "units.xlsx", lambda: xlsx_file(table("units"), table("units")),
         file_error="several_sheets"),
    Case("larger_than_the_upload_limit", "units", "units.csv",
         lambda: good_file("units", "csv") + b" " * importer.MAX_FILE_BYTES, file_error="file_too_large"),
    Case("zip_bomb_xlsx", "units", "units.xlsx", zip_bomb, file_error="unpacked_too_large"),
]


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_fuzz_corpus_gives_its_error_and_writes_nothing(corpus_store, case):
    store = corpus_store
    before = store_state(store)
    result = attempt(store, case.kind, case.file_name, case.data())
    if case.file_error:
        assert isinstance(result, FileReadError), [(e.row, e.column, e.code) for e in result.parsed.errors]
        assert result.code == case.file_error
    elif case.name == "big5_csv":
        assert {e.code for e in result.parsed.errors} == {"unknown_column", "missing_column"}
    else:
        assert not isinstance(result, FileReadError), result.code
        assert [(e.row, e.column, e.code) for e in result.parsed.errors] == list(case.cells)
        assert not result.written
    assert store_state(store) == before


def test_too_many_rows_is_refused_before_validation(store, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 2)
    before = store_state(store)
    for fmt in ("csv", "xlsx"):
        result = attempt(store, "units", f"units.{fmt}", good_file("units", fmt, three_rows("units")))
        assert isinstance(result, FileReadError) and (result.code, result.params) == ("too_many_rows", {"limit": 2})
    assert store_state(store) == before


def test_the_byte_limit_is_the_web_upload_limit_and_bounds_the_command_line(store, run_cli, tmp_path, monkeypatch):
    config = tomllib.loads((ROOT / "streamlit_config" / "config.toml").read_text(encoding="utf-8"))
    assert importer.MAX_FILE_BYTES == config["server"]["maxUploadSize"] * 1024 * 1024
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", importer.MB)  # 1 MB
    path = tmp_path / "units.csv"
    path.write_bytes(good_file("units", "csv") + b" " * importer.MB)  # 1 MB and a few bytes: 1.1 MB rounded up
    before = store_state(store)
    code, out, err = run_cli("--lang", "en", "import", "units", str(path))
    assert code == transfer.EXIT_USAGE and out == ""
    assert err.strip() == f"{path}: the file is too large: 1.1 MB, at most 1 MB; split the file"
    assert store_state(store) == before


def test_file_error_messages_name_the_limits():
    t = catalogue("en")
    exc = pytest.raises(FileReadError, importer.read_table, "units", "u.csv", b" " * (importer.MAX_FILE_BYTES + 1)).value
    assert t[f"data.err.{exc.code}"].format(**exc.params) == \
        "the file is too large: 20.1 MB, at most 20 MB; split the file"  # 20 MB and a byte, rounded up
    exc = pytest.raises(FileReadError, importer.read_table, "units", "u.xlsx", zip_bomb()).value
    assert t[f"data.err.{exc.code}"].format(**exc.params) == \
        "the workbook unpacks to more than 256 MB (a damaged or abnormal file); not read"


# Purchase requests: (name, file name, bytes, FileReadError code or every (row, field, code)).
PURCHASE_CORPUS = [
    ("random_bytes_csv", "r.csv", lambda: b"\xff\xfe\x00" + RANDOM_BYTES, "encoding"),
    ("random_bytes_xlsx", "r.xlsx", lambda: RANDOM_BYTES, "unreadable"),
    ("empty_csv", "r.csv", lambda: b"", "empty_file"),
    ("truncated_xlsx", "r.xlsx", lambda: purchase_file(fmt="xlsx")[:-100], "unreadable"),
    ("larger_than_the_upload_limit", "r.csv", lambda: purchase_file() + b" " * importer.MAX_FILE_BYTES,
     "file_too_large"),
    ("zip_bomb_xlsx", "r.xlsx", zip_bomb, "unpacked_too_large"),
    ("formula_name", "r.csv", lambda: purchase_file({"instrument_name": "=HYPERLINK(\"http://x.invalid\")"}),
     ((2, "instrument_name", "formula"),)),
    ("formula_justification_xlsx", "r.xlsx", lambda: purchase_file({"justification": "@SUM(A1)"}, fmt="xlsx"),
     ((2, "justification", "formula"),)),
    ("nul_in_text", "r.csv", lambda: purchase_file({"model": "M\x00-1"}), ((2, "model", "bad_characters"),)),
    ("long_name", "r.csv", lambda: purchase_file({"instrument_name": "长" * 201}), ((2, "instrument_name", "too_long"),)),
    ("huge_price", "r.csv", lambda: purchase_file({"quoted_price": "1e400"}), ((2, "quoted_price", "price"),)),
    ("price_above_the_cap", "r.csv", lambda: purchase_file({"quoted_price": "2e10"}),
     ((2, "quoted_price", "price_too_high"),)),
    ("price_with_underscore", "r.csv", lambda: purchase_file({"quoted_price": "1_000"}), ((2, "quoted_price", "price"),)),
    ("negative_hours", "r.csv", lambda: purchase_file({"expected_annual_hours": "-5"}),
     ((2, "expected_annual_hours", "hours"),)),
    ("future_date", "r.csv", lambda: purchase_file({"submitted_date": "2026-03-16"}),
     ((2, "submitted_date", "future_date"),)),
    ("year_one_date", "r.csv", lambda: purchase_file({"submitted_date": "0001-01-01"}),
     ((2, "submitted_date", "too_old"),)),
    ("superscript_digit_applicant", "r.csv", lambda: purchase_file({"applicant": "²"}),
     ((2, "applicant", "unknown_unit"),)),
    ("five_thousand_digit_applicant", "r.csv", lambda: purchase_file({"applicant": "9" * 5000}),
     ((2, "applicant", "unknown_unit"),)),
    ("duplicate_request_numbers", "r.csv", lambda: purchase_file({"request_no": "ALS-CG-2026-0009"},
                                                                 {"request_no": "ALS-CG-2026-0009"}),
     ((3, "request_no", "request_no_repeated"),)),
    ("unknown_column", "r.csv", lambda: csv_file([list(PR.REQUEST_FIELDS) + ["<img src=x onerror=alert(1)>"],
                                                  list(PURCHASE.values()) + ["x"]]),
     ((1, "file", "unknown_column"),)),
]


@pytest.mark.parametrize("name,file_name,data,expected", PURCHASE_CORPUS, ids=[c[0] for c in PURCHASE_CORPUS])
def test_purchase_fuzz_corpus_gives_its_error_and_writes_nothing(corpus_store, name, file_name, data, expected):
    store = corpus_store
    before = store_state(store)
    result = import_purchases(store, file_name, data())
    if isinstance(expected, str):
        assert isinstance(result, FileReadError) and result.code == expected
    else:
        assert isinstance(result, PR.ReviewError), result
        assert [(e.row, e.field, e.code) for e in result.errors] == list(expected)
    assert store_state(store) == before


def test_the_valid_purchase_file_of_the_corpus_imports(store):
    """The corpus spoils one field of a valid file; the file itself imports (so each refusal is
    the spoiled field's doing), in both formats."""
    assert import_purchases(store, "r.csv", purchase_file()) == [(1, "ALS-CG-2026-0001")]
    assert import_purchases(store, "r.xlsx", purchase_file(fmt="xlsx")) == [(2, "ALS-CG-2026-0002")]


@pytest.mark.parametrize("kind", KINDS)
def test_the_valid_files_of_the_corpus_import(store, kind):
    """Likewise for the national layout: GOOD and its three-row variant import in both formats."""
    for fmt in ("csv", "xlsx"):
        result = attempt(store, kind, f"good.{fmt}", good_file(kind, fmt))
        assert not isinstance(result, FileReadError) and result.ok, [(e.row, e.column, e.code) for e in result.parsed.errors]
        result = attempt(store, kind, f"three.{fmt}", good_file(kind, fmt, three_rows(kind)))
        assert result.ok and len(result.parsed.rows) == 3
