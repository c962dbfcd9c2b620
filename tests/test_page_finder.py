"""The Find a service page (找服务), driven through the whole app with AppTest on the hand-made
registry of tests/finder_registry.py: open to visitors; a query (typed or an example) lists a card
per instrument, best first, with holder, distance, fee, load, rating, voucher, sanction and contact;
the location, region, class, fee and rating filters; the empty states; English; and the jump to
the registry for signed-in staff."""

from __future__ import annotations

import pandas as pd

from dashboard.ui.shell import PAGES
from tests.apptest_utils import open_app, wkey
from tests.factories import add_instrument, add_unit, filled_store
from tests.finder_registry import NEVER, finder_registry

PAGE = "pages/finder.py"


def _open(monkeypatch, db_url, role=None, lang=None):
    ids = filled_store(db_url, finder_registry)
    return open_app(monkeypatch, db_url, PAGE, lang=lang, role=role), ids


def _ok(at):
    assert not at.exception, [e.message for e in at.exception]
    return at


def search(at, text: str):
    at.text_input(key=wkey(at, "finder_query")).set_value(text).run()
    return _ok(at)


def titles(at) -> list[str]:
    """The card titles: '1. 高效液相色谱仪 · 1260 Infinity II'."""
    return [m.value[5:] for m in at.markdown if m.value.startswith("#### ")]


def names(at) -> list[str]:
    return [t.split(". ", 1)[1].split(" · ")[0] for t in titles(at)]


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def detail_tables(at) -> list[pd.DataFrame]:
    return [t.value for t in at.table]


def test_visitors_see_the_page_and_a_prompt_with_examples(monkeypatch, db_url):
    assert ("pages/finder.py", "nav.finder", ":material/search:") in PAGES
    at, _ = _open(monkeypatch, db_url)
    assert at.title[0].value == "找服务 · 仪器服务查找"
    assert "按回车即可查找" in at.info[0].value
    assert [at.button(key=f"finder_example_{i}").label for i in range(4)] == ["土壤重金属检测", "液相色谱", "苁蓉 成分分析",
                                                                          "拉伸试验"]
    assert not titles(at)


def test_typing_a_query_lists_the_right_instruments_first(monkeypatch, db_url):
    at, _ = _open(monkeypatch, db_url)
    search(at, "土壤重金属检测")
    assert names(at) == ["电感耦合等离子体质谱仪", "原子吸收分光光度计"]
    body = texts(at)
    assert "在 **7** 台对外开放的在用仪器中，找到相关仪器 **2** 台" in body
    assert "另有 3 台登记为对外共享的仪器因免于开放、待修或待报废" in body
    assert "“土壤重金属检测”也按 原子吸收、电感耦合等离子体质谱、原子荧光" in body
    assert [m.value for m in at.metric][:2] == ["84", "83"]


def test_an_example_fills_the_query(monkeypatch, db_url):
    at, _ = _open(monkeypatch, db_url)
    at.button(key="finder_example_3").click().run()
    _ok(at)
    assert at.text_input(key=wkey(at, "finder_query")).value == "拉伸试验"
    assert names(at) == ["电子万能试验机"]  # found only through the synonym 拉伸 → 万能试验机
    at.button(key="finder_example_2").click().run()
    assert names(_ok(at))[0] == "超高效液相色谱仪"


def test_card_details(monkeypatch, db_url):
    at, ids = _open(monkeypatch, db_url)
    search(at, "液相色谱")
    assert names(at) == ["高效液相色谱仪", "超高效液相色谱仪", "气相色谱仪"]
    body = texts(at)
    assert "1. 高效液相色谱仪 · 1260 Infinity II" in titles(at)[0]
    assert "阿拉善盟检验检测中心 · :material/location_on: 阿拉善左旗 · 距阿拉善左旗约 0.8 公里" in body
    assert ":orange-badge[:material/hourglass_top: 繁忙]" in body  # HPLC-1: 1320 h ≥ 1200 h
    assert ":blue-badge[:material/star: 评分 2.0（1 条评价）]" in body
    assert ":violet-badge[:material/confirmation_number: 可用创新券]" in body
    assert "**200 元/机时** · 参考收费200元/机时。" in body
    assert "赵工 · 13900000003 · hplc@example.com" in body and "[在线预约](https://booking.example.com/hplc-1)" in body
    # UPLC-1's holder never reported in 2025: flagged, with the rule, and still listed
    assert "持有单位在 2025 年度评价中受到惩戒（" in body and "未报送数据" in body
    record = detail_tables(at)[0].set_index("项目")["内容"]
    assert record["所在单位仪器编号"] == "HPLC-1" and record["仪器类别"] == "010502 色谱仪器"
    assert record["主要功能"] == "有机化合物分离及含量测定" and record["运行状态"] == "正常"
    why = detail_tables(at)[1]
    assert list(why.columns) == ["检索词", "名称", "类别", "主要功能", "技术指标", "服务内容", "检索词得分"]
    assert why.iloc[0].tolist()[:2] == ["液相色谱", "100"] and why.iloc[-1].tolist()[-1] == "100"


