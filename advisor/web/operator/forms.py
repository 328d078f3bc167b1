"""The console's forms: a flag as an operator fills it in, and the flag list's filters.

Forms keep exactly what the operator typed (for re-showing it with the problems named next
to each field) and turn it into the flag shape the use cases take. Station fields are typed
names; a hidden ``*_id`` remembers the station a name was resolved to, so an unchanged name
is not searched again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from flask_babel import gettext

from advisor.errors import InvalidQuery
from advisor.network.geo import KYIV_TZ
from advisor.risk.model import Flag, RiskLevel
from advisor.risk.parse import MAX_RING_POINTS, target_to_dict

__all__ = [
    "FLAG_FIELDS",
    "KINDS",
    "STATION_FIELDS",
    "FlagFilters",
    "FlagForm",
    "field_of_error",
    "flag_changes",
    "posted_version",
]

KINDS = ("line", "section", "station", "oblast", "circle", "polygon", "bus_link")
LEVELS = tuple(level.value for level in RiskLevel)
STATUSES = ("draft", "published", "withdrawn")
MAX_TEXT = 1000
# A polygon's textarea holds one "lat, lon" line per point (up to the parser's point limit).
MAX_RING_TEXT = MAX_RING_POINTS * 32
# Station name fields of the form (each with a hidden ``<name>_id``).
STATION_FIELDS = ("station", "from_station", "to_station")
# Fields compared when a save meets a newer version (and shown in history).
FLAG_FIELDS = (
    "level",
    "target",
    "reason_uk",
    "reason_en",
    "source",
    "active_from",
    "active_until",
    "caps_baseline",
    "status",
)


@dataclass
class FlagForm:
    """A flag as typed into the create/edit form."""

    flag_id: str = ""
    version: str = ""
    kind: str = "line"
    line_id: str = ""
    section_line_id: str = ""
    section_from: str = ""
    section_to: str = ""
    station: str = ""
    station_id: str = ""
    from_station: str = ""
    from_station_id: str = ""
    to_station: str = ""
    to_station_id: str = ""
    oblast_iso: str = ""
    lat: str = ""
    lon: str = ""
    radius_km: str = ""
    ring: str = ""
    level: str = "high"
    reason_uk: str = ""
    reason_en: str = ""
    source: str = ""
    active_from: str = ""
    active_until: str = ""
    caps_baseline: str = ""  # "on" when the checkbox is ticked
    query: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form) -> FlagForm:
        """Read a posted form (unknown names are ignored, texts are trimmed and capped)."""
        names = [f.name for f in fields(cls) if f.name != "errors"]
        caps = {"ring": MAX_RING_TEXT}
        typed = cls(**{n: form.get(n, "")[: caps.get(n, MAX_TEXT)].strip() for n in names})
        if typed.kind == "polygon":
            typed.ring_points()  # names a bad line before the flag parser sees the ring
        return typed

    @classmethod
    def from_flag(cls, flag: Flag, station_name) -> FlagForm:
        """The form of a stored flag (*station_name* turns an id into a shown name)."""
        form = cls(
            flag_id=flag.id,
            version=str(flag.version),
            kind=flag.target.kind,
            level=flag.level.value,
            reason_uk=flag.reason_uk,
            reason_en=flag.reason_en,
            source=flag.source,
            active_from=local_input(flag.active_from),
            active_until=local_input(flag.active_until),
            caps_baseline="on" if flag.caps_baseline else "",
        )
        target = target_to_dict(flag.target)
        if form.kind == "section":
            form.section_line_id = target["line_id"]
            form.section_from, form.section_to = target["from_station"], target["to_station"]
        elif form.kind == "line":
            form.line_id = target["line_id"]
        elif form.kind == "station":
            form.station_id, form.station = target["station_id"], station_name(target["station_id"])
        elif form.kind == "bus_link":
            for name in ("from_station", "to_station"):
                setattr(form, f"{name}_id", target[name])
                setattr(form, name, station_name(target[name]))
        elif form.kind == "oblast":
            form.oblast_iso = target["oblast_iso"]
        elif form.kind == "circle":
            form.lat, form.lon, form.radius_km = (
                str(target[k]) for k in ("lat", "lon", "radius_km")
            )
        elif form.kind == "polygon":
            form.ring = "\n".join(f"{lat}, {lon}" for lon, lat in target["ring"])
        return form

    def ring_points(self) -> list[list[float]]:
        """The polygon's ``[lon, lat]`` points from the "lat, lon" lines typed.

        A line that is not two numbers in range, or fewer than 3 points, is recorded in
        ``errors["ring"]`` naming the line; whether the ring encloses an area is the flag
        parser's check.
        """
        lines = [(n, line) for n, line in enumerate(self.ring.splitlines(), 1) if line.strip()]
        points = []
        for number, line in lines:
            point = _lat_lon(line)
            if point is None:
                self.errors["ring"] = gettext(
                    "Line %(number)d “%(line)s” is not “lat, lon” (two numbers, latitude "
                    "−90…90, longitude −180…180, e.g. 48.46, 35.04).",
                    number=number,
                    line=line.strip(),
                )
                return []
            points.append(point)
        if len(points) < 3:
            self.errors["ring"] = gettext(
                "A polygon needs at least 3 points, one “lat, lon” per line (%(count)d given).",
                count=len(points),
            )
        return points

    def flag_data(self, station_ids: dict[str, str]) -> dict:
        """The flag shape for the use cases; *station_ids* maps station fields to ids."""
        data = {
            "level": self.level,
            "target": self._target(station_ids),
            "reason_uk": self.reason_uk,
            "reason_en": self.reason_en,
            "source": self.source,
            "active_from": self.active_from or None,
            "active_until": self.active_until or None,
            # Only a ticked box is sent: the console saves every field, so an unticked box
            # clears the override of an edited flag.
            "caps_baseline": True if self.caps_baseline else None,
        }
        return {key: value for key, value in data.items() if value is not None}

    def _target(self, station_ids: dict[str, str]) -> dict:
        if self.kind == "section":
            return {
                "kind": "section",
                "line_id": self.section_line_id,
                "from_station": self.section_from,
                "to_station": self.section_to,
            }
        if self.kind == "station":
            return {"kind": "station", "station_id": station_ids.get("station", "")}
        if self.kind == "bus_link":
            return {
                "kind": "bus_link",
                "from_station": station_ids.get("from_station", ""),
                "to_station": station_ids.get("to_station", ""),
            }
        if self.kind == "circle":
            return {"kind": "circle", "lat": self.lat, "lon": self.lon, "radius_km": self.radius_km}
        if self.kind == "oblast":
            return {"kind": "oblast", "oblast_iso": self.oblast_iso}
        if self.kind == "polygon":
            return {"kind": "polygon", "ring": self.ring_points()}
        return {"kind": self.kind, "line_id": self.line_id}

    def station_fields(self) -> tuple[str, ...]:
        """The station name fields the chosen target kind uses."""
        return {"station": ("station",), "bus_link": ("from_station", "to_station")}.get(
            self.kind, ()
        )


def _lat_lon(line: str) -> list[float] | None:
    """``[lon, lat]`` from a "lat, lon" line (comma, semicolon or spaces between), or None."""
    parts = line.replace(";", ",").replace(",", " ").split()
    try:
        lat, lon = (float(part) for part in parts)
    except ValueError:  # not two parts, or not numbers
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return [lon, lat]


def local_input(moment: datetime | None) -> str:
    """*moment* as a ``datetime-local`` value in Kyiv time (the parser reads it back as Kyiv)."""
    return "" if moment is None else moment.astimezone(KYIV_TZ).strftime("%Y-%m-%dT%H:%M")


# InvalidFlag / UnknownStation fields -> the form field that shows the problem.
_ERROR_FIELDS = {
    "target.kind": "kind",
    "target": "kind",
    "line": "line_id",
    "target.line_id": "line_id",
    "target.station_id": "station",
    "target.oblast_iso": "oblast_iso",
    "target.lat": "lat",
    "target.lon": "lon",
    "target.radius_km": "radius_km",
    "target.ring": "ring",
}


def field_of_error(form: FlagForm, name: str | None) -> str:
    """Which form field an error about *name* belongs to (``"form"`` when none fits)."""
    if name in ("target.from_station", "target.to_station"):
        side = name.split(".")[1]
        if form.kind == "section":
            return "section_from" if side == "from_station" else "section_to"
        return side
    if name in ("target.line_id", "line") and form.kind == "section":
        return "section_line_id"
    if name in {f.name for f in fields(FlagForm)}:
        return name
    return _ERROR_FIELDS.get(name or "", "form")


def flag_changes(old: dict, new: dict) -> list[tuple[str, object, object]]:
    """``(field, old value, new value)`` for every field of :data:`FLAG_FIELDS` that differs."""
    return [
        (name, old.get(name), new.get(name))
        for name in FLAG_FIELDS
        if _comparable(old.get(name)) != _comparable(new.get(name))
    ]


def _comparable(value):
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return {k: str(v) for k, v in value.items()}
    return value


@dataclass
class FlagFilters:
    """The flag list's filters (GET parameters, all optional)."""

    status: str = ""
    level: str = ""
    line: str = ""
    oblast: str = ""
    active: bool = False

    @classmethod
    def from_args(cls, args) -> FlagFilters:
        """Read the query string; unknown values are dropped rather than refused."""
        return cls(
            status=_one_of(args.get("status", ""), STATUSES),
            level=_one_of(args.get("level", ""), LEVELS),
            line=args.get("line", "")[:80],
            oblast=args.get("oblast", "")[:8],
            active=args.get("active") == "1",
        )

    def keep(self, flag: Flag, network, now: datetime) -> bool:
        """True if *flag* passes every filter that is set."""
        if self.level and flag.level.value != self.level:
            return False
        if self.active and not (flag.status.value == "published" and flag.is_active_at(now)):
            return False
        if self.line and getattr(flag.target, "line_id", None) != self.line:
            return False
        return not self.oblast or self.oblast in target_oblasts(flag, network)


def _one_of(value: str, allowed) -> str:
    return value if value in allowed else ""


def target_oblasts(flag: Flag, network) -> set[str]:
    """The oblasts a flag's target names or lies in (its stations' oblasts)."""
    target = flag.target
    if target.kind == "oblast":
        return {target.oblast_iso}
    ids = [getattr(target, name, None) for name in ("station_id", "from_station", "to_station")]
    if target.kind == "line":
        ids = (
            list(network.lines[target.line_id].station_ids)
            if target.line_id in network.lines
            else []
        )
    found = (network.find_station(i) for i in ids if i)
    return {s.oblast_iso for s in found if s is not None and s.oblast_iso}


def posted_version(form) -> int:
    """The flag version a console form was filled in against (for optimistic locking)."""
    try:
        return int(form.get("version", ""))
    except ValueError:
        raise InvalidQuery(
            gettext("The form lost its version number; reload the flag."), field="version"
        ) from None
