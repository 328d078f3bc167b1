"""Under gunicorn with two workers there is one alert poller, and both workers answer with
the alerts it keeps in the store."""

from __future__ import annotations

import time

import pytest
import requests

from tests.feeds.alert_server import TOKEN, AlertServer, alert
from tests.web.server import serve, wait_until_ready

pytestmark = pytest.mark.slow

POLL_SECONDS = 0.5


def test_two_workers_one_poller_same_alerts(tmp_path):
    with AlertServer() as feed:
        feed.set_alerts([alert(5)])
        env = {
            "ADVISOR_AIR_ALERTS_BASE_URL": feed.url,
            "ADVISOR_AIR_ALERTS_TOKEN": TOKEN,
            "ADVISOR_AIR_ALERTS_POLL_SECONDS": str(POLL_SECONDS),
            "ADVISOR_RATE_LIMIT_PER_MINUTE": "0",
        }
        with serve(tmp_path / "instance", workers=2, env=env) as (base, _process):
            wait_until_ready(base)
            deadline = time.monotonic() + 60
            answers = []
            while time.monotonic() < deadline and len(answers) < 6:
                body = requests.get(f"{base}/api/v1/routes",
                                    params={"from": "kyiv", "to": "sumy"}, timeout=60).json()
                if any(n["code"] == "air_alert" for n in body["notices"]):
                    answers.append(body)  # several answers: both workers serve some
            assert len(answers) == 6, "the alert did not reach the answers"
            before = len(feed.requests)
            time.sleep(20 * POLL_SECONDS)
            polled = len(feed.requests) - before
            # One poller makes at most ~20 requests in this window (fewer on a busy machine);
            # one per worker would make about 40.
            assert 0 < polled <= 20 + 2
            assert {r["path"] for r in feed.requests} == {"/v1/alerts/active.json"}
