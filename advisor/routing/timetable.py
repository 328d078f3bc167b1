"""Planning with real departures: a connection scan over one service day, risk-aware.

For a query day the trips of that day (and those of the day before that run past midnight,
and those of the next day) become *connections* — one per hop between two consecutive stops
of a trip — sorted by departure and held in plain lists. The earliest arrival is one pass of the
Connection Scan Algorithm (Dibbelt et al. 2013) from the query time onwards, stopping as soon
as no later connection can improve the destination. A latest-departure ("arrive by") query is
the same scan backwards.

Changing vehicles needs a minimum time at the place (the feed's transfers.txt, else
``min_transfer_seconds`` from configuration, never below :data:`MIN_TRANSFER_FLOOR_SECONDS`),
plus ``elevated_buffer_seconds`` after a trip that passed through an elevated section. Where
transfers.txt says a change is not possible (type 3) the scans never change there; types 0
and 1 give no time, so the configured minimum applies (the rules are in
:mod:`advisor.network.timetable`).

Nobody boards where the feed's ``pickup_type`` is 1 or leaves the vehicle where
``drop_off_type`` is 1, in both scan directions: such a connection leads from or to a place
no one can be at (:attr:`DayConnections.board_from`, :attr:`DayConnections.alight_to`), so
the scans need no extra test per connection.

Risk: every hop between two stops matched to network stations maps to the network links of
the shortest path between those stations (rail links for trains, bus links for buses). A flag
covering one of those links or stations and in force when the trip runs that hop blocks the
connection when its level is at or above what the passenger's tolerance avoids — exactly the
rule used for estimated legs. Hops whose stops are not matched carry no known risk and say so
(``Leg.link_ids`` is empty).

Option slots, verdicts and sentences are not chosen here: :meth:`TimetablePlanner.candidates`
returns candidate journeys, and the answer builder (:mod:`advisor.routing.answer`) judges and
explains them as it does the estimated back-end's.
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from threading import Lock

import networkx as nx

from advisor.errors import InvalidQuery
from advisor.network.geo import crowfly_km
from advisor.network.model import Mode, Network, TimeSource
from advisor.network.timetable import TRANSFER_NOT_POSSIBLE, Timetable
from advisor.risk.model import Flag, RiskLevel
from advisor.routing.answer import build_advice
from advisor.routing.explain import notice
from advisor.routing.model import (
    Advice,
    Candidate,
    DataFreshness,
    Leg,
    Notice,
    NoticeCode,
    OptionKind,
    Query,
)
from advisor.routing.policy import (
    CALMER_LEVELS,
    DETOUR_ALLOWANCE,
    DETOUR_MIN_MINUTES,
    blocking_rank,
)

__all__ = [
    "MIN_TRANSFER_FLOOR_SECONDS",
    "Departure",
    "Journey",
    "TimetablePlanner",
]

log = logging.getLogger(__name__)

INF = math.inf
DAY = 86_400
MIN_TRANSFER_FLOOR_SECONDS = 300
"""A change never takes less than five minutes, even where a feed says 0 (walking off one
train and onto another with luggage, in wartime, is never instant)."""
NO_CHANGE_SECONDS = 100 * DAY
"""The scans' change time where the feed says no change is possible: later than any
connection of a day's index, so no vehicle is ever boarded after arriving there."""
DAY_CACHE_SIZE = 4
_NO_RISK = -1
_RANKS = {level: level.rank for level in RiskLevel}


# -- one service day as sorted connections -----------------------------------------------


@dataclass(frozen=True, eq=False)
class DayConnections:
    """Connections usable on one service day, sorted by departure (then arrival).

    Times are seconds after the start of ``day``; trips of the day before are shifted by −1
    day, of the next day by +1 day. ``instance`` numbers each (trip, day) run; ``row`` is the
    stop-time row the hop starts at.

    ``board_from`` / ``alight_to`` are ``frm`` / ``to`` as the scans read them: the place,
    or ``no_boarding`` / ``no_alighting`` (two indices past the last place, never reached /
    never boarded from) where the feed lets nobody on or off the vehicle at that stop.
    """

    day: date
    dep: list[int]
    arr: list[int]
    frm: list[int]
    to: list[int]
    instance: list[int]
    row: list[int]
    instance_trip: list[int]
    instance_shift: list[int]
    by_arrival: list[int]
    arr_sorted_desc: list[int]
    modes: frozenset[Mode]
    board_from: list[int]
    alight_to: list[int]
    no_boarding: int
    no_alighting: int


