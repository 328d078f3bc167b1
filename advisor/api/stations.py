"""``GET /api/v1/stations?q=``: station search for forms and partner apps."""

from __future__ import annotations

from flask import current_app, jsonify, request

from advisor.api import bp
from advisor.api.schema import station_matches_to_json
from advisor.errors import InvalidQuery
from advisor.locale import current_locale

__all__ = ["search_stations"]

MAX_LIMIT = 50
# The network changes only with a new deployment; an hour of caching is safe.
CACHE_SECONDS = 3600


def int_param(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]; :class:`InvalidQuery` naming it."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidQuery(
            f"{name} must be a whole number, not {raw!r}", field=name, value=raw
        ) from None
    if not low <= value <= high:
        raise InvalidQuery(
            f"{name} must be between {low} and {high}, not {value}", field=name, value=raw
        )
    return value


@bp.get("/stations")
def search_stations():
    """Stations matching ``q`` (Ukrainian, Latin, English, Russian, historic names), best first."""
    text = request.args.get("q", "").strip()
    if not text:
        raise InvalidQuery("q is required: the text to search for", field="q", value=text)
    limit = int_param("limit", 10, 1, MAX_LIMIT)
    services = current_app.extensions["advisor.services"]
    try:
        matches = services.station_index.search(text, limit=limit)
    except InvalidQuery as err:
        raise InvalidQuery(f"q: {err.message}", field="q", value=text) from err
    response = jsonify(station_matches_to_json(text, matches, current_locale()))
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.headers["Vary"] = "Accept-Language"
    return response
