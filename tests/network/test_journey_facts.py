"""Network-level facts a leg reports (issue 12): the main hubs it passes ("via Koziatyn,
Zhmerynka") and where a rail trip leaves one named line for another with no known through
service, on the shipped network."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

from advisor.network.dataset import load_network
from advisor.network.model import Mode


@pytest.fixture(scope="module")
def net():
    return load_network()


@pytest.fixture(scope="module")
def rail(net):
    graph = nx.Graph()
    for link in net.links.values():
        if link.mode is not Mode.RAIL:
            continue
        old = graph.get_edge_data(link.from_id, link.to_id)
        if old is None or old["minutes"] > link.travel_minutes:
            graph.add_edge(link.from_id, link.to_id, minutes=link.travel_minutes, id=link.id)
    return graph


def _trip(rail, a, b):
    stations = nx.shortest_path(rail, a, b, weight="minutes")
    return stations, [rail.edges[u, v]["id"] for u, v in itertools.pairwise(stations)]


def _names(net, ids):
    return [net.stations[sid].display_name("en") for sid in ids]


def test_kyiv_odesa_passes_koziatyn_and_zhmerynka_without_a_change(net, rail):
    stations, links = _trip(rail, "kyiv", "odesa")
    hubs = net.hubs_on(stations)
    assert {"koziatyn-1", "zhmerynka"} <= set(hubs)
    assert hubs.index("koziatyn-1") < hubs.index("zhmerynka")
    assert "kyiv" not in hubs and "odesa" not in hubs
    changes = net.line_changes(stations, links)
    assert changes and all(c.through for c in changes)  # one train all the way


def test_izmail_chernihiv_needs_a_change_in_kyiv(net, rail):
    izmail = next(s.id for s in net.stations.values() if s.name_uk == "Ізмаїл")
    stations, links = _trip(rail, izmail, "chernihiv")
    possible = [c for c in net.line_changes(stations, links) if not c.through]
    assert [c.station_id for c in possible] == ["kyiv"]
    assert possible[0].to_line == "kyiv-nizhyn-chernihiv"


def test_changes_lie_on_the_trip_and_join_its_lines(net, rail):
    stations, links = _trip(rail, "lviv", "kharkiv")
    for change in net.line_changes(stations, links):
        assert change.station_id in stations
        assert change.from_line != change.to_line
        assert {change.from_line, change.to_line} <= set(net.lines)


@pytest.mark.parametrize(
    "a, b", [("kyiv", "Херсон"), ("kyiv", "Запоріжжя-1"), ("uzhhorod", "kyiv")]
)
def test_a_change_is_placed_where_trains_stop(net, rail, a, b):
    """A line change at a junction on open track (Kyiv→Kherson leaves the Shevchenko–Dnipro
    line at the halt "5 km") is placed at a nearby railway station — never at a halt, a track
    node or the trip's own end — or left out."""
    ids = {s.name_uk: s.id for s in net.stations.values() if s.kind.value == "rail_station"}
    stations, links = _trip(rail, ids.get(a, a), ids.get(b, b))
    kinds = {net.stations[sid].name_uk: net.stations[sid].kind.value for sid in stations}
    halts = {name for name, kind in kinds.items() if kind == "halt"}
    changes = net.line_changes(stations, links)
    assert changes
    for change in changes:
        assert net.stations[change.station_id].kind.value == "rail_station"
        assert change.station_id not in (stations[0], stations[-1])
    if b == "Херсон":
        assert "5\xa0км" in halts  # the trip passes the junction at that halt


def test_hub_names_are_official_transliterations(net, rail):
    stations, _ = _trip(rail, "kyiv", "odesa")
    names = _names(net, net.hubs_on(stations))
    assert "Koziatyn-1" in names and "Zhmerynka-Pasazhyrska" in names
    assert not any("Kazatin" in n or "Passenger" in n for n in names)


@pytest.mark.parametrize(
    ("station_id", "english"),
    [
        ("kyiv", "Kyiv-Pasazhyrskyi"),
        ("koziatyn-1", "Koziatyn-1"),
        ("lviv", "Lviv"),
        ("mykolaiv", "Mykolaiv-Pasazhyrskyi"),
        ("odesa", "Odesa-Holovna"),
        ("bus:8000000000", "Kyiv"),
    ],
)
def test_english_names_follow_the_2010_transliteration(net, station_id, english):
    assert net.get_station(station_id).display_name("en") == english


def test_znamianka_is_written_the_official_way(net):
    names = {s.display_name("en") for s in net.stations.values() if s.name_uk.startswith("Знам")}
    assert "Znamianka-Pasazhyrska" in names
    assert not any("Znamyanka" in n or "Passazh" in n for n in names)


def test_trim_end_walks_starts_a_bus_trip_at_the_bus_station(net):
    walk = next(
        lk for lk in net.links.values()
        if lk.mode is Mode.TRANSFER and lk.from_id == "kyiv"
    )  # fmt: skip
    bus = next(
        lk for lk in net.links.values()
        if lk.mode is Mode.BUS and walk.to_id in (lk.from_id, lk.to_id)
    )  # fmt: skip
    far = bus.other_end(walk.to_id)
    stations, links = net.trim_end_walks(["kyiv", walk.to_id, far], [walk.id, bus.id])
    assert stations == (walk.to_id, far) and links == (bus.id,)
