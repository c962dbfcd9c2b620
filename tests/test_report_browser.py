"""The annual report in headless Chromium with no network: it opens from a file, draws every chart,
asks for nothing and logs no error; it prints on A4. And the Census & report page in the real app
shows the same report in its preview frame."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from dashboard import report as R
from dashboard import report_html as H
from dashboard.i18n import Translator
from tests.browser import BROWSER_TESTS, browser_page, running_app, wait_until_idle
from tests.factories import filled_store
from tests.test_report import YEAR, inputs

pytestmark = BROWSER_TESTS

CHARTS = ["map", "class", "unit_type", "value_band", "funding", "country", "share_mode", "loads",
          "utilisation_by_type", "external_by_type"]
META = R.ReportMeta(generated_at=datetime(2026, 1, 5, 8, 30, tzinfo=timezone.utc), revision=3, demo_seed="2016")


@pytest.fixture(scope="module", params=["zh", "en"])
def report_file(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / f"report-{request.param}.html"
    path.write_text(H.render_html(R.build_report(inputs(), YEAR), META, Translator(request.param)), encoding="utf-8")
    return path


def _offline(page) -> tuple[list[str], list[str]]:
    """Refuse every request that is not for a local file; returns (refused URLs, console errors)."""
    refused, errors = [], []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return refused, errors


def test_report_opens_offline_with_every_chart_drawn(report_file):
    with browser_page() as page:
        refused, errors = _offline(page)
        page.goto(report_file.as_uri())
        page.wait_for_load_state("load")
        assert refused == [] and errors == []
        drawn = page.evaluate("""() => [...document.querySelectorAll('svg[data-chart]')].map(svg => {
            const box = svg.getBoundingClientRect();
            const marks = svg.querySelectorAll('.role-mark path, .role-mark text, .role-mark rect').length;
            return [svg.dataset.chart, Math.round(box.width), Math.round(box.height), marks];
        })""")
        assert [d[0] for d in drawn] == CHARTS
        for name, width, height, marks in drawn:
            assert width > 200 and height > 40 and marks > 0, (name, width, height, marks)
        # One bar per row of the class breakdown (01, 02, 09), and three banners on the map.
        assert page.locator('svg[data-chart="class"] .mark-rect path').count() == 3
        assert page.locator('svg[data-chart="map"] .mark-shape path').count() == 3
        # Chinese (or English) text is laid out with a real font: the title has a width.
        assert page.locator("h1").bounding_box()["width"] > 100


def test_report_prints_on_a4_with_a_page_per_section(report_file, tmp_path):
    with browser_page() as page:
        refused, errors = _offline(page)
        page.goto(report_file.as_uri())
        page.emulate_media(media="print")
        breaks = page.evaluate("() => [...document.querySelectorAll('section')].map(s => getComputedStyle(s).breakBefore)")
        assert breaks == ["page"] * 6
        assert page.evaluate("() => getComputedStyle(document.querySelector('thead')).display") == "table-header-group"
        pdf = page.pdf(format="A4", print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        assert pdf.startswith(b"%PDF") and pages >= 7  # a cover, then at least a page per section
        assert refused == [] and errors == []


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    db = tmp_path_factory.mktemp("report-app") / "store.sqlite"
    url = f"sqlite:///{db}"
    filled_store(url)
    with running_app(url) as app:
        yield app


def test_census_and_report_page_previews_the_report(app_url):
    with browser_page() as page:
        page.goto(f"{app_url}/report")
        wait_until_idle(page)
        main = page.locator('[data-testid="stMain"]')
        main.get_by_role("heading", name="普查与年报").wait_for()
        main.get_by_role("button", name="下载年报（HTML，可离线打开、打印）").first.wait_for()
        frame = page.frame_locator('[data-testid="stMain"] iframe').first
        frame.locator("h1").get_by_text("2025 年度统计年报").wait_for()
        assert frame.locator("svg[data-chart]").count() == len(CHARTS)
        assert frame.locator('svg[data-chart="loads"] .mark-rect path').count() == 3
