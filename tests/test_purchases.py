"""Purchase requests and their review, pure part (dashboard/purchases.py): validation of a request
and of a decision, request numbers, the file import (all-or-nothing, index = file row), the
decision in force, the decision statistics and the distances of the matches.

Every number is worked by hand:
- one degree of latitude (or of longitude on the equator) on a 6371 km sphere = 2π·6371/360
  = 111.1949 km; a quarter meridian = π/2·6371 = 10007.54 km; half the equator = 20015.09 km;
- one degree of longitude on latitude 38° = 2·6371·asin(cos 38°·sin 0.5°) = 87.622 km (≈ 111.19
  × cos 38° = 87.623), shown as 87.6.
"""

from __future__ import annotations

import io
import math
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from dashboard import dupcheck as D
from dashboard import purchases as PR
from dashboard.i18n import catalogue

TODAY = date(2026, 3, 10)

UNITS = pd.DataFrame({
    "id": [1, 2],
    "name": ["甲研究院", "乙检测中心"],
    "name_en": ["Institute A", ""],
    "region_code": ["152921", "152923"],
    "lat": [None, 41.5],
    "lon": [None, 101.0],
})
CLASSES = pd.DataFrame({"code": ["01", "0105", "07", "0704"]})
REGIONS = pd.DataFrame({
    "code": ["152921", "152923"],
    "name_zh": ["阿拉善左旗", "额济纳旗"],
    "name_en": ["Alxa Left Banner", "Ejin Banner"],
    "lat": [38.8334, 41.9588],
    "lon": [105.6663, 101.0694],
})
REF = PR.Reference(units=UNITS, classes=CLASSES, regions=REGIONS)

GOOD = {
    "applicant": "甲研究院",
    "instrument_name": "液相色谱仪",
    "class_code": "010501",
    "quoted_price": "300000",
    "funding": "地方财政资金",
    "justification": "教学科研急需",
    "submitted_date": "2026-03-01",
}

ALIASES = PR.header_aliases({"zh": catalogue("zh"), "en": catalogue("en")})
ZH = {"applicant": "申请单位", "instrument_name": "仪器名称", "class_code": "分类代码", "quoted_price": "报价（元）",
      "funding": "资金来源", "justification": "购置理由", "submitted_date": "申请日期", "request_no": "申请编号",
      "location": "安放地点（旗区）", "expected_annual_hours": "预计年使用机时"}
EN = {"applicant": "Applicant unit", "instrument_name": "Instrument name", "class_code": "Class code",
      "quoted_price": "Quoted price (CNY)", "funding": "Funding source", "justification": "Justification",
      "submitted_date": "Submission date", "request_no": "Request no."}
COLUMNS = ("applicant", "instrument_name", "class_code", "quoted_price", "funding", "justification", "submitted_date")


def clean(**changes):
    return PR.clean_request({**GOOD, **changes}, REF, TODAY)


def codes(errors) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in errors]


# ------------------------------------------------------------------------------- clean_request


def test_a_good_request_is_cleaned_to_store_values():
    out, errors = clean(model="1260 Infinity II", expected_annual_hours="600", location="额济纳旗")
    assert errors == []
    assert out == {
        "request_no": "", "applicant_unit_id": 1, "instrument_name": "液相色谱仪", "model": "1260 Infinity II",
        "manufacturer": "", "key_specs": "", "quotes": "", "justification": "教学科研急需", "class_code": "010501",
        "quoted_price": 300_000.0, "funding": "地方财政资金", "expected_annual_hours": 600.0, "region_code": "152923",
        "submitted_date": date(2026, 3, 1),
    }


def test_defaults_location_is_the_applicants_region_and_date_is_today():
    raw = {k: v for k, v in GOOD.items() if k != "submitted_date"}
    out, errors = PR.clean_request(raw, REF, TODAY)
    assert errors == [] and out["region_code"] == "152921" and out["submitted_date"] == TODAY
    assert out["expected_annual_hours"] == 0.0  # blank hours: none expected
    out, errors = clean(applicant="乙检测中心")
    assert errors == [] and out["applicant_unit_id"] == 2 and out["region_code"] == "152923"
    # the applicant by id or English name; the location by code, Chinese or English name
    assert clean(applicant="2")[0]["applicant_unit_id"] == 2
    assert clean(applicant=" Institute A ")[0]["applicant_unit_id"] == 1
    assert clean(location="152923")[0]["region_code"] == "152923"
    assert clean(location="Ejin Banner")[0]["region_code"] == "152923"


