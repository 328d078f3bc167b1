"""Server-side sessions of the operator console, kept in the store."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from advisor.risk.model import utcnow
from advisor.services.accounts import Principal, hash_token
from advisor.store import SessionStore

if TYPE_CHECKING:
    from advisor.services.operations import Operations

__all__ = ["ConsoleSessions"]


class ConsoleSessions:
    """Server-side sessions of the operator console over the flag store.

    The browser keeps only a random id; the row (found by the id's SHA-256) holds the data
    and expires ``session_minutes`` after the last request (each request moves it forward).
    Who the session stands for is looked up on every request, so a disabled account or a
    changed role takes effect at once.
    """

    def __init__(self, operations: Operations, clock: Callable[[], datetime] = utcnow):
        self.operations = operations
        self.rows = SessionStore(operations.store.engine)
        self.lifetime = timedelta(minutes=operations.settings.session_minutes)
        self.clock = clock

    @staticmethod
    def new_id() -> str:
        """A fresh session id (256 random bits)."""
        return secrets.token_urlsafe(32)

    def load(self, session_id: str) -> dict | None:
        """The data of a live session, or None when it is unknown or expired."""
        found = self.rows.find(hash_token(session_id), self.clock())
        return None if found is None else found[1]

    def save(self, session_id: str, data: dict) -> datetime:
        """Store *data* and move the expiry forward; returns the new expiry."""
        now = self.clock()
        expires_at = now + self.lifetime
        username = str(data.get("user", ""))
        self.rows.save(hash_token(session_id), username, data, now, expires_at)
        return expires_at

    def end(self, session_id: str) -> None:
        """Forget a session (sign-out, or a new id after sign-in); old rows are pruned."""
        self.rows.delete(hash_token(session_id))
        self.rows.prune(self.clock())

    def principal(self, username: str, address: str) -> Principal | None:
        """Who a session's *username* is now, or None when the account is gone or disabled."""
        user = self.operations.store.find_user(username) if username else None
        if user is None or not user.active:
            return None
        return Principal(user.username, user.role, address)

