"""The passenger network: stations, links and named lines, as one immutable snapshot.

Nothing here reads files or talks to anything: importers build a :class:`Network`, routing
reads it. A built network is never modified; a new dataset means a new object.

Examples
--------
>>> RAIL = StationKind.RAIL_STATION
>>> kyiv = Station("kyiv", "Київ-Пас.", "Kyiv-Pas.", 50.44, 30.48, "UA-30", RAIL)
>>> fastiv = Station("fastiv", "Фастів-1", "Fastiv-1", 50.07, 29.91, "UA-32", RAIL)
>>> link = Link("r1", "kyiv", "fastiv", Mode.RAIL, 64.0, 45.0, LinkSource.OSM_TRACK)
>>> net = Network.build([kyiv, fastiv], [link], [])
>>> net.get_station("kyiv").name_uk
'Київ-Пас.'
>>> sorted(net.graph.nodes)
['fastiv', 'kyiv']
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType

import networkx as nx

from advisor.errors import UnknownLine, UnknownStation
from advisor.network.geo import crowfly_km

__all__ = [
    "Line",
    "LineChange",
    "Link",
    "LinkSource",
    "Mode",
    "Network",
    "Oblast",
    "Settlement",
    "Station",
    "StationKind",
    "TimeSource",
]


class StationKind(StrEnum):
    """What kind of stop a station is."""

    RAIL_STATION = "rail_station"
    """A railway station where long-distance passenger trains may call."""
    HALT = "halt"
    """A railway halt (зупинний пункт): suburban trains only, as a rule."""
    BUS_STATION = "bus_station"
    """An intercity bus station or the bus stop of a settlement from the 2019 register."""
    CITY_STOP = "city_stop"
    """Any other stop inside a settlement."""


class Mode(StrEnum):
    """How a link is travelled."""

    RAIL = "rail"
    """By train, over railway track."""
    BUS = "bus"
    """By intercity bus, over road."""
    TRANSFER = "transfer"
    """On foot or by city transport between two stops of one settlement."""


class LinkSource(StrEnum):
    """Where a link comes from (its provenance)."""

    OSM_TRACK = "osm_track"
    """A station-to-station track segment mapped in OpenStreetMap."""
    REPAIR_CONNECTOR = "repair_connector"
    """A short join (≤ 2 km) that repairs a snapping gap in the OSM extract."""
    HAND_ADDED = "hand_added"
    """Added by this project's importer where a real passenger line has no track in the
    extract; carries a ``source_note`` saying why."""
    BUS_REGISTER_2019 = "bus_register_2019"
    """A licensed interregional bus route from the April 2019 register (pre-war)."""
    TRANSFER_ESTIMATE = "transfer_estimate"
    """A transfer between two stops of one settlement, estimated from their distance."""


class TimeSource(StrEnum):
    """How a travel time was obtained; anything but ``TIMETABLE`` is an estimate."""

    SPEED_MODEL = "speed_model"
    """Estimated from track length and the speed model in ``config/speed_model.toml``."""
    ROAD_LENGTH = "road_length"
    """Estimated from the registered bus route length and an average bus speed."""
    ROAD_FACTOR = "road_factor"
    """Estimated from 1.36 × the straight-line distance and an average bus speed."""
    TRANSFER_MODEL = "transfer_model"
    """Estimated transfer time between two stops of one settlement."""
    TIMETABLE = "timetable"
    """A scheduled time from a GTFS feed."""

    @property
    def is_estimate(self) -> bool:
        """True for every source but a timetable."""
        return self is not TimeSource.TIMETABLE


@dataclass(frozen=True, slots=True)
class Station:
    """A rail station, halt, bus station or city stop.

    ``id`` is stable across dataset builds. ``settlement`` groups the stops of one town or
    city (used for transfers and for "the main station of a city"); ``is_main`` marks the
    main passenger station of its settlement.
    """

    id: str
    name_uk: str
    name_latin: str
    lat: float
    lon: float
    oblast_iso: str
    kind: StationKind
    name_en: str = ""
    name_ru: str = ""
    historic_names: tuple[str, ...] = ()
    settlement: str = ""
    is_main: bool = False
    uz_code: str = ""

    def display_name(self, locale: str = "uk") -> str:
        """The name to show in a page of *locale*: Ukrainian, else the official Latin form.

        Not ``name_en``: OpenStreetMap's English names mix styles ("Kazatin 1", "Lviv-Main",
        "Kyiv Passenger Railway Station"); the official 2010 transliteration is what the
        railway and the road signs use, and it already gives the English forms of the cities
        that have one (Kyiv, Odesa, Lviv). ``name_en`` stays for search.

        >>> Station("k", "Козятин-1", "Koziatyn-1", 49.7, 28.8, "UA-05", StationKind.RAIL_STATION,
        ...         name_en="Kazatin 1").display_name("en")
        'Koziatyn-1'
        """
        if locale == "uk":
            return self.name_uk
        return self.name_latin or self.name_en or self.name_uk


@dataclass(frozen=True, slots=True)
class Link:
    """A travelled connection between two stations, usable in both directions.

    ``travel_minutes`` is an estimate unless ``time_source`` is ``TIMETABLE``. For rail,
    ``osm_way_ids`` are the OSM ways the segment follows; ``parallel`` marks a link that runs
    beside a chain of shorter ones (a "skip edge" of the source), which a flag on that
    stretch must cover too.
    """

    id: str
    from_id: str
    to_id: str
    mode: Mode
    distance_km: float
    travel_minutes: float
    source: LinkSource
    time_source: TimeSource = TimeSource.SPEED_MODEL
    source_note: str = ""
    osm_way_ids: tuple[str, ...] = ()
    parallel: bool = False
    line_ids: tuple[str, ...] = ()
    operators: int = 0
    daily_departures_2019: int = 0
    risk_context: tuple[str, ...] = ()
    """Oblast-level context of a bus link as the source states it (occupied, front-line,
    border areas); informative only, never a risk level."""
    unverified: bool = False
    """A 2019 register link without evidence of service (no daily record or no operator):
    kept so a place is not cut off, labelled as such and priced with ``penalty_minutes``."""
    penalty_minutes: float = 0.0
    """Minutes a search adds to ``travel_minutes`` (never shown as travel time): the price of
    an unverified link, so any verified way wins unless it is far longer."""

    @property
    def search_minutes(self) -> float:
        """``travel_minutes`` plus the penalty a search weighs the link with.

        >>> Link("b", "x", "y", Mode.BUS, 50, 60, LinkSource.BUS_REGISTER_2019,
        ...      unverified=True, penalty_minutes=240).search_minutes
        300.0
        """
        return float(self.travel_minutes + self.penalty_minutes)

    @property
    def is_estimated(self) -> bool:
        """True unless the time comes from a timetable."""
        return self.time_source.is_estimate

    def other_end(self, station_id: str) -> str:
        """The station at the other end from *station_id*."""
        return self.to_id if station_id == self.from_id else self.from_id


@dataclass(frozen=True, slots=True)
class Line:
    """A named rail line: an ordered list of hub stations and every link it covers.

    ``link_ids`` include parallel links; ``station_ids`` are all stations along the line in
    order from the first hub to the last.
    """

    id: str
    name_uk: str
    name_en: str
    hubs: tuple[str, ...]
    station_ids: tuple[str, ...] = ()
    link_ids: frozenset[str] = frozenset()
    estimated: bool = False
    kind: str = "main"
    """The kind of line its estimated times come from (``[rail.line_kind]`` of the speed
    model): ``intercity``, ``main``, ``single_track``, ``mountain`` or ``branch``."""

    def display_name(self, locale: str = "uk") -> str:
        """The line's name in *locale*."""
        return self.name_uk if locale == "uk" else self.name_en


