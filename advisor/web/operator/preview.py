"""Showing an :class:`~advisor.services.Impact`: names, the pairs that change, and the map.

The map reuses the passenger pages' SVG renderer: the flagged links drawn with the flag's
level, and, for every important pair that loses its best rail option, what passengers
would be recommended instead (thick line).
"""

from __future__ import annotations

import networkx as nx

from advisor.network.model import Mode
from advisor.web.present import LABELS, Presenter, war_overlay
from advisor.web.svgmap import MapLine, MapPoint, render_map

__all__ = ["ImpactView"]

# A station or oblast flag can cover thousands of links; the map shows a sample.
MAX_DRAWN_LINKS = 600
MAX_LISTED_STATIONS = 40


class ImpactView:
    """What the preview section of the flag form shows, in the page language."""

    def __init__(self, impact, network, locale: str, war_layer=None):
        self.impact = impact
        self.network = network
        self.presenter = Presenter(network, locale, war_layer=war_layer)
        self.locale = locale

    @property
    def line_names(self) -> list[str]:
        """Names of the named lines the flag touches."""
        lines = (self.network.lines.get(i) for i in self.impact.line_ids)
        return [line.display_name(self.locale) for line in lines if line is not None]

    @property
    def station_names(self) -> list[str]:
        """Names of the first covered stations (the page says how many there are)."""
        ids = self.impact.station_ids[:MAX_LISTED_STATIONS]
        return [self.presenter.station(i) for i in ids]

    def pair_name(self, pair) -> str:
        """ "Київ → Харків" in the page language."""
        return f"{self.presenter.station(pair.origin)} → {self.presenter.station(pair.destination)}"

    def route_text(self, option) -> str:
        """The legs of *option* as "Train Kyiv → Kharkiv, Bus Kharkiv → Izium"."""
        parts = [
            f"{LABELS[leg.mode]} {self.presenter.station(leg.from_id)} → "
            f"{self.presenter.station(leg.to_id)}"
            for leg in option.legs
            if leg.mode is not Mode.TRANSFER
        ]
        return ", ".join(parts)

    @staticmethod
    def verdict(option) -> str:
        """The option's verdict in words ("Not advised")."""
        return str(LABELS[option.verdict])

    def map_svg(self, title: str):
        """The inline SVG: flagged links and the replacement routes of changed pairs."""
        lines = self._flagged_lines()
        points: dict[str, str] = {}
        for pair in self.impact.pairs_losing_rail:
            option = pair.recommended_after
            for leg in option.legs if option else ():
                coords = self._coords(leg.station_ids)
                if len(coords) >= 2:
                    lines.append(MapLine(tuple(coords), leg.mode, 0, leg.risk_level))
            points[pair.origin], points[pair.destination] = "origin", "destination"
        for station_id in self.impact.station_ids[:1]:
            points.setdefault(station_id, "stop")
        marks = [self._point(i, role) for i, role in points.items()]
        desc = ", ".join(self.line_names) or ", ".join(self.station_names[:5])
        war = war_overlay(self.presenter.war_layer, self.locale)
        return render_map(
            lines, [m for m in marks if m is not None], title, desc, war,
            outlines=self.presenter.oblast_outlines(),
        )  # fmt: skip

    def _flagged_lines(self) -> list[MapLine]:
        """The covered links joined into as few polylines as possible (one band and one
        "!" marker per stretch, not per link)."""
        links = (self.network.links.get(i) for i in self.impact.link_ids[:MAX_DRAWN_LINKS])
        graph = nx.Graph()
        for link in links:
            if link is not None:
                graph.add_edge(link.from_id, link.to_id, mode=link.mode)
        lines = []
        for path in _walks(graph):
            coords = self._coords(path)
            if len(coords) >= 2:
                mode = graph.edges[path[0], path[1]]["mode"]
                lines.append(MapLine(tuple(coords), mode, 1, self.impact.flag.level))
        return lines

    def _coords(self, station_ids) -> list[tuple[float, float]]:
        found = (self.network.find_station(i) for i in station_ids)
        return [(s.lat, s.lon) for s in found if s is not None]

    def _point(self, station_id: str, role: str) -> MapPoint | None:
        station = self.network.find_station(station_id)
        if station is None:
            return None
        return MapPoint(station.lat, station.lon, station.display_name(self.locale), role)


def _walks(graph: nx.Graph) -> list[list[str]]:
    """Cover every edge of *graph* with walks, each starting at a dead end where possible.

    >>> g = nx.Graph([("a", "b"), ("b", "c"), ("b", "d")])
    >>> sorted(len(w) for w in _walks(g))
    [2, 3]
    """
    unused = {frozenset(edge) for edge in graph.edges}
    walks = []
    for start in sorted(graph.nodes, key=graph.degree):
        while any(frozenset((start, n)) in unused for n in graph[start]):
            walk = [start]
            while True:
                step = next(
                    (n for n in graph[walk[-1]] if frozenset((walk[-1], n)) in unused), None
                )
                if step is None:
                    break
                unused.discard(frozenset((walk[-1], step)))
                walk.append(step)
            walks.append(walk)
    return walks
