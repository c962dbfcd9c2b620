"""The fast path of the duplicate check (issue 8) against the plain definition.

`find_matches` computes every per-row measure once per distinct value (a national register of
100,000 instruments repeats a few hundred names, models, makers and codes), caches the n-grams of
names between checks and pivots the usage of the matched instruments only. These tests hold it to
the row-by-row definition on the demonstration register with untidy values (missing models,
makers, specs and class codes; names written with full-width letters and spaces), and check that
the per-row work really is per distinct value. No timings are asserted here.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard import dupcheck as D
from dashboard.demo import generate_demo
from tests.test_dupcheck import big_registry

DAY = date(2026, 3, 1)


@pytest.fixture(scope="module")
def demo():
    data = generate_demo(2016)
    inst = data.instruments.copy()
    rows = np.arange(len(inst))
    inst.loc[rows % 7 == 0, "model"] = None
    inst.loc[rows % 11 == 0, "manufacturer"] = np.nan
    inst.loc[rows % 13 == 0, "technical_specs"] = None
    inst.loc[rows % 17 == 0, "class_code"] = None
    inst.loc[rows % 5 == 0, "name_zh"] = inst["name_zh"].str.replace("仪", " 仪（ＨＰＬＣ）")
    usage = data.usage.groupby(["instrument_id", "year"], as_index=False)["effective_hours"].sum()
    return inst, usage, data.purchase_requests


def checks(requests: pd.DataFrame) -> list[D.PurchaseCheck]:
    out = []
    for r in requests.drop_duplicates(["instrument_name", "model", "class_code"]).itertuples():
        base = D.PurchaseCheck(name=r.instrument_name, price_cny=float(r.quoted_price), model=r.model or "",
                               class_code=r.class_code or "", maker=r.manufacturer or "", specs=r.key_specs or "",
                               on_date=DAY)
        out += [base, D.PurchaseCheck(name=base.name, price_cny=base.price_cny, on_date=DAY),
                D.PurchaseCheck(name="ICP-MS", model=base.model, class_code=base.class_code[:4],
                                price_cny=base.price_cny, on_date=DAY)]
    return out


def text(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def definition(request: D.PurchaseCheck, inst: pd.DataFrame, usage: pd.DataFrame,
               rules: D.MatchRules = D.MatchRules()) -> pd.DataFrame:
    """Score, keep and rank every instrument one row at a time, with the scalar functions."""
    years = sorted(y for y in usage["year"].unique() if y <= request.day().year)[-3:]
    hours = usage.set_index(["instrument_id", "year"])["effective_hours"]
    scores = dict(zip((D.CLASS_SAME, D.CLASS_MIDDLE, D.CLASS_TOP), rules.class_scores))
    maker = D.normalise(request.maker)
    rows = []
    for r in inst.itertuples():
        sim = D.name_similarity(request.name, text(r.name_zh))
        relation = D.class_relation(request.class_code, text(r.class_code))
        model = D.model_match(request.model, text(r.model))
        made = bool(maker) and D.normalise(text(r.manufacturer)) == maker
        specs = D.dice(D.ngrams(D.normalise(request.specs), 2), D.ngrams(D.normalise(text(r.technical_specs)), 2))
        score = (rules.w_name * sim + rules.w_class * scores.get(relation, 0.0) + rules.w_model * model
                 + rules.w_maker * made + rules.w_specs * specs)
        if score >= rules.min_score - 1e-12 and (sim >= rules.min_name_similarity - 1e-12 or model):
            counted = [y for y in years if y >= pd.Timestamp(r.start_date).year]
            total = sum(hours.get((r.id, y), 0.0) for y in counted)
            rows.append({"instrument_id": r.id, "name_similarity": round(sim, 4), "class_relation": relation,
                         "model_match": model, "maker_match": made, "specs_similarity": round(specs, 4),
                         "score": round(score, 4), "years_counted": len(counted),
                         "avg_hours": total / len(counted) if counted else 0.0})
    cols = ["instrument_id", "name_similarity", "class_relation", "model_match", "maker_match", "specs_similarity",
            "score", "years_counted", "avg_hours"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["score", "name_similarity", "instrument_id"], ascending=[False, False, True]) \
        .reset_index(drop=True)


def test_the_fast_path_equals_the_row_by_row_definition(demo):
    inst, usage, requests = demo
    tried = matched = 0
    for request in checks(requests):
        got, _ = D.find_matches(request, inst, usage)
        want = definition(request, inst, usage)
        assert list(got["instrument_id"]) == list(want["instrument_id"]), request
        for col in want.columns[1:]:
            assert list(got[col]) == pytest.approx(list(want[col]), abs=1e-9) if want[col].dtype.kind == "f" \
                else list(got[col]) == list(want[col]), (request, col)
        tried, matched = tried + 1, matched + bool(len(want))
    assert tried >= 30 and matched >= 10  # the demo requests include duplicates of registered instruments


def test_per_row_work_is_done_once_per_distinct_value(monkeypatch):
    inst, usage = big_registry()  # 20,000 instruments: 6 class codes, 10 models in 17 spellings
    calls = {"class": 0, "model": 0}
    relation, model = D.class_relation, D.model_match

    def counted_relation(a, b):
        calls["class"] += 1
        return relation(a, b)

    def counted_model(a, b):
        calls["model"] += 1
        return model(a, b)

    monkeypatch.setattr(D, "class_relation", counted_relation)
    monkeypatch.setattr(D, "model_match", counted_model)
    m, _ = D.find_matches(D.PurchaseCheck(name="液相色谱仪", model="LC-20AT", class_code="010501", price_cny=1,
                                          on_date=DAY), inst, usage)
    assert calls == {"class": inst["class_code"].nunique(), "model": inst["model"].nunique()}
    assert len(m) == 3 * 2_000  # 液相色谱仪 (9) and 高效液相色谱仪 (1, 2) in every copy


def test_name_ngrams_are_cached_between_checks():
    inst, usage = big_registry()
    D._grams.cache_clear()
    D.find_matches(D.PurchaseCheck(name="液相色谱仪", price_cny=1, on_date=DAY), inst, usage)
    assert D._grams.cache_info().misses == 9  # 9 distinct names (written 18 ways), the request's among them
    D.find_matches(D.PurchaseCheck(name="多功能酶标仪", price_cny=1, on_date=DAY), inst, usage)
    assert D._grams.cache_info().misses == 10  # only the new request's name is cut into n-grams


def test_to_dict_by_column_equals_the_row_by_row_view(demo):
    import json

    inst, usage, requests = demo
    request = checks(requests)[0]
    rec = D.recommend(request, inst, usage, requests=requests)
    data = D.to_dict(request, rec, english=True)
    assert len(data["matches"]) == len(rec.matches) > 0 and len(data["evidence"]) == len(rec.evidence) > 0

    def plain(v):  # JSON's view of one cell: NaN and missing → None, numpy scalars → Python
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        return v.item() if isinstance(v, np.generic) else list(v) if isinstance(v, tuple) else v

    want = [{c: plain(r[c]) for c in D.MATCH_COLUMNS} for _, r in rec.matches.iterrows()]
    assert json.dumps(data["matches"], ensure_ascii=False) == json.dumps(want, ensure_ascii=False)
    assert [e["instrument_id"] for e in data["evidence"]] == [plain(v) for v in rec.evidence["instrument_id"]]
