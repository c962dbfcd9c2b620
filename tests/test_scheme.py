"""The indicator scheme: default file, JSON round trip, validation that names the problem."""

import json

import pytest

from dashboard.i18n import Translator
from dashboard.scheme import DEFAULT_SCHEME_PATH, GROUP_IDS, Scheme, SchemeError, default_scheme, display_name


def test_default_scheme_has_the_national_first_level_structure():
    s = default_scheme()
    assert [g.id for g in s.groups] == list(GROUP_IDS)
    assert {g.id: g.weight for g in s.groups} == {"org": 25, "use": 40, "share": 35}
    assert {i.group for i in s.indicators} == set(GROUP_IDS)
    assert s.grade.bands == (90, 75, 60) and s.grade.labels()[-1] == "较差"


def test_json_round_trip_keeps_everything():
    s = default_scheme()
    assert Scheme.from_json(s.to_json()) == s


def test_with_weights_changes_only_what_is_named():
    s = default_scheme().with_weights({"use": 50}, {"open_ratio": 10})
    assert {g.id: g.weight for g in s.groups} == {"org": 25, "use": 50, "share": 35}
    assert next(i for i in s.indicators if i.id == "open_ratio").weight == 10
    assert next(i for i in s.indicators if i.id == "online_booking").weight == 15


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["indicators"][0].update(direction="sideways"), "open_ratio: direction"),
        (lambda d: d["indicators"][0].update(params={"lower": 1, "upper": 1}), "open_ratio: goalpost"),
        (lambda d: d["indicators"][0].update(weight=-1), "open_ratio: weight"),
        (lambda d: d["indicators"].append(dict(d["indicators"][0])), "repeat"),
        (lambda d: d["groups"].pop(), "groups must be"),
        (lambda d: d["grade"].update(bands=[60, 75, 90]), "bands must fall"),
        (lambda d: d["grade"].update(quotas=[0.8, 0.4]), "quotas"),
        (lambda d: d.update(aggregation="median"), "aggregation"),
        (lambda d: d.pop("version"), "malformed"),
    ],
)
def test_invalid_schemes_are_refused_with_the_reason(mutate, message):
    data = json.loads(DEFAULT_SCHEME_PATH.read_text(encoding="utf-8"))
    mutate(data)
    with pytest.raises(SchemeError, match=message):
        Scheme.from_dict(data)


def test_not_json_is_refused():
    with pytest.raises(SchemeError, match="not valid JSON"):
        Scheme.from_json("{oops")


def test_the_default_scheme_is_named_in_the_page_language():
    name = default_scheme().name
    assert display_name(name, Translator("zh")) == name
    assert display_name(name, Translator("en")) == \
        "Alxa League research-instrument open-sharing performance evaluation (default scheme)"
    assert display_name("我的方案", Translator("en")) == "我的方案"  # a saved name stays as typed

