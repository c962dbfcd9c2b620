"""Display formatting of money, hours, percentages and value bands."""

import pytest

from dashboard.i18n import Translator
from dashboard import formatting as fmt

ZH, EN = Translator("zh"), Translator("en")


@pytest.mark.parametrize("cny, zh, en", [
    (3_180_000, "318万元", "CNY 3.18 million"),
    (80_000, "8万元", "CNY 80,000"),
    (125_000_000, "1.25亿元", "CNY 125 million"),
    (2_500_000_000, "25亿元", "CNY 2.5 billion"),
    (9_000, "9,000元", "CNY 9,000"),
])
def test_money_scales_by_language(cny, zh, en):
    assert fmt.money(cny, ZH) == zh
    assert fmt.money(cny, EN) == en


def test_missing_values_show_a_dash():
    assert fmt.money(None, ZH) == fmt.hours(None, EN) == fmt.percent(None) == fmt.number(float("nan")) == "—"


def test_hours_and_percent():
    assert fmt.hours(1200, ZH) == "1,200 小时"
    assert fmt.hours(679.6, EN) == "680 h"
    assert fmt.percent(1 / 3) == "33.3%"


@pytest.mark.parametrize("lower, upper, zh, en", [
    (50_000, 100_000, "5–10万元", "CNY 50k–100k"),
    (500_000, 2_000_000, "50–200万元", "CNY 500k–2M"),
    (2_000_000, None, "≥200万元", "≥ CNY 2M"),
    (0, 50_000, "<5万元", "< CNY 50k"),
])
def test_value_band_labels(lower, upper, zh, en):
    assert fmt.value_band(lower, upper, ZH) == zh
    assert fmt.value_band(lower, upper, EN) == en


# ---- table decimals ----------------------------------------------------------------------------


@pytest.mark.parametrize("key, decimals", [
    ("value_wan", 2), ("demand_amount_wan", 2), ("group_value_wan", 2),
    ("effective_hours", 1), ("spare_hours", 1), ("group_hours", 1), ("avg_effective_hours", 1),
    ("utilisation", 1), ("external_share", 1),
    ("rated_hours", 0), ("idle_line", 0), ("instruments", 0), ("months_reported", 0), ("samples", 0),
])
def test_table_decimals_follow_the_figure(key, decimals):
    """Every hour column has one decimal (18,201.0 next to 5,389.5), money in 万元 two, counts and
    the whole-hour settings none."""
    assert fmt.table_decimals(key) == decimals


# ---- chart colours and font --------------------------------------------------------------------

import itertools  # noqa: E402
import re  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Machado, Oliveira & Fernandes (2009), severity 1, on linear RGB.
CVD = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]),
}


def _lab(hex_colour: str, matrix=None) -> np.ndarray:
    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    if matrix is not None:
        linear = np.clip(matrix @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    f = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(f > 0.008856, np.cbrt(f), 7.787 * f + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_lab_conversion_by_hand():
    assert np.allclose(_lab("#ffffff"), [100, 0, 0], atol=0.05)
    assert np.allclose(_lab("#000000"), [0, 0, 0], atol=0.05)


@pytest.mark.parametrize("vision", [None, *CVD])
def test_series_colours_stay_apart_for_colour_blind_readers(vision):
    """PRIMARY / ACCENT / ALERT / MUTED (the load classes, the report statuses) stay ≥ 25 CIELAB
    units apart for every kind of dichromacy. The old red/green status grid failed this: the green
    (#4c9a6a) and the red (#c8553d) were 15.9 apart under protanopia."""
    matrix = CVD.get(vision)
    colours = (fmt.PRIMARY, fmt.ACCENT, fmt.ALERT, fmt.MUTED)
    for a, b in itertools.combinations(colours, 2):
        assert np.linalg.norm(_lab(a, matrix) - _lab(b, matrix)) >= 25, (vision, a, b)
    old_green, old_red = "#4c9a6a", "#c8553d"
    assert np.linalg.norm(_lab(old_green, CVD["protanopia"]) - _lab(old_red, CVD["protanopia"])) < 25


def test_the_theme_default_series_colours_are_the_shared_palette():
    config = tomllib.loads((ROOT / "streamlit_config" / "config.toml").read_text(encoding="utf-8"))
    assert [c.lower() for c in config["theme"]["chartCategoricalColors"]] == list(fmt.CATEGORICAL)
    assert config["theme"]["primaryColor"].lower() == fmt.PRIMARY


def test_chart_colours_are_defined_once():
    """No chart module spells out a colour or a colour scheme: they take the shared palette."""
    modules = [p for p in (ROOT / "dashboard" / "ui").glob("*.py") if p.suffix == ".py"]
    modules.append(ROOT / "dashboard" / "report_html.py")
    for path in modules:
        source = path.read_text(encoding="utf-8")
        if path.name == "report_html.py":  # its style sheet has colours; the charts come after it
            source = source[source.index("# ---- charts"):]
        assert not re.findall(r'"#[0-9a-fA-F]{6}"', source), path.name
        assert not re.findall(r'scheme="', source), path.name


def test_chart_font_puts_chinese_fonts_first_and_is_svg_safe():
    families = [f.strip().strip("'") for f in fmt.CHART_FONT.split(",")]
    assert families[0] == "Noto Sans CJK SC" and "Microsoft YaHei" in families and families[-1] == "sans-serif"
    assert '"' not in fmt.CHART_FONT  # it goes into SVG attributes of the report's charts
