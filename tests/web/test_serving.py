"""What every response carries: security headers, error pages without traces, probes."""

from __future__ import annotations

import json

import pytest

from advisor import create_app
from tests.web.conftest import FailingSource, make_app


@pytest.fixture
def bare_app(tmp_path):
    """The app as built by the factory, before any services are attached."""
    return create_app({"testing": True, "instance_path": tmp_path})


def test_healthz_is_alive(bare_app):
    response = bare_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_when_network_and_flags_are_fine(app):
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "problems": []}


def test_readyz_names_what_is_wrong(tmp_path, tiny_network, flag_file):
    source = FailingSource(flag_file)
    source.failing = True
    app = make_app(tmp_path, tiny_network, source)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not-ready"
    assert any("flag store unreachable" in p for p in response.json["problems"])


def test_readyz_without_a_network(tmp_path, flag_file):
    app = make_app(tmp_path, None, FailingSource(flag_file), network_dataset=tmp_path / "none.gz")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert any("network not loaded" in p for p in response.json["problems"])


@pytest.mark.parametrize("path", ["/healthz", "/no-such-page", "/api/v1/openapi.json"])
def test_security_headers_on_every_response(bare_app, path):
    response = bare_app.test_client().get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp  # no other host is ever allowed
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Request-Id"]


def test_unknown_page_is_html_for_browsers(bare_app):
    response = bare_app.test_client().get(
        "/no-such-page", headers={"Accept": "text/html", "Accept-Language": "uk"}
    )
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Сторінку не знайдено" in response.text
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_api_path_is_problem_json(bare_app):
    response = bare_app.test_client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == 404 and body["instance"] == "/api/v1/no-such-thing"


def test_a_bug_shows_no_stack_trace(bare_app):
    @bare_app.get("/boom")
    def boom():
        raise RuntimeError("secret detail in /srv/app.py line 3")

    client = bare_app.test_client()
    page = client.get("/boom", headers={"Accept": "text/html"})
    api = client.get("/boom", headers={"Accept": "application/json"})
    assert page.status_code == api.status_code == 500
    assert "secret detail" not in page.text and "Traceback" not in page.text
    assert "secret detail" not in api.text and api.mimetype == "application/problem+json"


def test_static_assets_are_served_locally(bare_app):
    client = bare_app.test_client()
    for name in ("style.css", "suggest.js"):
        with client.get(f"/assets/{name}") as response:
            assert response.status_code == 200
            assert b"http://" not in response.data and b"https://" not in response.data


def test_request_log_is_one_json_line(bare_app, caplog):
    with caplog.at_level("INFO", logger="advisor.access"):
        bare_app.test_client().get("/healthz")
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "advisor.access"]
    assert records and records[-1]["path"] == "/healthz" and records[-1]["status"] == 200
    assert records[-1]["duration_ms"] >= 0


def test_openapi_document_is_served(bare_app):
    response = bare_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    assert {"/stations", "/routes"} <= set(document["paths"])
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_results_page_is_revalidated_not_kept(client):
    """A flag published a second ago must reach the next page view: no max-age, an ETag."""
    url = "/?from=Київ&to=Харків&date=2026-03-10&time=08:00"
    page = client.get(url)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-cache"
    again = client.get(url, headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304
