"""Benchmark: `python -m dashboard bench [--scale alxa|province|national] [--out FILE.json]`.

One run per `--scale` (repeatable; `league` is another name of `alxa`):

1. The store. A SQLite file generated with the demo generator at that scale (`dashboard.demo`,
   `Scale`): alxa = the demo (35 units, ≈ 330 instruments); province = 29 leagues (1,015 units,
   20,000 instruments); national = 86 leagues (3,010 units, 100,000 instruments, service records
   thinned, see `dashboard.demo.Scale`); five years of monthly usage each. Building it takes
   seconds (alxa) to many minutes (national), so it is kept — by default under the system
   temporary folder (`dashboard-bench/<scale>-seed<seed>.sqlite`), or at `--store PATH` /
   `--database-url URL` — with a sidecar file `<store>.bench.json` that records what was built. A
   later run reuses the store when the sidecar matches the scale, seed, instrument count and the
   generator's fingerprint (a hash of the code of the generator, the loader and the tables — not
   their comments or docstrings — and of the vocabulary) and
   the store still has the demo seed and the data revision it had after the build; otherwise (or
   with `--rebuild`) it is built again. The build runs in a child process, so its memory does not
   count towards the measured peak; its time and peak are reported (`store.build_s`).
2. The measured steps, in a fresh child process (`python -m dashboard.bench measure`), on that
   store: the cold build of the indicator matrix for the latest year from the store
   (`indicators.load_inputs` + `compute_indicators`, what `evaluation.run_evaluation` and the
   Evaluation page do first); a re-rank after a weight change
   on the built matrix (`scoring.evaluate` with changed weights + `rank_moves`, median of five
   changes); Monte Carlo rank bands with 1000 weight draws (`scoring.monte_carlo_ranks`, as the
   Evaluation page's robustness tab runs it); the reward allocation on the rated units' scores
   (`incentives.allocate`, a pool that caps bind on); the voucher simulation of the year's service
   records (`vouchers.simulate`, default policy); the duplicate check of one purchase request on
   the store's instruments and usage (`dupcheck.recommend`: the first check on freshly read frames
   is `dupcheck_ms`, the median of three more checks of other requests `dupcheck_warm_ms`).
3. AppTest, in a child process (`dashboard/ui/bench_apptest.py`, DATABASE_URL = the store, no
   signed-in person): a full run of the Overview, Evaluation and Incentives pages in a fresh app
   session (cold caches), then the Evaluation page's rerun after a group weight changes.
4. Peak memory: the high-water resident set size (VmHWM, MiB; `peak_mib`) of the measuring process
   and of the AppTest process, whichever is larger (`peak_memory_mb`; each is also reported).

Targets (issue 8, the 2-core reference machine) are per scale; a target set for a larger scale also
holds for the smaller ones (e.g. the duplicate check ≤ 300 ms at national scale also applies at
province and alxa scale), one set for a smaller scale is not carried up (`target_for`). The
result has, per scale run, every measurement, `targets` (key → limit) and `met` (key → bool); the
exit code is 1 when a target is missed. `--profile` also prints the top functions (cProfile,
cumulative and own time) of each measured step and of each AppTest run to stderr; profiling slows
the steps down.
"""

from __future__ import annotations

import ast
import cProfile
import hashlib
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from dashboard.demo import DEFAULT_SEED, REFERENCE_DATE, SCALES as DEMO_SCALES, scale_of
from dashboard.i18n import Translator

ROOT = Path(__file__).resolve().parent.parent
BENCH_SCALES = ("alxa", "province", "national")  # smallest first
SCALE_ALIASES = {"league": "alxa"}
DEMO_SCALE = {"alxa": "league", "province": "province", "national": "national"}  # dashboard.demo.SCALES keys
MONTE_CARLO_DRAWS = 1000
RERANK_REPEATS = 5
DUPCHECK_WARM_REPEATS = 3
REWARD_POOL_CNY = 10_000_000.0  # shared by score, each unit capped: the water-filling path runs
REWARD_CAP_CNY = 50_000.0
APPTEST_TIMEOUT_S = 1800.0

