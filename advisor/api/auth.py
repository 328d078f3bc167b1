"""Bearer-token authentication for the JSON API.

``Authorization: Bearer <token>``; the token is checked against the store on every request,
so a revoked token stops working at once. Bad tokens are counted per client address and
rate-limited (429) by the same limiter the operator console uses for sign-ins.
"""

from __future__ import annotations

import functools

from flask import current_app, g, request

from advisor.api import bp, problems
from advisor.errors import AuthenticationFailed, RateLimited
from advisor.services import require_role

__all__ = ["client_address", "current_principal", "operations", "requires"]

_SCHEME = "bearer"


def operations():
    """The flag/account use cases registered by ``create_app``."""
    return current_app.extensions["advisor.operations"]


def client_address() -> str:
    """The caller's address (``remote_addr``; a trusted proxy must be configured upstream)."""
    return request.remote_addr or "unknown"


def current_principal():
    """Who sent this request: a :class:`~advisor.services.Principal`, or None when anonymous.

    Raises :class:`AuthenticationFailed` for a malformed header or a bad token, and
    :class:`RateLimited` when this address sent too many bad tokens.
    """
    if "principal" in g:
        return g.principal
    header = request.headers.get("Authorization", "")
    if not header:
        g.principal = None
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != _SCHEME or not secret.strip():
        raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
    g.principal = operations().authenticate_token(secret.strip(), client_address())
    return g.principal


def requires(role):
    """View decorator: the caller must hold *role* or higher; passes ``principal=``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = require_role(current_principal(), role)
            return view(*args, principal=principal, **kwargs)

        return wrapper

    return decorator


@bp.errorhandler(AuthenticationFailed)
def _unauthenticated(err):
    resp = problems.from_advisor_error(err)
    resp.headers["WWW-Authenticate"] = 'Bearer realm="advisor"'
    return resp


@bp.errorhandler(RateLimited)
def _rate_limited(err):
    resp = problems.from_advisor_error(err)
    resp.headers["Retry-After"] = str(err.extra.get("retry_after_seconds", 60))
    return resp
