"""Words and small helpers the templates use to show an :class:`Advice`.

Labels are looked up at render time so they follow the page's language. Nothing here
decides anything: verdicts, explanations and notices come from the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from advisor.network.geo import crowfly_km
from advisor.network.model import LinkSource, Mode, Network, Station, StationKind
from advisor.network.oblasts import OBLASTS, oblast_name
from advisor.risk.geography import is_war_flag, map_shapes
from advisor.risk.model import Flag, RiskLevel
from advisor.routing.explain import bus_sources, leg_badges
from advisor.routing.model import Advice, Leg, NoticeCode, Option, OptionKind, Verdict
from advisor.web.i18n import clock_time, format_age, format_minutes, local_time
from advisor.web.svgmap import MapLine, MapPoint, WarOverlay, render_map

__all__ = ["BANNER_NOTICES", "LABELS", "VERDICT_NOTICES", "Clock", "Presenter"]

LABELS = {
    OptionKind.RECOMMENDED: _l("Recommended"),
    OptionKind.RAIL_ONLY: _l("Rail only"),
    OptionKind.BUS_ONLY: _l("Bus only"),
    OptionKind.RAIL_THEN_BUS: _l("Rail and bus"),
    OptionKind.FASTEST: _l("Fastest, regardless of risk"),
    OptionKind.LEAST_RISKY: _l("Least risky"),
    Verdict.ADVISED: _l("Advised"),
    Verdict.CAUTION: _l("Advised with caution"),
    Verdict.NOT_ADVISED: _l("Not advised"),
    Mode.RAIL: _l("Train"),
    Mode.BUS: _l("Bus"),
    Mode.TRANSFER: _l("Transfer"),
    RiskLevel.ADVISORY: _l("Advisory"),
    RiskLevel.ELEVATED: _l("Elevated risk"),
    RiskLevel.HIGH: _l("High risk"),
    RiskLevel.SUSPENDED: _l("Suspended"),
    None: _l("No flag known"),
    "strict": _l("Strict: avoid elevated risk and above"),
    "balanced": _l("Balanced: avoid high risk (default)"),
    "accept-high": _l("I accept high risk (shown with warnings)"),
    "rail": _l("Train"),
    "bus": _l("Bus"),
}

# Where an estimated bus leg's data comes from: 2019 register data must never pass for current,
# and a replacement bus known from the 2026 press must not be called 2019 data.
BUS_SOURCE_TAGS = {
    LinkSource.BUS_REGISTER_2019: _l("bus data: 2019 register"),
    LinkSource.HAND_ADDED: _l("replacement bus (2026 press reports); route and times estimated"),
}

# The recommended option's heading names how it travels; "fastest, regardless of risk" next
# to "recommended" read like a warning, so an advised option that is also the fastest says so
# plainly.
MODE_SUMMARY = {
    frozenset({Mode.RAIL}): _l("Train"),
    frozenset({Mode.BUS}): _l("Bus"),
    frozenset({Mode.RAIL, Mode.BUS}): _l("Train and bus"),
}
ALSO_FASTEST = _l("also the fastest")
# The tolerance in two words for the line under the results heading (the form has the rest).
SHORT_TOLERANCE = {
    "strict": _l("risk: strict"),
    "balanced": _l("risk: balanced"),
    "accept-high": _l("risk: high accepted"),
}
# An advised option that is not the recommended one: possible, but not the advice.
ALSO_POSSIBLE = _l("Also possible")

KIND_LABELS = {
    StationKind.RAIL_STATION: _l("railway station"),
    StationKind.HALT: _l("railway halt"),
    StationKind.BUS_STATION: _l("bus station"),
    StationKind.CITY_STOP: _l("stop"),
}

NEAR_KM = 30.0
"""How far from a route a flag counts as near it (the width of a typical shelling zone)."""
MAX_NEAR = 8

# Notices shown elsewhere on the page (banner, labels), not repeated in the notice list.
BANNER_NOTICES = {NoticeCode.RISK_DATA_STALE, NoticeCode.RISK_DATA_UNAVAILABLE}
# Notices that are the verdict itself: shown in a box above the options.
VERDICT_NOTICES = {
    NoticeCode.NO_SAFE_ROUTE,
    NoticeCode.NO_ROUTE,
    NoticeCode.ONLY_RISKY_ROUTES,
    NoticeCode.OCCUPIED,
}


@dataclass(frozen=True)
class Clock:
    """When a leg or an option starts and ends: timetabled, or estimated from the asked time
    plus the legs' minutes (never shown as a timetable)."""

    start: datetime
    end: datetime
    estimated: bool

    def text(self) -> str:
        """ "≈ 20:55 → ≈ 04:30 (+1 day)" for estimates, "06:10 → 12:40" for timetabled."""
        mark = "≈ " if self.estimated else ""
        return f"{mark}{clock_time(self.start)} → {mark}{clock_time(self.end, self.start)}"