@pytest.mark.parametrize("text, value", [
    ("１２３，４５６.５", 123_456.5),  # full-width digits and comma
    ("1,200,000", 1_200_000.0),  # thousands commas
    (" 480000 ", 480_000.0),
    (250_000, 250_000.0),
    (np.float64(99.5), 99.5),
])
def test_price_text_parses(text, value):
    out, errors = clean(quoted_price=text)
    assert errors == [] and out["quoted_price"] == value


def test_hours_text_parses_and_the_leap_year_is_the_limit():
    assert clean(expected_annual_hours="１,２００")[0]["expected_annual_hours"] == 1200.0
    assert clean(expected_annual_hours="8784")[1] == []
    assert clean(expected_annual_hours=0)[1] == []


@pytest.mark.parametrize("field", PR.REQUIRED_FIELDS)
@pytest.mark.parametrize("blank", ["", "  ", None, float("nan")])
def test_each_required_field_blank_is_its_own_error(field, blank):
    _, errors = clean(**{field: blank})
    assert errors == [PR.FieldError(field, "required")]


def test_a_missing_key_is_blank():
    raw = {k: v for k, v in GOOD.items() if k != "justification"}
    assert PR.clean_request(raw, REF, TODAY)[1] == [PR.FieldError("justification", "required")]


FUNDS = "中央财政资金、地方财政资金、单位自有资金、其他资金"


@pytest.mark.parametrize("field, value, code, limit", [
    ("applicant", "丙公司", "unknown_unit", ""),
    ("applicant", "3", "unknown_unit", ""),  # no unit 3
    ("class_code", "01", "class_code", ""),  # a 2-digit top class is not enough
    ("class_code", "0199", "class_code", ""),  # top class 01 known, middle class 0199 not
    ("class_code", "019901", "class_code", ""),
    ("class_code", "990501", "class_code", ""),  # unknown top class
    ("class_code", "01050", "class_code", ""),  # 5 digits
    ("class_code", "01O501", "class_code", ""),  # letter O
    ("quoted_price", "0", "price", ""),
    ("quoted_price", "-5", "price", ""),
    ("quoted_price", -5.0, "price", ""),
    ("quoted_price", "三十万", "price", ""),
    ("quoted_price", "30万", "price", ""),
    ("quoted_price", "NaN", "price", ""),
    ("quoted_price", "inf", "price", ""),
    ("quoted_price", "10000000001", "price_too_high", "10000000000"),
    ("funding", "财政", "funding", FUNDS),
    ("expected_annual_hours", "-1", "hours", "8784"),
    ("expected_annual_hours", "8785", "hours", "8784"),
    ("expected_annual_hours", "很多", "hours", "8784"),
    ("location", "北京", "location", ""),
    ("submitted_date", "2026-02-30", "date", ""),
    ("submitted_date", "01/03/2026", "date", ""),
    ("submitted_date", "昨天", "date", ""),
    ("submitted_date", "2026-03-11", "future_date", "2026-03-10"),
    ("request_no", "ALS-CG-26-0001", "request_no", ""),
    ("request_no", "ALS-CG-2026-001", "request_no", ""),
    ("request_no", "als-cg-2026-0001", "request_no", ""),
    ("request_no", "CG-2026-0001", "request_no", ""),
    ("request_no", "ALS-CG-2026-" + "0" * 20 + "1", "request_no", ""),  # 33 characters: longer than the column
])
def test_each_bad_value_is_its_own_error(field, value, code, limit):
    _, errors = clean(**{field: value})
    assert errors == [PR.FieldError(field, code, str(value).strip(), None, limit)]


def test_a_float_nan_price_is_blank_not_bad():
    # a blank spreadsheet cell arrives as NaN: "required", not "price"
    assert codes(clean(quoted_price=float("nan"))[1]) == [("quoted_price", "required")]


