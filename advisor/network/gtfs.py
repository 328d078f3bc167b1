"""GTFS importer: a zip or folder in, a compact :class:`~advisor.network.timetable.Timetable` out.

Cheap checks fail early: a missing required file or column raises :class:`FeedError` naming it
before any row is read. Expensive checks collect: a bad time, an unknown stop or trip, or a time
that goes backwards is counted in the :class:`FeedReport` and that row is dropped; the rest of
the feed is kept (partridge's philosophy).

Stops are then matched to the network's stations (:func:`match_stops`): an explicit CSV mapping
first, then the normalised name within a few kilometres, then the nearest station within 1 km.

``pickup_type`` / ``drop_off_type`` are kept per stop time (how the planner reads them is in
:mod:`advisor.network.timetable`); a value other than 0–3 is reported and read as 0, the
GTFS default. ``transfers.txt`` rows become one rule per place (:func:`_transfer_rule`).

Examples
--------
>>> parse_gtfs_time("25:10:00")
90600
>>> parse_gtfs_time("7:05:00")
25500
>>> parse_gtfs_time("") is None
True
"""

from __future__ import annotations

import csv
import io
import logging
import math
import zipfile
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType

from advisor.errors import FeedError
from advisor.network.geo import crowfly_km
from advisor.network.model import Network
from advisor.network.search import city_key
from advisor.network.timetable import (
    TRANSFER_NOT_POSSIBLE,
    Timetable,
    format_gtfs_time,
    mode_of_route_type,
)

__all__ = [
    "FeedReport",
    "StopMatch",
    "combine",
    "match_stops",
    "normalise_name",
    "parse_gtfs_time",
    "read_feed",
    "read_stop_mapping",
]

log = logging.getLogger(__name__)

REQUIRED_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "agency.txt": ("agency_name", "agency_timezone"),
        "stops.txt": ("stop_id",),
        "routes.txt": ("route_id", "route_type"),
        "trips.txt": ("route_id", "service_id", "trip_id"),
        "stop_times.txt": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    }
)
CALENDAR_COLUMNS = (
    "service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "start_date", "end_date",
)  # fmt: skip
CALENDAR_DATES_COLUMNS = ("service_id", "date", "exception_type")
TRANSFERS_COLUMNS = ("from_stop_id", "to_stop_id", "transfer_type")
# Optional: rows naming trips or routes apply to those only (see _transfer_rule).
TRANSFERS_SCOPE_COLUMNS = ("from_trip_id", "to_trip_id", "from_route_id", "to_route_id")
STOP_TIME_OPTIONAL_COLUMNS = ("pickup_type", "drop_off_type")
PICKUP_DROP_OFF_CODES = {"": 0, "0": 0, "1": 1, "2": 2, "3": 3}
FREQUENCIES_COLUMNS = ("trip_id", "start_time", "end_time", "headway_secs")
MAX_EXAMPLES = 20
PROGRESS_EVERY = 50_000
ProgressCallback = Callable[[str, int], None]


# -- the report --------------------------------------------------------------------------


@dataclass
class FeedReport:
    """What an import kept, dropped and could not match. Built by :func:`read_feed`."""

    feed_id: str
    rows: dict[str, int] = field(default_factory=dict)
    problems: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    unmatched_stops: list[str] = field(default_factory=list)
    matched_by: Counter = field(default_factory=Counter)

    def problem(self, kind: str, message: str) -> None:
        """Count one problem of *kind*; keep the first few messages as examples."""
        self.problems[kind] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{kind}: {message}")

    @property
    def problem_count(self) -> int:
        """Total rows with a problem."""
        return sum(self.problems.values())

    def summary(self) -> str:
        """A few plain lines for the CLI."""
        lines = [f"feed {self.feed_id}: " + ", ".join(f"{n} {f}" for f, n in self.rows.items())]
        if self.problems:
            lines.append("problems: " + ", ".join(f"{n} {k}" for k, n in self.problems.items()))
            lines.extend(f"  {example}" for example in self.examples)
        if self.matched_by:
            lines.append(
                "stations matched: " + ", ".join(f"{n} by {k}" for k, n in self.matched_by.items())
            )
        if self.unmatched_stops:
            shown = ", ".join(self.unmatched_stops[:10])
            more = len(self.unmatched_stops) - 10
            lines.append(
                f"unmatched stops ({len(self.unmatched_stops)}): {shown}"
                + (f" … +{more}" if more > 0 else "")
            )
        return "\n".join(lines)


