"""A local HTTP server that speaks the alerts.in.ua API v1 endpoint the poller uses.

``GET /v1/alerts/active.json`` with ``Authorization: Bearer <token>``: 401 without the token;
``Last-Modified`` on every 200 and 304 when ``If-Modified-Since`` equals it. ``mode`` makes it
fail the ways the real one can: ``"401"``, ``"429"`` (with ``Retry-After``), ``"500"``,
``"malformed"`` (broken JSON), ``"hang"`` (answers after ``hang_seconds``).
"""

from __future__ import annotations

import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "test-token"


class AlertServer:
    """Run with ``with AlertServer() as server:``; ``server.url`` is its base URL."""

    def __init__(self):
        self.alerts: list[dict] = []
        self.mode = "ok"
        self.retry_after = "120"
        self.hang_seconds = 3.0
        self.requests: list[dict] = []
        self._version = 0
        self._stamp = formatdate(usegmt=True)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def set_alerts(self, alerts: list[dict]) -> None:
        """Replace the active alerts (a new Last-Modified)."""
        self.alerts = alerts
        self._version += 1
        self._stamp = formatdate(time.time() + self._version, usegmt=True)

    def __enter__(self):
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(server: AlertServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):
            server.requests.append({"path": self.path, "headers": dict(self.headers)})
            if self.path != "/v1/alerts/active.json":
                return self._send(404, b'{"message": "not found"}')
            if self.headers.get("Authorization") != f"Bearer {TOKEN}" or server.mode == "401":
                return self._send(401, b'{"message": "API token required"}')
            if server.mode == "429":
                return self._send(429, b'{"message": "rate limit"}',
                                  {"Retry-After": server.retry_after})
            if server.mode == "500":
                return self._send(500, b"Internal Server Error")
            if server.mode == "hang":
                time.sleep(server.hang_seconds)
            if server.mode == "malformed":
                return self._send(200, b'{"alerts": [{"id": 1,', {"Last-Modified": "x"})
            if self.headers.get("If-Modified-Since") == server._stamp:
                return self._send(304, b"", {"Last-Modified": server._stamp})
            body = {"alerts": server.alerts, "meta": {"last_updated_at": server._stamp}}
            self._send(200, json.dumps(body, ensure_ascii=False).encode(),
                       {"Last-Modified": server._stamp})

        def _send(self, status, body: bytes, headers=None):
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                pass

    return Handler


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
