"""Read the raw sources and the network configuration, refusing what is missing.

Cheap checks fail early (style rule 11): a missing file or a missing column raises
:class:`~advisor.errors.DataError` naming both at once, before any row is used. Everything
here returns plain rows; turning rows into stations and links is the importer's job.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
>>> _ = path.write_text("a,b\\n1,2\\n", encoding="utf-8")
>>> read_csv(path, ["a", "b"])
[{'a': '1', 'b': '2'}]
>>> read_csv(path, ["a", "c"])
Traceback (most recent call last):
...
advisor.errors.DataError: x.csv: missing column 'c'
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from advisor import settings
from advisor.errors import DataError

__all__ = [
    "BUS_CITIES",
    "BUS_LINKS",
    "OBLASTS",
    "RAIL_EDGES",
    "RAIL_MANIFEST",
    "RAIL_STATIONS",
    "SpeedModel",
    "load_speed_model",
    "read_csv",
    "read_geojson",
    "read_manifest",
    "read_toml",
]

logger = logging.getLogger(__name__)

RAIL_STATIONS = "rail_stations.csv"
RAIL_EDGES = "rail_edges.csv"
BUS_CITIES = "bus_cities_2019.csv"
BUS_LINKS = "bus_links_interregional_2019.csv"
OBLASTS = "oblasts_adm1.geojson"
RAIL_MANIFEST = "raw/osm-rail-reference/manifest.json"

#: Columns each source file must have; anything else in the file is ignored.
REQUIRED_COLUMNS = {
    RAIL_STATIONS: (
        "station_id", "station_type", "name_uk", "name_en_osm", "name_latin_kmu2010",
        "name_ru_osm", "lat", "lon", "oblast_iso", "uz_express_code", "reviewed_hub",
    ),
    RAIL_EDGES: (
        "from", "to", "distance_km", "kind", "skip_edge", "usage", "electrified",
        "osm_way_ids",
    ),
    BUS_CITIES: ("city_uk", "koatuu", "lat", "lon"),
    BUS_LINKS: (
        "koatuu_a", "koatuu_b", "daily_records", "operators", "route_length_km_median",
        "crowfly_km", "risk_context_flags",
    ),
}  # fmt: skip


def read_csv(path: Path, required: Iterable[str]) -> list[dict[str, str]]:
    """All rows of the CSV file *path*; a missing file or column raises :class:`DataError`."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            columns = reader.fieldnames or []
            for column in required:
                if column not in columns:
                    raise DataError(f"{path.name}: missing column {column!r}", value=str(path))
            return list(reader)
    except FileNotFoundError as err:
        raise DataError(f"source file not found: {path}", value=str(path)) from err


def read_geojson(path: Path) -> list[dict]:
    """The features of a GeoJSON FeatureCollection; every one must have ``shapeISO``."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError as err:
        raise DataError(f"source file not found: {path}", value=str(path)) from err
    except json.JSONDecodeError as err:
        raise DataError(f"{path.name} is not valid JSON: {err}", value=str(path)) from err
    features = data.get("features") or []
    for feature in features:
        if "shapeISO" not in (feature.get("properties") or {}) or not feature.get("geometry"):
            raise DataError(f"{path.name}: a feature lacks property 'shapeISO' or a geometry")
    return features


def read_toml(path: Path) -> dict:
    """A TOML configuration file of the build; raises :class:`DataError` naming the file."""
    return settings.read_toml(path, DataError)


def read_manifest(sources: Path) -> dict:
    """The OSM rail extract's manifest (``versionId``, ``checksum``), or ``{}`` when absent."""
    path = Path(sources) / RAIL_MANIFEST
    if not path.exists():
        logger.warning("no rail manifest at %s; the source version is unknown", path)
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path.name} is not valid JSON: {err}", value=str(path)) from err