def _build_day(tt: Timetable, day: date) -> DayConnections:
    instances: list[tuple[int, int]] = []
    hops: list[tuple[int, int, int]] = []  # (dep, arr, row) then instance appended below
    owner: list[int] = []
    for offset in (-1, 0, 1):
        shift = offset * DAY
        for trip in tt.trips_on(day + timedelta(days=offset)):
            start, end = tt.trip_offsets[trip], tt.trip_offsets[trip + 1]
            if offset == -1 and tt.st_arrival[end - 1] < DAY:
                continue  # yesterday's trip ended before today began
            instance = len(instances)
            instances.append((trip, shift))
            for row in range(start, end - 1):
                hops.append((tt.st_departure[row] + shift, tt.st_arrival[row + 1] + shift, row))
                owner.append(instance)
    order = sorted(range(len(hops)), key=hops.__getitem__)
    dep = [hops[i][0] for i in order]
    arr = [hops[i][1] for i in order]
    row = [hops[i][2] for i in order]
    by_arrival = sorted(range(len(order)), key=lambda i: (-arr[i], -dep[i]))
    no_boarding, no_alighting = len(tt.stop_ids), len(tt.stop_ids) + 1
    return DayConnections(
        day=day,
        dep=dep,
        arr=arr,
        frm=[tt.st_place[r] for r in row],
        to=[tt.st_place[r + 1] for r in row],
        instance=[owner[i] for i in order],
        row=row,
        instance_trip=[t for t, _ in instances],
        instance_shift=[s for _, s in instances],
        by_arrival=by_arrival,
        arr_sorted_desc=[-arr[i] for i in by_arrival],
        modes=frozenset(tt.trip_mode(t) for t, _ in instances),
        board_from=[
            tt.st_place[r] if tt.boarding_allowed(r) else no_boarding for r in row
        ],
        alight_to=[
            tt.st_place[r + 1] if tt.alighting_allowed(r + 1) else no_alighting for r in row
        ],
        no_boarding=no_boarding,
        no_alighting=no_alighting,
    )


# -- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ride:
    """One ride on one trip: boarding connection ``enter`` to alighting connection ``exit``."""

    enter: int
    exit: int


@dataclass(frozen=True)
class Journey:
    """A scan's answer: rides in order, on the connections of ``day``."""

    day: DayConnections
    rides: tuple[Ride, ...]

    @property
    def departure_seconds(self) -> int:
        """Departure of the first ride, seconds after the start of the day."""
        return self.day.dep[self.rides[0].enter]

    @property
    def arrival_seconds(self) -> int:
        """Arrival of the last ride."""
        return self.day.arr[self.rides[-1].exit]

    def trip_rows(self) -> tuple[tuple[int, int], ...]:
        """(trip instance, boarding row) per ride: two journeys are the same if these are."""
        return tuple((self.day.instance[r.enter], self.day.row[r.enter]) for r in self.rides)


@dataclass(frozen=True)
class Departure:
    """One line of a departures board."""

    trip_id: str
    route_name: str
    headsign: str
    mode: Mode
    departure: datetime
    destination: str
    flags: tuple[Flag, ...]

    @property
    def risk_level(self) -> RiskLevel | None:
        """The highest level on the rest of the trip, or None when nothing is flagged."""
        return max((f.level for f in self.flags), default=None)


@dataclass(frozen=True)
class _Scan:
    """Settings of one scan: what is blocked and which modes may be ridden."""

    blocked: bytearray | None
    elevated: bytearray | None
    modes: frozenset[Mode]


# -- the planner -------------------------------------------------------------------------


