"""Publication of the operators' flags as a GTFS-realtime Service Alerts feed.

:func:`alerts_feed` turns one flag snapshot into a ``FULL_DATASET``
:class:`~google.transit.gtfs_realtime_pb2.FeedMessage` that journey planners and the
railway's own app can read beside their timetables. The mapping, in GTFS-realtime words:

- one ``entity`` per published flag still in force at ``at`` or starting later (entity id =
  flag id); drafts, withdrawn and expired flags are left out;
- ``active_period``: the flag's validity window; an open side is left unset (a flag without
  an end is open-ended, as the spec allows);
- ``effect``: suspended → ``NO_SERVICE``; high, elevated and advisory → ``OTHER_EFFECT``
  with an ``effect_detail`` text. ``DETOUR`` would claim that vehicles take another way and
  ``NO_EFFECT`` that nothing changes, neither of which this service knows;
- ``severity_level``: suspended and high → ``SEVERE``, elevated → ``WARNING``, advisory →
  ``INFO``;
- ``cause``: ``OTHER_CAUSE`` with the operator's reason as ``cause_detail`` (the spec's
  ``STRIKE`` means a labour strike, not an air strike);
- ``header_text`` / ``description_text`` / ``*_detail``: TranslatedStrings in Ukrainian and
  English (the *locale* one first); the description gives the reason, the source and since
  when the flag applies (Kyiv time);
- ``informed_entity``: ``stop_id`` s, which are **this service's station ids** (those of
  ``/api/v1/stations``), not the ids of any other GTFS feed. A station flag names its
  station, a bus-link flag both stops. Line, section and area flags name the covered stations
  with passenger service — rail stations and bus stops, not halts or city stops — hubs and
  main stations first, at most :data:`MAX_INFORMED_STOPS`; when an area covers only halts,
  those are named instead; when it covers links but no station (a bus route crossing it),
  the ends of those links. A flag that covers nothing on the network (an unknown line, an
  area off the network) has no entity: an alert needs an informed entity, and routing
  ignores such a flag too.

The header ``timestamp`` is when the snapshot was last read from the flag store, not the
time of the request: consumers judge the feed's age by it.

Examples
--------
>>> from datetime import UTC, datetime
>>> from advisor.network.model import Station
>>> from advisor.risk.model import StationTarget
>>> net = Network.build([Station("lozova", "Лозова", "Lozova", 48.9, 36.3, "UA-63",
...                              StationKind.RAIL_STATION)], [], [])
>>> flag = Flag("f1", RiskLevel.SUSPENDED, StationTarget("lozova"), "Удар", "Strike", "UZ",
...             "ops", active_from=datetime(2026, 3, 1, tzinfo=UTC))
>>> feed = alerts_feed([flag], net, datetime(2026, 3, 2, tzinfo=UTC),
...                    updated_at=datetime(2026, 3, 2, 8, tzinfo=UTC))
>>> alert = feed.entity[0].alert
>>> _Alert.Effect.Name(alert.effect), alert.informed_entity[0].stop_id, feed.header.timestamp
('NO_SERVICE', 'lozova', 1772438400)
>>> alert.header_text.translation[1].text
'Service suspended: station Lozova'
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

from google.transit import gtfs_realtime_pb2

from advisor.errors import AdvisorError
from advisor.network.geo import KYIV_TZ
from advisor.network.model import Network, StationKind
from advisor.network.oblasts import OBLAST_NAMES
from advisor.risk.coverage import Coverage, resolve
from advisor.risk.model import Flag, FlagStatus, RiskLevel

__all__ = ["MAX_INFORMED_STOPS", "alerts_feed", "is_published_from"]

log = logging.getLogger(__name__)

MAX_INFORMED_STOPS = 150
"""Most stop ids one alert names. Above every line of the shipped network (≤ 38 stations
with passenger service) and most oblasts; Donetsk oblast (153) loses its last rail stations."""

_Alert = gtfs_realtime_pb2.Alert
_EFFECT = {
    RiskLevel.SUSPENDED: _Alert.NO_SERVICE,
    RiskLevel.HIGH: _Alert.OTHER_EFFECT,
    RiskLevel.ELEVATED: _Alert.OTHER_EFFECT,
    RiskLevel.ADVISORY: _Alert.OTHER_EFFECT,
}
_SEVERITY = {
    RiskLevel.SUSPENDED: _Alert.SEVERE,
    RiskLevel.HIGH: _Alert.SEVERE,
    RiskLevel.ELEVATED: _Alert.WARNING,
    RiskLevel.ADVISORY: _Alert.INFO,
}
# (headline, effect detail) per level, in Ukrainian and English.
_WORDS = {
    RiskLevel.SUSPENDED: (
        ("Рух закрито", "Рух не здійснюється"),
        ("Service suspended", "No service"),
    ),
    RiskLevel.HIGH: (
        ("Високий ризик", "Оператор закликає не їхати цим шляхом"),
        ("High risk", "The operator urges passengers not to travel this way"),
    ),
    RiskLevel.ELEVATED: (
        ("Підвищений ризик", "Рух можливий, краще обрати інший шлях"),
        ("Elevated risk", "Usable; another way is preferable"),
    ),
    RiskLevel.ADVISORY: (
        ("Попередження", "Лише інформація"),
        ("Advisory", "Information only"),
    ),
}
_PASSENGER_KINDS = frozenset({StationKind.RAIL_STATION, StationKind.BUS_STATION})
_LANGUAGES = ("uk", "en")


def alerts_feed(
    flags: Iterable[Flag],
    network: Network,
    at: datetime,
    *,
    updated_at: datetime | None,
    coverage: Mapping[str, Coverage] | None = None,
    locale: str = "uk",
) -> gtfs_realtime_pb2.FeedMessage:
    """The GTFS-realtime Alerts feed of *flags* as published at *at*.

    Parameters
    ----------
    flags : iterable of Flag
        A flag snapshot; only published flags not yet expired at *at* become alerts.
    network : Network
        Resolves what each flag covers and names places.
    at : datetime
        Aware moment of publication (normally now).
    updated_at : datetime or None
        When the snapshot was read; the header ``timestamp`` (left unset when None).
    coverage : mapping of flag id to Coverage, optional
        Already resolved coverage (the routing index's); resolved here when missing.
    locale : {"uk", "en"}
        The language listed first in every TranslatedString; both are always given.
    """
    if locale not in _LANGUAGES:
        raise ValueError(f"locale {locale!r} is not one of {', '.join(_LANGUAGES)}")
    feed = gtfs_realtime_pb2.FeedMessage()
    feed.header.gtfs_realtime_version = "2.0"
    feed.header.incrementality = gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    if updated_at is not None:
        feed.header.timestamp = int(updated_at.timestamp())
    order = (locale, *(lang for lang in _LANGUAGES if lang != locale))
    for flag in sorted(flags, key=lambda f: (-f.level.rank, f.id)):
        if not is_published_from(flag, at):
            continue
        stops = _informed_stops(flag, network, coverage)
        if not stops:
            log.debug("flag %s covers nothing on the network; no alert for it", flag.id)
            continue
        entity = feed.entity.add(id=flag.id)
        _fill_alert(entity.alert, flag, network, stops, order)
    return feed


def is_published_from(flag: Flag, at: datetime) -> bool:
    """True if *flag* is published and in force at *at* or later (not expired).

    >>> from datetime import UTC, datetime
    >>> from advisor.risk.model import Flag, RiskLevel, StationTarget
    >>> f = Flag("f", RiskLevel.HIGH, StationTarget("a"), "", "x", "UZ", "ops",
    ...          active_until=datetime(2026, 3, 1, tzinfo=UTC))
    >>> is_published_from(f, datetime(2026, 2, 1, tzinfo=UTC))
    True
    >>> is_published_from(f, datetime(2026, 3, 1, tzinfo=UTC))
    False
    """
    if flag.status is not FlagStatus.PUBLISHED:
        return False
    return flag.active_until is None or at < flag.active_until


def _fill_alert(alert, flag: Flag, network: Network, stops, order) -> None:
    period = alert.active_period.add()
    if flag.active_from is not None:
        period.start = int(flag.active_from.timestamp())
    if flag.active_until is not None:
        period.end = int(flag.active_until.timestamp())
    alert.effect = _EFFECT[flag.level]
    alert.severity_level = _SEVERITY[flag.level]
    alert.cause = _Alert.OTHER_CAUSE
    for stop_id in stops:
        alert.informed_entity.add(stop_id=stop_id)
    place = {lang: _place(flag, network, lang) for lang in order}
    words = {"uk": _WORDS[flag.level][0], "en": _WORDS[flag.level][1]}
    for lang in order:
        alert.header_text.translation.add(text=f"{words[lang][0]}: {place[lang]}", language=lang)
        alert.description_text.translation.add(text=_description(flag, lang), language=lang)
        alert.effect_detail.translation.add(text=words[lang][1], language=lang)
        alert.cause_detail.translation.add(text=flag.reason(lang), language=lang)


def _description(flag: Flag, lang: str) -> str:
    """Reason, source, and since when (Kyiv time); the end when there is one."""
    since, until = _kyiv(flag.since), _kyiv(flag.active_until)
    if lang == "uk":
        text = f"{flag.reason('uk')}. Джерело: {flag.source}."
        text += f" Діє з {since} (київський час)." if since else ""
        return text + (f" Діє до {until}." if until else "")
    text = f"{flag.reason('en')}. Source: {flag.source}."
    text += f" In force since {since} (Kyiv time)." if since else ""
    return text + (f" Until {until}." if until else "")


def _kyiv(moment: datetime | None) -> str:
    return moment.astimezone(KYIV_TZ).strftime("%d.%m.%Y %H:%M") if moment else ""


def _place(flag: Flag, network: Network, lang: str) -> str:
    """What the flag is about, in the nominative (a headline, not a sentence)."""
    target, uk = flag.target, lang == "uk"
    if target.kind == "line":
        line = network.lines.get(target.line_id)
        name = line.display_name(lang) if line is not None else target.line_id
        return f"лінія {name}" if uk else f"line {name}"
    if target.kind in ("section", "bus_link"):
        ends = (_name(network, target.from_station, lang), _name(network, target.to_station, lang))
        pair = "–".join(ends)
        if target.kind == "section":
            return f"ділянка {pair}" if uk else f"section {pair}"
        return f"автобусне сполучення {pair}" if uk else f"bus link {pair}"
    if target.kind == "station":
        name = _name(network, target.station_id, lang)
        return f"станція {name}" if uk else f"station {name}"
    if target.kind == "oblast":
        names = OBLAST_NAMES.get(target.oblast_iso, (target.oblast_iso, target.oblast_iso))
        return names[0] if uk else names[1]
    if target.kind == "circle":
        radius = f"{target.radius_km:g}"
        return f"район радіусом {radius} км" if uk else f"area of {radius} km radius"
    return "позначений район" if uk else "flagged area"


def _name(network: Network, station_id: str, lang: str) -> str:
    station = network.stations.get(station_id)
    return station.display_name(lang) if station is not None else station_id


def _informed_stops(
    flag: Flag, network: Network, coverage: Mapping[str, Coverage] | None
) -> list[str]:
    """The stop ids an alert for *flag* names (see the module docstring for the rule)."""
    target = flag.target
    if target.kind == "station":
        named = [target.station_id]
    elif target.kind == "bus_link":
        named = [target.from_station, target.to_station]
    else:
        named = []
    named = [s for s in named if s in network.stations]
    if named:
        return named
    covered = _covered_stations(flag, network, coverage)
    return _ranked_stops(covered, _leading(flag, network), network)[:MAX_INFORMED_STOPS]


def _covered_stations(flag, network, coverage) -> frozenset[str]:
    if coverage is not None:
        # The routing index left out a flag it could not resolve (and logged why once).
        found = coverage.get(flag.id)
        if found is None:
            return frozenset()
    else:
        try:
            found = resolve(flag, network)
        except AdvisorError as err:
            log.warning("flag %s not published as an alert: %s", flag.id, err.message)
            return frozenset()
    stations = found.station_ids
    if not stations:
        # An area crossed by links without a stop inside (a bus route through it): name the
        # stops where those services start and end, rather than publishing nothing.
        links = [network.links[i] for i in found.link_ids if i in network.links]
        stations = {end for link in links for end in (link.from_id, link.to_id)}
    return frozenset(s for s in stations if s in network.stations)


def _leading(flag: Flag, network: Network) -> frozenset[str]:
    """Stations named first: a line's hubs, a section's ends."""
    target = flag.target
    if target.kind == "section":
        return frozenset({target.from_station, target.to_station})
    if target.kind == "line" and target.line_id in network.lines:
        return frozenset(network.lines[target.line_id].hubs)
    return frozenset()


def _ranked_stops(covered, leading, network: Network) -> list[str]:
    """Stations with passenger service (or, failing any, every covered one), best first."""
    stations = [network.stations[s] for s in covered]
    served = [s for s in stations if s.kind in _PASSENGER_KINDS or s.id in leading]
    chosen = served or stations
    chosen.sort(key=lambda s: (s.id not in leading, not s.is_main, s.name_latin, s.id))
    return [s.id for s in chosen]
