"""Words the console shows: labels of kinds, levels, statuses and fields, and a flag's
values written for people (target names instead of ids, Kyiv times instead of UTC)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from advisor.errors import AdvisorError
from advisor.risk.parse import parse_time, target_to_dict
from advisor.routing.explain import OBLAST_NAMES
from advisor.web.i18n import local_time

__all__ = ["LABELS", "Words", "oblast_name", "page_words", "sort_key"]

# The Ukrainian alphabet (then Latin): code-point order would put "І", "Ї", "Є" and "Ґ"
# after "Я" and mis-sort every list of Ukrainian names.
_ALPHABET = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюяabcdefghijklmnopqrstuvwxyz"
_RANK = {char: rank for rank, char in enumerate(_ALPHABET)}


def sort_key(text: str) -> tuple:
    """A key that sorts names in Ukrainian alphabetical order (Latin after Cyrillic).

    >>> sorted(["Івано-Франківськ", "Житомир", "Яремче", "Київ"], key=sort_key)
    ['Житомир', 'Івано-Франківськ', 'Київ', 'Яремче']
    """
    folded = text.casefold().replace("’", "").replace("'", "")
    return tuple(_RANK.get(char, 100 + ord(char)) for char in folded)


def oblast_name(iso: str, locale: str) -> str:
    """An oblast's name in the page language ("Одеська область"), its code if unknown.

    >>> oblast_name("UA-51", "uk"), oblast_name("UA-51", "en")
    ('Одеська область', 'Odesa oblast')
    """
    names = OBLAST_NAMES.get(iso)
    if names is None:
        return iso
    return names[0] if locale == "uk" else names[1]

LABELS = {
    "line": _l("Line"),
    "section": _l("Section of a line"),
    "station": _l("Station"),
    "oblast": _l("Oblast"),
    "circle": _l("Circle (centre and radius)"),
    "polygon": _l("Polygon"),
    "bus_link": _l("Bus link"),
    "advisory": _l("Advisory"),
    "elevated": _l("Elevated risk"),
    "high": _l("High risk"),
    "suspended": _l("Suspended"),
    "draft": _l("Draft"),
    "published": _l("Published"),
    "withdrawn": _l("Withdrawn"),
    "level": _l("Level"),
    "target": _l("Target"),
    "reason_uk": _l("Reason (Ukrainian)"),
    "reason_en": _l("Reason (English)"),
    "source": _l("Source"),
    "active_from": _l("Active from"),
    "active_until": _l("Active until"),
    "status": _l("Status"),
    "rail_station": _l("railway station"),
    "halt": _l("railway halt"),
    "bus_station": _l("bus station"),
    "city_stop": _l("city stop"),
    "viewer": _l("Viewer"),
    "operator": _l("Operator"),
    "admin": _l("Administrator"),
}


class Words:
    """Labels and value texts for one page in one language."""

    labels = LABELS

    def __init__(self, network, locale: str):
        self.network = network
        self.locale = locale

    def __getitem__(self, key) -> str:
        return str(LABELS.get(getattr(key, "value", key), key))

    def target(self, target) -> str:
        """A target (object or dict) in words: "Line: Харків – Куп'янськ"."""
        data = target if isinstance(target, dict) else _target_dict(target)
        if not data:
            return ""
        kind = data.get("kind", "")
        return f"{self[kind]}: {self._target_detail(kind, data)}"

    def _target_detail(self, kind: str, data: dict) -> str:
        if kind in ("line", "section"):
            line = self.network.lines.get(data.get("line_id", ""))
            name = line.display_name(self.locale) if line else data.get("line_id", "")
            if kind == "line":
                return name
            return (
                f"{name}, {self.station(data['from_station'])} – {self.station(data['to_station'])}"
            )
        if kind == "station":
            return self.station(data["station_id"])
        if kind == "bus_link":
            return f"{self.station(data['from_station'])} – {self.station(data['to_station'])}"
        if kind == "oblast":
            return oblast_name(data["oblast_iso"], self.locale)
        if kind == "circle":
            return f"{data['lat']}, {data['lon']}, {data['radius_km']} km"
        if kind == "polygon":
            return gettext("polygon of %(count)d points", count=len(data["ring"]))
        return kind

    def title(self, flag) -> str:
        """A flag's readable title: "Високий ризик — Лінія: Лозова – Краматорськ"."""
        return f"{self[flag.level.value]} — {self.target(flag.target)}"

    def station(self, station_id: str) -> str:
        """A station's name in the page language."""
        station = self.network.find_station(station_id)
        return station.display_name(self.locale) if station else str(station_id)

    def value(self, name: str, value) -> str:
        """One field's value in words (empty for none)."""
        if value in (None, ""):
            return "—"
        if name == "target":
            return self.target(value)
        if name in ("active_from", "active_until", "published_at", "updated_at"):
            return when(value)
        if name in ("level", "status"):
            return self[value]
        return str(value)


def when(value) -> str:
    """An ISO time or datetime as Kyiv local time ``2026-03-12 14:05``."""
    if isinstance(value, datetime):
        return local_time(value)
    try:
        return local_time(parse_time(value))
    except AdvisorError:  # a stored value we cannot read is shown as it is
        return str(value)


def _target_dict(target) -> dict:
    return target_to_dict(target) if target is not None else {}


def page_words() -> Words:
    """The labels of the current request: its network and language."""
    from advisor.locale import current_locale
    from advisor.web.operator.auth import services

    return Words(services().network, current_locale())
