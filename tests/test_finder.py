"""The service finder (dashboard/finder.py): query normalisation, n-gram coverage and relevance by
hand, synonyms, which instruments are never offered, ranking of typical queries on a hand-made
registry (tests/finder_registry.py), distance, load, rating, fee, voucher and sanction facts, the
filters, and the speed of a query at national scale."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from dashboard import finder as F
from models import finder_queries as FQ
from models import queries as Q
from tests.finder_registry import NEVER, OFFERED, finder_registry

# ----------------------------------------------------------------------------------- text


def test_query_is_normalised_and_cut_into_terms():
    assert F.query_terms("  液相色谱，ＨＰＬＣ　土壤、液相色谱 ") == ("液相色谱", "hplc", "土壤")
    assert F.query_terms("ICP-MS") == ("icpms",)  # a hyphen stays inside the term
    assert F.query_terms("LC-MS/MS") == ("lcmsms",)
    assert F.query_terms("苁蓉 成分分析") == ("苁蓉", "成分分析")
    assert F.query_terms(" ，。 ") == () and F.query_terms("") == () and F.query_terms(None) == ()


def test_tokens_and_grams_weigh_by_length():
    assert F.tokens("pcr仪") == ("pcr", "仪")
    assert F.tokens("1260型") == ("1260", "型")
    g = F.grams("液相色谱")
    assert g == {"液": 1, "相": 1, "色": 1, "谱": 1, "液相": 2, "相色": 2, "色谱": 2, "液相色": 3, "相色谱": 3}
    assert F.grams("hplc") == {"hplc": 1}  # a Latin word is one token


def test_coverage_by_hand():
    """c(液相色谱, 气相色谱仪): the query's pieces weigh 4·1 + 3·4 + 2·9 = 34; found 相 色 谱 (3),
    相色 色谱 (8) and 相色谱 (9) = 20 → 20/34. 高效液相色谱仪 holds every piece → 1. 相对颜色 shares
    only single characters (相, 色): no piece of two units → 0. An empty text → 0."""
    index = F.build_field_index(pd.Series(["气相色谱仪", "高效液相色谱仪", "相对颜色", "", None]))
    cov = F.coverage("液相色谱", index)
    assert cov == pytest.approx([20 / 34, 1.0, 0.0, 0.0, 0.0])
    # a one-unit term needs no longer piece
    assert F.coverage("谱", index) == pytest.approx([1.0, 1.0, 0.0, 0.0, 0.0])


def _one(name="", cls="", functions="", specs="", service="", **kw) -> F.Catalogue:
    row = {"id": 1, "unit_id": 1, "inner_id": "X-1", "name_zh": name, "class_code": cls or "990000",
           "functions": functions, "technical_specs": specs, "service_content": service,
           "share_mode": "外部共享", "status": "正常", "exempt_reason": "", "region_code": "152921", "purpose": "通用"}
    row.update(kw)
    classes = pd.DataFrame({"code": ["0105"], "name_zh": ["色谱仪器"], "name_en": ["Chromatographs"]})
    return F.build_catalogue(pd.DataFrame([row]), classes=classes)


def test_relevance_by_hand():
    """Query 液相色谱 on one instrument named 气相色谱仪 of class 0105 色谱仪器:
    name: direct c = 20/34; synonyms 高效液相色谱 (c = 20/62, × 0.8 = 0.258), 液相 (no piece of two
    units in 气相色谱仪: 0), hplc (0) → r_name = 20/34 = 0.5882;
    class: direct c = (色 谱 2 + 色谱 4)/34 = 6/34; 高效液相色谱 6/62 × 0.8 = 0.077 → r_class = 6/34;
    R = 1 − (1 − 1.0 · 20/34)(1 − 0.8 · 6/34) = 1 − 0.41176 · 0.85882 = 0.64637."""
    cat = _one(name="气相色谱仪", cls="010501")
    r = F.find(cat, "液相色谱", rules=F.FinderRules(min_relevance=0))
    expected = 1 - (1 - 20 / 34) * (1 - 0.8 * 6 / 34)
    assert r.results["relevance"].iloc[0] == pytest.approx(expected, abs=1e-6)
    assert r.field_scores[0, 0] == pytest.approx([20 / 34, 6 / 34, 0, 0, 0])
    # a full match in the name alone gives 1; one in the service content alone the service weight 0.5
    assert F.find(_one(name="液相色谱仪"), "液相色谱").results["relevance"].iloc[0] == pytest.approx(1.0)
    assert F.find(_one(service="液相色谱分析"), "液相色谱").results["relevance"].iloc[0] == pytest.approx(0.5)
    # two terms: the mean of their scores (苁蓉 in the service content 0.5, 色谱 in the name 1)
    two = F.find(_one(name="色谱仪", service="苁蓉检测"), "苁蓉 色谱")
    assert two.results["relevance"].iloc[0] == pytest.approx((0.5 + 1.0) / 2)
    assert two.term_relevance[0] == pytest.approx([0.5, 1.0])


def test_synonyms():
    assert {"原子吸收", "电感耦合等离子体质谱", "原子荧光"} <= set(F.expansions("土壤重金属检测"))
    assert F.expansions("拉伸试验") == ("万能试验机",)
    assert set(F.expansions("液相")) >= {"液相色谱", "高效液相色谱", "hplc"}
    assert "液相" in F.expansions("hplc")  # groups work both ways
    assert "气相色谱" in F.expansions("gc") and "气相色谱" not in F.expansions("gcxyz")  # Latin keys: whole term
    assert {"色谱", "质谱"} <= set(F.expansions("成分分析"))
    # through a synonym at β = 0.8: 拉伸 → 万能试验机, which the name holds in full
    r = F.find(_one(name="电子万能试验机"), "拉伸")
    assert r.results["relevance"].iloc[0] == pytest.approx(0.8)
    assert r.expansions == {"拉伸": ("万能试验机",)}
    assert F.find(_one(name="电子万能试验机"), "拉伸", rules=F.FinderRules(synonym_factor=0.5)) \
        .results["relevance"].iloc[0] == pytest.approx(0.5)


def test_fee_and_voucher_rules():
    assert F.hourly_fee("参考收费600元/机时（不含耗材）。") == 600
    assert F.hourly_fee("１２０元／小时") == 120  # full-width
    assert math.isnan(F.hourly_fee("每样 80 元/样"))  # not an hourly price
    assert math.isnan(F.hourly_fee("按检测项目收费")) and math.isnan(F.hourly_fee(None))
    assert F.charges_fee("按检测项目收费") and not F.charges_fee("") and not F.charges_fee("免费开放")
    cat = _one(name="液相色谱仪", fee_standard="免费")
    assert not cat.rows["voucher_eligible"].iloc[0]
    assert _one(name="液相色谱仪", fee_standard="参考收费100元/机时").rows["voucher_eligible"].iloc[0]


def test_exclusion_reasons_first_failing_check_wins():
    frame = pd.DataFrame({
        "share_mode": ["外部共享", "不共享", "内部共享", "外部共享", "外部共享", "外部共享", "不共享", "外部共享"],
        "exempt_reason": ["", "", "", "国防", "", "", "国防", ""],
        "status": ["正常", "正常", "正常", "正常", "待报废", "待修", "待修", "故障频繁"],
    })
    assert F.exclusion_reason(frame).tolist() == ["", "not_open", "not_open", "exempt", "scrapped", "under_repair",
                                                  "not_open", ""]
    assert F.offered(frame).index.tolist() == [0, 7]


def test_rating_summary_by_hand():
    ratings = pd.DataFrame({"instrument_id": [1, 1, 1, 2], "rating": ["非常满意", "一般", "", "极差"],
                            "records": [2, 1, 4, 1], "voucher_records": [1, 0, 0, 0],
                            "last_start": pd.to_datetime(["2025-03-04", "2025-03-05", "2025-05-01", "2024-01-01"])})
    out = F.rating_summary(ratings).set_index("instrument_id")
    assert out.loc[1, "rating"] == pytest.approx((5 * 2 + 3) / 3)  # the 4 unrated records do not count
    assert out.loc[1, "rated_records"] == 3 and out.loc[1, "service_records"] == 7
    assert out.loc[1, "voucher_records"] == 1 and out.loc[2, "rating"] == 1.0
    assert out.loc[1, "last_service"] == pd.Timestamp("2025-05-01")


# ----------------------------------------------------------------------------------- the store


@pytest.fixture
def reg(engine):
    ids = finder_registry(engine)
    cat = F.load_catalogue(engine)
    regions = Q.regions(engine)
    load = F.load_states(cat, Q.usage_by_instrument_year(engine, 2025))
    return {"engine": engine, "ids": ids, "cat": cat, "regions": regions, "load": load}


def _find(reg, query, **kw):
    kw.setdefault("origin", "152921")
    return F.find(reg["cat"], query, regions=reg["regions"], load=reg["load"], **kw)


def _inner(result) -> list[str]:
    return result.results["inner_id"].tolist()


@pytest.mark.parametrize("query, first", [
    ("土壤重金属检测", {"ICPMS-1", "AAS-1"}),  # through 重金属 → 电感耦合等离子体质谱 / 原子吸收
    ("液相色谱", {"HPLC-1", "UPLC-1"}),
    ("苁蓉 成分分析", {"UPLC-1"}),  # 苁蓉 in its service content, 成分分析 → 色谱
    ("拉伸试验", {"UTM-1"}),  # only through 拉伸 → 万能试验机
    ("HPLC", {"HPLC-1", "UPLC-1"}),
    ("原子吸收", {"AAS-1"}),
    ("扫描电镜", {"SEM-1"}),
])
def test_typical_queries_find_the_right_instruments_first(reg, query, first):
    found = _inner(_find(reg, query))
    assert set(found[:len(first)]) == first, found


def test_equal_relevance_nearest_first(reg):
    """液相色谱: HPLC-1 and UPLC-1 both name it in full (relevance 1); from 阿拉善左旗 HPLC-1 (U1,
    0.8 km) comes first, from 阿拉善高新区 (Z01) UPLC-1 (U3, at the zone's seat: 0 km)."""
    assert _inner(_find(reg, "液相色谱"))[:2] == ["HPLC-1", "UPLC-1"]
    assert _inner(_find(reg, "液相色谱", origin="Z01"))[:2] == ["UPLC-1", "HPLC-1"]


@pytest.mark.parametrize("query", ["高效液相色谱仪", "液相色谱", "原子吸收分光光度计", "重金属检测", "电感耦合等离子体质谱",
                                   "土壤重金属检测", "HPLC", "色谱", "分析"])
def test_closed_exempt_scrapped_and_under_repair_are_never_offered(reg, query):
    found = _inner(_find(reg, query, rules=F.FinderRules(min_relevance=0)))
    assert not set(found) & set(NEVER)
    assert set(found) <= set(OFFERED)


def test_catalogue_counts_what_it_leaves_out(reg, engine):
    cat = reg["cat"]
    assert sorted(cat.rows["inner_id"]) == sorted(OFFERED)
    assert cat.excluded == {"not_open": 0, "exempt": 1, "scrapped": 1, "under_repair": 1}  # closed ones never read
    everything = F.build_catalogue(FQ.finder_instruments(engine), FQ.service_texts(engine), FQ.service_ratings(engine),
                                   Q.instrument_classes(engine), Q.regions(engine))
    assert sorted(everything.rows["inner_id"]) == sorted(OFFERED)
    assert everything.excluded == {"not_open": 2, "exempt": 1, "scrapped": 1, "under_repair": 1}


def test_distance_by_hand(reg):
    """From the seat of 阿拉善左旗 (38.8334 N, 105.6663 E) to U2 (41.96 N, 101.07 E):
    Δφ = 3.1266° = 0.0545695 rad, Δλ = −4.5963° = −0.0802206 rad;
    a = sin²(Δφ/2) + cos 38.8334° · cos 41.96° · sin²(Δλ/2)
      = 0.00074427 + 0.778973 · 0.743612 · 0.00160797 = 0.00167569;
    d = 2 · 6371 km · asin(√a) = 2 · 6371 · 0.0409467 = 521.74 → 521.7 km.
    U3 has no coordinates: the seat of its zone Z01 (39.42 N, 106.71 E) → 111.2 km."""
    phi1, phi2 = math.radians(38.8334), math.radians(41.96)
    a = math.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(101.07 - 105.6663) / 2) ** 2
    assert a == pytest.approx(0.00167569, rel=1e-5)
    assert 2 * 6371 * math.asin(math.sqrt(a)) == pytest.approx(521.74, abs=0.01)
    rows = _find(reg, "分析", rules=F.FinderRules(min_relevance=0)).results.set_index("inner_id")
    assert rows.loc["ICPMS-1", "distance_km"] == 521.7
    assert rows.loc["UTM-1", "distance_km"] == 111.2
    assert rows.loc["AAS-1", "distance_km"] == 0.8
    assert F.find(reg["cat"], "分析").results["distance_km"].isna().all()  # no origin, no distances


