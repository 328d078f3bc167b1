"""An imported GTFS timetable as one immutable, compact snapshot.

Stop times are kept column-wise in :class:`array.array` (one int per cell, no per-row Python
objects), grouped by trip: the stop times of trip ``t`` are the slice
``trip_offsets[t]:trip_offsets[t + 1]`` of ``st_place``, ``st_arrival`` and ``st_departure``.
Times are seconds after "noon minus 12 h" of the service day, exactly as GTFS defines them,
so ``25:10:00`` is ``90600`` and belongs to the previous service day.

Routing works on *places*: a stop's parent station when it has one (platforms of one station
are one place), else the stop itself. The importer (:mod:`advisor.network.gtfs`) builds a
:class:`Timetable`; the planner (:mod:`advisor.routing.timetable`) reads it.

Boarding and alighting (GTFS ``pickup_type`` / ``drop_off_type``, kept per stop-time row in
``st_pickup_type`` / ``st_drop_off_type``): 0 or empty is a regular stop, 1 means passengers
may not board (pickup) or leave (drop-off) there, and the planner never does. 2 ("phone the
agency") and 3 ("coordinate with the driver") are treated as possible, as OpenTripPlanner
does: the vehicle does stop for passengers who arrange it. The codes are kept, so an answer
could say so.

Changes (``transfers.txt``, one rule per place as the planner keeps them): ``transfer_seconds``
holds a place's minimum change time (type 2), or :data:`TRANSFER_NOT_POSSIBLE` where the feed
says changing vehicles there is not possible (type 3); types 0 (recommended point) and 1
(timed transfer) give no time, so the configured minimum applies. ``footpaths`` hold walks
between two places: seconds (type 2) or None (0/1: the configured minimum).

Examples
--------
>>> from array import array
>>> tt = Timetable(
...     feed_ids=("demo",), timezone="Europe/Kyiv",
...     stop_ids=("A", "B"), stop_names=("A", "B"), stop_lat=array("d", [50.0, 50.1]),
...     stop_lon=array("d", [30.0, 30.1]), stop_place=array("i", [0, 1]),
...     route_ids=("r",), route_names=("IC 1",), route_modes=(Mode.RAIL,), route_agencies=("UZ",),
...     trip_ids=("t",), trip_route=array("i", [0]), trip_service=array("i", [0]),
...     trip_headsigns=("B",), trip_offsets=array("i", [0, 2]),
...     st_place=array("i", [0, 1]), st_arrival=array("i", [3600, 7200]),
...     st_departure=array("i", [3600, 7200]), service_ids=("daily",),
...     calendar=((0, date(2026, 1, 1).toordinal(), date(2026, 12, 31).toordinal(), 0b1111111),),
... )
>>> tt.active_services(date(2026, 3, 2))
frozenset({0})
>>> tt.boarding_allowed(0), tt.alighting_allowed(1)
(True, True)
>>> tt.service_datetime(date(2026, 3, 2), 90600).isoformat()
'2026-03-03T01:10:00+02:00'
>>> format_gtfs_time(90600)
'25:10:00'
"""

from __future__ import annotations

import gzip
import pickle
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

import numpy as np

from advisor.errors import DataError
from advisor.network.model import Mode

__all__ = [
    "NO_PICKUP_OR_DROP_OFF",
    "TRANSFER_NOT_POSSIBLE",
    "Timetable",
    "format_gtfs_time",
    "load_timetable",
    "mode_of_route_type",
    "save_timetable",
]

# 2: pickup/drop-off codes per stop time and the transfers.txt rules of this module; a file
# of version 1 lacks both and would plan through stops nobody may board or leave at.
FORMAT_VERSION = 2
_MAPPINGS = ("added", "removed", "transfer_seconds", "footpaths", "station_by_place", "metadata")
NO_PICKUP_OR_DROP_OFF = 1
"""GTFS ``pickup_type`` / ``drop_off_type`` 1: passengers may not board / leave here."""
TRANSFER_NOT_POSSIBLE = -1
"""``transfer_seconds`` value of a place where the feed says no change is possible (type 3)."""
_ACTIVE_CACHE_DAYS = 4096  # distinct query days whose services are kept


def _empty() -> Mapping:
    return MappingProxyType({})


def format_gtfs_time(seconds: int) -> str:
    """*seconds* after the service day's start as GTFS ``HH:MM:SS`` (hours may pass 24).

    >>> format_gtfs_time(3725)
    '01:02:05'
    """
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def mode_of_route_type(route_type: int) -> Mode:
    """The network mode of a GTFS ``route_type`` (basic or extended); buses are BUS, else RAIL.

    >>> mode_of_route_type(3), mode_of_route_type(2), mode_of_route_type(201)
    (<Mode.BUS: 'bus'>, <Mode.RAIL: 'rail'>, <Mode.BUS: 'bus'>)
    """
    # Extended types 200-299 are coaches, 700-799 buses; basic 3 is bus, 11 trolleybus.
    if route_type in (3, 11) or 200 <= route_type < 300 or 700 <= route_type < 800:
        return Mode.BUS
    return Mode.RAIL


