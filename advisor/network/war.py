"""The shipped war geography file: the newest occupied-territory map and the land borders.

``advisor network build`` writes ``advisor/network/data/war_geography.json.gz`` beside the
network dataset: one gzip JSON document with the map's date, its source and attribution
(DeepStateMap, GPL-3.0), the sha256 of the source file it was read from, and the geometry
as GeoJSON (occupied territory; the borders with Russia and Belarus). Measuring the network
against it is :mod:`advisor.risk.geography`'s job; this module only reads and writes files.

Examples
--------
>>> import re
>>> bool(re.fullmatch(MAP_NAME, "occupied_2026-08-22.geojson"))
True
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
from datetime import date
from pathlib import Path

from advisor.errors import DataError

__all__ = [
    "FORMAT",
    "MAP_NAME",
    "MAP_SOURCE",
    "build_war_geography",
    "newest_map",
    "read_war_geography",
    "write_war_geography",
]

log = logging.getLogger(__name__)

FORMAT = "advisor-war-geography/1"
MAP_NAME = r"occupied_(\d{4}-\d{2}-\d{2})\.geojson"
MAP_SOURCE = "DeepStateMap"
LICENCE = (
    "Occupied territory: DeepStateMap (deepstatemap.live), redistributed under GPL-3.0 in "
    "github.com/cyterat/deepstate-map-data. Borders cut from geoBoundaries (ODbL 1.0)."
)
BORDERS_FILE = "borders_ru_by.geojson"


def newest_map(war_dir: Path) -> tuple[Path, date]:
    """The newest ``occupied_YYYY-MM-DD.geojson`` in *war_dir* and its date."""
    found = []
    for path in Path(war_dir).glob("occupied_*.geojson"):
        match = re.fullmatch(MAP_NAME, path.name)
        if match:
            found.append((date.fromisoformat(match.group(1)), path))
    if not found:
        raise DataError(f"no occupied_YYYY-MM-DD.geojson map in {war_dir}", value=str(war_dir))
    day, path = max(found)
    return path, day


def build_war_geography(sources: Path) -> dict:
    """The document for the shipped file, from ``war/`` under the raw *sources* folder."""
    war_dir = Path(sources) / "war"
    path, day = newest_map(war_dir)
    raw = _read_bytes(path)
    borders_raw = _read_bytes(war_dir / BORDERS_FILE)
    return {
        "format": FORMAT,
        "map_date": day.isoformat(),
        "source": MAP_SOURCE,
        "source_file": path.name,
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "borders_sha256": hashlib.sha256(borders_raw).hexdigest(),
        "attribution": f"Occupied territory: {MAP_SOURCE}, map of {day.isoformat()}",
        "licence": LICENCE,
        "occupied": _json(raw, path),
        "borders": _json(borders_raw, war_dir / BORDERS_FILE),
    }


def write_war_geography(document: dict, path: Path) -> str:
    """Write *document* gzip-compressed (byte-identical for identical content); returns the
    sha256 of the source map."""
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(data.encode("utf-8"))
    tmp.replace(path)
    log.info("wrote war geography (map of %s) to %s", document["map_date"], path)
    return document["source_sha256"]


def read_war_geography(path: Path) -> dict:
    """The document written by :func:`write_war_geography`; raises :class:`DataError`."""
    try:
        with gzip.open(Path(path), "rb") as fh:
            document = json.loads(fh.read())
    except (OSError, ValueError) as err:
        raise DataError(
            f"cannot read the war geography file {path}: {err}", value=str(path)
        ) from err
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DataError(f"{path} is not a {FORMAT} file", value=str(path))
    return document


def _read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror}", value=str(path)) from err


def _json(raw: bytes, path: Path):
    try:
        return json.loads(raw)
    except ValueError as err:
        raise DataError(f"{path} is not JSON: {err}", value=str(path)) from err
