"""Cross-checks against plain networkx on seeded random networks (and the tiny one).

The reference is deliberately naive: every link of the raw network weighted by minutes ×
penalty (hidden when the tolerance hides it), a plain Dijkstra over (station, arrived by bus)
states that adds the change minutes between two bus links in a row
(:func:`tests.routing.checks.reference_trip`).
"""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime

import pytest

from advisor.network.model import Link, LinkSource, Mode, Network, Station, StationKind, TimeSource
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import Flag, RiskLevel, StationTarget, Tolerance
from advisor.routing.engine import _Search
from advisor.routing.graph import FACTORS, RoutingGraph
from advisor.routing.model import NoticeCode, OptionKind, Query
from advisor.routing.planner import plan
from advisor.routing.policy import OVERLAP_LIMIT
from tests.routing.checks import check_advice, reference_trip

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
LEVELS = list(RiskLevel)


def random_network(seed: int, size: int = 40, buses: int | None = None) -> Network:
    """Stations on a plane; rail between near neighbours (some parallel), *buses* bus links
    (``size // 2`` by default) between far-apart towns, a transfer from each town's rail
    station to its bus stop."""
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
    for _ in range(size // 2 if buses is None else buses):
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


CHANGE = Query("a", "b", NOW).bus_change_minutes


def reference_cost(network, levels, factors, origin, destination):
    """Naive: weighted minutes of the raw links plus priced changes of bus, plain Dijkstra."""

    def cost(link):
        factor = factors[levels.get(link.id)]
        return None if factor is None else link.travel_minutes * factor

    found = reference_trip(network, origin, destination, CHANGE, cost)
    return None if found is None else found[0]


def weighted(network, option, levels, factors):
    """The option's cost as the search weighs it: penalised minutes plus change legs."""
    links = [network.links[i] for leg in option.legs for i in leg.link_ids]
    changes = sum(leg.travel_minutes for leg in option.legs if not leg.link_ids)
    return changes + sum(link.travel_minutes * factors[levels.get(link.id)] for link in links)


def pairs(network, seed, count=25):
    rng = random.Random(seed)
    ids = sorted(network.stations)
    return [tuple(rng.sample(ids, 2)) for _ in range(count)]


@pytest.mark.parametrize(
    ("seed", "buses"), [*((seed, None) for seed in range(6)), *((seed, 60) for seed in range(6))]
)
def test_no_flags_recommended_is_plain_shortest_path(seed, buses):
    """Bus-dense networks (60 bus links over 13 stops) make chains of buses compete with
    direct ones, so the priced changes decide many answers."""
    network = random_network(seed, buses=buses)
    for origin, destination in pairs(network, seed):
        query = Query(origin, destination, NOW, max_transfers=50)
        advice = plan(network, RiskIndex.empty(), query)
        check_advice(advice, network, {})
        found = reference_trip(network, origin, destination, query.bus_change_minutes)
        if found is None:
            assert advice.has_notice(NoticeCode.NO_ROUTE)
            continue
        if network.stations[origin].settlement == network.stations[destination].settlement:
            continue
        expected_minutes, expected = found
        rec = advice.recommended
        stations = [rec.legs[0].from_id] + [s for leg in rec.legs for s in leg.station_ids[1:]]
        assert stations == expected
        assert math.isclose(rec.travel_minutes, expected_minutes)  # change legs included


@pytest.mark.parametrize(("seed", "buses"), [*((s, None) for s in range(6)), (6, 60), (7, 60)])
@pytest.mark.parametrize("tolerance", list(Tolerance))
def test_random_flags_match_the_filtered_reference(seed, tolerance, buses):
    network = random_network(100 + seed, buses=buses)
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


def bus_chain_network() -> Network:
    """Rail r0–r1, a transfer r1 → bus stop a, and two bus ways a → e: four short routes
    (a–b–c–d–e, 20 min each, three changes of bus) or one direct route of 140 min."""
    stops = "abcde"
    stations = [
        Station(i, i, i, 50.0, 30.0, "UA-32", StationKind.RAIL_STATION, settlement=f"t{i}")
        for i in ("r0", "r1")
    ] + [
        Station(i, i, i, 50.0, 30.0, "UA-32", StationKind.BUS_STATION, settlement=f"t{i}")
        for i in stops
    ]
    bus = (LinkSource.BUS_REGISTER_2019, TimeSource.ROAD_LENGTH)
    links = [
        Link("rail", "r0", "r1", Mode.RAIL, 50, 60, LinkSource.OSM_TRACK),
        Link("walk", "r1", "a", Mode.TRANSFER, 1, 10, LinkSource.TRANSFER_ESTIMATE),
        Link("direct", "a", "e", Mode.BUS, 100, 140, *bus),
        *(Link(f"{x}{y}", x, y, Mode.BUS, 15, 20, *bus) for x, y in itertools.pairwise(stops)),
    ]
    return Network.build(stations, links, [])


@pytest.mark.parametrize(
    ("change", "expected", "total"),
    [(30, ["direct"], 140), (10, ["ab", "bc", "cd", "de"], 80 + 3 * 10)],
)
def test_a_change_of_bus_is_priced_in_the_search(change, expected, total):
    """The direct bus wins only because the three changes on the chain cost 3 × 30 min; at
    10 min a change, the chain (80 + 30 min) wins. Reported total = search cost."""
    network = bus_chain_network()
    for origin, destination in (("a", "e"), ("e", "a")):
        query = Query(origin, destination, NOW, bus_change_minutes=change, max_transfers=9)
        advice = plan(network, RiskIndex.empty(), query)
        check_advice(advice, network, {})
        rec = advice.recommended
        links = [i for leg in rec.legs for i in leg.link_ids]
        assert links == (expected if origin == "a" else expected[::-1])
        assert math.isclose(rec.travel_minutes, total)


@pytest.mark.parametrize(("change", "bus_links"), [(30, 1), (10, 4)])
def test_rail_then_bus_prices_changes_of_bus(change, bus_links):
    """The layered rail-then-bus search (and its reverse, bus then rail) prices changes too."""
    network = bus_chain_network()
    for origin, destination in (("r0", "e"), ("e", "r0")):
        query = Query(origin, destination, NOW, bus_change_minutes=change, max_transfers=9)
        advice = plan(network, RiskIndex.empty(), query)
        check_advice(advice, network, {})
        kinds = {OptionKind.RAIL_THEN_BUS}
        mixed = next(o for o in advice.options if kinds & {o.kind, *o.also_kinds})
        bus = [i for leg in mixed.legs if leg.mode is Mode.BUS for i in leg.link_ids]
        assert len(bus) == bus_links
        assert math.isclose(mixed.travel_minutes, 70 + min(140, 80 + 3 * change))
        search = _Search(RoutingGraph.of(network), RiskIndex.empty(), query)
        trip = search.find_mixed(FACTORS["balanced"])
        assert [lk.id for lk in trip.links if lk.mode is Mode.BUS] == bus
