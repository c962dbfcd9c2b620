"""Command line: `python -m dashboard {init|demo|import|export|bench|evaluate|report|dupcheck|find|backup|restore|user} ...`.

Every command works on the store selected by `DATABASE_URL` (default: the SQLite file under
data/), creating the schema and reference data first when they are missing. Help and messages
come from the translation catalogues (`--lang zh|en`, default zh).
"""

from __future__ import annotations

import argparse
import sys

from dashboard.auth import ROLES
from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator
from dashboard.national import RECORD_KINDS

EXIT_OK, EXIT_INVALID_DATA, EXIT_USAGE = 0, 1, 2


def _language(argv: list[str]) -> str:
    """The --lang value, read before the full parser exists (its help texts depend on it)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE)
    known, _ = pre.parse_known_args(argv)
    return known.lang


def _parser(t: Translator) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard", description=t("cli.description"))
    p.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE, help=t("cli.help.lang"))
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("init", help=t("cli.help.init"))

    demo = sub.add_parser("demo", help=t("cli.help.demo"))
    demo.add_argument("--seed", type=int, default=None, help=t("cli.help.seed"))
    demo.add_argument("--scale", choices=("league", "alxa", "province", "national"), default="league",
                      help=t("cli.help.scale"))
    demo.add_argument("--instruments", type=int, default=None, help=t("cli.help.instruments"))
    demo.add_argument("--replace", action="store_true", help=t("cli.help.replace"))

    imp = sub.add_parser("import", help=t("cli.help.import"))
    imp.add_argument("kind", choices=RECORD_KINDS, help=t("cli.help.kind"))
    imp.add_argument("file", help=t("cli.help.file"))
    imp.add_argument("--dry-run", action="store_true", help=t("cli.help.dry_run"))

    exp = sub.add_parser("export", help=t("cli.help.export"))
    exp.add_argument("kind", choices=RECORD_KINDS, help=t("cli.help.kind"))
    exp.add_argument("--out", required=True, help=t("cli.help.out"))

    bench = sub.add_parser("bench", help=t("cli.help.bench"))
    bench.add_argument("--scale", choices=("alxa", "league", "province", "national"), action="append", default=None,
                       help=t("cli.help.bench_scale"))
    bench.add_argument("--instruments", type=int, default=None, help=t("cli.help.instruments"))
    bench.add_argument("--seed", type=int, default=None, help=t("cli.help.seed"))
    bench.add_argument("--store", default=None, metavar="PATH", help=t("cli.help.bench_store"))
    bench.add_argument("--database-url", default=None, help=t("cli.help.database_url"))
    bench.add_argument("--rebuild", action="store_true", help=t("cli.help.bench_rebuild"))
    bench.add_argument("--out", default=None, metavar="FILE.json", help=t("cli.help.bench_out"))
    bench.add_argument("--profile", action="store_true", help=t("cli.help.bench_profile"))
    bench.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.help.format"))

    evaluate = sub.add_parser("evaluate", help=t("pub.cli.help.evaluate"))
    evaluate.add_argument("--year", type=int, required=True, help=t("pub.cli.help.year"))
    evaluate.add_argument("--scheme", default=None, help=t("pub.cli.help.scheme"))
    evaluate.add_argument("--format", choices=("text", "csv", "json"), default="text", help=t("pub.cli.help.format"))

    report = sub.add_parser("report", help=t("report.cli.help.report"))
    report.add_argument("--year", type=int, required=True, help=t("report.cli.help.year"))
    report.add_argument("--out", required=True, help=t("report.cli.help.out"))
    report.add_argument("--xlsx", default=None, help=t("report.cli.help.xlsx"))
    # Also accepted after the command (`report --year Y --lang en`); SUPPRESS keeps a --lang given
    # before the command from being overwritten by this default.
    report.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help=t("report.cli.help.lang"))

    dup = sub.add_parser("dupcheck", help=t("dupcheck.cli.help.dupcheck"))
    dup.add_argument("--name", required=True, help=t("dupcheck.cli.help.name"))
    dup.add_argument("--model", default="", help=t("dupcheck.cli.help.model"))
    dup.add_argument("--class", dest="class_code", metavar="CODE", default="", help=t("dupcheck.cli.help.class"))
    dup.add_argument("--price", required=True, metavar="CNY", help=t("dupcheck.cli.help.price"))
    dup.add_argument("--unit", default=None, help=t("dupcheck.cli.help.unit"))
    dup.add_argument("--maker", default="", help=t("dupcheck.cli.help.maker"))
    dup.add_argument("--specs", default="", help=t("dupcheck.cli.help.specs"))
    dup.add_argument("--format", choices=("text", "json"), default="text", help=t("dupcheck.cli.help.format"))
    dup.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help=t("dupcheck.cli.help.lang"))

    find = sub.add_parser("find", help=t("cli.help.find"))
    find.add_argument("query", help=t("cli.help.find_query"))
    find.add_argument("--region", default=None, help=t("cli.help.find_region"))
    find.add_argument("--near", default="152921", help=t("cli.help.find_near"))
    find.add_argument("--class", dest="class_code", metavar="CODE", default="", help=t("cli.help.find_class"))
    find.add_argument("--max-fee", type=float, default=None, metavar="CNY", help=t("cli.help.find_max_fee"))
    find.add_argument("--min-rating", type=float, default=None, help=t("cli.help.find_min_rating"))
    find.add_argument("--year", type=int, default=None, help=t("cli.help.find_year"))
    find.add_argument("--limit", type=int, default=20, help=t("cli.help.find_limit"))
    find.add_argument("--format", choices=("text", "json"), default="text", help=t("cli.help.format"))

    backup = sub.add_parser("backup", help=t("backup.cli.help.backup"))
    backup.add_argument("--out", required=True, help=t("backup.cli.help.out"))
    restore = sub.add_parser("restore", help=t("backup.cli.help.restore"))
    restore.add_argument("file", help=t("backup.cli.help.file"))
    user = sub.add_parser("user", help=t("users.cli.help.user"))
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help=t("users.cli.help.add"))
    add.add_argument("username", help=t("users.cli.help.username"))
    add.add_argument("--role", required=True, choices=ROLES, help=t("users.cli.help.role"))
    add.add_argument("--display-name", default="", help=t("users.cli.help.display_name"))
    add.add_argument("--email", default="", help=t("users.cli.help.email"))
    add.add_argument("--password-stdin", action="store_true", help=t("users.cli.help.password_stdin"))
    add.add_argument("--no-password", action="store_true", help=t("users.cli.help.no_password"))
    user_sub.add_parser("list", help=t("users.cli.help.list"))
    role = user_sub.add_parser("set-role", help=t("users.cli.help.set_role"))
    role.add_argument("username", help=t("users.cli.help.username"))
    role.add_argument("role", choices=ROLES, help=t("users.cli.help.role"))
    pw = user_sub.add_parser("set-password", help=t("users.cli.help.set_password"))
    pw.add_argument("username", help=t("users.cli.help.username"))
    pw.add_argument("--password-stdin", action="store_true", help=t("users.cli.help.password_stdin"))
    for name in ("activate", "deactivate"):
        one = user_sub.add_parser(name, help=t(f"users.cli.help.{name}"))
        one.add_argument("username", help=t("users.cli.help.username"))
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    t = Translator(_language(argv))
    args = _parser(t).parse_args(argv)
    if args.command == "bench":  # uses its own store (see dashboard/bench.py), never DATABASE_URL
        from dashboard.bench import run_bench

        return run_bench(args, t)
    from models.db import get_engine  # after argument parsing: --help needs no database

    engine = get_engine()
    if args.command == "init":
        from models.migrations import store_revision

        print(t("cli.init_done", revision=store_revision(engine)))
        return EXIT_OK
    if args.command == "demo":
        from dashboard.demo import run_demo

        return run_demo(engine, args, t)
    if args.command == "import":
        from dashboard.transfer import run_import

        return run_import(engine, args, t)
    if args.command == "evaluate":
        from dashboard.evaluation import run_evaluate

        return run_evaluate(engine, args, t)
    if args.command == "dupcheck":
        from dashboard.dupcheck import run_dupcheck

        return run_dupcheck(engine, args, t)
    if args.command == "find":
        from dashboard.finder import run_find

        return run_find(engine, args, t)
    if args.command in ("backup", "restore"):
        from dashboard.backup import run_backup, run_restore

        return (run_backup if args.command == "backup" else run_restore)(engine, args, t)
    if args.command == "user":
        from dashboard.users_cli import run_user

        return run_user(engine, args, t)
    if args.command == "report":
        from dashboard.report_html import run_report

        return run_report(engine, args, t)
    from dashboard.transfer import run_export

    return run_export(engine, args, t)


if __name__ == "__main__":
    sys.exit(main())
