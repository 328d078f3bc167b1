"""The service started with ADVISOR_AIR_ALERTS_BASE_URL pointing at a local alerts.in.ua
stand-in marks a trip into an oblast under alert, clears it after the end and the grace
period, and says when alert data is unavailable."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.feeds.alert_server import TOKEN, AlertServer, alert

WAIT_SECONDS = 20  # an upper bound for a condition; no assertion is about timing


def wait_for(condition, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"not within {WAIT_SECONDS} s: {what}")


def codes(client, to):
    body = client.get(f"/api/v1/routes?from=kyiv&to={to}&lang=uk").get_json()
    return {n["code"]: n for n in body["notices"]}, body


@pytest.fixture
def server():
    with AlertServer() as running:
        yield running


@pytest.fixture
def service(server, tmp_path, monkeypatch):
    from advisor import create_app

    monkeypatch.setenv("ADVISOR_AIR_ALERTS_BASE_URL", server.url)
    monkeypatch.setenv("ADVISOR_AIR_ALERTS_TOKEN", TOKEN)
    app = create_app({
        "testing": True,
        "instance_path": tmp_path / "instance",
        "database_url": f"sqlite:///{tmp_path / 'advisor.sqlite3'}",
        "alerts_poll_seconds": 0.2,
        "alerts_grace_minutes": 0.02,
        "alerts_unavailable_after_seconds": 8.0,
        "flags_refresh_seconds": 0.1,
        "rate_limit_per_minute": 0,
    })  # fmt: skip
    services = app.extensions["advisor.services"]
    yield app.test_client(), services
    services.alert_poller.stop(timeout=5)


def test_alert_marks_the_trip_then_clears_after_grace(server, service):
    client, _ = service
    started = (datetime.now(UTC) - timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
    server.set_alerts([alert(7, started_at=started)])
    notices, body = wait_for(lambda: _with(client, "sumy", "air_alert"), "alert reaches answers")
    note = notices["air_alert"]
    assert note["message"].startswith("Сумська область: повітряна тривога з ")
    assert body["freshness"]["alerts_state"] == "current"
    assert "alerts_not_connected" not in notices  # a feed is connected
    legs = [leg for o in body["options"] for leg in o["legs"] if "alert:7" in leg["flag_ids"]]
    assert legs and all(leg["risk_level"] for leg in legs)
    assert "air_alert" not in codes(client, "lviv")[0]  # a trip elsewhere carries none
    page = page_text(client, "Суми", "sumy")
    assert 'class="alert-box notice-air_alert" role="alert"' in page
    assert "Сумська область: повітряна тривога з " in page
    assert "alert-box" not in page_text(client, "Львів", "lviv")
    server.set_alerts([])  # the alert ends; after the grace period the mark goes
    wait_for(lambda: "air_alert" not in codes(client, "sumy")[0], "alert cleared after grace")


def test_silent_feed_says_alert_data_unavailable_and_keeps_the_alert(server, service):
    client, _ = service
    server.set_alerts([alert(8)])
    wait_for(lambda: _with(client, "sumy", "air_alert"), "alert reaches answers")
    server.mode = "500"
    notices, body = wait_for(lambda: _with(client, "sumy", "alert_data_unavailable"),
                             "unavailable notice")  # fmt: skip
    assert "air_alert" in notices  # the last good state is kept
    assert body["freshness"]["alerts_state"] == "unavailable"
    assert "не означає, що тривоги немає" in notices["alert_data_unavailable"]["message"]
    lviv, _ = codes(client, "lviv")
    assert "alert_data_unavailable" in lviv and "air_alert" not in lviv


def page_text(client, name, station_id):
    url = f"/?from=Київ&from_id=kyiv&to={name}&to_id={station_id}&lang=uk"
    return client.get(url).get_data(as_text=True)


def _with(client, to, code):
    notices, body = codes(client, to)
    return (notices, body) if code in notices else None
