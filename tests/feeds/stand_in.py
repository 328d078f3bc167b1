"""The part every local stand-in of a remote feed shares: a threaded HTTP server on a free
loopback port, run with ``with``, recording each request, and one way to send an answer.

A subclass says what to answer in :meth:`StandInServer.answer` (called for every GET, after
the request is recorded) by calling ``send(status, body, headers)``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandInServer:
    """Base of the feed stand-ins; ``self.port`` is the port it listens on."""

    content_type = "application/octet-stream"

    def __init__(self):
        self.requests: list[dict] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]

    def answer(self, path: str, headers, send) -> None:
        """Answer a GET of *path* with *headers* by calling ``send(status, body, headers)``."""
        raise NotImplementedError

    def __enter__(self):
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(server: StandInServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):
            server.requests.append({"path": self.path, "headers": dict(self.headers)})
            server.answer(self.path, self.headers, self._send)

        def _send(self, status, body: bytes, headers=None):
            try:
                self.send_response(status)
                self.send_header("Content-Type", server.content_type)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                pass

    return Handler