# key → {scale: limit}, in the key's unit (s, ms, MiB). Limits from issue 8, item 3.
TARGETS: dict[str, dict[str, float]] = {
    "indicator_build_s": {"province": 5.0},
    "rerank_ms": {"province": 50.0, "national": 200.0},
    "montecarlo_ms": {"province": 1000.0},
    "dupcheck_ms": {"national": 300.0},
    "apptest_evaluation_rerun_ms": {"province": 1000.0},
    "peak_memory_mb": {"national": 2048.0},
}
# The measurements of a run, in report order (all numbers; None when a step had nothing to do).
METRICS = (
    "indicator_build_s", "indicator_load_s", "indicator_compute_s", "evaluate_ms", "rerank_ms", "montecarlo_ms",
    "allocate_ms", "services_read_s", "voucher_sim_ms", "dupcheck_read_s", "dupcheck_ms", "dupcheck_warm_ms",
    "apptest_overview_ms", "apptest_evaluation_ms", "apptest_incentives_ms", "apptest_evaluation_return_ms",
    "apptest_evaluation_rerun_ms",
    "apptest_total_s", "bench_peak_memory_mb", "apptest_peak_memory_mb", "peak_memory_mb",
)
GENERATOR_FILES = ("dashboard/demo.py", "models/tables.py", "models/services/demo.py")
SIDECAR_SUFFIX = ".bench.json"


class BenchError(RuntimeError):
    """A step could not run (a child process failed); the message says which and why."""


class ForeignStore(RuntimeError):
    """The store named by --store / --database-url holds data the benchmark did not put there."""

    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


def canonical_scale(name: str) -> str:
    name = SCALE_ALIASES.get(name, name)
    if name not in BENCH_SCALES:
        raise ValueError(f"unknown scale {name!r}; expected one of {BENCH_SCALES + tuple(SCALE_ALIASES)}")
    return name


def target_for(key: str, scale: str) -> float | None:
    """The limit of `key` at `scale`: the one set for `scale`, else the one of the nearest larger
    scale that sets one (what holds for a bigger store holds for a smaller one), else None."""
    limits = TARGETS.get(key, {})
    for s in BENCH_SCALES[BENCH_SCALES.index(canonical_scale(scale)):]:
        if s in limits:
            return limits[s]
    return None


def peak_mib() -> float:
    """This process's peak resident memory, MiB: VmHWM where /proc has it, else ru_maxrss.

    VmHWM is the high-water mark of the process's own memory map. ru_maxrss would do in a
    parent, but Linux carries it over exec from the forked copy of the parent, so a child's
    ru_maxrss is never below the parent's resident size when it was started."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# --------------------------------------------------------------------------- the store


def _code_digest(source: str) -> str:
    """The code of a module without its comments, layout and docstrings (which do not change the
    data it generates)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


def generator_fingerprint() -> str:
    """Changes whenever the code of the generator, of the loader or of the store's tables, or the
    generator's vocabulary, changes (comments and docstrings do not count)."""
    h = hashlib.sha256()
    files = [ROOT / f for f in GENERATOR_FILES] + sorted((ROOT / "data" / "demo").glob("*.csv"))
    for path in files:
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(_code_digest(path.read_text(encoding="utf-8")).encode() if path.suffix == ".py" else path.read_bytes())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "dashboard-bench"


def default_store(scale: str, seed: int, instruments: int | None) -> Path:
    suffix = "" if instruments is None else f"-n{instruments}"
    return cache_dir() / f"{canonical_scale(scale)}-seed{seed}{suffix}.sqlite"


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) and url != prefix + ":memory:" else None


def sidecar_path(url: str) -> Path:
    """Where the record of a built store lives: beside a SQLite file, else in the cache folder."""
    path = _sqlite_path(url)
    if path is not None:
        return path.with_name(path.name + SIDECAR_SUFFIX)
    return cache_dir() / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}{SIDECAR_SUFFIX}"