# -- reading files -----------------------------------------------------------------------


def parse_gtfs_time(text: str) -> int | None:
    """Seconds of a GTFS ``H:MM:SS`` time (hours may pass 23); None if empty; ValueError if bad."""
    text = text.strip()
    if not text:
        return None
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"bad time {text!r}")
    h, m, s = (int(p) for p in parts)
    if h < 0 or not (0 <= m < 60 and 0 <= s < 60):
        raise ValueError(f"bad time {text!r}")
    return h * 3600 + m * 60 + s


def _parse_date(text: str) -> int:
    text = text.strip()
    return date(int(text[:4]), int(text[4:6]), int(text[6:8])).toordinal()


class _Source:
    """A feed folder or zip: lists its files and opens them as text."""

    def __init__(self, path: Path):
        self.path = path
        if path.is_dir():
            self._zip = None
            self.names = {p.name for p in path.iterdir() if p.is_file()}
        elif zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            # Some producers nest the files in one folder inside the zip.
            self._members = {Path(n).name: n for n in self._zip.namelist() if n.endswith(".txt")}
            self.names = set(self._members)
        else:
            raise FeedError(f"{path} is neither a GTFS folder nor a zip file", value=str(path))

    @contextmanager
    def open(self, name: str) -> Iterator[io.TextIOBase]:
        if self._zip is None:
            with (self.path / name).open(encoding="utf-8-sig", newline="") as fh:
                yield fh
        else:
            with self._zip.open(self._members[name]) as raw:
                yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")

    def header(self, name: str) -> list[str]:
        with self.open(name) as fh:
            return [c.strip() for c in next(csv.reader(fh), [])]

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _check_structure(source: _Source) -> None:
    """Refuse the feed at once if a required file or column is missing, naming all of them."""
    missing = [name for name in REQUIRED_COLUMNS if name not in source.names]
    if "calendar.txt" not in source.names and "calendar_dates.txt" not in source.names:
        missing.append("calendar.txt or calendar_dates.txt")
    if missing:
        raise FeedError(
            f"feed {source.path} lacks required file(s): {', '.join(missing)}",
            field="file", value=", ".join(missing),
        )  # fmt: skip
    wanted = dict(REQUIRED_COLUMNS)
    optional = {
        "calendar.txt": CALENDAR_COLUMNS,
        "calendar_dates.txt": CALENDAR_DATES_COLUMNS,
        "transfers.txt": TRANSFERS_COLUMNS,
        "frequencies.txt": FREQUENCIES_COLUMNS,
    }
    wanted.update({k: v for k, v in optional.items() if k in source.names})
    gaps = []
    for name, columns in wanted.items():
        header = set(source.header(name))
        gaps.extend(f"{name}:{c}" for c in columns if c not in header)
    if gaps:
        raise FeedError(
            f"feed {source.path} lacks required column(s): {', '.join(gaps)}",
            field="column", value=", ".join(gaps),
        )  # fmt: skip


def _rows(source: _Source, name: str, columns: Sequence[str], progress=None) -> Iterator[list[str]]:
    """Rows of *name* as lists holding *columns* in order (missing optional ones are '')."""
    with source.open(name) as fh:
        reader = csv.reader(fh)
        header = [c.strip() for c in next(reader, [])]
        index = [header.index(c) if c in header else None for c in columns]
        width = len(header)
        count = 0
        for row in reader:
            if not row:
                continue
            if len(row) < width:
                row = row + [""] * (width - len(row))
            yield [row[i].strip() if i is not None else "" for i in index]
            count += 1
            if progress and count % PROGRESS_EVERY == 0:
                progress(name, count)
        if progress:
            progress(name, count)


# -- the import --------------------------------------------------------------------------


@dataclass
class _Build:
    """Mutable state of one import; turned into an immutable Timetable at the end."""

    report: FeedReport
    timezone: str = "UTC"
    agencies: dict[str, str] = field(default_factory=dict)
    stops: dict[str, int] = field(default_factory=dict)
    stop_names: list[str] = field(default_factory=list)
    stop_lat: array = field(default_factory=lambda: array("d"))
    stop_lon: array = field(default_factory=lambda: array("d"))
    stop_parent: list[str] = field(default_factory=list)
    routes: dict[str, int] = field(default_factory=dict)
    route_names: list[str] = field(default_factory=list)
    route_modes: list = field(default_factory=list)
    route_agencies: list[str] = field(default_factory=list)
    services: dict[str, int] = field(default_factory=dict)
    trips: dict[str, int] = field(default_factory=dict)
    trip_route: array = field(default_factory=lambda: array("i"))
    trip_service: array = field(default_factory=lambda: array("i"))
    trip_headsigns: list[str] = field(default_factory=list)
    _trip_names: list[str] = field(default_factory=list)

    def trip_name(self, trip: int) -> str:
        if len(self._trip_names) != len(self.trips):
            self._trip_names[:] = list(self.trips)
        return self._trip_names[trip]

    def service(self, service_id: str) -> int:
        return self.services.setdefault(service_id, len(self.services))