def test_a_bad_value_is_not_kept():
    out, _ = clean(quoted_price="0", expected_annual_hours="-1", applicant="丙公司")
    assert out["quoted_price"] is None and out["expected_annual_hours"] == 0.0
    assert out["applicant_unit_id"] is None and out["region_code"] is None  # no unit: no default location
    assert clean(quoted_price="10000000001")[0]["quoted_price"] is None
    assert clean(quoted_price="10000000000")[1] == []  # the limit itself is allowed


def test_request_numbers_well_formed_are_kept():
    assert clean(request_no=" ALS-CG-2026-0042 ")[0]["request_no"] == "ALS-CG-2026-0042"
    assert clean(request_no="ALS-CG-2026-12345")[1] == []  # more than 4 digits
    assert clean(request_no="ALS-CG-2026-" + "0" * 19 + "1")[1] == []  # exactly 32 characters


@pytest.mark.parametrize("field, limit", [
    ("instrument_name", 200), ("model", 200), ("manufacturer", 200), ("key_specs", 4000), ("quotes", 4000),
    ("justification", 4000),
])
def test_too_long_texts(field, limit):
    assert clean(**{field: "仪" * limit})[1] == []
    _, errors = clean(**{field: "仪" * (limit + 1)})
    assert errors == [PR.FieldError(field, "too_long", "仪" * 80, None, str(limit))]  # value shown cut to 80


def test_errors_carry_the_row_and_several_errors_are_all_reported():
    _, errors = PR.clean_request({**GOOD, "quoted_price": "0", "funding": "财政", "location": "北京"}, REF, TODAY, row=7)
    assert codes(errors) == [("quoted_price", "price"), ("funding", "funding"), ("location", "location")]
    assert {e.row for e in errors} == {7}
    assert errors[0].params() == {"value": "0", "row": 7, "limit": ""}
    assert PR.FieldError("x", "required").params() == {"value": "", "row": "", "limit": ""}


def test_every_error_code_has_a_message_in_both_catalogues():
    used = {"required", "unknown_unit", "class_code", "price", "price_too_high", "funding", "hours", "location", "date",
            "future_date", "request_no", "too_long", "request_no_taken", "request_no_repeated", "unknown_column",
            "missing_column", "duplicate_column", "no_rows", "verdict", "conditions_required", "before_submission",
            "not_checked", "unknown_request"}
    for lang in ("zh", "en"):
        assert {c for c in used if f"purchases.err.{c}" not in catalogue(lang)} == set()


# ------------------------------------------------------------------------------ number_requests


def req(day: date, no: str = "") -> dict:
    return {"request_no": no, "submitted_date": day, "instrument_name": "x"}


def test_numbers_continue_after_the_highest_of_the_same_year():
    existing = {"ALS-CG-2026-0003", "ALS-CG-2026-0007", "ALS-CG-2025-0012", "OLD-17"}
    rows = [req(date(2026, 3, 1)), req(date(2025, 12, 30)), req(date(2024, 1, 2)), req(date(2026, 3, 2))]
    out = PR.number_requests(rows, existing)
    # 2026: after 0007 (the gap 0004–0006 is not filled); 2025: after 0012; 2024: first of its year
    assert [r["request_no"] for r in out] == ["ALS-CG-2026-0008", "ALS-CG-2025-0013", "ALS-CG-2024-0001",
                                              "ALS-CG-2026-0009"]
    assert [r["request_no"] for r in rows] == ["", "", "", ""]  # the input rows are not changed


def test_numbers_given_in_the_rows_count_and_are_kept():
    rows = [req(date(2026, 3, 1)), req(date(2026, 3, 1), "ALS-CG-2026-0020"), req(date(2026, 3, 1))]
    out = PR.number_requests(rows, {"ALS-CG-2026-0005"})
    assert [r["request_no"] for r in out] == ["ALS-CG-2026-0021", "ALS-CG-2026-0020", "ALS-CG-2026-0022"]
    assert PR.number_requests([req(date(2026, 1, 1))], set())[0]["request_no"] == "ALS-CG-2026-0001"
    assert PR.request_number_seq("ALS-CG-2026-10000", 2026) == 10000
    assert PR.request_number_seq("ALS-CG-2026-0009", 2025) == 0


