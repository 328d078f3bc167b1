"""``GET /api/v1/routes``: the engine's full answer for one journey."""

from __future__ import annotations

from flask import current_app, jsonify, request

from advisor.api import bp
from advisor.api.schema import advice_to_json
from advisor.locale import current_locale

__all__ = ["plan_route"]


@bp.get("/routes")
def plan_route():
    """Options (recommended first), legs, risk, notices and data freshness for one journey."""
    services = current_app.extensions["advisor.services"]
    args = request.args
    query = services.query(
        args.get("from", ""),
        args.get("to", ""),
        at=args.get("at", "").strip() or None,
        tolerance=args.get("tolerance", "").strip() or None,
        modes=args.getlist("modes") or None,
    )
    advice = services.advise(query)
    response = jsonify(advice_to_json(advice, services.network, current_locale()))
    # Advice must reflect a flag the moment it is published: caches keep a copy but revalidate
    # it on every use (the ETag makes that a 304 when nothing changed).
    response.headers["Cache-Control"] = "public, no-cache"
    response.headers["Vary"] = "Accept-Language"
    # Whether this worker answered from its answer cache (the load test counts the share).
    response.headers["X-Answer-Cache"] = "hit" if services.answer_cache.last_was_hit() else "miss"
    return response
