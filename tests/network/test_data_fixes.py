"""Network data fixes for the 2026 scenarios: main stations, names, replacement buses.

Small purpose-written sources check the importer's rules; the shipped dataset checks the
places the scenarios name (Lozova, Barvinkove, Sloviansk, Kramatorsk).
"""

from __future__ import annotations

import doctest
import itertools
import re

import pytest

import advisor.network.importer
from advisor.errors import DataError
from advisor.network.dataset import load_network
from advisor.network.geo import crowfly_km
from advisor.network.importer import build_network
from advisor.network.model import LinkSource, Mode, StationKind, TimeSource
from advisor.network.sources import RAIL_STATIONS
from tests.network import sources_fixture as fx

SLOVIANSK = "osm-node-1065061073"
BARVINKOVE = "osm-node-1726138929"


@pytest.fixture(scope="module")
def shipped():
    return load_network()


def _with_stations(tmp_path, extra, edges=()):
    """Write the fixture sources with *extra* station rows (and rail *edges*) added."""
    rows = fx.stations() + list(extra)
    tables = {RAIL_STATIONS: (fx.STATION_COLUMNS, rows)}
    if edges:
        tables[fx.RAIL_EDGES] = (fx.EDGE_COLUMNS, fx.edges() + list(edges))
    return build_network(**fx.write_sources(tmp_path, **tables))


# --- main stations ------------------------------------------------------------------------


def test_station_named_exactly_after_its_town_beats_a_suffixed_one(tmp_path):
    # Біла Церква has no hub: the plain-named station wins although the other has more track.
    plain = fx._station("bc", "station", "Біла Церква", "49.79", "30.11")
    branch = fx._station("bc-h", "station", "Біла Церква-Гілка", "49.80", "30.12")
    branch["osm_degree"] = "5"
    net, _ = _with_stations(
        tmp_path, [plain, branch], [fx._edge("bc", "bc-h", "1.0"), fx._edge("bc-h", "a", "60")]
    )
    assert net.get_station("bc").is_main and not net.get_station("bc-h").is_main
    assert net.settlements["3210300000"].main_station_ids == ("bc",)


@pytest.mark.parametrize(
    ("settlement", "station", "name"),
    [
        ("1414100000", SLOVIANSK, "Слов'янськ"),
        ("1412900000", "osm-node-13072326058", "Краматорськ"),
        ("6310700000", "osm-node-1576981974", "Куп’янськ-Вузловий"),
        ("rail:izium", "izium", "Ізюм"),
        ("1413200000", "osm-node-12351757193", "Покровськ"),
        ("6311000000", "lozova", "Лозова-Пас."),
        ("6320510100", BARVINKOVE, "Барвінкове"),  # the stop is hand-added
    ],
)
def test_main_station_of_eastern_towns(shipped, settlement, station, name):
    s = shipped.get_station(station)
    assert s.name_uk == name and s.is_main and s.settlement == settlement
    assert shipped.settlements[settlement].main_station_ids == (station,)
    others = [x.id for x in shipped.stations.values() if x.settlement == settlement and x.is_main]
    assert others == [station]


def test_sloviansk_transfer_starts_at_sloviansk_not_the_branch(shipped):
    assert f"transfer:{SLOVIANSK}:bus:1414100000" in shipped.links
    assert "transfer:osm-node-6534738037:bus:1414100000" not in shipped.links


# --- English names ------------------------------------------------------------------------

CYRILLIC = re.compile("[\u0400-\u04ff]")


def test_importer_docstring_examples():
    result = doctest.testmod(advisor.network.importer)
    assert result.attempted > 0 and result.failed == 0


