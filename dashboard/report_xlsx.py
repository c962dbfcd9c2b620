"""The tables of the annual report as an Excel workbook: one sheet per table, translated headers in
the first row, numbers kept as numbers (money in 万元, rates as fractions with a % format, changes
of rates in percentage points with a 个百分点 / pp format), and a last sheet with the report's
facts (year, data revision, generation time in Beijing time, demo notice)."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from dashboard import report as R
from dashboard.exporter import set_cell
from dashboard.i18n import Translator
from dashboard.national import WAN

NUMBER_FORMATS = {
    "count": "#,##0",
    "hours": "#,##0",
    "wan": "#,##0.00",
    "rate": "0.0%",
    "rel": "+0.0%;-0.0%;0.0%",
    "dcount": "+#,##0;-#,##0;0",
    "dhours": "+#,##0;-#,##0;0",
    "dwan": "+#,##0.00;-#,##0.00;0.00",
}
# A change of a rate is written in percentage points (0.1 → 10.0); its format names the unit
# (report.unit.pp: 个百分点 / pp) so that it cannot be read as a percentage.
PP_FORMAT = '+0.0" {unit}";-0.0" {unit}";0.0" {unit}"'
HEADER_FILL = PatternFill("solid", fgColor="EEF4F7")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_title(text: str) -> str:
    """A valid sheet name: no []:*?/\\ and at most 31 characters."""
    return _BAD_SHEET_CHARS.sub(" ", text)[:31].strip()


def cell_value(cell: R.Cell):
    """The value written to Excel: CNY as 万元, percentage-point changes as points, missing as empty."""
    v = cell.value
    if cell.kind == "text":
        return None if v is None else str(v)
    if v is None or (isinstance(v, float) and v != v):
        return None
    v = float(v)
    if cell.kind in ("wan", "dwan"):
        return v / WAN
    if cell.kind == "pp":
        return v * 100
    if cell.kind in ("count", "dcount"):
        return int(round(v))
    return v


def number_formats(t: Translator) -> dict[str, str]:
    """The Excel number format of each numeric cell kind, in the language of `t`."""
    unit = t("report.unit.pp").replace('"', "")
    return {**NUMBER_FORMATS, "pp": PP_FORMAT.format(unit=unit)}


def _append(ws, values: list) -> None:
    """`ws.append`, with every cell written by `exporter.set_cell`: openpyxl would store a text
    starting with = (a unit's country of origin, an exemption reason as stored) as a formula."""
    ws.append(values)
    if values:
        for cell, value in zip(ws[ws.max_row], values):
            set_cell(cell, value)


def _write_table(ws, table: R.Table, formats: dict[str, str]) -> None:
    _append(ws, list(table.headers))
    for col in range(1, len(table.headers) + 1):
        c = ws.cell(row=1, column=col)
        c.font = Font(bold=True)
        c.fill = HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="center")
    for row in table.rows:
        _append(ws, [cell_value(c) for c in row])
        r = ws.max_row
        for col, cell in enumerate(row, start=1):
            if cell.kind in formats:
                ws.cell(row=r, column=col).number_format = formats[cell.kind]
    if table.note:
        ws.append([])
        _append(ws, [table.note])
    ws.freeze_panes = "A2"
    for col in range(1, len(table.headers) + 1):
        longest = max((len(str(ws.cell(row=r, column=col).value or "")) for r in range(1, len(table.rows) + 2)), default=8)
        ws.column_dimensions[get_column_letter(col)].width = min(60, max(10, longest * 1.6 + 2))


def render_xlsx(report: R.AnnualReport, meta: R.ReportMeta, t: Translator) -> bytes:
    """The workbook as bytes (sheet names from report.sheet.<table id>, then the facts sheet)."""
    wb = Workbook()
    wb.remove(wb.active)
    formats = number_formats(t)
    for table in R.report_tables(report, t):
        _write_table(wb.create_sheet(sheet_title(t(f"report.sheet.{table.id}"))), table, formats)
    about = wb.create_sheet(sheet_title(t("report.sheet.about")))
    generated = R.generated_text(meta.generated_at, t)
    rows = [(t("report.about.title"), t("report.html.title", year=report.year)),
            (t("report.about.year"), report.year),
            (t("report.about.revision"), meta.revision),
            (t("report.about.generated"), generated)]
    if meta.demo_seed is not None:
        rows.append((t("report.about.demo"), t("report.demo_notice", seed=meta.demo_seed)))
    for row in rows:
        _append(about, list(row))
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 90
    for r in range(1, about.max_row + 1):
        about.cell(row=r, column=1).font = Font(bold=True)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