# ------------------------------------------------------------------------------- file import


def table(rows: list[list], labels: dict = ZH, index: list[int] | None = None, columns=COLUMNS) -> pd.DataFrame:
    index = index or list(range(2, 2 + len(rows)))
    return pd.DataFrame(rows, columns=[labels.get(c, c) for c in columns], index=index, dtype=object)


ROW_A = ["甲研究院", "液相色谱仪", "010501", "300,000", "地方财政资金", "教学科研急需", "2026-03-01"]
ROW_B = ["乙检测中心", "多普勒天气雷达", "070401", "2500000", "中央财政资金", "气象观测", "2025-12-20"]


def test_header_aliases_take_field_ids_and_labels_of_both_languages():
    assert ALIASES["申请单位"] == "applicant" and ALIASES["applicant"] == "applicant"
    assert ALIASES["报价元"] == "quoted_price"  # 报价（元） normalised
    assert ALIASES["quotedpricecny"] == "quoted_price" and ALIASES["quotedprice"] == "quoted_price"
    assert ALIASES["安放地点旗区"] == "location" and ALIASES["locationbannerorzone"] == "location"
    assert set(ALIASES.values()) == set(PR.REQUEST_FIELDS)
    assert ALIASES == PR.header_aliases({"en": catalogue("en"), "zh": catalogue("zh")})


@pytest.mark.parametrize("labels", [ZH, EN, {}], ids=["zh", "en", "ids"])
def test_a_good_table_in_either_language_is_numbered(labels):
    rows, errors = PR.parse_request_table(table([ROW_A, ROW_B], labels), REF, TODAY, ALIASES, {"ALS-CG-2026-0004"})
    assert errors == []
    assert [r["request_no"] for r in rows] == ["ALS-CG-2026-0005", "ALS-CG-2025-0001"]
    assert [r["applicant_unit_id"] for r in rows] == [1, 2]
    assert [r["quoted_price"] for r in rows] == [300_000.0, 2_500_000.0]
    assert [r["region_code"] for r in rows] == ["152921", "152923"]
    assert [r["submitted_date"] for r in rows] == [date(2026, 3, 1), date(2025, 12, 20)]


def test_headers_with_spaces_and_full_width_brackets_still_match():
    frame = table([ROW_A]).rename(columns={"报价（元）": " 报价(元) ", "申请单位": "申 请 单 位"})
    rows, errors = PR.parse_request_table(frame, REF, TODAY, ALIASES, set())
    assert errors == [] and rows[0]["quoted_price"] == 300_000.0


def test_unknown_column_is_refused():
    frame = table([ROW_A + ["急"]], columns=COLUMNS + ("备注",))
    assert PR.parse_request_table(frame, REF, TODAY, ALIASES, set()) == (
        [], [PR.FieldError("file", "unknown_column", "备注", 1)])


def test_missing_required_column_is_refused():
    frame = table([ROW_A[:4] + ROW_A[5:]], columns=COLUMNS[:4] + COLUMNS[5:])  # no 资金来源
    assert PR.parse_request_table(frame, REF, TODAY, ALIASES, set()) == (
        [], [PR.FieldError("funding", "missing_column", "funding", 1)])


def test_a_field_named_twice_is_refused():
    frame = pd.DataFrame([ROW_A + ["乙检测中心"]], columns=[ZH[c] for c in COLUMNS] + ["Applicant unit"],
                         index=[2], dtype=object)
    assert PR.parse_request_table(frame, REF, TODAY, ALIASES, set()) == (
        [], [PR.FieldError("file", "duplicate_column", "Applicant unit", 1)])


