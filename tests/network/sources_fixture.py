"""Small purpose-written raw sources for importer tests (same columns as ../shared/data/ukraine).

Rail::

    kyiv ─ a ─ fastiv ─ b ─ koziatyn        (a, b: halts; kyiv–fastiv and fastiv–koziatyn
      └──── skip ───┘   └──── skip ───┘      also have parallel "skip" edges beside them)
    fastiv ─ connector ─ fastiv-2           (a repair connector inside Fastiv)
    lonely                                   (no track: isolated)
    ruse                                     (outside Ukraine: empty oblast)

Buses: Kyiv – Fastiv (route length known) and Kyiv – Bila Tserkva (length unknown, so
1.36 × straight line). Oblasts: one square polygon "UA-32" around everything but Ruse.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from advisor.network.sources import BUS_CITIES, BUS_LINKS, OBLASTS, RAIL_EDGES, RAIL_STATIONS
from advisor.settings import CONFIG_DIR

STATION_COLUMNS = [
    "station_id", "osm_type", "osm_id", "station_type", "name_uk", "name_en_osm",
    "name_latin_kmu2010", "name_ru_osm", "lat", "lon", "oblast_en", "oblast_iso",
    "oblast_assignment", "uz_express_code", "reviewed_hub", "osm_degree", "repaired_degree",
    "component_rank", "graph_snap_km",
]  # fmt: skip
EDGE_COLUMNS = [
    "from", "to", "distance_km", "kind", "skip_edge", "usage", "railway", "electrified",
    "gauges", "service_share", "osm_way_ids", "osm_route_relation_ids",
]  # fmt: skip
CITY_COLUMNS = ["city_uk", "koatuu", "lat", "lon", "route_endpoint_count"]
LINK_COLUMNS = [
    "city_a_uk", "koatuu_a", "lat_a", "lon_a", "city_b_uk", "koatuu_b", "lat_b", "lon_b",
    "licensed_route_records", "daily_records", "operators", "route_length_km_min",
    "route_length_km_median", "crowfly_km", "latest_license_end", "risk_context_flags", "source",
]  # fmt: skip


def _station(sid, kind, name, lat, lon, oblast="UA-32", hub="False", uz=""):
    return {
        "station_id": sid, "osm_type": "node", "osm_id": "1", "station_type": kind,
        "name_uk": name, "name_en_osm": "", "name_latin_kmu2010": "", "name_ru_osm": "",
        "lat": lat, "lon": lon, "oblast_en": "", "oblast_iso": oblast,
        "oblast_assignment": "inside" if oblast else "outside-ADM1", "uz_express_code": uz,
        "reviewed_hub": hub, "osm_degree": "2", "repaired_degree": "2", "component_rank": "0",
        "graph_snap_km": "0",
    }  # fmt: skip


def _edge(a, b, km, kind="osm", skip="False", ways="1;2"):
    return {
        "from": a, "to": b, "distance_km": km, "kind": kind, "skip_edge": skip,
        "usage": "main", "railway": "rail", "electrified": "contact_line", "gauges": "1520",
        "service_share": "1", "osm_way_ids": ways, "osm_route_relation_ids": "",
    }  # fmt: skip


def stations():
    return [
        _station("kyiv", "station", "Київ-Пас.", "50.44", "30.48", hub="True", uz="2200001"),
        _station("a", "halt", "Боярка", "50.30", "30.30"),
        _station("fastiv", "station", "Фастів-1", "50.07", "29.91", hub="True"),
        _station("fastiv-2", "station", "Фастів 2", "50.08", "29.93"),
        _station("b", "halt", "Кожанка", "49.90", "29.30"),
        _station("koziatyn", "station", "Козятин-1", "49.71", "28.83", hub="True"),
        _station("lonely", "station", "Самотня", "49.50", "30.50"),
        _station("ruse", "station", "Русе", "43.85", "25.95", oblast=""),
    ]


def edges():
    return [
        _edge("kyiv", "a", "30.0"),
        _edge("a", "fastiv", "34.0"),
        _edge("kyiv", "fastiv", "64.0", skip="True"),
        _edge("fastiv", "b", "50.0"),
        _edge("b", "koziatyn", "47.0"),
        _edge("fastiv", "koziatyn", "97.0", skip="True"),
        _edge("fastiv", "fastiv-2", "1.5", kind="connector-estimated", ways=""),
    ]


def cities():
    return [
        {"city_uk": "Київ", "koatuu": "8000000000", "lat": "50.448", "lon": "30.548",
         "route_endpoint_count": "832"},
        {"city_uk": "Фастів", "koatuu": "3211800000", "lat": "50.076", "lon": "29.918",
         "route_endpoint_count": "5"},
        {"city_uk": "Біла Церква", "koatuu": "3210300000", "lat": "49.79", "lon": "30.11",
         "route_endpoint_count": "20"},
    ]  # fmt: skip


def bus_links():
    def link(a, b, median, crow):
        return {
            "city_a_uk": a["city_uk"], "koatuu_a": a["koatuu"], "lat_a": a["lat"],
            "lon_a": a["lon"], "city_b_uk": b["city_uk"], "koatuu_b": b["koatuu"],
            "lat_b": b["lat"], "lon_b": b["lon"], "licensed_route_records": "3",
            "daily_records": "4", "operators": "2", "route_length_km_min": median,
            "route_length_km_median": median, "crowfly_km": crow,
            "latest_license_end": "2022-01-01", "risk_context_flags": "", "source": "test",
        }  # fmt: skip

    kyiv, fastiv, bila = cities()
    return [link(fastiv, kyiv, "70.0", "56.0"), link(kyiv, bila, "", "80.0")]


def oblasts():
    ring = [[27.0, 48.0], [33.0, 48.0], [33.0, 52.0], [27.0, 52.0], [27.0, 48.0]]
    feature = {
        "type": "Feature",
        "properties": {"shapeName": "Test Oblast", "shapeISO": "UA-32"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    return {"type": "FeatureCollection", "features": [feature]}


LINES = """
[[line]]
id = "kyiv-fastiv-koziatyn"
name_uk = "Київ – Фастів – Козятин"
name_en = "Kyiv – Fastiv – Koziatyn"
hubs = ["kyiv", "Фастів-1", "koziatyn"]
"""

HAND_LINKS = """
detour_factor = 1.25

