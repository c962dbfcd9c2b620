"""Accounts: create, change role, (de)activate, set password, and sign in.

Passwords are stored as Argon2id hashes from argon2-cffi (salted, with the library's
recommended cost), never in clear; verification goes through the same library. Every change is
an audited write that needs the users.manage permission (dashboard.auth).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Engine
from sqlmodel import select

from dashboard import auth
from models import tables as T
from models.db import session_scope
from models.services.audit import record_write

_HASHER = PasswordHasher()


class UserError(ValueError):
    """An account change that cannot be made; `code` names the message auth.err.<code>."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _public(user: T.User) -> dict:
    return {"username": user.username, "display_name": user.display_name, "email": user.email,
            "role": user.role, "active": user.active}


def _checked(username: str, role: str, password: str | None) -> str:
    code = auth.check_username(username)
    if code:
        raise UserError(code, value=username)
    if role not in auth.ROLES:
        raise UserError("role_invalid", value=role)
    if password is not None:
        code = auth.check_password(password)
        if code:
            raise UserError(code, min=auth.PASSWORD_MIN)
    return username.strip()


def create_user(engine: Engine, username: str, role: str, password: str | None, *, actor,
                display_name: str = "", email: str = "") -> int:
    """A new account; password None for an OpenID-Connect-only account (matched by email)."""
    who = auth.require(actor, auth.USERS_MANAGE)
    name = _checked(username, role, password)
    if password is None and not email.strip():
        raise UserError("email_required")
    with session_scope(engine) as s:
        if s.exec(select(T.User).where(T.User.username == name)).first() is not None:
            raise UserError("username_taken", value=name)
        user = T.User(username=name, role=role, display_name=display_name.strip(), email=email.strip().lower(),
                      password_hash=hash_password(password) if password is not None else "")
        s.add(user)
        s.flush()
        record_write(s, actor=who.audit_name(), action="user.create", entity="appuser", entity_key=name,
                     summary=f"account {name} ({role})", after=_public(user))
        return int(user.id)


def _change(engine: Engine, username: str, actor, action: str, apply) -> None:
    who = auth.require(actor, auth.USERS_MANAGE)
    with session_scope(engine) as s:
        user = s.exec(select(T.User).where(T.User.username == username)).first()
        if user is None:
            raise UserError("unknown_user", value=username)
        before = _public(user)
        summary = apply(user, s)
        s.add(user)
        record_write(s, actor=who.audit_name(), action=action, entity="appuser", entity_key=username,
                     summary=summary, before=before, after=_public(user))


def _active_admins(s, excluding: str) -> int:
    rows = s.exec(select(T.User).where(T.User.role == auth.ADMIN, T.User.active == True,  # noqa: E712
                                       T.User.username != excluding)).all()
    return len(rows)


def set_role(engine: Engine, username: str, role: str, *, actor) -> None:
    if role not in auth.ROLES:
        raise UserError("role_invalid", value=role)

    def apply(user, s):
        if user.role == auth.ADMIN and role != auth.ADMIN and _active_admins(s, user.username) == 0:
            raise UserError("last_admin", value=user.username)
        old, user.role = user.role, role
        return f"role {old} → {role}"

    _change(engine, username, actor, "user.role", apply)


def set_active(engine: Engine, username: str, active: bool, *, actor) -> None:
    def apply(user, s):
        if not active and user.role == auth.ADMIN and _active_admins(s, user.username) == 0:
            raise UserError("last_admin", value=user.username)
        user.active = bool(active)
        return "activated" if active else "deactivated"

    _change(engine, username, actor, "user.active", apply)


def set_password(engine: Engine, username: str, password: str, *, actor) -> None:
    code = auth.check_password(password)
    if code:
        raise UserError(code, min=auth.PASSWORD_MIN)

    def apply(user, s):
        user.password_hash = hash_password(password)
        return "password set"

    _change(engine, username, actor, "user.password", apply)


def authenticate(engine: Engine, username: str, password: str) -> auth.Actor | None:
    """The signed-in Actor for a correct username and password of an active account, else None
    (the same answer for an unknown name and a wrong password)."""
    with session_scope(engine) as s:
        user = s.exec(select(T.User).where(T.User.username == (username or "").strip())).first()
        if user is None or not user.active or not user.password_hash:
            _HASHER.hash("timing-equaliser")  # unknown names cost as much as wrong passwords
            return None
        try:
            _HASHER.verify(user.password_hash, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if _HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
            s.add(user)
        return auth.Actor(name=user.username, role=user.role)


def actor_for_email(engine: Engine, email: str) -> auth.Actor | None:
    """The Actor of the active account with this email (OpenID Connect sign-in), else None."""
    address = (email or "").strip().lower()
    if not address:
        return None
    with session_scope(engine) as s:
        user = s.exec(select(T.User).where(T.User.email == address, T.User.active == True)).first()  # noqa: E712
        return auth.Actor(name=user.username, role=user.role) if user else None


__all__ = ["UserError", "actor_for_email", "authenticate", "create_user", "hash_password", "set_active",
           "set_password", "set_role"]
