"""Cross-checks against plain networkx on seeded random networks (and the tiny one).

The reference is deliberately naive: filter the raw MultiGraph by what the tolerance
hides, weight each remaining link by minutes × penalty, run ``nx.dijkstra_path_length``.
"""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime

import networkx as nx
import pytest

from advisor.network.model import Link, LinkSource, Mode, Network, Station, StationKind, TimeSource
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import Flag, RiskLevel, StationTarget, Tolerance
from advisor.routing.engine import OVERLAP_LIMIT, plan
from advisor.routing.graph import FACTORS
from advisor.routing.model import NoticeCode, OptionKind, Query
from tests.routing.checks import check_advice

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
LEVELS = list(RiskLevel)


def random_network(seed: int, size: int = 40) -> Network:
    """Stations on a plane; rail between near neighbours (some parallel), buses between
    far-apart towns, a transfer from each town's rail station to its bus stop."""
    rng = random.Random(seed)
    stations, links = [], []
    coords = {}
    for i in range(size):
        lat, lon = 48 + rng.random() * 4, 24 + rng.random() * 12
        coords[f"s{i}"] = (lat, lon)
        stations.append(
            Station(
                f"s{i}",
                f"С{i}",
                f"S{i}",
                lat,
                lon,
                "UA-32",
                StationKind.RAIL_STATION,
                settlement=f"town{i}",
            )
        )
    for i in range(size):
        for j in rng.sample(range(size), 3):
            if i != j:
                minutes = round(rng.uniform(10, 200), 3)
                links.append(
                    Link(
                        f"r{len(links)}",
                        f"s{i}",
                        f"s{j}",
                        Mode.RAIL,
                        minutes,
                        minutes,
                        LinkSource.OSM_TRACK,
                        parallel=rng.random() < 0.2,
                    )
                )
    links = _with_halts(rng, links, stations, coords)
    towns = rng.sample(range(size), size // 3)
    for i in towns:
        lat, lon = coords[f"s{i}"]
        stations.append(
            Station(
                f"bus:{i}",
                f"А{i}",
                f"B{i}",
                lat,
                lon,
                "UA-32",
                StationKind.BUS_STATION,
                settlement=f"town{i}",
            )
        )
        links.append(
            Link(
                f"t{i}",
                f"s{i}",
                f"bus:{i}",
                Mode.TRANSFER,
                1,
                rng.uniform(5, 30),
                LinkSource.TRANSFER_ESTIMATE,
                TimeSource.TRANSFER_MODEL,
            )
        )
    for _ in range(size // 2):
        a, b = rng.sample(towns, 2)
        minutes = round(rng.uniform(60, 400), 3)
        links.append(
            Link(
                f"b{len(links)}",
                f"bus:{a}",
                f"bus:{b}",
                Mode.BUS,
                minutes,
                minutes,
                LinkSource.BUS_REGISTER_2019,
                TimeSource.ROAD_LENGTH,
            )
        )
    return Network.build(stations, links, [])


def _with_halts(rng, links, stations, coords):
    """Split about a third of the rail links into chains of 1–3 halts (the routing graph
    contracts such chains), keeping some original links as parallel "skip" links."""
    out = []
    for link in links:
        if rng.random() > 0.35:
            out.append(link)
            continue
        a, b = link.from_id, link.to_id
        count = rng.randint(1, 3)
        chain = [a]
        for k in range(count):
            halt = f"h{len(stations)}"
            f = (k + 1) / (count + 1)
            lat = coords[a][0] + f * (coords[b][0] - coords[a][0])
            lon = coords[a][1] + f * (coords[b][1] - coords[a][1])
            coords[halt] = (lat, lon)
            stations.append(Station(halt, halt, halt, lat, lon, "UA-32", StationKind.HALT))
            chain.append(halt)
        chain.append(b)
        shares = [rng.uniform(0.5, 1.5) for _ in range(count + 1)]
        for (x, y), share in zip(itertools.pairwise(chain), shares, strict=True):
            minutes = round(link.travel_minutes * share / sum(shares) * rng.uniform(0.9, 1.1), 3)
            out.append(
                Link(f"{link.id}-{x}-{y}", x, y, Mode.RAIL, minutes, minutes, LinkSource.OSM_TRACK)
            )
        if rng.random() < 0.5:  # the direct link stays, beside its chain
            out.append(
                Link(
                    link.id,
                    a,
                    b,
                    Mode.RAIL,
                    link.distance_km,
                    link.travel_minutes,
                    LinkSource.OSM_TRACK,
                    parallel=True,
                )
            )
    return out


def random_flags(network: Network, seed: int, count: int) -> list[Flag]:
    rng = random.Random(seed)
    ids = sorted(network.stations)
    return [
        Flag(f"f{k}", rng.choice(LEVELS), StationTarget(rng.choice(ids)), "x", "x", "test", "t")
        for k in range(count)
    ]


def reference_cost(network, levels, factors, origin, destination):
    """Naive: a filtered copy of the raw graph with weighted minutes, plain Dijkstra."""
    graph = nx.MultiGraph()
    graph.add_nodes_from(network.stations)
    for link in network.links.values():
        factor = factors[levels.get(link.id)]
        if factor is not None:
            graph.add_edge(link.from_id, link.to_id, link.id, w=link.travel_minutes * factor)
    try:
        return nx.dijkstra_path_length(graph, origin, destination, weight="w")
    except nx.NetworkXNoPath:
        return None


def weighted(network, option, levels, factors):
    links = [network.links[i] for leg in option.legs for i in leg.link_ids]
    return sum(link.travel_minutes * factors[levels.get(link.id)] for link in links)


def raw_minutes(_u, _v, keyed):
    """Weight of a MultiGraph edge bundle: the quickest parallel link."""
    return min(attrs["link"].travel_minutes for attrs in keyed.values())


def pairs(network, seed, count=25):
    rng = random.Random(seed)
    ids = sorted(network.stations)
    return [tuple(rng.sample(ids, 2)) for _ in range(count)]


@pytest.mark.parametrize("seed", range(6))
def test_no_flags_recommended_is_plain_shortest_path(seed):
    network = random_network(seed)
    for origin, destination in pairs(network, seed):
        query = Query(origin, destination, NOW, max_transfers=50)
        advice = plan(network, RiskIndex.empty(), query)
        check_advice(advice, network, {})
        try:
            expected = nx.shortest_path(network.graph, origin, destination, weight=raw_minutes)
        except nx.NetworkXNoPath:
            assert advice.has_notice(NoticeCode.NO_ROUTE)
            continue
        if network.stations[origin].settlement == network.stations[destination].settlement:
            continue
        expected_minutes = nx.shortest_path_length(
            network.graph, origin, destination, weight=raw_minutes
        )
        rec = advice.recommended
        stations = [rec.legs[0].from_id] + [s for leg in rec.legs for s in leg.station_ids[1:]]
        assert stations == expected
        assert math.isclose(rec.travel_minutes, expected_minutes)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("tolerance", list(Tolerance))
def test_random_flags_match_the_filtered_reference(seed, tolerance):
    network = random_network(100 + seed)
    index = RiskIndex.build(random_flags(network, seed, 8), network)
    levels = index.link_levels(NOW)
    factors = FACTORS[tolerance.value]
    for origin, destination in pairs(network, seed):
        if network.stations[origin].settlement == network.stations[destination].settlement:
            continue
        advice = plan(network, index, Query(origin, destination, NOW, tolerance, max_transfers=50))
        check_advice(advice, network, levels)
        expected = reference_cost(network, levels, factors, origin, destination)
        if expected is None:
            assert advice.recommended is None
            fastest = reference_cost(network, levels, FACTORS["fastest"], origin, destination)
            assert advice.has_notice(
                NoticeCode.NO_SAFE_ROUTE if fastest is not None else NoticeCode.NO_ROUTE
            )
            continue
        assert math.isclose(weighted(network, advice.recommended, levels, factors), expected)
        fastest = next(o for o in advice.options if OptionKind.FASTEST in (o.kind, *o.also_kinds))
        plain = reference_cost(network, levels, FACTORS["fastest"], origin, destination)
        assert all(o.travel_minutes >= plain - 1e-6 for o in advice.options)
        if fastest.kind is OptionKind.FASTEST:
            assert math.isclose(fastest.travel_minutes, plain)
        else:  # merged into a near-identical option with the same verdict
            assert fastest.travel_minutes <= plain / OVERLAP_LIMIT
