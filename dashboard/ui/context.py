"""What every page needs: the language, the chosen year, the store, and cached reads.

The entry script (`streamlit_app.py`) renders the sidebar and stores the choices in session
state; pages call `page_context()` and never touch session keys or the engine directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.runtime.pages_manager import PagesManager

from dashboard.auth import ANONYMOUS_ACTOR, Actor
from dashboard.i18n import DEFAULT_LANGUAGE, Translator
from models import db, queries

LANG_KEY = "lang"
YEAR_KEY = "year"
ACTOR_KEY = "auth_actor"  # the signed-in dashboard.auth.Actor (absent: read-only visitor)


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return db.get_engine(url)


def store_engine() -> Engine:
    """The engine of the configured store (schema and reference data ensured)."""
    return _engine(db.database_url())


@dataclass(frozen=True)
class PageContext:
    lang: str
    t: Translator
    year: int | None
    engine: Engine
    revision: int
    actor: Actor = ANONYMOUS_ACTOR  # who acts: passed to every write service, which checks the role


def current_actor() -> Actor:
    return st.session_state.get(ACTOR_KEY, ANONYMOUS_ACTOR)


def current_lang() -> str:
    return st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)


def _leave_pages_folder_mode() -> None:
    """Make a page opened by direct link on a fresh server run inside the app shell.

    Streamlit starts in its old "pages/ folder" mode whenever a `pages/` directory sits beside the
    entry script, and leaves it only once the entry script has called st.navigation. A session
    whose first request is e.g. /registry would therefore run the page file alone, without the
    sidebar, language or year. Switching the mode off and rerunning sends the same page through
    the entry script; the page keeps its URL because both modes name pages by their URL path.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def widget_key(name: str) -> str:
    """Session key of a value widget (selectbox, radio, slider, ...) whose label or option texts
    are translated.

    Streamlit's front end loses the shown selection of a widget whose labels change under the
    same key, so each language gets its own key and `carry_widget_state` copies the values across
    when the language changes: the user's choices survive a switch and are displayed correctly.
    Not for buttons or file uploaders, whose values cannot be set from session state.
    """
    return f"{name}@{current_lang()}"


def carry_widget_state() -> None:
    """Language-radio callback: copy every `widget_key` value to the newly chosen language."""
    new = current_lang()
    for key in list(st.session_state):
        if not isinstance(key, str) or "@" not in key:
            continue
        name, lang = key.rsplit("@", 1)
        if lang != new:
            st.session_state[f"{name}@{new}"] = st.session_state[key]


def page_context() -> PageContext:
    _leave_pages_folder_mode()
    engine = store_engine()
    lang = current_lang()
    return PageContext(
        lang=lang,
        t=Translator(lang),
        year=st.session_state.get(YEAR_KEY),
        engine=engine,
        revision=db.data_revision(engine),
        actor=current_actor(),
    )


# Cached reads. The (url, revision) pair is the cache key: any write bumps the revision, so a
# page never shows stale data, and unchanged data are read from the store only once.
@st.cache_data(show_spinner=False, max_entries=32)
def _cached(name: str, url: str, revision: int, *args):
    return getattr(queries, name)(db.get_engine(url), *args)


def read(ctx: PageContext, query_name: str, *args):
    """Run `models.queries.<query_name>(engine, *args)` through the revision-keyed cache."""
    return _cached(query_name, ctx.engine.url.render_as_string(hide_password=False), ctx.revision, *args)
