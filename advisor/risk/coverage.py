"""What a flag covers on a given network, and the index routing reads flags through.

:func:`resolve` turns a flag's target into the link and station ids it covers:

- ``line``: every link of the line (parallel links included) and its stations;
- ``section``: the line's stations between the two named ones and every line link whose both
  ends lie among them (so a parallel "skip" link beside the section is covered too);
- for both, less the station throat at an end hub: the approach track another line shares
  and leaves again within the hub's town, ≤ 16 km out (see :func:`_stretch`);
- ``station``: the station and every link that touches it;
- ``oblast`` / ``circle`` / ``polygon``: the stations inside, every link with an end inside,
  and every link whose straight line crosses the area. Area flags cover buses as well as
  trains: a bus is never "safe" because only trains were mentioned. Oblasts are matched by
  the stations' ``oblast_iso``; links merely crossing an oblast are found only when oblast
  shapes are given (``oblast_shapes``).
- ``bus_link``: the bus links between the two settlements' stops.

:class:`RiskIndex` resolves a whole flag set once; each request then asks which flags are
active on a link or at a station at its departure time.

Examples
--------
>>> from advisor.network.model import Link, LinkSource, Mode, Network, Station, StationKind
>>> st = [Station(i, i, i, 50.0, 30.0 + n, "UA-32", StationKind.RAIL_STATION)
...       for n, i in enumerate("abc")]
>>> links = [Link("ab", "a", "b", Mode.RAIL, 70, 50, LinkSource.OSM_TRACK),
...          Link("bc", "b", "c", Mode.RAIL, 70, 50, LinkSource.OSM_TRACK)]
>>> net = Network.build(st, links, [])
>>> from datetime import UTC, datetime
>>> from advisor.risk.model import Flag, FlagStatus, PrecomputedTarget, RiskLevel, StationTarget
>>> flag = Flag("f1", RiskLevel.HIGH, StationTarget("c"), "Удар", "Strike", "UZ", "ops")
>>> sorted(resolve(flag, net).link_ids)
['bc']
>>> index = RiskIndex.build([flag], net)
>>> index.link_level("bc", datetime(2026, 3, 1, tzinfo=UTC)).value
'high'
>>> index.link_level("ab", datetime(2026, 3, 1, tzinfo=UTC)) is None
True
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from advisor.errors import AdvisorError
from advisor.network.geo import crowfly_km
from advisor.network.model import Mode, Network
from advisor.risk.model import Flag, FlagStatus, PrecomputedTarget, RiskLevel

__all__ = ["Coverage", "RiskIndex", "Shadows", "parallel_shadows", "resolve"]

log = logging.getLogger(__name__)

_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON_EQUATOR = 111.320


@dataclass(frozen=True, slots=True)
class Coverage:
    """The link and station ids a flag covers."""

    link_ids: frozenset[str] = frozenset()
    station_ids: frozenset[str] = frozenset()


def resolve(
    flag: Flag, network: Network, oblast_shapes: Mapping[str, BaseGeometry] | None = None
) -> Coverage:
    """The links and stations *flag* covers on *network*.

    Raises :class:`~advisor.errors.UnknownLine` for a line the network does not have; a
    station the network does not have covers nothing (validation is
    :func:`advisor.risk.parse.validate_against`'s job).
    """
    coverage = _RESOLVERS[flag.target.kind](flag.target, network, oblast_shapes or {})
    return _with_parallels(coverage, network)


def _with_parallels(coverage: Coverage, network: Network) -> Coverage:
    """Add every parallel link that runs beside a covered link: a train on the skip link
    A–C passes through B too, so a flag on A–B or at B must not leave A–C open."""
    beside = _shadows(network).beside
    extra = {p for link_id in coverage.link_ids for p in beside.get(link_id, ())}
    if extra <= coverage.link_ids:
        return coverage
    return Coverage(coverage.link_ids | extra, coverage.station_ids)


@dataclass(frozen=True)
class Shadows:
    """Parallel ("skip") links and the chains of ordinary links they run beside.

    ``chain[p]`` is the ordered link ids of the chain beside parallel link ``p``;
    ``beside[l]`` the parallel links running beside ordinary link ``l``.
    """

    chain: Mapping[str, tuple[str, ...]]
    beside: Mapping[str, tuple[str, ...]]


# A chain counts as "beside" a parallel link when it is at most this much longer.
_SHADOW_SLACK = 1.25
_SHADOW_CACHE: dict[int, tuple[Network, Shadows]] = {}


def parallel_shadows(network: Network) -> Shadows:
    """The :class:`Shadows` of *network* (computed once per network snapshot).

    >>> from advisor.network.model import Link, LinkSource, Station, StationKind
    >>> st = [Station(i, i, i, 50.0, 30.0, "UA-32", StationKind.HALT) for i in "abc"]
    >>> net = Network.build(st, [Link("ab", "a", "b", Mode.RAIL, 5, 5, LinkSource.OSM_TRACK),
    ...     Link("bc", "b", "c", Mode.RAIL, 5, 5, LinkSource.OSM_TRACK),
    ...     Link("ac", "a", "c", Mode.RAIL, 10, 9, LinkSource.OSM_TRACK, parallel=True)], [])
    >>> parallel_shadows(net).chain["ac"], parallel_shadows(net).beside["bc"]
    (('ab', 'bc'), ('ac',))
    """
    return _shadows(network)


def _shadows(network: Network) -> Shadows:
    cached = _SHADOW_CACHE.get(id(network))
    if cached is not None and cached[0] is network:
        return cached[1]
    plain = nx.Graph()
    for link in network.links.values():
        if link.parallel or link.mode is not Mode.RAIL or link.from_id == link.to_id:
            continue
        known = plain.get_edge_data(link.from_id, link.to_id)
        if known is None or link.distance_km < known["w"]:
            plain.add_edge(link.from_id, link.to_id, w=link.distance_km, id=link.id)
    chain, beside = {}, defaultdict(list)
    for link in network.links.values():
        if not link.parallel or link.from_id not in plain or link.to_id not in plain:
            continue
        try:
            _km, path = nx.single_source_dijkstra(
                plain, link.from_id, link.to_id,
                cutoff=link.distance_km * _SHADOW_SLACK + 1.0, weight="w",
            )
        except nx.NetworkXNoPath:
            continue
        ids = tuple(plain.edges[u, v]["id"] for u, v in itertools.pairwise(path))
        chain[link.id] = ids
        for link_id in ids:
            beside[link_id].append(link.id)
    shadows = Shadows(MappingProxyType(chain),
                      MappingProxyType({k: tuple(v) for k, v in beside.items()}))
    _SHADOW_CACHE.clear()
    _SHADOW_CACHE[id(network)] = (network, shadows)
    return shadows


def _line(target, network, _shapes) -> Coverage:
    line = network.get_line(target.line_id)
    links = line.link_ids & network.links.keys()
    return _stretch(line, network, list(line.station_ids), links)


def _section(target, network, _shapes) -> Coverage:
    line = network.get_line(target.line_id)
    line_links = [network.links[i] for i in line.link_ids if i in network.links]
    path = _section_path(line, line_links, target.from_station, target.to_station)
    on_path = set(path)
    links = {lk.id for lk in line_links if lk.from_id in on_path and lk.to_id in on_path}
    return _stretch(line, network, path, links)


def _section_path(line, line_links, start: str, end: str) -> list[str]:
    """Stations of *line* from *start* to *end* in order, walking its non-parallel links.

    Walking without the parallel links keeps every intermediate station (a skip link A–C
    would otherwise jump over B); the caller then covers every line link between them.
    """
    for usable in ([lk for lk in line_links if not lk.parallel], line_links):
        graph = nx.Graph()
        graph.add_weighted_edges_from((lk.from_id, lk.to_id, lk.distance_km) for lk in usable)
        if start in graph and end in graph:
            try:
                return nx.shortest_path(graph, start, end, weight="weight")
            except nx.NetworkXNoPath:
                continue
    order = list(line.station_ids)
    if start in order and end in order:
        i, j = sorted((order.index(start), order.index(end)))
        return order[i : j + 1]
    log.warning("section %s–%s is not on line %s; it covers nothing", start, end, line.id)
    return []


# How far a station throat may reach from its hub, along the track. The longest city approach
# on the shipped network is Kyiv-Pas. → Darnytsia over the Dnipro bridge (15.6 km, shared by
# five lines that part there); the shortest genuinely shared stretch between two places that
# ends at a hub is 18.2 km (into Imeni Tarasa Shevchenka), then Romodan 20.2 km, Kryvyi Rih
# 21.2 km and Kharkiv–Liubotyn 24.2 km. Kramatorsk–Sloviansk (14.8 km) is two towns, which
# the settlement rule in _throat_steps keeps covered.
_THROAT_KM = 16.0


def _stretch(line, network: Network, path: list[str], links) -> Coverage:
    """What a flag on *line* between the ends of *path* covers: *links* (the line's links
    along the path) and the path's stations, less the station throats at either end.

    An operator who flags a line or a section between two stations means the track between
    them, not the approach tracks other lines share to reach the same end station: flagging
    Kharkiv–Kupiansk must not make Kyiv→Kharkiv risky because both enter Kharkiv-Pas. over
    the same 1.9 km. So the leading steps that another line shares and then leaves within
    :data:`_THROAT_KM` of an end are left out (see :func:`_throat_steps`), with every link
    touching them. The station where that other line leaves is left out too: its trains
    pass there, and the timetable engine reads station coverage. A station flag on the hub
    still covers the throat, and :func:`_with_parallels` then lets a skip link inherit only
    from the links that remain covered.
    """
    steps = _steps(line, network, path)
    head = _throat_steps(steps, line.id, network, path)
    tail = _throat_steps(steps[::-1], line.id, network, path[::-1])
    if head + tail >= len(steps):  # a stretch that is all throat is flagged whole
        head = tail = 0
    off = set(path[:head]) | set(path[len(path) - tail :])
    kept = [lk for lk in map(network.links.__getitem__, links) if off.isdisjoint(_ends(lk))]
    stations = set(path).union(*map(_ends, kept))
    stations -= off
    if head:
        stations.discard(path[head])
    if tail:
        stations.discard(path[len(path) - 1 - tail])
    return Coverage(frozenset(lk.id for lk in kept), frozenset(stations))


def _ends(link) -> tuple[str, str]:
    return link.from_id, link.to_id


def _steps(line, network: Network, path: list[str]) -> list[tuple[float, frozenset[str]]]:
    """(km, link ids) of each consecutive pair of *path* along *line* (non-parallel links
    where the line has them, else its parallel ones)."""
    steps = []
    for a, b in itertools.pairwise(path):
        own = [lk for lk in network.links_between(a, b) if lk.id in line.link_ids]
        plain = [lk for lk in own if not lk.parallel] or own
        km = min((lk.distance_km for lk in plain), default=0.0)
        steps.append((km, frozenset(lk.id for lk in plain)))
    return steps


def _throat_steps(steps, line_id: str, network: Network, path: list[str]) -> int:
    """How many leading *steps* (along *path*) form a shared approach to its first station.

    That is the longest prefix, at most :data:`_THROAT_KM` long, shorter than the whole and
    passing no station of another settlement than the first station's, that some other line
    runs over entirely and leaves right after (it "diverges further on"). A line that shares
    the prefix and goes on along this one is no reason to trim.
    """
    lines_on = _lines_by_link(network)
    town = network.stations[path[0]].settlement if path else ""
    trimmed, km, sharing = 0, 0.0, None
    for k in range(len(steps) - 1):
        km += steps[k][0]
        reached = network.stations[path[k + 1]].settlement
        if km > _THROAT_KM or (reached and reached != town):
            break
        here = set().union(*(lines_on.get(i, ()) for i in steps[k][1])) - {line_id}
        sharing = here if sharing is None else sharing & here
        if not sharing:
            break
        ahead = set().union(*(lines_on.get(i, ()) for i in steps[k + 1][1]))
        if sharing - ahead:
            trimmed = k + 1
    return trimmed


_LINES_CACHE: dict[int, tuple[Network, Mapping[str, frozenset[str]]]] = {}


def _lines_by_link(network: Network) -> Mapping[str, frozenset[str]]:
    """The named lines each link belongs to, built once per network snapshot."""
    cached = _LINES_CACHE.get(id(network))
    if cached is not None and cached[0] is network:
        return cached[1]
    found: dict[str, set[str]] = defaultdict(set)
    for line in network.lines.values():
        for link_id in line.link_ids:
            found[link_id].add(line.id)
    lines_on = MappingProxyType({k: frozenset(v) for k, v in found.items()})
    _LINES_CACHE.clear()
    _LINES_CACHE[id(network)] = (network, lines_on)
    return lines_on


def _station(target, network, _shapes) -> Coverage:
    if target.station_id not in network.stations:
        log.warning("station %s is not in the network; the flag covers nothing", target.station_id)
        return Coverage()
    links = frozenset(key for _u, _v, key in network.graph.edges(target.station_id, keys=True))
    return Coverage(links, frozenset({target.station_id}))


def _bus_link(target, network, _shapes) -> Coverage:
    links = frozenset(
        link.id
        for link in network.links_between(target.from_station, target.to_station)
        if link.mode is Mode.BUS
    )
    stations = {target.from_station, target.to_station} & network.stations.keys()
    return Coverage(links, frozenset(stations))


def _precomputed(target, network, _shapes) -> Coverage:
    return Coverage(
        target.link_ids & network.links.keys(), target.station_ids & network.stations.keys()
    )


def _oblast(target, network, shapes) -> Coverage:
    inside = {s.id for s in network.stations.values() if s.oblast_iso == target.oblast_iso}
    shape = shapes.get(target.oblast_iso) or _oblast_shape(network, target.oblast_iso)
    crossing = set()
    if shape is not None:
        # Only links that run *through* the oblast; links with an end inside come from
        # the stations' own oblast codes, which are authoritative at the border.
        crossing = {
            i for i in _links_crossing(network, shape) if _both_ends_outside(network, i, inside)
        }
    return _area_coverage(network, inside, crossing)


def _circle(target, network, _shapes) -> Coverage:
    geo = _geo(network)
    if not geo.station_ids:
        return Coverage()
    inside_mask = crowfly_km(target.lat, target.lon, geo.station_lat, geo.station_lon)
    inside = {geo.station_ids[i] for i in np.nonzero(inside_mask <= target.radius_km)[0]}
    # Distance from the centre to each link's straight line, in a local equirectangular
    # frame (km): accurate to well under 1 % for radii of a few hundred km.
    kx = _KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(target.lat))
    ax, ay = (geo.a_lon - target.lon) * kx, (geo.a_lat - target.lat) * _KM_PER_DEG_LAT
    dx, dy = (geo.b_lon - target.lon) * kx - ax, (geo.b_lat - target.lat) * _KM_PER_DEG_LAT - ay
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(length2 > 0, -(ax * dx + ay * dy) / length2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    near = np.hypot(ax + t * dx, ay + t * dy) <= target.radius_km
    return _area_coverage(network, inside, {geo.link_ids[i] for i in np.nonzero(near)[0]})


def _polygon(target, network, _shapes) -> Coverage:
    shape = Polygon(target.ring)
    return _area_coverage(network, _stations_in(network, shape), _links_crossing(network, shape))


def _stations_in(network: Network, shape: BaseGeometry) -> set[str]:
    ids = list(network.stations)
    if not ids:
        return set()
    points = shapely.points([(s.lon, s.lat) for s in network.stations.values()])
    return {ids[i] for i in shapely.covers(shape, points).nonzero()[0]}


def _oblast_shape(network: Network, iso: str) -> BaseGeometry | None:
    """The oblast's outline from the network's ``oblasts`` (simplified rings), if shipped."""
    oblast = getattr(network, "oblasts", {}).get(iso)
    rings = [ring for ring in getattr(oblast, "polygons", ()) if len(ring) >= 3]
    if not rings:
        return None
    return shapely.make_valid(MultiPolygon([Polygon(ring) for ring in rings]))


def _both_ends_outside(network: Network, link_id: str, inside: set[str]) -> bool:
    link = network.links[link_id]
    return link.from_id not in inside and link.to_id not in inside


def _area_coverage(network: Network, inside: set[str], crossing: set[str]) -> Coverage:
    links = set(crossing)
    for station_id in inside:
        links.update(key for _u, _v, key in network.graph.edges(station_id, keys=True))
    return Coverage(frozenset(links), frozenset(inside))


def _links_crossing(network: Network, shape: BaseGeometry) -> set[str]:
    ids, geoms = _link_lines(network)
    if not ids:
        return set()
    hits = shapely.intersects(geoms, shape)
    return {ids[i] for i in hits.nonzero()[0]}


_LINE_CACHE: dict[int, tuple[Network, tuple]] = {}


def _link_lines(network: Network) -> tuple[list[str], object]:
    """Straight lines (lon, lat) of every link, built once per network snapshot."""
    cached = _LINE_CACHE.get(id(network))
    if cached is not None and cached[0] is network:
        return cached[1]
    ids, coords = [], []
    for link in network.links.values():
        a, b = network.stations.get(link.from_id), network.stations.get(link.to_id)
        if a is not None and b is not None:
            ids.append(link.id)
            coords.append(((a.lon, a.lat), (b.lon, b.lat)))
    geoms = shapely.linestrings(coords) if coords else shapely.linestrings([[(0, 0), (0, 0)]])[:0]
    _LINE_CACHE.clear()  # one live network at a time is the norm; keep memory bounded
    _LINE_CACHE[id(network)] = (network, (ids, geoms))
    return ids, geoms




@dataclass(frozen=True)
class _Geo:
    station_ids: list
    station_lat: np.ndarray
    station_lon: np.ndarray
    link_ids: list
    a_lat: np.ndarray
    a_lon: np.ndarray
    b_lat: np.ndarray
    b_lon: np.ndarray


_GEO_CACHE: dict[int, tuple[Network, _Geo]] = {}


def _geo(network: Network) -> _Geo:
    """Coordinate arrays of every station and link end, built once per network snapshot."""
    cached = _GEO_CACHE.get(id(network))
    if cached is not None and cached[0] is network:
        return cached[1]
    stations = list(network.stations.values())
    ends = [
        (link.id, network.stations[link.from_id], network.stations[link.to_id])
        for link in network.links.values()
        if link.from_id in network.stations and link.to_id in network.stations
    ]
    geo = _Geo(
        [s.id for s in stations],
        np.array([s.lat for s in stations]),
        np.array([s.lon for s in stations]),
        [i for i, _a, _b in ends],
        np.array([a.lat for _i, a, _b in ends]),
        np.array([a.lon for _i, a, _b in ends]),
        np.array([b.lat for _i, _a, b in ends]),
        np.array([b.lon for _i, _a, b in ends]),
    )
    _GEO_CACHE.clear()
    _GEO_CACHE[id(network)] = (network, geo)
    return geo


_RESOLVERS = {
    "line": _line,
    "section": _section,
    "station": _station,
    "oblast": _oblast,
    "circle": _circle,
    "polygon": _polygon,
    "bus_link": _bus_link,
    "precomputed": _precomputed,
}


def _apply_caps(flags: tuple[Flag, ...], network, oblast_shapes) -> tuple[Flag, ...]:
    """Lower the war map's bands where a published ``caps_baseline`` flag says so.

    Each band flag that a cap's coverage overlaps is split: the overlap becomes a copy at
    the cap's level for the cap's validity window, plus copies at the band's own level
    before and after that window; the rest keeps its full level. Done at build time so
    every reader of the index (``by_link`` included) sees the same levels. Occupied
    territory is never capped.
    """
    caps = [f for f in flags if f.caps_baseline and f.status is FlagStatus.PUBLISHED]
    for cap in caps:
        try:
            cov = resolve(cap, network, oblast_shapes)
        except AdvisorError:
            continue  # the cap's own entry in the index reports the problem
        flags = tuple(piece for flag in flags for piece in _capped(flag, cap, cov))
    return flags


def _capped(flag: Flag, cap: Flag, cov: Coverage) -> tuple[Flag, ...]:
    extra = flag.extra
    if (
        extra.get("origin") != "war_map"
        or extra.get("band") == "occupied"
        or flag.level <= cap.level
        or flag.target.kind != "precomputed"
    ):
        return (flag,)
    target = flag.target
    links, stations = target.link_ids & cov.link_ids, target.station_ids & cov.station_ids
    if not links and not stations:
        return (flag,)

    def piece(suffix, link_ids, station_ids, **changes):
        key = f"{target.key}~{cap.id}~{suffix}"
        return replace(flag, id=f"{flag.id}~{cap.id}~{suffix}",
                       target=PrecomputedTarget(key, station_ids, link_ids), **changes)

    pieces = [
        piece("rest", target.link_ids - links, target.station_ids - stations),
        piece("capped", links, stations, level=cap.level,
              active_from=cap.active_from, active_until=cap.active_until,
              extra={**extra, "capped_by": cap.id, "cap_reason_uk": cap.reason_uk,
                     "cap_reason_en": cap.reason_en, "band_level": flag.level.value}),
    ]
    if cap.active_from is not None:
        pieces.append(piece("before", links, stations, active_until=cap.active_from))
    if cap.active_until is not None:
        pieces.append(piece("after", links, stations, active_from=cap.active_until))
    return tuple(pieces)


@dataclass(frozen=True)
class RiskIndex:
    """An immutable index of a flag set over one network, built once per flag set.

    Flags that cannot be resolved (a line the network no longer has) are kept out of the
    index and listed in ``problems`` as ``(flag_id, message)``, so one bad flag never hides
    the others.
    """

    flags: tuple[Flag, ...]
    coverage: Mapping[str, Coverage]
    by_link: Mapping[str, tuple[Flag, ...]]
    by_station: Mapping[str, tuple[Flag, ...]]
    problems: tuple[tuple[str, str], ...] = ()
    _levels_cache: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        flags: Iterable[Flag],
        network: Network,
        oblast_shapes: Mapping[str, BaseGeometry] | None = None,
    ) -> RiskIndex:
        """Resolve every flag in *flags* on *network* and index them by link and station."""
        flags = _apply_caps(tuple(flags), network, oblast_shapes)
        coverage, problems = {}, []
        by_link, by_station = defaultdict(list), defaultdict(list)
        for flag in flags:
            try:
                cov = resolve(flag, network, oblast_shapes)
            except AdvisorError as err:
                log.warning("flag %s not applied: %s", flag.id, err.message)
                problems.append((flag.id, err.message))
                continue
            coverage[flag.id] = cov
            for link_id in cov.link_ids:
                by_link[link_id].append(flag)
            for station_id in cov.station_ids:
                by_station[station_id].append(flag)
        return cls(
            flags=flags,
            coverage=MappingProxyType(coverage),
            by_link=MappingProxyType({k: tuple(v) for k, v in by_link.items()}),
            by_station=MappingProxyType({k: tuple(v) for k, v in by_station.items()}),
            problems=tuple(problems),
        )

    @classmethod
    def empty(cls) -> RiskIndex:
        """An index without flags."""
        return cls((), MappingProxyType({}), MappingProxyType({}), MappingProxyType({}))

    def active_flags(self, at: datetime) -> tuple[Flag, ...]:
        """The indexed flags in force at *at*."""
        return tuple(f for f in self.flags if f.id in self.coverage and f.is_active_at(at))

    def flags_on_link(self, link_id: str, at: datetime) -> tuple[Flag, ...]:
        """Flags in force at *at* that cover link *link_id*."""
        return tuple(f for f in self.by_link.get(link_id, ()) if f.is_active_at(at))

    def flags_at_station(self, station_id: str, at: datetime) -> tuple[Flag, ...]:
        """Flags in force at *at* that cover station *station_id*."""
        return tuple(f for f in self.by_station.get(station_id, ()) if f.is_active_at(at))

    def link_level(self, link_id: str, at: datetime) -> RiskLevel | None:
        """The highest level in force on *link_id* at *at*, or None."""
        return max((f.level for f in self.flags_on_link(link_id, at)), default=None)

    def link_levels(self, at: datetime) -> Mapping[str, RiskLevel]:
        """Highest level per covered link at *at* (only links some active flag covers).

        Cached per set of active flags, which changes only at window edges, so a burst of
        requests shares one mapping.
        """
        active = self.active_flags(at)
        key = frozenset(f.id for f in active)
        levels = self._levels_cache.get(key)
        if levels is None:
            levels = {}
            for flag in sorted(active, key=lambda f: f.level):
                for link_id in self.coverage[flag.id].link_ids:
                    levels[link_id] = flag.level  # ascending order: the highest wins
            levels = MappingProxyType(levels)
            if len(self._levels_cache) > 32:
                self._levels_cache.clear()
            self._levels_cache[key] = levels
        return levels