class Presenter:
    """Station names, durations, flag ages and the map for one page in one language."""

    near_km = NEAR_KM

    def __init__(
        self, network: Network, locale: str, risk_index=None, at=None, war_layer=None,
        query=None,
    ):
        self.network = network
        self.query = query
        self.locale = locale
        self.war_layer = war_layer  # the war map in force: drawn under the routes
        # The flag snapshot the answer was planned with: lets the map band only the flagged
        # links of a leg, and finds flags near (not on) the route.
        self.risk_index = risk_index
        self.at = at

    def link_level(self, link_id: str) -> RiskLevel | None:
        """The highest flag level on *link_id* at the asked time."""
        return self.risk_index.link_level(link_id, self.at)

    def station(self, station_id: str) -> str:
        """The station's name in the page language (the id if it is unknown)."""
        station = self.network.find_station(station_id)
        return station.display_name(self.locale) if station else station_id

    def former_name(self, station_id: str, typed: str = "") -> str:
        """ "(formerly Dnipropetrovsk)" when the passenger typed a former name, else empty.

        A former name the passenger did not use only confuses (Zaporizhzhia was Oleksandrivsk
        a century ago); shown after "Dnipropetrovsk" was typed, it explains the answer.

        The station keeps its former names in many spellings, newest first; the page shows
        the first written in its own script (Cyrillic for Ukrainian), else the first one.
        """
        station = self.network.find_station(station_id)
        names = station.historic_names if station else ()
        if not typed or typed.casefold() not in {name.casefold() for name in names}:
            return ""
        cyrillic = [name for name in names if _is_cyrillic(name)]
        own = cyrillic if self.locale == "uk" else [n for n in names if n not in cyrillic]
        return gettext("(formerly %(name)s)", name=(own or names)[0])

    def bus_tags(self, leg: Leg) -> list:
        """Labels saying where an estimated bus leg's data comes from (none for other legs),
        whether its register route is unverified, and the register's own risk notes."""
        sources = bus_sources(leg, self.network)
        tags = [tag for source, tag in BUS_SOURCE_TAGS.items() if source in sources]
        links = [self.network.links[i] for i in leg.link_ids if i in self.network.links]
        if leg.mode is Mode.BUS and any(link.unverified for link in links):
            tags.append(gettext("unverified route: no daily trip or no operator in the register"))
        notes = dict.fromkeys(note for link in links for note in link.risk_context)
        tags.extend(gettext("register note: %(note)s", note=note) for note in notes)
        return tags

    def via(self, leg: Leg) -> str:
        """ "via Koziatyn-1, Zhmerynka-Pasazhyrska" for the hubs a leg passes, else ""."""
        if not leg.via_ids:
            return ""
        return gettext("via %(hubs)s", hubs=", ".join(map(self.station, leg.via_ids)))

    def possible_changes(self, leg: Leg) -> list:
        """One sentence per station where a change of train may be needed."""
        return [
            gettext(
                "A change of train may be needed at %(station)s (no through train known).",
                station=self.station(sid),
            )
            for sid in leg.change_ids
        ]

    def leg_time(self, leg: Leg) -> str:
        """ "≈ 4 h 50 min (estimated)", or the timetabled clock times."""
        if not leg.is_estimated and leg.departure and leg.arrival:
            return f"{local_time(leg.departure)} → {local_time(leg.arrival)[-5:]}"
        return format_minutes(leg.travel_minutes, estimated=leg.is_estimated)

    def clocks(self, option: Option) -> list[Clock]:
        """Each leg's start and end: timetabled legs keep their times; estimated legs are
        placed from the asked time (forward, or backward for "arrive by") with their minutes,
        rounded to 5 minutes."""
        if self.at is None:
            return []
        legs = list(option.legs)
        backward = self.query is not None and self.query.arrive_by
        cursor, clocks = self.at, []
        for leg in reversed(legs) if backward else legs:
            clock = _leg_clock(leg, cursor, backward)
            clocks.append(clock)
            cursor = clock.start if backward else clock.end
        return clocks[::-1] if backward else clocks

    def option_clock(self, option: Option) -> Clock | None:
        """The option's departure and arrival (estimated if any leg is estimated)."""
        clocks = self.clocks(option)
        if not clocks:
            return None
        estimated = any(c.estimated for c in clocks)
        return Clock(clocks[0].start, clocks[-1].end, estimated)

    def heading(self, option: Option) -> str:
        """The option's heading: never starting with a separator, never reading like a
        warning on the recommended option."""
        if option.kind is OptionKind.RECOMMENDED:
            parts = [LABELS[option.kind], MODE_SUMMARY.get(option.modes, "")]
            if OptionKind.FASTEST in option.also_kinds:
                parts.append(ALSO_FASTEST)
        else:
            parts = [LABELS[option.kind], *(LABELS[k] for k in option.also_kinds)]
        return " · ".join(str(part) for part in parts if str(part))

    @staticmethod
    def verdict_label(option: Option) -> str:
        """ "Advised" only on the recommended option; other advised options are "also
        possible", so one option stands apart."""
        if option.verdict is Verdict.ADVISED and option.kind is not OptionKind.RECOMMENDED:
            return str(ALSO_POSSIBLE)
        return str(LABELS[option.verdict])

    def transfer_text(self, leg: Leg) -> str:
        """What a change leg asks of the passenger, without repeating "change" or a name."""
        here = self.network.find_station(leg.from_id)
        there = self.network.find_station(leg.to_id)
        if leg.from_id == leg.to_id or here is None or there is None:
            return gettext("Change buses at %(station)s", station=self.station(leg.from_id))
        names = (here.display_name(self.locale), there.display_name(self.locale))
        if names[0] == names[1]:
            return gettext(
                "Change at %(place)s: %(from_kind)s → %(to_kind)s",
                place=names[0],
                from_kind=KIND_LABELS[here.kind],
                to_kind=KIND_LABELS[there.kind],
            )
        there_text = f"{names[1]} ({KIND_LABELS[there.kind]})"
        return gettext("Change: %(from)s → %(to)s", **{"from": names[0], "to": there_text})

    def option_time(self, option) -> str:
        """The option's total duration, an estimate unless every leg is timetabled."""
        estimated = any(leg.is_estimated for leg in option.legs)
        return format_minutes(option.travel_minutes, estimated=estimated)

    def flag_when(self, flag: Flag) -> str:
        """When a flag started to apply (else when it was last changed), with its age."""
        since = flag.since or flag.updated_at
        return f"{local_time(since)} ({format_age(since)})" if since else ""

    def place_hint(self, station: Station) -> str:
        """What tells two same-named places apart: kind and oblast, in the page language."""
        region = oblast_name(station.oblast_iso, self.locale, short=True)
        kind = str(KIND_LABELS[station.kind])
        return f"{kind}, {region}" if region else kind

    def hint_table(self) -> dict:
        """Kind and oblast words for the suggestion script, so same-named places in the
        list can be told apart (the JSON API gives codes, the page gives words)."""
        return {
            "kinds": {kind.value: str(label) for kind, label in KIND_LABELS.items()},
            "oblasts": {iso: oblast_name(iso, self.locale, short=True) for iso in OBLASTS},
        }

    @staticmethod
    def updated_text(freshness) -> str:
        """When the flag data was last updated, with its age ("never" if not known)."""
        when = freshness.flags_updated_at
        return f"{local_time(when)} ({format_age(when)})" if when else format_age(None)

    @staticmethod
    def tolerance_short(tolerance) -> str:
        """ "risk: balanced" for the line under the results heading."""
        return str(SHORT_TOLERANCE[tolerance.value])

    @staticmethod
    def depart_text(when) -> str:
        """The asked departure in Kyiv time."""
        return local_time(when)

    @staticmethod
    def level_class(level: RiskLevel | None) -> str:
        """CSS class of a risk badge."""
        return f"risk-{level.value}" if level else "risk-none"

    @staticmethod
    def notices(advice: Advice, *hidden) -> list:
        """The notices to list: one per code (the last, most specific one), minus *hidden*."""
        skip = set().union(*hidden)
        by_code = {n.code: n for n in advice.notices if n.code not in skip}
        return list(by_code.values())

    def route_flags(self, advice: Advice) -> list[Flag]:
        """Every distinct flag any shown option touches, highest level first."""
        seen: dict[str, Flag] = {}
        for option in advice.options:
            for flag in option.flags:
                seen.setdefault(flag.id, flag)
        return sorted(seen.values(), key=lambda f: f.level, reverse=True)

    def flags_near(self, advice: Advice) -> list[tuple[Flag, float]]:
        """Flags in force within :data:`NEAR_KM` of a shown route but not on it, with the
        distance in km, highest level first."""
        if self.risk_index is None:
            return []
        on_route = {f.id for f in self.route_flags(advice)}
        grid = _Grid(
            self.network.find_station(sid)
            for option in advice.options
            for leg in option.legs
            for sid in leg.station_ids
        )
        near = []
        for flag in self.risk_index.active_flags(self.at):
            coverage = self.risk_index.coverage.get(flag.id)
            # The war map's bands are drawn on the map and named on the legs they touch; as
            # "near" flags they would only repeat the front line, hundreds of stations long.
            if flag.id in on_route or coverage is None or is_war_flag(flag):
                continue
            found = (self.network.find_station(sid) for sid in coverage.station_ids)
            distance = grid.nearest_km(s for s in found if s is not None)
            if distance <= NEAR_KM:
                near.append((flag, distance))
        near.sort(key=lambda fd: (-fd[0].level.rank, fd[1]))
        return near[:MAX_NEAR]

    def leg_badges(self, leg) -> list[str]:
        """The war map's badges of *leg* (distance from the front line or a border, map date)."""
        return leg_badges(leg, self.locale)

    def map_svg(self, advice: Advice, title: str):
        """The inline SVG map of the options (recommended drawn on top)."""
        lines, points = [], {}
        for index, option in enumerate(advice.options[:4]):
            for leg in option.legs:
                leg_title = self._leg_title(leg)
                for level, station_ids in self._runs(leg):
                    coords = self._coords(station_ids)
                    if len(coords) >= 2:
                        lines.append(MapLine(tuple(coords), leg.mode, index, level, leg_title))
                if index == 0 and leg.mode is not Mode.TRANSFER:
                    points.setdefault(leg.from_id, "stop")
                    points[leg.to_id] = "stop"
        points[advice.query.origin] = "origin"
        points[advice.query.destination] = "destination"
        marks = self._one_label_per_place(points)
        desc = " → ".join(self.station(sid) for sid in points)
        war = war_overlay(self.war_layer, self.locale)
        return render_map(
            lines, marks, title, desc, war, towns=self._towns(marks),
            outlines=self.oblast_outlines(),
        )  # fmt: skip

    def war_caption(self) -> str:
        """The key to the war map's shapes (with its source and date), printed under the map."""
        overlay = war_overlay(self.war_layer, self.locale)
        return overlay.caption + "." if overlay is not None else ""

    def oblast_outlines(self) -> list[tuple[tuple[float, float], ...]]:
        """The oblasts' boundary rings ``(lon, lat)`` for the map (from the dataset)."""
        return [ring for oblast in self.network.oblasts.values() for ring in oblast.polygons]

    def _towns(self, marks: list[MapPoint]) -> list[MapPoint]:
        """Major towns for orientation (the railway's hub cities), except those already
        marked; the map draws those that fall inside it and leave room for their label."""
        taken = {mark.label for mark in marks}
        towns = []
        for station in self.network.stations.values():
            settlement = self.network.settlements.get(station.settlement)
            if not station.uz_code or settlement is None:
                continue
            name = settlement.name_uk if self.locale == "uk" else settlement.name_latin
            if name not in taken and not any(label.startswith(name) for label in taken):
                taken.add(name)
                towns.append(MapPoint(settlement.lat, settlement.lon, name, "town"))
        return towns

    def _one_label_per_place(self, points: dict[str, str]) -> list[MapPoint]:
        """A point per settlement: a rail station and its town's bus station share a label."""
        by_place: dict[str, MapPoint] = {}
        for station_id, role in points.items():
            station = self.network.find_station(station_id)
            if station is None:
                continue
            place = station.settlement or station.id
            if place not in by_place or role != "stop":
                by_place[place] = MapPoint(
                    station.lat, station.lon, station.display_name(self.locale), role
                )
        return list(by_place.values())

    def _runs(self, leg: Leg) -> list[tuple[RiskLevel | None, tuple[str, ...]]]:
        """The leg cut into runs of consecutive links with the same risk level."""
        stations, links = leg.station_ids, leg.link_ids
        if self.risk_index is None or len(links) != len(stations) - 1 or not leg.flags:
            return [(leg.risk_level, stations)]
        runs: list[tuple[RiskLevel | None, list[str]]] = []
        for i, link_id in enumerate(links):
            level = self.link_level(link_id)
            if runs and runs[-1][0] == level:
                runs[-1][1].append(stations[i + 1])
            else:
                runs.append((level, [stations[i], stations[i + 1]]))
        return [(level, tuple(ids)) for level, ids in runs]

    def _coords(self, station_ids) -> list[tuple[float, float]]:
        found = (self.network.find_station(sid) for sid in station_ids)
        return [(s.lat, s.lon) for s in found if s is not None]

    def _leg_title(self, leg: Leg) -> str:
        risk = str(LABELS[leg.risk_level])
        return (
            f"{LABELS[leg.mode]}: {self.station(leg.from_id)} – {self.station(leg.to_id)} ({risk})"
        )