@dataclass(frozen=True, eq=False, repr=False)
class Timetable:
    """One or more imported feeds as immutable column arrays (see the module docstring).

    ``calendar`` rows are ``(service, first_ordinal, last_ordinal, weekday_mask)`` with bit 0
    for Monday; ``added`` / ``removed`` map a date ordinal to the services calendar_dates adds
    or removes on that day. ``transfer_seconds`` holds a feed's minimum change time at one
    place, ``footpaths`` walks between two places (both from transfers.txt).
    ``station_by_place`` is filled by stop matching (:func:`advisor.network.gtfs.match_stops`).
    ``st_pickup_type`` / ``st_drop_off_type`` hold one GTFS code per stop-time row, or are
    empty when every row is a regular stop.

    The timetable never changes, so what is derived from it (the services of a day, the
    service days, the busiest day) is computed once and kept on the object.
    """

    feed_ids: tuple[str, ...]
    timezone: str
    stop_ids: tuple[str, ...]
    stop_names: tuple[str, ...]
    stop_lat: array
    stop_lon: array
    stop_place: array
    route_ids: tuple[str, ...]
    route_names: tuple[str, ...]
    route_modes: tuple[Mode, ...]
    route_agencies: tuple[str, ...]
    trip_ids: tuple[str, ...]
    trip_route: array
    trip_service: array
    trip_headsigns: tuple[str, ...]
    trip_offsets: array
    st_place: array
    st_arrival: array
    st_departure: array
    service_ids: tuple[str, ...]
    calendar: tuple[tuple[int, int, int, int], ...] = ()
    added: Mapping[int, frozenset[int]] = field(default_factory=_empty)
    removed: Mapping[int, frozenset[int]] = field(default_factory=_empty)
    transfer_seconds: Mapping[int, int] = field(default_factory=_empty)
    footpaths: Mapping[int, tuple[tuple[int, int | None], ...]] = field(default_factory=_empty)
    station_by_place: Mapping[int, str] = field(default_factory=_empty)
    metadata: Mapping[str, object] = field(default_factory=dict)
    st_pickup_type: bytes = b""
    st_drop_off_type: bytes = b""

    def __repr__(self) -> str:
        return (
            f"Timetable(feeds={self.feed_ids}, trips={self.trip_count}, "
            f"stop_times={self.stop_time_count})"
        )

    # -- sizes and lookups -------------------------------------------------------------

    @property
    def trip_count(self) -> int:
        """Number of trips (frequency-based trips are expanded at import)."""
        return len(self.trip_ids)

    @property
    def stop_time_count(self) -> int:
        """Number of stop times kept after validation."""
        return len(self.st_place)

    @cached_property
    def _stop_index(self) -> dict[str, int]:
        return {stop_id: i for i, stop_id in enumerate(self.stop_ids)}

    def find_stop(self, stop_id: str) -> int | None:
        """The index of the stop with GTFS id *stop_id*, or None."""
        return self._stop_index.get(stop_id)

    @cached_property
    def _places_by_station(self) -> dict[str, tuple[int, ...]]:
        places: dict[str, list[int]] = {}
        for place, station_id in self.station_by_place.items():
            places.setdefault(station_id, []).append(place)
        return {k: tuple(sorted(v)) for k, v in places.items()}

    def places_of_station(self, station_id: str) -> tuple[int, ...]:
        """The places (stop indices) matched to the network station *station_id*."""
        return self._places_by_station.get(station_id, ())

    def place_name(self, place: int) -> str:
        """The feed's name of a place."""
        return self.stop_names[place]

    def trip_mode(self, trip: int) -> Mode:
        """Rail or bus, from the trip's route type."""
        return self.route_modes[self.trip_route[trip]]

    def trip_route_name(self, trip: int) -> str:
        """The route's short name, else its long name, else its id."""
        return self.route_names[self.trip_route[trip]]

    def boarding_allowed(self, row: int) -> bool:
        """True unless the feed says passengers may not board at stop-time *row*."""
        codes = self.st_pickup_type
        return not codes or codes[row] != NO_PICKUP_OR_DROP_OFF

    def alighting_allowed(self, row: int) -> bool:
        """True unless the feed says passengers may not leave the vehicle at *row*."""
        codes = self.st_drop_off_type
        return not codes or codes[row] != NO_PICKUP_OR_DROP_OFF

    def with_stations(self, station_by_place: Mapping[int, str]) -> Timetable:
        """A copy whose places are matched to network stations (*station_by_place*)."""
        return replace(self, station_by_place=MappingProxyType(dict(station_by_place)))

    # -- calendar ----------------------------------------------------------------------

    @cached_property
    def _calendar_columns(self) -> tuple[np.ndarray, ...]:
        """calendar.txt as (service, first, last, weekday mask) columns for one-pass tests."""
        rows = np.array(self.calendar, dtype=np.int64).reshape(-1, 4)
        return rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]

    @cached_property
    def _active_by_day(self) -> dict[int, frozenset[int]]:
        return {}

    def active_services(self, day: date) -> frozenset[int]:
        """Services running on service day *day* (calendar, then calendar_dates exceptions)."""
        ordinal = day.toordinal()
        found = self._active_by_day.get(ordinal)
        if found is None:
            found = self._compute_active(ordinal, day.weekday())
            if len(self._active_by_day) < _ACTIVE_CACHE_DAYS:
                self._active_by_day[ordinal] = found  # same value if two threads race
        return found

    def _compute_active(self, ordinal: int, weekday: int) -> frozenset[int]:
        service, first, last, mask = self._calendar_columns
        hit = (first <= ordinal) & (last >= ordinal) & ((mask & (1 << weekday)) != 0)
        running = set(service[hit].tolist())
        running |= self.added.get(ordinal, frozenset())
        running -= self.removed.get(ordinal, frozenset())
        return frozenset(running)

    def trips_on(self, day: date) -> list[int]:
        """Indices of the trips running on service day *day*."""
        services = self.active_services(day)
        return [t for t, s in enumerate(self.trip_service) if s in services]

    def service_days(self) -> list[date]:
        """Every day some service runs, sorted (computed once per timetable)."""
        return list(self._service_days)

    @cached_property
    def _service_days(self) -> tuple[date, ...]:
        ordinals = set(self.added)
        for _service, first, last, _mask in self.calendar:
            ordinals.update(range(first, last + 1))
        days = map(date.fromordinal, sorted(ordinals))
        return tuple(d for d in days if self._compute_active(d.toordinal(), d.weekday()))

    def busiest_day(self) -> date:
        """The service day with the most trips (earliest on ties); raises ValueError if none."""
        if self._busiest_day is None:
            raise ValueError("the timetable has no service day")
        return self._busiest_day

    @cached_property
    def _busiest_day(self) -> date | None:
        per_service = Counter(self.trip_service)
        counts = {
            day: sum(per_service[s] for s in self.active_services(day))
            for day in self._service_days
        }
        return max(sorted(counts), key=counts.__getitem__) if counts else None

    # -- time --------------------------------------------------------------------------

    @cached_property
    def zone(self) -> ZoneInfo:
        """The feed's time zone (the first agency's ``agency_timezone``)."""
        return ZoneInfo(self.timezone)

    def service_datetime(self, day: date, seconds: int) -> datetime:
        """The aware datetime of *seconds* on service day *day*.

        GTFS counts from "noon minus 12 h", which is midnight except on the two days a year
        the clocks change; computing from noon keeps those days right.
        """
        # Arithmetic in UTC: adding to an aware local datetime would add wall-clock time.
        noon = datetime.combine(day, time(12), self.zone).astimezone(UTC)
        return (noon + timedelta(seconds=seconds - 12 * 3600)).astimezone(self.zone)

    def seconds_on(self, day: date, when: datetime) -> int:
        """Seconds of *when* after the start of service day *day* (inverse of the above)."""
        start = self.service_datetime(day, 0).astimezone(UTC)
        return int((when.astimezone(UTC) - start).total_seconds())


