"""Fetching a feed over real HTTP from a local server: success, retries, errors."""

from __future__ import annotations

import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.errors import FeedUnavailable
from advisor.feeds.fetch import FeedFetcher, is_url
from advisor.network.gtfs import read_feed
from tests.feeds.conftest import FIXTURES


def _zip_of(folder) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in folder.iterdir():
            zf.write(path, path.name)
    return buffer.getvalue()


class _Handler(BaseHTTPRequestHandler):
    feeds: ClassVar[dict[str, bytes]] = {}
    failures_left: ClassVar[dict[str, int]] = {"/flaky.zip": 2}
    hits: ClassVar[dict[str, int]] = {}

    def do_GET(self):
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        if self.failures_left.get(self.path, 0) > 0:
            self.failures_left[self.path] -= 1
            self._send(503, b"busy")
        elif self.path == "/notzip.zip":
            self._send(200, b"<html>login page</html>")
        elif self.path.lstrip("/") in self.feeds or self.path == "/flaky.zip":
            self._send(200, self.feeds.get(self.path.lstrip("/"), self.feeds["abstract.zip"]))
        else:
            self._send(404, b"not found")

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def server():
    _Handler.feeds = {
        "abstract.zip": _zip_of(FIXTURES / "abstract"),
        "ua-rail.zip": _zip_of(FIXTURES / "ua-rail"),
    }
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def fetcher():
    fetcher = FeedFetcher(timeout_seconds=5, retries=3, backoff_seconds=0.01)
    yield fetcher
    fetcher.close()


def test_fetch_and_read(server, fetcher, tmp_path):
    path = fetcher.fetch(f"{server}/abstract.zip", tmp_path)
    timetable, report = read_feed(path)
    assert report.feed_id == "abstract" and timetable.trip_count == 37


def test_retries_a_busy_server(server, fetcher, tmp_path):
    path = fetcher.fetch(f"{server}/flaky.zip", tmp_path)
    assert zipfile.is_zipfile(path)
    assert _Handler.hits["/flaky.zip"] == 3  # two 503s, then the file


@pytest.mark.parametrize(
    ("path", "message"),
    [("/missing.zip", "HTTP 404"), ("/notzip.zip", "did not send a zip")],
)
def test_errors_name_the_url(server, fetcher, tmp_path, path, message):
    with pytest.raises(FeedUnavailable, match=message) as info:
        fetcher.fetch(f"{server}{path}", tmp_path)
    assert path in info.value.message


def test_unreachable_server(fetcher, tmp_path):
    with pytest.raises(FeedUnavailable, match="could not be fetched"):
        FeedFetcher(timeout_seconds=1, retries=0).fetch("http://127.0.0.1:9/feed.zip", tmp_path)


def test_cli_imports_from_a_url(server, tmp_path, monkeypatch, national_network):
    monkeypatch.setenv("ADVISOR_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["feeds", "import", f"{server}/ua-rail.zip"])
    assert result.exit_code == 0, result.output
    assert "feed ua-rail:" in result.output
    assert (tmp_path / "timetable.pkl.gz").exists()


def test_is_url():
    assert is_url("https://example.org/gtfs.zip")
    assert not is_url("/work/feeds/gtfs.zip")