@dataclass(frozen=True, slots=True)
class LineChange:
    """A point where a rail trip leaves one named line for another (see
    :meth:`Network.line_changes`).

    ``through`` is True when a known through service runs from the one line onto the other;
    otherwise the passenger may have to change trains at ``station_id``.
    """

    station_id: str
    from_line: str
    to_line: str
    through: bool


@dataclass(frozen=True, slots=True)
class Oblast:
    """A first-level administrative unit (oblast, Kyiv city, Crimea, Sevastopol).

    ``polygons`` are simplified outer rings of ``(lon, lat)`` pairs, enough to tell which
    oblasts a bus link crosses, not for drawing borders.

    >>> Oblast("UA-30", "Kyiv", (((30.2, 50.2), (30.8, 50.2), (30.8, 50.6), (30.2, 50.2)),)).iso
    'UA-30'
    """

    iso: str
    name_en: str
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Settlement:
    """A town or city that groups stops (``Station.settlement`` holds its ``id``).

    ``id`` is the KOATUU code for settlements of the 2019 bus register, else ``rail:`` and
    the id of the city's main rail station.

    >>> Settlement("8000000000", "Київ", "Kyiv", 50.45, 30.55, "UA-30", "8000000000").name_latin
    'Kyiv'
    """

    id: str
    name_uk: str
    name_latin: str
    lat: float
    lon: float
    oblast_iso: str = ""
    koatuu: str = ""
    main_station_ids: tuple[str, ...] = ()
    bus_stop_id: str = ""


