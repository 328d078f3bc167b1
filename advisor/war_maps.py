"""War maps (issue 11): the geographic risk baseline in force, importing a newer map, rollback.

Use cases the CLI calls (the lead moves them into the services package):

- :class:`WarLayers` keeps the :class:`~advisor.risk.geography.WarLayer` of the map in force
  (the store's active version, else the shipped ``war_geography.json.gz``), built once per
  network and map checksum; :class:`advisor.services.Services` adds its synthetic baseline
  flags to every :class:`~advisor.risk.coverage.RiskIndex` it builds.
- :func:`import_war_map` reads a map from a file or URL, validates it, previews its impact,
  and (unless a dry run) stores it as the new version in force, audited. Any failure raises
  a readable :class:`~advisor.errors.AdvisorError` and leaves the map in force alone.
- :func:`rollback_war_map` puts an earlier version back in force; :func:`list_war_maps`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import shapely
from shapely.geometry import mapping

from advisor.errors import AdvisorError, DataError
from advisor.network.model import Network
from advisor.network.war import read_war_geography
from advisor.risk.coverage import RiskIndex
from advisor.risk.geography import (
    DEFAULT_BANDS,
    Bands,
    WarLayer,
    WarMap,
    bands_from_dict,
    border_geometries,
    build_layer,
    geometry_checksum,
    occupied_geometry,
)
from advisor.risk.model import RiskLevel, Tolerance
from advisor.routing.model import Query
from advisor.routing.planner import plan
from advisor.settings import read_toml

__all__ = [
    "UKRAINE_BBOX",
    "MapImport",
    "PairChange",
    "StationChange",
    "WarLayers",
    "import_war_map",
    "list_war_maps",
    "load_bands",
    "parse_war_map",
    "rollback_war_map",
]

log = logging.getLogger(__name__)

#: (min lon, min lat, max lon, max lat): Ukraine with Crimea and the Azov coast, with a margin.
UKRAINE_BBOX = (22.0, 44.2, 40.3, 52.5)
DEFAULT_MAX_AREA_CHANGE = 0.15
_DATE_IN_NAME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def load_bands(settings) -> tuple[Bands, float]:
    """The bands of ``config/war_geography.toml`` and its ``max_area_change_share``.

    Without the file (an installed wheel ships no ``config/``) the documented defaults,
    which a test keeps equal to the file, apply, with a warning; a malformed file raises.
    """
    if not settings.war_bands_path.exists():
        log.warning("%s not found; using the built-in war map bands", settings.war_bands_path)
        return DEFAULT_BANDS, DEFAULT_MAX_AREA_CHANGE
    data = read_toml(settings.war_bands_path)
    share = float(data.get("meta", {}).get("max_area_change_share", DEFAULT_MAX_AREA_CHANGE))
    return bands_from_dict(data), share


def shipped_war_map(settings) -> WarMap:
    """The map in the shipped ``war_geography.json.gz`` (raises :class:`DataError`)."""
    document = read_war_geography(settings.war_geography_path)
    return WarMap(
        date.fromisoformat(document["map_date"]),
        document["source"],
        occupied_geometry(document["occupied"]),
        border_geometries(document["borders"]),
        attribution=document.get("attribution", ""),
    )


# One layer per process is the norm (one network, one map in force): shared by every
# WarLayers, so a second Services over the same network and map measures nothing again.
_SHARED: dict[tuple, tuple[Network, WarLayer]] = {}
_SHARED_LOCK = threading.Lock()


class WarLayers:
    """The war layer in force, rebuilt only when the network, the map or the bands change."""

    def __init__(self, settings):
        self.settings = settings
        self._lock = _SHARED_LOCK
        self._shipped: WarMap | None = None
        self._bands: Bands | None = None

    def layer(self, network: Network, record=None) -> WarLayer | None:
        """The layer for stored map *record* (a ``WarMapVersion``; None: the shipped map).

        None (logged) when no map can be read: the caller reports it, never routes as if
        the map were empty.
        """
        try:
            war_map = self.war_map(record)
            if self._bands is None:
                self._bands = load_bands(self.settings)[0]
            key = (id(network), war_map.checksum, tuple(self._bands.by_source.items()))
            with self._lock:
                found = _SHARED.get(key)
                if found is None or found[0] is not network:
                    _SHARED.clear()  # keep memory bounded: one live network at a time
                    found = (network, build_layer(war_map, network, self._bands))
                    _SHARED[key] = found
            return found[1]
        except AdvisorError as err:
            log.error("no war map in force: %s", err.message)
            return None

    def war_map(self, record=None) -> WarMap:
        """The :class:`WarMap` of *record*, or the shipped one; borders are always shipped."""
        if self._shipped is None:
            self._shipped = shipped_war_map(self.settings)
        if record is None:
            return self._shipped
        return WarMap(
            date.fromisoformat(record.map_date),
            record.source,
            occupied_geometry(record.geometry),
            self._shipped.borders,
            checksum=record.checksum,
        )


def war_flags(layer: WarLayer | None) -> tuple:
    """The synthetic baseline flags of *layer* (none without a layer)."""
    return layer.flags if layer is not None else ()


# --- reading and validating a map --------------------------------------------------------


def parse_war_map(
    raw: bytes, origin: str, map_date: date | None = None, source: str = "DeepStateMap"
) -> WarMap:
    """Validate a map file's bytes: JSON, GeoJSON, (Multi)Polygon, inside Ukraine, not empty.

    Raises :class:`DataError` naming *origin* and the problem.
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise DataError(f"{origin} is not JSON: {err}", value=origin) from err
    try:
        occupied = occupied_geometry(data)
    except DataError as err:
        raise DataError(f"{origin}: {err.message}", value=origin) from err
    except (TypeError, ValueError, AttributeError, KeyError) as err:
        raise DataError(f"{origin}: malformed GeoJSON geometry ({err})", value=origin) from err
    if occupied.is_empty or occupied.area == 0:
        raise DataError(f"{origin}: the map is empty (no occupied area)", value=origin)
    _check_inside_ukraine(occupied, origin)
    day = map_date or _date_of(origin, data)
    return WarMap(day, source, occupied, {}, checksum=geometry_checksum(occupied))


