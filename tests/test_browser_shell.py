"""The real server in headless Chromium: direct links, language switch, navigation."""

import pytest

from models.db import init_store, make_engine
from tests.browser import browser_page, chromium_available, running_app, wait_until_idle
from tests.factories import small_registry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "store.sqlite"
    url = f"sqlite:///{db}"
    eng = make_engine(url)
    init_store(eng)
    small_registry(eng)
    eng.dispose()
    with running_app(url) as app:
        yield app


def test_direct_link_to_a_page_on_a_fresh_server_runs_inside_the_shell(app_url):
    """The first request of the server is /registry: the page must still get sidebar and shell."""
    with browser_page() as page:
        page.goto(f"{app_url}/registry")
        wait_until_idle(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("统计年度").wait_for()
        assert sidebar.get_by_text("语言").is_visible()
        assert page.url.endswith("/registry")
        # Navigation shows our page titles, not file names of the pages folder.
        assert sidebar.get_by_text("仪器名录").is_visible()
        assert sidebar.get_by_text("streamlit app").count() == 0


def test_language_switch_and_navigation(app_url):
    with browser_page() as page:
        page.goto(app_url)
        wait_until_idle(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("English").click()
        wait_until_idle(page)
        sidebar.get_by_text("Year").wait_for()
        main = page.locator('[data-testid="stMain"]')
        main.get_by_role("heading", name="Overview").wait_for()
        page.wait_for_timeout(2000)  # the choice must stick, not flip back on a later rerun
        assert main.get_by_role("heading", name="Overview").is_visible()
        assert sidebar.get_by_role("radio", name="English").is_checked()
        sidebar.get_by_text("Registry").click()
        wait_until_idle(page)
        assert page.url.endswith("/registry")
        page.locator('[data-testid="stMain"]').get_by_text("高效液相色谱仪").first.wait_for()
