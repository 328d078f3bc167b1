"""Use cases the adapters call: advise(), search_stations(), preview_impact(), publish_flag() …

This module wires the domain core (network, risk, routing) to storage and feeds. Adapters
(web, api, cli) call only what is named in ``__all__`` here; they never reach into the core
or the store directly.

Readers never see a half-built state: the network is loaded once; the flag set is read into
an immutable :class:`RiskState` and swapped by one reference assignment, so every request
reads one consistent snapshot.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from advisor.errors import (
    AdvisorError,
    AuthenticationFailed,
    ConfigError,
    Conflict,
    InvalidFlag,
    InvalidQuery,
    NotFound,
    PermissionDenied,
    RateLimited,
    StoreUnavailable,
)
from advisor.network.model import Mode, Network
from advisor.risk.coverage import RiskIndex, resolve
from advisor.risk.model import Flag, FlagStatus, Tolerance, utcnow
from advisor.risk.parse import (
    enum_by_name,
    flag_from_dict,
    flag_to_dict,
    parse_time,
    validate_against,
)
from advisor.routing.engine import plan
from advisor.routing.graph import RoutingGraph
from advisor.routing.model import (
    Advice,
    DataFreshness,
    Notice,
    NoticeCode,
    Option,
    Query,
    Verdict,
)
from advisor.settings import read_toml
from advisor.store import (
    AuditEntry,
    Role,
    SessionStore,
    Store,
    StoreFlagSource,
    Token,
    User,
    current_revision,
    open_store,
    seed_baseline,
    upgrade,
)
from advisor.store.snapshot import FlagSnapshot, SnapshotFlagSource, StoreSetup

__all__ = [
    # flags, accounts, tokens, audit (issue 4)
    "API_FLAG_FIELDS",
    "COMMAND_LINE",
    "ActiveFlags",
    "AuditEntry",
    "ConsoleSessions",
    "FailureLimiter",
    "FileFlagSource",
    "FlagSource",
    "Impact",
    "IssuedToken",
    "Operations",
    "PairImpact",
    "Principal",
    "RiskState",
    "Role",
    "Services",
    "Token",
    "User",
    "advise_timetable",
    "connect_store",
    "departures",
    "open_operations",
    "parse_modes",
    "parse_tolerance",
    "read_important_pairs",
    "require_role",
    "timetable_planner",
]

log = logging.getLogger(__name__)

MAX_TRANSFERS_LIMIT = 10
SNAPSHOT_FILE = "flags-snapshot.json"  # in the instance folder: the last good flag set


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
    origin: str = "source"  # or "snapshot" / "baseline": see DataFreshness.flags_origin

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
    return enum_by_name(Tolerance, value, what="tolerance", field="tolerance", error=InvalidQuery)


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

                    network = load_network(self.settings.network_dataset)
                    # Build the routing graph now (about a second), not in the first
                    # passenger's request; readiness probes touch this property.
                    RoutingGraph.of(network)
                    self._network = network
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
            state = previous or self._last_good_state()
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

    def _last_good_state(self) -> RiskState:
        # Nothing in memory yet (the source failed since start): the snapshot on disk, or
        # the configured baseline flags, beats routing as if nothing were flagged.
        last_good = getattr(self.flag_source, "last_good", None)
        found = last_good() if last_good is not None else None
        if found is None:
            return RiskState((), RiskIndex.empty(), None)
        index = RiskIndex.build(found.flags, self.network)
        return RiskState(found.flags, index, found.read_at, origin=found.origin)

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
            bus_change_minutes=self.settings.bus_change_minutes,
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
            flags_origin=state.origin,
        )


# =========================================================================================
# Flags, accounts, API tokens and audit over the store (issue 4). The operator console and
# the JSON API call these; the store itself is never reached from an adapter.
# =========================================================================================

TOKEN_PREFIX = "adv_"
# The lifecycle draft → published → withdrawn: for each target state, the states it is
# reached from.
_MOVES_TO = {
    FlagStatus.PUBLISHED: frozenset({FlagStatus.DRAFT}),
    FlagStatus.WITHDRAWN: frozenset({FlagStatus.DRAFT, FlagStatus.PUBLISHED}),
}
_TOKEN_TOUCH_SECONDS = 60.0
API_FLAG_FIELDS = frozenset(
    {"id", "level", "target", "reason_uk", "reason_en", "source", "active_from", "active_until"}
)


@dataclass(frozen=True)
class Principal:
    """Who is asking: an account signed in, or an API token acting for one.

    ``role`` is the effective role (for a token: the lower of the token's and its owner's).
    """

    name: str
    role: Role
    address: str = ""
    token_id: int | None = None

    @property
    def actor(self) -> str:
        """The name written to the audit log (``"ann (token 7)"`` tells a token's writes apart)."""
        return self.name if self.token_id is None else f"{self.name} (token {self.token_id})"


@dataclass(frozen=True)
class ActiveFlags:
    """The flags in force at a moment, and how fresh the flag data behind them is."""

    at: datetime
    flags: tuple[Flag, ...]
    updated_at: datetime | None
    available: bool = True
    stale: bool = False
    origin: str = "source"  # see DataFreshness.flags_origin


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: ``secret`` is shown once and never stored."""

    token: Token
    secret: str


def require_role(principal: Principal | None, needed: Role) -> Principal:
    """*principal* if it may act as *needed*; raises 401 for nobody, 403 for too little."""
    if principal is None:
        raise AuthenticationFailed("sign in or send an API token (Authorization: Bearer …)")
    if not principal.role.allows(needed):
        raise PermissionDenied(
            f"{principal.name!r} has role {principal.role.value}; this needs {needed.value}",
            extra={"role": principal.role.value, "needed": needed.value},
        )
    return principal


COMMAND_LINE = Principal("cli", Role.ADMIN, "local")
"""Who acts for ``advisor users``/``advisor tokens`` commands: whoever may run them on the
server is trusted with first set-up; the audit log records them as ``cli``."""


class FailureLimiter:
    """Counts failed sign-ins and bad tokens per client address in the store.

    Store-backed rather than in-process so that every gunicorn worker (and the console)
    shares one count. While an address is over *limit* failures in *window_seconds*, every
    attempt from it is refused with :class:`RateLimited` — even a correct one, or guessing
    would simply continue.
    """

    def __init__(self, store: Store, limit: int, window_seconds: float, clock=utcnow):
        self.store = store
        self.limit = limit
        self.window = timedelta(seconds=window_seconds)
        self.clock = clock

    def check(self, kind: str, address: str) -> None:
        """Raise :class:`RateLimited` if *address* has used up its attempts of *kind*."""
        since = self.clock() - self.window
        if self.store.count_auth_failures(f"{kind}:{address}", since) >= self.limit:
            raise RateLimited(
                f"too many failed attempts from {address}; try again later",
                extra={"retry_after_seconds": int(self.window.total_seconds())},
            )

    def record(self, kind: str, address: str) -> None:
        """Count one failure of *kind* from *address*."""
        now = self.clock()
        self.store.add_auth_failure(f"{kind}:{address}", now, prune_before=now - self.window)


def hash_token(secret: str) -> str:
    """SHA-256 hex of a token: fast, and safe because tokens carry 256 random bits."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Operations:
    """Flag, account, token and audit use cases over a :class:`Store`.

    Every write that can change routing rebuilds the routing flag set at once (swap of one
    reference in :class:`Services`), so a publish or withdraw is visible to the next
    request of this process; other processes notice through the store's change stamp.
    """

    def __init__(self, store: Store, settings, services=None):
        self.store = store
        self.settings = settings
        self.services = services  # None for account/token commands that never route
        self.limiter = FailureLimiter(store, settings.signin_attempts_per_15_minutes, 15 * 60)
        self._important_pairs: tuple[tuple[str, str], ...] | None = None
        # argon2id with the library's (RFC 9106 low-memory) defaults; tests may swap in
        # cheaper parameters, which verify() reads back from each hash.
        self.passwords = PasswordHasher()
        self._dummy_hash: str | None = None

    # --- flags: reading ------------------------------------------------------------------

    def list_active_flags(self, at: datetime | None = None) -> ActiveFlags:
        """Published flags in force at *at* (default now), from the very snapshot routing
        uses: a passenger sees the flags the advice applies, and the last known ones (said
        to be stale) while the store is unreachable."""
        at = at or utcnow()
        if self.services is None:
            flags = self.store.list_flags(FlagStatus.PUBLISHED)
            return ActiveFlags(at, tuple(f for f in flags if f.is_active_at(at)), utcnow())
        state = self.services.risk_state
        active = tuple(f for f in state.flags if f.is_active_at(at))
        return ActiveFlags(
            at, active, state.updated_at, state.available, state.stale, state.origin
        )

    def list_flags(self, principal: Principal | None, status: str | None = None) -> list[Flag]:
        """Every flag (or those of one status), for viewers and up."""
        require_role(principal, Role.VIEWER)
        return self.store.list_flags(_status_filter(status))

    def get_flag(self, flag_id: str, principal: Principal | None = None) -> Flag:
        """The current version of a flag; drafts and withdrawn flags only for viewers and up."""
        flag = self.store.find_flag(flag_id)
        if flag is None or (flag.status is not FlagStatus.PUBLISHED and principal is None):
            raise NotFound(f"no flag {flag_id!r}", field="id", value=flag_id)
        if flag.status is not FlagStatus.PUBLISHED:
            require_role(principal, Role.VIEWER)
        return flag

    def flag_history(self, flag_id: str, principal: Principal | None) -> list[Flag]:
        """Every version of a flag, oldest first."""
        require_role(principal, Role.VIEWER)
        return self.store.list_flag_versions(flag_id)

    def list_audit(
        self, principal: Principal | None, object_id: str | None = None, limit: int = 100,
        before_id: int | None = None,
    ) -> list[AuditEntry]:
        """Audit entries, newest first (operators and admins)."""
        require_role(principal, Role.OPERATOR)
        if not 1 <= limit <= 1000:
            raise InvalidQuery(f"limit {limit} must be 1–1000", field="limit", value=limit)
        return self.store.list_audit(object_id=object_id, limit=limit, before_id=before_id)

    # --- flags: writing ------------------------------------------------------------------

    def create_flag(self, data: Mapping, principal: Principal | None) -> Flag:
        """Validate and store a new flag as a draft or published (``status``), version 1."""
        require_role(principal, Role.OPERATOR)
        fields = _writable(data, API_FLAG_FIELDS | {"status"})
        fields.setdefault("id", "f-" + secrets.token_hex(6))
        flag = self._checked_flag({"status": "draft", **fields, "author": principal.name})
        if flag.status is FlagStatus.WITHDRAWN:
            raise InvalidFlag(
                "a new flag is a draft or published", field="status", value="withdrawn"
            )
        flag = self.store.add_flag(flag, actor=principal.actor, address=principal.address)
        if flag.status is FlagStatus.PUBLISHED:
            self._flags_changed()
        return flag

    def update_flag(
        self, flag_id: str, data: Mapping, expected_version: int, principal: Principal | None,
        replace_all: bool = False,
    ) -> Flag:
        """Edit a draft or published flag: merge *data* (or replace all fields), new version."""
        require_role(principal, Role.OPERATOR)
        fields = _writable(data)
        if "id" in fields and fields["id"] != flag_id:
            raise InvalidFlag("a flag's id cannot change", field="id", value=fields["id"])

        def change(current: Flag) -> Flag:
            if current.status is FlagStatus.WITHDRAWN:
                raise Conflict(f"flag {flag_id!r} is withdrawn; create a new flag instead")
            base = {} if replace_all else _subset(flag_to_dict(current), API_FLAG_FIELDS)
            merged = {**base, **fields, "id": flag_id}
            merged = {k: v for k, v in merged.items() if v is not None}
            return self._checked_flag(
                {**merged, "status": current.status.value, "author": principal.name}
            )

        flag = self._change(flag_id, expected_version, change, principal, "flag.update")
        if flag.status is FlagStatus.PUBLISHED:
            self._flags_changed()
        return flag

    def publish_flag(
        self, flag_id: str, expected_version: int, principal: Principal | None
    ) -> Flag:
        """Draft → published. Routing in this process sees it before this returns."""
        return self._move(flag_id, expected_version, principal, FlagStatus.PUBLISHED)

    def withdraw_flag(
        self, flag_id: str, expected_version: int, principal: Principal | None
    ) -> Flag:
        """Draft or published → withdrawn; kept for history, no effect on routing."""
        return self._move(flag_id, expected_version, principal, FlagStatus.WITHDRAWN)

    def _move(self, flag_id, expected_version, principal, to: FlagStatus) -> Flag:
        require_role(principal, Role.OPERATOR)
        change = _transition(to, _MOVES_TO[to], principal)
        action = "flag.publish" if to is FlagStatus.PUBLISHED else "flag.withdraw"
        flag = self._change(flag_id, expected_version, change, principal, action)
        self._flags_changed()
        return flag

    def _change(self, flag_id, expected_version, change, principal, action) -> Flag:
        return self.store.change_flag(
            flag_id, _version(expected_version), change, actor=principal.actor,
            address=principal.address, action=action,
        )

    def _checked_flag(self, data: Mapping) -> Flag:
        flag = flag_from_dict(data)
        if self.services is not None:
            validate_against(flag, self.services.network)
        return flag

    def _flags_changed(self) -> None:
        # Swap routing's snapshot now, so this process routes with the change before the
        # write is even acknowledged; other processes see it within flags_refresh_seconds.
        if self.services is not None:
            self.services.refresh_flags()

    def schema_revision(self) -> str:
        """The migration the database is at."""
        return current_revision(self.store.engine)

    # --- impact preview ------------------------------------------------------------------

    def preview_impact(self, data: Mapping, principal: Principal | None) -> Impact:
        """What *data* (a flag, not stored) would cover, and which important city pairs
        would lose their best rail option and be advised what instead."""
        require_role(principal, Role.VIEWER)
        fields = _writable(data)
        flag = self._checked_flag(
            {**fields, "id": fields.get("id") or "preview", "status": FlagStatus.PUBLISHED.value,
             "author": principal.name}
        )
        network = self.services.network
        coverage = resolve(flag, network)
        state = self.services.risk_state
        after = RiskIndex.build([*(f for f in state.flags if f.id != flag.id), flag], network)
        at = _preview_time(flag, utcnow())
        lines = sorted(i for i, line in network.lines.items() if line.link_ids & coverage.link_ids)
        return Impact(
            flag=flag,
            at=at,
            line_ids=tuple(lines),
            link_ids=tuple(sorted(coverage.link_ids)),
            station_ids=tuple(sorted(coverage.station_ids)),
            pairs=tuple(self._pair_impact(a, b, at, state.index, after) for a, b in self._pairs()),
        )

    def _pairs(self) -> tuple[tuple[str, str], ...]:
        if self._important_pairs is None:
            self._important_pairs = read_important_pairs(self.settings.important_pairs_path)
        return self._important_pairs

    def _pair_station(self, name: str) -> str | None:
        """A pair's station: an exact id, else the place name resolved by station search
        (a city's main station), else None."""
        if self.services.network.find_station(name) is not None:
            return name
        try:
            return self.services.station_index.resolve(name).id
        except AdvisorError:
            return None

    def _pair_impact(self, origin, destination, at, before: RiskIndex, after: RiskIndex):
        network = self.services.network
        ends = [self._pair_station(name) for name in (origin, destination)]
        if None in ends:
            missing = (origin, destination)[ends.index(None)]
            note = f"no station {missing!r} in the network dataset; pair not checked"
            return PairImpact(origin, destination, checked=False, note=note)
        origin, destination = ends
        query = Query(origin, destination, at, parse_tolerance(self.settings.default_tolerance))
        advice_before = plan(network, before, query)
        advice_after = plan(network, after, query)
        return PairImpact(
            origin, destination, checked=True,
            rail_before=_best_rail(advice_before), rail_after=_best_rail(advice_after),
            recommended_before=advice_before.recommended,
            recommended_after=advice_after.recommended,
        )

    # --- accounts ------------------------------------------------------------------------

    def create_user(
        self, username: str, password: str, role: str | Role, principal: Principal | None,
    ) -> User:
        """Create an account (admins, or :data:`COMMAND_LINE`)."""
        actor = _admin_or_console(principal)
        username = _username(username)
        _check_password(password)
        return self.store.add_user(
            username, self.passwords.hash(password), Role.parse(role), actor=actor.actor,
            address=actor.address,
        )

    def update_user(
        self, username: str, principal: Principal | None, *, role: str | Role | None = None,
        active: bool | None = None, password: str | None = None,
    ) -> User:
        """Change an account's role, disable/enable it or set a new password (admins)."""
        actor = _admin_or_console(principal)
        values: dict = {}
        if role is not None:
            values["role"] = Role.parse(role)
        if active is not None:
            values["active"] = bool(active)
        if password is not None:
            _check_password(password)
            values["password_hash"] = self.passwords.hash(password)
        return self.store.change_user(
            username, actor=actor.actor, address=actor.address,
            note="password changed" if password is not None else "", **values,
        )

    def list_users(self, principal: Principal | None) -> list[User]:
        """Every account (admins)."""
        _admin_or_console(principal)
        return self.store.list_users()

    def authenticate(self, username: str, password: str, address: str) -> Principal:
        """Check a sign-in; failures are counted per address and rate-limited."""
        self.limiter.check("signin", address)
        user = self.store.find_user(str(username or "").strip())
        if not self._password_matches(user, password) or not user.active:
            self.limiter.record("signin", address)
            raise AuthenticationFailed("wrong user name or password")
        if self.passwords.check_needs_rehash(user.password_hash):
            self.store.change_user(
                user.username, actor=user.username, address=address, note="rehash",
                password_hash=self.passwords.hash(password),
            )
        return Principal(user.username, user.role, address)

    def _password_matches(self, user: User | None, password) -> bool:
        # An unknown name is verified against a dummy hash, so it costs as much time as a
        # wrong password and timing does not reveal which names exist.
        if self._dummy_hash is None:
            self._dummy_hash = self.passwords.hash(secrets.token_hex(16))
        stored = user.password_hash if user else self._dummy_hash
        try:
            matched = self.passwords.verify(stored, str(password))
        except (VerifyMismatchError, InvalidHashError):
            return False
        return matched and user is not None

    # --- API tokens ----------------------------------------------------------------------

    def create_token(
        self, username: str, name: str, role: str | Role | None, principal: Principal | None,
    ) -> IssuedToken:
        """A new token for *username*, no stronger than the account; the secret is shown once."""
        actor = _admin_or_console(principal)
        user = self.store.find_user(username)
        if user is None:
            raise NotFound(f"no account named {username!r}", field="username", value=username)
        scope = user.role if role in (None, "") else Role.parse(role)
        if not user.role.allows(scope):
            raise PermissionDenied(
                f"a token cannot exceed its account: {username!r} is {user.role.value}",
                field="role", value=scope.value,
            )
        name = (name or "").strip()
        if not 1 <= len(name) <= 100:
            raise InvalidQuery("a token needs a name of 1–100 characters", field="name")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = self.store.add_token(
            user, name, hash_token(secret), secret[:12], scope, actor=actor.actor,
            address=actor.address,
        )
        return IssuedToken(token, secret)

    def revoke_token(self, token_id: int, principal: Principal | None) -> Token:
        """Revoke a token; it stops working at once (every request looks it up)."""
        actor = _admin_or_console(principal)
        return self.store.revoke_token(int(token_id), actor=actor.actor, address=actor.address)

    def list_tokens(self, principal: Principal | None, username: str | None = None) -> list[Token]:
        """Every token's record (admins); secrets are never listed."""
        _admin_or_console(principal)
        return self.store.list_tokens(username)

    def authenticate_token(self, secret: str, address: str) -> Principal:
        """The principal an API token stands for; bad tokens are counted and rate-limited."""
        self.limiter.check("token", address)
        digest = hash_token(secret or "")
        found = self.store.find_token_by_hash(digest)
        # Lookup is by hash (whose value leaks nothing about other tokens); the final
        # comparison is constant-time anyway.
        if found is None or not hmac.compare_digest(found[2], digest) or not _usable(found):
            self.limiter.record("token", address)
            raise AuthenticationFailed("the API token is not valid (unknown or revoked)")
        token, user, _ = found
        now = utcnow()
        # Record use at most once a minute: a write per API call would queue behind flags.
        last = token.last_used_at
        if last is None or (now - last).total_seconds() > _TOKEN_TOUCH_SECONDS:
            self.store.touch_token(token.id, now)
        role = token.role if user.role.allows(token.role) else user.role
        return Principal(user.username, role, address, token.id)


# --- private helpers of the operations ----------------------------------------------------


def _writable(data: Mapping, allowed=API_FLAG_FIELDS) -> dict:
    """*data* if it has only fields an operator may write; else all unknown ones are named."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidFlag(
            f"unknown field(s): {', '.join(unknown)}", field=unknown[0],
            extra={"unknown_fields": unknown},
        )
    return dict(data)


def _subset(data: Mapping, names) -> dict:
    return {k: v for k, v in data.items() if k in names}


def _transition(to: FlagStatus, allowed_from: frozenset[FlagStatus], principal: Principal):
    def change(current: Flag) -> Flag:
        if current.status not in allowed_from:
            raise Conflict(
                f"flag {current.id!r} is {current.status.value}; it cannot become {to.value}",
                field="status", value=current.status.value,
                extra={"current_version": current.version},
            )
        return replace(current, status=to, author=principal.name)

    return change


def _status_filter(value) -> FlagStatus | None:
    if not value:
        return None
    names = [status.value for status in FlagStatus]
    if value not in names:
        raise InvalidQuery(
            f"status {value!r} is not one of {', '.join(names)}", field="status", value=value
        )
    return FlagStatus(value)


def _version(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidFlag(
            f"version {value!r} must be the positive integer version you edited",
            field="version", value=str(value),
        )
    return value


def _admin_or_console(principal: Principal | None) -> Principal:
    """Admins only (the command line acts as :data:`COMMAND_LINE`, an admin)."""
    return require_role(principal, Role.ADMIN)


def _username(value) -> str:
    name = str(value or "").strip()
    if not 1 <= len(name) <= 100 or any(c.isspace() for c in name):
        raise InvalidQuery(
            "a user name is 1–100 characters without spaces", field="username", value=name
        )
    return name


def _check_password(password) -> None:
    if not isinstance(password, str) or not 10 <= len(password) <= 1000:
        raise InvalidQuery("a password needs at least 10 characters", field="password")




def _usable(found) -> bool:
    token, user, _ = found
    return not token.revoked and user.active


# --- impact preview -------------------------------------------------------------------------


@dataclass(frozen=True)
class PairImpact:
    """What a draft flag does to one important city pair (at the default tolerance).

    ``checked`` is False when the network lacks one of the stations (``note`` says which):
    such a pair is reported, never silently dropped.
    """

    origin: str
    destination: str
    checked: bool
    note: str = ""
    rail_before: Option | None = None
    rail_after: Option | None = None
    recommended_before: Option | None = None
    recommended_after: Option | None = None

    @property
    def loses_best_rail(self) -> bool:
        """True if the best advised rail-only option disappears or has to change its way."""
        if not self.checked or self.rail_before is None:
            return False
        return self.rail_after is None or _option_links(self.rail_after) != _option_links(
            self.rail_before
        )


@dataclass(frozen=True)
class Impact:
    """A draft flag's effect before it is published: what it covers and which pairs change."""

    flag: Flag
    at: datetime
    line_ids: tuple[str, ...]
    link_ids: tuple[str, ...]
    station_ids: tuple[str, ...]
    pairs: tuple[PairImpact, ...]

    @property
    def pairs_losing_rail(self) -> tuple[PairImpact, ...]:
        """The pairs whose best rail option is lost."""
        return tuple(p for p in self.pairs if p.loses_best_rail)


def read_important_pairs(path: Path) -> tuple[tuple[str, str], ...]:
    """The ``pairs`` list of station-id pairs from the TOML file at *path*."""
    pairs = read_toml(path).get("pairs", [])
    if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise ConfigError(f"{path}: pairs must be a list of [from, to] station ids")
    return tuple((str(a), str(b)) for a, b in pairs)


def _option_links(option: Option) -> tuple[str, ...]:
    return tuple(link_id for leg in option.legs for link_id in leg.link_ids)


def _best_rail(advice: Advice) -> Option | None:
    for option in advice.options:
        if option.modes == {Mode.RAIL} and option.verdict is not Verdict.NOT_ADVISED:
            return option
    return None


def _preview_time(flag: Flag, now: datetime) -> datetime:
    """When to look: now, or the moment the flag starts if that is later."""
    return flag.active_from if flag.active_from and flag.active_from > now else now


# --- wiring the store into the app ----------------------------------------------------------


def connect_store(settings) -> tuple[Services, Operations]:
    """Open (and migrate) the store, seed baseline flags once, and route from the store.

    Called by ``create_app`` in every process; migrations and seeding are safe when
    several gunicorn workers start together.
    """
    store = open_store(settings.effective_database_url, migrate=False)
    setup = StoreSetup(
        lambda: upgrade(store.engine, _lock_path(settings)),
        lambda: seed_baseline(store, _baseline_flags(settings)),
    )
    try:
        setup.ensure()
    except StoreUnavailable as err:
        # Start anyway (scenario 8): routing falls back on the last good flag snapshot and
        # the flag source retries the set-up before every read until the store answers.
        log.error("flag store unreachable at start; serving the last good flags: %s", err.message)
    source = SnapshotFlagSource(
        StoreFlagSource(store),
        FlagSnapshot(settings.instance_path / SNAPSHOT_FILE),
        baseline=lambda: _baseline_flags(settings),
        prepare=setup.ensure,
    )
    services = Services(settings, flag_source=source)
    return services, Operations(store, settings, services)


def _baseline_flags(settings) -> list[Flag]:
    if not settings.baseline_flags_path.exists():
        return []
    return FileFlagSource([settings.baseline_flags_path]).load_flags()


def open_operations(settings) -> Operations:
    """Flag/account/token use cases without routing (for the ``users``/``tokens`` commands)."""
    store = open_store(settings.effective_database_url, lock_path=_lock_path(settings))
    return Operations(store, settings)


def _lock_path(settings) -> Path | None:
    if settings.database_url:
        return None  # the database's own file (SQLite) or an advisory lock (PostgreSQL)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    return settings.instance_path / "migrate.lock"


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
    if planner is not None:
        access = _estimated_ends(services, planner, query, state.index, "from")
        egress = _estimated_ends(services, planner, query, state.index, "to")
        if access is not None and egress is not None:
            freshness = replace(freshness, timetable_feeds=planner.timetable.feed_ids)
            advice = planner.advise(
                query, state.index, freshness=freshness, access=access, egress=egress
            )
            if advice.options:
                return advice
    advice = plan(services.network, state.index, query, freshness)
    notice = Notice(
        NoticeCode.ESTIMATED_TIMES,
        "Розклад не охоплює цю поїздку: час оцінено за мережею.",
        "No timetable covers this trip: times are estimated from the network.",
    )
    return replace(advice, notices=(*advice.notices, notice))


def _estimated_ends(services, planner, query: Query, index, side: str):
    """{} when the trip's *side* ("from" / "to") has timetabled departures; else estimated
    legs between it and the nearest timetabled stations (recommended options of the
    estimated engine); None when there are none."""
    station, other = (
        (query.origin, query.destination) if side == "from" else (query.destination, query.origin)
    )
    if planner.covers(station):
        return {}
    ends = {}
    for hub in planner.nearest_timetabled(station, other_end=other):
        pair = (station, hub) if side == "from" else (hub, station)
        leg_query = replace(query, origin=pair[0], destination=pair[1], arrive_by=False)
        best = plan(services.network, index, leg_query).recommended
        if best is not None:
            ends[hub] = best.legs
    return ends or None


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


# --- operator console sessions (issue 6) ----------------------------------------------------


class ConsoleSessions:
    """Server-side sessions of the operator console over the flag store.

    The browser keeps only a random id; the row (found by the id's SHA-256) holds the data
    and expires ``session_minutes`` after the last request (each request moves it forward).
    Who the session stands for is looked up on every request, so a disabled account or a
    changed role takes effect at once.
    """

    def __init__(self, operations: Operations, clock: Callable[[], datetime] = utcnow):
        self.operations = operations
        self.rows = SessionStore(operations.store.engine)
        self.lifetime = timedelta(minutes=operations.settings.session_minutes)
        self.clock = clock

    @staticmethod
    def new_id() -> str:
        """A fresh session id (256 random bits)."""
        return secrets.token_urlsafe(32)

    def load(self, session_id: str) -> dict | None:
        """The data of a live session, or None when it is unknown or expired."""
        found = self.rows.find(hash_token(session_id), self.clock())
        return None if found is None else found[1]

    def save(self, session_id: str, data: dict) -> datetime:
        """Store *data* and move the expiry forward; returns the new expiry."""
        now = self.clock()
        expires_at = now + self.lifetime
        username = str(data.get("user", ""))
        self.rows.save(hash_token(session_id), username, data, now, expires_at)
        return expires_at

    def end(self, session_id: str) -> None:
        """Forget a session (sign-out, or a new id after sign-in); old rows are pruned."""
        self.rows.delete(hash_token(session_id))
        self.rows.prune(self.clock())

    def principal(self, username: str, address: str) -> Principal | None:
        """Who a session's *username* is now, or None when the account is gone or disabled."""
        user = self.operations.store.find_user(username) if username else None
        if user is None or not user.active:
            return None
        return Principal(user.username, user.role, address)