@dataclass(frozen=True)
class StoreInfo:
    url: str
    built: bool  # built by this run (else reused)
    build_s: float  # how long the (last) build took
    build_peak_memory_mb: float
    counts: dict  # rows per demo frame
    reason: str  # why it was built: "missing", "incomplete", "different", "changed", "forced"; "" when reused

    def as_dict(self) -> dict:
        path = _sqlite_path(self.url)
        return {"location": str(path) if path is not None else _hide_password(self.url), "built": self.built,
                "build_s": self.build_s, "build_peak_memory_mb": self.build_peak_memory_mb, "reason": self.reason}


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _store_state(url: str) -> tuple[int, str | None] | None:
    """(data revision, demo seed) of the store, or None when it holds no demo data."""
    from models import queries
    from models.db import data_revision, get_engine

    engine = get_engine(url)
    try:
        seed = queries.store_meta(engine, "demo_seed")
        return (data_revision(engine), seed) if seed is not None else None
    finally:
        engine.dispose()


def _wanted(scale: str, seed: int, instruments: int | None) -> dict:
    return {"scale": canonical_scale(scale), "seed": seed, "instruments": instruments,
            "generator": generator_fingerprint()}


def _reuse_problem(url: str, wanted: dict) -> tuple[str, dict | None]:
    """("", record) when the store at `url` can be reused, else (reason, None)."""
    side = sidecar_path(url)
    path = _sqlite_path(url)
    if not side.exists() or (path is not None and not path.exists()):
        return "missing", None
    try:
        record = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "missing", None
    if record.get("complete") is not True:
        return "incomplete", None
    if any(record.get(k) != v for k, v in wanted.items()):
        return "different", None
    state = _store_state(url)
    if state is None or state != (record.get("data_revision"), str(wanted["seed"])):
        return "changed", None
    return "", record


def _holds_units(url: str) -> bool:
    from models import queries
    from models import tables as T
    from models.db import get_engine

    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return False
    engine = get_engine(url)
    try:
        return queries.count_rows(engine, T.Unit) > 0
    finally:
        engine.dispose()


def ensure_store(scale: str, seed: int = DEFAULT_SEED, instruments: int | None = None, url: str | None = None,
                 rebuild: bool = False) -> StoreInfo:
    """The benchmark store of `scale`: reused when it matches (module docstring), else built.

    Only a store the benchmark built (it has a sidecar) or one without units is ever replaced;
    any other raises ForeignStore, so `--store` can never wipe a working store."""
    url = url or f"sqlite:///{default_store(scale, seed, instruments)}"
    wanted = _wanted(scale, seed, instruments)
    reason, record = ("forced", None) if rebuild else _reuse_problem(url, wanted)
    if record is not None:
        return StoreInfo(url, False, record["build_s"], record["build_peak_memory_mb"], record["counts"], "")
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    side = sidecar_path(url)
    if not side.exists() and _holds_units(url):
        raise ForeignStore(str(path) if path is not None else _hide_password(url))
    side.parent.mkdir(parents=True, exist_ok=True)
    # Claimed before the build, marked complete after it: a half-built store is never reused,
    # but may be built again.
    side.write_text(json.dumps({**wanted, "complete": False}), encoding="utf-8")
    child = _run_child(["build-store", "--url", url, "--scale", DEMO_SCALE[canonical_scale(scale)],
                        "--seed", str(seed)] + ([] if instruments is None else ["--instruments", str(instruments)]))
    state = _store_state(url)
    record = {**wanted, "complete": True, "data_revision": state[0] if state else None, "counts": child["counts"],
              "build_s": child["build_s"], "build_peak_memory_mb": child["peak_memory_mb"],
              "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    side.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return StoreInfo(url, True, child["build_s"], child["peak_memory_mb"], child["counts"], reason)


def _build_store(url: str, scale: str, seed: int, instruments: int | None) -> dict:
    """Child process: (re)create the store at `url` with the demo data; returns counts, time, peak."""
    from models.db import get_engine
    from models.services.demo import load_demo

    started = time.perf_counter()
    path = _sqlite_path(url)
    if path is not None:
        for extra in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + extra).unlink(missing_ok=True)
    engine = get_engine(url)
    counts = load_demo(engine, seed=seed, scale=scale, instruments=instruments, replace=True)
    engine.dispose()
    return {"counts": counts, "build_s": round(time.perf_counter() - started, 2), "peak_memory_mb": round(peak_mib(), 1)}