class TimetablePlanner:
    """Earliest-arrival and risk-aware planning over one :class:`Timetable` snapshot.

    Parameters
    ----------
    timetable : Timetable
        The imported feed(s); places matched to stations via ``station_by_place``.
    network : Network, optional
        Used to map hops between matched stations to links (for risk) and distances.
    min_transfer_seconds : int
        Change time where the feed gives none (``Settings.min_rail_transfer_minutes``).
    elevated_buffer_seconds : int
        Extra change time after a trip through an elevated section.

    Attributes
    ----------
    change : list[int]
        Seconds needed to change vehicles at each place (also between an estimated leg and
        a vehicle).
    no_change : frozenset[int]
        Places where the feed says changing vehicles is not possible (transfers.txt type 3).
    footpaths : dict
        Place → ((place, walk seconds), …), walks the feed allows.

    The planner never changes the timetable; it keeps small caches (days, hop links) that
    are safe to share between requests.
    """

    def __init__(
        self,
        timetable: Timetable,
        network: Network | None = None,
        *,
        min_transfer_seconds: int = 20 * 60,
        elevated_buffer_seconds: int = 30 * 60,
    ):
        self.timetable = timetable
        self.network = network
        self._transfer_rules(timetable, max(int(min_transfer_seconds), MIN_TRANSFER_FLOOR_SECONDS))
        self.elevated_buffer_seconds = int(elevated_buffer_seconds)
        self._days: OrderedDict[date, DayConnections] = OrderedDict()
        self._hops: dict[tuple[int, int, Mode], tuple[tuple[str, ...], tuple[str, ...], float]] = {}
        self._lock = Lock()
        settlements: dict[str, list[str]] = {}
        for station in network.stations.values() if network else ():
            if station.settlement:
                settlements.setdefault(station.settlement, []).append(station.id)
        self._settlements = {k: tuple(v) for k, v in settlements.items()}

    def _transfer_rules(self, timetable: Timetable, default: int) -> None:
        """Change and walk times: the feed's (never under the floor), else *default*."""
        floor = MIN_TRANSFER_FLOOR_SECONDS
        self.change = [default] * len(timetable.stop_ids)
        no_change = set()
        for place, seconds in timetable.transfer_seconds.items():
            if seconds == TRANSFER_NOT_POSSIBLE:
                no_change.add(place)
            else:
                self.change[place] = max(seconds, floor)
        self.no_change = frozenset(no_change)
        self.footpaths = {
            p: tuple((q, default if s is None else max(s, floor)) for q, s in pairs
                     if s != TRANSFER_NOT_POSSIBLE)
            for p, pairs in timetable.footpaths.items()
        }  # fmt: skip
        # As the scans read it: no change where none is possible, and the two places of
        # DayConnections that stand for "nobody gets on / off here".
        self._scan_change = [
            NO_CHANGE_SECONDS if p in self.no_change else s for p, s in enumerate(self.change)
        ] + [NO_CHANGE_SECONDS, NO_CHANGE_SECONDS]

    # -- days and times --

    def day_connections(self, day: date) -> DayConnections:
        """The sorted connections of service day *day* (built once, a few kept)."""
        with self._lock:
            cached = self._days.get(day)
            if cached is not None:
                self._days.move_to_end(day)
                return cached
        built = _build_day(self.timetable, day)
        with self._lock:
            self._days[day] = built
            while len(self._days) > DAY_CACHE_SIZE:
                self._days.popitem(last=False)
        return built

    def _day_and_seconds(self, when: datetime) -> tuple[date, int]:
        if when.tzinfo is None:
            raise InvalidQuery(
                f"time {when.isoformat()} has no time zone", field="at", value=str(when)
            )
        local = when.astimezone(self.timetable.zone)
        return local.date(), self.timetable.seconds_on(local.date(), local)

    def places(self, station_or_stop: str, *, whole_settlement: bool = True) -> tuple[int, ...]:
        """Places of a network station id (and of the other stops of its settlement, so
        "Kyiv" may start at the bus station), else of a GTFS stop id; raises InvalidQuery."""
        places = [
            p
            for sid in (
                self._same_settlement(station_or_stop) if whole_settlement else (station_or_stop,)
            )
            for p in self.timetable.places_of_station(sid)
        ]  # fmt: skip
        if places:
            return tuple(places)
        stop = self.timetable.find_stop(station_or_stop)
        if stop is not None:
            return (self.timetable.stop_place[stop],)
        raise InvalidQuery(
            f"no timetabled stop for {station_or_stop!r}", field="station", value=station_or_stop
        )

    def covers(self, station_id: str) -> bool:
        """True if *station_id* (or a stop of its settlement) has timetabled departures."""
        try:
            return bool(self.places(station_id))
        except InvalidQuery:
            return False

    def nearest_timetabled(
        self, station_id: str, count: int = 3, within_km: float = 250.0, *, other_end: str = ""
    ) -> list[str]:
        """Up to *count* timetabled stations nearest to network station *station_id* (by
        straight line, within *within_km*), nearest first; stations of *other_end*'s
        settlement (the trip's other end) are left out."""
        here = self.network.find_station(station_id) if self.network else None
        if here is None:
            return []
        skip = {station_id, *self._same_settlement(other_end)} if other_end else {station_id}
        distance = {
            sid: crowfly_km(here.lat, here.lon, st.lat, st.lon)
            for sid in set(self.timetable.station_by_place.values()) - skip
            if (st := self.network.find_station(sid)) is not None
        }
        near = sorted((d, sid) for sid, d in distance.items() if d <= within_km)
        return [sid for _d, sid in near[:count]]

    def _same_settlement(self, station_id: str) -> tuple[str, ...]:
        station = self.network.find_station(station_id) if self.network else None
        if station is None or not station.settlement:
            return (station_id,)
        return self._settlements.get(station.settlement, (station_id,))

    # -- the scans --

    def earliest_arrival(
        self, origin: Places, destination: Places, day: date, seconds: int,
        *, scan: _Scan | None = None, max_transfers: int | None = None,
    ) -> Journey | None:  # fmt: skip
        """The journey arriving first at any *destination* place, leaving *origin* at or
        after *seconds* on *day*, with at most *max_transfers* changes; None if no
        connection reaches it that day.

        *origin* and *destination* are places, or mappings place → seconds: the time needed
        to reach that place before boarding (an estimated access leg) or to go on from it
        after arriving (an egress leg); the best journey minimises arrival plus egress."""
        c, scan = self.day_connections(day), scan or _Scan(None, None, frozenset())
        origin, targets = _extras(origin), _extras(destination)
        journey = self._forward(c, origin, targets, seconds, scan)
        if journey is None or max_transfers is None or len(journey.rides) <= max_transfers + 1:
            return journey
        # Rarely needed: the fastest journey changes too often; scan round by round.
        return self._forward_rounds(c, origin, targets, seconds, scan, max_transfers + 1)

    def _forward_rounds(self, c, origin, targets, t0, scan: _Scan, max_rides: int):
        """Earliest arrival with at most *max_rides* rides: one scan per ride ("round"),
        boarding only from places reached in the previous round (RAPTOR's rounds over a
        connection scan). The elevated buffer is not applied here."""
        ready = [INF] * len(self._scan_change)
        for p, extra in origin.items():
            ready[p] = t0 + extra
        backs: list[list] = [[None] * len(ready)]
        change = self._scan_change
        start = bisect_left(c.dep, t0)
        best, best_ride, best_round = INF, None, 0
        for rides in range(1, max_rides + 1):
            previous, ready, back = ready, ready.copy(), backs[-1].copy()
            enter = self._entry_states(c, scan.modes)
            for i in range(start, len(c.dep)):
                d = c.dep[i]
                if d >= best:
                    break
                if scan.blocked is not None and scan.blocked[i]:
                    continue
                k = c.instance[i]
                if enter[k] < 0:
                    if enter[k] == -2 or previous[c.board_from[i]] > d:
                        continue
                    enter[k] = i
                a, p = c.arr[i], c.alight_to[i]
                if p in targets and a + targets[p] < best:
                    best, best_ride, best_round = a + targets[p], (enter[k], i), rides
                if a + change[p] < ready[p]:
                    ready[p], back[p] = a + change[p], (enter[k], i, rides)
            backs.append(back)
        if best_ride is None:
            return None
        chain, place, level = [Ride(*best_ride)], c.frm[best_ride[0]], best_round - 1
        while level > 0 and backs[level][place] is not None:
            enter, exit_, level = backs[level][place]
            chain.append(Ride(enter, exit_))
            place, level = c.frm[enter], level - 1
        return Journey(c, tuple(reversed(chain)))

    def _forward(
        self, c: DayConnections, origin: dict[int, int], targets: dict[int, int], t0: int,
        scan: _Scan,
    ):  # fmt: skip
        ready = [INF] * len(self._scan_change)  # earliest time a new trip may board here
        back: list = [None] * len(ready)  # (enter, exit) of the ride that made `ready`
        # enter[k]: first connection of trip instance k ridden; -1 not yet; -2 mode excluded.
        enter = self._entry_states(c, scan.modes)
        for p, extra in origin.items():
            ready[p] = t0 + extra
        dep, arr, frm, to, inst = c.dep, c.arr, c.board_from, c.alight_to, c.instance
        blocked, elevated, walks = scan.blocked, scan.elevated, self.footpaths
        change = self._scan_change
        buffer = self.elevated_buffer_seconds
        elevated_trip = bytearray(len(enter))
        best, best_ride = INF, None
        for i in range(bisect_left(dep, t0), len(dep)):
            d = dep[i]
            if d >= best:
                break
            if blocked is not None and blocked[i]:
                continue
            k = inst[i]
            e = enter[k]
            if e < 0:
                if e == -2 or ready[frm[i]] > d:
                    continue
                enter[k] = e = i
            a, p = arr[i], to[i]
            if elevated is not None and elevated[i]:
                elevated_trip[k] = 1
            extra = buffer if elevated_trip[k] else 0
            if p in targets and a + targets[p] < best:
                best, best_ride = a + targets[p], (e, i)
            r = a + change[p] + extra
            if r < ready[p]:
                ready[p], back[p] = r, (e, i)
                for q, walk in walks.get(p, ()):
                    if a + walk + extra < ready[q]:
                        ready[q], back[q] = a + walk + extra, (e, i)
        if best_ride is None:
            return None
        return Journey(c, self._unwind(c, best_ride, back))

    def _entry_states(self, c: DayConnections, modes: frozenset[Mode]) -> list[int]:
        if not modes or modes >= {Mode.RAIL, Mode.BUS}:
            return [-1] * len(c.instance_trip)
        mode_of = self.timetable.trip_mode
        return [-1 if mode_of(t) in modes else -2 for t in c.instance_trip]

    def _unwind(self, c: DayConnections, last: tuple[int, int], back) -> tuple[Ride, ...]:
        rides = [Ride(*last)]
        while True:
            previous = back[c.frm[rides[-1].enter]]
            if previous is None or len(rides) > 64:
                break
            rides.append(Ride(*previous))
        return tuple(reversed(rides))

    def latest_departure(
        self, origin: Places, destination: Places, day: date, seconds: int,
        *, scan: _Scan | None = None,
    ) -> Journey | None:  # fmt: skip
        """The journey leaving *origin* as late as possible and arriving at a *destination*
        place by *seconds* on *day*. The elevated buffer and walks between places are not
        applied backwards; the caller re-plans forwards from the departure found."""
        c = self.day_connections(day)
        scan = scan or _Scan(None, None, frozenset())
        origin, targets = _extras(origin), _extras(destination)
        n_places = len(self._scan_change)  # with DayConnections' two "nobody" places
        need = [-INF] * n_places  # latest time a vehicle may arrive here and still make it
        onward = [None] * n_places
        change = self._scan_change
        for p, extra in targets.items():
            need[p] = seconds - extra
        exit_of = self._entry_states(c, scan.modes)
        best, best_ride = -INF, None
        for i in c.by_arrival[bisect_left(c.arr_sorted_desc, -seconds) :]:
            if c.arr[i] <= best:
                break
            if scan.blocked is not None and scan.blocked[i]:
                continue
            k = c.instance[i]
            if exit_of[k] < 0:
                if exit_of[k] == -2 or need[c.alight_to[i]] < c.arr[i]:
                    continue
                exit_of[k] = i
            d, p = c.dep[i], c.board_from[i]
            if p in origin and d - origin[p] > best:
                best, best_ride = d - origin[p], Ride(i, exit_of[k])
            if d - change[p] > need[p]:
                need[p], onward[p] = d - change[p], Ride(i, exit_of[k])
        if best_ride is None:
            return None
        rides = [best_ride]
        while (
            c.to[rides[-1].exit] not in targets and onward[c.to[rides[-1].exit]] and len(rides) < 64
        ):
            rides.append(onward[c.to[rides[-1].exit]])
        return Journey(c, tuple(rides))

    # -- hops, risk --

    def hop_links(
        self, frm: int, to: int, mode: Mode
    ) -> tuple[tuple[str, ...], tuple[str, ...], float]:
        """(link ids, station ids, km) of the network path a hop between two places runs on.

        Empty when a place is not matched to a station or no path of that mode exists; the
        distance then falls back to the straight line between the stops.
        """
        key = (frm, to, mode)
        found = self._hops.get(key)
        if found is None:
            found = self._path_of_hop(frm, to, mode)
            self._hops[key] = found
        return found

    def _path_of_hop(self, frm: int, to: int, mode: Mode):
        tt, net = self.timetable, self.network
        a, b = tt.station_by_place.get(frm), tt.station_by_place.get(to)
        straight = _straight_km(tt, frm, to)
        if net is None or a is None or b is None or a not in net.graph or b not in net.graph:
            return (), tuple(s for s in (a, b) if s), straight
        if a == b:
            return (), (a,), 0.0

        def weight(_u, _v, edges):
            usable = [e["link"].distance_km for e in edges.values() if e["link"].mode is mode]
            return min(usable) if usable else None

        try:
            km, path = nx.bidirectional_dijkstra(net.graph, a, b, weight=weight)
        except nx.NetworkXNoPath:
            return (), (a, b), straight
        links = []
        for u, v in pairwise(path):
            same_mode = [lk for lk in net.links_between(u, v) if lk.mode is mode]
            links.append(min(same_mode, key=lambda lk: lk.distance_km).id)
        return tuple(links), tuple(path), float(km)

    def connection_flags(self, c: DayConnections, i: int, risk) -> tuple[Flag, ...]:
        """Flags in force when connection *i* runs, on its links or stations (*risk*: a
        :class:`~advisor.risk.coverage.RiskIndex`)."""
        if risk is None:
            return ()
        links, stations, _km = self.hop_links(
            c.frm[i], c.to[i], self.timetable.trip_mode(c.instance_trip[c.instance[i]])
        )
        if not links and not stations:
            return ()
        when = self.timetable.service_datetime(c.day, c.dep[i])
        found: dict[str, Flag] = {}
        for link_id in links:
            for flag in risk.by_link.get(link_id, ()):
                if flag.is_active_at(when):
                    found.setdefault(flag.id, flag)
        for station_id in stations:
            for flag in risk.by_station.get(station_id, ()):
                if flag.is_active_at(when):
                    found.setdefault(flag.id, flag)
        return tuple(found.values())

    def risk_ranks(self, c: DayConnections, risk, start: int = 0) -> bytearray:
        """Per connection from *start* on, 1 + the highest flag rank in force on it (0: no
        flag). One byte each so masks are made with :meth:`bytes.translate`; hops whose
        links and stations no flag covers are skipped cheaply."""
        codes = bytearray(len(c.dep))
        if risk is None or not (risk.by_link or risk.by_station):
            return codes
        flagged_links, flagged_stations = set(risk.by_link), set(risk.by_station)
        mode_of = self.timetable.trip_mode
        for i in range(start, len(c.dep)):
            mode = mode_of(c.instance_trip[c.instance[i]])
            links, stations, _ = self.hop_links(c.frm[i], c.to[i], mode)
            if flagged_links.isdisjoint(links) and flagged_stations.isdisjoint(stations):
                continue
            flags = self.connection_flags(c, i, risk)
            codes[i] = 1 + max((_RANKS[f.level] for f in flags), default=_NO_RISK)
        return codes

    # -- the answer --

    def candidates(
        self, query: Query, risk=None, *,
        access: Mapping[str, tuple[Leg, ...]] | None = None,
        egress: Mapping[str, tuple[Leg, ...]] | None = None,
    ) -> tuple[list[Candidate], list[Notice]]:  # fmt: skip
        """Candidate journeys for *query* using timetabled trips, in display order, and the
        notices of the scan (no timetabled connection that day).

        *access* / *egress* map a timetabled station to estimated network legs from the
        origin to it / from it to the destination, for when the origin or destination has no
        timetable of its own; such legs keep their estimated time source.
        """
        access, egress = dict(access or {}), dict(egress or {})
        origin = self._endpoint(query.origin, access)
        destination = self._endpoint(query.destination, egress)
        day, seconds = self._day_and_seconds(query.depart_at)
        c = self.day_connections(day)
        start = bisect_left(c.dep, seconds) if not query.arrive_by else 0
        codes = self.risk_ranks(c, risk, start)
        avoid = self._avoided(c, query)
        plans = _OptionSearch(self, query, c, codes, avoid, origin, destination, seconds).run()
        ends = (access, egress)
        found = [
            Candidate(
                kind,
                self._with_estimated_ends(journey, self.legs(journey, risk), query, ends),
                risk_unknown=self.risk_unknown(journey),
            )
            for kind, journey in plans
        ]
        return found, ([] if found else [self._no_route(day)])

    def advise(
        self, query: Query, risk=None, *, freshness: DataFreshness | None = None,
        access: Mapping[str, tuple[Leg, ...]] | None = None,
        egress: Mapping[str, tuple[Leg, ...]] | None = None,
    ) -> Advice:  # fmt: skip
        """This back-end's candidates through the one answer builder, with no estimated
        fallback (the planner, :func:`advisor.routing.planner.plan`, adds that)."""
        freshness = freshness or DataFreshness(
            None, False, risk is not None, "", "", self.timetable.feed_ids
        )
        if query.origin == query.destination or (
            set(self._own_places(query.origin)) & set(self._own_places(query.destination))
        ):
            same = (notice(NoticeCode.SAME_ORIGIN_DESTINATION),)
            return Advice(query=query, options=(), notices=same, freshness=freshness)
        found, notices = self.candidates(query, risk, access=access, egress=egress)
        return build_advice(
            query, found, network=self.network, freshness=freshness, notices=notices
        )

    def _avoided(self, c: DayConnections, query: Query) -> bytearray | None:
        """Connections touching a station or line the passenger asked to avoid (1 = avoid)."""
        if not (query.avoid_stations or query.avoid_lines):
            return None
        avoid_links: set[str] = set()
        for line_id in query.avoid_lines:
            line = self.network.lines.get(line_id) if self.network else None
            avoid_links |= set(line.link_ids) if line else set()
        mode_of, avoid = self.timetable.trip_mode, query.avoid_stations
        mask = bytearray(len(c.dep))
        for i in range(len(c.dep)):
            links, stations, _ = self.hop_links(
                c.frm[i], c.to[i], mode_of(c.instance_trip[c.instance[i]])
            )
            if not avoid.isdisjoint(stations) or not avoid_links.isdisjoint(links):
                mask[i] = 1
        return mask

    def _no_route(self, day: date) -> Notice:
        days = self.timetable.service_days()
        span = f"{days[0]}–{days[-1]}" if days else "—"
        return Notice(
            NoticeCode.NO_ROUTE,
            f"Немає рейсу за розкладом {day}; розклад охоплює {span}.",
            f"No timetabled connection on {day}; the timetable covers {span}.",
            {"day": day.isoformat(), "timetable_span": span},
        )

    def _own_places(self, station: str) -> tuple[int, ...]:
        return self.places(station) if self.covers(station) else ()

    def _endpoint(self, station: str, extra: Mapping[str, tuple[Leg, ...]]) -> dict[int, int]:
        """Places of an origin or destination (0 s) and of stations reached by estimated
        legs (their minutes plus a change)."""
        try:
            places = dict.fromkeys(self.places(station), 0)
        except InvalidQuery:
            if not extra:
                raise
            places = {}
        for station_id, legs in extra.items():
            seconds = round(sum(leg.travel_minutes for leg in legs) * 60)
            for place in self.timetable.places_of_station(station_id):
                places.setdefault(place, seconds + self.change[place])
        return places

    def _with_estimated_ends(self, journey: Journey, legs, query: Query, ends) -> tuple[Leg, ...]:
        """Legs with the estimated access / egress legs the journey starts or ends with, each
        joined to the timetabled rides by a change at the hub (the change time the scan
        counted there: an estimate, never zero)."""
        access, egress = ends
        c = journey.day
        first_place, last_place = c.frm[journey.rides[0].enter], c.to[journey.rides[-1].exit]
        first, last = self.place_label(first_place), self.place_label(last_place)
        own_start = set(self._same_settlement(query.origin)) | {query.origin}
        own_end = set(self._same_settlement(query.destination)) | {query.destination}
        before = access.get(first, ()) if first not in own_start else ()
        after = egress.get(last, ()) if last not in own_end else ()
        if before:
            before = (*before, _change_leg(first, self.change[first_place]))
        if after:
            after = (_change_leg(last, self.change[last_place]), *after)
        return (*before, *legs, *after)

    def legs(self, journey: Journey, risk=None) -> tuple[Leg, ...]:
        """The journey's legs: one per ride, and a transfer leg for each change (its wait)."""
        c = journey.day
        legs: list[Leg] = []
        for ride in journey.rides:
            leg = self._ride_leg(c, ride, risk)
            if legs:
                previous = legs[-1]
                legs.append(Leg(
                    mode=Mode.TRANSFER, from_id=previous.to_id, to_id=leg.from_id,
                    station_ids=tuple(dict.fromkeys((previous.to_id, leg.from_id))),
                    link_ids=(), line_ids=(), distance_km=0.0,
                    travel_minutes=(leg.departure - previous.arrival).total_seconds() / 60,
                    time_source=TimeSource.TIMETABLE,
                    departure=previous.arrival, arrival=leg.departure,
                ))  # fmt: skip
            legs.append(leg)
        return tuple(legs)

    def place_label(self, place: int) -> str:
        """The network station id of a place, else ``gtfs:<stop_id>``."""
        station = self.timetable.station_by_place.get(place)
        return station or f"gtfs:{self.timetable.stop_ids[place]}"

    def _ride_leg(self, c: DayConnections, ride: Ride, risk) -> Leg:
        tt = self.timetable
        trip = c.instance_trip[c.instance[ride.enter]]
        mode = tt.trip_mode(trip)
        first, last = c.row[ride.enter], c.row[ride.exit]
        places = [tt.st_place[r] for r in range(first, last + 2)]
        link_ids: list[str] = []
        km = 0.0
        for a, b in pairwise(places):
            links, _stations, hop_km = self.hop_links(a, b, mode)
            link_ids.extend(links)
            km += hop_km
        flags: dict[str, Flag] = {}
        for i in self._ride_connections(c, ride):
            for flag in self.connection_flags(c, i, risk):
                flags.setdefault(flag.id, flag)
        departure = tt.service_datetime(c.day, c.dep[ride.enter])
        arrival = tt.service_datetime(c.day, c.arr[ride.exit])
        return Leg(
            mode=mode,
            from_id=self.place_label(places[0]),
            to_id=self.place_label(places[-1]),
            station_ids=tuple(dict.fromkeys(self.place_label(p) for p in places)),
            link_ids=tuple(dict.fromkeys(link_ids)),
            line_ids=self._lines_of(link_ids),
            distance_km=round(km, 1),
            travel_minutes=(arrival - departure).total_seconds() / 60,
            time_source=TimeSource.TIMETABLE,
            flags=tuple(sorted(flags.values(), key=lambda f: f.level, reverse=True)),
            departure=departure,
            arrival=arrival,
            trip_id=tt.trip_ids[trip],
            route_name=tt.trip_route_name(trip),
        )

    def _lines_of(self, link_ids: list[str]) -> tuple[str, ...]:
        if self.network is None:
            return ()
        lines = (line for lk in link_ids for line in self.network.links[lk].line_ids)
        return tuple(dict.fromkeys(lines))

    def _ride_connections(self, c: DayConnections, ride: Ride) -> list[int]:
        """Indices of the connections from ride.enter to ride.exit along its trip."""
        k, first, last = c.instance[ride.enter], c.row[ride.enter], c.row[ride.exit]
        lo, hi = bisect_left(c.dep, c.dep[ride.enter]), bisect_right(c.dep, c.dep[ride.exit])
        return [i for i in range(lo, hi) if c.instance[i] == k and first <= c.row[i] <= last]

    def risk_unknown(self, journey: Journey) -> bool:
        """True if some hop of the journey cannot be checked against flags: a stop not
        matched to a network station, or two stations with no network path of that mode."""
        tt, c = self.timetable, journey.day
        for ride in journey.rides:
            mode = tt.trip_mode(c.instance_trip[c.instance[ride.enter]])
            for row in range(c.row[ride.enter], c.row[ride.exit] + 1):
                a, b = tt.st_place[row], tt.st_place[row + 1]
                first, second = tt.station_by_place.get(a), tt.station_by_place.get(b)
                if first is None or second is None:
                    return True
                if first != second and not self.hop_links(a, b, mode)[0]:
                    return True
        return False

    # -- departures board --

    def departures(
        self, station: str, at: datetime, *, limit: int = 10, risk=None
    ) -> list[Departure]:
        """The next *limit* departures from *station* (station id or GTFS stop id) at or
        after *at*, each with the flags in force on the rest of its trip."""
        places = set(self.places(station, whole_settlement=False))
        day, seconds = self._day_and_seconds(at)
        c = self.day_connections(day)
        tt, board, seen = self.timetable, [], set()
        for i in range(bisect_left(c.dep, seconds), len(c.dep)):
            if c.board_from[i] not in places or c.instance[i] in seen:
                continue  # (board_from: nobody boards where pickup is not allowed)
            seen.add(c.instance[i])
            trip = c.instance_trip[c.instance[i]]
            end = tt.trip_offsets[trip + 1] - 1
            if c.row[i] >= end:
                continue
            rest = Ride(i, self._last_connection(c, i, end))
            flags = {
                f.id: f
                for j in self._ride_connections(c, rest)
                for f in self.connection_flags(c, j, risk)
            }
            board.append(Departure(
                trip_id=tt.trip_ids[trip], route_name=tt.trip_route_name(trip),
                headsign=tt.trip_headsigns[trip] or tt.place_name(tt.st_place[end]),
                mode=tt.trip_mode(trip), departure=tt.service_datetime(day, c.dep[i]),
                destination=self.place_label(tt.st_place[end]), flags=tuple(flags.values()),
            ))  # fmt: skip
            if len(board) >= limit:
                break
        return board

    def _last_connection(self, c: DayConnections, i: int, end_row: int) -> int:
        k = c.instance[i]
        shift = c.instance_shift[k]
        target_dep = self.timetable.st_departure[end_row - 1] + shift
        lo, hi = bisect_left(c.dep, target_dep), bisect_right(c.dep, target_dep)
        return next(j for j in range(lo, hi) if c.instance[j] == k and c.row[j] == end_row - 1)


