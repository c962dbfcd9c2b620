"""Run the real app with `streamlit run` and drive it in Debian's headless Chromium (Playwright).

Used by the browser tests and by `python -m tests.screenshots`.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Screenshots the browser tests keep (git-ignored); CI may point this elsewhere to collect them.
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR") or ROOT / "tests" / "artifacts")
# Flags for a closed network: no background fetches that would be refused anyway.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


def _playwright_installed() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


# The marks of every browser test module: skipped, saying what to install, without the browser.
BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.skipif(not (chromium_available() and _playwright_installed()),
                       reason="browser tests need Debian's headless Chromium and CJK fonts "
                              "(apt-get install -y chromium fonts-noto-cjk) and Playwright "
                              "(pip install -r requirements-dev.txt)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(db_url: str, port: int | None = None, startup_timeout: float = 120) -> Iterator[str]:
    """Start `streamlit run streamlit_app.py` from the project root on `db_url`; yield its URL."""
    port = port or free_port()
    env = dict(os.environ, DATABASE_URL=db_url)
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{proc.stdout.read().decode(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("streamlit did not become healthy")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def browser_page(width: int = 1400, height: int = 1000):
    """A Playwright page in headless Debian Chromium."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # a rerun on a busy machine takes longer than the default 5 s

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


# Idle: the script is not running (the attribute Streamlit sets for its own browser tests) and no
# status widget or spinner is shown.
_IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute('data-test-script-state');
    return !!app && (state === null || state === 'notRunning')
        && !document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSpinner"]');
}"""


def wait_until_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished running the script, and is still idle half a second later
    (a rerun asked for by a click, or by `st.rerun()`, starts a moment after it)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        page.wait_for_function(_IDLE, timeout=max(1000, (deadline - time.monotonic()) * 1000))
        page.wait_for_timeout(500)
        if page.evaluate(_IDLE):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the app kept running")


def add_account(db_url: str, username: str = "admin", password: str = "browser-admin", role: str = "admin") -> None:
    """An account in the store at `db_url` (schema created when missing), for tests that sign in."""
    from models.db import init_store, make_engine
    from models.services.users import create_user

    eng = make_engine(db_url)
    try:
        init_store(eng)
        create_user(eng, username, role, password, actor="test")
    finally:
        eng.dispose()


def sign_in(page, username: str = "admin", password: str = "browser-admin") -> None:
    """Sign in through the sidebar form of the page's current session (a reload starts a new
    session, which is signed out again)."""
    side = sidebar(page)
    side.get_by_text("登录", exact=True).or_(side.get_by_text("Sign in", exact=True)).first.click()
    # By label, once the expander has opened (a positional locator could hit the year picker).
    side.get_by_label("用户名").or_(side.get_by_label("Username")).first.fill(username)
    side.get_by_label("密码").or_(side.get_by_label("Password")).first.fill(password)
    side.get_by_role("button", name="登录").or_(side.get_by_role("button", name="Sign in")).first.click()
    side.get_by_role("button", name="退出登录").or_(side.get_by_role("button", name="Sign out")).first \
        .wait_for(timeout=90_000)  # Argon2 verification and the rerun take a moment on a busy machine
    wait_until_idle(page)


def main_area(page):
    return page.locator('[data-testid="stMain"]')


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def go_to(page, title: str) -> None:
    """Open a page through the sidebar menu (the session, and so the sign-in, is kept)."""
    sidebar(page).locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    wait_until_idle(page)


def open_tab(page, label: str):
    """Select the tab `label` of the page (again: a rerun may have reset the tab); returns its panel."""
    main_area(page).get_by_role("tab", name=label, exact=True).click()
    return main_area(page).get_by_role("tabpanel")


def choose(page, widget, option: str) -> None:
    """Pick `option` in a selectbox or multiselect element (`widget`, its stSelectbox/stMultiSelect).
    Typing the option opens the list again when a redraw has closed it, and narrows it."""
    box = widget.get_by_role("combobox")
    box.click()
    box.press_sequentially(option)
    page.get_by_role("option").filter(has_text=option).first.click()
    if widget.get_attribute("data-testid") == "stMultiSelect":  # (Escape would clear a selectbox's choice)
        page.keyboard.press("Escape")  # its list stays open, hiding the rest of the page from a reader
    wait_until_idle(page)


def _exactly(text: str) -> re.Pattern:
    return re.compile(f"^{re.escape(text)}$")


def grid_with_column(scope, name: str):
    """The st.dataframe element in `scope` that has a column `name`."""
    return scope.locator('[data-testid="stDataFrame"]').filter(has=scope.page.locator("th", has_text=_exactly(name)))


def grid_rows(frame, column: str | None = None) -> list[list[str]]:
    """Header and rows of an st.dataframe element as text, once its header has `column` (when
    given). The grid draws on a canvas; the accessible table inside the canvas holds the text of
    the rows in view, redrawn a moment after the run that changed them."""
    if column:
        frame.locator("table th").filter(has_text=_exactly(column)).first.wait_for(state="attached")
    frame.locator('table [role="gridcell"]').first.wait_for(state="attached")
    return frame.evaluate("""e => [...e.querySelectorAll('table tr')]
        .map(r => [...r.querySelectorAll('th, td')].map(c => c.textContent))""")


def grid_column(frame, name: str) -> list[str]:
    """The values of column `name` in the rows of `frame` in view."""
    header, *rows = grid_rows(frame, name)
    return [row[header.index(name)] for row in rows]


def eventually(page, read: Callable[[], T], holds: Callable[[T], bool], timeout_ms: int = 30_000) -> T:
    """What `read()` gives once `holds` of it (or at the timeout, for the caller's assertion to
    show): the grids are redrawn a moment after the run that changed them."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        value = read()
        if holds(value) or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(200)


def expect(target):
    """Playwright's auto-waiting assertions (imported late: without Playwright, the browser tests
    are skipped rather than failing to import)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def expect_no_error(page) -> None:
    """No exception and no error box anywhere on the page."""
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)


def save_screenshot(page, name: str, max_height: int = 12_000) -> Path:
    """A screenshot of the whole page kept as a test artifact (ARTIFACTS/<name>.png). The app
    scrolls inside its main area, not the document, so the window is made as tall as that area
    for the shot and set back afterwards."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    tall = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stSidebarContent"]')].map(e => e.scrollHeight))""")
    page.set_viewport_size({"width": size["width"], "height": min(max(tall, size["height"]), max_height)})
    try:
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path
