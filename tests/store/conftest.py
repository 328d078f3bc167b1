"""Store fixtures: every store test runs against SQLite and, when reachable, PostgreSQL."""

from __future__ import annotations

import pytest

from tests.store.databases import database_url, pg_url  # noqa: F401 - fixtures


@pytest.fixture
def store(database_url):  # noqa: F811 - the imported fixture
    """A migrated, empty store."""
    from advisor.store import open_store

    store = open_store(database_url)
    yield store
    store.engine.dispose()
