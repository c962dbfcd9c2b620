"""Benchmarks: `python -m dashboard bench [--scale league|province] [--instruments N]`.

Each step is timed on a throw-away store (a temporary SQLite file unless `--database-url` names
another database) and compared with its target; memory is the process's peak resident set size
after the step (a high-water mark, so it covers every step up to that one). Targets are for the
2-core reference machine; they live here, not in timed tests.
"""

from __future__ import annotations

import json
import tempfile
import time
import resource
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from dashboard import census, registry
from dashboard.demo import generate_demo
from dashboard.i18n import Translator
from models import queries
from models.db import get_engine

# step -> (target seconds at league scale, target seconds at province scale, peak RSS MiB)
TARGETS: dict[str, tuple[float, float, float]] = {
    "generate": (2.0, 10.0, 1536),
    "load": (5.0, 60.0, 1536),
    "read": (0.5, 3.0, 1536),
    "overview": (0.2, 1.0, 1536),
    "registry_filter": (0.1, 0.5, 1536),
    "export_instruments": (0.5, 5.0, 1536),
    "validate_instruments": (0.5, 10.0, 1536),
    # Evaluation (issue 3): the first evaluation of a year from the store, a re-rank after a
    # weight change on the cached indicator table (what the live-weights page does on every
    # slider move), and the Monte Carlo rank bands (N = 1000 weight draws).
    "evaluate": (1.0, 5.0, 1536),
    "rerank": (0.2, 0.5, 1536),
    "monte_carlo": (1.0, 5.0, 1536),
}
MONTE_CARLO_DRAWS = 1000


@dataclass
class StepResult:
    step: str
    seconds: float
    peak_mib: float
    target_seconds: float
    target_mib: float
    ok: bool
    detail: str = ""


def _measure(step: str, scale: str, fn: Callable[[], str]) -> StepResult:
    league, province, target_mib = TARGETS[step]
    target = province if scale == "province" else league
    started = time.perf_counter()
    detail = fn()
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    ok = seconds <= target and peak_mib <= target_mib
    return StepResult(step, round(seconds, 3), round(peak_mib, 1), target, target_mib, ok, detail)


def run_benchmark(scale: str = "league", instruments: int | None = None, database_url: str | None = None) -> list[StepResult]:
    """Run every step once on a fresh store; returns the results in order."""
    from dashboard import scoring
    from dashboard.evaluation import run_evaluation
    from dashboard.transfer import check_file, export_file  # heavy imports only when benchmarking
    from models.services.demo import load_demo

    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        engine = get_engine(url)
        state: dict = {}
        results = []

        def generate() -> str:
            data = generate_demo(scale=scale, instruments=instruments)
            return f"{len(data.instruments)} instruments, {len(data.usage)} usage rows"

        def load() -> str:
            counts = load_demo(engine, scale=scale, instruments=instruments, replace=True)
            return f"{sum(counts.values())} rows"

        def read() -> str:
            state["instruments"] = queries.instruments(engine)
            state["usage"] = queries.usage_by_instrument_year(engine)
            state["year"] = max(queries.usage_years(engine))
            return f"{len(state['instruments'])} instruments, {len(state['usage'])} instrument-years"

        def overview() -> str:
            annual = census.annual_frame(state["instruments"], state["usage"], state["year"])
            k = census.kpis(annual)
            census.by_field(annual, "unit_type")
            census.by_value_band(annual)
            return f"{k.instruments} instruments, {k.idle_count} low-use"

        def registry_filter() -> str:
            flt = registry.RegistryFilter(text="色谱", share_modes=("外部共享",))
            return f"{len(registry.filter_instruments(state['instruments'], flt))} matches"

        def export_instruments() -> str:
            state["export"] = export_file(engine, "instruments", "csv")
            return f"{len(state['export']) // 1024} KiB"

        def validate_instruments() -> str:
            outcome = check_file(engine, "instruments", "bench.csv", state["export"])
            return f"{len(outcome.parsed.rows)} rows, {len(outcome.parsed.errors)} errors"

        def evaluate() -> str:
            state["table"], state["result"] = run_evaluation(engine, state["year"])
            rated = state["result"].rated()
            return f"{len(rated)} of {len(state['result'].table)} units rated"

        def rerank() -> str:
            table, before = state["table"], state["result"]
            changed = before.weights.copy()
            changed[changed.index[0]] *= 2  # e.g. doubling 开放比例 on the live-weights page
            after = scoring.evaluate(table.raw, table.units, before.scheme, weights=changed)
            moves = scoring.rank_moves(after, before)
            return f"{int((moves['move'].fillna(0) != 0).sum())} units moved"

        def monte_carlo() -> str:
            result = state["result"]
            bands = scoring.monte_carlo_ranks(
                result.normalised, result.weights, result.rated()[result.scheme.tie_break_group],
                n=MONTE_CARLO_DRAWS, method=result.scheme.aggregation, floor=result.floor,
            )
            width = (bands["p95_rank"] - bands["p5_rank"]).max() if len(bands) else 0
            return f"{MONTE_CARLO_DRAWS} draws, widest 5–95 % band {width:g} ranks"

        for step, fn in (
            ("generate", generate), ("load", load), ("read", read), ("overview", overview),
            ("registry_filter", registry_filter), ("export_instruments", export_instruments),
            ("validate_instruments", validate_instruments), ("evaluate", evaluate), ("rerank", rerank),
            ("monte_carlo", monte_carlo),
        ):
            results.append(_measure(step, scale, fn))
        engine.dispose()
        get_engine.cache_clear()
        return results


def run_bench(args, t: Translator) -> int:
    results = run_benchmark(args.scale, args.instruments, args.database_url)
    if args.format == "json":
        print(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2))
    else:
        print(t("cli.bench.header", scale=args.scale))
        for r in results:
            verdict = t("cli.bench.ok") if r.ok else t("cli.bench.slow")
            print(t("cli.bench.row", step=r.step, seconds=f"{r.seconds:.3f}", target=f"{r.target_seconds:g}",
                    peak=f"{r.peak_mib:.1f}", target_mib=f"{r.target_mib:g}", verdict=verdict, detail=r.detail))
    return 0 if all(r.ok for r in results) else 1
