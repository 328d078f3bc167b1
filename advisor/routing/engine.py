"""The estimated back-end: candidate journeys over the network graph, by risk tolerance.

:func:`estimated_candidates` searches a validated :class:`~advisor.routing.model.Query` over
one network snapshot and one :class:`~advisor.risk.coverage.RiskIndex` and returns a
candidate for each slot of the answer, in display order:

1. **recommended** — the quickest trip within the tolerance (elevated parts cost extra time,
   parts above the tolerance are hidden); if none exists, the **least risky** trip;
2. the best **rail-only** and **bus-only** trips (within tolerance, else the least risky one
   of that mode);
3. **rail then bus** (or bus then rail) through a transfer;
4. the **fastest** trip regardless of risk (suspended parts excepted: they have no service).

Judging, de-duplicating and explaining them is the answer builder's work
(:mod:`advisor.routing.answer`), the same for every back-end.

Every search is a networkx bidirectional Dijkstra over the precomputed
:class:`~advisor.routing.graph.RoutingGraph` with a per-request weight callable, so the
shared graphs are never modified. The searched graphs price a change of bus at the
request's ``bus_change_minutes``, so a search's cost (with no penalties) equals the total
reported for the trip, change legs included.

Three things keep the searches small without changing what they find:

- the weights are steered by a lower bound (bidirectional ALT, see
  :mod:`advisor.routing.bounds`): every trip between the two ends loses the same constant,
  so the cheapest trip stays the cheapest, but the search settles far fewer stations;
- a search whose ends no trip by its modes joins, at any risk, is not run
  (:class:`~advisor.routing.bounds.Reach`), nor a least-risky search that could use no link
  the failed search could not;
- flagged edges are priced once per risk state, tolerance and modes, in a memo every
  request shares (:meth:`RoutingGraph.memo`); the rest take the weigher's fast path.

Among trips of equal cost, which one a search returns depends on the order it settles
stations; the answer builder shows one of them.

Examples
--------
>>> from datetime import UTC, datetime
>>> from advisor.network.model import Link, LinkSource, Network, Station, StationKind
>>> st = [Station(i, i.upper(), i.upper(), 50.0, 30.0, "UA-32", StationKind.RAIL_STATION)
...       for i in "abc"]
>>> net = Network.build(st, [Link("ab", "a", "b", Mode.RAIL, 60, 40, LinkSource.OSM_TRACK),
...                          Link("bc", "b", "c", Mode.RAIL, 60, 40, LinkSource.OSM_TRACK)], [])
>>> query = Query("a", "c", datetime(2026, 3, 1, tzinfo=UTC))
>>> found, notices = estimated_candidates(net, RiskIndex.empty(), query)
>>> [(c.kind.value, c.legs[0].station_ids) for c in found][:1], notices
([('recommended', ('a', 'b', 'c'))], [])
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import networkx as nx

from advisor.network.model import Link, Mode, Network, TimeSource
from advisor.risk.coverage import RiskIndex
from advisor.routing.explain import notice
from advisor.routing.graph import BUS_LAYER, FREE, RAIL_LAYER, RoutingGraph, Weigher
from advisor.routing.model import Candidate, Leg, Notice, NoticeCode, OptionKind, Query
from advisor.routing.policy import FACTORS, LEAST_RISKY

__all__ = ["estimated_candidates"]


def estimated_candidates(
    network: Network, risk_index: RiskIndex, query: Query
) -> tuple[list[Candidate], list[Notice]]:
    """Candidates for *query* in display order, and the notices the searches raise (no
    route). The query's ends must be stations of *network*."""
    search = _Search(RoutingGraph.of(network), risk_index, query)
    trips, notices = _candidates(search, query)
    found = [
        Candidate(kind, _legs(_trimmed(trip, network), risk_index, query)) for kind, trip in trips
    ]
    return found, notices


log = logging.getLogger(__name__)

# --- searching -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trip:
    """A found path: the stations in order and the link used between each pair."""

    stations: tuple[str, ...]
    links: tuple[Link, ...]