def _check_inside_ukraine(geometry, origin: str) -> None:
    min_lon, min_lat, max_lon, max_lat = UKRAINE_BBOX
    xy = shapely.get_coordinates(geometry)
    outside = (
        (xy[:, 0] < min_lon) | (xy[:, 0] > max_lon) | (xy[:, 1] < min_lat) | (xy[:, 1] > max_lat)
    )
    if outside.any():
        lon, lat = xy[outside.argmax()]
        raise DataError(
            f"{origin}: coordinate ({lon:.4f}, {lat:.4f}) lies outside Ukraine's bounding box "
            f"(lon {min_lon}–{max_lon}, lat {min_lat}–{max_lat}); is it lon/lat (WGS 84)?",
            value=origin,
        )


def _date_of(origin: str, data) -> date:
    """The map's date from its name (``occupied_2026-08-22``, ``deepstatemap_data_20260822``)."""
    name = data.get("name", "") if isinstance(data, Mapping) else ""
    for text in (Path(str(origin)).name, str(name)):
        match = _DATE_IN_NAME.search(text)
        if match:
            try:
                return date(*map(int, match.groups()))
            except ValueError:
                continue
    raise DataError(
        f"{origin}: the map's date is not in its name; give it with --date YYYY-MM-DD",
        field="date",
        value=origin,
    )


def area_km2(geometry) -> float:
    """Area in km² in a local equal-area-enough frame (cos-latitude scaled degrees)."""
    from advisor.risk.geography import _project  # the same frame the distances use

    return float(shapely.area(_project(geometry)))


