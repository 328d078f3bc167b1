"""Audit finding 3: clients that drip their request headers must not stall an instance.

A real ``advisor serve`` (gunicorn, 2 workers) on loopback; a bounded number of
connections send a request head one byte at a time while ``/healthz`` is asked. With sync
workers two such clients held both workers (``/healthz`` waited 35.8 s, then both workers
were killed); the threaded workers keep answering. The bound is generous (a correctness
check, not a benchmark); ``tests/benchmarks/`` is the place for timings.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
import requests

from tests.web.server import serve, wait_until_ready

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 6  # three per worker: more than sync workers could ever hold
DRIP_SECONDS = 12.0
ANSWER_WITHIN_SECONDS = 5.0


def _drip(base_url: str, stop: threading.Event, sent: list[int]) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    with contextlib.closing(socket.create_connection((host, int(port)), timeout=5)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for byte in b"X-Slow: " + b"a" * 200:
            if stop.wait(0.25):
                return
            with contextlib.suppress(OSError):
                sock.sendall(bytes([byte]))
                sent.append(1)


def test_slow_clients_do_not_hold_every_worker(tmp_path):
    with serve(tmp_path / "instance", workers=2, log_path=tmp_path / "server.log") as (base, _):
        wait_until_ready(base)
        stop, sent = threading.Event(), []
        drippers = [
            threading.Thread(target=_drip, args=(base, stop, sent), daemon=True)
            for _ in range(SLOW_CLIENTS)
        ]
        for thread in drippers:
            thread.start()
        waits = []
        try:
            time.sleep(1.0)  # every slow client is connected and has started its head
            deadline = time.monotonic() + DRIP_SECONDS
            while time.monotonic() < deadline:
                started = time.monotonic()
                answer = requests.get(f"{base}/healthz", timeout=ANSWER_WITHIN_SECONDS * 4)
                waits.append(time.monotonic() - started)
                assert answer.status_code == 200
                time.sleep(0.5)
        finally:
            stop.set()
            for thread in drippers:
                thread.join(timeout=5)
        assert len(sent) > SLOW_CLIENTS * 10, "the slow clients were dripping all along"
        assert max(waits) < ANSWER_WITHIN_SECONDS, waits
