"""PostgreSQL test databases: a fresh schema per test on ``ADVISOR_TEST_POSTGRES_URL``.

Each test gets a schema named after this session and the test, dropped afterwards, so
parallel runs of the suite never see each other's rows. Without the variable, or when the
server does not answer, the PostgreSQL variants skip with the reason.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

__all__ = ["PG_ENV", "database_url", "pg_url"]

PG_ENV = "ADVISOR_TEST_POSTGRES_URL"
_SESSION = uuid.uuid4().hex[:8]
_PG_REASON: list[str] = []


def _pg_admin_engine():
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (.ci/run sets it)")
    if _PG_REASON:
        pytest.skip(_PG_REASON[0])
    engine = sa.create_engine(url, pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as err:
        engine.dispose()
        _PG_REASON.append(f"PostgreSQL at {PG_ENV} is unreachable: {err.orig}")
        pytest.skip(_PG_REASON[0])
    return engine, url


@pytest.fixture
def pg_url(request):
    """A PostgreSQL URL whose search_path is a fresh schema (dropped after the test)."""
    engine, url = _pg_admin_engine()
    schema = f"t_{_SESSION}_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    parsed = sa.engine.make_url(url)
    yield parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'advisor.sqlite3'}"
    return request.getfixturevalue("pg_url")
