"""Journeys through the real server (`streamlit run`) in headless Chromium, one demo store and one
server for the module: a direct link, a leader's look around (language, banner filter), an
evaluator moving the ranking, the bureau publishing and downloading, a reviewer's decision, an
administrator's import that fails and then succeeds, a leader comparing scenarios, and every page
opened once without an error. Each journey keeps a screenshot (tests/browser.py: ARTIFACTS)."""

import re
from pathlib import Path

import pytest

from dashboard import registry as R
from dashboard.dupcheck import ADJUST
from dashboard.i18n import Translator
from dashboard.purchases import verdict_id
from dashboard.scheme import GROUP_IDS
from dashboard.ui.shell import PAGES
from models import queries
from models.db import init_store, make_engine
from tests.browser import (BROWSER_TESTS, add_account, browser_page, choose, eventually, expect, expect_no_error,
                           go_to, grid_column, grid_rows, grid_with_column, main_area, open_tab, running_app,
                           save_screenshot, sidebar, sign_in, wait_until_idle)

pytestmark = BROWSER_TESTS

ZH, EN = Translator("zh"), Translator("en")
# username: (password, role). The leader saves scenarios, which needs an evaluator's rights.
ACCOUNTS = {
    "admin": ("browser-admin", "admin"),
    "qian": ("evaluator-password", "evaluator"),
    "zhao": ("review-password", "reviewer"),
    "leader": ("leader-password", "evaluator"),
}
RIGHT_BANNER = "152922"  # 阿拉善右旗: a banner without zones


def shown(text: str) -> str:
    """A catalogue text as the page shows it (Markdown bold marks dropped)."""
    return text.replace("**", "")


