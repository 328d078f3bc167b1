"""Console session rows on SQLite and PostgreSQL, and the console workflow on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from advisor.risk.model import utcnow
from advisor.store import SessionStore, open_store
from tests.operator.conftest import LOZOVA_KRAMATORSK, Console, make_console_app
from tests.store.databases import database_url, pg_url  # noqa: F401


@pytest.fixture
def rows(database_url):  # noqa: F811 - the imported fixture
    store = open_store(database_url)
    yield SessionStore(store.engine)
    store.engine.dispose()


def test_a_row_lives_until_it_expires(rows):
    now = utcnow()
    rows.save(
        "h1", "operator1", {"user": "operator1", "csrf": "x"}, now, now + timedelta(minutes=30)
    )
    assert rows.find("h1", now + timedelta(minutes=29)) == (
        "operator1",
        {"user": "operator1", "csrf": "x"},
    )
    assert rows.find("h1", now + timedelta(minutes=30)) is None
    assert rows.find("unknown", now) is None


def test_saving_again_replaces_data_and_moves_the_expiry(rows):
    now = utcnow()
    rows.save("h1", "", {"csrf": "x"}, now, now + timedelta(minutes=1))
    rows.save("h1", "operator1", {"user": "operator1"}, now, now + timedelta(minutes=60))
    assert rows.find("h1", now + timedelta(minutes=59)) == ("operator1", {"user": "operator1"})


def test_delete_and_prune(rows):
    now = utcnow()
    rows.save("old", "a", {"user": "a"}, now, now + timedelta(minutes=1))
    rows.save("live", "b", {"user": "b"}, now, now + timedelta(minutes=60))
    assert rows.prune(now + timedelta(minutes=2)) == 1
    rows.delete("live")
    assert rows.find("live", now) is None and rows.find("old", now) is None


def test_console_workflow_on_postgresql(tmp_path, tiny_dataset, pg_url):  # noqa: F811
    app = make_console_app(tmp_path, tiny_dataset, database_url=pg_url)
    try:
        operator = Console(app)
        assert operator.sign_in("operator1").status_code == 302
        flag_id = operator.publish_new(LOZOVA_KRAMATORSK)
        assert (
            operator.post(
                f"/operator/flags/{flag_id}/withdraw", {"version": "1", "reason": "test"}
            ).status_code
            == 302
        )
        assert operator.post("/operator/signout", {}).status_code == 302
        assert operator.get("/operator/flags").status_code == 302
    finally:
        app.extensions["advisor.operations"].close()