Places = Iterable[int] | Mapping[int, int]


def _extras(places: Places) -> dict[int, int]:
    """Places as a mapping place → extra seconds (0 when only places are given).

    >>> _extras([3, 5]), _extras({3: 60})
    ({3: 0, 5: 0}, {3: 60})
    """
    if isinstance(places, Mapping):
        return dict(places)
    return dict.fromkeys(places, 0)


def _change_leg(station_id: str, seconds: int) -> Leg:
    """Changing between an estimated leg and a timetabled ride at one station."""
    return Leg(
        mode=Mode.TRANSFER, from_id=station_id, to_id=station_id, station_ids=(station_id,),
        link_ids=(), line_ids=(), distance_km=0.0, travel_minutes=seconds / 60,
        time_source=TimeSource.TRANSFER_MODEL,
    )  # fmt: skip


def _straight_km(tt: Timetable, a: int, b: int) -> float:
    points = (tt.stop_lat[a], tt.stop_lon[a], tt.stop_lat[b], tt.stop_lon[b])
    return 0.0 if any(math.isnan(x) for x in points) else crowfly_km(*points)


# -- choosing the options ----------------------------------------------------------------

class _OptionSearch:
    """Runs the scans behind one answer and picks the genuinely different options."""

    def __init__(self, planner, query, c, codes, avoid, origin, destination, seconds):
        self.p, self.q, self.c, self.codes, self.avoid = planner, query, c, codes, avoid
        self.origin, self.destination, self.seconds = origin, destination, seconds
        self.present = frozenset(code - 1 for code in set(codes) if code)
        elevated = RiskLevel.ELEVATED.rank
        wanted = elevated in self.present and planner.elevated_buffer_seconds
        self.elevated = self._mask(lambda r: r == elevated) if wanted else None
        self._memo: dict[tuple, Journey | None] = {}

    def _mask(self, test) -> bytearray:
        """A 0/1 byte per connection: test(rank) for flagged ones, 0 for the others."""
        table = bytes([0, *(1 if test(code - 1) else 0 for code in range(1, 256))])
        return bytearray(self.codes.translate(table))

    def _blocked(self, rank: int | None) -> bytearray | None:
        if rank is None:
            return self.avoid
        mask = self._mask(lambda r: r >= rank)
        if self.avoid is not None:
            n = len(mask)
            both = int.from_bytes(mask, "big") | int.from_bytes(self.avoid, "big")
            mask = bytearray(both.to_bytes(n, "big"))
        return mask

    def journey(self, rank: int, modes: frozenset[Mode]) -> Journey | None:
        """The best journey blocking flags of *rank* and above, riding only *modes*.

        Scans are shared: two ranks that block the same connections are one scan, and a
        journey found for more modes also answers any narrower mode set it fits in.
        """
        # The lowest rank actually present at or above *rank* blocks the same connections.
        effective = min((r for r in self.present if r >= rank), default=None)
        modes = frozenset(modes) & self.c.modes
        key = (effective, modes)
        if key not in self._memo:
            found = self._scan(self._blocked(effective), modes) if modes else None
            self._memo[key] = found
            used = self._modes_of(found) if found else frozenset()
            for narrower in (frozenset({Mode.RAIL}), frozenset({Mode.BUS})):
                if narrower < modes and (found is None or used <= narrower):
                    self._memo.setdefault((effective, narrower), found)
        return self._memo[key]

    def _scan(self, blocked, modes) -> Journey | None:
        scan = _Scan(blocked, self.elevated, modes)
        p, day = self.p, self.c.day
        limit = self.q.max_transfers
        if not self.q.arrive_by:
            return p.earliest_arrival(
                self.origin, self.destination, day, self.seconds, scan=scan, max_transfers=limit
            )
        back = p.latest_departure(self.origin, self.destination, day, self.seconds, scan=scan)
        if back is None:
            return None
        # Re-plan forwards from the latest departure: same trips, buffers applied.
        start = back.departure_seconds - self.origin.get(back.day.frm[back.rides[0].enter], 0)
        return p.earliest_arrival(
            self.origin, self.destination, day, start, scan=scan, max_transfers=limit
        )

    def run(self) -> list[tuple[OptionKind, Journey]]:
        """(slot, journey) pairs in display order, as the estimated back-end fills them:
        recommended (else least risky), rail only, bus only, rail then bus, fastest."""
        modes, limit = self.q.modes, blocking_rank(self.q.tolerance)
        recommended = self._recommended(modes, limit)
        found = [
            (OptionKind.RECOMMENDED, recommended)
            if recommended is not None
            else (OptionKind.LEAST_RISKY, self._least_risky(modes, limit))
        ]
        for kind, mode in ((OptionKind.RAIL_ONLY, Mode.RAIL), (OptionKind.BUS_ONLY, Mode.BUS)):
            if mode in modes:
                single = frozenset({mode})
                best = self.journey(limit, single) or self._least_risky(single, limit)
                found.append((kind, best))
        if recommended is not None and self._modes_of(recommended) >= {Mode.RAIL, Mode.BUS}:
            found.append((OptionKind.RAIL_THEN_BUS, recommended))
        found.append((OptionKind.FASTEST, self.journey(RiskLevel.SUSPENDED.rank, modes)))
        return [(kind, journey) for kind, journey in found if journey is not None]

    def _least_risky(self, modes, limit) -> Journey | None:
        """The journey through the lowest risk above what the tolerance allows."""
        for rank in range(limit + 1, RiskLevel.SUSPENDED.rank + 1):
            journey = self.journey(rank, modes)
            if journey is not None:
                return journey
        return None

    def _recommended(self, modes, limit) -> Journey | None:
        best = self.journey(limit, modes)
        if best is None:
            return None
        # The tolerance penalises some allowed levels (balanced: elevated; accept-high: high,
        # then elevated, as the estimated back-end's FACTORS do): prefer the calmest journey
        # avoiding them that arrives within a reasonable detour of the best one.
        span = (
            best.arrival_seconds - self.seconds
            if not self.q.arrive_by
            else best.arrival_seconds - best.departure_seconds
        )
        allowance = max(DETOUR_MIN_MINUTES * 60, DETOUR_ALLOWANCE * span)
        for level in CALMER_LEVELS[self.q.tolerance]:
            calm = self.journey(level.rank, modes)
            if calm is not None and calm.arrival_seconds - best.arrival_seconds <= allowance:
                return calm
        return best

    def _modes_of(self, journey: Journey) -> frozenset[Mode]:
        c, tt = journey.day, self.p.timetable
        return frozenset(tt.trip_mode(c.instance_trip[c.instance[r.enter]]) for r in journey.rides)
