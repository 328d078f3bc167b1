"""Build the project's network from the raw sources in ``../shared/data/ukraine/``.

The importer reads the OSM rail extract, the 2019 bus register, the oblast polygons and the
project's own configuration (speed model, named lines, hand-added links), and returns a
:class:`~advisor.network.model.Network` plus a :class:`BuildReport` that says what it found
and what it repaired. It never copies a source file: :mod:`advisor.network.dataset` writes the
network in the project's own schema.

Examples
--------
>>> name_root("Кривий Ріг-Головний"), name_root("Запоріжжя 2"), name_root("Синельникове І")
('кривий ріг', 'запоріжжя', 'синельникове')
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import networkx as nx
import shapely
from shapely.geometry import Point, shape
from translitua import RussianICAO, translit

from advisor.errors import DataError
from advisor.network import sources as src
from advisor.network.dataset import stamp
from advisor.network.geo import crowfly_km
from advisor.network.model import (
    Line,
    Link,
    LinkSource,
    Mode,
    Network,
    Oblast,
    Settlement,
    Station,
    StationKind,
    TimeSource,
)
from advisor.network.oblasts import oblast_of_koatuu
from advisor.network.search import PlaceAliases, city_key, load_aliases

__all__ = [
    "BuildReport",
    "BusJudgement",
    "build_network",
    "english_name",
    "expand_abbreviations",
    "judge_bus_row",
    "latin_name",
    "name_root",
]  # fmt: skip

logger = logging.getLogger(__name__)

ATTRIBUTION = (
    "Rail and oblast data © OpenStreetMap contributors and geoBoundaries, "
    "Open Database Licence (ODbL) 1.0",
    "Bus data: TEXTY's extract of the Ministry of Infrastructure of Ukraine register of "
    "interregional bus routes (April 2019, pre-war; endpoints only, no timetables), Apache-2.0",
)
#: How far (km) a rail station may lie from a register settlement's centre and still belong to
#: it when its name does not say so. The register's route count is the only size proxy the
#: sources offer: big cities spread further.
_RADIUS_BY_ROUTES = ((100, 7.0), (30, 4.0), (0, 2.5))
#: A station whose name root equals a settlement's name belongs to it up to this far away.
_NAMED_RADIUS_KM = 30.0
_OBLAST_SIMPLIFY_DEG = 0.01


@dataclass
class BuildReport:
    """What a build found and repaired; :meth:`format` renders it for the CLI."""

    source_version: str = ""
    stations_by_kind: Counter = field(default_factory=Counter)
    links_by_mode: Counter = field(default_factory=Counter)
    links_by_source: Counter = field(default_factory=Counter)
    lines: int = 0
    estimated_lines: list[str] = field(default_factory=list)
    rail_components: list[int] = field(default_factory=list)
    all_components: list[int] = field(default_factory=list)
    isolated_stations: list[str] = field(default_factory=list)
    outside_ukraine: list[str] = field(default_factory=list)
    hand_added: list[str] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)
    dangling: list[str] = field(default_factory=list)
    settlements: int = 0
    main_stations: int = 0
    main_stations_cut_off: list[str] = field(default_factory=list)
    english_names_cleaned: list[str] = field(default_factory=list)
    with_historic_names: list[str] = field(default_factory=list)
    bus_links_judged: int = 0
    bus_links_dropped: list[str] = field(default_factory=list)
    bus_links_unverified: list[str] = field(default_factory=list)
    bus_links_re_estimated: list[str] = field(default_factory=list)
    bus_endpoints_checked: list[str] = field(default_factory=list)
    bus_stops_renamed: list[str] = field(default_factory=list)

    def format(self, limit: int = 12) -> str:
        """A plain-text report; long lists are cut to *limit* items with a count."""
        out = [f"source version: {self.source_version or 'unknown'}"]
        out.append("stations by kind: " + _counts(self.stations_by_kind))
        out.append("links by mode: " + _counts(self.links_by_mode))
        out.append("links by source: " + _counts(self.links_by_source))
        out.append(
            f"named lines: {self.lines} (with hand-added links: {len(self.estimated_lines)})"
        )
        out.append(f"settlements: {self.settlements}, main stations: {self.main_stations}")
        out.append(f"bus register links judged: {self.bus_links_judged}")
        out.append(_sizes("rail-only components", self.rail_components))
        out.append(_sizes("all-mode components", self.all_components))
        for title, items in (
            ("isolated stations (no link at all)", self.isolated_stations),
            ("stations outside Ukraine (kept, oblast empty)", self.outside_ukraine),
            ("main stations outside the largest rail component", self.main_stations_cut_off),
            ("hand-added links", self.hand_added),
            ("English names with Cyrillic letters, cleaned", self.english_names_cleaned),
            ("stations given historic names (station aliases)", self.with_historic_names),
            ("bus register links dropped (no evidence of service)", self.bus_links_dropped),
            ("bus register links kept as unverified (penalised)", self.bus_links_unverified),
            ("bus register lengths re-estimated", self.bus_links_re_estimated),
            ("bus endpoints whose code and coordinates disagree", self.bus_endpoints_checked),
            ("2019 bus stops given their current names", self.bus_stops_renamed),
            ("duplicate ids (first kept)", self.duplicate_ids),
            ("dangling ids (link dropped)", self.dangling),
        ):
            out.append(f"{title}: {len(items)}")
            out.extend(f"  - {item}" for item in items[:limit])
            if len(items) > limit:
                out.append(f"  … and {len(items) - limit} more")
        return "\n".join(out)


def _counts(counter: Counter) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counter.items())) or "none"


def _sizes(title: str, sizes: list[int]) -> str:
    singles = sum(1 for s in sizes if s == 1)
    return f"{title}: {len(sizes)} (largest {sizes[:6]}, single stations {singles})"


_ROMAN_OR_NUMBER = re.compile(r"^(?:[0-9]+|[IІ]{1,3}|[IІ]?V)$")


def name_root(name: str) -> str:
    """The settlement part of a station name: before a dash, without a trailing number."""
    text = re.split(r"\s*[-–—]\s*", name.strip(), maxsplit=1)[0]
    words = text.replace("’", "'").replace("ʼ", "'").split()
    while len(words) > 1 and _ROMAN_OR_NUMBER.match(words[-1]):
        words.pop()
    return " ".join(words).lower()


# ---------------------------------------------------------------------------------------------
# public entry point


def build_network(
    sources: Path,
    speed_model_path: Path,
    lines_path: Path,
    hand_links_path: Path,
    aliases_path: Path | None = None,
) -> tuple[Network, BuildReport]:
    """Read every source, repair, resolve the named lines and return the network and a report.

    *aliases_path* is the station search's aliases file (default
    ``config/station_aliases.toml``); its historic names go to the main stations of their
    places. Raises :class:`DataError` naming the file and column when a source is missing or
    malformed, and naming the line and hub when a named line cannot be resolved.
    """
    sources = Path(sources)
    report = BuildReport()
    manifest = src.read_manifest(sources)
    report.source_version = str(manifest.get("versionId", ""))
    rows = {name: src.read_csv(sources / name, cols) for name, cols in src.REQUIRED_COLUMNS.items()}
    oblast_features = src.read_geojson(sources / src.OBLASTS)
    speed = src.load_speed_model(speed_model_path)
    hand_config = src.read_toml(hand_links_path)
    lines_config = src.read_toml(lines_path)

    oblasts, locate = _oblasts(oblast_features)
    stations, station_rows = _rail_stations(rows[src.RAIL_STATIONS], report)
    links = _rail_links(rows[src.RAIL_EDGES], stations, speed, report)
    links += _hand_links(hand_config, stations, speed, report)
    bus_stops = _bus_stops(rows[src.BUS_CITIES], locate, report)
    hand_stops = _hand_stops(hand_config, bus_stops, locate, report)
    bus_stops.update(hand_stops)
    routes = {
        row["koatuu"].strip(): int(_number(row.get("route_endpoint_count", "0")))
        for row in rows[src.BUS_CITIES]
    }
    overrides = {str(k): str(v) for k, v in hand_config.get("main_stations", {}).items()}
    settlements, stations = _settlements(
        stations, station_rows, bus_stops, routes, links, overrides
    )
    stations.update(bus_stops)
    links += _bus_links(rows[src.BUS_LINKS], bus_stops, speed, report)
    links += _hand_bus_links(hand_config, bus_stops, speed, report)
    links += _transfer_links(settlements, stations, speed, set(hand_stops))
    aliases = load_aliases(aliases_path)
    _current_bus_stop_names(stations, settlements, aliases, report)
    _historic_names(stations, settlements, aliases, report)
    lines, links = _resolve_lines(lines_config, stations, links, speed)
    metadata = _metadata(manifest, sources, speed)
    metadata["through_services"] = _through_services(lines_config, lines)
    network = Network.build(
        stations.values(), links, lines, metadata, oblasts.values(), settlements.values()
    )
    _summarise(network, report)
    return stamp(network, report.source_version or "unknown"), report


# ---------------------------------------------------------------------------------------------
# oblasts


def _oblasts(features: list[dict]):
    """Simplified oblast outlines, and a function that names the oblast of a point."""
    oblasts: dict[str, Oblast] = {}
    shapes = []
    for feature in features:
        props = feature["properties"]
        geometry = shape(feature["geometry"])
        shapes.append((props["shapeISO"], geometry))
        simple = shapely.simplify(geometry, _OBLAST_SIMPLIFY_DEG, preserve_topology=True)
        parts = getattr(simple, "geoms", [simple])
        rings = tuple(
            tuple((round(x, 4), round(y, 4)) for x, y in part.exterior.coords) for part in parts
        )
        oblasts[props["shapeISO"]] = Oblast(props["shapeISO"], props.get("shapeName", ""), rings)
    for _, geometry in shapes:
        shapely.prepare(geometry)

    def locate(lat: float, lon: float) -> str:
        point = Point(lon, lat)
        return next((iso for iso, geometry in shapes if geometry.contains(point)), "")

    return oblasts, locate


# ---------------------------------------------------------------------------------------------
# rail


def _rail_stations(rows, report: BuildReport):
    stations: dict[str, Station] = {}
    kept_rows: dict[str, dict] = {}
    for row in rows:
        sid = row["station_id"].strip()
        if not sid:
            report.dangling.append(f"{src.RAIL_STATIONS}: a row without station_id")
            continue
        if sid in stations:
            report.duplicate_ids.append(f"{src.RAIL_STATIONS}: station_id {sid!r}")
            continue
        stations[sid] = _rail_station(row, sid)
        kept_rows[sid] = row
        _clean_english_name(stations, sid, row["name_en_osm"].strip(), report)
        if not stations[sid].oblast_iso:
            report.outside_ukraine.append(f"{sid} {row['name_uk']}")
    return stations, kept_rows


def _rail_station(row: dict, sid: str) -> Station:
    try:
        lat, lon = float(row["lat"]), float(row["lon"])
    except ValueError as err:
        raise DataError(f"{src.RAIL_STATIONS}: station {sid!r} has bad coordinates") from err
    kind = StationKind.HALT if row["station_type"] == "halt" else StationKind.RAIL_STATION
    return Station(
        id=sid,
        name_uk=row["name_uk"].strip(),
        name_latin=latin_name(row["name_uk"].strip(), row["name_latin_kmu2010"].strip()),
        lat=lat,
        lon=lon,
        oblast_iso=row["oblast_iso"].strip(),
        kind=kind,
        name_en=row["name_en_osm"].strip(),
        name_ru=row["name_ru_osm"].strip(),
        uz_code=row["uz_express_code"].strip(),
    )


#: Cyrillic letters that look like Latin ones: OSM English names sometimes carry them
#: ("Kharkіv" with a Cyrillic і), which a reader cannot see but search and sorting can.
_LOOKALIKES = str.maketrans("аеіорсухАВЕІКМНОРСТХ", "aeiopcyxABEIKMHOPCTX")
_CYRILLIC = re.compile("[\u0400-\u04ff]")


def english_name(name_en: str, name_latin: str) -> str:
    """*name_en* in Latin letters only: lookalike Cyrillic letters replaced, else *name_latin*.

    A name that still has Cyrillic letters after the lookalikes are replaced is not shown at
    all: the official transliteration stands in for it.

    >>> english_name("Kharkіv-Pasazhyrsky", "Kharkiv-Pas.")  # a Cyrillic і
    'Kharkiv-Pasazhyrsky'
    >>> english_name("Kharkiv Пасажирський", "Kharkiv-Pas.")
    'Kharkiv-Pas.'
    >>> english_name("Lviv", "Lviv")
    'Lviv'
    """
    if not _CYRILLIC.search(name_en):
        return name_en
    cleaned = name_en.translate(_LOOKALIKES)
    return name_latin if _CYRILLIC.search(cleaned) else cleaned


def latin_name(name_uk: str, given: str = "") -> str:
    """The official Latin form of *name_uk* (the 2010 transliteration), abbreviations written out.

    *given* (the source's transliteration) is used when it is all Latin. The railway's
    abbreviation "Пас." is written out as "Pasazhyrskyi" in the gender of the place name, as
    the railway's full station names have it (Kyiv-Pasazhyrskyi, Lozova-Pasazhyrska). Stations
    abroad and in occupied Crimea bear Russian names whose letters (э, ы, ё) the Ukrainian rules
    of 2010 do not cover; those are transliterated by the ICAO Russian table.

    >>> latin_name("Ізюм", "Izium"), latin_name("Лозова-Пас."), latin_name("Київ-Пас.", "Kyiv-Pas.")
    ('Izium', 'Lozova-Pasazhyrska', 'Kyiv-Pasazhyrskyi')
    >>> latin_name("Эриванский", "Эryvanskyi")
    'Erivanskii'
    """
    full = expand_abbreviations(name_uk)
    if given and not _CYRILLIC.search(given) and full == name_uk:
        return given
    name = translit(full)
    return translit(full, RussianICAO) if _CYRILLIC.search(name) else name


_PASSENGER = re.compile(r"^(?P<root>.+?)[-\s]+Пас\.?$")


def expand_abbreviations(name_uk: str) -> str:
    """*name_uk* with the railway's "Пас." written out in the gender of the place name.

    >>> expand_abbreviations("Київ-Пас."), expand_abbreviations("Знам'янка-Пас.")
    ('Київ-Пасажирський', "Знам'янка-Пасажирська")
    >>> expand_abbreviations("Кам'янське Пас."), expand_abbreviations("Козятин-1")
    ("Кам'янське-Пасажирське", 'Козятин-1')
    """
    match = _PASSENGER.match(name_uk.strip())
    if not match:
        return name_uk
    root = match["root"]
    ending = "ська" if root[-1] in "ая" else "ське" if root[-1] in "еоє" else "ський"
    return f"{root}-Пасажир{ending}"


def _clean_english_name(stations, sid: str, raw: str, report: BuildReport) -> None:
    station = stations[sid]
    name = english_name(raw, station.name_latin)
    if name != raw:
        stations[sid] = replace(station, name_en=name)
        report.english_names_cleaned.append(f"{sid} {raw!r} → {name!r}")


_RAIL_SOURCE = {"osm": LinkSource.OSM_TRACK, "connector-estimated": LinkSource.REPAIR_CONNECTOR}


def _rail_links(rows, stations, speed: src.SpeedModel, report: BuildReport) -> list[Link]:
    links: list[Link] = []
    seen: Counter = Counter()
    for number, row in enumerate(rows, start=2):
        a, b = row["from"].strip(), row["to"].strip()
        missing = [x for x in (a, b) if x not in stations]
        if missing:
            report.dangling.append(
                f"{src.RAIL_EDGES} line {number}: unknown station {missing[0]!r}"
            )
            continue
        if row["kind"] not in _RAIL_SOURCE:
            raise DataError(f"{src.RAIL_EDGES} line {number}: unknown kind {row['kind']!r}")
        link_id = f"rail:{a}:{b}"
        seen[link_id] += 1
        if seen[link_id] > 1:
            report.duplicate_ids.append(f"{src.RAIL_EDGES} line {number}: second edge {a}–{b}")
            link_id = f"{link_id}:{seen[link_id]}"
        links.append(_rail_link(row, number, link_id, a, b, speed))
    return links


def _rail_link(row, number, link_id, a, b, speed: src.SpeedModel) -> Link:
    try:
        distance = float(row["distance_km"])
    except ValueError as err:
        raise DataError(f"{src.RAIL_EDGES} line {number}: bad distance_km") from err
    # Untagged segments count as electrified: see config/speed_model.toml.
    electrified = row["electrified"].strip() != "no"
    narrow = row.get("railway") == "narrow_gauge"
    return Link(
        id=link_id,
        from_id=a,
        to_id=b,
        mode=Mode.RAIL,
        distance_km=round(distance, 3),
        travel_minutes=round(speed.rail_minutes(distance, row["usage"], electrified, narrow), 2),
        source=_RAIL_SOURCE[row["kind"]],
        osm_way_ids=tuple(w for w in row["osm_way_ids"].split(";") if w),
        parallel=row["skip_edge"].strip().lower() == "true",
    )


def _hand_entries(config: dict, mode: Mode, stations):
    """The hand links of *mode* as ``(id, from, to, why, entry)``; ends must be in *stations*."""
    for entry in config.get("link", []):
        try:
            hid, a, b, why = entry["id"], entry["from"], entry["to"], entry["why"]
        except KeyError as err:
            raise DataError(f"hand links: an entry lacks {err.args[0]!r}") from err
        if entry.get("mode", "rail") not in (Mode.RAIL, Mode.BUS):
            raise DataError(f"hand link {hid!r}: mode must be 'rail' or 'bus'", value=hid)
        if entry.get("mode", "rail") != mode:
            continue
        for sid in (a, b):
            if sid not in stations:
                kind = "station" if mode is Mode.RAIL else "bus stop"
                raise DataError(f"hand link {hid!r}: unknown {kind} {sid!r}", value=sid)
        yield hid, a, b, why, entry


def _hand_links(config: dict, stations, speed: src.SpeedModel, report) -> list[Link]:
    factor = float(config.get("detour_factor", 1.25))
    links = []
    for hid, a, b, why, entry in _hand_entries(config, Mode.RAIL, stations):
        sa, sb = stations[a], stations[b]
        crow = crowfly_km(sa.lat, sa.lon, sb.lat, sb.lon)
        distance = float(entry.get("distance_km", factor * crow))
        usage, electrified = entry.get("usage", "main"), bool(entry.get("electrified", False))
        note = f"{why} (estimated: {distance:.1f} km = "
        note += (
            "given length" if "distance_km" in entry else f"{factor} × {crow:.1f} km straight line"
        )
        links.append(
            Link(
                id=f"hand:{hid}",
                from_id=a,
                to_id=b,
                mode=Mode.RAIL,
                distance_km=round(distance, 3),
                travel_minutes=round(speed.rail_minutes(distance, usage, electrified), 2),
                source=LinkSource.HAND_ADDED,
                source_note=note + ")",
            )
        )
        report.hand_added.append(f"{sa.name_uk} – {sb.name_uk}, {distance:.1f} km: {why}")
    return links


def _hand_bus_links(config: dict, stops, speed: src.SpeedModel, report) -> list[Link]:
    """Buses the 2019 register cannot know (railway replacement buses of 2026).

    An entry may list the stops it calls at between its ends (``via``). One bus ridden through
    is one ride, so the importer adds a link for every pair of its stops, not only for
    neighbours: otherwise Lozova → Kramatorsk on the one replacement bus would read as three
    buses with two changes. A pair's road length is the sum over the legs between them, each
    the road factor × the straight line; the note says why the bus exists and on whose word.
    """
    links = []
    for hid, a, b, why, entry in _hand_entries(config, Mode.BUS, stops):
        if not entry.get("source"):
            raise DataError(f"hand bus link {hid!r}: needs a 'source'", value=hid)
        calls = [a, *entry.get("via", []), b]
        unknown = [sid for sid in calls if sid not in stops]
        if unknown:
            raise DataError(f"hand bus link {hid!r}: unknown bus stop {unknown[0]!r}", value=hid)
        roads = [
            speed.road_factor * crowfly_km(stops[x].lat, stops[x].lon, stops[y].lat, stops[y].lon)
            for x, y in itertools.pairwise(calls)
        ]
        for i, j in itertools.combinations(range(len(calls)), 2):
            road = sum(roads[i:j])
            link_id = f"hand:{hid}" if (i, j) == (0, len(calls) - 1) else f"hand:{hid}:{i}-{j}"
            links.append(_hand_bus_link(link_id, calls[i], calls[j], road, why, entry, speed))
        names = " – ".join(stops[sid].name_uk for sid in calls)
        report.hand_added.append(f"bus {names}, {sum(roads):.1f} km: {why}")
    return links


def _hand_bus_link(link_id, a, b, road: float, why: str, entry, speed: src.SpeedModel) -> Link:
    return Link(
        id=link_id,
        from_id=a,
        to_id=b,
        mode=Mode.BUS,
        distance_km=round(road, 1),
        travel_minutes=round(speed.bus_minutes(road), 1),
        source=LinkSource.HAND_ADDED,
        time_source=TimeSource.ROAD_FACTOR,
        source_note=f"{why}. Source: {entry['source']} (estimated: {road:.1f} km of road = "
        f"{speed.road_factor} × the straight line between its stops)",
    )


def _hand_stops(config: dict, known, locate, report) -> dict[str, Station]:
    """Bus stops of towns the 2019 register lacks, for hand-added buses (``bus:<KOATUU>``)."""
    stops = {}
    for entry in config.get("stop", []):
        try:
            koatuu, name, why = str(entry["koatuu"]), entry["name_uk"], entry["why"]
            lat, lon = float(entry["lat"]), float(entry["lon"])
        except KeyError as err:
            raise DataError(f"hand stops: an entry lacks {err.args[0]!r}: {entry!r}") from err
        sid = f"bus:{koatuu}"
        if sid in known or sid in stops:
            raise DataError(f"hand stop {sid!r} already exists", value=sid)
        stops[sid] = _bus_stop(koatuu, name, lat, lon, locate)
        report.hand_added.append(f"bus stop {name} ({sid}): {why}")
    return stops


# ---------------------------------------------------------------------------------------------
# bus


def _bus_stops(rows, locate, report: BuildReport) -> dict[str, Station]:
    stops: dict[str, Station] = {}
    for row in rows:
        koatuu = row["koatuu"].strip()
        sid = f"bus:{koatuu}"
        if sid in stops:
            report.duplicate_ids.append(f"{src.BUS_CITIES}: koatuu {koatuu!r}")
            continue
        lat, lon = float(row["lat"]), float(row["lon"])
        stops[sid] = _bus_stop(koatuu, row["city_uk"].strip(), lat, lon, locate)
    return stops


def _bus_stop(koatuu: str, name: str, lat: float, lon: float, locate) -> Station:
    """The bus stop ``bus:<KOATUU>`` of a settlement, at its centre."""
    return Station(
        id=f"bus:{koatuu}",
        name_uk=name,
        name_latin=latin_name(name),
        lat=lat,
        lon=lon,
        oblast_iso=locate(lat, lon),
        kind=StationKind.BUS_STATION,
        settlement=koatuu,
    )


def _number(value: str, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default




@dataclass(frozen=True, slots=True)
class BusJudgement:
    """What the importer decided about one register row (see :func:`judge_bus_row`).

    ``road_km`` is the length used; ``re_estimated`` says it is the road factor × the straight
    line because the register's length was missing, shorter than the straight line or far above
    it; ``notes`` say why, in words that go into the link's ``source_note``.
    """

    keep: bool
    unverified: bool
    road_km: float
    re_estimated: bool
    notes: tuple[str, ...]


def judge_bus_row(
    daily: int, operators: int, road_km: float, crow_km: float, speed
) -> BusJudgement:
    """Judge a register link by its evidence of service and the plausibility of its length.

    >>> from advisor.network.sources import SpeedModel
    >>> model = SpeedModel(rail_kmh={})
    >>> judge_bus_row(62, 9, 191.0, 156.6, model).unverified
    False
    >>> j = judge_bus_row(1, 0, 44.0, 352.3, model)  # Rivne - Uman in the register
    >>> j.keep, j.unverified, j.re_estimated, round(j.road_km)
    (True, True, True, 479)
    >>> judge_bus_row(0, 0, 100.0, 80.0, model).keep
    False
    """
    notes = []
    if daily <= 0 and operators <= 0:
        return BusJudgement(False, True, road_km, False, ("no daily record and no operator",))
    unverified = daily <= 0 or operators <= 0
    if unverified:
        notes.append("unverified: " + ("no daily record" if daily <= 0 else "no operator named"))
    # A short route may wind far more than a long one, hence the allowance in km.
    low = speed.road_factor_min * crow_km
    high = max(speed.road_factor_max * crow_km, crow_km + speed.road_detour_allowance_km)
    if road_km > 0 and low <= road_km <= high:
        return BusJudgement(True, unverified, road_km, False, tuple(notes))
    if road_km > 0:
        side = "shorter than" if road_km < low else "far longer than"
        notes.append(f"register length {road_km:.0f} km is {side} the straight line")
    estimate = speed.road_factor * crow_km
    notes.append(f"length re-estimated as {speed.road_factor} × {crow_km:.1f} km straight line")
    return BusJudgement(True, unverified, estimate, True, tuple(notes))


def _endpoint_fixes(stops, report: BuildReport) -> dict[str, str]:
    """Register stops whose KOATUU oblast disagrees with the oblast of their coordinates.

    When another stop of the same name lies at the same place inside the coordinates' oblast,
    the row means that one (the register lists Lutsk once with Luhansk's code 4410100000): its
    links are moved there. Otherwise the stop is reported and kept.
    """
    fixes = {}
    for sid, stop in stops.items():
        expected = oblast_of_koatuu(stop.settlement)
        if not expected or not stop.oblast_iso or expected == stop.oblast_iso:
            continue
        twin = next(
            (other.id for other in stops.values()
             if other.id != sid and other.name_uk == stop.name_uk
             and oblast_of_koatuu(other.settlement) == stop.oblast_iso
             and crowfly_km(stop.lat, stop.lon, other.lat, other.lon) < 5),
            "",
        )  # fmt: skip
        what = f"moved to {twin}" if twin else "kept (check its coordinates)"
        report.bus_endpoints_checked.append(
            f"{sid} {stop.name_uk}: code says {expected}, coordinates in {stop.oblast_iso}; {what}"
        )
        if twin:
            fixes[sid] = twin
    return fixes


def _bus_links(rows, stops, speed: src.SpeedModel, report: BuildReport) -> list[Link]:
    links: dict[str, Link] = {}
    fixes = _endpoint_fixes(stops, report)
    for number, row in enumerate(rows, start=2):
        a, b = f"bus:{row['koatuu_a'].strip()}", f"bus:{row['koatuu_b'].strip()}"
        a, b = fixes.get(a, a), fixes.get(b, b)
        if a == b:
            report.bus_links_judged += 1
            report.bus_links_dropped.append(f"line {number}: both ends are {a}")
            continue
        missing = [x for x in (a, b) if x not in stops]
        if missing:
            report.dangling.append(f"{src.BUS_LINKS} line {number}: unknown city {missing[0]!r}")
            continue
        link_id = f"bus:{min(a, b)[4:]}:{max(a, b)[4:]}"
        if link_id in links:
            report.duplicate_ids.append(f"{src.BUS_LINKS} line {number}: second pair {link_id}")
            continue
        link = _bus_link(row, link_id, stops[a], stops[b], speed, report)
        if link is not None:
            links[link_id] = link
    return list(links.values())


def _bus_link(row, link_id, a: Station, b: Station, speed: src.SpeedModel, report) -> Link | None:
    crow = crowfly_km(a.lat, a.lon, b.lat, b.lon)
    daily, operators = int(_number(row["daily_records"])), int(_number(row["operators"]))
    judged = judge_bus_row(daily, operators, _number(row["route_length_km_median"]), crow, speed)
    report.bus_links_judged += 1
    label = f"{a.name_uk} – {b.name_uk} ({link_id})"
    if not judged.keep:
        report.bus_links_dropped.append(f"{label}: {judged.notes[0]}")
        return None
    if judged.unverified:
        report.bus_links_unverified.append(f"{label}: {judged.notes[0]}")
    if judged.re_estimated:
        why = "; ".join(n for n in judged.notes if not n.startswith("unverified"))
        report.bus_links_re_estimated.append(f"{label}: {why}")
    flags = tuple(f.strip() for f in row["risk_context_flags"].split(";") if f.strip())
    road = judged.road_km
    return Link(
        id=link_id,
        from_id=a.id,
        to_id=b.id,
        mode=Mode.BUS,
        distance_km=round(road, 1),
        travel_minutes=round(speed.bus_minutes(road), 1),
        source=LinkSource.BUS_REGISTER_2019,
        time_source=TimeSource.ROAD_FACTOR if judged.re_estimated else TimeSource.ROAD_LENGTH,
        source_note="; ".join(judged.notes),
        operators=operators,
        daily_departures_2019=daily,
        risk_context=flags,
        unverified=judged.unverified,
        penalty_minutes=speed.unverified_penalty_minutes if judged.unverified else 0.0,
    )


# ---------------------------------------------------------------------------------------------
# settlements, main stations, transfers


def _settlements(stations, rows, bus_stops, routes, links, overrides):
    """Group rail stations into settlements and mark each settlement's main station."""
    component = _rail_component_sizes(stations, links)
    members: dict[str, list[str]] = defaultdict(list)
    for sid, station in stations.items():
        key = _register_settlement(station, bus_stops, routes)
        if key:
            members[key].append(sid)
    _known_cities(stations, rows, members)
    settlements: dict[str, Settlement] = {}
    updated = dict(stations)
    for key, sids in members.items():
        town = name_root(bus_stops[f"bus:{key}"].name_uk) if f"bus:{key}" in bus_stops else ""
        override = overrides.get(key, "")
        if override and override not in sids:
            raise DataError(f"main station override {override!r} is not in settlement {key!r}")
        main = _main_station(sids, stations, rows, component, town, override)
        for sid in sids:
            updated[sid] = replace(stations[sid], settlement=key, is_main=sid == main)
        settlements[key] = _settlement(key, bus_stops, stations, main or sids[0], bool(main))
    for stop in bus_stops.values():
        if stop.settlement not in settlements:
            settlements[stop.settlement] = _settlement(
                stop.settlement, bus_stops, stations, "", False
            )
    for key, settlement in settlements.items():
        stop_id = f"bus:{key}"
        if stop_id in bus_stops and not settlement.main_station_ids:
            bus_stops[stop_id] = replace(bus_stops[stop_id], is_main=True)
    return settlements, updated


def _rail_component_sizes(stations, links) -> dict[str, int]:
    graph = nx.Graph()
    graph.add_nodes_from(stations)
    graph.add_edges_from((link.from_id, link.to_id) for link in links)
    return {n: len(c) for c in nx.connected_components(graph) for n in c}


def _register_settlement(station: Station, bus_stops, routes) -> str:
    """The KOATUU code of the register settlement *station* lies in, or ``""``."""
    root = name_root(station.name_uk)
    best, best_km = "", math.inf
    for stop in bus_stops.values():
        if abs(stop.lat - station.lat) > 0.3:  # cheap cut before the haversine
            continue
        km = crowfly_km(station.lat, station.lon, stop.lat, stop.lon)
        if km > _NAMED_RADIUS_KM:
            continue
        named = name_root(stop.name_uk) == root
        if (named or km <= _radius(routes.get(stop.settlement, 0))) and km < best_km:
            best, best_km = stop.settlement, km
    return best


def _radius(routes: int) -> float:
    return next(radius for threshold, radius in _RADIUS_BY_ROUTES if routes >= threshold)


def _known_cities(stations, rows, members) -> None:
    """Settlements for hubs the bus register does not name (Koziatyn, Zhmerynka …)."""
    placed = {sid for sids in members.values() for sid in sids}
    for sid, row in rows.items():
        hub = row["reviewed_hub"].strip().lower() == "true" or row["uz_express_code"].strip()
        if sid in placed or not hub:
            continue
        root, hub_station = name_root(stations[sid].name_uk), stations[sid]
        key = f"rail:{sid}"
        for other, station in stations.items():
            if other in placed or name_root(station.name_uk) != root:
                continue
            if crowfly_km(hub_station.lat, hub_station.lon, station.lat, station.lon) <= 15:
                members[key].append(other)
                placed.add(other)


def _main_station(sids, stations, rows, component, town="", override="") -> str:
    """The main passenger station among *sids*: reviewed hub, ticket code, network, name, degree.

    *town* is the settlement's name (lower case); *override* a station id from the hand
    repairs that wins outright.
    """

    def score(sid):
        row = rows.get(sid, {})
        return (
            stations[sid].kind is StationKind.RAIL_STATION,
            row.get("reviewed_hub", "").lower() == "true" and not sid.startswith("osm-"),
            bool(stations[sid].uz_code),
            component.get(sid, 0),
            name_root(stations[sid].name_uk) == town,  # Бердянськ, not the nearby Берда
            _plain_name(stations[sid].name_uk) == town,  # Слов'янськ, not Слов'янськ-Гілка
            int(_number(row.get("osm_degree", "0"))),
            sid,
        )

    if override:
        return override

    best = max(sids, key=score)
    return best if stations[best].kind is StationKind.RAIL_STATION else ""


def _plain_name(name: str) -> str:
    """*name* in lower case with one apostrophe: compares a station's whole name to its town."""
    return " ".join(name.replace("’", "'").replace("ʼ", "'").split()).lower()


def _settlement(key, bus_stops, stations, anchor_id, has_main) -> Settlement:
    stop = bus_stops.get(f"bus:{key}")
    anchor = stop or stations[anchor_id]
    name = stop.name_uk if stop else name_root(anchor.name_uk).title()
    return Settlement(
        id=key,
        name_uk=name,
        name_latin=latin_name(name),
        lat=anchor.lat,
        lon=anchor.lon,
        oblast_iso=anchor.oblast_iso,
        koatuu=key if stop else "",
        main_station_ids=(anchor_id,) if has_main else (),
        bus_stop_id=stop.id if stop else "",
    )


def _transfer_links(settlements, stations, speed: src.SpeedModel, hand_stops=()) -> list[Link]:
    links = []
    for settlement in settlements.values():
        if not settlement.bus_stop_id:
            continue
        stop = stations[settlement.bus_stop_id]
        for main in settlement.main_station_ids:
            rail = stations[main]
            km = crowfly_km(stop.lat, stop.lon, rail.lat, rail.lon)
            links.append(
                Link(
                    id=f"transfer:{main}:{stop.id}",
                    from_id=main,
                    to_id=stop.id,
                    mode=Mode.TRANSFER,
                    distance_km=round(km, 2),
                    travel_minutes=round(speed.transfer_minutes(km), 1),
                    source=LinkSource.TRANSFER_ESTIMATE,
                    time_source=TimeSource.TRANSFER_MODEL,
                    source_note=(
                        "bus stop placed by hand at the town centre (replacement buses)"
                        if stop.id in hand_stops
                        else "bus stop placed at the settlement centre (2019 register)"
                    ),
                )
            )
    return links


def _current_bus_stop_names(stations, settlements, aliases, report) -> None:
    """Give 2019 bus stops that bear a pre-2016 name (Котовськ, Іллічівськ) the current one.

    The aliases file names such a stop in a place's ``station`` list and its old name among
    ``historic``; the old name stays searchable as a historic name of the stop.
    """
    for alias in aliases:
        for sid in alias.stations:
            stop = stations.get(sid)
            if stop is None or stop.kind is not StationKind.BUS_STATION:
                continue
            if stop.name_uk not in alias.historic:
                continue
            stations[sid] = replace(
                stop,
                name_uk=alias.name,
                name_latin=latin_name(alias.name),
                historic_names=tuple(dict.fromkeys((*stop.historic_names, stop.name_uk))),
            )
            settlement = settlements.get(stop.settlement)
            if settlement is not None and settlement.name_uk == stop.name_uk:
                settlements[stop.settlement] = replace(
                    settlement, name_uk=alias.name, name_latin=latin_name(alias.name)
                )
            report.bus_stops_renamed.append(f"{sid} {stop.name_uk} → {alias.name}")


def _historic_names(stations, settlements, aliases: tuple[PlaceAliases, ...], report) -> None:
    """Give the former names of each aliased place to its main station (or stations named).

    The aliases file is the search helper's; reading it here keeps one copy of the data.
    """
    places: dict[str, list[Settlement]] = defaultdict(list)
    for settlement in settlements.values():
        places[city_key(settlement.name_uk)].append(settlement)
    for alias in aliases:
        if not alias.historic:
            continue
        targets = [sid for sid in alias.stations if sid in stations]
        for settlement in places.get(city_key(alias.name), ()):
            if not alias.oblast or settlement.oblast_iso == alias.oblast:
                targets += settlement.main_station_ids or [settlement.bus_stop_id]
        if not targets:  # a town with neither bus stop nor settlement: its named rail station
            targets = _stations_named(stations, alias)
        for sid in dict.fromkeys(filter(None, targets)):
            old = stations[sid].historic_names
            names = tuple(dict.fromkeys((*old, *alias.historic)))
            stations[sid] = replace(stations[sid], historic_names=names)
            if not old:
                report.with_historic_names.append(f"{sid} {stations[sid].name_uk}: {names[0]} …")


def _stations_named(stations, alias: PlaceAliases) -> list[str]:
    key = city_key(alias.name)
    return [
        sid
        for sid, station in stations.items()
        if station.kind is StationKind.RAIL_STATION
        and (not alias.oblast or station.oblast_iso == alias.oblast)
        and name_root(station.name_uk) == name_root(alias.name)
        and city_key(station.name_uk) == key
    ]


# ---------------------------------------------------------------------------------------------
# named lines


def _resolve_lines(config: dict, stations, links: list[Link], speed: src.SpeedModel):
    """Resolve every configured line to its stations and links; returns lines and new links.

    The rail links of named lines and sections get their times from the kind of line
    (:func:`_timed_by_kind`), so the main lines long-distance trains take win over minor
    lines of similar length.
    """
    rail = [link for link in links if link.mode is Mode.RAIL]
    through = _rail_graph(stations, [link for link in rail if not link.parallel])
    full = _rail_graph(stations, rail)
    by_pair: dict[frozenset, list[Link]] = defaultdict(list)
    for link in rail:
        by_pair[frozenset((link.from_id, link.to_id))].append(link)
    index = _name_index(stations)
    lines, covering = [], defaultdict(list)
    seen = set()
    for entry in config.get("line", []):
        line = _resolve_line(entry, stations, index, through, full, by_pair, seen, speed)
        lines.append(line)
        for link_id in line.link_ids:
            covering[link_id].append(line.id)
    sections = [_section(entry, stations, rail, speed) for entry in config.get("section", [])]
    kinds = _link_kinds(lines, sections, speed)
    extra = _extra_minutes(config.get("line", []), lines, rail)
    new_links = [
        _timed_by_kind(
            replace(link, line_ids=tuple(covering[link.id])) if link.id in covering else link,
            kinds.get(link.id),
            speed,
            extra.get(link.id, 0.0),
        )
        for link in links
    ]
    return lines, new_links


def _extra_minutes(entries, lines, rail: list[Link]) -> dict[str, float]:
    """A line's ``extra_minutes`` shared over its through links by length."""
    by_id = {link.id: link for link in rail}
    extra: dict[str, float] = {}
    for entry, line in zip(entries, lines, strict=True):
        minutes = float(entry.get("extra_minutes", 0.0))
        through = [by_id[i] for i in line.link_ids if not by_id[i].parallel]
        total = sum(link.distance_km for link in through)
        if minutes <= 0 or total <= 0:
            continue
        for link in line.link_ids:  # a parallel link spans the same stretch: its share too
            extra[link] = minutes * by_id[link].distance_km / total
    return extra


def _section(entry: dict, stations, rail: list[Link], speed: src.SpeedModel) -> tuple:
    """A ``[[section]]`` of the lines file as ``(kind, link ids)``: every rail link whose
    midpoint lies inside its ``area`` (a ring of ``[lon, lat]``). An area, not a chain of hubs,
    because a mountain crossing has parallel tracks (old and new tunnels) that a chain between
    hubs would miss and the search would then take at plain speed.
    """
    try:
        section_id, kind, ring = entry["id"], entry["kind"], entry["area"]
        area = shapely.Polygon([(float(lon), float(lat)) for lon, lat in ring])
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"lines: bad section {entry.get('id', entry)!r}: {err}") from err
    if kind not in speed.line_kind_kmh:
        raise DataError(f"section {section_id!r}: unknown kind {kind!r}", value=kind)
    shapely.prepare(area)
    inside = frozenset(
        link.id
        for link in rail
        if area.contains(Point(*_midpoint(stations[link.from_id], stations[link.to_id])))
    )
    if not inside:
        raise DataError(f"section {section_id!r}: no rail link inside its area", value=section_id)
    return kind, inside


def _midpoint(a: Station, b: Station) -> tuple[float, float]:
    return (a.lon + b.lon) / 2, (a.lat + b.lat) / 2


def _link_kinds(lines, sections, speed: src.SpeedModel) -> dict[str, str]:
    """The kind of line each rail link is timed by: a section's kind, else the fastest kind of
    the lines covering it (a link shared by an Intercity line and a slower one is upgraded
    track)."""
    kinds: dict[str, str] = {}
    for line in lines:
        for link_id in line.link_ids:
            old = kinds.get(link_id)
            if old is None or speed.line_kind_kmh[line.kind] > speed.line_kind_kmh[old]:
                kinds[link_id] = line.kind
    for kind, link_ids in sections:
        kinds.update(dict.fromkeys(link_ids, kind))
    return kinds


def _timed_by_kind(link: Link, kind: str | None, speed: src.SpeedModel, extra=0.0) -> Link:
    if kind is None or link.mode is not Mode.RAIL:
        return link
    minutes = round(speed.line_minutes(link.distance_km, kind) + extra, 2)
    return replace(link, travel_minutes=minutes)


def _through_services(config: dict, lines: list[Line]) -> list[dict]:
    """The ``[[through]]`` entries of the lines file, checked: a name and two known lines.

    Two lines in a row need not meet: track on no named line may lie between them
    (Znamianka – Dolynska on the Kyiv – Kherson trains)."""
    by_id = {line.id: line for line in lines}
    services = []
    for entry in config.get("through", []):
        name, line_ids = entry.get("name", ""), list(entry.get("lines", []))
        unknown = [lid for lid in line_ids if lid not in by_id]
        if not name or len(line_ids) < 2 or unknown:
            raise DataError(
                f"lines: through service {name!r} needs a name and two known lines"
                + (f"; unknown line {unknown[0]!r}" if unknown else ""),
                value=name,
            )
        services.append({"name": name, "lines": line_ids})
    return services


def _rail_graph(stations, links) -> nx.Graph:
    graph = nx.Graph()
    for link in links:
        a, b = link.from_id, link.to_id
        if stations[a].kind is StationKind.BUS_STATION:
            continue
        old = graph.get_edge_data(a, b)
        if old is None or old["weight"] > link.distance_km:
            graph.add_edge(a, b, weight=link.distance_km)
    return graph


def _name_index(stations) -> dict[str, list[str]]:
    index: dict[str, list[str]] = defaultdict(list)
    for sid, station in stations.items():
        if station.kind is StationKind.RAIL_STATION:
            index[station.name_uk.replace("’", "'")].append(sid)
    return index


def _resolve_line(entry, stations, index, through, full, by_pair, seen, speed) -> Line:
    try:
        line_id, hubs = entry["id"], entry["hubs"]
        name_uk, name_en = entry["name_uk"], entry["name_en"]
        kind = entry.get("kind", "main")
    except KeyError as err:
        raise DataError(f"lines: an entry lacks {err.args[0]!r}: {entry!r}") from err
    if kind not in speed.line_kind_kmh:
        raise DataError(
            f"line {line_id!r}: unknown kind {kind!r}",
            value=kind,
            suggestions=sorted(speed.line_kind_kmh),
        )
    if line_id in seen:
        raise DataError(f"lines: duplicate line id {line_id!r}", value=line_id)
    seen.add(line_id)
    if len(hubs) < 2:
        raise DataError(f"line {line_id!r}: needs at least two hubs", value=line_id)
    hub_ids = [_hub_id(line_id, hub, stations, index) for hub in hubs]
    chain = [hub_ids[0]]
    for a, b in itertools.pairwise(hub_ids):
        chain += _hub_path(line_id, a, b, through, full, stations)[1:]
    positions: dict[str, list[int]] = defaultdict(list)
    for i, sid in enumerate(chain):
        positions[sid].append(i)
    twice = next((sid for sid, at in positions.items() if len(at) > 1), None)
    if twice:  # a chain that doubles back means a hub off the route or hubs out of order
        raise DataError(
            f"line {line_id!r}: the chain passes {twice!r} ({stations[twice].name_uk}) twice; "
            "check the hubs and their order",
            value=line_id,
        )
    link_ids = {
        link.id
        for pair, pair_links in by_pair.items()
        if pair <= positions.keys()
        for link in pair_links
        if link.parallel or _consecutive(positions, pair)
    }
    estimated = any(lid.startswith("hand:") for lid in link_ids)
    return Line(
        line_id,
        name_uk,
        name_en,
        tuple(hub_ids),
        tuple(chain),
        frozenset(link_ids),
        estimated,
        kind,
    )


def _consecutive(positions: dict[str, list[int]], pair: frozenset) -> bool:
    a, b = tuple(pair) if len(pair) == 2 else (next(iter(pair)),) * 2
    return any(abs(i - j) == 1 for i in positions[a] for j in positions[b])


def _hub_id(line_id: str, hub: str, stations, index) -> str:
    """A hub given by station id, or by exact Ukrainian name (``"Name@UA-63"`` to choose)."""
    if hub in stations:
        return hub
    name, _, oblast = hub.replace("’", "'").partition("@")
    found = [sid for sid in index.get(name, []) if not oblast or stations[sid].oblast_iso == oblast]
    if len(found) == 1:
        return found[0]
    problem = "is ambiguous" if found else "is not a known station id or station name"
    raise DataError(f"line {line_id!r}: hub {hub!r} {problem}", value=hub, suggestions=found)


def _hub_path(line_id, a, b, through, full, stations) -> list[str]:
    for graph in (through, full):
        try:
            return nx.shortest_path(graph, a, b, weight="weight")
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            continue
    raise DataError(
        f"line {line_id!r}: no rail path from hub {a!r} ({stations[a].name_uk}) "
        f"to hub {b!r} ({stations[b].name_uk})",
        value=line_id,
    )


# ---------------------------------------------------------------------------------------------
# metadata and report


def _metadata(manifest: dict, sources: Path, speed: src.SpeedModel) -> dict:
    return {
        "source_version": str(manifest.get("versionId", "unknown")),
        "source_checksum": str(manifest.get("checksum", "")),
        "sources": {
            "rail": f"OSM rail extract {manifest.get('versionId', 'unknown')} "
            f"({manifest.get('sourceGeneratedAt', 'date unknown')})",
            "bus": "Ministry of Infrastructure register of interregional bus routes, April 2019",
            "oblasts": "geoBoundaries ADM1",
            "directory": sources.name,
        },
        "attribution": list(ATTRIBUTION),
        "licence": "ODbL-1.0",
        "speed_model": {
            "rail_kmh": {
                f"{u}/{'electric' if e else 'diesel'}": v for (u, e), v in speed.rail_kmh.items()
            },
            "bus_kmh": speed.bus_kmh,
            "road_factor": speed.road_factor,
        },
    }


def _summarise(network: Network, report: BuildReport) -> None:
    report.stations_by_kind = Counter(str(s.kind) for s in network.stations.values())
    report.links_by_mode = Counter(str(link.mode) for link in network.links.values())
    report.links_by_source = Counter(str(link.source) for link in network.links.values())
    report.lines = len(network.lines)
    report.estimated_lines = [line.id for line in network.lines.values() if line.estimated]
    report.settlements = len(network.settlements)
    report.main_stations = sum(1 for s in network.stations.values() if s.is_main)
    rail = nx.Graph()
    rail.add_nodes_from(
        s.id for s in network.stations.values() if s.kind is not StationKind.BUS_STATION
    )
    rail.add_edges_from(
        (link.from_id, link.to_id) for link in network.links.values() if link.mode is Mode.RAIL
    )
    components = sorted(nx.connected_components(rail), key=len, reverse=True)
    report.rail_components = [len(c) for c in components]
    report.main_stations_cut_off = sorted(
        f"{s.id} {s.name_uk} ({s.oblast_iso or 'outside'})"
        for s in network.stations.values()
        if s.is_main and s.kind is StationKind.RAIL_STATION and s.id not in components[0]
    )
    report.all_components = sorted(
        (len(c) for c in nx.connected_components(network.graph)), reverse=True
    )
    report.isolated_stations = sorted(
        f"{sid} {network.stations[sid].name_uk} ({network.stations[sid].oblast_iso or 'outside'})"
        for sid in network.graph.nodes
        if network.graph.degree(sid) == 0
    )