def test_any_bad_row_returns_no_rows_and_errors_name_the_file_rows():
    bad_price = ROW_A[:3] + ["abc"] + ROW_A[4:]
    bad_both = ROW_B[:2] + ["0199"] + ROW_B[3:4] + ["财政"] + ROW_B[5:]
    frame = table([ROW_A, bad_price, bad_both], index=[2, 5, 9])  # the index is the file row
    rows, errors = PR.parse_request_table(frame, REF, TODAY, ALIASES, set())
    assert rows == []
    assert errors == [PR.FieldError("quoted_price", "price", "abc", 5),
                      PR.FieldError("class_code", "class_code", "0199", 9),
                      PR.FieldError("funding", "funding", "财政", 9, FUNDS)]


def test_blank_rows_are_skipped():
    blank = [None, "", "  ", None, None, float("nan"), None]
    rows, errors = PR.parse_request_table(table([ROW_A, blank, ROW_B], index=[2, 3, 4]), REF, TODAY, ALIASES, set())
    assert errors == [] and [r["instrument_name"] for r in rows] == ["液相色谱仪", "多普勒天气雷达"]


def test_an_empty_table_has_no_rows():
    empty = table([])
    assert PR.parse_request_table(empty, REF, TODAY, ALIASES, set()) == ([], [PR.FieldError("file", "no_rows", "", 1)])
    only_blank = table([[None] * 7, [""] * 7], index=[2, 3])
    assert PR.parse_request_table(only_blank, REF, TODAY, ALIASES, set()) == (
        [], [PR.FieldError("file", "no_rows", "", 1)])


def test_request_numbers_in_the_store_or_repeated_in_the_file_are_refused():
    cols = ("request_no",) + COLUMNS
    frame = table([["ALS-CG-2026-0001"] + ROW_A, ["ALS-CG-2026-0007"] + ROW_A, [""] + ROW_B,
                   ["ALS-CG-2026-0007"] + ROW_B], columns=cols, index=[2, 3, 4, 6])
    rows, errors = PR.parse_request_table(frame, REF, TODAY, ALIASES, {"ALS-CG-2026-0001"})
    assert rows == []
    assert errors == [PR.FieldError("request_no", "request_no_taken", "ALS-CG-2026-0001", 2),
                      PR.FieldError("request_no", "request_no_repeated", "ALS-CG-2026-0007", 6, "3")]


def test_given_numbers_are_kept_and_the_others_numbered_after_them():
    cols = ("request_no",) + COLUMNS
    frame = table([["ALS-CG-2026-0010"] + ROW_A, [None] + ROW_A], columns=cols)
    rows, errors = PR.parse_request_table(frame, REF, TODAY, ALIASES, {"ALS-CG-2026-0002"})
    assert errors == [] and [r["request_no"] for r in rows] == ["ALS-CG-2026-0010", "ALS-CG-2026-0011"]


# ------------------------------------------------------------------------------- read_request_file

CSV_TEXT = ("申请单位,仪器名称,分类代码,报价（元）,资金来源,购置理由,申请日期\n"
            "甲研究院,液相色谱仪,010501,\"300,000\",地方财政资金,教学科研急需,2026-03-01\n"
            "\n"
            "乙检测中心,多普勒天气雷达,070401,2500000,中央财政资金,气象观测,2025-12-20\n")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_rows_are_indexed_by_file_row(encoding):
    frame = PR.read_request_file("申请.csv", CSV_TEXT.encode(encoding))
    assert list(frame.columns) == [ZH[c] for c in COLUMNS]  # no BOM left on the first header
    assert list(frame.index) == [2, 4]  # row 3 is blank
    assert frame.at[2, "报价（元）"] == "300,000" and frame.at[4, "分类代码"] == "070401"
    rows, errors = PR.parse_request_table(frame, REF, TODAY, ALIASES, set())
    assert errors == [] and [r["request_no"] for r in rows] == ["ALS-CG-2026-0001", "ALS-CG-2025-0001"]
    assert rows[0]["quoted_price"] == 300_000.0


def test_csv_errors_name_the_row_after_a_blank_line():
    text = CSV_TEXT.replace("2500000", "两百五十万")
    rows, errors = PR.parse_request_table(PR.read_request_file("a.csv", text.encode("utf-8")), REF, TODAY, ALIASES, set())
    assert rows == [] and errors == [PR.FieldError("quoted_price", "price", "两百五十万", 4)]


