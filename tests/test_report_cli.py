"""`python -m dashboard report --year Y --out FILE.html [--lang en] [--xlsx FILE.xlsx]`.

Store: small_registry (tests/factories.py) — 3 instruments worth 3,180,000 CNY (318万元), usage
2024–2025; 2025 effective hours 1200 + 240 + 600 = 2,040 h.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.factories import small_registry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli(engine, run_cli):
    """Run the CLI in this process on a small store; returns (exit code, stdout, stderr)."""
    small_registry(engine)
    return run_cli


def test_writes_a_chinese_report_by_default(cli, tmp_path):
    out = tmp_path / "report.html"
    code, stdout, stderr = cli("report", "--year", "2025", "--out", str(out))
    assert code == 0 and stderr == ""
    assert stdout.strip() == f"已写入：{out}"
    doc = out.read_text(encoding="utf-8")
    assert doc.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in doc
    assert "2025 年度统计年报" in doc and "原值合计 318万元" in doc and "2,040" in doc
    assert doc.count("<svg ") == 10


@pytest.mark.parametrize("argv_lang", [("--lang", "en", "report"), ("report", "--lang", "en")])
def test_english_report_and_excel_tables(cli, tmp_path, argv_lang):
    out, xlsx = tmp_path / "report-en.html", tmp_path / "tables.xlsx"
    argv = [*argv_lang, "--year", "2025", "--out", str(out), "--xlsx", str(xlsx)]
    code, stdout, stderr = cli(*argv)
    assert code == 0 and stderr == ""
    assert stdout.splitlines() == [f"Written: {out}", f"Written: {xlsx}"]
    doc = out.read_text(encoding="utf-8")
    assert '<html lang="en">' in doc and "Annual statistical report 2025" in doc and "CNY 3.18 million" in doc
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Headline", "By banner", "By class", "By unit type", "By value band", "By funding",
                             "By country", "By share mode", "Openness", "Use", "Load", "External service",
                             "Definitions", "About"]
    rows = {r[0]: r[1:] for r in wb["Headline"].iter_rows(min_row=2, values_only=True)}
    assert rows["Instruments"][:2] == (3, 3) and rows["Effective hours"][:2] == (2040, 600)
    assert rows["Total original value"][0] == pytest.approx(318.0)


def test_unknown_year_exits_1_and_writes_nothing(cli, tmp_path):
    out, xlsx = tmp_path / "report.html", tmp_path / "t.xlsx"
    code, stdout, stderr = cli("--lang", "en", "report", "--year", "2019", "--out", str(out), "--xlsx", str(xlsx))
    assert code == 1 and stdout == ""
    assert stderr.strip() == "There is no monthly usage for 2019: no annual report for that year. Years with data: 2024, 2025."
    assert not out.exists() and not xlsx.exists()


def test_missing_output_folder_exits_1_and_writes_nothing(cli, tmp_path):
    out, xlsx = tmp_path / "report.html", tmp_path / "nowhere" / "t.xlsx"
    code, _, stderr = cli("report", "--year", "2025", "--out", str(out), "--xlsx", str(xlsx))
    assert code == 1 and "输出目录不存在" in stderr
    assert not out.exists()


def test_empty_store_exits_1(engine, run_cli, tmp_path):
    out = tmp_path / "r.html"
    code, _, stderr = run_cli("report", "--year", "2025", "--out", str(out))
    assert code == 1
    assert "仪器名录为空" in stderr and not out.exists()


def test_help_lists_the_command_and_its_options():
    result = subprocess.run([sys.executable, "-m", "dashboard", "--lang", "en", "report", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for option in ("--year", "--out", "--xlsx", "--lang"):
        assert option in result.stdout
    top = subprocess.run([sys.executable, "-m", "dashboard", "--lang", "en", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60).stdout
    assert re.search(r"\{[a-z,]*\breport\b[a-z,]*\}", top)  # listed among the commands