def read_feed(path, feed_id: str | None = None, progress: ProgressCallback | None = None):
    """Import the GTFS feed at *path* (zip or folder).

    Parameters
    ----------
    path : str or Path
        A folder holding the ``.txt`` files, or a zip of them.
    feed_id : str, optional
        A short name for the feed (defaults to the file or folder name).
    progress : callable, optional
        Called as ``progress(file_name, rows_read)`` while reading.

    Returns
    -------
    (Timetable, FeedReport)

    Raises
    ------
    FeedError
        The path is no feed, or a required file or column is missing (all are named).
    """
    path = Path(path)
    if not path.exists():
        raise FeedError(f"feed {path} does not exist", field="path", value=str(path))
    source = _Source(path)
    try:
        _check_structure(source)
        build = _Build(FeedReport(feed_id or path.stem))
        _read_agencies(source, build)
        _read_stops(source, build)
        _read_routes(source, build)
        _read_trips(source, build)
        calendar, added, removed = _read_calendar(source, build)
        columns = _read_stop_times(source, build, progress)
        columns = _expand_frequencies(source, build, columns)
        transfers = _read_transfers(source, build)
    finally:
        source.close()
    return _finish(build, columns, calendar, added, removed, transfers), build.report


def _read_agencies(source: _Source, build: _Build) -> None:
    rows = list(_rows(source, "agency.txt", ("agency_id", "agency_name", "agency_timezone")))
    for agency_id, name, _timezone in rows:
        build.agencies[agency_id] = name
    build.timezone = next((tz for _a, _n, tz in rows if tz), "UTC")
    build.report.rows["agency.txt"] = len(rows)


def _read_stops(source: _Source, build: _Build) -> None:
    columns = ("stop_id", "stop_name", "stop_lat", "stop_lon", "parent_station")
    for stop_id, name, lat, lon, parent in _rows(source, "stops.txt", columns):
        if stop_id in build.stops:
            build.report.problem("duplicate_stop", f"stop {stop_id!r} appears twice; first kept")
            continue
        try:
            lat_value, lon_value = float(lat or "nan"), float(lon or "nan")
        except ValueError:
            build.report.problem("bad_coordinates", f"stop {stop_id!r}: {lat!r}, {lon!r}")
            lat_value = lon_value = math.nan
        build.stops[stop_id] = len(build.stop_names)
        build.stop_names.append(name or stop_id)
        build.stop_lat.append(lat_value)
        build.stop_lon.append(lon_value)
        build.stop_parent.append(parent)
    build.report.rows["stops.txt"] = len(build.stops)


def _read_routes(source: _Source, build: _Build) -> None:
    columns = ("route_id", "route_short_name", "route_long_name", "route_type", "agency_id")
    for route_id, short, long_name, route_type, agency_id in _rows(source, "routes.txt", columns):
        try:
            mode = mode_of_route_type(int(route_type))
        except ValueError:
            build.report.problem("bad_route_type", f"route {route_id!r}: {route_type!r}")
            continue
        build.routes[route_id] = len(build.route_names)
        build.route_names.append(short or long_name or route_id)
        build.route_modes.append(mode)
        build.route_agencies.append(build.agencies.get(agency_id, agency_id))
    build.report.rows["routes.txt"] = len(build.routes)


def _read_trips(source: _Source, build: _Build) -> None:
    columns = ("route_id", "service_id", "trip_id", "trip_headsign")
    for route_id, service_id, trip_id, headsign in _rows(source, "trips.txt", columns):
        route = build.routes.get(route_id)
        if route is None:
            build.report.problem("unknown_route", f"trip {trip_id!r} names route {route_id!r}")
            continue
        build.trips[trip_id] = len(build.trip_headsigns)
        build.trip_route.append(route)
        build.trip_service.append(build.service(service_id))
        build.trip_headsigns.append(headsign)
    build.report.rows["trips.txt"] = len(build.trips)


