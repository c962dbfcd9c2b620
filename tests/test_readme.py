"""The README documents what the code does: the two commands, the CLI, every layout column."""

import re
from pathlib import Path

import pytest

from dashboard.national import LAYOUTS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

RUN = "pip install -r requirements.txt && streamlit run streamlit_app.py"
TEST = "pip install -r requirements-dev.txt && python -m pytest -q"


def test_the_two_commands_are_there_and_ci_runs_the_test_command():
    assert RUN in README and TEST in README
    assert TEST in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_layout_column_is_documented_with_its_header_and_key():
    for kind, columns in LAYOUTS.items():
        section = README.split(f"(`{kind}`)", 1)[1].split("####", 1)[0]
        for col in columns:
            assert re.search(rf"\| {re.escape(col.zh)} \| {col.key} \|", section), (kind, col.zh)


def test_every_cli_command_is_documented():
    for command in ("init", "demo", "import", "export", "evaluate", "report", "bench", "dupcheck", "backup", "restore", "user"):
        assert f"python -m dashboard {command}" in README


def test_screenshots_referenced_exist():
    for path in re.findall(r"\]\((docs/screenshots/[^)]+)\)", README):
        assert (ROOT / path).is_file(), path


def test_the_screenshot_command_is_documented_with_what_it_needs():
    from tests import screenshots

    intro = README[:README.index("## Run it")]
    assert "python -m tests.screenshots" in intro and "chromium" in intro and "fonts-noto-cjk" in intro
    shown = set(re.findall(r"\]\(docs/screenshots/([^)]+)\.png\)", README))
    assert shown <= {stem for stem, _, _ in screenshots.SHOTS}  # each one is produced by the command


def test_the_documented_ahp_example_gives_the_documented_numbers():
    from dashboard import weighting

    r = weighting.ahp([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    shown = f"({r.weights[0]:.3f}, {r.weights[1]:.3f}, {r.weights[2]:.3f}), {r.lambda_max:.3f}, {r.ci:.3f}, {r.cr:.3f}"
    assert shown in README


def test_the_documented_allocation_example_gives_the_documented_amounts():
    from dashboard.incentives import allocate, allocate_detail

    assert "allocate([90, 80, 70, 50, 30], budget=300, caps=80, eligible=[True, True, True, True, False])" in README
    assert "array([80., 80., 80., 60., 0.])" in README and "λ = 1.2" in README
    args = ([90, 80, 70, 50, 30], 300, 80, [True, True, True, True, False])
    assert allocate(*args).tolist() == [80, 80, 80, 60, 0]
    assert allocate_detail(*args).lam == pytest.approx(1.2)
