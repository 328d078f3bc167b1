"""Invariant checks every returned option must pass (shared by the routing tests)."""

from __future__ import annotations

import heapq
import itertools
import math
from collections import defaultdict

from advisor.network.model import Mode
from advisor.routing.model import Advice, OptionKind, Verdict
from advisor.routing.policy import allowed_level


def ask(services, origin, destination, **raw) -> Advice:
    """What every adapter does: parse raw input with the one parser, then advise."""
    return services.advise(services.query(origin, destination, **raw))


def check_advice(advice: Advice, network, levels) -> None:
    """Assert the routing invariants on every option of *advice*.

    *levels* maps link id → the highest RiskLevel in force (as the engine saw it).
    """
    query = advice.query
    for option in advice.options:
        legs = option.legs
        assert legs, option
        assert network.same_place(legs[0].from_id, query.origin)
        assert network.same_place(legs[-1].to_id, query.destination)
        for before, after in itertools.pairwise(legs):
            assert before.to_id == after.from_id or Mode.TRANSFER in (before.mode, after.mode)
            # one leg per ride: two rides in a row always have a change between them
            assert Mode.TRANSFER in (before.mode, after.mode) or before.mode is not after.mode
        for leg in legs:
            assert leg.station_ids[0] == leg.from_id and leg.station_ids[-1] == leg.to_id
            if leg.departure is not None:  # timetabled: real clock times, minutes from them
                _check_timetabled(leg)
                continue
            if not leg.link_ids:  # a change at one station: estimated, never free
                assert leg.mode is Mode.TRANSFER and leg.from_id == leg.to_id
                assert leg.travel_minutes > 0 and leg.is_estimated
                continue
            assert len(leg.station_ids) == len(leg.link_ids) + 1
            links = [network.links[i] for i in leg.link_ids]
            for link, a, b in zip(links, leg.station_ids, leg.station_ids[1:], strict=False):
                assert {link.from_id, link.to_id} == {a, b}
                assert link.mode is leg.mode
            assert math.isclose(leg.travel_minutes, sum(lk.travel_minutes for lk in links))
            if leg.mode is Mode.TRANSFER:
                assert leg.travel_minutes > 0  # a transfer is never free
        total = sum(leg.travel_minutes for leg in legs)
        assert math.isclose(option.travel_minutes, total)
        used = [i for leg in legs for i in leg.link_ids]
        worst = max((levels[i] for i in used if i in levels), default=None)
        if any(leg.departure is not None for leg in legs):
            # timetabled rides also carry the flags of the stations they stop at
            assert worst is None or option.risk_level >= worst
        else:
            assert option.risk_level == worst
        if option.verdict is not Verdict.NOT_ADVISED:
            # advised options use no link hidden under the tolerance
            assert worst is None or worst <= allowed_level(query.tolerance)
        assert all(
            not ({i} & set(query.avoid_stations))
            for leg in legs
            for i in leg.station_ids
            if i not in (query.origin, query.destination)
        )
        assert option.modes <= set(query.modes)
        assert option.transfers <= query.max_transfers
        text = (option.explanation_en + option.explanation_uk).lower()
        assert "safe" not in text and "безпечн" not in text
        assert option.explanation_en and option.explanation_uk
    identities = [tuple((lg.trip_id, lg.link_ids, lg.departure) for lg in o.legs)
                  for o in advice.options]
    assert len(set(identities)) == len(identities), "one trip shown twice"
    codes = [n.code for n in advice.notices]
    assert len(codes) == len(set(codes)) or all(
        codes.count(c) == 1 for c in codes if c.value != "occupied"
    ), codes
    kinds = [o.kind for o in advice.options]
    if advice.recommended is not None:
        assert kinds[0] is OptionKind.RECOMMENDED
        assert advice.recommended.verdict is not Verdict.NOT_ADVISED


def _without_end_walks(network, stations):
    def walk_to_bus(end, stop):
        a, b = network.stations[end], network.stations[stop]
        return b.kind == "bus_station" and a.kind != "bus_station" and a.settlement == b.settlement

    if len(stations) > 2 and walk_to_bus(stations[0], stations[1]):
        stations = stations[1:]
    if len(stations) > 2 and walk_to_bus(stations[-1], stations[-2]):
        stations = stations[:-1]
    return stations


def reference_trip(network, origin, destination, change_minutes, cost=None):
    """A plain Dijkstra over (station, arrived by bus) states, written independently of the
    engine: every link both ways at ``cost(link)`` (its minutes by default; None hides it),
    plus *change_minutes* for a bus link taken after another bus link (walks between them
    included).

    The walk between an end station and the bus station of its own town costs nothing and
    is left out of the stations when a bus follows it (a bus trip starts and ends at the bus
    station).

    Returns (total, stations) or None when *destination* cannot be reached.
    """
    plain = cost or (lambda link: link.travel_minutes)
    ends = {origin, destination}

    def end_walk(link):
        a, b = network.stations[link.from_id], network.stations[link.to_id]
        rail_end = {s.id for s in (a, b) if s.kind != "bus_station"} & ends
        return link.mode is Mode.TRANSFER and rail_end and a.settlement == b.settlement != ""

    def cost(link):
        weight = plain(link)
        return 0.0 if weight is not None and end_walk(link) else weight

    adjacency = defaultdict(list)
    for link in network.links.values():
        weight = cost(link)
        if weight is not None:
            adjacency[link.from_id].append((link.to_id, link.mode, weight))
            adjacency[link.to_id].append((link.from_id, link.mode, weight))
    done = set()
    heap = [(0.0, 0, origin, False, None)]
    tie = itertools.count(1)
    back = {}
    while heap:
        total, _n, station, by_bus, before = heapq.heappop(heap)
        if (station, by_bus) in done:
            continue
        done.add((station, by_bus))
        back[station, by_bus] = before
        if station == destination:
            stations, state = [], (station, by_bus)
            while state is not None:
                stations.append(state[0])
                state = back[state]
            return total, _without_end_walks(network, stations[::-1])
        for other, mode, weight in adjacency[station]:
            bus = mode is Mode.BUS
            extra = change_minutes if bus and by_bus else 0.0
            # a walk keeps "arrived by bus": walking to the rail station and back is no
            # free change of bus
            after = by_bus if mode is Mode.TRANSFER else bus
            entry = (total + weight + extra, next(tie), other, after, (station, by_bus))
            heapq.heappush(heap, entry)
    return None


def _check_timetabled(leg) -> None:
    assert leg.arrival is not None and leg.arrival >= leg.departure
    minutes = (leg.arrival - leg.departure).total_seconds() / 60
    assert math.isclose(leg.travel_minutes, minutes)
    assert not leg.is_estimated
