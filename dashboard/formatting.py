"""Number, money, hour and percentage formatting for display.

Money is stored in CNY. Chinese readers count in 万 (1e4) and 亿 (1e8); English readers in
thousands, millions and billions, so the scale steps depend on the language while the words come
from the catalogue (format.money.*, format.hours, format.band.*).
"""

from __future__ import annotations

import math
import re

from dashboard.i18n import Translator
from dashboard.national import WAN

MISSING = "—"

# (threshold, divisor, catalogue key) from the largest scale down, per language.
_MONEY_SCALES = {
    "zh": ((1e8, 1e8, "format.money.large"), (1e4, 1e4, "format.money.medium")),
    "en": ((1e9, 1e9, "format.money.large"), (1e6, 1e6, "format.money.medium")),
}


# Markdown syntax a stored text could use to turn into something else on a page: links and
# images ([ ] !), Streamlit's directives (:red[…], :material/…: — a colon before a letter),
# emphasis (* _ ~), code (`), headings (#), quotes and autolinks (< >), LaTeX ($), tables (|),
# entities (&) and the escape itself. A colon before anything else (10:00, http://) stays.
_MARKDOWN_SYNTAX = re.compile(r"[\\`*_\[\]<>#$~|!&]|:(?=[A-Za-z])")


def md_text(value) -> str:
    """Store or user text (a unit or instrument name, a file name, a note) for a place that renders
    Markdown (st.markdown, st.caption, st.error …, labels, st.table cells): its Markdown syntax
    backslash-escaped, so "![x](http://…)" or ":red[…]" shows as typed instead of fetching an
    image or changing colour. HTML needs no escaping there: Streamlit shows tags as text."""
    return _MARKDOWN_SYNTAX.sub(lambda m: "\\" + m.group(0), "" if value is None else str(value))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | None, decimals: int = 0) -> str:
    """1234.5 -> '1,235' (decimals=0) or '1,234.50' (decimals=2); None/NaN -> '—'."""
    if _missing(value):
        return MISSING
    return f"{value:,.{decimals}f}"


def trimmed(value: float, decimals: int = 2) -> str:
    """A number with at most `decimals` decimals and no trailing zeros: 318.0 -> '318', 3.18 -> '3.18'."""
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(cny: float | None, t: Translator) -> str:
    """A CNY amount at a readable scale: zh '318万元' / '1.25亿元', en 'CNY 3.18 million'."""
    if _missing(cny):
        return MISSING
    for threshold, divisor, key in _MONEY_SCALES[t.lang]:
        if abs(cny) >= threshold:
            return t(key, value=trimmed(cny / divisor))
    return t("format.money.small", value=number(cny))


def wan(cny: float | None) -> float | None:
    """CNY -> 万元 (the unit of the national layout and of the registry table)."""
    return None if _missing(cny) else cny / WAN


def hours(value: float | None, t: Translator) -> str:
    """'680 小时' / '680 h'."""
    if _missing(value):
        return MISSING
    return t("format.hours", value=number(value))


def percent(ratio: float | None, decimals: int = 1) -> str:
    """0.3333 -> '33.3%'; None -> '—'."""
    if _missing(ratio):
        return MISSING
    return f"{ratio * 100:.{decimals}f}%"


def _band_amount(cny: float, lang: str) -> str:
    """A band edge: in 万 for Chinese (5, 200), compact for English (50k, 2M)."""
    if lang == "zh":
        return trimmed(cny / WAN)
    if cny >= 1e6:
        return f"{trimmed(cny / 1e6)}M"
    return f"{trimmed(cny / 1e3)}k"


def value_band(lower_cny: float, upper_cny: float | None, t: Translator) -> str:
    """Label of a value band: '5–10万元' / 'CNY 50k–100k'; open top '≥200万元'; bottom '<5万元'."""
    if _missing(upper_cny):
        return t("format.band.open", low=_band_amount(lower_cny, t.lang))
    if lower_cny <= 0:
        return t("format.band.below", high=_band_amount(upper_cny, t.lang))
    return t("format.band.range", low=_band_amount(lower_cny, t.lang), high=_band_amount(upper_cny, t.lang))
