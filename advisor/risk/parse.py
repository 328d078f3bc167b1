"""The one validating parser of the flag shape used by flag files, the API and the console.

The shape (JSON or TOML)::

    {"id"?: str, "level": "advisory"|"elevated"|"high"|"suspended",
     "target": {"kind": "line"|"section"|"station"|"oblast"|"circle"|"polygon"|"bus_link", ...},
     "reason_uk": str, "reason_en": str, "source": str, "author"?: str,
     "active_from"?: ISO 8601, "active_until"?: ISO 8601,
     "status"?: "draft"|"published"|"withdrawn",
     "version"?: int, "published_at"?: ISO 8601, "updated_at"?: ISO 8601, "baseline"?: bool}

Decisions (documented because callers rely on them):

- At least one of ``reason_uk`` / ``reason_en`` is required; each is at most
  :data:`MAX_REASON_CHARS` characters. ``source`` is required.
- A time without an offset is taken as Europe/Kyiv local time (operators type local
  times); every time is returned timezone-aware in UTC.
- Unknown keys are refused, so a misspelt ``activ_until`` never silently opens a window.
- A missing ``id`` gets a stable one derived from the content, so a flag file read twice
  yields the same ids.

Examples
--------
>>> f = flag_from_dict({"level": "high", "target": {"kind": "line", "line_id": "lozova-sloviansk"},
...                     "reason_uk": "Обстріли", "reason_en": "Strikes", "source": "UZ",
...                     "active_from": "2026-03-12T08:00:00+02:00"})
>>> f.level.value, f.target.line_id, f.active_from.isoformat()
('high', 'lozova-sloviansk', '2026-03-12T06:00:00+00:00')
>>> flag_from_dict(flag_to_dict(f)) == f
True
>>> flag_from_dict({"level": "grave", "target": {"kind": "line", "line_id": "x"},
...                 "reason_en": "x", "source": "UZ"})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
advisor.errors.InvalidFlag: unknown risk level 'grave'; use one of advisory, elevated, ...
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from rapidfuzz import process
from shapely.geometry import Polygon

from advisor.errors import InvalidFlag, UnknownLine, UnknownStation
from advisor.network.geo import KYIV_TZ
from advisor.network.model import Mode
from advisor.risk.model import (
    BusLinkTarget,
    CircleTarget,
    Flag,
    FlagStatus,
    LineTarget,
    OblastTarget,
    PolygonTarget,
    RiskLevel,
    SectionTarget,
    StationTarget,
    Target,
)
from advisor.text import check_text

__all__ = [
    "FLAG_ID_RE",
    "KYIV_TZ",
    "MAX_ID_CHARS",
    "MAX_REASON_CHARS",
    "UKRAINE_OBLAST_CODES",
    "enum_by_name",
    "flag_from_dict",
    "flag_to_dict",
    "line_station_ids",
    "parse_time",
    "target_from_dict",
    "target_to_dict",
    "validate_against",
]

MAX_REASON_CHARS = 1000
MAX_SOURCE_CHARS = 300
MAX_AUTHOR_CHARS = 120
MAX_ID_CHARS = 80
MAX_RADIUS_KM = 500.0
MAX_RING_POINTS = 2000
# Times far outside any real flag window overflow when converted to UTC (year 1 or 9999
# with an offset); refusing them early keeps the message readable.
_EARLIEST_YEAR, _LATEST_YEAR = 1970, 2999
FLAG_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
"""What a flag id looks like (1–:data:`MAX_ID_CHARS` of these characters)."""
_OBLAST_RE = re.compile(r"^UA-\d{2}$")
#: Targets an operator may cap the war map's bands on (issue 11).
CAP_TARGETS = frozenset({"station", "line", "section"})

UKRAINE_OBLAST_CODES = frozenset(
    f"UA-{n:02d}"
    for n in (5, 7, 9, 12, 14, 18, 21, 23, 26, 30, 32, 35, 40, 43, 46, 48, 51, 53, 56, 59,
              61, 63, 65, 68, 71, 74, 77)
)
"""The 27 first-level subdivisions of Ukraine in ISO 3166-2:UA (24 oblasts, Crimea, Kyiv,
Sevastopol)."""
_TOP_KEYS = frozenset(
    {
        "id", "level", "target", "reason_uk", "reason_en", "source", "author", "active_from",
        "active_until", "status", "version", "published_at", "updated_at", "baseline",
        "caps_baseline",
    }
)
_TARGET_FIELDS = {
    "line": (LineTarget, ("line_id",)),
    "section": (SectionTarget, ("line_id", "from_station", "to_station")),
    "station": (StationTarget, ("station_id",)),
    "oblast": (OblastTarget, ("oblast_iso",)),
    "circle": (CircleTarget, ("lat", "lon", "radius_km")),
    "polygon": (PolygonTarget, ("ring",)),
    "bus_link": (BusLinkTarget, ("from_station", "to_station")),
}


def flag_from_dict(data: Mapping) -> Flag:
    """Validate *data* and build a :class:`Flag`; raises :class:`InvalidFlag` naming the field."""
    if not isinstance(data, Mapping):
        raise InvalidFlag(f"a flag must be an object, not {type(data).__name__}", field="flag")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise InvalidFlag(f"unknown flag field {unknown[0]!r}", field=unknown[0], value=unknown[0])
    if "level" not in data:
        raise InvalidFlag("the flag has no level", field="level")
    level = RiskLevel.parse(data["level"])
    target = target_from_dict(data.get("target"))
    reason_uk = _text(data, "reason_uk", MAX_REASON_CHARS, multiline=True)
    reason_en = _text(data, "reason_en", MAX_REASON_CHARS, multiline=True)
    if not reason_uk and not reason_en:
        raise InvalidFlag("the flag needs a reason in Ukrainian or English", field="reason_uk")
    source = _text(data, "source", MAX_SOURCE_CHARS)
    if not source:
        raise InvalidFlag("the flag needs a source (who says so)", field="source")
    active_from = _optional_time(data, "active_from")
    active_until = _optional_time(data, "active_until")
    flag_id = _flag_id(data)
    caps = _bool(data.get("caps_baseline", False), "caps_baseline")
    if caps and (target.kind not in CAP_TARGETS or level is RiskLevel.SUSPENDED):
        raise InvalidFlag(
            "caps_baseline lowers the war map's band on one station, line or section to a "
            f"level below suspended, not on a target of kind {target.kind} at level {level.value}",
            field="caps_baseline",
            value=target.kind,
        )
    return Flag(
        id=flag_id,
        level=level,
        target=target,
        reason_uk=reason_uk,
        reason_en=reason_en,
        source=source,
        author=_text(data, "author", MAX_AUTHOR_CHARS),
        active_from=active_from,
        active_until=active_until,
        status=_status(data.get("status", FlagStatus.PUBLISHED.value)),
        version=_version(data.get("version", 1)),
        published_at=_optional_time(data, "published_at"),
        updated_at=_optional_time(data, "updated_at"),
        baseline=_bool(data.get("baseline", False), "baseline"),
        caps_baseline=caps,
    )


def flag_to_dict(flag: Flag) -> dict:
    """The dict shape :func:`flag_from_dict` reads (times as ISO 8601 UTC strings)."""
    data = {
        "id": flag.id,
        "level": flag.level.value,
        "target": target_to_dict(flag.target),
        "reason_uk": flag.reason_uk,
        "reason_en": flag.reason_en,
        "source": flag.source,
        "author": flag.author,
        "active_from": _iso(flag.active_from),
        "active_until": _iso(flag.active_until),
        "status": flag.status.value,
        "version": flag.version,
        "published_at": _iso(flag.published_at),
        "updated_at": _iso(flag.updated_at),
        "baseline": flag.baseline,
        "caps_baseline": flag.caps_baseline or None,  # only written when set
    }
    return {key: value for key, value in data.items() if value is not None}


def target_from_dict(data) -> Target:
    """Validate a target object (``{"kind": ..., fields}``) and build the target."""
    if not isinstance(data, Mapping):
        raise InvalidFlag("the flag needs a target object with a 'kind'", field="target")
    kind = data.get("kind")
    if kind not in _TARGET_FIELDS:
        names = ", ".join(_TARGET_FIELDS)
        raise InvalidFlag(
            f"unknown target kind {kind!r}; use one of {names}", field="target.kind", value=kind
        )
    cls, names = _TARGET_FIELDS[kind]
    extra = sorted(set(data) - {"kind", *names})
    if extra:
        raise InvalidFlag(
            f"target kind {kind!r} has no field {extra[0]!r}", field=f"target.{extra[0]}"
        )
    missing = [name for name in names if data.get(name) in (None, "")]
    if missing:
        raise InvalidFlag(
            f"target kind {kind!r} needs {missing[0]!r}", field=f"target.{missing[0]}"
        )
    return _TARGET_BUILDERS[kind](cls, data)


def target_to_dict(target: Target) -> dict:
    """The dict shape of *target* (``ring`` as a list of ``[lon, lat]`` pairs).

    A ``precomputed`` target (the war map's bands) is shown by its key and counts only: it
    is built from the map, never read back from a dict.
    """
    if target.kind == "precomputed":
        return {
            "kind": target.kind,
            "key": target.key,
            "station_count": len(target.station_ids),
            "link_count": len(target.link_ids),
        }
    _cls, names = _TARGET_FIELDS[target.kind]
    data = {"kind": target.kind}
    for name in names:
        value = getattr(target, name)
        data[name] = [list(point) for point in value] if name == "ring" else value
    return data


def parse_time(value, field: str = "time") -> datetime:
    """An ISO 8601 time as aware UTC; a naive time is taken as Europe/Kyiv local time.

    >>> parse_time("2026-03-12T10:00").isoformat()
    '2026-03-12T08:00:00+00:00'
    >>> parse_time("2026-03-12T10:00Z").isoformat()
    '2026-03-12T10:00:00+00:00'
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidFlag(
                f"{field} {value!r} is not an ISO 8601 time (e.g. 2026-03-12T08:00+02:00)",
                field=field,
                value=value,
            ) from None
    else:
        raise InvalidFlag(f"{field} {value!r} is not a time", field=field, value=str(value))
    if not _EARLIEST_YEAR <= moment.year <= _LATEST_YEAR:
        raise InvalidFlag(
            f"{field} {value!s:.40} is outside the years {_EARLIEST_YEAR}–{_LATEST_YEAR}",
            field=field,
            value=str(value)[:40],
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=KYIV_TZ)
    return moment.astimezone(UTC)


def validate_against(flag: Flag, network) -> None:
    """Check that the line and stations *flag* names exist in *network*.

    Raises :class:`UnknownLine` or :class:`UnknownStation` with close names as suggestions,
    and :class:`InvalidFlag` when a section's stations are not on its line.
    """
    target = flag.target
    if target.kind in ("line", "section"):
        _check_line(target.line_id, network)
    for attr in ("station_id", "from_station", "to_station"):
        station_id = getattr(target, attr, None)
        if station_id is not None:
            _check_station(station_id, network, f"target.{attr}")
    if target.kind == "section":
        line = network.lines[target.line_id]
        on_line = line_station_ids(line, network)
        for attr in ("from_station", "to_station"):
            station_id = getattr(target, attr)
            if station_id not in on_line:
                raise InvalidFlag(
                    f"station {station_id!r} is not on line {line.id!r}",
                    field=f"target.{attr}",
                    value=station_id,
                )
    if target.kind == "bus_link" and not _bus_links_between(target, network):
        raise InvalidFlag(
            f"no bus link between {target.from_station!r} and {target.to_station!r}",
            field="target",
            value=f"{target.from_station}–{target.to_station}",
        )


def line_station_ids(line, network) -> frozenset[str]:
    """The stations a section of *line* may name: those along it and every end of its links
    (what :func:`validate_against` accepts)."""
    return frozenset(line.station_ids) | _line_link_stations(line, network)


# --- private helpers -------------------------------------------------------------------


def _text(data: Mapping, name: str, limit: int, multiline: bool = False) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidFlag(f"{name} must be text, not {type(value).__name__}", field=name)
    value = check_text(value, name, multiline=multiline, error=InvalidFlag).strip()
    if len(value) > limit:
        raise InvalidFlag(
            f"{name} is {len(value)} characters long; the limit is {limit}",
            field=name,
            value=value[:40] + "…",
        )
    return value


def _optional_time(data: Mapping, name: str) -> datetime | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    return parse_time(value, name)


def _flag_id(data: Mapping) -> str:
    value = data.get("id")
    if value in (None, ""):
        canonical = json.dumps(
            {k: v for k, v in data.items() if k != "id"}, sort_keys=True, default=str
        )
        return "f-" + hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:12]
    if not isinstance(value, str) or len(value) > MAX_ID_CHARS or not FLAG_ID_RE.fullmatch(value):
        raise InvalidFlag(
            f"flag id {value!r} must be 1–{MAX_ID_CHARS} letters, digits or _.:-",
            field="id",
            value=value,
        )
    return value