def xlsx_bytes(rows: list[list], styled_cell: str | None = None) -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for r in rows:
        sheet.append(r)
    if styled_cell:
        sheet[styled_cell].font = openpyxl.styles.Font(bold=True)  # formatted, but empty
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_rows_are_indexed_by_file_row_and_typed_cells_read_as_text():
    data = xlsx_bytes([
        [EN[c] for c in COLUMNS],
        ["Institute A", "液相色谱仪", "010501", 300000, "地方财政资金", "教学科研急需", datetime(2026, 3, 1)],
        [],
        [],
        ["乙检测中心", "多普勒天气雷达", "070401", 2500000.5, "中央财政资金", "气象观测", "2025-12-20"],
    ])
    frame = PR.read_request_file("申请.xlsx", data)
    assert list(frame.index) == [2, 5]
    assert frame.at[2, "Quoted price (CNY)"] == "300000" and frame.at[5, "Quoted price (CNY)"] == "2500000.5"
    rows, errors = PR.parse_request_table(frame, REF, TODAY, ALIASES, set())
    assert errors == []
    assert [r["quoted_price"] for r in rows] == [300_000.0, 2_500_000.5]
    assert [r["submitted_date"] for r in rows] == [date(2026, 3, 1), date(2025, 12, 20)]


def test_empty_unnamed_columns_are_dropped_and_filled_ones_refused():
    # a formatted empty cell widens the sheet; a trailing separator adds an empty column
    data = xlsx_bytes([[ZH[c] for c in COLUMNS], ROW_A], styled_cell="J5")
    frame = PR.read_request_file("a.xlsx", data)
    assert list(frame.columns) == [ZH[c] for c in COLUMNS]
    assert PR.parse_request_table(frame, REF, TODAY, ALIASES, set())[1] == []
    csv = CSV_TEXT.replace("\n", ",\n").replace(",\n,\n", ",\n\n")
    assert list(PR.read_request_file("a.csv", csv.encode()).columns) == [ZH[c] for c in COLUMNS]
    # a value under no header is not lost silently
    extra = CSV_TEXT.replace("教学科研急需,2026-03-01", "教学科研急需,2026-03-01,多余")
    frame = PR.read_request_file("a.csv", extra.encode())
    assert list(frame.columns) == [ZH[c] for c in COLUMNS] + [""] and frame.at[2, ""] == "多余"
    assert PR.parse_request_table(frame, REF, TODAY, ALIASES, set()) == (
        [], [PR.FieldError("file", "unknown_column", "", 1)])


# ------------------------------------------------------------------------------- clean_decision

SUBMITTED = date(2026, 3, 1)
DECISION = {"verdict": "reject", "reasons": "乙检测中心同类仪器闲置且外部共享", "reviewers": "张三、李四",
            "decided_date": "2026-03-08"}


def decide(**changes):
    return PR.clean_decision({**DECISION, **changes}, SUBMITTED, TODAY)


@pytest.mark.parametrize("verdict, word", [
    ("pass", "通过"), ("通过", "通过"), ("reject", "不予通过"), ("不予通过", "不予通过"), (" adjust ", "调整"), ("调整", "调整"),
])
def test_verdict_ids_and_words(verdict, word):
    out, errors = decide(verdict=verdict, conditions="与乙检测中心共享")
    assert errors == [] and out["verdict"] == word


def test_a_good_decision_is_cleaned():
    out, errors = decide()
    assert errors == []
    assert out == {"verdict": "不予通过", "reasons": "乙检测中心同类仪器闲置且外部共享", "conditions": "",
                   "reviewers": "张三、李四", "decided_date": date(2026, 3, 8)}
    assert decide(decided_date="")[0]["decided_date"] == TODAY
    assert decide(decided_date=SUBMITTED)[1] == [] and decide(decided_date=TODAY)[1] == []  # both ends allowed