def area_change_share(new: WarMap, old: WarMap) -> float:
    """|new − old| / old of the occupied area (the symmetric difference, not just the sum)."""
    old_area = area_km2(old.occupied)
    changed = area_km2(shapely.symmetric_difference(new.occupied, old.occupied))
    return changed / old_area if old_area else 1.0


# --- impact preview ----------------------------------------------------------------------


@dataclass(frozen=True)
class StationChange:
    """A main station whose baseline level changes with the new map."""

    station_id: str
    name: str
    before: RiskLevel | None
    after: RiskLevel | None
    before_km: float | None
    after_km: float | None


@dataclass(frozen=True)
class PairChange:
    """An important city pair whose advice changes (at the default tolerance)."""

    origin: str
    destination: str
    before: str
    after: str


@dataclass(frozen=True)
class MapImport:
    """The outcome of :func:`import_war_map` (``record`` is None for a dry run)."""

    war_map: WarMap
    previous: WarMap
    area_change_share: float
    stations: tuple[StationChange, ...]
    pairs: tuple[PairChange, ...]
    stations_changed: int
    record: object | None = None


def preview(before: WarLayer, after: WarLayer, network: Network, pairs, flags=()) -> tuple:
    """(main-station changes, count of all station changes, pair changes)."""
    changed = [
        sid
        for sid in set(before.stations) | set(after.stations)
        if before.station_level(sid) != after.station_level(sid)
    ]
    main = [
        StationChange(
            sid, network.stations[sid].display_name("uk"),
            before.station_level(sid), after.station_level(sid),
            _km(before, sid), _km(after, sid),
        )
        for sid in sorted(changed)
        if network.stations[sid].is_main
    ]
    index_before = RiskIndex.build((*flags, *before.flags), network)
    index_after = RiskIndex.build((*flags, *after.flags), network)
    pair_changes = []
    for origin, destination in pairs:
        query = Query(origin, destination, _now(), Tolerance.BALANCED)
        old = _advice_word(plan(network, index_before, query))
        new = _advice_word(plan(network, index_after, query))
        if old != new:
            pair_changes.append(PairChange(origin, destination, old, new))
    return tuple(main), len(changed), tuple(pair_changes)


def _km(layer: WarLayer, station_id: str) -> float | None:
    placed = layer.stations.get(station_id)
    return placed.distance_km if placed is not None else None


def _now():
    from advisor.risk.model import utcnow

    return utcnow()


def _advice_word(advice) -> str:
    """``advised`` / ``caution`` / ``not_advised`` / ``no route`` of the recommended option."""
    option = advice.recommended or (advice.options[0] if advice.options else None)
    if option is None:
        return "no route"
    return option.verdict.value


# --- the use cases -----------------------------------------------------------------------


def import_war_map(
    store,
    layers: WarLayers,
    network: Network,
    raw: bytes,
    origin: str,
    *,
    actor: str,
    map_date: date | None = None,
    force: bool = False,
    dry_run: bool = False,
    max_share: float = DEFAULT_MAX_AREA_CHANGE,
    pairs=(),
    flags=(),
) -> MapImport:
    """Validate *raw* (read from *origin*), preview it against the map in force and store it.

    Raises :class:`DataError` for a bad file or an area change above *max_share* without
    *force*; the map in force stays on any failure.
    """
    new = parse_war_map(raw, origin, map_date)
    current = store.find_active_war_map() if store is not None else None
    previous = layers.war_map(current)
    new = WarMap(new.map_date, new.source, new.occupied, previous.borders, checksum=new.checksum)
    if new.checksum == previous.checksum and not force:
        raise DataError(f"{origin}: the same map is already in force ({previous.label})")
    share = area_change_share(new, previous)
    if share > max_share and not force:
        raise DataError(
            f"{origin}: the occupied area changes by {share:.0%} against the map in force "
            f"({previous.label}), more than the allowed {max_share:.0%}; check the file, "
            "then import it with --force",
            field="force",
            value=origin,
        )
    before = layers.layer(network, current)
    after = build_layer(new, network, load_bands(layers.settings)[0])
    stations, count, pair_changes = preview(before, after, network, pairs, flags)
    record = None
    if not dry_run:
        record = store.add_war_map(
            map_date=new.map_date.isoformat(), source=new.source, origin=origin,
            checksum=new.checksum, geometry=mapping(new.occupied),
            actor=actor, note=f"area change {share:.1%}" + (" (forced)" if force else ""),
        )
    return MapImport(new, previous, share, stations, pair_changes, count, record)


