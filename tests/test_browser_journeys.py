"""Journeys through the real server in headless Chromium: direct links, language switch,
navigation, a rejected upload."""

import pytest

from models import queries
from models.db import init_store, make_engine
from tests.browser import add_account, browser_page, chromium_available, running_app, sign_in, wait_until_idle
from tests.factories import small_registry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "store.sqlite"
    url = f"sqlite:///{db}"
    eng = make_engine(url)
    init_store(eng)
    small_registry(eng)
    eng.dispose()
    add_account(url)
    return url


@pytest.fixture(scope="module")
def app_url(store_url):
    with running_app(store_url) as app:
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
        # The registry's count line (plain text; table cells live in a canvas grid whose hidden
        # accessibility copy is not a reliable target).
        main.get_by_role("heading", name="Instrument registry").wait_for()
        main.get_by_text("instruments match").wait_for()


def test_upload_with_an_error_shows_the_error_table_and_writes_nothing(app_url, store_url, tmp_path):
    bad = tmp_path / "units.csv"
    # Second row: unknown unit type; the first row is fine, yet nothing may be imported.
    bad.write_text("单位名称,单位类型,所在地区\n阿拉善盟新单位,企业,152921\n另一家单位,外星机构,152922\n", encoding="utf-8")
    with browser_page() as page:
        page.goto(f"{app_url}/data")
        wait_until_idle(page)
        sign_in(page)  # imports are for administrators
        page.locator('input[type="file"]').set_input_files(str(bad))
        main = page.locator('[data-testid="stMain"]')
        main.get_by_text("未导入任何数据", exact=False).first.wait_for()
        wait_until_idle(page)
        page.screenshot(path=str(tmp_path / "upload-error.png"))
        # Reference, preview and error tables are canvas grids (cells are not DOM text); no import button.
        assert main.locator('[data-testid="stDataFrame"]').count() == 3  # column reference, preview, errors
        assert main.get_by_text("文件有 1 处错误", exact=False).first.is_visible()
        assert main.get_by_role("button", name="导入").count() == 0
    eng = make_engine(store_url)
    assert sorted(queries.units(eng)["name"]) == ["阿拉善盟测试研究院", "额济纳旗气象站"]
    eng.dispose()


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """The app on a small demo store (enough units to rank)."""
    from models.services.demo import load_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('browser-demo') / 'demo.sqlite'}"
    eng = make_engine(url)
    init_store(eng)
    load_demo(eng, instruments=80)
    eng.dispose()
    add_account(url)
    with running_app(url) as app:
        yield app, url


def test_evaluation_robustness_chart_and_publication(demo_app):
    app, url = demo_app
    with browser_page() as page:
        page.goto(f"{app}/evaluation")
        wait_until_idle(page)
        sign_in(page)  # publishing is for administrators
        page.get_by_role("tab", name="稳健性检验").click()
        page.get_by_role("button", name="运行模拟").click()
        wait_until_idle(page)
        # The rank-band chart is drawn (Vega renders into a canvas or SVG inside the chart element).
        page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
        page.get_by_role("tab", name="发布与公示").click()
        page.get_by_text("确认发布", exact=False).first.click()
        wait_until_idle(page)
        page.get_by_role("button", name="发布评价结果").click()
        wait_until_idle(page)
        page.get_by_text("已发布（第", exact=False).first.wait_for()  # the success message
    eng = make_engine(url)
    from models.evaluations import published_evaluations

    pubs = published_evaluations(eng, 2025)
    eng.dispose()
    assert len(pubs) == 1 and len(pubs.iloc[0]["fingerprint"]) == 64
