"""Policy defaults: every threshold the app uses, with its source. Editable, never buried in code.

Sources are in `../shared/reference/policy_facts.md` (copied facts) and are shown in the app next
to the numbers they govern.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyDefaults:
    census_floor_cny: float = 50_000  # seed text, 阿拉善盟 2016 意见: 单台套价值5万元及以上
    rated_hours_general: float = 1400  # MOE 教高司条函〔2000〕010号: 通用 instruments
    rated_hours_special: float = 800  # same source: 专用 instruments
    saturation_hours: float = 1200  # 财科教〔2019〕1号 duplicate-check saturation line
    low_use_hours: float = 800  # [I] local low-use (idle) line, h/yr
    report_due_day: int = 10  # [I] monthly usage is due by this day of the following month
    # [I] Lower edges of the value bands of the overview (CNY): 5–10万, 10–50万, 50–200万, ≥200万.
    value_band_edges_cny: tuple[float, ...] = (50_000, 100_000, 500_000, 2_000_000)
    # [I] Alternative low-use line: a share of the instrument's rated hours (used when the
    # utilisation page switches the idle rule from absolute hours to a share).
    low_use_share_of_rated: float = 0.5
    # Fees (policy_facts.md, "Fees"): 折旧 per hour = annual depreciation / rated annual hours;
    # maintenance ≈ 6 % of original value per year (figure quoted in fee studies).
    maintenance_share_per_year: float = 0.06
    depreciation_years: float = 10  # [I] straight-line service life of an instrument, years
    residual_share: float = 0.0  # [I] salvage value share at the end of the service life


DEFAULTS = PolicyDefaults()


def rated_hours(purpose: str, policy: PolicyDefaults = DEFAULTS) -> float:
    """Rated annual hours of an instrument by its 通用/专用 flag."""
    return policy.rated_hours_general if purpose == "通用" else policy.rated_hours_special