@pytest.mark.parametrize("changes, expected", [
    ({"verdict": "同意"}, [PR.FieldError("verdict", "verdict", "同意")]),
    ({"verdict": None}, [PR.FieldError("verdict", "verdict", "")]),
    ({"reasons": " "}, [PR.FieldError("reasons", "required")]),
    ({"reviewers": None}, [PR.FieldError("reviewers", "required")]),
    ({"verdict": "调整"}, [PR.FieldError("conditions", "conditions_required")]),
    ({"verdict": "adjust", "conditions": "  "}, [PR.FieldError("conditions", "conditions_required")]),
    ({"decided_date": "2026-02-28"}, [PR.FieldError("decided_date", "before_submission", "2026-02-28", None, "2026-03-01")]),
    ({"decided_date": "2026-03-11"}, [PR.FieldError("decided_date", "future_date", "2026-03-11", None, "2026-03-10")]),
    ({"decided_date": "3月8日"}, [PR.FieldError("decided_date", "date", "3月8日")]),
    ({"reasons": "理" * 4001}, [PR.FieldError("reasons", "too_long", "理" * 80, None, "4000")]),
    ({"reviewers": "张" * 201}, [PR.FieldError("reviewers", "too_long", "张" * 80, None, "200")]),
])
def test_each_decision_error_on_its_own(changes, expected):
    out, errors = decide(**changes)
    assert errors == expected


def test_conditions_are_optional_except_for_adjust():
    assert decide(verdict="pass")[1] == [] and decide(verdict="reject", conditions="")[1] == []
    assert decide(verdict="pass", conditions="半年后复核")[0]["conditions"] == "半年后复核"


def test_verdict_id():
    assert [PR.verdict_id(v) for v in ("通过", "调整", "不予通过", "pass", "reject")] == [
        D.PASS, D.ADJUST, D.REJECT, D.PASS, D.REJECT]
    with pytest.raises(ValueError):
        PR.verdict_id("同意")


# ------------------------------------------------------------------ current decisions and statistics


def decisions(rows: list[tuple]) -> pd.DataFrame:
    """(id, request_id, verdict, supersedes_id) as models.queries.review_decisions gives them."""
    df = pd.DataFrame(rows, columns=["id", "request_id", "verdict", "supersedes_id"])
    df["supersedes_id"] = df["supersedes_id"].astype("Int64")
    df["reasons"] = "r"
    return df


def test_current_decisions_follow_the_supersede_chain():
    df = decisions([(1, 1, "通过", None), (2, 2, "通过", None), (3, 1, "调整", 1), (4, 3, "不予通过", None),
                    (5, 1, "不予通过", 3)])
    cur = PR.current_decisions(df)
    assert list(cur["id"]) == [5, 2, 4] and list(cur["request_id"]) == [1, 2, 3]
    assert list(cur["verdict"]) == ["不予通过", "通过", "不予通过"]
    assert list(cur.columns) == list(df.columns)
    # a forked chain (never written by the services): the newest live decision wins
    forked = decisions([(1, 1, "通过", None), (2, 1, "调整", 1), (3, 1, "不予通过", 1)])
    assert list(PR.current_decisions(forked)["id"]) == [3]
    assert PR.current_decisions(decisions([])).empty


REQUESTS = pd.DataFrame({
    "id": [1, 2, 3, 4, 5, 6],
    "quoted_price": [1_000_000.0, 250_000.0, 80_000.0, 600_000.0, 120_000.0, 45_000.0],
    "submitted_date": pd.to_datetime(["2025-06-01", "2025-11-20", "2025-12-01", "2026-01-15", "2026-02-01",
                                      "2026-03-01"]),
})
# request 1: 通过 superseded by 不予通过; 2 通过; 3 pending; 4 调整; 5 不予通过; 6 pending
DECISIONS = decisions([(1, 1, "通过", None), (2, 2, "通过", None), (3, 1, "不予通过", 1), (4, 4, "调整", None),
                       (5, 5, "不予通过", None)])


