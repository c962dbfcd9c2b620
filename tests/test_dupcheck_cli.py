"""`python -m dashboard dupcheck --name NAME [--model M] [--class CODE] --price CNY [--unit UNIT] [--format json]`.

Store (both backends): 阿拉善盟测试研究院 holds 高效液相色谱仪 (010501, 外部共享) used 30 h/month in
2025 = 360 h (< 800 h: idle) and 气相色谱仪 (010502) 100 h/month = 1200 h; 额济纳旗气象站 holds a
weather radar. A request for 液相色谱仪 (010501, 48万元) matches only the HPLC (name similarity
0.8875, score 0.55 × 0.8875 + 0.20 = 0.6881): verdict reject (idle_sharable), tier desk check, and
480,000 lies within 5 % below 50万 (near_threshold).
"""

from __future__ import annotations

import json

import pytest

from models import tables as T
from models.queries import count_rows
from tests.factories import add_instrument, add_unit, add_usage


@pytest.fixture
def store(engine):
    u1 = add_unit(engine, "阿拉善盟测试研究院", name_en="Alxa Test Institute")
    u2 = add_unit(engine, "额济纳旗气象站", unit_type="其他", region_code="152923")
    hplc = add_instrument(engine, u1, "HPLC-1", "高效液相色谱仪", class_code="010501", model="1260 Infinity II",
                          manufacturer="安捷伦")
    gc = add_instrument(engine, u1, "GC-1", "气相色谱仪", class_code="010502")
    radar = add_instrument(engine, u2, "RADAR-1", "多普勒天气雷达", class_code="070401", purpose="专用",
                           share_mode="不共享", region_code="152923")
    add_usage(engine, hplc, 2025, [30.0] * 12)
    add_usage(engine, gc, 2025, [100.0] * 12)
    add_usage(engine, radar, 2025, [50.0] * 12)
    return {"unit1": u1, "hplc": hplc, "gc": gc}


@pytest.fixture
def cli(store, run_cli):
    return run_cli


def test_text_output_in_chinese(cli, engine):
    before = (count_rows(engine, T.PurchaseRequest), count_rows(engine, T.AuditEntry))
    code, out, err = cli("dupcheck", "--name", "液相色谱仪", "--class", "010501", "--price", "480000",
                         "--unit", "阿拉善盟测试研究院")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "拟购：液相色谱仪（型号 —，分类 010501），报价 48万元"
    assert lines[1] == "评议层级：书面审查（5万–50万元）"
    assert "相似在册仪器 1 台" in lines[2]
    assert lines[3].startswith("1. 高效液相色谱仪（型号 1260 Infinity II，分类 010501）｜阿拉善盟测试研究院")
    assert "相似度 0.69（名称 0.89，同一小类" in lines[3] and "年均有效机时 360 小时" in lines[3]
    assert "距饱和线余量 840 小时" in lines[3] and "负荷 低效" in lines[3]
    assert "气相色谱仪" not in out and "雷达" not in out
    assert "建议结论：不予通过" in out
    assert "高效液相色谱仪 年均 360 小时 < 低效线 800 小时" in out
    assert "报价 480,000 元，门槛 500,000 元" in out
    assert (count_rows(engine, T.PurchaseRequest), count_rows(engine, T.AuditEntry)) == before  # writes nothing


@pytest.mark.parametrize("argv_lang", [("--lang", "en", "dupcheck"), ("dupcheck", "--lang", "en")])
def test_text_output_in_english(cli, argv_lang):
    code, out, err = cli(*argv_lang, "--name", "液相色谱仪", "--price", "3000000")
    assert code == 0 and err == ""
    assert "Review tier: joint review (CNY 2 million and above)" in out
    assert "Suggested verdict: reject" in out and "averages 360 h < low-use line 800 h" in out


def test_json_output(cli, store):
    code, out, err = cli("dupcheck", "--name", "液相色谱仪", "--class", "010501", "--price", "480,000",
                         "--unit", str(store["unit1"]), "--format", "json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["request"]["unit_id"] == store["unit1"] and data["request"]["price_cny"] == 480_000
    assert (data["tier"], data["verdict"], data["rules"], data["flags"]) == \
        ("desk_check", "reject", ["idle_sharable"], ["near_threshold"])
    assert data["years"] == [2025]
    [m] = data["matches"]
    assert m["instrument_id"] == store["hplc"] and m["name_similarity"] == pytest.approx(0.8875)
    assert m["score"] == pytest.approx(0.6881) and m["avg_hours"] == pytest.approx(360)
    assert m["spare_hours"] == pytest.approx(840) and m["load"] == "idle" and m["reasons"] == ["name", "same_class"]
    ev = data["evidence"][0]
    assert (ev["id"], ev["instrument_id"], ev["value"], ev["line"]) == ("idle_sharable", store["hplc"], 360, 800)


def test_no_similar_instrument_passes(cli):
    code, out, _ = cli("dupcheck", "--name", "扫描电子显微镜", "--price", "3000000", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["verdict"] == "pass" and data["rules"] == ["no_similar"] and data["matches"] == []


@pytest.mark.parametrize("argv,message", [
    (("--price", "abc"), "报价无效：abc"),
    (("--price", "-5"), "报价无效：-5"),
    (("--price", "100000", "--unit", "不存在的单位"), "未找到申请单位：不存在的单位"),
    (("--price", "100000", "--class", "999999"), "未知的仪器分类代码：999999"),
    (("--price", "100000", "--class", "01050"), "未知的仪器分类代码：01050"),
    (("--price", "100000", "--name", "  "), "仪器名称不能为空"),
])
def test_bad_input_is_a_usage_error(cli, argv, message):
    args = ["dupcheck", "--name", "液相色谱仪", *argv]
    code, out, err = cli(*args)
    assert code == 2 and out == "" and message in err


def test_missing_price_is_an_argparse_error(cli):
    with pytest.raises(SystemExit) as exc:
        cli("dupcheck", "--name", "液相色谱仪")
    assert exc.value.code == 2
