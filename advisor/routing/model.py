"""What the engine is asked and what it answers.

The adapters (web page, JSON API, CLI) render these objects and nothing else; the JSON
shape lives in the API's schema module, the HTML in templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from advisor.errors import InvalidQuery
from advisor.network.model import Mode, TimeSource
from advisor.risk.model import Flag, RiskLevel, Tolerance

__all__ = [
    "Advice",
    "Candidate",
    "DataFreshness",
    "Leg",
    "Notice",
    "NoticeCode",
    "Option",
    "OptionKind",
    "Query",
    "Verdict",
]


RIDING_MODES = frozenset({Mode.RAIL, Mode.BUS})


@dataclass(frozen=True)
class Query:
    """A passenger's question with station ids resolved and the time parsed.

    Adapters build it with the one parser (:meth:`advisor.services.Services.query`); the
    checks below only keep a hand-built query from carrying values no planner can use.
    """

    origin: str
    destination: str
    depart_at: datetime
    tolerance: Tolerance = Tolerance.BALANCED
    modes: frozenset[Mode] = frozenset({Mode.RAIL, Mode.BUS})
    max_transfers: int = 4
    avoid_stations: frozenset[str] = frozenset()
    # Estimated time to change from one bus route to another at a bus station (never zero).
    bus_change_minutes: float = 90.0  # as config/settings.toml [routing]
    avoid_lines: frozenset[str] = frozenset()
    arrive_by: bool = False

    def __post_init__(self):
        problem = _query_problem(self)
        if problem is not None:
            field_name, value, message = problem
            raise InvalidQuery(message, field=field_name, value=value)


def _query_problem(query: Query) -> tuple[str, object, str] | None:
    if not isinstance(query.tolerance, Tolerance):
        return "tolerance", query.tolerance, f"unknown tolerance {query.tolerance!r}"
    if not query.modes or not set(query.modes) <= RIDING_MODES:
        shown = ",".join(sorted(map(str, query.modes)))
        return "modes", shown, f"modes {shown!r} must be rail and/or bus"
    if query.depart_at.tzinfo is None:
        return "at", query.depart_at.isoformat(), "departure time has no time zone"
    if not query.bus_change_minutes > 0:
        return (
            "bus_change_minutes",
            query.bus_change_minutes,
            f"bus_change_minutes {query.bus_change_minutes} must be positive: a change of bus "
            "is never free",
        )
    if query.max_transfers < 0:
        message = f"max_transfers {query.max_transfers} is negative"
        return "max_transfers", query.max_transfers, message
    return None


class OptionKind(StrEnum):
    """Which slot of the answer an option fills."""

    RECOMMENDED = "recommended"
    """The option the service advises."""
    RAIL_ONLY = "rail_only"
    """The best option using trains only."""
    BUS_ONLY = "bus_only"
    """The best option using buses only."""
    RAIL_THEN_BUS = "rail_then_bus"
    """Train to a hub, then bus onward (or the reverse)."""
    FASTEST = "fastest"
    """The fastest option regardless of risk."""
    LEAST_RISKY = "least_risky"
    """Shown when no option fits the tolerance: the least risky one, always not advised."""


@dataclass(frozen=True)
class Candidate:
    """A journey a back-end found for one slot of the answer, not yet judged or explained.

    Back-ends (the estimated search, the timetable scan) produce candidates; the answer
    builder (:func:`advisor.routing.answer.build_advice`) turns them into options.
    ``risk_unknown`` is True when part of the journey cannot be placed on the network, so
    its risk is unknown (never "safe").
    """

    kind: OptionKind
    legs: tuple[Leg, ...]
    risk_unknown: bool = False

    @property
    def identity(self) -> tuple:
        """What makes two candidates the same trip: the same rides at the same times."""
        return tuple(
            (leg.mode, leg.from_id, leg.to_id, leg.link_ids, leg.trip_id, leg.departure)
            for leg in self.legs
        )


class Verdict(StrEnum):
    """What the service says about an option."""

    ADVISED = "advised"
    """Within the passenger's tolerance."""
    CAUTION = "caution"
    """Within tolerance but crosses elevated or advisory flags; warnings on legs."""
    NOT_ADVISED = "not_advised"
    """Crosses risk above the passenger's tolerance; shown for information."""


