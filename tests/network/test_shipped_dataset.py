"""The shipped dataset (advisor/network/data/): what routing, flags and pages rely on."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

from advisor.network.dataset import load_network
from advisor.network.importer import build_network
from advisor.network.model import LinkSource, Mode, StationKind, TimeSource
from advisor.settings import Settings

KRAMATORSK = "osm-node-13072326058"
SLOVIANSK = "osm-node-1065061073"
#: Issue 2: main cities that must connect by rail (station ids of the source).
MAIN_CITIES = [
    "kyiv", "lviv", "odesa", "kharkiv", "dnipro", "zaporizhzhia", "uzhhorod", "chernivtsi",
    "sumy", "chernihiv", "poltava", "kropyvnytskyi", "mykolaiv", "kherson", "zhytomyr",
    "vinnytsia", "khmelnytskyi", "ternopil", "ivano-frankivsk", "lutsk", "rivne", "cherkasy",
    KRAMATORSK, SLOVIANSK,
]  # fmt: skip
#: Lines the brief names; operators flag by these ids.
NAMED = [
    "kyiv-fastiv-koziatyn", "kharkiv-kupiansk", "lozova-sloviansk",
    "lozova-barvinkove-kramatorsk", "dnipro-zaporizhzhia", "kyiv-poltava-kharkiv",
    "kyiv-konotop-sumy", "kyiv-nizhyn-chernihiv", "lviv-stryi-chop", "chop-uzhhorod",
    "lviv-ternopil-khmelnytskyi", "odesa-podilsk-zhmerynka", "kharkiv-lozova", "dnipro-lozova",
    "kharkiv-izium",
]  # fmt: skip


@pytest.fixture(scope="module")
def net():
    return load_network()


@pytest.fixture(scope="module")
def rail(net):
    graph = nx.Graph()
    graph.add_edges_from(
        (link.from_id, link.to_id) for link in net.links.values() if link.mode is Mode.RAIL
    )
    return graph


@pytest.mark.parametrize("city", MAIN_CITIES)
def test_main_cities_connect_to_kyiv_by_rail(rail, city):
    assert nx.has_path(rail, "kyiv", city)


def test_kramatorsk_reachable_only_through_estimated_links(net, rail):
    path = nx.shortest_path(rail, "kharkiv", KRAMATORSK)
    sources = {link.source for a, b in itertools.pairwise(path) for link in net.links_between(a, b)}
    assert LinkSource.HAND_ADDED in sources  # the extract has no track there: say so


def test_at_least_sixty_lines_with_names(net):
    assert len(net.lines) >= 60
    assert set(NAMED) <= set(net.lines)
    for line in net.lines.values():
        assert line.name_uk and line.name_en and len(line.hubs) >= 2
        assert line.station_ids[0] == line.hubs[0] and line.station_ids[-1] == line.hubs[-1]


def test_line_links_follow_the_chain_and_include_parallel_links(net):
    with_parallel = 0
    for line in net.lines.values():
        chain = set(line.station_ids)
        for a, b in itertools.pairwise(line.station_ids):
            assert {link.id for link in net.links_between(a, b)} & line.link_ids, (line.id, a, b)
        parallel = {
            link.id
            for link in net.links.values()
            if link.parallel and link.from_id in chain and link.to_id in chain
        }
        assert parallel <= line.link_ids, line.id
        with_parallel += bool(parallel)
        for link_id in line.link_ids:
            assert line.id in net.links[link_id].line_ids
            assert net.links[link_id].mode is Mode.RAIL
    assert with_parallel >= 50


def test_every_time_is_an_estimate_with_its_source(net):
    expected = {
        Mode.RAIL: {TimeSource.SPEED_MODEL},
        Mode.BUS: {TimeSource.ROAD_LENGTH, TimeSource.ROAD_FACTOR},
        Mode.TRANSFER: {TimeSource.TRANSFER_MODEL},
    }
    for link in net.links.values():
        assert link.is_estimated and link.time_source in expected[link.mode], link.id
        assert link.travel_minutes > 0 and link.distance_km >= 0, link.id
    hand = [link for link in net.links.values() if link.source is LinkSource.HAND_ADDED]
    assert hand and all("estimated" in link.source_note for link in hand)


def test_transfers_are_never_zero_and_stay_in_one_settlement(net):
    transfers = [link for link in net.links.values() if link.mode is Mode.TRANSFER]
    assert len(transfers) > 150
    for link in transfers:
        a, b = net.get_station(link.from_id), net.get_station(link.to_id)
        assert link.travel_minutes >= 15
        assert a.settlement == b.settlement and a.is_main
        assert b.kind is StationKind.BUS_STATION


@pytest.mark.parametrize(
    ("station", "settlement"),
    [("kyiv", "Київ"), ("lviv", "Львів"), ("kharkiv", "Харків"), ("odesa", "Одеса"),
     ("dnipro", "Дніпро"), ("zaporizhzhia", "Запоріжжя"), ("poltava", "Полтава")],
)  # fmt: skip
def test_main_station_of_each_city(net, station, settlement):
    s = net.get_station(station)
    assert s.is_main and net.settlements[s.settlement].name_uk == settlement
    others = [x for x in net.stations.values() if x.settlement == s.settlement and x.is_main]
    assert others == [s]


def test_bus_stops_and_oblasts(net):
    stops = [s for s in net.stations.values() if s.kind is StationKind.BUS_STATION]
    assert len(stops) == 477  # the 2019 register's 476 and Barvinkove (config/hand_links.toml)
    assert all(s.id == f"bus:{s.settlement}" for s in stops)
    assert len(net.oblasts) == 27 and all(o.polygons for o in net.oblasts.values())
    assert net.get_station("kharkiv").oblast_iso == "UA-63"
    assert net.get_station("bus:8000000000").oblast_iso == "UA-30"


def test_metadata_says_version_sources_and_attribution(net):
    meta = net.metadata
    assert str(meta["version"]).startswith("osm-")
    assert meta["built_at"] and meta["sources"]["bus"].endswith("April 2019")
    assert any("© OpenStreetMap contributors" in a for a in meta["attribution"])


@pytest.mark.slow
def test_shipped_dataset_matches_a_fresh_build(net):
    settings = Settings()
    if not settings.network_sources.is_dir():
        pytest.skip(f"raw sources not present at {settings.network_sources}")
    fresh, _ = build_network(
        settings.network_sources,
        settings.speed_model_path,
        settings.lines_path,
        settings.hand_links_path,
    )
    # Same checksum: the committed file was rebuilt after the last config change.
    assert fresh.metadata["version"] == net.metadata["version"], "run `advisor network build`"