def test_decision_statistics_per_year_and_total():
    stats = PR.decision_statistics(REQUESTS, DECISIONS)
    assert list(stats.columns) == list(PR.STAT_COLUMNS)
    rows = stats.to_dict("records")
    # 2025: 1,000,000 + 250,000 + 80,000 requested; approved 250,000 (通过); avoided 1,000,000 (不予通过)
    assert rows[0] == {"year": 2025, "requests": 3, "requested_cny": 1_330_000.0, "decided": 2, "pass": 1, "adjust": 0,
                       "reject": 1, "approved_cny": 250_000.0, "avoided_cny": 1_000_000.0, "pending": 1}
    # 2026: 600,000 + 120,000 + 45,000; approved 600,000 (调整); avoided 120,000
    assert rows[1] == {"year": 2026, "requests": 3, "requested_cny": 765_000.0, "decided": 2, "pass": 0, "adjust": 1,
                       "reject": 1, "approved_cny": 600_000.0, "avoided_cny": 120_000.0, "pending": 1}
    total = rows[2]
    assert total["year"] is None or pd.isna(total["year"])
    assert {k: v for k, v in total.items() if k != "year"} == {
        "requests": 6, "requested_cny": 2_095_000.0, "decided": 4, "pass": 1, "adjust": 1, "reject": 2,
        "approved_cny": 850_000.0, "avoided_cny": 1_120_000.0, "pending": 2}


def test_decision_statistics_without_decisions_are_all_pending():
    stats = PR.decision_statistics(REQUESTS, decisions([]))
    assert list(stats["pending"]) == [3, 3, 6] and list(stats["decided"]) == [0, 0, 0]
    assert list(stats["approved_cny"]) == [0.0, 0.0, 0.0] and list(stats["requested_cny"]) == [1_330_000.0, 765_000.0,
                                                                                               2_095_000.0]
    empty = PR.decision_statistics(REQUESTS.iloc[0:0], decisions([]))
    assert len(empty) == 1 and empty.iloc[0]["requests"] == 0 and empty.iloc[0]["requested_cny"] == 0.0


# ------------------------------------------------------------------------------------ distances

ONE_DEGREE_KM = 2 * math.pi * 6371 / 360  # 111.1949


def test_haversine_by_hand():
    assert PR.haversine_km(38.0, 105.0, 39.0, 105.0) == pytest.approx(111.1949, abs=1e-4)
    assert PR.haversine_km(0, 0, 0, 1) == pytest.approx(ONE_DEGREE_KM)
    assert PR.haversine_km(0, 0, 90, 0) == pytest.approx(10007.5434, abs=1e-3)
    assert PR.haversine_km(0, 0, 0, 180) == pytest.approx(20015.0868, abs=1e-3)
    assert PR.haversine_km(38.0, 105.0, 38.0, 106.0) == pytest.approx(87.6224, abs=1e-3)  # 111.19 × cos 38°
    assert PR.haversine_km(41.5, 101.0, 41.5, 101.0) == 0
    many = PR.haversine_km(38.0, 105.0, np.array([39.0, 38.0, np.nan]), np.array([105.0, 105.0, 105.0]))
    assert many[0] == pytest.approx(ONE_DEGREE_KM) and many[1] == 0 and np.isnan(many[2])


def test_match_distances_holder_coordinates_else_region_seat():
    units = pd.DataFrame({"id": [1, 2], "lat": [39.0, None], "lon": [105.0, None]})
    regions = pd.DataFrame({"code": ["R1", "R2"], "lat": [38.0, 38.0], "lon": [105.0, 106.0]})
    matches = pd.DataFrame({"unit_id": [1, 2, 2, 1], "region_code": ["R2", "R2", "R9", "R1"]}, index=[0, 1, 2, 3])
    dist = PR.match_distances(matches, "R1", units, regions)
    # 0: holder at (39, 105), one degree north of R1's seat: 111.2 (not the R2 seat's 87.6)
    # 1: holder without coordinates: the seat of R2, one degree east on latitude 38: 87.6
    # 2: neither: NaN; 3: the holder's coordinates again, whatever the region
    assert list(dist.iloc[[0, 1, 3]]) == [111.2, 87.6, 111.2] and np.isnan(dist.iloc[2])
    assert list(dist.index) == [0, 1, 2, 3]
    unknown = PR.match_distances(matches, "R9", units, regions)
    assert unknown.isna().all() and len(unknown) == 4
    assert PR.match_distances(matches.iloc[0:0], "R1", units, regions).empty
