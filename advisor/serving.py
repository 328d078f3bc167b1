"""What every response needs in production: security headers, CORS and cache headers for
the API, per-client rate limiting, structured request logs, error pages without stack traces,
and the ``/healthz`` / ``/readyz`` probes.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable

from flask import Blueprint, Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from advisor import problems
from advisor.errors import AdvisorError
from advisor.text import utf8_safe

__all__ = ["health_bp", "init_serving", "readiness_problems"]

log = logging.getLogger(__name__)
access_log = logging.getLogger("advisor.access")

# No request to another host, ever: pages load only their own CSS and JS, the map is inline
# SVG. ``style-src 'self'`` keeps inline style attributes out, so SVG uses presentation
# attributes instead.
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

health_bp = Blueprint("health", __name__)


def init_serving(app: Flask, rate_limited: Iterable[Blueprint] = ()) -> None:
    """Install headers, logging, error pages, probes and the rate limit of the
    *rate_limited* blueprints on *app*."""
    app.before_request(_start_request)
    app.after_request(_finish_response)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    _init_rate_limit(app, rate_limited)
    app.register_blueprint(health_bp)


def _init_rate_limit(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    settings = app.extensions["advisor.settings"]
    per_minute = settings.rate_limit_per_minute
    limiter = Limiter(
        get_remote_address,
        app=app,
        enabled=per_minute > 0,
        headers_enabled=True,
        default_limits=[],
        **_limit_storage(app, settings, per_minute > 0),
    )
    for blueprint in blueprints if per_minute > 0 else ():
        # Pages as well as the API: the same search and engine sit behind both. Static files
        # (a page's CSS and JS) are not counted.
        limiter.limit(f"{per_minute}/minute", exempt_when=_is_static)(blueprint)
    app.extensions["advisor.limiter"] = limiter


def _is_static() -> bool:
    return (request.endpoint or "").endswith("static")


def _limit_storage(app: Flask, settings, enabled: bool) -> dict:
    """Where the limiter counts: Redis when ``redis_url`` is set, shared by every worker and
    instance (in-memory while Redis is down); else each process on its own, so a client gets
    up to workers × instances × the limit — said in the log."""
    if settings.redis_url:
        from advisor.store.shared import LIMITS_SCHEME  # registers the one-trip storage

        return {"storage_uri": LIMITS_SCHEME + settings.redis_url,
                "in_memory_fallback_enabled": True,
                "storage_options": {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}}
    if enabled and "RATELIMIT_STORAGE_URI" not in app.config:
        log.warning("rate limits are counted per worker process; set [web] redis_url "
                    "(ADVISOR_REDIS_URL) to share them across workers and instances")
    return {"storage_uri": app.config.get("RATELIMIT_STORAGE_URI", "memory://")}


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex[:16]


def _finish_response(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers["X-Request-Id"] = g.get("request_id", "")
    if request.path.startswith("/api/"):
        _api_headers(response)
    elif response.mimetype == "text/html":
        # Advice changes the moment a flag is published: a browser may keep a copy for a weak
        # connection, but must revalidate it every time (a 304 costs a few bytes).
        headers.setdefault(
            "Cache-Control", "no-store" if response.status_code >= 400 else "private, no-cache"
        )
        headers.add("Vary", "Accept-Language")
        _conditional(response)
    _log_request(response)
    return response


def _conditional(response) -> None:
    """Answer a revalidation with 304 when the body has not changed (ETag of the body)."""
    cacheable = response.status_code == 200 and request.method in ("GET", "HEAD")
    if cacheable and not response.direct_passthrough and "no-store" not in (
        response.headers.get("Cache-Control") or ""
    ):
        response.add_etag()
        response.make_conditional(request)


def _api_headers(response) -> None:
    """CORS for reads (the API is public and read-only for anonymous callers)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = (
            "X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining"
        )
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Accept-Language, Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    if response.status_code >= 400:
        response.headers["Cache-Control"] = "no-store"
    else:
        _conditional(response)


def _log_request(response) -> None:
    started = g.get("request_started")
    elapsed_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    record = {
        "request_id": g.get("request_id", ""),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round(elapsed_ms, 2),
        "bytes": response.calculate_content_length(),
        "client": request.remote_addr,
    }
    access_log.info(json.dumps(record, ensure_ascii=False))


def _wants_html() -> bool:
    return not problems.wants_json()


def _http_error(err: HTTPException):
    if not _wants_html():
        return problems.from_http_exception(err)
    # Werkzeug's titles and descriptions are English; show ours in the page language.
    known = _ERROR_TITLES.get(err.code or 500)
    if known:
        return _error_page(err.code or 500, str(known), "")
    return _error_page(err.code or 500, err.name, err.description or "")


def _unexpected_error(err: Exception):
    if isinstance(err, AdvisorError):
        if not _wants_html():
            return problems.from_advisor_error(err)
        return _error_page(err.status, err.title, err.message)
    if not _wants_html():
        return problems.from_unexpected(err)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _error_page(500, str(_ERROR_TITLES[500]), "")


_ERROR_TITLES = {
    400: _l("The request could not be understood"),
    404: _l("Page not found"),
    405: _l("This method is not allowed here"),
    429: _l("Too many requests; please wait a minute"),
    500: _l("Internal error"),
    503: _l("The service is not available right now"),
}


def _error_page(status: int, title: str, detail: str):
    body = render_template("error.html", status=status, title=title, detail=detail)
    return utf8_safe(body), status, {"Cache-Control": "no-store"}


@health_bp.get("/healthz")
def healthz():
    """Alive: the process answers."""
    return {"status": "ok"}, 200, {"Cache-Control": "no-store"}


@health_bp.get("/readyz")
def readyz():
    """Ready: the network is loaded, the flag store answers and the flag data is fresh."""
    reasons = readiness_problems()
    body = {"status": "ready" if not reasons else "not-ready", "problems": reasons}
    return body, (200 if not reasons else 503), {"Cache-Control": "no-store"}


def readiness_problems() -> list[str]:
    """Reasons the service should not receive traffic yet (empty when ready)."""
    services = current_app.extensions.get("advisor.services")
    if services is None:
        return ["services are not configured"]
    try:
        services.network  # noqa: B018 - loading the network is the check
    except AdvisorError as err:
        return [f"network not loaded: {err.message}"]  # flags cannot be resolved without it
    reasons = []
    state = services.refresh_flags()  # an honest probe reads the flag source now
    if not state.available:
        reasons.append(_unavailable_reason(state))
    elif state.stale:
        reasons.append(f"flag data is stale (last update {state.updated_at})")
    return reasons


def _unavailable_reason(state) -> str:
    if state.origin == "baseline":
        return "flag store unreachable; no saved flags, serving only the baseline flags"
    if state.updated_at is None:
        return "flag store unreachable; no flag data at all"
    where = "the flag snapshot on disk" if state.origin == "snapshot" else "memory"
    return (
        "flag store unreachable; serving the last known flags from "
        f"{where}, last good update at {state.updated_at.isoformat()}"
    )
