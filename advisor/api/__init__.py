"""The JSON API under ``/api/v1``: one blueprint, one error shape (RFC 9457).

Endpoint modules (``stations``, ``routes``, ``flags`` …) attach their views to :data:`bp`;
JSON shapes live in :mod:`advisor.api.schema` only.
"""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from advisor import problems
from advisor.errors import AdvisorError

__all__ = ["bp", "register"]

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(AdvisorError)
def _advisor_error(err):
    return problems.from_advisor_error(err)


@bp.errorhandler(HTTPException)
def _http_error(err):
    return problems.from_http_exception(err)


def register(app) -> None:
    """Import the endpoint modules (they attach to :data:`bp`) and register the blueprint."""
    # Endpoint modules are imported here, inside the factory, so nothing configures at import.
    from advisor.api import endpoints  # noqa: F401

    app.register_blueprint(bp)
