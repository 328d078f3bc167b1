"""The war's geography as a standing risk baseline: occupied territory, the front line, borders.

A :class:`WarMap` is one dated map of the occupied territory (a (Multi)Polygon, lon/lat) with
Ukraine's land borders with Russia and Belarus. :class:`Bands` (from
``config/war_geography.toml``) say which level each distance earns. :func:`build_layer`
measures every station and link of a network against the map once and returns a
:class:`WarLayer`: per id the distance from occupied ground and from each border, the level,
and a few synthetic baseline :class:`~advisor.risk.model.Flag` s (one per band, each covering
many ids through a :class:`~advisor.risk.model.PrecomputedTarget`) that
:class:`~advisor.risk.coverage.RiskIndex` merges with the operators' flags: the higher level
wins, and an operator's ``caps_baseline`` flag may lower a band on its target.

Distances are geodesic (haversine) between the two nearest points, which are found in a
local equirectangular frame (km) centred on Ukraine; the frame only picks the pair, so its
scale error (a few per cent at the edges) does not reach the reported distance.

Examples
--------
>>> from advisor.network.model import Link, LinkSource, Mode, Network, Station, StationKind
>>> from shapely.geometry import box
>>> st = [Station("in", "In", "In", 48.0, 37.5, "UA-14", StationKind.RAIL_STATION),
...       Station("near", "Near", "Near", 48.0, 37.1, "UA-14", StationKind.RAIL_STATION),
...       Station("far", "Far", "Far", 49.5, 30.0, "UA-32", StationKind.RAIL_STATION)]
>>> net = Network.build(st, [Link("l1", "near", "far", Mode.RAIL, 600, 500,
...                                LinkSource.OSM_TRACK)], [])
>>> war = WarMap(date(2026, 8, 22), "DeepStateMap", box(37.3, 47.5, 38.0, 48.5), {})
>>> layer = build_layer(war, net, DEFAULT_BANDS)
>>> layer.station_level("in").value, layer.station_level("near").value
('suspended', 'high')
>>> round(layer.stations["near"].front_km)
15
>>> layer.station_level("far") is None
True
>>> occupied_place(layer, "in").map_date.isoformat()
'2026-08-22'
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from advisor.errors import DataError
from advisor.network.geo import crowfly_km
from advisor.network.model import Network
from advisor.risk.model import Flag, PrecomputedTarget, RiskLevel

__all__ = [
    "DEFAULT_BANDS",
    "Band",
    "Bands",
    "MapShapes",
    "OccupiedPlace",
    "Placement",
    "WarLayer",
    "WarMap",
    "badge",
    "bands_from_dict",
    "build_layer",
    "describe_war_flag",
    "distance_on",
    "geometry_checksum",
    "is_war_flag",
    "map_shapes",
    "occupied_place",
]

#: Where distances are measured from, with the words the answers use.
SOURCES = {
    "front": ("від лінії фронту", "from the front line"),
    "russia": ("від кордону з росією", "from the Russian border"),
    "belarus": ("від кордону з білоруссю", "from the Belarus border"),
}
OCCUPIED_BAND = "occupied"
_LAT0, _LON0 = 48.5, 31.5
_KM_PER_DEG_LAT = 110.574
_KX = 111.320 * math.cos(math.radians(_LAT0))


@dataclass(frozen=True)
class WarMap:
    """One dated map: occupied territory and the land borders (``"RU"``, ``"BY"``).

    ``source`` names the map's maker (``DeepStateMap``); ``checksum`` is the sha256 of the
    occupied geometry (see :func:`geometry_checksum`), filled in when left empty.
    """

    map_date: date
    source: str
    occupied: BaseGeometry
    borders: Mapping[str, BaseGeometry]
    checksum: str = ""
    attribution: str = ""

    def __post_init__(self):
        if not self.checksum:
            object.__setattr__(self, "checksum", geometry_checksum(self.occupied))
        if not self.attribution:
            text = f"Occupied territory: {self.source}, map of {self.map_date.isoformat()}"
            object.__setattr__(self, "attribution", text)

    @property
    def label(self) -> str:
        """``DeepStateMap 2026-08-22``: how flags and notices name the map."""
        return f"{self.source} {self.map_date.isoformat()}"


def geometry_checksum(geometry: BaseGeometry) -> str:
    """The sha256 of *geometry*'s GeoJSON with coordinates rounded to 1e-6 degrees.

    >>> from shapely.geometry import box
    >>> geometry_checksum(box(0, 0, 1, 1)) == geometry_checksum(box(0, 0, 1.0000001, 1))
    True
    """
    rounded = shapely.set_precision(geometry, 1e-6)
    text = json.dumps(mapping(rounded), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Band:
    """Up to ``max_km`` from a source, the level ``level`` applies (the nearest band wins)."""

    source: str
    max_km: float
    level: RiskLevel
    name: str


@dataclass(frozen=True)
class Bands:
    """Every distance band, by source (``front``, ``russia``, ``belarus``), nearest first."""

    by_source: Mapping[str, tuple[Band, ...]]

    @property
    def reach_km(self) -> float:
        """The widest band: nothing farther than this is measured."""
        return max((b.max_km for bands in self.by_source.values() for b in bands), default=0.0)

    def band_for(self, source: str, distance_km: float | None) -> Band | None:
        """The nearest band of *source* that *distance_km* falls in, or None."""
        if distance_km is None:
            return None
        for band in self.by_source.get(source, ()):
            if distance_km <= band.max_km:
                return band
        return None


def bands_from_dict(data: Mapping) -> Bands:
    """Bands from the ``[[front]]`` / ``[[russia]]`` / ``[[belarus]]`` tables of the config.

    Raises :class:`~advisor.errors.DataError` naming a bad entry.

    >>> bands_from_dict({"front": [{"max_km": 10, "level": "high"}]}).band_for("front", 4).name
    'front-high'
    """
    by_source = {}
    for source in SOURCES:
        entries = data.get(source, [])
        bands = [_band(source, entry, n) for n, entry in enumerate(entries, start=1)]
        by_source[source] = tuple(sorted(bands, key=lambda b: b.max_km))
    unknown = set(data) - set(SOURCES) - {"occupied", "meta"}
    if unknown:
        raise DataError(f"war geography: unknown section {sorted(unknown)[0]!r}")
    return Bands(MappingProxyType(by_source))


def _band(source: str, entry, number: int) -> Band:
    try:
        max_km = float(entry["max_km"])
        level = RiskLevel.parse(entry["level"])
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"war geography: {source} band {number} needs max_km and level") from err
    except Exception as err:  # InvalidFlag from RiskLevel.parse
        raise DataError(f"war geography: {source} band {number}: {err}") from err
    if max_km <= 0 or level is RiskLevel.SUSPENDED:
        raise DataError(
            f"war geography: {source} band {number} needs max_km > 0 and a level below suspended"
        )
    return Band(source, max_km, level, f"{source}-{level.value}")


#: The shipped defaults of ``config/war_geography.toml`` (tests and doctests use these).
DEFAULT_BANDS = bands_from_dict(
    {
        "front": [
            {"max_km": 15, "level": "high"},
            {"max_km": 40, "level": "elevated"},
            {"max_km": 70, "level": "advisory"},
        ],
        "russia": [
            {"max_km": 10, "level": "high"},
            {"max_km": 30, "level": "elevated"},
            {"max_km": 50, "level": "advisory"},
        ],
        "belarus": [{"max_km": 20, "level": "advisory"}],
    }
)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one station or link lies against the map.

    ``occupied`` is True for a station inside occupied territory, or a link with any part
    inside it. Distances (km, geodesic) are None beyond :attr:`Bands.reach_km`.
    """

    occupied: bool
    front_km: float | None
    russia_km: float | None
    belarus_km: float | None
    level: RiskLevel | None
    band: str | None
    distance_km: float | None
    """The distance behind ``band`` (None when occupied or outside every band)."""


