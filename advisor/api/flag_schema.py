"""JSON shapes of flags for operators, audit entries and impact previews."""

from __future__ import annotations

from datetime import datetime

from advisor.risk.parse import flag_to_dict

__all__ = ["audit_json", "flag_json", "impact_json"]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def flag_json(flag) -> dict:
    """A flag as operators and viewers see it: every field, with status and version."""
    data = flag_to_dict(flag)
    for name in ("active_from", "active_until", "published_at", "updated_at"):
        data.setdefault(name, None)
    return data


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
        "from": _station_ref(pair.origin, network),
        "to": _station_ref(pair.destination, network),
        "checked": pair.checked,
        "note": pair.note,
        "loses_best_rail": pair.loses_best_rail,
        "rail_before": _option_summary(pair.rail_before),
        "rail_after": _option_summary(pair.rail_after),
        "recommended_before": _option_summary(pair.recommended_before),
        "recommended_after": _option_summary(pair.recommended_after),
    }


def _station_ref(station_id: str, network) -> dict:
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