def _read_calendar(source: _Source, build: _Build):
    calendar = []
    if "calendar.txt" in source.names:
        for row in _rows(source, "calendar.txt", CALENDAR_COLUMNS):
            try:
                mask = sum(1 << i for i, flag in enumerate(row[1:8]) if flag == "1")
                calendar.append(
                    (build.service(row[0]), _parse_date(row[8]), _parse_date(row[9]), mask)
                )
            except ValueError:
                build.report.problem(
                    "bad_date", f"calendar service {row[0]!r}: {row[8]!r}–{row[9]!r}"
                )
        build.report.rows["calendar.txt"] = len(calendar)
    added: dict[int, set[int]] = defaultdict(set)
    removed: dict[int, set[int]] = defaultdict(set)
    if "calendar_dates.txt" in source.names:
        count = 0
        for service_id, day, kind in _rows(source, "calendar_dates.txt", CALENDAR_DATES_COLUMNS):
            try:
                target = {"1": added, "2": removed}[kind]
                target[_parse_date(day)].add(build.service(service_id))
                count += 1
            except (KeyError, ValueError):
                build.report.problem(
                    "bad_date", f"calendar_dates {service_id!r}: {day!r} type {kind!r}"
                )
        build.report.rows["calendar_dates.txt"] = count
    return tuple(calendar), _freeze(added), _freeze(removed)


def _freeze(mapping: dict[int, set[int]]) -> Mapping[int, frozenset[int]]:
    return MappingProxyType({k: frozenset(v) for k, v in mapping.items()})


def _read_stop_times(source: _Source, build: _Build, progress) -> dict[str, array]:
    """Raw stop-time columns, sorted by trip then sequence, with bad rows dropped."""
    trip_col, seq_col, stop_col = array("i"), array("i"), array("i")
    arr_col, dep_col, pickup_col, drop_col = array("i"), array("i"), array("b"), array("b")
    report = build.report
    columns = (*REQUIRED_COLUMNS["stop_times.txt"], *STOP_TIME_OPTIONAL_COLUMNS)
    rows = 0
    for trip_id, arrival, departure, stop_id, sequence, pickup, drop_off in _rows(
        source, "stop_times.txt", columns, progress
    ):
        rows += 1
        trip, stop = build.trips.get(trip_id), build.stops.get(stop_id)
        if trip is None:
            report.problem("unknown_trip", f"stop_times row {rows} names trip {trip_id!r}")
            continue
        if stop is None:
            report.problem("unknown_stop", f"trip {trip_id!r} names stop {stop_id!r}")
            continue
        try:
            arr, dep, seq = parse_gtfs_time(arrival), parse_gtfs_time(departure), int(sequence)
        except ValueError:
            report.problem(
                "bad_time", f"trip {trip_id!r} stop {stop_id!r}: {arrival!r}/{departure!r}"
            )
            continue
        # -1 marks "no time here": interpolated per trip below.
        arr = dep if arr is None else arr
        dep = arr if dep is None else dep
        trip_col.append(trip)
        seq_col.append(seq)
        stop_col.append(stop)
        arr_col.append(-1 if arr is None else arr)
        dep_col.append(-1 if dep is None else dep)
        pickup_col.append(_pickup_drop_off(report, "pickup_type", pickup, trip_id, stop_id))
        drop_col.append(_pickup_drop_off(report, "drop_off_type", drop_off, trip_id, stop_id))
    report.rows["stop_times.txt"] = rows
    # One int key per row keeps the sort free of per-row tuples.
    keys = [t * 2_000_000 + s for t, s in zip(trip_col, seq_col, strict=True)]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return {
        "trip": array("i", (trip_col[i] for i in order)),
        "stop": array("i", (stop_col[i] for i in order)),
        "arr": array("i", (arr_col[i] for i in order)),
        "dep": array("i", (dep_col[i] for i in order)),
        "pickup": array("b", (pickup_col[i] for i in order)),
        "drop_off": array("b", (drop_col[i] for i in order)),
    }


def _pickup_drop_off(report: FeedReport, column: str, text: str, trip_id, stop_id) -> int:
    """The GTFS code of a ``pickup_type`` / ``drop_off_type`` cell; a bad one is reported
    and read as 0 (regular), the value GTFS gives an empty cell."""
    code = PICKUP_DROP_OFF_CODES.get(text)
    if code is None:
        report.problem(f"bad_{column}", f"trip {trip_id!r} stop {stop_id!r}: {text!r}")
        return 0
    return code


