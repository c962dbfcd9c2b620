"""Duplicate check and recommendation core (dashboard/dupcheck.py) on a hand-made registry.

Name similarity, worked by hand (n-grams after normalisation):
- 液相色谱仪 vs 高效液相色谱仪: bigrams 液相 相色 色谱 谱仪 (4) ⊂ 6 → dice 8/10 = 0.8, containment 1;
  trigrams 3 ⊂ 5 → dice 6/8 = 0.75, containment 1 → ((0.8+1)/2 + (0.75+1)/2) / 2 = 0.8875.
- 液相色谱仪 vs 气相色谱仪: bigrams 3 of 4 shared → dice = containment = 0.75; trigrams 2 of 3 →
  2/3 → (0.75 + 2/3) / 2 = 0.708333 < 0.75: no match although the middle class is the same.
- 液相色谱仪 vs 离子色谱仪: bigrams 色谱 谱仪 → 0.5; trigram 色谱仪 → 1/3 → 0.416667.
Score of 高效液相色谱仪 (same 6-digit class): 0.55 × 0.8875 + 0.20 × 1 = 0.688125.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard import dupcheck as D

DAY = date(2026, 3, 1)  # review date: usage years 2023–2025 are "the last 3 years"

# id, name, class, share mode, status, purpose, model, maker, hours 2023/2024/2025
ROWS = [
    (1, "高效液相色谱仪", "010501", "外部共享", "正常", "通用", "1260 Infinity II", "安捷伦", (300, 400, 500)),  # avg 400: idle
    (2, "高效液相色谱仪", "010501", "内部共享", "正常", "通用", "LC-20AT", "岛津", (900, 1000, 1100)),  # avg 1000: normal
    (3, "气相色谱仪", "010502", "外部共享", "正常", "通用", "7890B", "安捷伦", (100, 100, 100)),  # unrelated
    (4, "离子色谱仪", "010501", "外部共享", "正常", "通用", "ICS-600", "赛默飞", (50, 50, 50)),  # unrelated, same class
    (5, "氨基酸分析仪", "010501", "外部共享", "正常", "通用", "L-8900", "日立", (10, 10, 10)),  # unrelated, same class
    (6, "多普勒天气雷达", "070401", "不共享", "正常", "专用", "CINRAD", "敏视达", (600, 600, 600)),
    (7, "原子吸收光谱仪", "010401", "外部共享", "正常", "通用", "AA-7000", "岛津", (1300, 1300, 1300)),  # saturated
    (8, "扫描电子显微镜", "010101", "外部共享", "正常", "通用", "SU8010", "日立", (700, 700, 700)),
    (9, "液相色谱仪", "010501", "外部共享", "待报废", "通用", "Waters 2695", "沃特世", (0, 0, 0)),  # out of service
    (10, "电感耦合等离子体质谱仪", "010201", "外部共享", "正常", "通用", "NexION 2000", "珀金埃尔默", (200, 200, 200)),
]


def registry(ids=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = [r for r in ROWS if ids is None or r[0] in ids]
    inst = pd.DataFrame({
        "id": [r[0] for r in rows], "inner_id": [f"I-{r[0]}" for r in rows], "name_zh": [r[1] for r in rows],
        "class_code": [r[2] for r in rows], "share_mode": [r[3] for r in rows], "status": [r[4] for r in rows],
        "purpose": [r[5] for r in rows], "model": [r[6] for r in rows], "manufacturer": [r[7] for r in rows],
        "unit_id": [100 + r[0] % 3 for r in rows], "unit_name": [f"单位{r[0] % 3}" for r in rows],
        "unit_name_en": [f"Unit {r[0] % 3}" for r in rows], "region_code": "152921", "region_name_zh": "阿拉善左旗",
        "region_name_en": "Alxa Left Banner", "original_value": 600_000.0, "technical_specs": "",
        "start_date": pd.to_datetime(["2018-05-01"] * len(rows)),
    })
    usage = pd.DataFrame([{"instrument_id": r[0], "year": y, "effective_hours": float(h)}
                          for r in rows for y, h in zip((2023, 2024, 2025), r[8])])
    return inst, usage


def lc(**kw) -> D.PurchaseCheck:
    kw = {"name": "液相色谱仪", "class_code": "010501", "price_cny": 400_000, "on_date": DAY} | kw
    return D.PurchaseCheck(**kw)


def test_name_similarity_by_hand():
    assert D.name_similarity("液相色谱仪", "高效液相色谱仪") == pytest.approx(0.8875)
    assert D.name_similarity("液相色谱仪", "气相色谱仪") == pytest.approx((0.75 + 2 / 3) / 2)
    assert D.name_similarity("液相色谱仪", "离子色谱仪") == pytest.approx((0.5 + 1 / 3) / 2)
    assert D.name_similarity("液相色谱仪", "多普勒天气雷达") == 0
    # full-width letters, spaces and punctuation do not matter
    assert D.normalise("液相色谱仪（ＨＰＬＣ） ") == "液相色谱仪hplc"
    assert D.name_similarity("液相 色谱仪", "液相色谱仪") == pytest.approx(1.0)


def test_class_relation():
    assert D.class_relation("010501", "010501") == D.CLASS_SAME
    assert D.class_relation("010501", "010502") == D.CLASS_MIDDLE
    assert D.class_relation("010501", "010401") == D.CLASS_TOP
    assert D.class_relation("010501", "070401") == D.CLASS_OTHER
    assert D.class_relation("0105", "010502") == D.CLASS_MIDDLE


def test_matching_finds_the_true_duplicates_and_not_same_class_unrelated_ones():
    inst, usage = registry()
    m, years = D.find_matches(lc(), inst, usage)
    assert years == (2023, 2024, 2025)
    assert set(m["instrument_id"]) == {1, 2, 9}  # 气相/离子色谱仪, 氨基酸分析仪 (same class) are left out
    top = m.set_index("instrument_id")
    assert top.at[1, "name_similarity"] == pytest.approx(0.8875)
    assert top.at[1, "score"] == pytest.approx(0.6881, abs=1e-4)  # 0.55 × 0.8875 + 0.20
    assert top.at[9, "score"] == pytest.approx(0.75)  # identical name: 0.55 × 1 + 0.20
    assert list(m["instrument_id"])[0] == 9 and list(m["rank"]) == [1, 2, 3]
    assert top.at[1, "class_relation"] == D.CLASS_SAME and top.at[1, "reasons"] == ("name", "same_class")
    assert top.at[1, "avg_hours"] == pytest.approx(400) and top.at[1, "spare_hours"] == pytest.approx(800)
    assert top.at[1, "load"] == "idle" and top.at[2, "load"] == "normal"
    assert top.at[2, "spare_hours"] == pytest.approx(200)
    assert not top.at[9, "in_service"] and top.at[1, "sharable"] and not top.at[2, "sharable"]


def test_same_model_and_maker_match_without_a_similar_name():
    inst, usage = registry()
    m, _ = D.find_matches(D.PurchaseCheck(name="ICP-MS", model="NexION-2000", maker="珀金埃尔默", class_code="010201",
                                          price_cny=3_000_000, on_date=DAY), inst, usage)
    assert list(m["instrument_id"]) == [10]
    row = m.iloc[0]
    # 0.55 × 0 + 0.20 × 1 + 0.15 × 1 + 0.05 × 1 = 0.40
    assert row["score"] == pytest.approx(0.40) and row["reasons"] == ("same_class", "model", "maker")
    # the same model alone in another top class is not enough (0.15 < 0.35)
    m2, _ = D.find_matches(D.PurchaseCheck(name="ICP-MS", model="NexION 2000", class_code="070401",
                                           price_cny=3_000_000, on_date=DAY), inst, usage)
    assert m2.empty


def test_recent_hours_skip_years_before_commissioning():
    inst = pd.DataFrame({"id": [1, 2], "start_date": pd.to_datetime(["2024-06-01", None])})
    usage = pd.DataFrame({"instrument_id": [1, 2, 2], "year": [2025, 2022, 2025], "effective_hours": [600.0, 90.0, 300.0]})
    hours, years = D.recent_hours(inst, usage, history_years=3)
    assert years == (2022, 2025)  # years with any data
    h = hours.set_index("instrument_id")
    assert h.at[1, "years_counted"] == 1 and h.at[1, "avg_hours"] == pytest.approx(600)  # 2022 is before 2024
    assert h.at[2, "years_counted"] == 2 and h.at[2, "avg_hours"] == pytest.approx(195)  # (90 + 300) / 2


def test_pass_when_no_similar_instrument():
    inst, usage = registry()
    rec = D.recommend(D.PurchaseCheck(name="多功能酶标仪", class_code="0110", price_cny=120_000, on_date=DAY), inst, usage)
    assert (rec.verdict, rec.tier, rec.rules, rec.flags) == ("pass", "desk_check", ("no_similar",), ())
    assert rec.matches.empty


def test_pass_when_the_only_similar_one_is_out_of_service():
    inst, usage = registry({9, 3, 4, 5})
    rec = D.recommend(lc(), inst, usage)
    assert rec.verdict == "pass" and rec.rules == ("no_similar",)
    assert rec.evidence.iloc[0]["value"] == 1  # one similar instrument, not in service


def test_pass_when_all_similar_are_saturated():
    inst, usage = registry()
    rec = D.recommend(D.PurchaseCheck(name="原子吸收光谱仪", class_code="010401", price_cny=800_000, on_date=DAY), inst, usage)
    assert (rec.verdict, rec.tier, rec.rules) == ("pass", "expert_panel", ("all_saturated",))
    ev = rec.evidence.iloc[0]
    assert (ev["instrument_id"], ev["value"], ev["line"]) == (7, 1300, 1200)


def test_adjust_when_a_similar_one_runs_between_the_lines():
    inst, usage = registry({2, 3, 9})
    rec = D.recommend(lc(), inst, usage)
    assert rec.verdict == "adjust" and rec.rules == ("normal_load",)
    ev = rec.evidence.iloc[0]
    assert (ev["kind"], ev["instrument_id"], ev["value"], ev["line"]) == ("rule", 2, 1000, 1200)


def test_adjust_when_an_idle_similar_one_is_not_shared_externally():
    inst, usage = registry({1})
    inst["share_mode"] = "内部共享"
    rec = D.recommend(lc(), inst, usage)
    assert rec.verdict == "adjust" and rec.rules == ("idle_not_shared",)
    assert rec.evidence.iloc[0]["value"] == 400 and rec.evidence.iloc[0]["line"] == 800


def test_reject_when_a_similar_sharable_one_is_under_used():
    inst, usage = registry()
    rec = D.recommend(lc(), inst, usage)
    assert rec.verdict == "reject"
    assert rec.rules == ("idle_sharable", "normal_load")  # every fired rule is listed; the severest wins
    idle = rec.evidence[rec.evidence["id"] == "idle_sharable"].iloc[0]
    assert (idle["instrument_id"], idle["value"], idle["line"]) == (1, 400, 800)


def test_reject_when_the_applicant_is_restricted():
    inst, usage = registry()
    restricted = pd.DataFrame({"unit_id": [55], "until_year": [2027], "rules": [("poor_grade",)], "years": [2],
                               "from_year": [2026]})
    req = D.PurchaseCheck(name="多功能酶标仪", price_cny=120_000, unit_id=55, on_date=DAY)
    rec = D.recommend(req, inst, usage, restricted=restricted)
    assert rec.verdict == "reject" and rec.rules == ("applicant_restricted", "no_similar")
    assert "restricted" in rec.flags
    ev = rec.evidence.iloc[0]
    assert (ev["id"], ev["unit_id"], ev["value"], ev["line"]) == ("applicant_restricted", 55, 2026, 2027)
    # outside the restriction window: no restriction
    later = D.recommend(D.PurchaseCheck(name="多功能酶标仪", price_cny=120_000, unit_id=55, on_date=date(2028, 1, 5)),
                        inst, usage, restricted=restricted)
    assert later.verdict == "pass" and "restricted" not in later.flags


@pytest.mark.parametrize("price,tier", [(49_999, "below_floor"), (50_000, "desk_check"), (499_999, "desk_check"),
                                        (500_000, "expert_panel"), (1_999_999, "expert_panel"),
                                        (2_000_000, "joint_review")])
def test_tiers_by_price(price, tier):
    assert D.tier_of(price) == tier


def test_tiers_are_editable():
    review = D.ReviewRules(tier_edges_cny=(100_000, 1_000_000, 3_000_000))
    assert D.tier_of(600_000, review) == "desk_check" and D.tier_of(2_500_000, review) == "expert_panel"


@pytest.mark.parametrize("price,edge", [(475_000, 500_000), (499_999, 500_000), (474_999, None), (500_000, None),
                                        (1_900_000, 2_000_000), (1_899_999, None)])
def test_just_under_a_threshold(price, edge):
    assert D.near_threshold(price) == edge  # within 5 % below 50万 / 200万


def test_just_under_flag_in_the_recommendation_and_editable_share():
    inst, usage = registry()
    rec = D.recommend(lc(price_cny=490_000), inst, usage)
    assert "near_threshold" in rec.flags
    ev = rec.evidence[rec.evidence["id"] == "near_threshold"].iloc[0]
    assert (ev["kind"], ev["value"], ev["line"]) == ("flag", 490_000, 500_000)
    assert D.near_threshold(440_000, D.ReviewRules(near_share=0.15)) == 500_000


def test_possible_split_across_requests_of_the_same_unit_and_middle_class():
    inst, usage = registry()
    requests = pd.DataFrame({
        "id": [1, 2, 3, 4],
        "applicant_unit_id": [7, 7, 8, 7],
        "class_code": ["010502", "010501", "010501", "070401"],
        "quoted_price": [300_000.0, 150_000.0, 900_000.0, 900_000.0],
        "submitted_date": pd.to_datetime(["2026-01-10", "2024-01-10", "2026-02-01", "2026-02-01"]),
    })
    rec = D.recommend(lc(price_cny=300_000, unit_id=7), inst, usage, requests=requests)
    # only request 1 counts (2 is out of the 365-day window, 3 another unit, 4 another class):
    # 300,000 + 300,000 = 600,000 ≥ 500,000 while each part is a desk check
    assert "possible_split" in rec.flags and rec.tier == "desk_check"
    ev = rec.evidence[rec.evidence["id"] == "possible_split"].iloc[0]
    assert (ev["value"], ev["line"]) == (600_000, 500_000)
    small = D.recommend(lc(price_cny=100_000, unit_id=7), inst, usage, requests=requests)
    assert "possible_split" not in small.flags  # 400,000 stays a desk check


def test_to_dict_is_plain_json():
    import json

    inst, usage = registry()
    rec = D.recommend(lc(), inst, usage)
    data = json.loads(json.dumps(D.to_dict(lc(), rec)))
    assert data["verdict"] == "reject" and data["tier"] == "desk_check"
    assert [m["instrument_id"] for m in data["matches"]] == [9, 1, 2]


def test_a_request_without_class_matches_on_name_only():
    inst, usage = registry()
    m, _ = D.find_matches(lc(class_code=""), inst, usage)
    row = m.set_index("instrument_id").loc[1]
    assert row["class_relation"] == "no_class" and row["reasons"] == ("name",)
    assert row["score"] == pytest.approx(0.55 * 0.8875, abs=1e-4)


def test_recent_hours_of_a_subset_keep_the_registers_years():
    # find_matches asks for the matched instruments only; the years are still those of the whole
    # usage frame, and an instrument without any row counts 0 h in each of them
    inst = pd.DataFrame({"id": [1, 2, 3], "start_date": pd.to_datetime(["2024-06-01", None, None])})
    usage = pd.DataFrame({"instrument_id": [1, 2, 2], "year": [2025, 2022, 2025],
                          "effective_hours": [600.0, 90.0, 300.0]})
    hours, years = D.recent_hours(inst[inst["id"] == 3], usage, history_years=3)
    assert years == (2022, 2025)
    assert hours.to_dict("records") == [{"instrument_id": 3, "years_counted": 2, "avg_hours": 0.0}]
    part, _ = D.recent_hours(inst[inst["id"] == 2], usage, history_years=3)
    assert part["avg_hours"].tolist() == [pytest.approx(195)]  # as in the whole register


COPIES = 2_000  # 10 hand-made rows × 2,000 = 20,000 instruments


def big_registry() -> tuple[pd.DataFrame, pd.DataFrame]:
    """ROWS repeated COPIES times: copy k has ids 10·k + 1 … 10·k + 10 and the same usage; odd
    copies write names and models differently (spaces, full width, case), which normalises away.
    Rows are shuffled."""
    inst, usage = registry()
    copy = np.repeat(np.arange(COPIES), len(inst))
    big = inst.iloc[np.tile(np.arange(len(inst)), COPIES)].reset_index(drop=True)
    big["id"] = big["id"] + 10 * copy
    big["inner_id"] = "I-" + big["id"].astype(str)
    odd = copy % 2 == 1
    spaced = (inst["name_zh"].str[:2] + "　" + inst["name_zh"].str[2:]).to_numpy()
    wide = inst["model"].str.upper().str.replace("-", "－").to_numpy()
    big.loc[odd, "name_zh"] = np.tile(spaced, COPIES)[odd]
    big.loc[odd, "model"] = np.tile(wide, COPIES)[odd]
    uses = usage.iloc[np.tile(np.arange(len(usage)), COPIES)].reset_index(drop=True)
    uses["instrument_id"] = uses["instrument_id"] + 10 * np.repeat(np.arange(COPIES), len(usage))
    return big.sample(frac=1, random_state=8).reset_index(drop=True), uses


@pytest.fixture(scope="module")
def big():
    return big_registry()


@pytest.mark.parametrize("request_, pattern", [
    # 9 (identical name, score 0.75) first; 1 and 2 tie at 0.6881 and alternate by id
    (lc(), [9] * COPIES + [1, 2] * COPIES),
    (D.PurchaseCheck(name="ICP-MS", model="NexION-2000", maker="珀金埃尔默", class_code="010201",
                     price_cny=3_000_000, on_date=DAY), [10] * COPIES),
    (D.PurchaseCheck(name="原子吸收光谱仪", class_code="010401", price_cny=800_000, on_date=DAY), [7] * COPIES),
    (lc(class_code=""), [9] * COPIES + [1, 2] * COPIES),
    (D.PurchaseCheck(name="多功能酶标仪", class_code="0110", price_cny=120_000, on_date=DAY), []),
])
def test_a_big_registry_gives_the_small_ones_matches_repeated(big, request_, pattern):
    inst, usage = registry()
    small = D.recommend(request_, inst, usage)
    rec = D.recommend(request_, *big)
    m = rec.matches
    assert list((m["instrument_id"] - 1) % 10 + 1) == pattern  # the ranks pattern
    assert list(m["rank"]) == list(range(1, len(pattern) + 1))
    ids, copy = [], dict.fromkeys(pattern, 0)
    for b in pattern:  # within a tie the copies come by id: copy 0, 1, 2, …
        ids.append(b + 10 * copy[b])
        copy[b] += 1
    assert list(m["instrument_id"]) == ids
    # every copy carries the numbers of its original row
    same = [c for c in D.MATCH_COLUMNS if c not in ("rank", "instrument_id", "inner_id", "name_zh", "model")]
    base = small.matches.set_index("instrument_id")[same]
    expected = base.loc[[(i - 1) % 10 + 1 for i in m["instrument_id"]]].reset_index(drop=True)
    pd.testing.assert_frame_equal(m[same].reset_index(drop=True), expected, check_dtype=False)
    assert (rec.verdict, rec.rules, rec.years) == (small.verdict, small.rules, small.years)
    per_instrument = small.evidence["instrument_id"].notna()
    assert len(rec.evidence) == COPIES * per_instrument.sum() + (~per_instrument).sum()
