"""Impact preview: what a draft flag would cover and which important pairs it changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from advisor.errors import AdvisorError, ConfigError
from advisor.network.model import Mode
from advisor.risk.coverage import RiskIndex, resolve
from advisor.risk.geography import is_war_flag
from advisor.risk.model import Flag, FlagStatus, RiskLevel, utcnow
from advisor.routing.model import Advice, Option, Query, Verdict
from advisor.routing.planner import plan
from advisor.services.accounts import Principal, require_role
from advisor.services.flags import _writable
from advisor.services.query import parse_tolerance
from advisor.settings import read_toml
from advisor.store import Role
from advisor.war_maps import war_flags

__all__ = ["Impact", "PairImpact", "PreviewUseCases", "read_important_pairs"]


class PreviewUseCases:
    """The impact preview (a part of :class:`Operations`)."""

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
        after = RiskIndex.build(
            [*(f for f in state.flags if f.id != flag.id), flag, *war_flags(state.war_layer)],
            network,
        )
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
        advice_before = plan(network, before, query, timetable=self.services.timetable)
        advice_after = plan(network, after, query, timetable=self.services.timetable)
        return PairImpact(
            origin, destination, checked=True,
            rail_before=_best_rail(advice_before), rail_after=_best_rail(advice_after),
            recommended_before=advice_before.recommended,
            recommended_after=advice_after.recommended,
            band_km_before=band_km(advice_before.recommended, network),
            band_km_after=band_km(advice_after.recommended, network),
            options_after=tuple(advice_after.options),
        )



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
    band_km_before: float = 0.0
    band_km_after: float = 0.0
    options_after: tuple[Option, ...] = ()
    """Every option passengers will be shown after the flag (not-advised ones too)."""

    @property
    def changes(self) -> bool:
        """True if passengers will be told something else: the best rail option is lost or
        the recommended way is not the same."""
        if not self.checked:
            return False
        before, after = self.recommended_before, self.recommended_after
        same = (before is None) == (after is None) and (
            before is None or _option_links(before) == _option_links(after)
        )
        return self.loses_best_rail or not same

    @property
    def loses_best_rail(self) -> bool:
        """True if the best advised rail-only option disappears or has to change its way."""
        if not self.checked or self.rail_before is None:
            return False
        return self.rail_after is None or _option_links(self.rail_after) != _option_links(
            self.rail_before
        )

    @property
    def onto_bypass_in_band(self) -> bool:
        """True when the new recommendation runs at least :data:`BYPASS_WARN_KM` more km
        inside the war map's elevated-or-higher bands than the old one (a flag pushing a
        route onto a bypass along the front or the border; issue 11)."""
        return self.band_km_after - self.band_km_before >= BYPASS_WARN_KM


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

    @property
    def pairs_changed_first(self) -> tuple[PairImpact, ...]:
        """Every pair, those whose advice changes first (in the configured order)."""
        return tuple(sorted(self.pairs, key=lambda p: not p.changes))

    @property
    def pairs_onto_bypass_in_band(self) -> tuple[PairImpact, ...]:
        """The pairs the flag pushes onto a way through a war-map band (warn the operator)."""
        return tuple(p for p in self.pairs if p.onto_bypass_in_band)


#: How many more km inside a war-map band make a preview warn about a bypass.
BYPASS_WARN_KM = 10.0


def band_km(option: Option | None, network) -> float:
    """Km of *option* on links inside the war map's elevated-or-higher bands."""
    if option is None:
        return 0.0
    banded = set().union(*(
        f.target.link_ids for f in option.flags
        if is_war_flag(f) and f.level >= RiskLevel.ELEVATED and f.target.kind == "precomputed"
    ))
    links = (network.links[i] for leg in option.legs for i in leg.link_ids if i in banded)
    return round(sum(link.distance_km for link in links), 1)


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

