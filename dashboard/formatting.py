"""Number, money, hour and percentage formatting for display; and the colours and font of every
chart (the app's and the report's), so they are defined once.

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

# ---- chart colours and font --------------------------------------------------------------------
# Told apart with any colour vision: every pair of PRIMARY, ACCENT, ALERT and MUTED stays at least
# 25 CIELAB units apart under simulated protanopia, deuteranopia and tritanopia (Machado et al.
# 2009; tests/test_format.py). No red against green anywhere. Series colours come from here; the
# sequential scale is "blues", the diverging one "redblue" (both colour-blind safe, ColorBrewer).
PRIMARY = "#1f6f8b"  # the theme colour (streamlit_config/config.toml): the main series
ACCENT = "#e69f00"  # Okabe-Ito orange: the second series, unit points, "idle" / "late"
ALERT = "#b2182b"  # dark red, far darker than the orange: "saturated" / "missing"
MUTED = "#d9dde3"  # not applicable, not yet due
BLANK = "#eceff3"  # behind map areas and cells without a value
PREVIOUS = "#9aa5b1"  # earlier years behind the current one
INK = "#1d2430"  # text on charts (the theme's text colour)
RULE = "#6b7785"  # reference lines
PALETTE = (PRIMARY, ACCENT, ALERT, MUTED, BLANK, PREVIOUS, INK, RULE)
# Any series without its own colour: the theme's chartCategoricalColors (streamlit_config/config.toml)
# are these, the first three above, then Okabe-Ito sky blue, bluish green and reddish purple.
CATEGORICAL = (PRIMARY, ACCENT, ALERT, "#56b4e9", "#009e73", "#cc79a7", PREVIOUS)
SEQUENTIAL_SCHEME, DIVERGING_SCHEME = "blues", "redblue"
LOAD_COLOURS = {"idle": ACCENT, "normal": PRIMARY, "saturated": ALERT}
# Chart text: Chinese-capable fonts first (Linux, macOS, Windows), so no label turns into boxes.
# Single quotes: the list also ends up in SVG attributes.
CHART_FONT = ("'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', "
              "'WenQuanYi Micro Hei', sans-serif")

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


# Decimals of a figure in tables, the same on every page: 万元 with 2, hours and percentages with
# 1, counts and the whole-hour settings (rated hours, load lines) with none.
WAN_DECIMALS, HOUR_DECIMALS, RATE_DECIMALS = 2, 1, 1


def table_decimals(key: str) -> int:
    """Decimals of a table column, by the figure its key names: 'value_wan' 2, 'effective_hours'
    and 'utilisation' 1, 'rated_hours' / 'idle_line' / counts 0."""
    if "wan" in key:
        return WAN_DECIMALS
    if key.startswith("rated") or key.endswith("_line"):
        return 0
    if "hours" in key or "utilisation" in key or "share" in key:
        return HOUR_DECIMALS if "hours" in key else RATE_DECIMALS
    return 0


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
