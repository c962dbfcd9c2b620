"""`python -m dashboard evaluate --year Y [--scheme S] [--format text|csv|json]` prints the ranking.

The store is the hand-made one of tests/test_publication.py: with the default scheme 甲研究院 (A,
busy, serves nobody outside) ranks above the 检测中心 (B, little use, mostly external); with a
scheme that weighs only 共享服务 the order flips (A scores 0 there, B 35).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from dashboard.__main__ import main
from dashboard.evaluation import run_evaluation
from dashboard.scheme import default_scheme
from models.services.evaluation import save_scheme
from tests.test_publication import SCRIPT_NAME, YEAR, store  # noqa: F401  (fixture)

SHARE_ONLY = default_scheme().with_weights({"org": 0, "use": 0, "share": 1})


@pytest.fixture
def cli(store, run_cli):
    """Run the CLI (messages in English) on the test store; returns (run, engine, ids)."""
    engine, ids = store
    yield (lambda *argv: run_cli("--lang", "en", *argv)), engine, ids


def _ranked_names(engine, scheme=None) -> list[str]:
    """Names of the rated units in rank order, as the domain function gives them."""
    table, result = run_evaluation(engine, YEAR, scheme)
    rated = result.rated()
    return [table.units.loc[uid, "name"] for uid in rated.index]


def test_text_output_follows_run_evaluation(cli):
    run, engine, _ = cli
    code, out, err = run("evaluate", "--year", str(YEAR))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"Open-sharing performance evaluation {YEAR}") and lines[0].endswith("2 of 4 units rated")
    assert lines[1].split("\t")[:2] == ["Rank", "Unit"]
    rows = [line.split("\t") for line in lines[2:4]]
    assert [r[1] for r in rows] == _ranked_names(engine) == ["甲研究院", SCRIPT_NAME]
    assert [r[0] for r in rows] == ["1", "2"] and [r[4] for r in rows] == ["51.57", "33.42"]
    assert lines[4] == "Units not rated:" and lines[5].startswith("丙站\t") and lines[6].startswith("丁所\t")
    assert lines[7].startswith("Result fingerprint ")


def test_csv_output_lists_ranked_then_unrated_units(cli):
    run, engine, _ = cli
    code, out, _ = run("evaluate", "--year", str(YEAR), "--format", "csv")
    assert code == 0 and not out.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:2] == ["Rank", "Unit"]
    assert [r[1] for r in rows[1:3]] == _ranked_names(engine)
    assert [r[1] for r in rows[3:]] == ["丙站", "丁所"] and rows[3][0] == rows[4][0] == ""


def test_json_output_carries_ranks_scores_and_fingerprints(cli):
    run, engine, ids = cli
    code, out, _ = run("evaluate", "--year", str(YEAR), "--format", "json")
    assert code == 0
    payload = json.loads(out)
    _, result = run_evaluation(engine, YEAR)
    assert [u["unit_id"] for u in payload["units"]] == list(result.table.index)
    by_id = {u["unit_id"]: u for u in payload["units"]}
    assert by_id[ids["A"]]["rank"] == 1 and by_id[ids["A"]]["score"] == pytest.approx(51.571429)
    assert by_id[ids["A"]]["groups"]["use"] == pytest.approx(91.428571)
    assert by_id[ids["C"]]["rank"] is None and by_id[ids["C"]]["status"] == "too_few_instruments"
    assert by_id[ids["D"]]["grade"] == "较差"
    assert payload["scheme"] == {"name": default_scheme().name, "version": 1}
    assert len(payload["fingerprint"]) == len(payload["data_fingerprint"]) == 64


def test_scheme_from_a_json_file_changes_the_order(cli, tmp_path):
    run, engine, _ = cli
    path = tmp_path / "share_only.json"
    path.write_text(SHARE_ONLY.to_json(), encoding="utf-8")
    code, out, _ = run("evaluate", "--year", str(YEAR), "--scheme", str(path), "--format", "csv")
    assert code == 0
    names = [r[1] for r in list(csv.reader(io.StringIO(out)))[1:3]]
    assert names == _ranked_names(engine, SHARE_ONLY) == [SCRIPT_NAME, "甲研究院"]


def test_stored_scheme_by_id_and_as_the_default(cli):
    run, engine, _ = cli
    default_id = save_scheme(engine, default_scheme(), actor="tester")
    share_id = save_scheme(engine, SHARE_ONLY, actor="tester")  # the latest version
    for argv in (("--scheme", str(share_id)), ()):
        code, out, _ = run("evaluate", "--year", str(YEAR), "--format", "json", *argv)
        assert code == 0
        assert [u["name"] for u in json.loads(out)["units"][:2]] == [SCRIPT_NAME, "甲研究院"]
    code, out, _ = run("evaluate", "--year", str(YEAR), "--format", "json", "--scheme", str(default_id))
    assert [u["name"] for u in json.loads(out)["units"][:2]] == ["甲研究院", SCRIPT_NAME]


def test_unknown_scheme_id_is_a_usage_error(cli):
    run, engine, _ = cli
    stored = save_scheme(engine, default_scheme(), actor="tester")
    code, out, err = run("evaluate", "--year", str(YEAR), "--scheme", "99")
    assert code == 2 and out == ""
    assert err.strip() == f"There is no indicator scheme with id 99 (stored ids: {stored})."


def test_missing_or_invalid_scheme_file_is_a_usage_error(cli, tmp_path):
    run, _, _ = cli
    code, _, err = run("evaluate", "--year", str(YEAR), "--scheme", str(tmp_path / "none.json"))
    assert code == 2 and "Cannot read the scheme file" in err and "none.json" in err
    bad = tmp_path / "bad.json"
    bad.write_text(SHARE_ONLY.to_json().replace('"higher"', '"sideways"', 1), encoding="utf-8")
    code, _, err = run("evaluate", "--year", str(YEAR), "--scheme", str(bad))
    assert code == 2 and "bad.json is not valid" in err and "direction must be one of" in err


def test_a_year_without_data_is_a_usage_error(cli):
    run, _, _ = cli
    code, out, err = run("evaluate", "--year", "2019")
    assert code == 2 and out == ""
    assert err.strip() == "There are no usage data for 2019, so it cannot be evaluated (years with data: 2025)."


def test_evaluate_help_comes_from_the_catalogue(capsys):
    with pytest.raises(SystemExit):
        main(["--lang", "en", "evaluate", "--help"])
    assert "output format: text (a table, default), csv or json" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    assert "评价年度" in capsys.readouterr().out
