"""Server-side sessions of the operator console (one row per signed-in browser).

The browser holds only a random session id; the row is looked up by the id's SHA-256, so a
leaked database copy does not hand out live sessions. Rows carry their own expiry and are
pruned on every new sign-in; an expired row is never returned.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Engine, String, delete
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from advisor.store.db import translated
from advisor.store.tables import Base, UTCDateTime

__all__ = ["ConsoleSessionRow", "SessionStore"]


class ConsoleSessionRow(Base):
    """One console session: who, its data (CSRF secret, messages) and when it expires."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


_translated = translated("reading or writing console sessions")


class SessionStore:
    """Console session rows over the flag store's engine."""

    def __init__(self, engine: Engine):
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(advisor_write=True), expire_on_commit=False
        )

    @_translated
    def find(self, id_hash: str, now: datetime) -> tuple[str, dict] | None:
        """``(username, data)`` of a session that has not expired at *now*, else None."""
        with self._read() as session:
            row = session.get(ConsoleSessionRow, id_hash)
            if row is None or row.expires_at <= now:
                return None
            return row.username, dict(row.data)

    @_translated
    def save(self, id_hash: str, username: str, data: dict, now: datetime, expires_at) -> None:
        """Create or replace a session row."""
        with self._write.begin() as session:
            row = session.get(ConsoleSessionRow, id_hash)
            if row is None:
                session.add(
                    ConsoleSessionRow(
                        id_hash=id_hash,
                        username=username,
                        data=data,
                        created_at=now,
                        expires_at=expires_at,
                    )
                )
            else:
                row.username, row.data, row.expires_at = username, data, expires_at

    @_translated
    def delete(self, id_hash: str) -> None:
        """End a session (sign-out); unknown ids are ignored."""
        with self._write.begin() as session:
            session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.id_hash == id_hash))

    @_translated
    def prune(self, now: datetime) -> int:
        """Delete every expired session; returns how many."""
        with self._write.begin() as session:
            result = session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= now)
            )
            return result.rowcount or 0
