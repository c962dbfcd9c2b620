"""Reading and validating national-layout files. Pure: bytes and reference data in, store-ready
records and a complete error list out; nothing here touches the store.

Rules (see `dashboard.national.LAYOUTS` for the columns):
- CSV in UTF-8 (with or without BOM) or GBK/GB18030, separated by commas, semicolons or tabs (the
  header line tells which); XLSX: the one sheet whose header row names columns of the layout (empty
  and instruction sheets are passed over). Blank lines are skipped; row numbers are the ones the
  user sees (header = 1, first data row = 2 in a normal file).
- Full-width characters (Chinese input methods) count as their ASCII forms in numbers, dates,
  months, yes/no, enumerations and codes; free text is kept as written.
- Headers are the national Chinese names or the English keys; whitespace around them is ignored.
- Every cell of every row is checked and every problem reported (row, column as written, value,
  reason code + parameters). The reason is translated at display time (`data.err.<code>`).
- Instrument original value (原值) is in 万元 in files and converted to CNY here.
- Hostile input is bounded before it is parsed: at most MAX_FILE_BYTES per file (the same limit as
  the web upload, streamlit_config/config.toml server.maxUploadSize, so the command line is bounded
  too), an XLSX may unpack to at most MAX_UNPACKED_BYTES (a "zip bomb" is refused unopened), at most
  MAX_ROWS data rows; dates before MIN_YEAR and in the future are refused, as are formulas
  (text starting with = + - @, see FORMULA_START) and control characters.
"""

from __future__ import annotations

import calendar
import csv
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath

import pandas as pd

from dashboard.national import LAYOUTS, WAN, Column

FORMATS = ("csv", "xlsx")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 is a superset of GBK
MAX_ROWS = 200_000  # data rows per file
MB = 1024 * 1024
MAX_FILE_BYTES = 20 * MB  # = server.maxUploadSize of the web app (in MB), checked in the tests
MAX_UNPACKED_BYTES = 256 * MB  # an XLSX of MAX_ROWS records unpacks to ~150 MB; a zip bomb to GBs
MIN_YEAR = 1900  # earlier dates, months and times are typing accidents (0025-03-01), not records
MAX_NUMBER = 1e12  # anything larger is a typing accident (or an attack), not a value
MAX_INTEGER = 2**31 - 1  # integer columns are 32-bit INTEGER on PostgreSQL
GENERIC_MAX_LEN = 2000  # text columns without a national length limit
SHOWN_VALUE_LEN = 60  # values in error reports are cut to this many characters
HOURS_PER_YEAR_MAX = 366 * 24
LAT_RANGE, LON_RANGE = (-90.0, 90.0), (-180.0, 180.0)

# Optional enumerations whose blank cell has a natural "nothing special" meaning in the national
# layout; every other blank optional cell is stored blank.
BLANK_ENUM_DEFAULTS = {"affiliate": "不附属", "customs_supervised": "否", "operation_mode": "自营"}

# Natural keys: the columns identifying a record inside a file and in the store.
NATURAL_KEYS = {
    "units": ("name",),
    "instruments": ("unit", "inner_id"),
    "usage": ("unit", "inner_id", "year", "month"),
    "services": ("unit", "inner_id", "start_time", "applicant_unit"),
}

# Text columns holding codes rather than free text: compared and stored in ASCII.
CODE_COLUMNS = frozenset({"class_code", "region_code", "client_region_code"})
# Full-width ASCII (U+FF01–U+FF5E) and the ideographic space to their ASCII forms.
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
CSV_DELIMITERS = ",;\t"  # the first is the default

