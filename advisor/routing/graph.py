"""The routing graph built once per network, and per-request risk weights over it.

Risk is a weight, not a graph edit: :class:`Weigher` is a networkx weight callable that
returns ``None`` to hide a link (suspended, above the tolerance, avoided, wrong mode) and
multiplies the minutes of a flagged link by a penalty factor. Requests never modify the
graphs here; each builds its own small ``Weigher``. Built with the graphs, once per
network: the lower bounds that steer the searches and the components by mode
(:mod:`advisor.routing.bounds`). Per risk state, nothing is built up front: the memo of
flagged edge costs (:meth:`RoutingGraph.memo`) fills as requests search.

Two precomputed graphs:

- ``graph``: a simple :class:`networkx.Graph` over station ids. Links between the same two
  stations become alternatives of one edge (``links``, cheapest first), because
  ``shortest_simple_paths`` and the bidirectional search want simple graphs and because
  one relaxation per station pair is cheaper than one per link. Parallel "skip" links
  whose chain is no slower are left out (see :func:`_dominated`): they can never win.
- ``layered``: a :class:`networkx.DiGraph` with a rail layer and a bus layer joined by
  transfers from rail to bus only, so that one search from ``(origin, RAIL)`` to
  ``(destination, BUS)`` finds the best "train first, then bus" trip.
- ``priced`` and ``priced_core``: ``graph`` and ``core`` as directed graphs over
  ``(station, state)`` nodes where a change of bus has a price (see :func:`_priced_graph`);
  the searches run on these and on ``layered``, which prices changes the same way.

Why states: every bus link is its own licensed route, so two bus links in a row are a
change of bus, reported as a leg of ``bus_change_minutes``. A search over stations alone
cannot see that (the cost of a bus link would depend on the link before it), so it may pick
four short buses over one direct bus that is an hour longer, and report a total above the
direct one. Here a bus link arrives at the ``OFF_BUS`` state of its end stop; from there a
train or a transfer link leaves at no extra cost (a walk stays ``OFF_BUS``, so walking to the
rail station and back is no free change), but boarding another bus first passes an
"alight" edge whose cost is the request's change minutes (free at the trip's end). The search
cost then equals the reported total exactly, the graphs are still built once per network,
and the change minutes come from the request through :class:`Weigher`.

Examples
--------
>>> from advisor.network.model import Link, LinkSource, Network, Station, StationKind
>>> st = [Station(i, i, i, 50.0, 30.0, "UA-32", StationKind.RAIL_STATION) for i in "ab"]
>>> net = Network.build(st, [Link("x", "a", "b", Mode.RAIL, 10, 9, LinkSource.OSM_TRACK),
...                          Link("y", "a", "b", Mode.RAIL, 10, 7, LinkSource.OSM_TRACK)], [])
>>> rg = RoutingGraph.of(net)
>>> [link.id for link in rg.graph.edges["a", "b"]["alts"][0][1][0]]
['y', 'x']
>>> w = Weigher(levels={"y": RiskLevel.SUSPENDED}, factors=FACTORS["balanced"])
>>> w("a", "b", rg.graph.edges["a", "b"])
9.0
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import networkx as nx

from advisor.network.model import Link, Mode, Network, StationKind
from advisor.risk.coverage import parallel_shadows
from advisor.risk.model import RiskLevel
from advisor.routing.bounds import Landmarks, Potential, Reach
from advisor.routing.policy import FACTORS, LEAST_RISKY

__all__ = ["FACTORS", "LEAST_RISKY", "RoutingGraph", "Weigher"]

log = logging.getLogger(__name__)

RAIL_LAYER, BUS_LAYER = 0, 1
# Node states: FREE may board anything at no extra cost (the trip's start, after a train or a
# transfer link); OFF_BUS is "just got off a bus" (boarding another bus there is a change).
# In ``layered`` the bus layer is the FREE state of the bus part of the trip.
FREE, OFF_BUS = 0, 2
ALIGHT = "alight"  # the ``mode`` of an edge OFF_BUS → FREE at one station


@dataclass(frozen=True)
class RoutingGraph:
    """Graphs derived once from one :class:`Network` snapshot; never modified afterwards."""

    network: Network
    graph: nx.Graph
    layered: nx.DiGraph
    line_links: Mapping[str, frozenset[str]]
    core: nx.Graph | None = None
    priced: nx.DiGraph | None = None
    priced_core: nx.DiGraph | None = None
    landmarks: Landmarks | None = None
    reach: Reach | None = None
    _memos: dict = field(default_factory=dict, compare=False, repr=False)

    def memo(self, levels: Mapping, factors: Mapping, modes: Collection[Mode]) -> dict:
        """The shared memo of flagged edge costs for one risk state's *levels* (the mapping
        the risk index caches per set of flags in force), *factors* and *modes*; see
        :class:`Weigher`. Filled by the searches as they go: a new risk state costs nothing
        up front."""
        key = (frozenset(factors.items()), frozenset(modes))
        with _MEMO_LOCK:  # a worker's threads share the memos; dropping one must not race
            state = self._memos.get(id(levels))
            if state is None or state[0] is not levels:
                if len(self._memos) >= _MEMO_STATES:  # keep memory bounded: drop the oldest
                    self._memos.pop(next(iter(self._memos)))
                state = self._memos[id(levels)] = (levels, {})
            return state[1].setdefault(key, {})

    def priced_for(self, origin: str, destination: str) -> nx.DiGraph:
        """``priced_core`` when both ends are nodes of the core, else ``priced``."""
        core = self.core
        if core is not None and origin in core and destination in core:
            return self.priced_core
        return self.priced

    @classmethod
    def of(cls, network: Network) -> RoutingGraph:
        """The routing graph of *network*, built on first use and then shared."""
        with _LOCK:
            cached = _CACHE.get(id(network))
            if cached is not None and cached.network is network:
                return cached
        built = cls._build(network)
        with _LOCK:
            _CACHE.clear()  # one live network per process is the norm; keep memory bounded
            _CACHE[id(network)] = built
        return built

    @classmethod
    def _build(cls, network: Network) -> RoutingGraph:
        graph = _simple_graph(network)
        layered = _layered_graph(graph)
        core = _contracted(graph, network)
        priced, priced_core = _priced_graph(graph), _priced_graph(core)
        line_links = {line.id: frozenset(line.link_ids) for line in network.lines.values()}
        for link in network.links.values():
            for line_id in link.line_ids:
                line_links[line_id] = line_links.get(line_id, frozenset()) | {link.id}
        for g in (graph, layered, core, priced, priced_core):
            nx.freeze(g)
        log.info(
            "routing graph: %d stations, %d station pairs; core %d stations, %d edges",
            graph.number_of_nodes(),
            graph.number_of_edges(),
            core.number_of_nodes(),
            core.number_of_edges(),
        )
        return cls(
            network, graph, layered, line_links, core, priced, priced_core,
            Landmarks(graph), Reach(graph),
        )  # fmt: skip


# Risk states whose memos are kept: the one in force and the one before it (a request that
# read the old snapshot just before a swap); any other is rebuilt as requests come.
_MEMO_STATES = 2
_MEMO_LOCK = threading.Lock()
_CACHE: dict[int, RoutingGraph] = {}
_LOCK = threading.Lock()


def _dominated(network: Network) -> set[str]:
    """Parallel links never worth routing on: the chain beside them is no slower.

    A flag on the chain also covers the parallel link (see
    :func:`advisor.risk.coverage.parallel_shadows`), so under any risk weight the chain
    costs at most what the parallel link costs; dropping it changes no answer and leaves
    far fewer edges to search (about a third on the national network).
    """
    dominated = set()
    for link_id, chain in parallel_shadows(network).chain.items():
        chain_minutes = sum(network.links[i].travel_minutes for i in chain)
        if chain_minutes <= network.links[link_id].travel_minutes:
            dominated.add(link_id)
    return dominated


def _simple_graph(network: Network) -> nx.Graph:
    pairs: dict[tuple[str, str], list[Link]] = {}
    dominated = _dominated(network)
    for link in network.links.values():
        if link.from_id == link.to_id or link.id in dominated:
            continue  # a loop never shortens a trip; a dominated link never either
        key = tuple(sorted((link.from_id, link.to_id)))
        pairs.setdefault(key, []).append(link)
    graph = nx.Graph()
    graph.add_nodes_from(network.stations)
    for (a, b), links in pairs.items():
        graph.add_edge(a, b, **_edge_data(links))
    return graph


def _edge_data(links) -> dict:
    """Attributes of an edge between two adjacent stations (one hop, one alternative)."""
    links = tuple(sorted(links, key=lambda lk: (lk.search_minutes, lk.id)))
    return _alts_data(((None, (links,)),))


def _alts_data(alts) -> dict:
    """Edge attributes from alternatives ``(inner_nodes, hops)``: each hop is a tuple of
    links (cheapest first) joining two consecutive stations; ``inner_nodes`` are the halts
    between the edge's ends in the order from ``min(u, v)`` (None for a single hop).

    ``ids``, ``minutes`` and ``mode`` serve the weight's fast path.
    """
    modes = {link.mode for _nodes, hops in alts for hop in hops for link in hop}
    return {
        "alts": alts,
        "ids": frozenset(link.id for _nodes, hops in alts for hop in hops for link in hop),
        # search_minutes: an unverified 2019 bus link carries its penalty (Link.search_minutes)
        "minutes": min(sum(hop[0].search_minutes for hop in hops) for _nodes, hops in alts),
        "mode": modes.pop() if len(modes) == 1 else None,
    }


def _contracted(graph: nx.Graph, network: Network) -> nx.Graph:
    """*graph* with chains of halts (degree 2, rail on both sides) replaced by one edge.

    Halts are rarely where a trip starts or ends, and a chain of them only passes a train
    along; the engine searches this smaller graph whenever both ends of a trip are in it
    and the full graph otherwise. Each edge keeps every way between its ends (a direct link
    and any number of chains) as alternatives, so a flag on one link inside a chain still
    weighs on it: a chain costs the sum of its links under the request's weights.
    """
    inner = {
        node
        for node, degree in graph.degree()
        if degree == 2
        and network.stations[node].kind is StationKind.HALT
        and all(data["mode"] is Mode.RAIL for _u, _v, data in graph.edges(node, data=True))
    }
    core = nx.Graph()
    core.add_nodes_from(node for node in graph if node not in inner)
    alts: dict[tuple[str, str], list] = {}
    for u, v, data in graph.edges(data=True):
        if u not in inner and v not in inner:
            alts.setdefault(_pair(u, v), []).extend(data["alts"])
    seen = set()
    for start in core:
        for first in graph[start]:
            if first in inner:
                _walk_chain(graph, inner, start, first, alts, seen)
    for (a, b), ways in alts.items():
        core.add_edge(a, b, **_alts_data(tuple(ways)))
    return core


def _walk_chain(graph, inner, start, first, alts, seen) -> None:
    nodes, prev, cur = [start, first], start, first
    while cur in inner:
        prev, cur = cur, next(n for n in graph[cur] if n != prev)
        nodes.append(cur)
        if cur == start or len(nodes) > len(inner) + 2:
            return  # a loop back to where it started: never a shortcut
    key = tuple(nodes) if nodes[0] < nodes[-1] else tuple(reversed(nodes))
    if key in seen:
        return
    seen.add(key)
    hops = tuple(graph.edges[x, y]["alts"][0][1][0] for x, y in itertools.pairwise(key))
    alts.setdefault((key[0], key[-1]), []).append((key[1:-1], hops))


def _pair(u: str, v: str) -> tuple[str, str]:
    return (u, v) if u < v else (v, u)


def _layered_graph(graph: nx.Graph) -> nx.DiGraph:
    """Rail layer, then bus layer (with its OFF_BUS states), joined by transfers rail → bus."""
    edges = []
    for a, b, data in graph.edges(data=True):
        by_mode: dict[Mode, list[Link]] = {}
        for link in data["alts"][0][1][0]:
            by_mode.setdefault(link.mode, []).append(link)
        for mode, links in by_mode.items():
            data = _edge_data(links)
            for u, v in ((a, b), (b, a)):
                if mode is Mode.BUS:
                    edges.append(((u, BUS_LAYER), (v, OFF_BUS), data))
                    continue
                edges.append(((u, RAIL_LAYER), (v, RAIL_LAYER), data))
                if mode is Mode.TRANSFER:  # the only way from the rail layer to the bus layer
                    edges.append(((u, BUS_LAYER), (v, BUS_LAYER), data))
                    edges.append(((u, RAIL_LAYER), (v, BUS_LAYER), data))
    layered = nx.DiGraph()
    layered.add_edges_from(_with_off_bus_exits(edges, BUS_LAYER))
    return layered


def _priced_graph(graph: nx.Graph) -> nx.DiGraph:
    """*graph* over ``(station, FREE | OFF_BUS)`` nodes, so that a change of bus has a price.

    Each edge's alternatives are split: its bus links lead from ``(u, FREE)`` to
    ``(v, OFF_BUS)``, everything else (rail, transfers, chains of halts) from ``(u, FREE)``
    to ``(v, FREE)`` and, where ``u`` has an OFF_BUS state, from ``(u, OFF_BUS)`` too.

    >>> from advisor.network.model import LinkSource, Network, Station, StationKind
    >>> st = [Station(i, i, i, 50.0, 30.0, "UA-32", StationKind.BUS_STATION) for i in "abc"]
    >>> bus = LinkSource.BUS_REGISTER_2019
    >>> net = Network.build(st, [Link("ab", "a", "b", Mode.BUS, 10, 9, bus),
    ...                          Link("bc", "b", "c", Mode.BUS, 10, 9, bus)], [])
    >>> priced = RoutingGraph.of(net).priced
    >>> w = Weigher({}, FACTORS["balanced"], change_minutes=30, free_alight_at="c")
    >>> nx.dijkstra_path_length(priced, ("a", FREE), ("c", FREE), weight=w)
    48.0
    """
    edges = []
    for a, b, data in graph.edges(data=True):
        bus, other = _split_bus(data["alts"])
        bus_data = _alts_data(bus) if bus else None
        other_data = _alts_data(other) if other else None
        for u, v in ((a, b), (b, a)):
            if bus_data is not None:
                edges.append(((u, FREE), (v, OFF_BUS), bus_data))
            if other_data is not None:
                edges.append(((u, FREE), (v, FREE), other_data))
    priced = nx.DiGraph()
    priced.add_nodes_from((node, FREE) for node in graph)
    priced.add_edges_from(_with_off_bus_exits(edges, FREE))
    return priced


def _split_bus(alts) -> tuple[tuple, tuple]:
    """Alternatives of an edge split into (bus links, the rest). Chains of halts are rail."""
    bus, other = [], []
    for nodes, hops in alts:
        if nodes is not None:
            other.append((nodes, hops))
            continue
        for part, keep in ((bus, True), (other, False)):
            links = tuple(lk for lk in hops[0] if (lk.mode is Mode.BUS) is keep)
            if links:
                part.append((None, (links,)))
    return tuple(bus), tuple(other)


def _with_off_bus_exits(edges: list, boarding: int) -> list:
    """*edges* plus the ways out of each OFF_BUS state: every non-bus edge leaving the
    *boarding* state of that station, at no extra cost, and the alight edge to it.

    A walk (transfer) from an OFF_BUS state stays OFF_BUS: walking from the bus station to the
    rail station and back must not dodge the price of a change of bus. From the rail station
    a train leaves at no extra cost, and at the trip's end the alight edge is free.
    """
    off_bus = {v for _u, v, _data in edges if v[1] == OFF_BUS}
    walks = [(u, v) for u, v, data in edges if data.get("mode") is Mode.TRANSFER]
    grew = True
    while grew:  # walks from an OFF_BUS stop reach OFF_BUS states of their own
        found = {(v[0], OFF_BUS) for u, v in walks if (u[0], OFF_BUS) in off_bus}
        grew = not found <= off_bus
        off_bus |= found
    exits = [
        ((u[0], OFF_BUS), (v[0], OFF_BUS) if data.get("mode") is Mode.TRANSFER else v, data)
        for u, v, data in edges
        if u[1] == boarding and v[1] != OFF_BUS and (u[0], OFF_BUS) in off_bus
    ]
    alights = [(node, (node[0], boarding), {"mode": ALIGHT}) for node in off_bus]
    return edges + exits + alights


class Weigher:
    """A networkx weight callable for one request: ``weigher(u, v, data) -> minutes | None``.

    Parameters
    ----------
    levels : Mapping
        Highest risk level in force per link id (links without a flag are absent).
    factors : Mapping
        Penalty factor per level (``None`` key for unflagged links); ``None`` hides a link.
    modes : collection of Mode, optional
        Riding modes allowed; transfers are always allowed.
    hidden_links : collection of str, optional
        Link ids to hide (lines or stations the passenger asked to avoid).
    change_minutes : float, optional
        Price of an alight edge (OFF_BUS → FREE): a change of bus (``priced``/``layered``).
    free_alight_at : str, optional
        The station where the search ends: getting off the bus there ends the trip, free.
    affected : frozenset of str, optional
        The links whose cost differs from their plain minutes (hidden links and links at a
        level whose factor is not 1). Computed from *levels* when not given; the engine
        passes the set the risk index caches (see ``RiskIndex.links_at_levels``), because
        building it is a pass over every flagged link.
    free_links : collection of str, optional
        Link ids that cost nothing: the walks between the trip's end stations and the bus
        stations of their towns, which the answer leaves out (a bus trip starts and ends at
        the bus station), so the search cost still equals the reported total.
    potential : Potential, optional
        Steers a bidirectional search (:class:`advisor.routing.bounds.Potential`): the
        weigher returns ``cost - p(u) + p(v)``, never below 0. The cheapest path stays the
        cheapest; :meth:`best_way` and :meth:`link_cost` still give plain costs.
    memo : dict, optional
        Costs of flagged edges under *levels*, *factors* and *modes*, shared by every
        request with the same three (:meth:`RoutingGraph.memo`): an edge none of whose
        links is the request's own (free or hidden) is priced once, not once per search.
    """

    __slots__ = (
        "_affected", "_change", "_end", "_factors", "_free", "_hidden", "_known", "_levels",
        "_memo", "_modes", "_own", "_sign",
    )  # fmt: skip

    def __init__(
        self,
        levels: Mapping[str, RiskLevel],
        factors: Mapping[RiskLevel | None, float | None],
        modes: Collection[Mode] = (Mode.RAIL, Mode.BUS),
        hidden_links: Collection[str] = (),
        change_minutes: float = 0.0,
        free_alight_at: str | None = None,
        affected: frozenset[str] | None = None,
        free_links: Collection[str] = (),
        potential: Potential | None = None,
        memo: dict | None = None,
    ):
        self._levels = levels
        self._free = frozenset(free_links)
        self._change = float(change_minutes)
        self._end = free_alight_at
        self._factors = factors
        self._modes = frozenset(modes) | {Mode.TRANSFER}
        self._hidden = hidden_links
        # Links whose cost differs from their plain minutes; every other edge takes the
        # fast path in __call__ (one set test instead of a loop over its links).
        if affected is None:
            affected = frozenset(hidden_links) | {
                link_id for link_id, level in levels.items() if factors[level] != 1.0
            }
        self._affected = affected if self._free <= affected else affected | self._free
        self._own = self._free | frozenset(hidden_links)
        self._known = potential.known if potential is not None else None
        self._sign = potential.sign if potential is not None else 1.0
        self._memo = memo

    def link_cost(self, link: Link) -> float | None:
        """The weighted minutes of *link*, or None when it may not be used."""
        if link.mode not in self._modes or link.id in self._hidden:
            return None
        factor = self._factors[self._levels.get(link.id)]
        if factor is None:
            return None
        return 0.0 if link.id in self._free else link.search_minutes * factor

    def best_link(self, links: tuple[Link, ...]) -> tuple[Link | None, float | None]:
        """The cheapest usable link of *links* and its cost."""
        best, best_cost = None, None
        for link in links:
            cost = self.link_cost(link)
            if cost is not None and (best_cost is None or cost < best_cost):
                best, best_cost = link, cost
        return best, best_cost

    def best_way(self, data) -> tuple[tuple | None, tuple[Link, ...], float | None]:
        """The cheapest usable alternative of an edge: (inner nodes, links, cost)."""
        best = (None, (), None)
        for nodes, hops in data["alts"]:
            links, total = [], 0.0
            for hop in hops:
                link, cost = self.best_link(hop)
                if link is None:
                    break
                links.append(link)
                total += cost
            else:
                if best[2] is None or total < best[2]:
                    best = (nodes, tuple(links), total)
        return best

    def __call__(self, u, v, data) -> float | None:
        mode = data["mode"]
        if mode is ALIGHT:
            cost = 0.0 if v[0] == self._end else self._change
        elif mode is not None and self._affected.isdisjoint(data["ids"]):
            if mode not in self._modes:
                return None
            cost = data["minutes"]
        else:
            cost = self._flagged_cost(data)
            if cost is None:
                return None
        known = self._known
        if known is None:
            return cost
        cost += (known.get(v[0], 0.0) - known.get(u[0], 0.0)) * self._sign  # Potential.at
        return cost if cost > 0.0 else 0.0  # rounding may leave -1e-12: networkx rejects it

    def _flagged_cost(self, data) -> float | None:
        memo = self._memo
        if memo is None or not self._own.isdisjoint(data["ids"]):
            return self.best_way(data)[2]
        key = id(data)  # edge attributes live as long as the frozen graphs, like the memo
        cost = memo.get(key, _UNKNOWN)
        if cost is _UNKNOWN:
            cost = memo[key] = self.best_way(data)[2]
        return cost


_UNKNOWN = object()
