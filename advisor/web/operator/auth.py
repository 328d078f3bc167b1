"""Signing in and out, who is asking, and the CSRF check on every console form.

CSRF uses the synchronizer-token pattern: a random secret kept in the server-side session
and echoed by every form, compared in constant time. (A signed token such as Flask-WTF's
would need the same ``SECRET_KEY`` in every gunicorn worker; the session row is already
shared by all of them, so the console works without a configured secret.)
"""

from __future__ import annotations

import functools
import hmac
import secrets
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext

from advisor.errors import AuthenticationFailed, PermissionDenied, RateLimited
from advisor.locale import current_locale
from advisor.services import Role, require_role
from advisor.web.operator import bp
from advisor.web.operator.words import Words

__all__ = ["console_url", "csrf_token", "operations", "requires", "services"]

CSRF_FIELD = "csrf_token"


def operations():
    """The flag/account use cases."""
    return current_app.extensions["advisor.operations"]


def services():
    """The routing use cases (network, station search)."""
    return current_app.extensions["advisor.services"]


def console_url(endpoint: str, **values) -> str:
    """A console URL that keeps the page language."""
    return url_for(endpoint, lang=current_locale(), **values)


ANON_CSRF_COOKIE = "advisor_console_csrf"


def csrf_token() -> str:
    """This session's CSRF secret (created on first use).

    Before sign-in there is no session row (an anonymous visit writes nothing to the
    store): the sign-in form's token is then a random cookie echoed by the form (the
    double-submit pattern), set by :func:`_no_store`.
    """
    if not session.get("user"):
        if "anon_csrf" not in g:
            g.anon_csrf = _anonymous_cookie() or secrets.token_urlsafe(32)
        return g.anon_csrf
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _anonymous_cookie() -> str:
    value = request.cookies.get(ANON_CSRF_COOKIE, "")
    return value if 20 <= len(value) <= 100 else ""


@bp.before_request
def _load_principal():
    g.principal = None
    if request.method == "POST":
        _check_csrf()
    username = session.get("user")
    if username:
        g.principal = _sessions().principal(username, _address())
        if g.principal is None:  # account disabled or removed since sign-in
            session.clear()


def _check_csrf() -> None:
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf", "") if session.get("user") else _anonymous_cookie()
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        # The form was forged, or its session expired: refuse before any view runs.
        page = render_template("operator/csrf.html")
        abort(make_response(page, 400))


@bp.after_request
def _no_store(response):
    # Console pages show drafts and secrets: never cached, never framed.
    response.headers["Cache-Control"] = "no-store"
    if g.get("anon_csrf") and g.anon_csrf != _anonymous_cookie():
        response.set_cookie(
            ANON_CSRF_COOKIE, g.anon_csrf, path=bp.url_prefix or "/operator", httponly=True,
            secure=not current_app.config["TESTING"], samesite="Strict",
        )
    return response


@bp.context_processor
def _console_context() -> dict:
    return {
        "csrf_token": csrf_token,
        "principal": g.get("principal"),
        "ourl": console_url,
        "Role": Role,
        "words": Words(services().network, current_locale()),
    }


def _sessions():
    return current_app.extensions["advisor.console_sessions"]


def _address() -> str:
    return request.remote_addr or "unknown"


def requires(role: Role):
    """View decorator: sign-in needed (else redirect there), and *role* or higher (else 403).

    Passes the principal as ``principal=``.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if g.principal is None:
                return redirect(console_url("operator.signin", next=request.full_path))
            return view(*args, principal=require_role(g.principal, role), **kwargs)

        return wrapper

    return decorator


@bp.errorhandler(PermissionDenied)
def _forbidden(err):
    page = render_template("operator/forbidden.html", message=err.message)
    return page, 403


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    """The sign-in form; on success a new session id and a redirect to where the user was going."""
    username = request.form.get("username", "")[:100]
    target = _safe_next(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("operator/signin.html", username=username, next=target, error="")
    try:
        principal = operations().authenticate(
            username, request.form.get("password", ""), _address()
        )
    except RateLimited as err:
        return _signin_refused(
            username,
            target,
            gettext("Too many failed sign-ins from your address; wait 15 minutes."),
            429,
            {"Retry-After": str(err.extra.get("retry_after_seconds", 900))},
        )
    except AuthenticationFailed:
        return _signin_refused(username, target, gettext("Wrong user name or password."), 401, {})
    session.clear()
    session.rotate()
    session["user"] = principal.name
    flash(gettext("Signed in as %(name)s.", name=principal.name))
    return redirect(target or console_url("operator.flags"))


def _signin_refused(username, target, message, status, headers):
    page = render_template("operator/signin.html", username=username, next=target, error=message)
    return page, status, headers


def _safe_next(value: str) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/operator/"):
        return ""
    return value


@bp.post("/signout")
def signout():
    """End the session (its row is deleted) and go back to the sign-in form."""
    session.clear()
    return redirect(console_url("operator.signin"))
