"""The war map as a baseline on the shipped network (issue 11): occupied places, front-line
bands with distances, far-western places untouched, and two maps against each other."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from shapely.geometry import box

from advisor.errors import DataError
from advisor.network.model import Link, LinkSource, Mode, Network, Station, StationKind
from advisor.network.search import StationIndex
from advisor.risk.coverage import RiskIndex
from advisor.risk.geography import (
    DEFAULT_BANDS,
    WarMap,
    bands_from_dict,
    build_layer,
    occupied_place,
)
from advisor.risk.model import RiskLevel
from advisor.risk.parse import flag_from_dict
from advisor.settings import Settings
from advisor.war_maps import WarLayers, load_bands, parse_war_map

WAR_DIR = Path(Settings().network_sources) / "war"
NOW = datetime(2026, 9, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def layer(shipped_network):
    return WarLayers(Settings()).layer(shipped_network)


@pytest.fixture(scope="module")
def names(shipped_network):
    index = StationIndex.build(shipped_network)
    return lambda name: index.resolve(name).id


@pytest.fixture(scope="module")
def february(shipped_network):
    path = WAR_DIR / "occupied_2026-02-01.geojson"
    if not path.exists():
        pytest.skip(f"raw war maps not present at {WAR_DIR}")
    war_map = parse_war_map(path.read_bytes(), path.name)
    borders = WarLayers(Settings()).war_map().borders
    war_map = WarMap(war_map.map_date, war_map.source, war_map.occupied, borders)
    return build_layer(war_map, shipped_network, load_bands(Settings())[0])


def test_shipped_map_is_dated_and_attributed(layer):
    assert layer.war_map.map_date == date(2026, 8, 22)
    assert layer.war_map.attribution == "Occupied territory: DeepStateMap, map of 2026-08-22"
    assert len(layer.war_map.checksum) == 64


@pytest.mark.parametrize(
    "name", ["Покровськ", "Донецьк", "Мелітополь", "Сімферополь", "Гуляйполе", "Маріуполь",
             "Луганськ", "Вовчанськ"],
)  # fmt: skip
def test_occupied_places_are_suspended(layer, names, name):
    station_id = names(name)
    assert layer.station_level(station_id) is RiskLevel.SUSPENDED
    place = occupied_place(layer, station_id)
    assert place is not None and place.map_date == date(2026, 8, 22)
    assert "тимчасово окупована територія (за мапою від 22.08.2026)" in place.notice("uk")
    assert "map of 2026-08-22" in place.notice("en")


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("Костянтинівка", 0.5, 5), ("Херсон", 3, 9), ("Куп'янськ-Вузловий", 0.5, 15),
     ("Нікополь", 4, 10), ("Лиман", 2, 8), ("Марганець", 8, 15)],
)  # fmt: skip
def test_front_line_towns_get_the_high_band_with_a_distance(layer, names, name, low, high):
    placed = layer.stations[names(name)]
    assert not placed.occupied and placed.level is RiskLevel.HIGH
    assert placed.band == "front-high" and low <= placed.distance_km <= high
    assert occupied_place(layer, names(name)) is None


@pytest.mark.parametrize(
    ("name", "band", "level"),
    [("Краматорськ", "front-elevated", RiskLevel.ELEVATED),
     ("Харків", "front-elevated", RiskLevel.ELEVATED),
     ("Ворожба", "russia-high", RiskLevel.HIGH)],
)  # fmt: skip
def test_farther_bands_and_the_russian_border(layer, names, name, band, level):
    placed = layer.stations[names(name)]
    assert (placed.band, placed.level) == (band, level)


@pytest.mark.parametrize("name", ["Львів", "Ужгород", "Київ", "Дніпро", "Полтава"])
def test_far_places_have_no_baseline(layer, names, name):
    assert layer.station_level(names(name)) is None


def test_few_synthetic_flags_carry_their_origin(layer, shipped_network):
    assert 3 <= len(layer.flags) <= 10
    for flag in layer.flags:
        assert flag.baseline and flag.extra["origin"] == "war_map"
        assert flag.extra["map_date"] == "2026-08-22" and "DeepStateMap" in flag.source
    kherson = next(f for f in layer.flags if f.extra["band"] == "front-high")
    assert kherson.extra["distances_km"]["kherson"] == layer.stations["kherson"].distance_km


def test_index_merges_the_baseline_with_operator_flags(layer, shipped_network):
    flag = flag_from_dict({
        "id": "ops", "level": "suspended", "target": {"kind": "station", "station_id": "kharkiv"},
        "reason_uk": "Удар", "reason_en": "Strike", "source": "UZ",
    })  # fmt: skip
    index = RiskIndex.build([flag, *layer.flags], shipped_network)
    assert not index.problems
    assert max(f.level for f in index.flags_at_station("kharkiv", NOW)) is RiskLevel.SUSPENDED
    assert {f.level for f in index.flags_at_station("kherson", NOW)} == {RiskLevel.HIGH}


HULIAIPOLE_RAIL, RODYNSKA = "osm-node-3385259666", "osm-node-1296778705"


def test_places_whose_status_changed_between_the_maps(layer, february, names):
    for station_id in (HULIAIPOLE_RAIL, RODYNSKA):  # front-line in February, occupied in August
        assert february.station_level(station_id) is RiskLevel.HIGH
        assert layer.station_level(station_id) is RiskLevel.SUSPENDED
        assert occupied_place(february, station_id) is None
        assert occupied_place(layer, station_id) is not None
    kupiansk = names("Куп'янськ-Вузловий")
    assert layer.stations[kupiansk].front_km < february.stations[kupiansk].front_km
    for name in ("Донецьк", "Сімферополь", "Покровськ"):  # occupied on both
        assert february.station_level(names(name)) is RiskLevel.SUSPENDED
    assert february.station_level(names("Львів")) is None


def _tiny():
    stations = [
        Station("in", "Всередині", "In", 48.0, 37.5, "UA-14", StationKind.RAIL_STATION),
        Station("edge", "Край", "Edge", 48.0, 37.2, "UA-14", StationKind.RAIL_STATION),
        Station("far", "Далеко", "Far", 49.5, 30.0, "UA-32", StationKind.RAIL_STATION),
    ]
    links = [
        Link("in-edge", "in", "edge", Mode.RAIL, 25, 20, LinkSource.OSM_TRACK),
        Link("edge-far", "edge", "far", Mode.RAIL, 600, 500, LinkSource.OSM_TRACK),
    ]
    return Network.build(stations, links, [])


def test_a_link_crossing_occupied_ground_is_suspended_and_distances_are_geodesic():
    war = WarMap(date(2026, 8, 22), "DeepStateMap", box(37.3, 47.5, 38.0, 48.5), {})
    layer = build_layer(war, _tiny(), DEFAULT_BANDS)
    assert layer.link_level("in-edge") is RiskLevel.SUSPENDED
    # 0.1° of longitude at 48° N is 7.44 km (geodesic); the edge station sits there.
    assert layer.stations["edge"].front_km == pytest.approx(7.4, abs=0.1)
    assert layer.link_level("edge-far") is RiskLevel.HIGH  # it starts 7 km from the line
    assert layer.station_level("far") is None


@pytest.mark.parametrize(
    ("data", "words"),
    [({"front": [{"max_km": 10}]}, "needs max_km and level"),
     ({"front": [{"max_km": -1, "level": "high"}]}, "max_km > 0"),
     ({"front": [{"max_km": 5, "level": "suspended"}]}, "below suspended"),
     ({"front": [{"max_km": 5, "level": "grave"}]}, "unknown risk level"),
     ({"moon": []}, "unknown section")],
)  # fmt: skip
def test_bad_band_configuration_is_named(data, words):
    with pytest.raises(DataError, match=words):
        bands_from_dict(data)


def test_shipped_configuration_matches_the_documented_defaults():
    bands, share = load_bands(Settings())
    assert bands == DEFAULT_BANDS and 0 < share < 1


KHERSON_CAP = {
    "id": "kherson-runs", "level": "elevated", "caps_baseline": True,
    "target": {"kind": "station", "station_id": "kherson"},
    "reason_uk": "Укрзалізниця курсує до Херсона з обережністю",
    "reason_en": "Ukrzaliznytsia still runs to Kherson, with caution", "source": "УЗ",
}  # fmt: skip


def test_an_operator_caps_a_band_on_one_station(layer, shipped_network, names):
    cap = flag_from_dict(KHERSON_CAP)
    index = RiskIndex.build([cap, *layer.flags], shipped_network)
    levels = {f.level for f in index.flags_at_station("kherson", NOW)}
    assert levels == {RiskLevel.ELEVATED}
    capped = [f for f in index.flags_at_station("kherson", NOW) if f.extra.get("capped_by")]
    assert capped and capped[0].extra["band_level"] == "high" and capped[0].baseline
    nikopol = names("Нікополь")  # elsewhere the band stays
    assert max(f.level for f in index.flags_at_station(nikopol, NOW)) is RiskLevel.HIGH
    assert index.link_levels(NOW).get(_a_link_at(shipped_network, layer, "kherson")) is (
        RiskLevel.ELEVATED
    )


def _a_link_at(network, layer, station_id):
    return next(
        key for _u, _v, key in network.graph.edges(station_id, keys=True) if key in layer.links
    )


def test_a_cap_applies_only_inside_its_window(layer, shipped_network):
    cap = flag_from_dict({**KHERSON_CAP, "active_from": "2026-09-01T00:00Z",
                          "active_until": "2026-09-02T00:00Z"})
    index = RiskIndex.build([cap, *layer.flags], shipped_network)
    before, during = datetime(2026, 8, 31, tzinfo=UTC), datetime(2026, 9, 1, 12, tzinfo=UTC)
    after = datetime(2026, 9, 3, tzinfo=UTC)
    top = lambda at: max(f.level for f in index.flags_at_station("kherson", at))  # noqa: E731
    assert (top(before), top(during), top(after)) == (
        RiskLevel.HIGH, RiskLevel.ELEVATED, RiskLevel.HIGH
    )


def test_occupied_territory_is_never_capped(layer, shipped_network, names):
    donetsk = names("Донецьк")
    cap = flag_from_dict({**KHERSON_CAP, "target": {"kind": "station", "station_id": donetsk}})
    index = RiskIndex.build([cap, *layer.flags], shipped_network)
    assert max(f.level for f in index.flags_at_station(donetsk, NOW)) is RiskLevel.SUSPENDED


@pytest.mark.parametrize(
    "change",
    [{"target": {"kind": "oblast", "oblast_iso": "UA-65"}}, {"level": "suspended"}],
)
def test_caps_are_only_for_a_station_or_line_below_suspended(change):
    from advisor.errors import InvalidFlag

    with pytest.raises(InvalidFlag, match="caps_baseline lowers"):
        flag_from_dict({**KHERSON_CAP, **change})