class NoticeCode(StrEnum):
    """Coded notices an answer can carry (never exceptions)."""

    NO_SAFE_ROUTE = "no_safe_route"
    """No option within tolerance exists; the least risky one is shown as not advised."""
    NO_ROUTE = "no_route"
    """No connection at all between origin and destination in the network."""
    ORIGIN_NOT_FOUND = "origin_not_found"
    """The origin text matched no station; suggestions attached."""
    DESTINATION_NOT_FOUND = "destination_not_found"
    """The destination text matched no station; suggestions attached."""
    SAME_ORIGIN_DESTINATION = "same_origin_destination"
    """Origin and destination are the same place."""
    ONLY_RISKY_ROUTES = "only_risky_routes"
    """Every option crosses some flagged part (elevated or above)."""
    RISK_DATA_STALE = "risk_data_stale"
    """Flag data is older than the configured limit; flags known are still applied."""
    RISK_DATA_UNAVAILABLE = "risk_data_unavailable"
    """The flag store could not be read; the last known flags are applied."""
    ESTIMATED_TIMES = "estimated_times"
    """Some or all times are estimates, not a timetable."""
    BUS_DATA_2019 = "bus_data_2019"
    """Bus links come from the 2019 register (pre-war); check with the carrier."""
    REPLACEMENT_BUS = "replacement_bus"
    """A bus leg is a railway replacement bus known from press reports (2026), added by hand;
    its route and times are estimated."""
    TOO_MANY_TRANSFERS = "too_many_transfers"
    """Some options were left out because they need more changes than the passenger allows."""
    AIR_ALERT = "air_alert"
    """The trip crosses a place under an air-raid (or other) alert now, or one that ended
    within the grace period; the notice names the place and the start time."""
    ALERT_DATA_UNAVAILABLE = "alert_data_unavailable"
    """The alert feed has not answered for longer than the configured limit: the alerts
    known last are applied, and no alert shown does not mean there is none."""
    ALERTS_NOT_CONNECTED = "alerts_not_connected"
    """This deployment has no air-raid alert feed connected: the answer does not take
    alerts into account, which is never "no alerts" (set by the service, shown once and
    low-key; answers built without a deployment leave it out)."""
    OCCUPIED = "occupied"
    """The origin or destination lies in temporarily occupied territory on the war map in
    force (named with the map's date): there is no service, and nothing is advised."""


@dataclass(frozen=True)
class Notice:
    """A coded message attached to an answer."""

    code: NoticeCode
    message_uk: str
    message_en: str
    details: dict = field(default_factory=dict)

    def message(self, locale: str = "uk") -> str:
        """The message in *locale*."""
        return self.message_uk if locale == "uk" else self.message_en


@dataclass(frozen=True)
class Leg:
    """One leg of an option: consecutive links of one mode (and one line where known).

    ``departure`` / ``arrival`` are set only for timetabled legs (``time_source`` is
    ``TIMETABLE``); estimated legs carry minutes only and must be shown as estimates.
    """

    mode: Mode
    from_id: str
    to_id: str
    station_ids: tuple[str, ...]
    link_ids: tuple[str, ...]
    line_ids: tuple[str, ...]
    distance_km: float
    travel_minutes: float
    time_source: TimeSource
    flags: tuple[Flag, ...] = ()
    departure: datetime | None = None
    arrival: datetime | None = None
    trip_id: str = ""
    route_name: str = ""
    via_ids: tuple[str, ...] = ()
    """The main hubs the leg passes between its ends ("via Koziatyn, Zhmerynka")."""
    change_ids: tuple[str, ...] = ()
    """Stations where an estimated rail leg leaves one named line for another and no through
    service is known: a change of train may be needed there (counted as a change)."""

    @property
    def risk_level(self) -> RiskLevel | None:
        """The highest level of the flags on this leg, or None when no flag touches it."""
        return max((f.level for f in self.flags), default=None)

    @property
    def is_estimated(self) -> bool:
        """True unless the leg's times come from a timetable."""
        return self.time_source.is_estimate


