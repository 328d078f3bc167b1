"""Run ``advisor serve`` (gunicorn) in a subprocess on a free loopback port.

Used by the serving test, the browser tests and ``tests/benchmarks/bench_http.py``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(base_url: str, timeout_seconds: float = 60.0) -> requests.Response:
    """Poll ``/readyz`` until it answers 200 (the network is loaded in a worker)."""
    deadline = time.monotonic() + timeout_seconds
    last = None
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.ConnectionError):
            last = requests.get(f"{base_url}/readyz", timeout=30)
            if last.status_code == 200:
                return last
        time.sleep(0.2)
    detail = last.text if last is not None else "no answer"
    raise RuntimeError(f"server at {base_url} not ready after {timeout_seconds}s: {detail}")


@contextlib.contextmanager
def serve(instance_path: Path, workers: int = 2, env: dict | None = None, log_path=None):
    """Start ``advisor serve`` and yield its base URL; stop it (SIGTERM) afterwards."""
    port = free_port()
    environment = {
        **os.environ,
        "ADVISOR_INSTANCE_PATH": str(instance_path),
        **(env or {}),
    }
    command = [sys.executable, "-m", "advisor.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    log = open(log_path or os.devnull, "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