def _run_child(args: list[str], module: str = "dashboard.bench", env: dict | None = None,
               show_stderr: bool = False) -> dict:
    """Run `python -m module args…` and return the JSON object it prints last on stdout (its
    stderr is passed on with `show_stderr`, e.g. a profile)."""
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise BenchError(f"{module} {args[0]} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    if show_stderr and proc.stderr.strip():
        sys.stderr.write(proc.stderr)
    return json.loads(lines[-1])


# --------------------------------------------------------------------------- measured steps


class _Steps:
    """Times functions, optionally under cProfile (top functions to stderr)."""

    def __init__(self, profile: bool, top: int = 15):
        self.profile, self.top = profile, top

    def time(self, label: str, fn: Callable[[], object]) -> tuple[float, object]:
        profiler = cProfile.Profile() if self.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        value = fn()
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(self.top)
            stats.sort_stats("tottime").print_stats(10)
            sys.stderr.write(f"\n=== profile: {label} ({seconds:.3f} s) ===\n{out.getvalue()}")
        return seconds, value


def _changed_weights(weights: pd.Series, k: int) -> pd.Series:
    """The k-th weight change: one indicator's weight doubled (as on the live-weights page)."""
    changed = weights.copy()
    changed.iloc[k % len(changed)] *= 2
    return changed


def _dupcheck_requests(requests: pd.DataFrame) -> list:
    from dashboard.dupcheck import PurchaseCheck

    checks = []
    for row in requests.drop_duplicates("instrument_name").to_dict("records"):
        checks.append(PurchaseCheck(
            name=str(row["instrument_name"]), price_cny=float(row["quoted_price"]), model=str(row["model"] or ""),
            class_code=str(row["class_code"] or ""), unit_id=int(row["applicant_unit_id"]),
            maker=str(row["manufacturer"] or ""), specs=str(row["key_specs"] or ""), on_date=REFERENCE_DATE))
    return checks


def measure_steps(url: str, profile: bool = False) -> dict:
    """The in-process steps on the store at `url` (module docstring, step 2)."""
    from dashboard import dupcheck, incentives, indicators, scoring, vouchers
    from dashboard.evaluation import current_scheme
    from models import queries
    from models.db import get_engine

    steps = _Steps(profile)
    engine = get_engine(url)
    out: dict = {}
    try:
        year = max(queries.usage_years(engine))
        scheme = current_scheme(engine)
        out["year"] = year

        load_s, inputs = steps.time("indicator load (store reads)", lambda: indicators.load_inputs(engine, year))
        compute_s, table = steps.time("indicator compute", lambda: indicators.compute_indicators(inputs, year, scheme))
        del inputs
        out["indicator_load_s"], out["indicator_compute_s"] = load_s, compute_s
        out["indicator_build_s"] = load_s + compute_s
        eval_s, result = steps.time("evaluate", lambda: scoring.evaluate(table.raw, table.units, scheme))
        out["evaluate_ms"] = 1000 * eval_s
        rated = result.rated()
        out["rated_units"] = len(rated)

        def rerank(k: int):
            after = scoring.evaluate(table.raw, table.units, scheme, weights=_changed_weights(result.weights, k))
            return scoring.rank_moves(after, result)

        out["rerank_ms"] = 1000 * statistics.median(
            steps.time(f"rerank #{k + 1}", lambda k=k: rerank(k))[0] for k in range(RERANK_REPEATS))

        tie_break = rated[scheme.tie_break_group].astype(float)
        normalised = result.normalised.loc[rated.index]
        mc_s, _ = steps.time("monte carlo", lambda: scoring.monte_carlo_ranks(
            normalised, result.weights, tie_break, n=MONTE_CARLO_DRAWS, method=scheme.aggregation,
            floor=result.floor, rule=scheme.grade))
        out["montecarlo_ms"] = 1000 * mc_s

        scores = rated["score"].to_numpy(float)
        alloc_s, amounts = steps.time("allocate", lambda: incentives.allocate(scores, REWARD_POOL_CNY, REWARD_CAP_CNY))
        out["allocate_ms"] = 1000 * alloc_s
        out["allocated_units"] = int((np.asarray(amounts) > 0).sum())

        read_s, services = steps.time("services read", lambda: queries.services(engine, year))
        out["services_read_s"] = read_s
        out["services_year_rows"] = len(services)
        sim_s, outcome = steps.time("voucher simulation", lambda: vouchers.simulate(services, vouchers.VoucherParams(), year))
        out["voucher_sim_ms"] = 1000 * sim_s
        del services, outcome

        def dup_inputs():
            return queries.instruments(engine), queries.usage_by_instrument_year(engine), queries.purchase_requests(engine)

        dup_read_s, (instruments, usage, requests) = steps.time("dupcheck reads", dup_inputs)
        out["dupcheck_read_s"] = dup_read_s
        checks = _dupcheck_requests(requests)
        if checks:
            first_s, rec = steps.time(f"dupcheck {checks[0].name}", lambda: dupcheck.recommend(
                checks[0], instruments, usage, requests=requests))
            out["dupcheck_ms"] = 1000 * first_s
            out["dupcheck_matches"] = len(rec.matches)
            warm = [steps.time(f"dupcheck {c.name}", lambda c=c: dupcheck.recommend(c, instruments, usage, requests=requests))[0]
                    for c in checks[1:1 + DUPCHECK_WARM_REPEATS]]
            out["dupcheck_warm_ms"] = 1000 * statistics.median(warm) if warm else None
        else:
            out["dupcheck_ms"] = out["dupcheck_warm_ms"] = None
    finally:
        engine.dispose()
    out["bench_peak_memory_mb"] = peak_mib()
    return out


def measure_apptest(url: str, profile: bool = False) -> dict:
    """The AppTest step in a child process (dashboard/ui/bench_apptest.py)."""
    args = ["--url", url, "--timeout", str(APPTEST_TIMEOUT_S)] + (["--profile"] if profile else [])
    return _run_child(args, module="dashboard.ui.bench_apptest", show_stderr=profile)


# --------------------------------------------------------------------------- one run


def _rounded(value):
    if isinstance(value, float):
        return round(value, 3 if abs(value) < 100 else 1)
    return value


def run_scale(scale: str, seed: int = DEFAULT_SEED, instruments: int | None = None, url: str | None = None,
              rebuild: bool = False, profile: bool = False) -> dict:
    """Build or reuse the store of `scale`, measure every step; one JSON-ready object."""
    scale = canonical_scale(scale)
    store = ensure_store(scale, seed, instruments, url, rebuild)
    # Each in a fresh process: its peak memory is its own, and nothing is warm from a former run.
    measured = _run_child(["measure", "--url", store.url] + (["--profile"] if profile else []), show_stderr=profile)
    app = measure_apptest(store.url, profile)
    counts = store.counts
    size = scale_of(DEMO_SCALE[scale])
    run: dict = {
        "scale": scale, "seed": seed, "year": measured.pop("year"),
        "instruments": counts["instruments"], "units": counts["units"], "usage_rows": counts["usage"],
        "service_rows": counts["services"],
        "service_records": {"records_per_month": size.records_per_month,
                            "internal_record_share": size.internal_record_share,
                            "service_years": size.service_years, "thinned": size.thinned},
        "rated_units": measured.pop("rated_units"),
        "store": store.as_dict(),
    }
    values = {**measured, **app}
    values["peak_memory_mb"] = max(values["bench_peak_memory_mb"], values["apptest_peak_memory_mb"])
    for key in METRICS:
        run[key] = _rounded(values.get(key))
    for key in ("services_year_rows", "allocated_units", "dupcheck_matches"):
        run[key] = values.get(key)
    targets = {key: target_for(key, scale) for key in TARGETS}
    run["targets"] = {k: v for k, v in targets.items() if v is not None}
    run["met"] = {k: run[k] is not None and run[k] <= v for k, v in run["targets"].items()}
    run["ok"] = all(run["met"].values())
    return run


# --------------------------------------------------------------------------- report


def _number(value, key: str) -> str:
    if value is None:
        return "–"
    if key.endswith("_s"):
        return f"{value:,.2f}"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def render_table(run: dict, t: Translator) -> str:
    store = run["store"]
    lines = [t("cli.bench.header", scale=run["scale"], instruments=f"{run['instruments']:,}", units=f"{run['units']:,}",
               usage=f"{run['usage_rows']:,}", services=f"{run['service_rows']:,}", year=run["year"])]
    if run["service_records"]["thinned"]:
        lines.append(t("cli.bench.thinned", **{k: run["service_records"][k] for k in
                                                ("records_per_month", "internal_record_share", "service_years")}))
    key = "cli.bench.store_built" if store["built"] else "cli.bench.store_reused"
    lines.append(t(key, location=store["location"], seconds=f"{store['build_s']:,.1f}",
                   peak=f"{store['build_peak_memory_mb']:,.0f}"))
    width = max(len(t(f"cli.bench.metric.{k}")) for k in METRICS)
    lines.append(f"{t('cli.bench.col.measure'):<{width}}  {t('cli.bench.col.value'):>12}  {t('cli.bench.col.target'):>10}")
    for k in METRICS:
        limit = run["targets"].get(k)
        verdict = "" if limit is None else t("cli.bench.ok") if run["met"][k] else t("cli.bench.slow")
        target = "" if limit is None else f"≤ {_number(limit, k)}"
        lines.append(f"{t(f'cli.bench.metric.{k}'):<{width}}  {_number(run[k], k):>12}  {target:>10}  {verdict}".rstrip())
    lines.append(t("cli.bench.all_met") if run["ok"] else t("cli.bench.missed",
                   keys=", ".join(k for k, ok in run["met"].items() if not ok)))
    return "\n".join(lines)


def run_bench(args, t: Translator) -> int:
    scales = [canonical_scale(s) for s in (args.scale or ["alxa"])]
    if (args.store or args.database_url) and len(scales) > 1:
        print(t("cli.bench.one_store"), file=sys.stderr)
        return 2
    url = args.database_url or (f"sqlite:///{Path(args.store).resolve()}" if args.store else None)
    runs = []
    for scale in scales:
        try:
            run = run_scale(scale, DEFAULT_SEED if args.seed is None else args.seed, args.instruments, url,
                            args.rebuild, args.profile)
        except BenchError as exc:
            print(t("cli.bench.failed", scale=scale, reason=str(exc)), file=sys.stderr)
            return 1
        except ForeignStore as exc:
            print(t("cli.bench.foreign_store", location=exc.location), file=sys.stderr)
            return 2
        runs.append(run)
        if args.format == "text":
            print(render_table(run, t))
            print()
    if args.format == "json":
        print(json.dumps(runs, ensure_ascii=False, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(runs, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["ok"] for r in runs) else 1


def _child_main(argv: list[str]) -> int:
    """`python -m dashboard.bench build-store --url URL --scale S --seed N [--instruments N]` and
    `python -m dashboard.bench measure --url URL [--profile]`: one JSON object on stdout."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m dashboard.bench")
    sub = p.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build-store")
    build.add_argument("--url", required=True)
    build.add_argument("--scale", choices=tuple(DEMO_SCALES), required=True)
    build.add_argument("--seed", type=int, default=DEFAULT_SEED)
    build.add_argument("--instruments", type=int, default=None)
    measure = sub.add_parser("measure")
    measure.add_argument("--url", required=True)
    measure.add_argument("--profile", action="store_true")
    args = p.parse_args(argv)
    if args.command == "measure":
        print(json.dumps(measure_steps(args.url, args.profile)))
    else:
        print(json.dumps(_build_store(args.url, args.scale, args.seed, args.instruments)))
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