@dataclass(frozen=True, slots=True)
class SpeedModel:
    """Speeds (km/h) and minimum times (minutes) that turn distances into estimated times.

    >>> model = SpeedModel(rail_kmh={("main", True): 85.0}, rail_minimum_minutes=1.0)
    >>> round(model.rail_minutes(85.0, "main", True), 1)
    60.0
    >>> model.rail_minutes(0.01, "main", True)
    1.0
    """

    rail_kmh: dict
    rail_minimum_minutes: float = 1.0
    narrow_gauge_kmh: float = 25.0
    bus_kmh: float = 55.0
    road_factor: float = 1.36
    bus_minimum_minutes: float = 10.0
    transfer_minimum_minutes: float = 15.0
    city_kmh: float = 15.0
    unverified_penalty_minutes: float = 240.0
    road_factor_min: float = 1.0
    road_factor_max: float = 2.5
    road_detour_allowance_km: float = 40.0
    line_kind_kmh: dict = field(default_factory=dict)

    def rail_minutes(self, distance_km, usage, electrified, narrow_gauge=False) -> float:
        """Estimated minutes over *distance_km* of track of the given class."""
        if narrow_gauge:
            speed = self.narrow_gauge_kmh
        else:
            key = (usage if usage in ("main", "branch") else "unknown", bool(electrified))
            speed = self.rail_kmh[key]
        return max(self.rail_minimum_minutes, distance_km / speed * 60.0)

    def line_minutes(self, distance_km: float, kind: str) -> float:
        """Estimated minutes over *distance_km* of a named line of *kind* (``[rail.line_kind]``).

        >>> SpeedModel(rail_kmh={}, line_kind_kmh={"main": 75.0}).line_minutes(75.0, "main")
        60.0
        """
        return max(self.rail_minimum_minutes, distance_km / self.line_kind_kmh[kind] * 60.0)

    def bus_minutes(self, road_km: float) -> float:
        """Estimated minutes for *road_km* of intercity bus route."""
        return max(self.bus_minimum_minutes, road_km / self.bus_kmh * 60.0)

    def transfer_minutes(self, distance_km: float) -> float:
        """Estimated minutes between two stops *distance_km* apart in one settlement."""
        return self.transfer_minimum_minutes + distance_km / self.city_kmh * 60.0


def load_speed_model(path: Path) -> SpeedModel:
    """Read ``config/speed_model.toml``; raises :class:`DataError` naming a missing key."""
    data = read_toml(path)
    try:
        rail, bus, transfer = data["rail"], data["bus"], data["transfer"]
        rail_kmh = {
            (usage, electrified): float(
                rail[f"{usage}_{'electrified' if electrified else 'diesel'}_kmh"]
            )
            for usage in ("main", "branch", "unknown")
            for electrified in (True, False)
        }
        model = SpeedModel(
            rail_kmh=rail_kmh,
            rail_minimum_minutes=float(rail["minimum_minutes"]),
            narrow_gauge_kmh=float(rail["narrow_gauge_kmh"]),
            bus_kmh=float(bus["average_kmh"]),
            road_factor=float(bus["road_factor"]),
            bus_minimum_minutes=float(bus["minimum_minutes"]),
            transfer_minimum_minutes=float(transfer["minimum_minutes"]),
            city_kmh=float(transfer["city_kmh"]),
            unverified_penalty_minutes=float(bus["unverified_penalty_minutes"]),
            road_factor_min=float(bus["road_factor_min"]),
            road_factor_max=float(bus["road_factor_max"]),
            road_detour_allowance_km=float(bus["road_detour_allowance_km"]),
            line_kind_kmh={k: float(v) for k, v in rail["line_kind"].items()},
        )
    except KeyError as err:
        raise DataError(f"{Path(path).name}: missing key {err.args[0]!r}", value=str(path)) from err
    speeds = [*rail_kmh.values(), *model.line_kind_kmh.values(), model.narrow_gauge_kmh]
    speeds += [model.bus_kmh, model.city_kmh]
    if min(speeds) <= 0 or model.transfer_minimum_minutes <= 0:
        raise DataError(f"{Path(path).name}: speeds and the transfer minimum must be positive")
    return model
