"""Persistence: flags with immutable versions, accounts, API tokens, audit log (SQLAlchemy).

SQLite in the instance folder by default, PostgreSQL when the settings name one. All SQL of
the service lives in this package. Use :func:`open_store` to get a migrated :class:`Store`.
"""

from __future__ import annotations

from pathlib import Path

from advisor.store.alerts import AlertStore, FeedStatus, StoredAlerts
from advisor.store.db import current_revision, head_revision, make_engine, upgrade
from advisor.store.partner_feeds import EntityState, PartnerEntity, PartnerFeedStore
from advisor.store.records import AuditEntry, Role, Token, User, WarMapVersion
from advisor.store.repository import Store
from advisor.store.sessions import SessionStore
from advisor.store.source import BASELINE_AUTHOR, StoreFlagSource, seed_baseline

__all__ = [
    "BASELINE_AUTHOR",
    "AlertStore",
    "AuditEntry",
    "EntityState",
    "FeedStatus",
    "PartnerEntity",
    "PartnerFeedStore",
    "Role",
    "SessionStore",
    "Store",
    "StoreFlagSource",
    "StoredAlerts",
    "Token",
    "User",
    "WarMapVersion",
    "current_revision",
    "head_revision",
    "make_engine",
    "open_store",
    "seed_baseline",
    "upgrade",
]


def open_store(url: str, migrate: bool = True, lock_path: Path | None = None) -> Store:
    """A :class:`Store` on *url*, migrated to the newest schema unless *migrate* is False."""
    store = Store(make_engine(url))
    if migrate:
        upgrade(store.engine, lock_path)
    return store
