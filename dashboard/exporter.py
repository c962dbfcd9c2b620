"""Writing national-layout files. Pure: a frame of store values in (models.exports), bytes out.

Same columns and Chinese headers as the import layout, so an export can be imported again.
CSV is UTF-8 with BOM (Excel on Chinese Windows reads it correctly); XLSX has one sheet with
typed cells. Numbers carry no spurious decimals, original value (原值) is in 万元 with at least
two decimals and as many more as the value needs to the fen (1,234,567.89 CNY: 123.456789), so an
export imported again restores every value exactly; dates are YYYY-MM-DD and times YYYY-MM-DD HH:MM:SS. Rows are sorted by natural key in
Python (not SQL), so the order is the same on every database backend.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime
from decimal import Decimal

import pandas as pd

from dashboard.importer import CSV_TEXT_MARK, FORMULA_START
from dashboard.national import LAYOUTS, WAN, Column

SORT_KEYS = {
    "units": ("name",),
    "instruments": ("unit", "inner_id"),
    "usage": ("unit", "inner_id", "year", "month"),
    "services": ("unit", "inner_id", "start_time", "applicant_unit"),
}
MONEY_COLUMNS = {"service_amount_cny", "voucher_amount_cny"}
DECIMALS = 6  # other numbers: enough for hours and coordinates, none of the float noise
WAN_DECIMALS = 6  # 万元 to the fen (0.01 CNY), the precision the importer keeps


def headers(kind: str) -> list[str]:
    return [col.zh for col in LAYOUTS[kind]]


def layout_rows(kind: str, frame: pd.DataFrame) -> list[list[object]]:
    """Typed cell values per row, in layout column order (str, int, float, date, datetime)."""
    if frame.empty:
        return []
    records = frame.to_dict("records")
    records.sort(key=lambda r: tuple(_sort_value(r[k]) for k in SORT_KEYS[kind]))
    return [[_cell(col, rec) for col in LAYOUTS[kind]] for rec in records]


def _sort_value(value):
    return "" if _missing(value) else value


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def _cell(col: Column, rec: dict):
    if col.kind == "month":
        return f"{int(rec['year']):04d}-{int(rec['month']):02d}"
    value = rec.get(col.key)
    if _missing(value):
        return ""
    if col.kind == "bool":
        return "是" if value else "否"
    if col.kind in ("number", "integer"):
        return _number(col, float(value))
    if col.kind == "date":
        return value.date() if isinstance(value, datetime) else value
    if col.kind == "datetime":
        return pd.Timestamp(value).to_pydatetime().replace(microsecond=0)
    return str(value)


def _number(col: Column, value: float) -> int | float:
    if col.key == "original_value":
        return round(value / WAN, WAN_DECIMALS)  # 万元 in the national layout
    value = round(value, 2 if col.key in MONEY_COLUMNS else DECIMALS)
    return int(value) if value.is_integer() else value


def cell_text(col: Column, value) -> str:
    """A typed cell as CSV text."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        if col.key == "original_value":
            return _wan_text(value)
        return format(Decimal(repr(value)), "f")  # never scientific notation
    text = str(value)
    return neutralised(text) if col.kind in ("text", "enum") else text


# ---------------------------------------------------------------- formula neutralisation
# Every cell the dashboard exports goes through `neutralised` (CSV) or `set_cell` (XLSX): the
# national-layout files here, the annual report workbook (dashboard.report_xlsx), the quality
# lists (dashboard.quality.frame_csv) and the published ranking (dashboard.publication.notice_csv).


def formula_like(value) -> bool:
    """Whether a cell value is text that a spreadsheet program may run as a formula: text starting
    with = + - @, or with a tab or carriage return (which some programs skip before reading one).
    Numbers are never formula-like, negative ones included."""
    return isinstance(value, str) and value[:1] in tuple(FORMULA_START)


def neutralised(value):
    """A cell value safe to write into a CSV file (CSV/formula injection).

    Excel, LibreOffice and WPS run a CSV cell such as "=HYPERLINK(...)", "+cmd|' /C calc'!A0",
    "-2+3" or "@SUM(A1)" as a formula. Text starting with = + - @ (or a tab or carriage return)
    therefore gets a leading apostrophe: the spreadsheet programs' own mark for "this is text",
    which they show as text without running it; `dashboard.importer` removes the mark again, so a
    national-layout export imports back unchanged. Only text is marked: numbers (-5, -0.25),
    dates and empty cells come back as they are, because a negative number is a number, not a
    formula. Callers therefore pass cells before turning numbers into text."""
    return CSV_TEXT_MARK + value if formula_like(value) else value


def set_cell(cell, value) -> None:
    """Write `value` into an openpyxl cell so that text stays text.

    openpyxl stores a string starting with = as a formula; here every string is a typed text
    cell instead, and one that is formula-like (`formula_like`) also carries the quote prefix,
    the workbook's form of the leading apostrophe: Excel shows the text exactly (the apostrophe
    appears only in the formula bar) and keeps it text when someone edits the cell. The value
    itself is not changed, so an XLSX export imports back as written. Numbers, dates and empty
    cells are written as they are."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if formula_like(value):
            cell.quotePrefix = True


def csv_document(header: list[str], rows) -> bytes:
    """CSV as spreadsheet programs read Chinese best: UTF-8 with BOM, CRLF line ends."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _wan_text(value: float) -> str:
    """At least two decimals (the national convention), more only when the value has them."""
    text = f"{value:.{WAN_DECIMALS}f}".rstrip("0")
    whole, decimals = text.split(".")
    return f"{whole}.{decimals:0<2}"


def csv_bytes(kind: str, frame: pd.DataFrame) -> bytes:
    columns = LAYOUTS[kind]
    rows = ([cell_text(col, v) for col, v in zip(columns, row)] for row in layout_rows(kind, frame))
    return csv_document(headers(kind), rows)


def xlsx_bytes(kind: str, frame: pd.DataFrame) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    columns = LAYOUTS[kind]
    book = Workbook()
    sheet = book.active
    sheet.title = kind
    for c, header in enumerate(headers(kind), start=1):
        set_cell(sheet.cell(row=1, column=c), header)
        sheet.cell(row=1, column=c).font = Font(bold=True)
    for r, row in enumerate(layout_rows(kind, frame), start=2):
        for c, (col, value) in enumerate(zip(columns, row), start=1):
            _write_cell(sheet.cell(row=r, column=c), col, value)
    for c, col in enumerate(columns, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = max(10, 2 * len(col.zh) + 2)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write_cell(cell, col: Column, value) -> None:
    set_cell(cell, value)  # text stays text: no formulas, leading zeros of codes kept
    if isinstance(value, str):
        cell.number_format = "@"
    elif isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    elif col.key == "original_value":
        cell.number_format = "0.00####"


def export_bytes(kind: str, frame: pd.DataFrame, fmt: str) -> bytes:
    return csv_bytes(kind, frame) if fmt == "csv" else xlsx_bytes(kind, frame)


def template_bytes(kind: str, fmt: str) -> bytes:
    """An empty file with the layout's headers only."""
    return export_bytes(kind, pd.DataFrame(), fmt)
