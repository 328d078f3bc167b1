"""The GTFS-realtime Alerts builder over the tiny network (pure: no app, no store)."""

from __future__ import annotations

import doctest
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from google.transit import gtfs_realtime_pb2

import advisor.feeds.alerts
from advisor.feeds.alerts import alerts_feed
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import (
    CircleTarget,
    Flag,
    FlagStatus,
    LineTarget,
    OblastTarget,
    RiskLevel,
    SectionTarget,
    StationTarget,
)

Alert = gtfs_realtime_pb2.Alert
AT = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)
READ_AT = datetime(2026, 3, 12, 7, 59, 30, tzinfo=UTC)


def _flag(fid="f1", level=RiskLevel.HIGH, target=None, **kw) -> Flag:
    return Flag(
        fid, level, target or LineTarget("lozova-kramatorsk"), "Обстріли", "Strikes",
        "Укрзалізниця", "ops", **kw,
    )  # fmt: skip


def _feed(flags, network, **kw):
    return alerts_feed(flags, network, AT, updated_at=READ_AT, **kw)


def _stops(entity) -> list[str]:
    return [e.stop_id for e in entity.alert.informed_entity]


def _texts(translated) -> dict[str, str]:
    return {t.language: t.text for t in translated.translation}


def test_docstring_examples():
    result = doctest.testmod(advisor.feeds.alerts, verbose=False)
    assert result.attempted > 0 and result.failed == 0


def test_header_is_a_full_dataset_stamped_with_the_snapshot_read_time(tiny_network):
    feed = _feed([], tiny_network)
    assert feed.header.gtfs_realtime_version == "2.0"
    assert feed.header.incrementality == gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    assert feed.header.timestamp == int(READ_AT.timestamp()) != int(AT.timestamp())
    assert len(feed.entity) == 0
    never_read = alerts_feed([], tiny_network, AT, updated_at=None)
    assert not never_read.header.HasField("timestamp")


def test_line_flag_names_the_lines_stations_hubs_first(tiny_network):
    start = AT - timedelta(days=2)
    (entity,) = _feed([_flag(active_from=start)], tiny_network).entity
    assert entity.id == "f1"
    assert _stops(entity) == ["barvinkove", "kramatorsk", "lozova"]  # all hubs, by name
    alert = entity.alert
    assert (alert.effect, alert.severity_level, alert.cause) == (
        Alert.OTHER_EFFECT, Alert.SEVERE, Alert.OTHER_CAUSE,
    )  # fmt: skip
    (period,) = alert.active_period
    assert period.start == int(start.timestamp())
    assert not period.HasField("end")  # no end: open-ended


def test_line_flag_leaves_halts_out(tiny_network):
    (entity,) = _feed([_flag(target=LineTarget("kyiv-kharkiv"))], tiny_network).entity
    assert "lubotyn" not in _stops(entity)  # a halt: no long-distance passenger service
    assert set(_stops(entity)) >= {"kyiv", "poltava"}


def test_section_flag_names_its_ends_first(tiny_network):
    target = SectionTarget("kyiv-kharkiv", "poltava", "kharkiv")
    (entity,) = _feed([_flag(target=target)], tiny_network).entity
    assert _stops(entity)[:2] == ["kharkiv", "poltava"]
    assert _texts(entity.alert.header_text)["en"].endswith("section Poltava-Pivd.–Kharkiv-Pas.")


def test_area_flag_names_stations_and_bus_stops_main_stations_first(tiny_network):
    flag = _flag(target=OblastTarget("UA-63"), level=RiskLevel.ELEVATED)
    (entity,) = _feed([flag], tiny_network).entity
    assert _stops(entity) == ["barvinkove", "kharkiv", "lozova", "bus:kharkiv", "bus:lozova"]
    assert entity.alert.severity_level == Alert.WARNING
    assert _texts(entity.alert.header_text) == {
        "uk": "Підвищений ризик: Харківська область",
        "en": "Elevated risk: Kharkiv oblast",
    }


def test_long_lists_are_capped(tiny_network, monkeypatch):
    monkeypatch.setattr(advisor.feeds.alerts, "MAX_INFORMED_STOPS", 2)
    (entity,) = _feed([_flag(target=OblastTarget("UA-63"))], tiny_network).entity
    assert _stops(entity) == ["barvinkove", "kharkiv"]


def test_an_area_of_halts_only_names_the_halts(tiny_network):
    lubotyn = tiny_network.stations["lubotyn"]
    circle = CircleTarget(lubotyn.lat, lubotyn.lon, 3.0)
    (entity,) = _feed([_flag(target=circle)], tiny_network).entity
    assert _stops(entity) == ["lubotyn"]


def test_an_area_crossed_by_a_bus_route_names_the_routes_stops(tiny_network):
    between = CircleTarget(50.215, 33.35, 10.0)  # on the Kyiv–Kharkiv bus road, no stop inside
    (entity,) = _feed([_flag(target=between)], tiny_network).entity
    assert _stops(entity) == ["bus:kharkiv", "bus:kyiv"]