def test_closed_exempt_scrapped_and_under_repair_never_shown(monkeypatch, db_url):
    at, _ = _open(monkeypatch, db_url)
    for query in ("高效液相色谱仪", "原子吸收分光光度计", "电感耦合等离子体质谱仪"):
        search(at, query)
        shown = [t.set_index("项目")["内容"]["所在单位仪器编号"] for t in detail_tables(at) if "项目" in t.columns]
        assert shown and not set(shown) & set(NEVER), (query, shown)


def test_filters(monkeypatch, db_url):
    at, _ = _open(monkeypatch, db_url)
    search(at, "仪")  # one character: every offered instrument holds it in its name or class name (…仪器)
    assert len(names(at)) == 7
    at.multiselect(key=wkey(at, "finder_classes")).set_value(["0102"]).run()
    assert names(_ok(at)) == ["电感耦合等离子体质谱仪"]
    at.multiselect(key=wkey(at, "finder_classes")).set_value([]).run()
    at.multiselect(key=wkey(at, "finder_regions")).set_value(["152923"]).run()
    assert set(names(_ok(at))) == {"电感耦合等离子体质谱仪", "扫描电子显微镜"}
    at.multiselect(key=wkey(at, "finder_regions")).set_value(["Z01"]).run()
    assert set(names(_ok(at))) == {"超高效液相色谱仪", "电子万能试验机"}
    at.multiselect(key=wkey(at, "finder_regions")).set_value([]).run()
    search(at, "色谱")
    assert set(names(at)) == {"高效液相色谱仪", "超高效液相色谱仪", "气相色谱仪"}
    at.number_input(key=wkey(at, "finder_max_fee")).set_value(250).run()
    assert set(names(_ok(at))) == {"高效液相色谱仪", "气相色谱仪"}  # GC-1 states no hourly fee
    at.checkbox(key=wkey(at, "finder_unpriced")).uncheck().run()
    assert names(_ok(at)) == ["高效液相色谱仪"]
    at.number_input(key=wkey(at, "finder_max_fee")).set_value(None).run()
    at.checkbox(key=wkey(at, "finder_unpriced")).check().run()
    at.selectbox(key=wkey(at, "finder_min_rating")).set_value(3.0).run()
    assert names(_ok(at)) == []  # HPLC-1 is rated 2.0, the others not at all
    assert "有 3 台相关仪器，但都不符合当前筛选条件" in at.warning[0].value
    at.selectbox(key=wkey(at, "finder_min_rating")).set_value(0.0).run()
    at.selectbox(key=wkey(at, "finder_origin")).set_value("Z01").run()
    # all three name 色谱 in full (relevance 100): the nearest first, then at one place available before busy
    assert names(_ok(at)) == ["超高效液相色谱仪", "气相色谱仪", "高效液相色谱仪"]
    at.selectbox(key=wkey(at, "finder_show")).set_value(10).run()
    assert len(titles(_ok(at))) == 3


def test_empty_state_is_helpful(monkeypatch, db_url):
    at, _ = _open(monkeypatch, db_url)
    search(at, "核磁共振")
    assert not titles(at)
    assert at.warning[0].value == "没有找到与“核磁共振”相关的对外开放仪器。"
    tips = texts(at)
    assert "换一种说法" in tips and "HPLC" in tips and "用空格隔开" in tips


def test_english(monkeypatch, db_url):
    at, _ = _open(monkeypatch, db_url, lang="en")
    assert at.title[0].value == "Find a service"
    search(at, "液相色谱")
    assert names(at)[0] == "High performance liquid chromatograph"
    body = texts(at)
    assert "Alxa Inspection and Testing Centre · :material/location_on: Alxa Left Banner · about 0.8 km from Alxa Left Banner" in body
    assert ":orange-badge[:material/hourglass_top: Busy]" in body and "Rating 2.0 · rated services: 1" in body
    assert "**CNY 200 per machine hour**" in body and "Not reporting" in body
    assert "Search method and definitions" in [e.label for e in at.main.expander]
    method = at.table[-1].value
    assert method.iloc[0, 0] == "Searched instruments" and "name 1" in method.set_index("Figure").loc[
        "Fields and weights W", "Rule or formula"].lower()
    search(at, "核磁共振")
    assert at.warning[0].value == "No instrument open to outside users matches “核磁共振”."
    assert at.button(key="finder_example_3").label == "tensile"
    at.button(key="finder_example_3").click().run()
    assert names(_ok(at)) == ["电子万能试验机"]  # tensile → 万能试验机 (no English name on record)


