"""The Users page: accounts and their roles; add an account, change a role, (de)activate, set a
password. Every change goes through models.services.users (which checks users.manage itself and
writes the audit entry)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth
from dashboard import formatting as fmt
from dashboard.i18n import Translator
from dashboard.ui.context import PageContext, widget_key
from models.services import users as U

FLASH = "users_flash"


def show_flash() -> None:
    text = st.session_state.pop(FLASH, None)
    if text:
        st.success(text, icon=":material/check_circle:")


def error_text(exc: U.UserError, t: Translator) -> str:
    return t(f"auth.err.{exc.code}", **exc.params)


def user_table(accounts: pd.DataFrame, t: Translator) -> pd.DataFrame:
    return pd.DataFrame({
        t("users.col.username"): accounts["username"],
        t("users.col.name"): accounts["display_name"],
        t("users.col.email"): accounts["email"],
        t("users.col.role"): [t(f"auth.role.{r}") for r in accounts["role"]],
        t("users.col.active"): [t("users.yes") if a else t("users.no") for a in accounts["active"]],
        t("users.col.sign_in"): [t("users.sign_in.password") if p else t("users.sign_in.oidc")
                                 for p in accounts["has_password"]],
    })


def roles_table(t: Translator) -> pd.DataFrame:
    """What each role may do (the grants of dashboard.auth)."""
    return pd.DataFrame({
        t("users.col.role"): [t(f"auth.role.{r}") for r in auth.ROLES],
        t("users.col.may"): [t("users.separator").join(t(f"auth.permission.{p}") for p in auth.PERMISSIONS
                                                       if p in auth.GRANTS[r]) or t("users.read_only")
                             for r in auth.ROLES],
    })


def add_form(ctx: PageContext) -> None:
    t = ctx.t
    with st.form("users_add", border=True):
        st.markdown(f"**{t('users.add.title')}**")
        c1, c2 = st.columns(2)
        username = c1.text_input(t("users.col.username"), key="users_new_name")
        role = c2.selectbox(t("users.col.role"), auth.ROLES, format_func=lambda r: t(f"auth.role.{r}"),
                            key=widget_key("users_new_role"))
        display = c1.text_input(t("users.col.name"), key="users_new_display")
        email = c2.text_input(t("users.col.email"), key="users_new_email")
        password = st.text_input(t("users.add.password"), type="password", key="users_new_password",
                                 help=t("users.add.password_help", min=auth.PASSWORD_MIN))
        if st.form_submit_button(t("users.add.submit"), type="primary", icon=":material/person_add:"):
            try:
                U.create_user(ctx.engine, username, role, password or None, actor=ctx.actor,
                              display_name=display, email=email)
            except U.UserError as exc:
                st.error(error_text(exc, t), icon=":material/error:")
                return
            st.session_state[FLASH] = t("users.add.done", name=fmt.md_text(username.strip()))
            for key in ("users_new_name", "users_new_display", "users_new_email", "users_new_password"):
                st.session_state.pop(key, None)
            st.rerun()


def change_form(ctx: PageContext, accounts: pd.DataFrame) -> None:
    t = ctx.t
    names = list(accounts["username"])
    st.markdown(f"**{t('users.change.title')}**")
    # Outside the form, so that choosing an account shows its current role and state at once.
    name = st.selectbox(t("users.col.username"), names, key="users_change_name")
    row = accounts[accounts["username"] == name].iloc[0]
    with st.form("users_change", border=True):
        c1, c2 = st.columns(2)
        role = c1.selectbox(t("users.col.role"), auth.ROLES, index=auth.ROLES.index(row["role"]),
                            format_func=lambda r: t(f"auth.role.{r}"), key=widget_key(f"users_role_{name}"))
        active = c2.checkbox(t("users.col.active"), value=bool(row["active"]), key=f"users_active_{name}")
        password = st.text_input(t("users.change.password"), type="password", key="users_change_password",
                                 help=t("users.change.password_help"))
        if st.form_submit_button(t("users.change.submit"), icon=":material/save:"):
            try:
                if role != row["role"]:
                    U.set_role(ctx.engine, name, role, actor=ctx.actor)
                if active != bool(row["active"]):
                    U.set_active(ctx.engine, name, active, actor=ctx.actor)
                if password:
                    U.set_password(ctx.engine, name, password, actor=ctx.actor)
            except U.UserError as exc:
                st.error(error_text(exc, t), icon=":material/error:")
                return
            st.session_state[FLASH] = t("users.change.done", name=fmt.md_text(name))
            st.session_state.pop("users_change_password", None)
            st.rerun()
