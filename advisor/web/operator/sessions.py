"""Flask sessions kept in the flag store (:class:`advisor.services.ConsoleSessions`).

The cookie carries only a random id. A new id is issued at sign-in (no session fixation)
and the row is deleted at sign-out; an expired or unknown id gives a fresh, empty session.
"""

from __future__ import annotations

import logging

from flask import request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from advisor.errors import StoreUnavailable

__all__ = ["ServerSession", "StoreSessionInterface"]

log = logging.getLogger(__name__)


class ServerSession(CallbackDict, SessionMixin):
    """Session data plus its id; ``rotate()`` asks for a new id when it is saved."""

    def __init__(self, initial=None, session_id: str | None = None):
        def on_update(_self):
            _self.modified = True

        super().__init__(initial, on_update)
        self.session_id = session_id
        self.new = session_id is None
        self.modified = False
        self.rotated_from: str | None = None

    def rotate(self) -> None:
        """Issue a new id on save and end the old session (call at sign-in)."""
        if self.session_id and self.rotated_from is None:
            self.rotated_from = self.session_id
        self.session_id = None
        self.modified = True


class StoreSessionInterface(SessionInterface):
    """Open and save :class:`ServerSession` objects through the console session use cases."""

    def __init__(self, sessions):
        self.sessions = sessions

    def open_session(self, app, request) -> ServerSession:
        session_id = request.cookies.get(self.get_cookie_name(app), "")
        try:
            data = self.sessions.load(session_id) if 20 <= len(session_id) <= 100 else None
        except StoreUnavailable as err:
            # No session while the store is down; the console answers 503 (see
            # ``operator.register``) instead of a 500 raised before any view runs.
            log.warning("console session not loaded: %s", err.message)
            data = None
        if data is None:
            return ServerSession()
        return ServerSession(data, session_id)

    def save_session(self, app, session: ServerSession, response) -> None:
        try:
            self._save(app, session, response)
        except StoreUnavailable as err:  # the response (a 503 page) still goes out
            log.warning("console session not saved: %s", err.message)

    def _save(self, app, session: ServerSession, response) -> None:
        name = self.get_cookie_name(app)
        path = self.get_cookie_path(app)
        if session.rotated_from:
            self.sessions.end(session.rotated_from)
        if not session.get("user"):
            # Nobody signed in: no row. A visit to the sign-in page must not write to the
            # store (300 anonymous visits were 300 rows); its CSRF token is a cookie.
            if session.session_id:
                self.sessions.end(session.session_id)
                response.delete_cookie(name, path=path, domain=self.get_cookie_domain(app))
            return
        if not session.modified and request.endpoint == "operator.static":
            return  # a stylesheet fetch is no activity worth a write
        new = session.session_id is None
        if new:
            session.session_id = self.sessions.new_id()
        # Saved on every request: the expiry is an idle timeout that each request moves on.
        self.sessions.save(session.session_id, dict(session))
        if new:
            response.set_cookie(
                name,
                session.session_id,
                path=path,
                domain=self.get_cookie_domain(app),
                secure=self.get_cookie_secure(app),
                httponly=self.get_cookie_httponly(app),
                samesite=self.get_cookie_samesite(app),
            )
        response.vary.add("Cookie")
