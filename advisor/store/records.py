"""Plain records the store hands out (never ORM rows, so nothing leaks a session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from advisor.errors import InvalidQuery

__all__ = ["AuditEntry", "Role", "Token", "User", "WarMapVersion"]


class Role(StrEnum):
    """What an account or token may do. Ordered: viewer < operator < admin."""

    VIEWER = "viewer"
    """Reads drafts, flag history and the audit log."""
    OPERATOR = "operator"
    """Also creates, edits, publishes and withdraws flags."""
    ADMIN = "admin"
    """Also manages accounts and API tokens."""

    @property
    def rank(self) -> int:
        """0 for viewer, 1 for operator, 2 for admin."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """True if this role may do what *needed* may do."""
        return self.rank >= needed.rank

    @classmethod
    def parse(cls, value) -> Role:
        """The role named *value*; raises :class:`InvalidQuery` naming it."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise InvalidQuery(
                f"unknown role {value!r}; use one of {names}", field="role", value=value
            ) from None


@dataclass(frozen=True)
class User:
    """An account. ``password_hash`` is the argon2 hash (never shown)."""

    id: int
    username: str
    role: Role
    active: bool
    created_at: datetime
    password_hash: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class Token:
    """An API token's record; the token itself is never stored, only its SHA-256."""

    id: int
    user_id: int
    username: str
    name: str
    prefix: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        """True once revoked."""
        return self.revoked_at is not None


@dataclass(frozen=True)
class AuditEntry:
    """One audit-log entry."""

    id: int
    at: datetime
    actor: str
    address: str
    action: str
    object_type: str
    object_id: str
    before: dict | None
    after: dict | None
    note: str = ""


@dataclass(frozen=True)
class WarMapVersion:
    """One stored map of the occupied territory (``geometry`` is GeoJSON).

    ``active`` is True for the map in force; ``origin`` is the file or URL it came from.
    """

    version: int
    map_date: str
    source: str
    origin: str
    checksum: str
    geometry: dict = field(repr=False, compare=False)
    created_by: str = ""
    created_at: datetime | None = None
    active: bool = False
    activation: int = 0
