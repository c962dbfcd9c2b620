"""`python -m dashboard find "QUERY" [--region R] [--near R] [--class CODE] [--max-fee CNY]
[--min-rating X] [--year Y] [--limit N] [--format text|json]` on the hand-made registry of
tests/finder_registry.py (both backends): the same ranked list as dashboard.finder.find, closed
instruments never listed, the sanctioned holder flagged, bad input refused with exit code 2."""

from __future__ import annotations

import json

import pytest

from dashboard import finder as F
from models import queries as Q
from models import tables as T
from models.queries import count_rows
from tests.finder_registry import NEVER, finder_registry


@pytest.fixture
def ids(engine):
    return finder_registry(engine)


@pytest.fixture
def cli(ids, run_cli):
    return run_cli


def _json(cli, *argv) -> dict:
    code, out, err = cli("find", *argv, "--format", "json")
    assert code == 0 and err == "", err
    return json.loads(out)


def test_text_output_in_chinese(cli, ids, engine):
    before = (count_rows(engine, T.AuditEntry), count_rows(engine, T.Instrument))
    code, out, err = cli("find", "土壤重金属检测")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "查找：土壤重金属检测（检索词：土壤重金属检测）"
    assert lines[1].startswith("同义词扩展：土壤重金属检测 → 原子吸收、电感耦合等离子体质谱、原子荧光")
    assert lines[2].startswith("在 7 台对外开放的仪器中，相关 2 台，符合筛选条件 2 台，列出 2 台（另有 3 台")
    assert lines[3].startswith("1. [相关度 84] 电感耦合等离子体质谱仪（—）— 额济纳旗生态环境监测站，额济纳旗，距离 521.7 公里")
    assert lines[4] == ("   2025 年负荷：忙闲不明（有效机时 —）；收费 600 元/机时；评分 —（0 条评价）；可用创新券：是")
    assert lines[5] == "   联系：王工 13900000001；收费标准：参考收费600元/机时（不含耗材）。"
    assert lines[6] == "   注意：持有单位受惩戒（评价等级为较差/不合格）"  # U2 scores below 60 on this tiny league
    second = next(i for i, line in enumerate(lines) if line.startswith("2. "))
    assert lines[second].startswith("2. [相关度 83] 原子吸收分光光度计（—）— 阿拉善盟检验检测中心，阿拉善左旗，距离 0.8 公里")
    assert "评分 4.3（3 条评价）" in lines[second + 1] and "可预约（有效机时 600 小时）" in lines[second + 1]
    assert "联系：张工 0483-8000001 lab@example.com" in lines[second + 2]  # the holder's contact
    assert not any(key in out for key in NEVER)
    assert (count_rows(engine, T.AuditEntry), count_rows(engine, T.Instrument)) == before  # writes nothing


def test_english_via_the_global_option(cli):
    code, out, err = cli("--lang", "en", "find", "拉伸试验", "--near", "Alxa Left Banner")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "Find: 拉伸试验 (terms: 拉伸试验)"
    assert "Synonyms used: 拉伸试验 → 万能试验机" in out
    assert "1. [relevance 82] 电子万能试验机 (—) — 乌斯太新材料有限公司, Alxa Economic Development Zone, 111.2 km away" in out
    assert "Note: the holder is under sanction (" in out and "Not reporting" in out  # U3 never reported


def test_json_is_the_same_ranked_list_as_the_finder(cli, engine):
    d = _json(cli, "液相色谱")
    cat = F.load_catalogue(engine)
    regions = Q.regions(engine)
    expected = F.find(cat, "液相色谱", origin="152921", regions=regions,
                      load=F.load_states(cat, Q.usage_by_instrument_year(engine, 2025)),
                      sanctioned=F.store_sanctions(engine, 2025), limit=20)
    assert [r["inner_id"] for r in d["results"]] == expected.results["inner_id"].tolist() == ["HPLC-1", "UPLC-1", "GC-1"]
    assert [r["relevance"] for r in d["results"]] == pytest.approx(expected.results["relevance"].tolist())
    assert d["year"] == 2025 and d["origin"] == "152921" and d["searched"] == 7
    assert d["excluded"] == {"not_open": 0, "exempt": 1, "scrapped": 1, "under_repair": 1}
    hplc = d["results"][0]
    assert hplc["load"] == "busy" and hplc["effective_hours"] == 1320 and hplc["fee_per_hour"] == 200
    assert hplc["rating"] == 2.0 and hplc["voucher_eligible"] is True and hplc["booking_url"].startswith("https://")
    assert d["results"][1]["sanctioned"] is True and "not_reporting" in d["results"][1]["sanction_rules"]


def test_region_class_fee_rating_limit_and_year(cli):
    assert [r["inner_id"] for r in _json(cli, "分析", "--region", "额济纳旗")["results"]] == ["ICPMS-1"]
    assert {r["inner_id"] for r in _json(cli, "色谱", "--region", "152921")["results"]} == {"HPLC-1", "GC-1", "UPLC-1"}
    assert {r["inner_id"] for r in _json(cli, "色谱", "--class", "0105", "--max-fee", "250")["results"]} == {"HPLC-1", "GC-1"}
    assert [r["inner_id"] for r in _json(cli, "色谱", "--min-rating", "1")["results"]] == ["HPLC-1"]
    assert len(_json(cli, "色谱", "--limit", "1")["results"]) == 1
    assert _json(cli, "色谱", "--near", "额济纳旗")["results"][0]["distance_km"] > 300


def test_no_result_is_not_an_error(cli):
    code, out, err = cli("find", "核磁共振")
    assert code == 0 and err == ""
    assert "没有找到相关仪器" in out
    assert _json(cli, "核磁共振")["results"] == []


@pytest.mark.parametrize("argv, message", [
    (("  ",), "请给出需求描述"),
    (("液相", "--region", "火星"), "未知地区：火星"),
    (("液相", "--near", "nowhere"), "未知地区：nowhere"),
    (("液相", "--class", "0105xx"), "类别代码无效：0105xx"),
    (("液相", "--year", "1999"), "1999 年没有使用数据；有数据的年度：2025"),
])
def test_bad_input_exits_2(cli, argv, message):
    code, out, err = cli("find", *argv)
    assert code == 2 and out == "" and message in err


def test_readme_documents_the_command():
    from tests.test_readme import README

    assert "python -m dashboard find" in README
