"""The operator console under ``/operator``: sign in, flag, preview, publish, withdraw, audit.

Plain HTML forms (no JavaScript needed), server-side sessions in the flag store, a CSRF
token on every form, and the passenger pages' layout. Views are thin: they parse a form,
call a use case of :mod:`advisor.services` and render.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

__all__ = ["bp", "register"]

TRANSLATIONS = Path(__file__).resolve().parent / "translations"

bp = Blueprint(
    "operator",
    __name__,
    url_prefix="/operator",
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


def register(app) -> None:
    """Install the console blueprint and its server-side sessions on *app*."""
    from advisor.services import ConsoleSessions
    from advisor.web.operator import (  # noqa: F401  (attach views to bp)
        admin,
        auth,
        partner,
        views,
    )
    from advisor.web.operator.sessions import StoreSessionInterface

    settings = app.extensions["advisor.settings"]
    sessions = ConsoleSessions(app.extensions["advisor.operations"])
    app.extensions["advisor.console_sessions"] = sessions
    app.session_interface = StoreSessionInterface(sessions)
    app.config.update(
        SESSION_COOKIE_NAME="advisor_console",
        # The cookie goes only to the console, never with passenger or API requests.
        SESSION_COOKIE_PATH="/operator",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure outside tests: the console must be served over HTTPS.
        SESSION_COOKIE_SECURE=not settings.testing,
    )
    # The console keeps its own catalogue; Flask-Babel merges every listed directory.
    app.extensions["babel"].translation_directories.append(str(TRANSLATIONS))
    app.register_blueprint(bp)


@bp.before_request
def _store_reachable() -> None:
    """Every console page needs the store (sessions, flags): while it is unreachable the
    console answers the readable 503 page of :class:`StoreUnavailable`, never a 500."""
    from flask import current_app, request

    if request.endpoint != "operator.static":
        current_app.extensions["advisor.operations"].store.ping()
