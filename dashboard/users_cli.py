"""`python -m dashboard user {add|list|set-role|set-password|activate|deactivate}`: accounts from
the command line, above all the first administrator (the app itself has no account to start from).

The password is read from standard input with --password-stdin (for scripts), else asked twice
without echo. The command line acts as a trusted local process (dashboard.auth), and each change
is audited with the actor "cli"."""

from __future__ import annotations

import getpass
import sys

from dashboard.i18n import Translator

EXIT_OK, EXIT_ERROR = 0, 2
CLI_ACTOR = "cli"


def _password(args, t: Translator) -> str | None:
    if getattr(args, "no_password", False):
        return None
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(t("users.cli.prompt"))
    if getpass.getpass(t("users.cli.prompt_again")) != first:
        raise ValueError("mismatch")
    return first


def _list(engine, t: Translator) -> int:
    from models import queries

    accounts = queries.users(engine)
    if accounts.empty:
        print(t("users.cli.none"))
    for r in accounts.to_dict("records"):
        print(t("users.cli.line", username=r["username"], role=r["role"], name=r["display_name"] or "-",
                email=r["email"] or "-", state=t("users.yes") if r["active"] else t("users.no")))
    return EXIT_OK


def run_user(engine, args, t: Translator) -> int:
    from models.services import users as U

    if args.user_command == "list":
        return _list(engine, t)
    try:
        if args.user_command == "add":
            U.create_user(engine, args.username, args.role, _password(args, t), actor=CLI_ACTOR,
                          display_name=args.display_name, email=args.email)
        elif args.user_command == "set-role":
            U.set_role(engine, args.username, args.role, actor=CLI_ACTOR)
        elif args.user_command == "set-password":
            U.set_password(engine, args.username, _password(args, t) or "", actor=CLI_ACTOR)
        else:
            U.set_active(engine, args.username, args.user_command == "activate", actor=CLI_ACTOR)
    except U.UserError as exc:
        print(t(f"auth.err.{exc.code}", **exc.params), file=sys.stderr)
        return EXIT_ERROR
    except ValueError:
        print(t("users.cli.mismatch"), file=sys.stderr)
        return EXIT_ERROR
    print(t(f"users.cli.done.{args.user_command}", username=args.username.strip()))
    return EXIT_OK