@dataclass(frozen=True)
class Option:
    """One way to make the trip, with its risk and a plain explanation."""

    kind: OptionKind
    verdict: Verdict
    legs: tuple[Leg, ...]
    explanation_uk: str
    explanation_en: str
    also_kinds: tuple[OptionKind, ...] = ()
    # True when part of the trip cannot be placed on the network (a timetabled stop not
    # matched to a station): its risk there is unknown, which is never "no risk".
    risk_unknown: bool = False

    @property
    def travel_minutes(self) -> float:
        """Total minutes: the sum of the legs' minutes (transfers are legs)."""
        return sum(leg.travel_minutes for leg in self.legs)

    @property
    def distance_km(self) -> float:
        """Total distance over all legs."""
        return sum(leg.distance_km for leg in self.legs)

    @property
    def transfers(self) -> int:
        """Number of changes between vehicles, with the changes of train that may be needed
        inside a rail leg (``Leg.change_ids``)."""
        riding = [leg for leg in self.legs if leg.mode is not Mode.TRANSFER]
        return max(0, len(riding) - 1) + sum(len(leg.change_ids) for leg in riding)

    @property
    def flags(self) -> tuple[Flag, ...]:
        """Every distinct flag the option touches, highest level first."""
        seen: dict[str, Flag] = {}
        for leg in self.legs:
            for flag in leg.flags:
                seen.setdefault(flag.id, flag)
        return tuple(sorted(seen.values(), key=lambda f: f.level, reverse=True))

    @property
    def risk_level(self) -> RiskLevel | None:
        """The highest flag level on any leg, or None."""
        return max((f.level for f in self.flags), default=None)

    @property
    def modes(self) -> frozenset:
        """The riding modes used."""
        return frozenset(leg.mode for leg in self.legs if leg.mode is not Mode.TRANSFER)

    def explanation(self, locale: str = "uk") -> str:
        """The one-sentence explanation in *locale*."""
        return self.explanation_uk if locale == "uk" else self.explanation_en


@dataclass(frozen=True)
class DataFreshness:
    """How old the data behind an answer is."""

    flags_updated_at: datetime | None
    flags_stale: bool
    flags_available: bool
    network_version: str
    network_built_at: str
    timetable_feeds: tuple[str, ...] = ()
    # Where the flags came from: "source" (the flag store or file, read just now or at
    # updated_at), "snapshot" (the last good read saved on disk, the store being unreachable
    # since this process started) or "baseline" (only the configured standing flags: no
    # read ever succeeded and no snapshot exists).
    flags_origin: str = "source"
    # The air-raid alert feed: "current" (answered within the configured limit),
    # "unavailable" (has not, or never did; the last known alerts are applied) or "off" (no
    # alert feed configured in this deployment).
    alerts_state: str = "off"
    alerts_updated_at: datetime | None = None
    # True when the answer must say that no alert feed is connected (``alerts_state`` "off"
    # in a deployment: the service sets it). False, the default, says nothing: answers
    # built without a deployment (library use, tests) know nothing of a feed.
    announce_alerts_off: bool = False


@dataclass(frozen=True)
class Advice:
    """The engine's whole answer: options (recommended first) and notices."""

    query: Query
    options: tuple[Option, ...]
    notices: tuple[Notice, ...]
    freshness: DataFreshness

    @property
    def recommended(self) -> Option | None:
        """The recommended option, if any option is advised."""
        for option in self.options:
            if option.kind is OptionKind.RECOMMENDED:
                return option
        return None

    def has_notice(self, code: NoticeCode) -> bool:
        """True if a notice with *code* is attached."""
        return any(n.code is code for n in self.notices)
