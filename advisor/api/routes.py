"""``GET /api/v1/routes``: the engine's full answer for one journey."""

from __future__ import annotations

import hashlib

from flask import current_app, request

from advisor.api import bp
from advisor.api.schema import advice_template, advice_times
from advisor.compression import spliced_response
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
    locale = current_locale()
    # The JSON body is rendered once per answer and language and kept with the answer in
    # the answer cache; a hit only fills in its time stamps (and splices them into the
    # gzipped body kept beside it).
    advice, body = services.advise_rendered(query, ("json", locale), _renderer(locale))
    json = current_app.json
    times = [json.dumps(v).encode() for v in advice_times(advice)]
    response = spliced_response(body, times, json.mimetype)
    # Advice must reflect a flag the moment it is published: caches keep a copy but revalidate
    # it on every use (the ETag makes that a 304 when nothing changed). The ETag is weak and
    # leaves out when the data was last re-read (that changes on every refresh, the advice
    # does not): an unchanged answer for the same departure revalidates as 304.
    same_answer = hashlib.blake2b(digest_size=16)
    for piece in (*body.parts, times[0], response.headers.get("Content-Encoding", "").encode()):
        same_answer.update(piece + b"\0")
    response.set_etag(same_answer.hexdigest(), weak=True)
    response.headers["Cache-Control"] = "public, no-cache"
    response.headers["Vary"] = "Accept-Language"
    # Whether this worker answered from its answer cache (the load test counts the share).
    response.headers["X-Answer-Cache"] = "hit" if services.answer_cache.last_was_hit() else "miss"
    return response


def _renderer(locale: str):
    """Renders an answer's JSON body, as ``jsonify`` would, with its time stamps as slots."""
    network = current_app.extensions["advisor.services"].network

    def render(advice):
        json_body = lambda document: current_app.json.response(document).get_data()  # noqa: E731
        level = current_app.config["COMPRESS_LEVEL"]
        return advice_template(advice, network, locale, json_body, level)

    return render
