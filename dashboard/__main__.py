"""Command line: `python -m dashboard {demo|import|export|init} ...`.

Every command works on the store selected by `DATABASE_URL` (default: the SQLite file under
data/), creating the schema and reference data first when they are missing. Messages come from
the translation catalogues (`--lang zh|en`, default zh).
"""

from __future__ import annotations

import argparse
import sys

from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator
from dashboard.national import RECORD_KINDS

EXIT_OK, EXIT_INVALID_DATA, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    p.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE, help="message language")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("init", help="create the schema and load reference data (idempotent)")

    demo = sub.add_parser("demo", help="generate the deterministic demo data and load it")
    demo.add_argument("--seed", type=int, default=None, help="random seed (default 2016)")
    demo.add_argument("--scale", choices=("league", "province"), default="league")
    demo.add_argument("--instruments", type=int, default=None, help="number of instruments")
    demo.add_argument(
        "--replace", action="store_true", help="delete all existing data before loading"
    )

    imp = sub.add_parser("import", help="import a national-layout CSV or Excel file")
    imp.add_argument("kind", choices=RECORD_KINDS)
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="validate only, write nothing")

    exp = sub.add_parser("export", help="export records in the national layout")
    exp.add_argument("kind", choices=RECORD_KINDS)
    exp.add_argument("--out", required=True, help="output file; .csv or .xlsx")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    t = Translator(args.lang)
    from models.db import get_engine  # after argument parsing: --help needs no database

    engine = get_engine()
    if args.command == "init":
        print(t("cli.init_done"))
        return EXIT_OK
    if args.command == "demo":
        from dashboard.demo import run_demo

        return run_demo(engine, args, t)
    if args.command == "import":
        from dashboard.transfer import run_import

        return run_import(engine, args, t)
    if args.command == "export":
        from dashboard.transfer import run_export

        return run_export(engine, args, t)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
