"""Risk levels, flag targets and flags: what an operator says about a part of the network.

Pure data; what a flag covers on a given network is computed in :mod:`advisor.risk.coverage`.

Examples
--------
>>> RiskLevel.HIGH > RiskLevel.ELEVATED
True
>>> RiskLevel.parse("suspended") is RiskLevel.SUSPENDED
True
>>> f = Flag(id="f1", level=RiskLevel.HIGH, target=LineTarget("lozova-sloviansk"),
...          reason_uk="Обстріли", reason_en="Strikes", source="UZ", author="ops")
>>> f.is_active_at(datetime(2026, 3, 1, tzinfo=UTC))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum, StrEnum

from advisor.errors import InvalidFlag

__all__ = [
    "AreaTarget",
    "BusLinkTarget",
    "CircleTarget",
    "Flag",
    "FlagStatus",
    "LineTarget",
    "OblastTarget",
    "PolygonTarget",
    "PrecomputedTarget",
    "RiskLevel",
    "SectionTarget",
    "StationTarget",
    "Target",
    "Tolerance",
]


class RiskLevel(Enum):
    """How dangerous a flagged part of the network is. Ordered: ``ADVISORY < … < SUSPENDED``."""

    ADVISORY = "advisory"
    """Information only; never changes a route."""
    ELEVATED = "elevated"
    """Usable, but the engine prefers alternatives when the detour is reasonable."""
    HIGH = "high"
    """The operator urges passengers not to travel this way; avoided unless the passenger
    explicitly accepts high risk."""
    SUSPENDED = "suspended"
    """No service; never routed."""

    @property
    def rank(self) -> int:
        """0 for advisory up to 3 for suspended."""
        return _LEVEL_ORDER.index(self)

    def __lt__(self, other):
        if not isinstance(other, RiskLevel):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other):
        if not isinstance(other, RiskLevel):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other):
        if not isinstance(other, RiskLevel):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other):
        if not isinstance(other, RiskLevel):
            return NotImplemented
        return self.rank >= other.rank

    @classmethod
    def parse(cls, value: str) -> RiskLevel:
        """The level named *value*; raises :class:`InvalidFlag` naming it."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            names = ", ".join(level.value for level in cls)
            raise InvalidFlag(
                f"unknown risk level {value!r}; use one of {names}", field="level", value=value
            ) from None


_LEVEL_ORDER = list(RiskLevel)


class Tolerance(StrEnum):
    """How much risk a passenger accepts."""

    STRICT = "strict"
    """Avoid elevated and above."""
    BALANCED = "balanced"
    """Avoid high and above, penalise elevated (the default)."""
    ACCEPT_HIGH = "accept-high"
    """May use high-risk parts, with warnings. Suspended parts are never used."""


class FlagStatus(StrEnum):
    """Lifecycle of a flag in the store: draft → published → withdrawn."""

    DRAFT = "draft"
    """Being prepared; has no effect on routing."""
    PUBLISHED = "published"
    """Applies to routing inside its validity window."""
    WITHDRAWN = "withdrawn"
    """Taken back by an operator; kept for history, no effect."""


@dataclass(frozen=True, slots=True)
class LineTarget:
    """A whole named line from ``config/lines.toml``."""

    line_id: str
    kind = "line"


@dataclass(frozen=True, slots=True)
class SectionTarget:
    """The part of a named line between two of its stations (in either order)."""

    line_id: str
    from_station: str
    to_station: str
    kind = "section"


@dataclass(frozen=True, slots=True)
class StationTarget:
    """One station (and every link that touches it)."""

    station_id: str
    kind = "station"


@dataclass(frozen=True, slots=True)
class OblastTarget:
    """A whole oblast by ISO 3166-2 code (``UA-63`` is Kharkiv oblast); covers buses too."""

    oblast_iso: str
    kind = "oblast"


@dataclass(frozen=True, slots=True)
class CircleTarget:
    """Everything within ``radius_km`` of a point; covers buses too."""

    lat: float
    lon: float
    radius_km: float
    kind = "circle"


@dataclass(frozen=True, slots=True)
class PolygonTarget:
    """Everything inside a polygon given as a ring of ``(lon, lat)`` pairs; covers buses too."""

    ring: tuple[tuple[float, float], ...]
    kind = "polygon"


@dataclass(frozen=True, slots=True)
class BusLinkTarget:
    """The bus link(s) between two settlements (station ids of their bus stops)."""

    from_station: str
    to_station: str
    kind = "bus_link"


@dataclass(frozen=True, slots=True)
class PrecomputedTarget:
    """Explicit station and link ids, computed elsewhere (the war map's baseline bands).

    Built by :mod:`advisor.risk.geography`, never by an operator: the index resolves it
    without geometry work. ``key`` names what computed it (map checksum and band), so two
    targets compare cheaply.
    """

    key: str
    station_ids: frozenset[str] = field(default=frozenset(), compare=False, hash=False)
    link_ids: frozenset[str] = field(default=frozenset(), compare=False, hash=False)
    kind = "precomputed"


Target = (
    LineTarget
    | SectionTarget
    | StationTarget
    | OblastTarget
    | CircleTarget
    | PolygonTarget
    | BusLinkTarget
    | PrecomputedTarget
)
AreaTarget = OblastTarget | CircleTarget | PolygonTarget


@dataclass(frozen=True, slots=True)
class Flag:
    """An operator's statement that a part of the network carries a risk.

    Times are timezone-aware (UTC in storage). ``active_from`` / ``active_until`` ``None``
    means open on that side. ``version`` counts edits; ``status`` is the lifecycle state.
    """

    id: str
    level: RiskLevel
    target: Target
    reason_uk: str
    reason_en: str
    source: str
    author: str
    active_from: datetime | None = None
    active_until: datetime | None = None
    status: FlagStatus = FlagStatus.PUBLISHED
    version: int = 1
    published_at: datetime | None = None
    updated_at: datetime | None = None
    baseline: bool = False
    caps_baseline: bool = False
    """An operator's cap on the war map's bands: on this flag's target, a baseline band
    above ``level`` counts as ``level`` while this flag is in force (occupied territory is
    never capped). The flag's own level applies as usual."""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        if (
            self.active_from is not None
            and self.active_until is not None
            and self.active_until <= self.active_from
        ):
            raise InvalidFlag(
                f"validity window ends ({self.active_until.isoformat()}) before it starts "
                f"({self.active_from.isoformat()})",
                field="active_until",
                value=self.active_until.isoformat(),
            )

    def is_active_at(self, when: datetime) -> bool:
        """True if the flag is published and *when* lies inside its validity window."""
        if self.status is not FlagStatus.PUBLISHED:
            return False
        if self.active_from is not None and when < self.active_from:
            return False
        return self.active_until is None or when < self.active_until

    def reason(self, locale: str = "uk") -> str:
        """The reason in *locale* (falls back to the other language)."""
        if locale == "uk":
            return self.reason_uk or self.reason_en
        return self.reason_en or self.reason_uk

    @property
    def since(self) -> datetime | None:
        """When the flag started to apply: its window start, else when it was published."""
        return self.active_from or self.published_at


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