def _trip_slices(trip_col: array) -> Iterator[tuple[int, int, int]]:
    start = 0
    for i in range(1, len(trip_col) + 1):
        if i == len(trip_col) or trip_col[i] != trip_col[start]:
            yield trip_col[start], start, i
            start = i


def _clean_trip(build: _Build, trip: int, stops, arrs, deps) -> list[int]:
    """Interpolate missing times (in place), drop rows whose time goes backwards; returns
    the positions of the rows kept."""
    _interpolate(arrs, deps)
    kept: list[int] = []
    for k, (stop, arr, dep) in enumerate(zip(stops, arrs, deps, strict=True)):
        if arr < 0:
            build.report.problem(
                "bad_time",
                f"trip {build.trip_name(trip)!r}: no time at stop {build.stop_names[stop]!r}",
            )
            continue
        if dep < arr or (kept and arr < deps[kept[-1]]):
            build.report.problem(
                "non_increasing_time",
                f"trip {build.trip_name(trip)!r} at stop {build.stop_names[stop]!r}: "
                f"{format_gtfs_time(arr)} before the previous stop's departure",
            )
            continue
        kept.append(k)
    return kept


def _interpolate(arrs: list[int], deps: list[int]) -> None:
    """Fill -1 times between two timed stops linearly by position (GTFS non-timepoints)."""
    timed = [i for i, a in enumerate(arrs) if a >= 0]
    for left, right in pairwise(timed):
        span = right - left
        for k in range(left + 1, right):
            value = deps[left] + (arrs[right] - deps[left]) * (k - left) // span
            arrs[k] = deps[k] = value


def _expand_frequencies(source: _Source, build: _Build, columns: dict[str, array]) -> dict:
    """Clean every trip; a trip in frequencies.txt becomes one copy per headway."""
    frequencies: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    if "frequencies.txt" in source.names:
        for trip_id, start, end, headway in _rows(source, "frequencies.txt", FREQUENCIES_COLUMNS):
            trip = build.trips.get(trip_id)
            try:
                window = (parse_gtfs_time(start), parse_gtfs_time(end), int(headway))
                if trip is None or None in window or window[2] <= 0:
                    raise ValueError
            except ValueError:
                build.report.problem("bad_frequency", f"frequencies row for trip {trip_id!r}")
                continue
            frequencies[trip].append(window)
        build.report.rows["frequencies.txt"] = sum(map(len, frequencies.values()))
    out = {"trip": array("i"), "stop": array("i"), "arr": array("i"), "dep": array("i"),
           "pickup": array("b"), "drop_off": array("b")}  # fmt: skip
    offsets, trip_order = array("i", [0]), []
    for trip, start, end in _trip_slices(columns["trip"]):
        stops, arrs = columns["stop"][start:end].tolist(), columns["arr"][start:end].tolist()
        deps = columns["dep"][start:end].tolist()
        kept = _clean_trip(build, trip, stops, arrs, deps)
        stops, arrs, deps = ([v[k] for k in kept] for v in (stops, arrs, deps))
        pickup = [columns["pickup"][start + k] for k in kept]
        drop_off = [columns["drop_off"][start + k] for k in kept]
        if len(stops) < 2:
            build.report.problem(
                "short_trip", f"trip {build.trip_name(trip)!r} has fewer than two usable stop times"
            )
            continue
        for shift, suffix in _frequency_shifts(frequencies.get(trip), arrs[0]):
            trip_order.append((trip, suffix))
            out["stop"].extend(stops)
            out["arr"].extend(a + shift for a in arrs)
            out["dep"].extend(d + shift for d in deps)
            out["pickup"].extend(pickup)
            out["drop_off"].extend(drop_off)
            offsets.append(len(out["stop"]))
    out["offsets"] = offsets
    out["order"] = trip_order
    return out


def _frequency_shifts(windows, first_departure: int):
    if not windows:
        yield 0, ""
        return
    for start, end, headway in windows:
        for begin in range(start, end, headway):
            yield begin - first_departure, f"@{begin}"


def _read_transfers(source: _Source, build: _Build):
    """transfers.txt as (stop → change seconds, stop → [(stop, walk seconds)]) by
    :func:`_transfer_rule`; the stops become places in :func:`_finish`."""
    rules: list[tuple[int, int, int | None]] = []
    if "transfers.txt" not in source.names:
        return rules
    columns = (*TRANSFERS_COLUMNS, "min_transfer_time", *TRANSFERS_SCOPE_COLUMNS)
    for from_id, to_id, kind, seconds, *scope in _rows(source, "transfers.txt", columns):
        a, b = build.stops.get(from_id), build.stops.get(to_id)
        if a is None or b is None:
            build.report.problem("unknown_stop", f"transfers.txt names {from_id!r} → {to_id!r}")
            continue
        rule = _transfer_rule(build.report, f"{from_id!r} → {to_id!r}", kind, seconds, scope)
        if rule is not _NO_RULE:
            rules.append((a, b, rule))
    build.report.rows["transfers.txt"] = len(rules)
    return rules


