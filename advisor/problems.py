"""RFC 9457 problem details: the one error shape of the JSON API."""

from __future__ import annotations

import logging

from flask import Response, json, request
from werkzeug.exceptions import HTTPException

from advisor.errors import AdvisorError
from advisor.text import utf8_safe

__all__ = ["problem_response", "wants_json"]

log = logging.getLogger(__name__)
PROBLEM_TYPE_BASE = "https://advisor.example/problems/"


def problem_response(status: int, title: str, detail: str, code: str, **extra) -> Response:
    """A ``application/problem+json`` response."""
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path if request else None,
        **extra,
    }
    body.setdefault("code", code)
    # utf8_safe: a detail may echo a bad value (a lone surrogate); the answer still goes out.
    resp = Response(
        utf8_safe(json.dumps(body, ensure_ascii=False)), status=status,
        mimetype="application/problem+json",
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


def from_advisor_error(err: AdvisorError) -> Response:
    """Problem details for one of our own errors."""
    members = err.to_dict()
    code = members.pop("code", err.code)  # to_dict() repeats the code; pass it once
    return problem_response(err.status, err.title, err.message, code, **members)


def from_http_exception(err: HTTPException) -> Response:
    """Problem details for a werkzeug HTTP error (404 route, 405 method, 413 …)."""
    code = (err.name or "error").lower().replace(" ", "-")
    resp = problem_response(err.code or 500, err.name, err.description or err.name, code)
    if err.code == 405 and err.valid_methods:
        resp.headers["Allow"] = ", ".join(err.valid_methods)
    return resp


def from_unexpected(err: Exception) -> Response:
    """Problem details for a bug: logged with its trace, never shown to the client."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response(
        500, "Internal error", "The service failed to answer; the error was logged.", "internal"
    )


def wants_json() -> bool:
    """True for API paths and clients that prefer JSON over HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"
