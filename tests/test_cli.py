"""The command-line entry: `python -m dashboard init` creates (or upgrades) the store where DATABASE_URL
points."""

import os
import subprocess
import sys
from pathlib import Path

from models import queries
from models.db import make_engine, table_names

ROOT = Path(__file__).resolve().parent.parent


def test_init_creates_schema_and_reference_data_idempotently(db_url):
    env = dict(os.environ, DATABASE_URL=db_url)
    for _ in range(2):
        out = subprocess.run([sys.executable, "-m", "dashboard", "--lang", "en", "init"], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "Schema (revision 0004) and reference data are in place."
    eng = make_engine(db_url)
    assert {"instrument", "usagemonthly", "auditentry"} <= set(table_names(eng))
    assert len(queries.regions(eng)) == 6
    eng.dispose()


def test_unknown_command_is_a_usage_error():
    out = subprocess.run([sys.executable, "-m", "dashboard", "frobnicate"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "frobnicate" in out.stderr
