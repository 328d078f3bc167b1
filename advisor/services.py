"""Use cases the adapters call: advise(), search_stations(), preview_impact(), publish_flag() …

This module wires the domain core (network, risk, routing) to storage and feeds. Adapters
(web, api, cli) call only what is named in ``__all__`` here; they never reach into the core
or the store directly.

Readers never see a half-built state: the network is loaded once; the flag set is read into
an immutable :class:`RiskState` and swapped by one reference assignment, so every request
reads one consistent snapshot.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from advisor.errors import AdvisorError, InvalidFlag, InvalidQuery, StoreUnavailable
from advisor.network.model import Mode, Network
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import Flag, Tolerance, utcnow
from advisor.risk.parse import flag_from_dict, parse_time
from advisor.routing.engine import plan
from advisor.routing.model import Advice, DataFreshness, Notice, NoticeCode, Query

__all__ = [
    "FileFlagSource",
    "FlagSource",
    "RiskState",
    "Services",
    "advise_timetable",
    "departures",
    "parse_modes",
    "parse_tolerance",
    "timetable_planner",
]

log = logging.getLogger(__name__)

MAX_TRANSFERS_LIMIT = 10


# --- flag sources and the risk snapshot ------------------------------------------------


class FlagSource(Protocol):
    """Where routing reads flags from (a flag file, the flag store …)."""

    def load_flags(self) -> list[Flag]:
        """Every flag that may apply (the index filters by status and window).

        Raises :class:`StoreUnavailable` when the source cannot be read.
        """
        ...


@dataclass(frozen=True)
class RiskState:
    """One immutable snapshot of the flag set, swapped whole by :class:`Services`.

    ``updated_at`` is the last successful read; ``available`` is False while the source
    fails (the last good flags stay in force); ``stale`` is True when the last good read is
    older than the configured limit or the source is failing.
    """

    flags: tuple[Flag, ...]
    index: RiskIndex
    updated_at: datetime | None
    available: bool = True
    stale: bool = False
    problems: tuple[str, ...] = ()

    def freshness_at(self, now: datetime, stale_after: timedelta) -> RiskState:
        """This state with ``stale`` recomputed for *now*."""
        old = self.updated_at is None or now - self.updated_at > stale_after
        stale = not self.available or old
        return self if stale == self.stale else replace(self, stale=stale)


@dataclass
class FileFlagSource:
    """Flags from JSON or TOML files (a list, ``{"flags": [...]}`` or TOML ``[[flag]]``).

    With ``strict`` a bad flag refuses the whole file (for the CLI, where the person who
    wrote the file is watching); otherwise each bad flag is logged, listed in ``problems``
    and the rest are kept.
    """

    paths: Sequence[Path]
    strict: bool = False
    problems: list[str] = field(default_factory=list)

    def load_flags(self) -> list[Flag]:
        """Read every file; raises :class:`StoreUnavailable` naming a missing/unreadable one."""
        flags: list[Flag] = []
        problems: list[str] = []
        for path in self.paths:
            flags.extend(self._read(Path(path), problems))
        self.problems = problems
        return flags

    def _read(self, path: Path, problems: list[str]) -> list[Flag]:
        entries = _flag_entries(path)
        flags = []
        for number, entry in enumerate(entries, start=1):
            try:
                flags.append(flag_from_dict(entry))
            except InvalidFlag as err:
                message = f"{path} flag {number}: {err.message}"
                if self.strict:
                    raise InvalidFlag(message, field=err.field, value=err.value) from err
                log.warning("skipping %s", message)
                problems.append(message)
        return flags


def _flag_entries(path: Path) -> list:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise StoreUnavailable(
            f"cannot read flag file {path}: {err.strerror}", value=str(path)
        ) from err
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidFlag(
            f"flag file {path} is not valid {path.suffix[1:] or 'JSON'}: {err}",
            field="file",
            value=str(path),
        ) from err
    if isinstance(data, dict):
        data = data.get("flags", data.get("flag", []))
    if not isinstance(data, list):
        raise InvalidFlag(f"flag file {path} holds no list of flags", field="file", value=str(path))
    return data


# --- query parsing (raw strings from adapters) -----------------------------------------


def parse_tolerance(value) -> Tolerance:
    """A :class:`Tolerance` from its name; raises :class:`InvalidQuery` naming the value."""
    if isinstance(value, Tolerance):
        return value
    try:
        return Tolerance(str(value).strip().lower())
    except ValueError:
        names = ", ".join(t.value for t in Tolerance)
        raise InvalidQuery(
            f"unknown tolerance {value!r}; use one of {names}", field="tolerance", value=value
        ) from None


def parse_modes(value) -> frozenset[Mode]:
    """Riding modes from ``"rail,bus"`` or a list of names; raises :class:`InvalidQuery`."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [str(item).strip().lower() for item in items if str(item).strip()]
    riding = {Mode.RAIL.value, Mode.BUS.value}
    bad = [name for name in names if name not in riding]
    if bad or not names:
        shown = bad[0] if bad else str(value)
        raise InvalidQuery(
            f"unknown mode {shown!r}; use rail, bus or both", field="modes", value=shown
        )
    return frozenset(Mode(name) for name in names)


