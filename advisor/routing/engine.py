"""The risk-aware journey planner: a small set of genuinely different options with reasons.

:func:`plan` answers a validated :class:`~advisor.routing.model.Query` over one network
snapshot and one :class:`~advisor.risk.coverage.RiskIndex`:

1. **recommended** — the quickest trip within the tolerance (elevated parts cost extra time,
   parts above the tolerance are hidden); if none exists, the **least risky** trip is shown
   as not advised with a ``no_safe_route`` notice;
2. the best **rail-only** and **bus-only** trips (within tolerance, else the least risky one
   of that mode, not advised);
3. **rail then bus** (or bus then rail) through a transfer;
4. the **fastest** trip regardless of risk (suspended parts excepted: they have no service).

An option whose links overlap an earlier one with the same verdict by more than
:data:`OVERLAP_LIMIT` (by minutes) is not repeated; its kind is added to ``also_kinds``.

Every search is a networkx bidirectional Dijkstra over the precomputed
:class:`~advisor.routing.graph.RoutingGraph` with a per-request weight callable, so the
shared graphs are never modified. The searched graphs price a change of bus at the
request's ``bus_change_minutes``, so a search's cost (with no penalties) equals the total
reported for the trip, change legs included.

Examples
--------
>>> from datetime import UTC, datetime
>>> from advisor.network.model import Link, LinkSource, Network, Station, StationKind
>>> st = [Station(i, i.upper(), i.upper(), 50.0, 30.0, "UA-32", StationKind.RAIL_STATION)
...       for i in "abc"]
>>> net = Network.build(st, [Link("ab", "a", "b", Mode.RAIL, 60, 40, LinkSource.OSM_TRACK),
...                          Link("bc", "b", "c", Mode.RAIL, 60, 40, LinkSource.OSM_TRACK)], [])
>>> advice = plan(net, RiskIndex.empty(), Query("a", "c", datetime(2026, 3, 1, tzinfo=UTC)))
>>> advice.recommended.legs[0].station_ids, advice.recommended.travel_minutes
(('a', 'b', 'c'), 80)
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import networkx as nx

from advisor.errors import InvalidQuery
from advisor.network.model import Link, Mode, Network, TimeSource
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import RiskLevel, Tolerance
from advisor.routing.explain import bus_data_notices, explain, freshness_notices, notice
from advisor.routing.graph import (
    BUS_LAYER,
    FACTORS,
    FREE,
    LEAST_RISKY,
    RAIL_LAYER,
    RoutingGraph,
    Weigher,
)
from advisor.routing.model import (
    Advice,
    DataFreshness,
    Leg,
    Notice,
    NoticeCode,
    Option,
    OptionKind,
    Query,
    Verdict,
)

__all__ = ["OVERLAP_LIMIT", "allowed_level", "judge", "plan"]

log = logging.getLogger(__name__)

OVERLAP_LIMIT = 0.8
_ALLOWED = {
    Tolerance.STRICT: RiskLevel.ADVISORY,
    Tolerance.BALANCED: RiskLevel.ELEVATED,
    Tolerance.ACCEPT_HIGH: RiskLevel.HIGH,
}


def allowed_level(tolerance: Tolerance) -> RiskLevel:
    """The highest level an option may carry and still be advised under *tolerance*.

    >>> allowed_level(Tolerance.BALANCED).value
    'elevated'
    """
    return _ALLOWED[tolerance]


def judge(
    worst: RiskLevel | None,
    tolerance: Tolerance,
    *,
    recommended: bool = False,
    unknown: bool = False,
) -> Verdict:
    """The verdict on an option whose worst flag is *worst*, for a passenger's *tolerance*.

    ``high`` means the operator urges passengers not to travel that way, so an option
    crossing it is not advised even to a passenger who accepts high risk (SCENARIOS 1: "may
    see the direct rail option, marked not advised") — except the one option recommended to
    that passenger because nothing less risky exists within reason, which carries a caution.
    *unknown* risk (a hop the network cannot place) is never advised without a caution.

    >>> judge(RiskLevel.HIGH, Tolerance.ACCEPT_HIGH).value
    'not_advised'
    >>> judge(RiskLevel.HIGH, Tolerance.ACCEPT_HIGH, recommended=True).value
    'caution'
    >>> judge(RiskLevel.ELEVATED, Tolerance.BALANCED).value, judge(None, Tolerance.STRICT).value
    ('caution', 'advised')
    """
    if worst is not None and worst > allowed_level(tolerance):
        return Verdict.NOT_ADVISED
    if worst is not None and worst >= RiskLevel.HIGH and not recommended:
        return Verdict.NOT_ADVISED
    if worst is not None or unknown:
        return Verdict.CAUTION
    return Verdict.ADVISED


def plan(
    network: Network,
    risk_index: RiskIndex,
    query: Query,
    freshness: DataFreshness | None = None,
) -> Advice:
    """Answer *query*: options (recommended first) and coded notices; never raises for
    "no route" — that is a notice. Raises :class:`InvalidQuery` for a malformed query."""
    _validate(query)
    freshness = freshness or _default_freshness(network)
    notices = freshness_notices(freshness)
    problem = _endpoint_problem(network, query)
    if problem is not None:
        return Advice(query, (), (*notices, problem), freshness)
    levels = risk_index.link_levels(query.depart_at)
    search = _Search(RoutingGraph.of(network), levels, query)
    candidates, search_notices = _candidates(search, query)
    allowed = [(k, t) for k, t in candidates if _transfers(t) <= query.max_transfers]
    if len(allowed) < len(candidates):
        search_notices.append(
            notice(NoticeCode.TOO_MANY_TRANSFERS, max_transfers=query.max_transfers)
        )
    options = _options(allowed, network, risk_index, query)
    notices.extend(search_notices)
    notices.extend(_content_notices(options, query, network))
    return Advice(query, tuple(options), tuple(notices), freshness)


# --- validation and notices ------------------------------------------------------------


def _validate(query: Query) -> None:
    if not isinstance(query.tolerance, Tolerance):
        raise InvalidQuery(
            f"unknown tolerance {query.tolerance!r}", field="tolerance", value=query.tolerance
        )
    riding = set(query.modes) - {Mode.TRANSFER}
    if not riding or not riding <= {Mode.RAIL, Mode.BUS}:
        raise InvalidQuery(
            f"modes {sorted(map(str, query.modes))} must be rail and/or bus",
            field="modes",
            value=",".join(sorted(map(str, query.modes))),
        )
    if query.depart_at.tzinfo is None:
        raise InvalidQuery(
            "departure time has no time zone", field="at", value=query.depart_at.isoformat()
        )
    if not query.bus_change_minutes > 0:
        raise InvalidQuery(
            f"bus_change_minutes {query.bus_change_minutes} must be positive: a change of bus "
            "is never free",
            field="bus_change_minutes",
            value=query.bus_change_minutes,
        )
    if query.max_transfers < 0:
        raise InvalidQuery(
            f"max_transfers {query.max_transfers} is negative",
            field="max_transfers",
            value=query.max_transfers,
        )


def _endpoint_problem(network: Network, query: Query) -> Notice | None:
    if query.origin not in network.stations:
        return notice(NoticeCode.ORIGIN_NOT_FOUND, text=query.origin)
    if query.destination not in network.stations:
        return notice(NoticeCode.DESTINATION_NOT_FOUND, text=query.destination)
    a, b = network.stations[query.origin], network.stations[query.destination]
    if a.id == b.id or (a.settlement and a.settlement == b.settlement):
        return notice(NoticeCode.SAME_ORIGIN_DESTINATION, origin=a.id, destination=b.id)
    return None


def _default_freshness(network: Network) -> DataFreshness:
    meta = network.metadata
    return DataFreshness(
        None, False, True, str(meta.get("version", "")), str(meta.get("built_at", ""))
    )


def _content_notices(
    options: Sequence[Option], query: Query, network: Network | None = None
) -> list[Notice]:
    notices = []
    if options and all(
        o.risk_level is not None and o.risk_level >= RiskLevel.ELEVATED for o in options
    ):
        notices.append(notice(NoticeCode.ONLY_RISKY_ROUTES))
    legs = [leg for option in options for leg in option.legs]
    if any(leg.is_estimated and leg.mode is not Mode.TRANSFER for leg in legs):
        notices.append(notice(NoticeCode.ESTIMATED_TIMES))
    notices.extend(bus_data_notices(legs, network))
    return notices


# --- searching -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trip:
    """A found path: the stations in order and the link used between each pair."""

    stations: tuple[str, ...]
    links: tuple[Link, ...]


class _Search:
    """One request's searches over the shared routing graph (weights only, no edits)."""

    def __init__(self, rg: RoutingGraph, levels: Mapping[str, RiskLevel], query: Query):
        self.rg = rg
        self.levels = levels
        self.query = query
        self.hidden = _hidden_links(rg, query)

    def find(self, factors, modes: Collection[Mode]) -> _Trip | None:
        """The cheapest trip under *factors* using *modes* (plus transfers), or None."""
        a, b = self.query.origin, self.query.destination
        weigher = self._weigher(factors, modes, b)
        graph = self.rg.priced_for(a, b)
        try:
            _cost, path = nx.bidirectional_dijkstra(graph, (a, FREE), (b, FREE), weight=weigher)
        except nx.NetworkXNoPath:
            return None
        return _expand(graph, path, weigher)

    def _weigher(self, factors, modes: Collection[Mode], end: str) -> Weigher:
        return Weigher(
            self.levels,
            factors,
            modes,
            self.hidden,
            change_minutes=self.query.bus_change_minutes,
            free_alight_at=end,
        )

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
        weigher = self._weigher(factors, (Mode.RAIL, Mode.BUS), b)
        try:
            _cost, path = nx.bidirectional_dijkstra(
                self.rg.layered, (a, RAIL_LAYER), (b, BUS_LAYER), weight=weigher
            )
        except (nx.NetworkXNoPath, nx.NodeNotFound):
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
    found, notices = [], []
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
        notices.append(notice(NoticeCode.NO_SAFE_ROUTE, tolerance=query.tolerance.value))
    for kind, mode in ((OptionKind.RAIL_ONLY, Mode.RAIL), (OptionKind.BUS_ONLY, Mode.BUS)):
        if mode in modes:
            found.append(
                (kind, _single_mode(search, best, recommended is not None, tolerance, mode))
            )
    if modes >= {Mode.RAIL, Mode.BUS} and recommended is not None:
        mixed = recommended if _riding_modes(recommended) == modes else None
        found.append((OptionKind.RAIL_THEN_BUS, mixed or search.find_mixed(tolerance)))
    found.append((OptionKind.FASTEST, fastest))
    return [(kind, trip) for kind, trip in found if trip is not None], notices


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
    return search.find(LEAST_RISKY, {mode})


# --- building options ------------------------------------------------------------------


def _options(candidates, network: Network, risk_index: RiskIndex, query: Query):
    options: list[Option] = []
    seen: list[_Trip] = []
    for kind, trip in candidates:
        legs = _legs(trip, risk_index, query)
        verdict = _verdict(legs, query.tolerance, kind)
        if kind is OptionKind.LEAST_RISKY:
            verdict = Verdict.NOT_ADVISED  # nothing fit the tolerance: never advised
        twin = _twin(trip, verdict, seen, options)
        if twin is not None:
            options[twin] = replace(options[twin], also_kinds=(*options[twin].also_kinds, kind))
            continue
        seen.append(trip)
        options.append(Option(kind, verdict, legs, "", ""))
    fastest = next((o for o in options if OptionKind.FASTEST in (o.kind, *o.also_kinds)), None)
    return [_explained(o, fastest, network) for o in options]


def _explained(option: Option, fastest: Option | None, network: Network) -> Option:
    uk, en = explain(option, fastest, network)
    return replace(option, explanation_uk=uk, explanation_en=en)


def _twin(trip: _Trip, verdict: Verdict, seen: list[_Trip], options: list[Option]):
    """Index of an earlier option with the same verdict that *trip* mostly repeats, or that
    *trip* repeats exactly (one trip is shown once, with the earlier slot's verdict)."""
    for i, (other, option) in enumerate(zip(seen, options, strict=True)):
        if other.links == trip.links:
            return i
        if option.verdict is verdict and _overlap(trip, other) > OVERLAP_LIMIT:
            return i
    return None


def _overlap(a: _Trip, b: _Trip) -> float:
    """Shared minutes over the longer trip's minutes (1.0 for identical trips)."""
    shared_ids = {lk.id for lk in a.links} & {lk.id for lk in b.links}
    shared = sum(lk.travel_minutes for lk in a.links if lk.id in shared_ids)
    longest = max(sum(lk.travel_minutes for lk in t.links) for t in (a, b))
    return shared / longest if longest else 1.0


def _transfers(trip: _Trip) -> int:
    return max(0, len(_rides(trip.links)) - 1)


def _rides(links: Sequence[Link]) -> list[tuple[Mode, tuple[Link, ...]]]:
    """The vehicles a trip rides, in order, as (mode, links) — transfers left out.

    A run of rail links is one ride (the network has no trains, so a change of line is not a
    change of vehicle the service knows about). Each bus link is a ride of its own: it is one
    licensed route between two settlements, so two in a row mean changing buses.
    """
    rides = []
    for mode, group in itertools.groupby(links, key=lambda lk: lk.mode):
        run = tuple(group)
        if mode is Mode.BUS:
            rides.extend((mode, (link,)) for link in run)
        elif mode is not Mode.TRANSFER:
            rides.append((mode, run))
    return rides


def _verdict(legs: Sequence[Leg], tolerance: Tolerance, kind: OptionKind) -> Verdict:
    worst = max((leg.risk_level for leg in legs if leg.risk_level is not None), default=None)
    return judge(worst, tolerance, recommended=kind is OptionKind.RECOMMENDED)


def _legs(trip: _Trip, risk_index: RiskIndex, query: Query) -> tuple[Leg, ...]:
    """One leg per ride (see :func:`_rides`) and per transfer link; between two buses in a
    row, a change leg at the bus station with ``query.bus_change_minutes`` (an estimate).

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