def enum_by_name(cls, value, *, what: str, field: str, error=InvalidFlag):
    """The member of enum *cls* named *value* (case and spaces ignored), else *error*
    naming the value and the choices.

    >>> enum_by_name(FlagStatus, " Draft ", what="flag status", field="status").value
    'draft'
    """
    if isinstance(value, cls):
        return value
    try:
        return cls(str(value).strip().lower())
    except ValueError:
        names = ", ".join(member.value for member in cls)
        raise error(
            f"unknown {what} {value!r}; use one of {names}", field=field, value=value
        ) from None


def _status(value) -> FlagStatus:
    return enum_by_name(FlagStatus, value, what="flag status", field="status")


def _version(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidFlag(f"version {value!r} must be a positive integer", field="version")
    return value


def _bool(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidFlag(f"{name} {value!r} must be true or false", field=name, value=value)
    return value


def _station_ref(data: Mapping, name: str) -> str:
    value = data[name]
    if not isinstance(value, str) or len(value) > MAX_ID_CHARS:
        raise InvalidFlag(f"{name} {value!r} is not a station id", field=f"target.{name}")
    return check_text(value, f"target.{name}", error=InvalidFlag).strip()


def _number(data: Mapping, name: str, low: float, high: float) -> float:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InvalidFlag(
                f"{name} {value!r} is not a number", field=f"target.{name}", value=str(value)
            ) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidFlag(
            f"{name} {value!r} is outside {low}…{high}", field=f"target.{name}", value=value
        )
    return float(value)


def _build_simple(cls, data):
    target = cls(*(_station_ref(data, name) for name in _TARGET_FIELDS[cls.kind][1]))
    if getattr(target, "from_station", None) and target.from_station == target.to_station:
        raise InvalidFlag(
            f"a {cls.kind.replace('_', ' ')} runs between two different stations, not from "
            f"{target.from_station!r} to itself (flag the station instead)",
            field="target.to_station",
            value=target.to_station,
        )
    return target


def _build_oblast(cls, data):
    code = str(data["oblast_iso"]).strip().upper()
    if not _OBLAST_RE.match(code):
        raise InvalidFlag(
            f"oblast {data['oblast_iso']!r} is not an ISO 3166-2 code like UA-63",
            field="target.oblast_iso",
            value=data["oblast_iso"],
        )
    if code not in UKRAINE_OBLAST_CODES:
        raise InvalidFlag(
            f"{code} is not an oblast of Ukraine (ISO 3166-2:UA has UA-05 … UA-77)",
            field="target.oblast_iso",
            value=code,
        )
    return cls(code)


def _build_circle(cls, data):
    lat = _number(data, "lat", -90.0, 90.0)
    lon = _number(data, "lon", -180.0, 180.0)
    radius = _number(data, "radius_km", 0.0, MAX_RADIUS_KM)
    if radius <= 0:
        raise InvalidFlag("radius_km must be above 0", field="target.radius_km", value=radius)
    return cls(lat, lon, radius)


def _build_polygon(cls, data):
    ring = data["ring"]
    if not isinstance(ring, (list, tuple)) or not 3 <= len(ring) <= MAX_RING_POINTS:
        raise InvalidFlag(
            f"ring must be a list of 3–{MAX_RING_POINTS} [lon, lat] points",
            field="target.ring",
        )
    points = tuple(_ring_point(point, i) for i, point in enumerate(ring))
    if not Polygon(points).is_valid:
        raise InvalidFlag("ring crosses itself or has no area", field="target.ring")
    return cls(points)


def _ring_point(point, index: int) -> tuple[float, float]:
    if not isinstance(point, (list, tuple)) or len(point) != 2:
        raise InvalidFlag(f"ring point {index} must be [lon, lat]", field="target.ring")
    pair = {"lon": point[0], "lat": point[1]}
    return (_number(pair, "lon", -180.0, 180.0), _number(pair, "lat", -90.0, 90.0))


_TARGET_BUILDERS = {
    "line": lambda cls, data: cls(_station_ref(data, "line_id")),
    "section": _build_simple,
    "station": _build_simple,
    "oblast": _build_oblast,
    "circle": _build_circle,
    "polygon": _build_polygon,
    "bus_link": _build_simple,
}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _check_line(line_id: str, network) -> None:
    if line_id not in network.lines:
        raise UnknownLine(
            f"unknown line {line_id!r}",
            field="target.line_id",
            value=line_id,
            suggestions=_close(line_id, network.lines),
        )


def _check_station(station_id: str, network, field: str) -> None:
    if station_id not in network.stations:
        raise UnknownStation(
            f"unknown station id {station_id!r}",
            field=field,
            value=station_id,
            suggestions=_close(station_id, network.stations),
        )


def _close(word: str, names) -> list[str]:
    return [match for match, _score, _i in process.extract(word, list(names), limit=5)]


def _line_link_stations(line, network) -> set[str]:
    ends = set()
    for link_id in line.link_ids:
        link = network.links.get(link_id)
        if link is not None:
            ends.update((link.from_id, link.to_id))
    return ends


def _bus_links_between(target, network) -> list:
    return [
        link
        for link in network.links_between(target.from_station, target.to_station)
        if link.mode is Mode.BUS
    ]
