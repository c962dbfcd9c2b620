"""The purchase-review import in a real browser (AppTest cannot drive a file uploader): a file
with one bad row imports nothing and lists the error; the corrected file imports every row."""

from models import queries
from models.db import init_store, make_engine
from tests.browser import (BROWSER_TESTS, add_account, browser_page, running_app, save_screenshot, sign_in,
                           wait_until_idle)
from tests.factories import small_registry

pytestmark = BROWSER_TESTS

HEADER = "申请单位,仪器名称,分类代码,报价（元）,资金来源,购置理由,申请日期\n"
GOOD = "阿拉善盟测试研究院,液相色谱仪,010501,420000,地方财政资金,检测任务增加,2026-03-02\n"
BAD = "额济纳旗气象站,气象雷达,010501,三十万,地方财政资金,更新换代,2026-03-05\n"  # price in words


def _requests(url: str):
    eng = make_engine(url)
    try:
        return queries.purchase_requests(eng)
    finally:
        eng.dispose()


def test_import_is_all_or_nothing_in_the_browser(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    eng = make_engine(url)
    init_store(eng)
    small_registry(eng)
    eng.dispose()
    add_account(url, "zhao", "review-password", "reviewer")
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(HEADER + GOOD + BAD, encoding="utf-8")
    good.write_text(HEADER + GOOD + BAD.replace("三十万", "300000"), encoding="utf-8")
    with running_app(url) as app, browser_page() as page:
        page.goto(f"{app}/purchases")
        wait_until_idle(page)
        sign_in(page, "zhao", "review-password")
        main = page.locator('[data-testid="stMain"]')
        main.get_by_role("tab", name="批量导入").click()
        page.locator('input[type="file"]').set_input_files(str(bad))
        wait_until_idle(page)
        main.get_by_role("button", name="校验并导入").click()
        main.get_by_text("有 1 处错误，未导入任何申请", exact=False).first.wait_for()
        wait_until_idle(page)
        save_screenshot(page, "purchases-import-error")
        main.locator('[data-testid="stDataFrame"]').first.wait_for()  # the error table (a canvas grid)
        assert _requests(url).empty

        page.locator('input[type="file"]').set_input_files(str(good))
        wait_until_idle(page)
        main.get_by_role("button", name="校验并导入").click()
        main.get_by_text("已导入 2 条申请", exact=False).first.wait_for()
        save_screenshot(page, "purchases-imported")
    stored = _requests(url)
    assert list(stored["request_no"]) == ["ALS-CG-2026-0001", "ALS-CG-2026-0002"]
    assert list(stored["quoted_price"]) == [420_000.0, 300_000.0]
    assert list(stored["status"]) == ["submitted", "submitted"]
