"""Picking the display name of a record in the page language.

Reference data (regions, instrument classes) carry both a Chinese and an English name; units and
instruments often have only the Chinese one. English pages show the English name where there is
one and fall back to the Chinese name, so no row ever shows a blank (or "nan") name.
"""

from __future__ import annotations

import pandas as pd


def _present(text) -> bool:
    return isinstance(text, str) and text != ""


def localised(row_or_frame, zh_column: str, en_column: str, lang: str):
    """The `en_column` text when `lang` is "en" and it is present, else the `zh_column` text.

    Works on a frame (returns a Series, row by row) and on a single row (returns a str)."""
    zh, en = row_or_frame[zh_column], row_or_frame[en_column]
    if isinstance(zh, pd.Series):
        return en.where(en.map(_present) & (lang == "en"), zh)
    return en if lang == "en" and _present(en) else zh
