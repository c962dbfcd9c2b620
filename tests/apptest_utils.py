"""Driving the app with Streamlit's AppTest against a given store."""

from __future__ import annotations

from pathlib import Path

import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from dashboard.auth import Actor
from dashboard.ui.context import ACTOR_KEY

ROOT = Path(__file__).resolve().parent.parent
ENTRY = str(ROOT / "streamlit_app.py")


class _NavigationPagesManager(PagesManager):
    """AppTest resets Streamlit's "uses a pages/ directory" flag before every run, so with our
    `pages/` folder each rerun of a page falls back to the old pages-directory mode, runs the page
    file alone and drops the sidebar. The real server clears the flag for good once the entry
    script calls st.navigation; this manager does the same for every test run."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


def open_app(monkeypatch, db_url: str, page: str | None = None, lang: str | None = None, timeout: float = 60,
             role: str | None = "admin") -> AppTest:
    """Run the app on the store at `db_url`, optionally switch to `page` (e.g. "pages/registry.py")
    and language; returns the AppTest after the run. The session acts as a signed-in person of
    `role` (default the administrator, who may do everything); role None is the read-only visitor."""
    monkeypatch.setattr(app_test_module, "PagesManager", _NavigationPagesManager)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(ENTRY, default_timeout=timeout)
    if lang is not None:
        at.session_state["lang"] = lang
    if role is not None:
        at.session_state[ACTOR_KEY] = Actor(name=f"test-{role}", role=role)
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def wkey(at: AppTest, name: str) -> str:
    """Session key of a translated value widget in the app's current language (see widget_key)."""
    lang = at.session_state["lang"] if "lang" in at.session_state else "zh"
    return f"{name}@{lang}"
