"""Users (用户与角色): accounts, roles and what each role may do; administrators only."""

from __future__ import annotations

import streamlit as st

from dashboard import auth
from dashboard.ui import users_view as view
from dashboard.ui.auth_view import denied
from dashboard.ui.context import page_context, read

ctx = page_context()
t = ctx.t
st.title(t("users.title"))
if not ctx.actor.can(auth.USERS_MANAGE):
    denied(t, auth.USERS_MANAGE)
    st.stop()
st.caption(t("users.caption"))
view.show_flash()
accounts = read(ctx, "users")
st.dataframe(view.user_table(accounts, t), hide_index=True, width="stretch")
with st.expander(t("users.roles"), icon=":material/badge:"):
    st.table(view.roles_table(t), hide_index=True)
view.add_form(ctx)
if not accounts.empty:
    view.change_form(ctx, accounts)