TRUE_TEXTS = {"是", "true", "yes", "y", "1"}
FALSE_TEXTS = {"否", "false", "no", "n", "0"}

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)
_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T]0{1,2}:00(?::00)?)?", re.ASCII)
_DATETIME = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)
_MONTH = re.compile(r"(\d{4})(?:[-/](\d{1,2})|(\d{2}))", re.ASCII)  # 2025-2, 2025/02, 202502
_PHONE_LIKE = re.compile(r"[+\-]?[\d\s()+\-]*")
# Cells starting with one of these are formulas to a spreadsheet program (CSV injection); tab and
# carriage return because some programs skip them before reading a formula. Our CSV export writes
# such text behind an apostrophe (dashboard.exporter.neutralised), which the importer removes again.
FORMULA_START = "=+-@\t\r"
CSV_TEXT_MARK = "'"
# After a leading + or -, these mark a formula ("+cmd|' /C calc'!A0", "-SUM(A1)"); without them
# the text is ordinary, e.g. the instrument name "-80℃超低温冰箱".
_FORMULA_SYNTAX = re.compile(r"[(|!=]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CLASS_CODE = re.compile(r"\d{6}", re.ASCII)
_DIVISION_CODE = re.compile(r"\d{6}", re.ASCII)


# Every reason an import can give; each has a text `data.err.<code>` in the catalogues.
FILE_ERROR_CODES = frozenset({"unknown_extension", "empty_file", "encoding", "unreadable", "too_many_rows",
                              "several_sheets", "file_too_large", "unpacked_too_large"})
DATA_ERROR_CODES = frozenset({
    # header
    "unnamed_column", "unknown_column", "duplicate_column", "missing_column", "no_data_rows",
    # single cells
    "required", "too_long", "bad_characters", "formula", "not_in_list", "not_number", "too_large",
    "negative", "out_of_range", "not_integer", "bad_date", "future_date", "bad_datetime",
    "future_time", "bad_month", "future_month", "not_bool", "too_old",
    # rows and references
    "unknown_region", "unknown_client_region", "unknown_unit", "unknown_instrument", "unknown_class",
    "hours_exceed_year", "service_exceeds_run", "hours_exceed_month", "external_exceeds_effective",
    "end_not_after_start", "voucher_exceeds_amount", "duplicate_key",
    # the store refused the write (e.g. a unit deleted since validation); nothing was written
    "store_rejected",
})


class _CodedError(Exception):
    """An error named by a catalogue code (`data.err.<code>`) with its message parameters."""

    codes: frozenset = frozenset()

    def __init__(self, code: str, **params):
        assert code in self.codes, code
        super().__init__(code)
        self.code = code
        self.params = params


class FileReadError(_CodedError):
    """The file cannot be read at all (a usage error, not a data error)."""

    codes = FILE_ERROR_CODES


@dataclass(frozen=True)
class CellError:
    row: int  # as the user sees it in the file (header row = 1)
    column: str  # header as written in the file ("" when the error concerns no column)
    value: str  # the offending value as read (shortened)
    code: str  # catalogue key suffix: data.err.<code>
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        assert self.code in DATA_ERROR_CODES, self.code


@dataclass(frozen=True)
class RawTable:
    headers: tuple[str, ...]  # trimmed, as written
    header_row: int
    rows: tuple[tuple[int, tuple], ...]  # (row number, raw cell values)


@dataclass(frozen=True)
class ImportReference:
    """What validation needs to know about the store and the clock."""

    regions: dict[str, str]  # code / Chinese name / lower-case English name -> region code
    middle_classes: frozenset[str]  # 4-digit middle-class codes
    unit_regions: dict[str, str]  # unit name in the store -> its region code
    instrument_keys: frozenset[tuple[str, str]]  # (unit name, internal number) in the store
    today: date
    now: datetime  # naive local time (service times are local wall-clock times)


@dataclass
class ParsedRow:
    row: int
    cells: dict[str, str]  # layout key -> cell text as read
    record: dict  # layout key -> store-ready value (only columns present in the file)


@dataclass
class ParsedFile:
    kind: str
    file_name: str
    headers: tuple[str, ...]
    columns: tuple[Column | None, ...]  # layout column of each header (None: not used)
    rows: list[ParsedRow]
    errors: list[CellError]
    header_row: int = 1

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def records(self) -> list[dict]:
        return [r.record for r in self.rows]


# ---------------------------------------------------------------- reading


def file_format(file_name: str) -> str:
    """'csv' or 'xlsx' from the file name's extension."""
    ext = PurePath(file_name).suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise FileReadError("unknown_extension", name=PurePath(file_name).name)
    return ext


def check_size(data: bytes) -> None:
    """Refuse a file larger than MAX_FILE_BYTES before anything reads it."""
    if len(data) > MAX_FILE_BYTES:
        raise FileReadError("file_too_large", size=_megabytes(len(data), up=True), limit=_megabytes(MAX_FILE_BYTES))


def read_bounded(path) -> bytes:
    """The bytes of a file on disk, reading no more than MAX_FILE_BYTES + 1 of them: a larger
    file is refused (file_too_large) without being loaded. OSError when it cannot be read."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            handle.seek(0, io.SEEK_END)
            raise FileReadError("file_too_large", size=_megabytes(handle.tell(), up=True),
                                limit=_megabytes(MAX_FILE_BYTES))
    return data


def _megabytes(n: int, up: bool = False) -> str:
    """MB with one decimal at most; rounded up for a file's size, so that a file just over the
    limit never reads as the limit itself (20.1 MB, at most 20 MB)."""
    tenths = math.ceil(n * 10 / MB) if up else round(n * 10 / MB)
    return f"{tenths / 10:.1f}".removesuffix(".0")


def read_table(kind: str, file_name: str, data: bytes) -> RawTable:
    """The header and non-blank rows of a CSV file or of the layout's sheet of an XLSX file."""
    fmt = file_format(file_name)
    check_size(data)
    table = _table(_read_csv(data)) if fmt == "csv" else _layout_sheet(kind, _read_xlsx(data))
    if table is None:
        raise FileReadError("empty_file")
    if len(table.rows) > MAX_ROWS:
        raise FileReadError("too_many_rows", limit=MAX_ROWS)
    return table


def read_grid(file_name: str, data: bytes) -> RawTable:
    """The header and non-blank rows of a CSV file or of the first non-blank sheet of an XLSX
    file, for tables outside the national layout (e.g. purchase requests)."""
    fmt = file_format(file_name)
    check_size(data)
    grids = [_read_csv(data)] if fmt == "csv" else list(_read_xlsx(data).values())
    table = next((tb for grid in grids if (tb := _table(grid)) is not None), None)
    if table is None:
        raise FileReadError("empty_file")
    if len(table.rows) > MAX_ROWS:
        raise FileReadError("too_many_rows", limit=MAX_ROWS)
    return table


def _table(grid: list[list]) -> RawTable | None:
    numbered = [(i, tuple(cells)) for i, cells in enumerate(grid, start=1) if not _blank_row(cells)]
    if not numbered:
        return None
    (header_row, header_cells), body = numbered[0], numbered[1:]
    headers = tuple(_header_text(c) for c in header_cells)
    return RawTable(headers=headers, header_row=header_row, rows=tuple(body))


def _layout_sheet(kind: str, sheets: dict[str, list[list]]) -> RawTable | None:
    """The sheet whose header row names columns of the layout. Workbooks often carry an empty
    default sheet or filling instructions besides the records; those are passed over. Records on
    two sheets are refused rather than half imported. With no such sheet, the first non-empty one
    is returned, so that its header errors say what is wrong."""
    tables = {title: table for title, grid in sheets.items() if (table := _table(grid)) is not None}
    lookup = _header_lookup(kind)
    layout = [title for title, table in tables.items() if any(_normal_header(h) in lookup for h in table.headers)]
    if len(layout) > 1:
        raise FileReadError("several_sheets", sheets=", ".join(layout))
    return tables[layout[0]] if layout else next(iter(tables.values()), None)


def _read_csv(data: bytes) -> list[list[str]]:
    text = None
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise FileReadError("encoding")
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except csv.Error as exc:  # e.g. NUL bytes, a cell beyond the csv module's size limit
        raise FileReadError("unreadable", detail=str(exc)) from None


def _delimiter(text: str) -> str:
    """The separator used most in the first non-blank line (the header, whose names contain none);
    comma when there is none (a one-column file)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max(CSV_DELIMITERS, key=first.count)


def _read_xlsx(data: bytes) -> dict[str, list[list[object]]]:
    import openpyxl  # only XLSX files need it

    _check_unpacked_size(data)
    try:
        # data_only=False: a formula cell reads as its formula text and is rejected, never evaluated.
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # openpyxl raises many kinds of errors on damaged or foreign files
        raise FileReadError("unreadable", detail=type(exc).__name__) from None
    try:
        return {sheet.title: [[_formula_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
                for sheet in book.worksheets}
    finally:
        book.close()


def _check_unpacked_size(data: bytes) -> None:
    """An XLSX is a zip archive: refuse one whose members unpack to more than MAX_UNPACKED_BYTES
    (the sizes its directory declares; zipfile refuses to unpack more than declared). A file that
    is no zip archive at all is left to openpyxl, which reports it unreadable."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileReadError("unpacked_too_large", limit=_megabytes(MAX_UNPACKED_BYTES))


def _formula_text(value):
    """Array and data-table formulas come back from openpyxl as objects, not as text (whose str()
    would pass for a name); give their formula text instead, which validation refuses like any
    other formula."""
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    if isinstance(value, ArrayFormula):
        text = str(value.text or "")
        return text if text.startswith("=") else "=" + text
    if isinstance(value, DataTableFormula):
        return f"=TABLE({value.r1 or ''},{value.r2 or ''})"
    return value


def _blank_row(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _header_text(cell) -> str:
    text = "" if cell is None else str(cell)
    return text.replace("\ufeff", "").strip()


def _header_lookup(kind: str) -> dict[str, Column]:
    lookup = {}
    for col in LAYOUTS[kind]:
        lookup[_normal_header(col.zh)] = col
        lookup[_normal_header(col.key)] = col
    return lookup


def _normal_header(text: str) -> str:
    # Full-width parentheses are common in Chinese spreadsheets: 所属（附属）关系.
    return text.replace("（", "(").replace("）", ")").lower()


# ---------------------------------------------------------------- cell text


def cell_text(value, col: Column) -> str:
    """A cell as text; typed Excel cells are written the way the layout expects them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        if col.kind == "month":
            return value.strftime("%Y-%m")
        if col.kind != "datetime" and value.time() == time(0, 0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m") if col.kind == "month" else value.strftime("%Y-%m-%d")
    if isinstance(value, (int, float)):
        return _number_text(value)
    text = str(value).strip()
    if col.kind == "text" and col.key not in CODE_COLUMNS:
        return text  # free text is kept as written
    return text.translate(_HALF_WIDTH).strip()


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < MAX_NUMBER:
        value = int(value)
    return str(value)


def shown(text: str) -> str:
    return text if len(text) <= SHOWN_VALUE_LEN else text[: SHOWN_VALUE_LEN - 1] + "…"


# ---------------------------------------------------------------- parsing one cell


class CellProblem(_CodedError):
    """Raised by a cell parser; becomes a CellError with the row and column added."""

    codes = DATA_ERROR_CODES


def parse_cell(text: str, col: Column, ref: ImportReference):
    """The store value of one non-blank cell, or CellProblem."""
    if _CONTROL.search(text):
        raise CellProblem("bad_characters")
    limit = col.max_len or GENERIC_MAX_LEN
    if len(text) > limit:
        raise CellProblem("too_long", max=limit, length=len(text))
    parser = _PARSERS[col.kind]
    return parser(text, col, ref)


def _parse_text(text: str, col: Column, ref: ImportReference) -> str:
    if text[0] == CSV_TEXT_MARK and len(text) > 1 and text[1] in FORMULA_START:
        text = text[1:]  # neutralised by our own CSV export
    problem = text_problem(text)
    if problem:
        raise CellProblem(problem)
    return text


def text_problem(text: str) -> str | None:
    """'bad_characters' for text with control characters (NUL and the like: PostgreSQL refuses
    NUL, and none belongs in a record), 'formula' for text a spreadsheet takes for a formula,
    else None. A formula starts with = or @ (after any blanks); one starting with + or - needs
    formula syntax after it, so "-80℃超低温冰箱" and the phone number "+86 (483) 833 1234" are
    text."""
    if _CONTROL.search(text):
        return "bad_characters"
    head = text.lstrip(" \t\r\n")
    if not head:
        return None
    if head[0] in "=@":
        return "formula"
    if head[0] in "+-" and not _PHONE_LIKE.fullmatch(head) and _FORMULA_SYNTAX.search(head):
        return "formula"
    return None


def _parse_enum(text: str, col: Column, ref: ImportReference) -> str:
    if text not in col.choices:
        raise CellProblem("not_in_list", allowed=" / ".join(c for c in col.choices if c))
    return text


def parse_number(text: str) -> float:
    compact = text.replace(",", "") if _THOUSANDS.fullmatch(text) else text
    if not _NUMBER.fullmatch(compact):
        raise CellProblem("not_number")
    value = float(compact)
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise CellProblem("too_large", max=f"{MAX_NUMBER:.0e}")
    return value


def _parse_number(text: str, col: Column, ref: ImportReference) -> float:
    value = parse_number(text)
    if col.key == "lat":
        return _in_range(value, LAT_RANGE)
    if col.key == "lon":
        return _in_range(value, LON_RANGE)
    if value < 0:
        raise CellProblem("negative")
    if col.key == "original_value":
        return round(value * WAN, 2)  # 万元 in the file, CNY in the store
    return value


def _in_range(value: float, bounds: tuple[float, float]) -> float:
    if not bounds[0] <= value <= bounds[1]:
        raise CellProblem("out_of_range", min=bounds[0], max=bounds[1])
    return value


def _parse_integer(text: str, col: Column, ref: ImportReference) -> int:
    value = _parse_number(text, col, ref)
    if not float(value).is_integer():
        raise CellProblem("not_integer")
    if value > MAX_INTEGER:
        raise CellProblem("too_large", max=MAX_INTEGER)
    return int(value)


def _parse_date(text: str, col: Column, ref: ImportReference) -> date:
    m = _DATE.fullmatch(text)
    try:
        value = date(int(m[1]), int(m[2]), int(m[3])) if m else None
    except ValueError:
        value = None
    if value is None:
        raise CellProblem("bad_date")
    _not_too_old(value.year)
    if value > ref.today:
        raise CellProblem("future_date", today=ref.today.isoformat())
    return value


def _parse_datetime(text: str, col: Column, ref: ImportReference) -> datetime:
    m = _DATETIME.fullmatch(text)
    try:
        value = datetime(*(int(g) for g in m.groups(default="0"))) if m else None
    except ValueError:
        value = None
    if value is None:
        raise CellProblem("bad_datetime")
    _not_too_old(value.year)
    if value > ref.now:
        raise CellProblem("future_time", now=ref.now.strftime("%Y-%m-%d %H:%M"))
    return value


def _parse_month(text: str, col: Column, ref: ImportReference) -> tuple[int, int]:
    m = _MONTH.fullmatch(text)
    if not m or not 1 <= int(m[2] or m[3]) <= 12:
        raise CellProblem("bad_month")
    year, month = int(m[1]), int(m[2] or m[3])
    _not_too_old(year)
    if (year, month) > (ref.today.year, ref.today.month):
        raise CellProblem("future_month", month=ref.today.strftime("%Y-%m"))
    return year, month


def _not_too_old(year: int) -> None:
    if year < MIN_YEAR:
        raise CellProblem("too_old", min=MIN_YEAR)


def _parse_bool(text: str, col: Column, ref: ImportReference) -> bool:
    low = text.lower()
    if low in TRUE_TEXTS:
        return True
    if low in FALSE_TEXTS:
        return False
    raise CellProblem("not_bool")


_PARSERS = {
    "text": _parse_text,
    "enum": _parse_enum,
    "number": _parse_number,
    "integer": _parse_integer,
    "date": _parse_date,
    "datetime": _parse_datetime,
    "month": _parse_month,
    "bool": _parse_bool,
}


def resolve_region(text: str, ref: ImportReference) -> str | None:
    """Region code from a code (152921, Z01) or a Chinese or English region name."""
    return ref.regions.get(text) or ref.regions.get(text.upper()) or ref.regions.get(text.lower())


def region_lookup(regions: pd.DataFrame) -> dict[str, str]:
    """The lookup `resolve_region` uses, from the region table."""
    lookup = {}
    for rec in regions.to_dict("records"):
        lookup[str(rec["name_zh"])] = rec["code"]
        lookup[str(rec["name_en"]).lower()] = rec["code"]
        lookup[str(rec["code"]).upper()] = rec["code"]
    return lookup


# ---------------------------------------------------------------- the whole file


def parse_file(kind: str, file_name: str, data: bytes, ref: ImportReference) -> ParsedFile:
    """Read and validate a whole file. Raises FileReadError when it cannot be read at all."""
    table = read_table(kind, file_name, data)
    columns, errors = _map_headers(kind, table)
    parsed = ParsedFile(kind, PurePath(file_name).name, table.headers, columns, [], errors, table.header_row)
    if errors:
        return parsed  # with a wrong header, the rows cannot be read reliably
    if not table.rows:
        errors.append(CellError(table.header_row + 1, "", "", "no_data_rows"))
        return parsed
    headers = {col.key: h for h, col in zip(table.headers, columns) if col is not None}
    for row_number, cells in table.rows:
        parsed.rows.append(_parse_row(kind, row_number, cells, columns, headers, ref, errors))
    _check_duplicates(kind, parsed.rows, headers, errors)
    errors.sort(key=lambda e: e.row)
    return parsed


def _map_headers(kind: str, table: RawTable) -> tuple[tuple[Column | None, ...], list[CellError]]:
    lookup = _header_lookup(kind)
    columns: list[Column | None] = []
    errors: list[CellError] = []
    seen: set[str] = set()
    width = max([len(table.headers)] + [len(cells) for _, cells in table.rows])
    padded = table.headers + ("",) * (width - len(table.headers))
    for position, header in enumerate(padded, start=1):
        if not header:
            columns.append(None)
            if any(position <= len(cells) and not _blank_row([cells[position - 1]]) for _, cells in table.rows):
                errors.append(CellError(table.header_row, "", "", "unnamed_column", {"position": position}))
            continue
        col = lookup.get(_normal_header(header))
        if col is None:
            errors.append(CellError(table.header_row, header, shown(header), "unknown_column"))
        elif col.key in seen:
            errors.append(CellError(table.header_row, header, shown(header), "duplicate_column", {"expected": col.zh}))
            col = None
        else:
            seen.add(col.key)
        columns.append(col)
    for col in LAYOUTS[kind]:
        if col.required and col.key not in seen:
            errors.append(CellError(table.header_row, col.zh, "", "missing_column"))
    return tuple(columns), errors


def _parse_row(kind, row_number, cells, columns, headers, ref, errors) -> ParsedRow:
    texts: dict[str, str] = {}
    record: dict = {}
    bad: set[str] = set()
    for position, col in enumerate(columns):
        if col is None:
            continue
        raw = cells[position] if position < len(cells) else None
        text = cell_text(raw, col)
        texts[col.key] = text
        if not text:
            if col.required:
                errors.append(CellError(row_number, headers[col.key], "", "required"))
                bad.add(col.key)
            record[col.key] = BLANK_ENUM_DEFAULTS.get(col.key, "") if col.kind in ("text", "enum") else None
            continue
        try:
            record[col.key] = parse_cell(text, col, ref)
        except CellProblem as problem:
            errors.append(CellError(row_number, headers[col.key], shown(text), problem.code, problem.params))
            bad.add(col.key)
    for check in _ROW_CHECKS[kind]:
        for key, code, params in check(record, texts, bad, ref):
            errors.append(CellError(row_number, headers.get(key, ""), shown(texts.get(key, "")), code, params))
    return ParsedRow(row_number, texts, _finish_record(kind, record))


def _finish_record(kind: str, record: dict) -> dict:
    if kind == "usage" and isinstance(record.get("month"), tuple):
        record["year"], record["month"] = record["month"]
    return record


def _check_duplicates(kind: str, rows: list[ParsedRow], headers: dict[str, str], errors: list[CellError]) -> None:
    """The same natural key twice in one file. Keys compare parsed values, so 2026-1 and 2026-01
    are the same month."""
    key_cols = NATURAL_KEYS[kind]
    first_row: dict[tuple, int] = {}
    for row in rows:
        key = tuple(row.record.get(k) for k in key_cols)
        if any(part is None or part == "" for part in key):
            continue  # a missing or unreadable key part is already reported
        if key in first_row:
            shown_key = " / ".join(row.cells[k] for k in key_cols if k in row.cells)
            errors.append(CellError(row.row, headers[key_cols[-1]], shown(shown_key), "duplicate_key",
                                    {"first_row": first_row[key]}))
        else:
            first_row[key] = row.row


# ---------------------------------------------------------------- row rules per kind
# Each check yields (column key, error code, params) for one parsed row; `bad` holds the columns
# that already failed, so a rule never piles a second error onto an unreadable value.


def _set_region(record, text, ref):
    """Store the region code that `text` (a code or a name) names, or report it unknown."""
    code = resolve_region(text, ref)
    if code is None:
        yield "region_code", "unknown_region", {}
    else:
        record["region_code"] = code


def _unit_region(record, texts, bad, ref):
    if "region_code" not in bad and texts.get("region_code"):
        yield from _set_region(record, texts["region_code"], ref)


def _known_unit(record, texts, bad, ref):
    if "unit" not in bad and record.get("unit") and record["unit"] not in ref.unit_regions:
        yield "unit", "unknown_unit", {}


def _known_instrument(record, texts, bad, ref):
    if {"unit", "inner_id"} & bad or record.get("unit") not in ref.unit_regions:
        return
    if (record["unit"], record.get("inner_id")) not in ref.instrument_keys:
        yield "inner_id", "unknown_instrument", {"unit": record["unit"]}


def _class_code(record, texts, bad, ref):
    code = record.get("class_code")
    if "class_code" in bad or not code:
        return
    if len(code) == 5 and code.isascii() and code.isdigit():
        # Top classes 01-09 lose their zero wherever a spreadsheet took the code for a number
        # (an XLSX number cell, or a CSV saved again by Excel); 12 top classes, so 5 digits is
        # never a code of its own.
        code = record["class_code"] = "0" + code
    if not _CLASS_CODE.fullmatch(code) or code[:4] not in ref.middle_classes:
        yield "class_code", "unknown_class", {}


def _instrument_region(record, texts, bad, ref):
    if "region_code" in bad or "region_code" not in record:
        return
    if not texts.get("region_code"):
        unit_region = ref.unit_regions.get(record.get("unit"))
        if unit_region:
            record["region_code"] = unit_region  # 安放地区 defaults to the unit's region
        else:
            del record["region_code"]
        return
    yield from _set_region(record, texts["region_code"], ref)


def _annual_hours(record, texts, bad, ref):
    run, service = record.get("annual_run_hours"), record.get("annual_service_hours")
    for key, value in (("annual_run_hours", run), ("annual_service_hours", service)):
        if key not in bad and value is not None and value > HOURS_PER_YEAR_MAX:
            yield key, "hours_exceed_year", {"limit": HOURS_PER_YEAR_MAX}
    if run is not None and service is not None and service > run:
        yield "annual_service_hours", "service_exceeds_run", {}


def _month_hours(record, texts, bad, ref):
    if "month" in bad or not isinstance(record.get("month"), tuple):
        return
    year, month = record["month"]
    limit = calendar.monthrange(year, month)[1] * 24
    for key in ("effective_hours", "downtime_hours"):
        value = record.get(key)
        if key not in bad and value is not None and value > limit:
            yield key, "hours_exceed_month", {"limit": limit}
    effective, external = record.get("effective_hours"), record.get("external_hours")
    if effective is not None and external is not None and external > effective:
        yield "external_hours", "external_exceeds_effective", {}


def _service_times(record, texts, bad, ref):
    start, end = record.get("start_time"), record.get("end_time")
    if start is not None and end is not None and end <= start:
        yield "end_time", "end_not_after_start", {}


def _client_region(record, texts, bad, ref):
    text = texts.get("client_region_code")
    if "client_region_code" in bad or not text:
        return
    code = resolve_region(text, ref)
    if code is not None:
        record["client_region_code"] = code
    elif _DIVISION_CODE.fullmatch(text):
        record["client_region_code"] = text  # a division code outside the league (GB/T 2260)
    else:
        yield "client_region_code", "unknown_client_region", {}


def _voucher_amount(record, texts, bad, ref):
    voucher, amount = record.get("voucher_amount_cny"), record.get("service_amount_cny")
    if voucher is not None and amount is not None and voucher > amount:
        yield "voucher_amount_cny", "voucher_exceeds_amount", {}


_ROW_CHECKS = {
    "units": (_unit_region,),
    "instruments": (_known_unit, _class_code, _instrument_region, _annual_hours),
    "usage": (_known_unit, _known_instrument, _month_hours),
    "services": (_known_unit, _known_instrument, _service_times, _client_region, _voucher_amount),
}


def preview_frame(parsed: ParsedFile) -> pd.DataFrame:
    """The rows as read (text), under the file's own headers, indexed by file row number."""
    used = [(h, col) for h, col in zip(parsed.headers, parsed.columns) if col is not None]
    data = [[row.cells.get(col.key, "") for _, col in used] for row in parsed.rows]
    frame = pd.DataFrame(data, columns=[h for h, _ in used])
    frame.index = pd.Index([row.row for row in parsed.rows], name="#")
    return frame
