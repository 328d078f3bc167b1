"""The one parser: raw passenger input (API parameters, the page's form, CLI options) →
a typed :class:`~advisor.routing.model.Query`.

Every adapter hands the strings it received to :meth:`QueryParser.parse`; the core trusts
the query it gets back and never re-resolves a station. Each problem raises
:class:`~advisor.errors.InvalidQuery` (or :class:`~advisor.errors.UnknownStation`, with
suggestions) naming the field and the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from advisor.errors import AdvisorError, InvalidQuery, UnknownStation
from advisor.network.geo import KYIV_TZ
from advisor.network.model import Mode, Network
from advisor.risk.model import Tolerance
from advisor.risk.parse import enum_by_name
from advisor.routing.model import RIDING_MODES, Query

__all__ = [
    "MAX_DAYS_FROM_TODAY",
    "MAX_TEXT",
    "MAX_TRANSFERS_LIMIT",
    "QueryParser",
    "parse_modes",
    "parse_tolerance",
]

MAX_TRANSFERS_LIMIT = 10
# A departure further than this from today is taken as a typo, not a plan: the network and
# flags say nothing useful about it (past dates stay allowed for timetable look-ups).
MAX_DAYS_FROM_TODAY = 366
MAX_TEXT = 100  # the station search refuses longer text
SUGGESTIONS = 5


def parse_tolerance(value) -> Tolerance:
    """A :class:`Tolerance` from its name; raises :class:`InvalidQuery` naming the value.

    >>> parse_tolerance("accept-high").value
    'accept-high'
    """
    return enum_by_name(Tolerance, value, what="tolerance", field="tolerance", error=InvalidQuery)


def parse_modes(value) -> frozenset[Mode]:
    """Riding modes from ``"rail,bus"`` or a list of names; raises :class:`InvalidQuery`.

    >>> sorted(m.value for m in parse_modes(["bus", "rail,bus"]))
    ['bus', 'rail']
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [part.strip().lower() for item in items for part in str(item).split(",")]
    names = [name for name in names if name]
    riding = {mode.value for mode in RIDING_MODES}
    bad = [name for name in names if name not in riding]
    if bad or not names:
        shown = bad[0] if bad else ",".join(map(str, items))
        raise InvalidQuery(
            f"unknown mode {shown!r}; use rail, bus or both" if bad else "choose rail, bus or both",
            field="modes",
            value=shown,
        )
    return frozenset(Mode(name) for name in names)


@dataclass
class QueryParser:
    """Turns raw input into a :class:`Query` over one network and its station search.

    Parameters
    ----------
    network : Network
    station_index : StationIndex
        Resolves names (with typos, old names, Latin spellings) to stations.
    settings : Settings
        Defaults: tolerance, transfers, the change time between buses.
    clock : callable
        The current aware time (a missing departure time means now).
    """

    network: Network
    station_index: object
    settings: object
    clock: Callable[[], datetime]

    def parse(
        self,
        origin,
        destination,
        *,
        at=None,
        tolerance=None,
        modes=None,
        max_transfers=None,
        avoid_stations: Iterable[str] = (),
        avoid_lines: Iterable[str] = (),
        arrive_by: bool = False,
    ) -> Query:
        """A validated :class:`Query`; raises :class:`InvalidQuery` naming the first problem."""
        origin_id = self.station_id(origin, "from")
        destination_id = self.station_id(destination, "to")
        if self.network.same_place(origin_id, destination_id):
            raise InvalidQuery(
                f"to is the same place as from ({destination_id})", field="to", value=destination
            )
        return Query(
            origin=origin_id,
            destination=destination_id,
            depart_at=self.depart_at(at),
            tolerance=parse_tolerance(tolerance or self.settings.default_tolerance),
            modes=RIDING_MODES if modes in (None, "") else parse_modes(modes),
            max_transfers=_transfers(max_transfers, self.settings.max_transfers),
            avoid_stations=frozenset(self.station_id(s, "avoid_stations") for s in avoid_stations),
            avoid_lines=frozenset(self.network.get_line(str(line)).id for line in avoid_lines),
            bus_change_minutes=self.settings.bus_change_minutes,
            arrive_by=bool(arrive_by),
        )

    def station_id(self, text, field_name: str) -> str:
        """The station id for *text*: an exact id as it is, else the best match of the
        station search; raises :class:`UnknownStation` with suggestions."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidQuery(
                f"{field_name} is required: a station name or id", field=field_name, value=text
            )
        text = text.strip()
        if len(text) > MAX_TEXT:
            raise InvalidQuery(
                f"{field_name} is longer than {MAX_TEXT} characters",
                field=field_name,
                value=text[:MAX_TEXT],
            )
        if self.network.find_station(text) is not None:
            return text
        try:
            return self.station_index.resolve(text).id
        except UnknownStation as err:
            suggestions = [m.station.id for m in self.station_index.suggest(text, SUGGESTIONS)]
            raise UnknownStation(
                f"{field_name}: no station matches {text!r}",
                field=field_name,
                value=text,
                suggestions=suggestions,
            ) from err
        except AdvisorError as err:
            message = f"{field_name}: {err.message}"
            raise InvalidQuery(message, field=field_name, value=text) from err

    def depart_at(self, value) -> datetime:
        """The departure: now when empty; an ISO 8601 text or a datetime, a time without
        offset being Kyiv local time; within :data:`MAX_DAYS_FROM_TODAY` days of today."""
        now = self.clock()
        if value is None or value == "":
            return now
        when = value if isinstance(value, datetime) else _iso_time(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=KYIV_TZ)
        if abs(when - now) > timedelta(days=MAX_DAYS_FROM_TODAY):
            raise InvalidQuery(
                f"at must lie within {MAX_DAYS_FROM_TODAY} days of today, not {value!s}",
                field="at",
                value=str(value),
            )
        return when


def _iso_time(value) -> datetime:
    try:
        return datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidQuery(
            f"at must be an ISO 8601 date-time such as 2026-03-12T14:30+02:00, not {value!r}",
            field="at",
            value=str(value),
        ) from None


def _transfers(value, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= MAX_TRANSFERS_LIMIT or isinstance(value, (bool, float)):
        raise InvalidQuery(
            f"max_transfers {value!r} must be a whole number 0–{MAX_TRANSFERS_LIMIT}",
            field="max_transfers",
            value=str(value),
        )
    return number
