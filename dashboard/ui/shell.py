"""The app shell: first-start demo loading, the sidebar (language, year, demo notice), navigation."""

from __future__ import annotations

import streamlit as st

from dashboard import auth
from dashboard.i18n import LANGUAGES, Translator
from dashboard.ui import auth_view
from dashboard.ui.context import (LANG_KEY, YEAR_KEY, carry_widget_state, current_actor, current_lang, page_context,
                                  read, store_engine)
from models import queries
from models import tables as T

PAGES = (
    # (file, catalogue key of the title, icon)
    ("pages/overview.py", "nav.overview", ":material/dashboard:"),
    ("pages/finder.py", "nav.finder", ":material/search:"),
    ("pages/registry.py", "nav.registry", ":material/inventory_2:"),
    ("pages/utilisation.py", "nav.utilisation", ":material/speed:"),
    ("pages/layout.py", "nav.layout", ":material/grid_view:"),
    ("pages/evaluation.py", "nav.evaluation", ":material/leaderboard:"),
    ("pages/incentives.py", "nav.incentives", ":material/payments:"),
    ("pages/purchases.py", "nav.purchases", ":material/rule:"),
    ("pages/quality.py", "nav.quality", ":material/fact_check:"),
    ("pages/report.py", "nav.report", ":material/summarize:"),
    ("pages/data.py", "nav.data", ":material/upload_file:"),
    ("pages/audit.py", "nav.audit", ":material/history:"),
    ("pages/users.py", "nav.users", ":material/manage_accounts:"),
)
# Pages only some roles may open (hidden from the menu, and refused by the page itself).
PAGE_PERMISSIONS = {"pages/audit.py": auth.AUDIT_READ, "pages/users.py": auth.USERS_MANAGE}


def ensure_demo_data() -> None:
    """Load the demonstration data on first start, when the store holds no unit at all."""
    engine = store_engine()
    if queries.count_rows(engine, T.Unit) > 0:
        return
    from models.services.demo import load_demo  # imported late: only the first start needs it

    t = Translator(current_lang())
    with st.spinner(t("shell.loading_demo")):
        load_demo(engine)


def render_sidebar() -> Translator:
    """Language, year and the demo notice; returns the translator for the chosen language."""
    ctx = page_context()  # its revision keys the cached reads below: no queries on a plain rerun
    st.session_state.setdefault(LANG_KEY, LANGUAGES[0])
    t = Translator(st.session_state[LANG_KEY])
    with st.sidebar:
        # The label and option names are the same in every language, so switching language does
        # not change the widget (a changed label would make Streamlit treat it as a new widget).
        st.radio(
            t("shell.language"), LANGUAGES, key=LANG_KEY, format_func=lambda code: t(f"lang.{code}"),
            horizontal=True, on_change=carry_widget_state,
        )
        years = read(ctx, "usage_years")
        if years:
            if st.session_state.get(YEAR_KEY) not in years:
                st.session_state[YEAR_KEY] = years[-1]
            st.selectbox(t("shell.year"), years[::-1], key=YEAR_KEY)
        else:
            st.session_state[YEAR_KEY] = None
            st.caption(t("shell.no_usage_years"))
        seed = read(ctx, "store_meta", "demo_seed")
        if seed is not None:
            st.warning(t("shell.demo_notice", seed=seed), icon=":material/science:")
        st.divider()
        auth_view.render_account(t)
    return t


def demo_banner(t: Translator) -> None:
    """A demonstration-data label above every page (the entry script renders it before the page)."""
    if read(page_context(), "store_meta", "demo_seed") is not None:
        st.caption(t("shell.demo_caption"))


def visible_pages(who: auth.Actor) -> tuple[tuple[str, str, str], ...]:
    """The PAGES entries `who` may open."""
    return tuple(p for p in PAGES if p[0] not in PAGE_PERMISSIONS or who.can(PAGE_PERMISSIONS[p[0]]))


def navigation(t: Translator):
    """The menu of the pages the acting person may open."""
    # expanded: more than twelve pages would otherwise be folded behind "View N more"
    return st.navigation([st.Page(path, title=t(key), icon=icon) for path, key, icon in visible_pages(current_actor())],
                         expanded=True)