class _Search:
    """One request's searches over the shared routing graph (weights only, no edits)."""

    def __init__(self, rg: RoutingGraph, risk_index: RiskIndex, query: Query):
        self.rg = rg
        self.risk_index = risk_index
        self.levels = risk_index.link_levels(query.depart_at)
        self.query = query
        self.hidden = _hidden_links(rg, query)
        network = rg.network
        self.free = network.end_walk_ids(query.origin) | network.end_walk_ids(query.destination)
        self.potential = rg.landmarks.potential(query.origin, query.destination)
        self.affected: dict[frozenset, frozenset[str]] = {}

    def find(self, factors, modes: Collection[Mode]) -> _Trip | None:
        """The cheapest trip under *factors* using *modes* (plus transfers), or None.

        A bidirectional Dijkstra search on costs steered by the landmarks' bound (see
        :class:`~advisor.routing.bounds.Potential`): the same cheapest trip, found after
        settling a fraction of the stations a plain search settles.
        """
        a, b = self.query.origin, self.query.destination
        if not self.rg.reach.joins(a, b, modes):
            return None  # no trip by these modes at any risk: skip the search
        weigher = self._weigher(factors, modes, b)
        graph = self.rg.priced_for(a, b)
        path = self._path(graph, (a, FREE), (b, FREE), weigher)
        return None if path is None else _expand(graph, path, weigher)

    def _path(self, graph, source, target, weigher: Weigher):
        try:
            _cost, path = nx.bidirectional_dijkstra(graph, source, target, weight=weigher)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None
        return path

    def hides_more(self, factors, than) -> bool:
        """True if *factors* hide some link in force that *than* leaves usable: when not, a
        search under *than* can reach no station one under *factors* could not."""
        levels = {
            level
            for level, factor in factors.items()
            if level is not None and factor is None and than[level] is not None
        }
        return bool(self.risk_index.links_at_levels(self.query.depart_at, levels))

    def _weigher(self, factors, modes: Collection[Mode], end: str) -> Weigher:
        potential = self.potential if end == self.query.destination else self.potential.reversed()
        return Weigher(
            self.levels,
            factors,
            modes,
            self.hidden,
            change_minutes=self.query.bus_change_minutes,
            free_alight_at=end,
            affected=self._affected(factors),
            free_links=self.free,
            potential=potential,
            memo=self.rg.memo(self.levels, factors, modes),
        )

    def _affected(self, factors) -> frozenset[str]:
        """Links costing other than their plain minutes under *factors*, with the request's
        own (free and avoided) links: the risk index caches the first part per set of flags
        in force, this search the union per set of penalised levels."""
        penalised = frozenset(
            level for level, factor in factors.items() if level is not None and factor != 1.0
        )
        found = self.affected.get(penalised)
        if found is None:
            links = self.risk_index.links_at_levels(self.query.depart_at, penalised)
            own = self.hidden | self.free
            found = self.affected[penalised] = links | own if own else links
        return found

    def unpenalised(self, trip: _Trip, factors) -> bool:
        """True if every link of *trip* costs its plain minutes under *factors*."""
        return all(factors[self.levels.get(link.id)] == 1.0 for link in trip.links)

    def find_mixed(self, factors) -> _Trip | None:
        """The cheapest trip that rides a train then changes to a bus (else the reverse)."""
        for bus_first in (False, True):
            trip = self._layered(factors, bus_first)
            if trip is not None and _riding_modes(trip) == {Mode.RAIL, Mode.BUS}:
                return trip
        return None

    def _layered(self, factors, bus_first: bool) -> _Trip | None:
        a, b = self.query.origin, self.query.destination
        if bus_first:  # links run both ways: bus-then-rail a→b is rail-then-bus b→a reversed
            a, b = b, a  # (and a reversed trip has the same changes of bus)
        if not self.rg.reach.switches(a, b):
            return None  # no trip rides a train then a bus: none the search finds is kept
        weigher = self._weigher(factors, (Mode.RAIL, Mode.BUS), b)
        path = self._path(self.rg.layered, (a, RAIL_LAYER), (b, BUS_LAYER), weigher)
        if path is None:
            return None
        trip = _expand(self.rg.layered, path, weigher)
        if bus_first:
            return _Trip(trip.stations[::-1], trip.links[::-1])
        return trip


def _expand(graph, path, weigher: Weigher) -> _Trip:
    """Stations and links of a found path of ``(station, state)`` nodes, leaving out the
    alight edges (one station, no link) and opening contracted chains of halts."""
    stations, links = [path[0][0]], []
    for tail, head in itertools.pairwise(path):
        u, v = tail[0], head[0]
        if u == v:
            continue  # off the bus → free to board again: a change, not a ride
        inner, way, _cost = weigher.best_way(graph.edges[tail, head])
        if inner and u > v:  # alternatives are stored from the smaller id to the larger
            inner, way = inner[::-1], way[::-1]
        stations.extend(inner or ())
        stations.append(v)
        links.extend(way)
    return _Trip(tuple(stations), tuple(links))


def _hidden_links(rg: RoutingGraph, query: Query) -> frozenset[str]:
    hidden: set[str] = set()
    for line_id in query.avoid_lines:
        hidden |= rg.line_links.get(line_id, frozenset())
    ends = {query.origin, query.destination}
    graph = rg.network.graph
    for station_id in query.avoid_stations - ends:
        if station_id in graph:
            hidden.update(key for _u, _v, key in graph.edges(station_id, keys=True))
    return frozenset(hidden)


def _riding_modes(trip: _Trip) -> set[Mode]:
    return {link.mode for link in trip.links} - {Mode.TRANSFER}