[[link]]
id = "lonely-koziatyn"
from = "lonely"
to = "koziatyn"
why = "test: a real line missing from the extract"
"""


def write_csv(path: Path, columns, rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_sources(root: Path, **tables) -> dict[str, Path]:
    """Write the sources (``tables`` overrides rows by file name) and config into *root*.

    Returns the paths ``build_network`` needs: sources, speed_model, lines, hand_links.
    """
    src = root / "sources"
    (src / "raw" / "osm-rail-reference").mkdir(parents=True, exist_ok=True)
    plan = {
        RAIL_STATIONS: (STATION_COLUMNS, stations()),
        RAIL_EDGES: (EDGE_COLUMNS, edges()),
        BUS_CITIES: (CITY_COLUMNS, cities()),
        BUS_LINKS: (LINK_COLUMNS, bus_links()),
    }
    for name, (columns, rows) in plan.items():
        columns, rows = tables.get(name, (columns, rows))
        write_csv(src / name, columns, rows)
    (src / OBLASTS).write_text(json.dumps(oblasts()), encoding="utf-8")
    manifest = {"versionId": "osm-test-1", "checksum": "abc"}
    (src / "raw" / "osm-rail-reference" / "manifest.json").write_text(json.dumps(manifest))
    config = root / "config"
    config.mkdir(exist_ok=True)
    shutil.copy(CONFIG_DIR / "speed_model.toml", config / "speed_model.toml")
    (config / "lines.toml").write_text(tables.get("lines", LINES), encoding="utf-8")
    (config / "hand_links.toml").write_text(tables.get("hand_links", HAND_LINKS), encoding="utf-8")
    return {
        "sources": src,
        "speed_model_path": config / "speed_model.toml",
        "lines_path": config / "lines.toml",
        "hand_links_path": config / "hand_links.toml",
    }
