"""``/api/v1/flags`` and ``/api/v1/audit``: read flags publicly, write them with a token.

Views parse, call a use case in :mod:`advisor.services`, and render. Writes carry the
version they edit (JSON ``version`` or ``If-Match: "v<version>"``); a stale one is refused
with the current version in the problem body (409, or 412 for ``If-Match``).
"""

from __future__ import annotations

import json
import re

from flask import Response, request, url_for
from werkzeug.exceptions import (
    BadRequest,
    PreconditionRequired,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

from advisor.api import bp
from advisor.api.auth import current_principal, operations, requires
from advisor.api.schema import (
    active_flags_json,
    audit_json,
    flag_json,
    flag_public_json,
    impact_json,
)
from advisor.errors import Conflict, InvalidFlag, InvalidQuery, UnknownLine, UnknownStation
from advisor.risk.model import utcnow
from advisor.risk.parse import parse_time
from advisor.services import API_FLAG_FIELDS, Role
from advisor.text import utf8_safe

__all__ = ["MAX_BODY_BYTES"]

MAX_BODY_BYTES = 64 * 1024
"""Largest accepted request body; a flag with every reason at its limit is far below it."""
_ETAG_RE = re.compile(r'^\s*(?:W/)?"v(\d{1,9})"\s*$')


@bp.get("/flags")
def list_flags():
    """Published flags in force now (or at ``?at=``); ``?status=`` lists all (viewers)."""
    status = request.args.get("status")
    if status:
        flags = operations().list_flags(current_principal(), status)
        return _json({"flags": [flag_json(f) for f in flags], "count": len(flags)})
    active = operations().list_active_flags(_query_time("at"))
    shape = flag_json if current_principal() else flag_public_json
    return _json(active_flags_json(active, shape))


@bp.get("/flags/<flag_id>")
def get_flag(flag_id):
    """One flag's current version (drafts and withdrawn flags need a viewer token)."""
    principal = current_principal()
    flag = operations().get_flag(flag_id, principal)
    return _flag_response(flag, public=principal is None)


@bp.post("/flags")
@requires(Role.OPERATOR)
def create_flag(principal):
    """Create a flag as a draft (default) or published (``"status": "published"``)."""
    data = _json_body(API_FLAG_FIELDS | {"status"})
    flag = _validated(lambda: operations().create_flag(data, principal))
    resp = _flag_response(flag, status=201)
    resp.headers["Location"] = url_for("api.get_flag", flag_id=flag.id)
    return resp


@bp.route("/flags/<flag_id>", methods=["PATCH", "PUT"])
@requires(Role.OPERATOR)
def update_flag(flag_id, principal):
    """Edit a flag as a new version: PATCH merges fields, PUT replaces them all."""
    data = _json_body(API_FLAG_FIELDS | {"version"})
    version, by_etag = _expected_version(data)
    flag = _versioned(
        by_etag,
        lambda: operations().update_flag(
            flag_id, data, version, principal, replace_all=request.method == "PUT"
        ),
    )
    return _flag_response(flag)


@bp.post("/flags/<flag_id>/<any(publish, withdraw):action>")
@requires(Role.OPERATOR)
def move_flag(flag_id, action, principal):
    """Publish (draft → published) or withdraw (→ withdrawn); routing follows at once."""
    allowed = {"version"} if action == "publish" else {"version", "reason"}
    data = _json_body(allowed, optional=True)
    version, by_etag = _expected_version(data)
    if action == "publish":
        flag = _versioned(by_etag, lambda: operations().publish_flag(flag_id, version, principal))
    else:
        reason = _reason(data.get("reason"))
        flag = _versioned(
            by_etag, lambda: operations().withdraw_flag(flag_id, version, principal, reason)
        )
    return _flag_response(flag)


def _reason(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 500:
        raise InvalidFlag("reason must be text of at most 500 characters", field="reason")
    return value


@bp.get("/flags/<flag_id>/history")
@requires(Role.VIEWER)
def flag_history(flag_id, principal):
    """Every version of a flag, oldest first."""
    versions = operations().flag_history(flag_id, principal)
    return _json({"id": flag_id, "versions": [flag_json(f) for f in versions]})


@bp.post("/flags/preview")
@requires(Role.VIEWER)
def preview_flag(principal):
    """What a flag would cover and change for important city pairs, before publishing."""
    data = _json_body(API_FLAG_FIELDS)
    impact = _validated(lambda: operations().preview_impact(data, principal))
    return _json(impact_json(impact, operations().services.network))


@bp.get("/audit")
@requires(Role.OPERATOR)
def list_audit(principal):
    """Audit entries, newest first; ``?object=``, ``?limit=`` (≤ 1000), ``?before=`` (an id)."""
    entries = operations().list_audit(
        principal,
        object_id=request.args.get("object") or None,
        limit=_query_int("limit", 100),
        before_id=_query_int("before", None, low=1),
    )
    return _json({"entries": [audit_json(e) for e in entries], "count": len(entries)})


# --- parsing and rendering helpers --------------------------------------------------------


def _json_body(allowed, optional: bool = False) -> dict:
    """The request's JSON object: 415 wrong type, 413 too large, 400 malformed, 422 unknown."""
    raw = _read_body()
    if not raw.strip() and optional:
        return {}
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(
            f"send the body as application/json, not {mimetype or 'no content type'}"
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise BadRequest(f"the body is not valid JSON: {err}") from err
    except RecursionError as err:  # e.g. 30,000 nested [ fit in the size limit
        raise BadRequest("the body is nested too deeply to be a flag") from err
    if not isinstance(data, dict):
        raise InvalidFlag(f"the body must be a JSON object, not {type(data).__name__}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidFlag(
            f"unknown field(s): {', '.join(unknown)}",
            field=unknown[0],
            extra={"unknown_fields": unknown},
        )
    return data


def _read_body() -> bytes:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    return raw


def _expected_version(data: dict) -> tuple[int, bool]:
    """The version the caller edits (JSON ``version`` or ``If-Match``), and whether by ETag."""
    header = request.headers.get("If-Match")
    body_version = data.pop("version", None)
    if header is not None:
        match = _ETAG_RE.match(header)
        if not match:
            raise InvalidQuery(
                f'If-Match {header!r} is not a flag ETag like "v3"', field="If-Match", value=header
            )
        version = int(match.group(1))
        if body_version is not None and body_version != version:
            raise InvalidQuery(
                f"version {body_version!r} and If-Match {header} disagree", field="version"
            )
        return version, True
    if body_version is None:
        raise PreconditionRequired(
            'say which version you edit: JSON "version" or an If-Match header ("v<version>")'
        )
    return body_version, False


def _versioned(by_etag: bool, write):
    """Run *write*; a stale version is 412 for If-Match callers (409 otherwise)."""
    try:
        return _validated(write)
    except Conflict as err:
        if by_etag and err.field == "version" and "current_version" in err.extra:
            err.status, err.title = 412, "Precondition failed"
        raise


def _validated(call):
    """Run *call*; an unknown line or station in a flag body is 422 (not 404), with suggestions."""
    try:
        return call()
    except (UnknownLine, UnknownStation) as err:
        err.status = 422  # the request was understood; a value in its body names nothing
        raise


def _query_time(name: str):
    value = request.args.get(name)
    if not value:
        return utcnow()
    try:
        return parse_time(value, name)
    except InvalidFlag as err:
        raise InvalidQuery(err.message, field=name, value=value) from err


_BIGGEST_ID = 2**63 - 1  # a database BIGINT; larger numbers overflow the driver


def _query_int(name: str, default, low: int = -_BIGGEST_ID):
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value[:30])
    except ValueError:
        number = None
    if number is None or len(value) > 30 or not low <= number <= _BIGGEST_ID:
        raise InvalidQuery(
            f"{name} {value[:30]!r} is not a whole number from {low} to {_BIGGEST_ID}",
            field=name, value=value[:30],
        )
    return number


def _flag_response(flag, status: int = 200, public: bool = False) -> Response:
    """A flag with its ETag; anonymous callers get the public shape (no operator names)."""
    resp = _json(flag_public_json(flag) if public else flag_json(flag), status=status)
    resp.headers["ETag"] = f'"v{flag.version}"'
    return resp


def _json(body: dict, status: int = 200) -> Response:
    text = json.dumps(body, ensure_ascii=False)
    resp = Response(utf8_safe(text), status=status, mimetype="application/json")
    # Flags change at any moment and drafts are private: clients revalidate every time.
    resp.headers["Cache-Control"] = "no-cache" if request.method == "GET" else "no-store"
    resp.headers["Vary"] = "Authorization"
    return resp
