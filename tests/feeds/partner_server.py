"""A local HTTP server serving a GTFS-realtime Service Alerts feed built with
gtfs-realtime-bindings, the way a partner would.

``GET /alerts.pb``: the ``FeedMessage`` of :meth:`PartnerServer.set_alerts` with an ``ETag``;
304 when ``If-None-Match`` equals it. ``mode`` fails the ways a real one can: ``"403"``, ``"404"``,
``"500"``, ``"malformed"`` (bytes that are not protobuf), ``"hang"`` (answers after
``hang_seconds``); ``GET /moved.pb`` redirects to the feed. ``auth = (header, value)``
makes it answer 401 to a request without that header value, as a feed needing a key does.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.transit import gtfs_realtime_pb2

Alert = gtfs_realtime_pb2.Alert


class PartnerServer:
    """Run with ``with PartnerServer() as server:``; ``server.url`` is the feed's URL."""

    def __init__(self):
        self.body = b""
        self.mode = "ok"
        self.hang_seconds = 3.0
        self.auth: tuple[str, str] | None = None
        self.requests: list[dict] = []
        self._etag = '"0"'
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/alerts.pb"
        self.set_alerts([])

    def set_alerts(self, entities: list) -> None:
        """Serve a FULL_DATASET feed of *entities* (from :func:`entity`), with a new ETag."""
        feed = gtfs_realtime_pb2.FeedMessage()
        feed.header.gtfs_realtime_version = "2.0"
        feed.header.incrementality = gtfs_realtime_pb2.FeedHeader.FULL_DATASET
        feed.header.timestamp = int(time.time())
        for made in entities:
            feed.entity.add().CopyFrom(made)
        self.body = feed.SerializeToString()
        self._etag = f'"{int(self._etag.strip(chr(34))) + 1}"'

    def __enter__(self):
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(server: PartnerServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):
            server.requests.append({"path": self.path, "headers": dict(self.headers)})
            if self.path == "/moved.pb":
                return self._send(302, b"", {"Location": server.url})
            if self.path != "/alerts.pb" or server.mode == "404":
                return self._send(404, b"not found")
            if server.auth is not None and self.headers.get(server.auth[0]) != server.auth[1]:
                return self._send(401, b"unauthorized", {"WWW-Authenticate": "Bearer"})
            if server.mode == "403":
                return self._send(403, b"forbidden")
            if server.mode == "500":
                return self._send(500, b"Internal Server Error")
            if server.mode == "hang":
                time.sleep(server.hang_seconds)
            if server.mode == "malformed":
                return self._send(200, b"\xff\xff\xff\xff not protobuf", {"ETag": '"bad"'})
            if self.headers.get("If-None-Match") == server._etag:
                return self._send(304, b"", {"ETag": server._etag})
            self._send(200, server.body, {"ETag": server._etag})

        def _send(self, status, body: bytes, headers=None):
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                pass

    return Handler


def entity(entity_id="e1", *, stops=(), routes=(), trips=(), stop_routes=(),
           effect=Alert.OTHER_EFFECT,
           severity=None, periods=(), header_uk="Ремонт колії", header_en="Track works",
           description_en="") -> gtfs_realtime_pb2.FeedEntity:
    """One alert entity: *stops* and *routes* become informed entities, *periods* are
    ``(start, end)`` aware datetimes (None: open); *stop_routes* are ``(stop_id, route_id)``
    pairs, one selector each."""
    made = gtfs_realtime_pb2.FeedEntity(id=entity_id)
    alert = made.alert
    alert.effect = effect
    if severity is not None:
        alert.severity_level = severity
    for stop_id in stops:
        alert.informed_entity.add(stop_id=stop_id)
    for stop_id, route_id in stop_routes:
        alert.informed_entity.add(stop_id=stop_id, route_id=route_id)
    for route_id in routes:
        alert.informed_entity.add(route_id=route_id)
    for trip_id in trips:
        alert.informed_entity.add().trip.trip_id = trip_id
    for start, end in periods:
        period = alert.active_period.add()
        if start is not None:
            period.start = int(start.timestamp())
        if end is not None:
            period.end = int(end.timestamp())
    if header_uk:
        alert.header_text.translation.add(text=header_uk, language="uk")
    if header_en:
        alert.header_text.translation.add(text=header_en, language="en")
    if description_en:
        alert.description_text.translation.add(text=description_en, language="en")
    return made


def at(text: str) -> datetime:
    """An aware UTC datetime from ISO text."""
    return datetime.fromisoformat(text)