def _candidates(search: _Search, query: Query):
    """(kind, trip) pairs in display order, and the notices the searches raise.

    Searches are skipped when an earlier result already answers them exactly: every penalty
    factor is at least 1, so a fastest trip that carries no penalty under the tolerance is
    also the recommended one, and a recommended trip of one mode is the best of that mode.
    """
    tolerance = FACTORS[query.tolerance.value]
    modes = set(query.modes) - {Mode.TRANSFER}
    fastest = search.find(FACTORS["fastest"], modes)
    if fastest is None:
        return [], [notice(NoticeCode.NO_ROUTE)]
    found = []
    if search.unpenalised(fastest, tolerance):
        recommended = fastest
    else:
        recommended = search.find(tolerance, modes)
    if recommended is not None:
        found.append((OptionKind.RECOMMENDED, recommended))
        best = recommended
    else:
        # Nothing fits the tolerance, so no single-mode or mixed trip does either: skip
        # those searches (each would explore the whole component before failing).
        best = search.find(LEAST_RISKY, modes)
        found.append((OptionKind.LEAST_RISKY, best))
    for kind, mode in ((OptionKind.RAIL_ONLY, Mode.RAIL), (OptionKind.BUS_ONLY, Mode.BUS)):
        if mode in modes:
            found.append(
                (kind, _single_mode(search, best, recommended is not None, tolerance, mode))
            )
    if modes >= {Mode.RAIL, Mode.BUS} and recommended is not None:
        mixed = recommended if _riding_modes(recommended) == modes else None
        found.append((OptionKind.RAIL_THEN_BUS, mixed or search.find_mixed(tolerance)))
    found.append((OptionKind.FASTEST, fastest))
    return [(kind, trip) for kind, trip in found if trip is not None], []


def _single_mode(search: _Search, best: _Trip | None, within: bool, tolerance, mode: Mode):
    """The best trip by *mode* alone: within the tolerance if one exists, else least risky.

    *best* is the best trip over all modes (within tolerance when *within*); when it uses
    *mode* only, it is also the best of that mode under the same weights.
    """
    if best is not None and _riding_modes(best) <= {mode}:
        return best
    if within:
        trip = search.find(tolerance, {mode})
        if trip is not None:
            return trip
        if not search.hides_more(tolerance, LEAST_RISKY):
            return None  # the least risky search would fail on the same links
    return search.find(LEAST_RISKY, {mode})


# --- legs -----------------------------------------------------------------------------


def _trimmed(trip: _Trip, network: Network) -> _Trip:
    """*trip* without a walk at either end that only joins a bus to the named rail station:
    a bus trip starts and ends at the city's bus station (:meth:`Network.trim_end_walks`)."""
    stations, link_ids = network.trim_end_walks(trip.stations, [lk.id for lk in trip.links])
    if len(link_ids) == len(trip.links):
        return trip
    return _Trip(stations, tuple(network.links[i] for i in link_ids))


def _legs(trip: _Trip, risk_index: RiskIndex, query: Query) -> tuple[Leg, ...]:
    """One leg per ride (a run of rail links; each bus link) and per transfer link; between
    two buses in a row, a change leg at the bus station with ``query.bus_change_minutes``
    (an estimate).

    The searches price each change at the same minutes (see :mod:`advisor.routing.graph`),
    so the reported total is the cost the search minimised, not a surcharge after the fact.
    """
    legs, start = [], 0
    for mode, group in itertools.groupby(trip.links, key=lambda lk: lk.mode):
        run = tuple(group)
        pieces = [(link,) for link in run] if mode is Mode.BUS else [run]
        for i, links in enumerate(pieces):
            if i:
                legs.append(_change_leg(trip.stations[start], risk_index, query))
            stations = trip.stations[start : start + len(links) + 1]
            legs.append(_leg(mode, stations, links, risk_index, query))
            start += len(links)
    return tuple(legs)


def _change_leg(station_id: str, risk_index: RiskIndex, query: Query) -> Leg:
    """Changing buses at one station: no link, estimated minutes, the station's flags."""
    return Leg(
        mode=Mode.TRANSFER,
        from_id=station_id,
        to_id=station_id,
        station_ids=(station_id,),
        link_ids=(),
        line_ids=(),
        distance_km=0.0,
        travel_minutes=query.bus_change_minutes,
        time_source=TimeSource.TRANSFER_MODEL,
        flags=tuple(risk_index.flags_at_station(station_id, query.depart_at)),
    )


def _leg(mode, stations, links, risk_index: RiskIndex, query: Query) -> Leg:
    flags = {}
    for link in links:
        for flag in risk_index.flags_on_link(link.id, query.depart_at):
            flags.setdefault(flag.id, flag)
    line_ids = tuple(dict.fromkeys(line for link in links for line in link.line_ids))
    return Leg(
        mode=mode,
        from_id=stations[0],
        to_id=stations[-1],
        station_ids=tuple(stations),
        link_ids=tuple(link.id for link in links),
        line_ids=line_ids,
        distance_km=sum(link.distance_km for link in links),
        travel_minutes=sum(link.travel_minutes for link in links),
        time_source=_time_source(links),
        flags=tuple(sorted(flags.values(), key=lambda f: f.level, reverse=True)),
    )


def _time_source(links: Sequence[Link]) -> TimeSource:
    """The leg's provenance: a timetable only if every link is timetabled."""
    for link in links:
        if link.time_source.is_estimate:
            return link.time_source
    return TimeSource.TIMETABLE
