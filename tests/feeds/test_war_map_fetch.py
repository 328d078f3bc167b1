"""Fetching a war map over real HTTP from a local server: conditional GET, retries, errors."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.errors import FeedUnavailable
from advisor.feeds.war_map import MapNotModified, WarMapFetcher

BODY = json.dumps({"type": "FeatureCollection", "features": []}).encode()
ETAG = '"map-20260822"'


class _Handler(BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, int]] = {}
    failures_left: ClassVar[dict[str, int]] = {}
    seen_headers: ClassVar[list[dict]] = []

    def do_GET(self):
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        self.seen_headers.append(dict(self.headers))
        if self.failures_left.get(self.path, 0) > 0:
            self.failures_left[self.path] -= 1
            return self._send(503, b"busy")
        if self.path == "/map.geojson":
            if self.headers.get("If-None-Match") == ETAG:
                return self._send(304, b"")
            modified = "Sat, 22 Aug 2026 06:00:00 GMT"
            return self._send(200, BODY, {"ETag": ETAG, "Last-Modified": modified})
        if self.path == "/slow.geojson":
            time.sleep(1.5)
            return self._send(200, BODY)
        if self.path == "/huge.geojson":
            return self._send(200, b"x" * 5000)
        if self.path == "/lying.geojson":  # no Content-Length: the cap applies while streaming
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"y" * 5000)
            return None
        return self._send(404, b"not found")

    def _send(self, status, body, headers=None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _fetcher(tmp_path, **kw):
    kw.setdefault("retries", 0)
    kw.setdefault("backoff_seconds", 0)
    return WarMapFetcher(tmp_path / "validators.json", **kw)


def test_conditional_get_remembers_the_etag(server, tmp_path):
    fetcher = _fetcher(tmp_path)
    assert fetcher.fetch(f"{server}/map.geojson") == BODY
    with pytest.raises(MapNotModified, match="has not changed since the last import"):
        fetcher.fetch(f"{server}/map.geojson")
    assert _Handler.seen_headers[-1]["If-None-Match"] == ETAG
    assert "If-Modified-Since" in _Handler.seen_headers[-1]
    assert fetcher.fetch(f"{server}/map.geojson", conditional=False) == BODY


def test_retries_an_idempotent_get(server, tmp_path):
    _Handler.failures_left["/map.geojson"] = 2
    _Handler.hits.pop("/map.geojson", None)
    fetcher = _fetcher(tmp_path, retries=3)
    assert fetcher.fetch(f"{server}/map.geojson", conditional=False) == BODY
    assert _Handler.hits["/map.geojson"] == 3


@pytest.mark.parametrize(
    ("path", "words"),
    [("/missing.geojson", "answered HTTP 404"),
     ("/huge.geojson", "larger than the 1,000 byte limit"),
     ("/lying.geojson", "larger than the 1,000 byte limit")],
)  # fmt: skip
def test_errors_name_the_url_and_the_problem(server, tmp_path, path, words):
    with pytest.raises(FeedUnavailable, match=words) as caught:
        _fetcher(tmp_path, max_bytes=1000).fetch(f"{server}{path}")
    assert server in caught.value.message


def test_a_slow_server_times_out(server, tmp_path):
    with pytest.raises(FeedUnavailable, match=r"timed out after 0\.3 s"):
        _fetcher(tmp_path, timeout_seconds=0.3).fetch(f"{server}/slow.geojson")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_url_is_a_clear_error(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/map.geojson"
    with pytest.raises(FeedUnavailable, match="could not be fetched"):
        _fetcher(tmp_path).fetch(url)


def test_cli_import_from_an_unreachable_url_keeps_the_map(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_INSTANCE_PATH", str(tmp_path))
    url = f"http://127.0.0.1:{_closed_port()}/map.geojson"
    result = CliRunner().invoke(main, ["war-map", "import", url])
    assert result.exit_code == 1
    assert "could not be fetched" in result.output and "map in force is unchanged" in result.output
    listed = CliRunner().invoke(main, ["war-map", "list"])
    assert "the shipped map is in force" in listed.output