def test_load_rating_fee_voucher_and_contact(reg):
    rows = _find(reg, "分析", rules=F.FinderRules(min_relevance=0)).results.set_index("inner_id")
    assert rows.loc["HPLC-1", "load"] == F.BUSY and rows.loc["HPLC-1", "effective_hours"] == 1320
    assert rows.loc["AAS-1", "load"] == F.AVAILABLE and rows.loc["AAS-1", "effective_hours"] == 600
    assert rows.loc["ICPMS-1", "load"] == F.UNKNOWN and np.isnan(rows.loc["ICPMS-1", "effective_hours"])
    assert rows.loc["AAS-1", "rating"] == pytest.approx(13 / 3) and rows.loc["AAS-1", "rated_records"] == 3
    assert rows.loc["AAS-1", "voucher_records"] == 1 and rows.loc["HPLC-1", "rating"] == 2.0
    assert np.isnan(rows.loc["UPLC-1", "rating"])
    assert rows.loc["HPLC-1", "fee_per_hour"] == 200 and np.isnan(rows.loc["GC-1", "fee_per_hour"])
    assert rows.loc["GC-1", "voucher_eligible"] and not rows.loc["SEM-1", "voucher_eligible"]  # SEM-1: no fee stated
    assert (rows.loc["AAS-1", "contact"], rows.loc["AAS-1", "phone"]) == ("张工", "0483-8000001")  # the holder's
    assert (rows.loc["HPLC-1", "contact"], rows.loc["HPLC-1", "email"]) == ("赵工", "hplc@example.com")  # its own
    assert "土壤铅镉测定" in rows.loc["AAS-1", "record_services"]  # service records are searched too


