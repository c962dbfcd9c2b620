"""Sign-in in the sidebar: who is acting, a username/password form, sign-out, and the optional
OpenID Connect sign-in through Streamlit's own st.login (used when secrets.toml has an [auth]
section and Authlib is installed; the account is found by the email the provider vouches for).

Without sign-in the app is read-only: the visitor is dashboard.auth.ANONYMOUS_ACTOR (viewer).
"""

from __future__ import annotations

import importlib.util

import streamlit as st

from dashboard import formatting as fmt
from dashboard.auth import ANONYMOUS_ACTOR, Actor
from dashboard.i18n import Translator
from dashboard.ui.context import ACTOR_KEY, current_actor, store_engine
from models.services import users

OIDC_NOTICE = "auth_oidc_notice"  # session: the email an OIDC sign-in found no account for


def oidc_configured() -> bool:
    """Whether Streamlit's OpenID Connect sign-in can be offered."""
    if importlib.util.find_spec("authlib") is None:
        return False
    try:
        return bool(st.secrets.get("auth"))
    except Exception:  # no secrets file at all: Streamlit raises rather than returning nothing
        return False


def _adopt_oidc_identity() -> None:
    """After a provider sign-in, act as the account with that email (once per session)."""
    if current_actor().signed_in or not oidc_configured() or not st.user.is_logged_in:
        return
    email = str(st.user.get("email") or "")
    who = users.actor_for_email(store_engine(), email)
    if who is None:
        st.session_state[OIDC_NOTICE] = email
    else:
        st.session_state[ACTOR_KEY] = who


def _sign_out() -> None:
    st.session_state.pop(ACTOR_KEY, None)
    st.session_state.pop(OIDC_NOTICE, None)
    if oidc_configured() and st.user.is_logged_in:
        st.logout()


def _sign_in_form(t: Translator) -> None:
    with st.form("auth_sign_in", border=False):
        username = st.text_input(t("auth.username"), key="auth_username")
        password = st.text_input(t("auth.password"), type="password", key="auth_password")
        if st.form_submit_button(t("auth.sign_in"), type="primary", icon=":material/login:"):
            who = users.authenticate(store_engine(), username, password)
            if who is None:
                st.error(t("auth.err.bad_credentials"), icon=":material/error:")
            else:
                st.session_state[ACTOR_KEY] = who
                st.rerun()


def render_account(t: Translator) -> Actor:
    """The sidebar's account block; returns who is acting."""
    _adopt_oidc_identity()
    who = current_actor()
    if who.signed_in:
        st.caption(t("auth.signed_in_as", name=fmt.md_text(who.name), role=t(f"auth.role.{who.role}")))
        st.button(t("auth.sign_out"), on_click=_sign_out, icon=":material/logout:", key="auth_sign_out")
        return who
    st.caption(t("auth.read_only"))
    with st.expander(t("auth.sign_in"), icon=":material/login:"):
        _sign_in_form(t)
        if oidc_configured():
            st.button(t("auth.sign_in_oidc"), on_click=st.login, key="auth_oidc")
    email = st.session_state.get(OIDC_NOTICE)
    if email:
        st.warning(t("auth.err.no_account_for_email", email=fmt.md_text(email)), icon=":material/person_off:")
    return ANONYMOUS_ACTOR


def denied(t: Translator, permission: str) -> None:
    """What a page shows where a control needs a role the visitor lacks."""
    st.info(t("auth.needs_role", action=t(f"auth.permission.{permission}")), icon=":material/lock:")