def list_war_maps(store) -> list:
    """Every stored map version, newest first."""
    return store.list_war_maps()


def rollback_war_map(store, version: int, *, actor: str):
    """Put stored map *version* back in force (audited); raises ``NotFound``."""
    return store.activate_war_map(version, actor=actor, note="rollback")


# --- wiring for the command line ---------------------------------------------------------

VALIDATORS_FILE = "war-map-http.json"  # in the instance folder: ETag / Last-Modified per URL


def read_map_bytes(file_or_url: str, settings, fetcher=None) -> bytes:
    """The bytes of a local file or an ``http(s)://`` URL; raises a readable error."""
    from advisor.feeds.fetch import is_url

    if is_url(file_or_url):
        from advisor.feeds.war_map import WarMapFetcher

        own = fetcher is None
        fetcher = fetcher or WarMapFetcher(settings.instance_path / VALIDATORS_FILE)
        try:
            return fetcher.fetch(file_or_url)
        finally:
            if own:
                fetcher.close()
    try:
        return Path(file_or_url).read_bytes()
    except OSError as err:
        raise DataError(f"cannot read map file {file_or_url}: {err.strerror}",
                        value=file_or_url) from err


def import_from(settings, file_or_url: str, *, actor: str, map_date=None, force=False,
                dry_run=False, fetcher=None) -> MapImport:
    """Open the store and the network, read *file_or_url* and run :func:`import_war_map`."""
    from advisor.services import connect_store

    services, operations = connect_store(settings)
    store = operations.store
    raw = read_map_bytes(file_or_url, settings, fetcher)
    network = services.network
    _bands, share = load_bands(settings)
    pairs = [tuple(operations._pair_station(n) for n in pair) for pair in operations._pairs()]
    flags = services.risk_state.flags
    return import_war_map(
        store, services.war_layers, network, raw, file_or_url, actor=actor,
        map_date=map_date, force=force, dry_run=dry_run, max_share=share,
        pairs=[p for p in pairs if None not in p], flags=flags,
    )


def open_store_for(settings):
    """The migrated store (for ``war-map list`` / ``rollback``)."""
    from advisor.services import open_operations

    return open_operations(settings).store


def format_import(result: MapImport, network: Network) -> list[str]:
    """The impact preview as lines of text."""
    lines = [
        f"map of {result.war_map.map_date.isoformat()} ({result.war_map.source}, "
        f"sha256 {result.war_map.checksum[:12]}) against {result.previous.label}: "
        f"occupied area changes by {result.area_change_share:.1%}",
        f"{result.stations_changed} station(s) change baseline level; main stations:",
    ]
    for change in result.stations:
        lines.append(
            f"  {change.name:<28} {_level(change.before):>10} → {_level(change.after):<10}"
            f"{_dist(change.after_km)}"
        )
    lines.append(f"important pairs whose advice changes: {len(result.pairs)}")
    for pair in result.pairs:
        a = network.stations[pair.origin].display_name("uk")
        b = network.stations[pair.destination].display_name("uk")
        lines.append(f"  {a} → {b}: {pair.before} → {pair.after}")
    return lines


def _level(level) -> str:
    return level.value if level is not None else "none"


def _dist(km) -> str:
    return f" ({km:g} km)" if km is not None else ""
