"""Air-raid alerts (alerts.in.ua API v1) as temporary, explained risk on the network.

An alert names a place — an oblast, a raion, a hromada or a city — and a kind of danger.
:func:`alert_from_dict` reads one entry of ``/v1/alerts/active.json``; :func:`alert_flags`
turns the alerts in force into temporary :class:`~advisor.risk.model.Flag` s that routing
weighs like any other flag, so the affected legs carry the badge and the one answer builder
attaches the ``air_alert`` notice. What the network can place:

- ``oblast``: the whole oblast (:class:`~advisor.risk.model.OblastTarget`), by its name in
  the one oblast table (:data:`advisor.network.oblasts.OBLASTS`);
- ``city``: the stations of the settlement of that name in that oblast
  (:class:`~advisor.risk.model.StationTarget` each); a city the network does not know falls
  back to its oblast, as below;
- ``raion`` / ``hromada``: the network has no raion or hromada boundaries, so the alert
  covers its whole oblast, and the texts say it is only part of the oblast ("Шосткинський
  район (Сумська область)"). Warning a passenger of the neighbouring raion is the honest
  failure; saying nothing where an alert is on is not;
- an oblast name the table does not know: no flag; the alert is listed in ``unplaced``.

Levels come from :class:`AlertPolicy` (``[alerts]`` in ``config/settings.toml``, with the
reasoning there). An alert stays in force while the feed lists it and for ``grace`` after it
ends (trains held at stations start again with delays). An alert says what happens now, not
tomorrow: while it lasts it applies to trips departing up to ``horizon`` after the time the
flags are made (``now``); later trips are not marked.

Examples
--------
>>> from datetime import UTC, datetime
>>> alert = alert_from_dict({"id": 7, "location_title": "Сумська область",
...     "location_type": "oblast", "location_oblast": "Сумська область",
...     "started_at": "2026-03-01T12:05:00.000Z", "alert_type": "air_raid"})
>>> alert.oblast_iso, alert.started_at.isoformat()
('UA-59', '2026-03-01T12:05:00+00:00')
>>> flags, unplaced = alert_flags([alert], None, AlertPolicy())
>>> flags[0].target, flags[0].level.value, unplaced
(OblastTarget(oblast_iso='UA-59'), 'advisory', ())
>>> flags[0].reason_uk
'Сумська область: повітряна тривога з 14:05; потяги можуть затримувати на станціях'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from advisor.errors import FeedError
from advisor.network.geo import KYIV_TZ
from advisor.network.model import Network
from advisor.network.oblasts import OBLASTS
from advisor.risk.model import Flag, OblastTarget, RiskLevel, StationTarget

__all__ = [
    "ALERT_SOURCE",
    "ALERT_TYPES",
    "AirAlert",
    "AlertPolicy",
    "alert_flags",
    "alert_from_dict",
    "oblast_iso_named",
]

ALERT_SOURCE = "alerts.in.ua"
LOCATION_TYPES = ("oblast", "raion", "hromada", "city")

#: alert_type -> (Ukrainian, English) name, for every type the API v1 defines.
ALERT_TYPES = MappingProxyType(
    {
        "air_raid": ("повітряна тривога", "air-raid alert"),
        "artillery_shelling": ("загроза артобстрілу", "artillery shelling threat"),
        "urban_fights": ("загроза вуличних боїв", "urban fighting threat"),
        "chemical": ("хімічна загроза", "chemical threat"),
        "nuclear": ("радіаційна загроза", "nuclear threat"),
    }
)
_UNKNOWN_TYPE = ("тривога", "alert")


@dataclass(frozen=True)
class AirAlert:
    """One alert of the alerts.in.ua API v1 (``/v1/alerts/active.json``).

    ``level`` is the API's ``alert_level`` (``"red"``, ``"yellow"``) or ``""`` when the
    entry has none; ``finished_at`` is set once the alert has ended (by the API, or by the
    poller when the alert left the active list). ``oblast_iso`` is None when the oblast name
    is not in the table.
    """

    id: str
    location_title: str
    location_type: str
    location_oblast: str
    alert_type: str
    started_at: datetime
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    level: str = ""
    location_uid: str = ""
    location_title_en: str = ""
    notes: str = ""
    raw: Mapping = field(default_factory=dict, compare=False, hash=False)

    @property
    def oblast_iso(self) -> str | None:
        """ISO code of the alert's oblast, or None when the name is unknown."""
        return oblast_iso_named(self.location_oblast or self.location_title)

    def in_force_at(self, when: datetime, grace: timedelta) -> bool:
        """True from the start until *grace* after the end (open while it has no end)."""
        if when < self.started_at:
            return False
        return self.finished_at is None or when < self.finished_at + grace