def registry_links(at) -> list:
    return [(e.proto.label, e.proto.page, e.proto.query_string) for e in at.get("page_link")]


def test_signed_in_staff_get_a_link_to_the_registry(monkeypatch, db_url):
    at, ids = _open(monkeypatch, db_url, role="viewer")
    search(at, "液相色谱")
    links = registry_links(at)
    assert len(links) == 3 and links[1][0] == "在仪器名录中查看"
    assert links[1][1].endswith("registry") and links[1][2] == f"instrument={ids['UPLC-1']}"
    # the registry opens on that instrument: search = its inventory number, picker on it
    at.switch_page("pages/registry.py")
    at.query_params["instrument"] = str(ids["UPLC-1"])
    at.run()
    _ok(at)
    assert at.title[0].value == "仪器名录"
    assert at.text_input(key="registry_text@zh").value == "UPLC-1"
    assert at.selectbox(key="registry_selected@zh").value == ids["UPLC-1"]
    assert "instrument" not in at.query_params  # taken off the address: later changes stay
    at.text_input(key="registry_text@zh").set_value("").run()
    assert at.selectbox(key="registry_selected@zh").value == ids["UPLC-1"]


def test_visitors_get_no_registry_link(monkeypatch, db_url):
    at, _ = _open(monkeypatch, db_url)
    search(at, "液相色谱")
    assert registry_links(at) == []


def test_a_link_with_a_query_opens_the_results(monkeypatch, db_url):
    filled_store(db_url, finder_registry)
    from streamlit.testing.v1 import AppTest
    import streamlit.testing.v1.app_test as app_test_module

    from tests.apptest_utils import ENTRY, ROOT, _NavigationPagesManager

    monkeypatch.setattr(app_test_module, "PagesManager", _NavigationPagesManager)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.query_params["q"] = "拉伸试验"
    at.run()
    assert names(_ok(at)) == ["电子万能试验机"]
    search(at, "液相色谱")  # the box stays editable
    assert names(at)[0] == "高效液相色谱仪"


def _closed_only(eng):
    unit = add_unit(eng, "额济纳旗气象站", unit_type="其他", region_code="152923")
    add_instrument(eng, unit, "RADAR-1", "多普勒天气雷达", share_mode="不共享", region_code="152923")


def _open_without_usage(eng):
    unit = add_unit(eng, "阿拉善盟检验检测中心", unit_type="检验检测", lat=38.84, lon=105.67)
    add_instrument(eng, unit, "AAS-9", "原子吸收分光光度计", class_code="010401", fee_standard="参考收费150元/机时。")


def test_nothing_open_to_search(monkeypatch, db_url):
    filled_store(db_url, _closed_only)
    at = open_app(monkeypatch, db_url, PAGE, role=None)
    assert at.info[0].value == "目前没有对外开放共享、在用的仪器可供查找。"
    assert not at.main.text_input


def test_without_a_usage_year_load_and_sanctions_are_not_known(monkeypatch, db_url):
    filled_store(db_url, _open_without_usage)
    at = open_app(monkeypatch, db_url, PAGE, role=None)
    search(at, "原子吸收")
    assert names(at) == ["原子吸收分光光度计"]
    body = texts(at)
    assert "尚无使用数据年度：忙闲情况与惩戒状态暂无法给出。" in body
    assert ":gray-badge[:material/help: 忙闲不明]" in body and "暂无评价" in body


def test_page_and_command_line_flag_the_same_holders(monkeypatch, db_url):
    """The page takes the sanctions from the incentives page's cached outcome, the CLI from
    dashboard.finder.store_sanctions: the same rules on the same evaluation, the same flags."""
    from dashboard import finder as F
    from models.db import make_engine

    at, ids = _open(monkeypatch, db_url)
    search(at, "色谱")
    at.selectbox(key=wkey(at, "finder_show")).set_value(10).run()
    notes = [c.value for c in at.caption if c.value.startswith("注意：持有单位")]
    eng = make_engine(db_url)
    try:
        flags = F.store_sanctions(eng, 2025)
    finally:
        eng.dispose()
    holders = {"高效液相色谱仪": ids["u1"], "气相色谱仪": ids["u1"], "超高效液相色谱仪": ids["u3"]}
    expected = [name for name in names(at) if flags.get(holders[name])]
    assert len(notes) == len(expected) and expected
    # only U3's card (UPLC-1) names not_reporting, as store_sanctions has it
    assert sum("未报送数据" in n for n in notes) == 1 and "not_reporting" in flags[ids["u3"]]