class _Grid:
    """Route stations bucketed by cells of about 33 × 37 km, so distances to flagged places
    are computed only for stations in neighbouring cells."""

    LAT_STEP, LON_STEP = 0.3, 0.5

    def __init__(self, stations):
        self.cells: dict[tuple[int, int], list] = {}
        for station in stations:
            if station is not None:
                self.cells.setdefault(self._cell(station), []).append(station)

    def _cell(self, station) -> tuple[int, int]:
        return (math.floor(station.lat / self.LAT_STEP), math.floor(station.lon / self.LON_STEP))

    def nearest_km(self, stations) -> float:
        """Distance from the nearest of *stations* to the route (inf when none is close)."""
        best = math.inf
        for station in stations:
            row, col = self._cell(station)
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    for other in self.cells.get((row + dr, col + dc), ()):
                        best = min(best, crowfly_km(station.lat, station.lon, other.lat, other.lon))
            if best == 0.0:
                break
        return best


def _leg_clock(leg: Leg, cursor: datetime, backward: bool) -> Clock:
    if not leg.is_estimated and leg.departure and leg.arrival:
        return Clock(leg.departure, leg.arrival, estimated=False)
    span = timedelta(minutes=leg.travel_minutes)
    if backward:
        return Clock(_round5(cursor - span), cursor, estimated=True)
    return Clock(cursor, _round5(cursor + span), estimated=True)


