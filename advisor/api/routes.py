"""``GET /api/v1/routes``: the engine's full answer for one journey."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, jsonify, request

from advisor.api import bp
from advisor.api.schema import advice_to_json
from advisor.errors import InvalidQuery, UnknownStation
from advisor.network.geo import KYIV_TZ as KYIV
from advisor.services import advise_timetable
from advisor.web.forms import (
    MAX_DAYS_FROM_TODAY,
    MAX_TEXT,
    MODES,
    TOLERANCES,
    same_place,
    within_planning_window,
)
from advisor.web.i18n import current_locale

__all__ = ["plan_route"]

# Flags change at any moment; a minute of caching spares repeated identical questions.


def _services():
    return current_app.extensions["advisor.services"]


def _station(name: str):
    text = request.args.get(name, "").strip()
    if not text:
        raise InvalidQuery(f"{name} is required: a station name or id", field=name, value=text)
    if len(text) > MAX_TEXT:
        raise InvalidQuery(
            f"{name} is longer than {MAX_TEXT} characters", field=name, value=text[:MAX_TEXT]
        )
    index = _services().station_index
    try:
        return index.resolve(text)
    except InvalidQuery as err:
        if not isinstance(err, UnknownStation):
            raise InvalidQuery(f"{name}: {err.message}", field=name, value=text) from err
        suggestions = [m.station.id for m in index.suggest(text, limit=5)]
        raise UnknownStation(
            f"{name}: no station matches {text!r}", field=name, value=text, suggestions=suggestions
        ) from err


def _depart_at() -> datetime:
    raw = request.args.get("at", "").strip()
    now = datetime.now(UTC)
    if not raw:
        return now
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidQuery(
            f"at must be an ISO 8601 date-time such as 2026-03-12T14:30+02:00, not {raw!r}",
            field="at",
            value=raw,
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=KYIV)  # a time without offset is Kyiv local time
    if not within_planning_window(when, now):
        raise InvalidQuery(
            f"at must lie within {MAX_DAYS_FROM_TODAY} days of today, not {raw!r}",
            field="at",
            value=raw,
        )
    return when


def _tolerance() -> str:
    settings = current_app.extensions["advisor.settings"]
    value = request.args.get("tolerance", "").strip() or settings.default_tolerance
    if value not in TOLERANCES:
        raise InvalidQuery(
            f"tolerance must be one of {', '.join(TOLERANCES)}, not {value!r}",
            field="tolerance",
            value=value,
        )
    return value


def _modes() -> list[str]:
    raw = ",".join(request.args.getlist("modes")) or ",".join(MODES)
    modes = [m.strip() for m in raw.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise InvalidQuery(
            f"modes must be a comma-separated list of {', '.join(MODES)}, not {raw!r}",
            field="modes",
            value=raw,
        )
    return sorted(set(modes))


@bp.get("/routes")
def plan_route():
    """Options (recommended first), legs, risk, notices and data freshness for one journey."""
    origin, destination = _station("from"), _station("to")
    if same_place(origin, destination):
        raise InvalidQuery(
            f"to is the same place as from ({destination.id})", field="to", value=request.args["to"]
        )
    services = _services()
    # Timetabled trips where a feed covers the journey, else the estimated engine (it says so).
    advice = advise_timetable(
        services, origin.id, destination.id, at=_depart_at(), tolerance=_tolerance(), modes=_modes()
    )
    response = jsonify(advice_to_json(advice, services.network, current_locale()))
    # Advice must reflect a flag the moment it is published: caches keep a copy but revalidate
    # it on every use (the ETag makes that a 304 when nothing changed).
    response.headers["Cache-Control"] = "public, no-cache"
    response.headers["Vary"] = "Accept-Language"
    return response