@dataclass(frozen=True)
class OccupiedPlace:
    """A station inside occupied territory, as the ``occupied`` notice names it."""

    station_id: str
    name_uk: str
    name_en: str
    map_date: date
    map_source: str

    def notice(self, locale: str = "uk") -> str:
        """One sentence naming the place and the map's date.

        >>> OccupiedPlace("d", "Донецьк", "Donetsk", date(2026, 8, 22), "DeepStateMap").notice()
        'Донецьк — тимчасово окупована територія (за мапою від 22.08.2026); сполучення немає'
        """
        if locale == "uk":
            day = self.map_date.strftime("%d.%m.%Y")
            return f"{self.name_uk} — тимчасово окупована територія (за мапою від {day}); " \
                "сполучення немає"
        return (
            f"{self.name_en} is temporarily occupied territory (map of "
            f"{self.map_date.isoformat()}); there is no service"
        )


@dataclass(frozen=True)
class WarLayer:
    """A :class:`WarMap` measured against one network: placements and synthetic flags."""

    war_map: WarMap
    stations: Mapping[str, Placement]
    links: Mapping[str, Placement]
    flags: tuple[Flag, ...]
    names: Mapping[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def station_level(self, station_id: str) -> RiskLevel | None:
        """The baseline level at *station_id*, or None outside every band."""
        placed = self.stations.get(station_id)
        return placed.level if placed is not None else None

    def link_level(self, link_id: str) -> RiskLevel | None:
        """The baseline level on *link_id*, or None outside every band."""
        placed = self.links.get(link_id)
        return placed.level if placed is not None else None


def occupied_place(layer: WarLayer | None, station_id: str) -> OccupiedPlace | None:
    """The :class:`OccupiedPlace` if *station_id* lies in occupied territory, else None."""
    if layer is None:
        return None
    placed = layer.stations.get(station_id)
    if placed is None or not placed.occupied:
        return None
    name_uk, name_en = layer.names.get(station_id, (station_id, station_id))
    return OccupiedPlace(
        station_id, name_uk, name_en, layer.war_map.map_date, layer.war_map.source
    )


def is_war_flag(flag: Flag) -> bool:
    """True for a synthetic flag of the war map (not an operator's statement)."""
    return flag.extra.get("origin") == "war_map"


def distance_on(flag: Flag, ids) -> float | None:
    """The least distance (km) *flag* records for any of *ids* (links or stations)."""
    known = flag.extra.get("distances_km", {})
    found = [known[i] for i in ids if i in known]
    return min(found) if found else None


def badge(flag: Flag, ids, locale: str = "uk") -> str | None:
    """A leg badge: how far from the line or border, and the map's date; None without one.

    >>> war = WarMap(date(2026, 8, 22), "DeepStateMap", box_for_doc(), {})
    >>> f = _flag(war, "front-high", RiskLevel.HIGH, {"s"}, set(), {"s": 6.2}, 15.0)
    >>> badge(f, ["s"])
    'за 6 км від лінії фронту (мапа від 22.08.2026)'
    >>> badge(f, ["s"], "en")
    '6 km from the front line (map of 2026-08-22)'
    """
    if not is_war_flag(flag):
        return None
    day = date.fromisoformat(flag.extra["map_date"])
    band = flag.extra.get("band", "")
    if band == OCCUPIED_BAND:
        if locale == "uk":
            return f"окупована територія (мапа від {day.strftime('%d.%m.%Y')})"
        return f"occupied territory (map of {day.isoformat()})"
    km = distance_on(flag, ids)
    uk, en = SOURCES[band.split("-", 1)[0]]
    if km is None:
        return None
    if locale == "uk":
        return f"за {km:.0f} км {uk} (мапа від {day.strftime('%d.%m.%Y')})"
    return f"{km:.0f} km {en} (map of {day.isoformat()})"


def describe_war_flag(flag: Flag, locale: str = "uk") -> str:
    """The flag as a place in a sentence, saying it is the baseline, not an operator's flag.

    >>> war = WarMap(date(2026, 8, 22), "DeepStateMap", box_for_doc(), {})
    >>> f = _flag(war, "front-high", RiskLevel.HIGH, {"s"}, set(), {"s": 6.2}, 15.0)
    >>> describe_war_flag(f, "en")  # doctest: +NORMALIZE_WHITESPACE
    "the zone within 15 km of the front line: high risk by the war's geography
    (DeepStateMap map of 2026-08-22), not an operator's flag"
    """
    day = date.fromisoformat(flag.extra["map_date"])
    source = flag.extra.get("map_source", "")
    band = flag.extra.get("band", "")
    uk_level, en_level = _LEVEL_WORDS[flag.level]
    if band == OCCUPIED_BAND:
        if locale == "uk":
            return (f"тимчасово окуповану територію (за мапою {source} від "
                    f"{day.strftime('%d.%m.%Y')}) — сполучення немає")
        return f"temporarily occupied territory ({source} map of {day.isoformat()}): no service"
    uk, en = SOURCES[band.split("-", 1)[0]]
    km = flag.extra.get("max_km")
    capped = flag.extra.get("capped_by")
    if locale == "uk":
        text = (f"зону до {km:g} км {uk}: {uk_level} за географією війни (мапа {source} від "
                f"{day.strftime('%d.%m.%Y')}), не позначка оператора")
        if capped:
            text += f"; оператор знизив рівень: {flag.extra.get('cap_reason_uk', '')}"
        return text
    of = en.replace("from ", "of ", 1)
    text = (f"the zone within {km:g} km {of}: {en_level} by the war's geography "
            f"({source} map of {day.isoformat()}), not an operator's flag")
    if capped:
        text += f"; an operator lowered the level: {flag.extra.get('cap_reason_en', '')}"
    return text


_LEVEL_WORDS = {
    RiskLevel.ADVISORY: ("інформаційне попередження", "an advisory"),
    RiskLevel.ELEVATED: ("підвищений ризик", "elevated risk"),
    RiskLevel.HIGH: ("високий ризик", "high risk"),
    RiskLevel.SUSPENDED: ("рух закрито", "suspended"),
}


def box_for_doc():
    """A small square near Donetsk (for the examples)."""
    from shapely.geometry import box

    return box(37.3, 47.5, 38.0, 48.5)


def build_layer(war_map: WarMap, network: Network, bands: Bands) -> WarLayer:
    """Measure every station and link of *network* against *war_map* under *bands*."""
    station_ids = list(network.stations)
    points = [(s.lon, s.lat) for s in network.stations.values()]
    link_ids, segments = _link_segments(network)
    station_geoms = shapely.points(points) if points else np.array([], dtype=object)
    link_geoms = shapely.linestrings(segments) if segments else np.array([], dtype=object)
    measured = {
        "stations": _measure(station_geoms, war_map, bands),
        "links": _measure(link_geoms, war_map, bands),
    }
    stations = _placements(station_ids, measured["stations"], bands)
    links = _placements(link_ids, measured["links"], bands)
    names = {
        s.id: (s.display_name("uk"), s.display_name("en"))
        for s in network.stations.values()
        if stations.get(s.id) is not None and stations[s.id].occupied
    }
    flags = _flags(war_map, stations, links, bands)
    return WarLayer(
        war_map,
        MappingProxyType(stations),
        MappingProxyType(links),
        flags,
        MappingProxyType(names),
    )


def _link_segments(network: Network):
    ids, coords = [], []
    for link in network.links.values():
        a, b = network.stations.get(link.from_id), network.stations.get(link.to_id)
        if a is not None and b is not None:
            ids.append(link.id)
            coords.append(((a.lon, a.lat), (b.lon + 1e-9, b.lat)))  # never a zero length
    return ids, coords


def _project(geoms):
    return shapely.transform(
        geoms, lambda xy: np.column_stack(((xy[:, 0] - _LON0) * _KX,
                                           (xy[:, 1] - _LAT0) * _KM_PER_DEG_LAT))
    )


def _unproject(xy: np.ndarray) -> np.ndarray:
    return np.column_stack((xy[:, 0] / _KX + _LON0, xy[:, 1] / _KM_PER_DEG_LAT + _LAT0))


def _measure(geoms, war_map: WarMap, bands: Bands) -> dict:
    """Occupied mask and geodesic km to each source (NaN beyond the bands' reach)."""
    if len(geoms) == 0:
        empty = np.array([], dtype=float)
        return {"occupied": np.array([], dtype=bool), **{s: empty for s in SOURCES}}
    inside = shapely.intersects(war_map.occupied, geoms)
    projected = _project(geoms)
    reach = bands.reach_km * 1.1 + 5.0  # the frame's scale error, with room
    out = {"occupied": np.asarray(inside, dtype=bool)}
    sources = {
        "front": shapely.boundary(war_map.occupied) if not war_map.occupied.is_empty else None,
        "russia": war_map.borders.get("RU"),
        "belarus": war_map.borders.get("BY"),
    }
    for name, geometry in sources.items():
        out[name] = _distances(projected, geometry, reach)
    return out


def _distances(projected, geometry: BaseGeometry | None, reach_km: float) -> np.ndarray:
    """Geodesic km from each projected geometry to *geometry*'s nearest segment."""
    km = np.full(len(projected), np.nan)
    if geometry is None or geometry.is_empty:
        return km
    segments = _segments(_project(geometry))
    tree = shapely.STRtree(segments)
    (hit, seg), _frame_km = tree.query_nearest(
        projected, max_distance=reach_km, return_distance=True
    )
    if len(hit) == 0:
        return km
    lines = shapely.shortest_line(projected[hit], segments[seg])
    ends = _unproject(shapely.get_coordinates(lines)).reshape(-1, 2, 2)
    geodesic = crowfly_km(ends[:, 0, 1], ends[:, 0, 0], ends[:, 1, 1], ends[:, 1, 0])
    np.fmin.at(km, hit, geodesic)  # all_matches ties: the smallest
    return km


def _segments(geometry: BaseGeometry) -> np.ndarray:
    """Every straight segment of *geometry*'s lines (an STRtree over segments is fast)."""
    parts = []
    for line in shapely.get_parts(shapely.line_merge(shapely.boundary(geometry))
                                  if geometry.geom_type.endswith("Polygon") else geometry):
        for ring in shapely.get_parts(line):
            xy = shapely.get_coordinates(ring)
            parts.append(np.stack((xy[:-1], xy[1:]), axis=1))
    return shapely.linestrings(np.concatenate(parts) if parts else np.empty((0, 2, 2)))


def _placements(ids: list[str], measured: dict, bands: Bands) -> dict[str, Placement]:
    placements = {}
    for i, item_id in enumerate(ids):
        placed = _placement(
            bool(measured["occupied"][i]),
            *(_km(measured[source][i]) for source in SOURCES),
            bands=bands,
        )
        if placed.occupied or placed.level is not None:
            placements[item_id] = placed
    return placements


def _km(value) -> float | None:
    return None if math.isnan(value) else round(float(value), 1)


def _placement(occupied, front_km, russia_km, belarus_km, *, bands: Bands) -> Placement:
    if occupied:
        return Placement(True, 0.0, russia_km, belarus_km, RiskLevel.SUSPENDED, OCCUPIED_BAND, None)
    found = [
        (band, km)
        for source, km in zip(SOURCES, (front_km, russia_km, belarus_km), strict=True)
        if (band := bands.band_for(source, km)) is not None
    ]
    if not found:
        return Placement(False, front_km, russia_km, belarus_km, None, None, None)
    band, km = max(found, key=lambda pair: (pair[0].level, -pair[1]))
    return Placement(False, front_km, russia_km, belarus_km, band.level, band.name, km)


def _flags(war_map: WarMap, stations: Mapping, links: Mapping, bands: Bands) -> tuple[Flag, ...]:
    """One synthetic baseline flag per band that covers anything."""
    by_band: dict[str, tuple[set, set, dict]] = defaultdict(lambda: (set(), set(), {}))
    levels: dict[str, RiskLevel] = {}
    for kind, placements in (("station", stations), ("link", links)):
        for item_id, placed in placements.items():
            if placed.band is None:
                continue
            station_ids, link_ids, distances = by_band[placed.band]
            (station_ids if kind == "station" else link_ids).add(item_id)
            if placed.distance_km is not None:
                distances[item_id] = placed.distance_km
            levels[placed.band] = placed.level
    reach = {b.name: b.max_km for group in bands.by_source.values() for b in group}
    return tuple(
        _flag(war_map, band, levels[band], *by_band[band], max_km=reach.get(band))
        for band in sorted(by_band)
    )


def _flag(
    war_map: WarMap, band: str, level: RiskLevel, station_ids, link_ids, distances, max_km
) -> Flag:
    reason_uk, reason_en = _reasons(band, war_map)
    target = PrecomputedTarget(
        f"war-map:{war_map.checksum[:12]}:{band}", frozenset(station_ids), frozenset(link_ids)
    )
    return Flag(
        id=f"war-map-{band}",
        level=level,
        target=target,
        reason_uk=reason_uk,
        reason_en=reason_en,
        source=f"{war_map.source}, мапа від {war_map.map_date.strftime('%d.%m.%Y')}",
        author="war-map",
        baseline=True,
        extra={
            "origin": "war_map",
            "map_date": war_map.map_date.isoformat(),
            "map_source": war_map.source,
            "map_checksum": war_map.checksum,
            "attribution": war_map.attribution,
            "band": band,
            "max_km": max_km,
            "distances_km": MappingProxyType(distances),
        },
    )


def _reasons(band: str, war_map: WarMap) -> tuple[str, str]:
    day = war_map.map_date.strftime("%d.%m.%Y")
    if band == OCCUPIED_BAND:
        return (
            f"Тимчасово окупована територія (за мапою від {day}): сполучення немає.",
            f"Temporarily occupied territory (map of {war_map.map_date.isoformat()}): "
            "no service.",
        )
    source = band.split("-", 1)[0]
    uk, en = SOURCES[source]
    return (
        f"Базовий ризик за географією: близько {uk} (за мапою від {day}).",
        f"Baseline risk from geography: close {en} (map of {war_map.map_date.isoformat()}).",
    )


def war_map_from_geojson(
    occupied: Mapping, borders: Mapping | None, map_date: date, source: str
) -> WarMap:
    """A :class:`WarMap` from parsed GeoJSON (validated by the caller, see
    :func:`advisor.risk.geography.occupied_geometry`)."""
    return WarMap(map_date, source, occupied_geometry(occupied), border_geometries(borders or {}))


def occupied_geometry(data: Mapping) -> BaseGeometry:
    """The union of every (Multi)Polygon in a GeoJSON object; raises :class:`DataError`."""
    geoms = [shape(g) for g in _geometries(data)]
    bad = [g.geom_type for g in geoms if g.geom_type not in ("Polygon", "MultiPolygon")]
    if bad:
        raise DataError(f"the map holds a {bad[0]}; only Polygon or MultiPolygon is allowed")
    if not geoms:
        raise DataError("the map holds no geometry")
    return shapely.make_valid(shapely.union_all(geoms))


def border_geometries(data: Mapping) -> dict[str, BaseGeometry]:
    """``{"RU": ..., "BY": ...}`` from the borders FeatureCollection (``neighbour`` property)."""
    found = {}
    for feature in data.get("features", []):
        code = (feature.get("properties") or {}).get("neighbour")
        if code in ("RU", "BY"):
            found[code] = shape(feature["geometry"])
    return found


def _geometries(data: Mapping) -> list[Mapping]:
    kind = data.get("type") if isinstance(data, Mapping) else None
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise DataError("the FeatureCollection has no list of features")
        return [g for f in features for g in _geometries(f)]
    if kind == "Feature":
        geometry = data.get("geometry")
        return _geometries(geometry) if geometry else []
    if kind == "GeometryCollection":
        return [g for item in data.get("geometries", []) for g in _geometries(item)]
    if isinstance(kind, str) and "coordinates" in data:
        return [data]
    raise DataError(f"not a GeoJSON object (type {kind!r})")


# --- shapes for drawing ------------------------------------------------------------------


@dataclass(frozen=True)
class MapShapes:
    """The map simplified for drawing (lon/lat): occupied area, the front-line band and the
    borders, with the map's date and attribution. Made once per map by :func:`map_shapes`."""

    map_date: date
    attribution: str
    occupied: BaseGeometry
    front_band: BaseGeometry
    front_band_km: float
    borders: Mapping[str, BaseGeometry]


_SHAPES_CACHE: dict[tuple[str, float], MapShapes] = {}
#: About 500 m: invisible on a page-sized map of Ukraine, and it keeps the page small.
DRAW_TOLERANCE_DEG = 0.005


def map_shapes(war_map: WarMap, front_band_km: float = 15.0) -> MapShapes:
    """Simplified drawing shapes of *war_map* (cached per map checksum and band width).

    >>> war = WarMap(date(2026, 8, 22), "DeepStateMap", box_for_doc(), {})
    >>> shapes = map_shapes(war)
    >>> shapes.front_band.area > 0 and shapes.front_band.disjoint(shapes.occupied.buffer(-0.01))
    True
    """
    key = (war_map.checksum, front_band_km)
    found = _SHAPES_CACHE.get(key)
    if found is not None:
        return found
    occupied = shapely.simplify(war_map.occupied, DRAW_TOLERANCE_DEG, preserve_topology=True)
    projected = _project(occupied)
    band = shapely.difference(shapely.buffer(projected, front_band_km, quad_segs=4), projected)
    band = shapely.simplify(_unproject_geometry(band), DRAW_TOLERANCE_DEG)
    borders = {
        code: shapely.simplify(line, DRAW_TOLERANCE_DEG) for code, line in war_map.borders.items()
    }
    shapes = MapShapes(
        war_map.map_date, war_map.attribution, occupied, band, front_band_km,
        MappingProxyType(borders),
    )
    if len(_SHAPES_CACHE) > 8:
        _SHAPES_CACHE.clear()
    _SHAPES_CACHE[key] = shapes
    return shapes


def _unproject_geometry(geometry: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geometry, _unproject)