def test_station_and_bus_link_flags_name_their_stops(tiny_network):
    from advisor.risk.model import BusLinkTarget

    flags = [
        _flag("st", target=StationTarget("lubotyn")),
        _flag("bus", target=BusLinkTarget("bus:lozova", "bus:kramatorsk")),
    ]
    entities = {e.id: _stops(e) for e in _feed(flags, tiny_network).entity}
    assert entities == {"st": ["lubotyn"], "bus": ["bus:lozova", "bus:kramatorsk"]}


@pytest.mark.parametrize(
    ("level", "effect", "severity"),
    [
        (RiskLevel.SUSPENDED, Alert.NO_SERVICE, Alert.SEVERE),
        (RiskLevel.HIGH, Alert.OTHER_EFFECT, Alert.SEVERE),
        (RiskLevel.ELEVATED, Alert.OTHER_EFFECT, Alert.WARNING),
        (RiskLevel.ADVISORY, Alert.OTHER_EFFECT, Alert.INFO),
    ],
)
def test_levels_map_to_effect_and_severity(tiny_network, level, effect, severity):
    (entity,) = _feed([_flag(level=level)], tiny_network).entity
    assert (entity.alert.effect, entity.alert.severity_level) == (effect, severity)
    assert set(_texts(entity.alert.effect_detail)) == {"uk", "en"}


def test_drafts_withdrawn_and_expired_flags_are_left_out_future_ones_kept(tiny_network):
    flags = [
        _flag("draft", status=FlagStatus.DRAFT),
        _flag("withdrawn", status=FlagStatus.WITHDRAWN),
        _flag("expired", active_from=AT - timedelta(days=3), active_until=AT),
        _flag("future", active_from=AT + timedelta(hours=6), active_until=AT + timedelta(days=1)),
        _flag("now", level=RiskLevel.SUSPENDED),
    ]
    feed = _feed(flags, tiny_network)
    assert [e.id for e in feed.entity] == ["now", "future"]  # most severe first
    (period,) = feed.entity[1].alert.active_period
    assert (period.start, period.end) == (
        int((AT + timedelta(hours=6)).timestamp()), int((AT + timedelta(days=1)).timestamp()),
    )  # fmt: skip


def test_texts_in_both_languages_with_reason_source_and_since(tiny_network):
    flag = _flag(active_from=datetime(2026, 3, 10, 4, 30, tzinfo=UTC))
    (entity,) = _feed([flag], tiny_network).entity
    alert = entity.alert
    assert [t.language for t in alert.header_text.translation] == ["uk", "en"]
    assert _texts(alert.header_text) == {
        "uk": "Високий ризик: лінія Лозова–Барвінкове–Краматорськ",
        "en": "High risk: line Lozova–Barvinkove–Kramatorsk",
    }
    assert _texts(alert.description_text) == {
        "uk": "Обстріли. Джерело: Укрзалізниця. Діє з 10.03.2026 06:30 (київський час).",
        "en": "Strikes. Source: Укрзалізниця. In force since 10.03.2026 06:30 (Kyiv time).",
    }
    assert _texts(alert.cause_detail) == {"uk": "Обстріли", "en": "Strikes"}
    english_first = _feed([flag], tiny_network, locale="en").entity[0].alert
    assert [t.language for t in english_first.header_text.translation] == ["en", "uk"]


def test_since_falls_back_to_publication_and_the_end_is_said(tiny_network):
    flag = _flag(
        published_at=datetime(2026, 3, 11, 22, 0, tzinfo=UTC),
        active_until=datetime(2026, 3, 20, tzinfo=UTC),
    )
    text = _texts(_feed([flag], tiny_network).entity[0].alert.description_text)["en"]
    assert "since 12.03.2026 00:00" in text and "Until 20.03.2026 02:00." in text


def test_a_flag_covering_nothing_has_no_entity(tiny_network):
    flags = [
        _flag("gone", target=LineTarget("no-such-line")),
        _flag("off", target=CircleTarget(44.0, 40.0, 5.0)),
        _flag("ok"),
    ]
    assert [e.id for e in _feed(flags, tiny_network).entity] == ["ok"]
    index = RiskIndex.build(flags, tiny_network)  # leaves the unknown line out
    assert [e.id for e in _feed(flags, tiny_network, coverage=index.coverage).entity] == ["ok"]


def test_uses_the_routing_index_coverage_when_given(tiny_network):
    flag = _flag(target=OblastTarget("UA-63"))
    index = RiskIndex.build([flag], tiny_network)
    narrowed = {"f1": replace(index.coverage["f1"], station_ids=frozenset({"lozova"}))}
    assert _stops(_feed([flag], tiny_network, coverage=narrowed).entity[0]) == ["lozova"]
    full = _feed([flag], tiny_network, coverage=index.coverage)
    assert full == _feed([flag], tiny_network)


def test_unknown_locale_is_refused(tiny_network):
    with pytest.raises(ValueError, match="locale 'de'"):
        _feed([], tiny_network, locale="de")


def test_the_message_survives_a_round_trip(tiny_network):
    feed = _feed([_flag(), _flag("area", target=OblastTarget("UA-14"))], tiny_network)
    parsed = gtfs_realtime_pb2.FeedMessage()
    parsed.ParseFromString(feed.SerializeToString())
    assert parsed == feed and parsed.IsInitialized()