def _round5(when: datetime) -> datetime:
    """Estimates are not precise to the minute: round to 5 minutes."""
    minutes = round((when.minute + when.second / 60) / 5) * 5
    return when.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=minutes)


def _is_cyrillic(text: str) -> bool:
    return any("\u0400" <= char <= "\u04ff" for char in text)


def war_overlay(layer, locale: str) -> WarOverlay | None:
    """What the maps draw of the war map in force (None without one)."""
    if layer is None:
        return None
    shapes = map_shapes(layer.war_map)
    source = layer.war_map.source
    day = shapes.map_date.strftime("%d.%m.%Y") if locale == "uk" else shapes.map_date.isoformat()
    stamp = f"{'Мапа окупації' if locale == 'uk' else 'Occupation map'}: {source}, {day}"
    if locale == "uk":
        caption = (f"Штрихування: окупована територія ({source}, мапа від "
                   f"{shapes.map_date.strftime('%d.%m.%Y')}); смуга: до {shapes.front_band_km:g} км"
                   " від лінії фронту; штрих-пунктир: кордон")
    else:
        caption = (f"Hatched: occupied territory ({source}, map of {shapes.map_date.isoformat()}); "
                   f"band: within {shapes.front_band_km:g} km of the front line; dash-dot: border")
    return WarOverlay(shapes, caption, stamp)
