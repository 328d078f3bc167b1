"""The engine's search aids (landmark bounds, mode components, the shared memo of flagged
edge costs) checked against plain computations on seeded random networks.

Each aid may make a search cheaper but must never change what it finds: the bound never
exceeds the true minutes and leaves no edge a negative steered cost, a skipped search could
have found nothing the answer keeps, and a memo filled by other requests prices an edge as
a fresh weigher would.
"""

from __future__ import annotations

import random

import networkx as nx
import pytest

from advisor.network.model import Link, LinkSource, Mode, Network, Station, StationKind, TimeSource
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import Flag, RiskLevel, StationTarget
from advisor.routing import engine
from advisor.routing.bounds import Landmarks, Reach
from advisor.routing.graph import ALIGHT, FACTORS, RoutingGraph
from advisor.routing.model import OptionKind, Query, Tolerance
from advisor.routing.planner import plan
from advisor.routing.policy import LEAST_RISKY
from tests.routing.checks import reference_trip
from tests.routing.test_reference import NOW, pairs, random_flags, random_network

SEEDS = range(4)
ALL_FACTORS = [*FACTORS.values(), LEAST_RISKY]


def _plain_minutes(network, a, b):
    """The fewest minutes from *a* to *b* when every walk is free (no change prices)."""
    found = reference_trip(
        network, a, b, 0.0, lambda link: 0.0 if link.mode is Mode.TRANSFER else link.travel_minutes
    )
    return None if found is None else found[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_landmark_bound_never_exceeds_the_minutes(seed):
    network = random_network(300 + seed)
    landmarks = Landmarks(RoutingGraph.of(network).graph, count=4)
    checked = 0
    for a, b in pairs(network, seed, count=40):
        minutes = _plain_minutes(network, a, b)
        if minutes is None:
            assert landmarks.bound(a, b) >= 0.0
            continue
        assert 0.0 <= landmarks.bound(a, b) <= minutes + 1e-9
        checked += 1
    assert checked > 20


def test_the_bound_is_exact_along_a_line_and_zero_off_the_component(tiny_network):
    landmarks = Landmarks(RoutingGraph.of(tiny_network).graph)
    minutes = _plain_minutes(tiny_network, "kyiv", "kharkiv")
    assert 0.5 * minutes < landmarks.bound("kyiv", "kharkiv") <= minutes
    assert landmarks.bound("kyiv", "nowhere") == 0.0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("factors", ALL_FACTORS, ids=[*FACTORS, "least-risky"])
def test_no_edge_gets_a_negative_steered_cost(seed, factors):
    """The potential is consistent: for every edge of every searched graph, its cost under
    any risk weight minus p(u) plus p(v) is not negative (beyond rounding), so networkx's
    bidirectional Dijkstra on the steered costs stays exact."""
    network = random_network(400 + seed, buses=30)
    index = RiskIndex.build(random_flags(network, seed, 10), network)
    rg = RoutingGraph.of(network)
    for a, b in pairs(network, seed, count=6):
        search = engine._Search(rg, index, Query(a, b, NOW))
        potential = search.potential
        for modes in ({Mode.RAIL, Mode.BUS}, {Mode.RAIL}, {Mode.BUS}):
            plain = engine.Weigher(
                search.levels, factors, modes, change_minutes=90, free_alight_at=b,
                free_links=search.free,
            )  # fmt: skip
            for graph in (rg.priced, rg.priced_core, rg.layered):
                for u, v, data in graph.edges(data=True):
                    cost = plain(u, v, data)
                    if cost is not None:
                        steered = cost - potential.at(u[0]) + potential.at(v[0])
                        assert steered >= -1e-9, (u, v, data.get("mode"))


def test_the_reversed_potential_is_the_potential_of_the_swapped_search(tiny_network):
    landmarks = Landmarks(RoutingGraph.of(tiny_network).graph)
    forward, backward = (
        landmarks.potential("kyiv", "kharkiv"),
        landmarks.potential("kharkiv", "kyiv"),
    )
    for station in tiny_network.stations:
        assert forward.reversed().at(station) == pytest.approx(backward.at(station))


@pytest.mark.parametrize("seed", SEEDS)
def test_mode_components_agree_with_networkx(seed):
    network = random_network(500 + seed, buses=12)
    reach = Reach(RoutingGraph.of(network).graph)
    for modes in ({Mode.RAIL}, {Mode.BUS}, {Mode.RAIL, Mode.BUS}):
        allowed = modes | {Mode.TRANSFER}
        kept = nx.Graph(
            (link.from_id, link.to_id)
            for link in network.links.values()
            if link.mode in allowed and link.from_id != link.to_id
        )
        for a, b in pairs(network, seed, count=60):
            expected = a in kept and b in kept and nx.has_path(kept, a, b)
            assert reach.joins(a, b, modes) is expected, (a, b, modes)


def _answers(network, index, queries):
    return [repr(plan(network, index, query)) for query in queries]


def _queries(network, seed):
    rng = random.Random(seed)
    lines = sorted(network.lines) or [""]
    out = []
    for a, b in pairs(network, seed, count=20):
        tolerance = rng.choice(list(Tolerance))
        modes = rng.choice([frozenset({Mode.RAIL, Mode.BUS}), frozenset({Mode.RAIL}),
                            frozenset({Mode.BUS})])  # fmt: skip
        avoid = frozenset({rng.choice(lines)}) if rng.random() < 0.3 else frozenset()
        out.append(Query(a, b, NOW, tolerance, modes, max_transfers=50, avoid_lines=avoid))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_skipped_searches_change_no_answer(seed, monkeypatch):
    """Answers with the mode components skipping searches equal answers that run every
    search (the components only rule out searches that could find nothing kept)."""
    network = random_network(600 + seed, buses=25)
    index = RiskIndex.build(random_flags(network, seed, 8), network)
    queries = _queries(network, seed)
    skipped = _answers(network, index, queries)
    monkeypatch.setattr(Reach, "joins", lambda *_args: True)
    monkeypatch.setattr(Reach, "switches", lambda *_args: True)
    assert _answers(network, index, queries) == skipped


def _switch_network() -> Network:
    """a–b by rail (100 min); a–x by rail (30), a walk to x's bus stop (5), a bus to b's
    bus stop (50) and a walk from there to b (20, another town: never free). The quickest
    trip a → b is the direct train; the best train-then-bus trip (105) is its own option."""

    def station(i, kind, town):
        return Station(i, i, i, 50.0, 30.0, "UA-32", kind, settlement=town)

    rail, bus = StationKind.RAIL_STATION, StationKind.BUS_STATION
    stations = [station("a", rail, "ta"), station("b", rail, "tb"), station("x", rail, "tx"),
                station("bus:x", bus, "tx"), station("bus:b", bus, "tb2")]  # fmt: skip
    walk = (LinkSource.TRANSFER_ESTIMATE, TimeSource.TRANSFER_MODEL)
    links = [
        Link("ab", "a", "b", Mode.RAIL, 100, 100, LinkSource.OSM_TRACK),
        Link("ax", "a", "x", Mode.RAIL, 30, 30, LinkSource.OSM_TRACK),
        Link("wx", "x", "bus:x", Mode.TRANSFER, 1, 5, *walk),
        Link(
            "bus",
            "bus:x",
            "bus:b",
            Mode.BUS,
            50,
            50,
            LinkSource.BUS_REGISTER_2019,
            TimeSource.ROAD_LENGTH,
        ),
        Link("wb", "bus:b", "b", Mode.TRANSFER, 1, 20, *walk),
    ]
    return Network.build(stations, links, [])


def test_skipped_searches_keep_a_train_then_bus_option(monkeypatch):
    network = _switch_network()
    queries = [Query(a, b, NOW) for a in network.stations for b in network.stations if a != b]
    skipped = _answers(network, RiskIndex.empty(), queries)
    advice = plan(network, RiskIndex.empty(), Query("a", "b", NOW))
    assert [o.kind for o in advice.options] == [OptionKind.RECOMMENDED, OptionKind.RAIL_THEN_BUS]
    monkeypatch.setattr(Reach, "joins", lambda *_args: True)
    monkeypatch.setattr(Reach, "switches", lambda *_args: True)
    assert _answers(network, RiskIndex.empty(), queries) == skipped


@pytest.mark.parametrize("seed", SEEDS)
def test_the_shared_memo_prices_every_edge_as_a_fresh_weigher(seed):
    """Requests with other ends (other free walks), other avoided lines and other modes
    fill the memo first; every edge still costs what a weigher without memo says."""
    network = random_network(800 + seed, buses=30)
    rng = random.Random(seed)
    towns = sorted(s[len("bus:") :] for s in network.stations if s.startswith("bus:"))
    ends = [f"s{town}" for town in towns]  # rail stations with a walk to their bus station
    flags = [Flag(f"t{i}", rng.choice([RiskLevel.ELEVATED, RiskLevel.HIGH]), StationTarget(end),
                  "x", "x", "test", "t") for i, end in enumerate(rng.sample(ends, 4))]  # fmt: skip
    index = RiskIndex.build([*random_flags(network, seed, 15), *flags], network)
    rg = RoutingGraph.of(network)
    stations = sorted(network.stations)
    queries = [
        Query(a, b, NOW, max_transfers=50, avoid_stations=frozenset(rng.sample(stations, 2)))
        for a, b in (rng.sample(ends, 2) for _ in range(8))
    ]
    own_flagged = 0
    for query in queries:
        search = engine._Search(rg, index, query)
        b = query.destination
        for factors in ALL_FACTORS:
            for modes in ({Mode.RAIL, Mode.BUS}, {Mode.RAIL}, {Mode.BUS}):
                shared = search._weigher(factors, modes, b)
                fresh = engine.Weigher(
                    search.levels, factors, modes, search.hidden, change_minutes=90,
                    free_alight_at=b, free_links=search.free, potential=search.potential,
                )  # fmt: skip
                for graph in (rg.priced_core, rg.layered):
                    for u, v, data in graph.edges(data=True):
                        assert shared(u, v, data) == fresh(u, v, data), (u, v)
                        ids = data.get("ids", ())
                        own_flagged += bool(
                            set(ids) & (search.free | search.hidden)
                            and set(ids) & search.levels.keys()
                        )
    assert own_flagged  # some flagged edges were the request's own: the memo had to step aside


@pytest.mark.parametrize("seed", SEEDS)
def test_a_memo_filled_by_other_requests_changes_no_answer(seed, monkeypatch):
    """The memo of flagged edge costs is shared by requests with other ends (other free
    walks) and other avoided lines; each answer equals the one a cold memo gives."""
    network = random_network(700 + seed, buses=25)
    index = RiskIndex.build(random_flags(network, seed, 12), network)
    queries = _queries(network, seed)
    shared = _answers(network, index, queries + queries[::-1])
    monkeypatch.setattr(RoutingGraph, "memo", lambda *_args: {})
    assert _answers(network, index, queries + queries[::-1]) == shared


def test_alight_edges_take_the_change_price_and_the_potential():
    """An alight edge joins two states of one station: same potential, so its steered cost
    is its plain cost (free at the trip's end, the change minutes elsewhere)."""
    network = random_network(7, buses=25)
    rg = RoutingGraph.of(network)
    stops = sorted(s for s in network.stations if s.startswith("bus:"))
    search = engine._Search(rg, RiskIndex.empty(), Query(stops[0], stops[1], NOW))
    weigher = search._weigher(FACTORS["balanced"], {Mode.RAIL, Mode.BUS}, stops[1])
    alights = [(u, v, d) for u, v, d in rg.priced.edges(data=True) if d["mode"] is ALIGHT]
    assert alights
    for u, v, data in alights:
        expected = 0.0 if v[0] == stops[1] else 90.0
        assert weigher(u, v, data) == pytest.approx(expected)
