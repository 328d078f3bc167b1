"""Store fixtures: every store test runs against SQLite and, when reachable, PostgreSQL."""

from __future__ import annotations

import pytest

from tests.store.databases import pg_url  # noqa: F401 - fixture


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'advisor.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(database_url):
    """A migrated, empty store."""
    from advisor.store import open_store

    store = open_store(database_url)
    yield store
    store.engine.dispose()
