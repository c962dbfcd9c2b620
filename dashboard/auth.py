"""Roles, permissions and the acting person of a write.

Four roles (seed point 十二 asks for a leadership group, evaluators, a review group and the science
bureau that runs the platform):
- viewer     leadership and the public: every read-only view;
- evaluator  indicator schemes and weights, scenarios;
- reviewer   purchase requests: entry, duplicate check, review decisions;
- admin      the science bureau: imports, demo data, publication, users, the audit trail — and
             everything the other roles may do.

Every write service calls `require(actor, permission)` itself, so a page that forgot to hide a
control still cannot write. `actor` is an `Actor` (a signed-in person, or the read-only anonymous
visitor) or a plain string, which names a trusted local process — the command line, the first-start
demo loader, tests — and acts with the administrator's rights: whoever runs the command line has
the database anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

VIEWER, EVALUATOR, REVIEWER, ADMIN = "viewer", "evaluator", "reviewer", "admin"
ROLES = (VIEWER, EVALUATOR, REVIEWER, ADMIN)

# Permission ids (auth.permission.<id> in the catalogues).
SCHEME_SAVE = "scheme.save"
SCENARIO_SAVE = "scenario.save"
PUBLISH = "evaluation.publish"
DATA_IMPORT = "data.import"
DEMO_LOAD = "demo.load"
PURCHASE_ENTER = "purchase.enter"  # submit and import requests
PURCHASE_CHECK = "purchase.check"
PURCHASE_DECIDE = "purchase.decide"
USERS_MANAGE = "users.manage"
AUDIT_READ = "audit.read"
PERMISSIONS = (SCHEME_SAVE, SCENARIO_SAVE, PUBLISH, DATA_IMPORT, DEMO_LOAD, PURCHASE_ENTER, PURCHASE_CHECK,
               PURCHASE_DECIDE, USERS_MANAGE, AUDIT_READ)

GRANTS: dict[str, frozenset[str]] = {
    VIEWER: frozenset(),
    EVALUATOR: frozenset({SCHEME_SAVE, SCENARIO_SAVE}),
    REVIEWER: frozenset({PURCHASE_ENTER, PURCHASE_CHECK, PURCHASE_DECIDE}),
    ADMIN: frozenset(PERMISSIONS),
}

USER, ANONYMOUS, SYSTEM = "user", "anonymous", "system"


@dataclass(frozen=True)
class Actor:
    """Who acts: name (the username, or the process name for system actors), role, kind
    (user / anonymous / system)."""

    name: str
    role: str
    kind: str = USER

    def can(self, permission: str) -> bool:
        return permission in GRANTS.get(self.role, frozenset())

    @property
    def signed_in(self) -> bool:
        return self.kind == USER

    def audit_name(self) -> str:
        """The name written into the audit trail."""
        return self.name or self.kind


ANONYMOUS_ACTOR = Actor(name="", role=VIEWER, kind=ANONYMOUS)


def system_actor(name: str) -> Actor:
    return Actor(name=name or SYSTEM, role=ADMIN, kind=SYSTEM)


def actor_of(actor: "Actor | str | None") -> Actor:
    """An Actor from what a service received (a string is a trusted local process)."""
    if isinstance(actor, Actor):
        return actor
    return system_actor(actor or "")


class PermissionDenied(PermissionError):
    """The actor's role does not grant the permission; nothing was written."""

    def __init__(self, actor: Actor, permission: str):
        super().__init__(f"{actor.audit_name()} ({actor.role}) may not {permission}")
        self.actor, self.permission = actor, permission


def require(actor: "Actor | str | None", permission: str) -> Actor:
    """The acting Actor, or PermissionDenied when its role lacks `permission`."""
    who = actor_of(actor)
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if not who.can(permission):
        raise PermissionDenied(who, permission)
    return who


USERNAME_MAX = 64
PASSWORD_MIN = 8


def check_username(name: str) -> str | None:
    """None when usable, else the catalogue error code (auth.err.<code>)."""
    s = (name or "").strip()
    if not s:
        return "username_required"
    if len(s) > USERNAME_MAX or any(c.isspace() for c in s):
        return "username_invalid"
    return None


def check_password(password: str) -> str | None:
    if len(password or "") < PASSWORD_MIN:
        return "password_short"
    return None


__all__ = ["ADMIN", "ANONYMOUS_ACTOR", "Actor", "EVALUATOR", "GRANTS", "PERMISSIONS", "PermissionDenied", "REVIEWER",
           "ROLES", "VIEWER", "actor_of", "check_password", "check_username", "require", "system_actor"]
