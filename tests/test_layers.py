"""The layers stay clean: Streamlit only in dashboard/ui and pages, no database access in pages."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _offending(folder: str, forbidden: tuple[str, ...], skip: str | None = None) -> dict[str, list[str]]:
    out = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if skip and rel.startswith(skip):
            continue
        bad = sorted(n for n in _imports(path) if any(n == f or n.startswith(f + ".") for f in forbidden))
        if bad:
            out[rel] = bad
    return out


def test_domain_core_never_imports_streamlit_or_the_ui_layer():
    assert _offending("dashboard", ("streamlit", "dashboard.ui"), skip="dashboard/ui/") == {}


def test_models_never_import_streamlit_or_the_domain_ui():
    assert _offending("models", ("streamlit", "dashboard.ui")) == {}


def test_pages_do_not_touch_the_database_directly():
    assert _offending("pages", ("sqlalchemy", "sqlmodel", "models")) == {}
