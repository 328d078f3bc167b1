"""The one way to plan: choose the back-end, gather candidates, build the answer.

:func:`plan` is what every use case calls. Where an imported timetable covers the trip
(directly, or through estimated legs to and from the nearest timetabled stations) the
timetable scan finds the candidates; otherwise the estimated graph search does, and the
answer says the times are estimates (and, when a timetable exists, that it does not cover
this trip). Either way the one answer builder (:mod:`advisor.routing.answer`) judges,
de-duplicates and explains the options.

Examples
--------
>>> from datetime import UTC, datetime
>>> from advisor.network.model import Link, LinkSource, Mode, Network, Station, StationKind
>>> st = [Station(i, i.upper(), i.upper(), 50.0, 30.0, "UA-32", StationKind.RAIL_STATION)
...       for i in "ab"]
>>> net = Network.build(st, [Link("ab", "a", "b", Mode.RAIL, 60, 40, LinkSource.OSM_TRACK)], [])
>>> advice = plan(net, RiskIndex.empty(), Query("a", "b", datetime(2026, 3, 1, tzinfo=UTC)))
>>> advice.recommended.travel_minutes, [n.code.value for n in advice.notices]
(60, ['estimated_times'])
"""

from __future__ import annotations

from dataclasses import replace

from advisor.network.model import Network
from advisor.risk.coverage import RiskIndex
from advisor.routing.answer import build_advice, default_freshness
from advisor.routing.engine import estimated_candidates
from advisor.routing.explain import notice, occupied_notices
from advisor.routing.model import (
    Advice,
    DataFreshness,
    Leg,
    Notice,
    NoticeCode,
    OptionKind,
    Query,
)

__all__ = ["plan"]


def plan(
    network: Network,
    risk_index: RiskIndex,
    query: Query,
    freshness: DataFreshness | None = None,
    *,
    timetable=None,
) -> Advice:
    """Answer *query*: options (recommended first) and coded notices; never raises for
    "no route" — that is a notice. *timetable* is a
    :class:`~advisor.routing.timetable.TimetablePlanner` or None."""
    freshness = freshness or default_freshness(network)
    problem = _endpoint_problem(network, query)
    if problem is not None:
        return build_advice(query, (), network=network, freshness=freshness, notices=[problem])
    occupied = occupied_notices(network, risk_index, query)
    if occupied:  # no service there: an answer in its own words, never "no connection"
        return build_advice(query, (), network=network, freshness=freshness, notices=occupied)
    if timetable is not None:
        advice = _timetabled(network, risk_index, query, freshness, timetable)
        if advice is not None:
            return advice
    found, notices = estimated_candidates(network, risk_index, query)
    return build_advice(
        query, found, network=network, freshness=freshness, notices=notices,
        no_timetable=timetable is not None,
    )  # fmt: skip


def _endpoint_problem(network: Network, query: Query) -> Notice | None:
    if query.origin not in network.stations:
        return notice(NoticeCode.ORIGIN_NOT_FOUND, text=query.origin)
    if query.destination not in network.stations:
        return notice(NoticeCode.DESTINATION_NOT_FOUND, text=query.destination)
    if network.same_place(query.origin, query.destination):
        return notice(
            NoticeCode.SAME_ORIGIN_DESTINATION, origin=query.origin, destination=query.destination
        )
    return None


def _timetabled(network, risk_index, query, freshness, timetable) -> Advice | None:
    """The answer from timetabled trips, or None when no timetable covers the trip."""
    access = _estimated_ends(network, risk_index, query, timetable, "from")
    egress = _estimated_ends(network, risk_index, query, timetable, "to")
    if access is None or egress is None:
        return None
    found, notices = timetable.candidates(query, risk_index, access=access, egress=egress)
    if not found:
        return None
    freshness = replace(freshness, timetable_feeds=timetable.timetable.feed_ids)
    return build_advice(query, found, network=network, freshness=freshness, notices=notices)


def _estimated_ends(network, risk_index, query: Query, timetable, side: str):
    """{} when the trip's *side* ("from" / "to") has timetabled departures; else estimated
    legs between it and the nearest timetabled stations (the estimated back-end's
    recommended candidate); None when there are none."""
    station, other = (
        (query.origin, query.destination) if side == "from" else (query.destination, query.origin)
    )
    if timetable.covers(station):
        return {}
    ends: dict[str, tuple[Leg, ...]] = {}
    for hub in timetable.nearest_timetabled(station, other_end=other):
        pair = (station, hub) if side == "from" else (hub, station)
        leg_query = replace(query, origin=pair[0], destination=pair[1], arrive_by=False)
        found, _notices = estimated_candidates(network, risk_index, leg_query)
        best = next((c for c in found if c.kind is OptionKind.RECOMMENDED), None)
        if best is not None:
            ends[hub] = best.legs
    return ends or None