_NO_RULE = object()


def _transfer_rule(report: FeedReport, pair: str, kind: str, seconds: str, scope):
    """What one transfers.txt row means for the planner, which keeps one rule per place.

    - 0 (recommended point) and 1 (timed transfer) give no time: None, the configured
      minimum change time applies (a timed transfer holds only for the vehicles the feed
      pairs, which a per-place rule cannot tell apart);
    - 2: ``min_transfer_time`` seconds (the planner never goes below its floor); a missing
      or bad time is reported and the configured minimum applies;
    - 3 (not possible): :data:`TRANSFER_NOT_POSSIBLE` — no change at that place, no walk
      between the two places. A type-3 row naming trips or routes is reported and not
      applied: forbidding every change at the place would be wrong for the other trips;
    - 4 / 5 (in-seat transfers, between two named trips) are reported and not applied:
      staying seated is not modelled, such a change needs the usual minimum time;
    - anything else is reported and skipped. Returns ``_NO_RULE`` for rows not applied.
    """
    if kind in ("", "0", "1"):
        return None
    if kind == "2":
        if seconds.isdigit():
            return int(seconds)
        report.problem("bad_min_transfer_time", f"{pair}: type 2 with time {seconds!r}")
        return None
    if kind == "3" and not any(scope):
        return TRANSFER_NOT_POSSIBLE
    if kind == "3":
        report.problem("transfer_not_possible_per_trip_ignored", pair)
    elif kind in ("4", "5"):
        report.problem("in_seat_transfer_ignored", pair)
    else:
        report.problem("bad_transfer_type", f"{pair}: {kind!r}")
    return _NO_RULE


def _place_rules(rules, place_of) -> tuple[dict[int, int], dict[int, tuple]]:
    """Per place: the change time (the longest any row gives; "not possible" wins), and the
    walks to other places (a "not possible" row removes the walk)."""
    change: dict[int, int] = {}
    walks: dict[int, dict[int, int | None]] = defaultdict(dict)
    for a, b, rule in rules:
        pa, pb = place_of(a), place_of(b)
        if pa == pb and rule is not None:
            known = change.get(pa, 0)
            blocked = TRANSFER_NOT_POSSIBLE in (known, rule)
            change[pa] = TRANSFER_NOT_POSSIBLE if blocked else max(known, rule)
        elif pa != pb and walks[pa].get(pb, 0) != TRANSFER_NOT_POSSIBLE:
            known = walks[pa].get(pb)
            longest = rule if known is None or (rule is not None and rule > known) else known
            walks[pa][pb] = TRANSFER_NOT_POSSIBLE if rule == TRANSFER_NOT_POSSIBLE else longest
    paths = {
        p: tuple((q, s) for q, s in sorted(to.items()) if s != TRANSFER_NOT_POSSIBLE)
        for p, to in walks.items()
    }
    return change, {p: v for p, v in paths.items() if v}


def _finish(build, columns, calendar, added, removed, rules) -> Timetable:
    places = array("i", range(len(build.stop_names)))
    for stop, parent in enumerate(build.stop_parent):
        if parent and parent in build.stops:
            places[stop] = build.stops[parent]
    place_of = places.__getitem__
    trip_ids = list(build.trips)
    order = columns["order"]
    same_place, walks = _place_rules(rules, place_of)
    return Timetable(
        feed_ids=(build.report.feed_id,),
        timezone=build.timezone,
        stop_ids=tuple(build.stops),
        stop_names=tuple(build.stop_names),
        stop_lat=build.stop_lat,
        stop_lon=build.stop_lon,
        stop_place=places,
        route_ids=tuple(build.routes),
        route_names=tuple(build.route_names),
        route_modes=tuple(build.route_modes),
        route_agencies=tuple(build.route_agencies),
        trip_ids=tuple(trip_ids[t] + suffix for t, suffix in order),
        trip_route=array("i", (build.trip_route[t] for t, _ in order)),
        trip_service=array("i", (build.trip_service[t] for t, _ in order)),
        trip_headsigns=tuple(build.trip_headsigns[t] for t, _ in order),
        trip_offsets=columns["offsets"],
        st_place=array("i", map(place_of, columns["stop"])),
        st_arrival=columns["arr"],
        st_departure=columns["dep"],
        service_ids=tuple(build.services),
        calendar=calendar,
        added=added,
        removed=removed,
        transfer_seconds=MappingProxyType(same_place),
        footpaths=MappingProxyType(walks),
        metadata=MappingProxyType({"feeds": (build.report.feed_id,)}),
        st_pickup_type=_codes(columns["pickup"]),
        st_drop_off_type=_codes(columns["drop_off"]),
    )


