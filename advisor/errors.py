"""One exception tree for the whole service.

Every error the adapters can show a user derives from :class:`AdvisorError`. Each class
carries an HTTP status and a stable ``code`` so that the API renders RFC 9457 problem
details and the pages render a readable message from the same object. Library errors are
translated at the boundary with ``raise ... from err``.
"""

from __future__ import annotations

__all__ = [
    "AdvisorError",
    "AuthenticationFailed",
    "ConfigError",
    "Conflict",
    "DataError",
    "FeedError",
    "FeedUnavailable",
    "InvalidFlag",
    "InvalidQuery",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "StoreUnavailable",
    "UnknownLine",
    "UnknownStation",
]


class AdvisorError(Exception):
    """Base of every error the service raises on purpose.

    Parameters
    ----------
    message : str
        Human-readable sentence naming the bad value.
    field : str, optional
        The input field the error is about (``"from"``, ``"level"`` …).
    value : object, optional
        The offending value, echoed back to the caller.
    suggestions : list of str, optional
        Close matches a user may have meant.
    """

    status = 400
    code = "advisor-error"
    title = "Request could not be processed"

    def __init__(self, message, *, field=None, value=None, suggestions=None, extra=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.suggestions = list(suggestions or [])
        self.extra = dict(extra or {})

    def to_dict(self):
        """The problem-details members this error adds (RFC 9457 ``extension members``)."""
        body = {"code": self.code}
        if self.field is not None:
            body["field"] = self.field
        if self.value is not None:
            body["value"] = (
                self.value if isinstance(self.value, (int, float, bool)) else str(self.value)
            )
        if self.suggestions:
            body["suggestions"] = self.suggestions
        body.update(self.extra)
        return body


class ConfigError(AdvisorError):
    """A setting is missing or has a value of the wrong kind."""

    status = 500
    code = "config-error"
    title = "Configuration error"


class DataError(AdvisorError):
    """A source file or the shipped dataset is missing, malformed or inconsistent."""

    status = 500
    code = "data-error"
    title = "Data error"


class InvalidQuery(AdvisorError):
    """A passenger or API query has a value that cannot be used (time, tolerance, mode …)."""

    status = 400
    code = "invalid-query"
    title = "Invalid query"


class UnknownStation(InvalidQuery):
    """No station matches an id or search text."""

    status = 404
    code = "unknown-station"
    title = "Unknown station"


class UnknownLine(InvalidQuery):
    """No named rail line matches an id."""

    status = 404
    code = "unknown-line"
    title = "Unknown line"


class InvalidFlag(AdvisorError):
    """A risk flag is malformed: unknown level, window ending before it starts, no reason …"""

    status = 422
    code = "invalid-flag"
    title = "Invalid flag"


class NotFound(AdvisorError):
    """A resource (flag, account, token) does not exist."""

    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(AdvisorError):
    """A write against a stale version, or a state change the lifecycle forbids."""

    status = 409
    code = "conflict"
    title = "Conflict"


class AuthenticationFailed(AdvisorError):
    """No or bad credentials."""

    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class PermissionDenied(AdvisorError):
    """Credentials are good but the role does not allow the action."""

    status = 403
    code = "forbidden"
    title = "Forbidden"


class RateLimited(AdvisorError):
    """Too many requests or failed sign-ins from one client."""

    status = 429
    code = "rate-limited"
    title = "Too many requests"


class StoreUnavailable(AdvisorError):
    """The flag store cannot be reached."""

    status = 503
    code = "store-unavailable"
    title = "Flag store unavailable"


class FeedError(AdvisorError):
    """A GTFS or GTFS-realtime feed is refused (missing file or column)."""

    status = 422
    code = "feed-error"
    title = "Feed refused"


class FeedUnavailable(FeedError):
    """A remote feed could not be fetched."""

    status = 502
    code = "feed-unavailable"
    title = "Feed unavailable"