# -- persistence -------------------------------------------------------------------------


def save_timetable(timetable: Timetable, path) -> Path:
    """Write *timetable* compactly (pickled arrays, gzip) to *path*; returns the path.

    The file is written beside the target and renamed, so a reader never sees half of it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {f.name: getattr(timetable, f.name) for f in fields(timetable)}
    for name in _MAPPINGS:
        state[name] = dict(state[name])
    state["route_modes"] = tuple(m.value for m in timetable.route_modes)
    temporary = path.with_name(path.name + ".tmp")
    with gzip.open(temporary, "wb", compresslevel=3) as fh:
        pickle.dump({"format": FORMAT_VERSION, "timetable": state}, fh, protocol=5)
    temporary.replace(path)
    return path


def load_timetable(path) -> Timetable:
    """Read a timetable written by :func:`save_timetable`.

    Only files this service wrote itself belong here (pickle runs code on load); raises
    :class:`~advisor.errors.DataError` when the file is missing or of another format.
    """
    path = Path(path)
    try:
        with gzip.open(path, "rb") as fh:
            document = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError) as err:
        raise DataError(f"cannot read timetable {path}: {err}", value=str(path)) from err
    if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
        raise DataError(f"timetable {path} has an unknown format; import the feeds again")
    state = document["timetable"]
    for name in _MAPPINGS:
        state[name] = MappingProxyType(state[name])
    state["route_modes"] = tuple(Mode(m) for m in state["route_modes"])
    return Timetable(**state)
