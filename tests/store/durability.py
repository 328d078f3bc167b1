"""Kill the real server (gunicorn, SIGKILL) in the middle of flag writes and check the store.

Used by the durability test and by ``tests/benchmarks/bench_store.py``. Every write the API
acknowledged (a 2xx answer) must be found after a restart, and the database must be
consistent: versions 1..n without gaps, the head at the newest version, one audit entry per
version.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ADVISOR = Path(sys.executable).with_name("advisor")


@dataclass
class DurabilityResult:
    """What one run found."""

    acknowledged: int = 0
    found: int = 0
    refused: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)
    flags_checked: int = 0
    write_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every acknowledged write found, nothing inconsistent, no 5xx."""
        return self.found == self.acknowledged and not (
            self.missing or self.inconsistent or self.refused
        )


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(workdir: Path, dataset: Path, database_url: str | None = None) -> dict:
    """Environment for a server on *dataset* with its store in *workdir* (no baseline flags)."""
    (workdir / "baseline.toml").write_text("", encoding="utf-8")
    config = workdir / "advisor.toml"
    config.write_text(
        f'[network]\nbaseline_flags = "{workdir / "baseline.toml"}"\n', encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update(
        ADVISOR_INSTANCE_PATH=str(workdir / "instance"),
        ADVISOR_NETWORK_DATASET=str(dataset),
        ADVISOR_CONFIG=str(config),
        ADVISOR_SECRET_KEY="durability-test",
        # The per-client request limit is not under test; the writers would trip it.
        ADVISOR_RATE_LIMIT_PER_MINUTE="0",
    )
    if database_url:
        env["ADVISOR_DATABASE_URL"] = database_url
    return env


class Server:
    """``advisor serve`` (gunicorn, 2 workers) in its own process group."""

    def __init__(self, env: dict, workers: int = 2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.log = open(Path(env["ADVISOR_INSTANCE_PATH"]).parent / "server.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(ADVISOR), "serve", "--port", str(self.port), "--workers", str(workers)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout_seconds: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise RuntimeError(f"server exited with {code}; see {self.log.name}")
            try:
                if requests.get(f"{self.base}/flags", timeout=5).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or workers still booting
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout_seconds} s; see {self.log.name}")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: no shutdown code runs."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        """Graceful stop (SIGTERM)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def _writer(base: str, headers: dict, name: str, stop: threading.Event, acks: list, refused: list):
    """Create, publish, edit (and every other flag withdraw) until the server dies."""
    session = requests.Session()
    session.headers.update(headers)
    n = 0
    while not stop.is_set():
        n += 1
        fid = f"d-{name}-{n}"
        steps = [
            ("post", "/flags", {"id": fid, "level": "high", "status": "draft",
                                "target": {"kind": "line", "line_id": "lozova-kramatorsk"},
                                "reason_uk": "Перевірка", "reason_en": "Check", "source": "test"}),
            ("post", f"/flags/{fid}/publish", {"version": 1}),
            ("patch", f"/flags/{fid}", {"version": 2, "level": "suspended"}),
        ]
        if n % 2 == 0:
            steps.append(("post", f"/flags/{fid}/withdraw", {"version": 3}))
        for method, path, body in steps:
            try:
                resp = session.request(method, base + path, json=body, timeout=10)
            except requests.RequestException:
                return  # the server is gone; this write was never acknowledged
            if resp.status_code >= 300:
                refused.append(f"{method.upper()} {path}: {resp.status_code} {resp.text[:200]}")
                return
            data = resp.json()
            acks.append((data["id"], data["version"], data["status"], data["level"]))


def run(workdir: Path, dataset: Path, database_url: str | None = None, writers: int = 4,
        kill_after_seconds: float = 1.5) -> DurabilityResult:
    """Write through the API, SIGKILL the server mid-writes, restart, and check everything."""
    from advisor.services import COMMAND_LINE, open_operations
    from advisor.settings import load_settings

    env = server_env(workdir, dataset, database_url)
    ops = open_operations(load_settings(environ=env))
    ops.create_user("durable", "a long enough password", "operator", COMMAND_LINE)
    secret = ops.create_token("durable", "durability", None, COMMAND_LINE).secret
    headers = {"Authorization": f"Bearer {secret}"}
    result = DurabilityResult()
    server = Server(env)
    try:
        server.wait_ready()
        acks, stop = [], threading.Event()
        threads = [
            threading.Thread(target=_writer, args=(server.base, headers, str(i), stop, acks,
                                                   result.refused))
            for i in range(writers)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(kill_after_seconds)
        server.kill()  # writes are in flight right now
        result.write_seconds = time.monotonic() - started
        stop.set()
        for thread in threads:
            thread.join(30)
    finally:
        if server.proc.poll() is None:
            server.kill()
    result.acknowledged = len(acks)
    _check_over_http(env, headers, acks, result)
    _check_consistency(ops, result)
    ops.close()
    return result


def _check_over_http(env, headers, acks, result: DurabilityResult) -> None:
    server = Server(env)
    try:
        server.wait_ready()
        histories: dict[str, set] = {}
        for fid, version, status, level in acks:
            if fid not in histories:
                resp = requests.get(f"{server.base}/flags/{fid}/history", headers=headers,
                                    timeout=10)
                versions = resp.json().get("versions", []) if resp.status_code == 200 else []
                histories[fid] = {(v["version"], v["status"], v["level"]) for v in versions}
            if (version, status, level) in histories[fid]:
                result.found += 1
            else:
                result.missing.append(f"{fid} v{version} {status} {level}")
    finally:
        server.stop()


def _check_consistency(ops, result: DurabilityResult) -> None:
    store = ops.store
    for flag in store.list_flags():
        result.flags_checked += 1
        versions = [f.version for f in store.list_flag_versions(flag.id)]
        audit = store.list_audit(object_id=flag.id, limit=1000)
        if versions != list(range(1, flag.version + 1)):
            result.inconsistent.append(f"{flag.id}: versions {versions}, head {flag.version}")
        audited = sorted(entry.after["version"] for entry in audit)
        if audited != versions:  # one audit entry per version, naming that version
            result.inconsistent.append(f"{flag.id}: audit names versions {audited}, {versions}")
    if store.backend == "sqlite":
        with store.engine.connect() as conn:
            check = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
        if check != "ok":
            result.inconsistent.append(f"sqlite integrity_check: {check}")