def test_filters(reg):
    def found(**flt):
        return set(_inner(_find(reg, "分析", flt=F.FinderFilter(**flt), rules=F.FinderRules(min_relevance=0))))

    assert found(regions=("152923",)) == {"ICPMS-1", "SEM-1"}
    assert found(regions=("152921",)) == {"AAS-1", "HPLC-1", "GC-1", "UPLC-1", "UTM-1"}  # with the zone Z01
    assert found(regions=("Z01",)) == {"UPLC-1", "UTM-1"}
    assert found(classes=("0105",)) == {"HPLC-1", "UPLC-1", "GC-1"}
    assert found(classes=("02",)) == {"UTM-1"}
    assert found(max_fee_per_hour=200) == {"AAS-1", "HPLC-1", "UTM-1", "GC-1", "SEM-1"}  # GC-1, SEM-1: no hourly fee
    assert found(max_fee_per_hour=200, include_unpriced=False) == {"AAS-1", "HPLC-1", "UTM-1"}
    assert found(min_rating=4.0) == {"AAS-1"}
    assert found(min_rating=2.0) == {"AAS-1", "HPLC-1"}
    r = _find(reg, "液相色谱", flt=F.FinderFilter(regions=("152923",)))
    assert r.results.empty and r.matched >= 2 and r.filtered == 0  # relevant, but filtered out


