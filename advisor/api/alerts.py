"""``GET /api/v1/alerts.pb`` and ``/api/v1/alerts.json``: the flags as GTFS-realtime alerts.

Both serve the same :class:`FeedMessage`, built from the very flag snapshot routing uses
(see :mod:`advisor.feeds.alerts`): Protocol Buffers for feed consumers, and its JSON
mapping (field names as in the spec, enums by name) for people and browsers. Public and
CORS-enabled; clients revalidate every time (``no-cache``; the serving layer adds the
ETag and answers 304 when nothing changed).
"""

from __future__ import annotations

from flask import Response, current_app
from google.protobuf import json_format

from advisor.api import bp
from advisor.feeds.alerts import alerts_feed
from advisor.locale import current_locale

__all__ = ["alerts_json", "alerts_protobuf"]

PROTOBUF = "application/x-protobuf"


@bp.get("/alerts.pb")
def alerts_protobuf():
    """The active and upcoming flags as a GTFS-realtime FeedMessage (binary)."""
    return _response(_feed().SerializeToString(), PROTOBUF)


@bp.get("/alerts.json")
def alerts_json():
    """The same FeedMessage in the Protocol Buffers JSON mapping."""
    text = json_format.MessageToJson(
        _feed(), preserving_proto_field_name=True, ensure_ascii=False, indent=1
    )
    return _response(text, "application/json")


def _feed():
    services = current_app.extensions["advisor.services"]
    state = services.risk_state
    locale = "en" if current_locale() == "en" else "uk"
    return alerts_feed(
        state.flags,
        services.network,
        services.clock(),
        updated_at=state.updated_at,
        coverage=state.index.coverage,
        locale=locale,
    )


def _response(body, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    # A flag may be published or withdrawn at any moment: cache, but revalidate each time.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Accept-Language"
    return response