def _normalised(name: str) -> str:
    text = " ".join(str(name).replace("’", "'").replace("ʼ", "'").split()).lower()
    return text.replace("м. ", "місто ")


_OBLAST_BY_NAME = MappingProxyType({_normalised(o.name_uk): o.iso for o in OBLASTS.values()})


def oblast_iso_named(name: str) -> str | None:
    """The ISO code of the oblast named *name* as alerts.in.ua writes it, or None.

    >>> oblast_iso_named("м. Київ"), oblast_iso_named("Київська область")
    ('UA-30', 'UA-32')
    >>> oblast_iso_named("Нарнія") is None
    True
    """
    return _OBLAST_BY_NAME.get(_normalised(name))


def alert_from_dict(data: Mapping) -> AirAlert:
    """One entry of ``alerts`` in the API's answer; raises :class:`FeedError` naming the
    missing or bad field (the caller reports it and keeps the other alerts)."""
    if not isinstance(data, Mapping):
        raise FeedError(f"alert entry {data!r} is not an object", field="alerts")
    for name in ("id", "location_title", "location_type", "started_at"):
        if data.get(name) in (None, ""):
            raise FeedError(f"alert {data.get('id')!r} has no {name}", field=name)
    if data["location_type"] not in LOCATION_TYPES:
        raise FeedError(
            f"alert {data['id']!r} has unknown location_type {data['location_type']!r}",
            field="location_type", value=data["location_type"],
        )  # fmt: skip
    return AirAlert(
        id=str(data["id"]),
        location_title=str(data["location_title"]),
        location_type=str(data["location_type"]),
        location_oblast=str(data.get("location_oblast") or ""),
        alert_type=str(data.get("alert_type") or ""),
        started_at=_time(data, "started_at"),
        finished_at=_time(data, "finished_at"),
        updated_at=_time(data, "updated_at"),
        level=str(data.get("alert_level") or ""),
        location_uid=str(data.get("location_uid") or ""),
        location_title_en=str(data.get("location_title_en") or ""),
        notes=str(data.get("notes") or ""),
        raw=MappingProxyType(dict(data)),
    )


def _time(data: Mapping, name: str) -> datetime | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as err:
        raise FeedError(
            f"alert {data.get('id')!r}: {name} {value!r} is not a time", field=name, value=value
        ) from err
    # The API writes UTC ("...Z"); a time without offset is taken as UTC too.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AlertPolicy:
    """How alerts weigh on routing (``[alerts]`` settings; reasons in the settings file).

    ``levels`` maps ``alert_type`` and ``alert_type:level`` (``"air_raid:yellow"``) to a risk
    level; the more specific key wins; a type not listed gets ``default_level``.
    """

    levels: Mapping[str, RiskLevel] = field(
        default_factory=lambda: MappingProxyType(
            {
                "air_raid": RiskLevel.ADVISORY,
                "artillery_shelling": RiskLevel.ELEVATED,
                "artillery_shelling:yellow": RiskLevel.ADVISORY,
                "urban_fights": RiskLevel.HIGH,
                "chemical": RiskLevel.HIGH,
                "nuclear": RiskLevel.HIGH,
            }
        )
    )
    default_level: RiskLevel = RiskLevel.ADVISORY
    grace: timedelta = timedelta(minutes=10)
    horizon: timedelta = timedelta(hours=3)

    def level_of(self, alert: AirAlert) -> RiskLevel:
        """The risk level *alert* carries.

        >>> AlertPolicy().level_of(alert_from_dict({"id": 1, "location_title": "x",
        ...     "location_type": "oblast", "started_at": "2026-03-01T12:00:00Z",
        ...     "alert_type": "artillery_shelling", "alert_level": "yellow"})).value
        'advisory'
        """
        specific = f"{alert.alert_type}:{alert.level}" if alert.level else None
        if specific in self.levels:
            return self.levels[specific]
        return self.levels.get(alert.alert_type, self.default_level)


