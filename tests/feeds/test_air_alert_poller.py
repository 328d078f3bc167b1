"""The alert client and the one poller against a local server speaking alerts.in.ua v1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from advisor.feeds.air_alerts import FEED_NAME, AirAlertsClient, AlertPoller
from advisor.store import AlertStore, open_store
from tests.clock import Clock
from tests.feeds.alert_server import TOKEN, AlertServer, alert
from tests.store.databases import database_url, pg_url  # noqa: F401 - fixtures

T0 = datetime(2026, 11, 30, 12, 10, tzinfo=UTC)


@pytest.fixture
def server():
    with AlertServer() as running:
        yield running


@pytest.fixture
def alert_store(database_url):  # noqa: F811 - the imported fixture
    """The alert tables of a fresh store, on SQLite and (when reachable) PostgreSQL."""
    store = open_store(database_url)
    yield AlertStore(store.engine)
    store.engine.dispose()


def poller(server, alert_store, clock=None, token=TOKEN, timeout=1.0):
    client = AirAlertsClient(server.url, token, timeout_seconds=timeout)
    return AlertPoller(client, alert_store, poll_seconds=30, max_backoff_seconds=300,
                       clock=clock or Clock(T0))


def test_poll_keeps_active_alerts_and_asks_conditionally(server, alert_store):
    server.set_alerts([alert(1), alert(2, oblast="Харківська область")])
    p = poller(server, alert_store)
    first = p.poll_once()
    assert first.polled and first.changed and not first.error
    stored = alert_store.read(FEED_NAME)
    assert sorted(a["id"] for a in stored.alerts) == ["1", "2"]
    assert stored.status.last_success_at == T0
    second = p.poll_once()
    assert second.polled and not second.changed  # 304 Not Modified
    assert len(server.requests) == 2  # one request per poll, never two
    assert server.requests[1]["headers"]["If-Modified-Since"] == stored.status.last_modified
    assert server.requests[1]["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_alert_leaving_the_list_has_ended_then_is_pruned(server, alert_store):
    clock = Clock(T0)
    p = poller(server, alert_store, clock)
    server.set_alerts([alert(1)])
    p.poll_once()
    server.set_alerts([])
    clock.now = T0 + timedelta(minutes=1)
    p.poll_once()
    (ended,) = alert_store.read(FEED_NAME).alerts
    assert ended["finished_at"] == clock.now.isoformat()
    server.set_alerts([alert(3)])
    clock.now = T0 + timedelta(hours=8)
    p.poll_once()
    assert [a["id"] for a in alert_store.read(FEED_NAME).alerts] == ["3"]


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("401", "HTTP 401 (the token was refused)"),
        ("429", "HTTP 429 (too many requests)"),
        ("500", "HTTP 500 (server error)"),
        ("malformed", "malformed JSON"),
        ("hang", "did not answer in time"),
    ],
)
def test_feed_errors_keep_the_last_good_alerts_and_say_so(server, alert_store, mode, says):
    clock = Clock(T0)
    p = poller(server, alert_store, clock, timeout=0.5)
    server.set_alerts([alert(1)])
    p.poll_once()
    server.mode = mode
    server.hang_seconds = 2.0
    server.set_alerts([])  # would end alert 1, had the feed answered
    clock.now = T0 + timedelta(minutes=1)
    outcome = p.poll_once()
    assert outcome.polled and says in outcome.error
    stored = alert_store.read(FEED_NAME)
    assert [a["id"] for a in stored.alerts] == ["1"] and stored.alerts[0]["finished_at"] is None
    assert stored.status.last_success_at == T0  # the last good answer, not the failure
    assert says in stored.status.last_error and stored.status.failures == 1


def test_backoff_doubles_and_honours_retry_after(server, alert_store):
    p = poller(server, alert_store)
    server.mode = "500"
    assert [p.poll_once().next_poll_seconds for _ in range(5)] == [30, 60, 120, 240, 300]
    server.mode = "429"
    server.retry_after = "900"
    assert p.poll_once().next_poll_seconds == 900
    server.mode = "ok"
    assert p.poll_once().next_poll_seconds == 30


def test_wrong_token_is_a_401_failure(server, alert_store):
    outcome = poller(server, alert_store, token="wrong").poll_once()
    assert "HTTP 401" in outcome.error


def test_one_poller_per_deployment(server, alert_store):
    clock = Clock(T0)
    first, second = poller(server, alert_store, clock), poller(server, alert_store, clock)
    assert first.poll_once().polled
    assert not second.poll_once().polled  # the lease is taken
    assert len(server.requests) == 1
    clock.now = T0 + timedelta(minutes=5)  # the first poller died: its lease expires
    assert second.poll_once().polled
    assert not first.poll_once().polled


def test_a_bad_alert_is_reported_and_the_rest_kept(server, alert_store):
    server.set_alerts([alert(1), {"id": 2, "location_type": "oblast"}])
    outcome = poller(server, alert_store).poll_once()
    assert [a["id"] for a in alert_store.read(FEED_NAME).alerts] == ["1"]
    assert outcome.problems == ("alert 2 has no location_title",)


def test_cli_poll_once_writes_the_store_and_reports_failures(server, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from advisor.cli import main

    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("ADVISOR_AIR_ALERTS_BASE_URL", server.url)
    monkeypatch.setenv("ADVISOR_AIR_ALERTS_TOKEN", TOKEN)
    server.set_alerts([alert(1)])
    ok = CliRunner().invoke(main, ["alerts", "poll", "--once"])
    assert ok.exit_code == 0 and ok.output.strip() == "alerts changed"
    stored = AlertStore(open_store(f"sqlite:///{tmp_path / 'cli.sqlite3'}").engine)
    assert _holder_of(stored) == ""  # --once gives the lease back for the next run
    server.mode = "401"
    failed = CliRunner().invoke(main, ["alerts", "poll", "--once"])
    assert failed.exit_code == 1 and "HTTP 401 (the token was refused)" in failed.output
    assert [a["id"] for a in stored.read(FEED_NAME).alerts] == ["1"]


def test_cli_poll_refuses_without_a_token(monkeypatch):
    from click.testing import CliRunner

    from advisor.cli import main

    monkeypatch.delenv("ADVISOR_AIR_ALERTS_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["alerts", "poll", "--once"])
    assert result.exit_code != 0 and "ADVISOR_AIR_ALERTS_TOKEN" in result.output


def _holder_of(alert_store):
    from sqlalchemy import select

    from advisor.store.alerts import AlertFeedRow

    with alert_store._read() as session:
        return session.scalar(select(AlertFeedRow.lease_holder))
