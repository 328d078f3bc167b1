"""A deployment without an air-raid alert feed says so, once and low-key: silence about
alerts must never read as "no alerts"."""

from __future__ import annotations

from datetime import UTC, datetime

from advisor.routing.explain import freshness_notices
from advisor.routing.model import DataFreshness, NoticeCode
from tests.store.apptools import app_config, tiny_dataset  # noqa: F401 - fixture


def test_answers_say_alert_data_is_not_connected(tmp_path, tiny_dataset, monkeypatch):  # noqa: F811
    from advisor import create_app

    monkeypatch.delenv("ADVISOR_AIR_ALERTS_TOKEN", raising=False)
    app = create_app(app_config(tmp_path, tiny_dataset, rate_limit_per_minute=0))
    client = app.test_client()
    body = client.get("/api/v1/routes?from=kyiv&to=kharkiv&lang=en").get_json()
    found = [n for n in body["notices"] if n["code"] == "alerts_not_connected"]
    assert len(found) == 1 and body["freshness"]["alerts_state"] == "off"
    assert found[0]["message"].startswith("Air-raid alert data is not connected")
    again = client.get("/api/v1/routes?from=kyiv&to=kharkiv&lang=en").get_json()  # cached
    assert [n["code"] for n in again["notices"]].count("alerts_not_connected") == 1
    page = client.get("/?from=Київ&from_id=kyiv&to=Харків&to_id=kharkiv&lang=uk").text
    sentence = "Дані про повітряні тривоги до сервісу не підключено"
    assert page.count(sentence) == 1
    assert 'class="notice-alerts_not_connected"' in page  # in the folded notes, no alert box
    assert "alert-box" not in page
    app.extensions["advisor.operations"].close()


def test_answers_built_without_a_deployment_say_nothing_of_alerts():
    fresh = DataFreshness(datetime(2026, 3, 1, tzinfo=UTC), False, True, "v", "")
    assert fresh.alerts_state == "off" and not freshness_notices(fresh)
    said = DataFreshness(None, False, True, "v", "", announce_alerts_off=True)
    assert [n.code for n in freshness_notices(said)] == [NoticeCode.ALERTS_NOT_CONNECTED]
    current = DataFreshness(None, False, True, "v", "", alerts_state="current",
                            announce_alerts_off=True)  # fmt: skip
    assert not freshness_notices(current)
