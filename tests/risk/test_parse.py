"""The flag parser: every problem is an InvalidFlag naming the field."""

from __future__ import annotations

import doctest

import pytest

from advisor.errors import InvalidFlag, UnknownLine, UnknownStation
from advisor.risk import coverage, parse
from advisor.risk.model import FlagStatus, RiskLevel
from advisor.risk.parse import flag_from_dict, flag_to_dict, validate_against


def _flag(**changes):
    data = {
        "level": "high",
        "target": {"kind": "line", "line_id": "lozova-kramatorsk"},
        "reason_uk": "Обстріли",
        "reason_en": "Strikes",
        "source": "Укрзалізниця",
        "author": "ops",
        "active_from": "2026-03-12T08:00:00+02:00",
    }
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize("module", [parse, coverage])
def test_doctests(module):
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


@pytest.mark.parametrize(
    ("target"),
    [
        {"kind": "line", "line_id": "kyiv-kharkiv"},
        {
            "kind": "section",
            "line_id": "kyiv-kharkiv",
            "from_station": "poltava",
            "to_station": "kharkiv",
        },
        {"kind": "station", "station_id": "lozova"},
        {"kind": "oblast", "oblast_iso": "UA-59"},
        {"kind": "circle", "lat": 50.9, "lon": 34.8, "radius_km": 40},
        {"kind": "polygon", "ring": [[34.0, 50.5], [35.5, 50.5], [35.5, 51.5], [34.0, 51.5]]},
        {"kind": "bus_link", "from_station": "bus:kyiv", "to_station": "bus:sumy"},
    ],
)
def test_round_trip_every_target_kind(target):
    flag = flag_from_dict(_flag(target=target))
    assert flag.target.kind == target["kind"]
    assert flag_from_dict(flag_to_dict(flag)) == flag


def test_naive_time_is_kyiv_local_and_stored_in_utc():
    flag = flag_from_dict(_flag(active_from="2026-07-01T10:00", active_until="2026-07-02 10:00"))
    assert flag.active_from.isoformat() == "2026-07-01T07:00:00+00:00"  # summer: UTC+3
    assert flag.active_until.isoformat() == "2026-07-02T07:00:00+00:00"


def test_missing_id_is_stable_and_explicit_id_is_kept():
    assert flag_from_dict(_flag()).id == flag_from_dict(_flag()).id
    assert flag_from_dict(_flag(id="uz-2026-17")).id == "uz-2026-17"
    assert flag_from_dict(_flag(status="draft")).status is FlagStatus.DRAFT
    assert flag_from_dict(_flag(level="SUSPENDED")).level is RiskLevel.SUSPENDED


def test_one_reason_language_is_enough():
    assert flag_from_dict(_flag(reason_en=...)).reason("en") == "Обстріли"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"level": "grave"}, "level", "'grave'"),
        ({"level": ...}, "level", "no level"),
        ({"level": 3}, "level", "level 3"),
        ({"target": ...}, "target", "target"),
        ({"target": {"kind": "river"}}, "target.kind", "'river'"),
        ({"target": {"kind": "line"}}, "target.line_id", "line_id"),
        ({"target": {"kind": "station", "station_id": "x", "lat": 1}}, "target.lat", "lat"),
        ({"reason_uk": ..., "reason_en": ...}, "reason_uk", "reason"),
        ({"reason_uk": "", "reason_en": "  "}, "reason_uk", "reason"),
        ({"reason_en": "x" * 1001}, "reason_en", "1001 characters"),
        ({"reason_uk": 5}, "reason_uk", "text"),
        ({"source": ...}, "source", "source"),
        ({"source": "x" * 301}, "source", "limit is 300"),
        ({"active_until": "2026-03-12T07:00:00+02:00"}, "active_until", "before it starts"),
        ({"active_until": "2026-03-12T08:00:00+02:00"}, "active_until", "before it starts"),
        ({"active_from": "yesterday"}, "active_from", "'yesterday'"),
        ({"active_from": 1700000000}, "active_from", "1700000000"),
        ({"status": "live"}, "status", "'live'"),
        ({"id": "has space"}, "id", "'has space'"),
        ({"activ_until": "2026-03-13"}, "activ_until", "'activ_until'"),
        ({"version": 0}, "version", "positive"),
        ({"baseline": "yes"}, "baseline", "true or false"),
        ({"target": {"kind": "oblast", "oblast_iso": "Kharkiv"}}, "target.oblast_iso", "UA-63"),
        ({"target": {"kind": "circle", "lat": 95, "lon": 30, "radius_km": 5}}, "target.lat", "95"),
        (
            {"target": {"kind": "circle", "lat": 50, "lon": 30, "radius_km": 0}},
            "target.radius_km",
            "above 0",
        ),
        (
            {"target": {"kind": "circle", "lat": 50, "lon": 30, "radius_km": 900}},
            "target.radius_km",
            "900",
        ),
        (
            {"target": {"kind": "circle", "lat": "north", "lon": 30, "radius_km": 9}},
            "target.lat",
            "'north'",
        ),
        (
            {"target": {"kind": "circle", "lat": float("nan"), "lon": 30, "radius_km": 9}},
            "target.lat",
            "nan",
        ),
        ({"target": {"kind": "polygon", "ring": [[30, 50], [31, 50]]}}, "target.ring", "3–"),
        (
            {"target": {"kind": "polygon", "ring": [[30, 50], [31, 51], [31, 50], [30, 51]]}},
            "target.ring",
            "crosses itself",
        ),
        (
            {"target": {"kind": "polygon", "ring": [[30, 50], [31, 50], [31]]}},
            "target.ring",
            "point 2",
        ),
    ],
)
def test_invalid_flags_name_the_field(changes, field, words):
    with pytest.raises(InvalidFlag) as info:
        flag_from_dict(_flag(**changes))
    assert info.value.field == field
    assert words in info.value.message


def test_not_an_object():
    with pytest.raises(InvalidFlag, match="object"):
        flag_from_dict(["level", "high"])


def test_validate_against_the_network(tiny_network):
    validate_against(flag_from_dict(_flag()), tiny_network)
    with pytest.raises(UnknownLine) as info:
        validate_against(
            flag_from_dict(_flag(target={"kind": "line", "line_id": "lozova-kramatorks"})),
            tiny_network,
        )
    assert "lozova-kramatorsk" in info.value.suggestions
    with pytest.raises(UnknownStation) as info:
        validate_against(
            flag_from_dict(_flag(target={"kind": "station", "station_id": "lozovaa"})), tiny_network
        )
    assert info.value.suggestions[0] == "lozova"
    off_line = {
        "kind": "section",
        "line_id": "kyiv-sumy",
        "from_station": "kyiv",
        "to_station": "lozova",
    }
    with pytest.raises(InvalidFlag, match="not on line"):
        validate_against(flag_from_dict(_flag(target=off_line)), tiny_network)
    no_bus = {"kind": "bus_link", "from_station": "bus:kyiv", "to_station": "bus:lozova"}
    with pytest.raises(InvalidFlag, match="no bus link"):
        validate_against(flag_from_dict(_flag(target=no_bus)), tiny_network)
