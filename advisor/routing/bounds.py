"""Lower bounds on trip minutes that steer the engine's searches, built once per network.

:class:`Landmarks` bounds the minutes between two stations under *any* risk weight with
the bound of ALT ("A*, landmarks, triangle inequality"; Goldberg and Harrelson, 2005): the
plain minutes from a few landmark stations to every station, and ``|d(L, t) - d(L, n)|``
for each landmark ``L``. It holds for every request because a weight never makes a link
cheaper than its plain minutes (every penalty factor is at least 1, see
:mod:`advisor.routing.policy`, and hiding a link only lengthens trips); walks, which a
request may make free, count as nothing. It is derived from :attr:`RoutingGraph.graph`
alone, so no flag change touches it.

The engine's bidirectional searches run on costs reduced by a :class:`Potential` made of
two such bounds: the cheapest trip stays the cheapest (every trip between the two ends
loses the same constant), and the search settles a fraction of the stations.

Examples
--------
>>> from advisor.network.model import Link, LinkSource, Mode, Network, Station, StationKind
>>> st = [Station(i, i, i, 50.0, 30.0, "UA-32", StationKind.RAIL_STATION) for i in "abcd"]
>>> net = Network.build(st, [Link("ab", "a", "b", Mode.RAIL, 10, 9, LinkSource.OSM_TRACK),
...                          Link("bc", "b", "c", Mode.RAIL, 10, 7, LinkSource.OSM_TRACK)], [])
>>> from advisor.routing.graph import RoutingGraph
>>> landmarks = Landmarks(RoutingGraph.of(net).graph)
>>> landmarks.bound("a", "c"), landmarks.bound("b", "c"), landmarks.bound("d", "c")
(16.0, 7.0, 0.0)
>>> p = landmarks.potential("a", "c")
>>> p.at("a"), p.at("b"), p.at("c")
(8.0, -1.0, -8.0)

Reduced, a→b costs ``9 - 8 + (-1) = 0`` and b→c ``7 + 1 - 8 = 0``: where the bound is exact,
the cheapest trip costs nothing and the search walks straight along it.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from advisor.network.model import Mode

__all__ = ["Landmarks", "Potential", "Reach"]

#: Landmarks per network: more tighten the bound, but each station a search reaches costs
#: a pass over all of them. Measured on the national network: 16 instead of 24 saves about
#: 0.2 s of each worker's start for about 0.7 ms more at p95 (tests/benchmarks/bench_routing.py).
LANDMARK_COUNT = 24


class Landmarks:
    """Plain minutes from a few far-apart stations of the largest component to all others.

    Parameters
    ----------
    graph : networkx.Graph
        The routing graph over station ids (``RoutingGraph.graph``): each edge's ``alts``.
    count : int, optional
        How many landmarks, chosen farthest-first (each is the station farthest from those
        already chosen).
    """

    __slots__ = ("_matrix", "_row", "_stations")

    def __init__(self, graph: nx.Graph, count: int = LANDMARK_COUNT):
        plain = nx.Graph()
        plain.add_nodes_from(graph)
        plain.add_weighted_edges_from(
            (u, v, _least_minutes(data)) for u, v, data in graph.edges(data=True)
        )
        self._stations, columns = _landmark_columns(plain, count)
        self._row = {station: i for i, station in enumerate(self._stations)}
        # one row per station of the component, one column per landmark
        self._matrix = np.array(columns, dtype=float).T.reshape(len(self._stations), -1)

    def bound(self, station: str, target: str) -> float:
        """A lower bound on the minutes of any trip from *station* to *target* (0 when
        either lies outside the landmarks' component)."""
        here, there = self._row.get(station), self._row.get(target)
        if here is None or there is None:
            return 0.0
        return float(np.abs(self._matrix[here] - self._matrix[there]).max())

    def potential(self, source: str, target: str) -> Potential:
        """The potential of a bidirectional search from *source* to *target*: one vector
        operation over every station (cheaper than one bound per station reached)."""
        to, away = self._row.get(target), self._row.get(source)
        if to is None or away is None:
            return Potential({})  # the ends lie outside the component: plain Dijkstra
        m = self._matrix
        values = (np.abs(m - m[to]).max(axis=1) - np.abs(m - m[away]).max(axis=1)) / 2
        return Potential(dict(zip(self._stations, values.tolist(), strict=True)))


class Potential:
    """Half the bound to the target minus half the bound from the source, per station.

    The average potential of bidirectional ALT: both bounds are consistent, so an edge
    costing ``c`` costs ``c - p(u) + p(v) >= 0`` (up to rounding), every trip between the
    two ends costs its own minutes less the same constant, and a search on the reduced costs
    finds the same cheapest trip while settling fewer stations. Stations outside the
    landmarks' component (never on a trip between two stations inside it) have none.
    """

    __slots__ = ("known", "sign")

    def __init__(self, known: dict[str, float], sign: float = 1.0):
        self.known, self.sign = known, sign

    def at(self, station: str) -> float:
        """The potential of *station*."""
        return self.sign * self.known.get(station, 0.0)

    def reversed(self) -> Potential:
        """The potential of the search from the target back to the source (the average
        potential changes sign when the ends swap), without computing it again."""
        return Potential(self.known, -self.sign)


def _least_minutes(data) -> float:
    """The fewest minutes an edge can cost under any weight: its cheapest alternative at the
    plain minutes of its links, a walk at nothing (a request may make it free)."""
    return min(
        sum(
            min(0.0 if link.mode is Mode.TRANSFER else link.search_minutes for link in hop)
            for hop in hops
        )
        for _nodes, hops in data["alts"]
    )


def _landmark_columns(plain: nx.Graph, count: int) -> tuple[tuple[str, ...], list[list]]:
    """The stations of the largest component (sorted) and, per landmark, their minutes."""
    if plain.number_of_nodes() == 0:
        return (), []
    main = max(nx.connected_components(plain), key=lambda c: (len(c), min(c)))
    ordered = tuple(sorted(main))
    far = nx.single_source_dijkstra_path_length(plain, ordered[0])
    landmark = max(ordered, key=far.__getitem__)
    nearest = np.full(len(ordered), np.inf)
    columns = []
    for _ in range(min(count, len(ordered))):
        found = nx.single_source_dijkstra_path_length(plain, landmark)
        column = [found[node] for node in ordered]
        columns.append(column)
        nearest = np.minimum(nearest, column)
        landmark = ordered[int(nearest.argmax())]
    return ordered, columns


class Reach:
    """Which stations a trip can join at all, by riding mode, ignoring risk and requests.

    Hiding links (risk, stations or lines to avoid) only splits these components further,
    so two stations in different components are never joined under any weight: the engine
    skips such a search instead of letting it settle every station on one side first.

    Parameters
    ----------
    graph : networkx.Graph
        The routing graph over station ids (``RoutingGraph.graph``).
    """

    __slots__ = ("_by_modes", "_switches")

    def __init__(self, graph: nx.Graph):
        rail, bus = frozenset({Mode.RAIL}), frozenset({Mode.BUS})
        found = {modes: _components(graph, modes) for modes in (rail, bus, rail | bus)}
        self._by_modes = {modes: labels for modes, (labels, _riding) in found.items()}
        (by_rail, rides_rail), (by_bus, rides_bus) = found[rail], found[bus]
        # Where a trip can leave a rail part that has a train for a bus part that has a bus:
        # the (rail component, bus component) of each station a walk touches (a walk joins
        # the two layers of ``RoutingGraph.layered``).
        self._switches = frozenset(
            (by_rail[node], by_bus[node])
            for u, v, data in graph.edges(data=True)
            if any(link.mode is Mode.TRANSFER for link in data["alts"][0][1][0])
            for node in (u, v)
            if by_rail[node] in rides_rail and by_bus[node] in rides_bus
        )

    def joins(self, a: str, b: str, modes) -> bool:
        """False when no trip riding only *modes* (and walking) joins stations *a* and *b*."""
        labels = self._by_modes.get(frozenset(modes) - {Mode.TRANSFER})
        if labels is None:
            return True  # no components kept for these modes: no claim
        at_a = labels.get(a)
        return at_a is not None and at_a == labels.get(b)

    def switches(self, a: str, b: str) -> bool:
        """False when no trip from *a* rides a train, walks, and then rides a bus to *b*."""
        rail = self._by_modes[frozenset({Mode.RAIL})].get(a)
        bus = self._by_modes[frozenset({Mode.BUS})].get(b)
        return (rail, bus) in self._switches


def _components(graph: nx.Graph, modes: frozenset[Mode]) -> tuple[dict[str, int], set[int]]:
    """A component number per station some edge riding *modes* (or walking) touches, and
    the numbers of the components where a link of *modes* rides (not walks only)."""
    allowed = modes | {Mode.TRANSFER}
    kept, riding = nx.Graph(), []
    for u, v, data in graph.edges(data=True):
        found = {link.mode for link in data["alts"][0][1][0]} & allowed
        if found:
            kept.add_edge(u, v)
            if found & modes:
                riding.append(u)
    labels = {
        node: number for number, nodes in enumerate(nx.connected_components(kept)) for node in nodes
    }
    return labels, {labels[node] for node in riding}