def _parse_at(value, now: datetime) -> datetime:
    if value is None or value == "":
        return now
    try:
        return parse_time(value, "at")
    except InvalidFlag as err:
        raise InvalidQuery(
            f"time {value!r} does not parse; use ISO 8601 like 2026-03-12T08:00",
            field="at",
            value=str(value),
        ) from err


def _parse_transfers(value, default: int) -> int:
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


# --- the use cases ---------------------------------------------------------------------


class Services:
    """The use cases over one network and one live flag snapshot.

    Parameters
    ----------
    settings : Settings
        Typed settings (paths, defaults, staleness limit, refresh interval).
    network : Network, optional
        Loaded from ``settings.network_dataset`` on first use when not given.
    flag_source : FlagSource, optional
        Defaults to the baseline flag file ``settings.baseline_flags_path``.
    clock : callable, optional
        Returns the current aware UTC time (tests pass a fixed clock).
    """

    def __init__(
        self,
        settings,
        network: Network | None = None,
        flag_source: FlagSource | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.settings = settings
        self.flag_source = flag_source or FileFlagSource([settings.baseline_flags_path])
        self.clock = clock
        self._network = network
        self._station_index = None
        self._risk: RiskState | None = None
        self._refreshed_monotonic = float("-inf")
        self._lock = threading.Lock()

    # -- the network --

    @property
    def network(self) -> Network:
        """The network snapshot (loaded once, on first use)."""
        if self._network is None:
            with self._lock:
                if self._network is None:
                    from advisor.network.dataset import load_network

                    self._network = load_network(self.settings.network_dataset)
        return self._network

    @property
    def station_index(self):
        """The station search index of :attr:`network` (built once, on first use)."""
        if self._station_index is None:
            from advisor.network.search import StationIndex

            index = StationIndex.build(self.network)
            with self._lock:
                self._station_index = self._station_index or index
        return self._station_index

    # -- flags --

    @property
    def risk_state(self) -> RiskState:
        """The current flag snapshot, re-read when older than ``flags_refresh_seconds``."""
        if time.monotonic() - self._refreshed_monotonic >= self.settings.flags_refresh_seconds:
            return self.refresh_flags()
        return self._fresh(self._risk)

    def refresh_flags(self) -> RiskState:
        """Re-read the flag source and swap the snapshot; on failure keep the last good flags
        and mark the state unavailable (never drop known flags)."""
        self._refreshed_monotonic = time.monotonic()
        previous = self._risk
        try:
            flags = tuple(self.flag_source.load_flags())
        except AdvisorError as err:
            log.warning("flag source failed, keeping the last good flags: %s", err.message)
            state = previous or RiskState((), RiskIndex.empty(), None)
            self._risk = replace(state, available=False, stale=True)
            return self._risk
        if previous is not None and previous.flags == flags:
            index = previous.index  # same flags: keep the resolved index
        else:
            index = RiskIndex.build(flags, self.network)
        problems = tuple(getattr(self.flag_source, "problems", ()))
        problems += tuple(f"{fid}: {msg}" for fid, msg in index.problems)
        self._risk = RiskState(flags, index, self.clock(), True, False, problems)  # one swap
        return self._risk

    def _fresh(self, state: RiskState | None) -> RiskState:
        if state is None:
            return self.refresh_flags()
        limit = timedelta(minutes=self.settings.flags_stale_after_minutes)
        return state.freshness_at(self.clock(), limit)

    # -- advice --

    def advise(
        self,
        origin_text: str,
        destination_text: str,
        at=None,
        tolerance=None,
        modes=None,
        max_transfers=None,
        avoid_stations: Iterable[str] = (),
        avoid_lines: Iterable[str] = (),
    ) -> Advice:
        """Plan a journey from raw inputs; raises :class:`InvalidQuery` (or
        :class:`UnknownStation`, with suggestions) naming the bad value."""
        query = self.build_query(
            origin_text,
            destination_text,
            at,
            tolerance,
            modes,
            max_transfers,
            avoid_stations,
            avoid_lines,
        )
        state = self._fresh(self.risk_state)
        return plan(self.network, state.index, query, self._freshness(state))

    def build_query(
        self,
        origin_text,
        destination_text,
        at=None,
        tolerance=None,
        modes=None,
        max_transfers=None,
        avoid_stations=(),
        avoid_lines=(),
    ) -> Query:
        """Validate raw inputs into a :class:`Query` (texts resolved to station ids)."""
        origin = self._resolve(origin_text, "from")
        destination = self._resolve(destination_text, "to")
        return Query(
            origin=origin,
            destination=destination,
            depart_at=_parse_at(at, self.clock()),
            tolerance=parse_tolerance(tolerance or self.settings.default_tolerance),
            modes=parse_modes(modes) if modes else frozenset({Mode.RAIL, Mode.BUS}),
            max_transfers=_parse_transfers(max_transfers, self.settings.max_transfers),
            avoid_stations=frozenset(self._resolve(s, "avoid_stations") for s in avoid_stations),
            avoid_lines=frozenset(self._checked_line(line) for line in avoid_lines),
        )

    def _resolve(self, text, field_name: str) -> str:
        if not isinstance(text, str) or not text.strip():
            raise InvalidQuery(f"{field_name} is empty", field=field_name, value=text)
        if self.network.find_station(text.strip()) is not None:
            return text.strip()
        try:
            return self.station_index.resolve(text).id
        except AdvisorError as err:
            err.field = field_name
            raise

    def _checked_line(self, line_id: str) -> str:
        line = self.network.get_line(str(line_id))
        return line.id

    def _freshness(self, state: RiskState) -> DataFreshness:
        meta = self.network.metadata
        return DataFreshness(
            flags_updated_at=state.updated_at,
            flags_stale=state.stale,
            flags_available=state.available,
            network_version=str(meta.get("version", "")),
            network_built_at=str(meta.get("built_at", "")),
        )


# --- timetables (issue 7): planning with real departures ---------------------------------


def timetable_planner(services: Services):
    """The planner over the imported timetable (``advisor feeds import``), or None when no
    timetable has been imported. Loaded once per :class:`Services`."""
    planner = getattr(services, "_timetable_planner", None)
    if planner is None:
        from advisor.feeds.timetables import timetable_path
        from advisor.network.timetable import load_timetable
        from advisor.routing.timetable import TimetablePlanner

        path = timetable_path(services.settings)
        if not path.exists():
            return None
        planner = TimetablePlanner(
            load_timetable(path),
            services.network,
            min_transfer_seconds=services.settings.min_rail_transfer_minutes * 60,
            elevated_buffer_seconds=services.settings.elevated_buffer_minutes * 60,
        )
        services._timetable_planner = planner
    return planner


def advise_timetable(
    services: Services, origin_text, destination_text, at=None, *, arrive_by=False, **kw
):
    """Plan with timetabled trips; where no timetable covers the journey, the estimated
    engine answers and a notice says the times are estimates. *kw* as :meth:`Services.advise`."""
    query = services.build_query(origin_text, destination_text, at, **kw)
    query = replace(query, arrive_by=bool(arrive_by))
    planner = timetable_planner(services)
    state = services._fresh(services.risk_state)
    freshness = services._freshness(state)
    if planner is not None and _covers(planner, query):
        freshness = replace(freshness, timetable_feeds=planner.timetable.feed_ids)
        advice = planner.advise(query, state.index, freshness=freshness)
        if advice.options:
            return advice
    advice = plan(services.network, state.index, query, freshness)
    notice = Notice(
        NoticeCode.ESTIMATED_TIMES,
        "Розклад не охоплює цю поїздку: час оцінено за мережею.",
        "No timetable covers this trip: times are estimated from the network.",
    )
    return replace(advice, notices=(*advice.notices, notice))


def _covers(planner, query: Query) -> bool:
    try:
        planner.places(query.origin)
        planner.places(query.destination)
    except InvalidQuery:
        return False
    return True


def departures(services: Services, station_text, at=None, limit: int = 10):
    """The next departures from a station with their risk badges; raises InvalidQuery when
    no timetable is imported or the station has no timetabled stop."""
    planner = timetable_planner(services)
    if planner is None:
        raise InvalidQuery("no timetable imported; run `advisor feeds import`", field="station")
    station = services._resolve(station_text, "station")
    when = _parse_at(at, services.clock())
    risk = services._fresh(services.risk_state).index
    return planner.departures(station, when, limit=limit, risk=risk)
