"""Import and export orchestration for the Data page and the command line.

`check_file` reads and validates a file and works out what an import would change (nothing
written); `import_file` does the same and writes when the file is valid; `export_file` and
`template_file` produce national-layout files. `run_import` / `run_export` are the CLI commands.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.engine import Engine

from dashboard import auth
from dashboard import exporter, importer
from dashboard.i18n import Translator
from dashboard.importer import CellError, FileReadError, ImportReference, ParsedFile
from dashboard.national import LAYOUTS, YES_NO, Column
from dashboard.policy import DEFAULTS
from models import exports, queries
from models.services.imports import ImportCounts, ImportRejected, apply_import

EXIT_OK, EXIT_INVALID_DATA, EXIT_USAGE = 0, 1, 2
LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # national records carry Beijing wall-clock times
CLI_ACTOR = "cli"  # audit actor of command-line imports (a trusted local process, dashboard.auth)


@dataclass
class ImportOutcome:
    parsed: ParsedFile
    counts: ImportCounts | None  # None when the file has errors
    written: bool

    @property
    def ok(self) -> bool:
        return self.parsed.ok


def local_now() -> datetime:
    return datetime.now(LOCAL_TZ).replace(tzinfo=None)


def load_reference(engine: Engine, now: datetime | None = None) -> ImportReference:
    now = now or local_now()
    classes = queries.instrument_classes(engine)
    return ImportReference(
        regions=importer.region_lookup(queries.regions(engine)),
        middle_classes=frozenset(classes.loc[classes["level"] == 2, "code"]),
        unit_regions=exports.unit_regions(engine),
        instrument_keys=frozenset(exports.instrument_keys(engine)),
        today=now.date(),
        now=now,
    )


def check_file(engine: Engine, kind: str, file_name: str, data: bytes) -> ImportOutcome:
    """Validate and work out the counts an import would give; nothing is written."""
    return import_file(engine, kind, file_name, data, actor="", dry_run=True)


def import_file(
    engine: Engine, kind: str, file_name: str, data: bytes, *, actor, dry_run: bool = False
) -> ImportOutcome:
    """Read, validate and (unless dry_run or invalid) write a file. Raises FileReadError when the
    file cannot be read at all. A write the store refuses is rolled back and reported like a data
    error (on the header row: the database does not say which row), so every caller shows it."""
    if not dry_run:
        auth.require(actor, auth.DATA_IMPORT)  # refused before the file is even read
    parsed = importer.parse_file(kind, file_name, data, load_reference(engine))
    if not parsed.ok:
        return ImportOutcome(parsed, None, False)
    try:
        counts = apply_import(
            engine, kind, parsed.records, actor=actor, file_name=parsed.file_name,
            due_day=DEFAULTS.report_due_day, dry_run=dry_run,
        )
    except ImportRejected as exc:
        parsed.errors.append(CellError(parsed.header_row, "", "", "store_rejected", {"detail": exc.detail}))
        return ImportOutcome(parsed, None, False)
    return ImportOutcome(parsed, counts, not dry_run and counts.changed)


def export_frame(engine: Engine, kind: str) -> pd.DataFrame:
    return exports.EXPORT_QUERIES[kind](engine)


def export_file(engine: Engine, kind: str, fmt: str) -> bytes:
    return exporter.export_bytes(kind, export_frame(engine, kind), fmt)


def template_file(kind: str, fmt: str) -> bytes:
    return exporter.template_bytes(kind, fmt)


# ---------------------------------------------------------------- display helpers


def reason(t: Translator, error: CellError | FileReadError) -> str:
    return t(f"data.err.{error.code}", **error.params)


def error_table(errors: list[CellError], t: Translator) -> pd.DataFrame:
    """Row, column, value, reason (in t's language) for each error."""
    return pd.DataFrame(
        {
            t("data.errors.row"): [e.row for e in errors],
            t("data.errors.column"): [e.column for e in errors],
            t("data.errors.value"): [e.value for e in errors],
            t("data.errors.reason"): [reason(t, e) for e in errors],
        }
    )


def column_reference(kind: str, t: Translator) -> pd.DataFrame:
    """The layout's columns: header, English key, required, allowed values, unit or format."""
    return pd.DataFrame(
        [
            {
                t("data.ref.header"): col.zh,
                t("data.ref.key"): col.key,
                t("data.ref.required"): t("data.ref.yes") if col.required else "",
                t("data.ref.allowed"): _allowed(col, t),
                t("data.ref.unit"): _unit_note(col, t),
            }
            for col in LAYOUTS[kind]
        ]
    )


def _allowed(col: Column, t: Translator) -> str:
    choices = YES_NO if col.kind == "bool" else col.choices
    field = "yes_no" if choices == YES_NO else col.key  # yes/no labels are shared by all fields
    labels = []
    for value in (c for c in choices if c):
        label = t.enum(field, value)
        labels.append(value if label == value else f"{value} ({label})")
    return " / ".join(labels)


# Unit or format notes by column; columns not listed here have none beyond their kind.
_UNIT_NOTES = {
    "original_value": "data.ref.unit_wan",
    "service_amount_cny": "data.ref.unit_cny",
    "voucher_amount_cny": "data.ref.unit_cny",
    "lat": "data.ref.unit_degrees",
    "lon": "data.ref.unit_degrees",
    "region_code": "data.ref.unit_region",
    "client_region_code": "data.ref.unit_client_region",
    "class_code": "data.ref.unit_class",
    "unit": "data.ref.unit_unit",
    "inner_id": "data.ref.unit_inner_id",
}
_KIND_NOTES = {
    "date": "data.ref.unit_date",
    "datetime": "data.ref.unit_datetime",
    "month": "data.ref.unit_month",
    "integer": "data.ref.unit_integer",
}


def _unit_note(col: Column, t: Translator) -> str:
    if col.key in _UNIT_NOTES:
        return t(_UNIT_NOTES[col.key])
    if col.key.endswith("_hours"):
        return t("data.ref.unit_hours")
    if col.kind in _KIND_NOTES:
        return t(_KIND_NOTES[col.kind])
    if col.max_len:
        return t("data.ref.max_len", max=col.max_len)
    return ""


# ---------------------------------------------------------------- command line


def run_import(engine: Engine, args, t: Translator) -> int:
    path = Path(args.file)
    try:
        importer.file_format(path.name)
        data = importer.read_bounded(path)  # a file beyond the upload limit is not loaded
        outcome = import_file(engine, args.kind, path.name, data, actor=CLI_ACTOR, dry_run=args.dry_run)
    except FileReadError as exc:
        print(t("cli.import.unreadable", file=str(path), reason=reason(t, exc)), file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(t("cli.import.unreadable", file=str(path), reason=exc.strerror or str(exc)), file=sys.stderr)
        return EXIT_USAGE
    if not outcome.ok:
        for e in outcome.parsed.errors:
            print(t("cli.import.error_line", row=e.row, column=e.column, value=e.value, reason=reason(t, e)),
                  file=sys.stderr)
        print(t("cli.import.failed", file=path.name, count=len(outcome.parsed.errors)), file=sys.stderr)
        return EXIT_INVALID_DATA
    c = outcome.counts
    key = "cli.import.dry_run" if args.dry_run else "cli.import.done"
    print(t(key, file=path.name, inserted=c.inserted, updated=c.updated, unchanged=c.unchanged))
    return EXIT_OK


def run_export(engine: Engine, args, t: Translator) -> int:
    path = Path(args.out)
    try:
        fmt = importer.file_format(path.name)
    except FileReadError as exc:
        print(t("cli.export.failed", file=str(path), reason=reason(t, exc)), file=sys.stderr)
        return EXIT_USAGE
    frame = export_frame(engine, args.kind)
    try:
        path.write_bytes(exporter.export_bytes(args.kind, frame, fmt))
    except OSError as exc:
        print(t("cli.export.failed", file=str(path), reason=exc.strerror or str(exc)), file=sys.stderr)
        return EXIT_USAGE
    print(t("cli.export.done", count=len(frame), kind=t(f"data.kind.{args.kind}"), file=str(path)))
    return EXIT_OK
