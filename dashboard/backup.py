"""`python -m dashboard backup --out FILE` and `python -m dashboard restore FILE`.

The file format and every check live in `models/backup.py`; this module only turns results and
refusals into catalogue messages (`backup.*`). Exit codes: 0 done, 2 refused (damaged, foreign or
newer file, a store that already holds data, a file that cannot be written) — nothing is written
then.
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_REFUSED = 0, 2
CLI_ACTOR = "cli"


def _refusal(t, exc, file: str) -> str:
    params = dict(exc.params)
    if "kind" in params:
        params["kind"] = t(f"backup.kind.{params['kind']}")
    return t(exc.key, file=file, **params)


def _table_lines(t, counts: dict[str, int]) -> list[str]:
    return [t("backup.cli.table_line", table=name, rows=rows) for name, rows in counts.items()]


def run_backup(engine, args, t) -> int:
    """Write the whole store to args.out; print the tables and their row counts."""
    from models.backup import VERSION, write_backup

    try:
        result = write_backup(engine, args.out)
    except OSError as exc:
        print(t("backup.cli.write_failed", file=str(args.out), reason=exc.strerror or str(exc)), file=sys.stderr)
        return EXIT_REFUSED
    manifest = result.manifest
    counts = manifest.row_counts
    print(t("backup.cli.written", file=str(result.path), tables=len(counts), rows=sum(counts.values()),
            version=VERSION, revision=manifest.schema_revision or t("backup.cli.no_revision")))
    for line in _table_lines(t, counts):
        print(line)
    return EXIT_OK


def run_restore(engine, args, t) -> int:
    """Restore args.file into the (empty) store; refusals go to stderr with exit code 2."""
    from models.backup import BackupError, restore_backup

    try:
        result = restore_backup(engine, args.file, actor=CLI_ACTOR)
    except BackupError as exc:
        print(_refusal(t, exc, str(args.file)), file=sys.stderr)
        return EXIT_REFUSED
    manifest = result.manifest
    counts = result.row_counts
    print(t("backup.cli.restored", file=str(args.file), created_at=manifest.created_at, tables=len(counts),
            rows=sum(counts.values()), revision=manifest.schema_revision or t("backup.cli.no_revision")))
    for line in _table_lines(t, counts):
        print(line)
    return EXIT_OK
