"""Translation catalogues.

Every user-visible string lives in `dashboard/locales/<lang>/*.json`. Each language folder holds
the same files with the same keys (a test checks parity); the files of a language are merged into
one flat catalogue, so separate features can own separate files.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


class MissingTranslation(KeyError):
    pass


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """The merged catalogue of one language; duplicate keys across files are an error."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        clash = merged.keys() & entries.keys()
        if clash:
            raise ValueError(f"{path}: keys defined twice: {sorted(clash)}")
        merged.update(entries)
    return merged


def translate(lang: str, key: str, **params) -> str:
    """The text for `key` in `lang`, with `{name}` placeholders filled from `params`."""
    try:
        text = catalogue(lang)[key]
    except KeyError:
        raise MissingTranslation(f"no {lang} text for {key!r}") from None
    return text.format(**params) if params else text


def enum_label(lang: str, field: str, value: str) -> str:
    """Display label of a national enumeration value (stored as the Chinese national string)."""
    if value is None or value == "":
        return ""
    key = f"enum.{field}.{value}"
    return catalogue(lang).get(key, str(value))


class Translator:
    """A callable bound to one language: `t = Translator("en"); t("overview.title")`."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE):
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        self.lang = lang

    def __call__(self, key: str, **params) -> str:
        return translate(self.lang, key, **params)

    def enum(self, field: str, value: str) -> str:
        return enum_label(self.lang, field, value)

    def has(self, key: str) -> bool:
        """Whether the catalogue has `key` (for labels of values that may be unknown, e.g. old audit actions)."""
        return key in catalogue(self.lang)
