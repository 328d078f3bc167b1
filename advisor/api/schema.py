"""Every JSON shape the public API returns, built in one place.

The OpenAPI document (``openapi.json`` beside this module) describes exactly these shapes;
the schemathesis tests check that they agree. Times are ISO 8601 with an offset; every
duration says whether it is an estimate and where it came from.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from advisor.network.model import Network, Station
from advisor.risk.model import Flag
from advisor.risk.parse import flag_to_dict, target_to_dict
from advisor.routing.explain import leg_badges
from advisor.routing.model import Advice, DataFreshness, Leg, Notice, Option

__all__ = [
    "ADVICE_TIME_FIELDS",
    "PROVENANCE",
    "active_flags_json",
    "advice_template",
    "advice_times",
    "advice_to_json",
    "audit_json",
    "flag_json",
    "flag_public_json",
    "freshness_to_json",
    "impact_json",
    "station_matches_to_json",
    "station_to_json",
]

PROVENANCE = {
    "rail": "Rail network derived from OpenStreetMap: © OpenStreetMap contributors, ODbL 1.0",
    "bus": (
        "Bus links from the Ministry of Infrastructure register of interregional bus routes, "
        "April 2019 (pre-war; TEXTY extract, Apache-2.0): check with the carrier. Railway "
        "replacement buses known from early-2026 press reports are added by hand, with "
        "estimated routes and times; answers using them carry the 'replacement_bus' notice"
    ),
    "times": "Travel times are estimates from a speed model unless time.source is 'timetable'",
}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def station_to_json(station: Station, locale: str = "uk") -> dict:
    """A station as the API shows it; ``name`` is in the asked language."""
    return {
        "id": station.id,
        "name": station.display_name(locale),
        "name_uk": station.name_uk,
        "name_latin": station.name_latin,
        "kind": station.kind.value,
        "oblast_iso": station.oblast_iso,
        "lat": round(station.lat, 5),
        "lon": round(station.lon, 5),
        "is_main": station.is_main,
        "historic_names": list(station.historic_names),
    }


def station_matches_to_json(query: str, matches, locale: str = "uk") -> dict:
    """The answer of ``GET /stations``: matches best first with their score."""
    return {
        "query": query,
        "stations": [
            {
                **station_to_json(m.station, locale),
                "score": round(float(m.score), 1),
                "matched": m.matched,
            }
            for m in matches
        ],
    }


def flag_public_json(flag: Flag, locale: str = "uk") -> dict:
    """A flag as passengers see it (no author: operators' names are not public)."""
    return {
        "id": flag.id,
        "level": flag.level.value,
        "target": target_to_dict(flag.target),
        "reason": flag.reason(locale),
        "reason_uk": flag.reason_uk,
        "reason_en": flag.reason_en,
        "source": flag.source,
        "since": _iso(flag.since),
        "active_from": _iso(flag.active_from),
        "active_until": _iso(flag.active_until),
        "updated_at": _iso(flag.updated_at or flag.published_at),
    }


def _time_json(leg: Leg) -> dict:
    return {
        "minutes": round(leg.travel_minutes, 1),
        "estimated": leg.is_estimated,
        "source": leg.time_source.value,
        "departure": None if leg.is_estimated else _iso(leg.departure),
        "arrival": None if leg.is_estimated else _iso(leg.arrival),
    }


def _leg_json(leg: Leg, network: Network, locale: str) -> dict:
    return {
        "mode": leg.mode.value,
        "from": _station_ref(leg.from_id, network, locale),
        "to": _station_ref(leg.to_id, network, locale),
        "station_ids": list(leg.station_ids),
        "link_ids": list(leg.link_ids),
        "line_ids": list(leg.line_ids),
        "distance_km": round(leg.distance_km, 1),
        "time": _time_json(leg),
        "risk_level": leg.risk_level.value if leg.risk_level else None,
        "flag_ids": [f.id for f in leg.flags],
        "badges": leg_badges(leg, locale),
        "route_name": leg.route_name,
        "trip_id": leg.trip_id,
        "via": [_station_ref(sid, network, locale) for sid in leg.via_ids],
        "possible_changes": [_station_ref(sid, network, locale) for sid in leg.change_ids],
        **_register_facts(leg, network),
    }


def _register_facts(leg: Leg, network: Network) -> dict:
    """Whether a bus leg rides an unverified 2019 register route, and the register's own
    risk notes for its routes."""
    links = [network.links[i] for i in leg.link_ids if i in network.links]
    return {
        "unverified": any(link.unverified for link in links),
        "register_risk_notes": list(
            dict.fromkeys(note for link in links for note in link.risk_context)
        ),
    }


def _station_ref(station_id: str, network: Network, locale: str) -> dict:
    station = network.find_station(station_id)
    if station is None:
        return {"id": station_id, "name": station_id, "historic_names": []}
    return {
        "id": station_id,
        "name": station.display_name(locale),
        "historic_names": list(station.historic_names),
    }


def _option_json(option: Option, network: Network, locale: str) -> dict:
    return {
        "kind": option.kind.value,
        "also_kinds": [k.value for k in option.also_kinds],
        "verdict": option.verdict.value,
        "explanation": option.explanation(locale),
        "explanation_uk": option.explanation_uk,
        "explanation_en": option.explanation_en,
        "time": {
            "minutes": round(option.travel_minutes, 1),
            "estimated": any(leg.is_estimated for leg in option.legs),
        },
        "distance_km": round(option.distance_km, 1),
        "transfers": option.transfers,
        "risk_level": option.risk_level.value if option.risk_level else None,
        "legs": [_leg_json(leg, network, locale) for leg in option.legs],
    }


def _notice_json(notice: Notice, locale: str) -> dict:
    return {
        "code": notice.code.value,
        "message": notice.message(locale),
        "message_uk": notice.message_uk,
        "message_en": notice.message_en,
        "details": _plain(notice.details),
    }


def _plain(value):
    """Details may hold tuples, enums or datetimes; make them JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(getattr(value, "value", value))


def freshness_to_json(freshness: DataFreshness) -> dict:
    """How old the data behind an answer is."""
    return {
        "flags_updated_at": _iso(freshness.flags_updated_at),
        "flags_stale": freshness.flags_stale,
        "flags_available": freshness.flags_available,
        "flags_origin": freshness.flags_origin,
        "network_version": freshness.network_version,
        "network_built_at": freshness.network_built_at,
        "timetable_feeds": list(freshness.timetable_feeds),
        "alerts_state": freshness.alerts_state,
        "alerts_updated_at": _iso(freshness.alerts_updated_at),
    }


#: Where an answer's time stamps sit in :func:`advice_to_json`: the fields that differ
#: between a cached answer and a fresh one (the answer cache re-stamps them, see
#: :mod:`advisor.services.answer_cache`); everything else is the same byte for byte.
ADVICE_TIME_FIELDS = (
    ("query", "depart_at"),
    ("freshness", "flags_updated_at"),
    ("freshness", "alerts_updated_at"),
)


def advice_times(advice: Advice) -> tuple[str | None, ...]:
    """The values of :data:`ADVICE_TIME_FIELDS` in *advice*, in that order."""
    return (
        _iso(advice.query.depart_at),
        _iso(advice.freshness.flags_updated_at),
        _iso(advice.freshness.alerts_updated_at),
    )


def advice_template(advice: Advice, network: Network, locale: str, render_json, level: int = 6):
    """:func:`advice_to_json` of *advice* rendered once by *render_json* (dict → bytes, e.g.
    ``lambda d: app.json.response(d).get_data()``), with :data:`ADVICE_TIME_FIELDS` left as
    slots: a :class:`~advisor.compression.SplicedBody` that
    ``identity([dumps(v) for v in advice_times(a)])`` fills for any answer *a* equal to
    *advice* but for those fields."""
    from advisor.compression import SplicedBody

    marks = [f"advisor-slot-{uuid.uuid4().hex}-{n}" for n in range(len(ADVICE_TIME_FIELDS))]
    document = advice_to_json(advice, network, locale)
    for (part, name), mark in zip(ADVICE_TIME_FIELDS, marks, strict=True):
        document[part][name] = mark
    text = render_json(document)
    pattern = re.compile(b"|".join(re.escape(b'"%s"' % m.encode()) for m in marks))
    slots = [marks.index(found.group()[1:-1].decode()) for found in pattern.finditer(text)]
    if sorted(slots) != list(range(len(marks))):
        raise ValueError("the answer's time fields are not where ADVICE_TIME_FIELDS says")
    return SplicedBody(pattern.split(text), slots, level)


def advice_to_json(advice: Advice, network: Network, locale: str = "uk") -> dict:
    """The engine's whole answer as the API returns it (``GET /routes``)."""
    query = advice.query
    flags: dict[str, Flag] = {}
    for option in advice.options:
        for flag in option.flags:
            flags.setdefault(flag.id, flag)
    return {
        "query": {
            "from": station_to_json(network.get_station(query.origin), locale),
            "to": station_to_json(network.get_station(query.destination), locale),
            "depart_at": _iso(query.depart_at),
            "tolerance": query.tolerance.value,
            "modes": sorted(m.value for m in query.modes),
        },
        "locale": locale,
        "options": [_option_json(o, network, locale) for o in advice.options],
        "flags": [flag_public_json(f, locale) for f in flags.values()],
        "notices": [_notice_json(n, locale) for n in advice.notices],
        "freshness": freshness_to_json(advice.freshness),
        "provenance": PROVENANCE,
    }


# --- operators: flags with status and version, audit entries, impact previews ----------


def flag_json(flag: Flag) -> dict:
    """A flag as operators and viewers see it: every field, with status and version."""
    data = flag_to_dict(flag)
    for name in ("active_from", "active_until", "published_at", "updated_at"):
        data.setdefault(name, None)
    return data


def active_flags_json(active, shape=flag_public_json) -> dict:
    """The flags in force at a moment (each in *shape*) and how fresh the flag data is."""
    return {
        "at": _iso(active.at),
        "flags": [shape(flag) for flag in active.flags],
        "count": len(active.flags),
        "freshness": {
            "flags_updated_at": _iso(active.updated_at),
            "flags_available": active.available,
            "flags_stale": active.stale,
            "flags_origin": active.origin,
        },
    }


def audit_json(entry) -> dict:
    """One audit entry."""
    return {
        "id": entry.id,
        "at": _iso(entry.at),
        "actor": entry.actor,
        "address": entry.address,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
        "note": entry.note,
    }


def impact_json(impact, network) -> dict:
    """An impact preview: what the flag covers and, per important pair, the rail option
    before and after and what passengers would be advised instead."""
    return {
        "flag": flag_json(impact.flag),
        "at": _iso(impact.at),
        "covers": {
            "line_ids": list(impact.line_ids),
            "link_ids": list(impact.link_ids),
            "station_ids": list(impact.station_ids),
        },
        "pairs": [_pair_json(pair, network) for pair in impact.pairs],
        "pairs_losing_rail": [[p.origin, p.destination] for p in impact.pairs_losing_rail],
    }


def _pair_json(pair, network) -> dict:
    return {
        "from": _impact_station(pair.origin, network),
        "to": _impact_station(pair.destination, network),
        "checked": pair.checked,
        "note": pair.note,
        "loses_best_rail": pair.loses_best_rail,
        "rail_before": _option_summary(pair.rail_before),
        "rail_after": _option_summary(pair.rail_after),
        "recommended_before": _option_summary(pair.recommended_before),
        "recommended_after": _option_summary(pair.recommended_after),
        "changes": pair.changes,
        "options_after": [_option_summary(option) for option in pair.options_after],
    }


def _impact_station(station_id: str, network) -> dict:
    station = network.find_station(station_id)
    if station is None:
        return {"id": station_id, "name_uk": None, "name_en": None}
    return {
        "id": station_id,
        "name_uk": station.display_name("uk"),
        "name_en": station.display_name("en"),
    }


def _option_summary(option) -> dict | None:
    """Enough of an option to judge a flag's effect; minutes are estimates unless timetabled."""
    if option is None:
        return None
    return {
        "kind": option.kind.value,
        "verdict": option.verdict.value,
        "modes": sorted(mode.value for mode in option.modes),
        "travel_minutes": round(option.travel_minutes),
        "travel_minutes_estimated": any(leg.is_estimated for leg in option.legs),
        "transfers": option.transfers,
        "via": [leg.to_id for leg in option.legs[:-1]],
        "flag_ids": [flag.id for flag in option.flags],
        "explanation_uk": option.explanation("uk"),
        "explanation_en": option.explanation("en"),
    }