def before_placeholder(template: str) -> str:
    """The fixed start of a catalogue text, up to its first placeholder."""
    return template.split("{", 1)[0]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A small demo store (35 units, 80 instruments: enough to rank) with one account per role."""
    from models.services.demo import load_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('journeys') / 'demo.sqlite'}"
    eng = make_engine(url)
    init_store(eng)
    load_demo(eng, instruments=80)
    eng.dispose()
    for name, (password, role) in ACCOUNTS.items():
        add_account(url, name, password, role)
    return url


@pytest.fixture(scope="module")
def app(store):
    with running_app(store) as url:
        yield url


def read(url: str, query, *args):
    eng = make_engine(url)
    try:
        return query(eng, *args)
    finally:
        eng.dispose()


def open_page(page, app: str, path: str = "", user: str | None = None) -> None:
    """Open `path` of the app, signed in as `user` when given."""
    page.goto(f"{app}/{path}")
    wait_until_idle(page)
    if user is not None:
        sign_in(page, user, ACCOUNTS[user][0])


def heading(page, text: str) -> None:
    expect(main_area(page).get_by_role("heading", name=text, exact=True).first).to_be_visible()


# Must stay the module's first test: its request is the first the server gets.
def test_direct_link_to_a_page_on_a_fresh_server_runs_inside_the_shell(app):
    """The first request of the server is /registry: the page must still get sidebar and shell."""
    with browser_page() as page:
        page.goto(f"{app}/registry")
        wait_until_idle(page)
        side = sidebar(page)
        expect(side.get_by_text(ZH("shell.year"))).to_be_visible()
        expect(side.get_by_text(ZH("shell.language"))).to_be_visible()
        assert page.url.endswith("/registry")
        # Navigation shows our page titles, not file names of the pages folder.
        expect(side.get_by_text(ZH("nav.registry"))).to_be_visible()
        expect(side.get_by_text("streamlit app")).to_have_count(0)


def test_leader_looks_at_the_overview_in_english_and_back_and_filters_a_banner(app, store):
    instruments, regions = read(store, queries.instruments), read(store, queries.regions)
    banner = regions.set_index("code").loc[RIGHT_BANNER]
    matching = len(R.filter_instruments(instruments, R.RegistryFilter(regions=(RIGHT_BANNER,)), regions))
    assert 0 < matching < len(instruments)
    with browser_page() as page:
        open_page(page, app)
        main = main_area(page)
        heading(page, ZH("overview.title"))
        expect(main.locator('[data-testid="stMetric"]').first).to_be_visible()
        expect(main.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()  # the banner map

        sidebar(page).get_by_text(EN("lang.en"), exact=True).click()
        wait_until_idle(page)
        heading(page, EN("overview.title"))
        expect(sidebar(page).get_by_text(EN("shell.year"), exact=True)).to_be_visible()
        go_to(page, EN("nav.registry"))  # a rerun in English: the choice sticks
        heading(page, EN("registry.title"))
        assert page.url.endswith("/registry")
        region = main.locator('[data-testid="stMultiSelect"]').filter(has_text=EN("registry.filter.region"))
        choose(page, region, banner["name_en"])
        expect(main).to_contain_text(shown(EN("registry.count", shown=matching, total=len(instruments))))
        table = main.locator('[data-testid="stDataFrame"]').first
        assert regions_listed(page, table, EN) == {banner["name_en"]}

        sidebar(page).get_by_text(ZH("lang.zh"), exact=True).click()
        wait_until_idle(page)
        heading(page, ZH("registry.title"))  # back in Chinese, the filter kept
        region = main.locator('[data-testid="stMultiSelect"]').filter(has_text=ZH("registry.filter.region"))
        expect(region).to_contain_text(banner["name_zh"])
        expect(main).to_contain_text(shown(ZH("registry.count", shown=matching, total=len(instruments))))
        assert regions_listed(page, table, ZH) == {banner["name_zh"]}
        expect_no_error(page)
        save_screenshot(page, "journey-leader-banner-filter")


def regions_listed(page, table, t: Translator) -> set[str]:
    """The places in the registry table, once it shows a single one."""
    return eventually(page, lambda: set(grid_column(table, t("registry.col.region"))), lambda seen: len(seen) == 1)


def ranking(page) -> list[tuple[str, str]]:
    """(rank, unit) of the rows of the ranking table in view, on its tab."""
    panel = open_tab(page, ZH("evaluation.tab.ranking"))
    header, *rows = grid_rows(panel.locator('[data-testid="stDataFrame"]').first)
    rank, unit = header.index(ZH("evaluation.col.rank")), header.index(ZH("evaluation.col.unit"))
    return [(row[rank], row[unit]) for row in rows]


def moves(page) -> list[str]:
    panel = open_tab(page, ZH("evaluation.tab.ranking"))
    return grid_column(panel.locator('[data-testid="stDataFrame"]').first, ZH("evaluation.col.move"))


def test_evaluator_changes_a_weight_and_an_ahp_judgement_and_the_ranking_moves(app):
    with browser_page() as page:
        open_page(page, app, "evaluation", user="qian")
        start = ranking(page)
        assert len(start) > 10 and not any(m.startswith(("↑", "↓")) for m in moves(page))

        panel = open_tab(page, ZH("evaluation.tab.weights"))
        share = panel.get_by_role("spinbutton", name=ZH(f"eval.group.{GROUP_IDS[-1]}.name"), exact=True)
        share.fill("0")  # leave the sharing group out
        share.press("Enter")
        wait_until_idle(page)
        without_sharing = eventually(page, lambda: ranking(page), lambda now: now != start)
        assert without_sharing != start
        assert any(m.startswith(("↑", "↓")) for m in moves(page))  # compared with the scheme in force

        panel = open_tab(page, ZH("evaluation.tab.weights"))
        panel.get_by_text(ZH("evaluation.weight_method.ahp"), exact=True).click()
        wait_until_idle(page)
        expect(panel).to_contain_text(before_placeholder(ZH("evaluation.ahp.consistent")))
        ahp_start = eventually(page, lambda: ranking(page), lambda now: now != without_sharing)  # sharing is back
        assert ahp_start != without_sharing
        panel = open_tab(page, ZH("evaluation.tab.weights"))
        first_pair = panel.get_by_role("slider").first  # organisation against use
        judged = first_pair.get_attribute("aria-valuetext")
        first_pair.focus()
        first_pair.press("ArrowRight")  # one step towards "organisation matters more"
        wait_until_idle(page)
        expect(first_pair).not_to_have_attribute("aria-valuetext", judged)
        expect(panel).to_contain_text(before_placeholder(ZH("evaluation.ahp.consistent")))
        save_screenshot(page, "journey-evaluator-ahp")
        assert eventually(page, lambda: ranking(page), lambda now: now != ahp_start) != ahp_start
        expect_no_error(page)
        save_screenshot(page, "journey-evaluator-ranking")


def test_bureau_publishes_the_evaluation_and_downloads_the_notice_and_the_report(app, store):
    from models.evaluations import published_evaluations

    year = read(store, queries.usage_years)[-1]  # the sidebar's default year
    with browser_page() as page:
        open_page(page, app, "evaluation", user="admin")
        top_unit = ranking(page)[0][1]
        panel = open_tab(page, ZH("evaluation.tab.robustness"))
        panel.get_by_role("button", name=ZH("evaluation.mc.run")).click()
        wait_until_idle(page)
        # The rank-band chart is drawn (Vega renders into a canvas or SVG inside the chart element).
        expect(panel.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()

        panel = open_tab(page, ZH("evaluation.tab.publication"))
        panel.get_by_text(ZH("evaluation.publish.confirm", year=year)).click()
        wait_until_idle(page)
        panel.get_by_role("button", name=ZH("evaluation.publish.button")).click()
        wait_until_idle(page)
        done = panel.get_by_text(before_placeholder(ZH("evaluation.publish.done"))).first
        expect(done).to_be_visible()
        fingerprint = re.search(r"[0-9a-f]{64}", done.inner_text()).group(0)

        panel.get_by_text(ZH("evaluation.notice.published"), exact=True).click()
        wait_until_idle(page)
        with page.expect_download() as notice:
            panel.get_by_role("button", name=ZH("evaluation.notice.html")).click()
        html = Path(notice.value.path()).read_text(encoding="utf-8")
        assert notice.value.suggested_filename == f"notice_{year}_published.html"
        assert ZH("pub.notice.title") in html and fingerprint in html and top_unit in html
        save_screenshot(page, "journey-bureau-published")

        go_to(page, ZH("nav.report"))
        with page.expect_download() as report:
            main_area(page).get_by_role("button", name=ZH("report.page.download_html")).click()
        html = Path(report.value.path()).read_text(encoding="utf-8")
        assert f"<title>{ZH('report.html.title', year=year)}</title>" in html
        expect_no_error(page)
        save_screenshot(page, "journey-bureau-report")
    pubs = read(store, published_evaluations, year)
    assert list(pubs["fingerprint"]) == [fingerprint]


def test_reviewer_records_a_decision_on_a_purchase_request(app, store):
    requests = read(store, queries.purchase_requests)
    request = requests[requests["status"] == "checked"].iloc[0]  # checked, not yet decided
    reasons = "同类在册仪器负荷饱和，同意按调整后的配置购置。"
    with browser_page() as page:
        open_page(page, app, "purchases", user="zhao")
        panel = open_tab(page, ZH("purchases.tab.review"))
        picker = panel.locator('[data-testid="stSelectbox"]').filter(has_text=ZH("purchases.pick"))
        choose(page, picker, request["request_no"])
        heading(page, ZH("purchases.request_heading", no=request["request_no"], name=request["instrument_name"]))
        verdict = panel.locator('[data-testid="stRadio"]').filter(has_text=ZH("purchases.field.verdict"))
        verdict.get_by_text(ZH(f"dupcheck.verdict.{ADJUST}"), exact=True).click()
        panel.get_by_label(ZH("purchases.field.reasons")).fill(reasons)
        panel.get_by_label(ZH("purchases.field.conditions")).fill("与邻近单位签订共享协议")
        panel.get_by_label(ZH("purchases.field.reviewers")).fill("赵评议、钱专家")
        panel.get_by_role("button", name=ZH("purchases.dec.submit")).click()
        wait_until_idle(page)
        expect(main_area(page).get_by_text(before_placeholder(ZH("purchases.dec.saved"))).first).to_be_visible()
        panel = open_tab(page, ZH("purchases.tab.review"))
        history = grid_with_column(panel, ZH("purchases.dec.reasons"))
        assert reasons in eventually(page, lambda: grid_column(history, ZH("purchases.dec.reasons")),
                                     lambda listed: reasons in listed)
        # recorded: the form starts empty for the next decision (in the browser, not only in AppTest)
        expect(panel.get_by_label(ZH("purchases.field.reasons"))).to_have_value("")
        expect(panel.get_by_label(ZH("purchases.field.reviewers"))).to_have_value("")
        expect_no_error(page)
        save_screenshot(page, "journey-reviewer-decision")
    decisions = read(store, queries.review_decisions)
    mine = decisions[decisions["request_id"] == request["id"]]
    assert list(mine["reasons"])[-1] == reasons and verdict_id(list(mine["verdict"])[-1]) == ADJUST


def test_administrator_fixes_a_rejected_upload_and_imports_it(app, store, tmp_path):
    header = "单位名称,单位类型,所在地区\n"
    bad, good = tmp_path / "units.csv", tmp_path / "units-fixed.csv"
    # Second row: unknown unit type; the first row is fine, yet nothing may be imported.
    bad.write_text(header + "阿拉善盟新单位,企业,152921\n另一家单位,外星机构,152922\n", encoding="utf-8")
    good.write_text(header + "阿拉善盟新单位,企业,152921\n另一家单位,企业,152922\n", encoding="utf-8")
    units_before = read(store, queries.units)
    with browser_page() as page:
        open_page(page, app, "data", user="admin")
        main = main_area(page)
        page.locator('input[type="file"]').set_input_files(str(bad))
        # An error box (the kind expect_no_error looks for) says so.
        expect(page.locator('[data-testid="stAlertContentError"]')).to_have_text(ZH("data.nothing_imported", count=1))
        wait_until_idle(page)
        errors = main.locator('[data-testid="stDataFrame"]').last  # column reference, preview, errors
        (row, ) = eventually(page, lambda: grid_rows(errors)[1:], lambda rows: len(rows) == 1)  # file row 3
        assert row[:3] == ["3", "单位类型", "外星机构"]
        expect(main.get_by_role("button", name=ZH("data.import_button"), exact=True)).to_have_count(0)
        save_screenshot(page, "journey-admin-upload-errors")
        assert read(store, queries.units).equals(units_before)

        page.locator('input[type="file"]').set_input_files(str(good))
        wait_until_idle(page)
        expect(main.get_by_text(ZH("data.valid_summary", rows=2, inserted=2, updated=0, unchanged=0))).to_be_visible()
        main.get_by_role("button", name=ZH("data.import_button"), exact=True).click()
        wait_until_idle(page)
        expect(main.get_by_text(ZH("data.imported", inserted=2, updated=0, unchanged=0))).to_be_visible()
        expect_no_error(page)
        save_screenshot(page, "journey-admin-upload-imported")
    added = set(read(store, queries.units)["name"]) - set(units_before["name"])
    assert added == {"阿拉善盟新单位", "另一家单位"}


def test_leader_saves_two_scenarios_and_compares_them(app, store):
    names = ("现行资金池", "资金池压缩至 50 万元")
    tab = ZH("incentives.tab.scenarios")

    def save(name: str) -> None:
        panel = open_tab(page, tab)
        panel.get_by_label(ZH("incentives.scenario.save.name")).fill(name)
        panel.get_by_role("button", name=ZH("incentives.scenario.save.button")).click()
        wait_until_idle(page)
        expect(main.get_by_text(before_placeholder(ZH("incentives.scenario.saved")))).to_contain_text(name)
        # the user stays on the scenarios tab after saving
        expect(main.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")

    with browser_page() as page:
        open_page(page, app, "incentives", user="leader")
        main = main_area(page)
        save(names[0])
        pool = main.get_by_role("spinbutton", name=ZH("incentives.control.pool"), exact=True)
        pool.fill("50")
        pool.press("Enter")
        wait_until_idle(page)
        save(names[1])
        compared = ZH("incentives.compare.scenarios")
        for name in names:  # against the baseline, the default settings
            choose(page, open_tab(page, tab).locator('[data-testid="stMultiSelect"]').filter(has_text=compared), name)
        panel = open_tab(page, tab)
        for name in names:
            expect(panel.locator('[data-testid="stMultiSelect"]').filter(has_text=compared)).to_contain_text(name)
        expect(panel.get_by_text(ZH("incentives.compare.changes"))).to_be_visible()
        # The first scenario is the defaults: only the smaller pool changes what units get.
        changes = grid_with_column(panel, ZH("incentives.compare.col.scenario"))
        changed = eventually(page, lambda: set(grid_column(changes, ZH("incentives.compare.col.scenario"))), bool)
        assert len(changed) == 1 and names[1] in changed.pop()
        expect_no_error(page)
        save_screenshot(page, "journey-leader-scenarios")
    assert set(names) <= set(read(store, queries.scenarios)["name"])


def test_every_page_opens_without_an_error(app):
    """Signed in as administrator, so the pages hidden from others are opened too."""
    with browser_page() as page:
        open_page(page, app, user="admin")
        for path, title_key, _ in PAGES:
            go_to(page, ZH(title_key))
            expect(main_area(page).locator("h1").first).to_contain_text(ZH(title_key))  # the page's title
            expect_no_error(page)
            save_screenshot(page, f"page-{path.removeprefix('pages/').removesuffix('.py')}")