def test_sanctioned_holder_is_shown_as_such(reg):
    ids = reg["ids"]
    r = _find(reg, "分析", sanctioned={ids["u3"]: ("not_reporting",)}, rules=F.FinderRules(min_relevance=0))
    rows = r.results.set_index("inner_id")
    assert rows.loc["UTM-1", "sanctioned"] and rows.loc["UTM-1", "sanction_rules"] == ("not_reporting",)
    assert rows.loc["UPLC-1", "sanctioned"]  # still listed
    assert not rows.loc["AAS-1", "sanctioned"] and rows.loc["AAS-1", "sanction_rules"] == ()


def test_store_sanctions_flag_the_unit_that_never_reported(reg):
    """U3 sent no monthly report for 2025: not_reporting under the default rules; U1 and U2
    reported every month on time."""
    flags = F.store_sanctions(reg["engine"], 2025)
    assert "not_reporting" in flags[reg["ids"]["u3"]]
    assert all("not_reporting" not in flags.get(reg["ids"][u], ()) for u in ("u1", "u2"))


def test_limit_keeps_the_counts_and_the_scores_aligned(reg):
    full = _find(reg, "分析", rules=F.FinderRules(min_relevance=0))
    top = _find(reg, "分析", rules=F.FinderRules(min_relevance=0), limit=2)
    assert _inner(top) == _inner(full)[:2] and top.filtered == full.filtered and top.matched == full.matched
    assert top.results["rank"].tolist() == [1, 2]
    assert np.allclose(top.term_relevance.mean(axis=1), top.results["relevance"], atol=1e-6)
    assert top.field_scores.shape == (2, 1, len(F.FIELDS))


