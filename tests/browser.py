"""Run the real app with `streamlit run` and drive it in Debian's headless Chromium (Playwright).

Used by the browser tests and by `python -m tests.screenshots`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a closed network: no background fetches that would be refused anyway.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


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
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def wait_until_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished running the script: no 'running' status widget and no
    spinner, still so half a second later (the status widget appears only after a short delay)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    idle = "() => !document.querySelector('[data-testid=\"stStatusWidget\"], [data-testid=\"stSpinner\"]')"
    for _ in range(3):
        page.wait_for_function(idle, timeout=timeout_ms)
        page.wait_for_timeout(500)
        if page.evaluate(idle):
            return


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
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("登录", exact=True).or_(sidebar.get_by_text("Sign in", exact=True)).first.click()
    # By label, once the expander has opened (a positional locator could hit the year picker).
    sidebar.get_by_label("用户名").or_(sidebar.get_by_label("Username")).first.fill(username)
    sidebar.get_by_label("密码").or_(sidebar.get_by_label("Password")).first.fill(password)
    sidebar.get_by_role("button", name="登录").or_(sidebar.get_by_role("button", name="Sign in")).first.click()
    sidebar.get_by_role("button", name="退出登录").or_(sidebar.get_by_role("button", name="Sign out")).first \
        .wait_for(timeout=90_000)  # Argon2 verification and the rerun take a moment on a busy machine
    wait_until_idle(page)
