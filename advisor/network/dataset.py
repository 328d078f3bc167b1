"""The shipped network dataset: the project's own compact schema, written and read back.

One gzip-compressed JSON document holds every station, link, line, settlement and oblast
outline as column lists plus rows (column names are stored, so a model field added later with
a default still loads old files). ``metadata`` carries ``version`` (the OSM source
``versionId`` + ``+`` + the first 12 hex digits of this content's own SHA-256), ``built_at``,
``sources`` and the ``attribution`` strings. The data is derived from OpenStreetMap and is
distributed under the ODbL 1.0 (see ``advisor/network/data/NOTICE``).

Examples
--------
>>> import tempfile, pathlib
>>> from advisor.network.model import Link, LinkSource, Mode, Network, Station, StationKind
>>> a = Station("a", "А", "A", 50.0, 30.0, "UA-30", StationKind.RAIL_STATION)
>>> b = Station("b", "Б", "B", 50.1, 30.1, "UA-30", StationKind.HALT)
>>> link = Link("r", "a", "b", Mode.RAIL, 10.0, 8.0, LinkSource.OSM_TRACK)
>>> net = Network.build([a, b], [link], [])
>>> path = pathlib.Path(tempfile.mkdtemp()) / "net.json.gz"
>>> version = write_dataset(stamp(net, "osm-test"), path)
>>> version.startswith("osm-test+")
True
>>> loaded = load_network(path)
>>> loaded.links["r"].source, loaded.metadata["version"] == version
(<LinkSource.OSM_TRACK: 'osm_track'>, True)
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from collections import Counter
from dataclasses import fields
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from advisor.errors import DataError
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

__all__ = ["FORMAT", "describe", "load_network", "stamp", "write_dataset"]

logger = logging.getLogger(__name__)

FORMAT = "advisor-network/1"

#: How to turn a stored JSON value back into a model field, per class and field name.
_DECODE = {
    Station: {"kind": StationKind, "historic_names": tuple},
    Link: {
        "mode": Mode,
        "source": LinkSource,
        "time_source": TimeSource,
        "osm_way_ids": lambda v: tuple(v.split(";")) if v else (),
        "line_ids": tuple,
        "risk_context": tuple,
    },
    Line: {"hubs": tuple, "station_ids": tuple, "link_ids": frozenset},
    Settlement: {"main_station_ids": tuple},
    Oblast: {"polygons": lambda rings: tuple(tuple(map(tuple, ring)) for ring in rings)},
}
_TABLES = (("stations", Station), ("links", Link), ("lines", Line),
           ("settlements", Settlement), ("oblasts", Oblast))  # fmt: skip


def _encode_value(name: str, value):
    if isinstance(value, Enum):
        return value.value
    if name == "osm_way_ids":  # thousands of short ids: one string packs far smaller
        return ";".join(value)
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return [list(v) if isinstance(v, tuple) else v for v in value]
    return value


def _table(items, cls) -> dict:
    columns = [f.name for f in fields(cls)]
    rows = [[_encode_value(c, getattr(item, c)) for c in columns] for item in items]
    return {"columns": columns, "rows": rows}


def _body(network: Network) -> dict:
    sources = {
        "stations": network.stations.values(),
        "links": network.links.values(),
        "lines": network.lines.values(),
        "settlements": network.settlements.values(),
        "oblasts": network.oblasts.values(),
    }
    return {name: _table(sources[name], cls) for name, cls in _TABLES}


def _checksum(body: dict) -> str:
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamp(network: Network, source_version: str = "", built_at: datetime | None = None) -> Network:
    """A copy of *network* whose metadata carries ``version`` and ``built_at``.

    The version is ``<source version>+<own checksum>``: the same sources and configuration
    give the same version, whenever they are built.
    """
    source_version = source_version or str(network.metadata.get("source_version", "unknown"))
    version = f"{source_version}+{_checksum(_body(network))[:12]}"
    when = (built_at or datetime.now(UTC)).replace(microsecond=0).isoformat()
    metadata = {**network.metadata, "version": version, "built_at": when, "format": FORMAT}
    return Network.build(
        network.stations.values(),
        network.links.values(),
        network.lines.values(),
        metadata,
        network.oblasts.values(),
        network.settlements.values(),
    )


def write_dataset(network: Network, path: Path) -> str:
    """Write *network* (stamped by :func:`stamp`) to *path*; returns its version."""
    if "version" not in network.metadata:
        network = stamp(network)
    document = {"format": FORMAT, "metadata": dict(network.metadata), **_body(network)}
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    # mtime=0 keeps the file byte-identical for identical content and build time.
    with tmp.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(data)
    tmp.replace(path)  # readers never see a half-written file
    logger.info("wrote network %s to %s", network.metadata["version"], path)
    return str(network.metadata["version"])


def load_network(path: Path | None = None) -> Network:
    """Load the shipped dataset (default: ``Settings().network_dataset``) into a new network.

    Raises :class:`DataError` when the file is missing, unreadable or of another format.
    Nothing is cached: callers keep the returned object.
    """
    if path is None:
        from advisor.settings import Settings  # settings reads no files at construction

        path = Settings().network_dataset
    document = _read(Path(path))
    tables = {name: _rows(document, name, cls) for name, cls in _TABLES}
    return Network.build(
        tables["stations"],
        tables["links"],
        tables["lines"],
        document.get("metadata", {}),
        tables["oblasts"],
        tables["settlements"],
    )


def describe(network: Network) -> str:
    """A short text summary of *network*: version, sources, attribution and counts."""
    meta = network.metadata
    kinds = Counter(str(s.kind) for s in network.stations.values())
    modes = Counter(str(link.mode) for link in network.links.values())
    lines = [
        f"version: {meta.get('version', 'unknown')}",
        f"built at: {meta.get('built_at', 'unknown')}",
        *(f"source {k}: {v}" for k, v in dict(meta.get("sources", {})).items()),
        "stations: " + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())),
        "links: " + ", ".join(f"{k}={v}" for k, v in sorted(modes.items())),
        f"named lines: {len(network.lines)}, settlements: {len(network.settlements)}, "
        f"oblasts: {len(network.oblasts)}",
        "every travel time is an estimate (no timetables in the sources)",
        *(f"attribution: {a}" for a in meta.get("attribution", [])),
    ]
    return "\n".join(lines)


def _read(path: Path) -> dict:
    try:
        with gzip.open(path, "rb") as fh:
            document = json.loads(fh.read())
    except FileNotFoundError as err:
        raise DataError(
            f"network dataset not found: {path} (run `advisor network build`)", value=str(path)
        ) from err
    except (OSError, EOFError, json.JSONDecodeError) as err:
        raise DataError(f"network dataset {path} is unreadable: {err}", value=str(path)) from err
    if document.get("format") != FORMAT:
        raise DataError(
            f"network dataset {path} has format {document.get('format')!r}, expected {FORMAT!r}"
        )
    return document


def _rows(document: dict, name: str, cls) -> list:
    table = document.get(name) or {"columns": [], "rows": []}
    known = {f.name for f in fields(cls)}
    columns = table["columns"]
    decode = _DECODE.get(cls, {})
    keep = [(i, c, decode.get(c)) for i, c in enumerate(columns) if c in known]
    items = []
    try:
        for row in table["rows"]:
            kwargs = {c: (conv(row[i]) if conv else row[i]) for i, c, conv in keep}
            items.append(cls(**kwargs))
    except (TypeError, ValueError, IndexError) as err:
        raise DataError(f"network dataset: bad row in {name!r}: {err}") from err
    return items
