"""The indicator scheme of the open-sharing performance evaluation (seed point 五).

A scheme is data: which indicators count, in which first-level group, in which direction, how each
is normalised and weighted, how scores are aggregated and graded. Evaluators edit schemes (a new
version each time); the default lives in `data/indicator_scheme_default.json`. What an indicator
*measures* is code (`dashboard/indicators.py`, one function per indicator id); its name, formula
text and unit are in the catalogues under `eval.ind.<id>.name|formula|unit`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

DEFAULT_SCHEME_PATH = Path(__file__).resolve().parent.parent / "data" / "indicator_scheme_default.json"

GROUP_IDS = ("org", "use", "share")  # 组织管理 / 运行使用 / 共享服务 (national first-level indicators)
DIRECTIONS = ("higher", "lower")
METHODS = ("goalpost", "minmax", "zscore", "rank")
AGGREGATIONS = ("arithmetic", "geometric")
GRADE_MODES = ("bands", "quotas")
GRADES = ("优秀", "良好", "合格", "较差")  # the fourth label is configurable (Inner Mongolia: 不合格)


class SchemeError(ValueError):
    """A scheme that cannot be used; the message says which field is wrong."""


@dataclass(frozen=True)
class Indicator:
    id: str
    group: str  # one of GROUP_IDS
    direction: str = "higher"
    method: str = "goalpost"
    # goalpost: {"lower": L, "upper": U} -> 100·(x-L)/(U-L) capped to [0, 100]
    # minmax / zscore / rank: no parameters (computed over the units being evaluated)
    params: dict = field(default_factory=dict)
    weight: float = 1.0  # within its group; renormalised


@dataclass(frozen=True)
class Group:
    id: str
    weight: float  # between groups; renormalised


@dataclass(frozen=True)
class GradeRule:
    mode: str = "bands"
    bands: tuple[float, float, float] = (90.0, 75.0, 60.0)  # lower edges of 优秀, 良好, 合格
    quotas: tuple[float, float] = (0.15, 0.30)  # shares of rated units graded 优秀, then 良好
    pass_score: float = 60.0  # with quotas: below it a unit is the fourth grade whatever its rank
    fourth_label: str = "较差"

    def labels(self) -> tuple[str, str, str, str]:
        return GRADES[:3] + (self.fourth_label,)


@dataclass(frozen=True)
class Scheme:
    name: str
    version: int
    groups: tuple[Group, ...]
    indicators: tuple[Indicator, ...]
    aggregation: str = "arithmetic"
    grade: GradeRule = GradeRule()
    min_instruments: int = 2  # units with fewer eligible instruments are not rated
    tie_break_group: str = "share"  # equal scores: the higher 共享服务 score ranks first

    def indicator_ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    def group_of(self, indicator_id: str) -> str:
        return next(i.group for i in self.indicators if i.id == indicator_id)

    def with_weights(self, group_weights: dict[str, float] | None = None,
                     indicator_weights: dict[str, float] | None = None) -> "Scheme":
        """A copy with some weights changed (the others kept)."""
        gw, iw = group_weights or {}, indicator_weights or {}
        return replace(
            self,
            groups=tuple(replace(g, weight=float(gw.get(g.id, g.weight))) for g in self.groups),
            indicators=tuple(replace(i, weight=float(iw.get(i.id, i.weight))) for i in self.indicators),
        )

    def validate(self) -> "Scheme":
        """Raise SchemeError naming the first problem; return self when the scheme is usable."""
        if [g.id for g in self.groups] != list(GROUP_IDS):
            raise SchemeError(f"groups must be {GROUP_IDS}, got {[g.id for g in self.groups]}")
        ids = self.indicator_ids()
        if len(set(ids)) != len(ids):
            raise SchemeError(f"indicator ids repeat: {ids}")
        for ind in self.indicators:
            if ind.group not in GROUP_IDS:
                raise SchemeError(f"{ind.id}: unknown group {ind.group!r}")
            if ind.direction not in DIRECTIONS:
                raise SchemeError(f"{ind.id}: direction must be one of {DIRECTIONS}")
            if ind.method not in METHODS:
                raise SchemeError(f"{ind.id}: method must be one of {METHODS}")
            if ind.weight < 0:
                raise SchemeError(f"{ind.id}: weight must be ≥ 0")
            if ind.method == "goalpost":
                lo, hi = ind.params.get("lower"), ind.params.get("upper")
                if lo is None or hi is None or not float(hi) > float(lo):
                    raise SchemeError(f"{ind.id}: goalpost needs lower < upper, got {ind.params}")
        for g in self.groups:
            if g.weight < 0:
                raise SchemeError(f"group {g.id}: weight must be ≥ 0")
            if not any(i.weight > 0 for i in self.indicators if i.group == g.id) and g.weight > 0:
                raise SchemeError(f"group {g.id} has weight but no weighted indicator")
        if sum(g.weight for g in self.groups) <= 0:
            raise SchemeError("at least one group needs a positive weight")
        if self.aggregation not in AGGREGATIONS:
            raise SchemeError(f"aggregation must be one of {AGGREGATIONS}")
        rule = self.grade
        if rule.mode not in GRADE_MODES:
            raise SchemeError(f"grade mode must be one of {GRADE_MODES}")
        if not (100 >= rule.bands[0] > rule.bands[1] > rule.bands[2] >= 0):
            raise SchemeError(f"grade bands must fall: {rule.bands}")
        if not (0 <= rule.quotas[0] and 0 <= rule.quotas[1] and sum(rule.quotas) <= 1):
            raise SchemeError(f"grade quotas must be shares adding up to at most 1: {rule.quotas}")
        if self.tie_break_group not in GROUP_IDS:
            raise SchemeError(f"tie_break_group must be one of {GROUP_IDS}")
        return self

    # ---------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "Scheme":
        try:
            grade = data.get("grade", {})
            scheme = cls(
                name=str(data["name"]),
                version=int(data["version"]),
                groups=tuple(Group(id=g["id"], weight=float(g["weight"])) for g in data["groups"]),
                indicators=tuple(
                    Indicator(id=i["id"], group=i["group"], direction=i.get("direction", "higher"),
                              method=i.get("method", "goalpost"), params=dict(i.get("params", {})),
                              weight=float(i.get("weight", 1.0)))
                    for i in data["indicators"]
                ),
                aggregation=data.get("aggregation", "arithmetic"),
                grade=GradeRule(
                    mode=grade.get("mode", "bands"),
                    bands=tuple(float(b) for b in grade.get("bands", (90, 75, 60))),
                    quotas=tuple(float(q) for q in grade.get("quotas", (0.15, 0.30))),
                    pass_score=float(grade.get("pass_score", 60)),
                    fourth_label=str(grade.get("fourth_label", "较差")),
                ),
                min_instruments=int(data.get("min_instruments", 2)),
                tie_break_group=data.get("tie_break_group", "share"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemeError(f"malformed scheme: {exc}") from exc
        return scheme.validate()

    @classmethod
    def from_json(cls, text: str) -> "Scheme":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemeError(f"scheme is not valid JSON: {exc}") from exc
        return cls.from_dict(data)


def default_scheme() -> Scheme:
    return Scheme.from_json(DEFAULT_SCHEME_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _default_name() -> str:
    return default_scheme().name


def display_name(name, t) -> str:
    """A scheme's name for display: the default scheme's (stored in Chinese) in the page language
    (evaluation.scheme.default_name), any other name as its author saved it."""
    return t("evaluation.scheme.default_name") if name == _default_name() else name
