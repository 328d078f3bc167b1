"""``/api/v1/alerts.pb`` and ``/api/v1/alerts.json`` over the store-backed app: flags written
through the API come back as GTFS-realtime alerts; a real gunicorn serves the same bytes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from google.protobuf import json_format
from google.transit import gtfs_realtime_pb2

from tests.store.apptools import client, flag_app, tiny_dataset, tokens  # noqa: F401
from tests.store.factories import flag_data
from tests.web.server import serve, wait_until_ready

Alert = gtfs_realtime_pb2.Alert
# The app's clock is pinned an hour back, so "the snapshot's read time" is not "now".
CLOCK = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _create(api, auth, **overrides) -> dict:
    resp = api.post("/api/v1/flags", json=flag_data(**overrides), headers=auth.operator)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _parse(data: bytes) -> gtfs_realtime_pb2.FeedMessage:
    feed = gtfs_realtime_pb2.FeedMessage()
    feed.ParseFromString(data)
    return feed


def _texts(translated) -> dict[str, str]:
    return {t.language: t.text for t in translated.translation}


@pytest.fixture
def flagged(flag_app, client, tokens):  # noqa: F811
    """A line flag and an area flag published, plus a draft, a withdrawn and an expired flag."""
    flag_app.extensions["advisor.services"].clock = lambda: CLOCK
    since = CLOCK - timedelta(days=1)
    _create(client, tokens, id="line", status="published", active_from=_iso(since))
    _create(
        client, tokens, id="area", status="published", level="elevated",
        target={"kind": "oblast", "oblast_iso": "UA-59"}, reason_uk="Дрони",
        reason_en="Drones", active_until=_iso(CLOCK + timedelta(days=2)),
    )  # fmt: skip
    _create(client, tokens, id="draft", target={"kind": "station", "station_id": "kyiv"})
    _create(client, tokens, id="gone", status="published", level="suspended")
    client.post("/api/v1/flags/gone/withdraw", json={"version": 1}, headers=tokens.operator)
    _create(
        client, tokens, id="expired", status="published",
        active_from=_iso(CLOCK - timedelta(days=3)), active_until=_iso(CLOCK - timedelta(hours=1)),
    )  # fmt: skip
    return since


def test_published_flags_are_served_as_protobuf_alerts(client, flagged):  # noqa: F811
    resp = client.get("/api/v1/alerts.pb")
    assert resp.status_code == 200
    assert resp.mimetype == "application/x-protobuf"
    assert resp.headers["Cache-Control"] == "no-cache"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["ETag"]
    feed = _parse(resp.get_data())
    assert feed.header.timestamp == int(CLOCK.timestamp())  # the snapshot's read time
    assert feed.header.incrementality == gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    entities = {e.id: e.alert for e in feed.entity}
    assert sorted(entities) == ["area", "line"]  # no draft, withdrawn or expired flag

    line = entities["line"]
    assert [e.stop_id for e in line.informed_entity] == ["barvinkove", "kramatorsk", "lozova"]
    assert (line.effect, line.severity_level) == (Alert.OTHER_EFFECT, Alert.SEVERE)
    (period,) = line.active_period
    assert period.start == int(flagged.timestamp()) and not period.HasField("end")
    assert _texts(line.description_text)["uk"].startswith("Обстріли. Джерело: Ukrzaliznytsia.")

    area = entities["area"]
    assert {e.stop_id for e in area.informed_entity} == {"sumy", "bus:sumy"}
    assert (area.effect, area.severity_level) == (Alert.OTHER_EFFECT, Alert.WARNING)
    assert area.active_period[0].end == int((CLOCK + timedelta(days=2)).timestamp())
    assert _texts(area.header_text) == {
        "uk": "Підвищений ризик: Сумська область",
        "en": "Elevated risk: Sumy oblast",
    }


def test_json_is_the_same_message(client, flagged):  # noqa: F811
    binary = _parse(client.get("/api/v1/alerts.pb").get_data())
    resp = client.get("/api/v1/alerts.json")
    assert resp.mimetype == "application/json" and resp.headers["Cache-Control"] == "no-cache"
    body = resp.get_json()
    assert body["entity"][0]["alert"]["severity_level"] == "SEVERE"  # spec names, enum names
    assert body["header"]["timestamp"] == str(int(CLOCK.timestamp()))
    assert json_format.Parse(resp.get_data(as_text=True), gtfs_realtime_pb2.FeedMessage()) == binary


def test_language_picks_which_translation_comes_first(client, flagged):  # noqa: F811
    english = _parse(client.get("/api/v1/alerts.pb?lang=en").get_data())
    assert [t.language for t in english.entity[0].alert.header_text.translation] == ["en", "uk"]
    ukrainian = _parse(client.get("/api/v1/alerts.pb").get_data())
    assert [t.language for t in ukrainian.entity[0].alert.header_text.translation] == ["uk", "en"]


def test_revalidation_answers_304_until_a_flag_changes(client, tokens, flagged):  # noqa: F811
    first = client.get("/api/v1/alerts.pb")
    etag = first.headers["ETag"]
    again = client.get("/api/v1/alerts.pb", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()
    client.post("/api/v1/flags/line/withdraw", json={"version": 1}, headers=tokens.operator)
    changed = client.get("/api/v1/alerts.pb", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert [e.id for e in _parse(changed.get_data()).entity] == ["area"]


def test_an_empty_flag_set_is_an_empty_feed_not_an_error(client):  # noqa: F811
    feed = _parse(client.get("/api/v1/alerts.pb").get_data())
    assert len(feed.entity) == 0 and feed.header.timestamp > 0


@pytest.mark.slow
def test_gunicorn_serves_the_baseline_flags_as_alerts(tmp_path):
    """Real HTTP on loopback: the shipped network and baseline flags under ``advisor serve``."""
    config = tmp_path / "advisor.toml"
    # One worker and no re-read within the test: the ETag stays put between two requests.
    config.write_text("[flags]\nrefresh_seconds = 3600\n", encoding="utf-8")
    env = {"ADVISOR_CONFIG": str(config), "ADVISOR_RATE_LIMIT_PER_MINUTE": "0"}
    with serve(tmp_path / "instance", workers=1, env=env) as (base, _process):
        wait_until_ready(base)
        resp = requests.get(f"{base}/api/v1/alerts.pb", timeout=30)
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "application/x-protobuf"
        feed = _parse(resp.content)
        flags = requests.get(f"{base}/api/v1/flags", timeout=30).json()["flags"]
        again = requests.get(
            f"{base}/api/v1/alerts.pb", headers={"If-None-Match": resp.headers["ETag"]}, timeout=30
        )
    ids = {e.id for e in feed.entity}
    assert "baseline-luhansk-oblast" in ids
    assert ids <= {f["id"] for f in flags}  # every alert is a public flag in force
    luhansk = next(e.alert for e in feed.entity if e.id == "baseline-luhansk-oblast")
    assert luhansk.effect == Alert.NO_SERVICE and 0 < len(luhansk.informed_entity) <= 150
    assert again.status_code == 304
