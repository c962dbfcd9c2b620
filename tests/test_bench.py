"""The benchmark command measures every step on a throw-away store (no timing assertions)."""

import json

from dashboard.__main__ import main
from dashboard.bench import TARGETS, run_benchmark


def test_benchmark_runs_every_step_on_a_small_store(tmp_path):
    results = run_benchmark(instruments=40, database_url=f"sqlite:///{tmp_path / 'b.sqlite'}")
    assert [r.step for r in results] == list(TARGETS)
    by_step = {r.step: r for r in results}
    assert by_step["generate"].detail.startswith("40 instruments")
    assert by_step["read"].detail.startswith("40 instruments")
    assert by_step["validate_instruments"].detail == "40 rows, 0 errors"  # its own export re-validates
    assert by_step["evaluate"].detail.endswith("units rated")
    assert by_step["rerank"].detail.endswith("units moved")
    assert by_step["monte_carlo"].detail.startswith("1000 draws, widest 5–95 % band")
    assert all(r.seconds >= 0 and r.peak_mib > 0 for r in results)


def test_bench_cli_prints_json(capsys, tmp_path):
    code = main(["--lang", "en", "bench", "--instruments", "30", "--format", "json",
                 "--database-url", f"sqlite:///{tmp_path / 'c.sqlite'}"])
    rows = json.loads(capsys.readouterr().out)
    assert [r["step"] for r in rows] == list(TARGETS)
    assert code == (0 if all(r["ok"] for r in rows) else 1)


def test_cli_help_follows_the_language(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["--lang", "en", "--help"])
    assert "Command line of the Alxa League" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "命令行" in capsys.readouterr().out
