"""A local HTTP server serving a GTFS-realtime Service Alerts feed built with
gtfs-realtime-bindings, the way a partner would.

``GET /alerts.pb``: the ``FeedMessage`` of :meth:`PartnerServer.set_alerts` with an ``ETag``;
304 when ``If-None-Match`` equals it. ``mode`` fails the ways a real one can: ``"403"``, ``"404"``,
``"500"``, ``"malformed"`` (bytes that are not protobuf), ``"hang"`` (answers after
``hang_seconds``); ``GET /moved.pb`` redirects to the feed. ``auth = (header, value)``
makes it answer 401 to a request without that header value, as a feed needing a key does.
"""

from __future__ import annotations

import time
from datetime import datetime

from google.transit import gtfs_realtime_pb2

from tests.feeds.stand_in import StandInServer

Alert = gtfs_realtime_pb2.Alert


class PartnerServer(StandInServer):
    """Run with ``with PartnerServer() as server:``; ``server.url`` is the feed's URL."""

    content_type = "application/x-protobuf"

    def __init__(self):
        super().__init__()
        self.body = b""
        self.mode = "ok"
        self.hang_seconds = 3.0
        self.auth: tuple[str, str] | None = None
        self._etag = '"0"'
        self.url = f"http://127.0.0.1:{self.port}/alerts.pb"
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

    def answer(self, path, headers, send) -> None:
        if path == "/moved.pb":
            return send(302, b"", {"Location": self.url})
        if path != "/alerts.pb" or self.mode == "404":
            return send(404, b"not found")
        if self.auth is not None and headers.get(self.auth[0]) != self.auth[1]:
            return send(401, b"unauthorized", {"WWW-Authenticate": "Bearer"})
        if self.mode == "403":
            return send(403, b"forbidden")
        if self.mode == "500":
            return send(500, b"Internal Server Error")
        if self.mode == "hang":
            time.sleep(self.hang_seconds)
        if self.mode == "malformed":
            return send(200, b"\xff\xff\xff\xff not protobuf", {"ETag": '"bad"'})
        if headers.get("If-None-Match") == self._etag:
            return send(304, b"", {"ETag": self._etag})
        return send(200, self.body, {"ETag": self._etag})


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