def test_empty_query_finds_nothing(reg):
    r = _find(reg, " ， ")
    assert r.terms == () and r.results.empty and r.searched == len(OFFERED)


def test_json_view(reg):
    d = F.to_dict(_find(reg, "拉伸试验"), 2025)
    assert d["terms"] == ["拉伸试验"] and d["synonyms"] == {"拉伸试验": ["万能试验机"]}
    item = d["results"][0]
    assert item["inner_id"] == "UTM-1" and item["distance_km"] == 111.2 and item["load"] == "available"
    assert item["terms"][0]["fields"]["name"] == pytest.approx(0.8)
    assert item["sanction_rules"] == [] and d["excluded"]["scrapped"] == 1


# ----------------------------------------------------------------------------------- speed


def _national_instruments(n: int = 100_000) -> pd.DataFrame:
    """100,000 instruments from the demo templates: 4,800 distinct names with models, 4,800 distinct
    specifications and 3,840 service texts (a register repeats its descriptions)."""
    from models.db import DATA_DIR

    t = pd.read_csv(DATA_DIR / "demo" / "instrument_templates.csv", dtype={"class_code": str})
    rng = np.random.default_rng(10)
    tt = t.iloc[rng.integers(0, len(t), n)].reset_index(drop=True)
    variant = pd.Series(rng.integers(0, 50, n)).astype(str)
    return pd.DataFrame({
        "id": np.arange(1, n + 1), "unit_id": rng.integers(1, 3000, n), "inner_id": [f"N{i}" for i in range(n)],
        "name_zh": tt["name_zh"], "name_en": tt["name_en"], "class_code": tt["class_code"], "model": "M-" + variant,
        "technical_specs": tt["technical_specs"] + "；系列" + variant, "functions": tt["functions"],
        "service_content": tt["service_content"] + "；" + pd.Series(rng.integers(0, 40, n)).astype(str),
        "purpose": "通用", "status": "正常", "share_mode": "外部共享", "exempt_reason": "",
        "fee_standard": "参考收费100元/机时。", "region_code": "152921", "unit_lat": 38.8, "unit_lon": 105.6,
    })


def test_a_query_at_national_scale_stays_well_under_a_second():
    regions = pd.read_csv(F.__file__.replace("dashboard/finder.py", "data/reference/regions.csv"),
                          dtype={"code": str, "within": str}).fillna("")
    cat = F.build_catalogue(_national_instruments(), regions=regions)  # once per data revision
    assert len(cat) == 100_000
    for query in ("土壤重金属检测", "苁蓉 成分分析", "分析"):
        start = time.perf_counter()
        r = F.find(cat, query, origin="152921", regions=regions, limit=20)
        elapsed = time.perf_counter() - start
        assert len(r.results) == 20
        assert elapsed < 0.5, (query, elapsed)