def test_mixed_script_english_names_are_cleaned_and_reported(tmp_path):
    lookalike = fx._station("x", "station", "Ірпінь", "50.52", "30.25")
    lookalike["name_en_osm"] = "Іrpіn"  # two Cyrillic І/і
    foreign = fx._station("y", "station", "Буча", "50.55", "30.21")
    foreign["name_en_osm"] = "Bucha Пасажирська"
    foreign["name_latin_kmu2010"] = "Bucha"
    net, report = _with_stations(tmp_path, [lookalike, foreign])
    assert net.get_station("x").name_en == "Irpin"
    assert net.get_station("y").name_en == "Bucha"
    assert net.get_station("kyiv").name_en == ""  # missing stays missing: display falls back
    assert net.get_station("kyiv").display_name("en") == net.get_station("kyiv").name_latin
    assert len(report.english_names_cleaned) == 2
    assert "English names with Cyrillic letters, cleaned: 2" in report.format()


def test_no_shipped_english_or_latin_name_mixes_scripts(shipped):
    for station in shipped.stations.values():
        for name in (station.name_en, station.name_latin, station.display_name("en")):
            assert not CYRILLIC.search(name), (station.id, name)
    for settlement in shipped.settlements.values():
        assert not CYRILLIC.search(settlement.name_latin), settlement.id
    assert shipped.get_station("kharkiv").name_en == "Kharkiv-Pasazhyrsky"


# --- historic names -----------------------------------------------------------------------

ALIASES = """
[[place]]
name = "Фастів"
names = ["Fastov"]
historic = ["Старий Фастів"]

[[place]]
name = "Самотня"
historic = ["Колишня"]

[[place]]
name = "Київ"
names = ["Kiev"]
"""


def test_historic_names_go_to_the_main_station_of_each_aliased_place(tmp_path):
    paths = fx.write_sources(tmp_path)
    aliases = tmp_path / "aliases.toml"
    aliases.write_text(ALIASES, encoding="utf-8")
    net, report = build_network(**paths, aliases_path=aliases)
    assert net.get_station("fastiv").historic_names == ("Старий Фастів",)
    assert net.get_station("fastiv-2").historic_names == ()  # not the main station
    assert net.get_station("lonely").historic_names == ("Колишня",)  # no settlement: by name
    assert net.get_station("kyiv").historic_names == ()  # spellings are not former names
    assert len(report.with_historic_names) == 2


def test_shipped_main_stations_carry_former_names(shipped):
    assert "Dnipropetrovsk" in shipped.get_station("dnipro").historic_names
    assert "Kirovohrad" in shipped.get_station("kropyvnytskyi").historic_names
    assert "Красноармійськ" in shipped.get_station("osm-node-12351757193").historic_names
    assert "Володимир-Волинський" in shipped.get_station("osm-node-967922431").historic_names
    dnipro_others = [
        s for s in shipped.stations.values() if s.settlement == "1210100000" and not s.is_main
    ]
    assert dnipro_others and not any(s.historic_names for s in dnipro_others)


# --- hand-added replacement buses ---------------------------------------------------------

SOURCE = "Ukrzaliznytsia replacement bus reported in early 2026 press; route and times estimated"
BUS_LINKS = f"""
[[stop]]
koatuu = "0510900000"
name_uk = "Козятин"
lat = 49.715
lon = 28.835
why = "test: a town the register lacks"

[[link]]
id = "bus-fastiv-koziatyn"
mode = "bus"
from = "bus:3211800000"
to = "bus:0510900000"
why = "test: replacement bus"
source = "{SOURCE}"
"""