def _codes(column: array) -> bytes:
    """Pickup / drop-off codes as bytes; empty when every stop is regular (0)."""
    return column.tobytes() if any(column) else b""


# -- several feeds -----------------------------------------------------------------------

# Columns copied as they are, prefixed with the feed id, or shifted by an index offset.
_PLAIN = ("stop_names", "route_names", "route_modes", "route_agencies", "trip_headsigns",
          "stop_lat", "stop_lon", "st_arrival", "st_departure")  # fmt: skip
_PREFIXED = ("stop_ids", "route_ids", "trip_ids", "service_ids")
_SHIFTED = {"stop_place": "stops", "st_place": "stops", "trip_route": "routes",
            "trip_service": "services", "trip_offsets": "rows"}  # fmt: skip
_CODES = ("st_pickup_type", "st_drop_off_type")  # per stop time; empty means all regular


def _joined_codes(timetables: Sequence[Timetable], name: str) -> bytes:
    if not any(getattr(tt, name) for tt in timetables):
        return b""
    return b"".join(getattr(tt, name) or bytes(tt.stop_time_count) for tt in timetables)


def combine(timetables: Sequence[Timetable]) -> Timetable:
    """One timetable from several (e.g. rail and bus); ids get a ``feed:`` prefix.

    Indices of the later feeds are shifted; the first feed's time zone is kept (all feeds of
    this service are in Ukraine's zone).
    """
    if len(timetables) == 1:
        return timetables[0]
    parts: dict[str, list] = defaultdict(list)
    parts["trip_offsets"].append(0)
    calendar: dict[str, dict] = {"added": defaultdict(set), "removed": defaultdict(set)}
    shift = dict.fromkeys(("stops", "routes", "services", "rows"), 0)
    for tt in timetables:
        _append_columns(parts, tt, shift)
        _append_calendar(parts, calendar, tt, shift)
        shift["stops"] += len(tt.stop_ids)
        shift["routes"] += len(tt.route_ids)
        shift["services"] += len(tt.service_ids)
        shift["rows"] += tt.stop_time_count
    feed_ids = tuple(f for tt in timetables for f in tt.feed_ids)
    columns = {k: tuple(parts[k]) for k in (*_PLAIN, *_PREFIXED)}
    for name in _CODES:
        columns[name] = _joined_codes(timetables, name)
    for name in ("stop_lat", "stop_lon"):
        columns[name] = array("d", parts[name])
    for name in ("st_arrival", "st_departure", *_SHIFTED):
        columns[name] = array("i", parts[name])
    return Timetable(
        feed_ids=feed_ids,
        timezone=timetables[0].timezone,
        **columns,
        calendar=tuple(parts["calendar"]),
        added=_freeze(calendar["added"]),
        removed=_freeze(calendar["removed"]),
        transfer_seconds=MappingProxyType(dict(parts["transfer_seconds"])),
        footpaths=MappingProxyType(dict(parts["footpaths"])),
        metadata=MappingProxyType({"feeds": feed_ids}),
    )


def _append_columns(parts: dict[str, list], tt: Timetable, shift: dict[str, int]) -> None:
    prefix = f"{tt.feed_ids[0]}:"
    for name in _PLAIN:
        parts[name].extend(getattr(tt, name))
    for name in _PREFIXED:
        parts[name].extend(prefix + value for value in getattr(tt, name))
    for name, by in _SHIFTED.items():
        values = getattr(tt, name)[1:] if name == "trip_offsets" else getattr(tt, name)
        parts[name].extend(v + shift[by] for v in values)


def _append_calendar(parts, calendar, tt: Timetable, shift: dict[str, int]) -> None:
    stops, services = shift["stops"], shift["services"]
    parts["calendar"].extend((s + services, a, b, m) for s, a, b, m in tt.calendar)
    for kind in ("added", "removed"):
        for day, ss in getattr(tt, kind).items():
            calendar[kind][day].update(s + services for s in ss)
    parts["transfer_seconds"].extend((p + stops, v) for p, v in tt.transfer_seconds.items())
    parts["footpaths"].extend(
        (p + stops, tuple((q + stops, v) for q, v in pairs)) for p, pairs in tt.footpaths.items()
    )


