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
