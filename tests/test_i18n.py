"""Catalogue parity and the rule that user-visible text comes from catalogues."""

import ast
import json
import re
import string
from pathlib import Path

import pytest

from dashboard.i18n import LANGUAGES, LOCALES_DIR, MissingTranslation, Translator, catalogue, enum_label, translate

ROOT = Path(__file__).resolve().parent.parent


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_the_same_files_and_keys():
    files = {lang: sorted(p.name for p in (LOCALES_DIR / lang).glob("*.json")) for lang in LANGUAGES}
    assert files["zh"] == files["en"]
    for name in files["zh"]:
        zh = json.loads((LOCALES_DIR / "zh" / name).read_text(encoding="utf-8"))
        en = json.loads((LOCALES_DIR / "en" / name).read_text(encoding="utf-8"))
        assert set(zh) == set(en), f"{name}: only zh {set(zh) - set(en)}, only en {set(en) - set(zh)}"


def test_placeholders_match_between_languages():
    zh, en = catalogue("zh"), catalogue("en")
    mismatched = {k for k in zh if _placeholders(zh[k]) != _placeholders(en[k])}
    assert not mismatched


def test_no_empty_texts_and_english_is_not_left_in_chinese():
    en = catalogue("en")
    assert all(v.strip() for v in catalogue("zh").values())
    cjk = re.compile(r"[\u4e00-\u9fff]")
    # Language names and the bilingual language-picker label stay in Chinese in English too.
    allowed = {k for k in en if k.startswith("lang.")} | {"shell.language"}
    leftovers = sorted(k for k, v in en.items() if cjk.search(v) and k not in allowed and "〔" not in v and "《" not in v)
    assert not leftovers, leftovers


def test_translate_fills_parameters_and_rejects_unknown_keys():
    assert "2016" in translate("zh", "shell.demo_notice", seed=2016)
    assert Translator("en")("nav.overview") == "Overview"
    with pytest.raises(MissingTranslation):
        translate("en", "no.such.key")
    with pytest.raises(ValueError):
        Translator("fr")


def test_enum_labels_fall_back_to_the_national_value():
    assert enum_label("zh", "share_mode", "外部共享") == "外部共享"
    assert enum_label("en", "share_mode", "no-such-value") == "no-such-value"
    assert enum_label("en", "share_mode", "") == ""


def _translation_keys_used_in_code() -> set[str]:
    """Literal first arguments of t(...), ctx.t(...), translate(lang, ...) calls."""
    keys = set()
    for path in list((ROOT / "dashboard").rglob("*.py")) + list((ROOT / "pages").glob("*.py")) + [ROOT / "streamlit_app.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            args = node.args[1:] if name == "translate" else node.args
            if name in {"t", "translate", "translator"} and args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                keys.add(args[0].value)
    return keys


def test_every_literal_key_used_in_code_exists():
    missing = sorted(k for k in _translation_keys_used_in_code() if k not in catalogue("zh"))
    assert not missing, missing


DISPLAY_CALLS = {
    "title", "header", "subheader", "caption", "markdown", "write", "text", "info", "warning",
    "error", "success", "metric", "button", "download_button", "selectbox", "multiselect", "radio",
    "text_input", "number_input", "slider", "checkbox", "toggle", "file_uploader", "expander",
    "tabs", "spinner", "toast", "page_link", "Page", "set_page_config", "dataframe", "table",
}
HAS_WORDS = re.compile(r"[A-Za-z\u4e00-\u9fff]{2,}")


def _literal_display_strings(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in DISPLAY_CALLS:
            continue
        # The first argument of page_link / Page is a script path, not text.
        positional = [] if node.func.attr in {"page_link", "Page"} else node.args[:1]
        for arg in positional + [k.value for k in node.keywords if k.arg in {"label", "title", "help", "body", "placeholder", "page_title"}]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and HAS_WORDS.search(arg.value):
                found.append(f"{path.name}:{node.lineno}: {arg.value!r}")
            if isinstance(arg, ast.JoinedStr):
                for part in arg.values:
                    if isinstance(part, ast.Constant) and HAS_WORDS.search(str(part.value)):
                        found.append(f"{path.name}:{node.lineno}: f-string text {part.value!r}")
    return found


def test_pages_and_ui_show_no_literal_text():
    """Text passed straight to Streamlit display calls must come from the catalogues."""
    files = list((ROOT / "pages").glob("*.py")) + list((ROOT / "dashboard" / "ui").glob("*.py")) + [ROOT / "streamlit_app.py"]
    offenders = [hit for path in files for hit in _literal_display_strings(path)]
    assert not offenders, offenders
