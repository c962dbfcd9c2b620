"""The AppTest step of the benchmark (`python -m dashboard bench`, dashboard/bench.py).

`python -m dashboard.ui.bench_apptest --url URL [--lang zh] [--timeout S] [--profile]` runs the
app on the store at URL with Streamlit's AppTest, as a read-only visitor (no one signed in), in a
fresh session, so every cache starts cold:

1. the first run of the app, which opens the Overview page;
2. the Evaluation page (its first run builds the year's indicator table);
3. the Incentives page (reuses that table; reads the year's service records, builds the
   scenario inputs and the default scenario);
4. the Evaluation page again, then its rerun after the 运行使用 (use) group weight changes — what a
   person moving a weight in a meeting waits for.

It prints one JSON object: the milliseconds of each run, their sum and the process's peak resident
memory (MiB). A run that raises in the app is an error (exit code 1, the messages on stderr). It
runs in its own process because dashboard/bench.py, like the rest of the domain core, does not
import Streamlit; the AppTest set-up mirrors tests/apptest_utils.py without pytest.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

from dashboard.bench import peak_mib

ROOT = Path(__file__).resolve().parent.parent.parent
ENTRY = str(ROOT / "streamlit_app.py")
EVALUATION_PAGE, INCENTIVES_PAGE = "pages/evaluation.py", "pages/incentives.py"
CHANGED_GROUP = "use"


class AppRunError(RuntimeError):
    pass


def _app(url: str, lang: str, timeout: float):
    os.environ["DATABASE_URL"] = url
    os.chdir(ROOT)
    import streamlit.testing.v1.app_test as app_test_module
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    class _NavigationPagesManager(PagesManager):
        """As in tests/apptest_utils.py: keep the app in st.navigation mode on every AppTest run."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    app_test_module.PagesManager = _NavigationPagesManager
    at = AppTest.from_file(ENTRY, default_timeout=timeout)
    at.session_state["lang"] = lang
    return at


def _profile_script_thread() -> list:
    """Profile every later script run: AppTest runs the script in a thread of its own, which a
    profiler enabled here would not see. Returns the list the profilers are appended to."""
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    profiles: list = []
    original = LocalScriptRunner._run_script_thread

    def profiled(self):
        profiler = cProfile.Profile()
        profiles.append(profiler)
        profiler.runcall(original, self)

    LocalScriptRunner._run_script_thread = profiled
    return profiles


class _Runs:
    """Times the app's runs; with `profile`, prints each run's top functions to stderr."""

    def __init__(self, at, profile: bool):
        self.at = at
        self.profiles = _profile_script_thread() if profile else None

    def time(self, what: str, action) -> float:
        done = len(self.profiles) if self.profiles is not None else 0
        started = time.perf_counter()
        action()
        ms = 1000 * (time.perf_counter() - started)
        if self.at.exception:
            raise AppRunError(f"{what}: " + " | ".join(e.message for e in self.at.exception))
        if self.profiles and len(self.profiles) > done:
            text = io.StringIO()
            stats = pstats.Stats(*self.profiles[done:], stream=text)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(15)
            print(f"\n=== profile: AppTest {what} ({ms:.0f} ms, script thread) ===\n{text.getvalue()}", file=sys.stderr)
        return ms


def run(url: str, lang: str = "zh", timeout: float = 1800.0, profile: bool = False) -> dict:
    at = _app(url, lang, timeout)
    runs = _Runs(at, profile)
    out = {"apptest_overview_ms": runs.time("overview", at.run)}

    def page(path: str):
        at.switch_page(path)
        at.run()

    out["apptest_evaluation_ms"] = runs.time("evaluation", lambda: page(EVALUATION_PAGE))
    if not at.dataframe:
        raise AppRunError("evaluation: no ranking shown")
    out["apptest_incentives_ms"] = runs.time("incentives", lambda: page(INCENTIVES_PAGE))
    out["apptest_evaluation_return_ms"] = runs.time("evaluation (again)", lambda: page(EVALUATION_PAGE))

    weight = at.number_input(key=f"eval_group_{CHANGED_GROUP}@{lang}")
    changed = weight.value / 2 if weight.value else 10.0
    out["apptest_evaluation_rerun_ms"] = runs.time("evaluation rerun", lambda: weight.set_value(changed).run())
    if at.number_input(key=f"eval_group_{CHANGED_GROUP}@{lang}").value != changed:
        raise AppRunError("evaluation rerun: the weight change did not reach the page")
    out["apptest_total_s"] = sum(v for k, v in out.items() if k.endswith("_ms")) / 1000
    out["apptest_peak_memory_mb"] = peak_mib()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dashboard.ui.bench_apptest")
    p.add_argument("--url", required=True)
    p.add_argument("--lang", default="zh")
    p.add_argument("--timeout", type=float, default=1800.0)
    p.add_argument("--profile", action="store_true")
    args = p.parse_args(argv)
    try:
        result = run(args.url, args.lang, args.timeout, args.profile)
    except AppRunError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
