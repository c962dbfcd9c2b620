"""The benchmark command: every measurement on a small store, the table, the JSON, store reuse.

No timing is asserted (targets are for the reference machine, checked by the benchmark itself);
only that every step ran and reported a number, and that the verdicts follow the numbers.
"""

import json

import pytest

from dashboard.__main__ import main
from dashboard.bench import METRICS, TARGETS, ForeignStore, ensure_store, sidecar_path, target_for
from models import queries
from models.db import bump_revision, get_engine, session_scope
from tests.factories import add_unit

INSTRUMENTS = 30
REQUIRED = ("instruments", "units", "usage_rows", "indicator_build_s", "rerank_ms", "montecarlo_ms", "allocate_ms",
            "voucher_sim_ms", "dupcheck_ms", "apptest_evaluation_rerun_ms", "peak_memory_mb")


def _bench(tmp_path, *extra) -> tuple[int, list[dict]]:
    out = tmp_path / "bench.json"
    code = main(["--lang", "en", "bench", "--scale", "alxa", "--instruments", str(INSTRUMENTS),
                 "--store", str(tmp_path / "store.sqlite"), "--out", str(out), *extra])
    return code, json.loads(out.read_text(encoding="utf-8"))


def test_bench_measures_every_step_prints_a_table_writes_json_and_reuses_its_store(capsys, tmp_path):
    code, runs = _bench(tmp_path)
    table = capsys.readouterr().out
    assert len(runs) == 1
    run = runs[0]
    assert run["scale"] == "alxa" and run["instruments"] == INSTRUMENTS and run["units"] == 35
    assert isinstance(run["usage_rows"], int) and run["usage_rows"] > 0 and run["service_rows"] > 0
    for key in REQUIRED[3:]:
        assert isinstance(run[key], (int, float)) and run[key] >= 0, key
    assert set(METRICS) <= set(run)
    assert run["apptest_total_s"] > 0 and run["peak_memory_mb"] == max(run["bench_peak_memory_mb"],
                                                                       run["apptest_peak_memory_mb"])
    # Every issue-8 target applies at the smallest scale (smaller data, same or looser limits).
    assert run["targets"] == {k: target_for(k, "alxa") for k in TARGETS}
    assert run["met"] == {k: run[k] <= limit for k, limit in run["targets"].items()}
    assert run["ok"] == all(run["met"].values()) and code == (0 if run["ok"] else 1)
    assert run["store"]["built"] is True and run["store"]["build_s"] > 0

    # The table: the header with the counts, a row per measurement with its target and verdict.
    assert f"Benchmark alxa, year {run['year']}: {INSTRUMENTS} instruments, 35 units" in table
    assert "built now in" in table
    rerank = next(line for line in table.splitlines() if line.startswith("re-rank after a weight change (ms)"))
    assert "≤ 50.0" in rerank and rerank.endswith("ok" if run["met"]["rerank_ms"] else "MISSED")
    assert any(line.startswith("AppTest: Evaluation after a weight change (ms)") for line in table.splitlines())

    # A second run finds the store it built and reuses it.
    code, again = _bench(tmp_path, "--format", "json")
    printed = json.loads(capsys.readouterr().out)
    assert printed == again
    assert again[0]["store"] == {**run["store"], "built": False, "reason": ""}
    assert again[0]["usage_rows"] == run["usage_rows"]


def test_a_changed_or_different_store_is_built_again(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    first = ensure_store("alxa", instruments=12, url=url)
    assert first.built and first.reason == "missing" and first.counts["instruments"] == 12
    assert sidecar_path(url).exists()
    assert not ensure_store("league", instruments=12, url=url).built  # league is alxa
    with session_scope(get_engine(url)) as s:  # any write to the store
        bump_revision(s)
    assert ensure_store("alxa", instruments=12, url=url).reason == "changed"
    assert ensure_store("alxa", instruments=13, url=url).reason == "different"
    assert ensure_store("alxa", instruments=13, url=url, rebuild=True).reason == "forced"
    assert not ensure_store("alxa", instruments=13, url=url).built


def test_a_store_the_benchmark_did_not_build_is_never_replaced(capsys, tmp_path):
    path = tmp_path / "working.sqlite"
    url = f"sqlite:///{path}"
    add_unit(get_engine(url), "某研究院")
    with pytest.raises(ForeignStore):
        ensure_store("alxa", instruments=12, url=url)
    code = main(["--lang", "en", "bench", "--store", str(path)])
    assert code == 2 and "holds data the benchmark did not generate" in capsys.readouterr().err
    assert list(queries.units(get_engine(url))["name"]) == ["某研究院"] and not sidecar_path(url).exists()


def test_targets_of_a_larger_scale_hold_for_the_smaller_ones():
    assert target_for("dupcheck_ms", "alxa") == target_for("dupcheck_ms", "province") == 300
    assert target_for("rerank_ms", "province") == 50 and target_for("rerank_ms", "national") == 200
    assert target_for("montecarlo_ms", "league") == 1000 and target_for("montecarlo_ms", "national") is None
    assert target_for("peak_memory_mb", "province") == 2048
    with pytest.raises(ValueError, match="unknown scale"):
        target_for("rerank_ms", "county")


def test_cli_help_follows_the_language(capsys):
    with pytest.raises(SystemExit):
        main(["--lang", "en", "--help"])
    assert "Command line of the Alxa League" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "命令行" in capsys.readouterr().out
