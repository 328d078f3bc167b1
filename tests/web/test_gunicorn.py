"""``advisor serve`` runs the real production server (gunicorn) on the embedded defaults."""

from __future__ import annotations

import json

import pytest
import requests

from tests.web.server import serve, wait_until_ready

pytestmark = pytest.mark.slow


def test_serve_answers_on_embedded_defaults(tmp_path):
    log_path = tmp_path / "server.log"
    with serve(tmp_path / "instance", workers=2, log_path=log_path) as (base, process):
        ready = wait_until_ready(base)
        assert ready.json() == {"status": "ready", "problems": []}
        assert requests.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
        page = requests.get(
            f"{base}/", params={"from": "Київ", "to": "Харків"}, timeout=30,
            headers={"Accept-Language": "uk"},
        )  # fmt: skip
        assert page.status_code == 200 and "Рекомендовано" in page.text
        api = requests.get(
            f"{base}/api/v1/routes", params={"from": "Львів", "to": "Київ"}, timeout=30
        )
        assert api.status_code == 200 and api.json()["options"]
        missing = requests.get(f"{base}/api/v1/routes", params={"from": "Київ"}, timeout=10)
        assert missing.status_code == 400
        assert missing.headers["Content-Type"] == "application/problem+json"
        assert process.poll() is None
    assert (tmp_path / "instance" / "advisor.sqlite3").exists()  # SQLite in the instance folder
    lines = log_path.read_text(encoding="utf-8").splitlines()
    assert any("gunicorn" in line.lower() or "Booting worker" in line for line in lines)
    access = [json.loads(line) for line in lines if line.startswith("{")]
    requests_logged = [json.loads(e["message"]) for e in access if e["logger"] == "advisor.access"]
    assert {"/healthz", "/api/v1/routes"} <= {r["path"] for r in requests_logged}