def test_hand_added_bus_gets_its_stop_transfer_and_note(tmp_path):
    paths = fx.write_sources(tmp_path, hand_links=fx.HAND_LINKS + BUS_LINKS)
    net, report = build_network(**paths)
    stop = net.get_station("bus:0510900000")
    assert stop.kind is StationKind.BUS_STATION and stop.name_latin == "Koziatyn"
    assert stop.oblast_iso == "UA-32" and stop.settlement == "0510900000"
    assert net.get_station("koziatyn").settlement == "0510900000"  # the town now has a stop
    transfer = net.links["transfer:koziatyn:bus:0510900000"]
    assert transfer.travel_minutes >= 15 and "by hand" in transfer.source_note
    bus = net.links["hand:bus-fastiv-koziatyn"]
    assert (bus.mode, bus.source, bus.time_source) == (
        Mode.BUS, LinkSource.HAND_ADDED, TimeSource.ROAD_FACTOR,
    )  # fmt: skip
    fastiv = net.get_station("bus:3211800000")
    crow = crowfly_km(fastiv.lat, fastiv.lon, stop.lat, stop.lon)
    assert bus.distance_km == pytest.approx(1.36 * crow, abs=0.1)
    assert bus.travel_minutes == pytest.approx(bus.distance_km / 55.0 * 60, abs=0.2)
    assert "test: replacement bus" in bus.source_note and SOURCE in bus.source_note
    assert not bus.line_ids
    assert any(item.startswith("bus Фастів – Козятин") for item in report.hand_added)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (BUS_LINKS.replace(f'source = "{SOURCE}"', ""), "needs a 'source'"),
        (BUS_LINKS.replace('to = "bus:0510900000"', 'to = "koziatyn"'), "unknown bus stop"),
        (BUS_LINKS.replace('mode = "bus"', 'mode = "boat"'), "mode must be 'rail' or 'bus'"),
        (BUS_LINKS.replace('koatuu = "0510900000"', 'koatuu = "3211800000"'), "already exists"),
        (BUS_LINKS.replace("lat = 49.715\n", ""), "lacks 'lat'"),
    ],
)
def test_bad_hand_bus_or_stop_is_refused(tmp_path, config, message):
    paths = fx.write_sources(tmp_path, hand_links=fx.HAND_LINKS + config)
    with pytest.raises(DataError, match=message):
        build_network(**paths)


def test_shipped_replacement_buses_lozova_barvinkove_sloviansk_kramatorsk(shipped):
    chain = ["bus:6311000000", "bus:6320510100", "bus:1414100000", "bus:1412900000"]
    for a, b in itertools.pairwise(chain):
        (bus,) = [link for link in shipped.links_between(a, b) if link.mode is Mode.BUS]
        assert bus.source is LinkSource.HAND_ADDED and bus.time_source is TimeSource.ROAD_FACTOR
        assert "early 2026 press" in bus.source_note and "estimated" in bus.source_note
    for stop_id in chain:
        stop = shipped.get_station(stop_id)
        (main,) = shipped.settlements[stop.settlement].main_station_ids
        assert shipped.get_station(main).kind is StationKind.RAIL_STATION
        assert f"transfer:{main}:{stop_id}" in shipped.links
    assert shipped.settlements["6320510100"].main_station_ids == (BARVINKOVE,)
    # Dnipro–Zaporizhzhia: the 2019 register has that bus, so none is added by hand.
    (register,) = shipped.links_between("bus:1210100000", "bus:2310100000")
    assert register.source is LinkSource.BUS_REGISTER_2019


def test_replacement_bus_ridden_through_is_one_link_per_pair_of_its_stops(shipped):
    """One bus Lozova – Barvinkove – Sloviansk – Kramatorsk: a link for every pair of its stops
    (6), each as long as the road between them along the bus's way, so riding it through is one
    ride and never a change of bus."""
    calls = ["bus:6311000000", "bus:6320510100", "bus:1414100000", "bus:1412900000"]
    hand = {
        frozenset((link.from_id, link.to_id)): link
        for link in shipped.links.values()
        if link.mode is Mode.BUS and link.source is LinkSource.HAND_ADDED
    }
    pairs = [frozenset((a, b)) for i, a in enumerate(calls) for b in calls[i + 1 :]]
    assert set(pairs) <= set(hand) and len(pairs) == 6
    neighbours = sum(hand[frozenset(p)].distance_km for p in itertools.pairwise(calls))
    through = hand[frozenset((calls[0], calls[-1]))]
    assert abs(through.distance_km - neighbours) < 0.2
    assert through.id == "hand:bus-lozova-kramatorsk"