def alert_flags(
    alerts: Iterable[AirAlert],
    network: Network | None,
    policy: AlertPolicy,
    now: datetime | None = None,
) -> tuple[tuple[Flag, ...], tuple[AirAlert, ...]]:
    """Temporary flags for *alerts*, and the alerts the network cannot place at all.

    Each flag is in force from the alert's start to ``grace`` after its end; while the alert
    lasts, to ``horizon`` after *now* (open-ended when *now* is None). Its id is
    ``alert:<id>`` (``alert:<id>:<station>`` for a city alert) and ``extra["air_alert"]``
    carries what the answer's notice needs.
    """
    flags: list[Flag] = []
    unplaced: list[AirAlert] = []
    for alert in alerts:
        made = _flags_for(alert, network, policy, now)
        flags.extend(made)
        if not made:
            unplaced.append(alert)
    return tuple(flags), tuple(unplaced)


def _flags_for(alert: AirAlert, network: Network | None, policy: AlertPolicy, now) -> list[Flag]:
    iso = alert.oblast_iso
    if iso is None:
        return []
    stations = _city_stations(alert, iso, network) if alert.location_type == "city" else ()
    targets = [StationTarget(s) for s in stations] or [OblastTarget(iso)]
    whole = alert.location_type == "oblast" or (alert.location_type == "city" and not stations)
    place_uk, place_en = _place_names(alert, iso, exact=bool(stations) or whole)
    details = _details(alert, iso, place_uk, place_en, policy)
    uk, en = _reasons(alert, place_uk, place_en)
    if alert.finished_at is not None:
        until = alert.finished_at + policy.grace
    else:
        until = now + policy.horizon if now is not None else None
    return [
        Flag(
            id=f"alert:{alert.id}" + (f":{target.station_id}" if stations else ""),
            level=policy.level_of(alert),
            target=target,
            reason_uk=uk,
            reason_en=en,
            source=ALERT_SOURCE,
            author=ALERT_SOURCE,
            active_from=alert.started_at,
            active_until=until,
            published_at=alert.started_at,
            extra={"air_alert": details},
        )
        for target in targets
    ]


def _city_stations(alert: AirAlert, iso: str, network: Network | None) -> tuple[str, ...]:
    """Station ids of the settlement named like the city alert, in its oblast."""
    if network is None:
        return ()
    name = _normalised(alert.location_title).removeprefix("місто ")
    ids = {
        s.id for s in network.settlements.values()
        if s.oblast_iso == iso and _normalised(s.name_uk) == name
    }  # fmt: skip
    return tuple(sorted(st.id for st in network.stations.values() if st.settlement in ids))


def _place_names(alert: AirAlert, iso: str, exact: bool) -> tuple[str, str]:
    oblast = OBLASTS[iso]
    title_en = alert.location_title_en or alert.location_title
    if alert.location_type == "oblast":
        return oblast.name_uk, oblast.name_en
    if exact:
        return alert.location_title, title_en
    # Placed on the whole oblast: say which part the alert is really about.
    return (f"{alert.location_title} ({oblast.name_uk})", f"{title_en} ({oblast.name_en})")


def _details(alert: AirAlert, iso: str, place_uk: str, place_en: str, policy) -> dict:
    return {
        "alert_id": alert.id,
        "alert_type": alert.alert_type,
        "alert_level": alert.level,
        "location_type": alert.location_type,
        "location_title": alert.location_title,
        "oblast_iso": iso,
        "place_uk": place_uk,
        "place_en": place_en,
        "started_at": alert.started_at,
        "finished_at": alert.finished_at,
        "whole_oblast_for_part": alert.location_type in ("raion", "hromada")
        or (alert.location_type == "city" and place_uk != alert.location_title),
    }


def _reasons(alert: AirAlert, place_uk: str, place_en: str) -> tuple[str, str]:
    kind_uk, kind_en = ALERT_TYPES.get(alert.alert_type, _UNKNOWN_TYPE)
    start = _clock(alert.started_at)
    if alert.finished_at is None:
        return (
            f"{place_uk}: {kind_uk} з {start}; потяги можуть затримувати на станціях",
            f"{place_en}: {kind_en} since {start}; trains may be held at stations",
        )
    end = _clock(alert.finished_at)
    return (
        f"{place_uk}: {kind_uk} з {start} до {end}; можливі затримки потягів",
        f"{place_en}: {kind_en} from {start} to {end}; trains may still be delayed",
    )


def _clock(moment: datetime) -> str:
    return moment.astimezone(KYIV_TZ).strftime("%H:%M")