# -- matching stops to network stations --------------------------------------------------

NAME_MATCH_KM = 5.0
NEAREST_MATCH_KM = 1.0


def normalise_name(name: str) -> str:
    """A station name reduced for comparison: the station search's city key (case,
    apostrophes, transliteration, "-Пас." / "-Головна" / "-1" suffixes).

    >>> normalise_name("Київ-Пас.") == normalise_name("київ") == normalise_name("Kyiv")
    True
    >>> normalise_name("Кам'янець-Подільський") == normalise_name("Камʼянець Подільський")
    True
    """
    return city_key(name)


def read_stop_mapping(path) -> dict[str, str]:
    """An explicit ``stop_id,station_id`` CSV (with that header) as a dict."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if not {"stop_id", "station_id"} <= set(reader.fieldnames or ()):
                raise FeedError(
                    f"stop mapping {path} needs columns stop_id,station_id", value=str(path)
                )
            return {row["stop_id"].strip(): row["station_id"].strip() for row in reader}
    except OSError as err:
        raise FeedError(f"cannot read stop mapping {path}: {err}", value=str(path)) from err


@dataclass(frozen=True)
class StopMatch:
    """Which network station each place of a timetable is, and how that was decided."""

    station_by_place: Mapping[int, str]
    method_by_place: Mapping[int, str]
    unmatched: tuple[int, ...]


def match_stops(
    timetable: Timetable, network: Network, mapping: Mapping[str, str] | None = None
) -> StopMatch:
    """Match the timetable's places to *network* stations.

    Order: the explicit *mapping* (GTFS stop id → station id), then the same normalised name
    within 5 km, then the nearest station within 1 km. Places used by no trip are skipped.
    """
    lookup = _StationLookup(network, mapping or {})
    found, how, unmatched = {}, {}, []
    for place in sorted(set(timetable.st_place)):
        station_id, method = lookup.match(timetable, place)
        if station_id is None:
            unmatched.append(place)
        else:
            found[place], how[place] = station_id, method
    return StopMatch(MappingProxyType(found), MappingProxyType(how), tuple(unmatched))


class _StationLookup:
    """Stations by normalised name and by grid cell (cells of 0.02°, 1.4–2.2 km)."""

    CELL = 0.02

    def __init__(self, network: Network, mapping: Mapping[str, str]):
        self.network, self.mapping = network, mapping
        self.by_name: dict[str, list] = defaultdict(list)
        self.grid: dict[tuple[int, int], list] = defaultdict(list)
        for station in network.stations.values():
            names = (station.name_uk, station.name_latin, station.name_en, *station.historic_names)
            for name in filter(None, names):
                self.by_name[normalise_name(name)].append(station)
            self.grid[self._cell(station.lat, station.lon)].append(station)

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return int(lat // self.CELL), int(lon // self.CELL)

    def near(self, lat: float, lon: float) -> list:
        row, col = self._cell(lat, lon)
        cells = ((row + dr, col + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1))
        return [s for cell in cells for s in self.grid.get(cell, ())]

    def match(self, timetable: Timetable, place: int) -> tuple[str | None, str]:
        stop_id = timetable.stop_ids[place]
        if self.mapping.get(stop_id) in self.network.stations:
            return self.mapping[stop_id], "mapping"
        lat, lon = timetable.stop_lat[place], timetable.stop_lon[place]
        has_point = not (math.isnan(lat) or math.isnan(lon))
        named = self.by_name.get(normalise_name(timetable.stop_names[place]), ())
        if named and not has_point:
            return named[0].id, "name"
        if named:
            # Same key, several stations (Фастів-1 / Фастів-2): the nearest within 5 km.
            distance = {s.id: crowfly_km(lat, lon, s.lat, s.lon) for s in named}
            nearest = min(distance, key=distance.__getitem__)
            if distance[nearest] <= NAME_MATCH_KM:
                return nearest, "name"
        if has_point:
            distance = {s.id: crowfly_km(lat, lon, s.lat, s.lon) for s in self.near(lat, lon)}
            nearest = min(distance, key=distance.__getitem__, default=None)
            if nearest is not None and distance[nearest] <= NEAREST_MATCH_KM:
                return nearest, "distance"
        return None, ""
