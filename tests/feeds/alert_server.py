"""A local HTTP server that speaks the alerts.in.ua API v1 endpoint the poller uses.

``GET /v1/alerts/active.json`` with ``Authorization: Bearer <token>``: 401 without the token;
``Last-Modified`` on every 200 and 304 when ``If-Modified-Since`` equals it. ``mode`` makes it
fail the ways the real one can: ``"401"``, ``"429"`` (with ``Retry-After``), ``"500"``,
``"malformed"`` (broken JSON), ``"hang"`` (answers after ``hang_seconds``).
"""

from __future__ import annotations

import json
import time
from email.utils import formatdate

from tests.feeds.stand_in import StandInServer

TOKEN = "test-token"


class AlertServer(StandInServer):
    """Run with ``with AlertServer() as server:``; ``server.url`` is its base URL."""

    content_type = "application/json"

    def __init__(self):
        super().__init__()
        self.alerts: list[dict] = []
        self.mode = "ok"
        self.retry_after = "120"
        self.hang_seconds = 3.0
        self._version = 0
        self._stamp = formatdate(usegmt=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def set_alerts(self, alerts: list[dict]) -> None:
        """Replace the active alerts (a new Last-Modified)."""
        self.alerts = alerts
        self._version += 1
        self._stamp = formatdate(time.time() + self._version, usegmt=True)

    def answer(self, path, headers, send) -> None:
        if path != "/v1/alerts/active.json":
            return send(404, b'{"message": "not found"}')
        if headers.get("Authorization") != f"Bearer {TOKEN}" or self.mode == "401":
            return send(401, b'{"message": "API token required"}')
        if self.mode == "429":
            return send(429, b'{"message": "rate limit"}', {"Retry-After": self.retry_after})
        if self.mode == "500":
            return send(500, b"Internal Server Error")
        if self.mode == "hang":
            time.sleep(self.hang_seconds)
        if self.mode == "malformed":
            return send(200, b'{"alerts": [{"id": 1,', {"Last-Modified": "x"})
        if headers.get("If-Modified-Since") == self._stamp:
            return send(304, b"", {"Last-Modified": self._stamp})
        body = {"alerts": self.alerts, "meta": {"last_updated_at": self._stamp}}
        return send(200, json.dumps(body, ensure_ascii=False).encode(),
                    {"Last-Modified": self._stamp})


def alert(alert_id=1, oblast="Сумська область", title=None, location_type="oblast",
          started_at="2026-11-30T12:05:00.000Z", finished_at=None, alert_type="air_raid",
          **extra) -> dict:
    """One entry of ``alerts`` as the API writes it."""
    return {
        "id": alert_id,
        "location_title": title or oblast,
        "location_type": location_type,
        "started_at": started_at,
        "finished_at": finished_at,
        "updated_at": started_at,
        "alert_type": alert_type,
        "location_oblast": oblast,
        "location_uid": "20",
        "location_oblast_uid": 20,
        "notes": None,
        "calculated": None,
        **extra,
    }
