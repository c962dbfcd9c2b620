"""The load lines: which instruments count as idle (low use) and which as saturated.

The one place these lines are defined. The overview KPI, the evaluation indicators, the
utilisation and layout pages and the annual report all classify through `load_class`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard import policy as P

LOAD_IDLE = "idle"
LOAD_NORMAL = "normal"
LOAD_SATURATED = "saturated"
LOAD_CLASSES = (LOAD_IDLE, LOAD_NORMAL, LOAD_SATURATED)


@dataclass(frozen=True)
class LoadLines:
    """The idle (low-use) and saturation lines, in effective hours per year.

    The idle line is either absolute (`low_use_hours`, default 800 h) or, when `low_use_share` is
    set, that share of each instrument's rated hours (e.g. 0.5 × 1400 h = 700 h for a 通用
    instrument). Saturation is absolute: ≥ `saturation_hours` (1200 h, 财科教〔2019〕1号)."""

    low_use_hours: float = P.DEFAULTS.low_use_hours
    low_use_share: float | None = None
    saturation_hours: float = P.DEFAULTS.saturation_hours

    @classmethod
    def from_policy(cls, policy: P.PolicyDefaults = P.DEFAULTS) -> "LoadLines":
        return cls(low_use_hours=policy.low_use_hours, saturation_hours=policy.saturation_hours)

    def idle_line(self, rated_hours: pd.Series) -> pd.Series:
        """The idle line of each instrument (h/yr), aligned with `rated_hours`."""
        if self.low_use_share is None:
            return pd.Series(float(self.low_use_hours), index=rated_hours.index)
        return rated_hours.astype(float) * float(self.low_use_share)


def load_class(annual: pd.DataFrame, lines: LoadLines = LoadLines()) -> pd.Series:
    """idle / normal / saturated for each row of a `census.annual_frame`.

    idle: effective hours below the idle line; saturated: effective hours ≥ the saturation line
    (saturation wins if a share-based idle line ever lies above it)."""
    hours = annual["effective_hours"].astype(float)
    idle = hours < lines.idle_line(annual["rated_hours"])
    saturated = hours >= lines.saturation_hours
    out = np.where(saturated, LOAD_SATURATED, np.where(idle, LOAD_IDLE, LOAD_NORMAL))
    return pd.Series(out, index=annual.index, dtype=object)