@dataclass(frozen=True)
class Network:
    """One immutable snapshot of the network. Build it with :meth:`Network.build`.

    ``graph`` is a frozen :class:`networkx.MultiGraph` whose nodes are station ids and whose
    edges are keyed by link id with the :class:`Link` in the ``link`` attribute.
    """

    stations: Mapping[str, Station]
    links: Mapping[str, Link]
    lines: Mapping[str, Line]
    graph: nx.MultiGraph
    metadata: Mapping[str, object] = field(default_factory=dict)
    oblasts: Mapping[str, Oblast] = field(default_factory=dict)
    settlements: Mapping[str, Settlement] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        stations: Iterable[Station],
        links: Iterable[Link],
        lines: Iterable[Line],
        metadata: Mapping[str, object] | None = None,
        oblasts: Iterable[Oblast] = (),
        settlements: Iterable[Settlement] = (),
    ) -> Network:
        """Index *stations*, *links* and *lines* and build the frozen graph."""
        station_map = {s.id: s for s in stations}
        link_map = {link.id: link for link in links}
        graph = nx.MultiGraph()
        graph.add_nodes_from(station_map)
        graph.add_edges_from(
            (link.from_id, link.to_id, link.id, {"link": link}) for link in link_map.values()
        )
        nx.freeze(graph)
        return cls(
            stations=MappingProxyType(station_map),
            links=MappingProxyType(link_map),
            lines=MappingProxyType({line.id: line for line in lines}),
            graph=graph,
            metadata=MappingProxyType(dict(metadata or {})),
            oblasts=MappingProxyType({o.iso: o for o in oblasts}),
            settlements=MappingProxyType({s.id: s for s in settlements}),
        )

    def get_station(self, station_id: str) -> Station:
        """The station with *station_id*; raises :class:`UnknownStation`."""
        try:
            return self.stations[station_id]
        except KeyError:
            raise UnknownStation(
                f"unknown station id {station_id!r}", field="station", value=station_id
            ) from None

    def find_station(self, station_id: str) -> Station | None:
        """The station with *station_id*, or None."""
        return self.stations.get(station_id)

    def same_place(self, a: str, b: str) -> bool:
        """True when stations *a* and *b* are one place for a passenger: the same station,
        or two stops of one settlement (a trip between them is not a journey to plan)."""
        if a == b:
            return True
        first, second = self.stations.get(a), self.stations.get(b)
        return bool(
            first and second and first.settlement and first.settlement == second.settlement
        )

    def get_line(self, line_id: str) -> Line:
        """The named line with *line_id*; raises :class:`UnknownLine`."""
        try:
            return self.lines[line_id]
        except KeyError:
            raise UnknownLine(f"unknown line {line_id!r}", field="line", value=line_id) from None

    @cached_property
    def hub_ids(self) -> frozenset[str]:
        """The main hubs: every hub station of a named line (Koziatyn, Zhmerynka, Lozova …)."""
        return frozenset(hub for line in self.lines.values() for hub in line.hubs)

    @cached_property
    def through_pairs(self) -> frozenset[frozenset[str]]:
        """Pairs of named lines a known through service runs from one onto the other
        (``metadata["through_services"]``, from the ``[[through]]`` entries of the lines file)."""
        pairs = set()
        for service in self.metadata.get("through_services", ()):
            pairs.update(frozenset(p) for p in itertools.pairwise(service["lines"]))
        return frozenset(pairs)

    def hubs_on(self, station_ids: Sequence[str]) -> tuple[str, ...]:
        """The main hubs a leg passes between its ends, in order, each once.

        >>> net = _example_network()
        >>> net.hubs_on(["kyiv", "fastiv", "k1", "koziatyn", "zh"])
        ('fastiv', 'koziatyn')
        >>> net.hubs_on(["kyiv", "fastiv"])
        ()
        """
        inner = station_ids[1:-1]
        ends = {station_ids[0], station_ids[-1]} if station_ids else set()
        return tuple(dict.fromkeys(s for s in inner if s in self.hub_ids and s not in ends))

    def line_changes(
        self, station_ids: Sequence[str], link_ids: Sequence[str]
    ) -> tuple[LineChange, ...]:
        """Where a rail leg (its stations and the links between them) leaves one named line
        for another, in order.

        Links on no named line continue the line before them. A run of links is one line as
        long as some line covers them all; the lines of a run are judged only once the run has
        ended, so a change at Kyiv onto the Chernihiv line is judged as that line, not as any
        of the lines leaving Kyiv. The change is placed at a hub both lines share
        when the leg passes it, else at a station near where the new line's first link starts
        (see :meth:`_change_station`); a change with no such station is left out. It is ``through``
        when a through service of the lines file runs from the one line onto the other.

        >>> net = _example_network()
        >>> st = ["kyiv", "fastiv", "koziatyn", "k1", "zh"]
        >>> [(c.station_id, c.from_line, c.to_line, c.through)
        ...  for c in net.line_changes(st, ["a", "b", "c", "d"])]
        [('koziatyn', 'kyiv-koziatyn', 'koziatyn-zhmerynka', True)]
        >>> [(c.station_id, c.to_line, c.through)
        ...  for c in net.line_changes(["kyiv", "fastiv", "koziatyn", "sh"], ["a", "b", "e"])]
        [('koziatyn', 'koziatyn-shepetivka', False)]
        """
        runs: list[tuple[int, set[str]]] = []  # (index of the first link, lines it may be)
        for i, link_id in enumerate(link_ids):
            lines = set(self.links[link_id].line_ids)
            if not lines:
                continue
            if runs and runs[-1][1] & lines:
                runs[-1][1].intersection_update(lines)
            else:
                runs.append((i, lines))
        changes = (self._change(old, new, station_ids, i)
                   for (_, old), (i, new) in itertools.pairwise(runs))
        return tuple(change for change in changes if change is not None)

    def trim_end_walks(
        self, station_ids: Sequence[str], link_ids: Sequence[str]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A trip's stations and links without the walk at either end that only joins a bus
        to the rail station the query named: a bus trip starts and ends at the city's bus
        station; the walk stays where a rail leg joins.

        >>> net = _example_network()
        >>> net.trim_end_walks(["kyiv", "bus:k", "bus:f", "fastiv"], ["w1", "bus", "w2"])
        (('bus:k', 'bus:f'), ('bus',))
        >>> net.trim_end_walks(["fastiv", "kyiv", "bus:k", "bus:f"], ["a", "w1", "bus"])
        (('fastiv', 'kyiv', 'bus:k', 'bus:f'), ('a', 'w1', 'bus'))
        """
        stations, links = list(station_ids), list(link_ids)
        if len(links) > 1 and self._walk_to_bus(links[0], links[1]):
            stations, links = stations[1:], links[1:]
        if len(links) > 1 and self._walk_to_bus(links[-1], links[-2]):
            stations, links = stations[:-1], links[:-1]
        return tuple(stations), tuple(links)

    def end_walk_ids(self, station_id: str) -> frozenset[str]:
        """The walks from *station_id* (a rail station) to the bus station of its own town:
        free at a trip's ends, where :meth:`trim_end_walks` leaves them out.

        >>> sorted(_example_network().end_walk_ids("kyiv"))
        ['w1']
        """
        station = self.stations.get(station_id)
        if station is None or station_id not in self.graph:
            return frozenset()
        if station.kind is StationKind.BUS_STATION:
            return frozenset()  # from the bus station, the walk leads to a train: it is real
        return frozenset(
            key
            for _u, _v, key in self.graph.edges(station_id, keys=True)
            if self._walk_within_town(self.links[key])
        )

    def _walk_within_town(self, walk: Link) -> bool:
        if walk.mode is not Mode.TRANSFER:
            return False
        a, b = self.stations[walk.from_id], self.stations[walk.to_id]
        return bool(a.settlement) and a.settlement == b.settlement

    def _walk_to_bus(self, walk_id: str, next_id: str) -> bool:
        ride = self.links[next_id]
        return ride.mode is Mode.BUS and self._walk_within_town(self.links[walk_id])

    def _change(self, old: set[str], new: set[str], station_ids, i: int) -> LineChange | None:
        pairs = [(x, y) for x in sorted(old) for y in sorted(new)]
        through = [p for p in pairs if frozenset(p) in self.through_pairs]
        a, b = (through or pairs)[0]
        shared = set(self.lines[a].hubs) & set(self.lines[b].hubs)
        passed = [sid for sid in station_ids[: i + 1] if sid in shared]
        at = passed[-1] if passed else self._change_station(station_ids, i, shared, a, b)
        return LineChange(at, a, b, bool(through)) if at else None

    def _change_station(self, station_ids, i: int, shared: set[str], a: str, b: str) -> str | None:
        """Where a passenger would change trains near the junction ``station_ids[i]`` that
        the leg passes without a hub of both lines: a hub of both lines within 25 km (a trip
        that leaves one line for another at a junction outside the hub still changes at the
        hub), else a hub of either line within 25 km, else the junction when it is a railway
        station, else the leg's nearest railway station within 25 km — never the leg's own
        ends, a halt or a track node. ``None`` when there is no such station: no change is
        reported rather than one at a place where no train stops."""
        here = self.stations[station_ids[i]]
        ends = {station_ids[0], station_ids[-1]}

        def nearest(candidates) -> str | None:
            near = [
                (crowfly_km(here.lat, here.lon, st.lat, st.lon), sid)
                for sid in candidates
                if sid not in ends and (st := self.stations.get(sid)) is not None
            ]
            best = min(near, default=None)
            return best[1] if best and best[0] <= 25.0 else None

        either = set(self.lines[a].hubs) | set(self.lines[b].hubs)
        rail = [sid for sid in station_ids
                if self.stations[sid].kind is StationKind.RAIL_STATION]
        return (nearest(shared) or nearest(either)
                or (station_ids[i] if station_ids[i] in rail and station_ids[i] not in ends
                    else nearest(rail)))

    def links_between(self, a: str, b: str) -> list[Link]:
        """Every link joining stations *a* and *b* directly (parallel ones included)."""
        if not self.graph.has_edge(a, b):
            return []
        return [data["link"] for data in self.graph.get_edge_data(a, b).values()]


def _example_network() -> Network:
    """A tiny network for the doctests: Kyiv – Fastiv – Koziatyn – Zhmerynka and a branch."""
    rail = StationKind.RAIL_STATION
    stations = [Station(sid, sid, sid, 50.0, 30.0, "UA-32", rail, settlement=sid[0])
                for sid in ("kyiv", "fastiv", "koziatyn", "k1", "zh", "sh")]  # fmt: skip
    bus = StationKind.BUS_STATION
    stations += [Station(s, s, s, 50.0, 30.0, "UA-32", bus, settlement=s[4])
                 for s in ("bus:k", "bus:f")]  # fmt: skip

    def link(lid, a, b, line):
        return Link(lid, a, b, Mode.RAIL, 10, 8, LinkSource.OSM_TRACK, line_ids=(line,))

    links = [
        link("a", "kyiv", "fastiv", "kyiv-koziatyn"),
        link("b", "fastiv", "koziatyn", "kyiv-koziatyn"),
        link("c", "koziatyn", "k1", "koziatyn-zhmerynka"),
        link("d", "k1", "zh", "koziatyn-zhmerynka"),
        link("e", "koziatyn", "sh", "koziatyn-shepetivka"),
        Link("w1", "kyiv", "bus:k", Mode.TRANSFER, 2, 20, LinkSource.TRANSFER_ESTIMATE),
        Link("w2", "fastiv", "bus:f", Mode.TRANSFER, 1, 18, LinkSource.TRANSFER_ESTIMATE),
        Link("bus", "bus:k", "bus:f", Mode.BUS, 70, 80, LinkSource.BUS_REGISTER_2019),
    ]
    lines = [
        Line("kyiv-koziatyn", "", "", ("kyiv", "fastiv", "koziatyn")),
        Line("koziatyn-zhmerynka", "", "", ("koziatyn", "zh")),
        Line("koziatyn-shepetivka", "", "", ("koziatyn", "sh")),
    ]
    through = [{"name": "Kyiv – Zhmerynka", "lines": ["kyiv-koziatyn", "koziatyn-zhmerynka"]}]
    return Network.build(stations, links, lines, {"through_services": through})
