"""The public JSON API: /stations and /routes, their errors, headers and rate limit."""

from __future__ import annotations

import time

import pytest

from advisor.services import FileFlagSource
from tests.web.conftest import app, client, flag_file, make_app  # noqa: F401 - fixtures

PROBLEM = "application/problem+json"


def test_station_search(client):  # noqa: F811
    response = client.get("/api/v1/stations?q=Харків&limit=3")
    assert response.status_code == 200
    body = response.json
    assert body["query"] == "Харків"
    assert body["stations"][0]["id"] == "kharkiv"
    assert len(body["stations"]) <= 3
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Харків" in response.text  # UTF-8, not \\u escapes


def test_station_names_follow_the_language(client):  # noqa: F811
    english = client.get("/api/v1/stations?q=Kharkiv&lang=en").json["stations"][0]
    ukrainian = client.get("/api/v1/stations?q=Kharkiv&lang=uk").json["stations"][0]
    assert english["name"] == "Kharkiv-Pas." and ukrainian["name"] == "Харків-Пас."


def test_routes_full_answer(client):  # noqa: F811
    response = client.get("/api/v1/routes?from=Київ&to=Краматорськ&tolerance=balanced")
    assert response.status_code == 200
    body = response.json
    assert body["query"]["from"]["id"] == "kyiv" and body["query"]["to"]["id"] == "kramatorsk"
    kinds = [o["kind"] for o in body["options"]]
    assert kinds[0] == "recommended"
    assert body["options"][0]["verdict"] in ("advised", "caution")
    not_advised = [o for o in body["options"] if o["verdict"] == "not_advised"]
    assert not_advised and "lbk-high" in not_advised[0]["legs"][0]["flag_ids"] + [
        f for leg in not_advised[0]["legs"] for f in leg["flag_ids"]
    ]
    ids = [f["id"] for f in body["flags"]]
    assert [i for i in ids if not i.startswith("war-map-")] == ["lbk-high"]
    assert "war-map-front-elevated" in ids  # Kramatorsk lies 18 km from occupied ground
    assert all("author" not in f for f in body["flags"])  # operators' names are not public
    for option in body["options"]:
        assert option["time"]["estimated"] is True
        assert (
            abs(option["time"]["minutes"] - sum(leg["time"]["minutes"] for leg in option["legs"]))
            < 0.5
        )
        for leg in option["legs"]:
            assert leg["time"]["estimated"] is True and leg["time"]["source"] != "timetable"
            assert leg["time"]["departure"] is None  # never a clock time for an estimate
    assert body["freshness"]["flags_available"] is True
    assert body["freshness"]["flags_updated_at"]
    assert "2019" in body["provenance"]["bus"] and "OpenStreetMap" in body["provenance"]["rail"]
    assert {n["code"] for n in body["notices"]} >= {"estimated_times", "bus_data_2019"}
    assert response.headers["Cache-Control"] == "public, no-cache"
    assert response.headers["ETag"]


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("/api/v1/stations", 400, "q"),
        ("/api/v1/stations?q=%20", 400, "q"),
        ("/api/v1/stations?q=Київ&limit=abc", 400, "limit"),
        ("/api/v1/stations?q=Київ&limit=0", 400, "limit"),
        ("/api/v1/stations?q=" + "x" * 500, 400, None),
        ("/api/v1/routes?to=Київ", 400, "from"),
        ("/api/v1/routes?from=Київ", 400, "to"),
        ("/api/v1/routes?from=Київ&to=Qwxzzy", 404, "to"),
        ("/api/v1/routes?from=Київ&to=kyiv", 400, "to"),
        ("/api/v1/routes?from=Київ&to=Суми&at=tomorrow", 400, "at"),
        ("/api/v1/routes?from=Київ&to=Суми&at=1999-01-01T00:00", 400, "at"),
        ("/api/v1/routes?from=Київ&to=Суми&tolerance=yolo", 400, "tolerance"),
        ("/api/v1/routes?from=Київ&to=Суми&modes=plane", 400, "modes"),
        ("/api/v1/routes?from=Київ&to=Суми&modes=,", 400, "modes"),
    ],
)
def test_bad_input_is_a_problem_naming_the_value(client, query, status, field):  # noqa: F811
    response = client.get(query)
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status and body["detail"] and body["type"].startswith("https://")
    if field:
        assert body["field"] == field
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_station_problem_carries_suggestions(client):  # noqa: F811
    body = client.get("/api/v1/routes?from=Київ&to=Kramtsk").json
    assert (
        body["code"] == "unknown-station" and body["field"] == "to" and body["value"] == "Kramtsk"
    )
    assert "kramatorsk" in body["suggestions"]


def test_cors_preflight(client):  # noqa: F811
    response = client.options(
        "/api/v1/routes",
        headers={"Origin": "https://partner.example", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


def test_rate_limit_per_client_address(tmp_path, tiny_network, flag_file):  # noqa: F811
    limited = make_app(tmp_path, tiny_network, FileFlagSource([flag_file]), rate_limit_per_minute=3)
    limited_client = limited.test_client()
    statuses = [limited_client.get("/api/v1/stations?q=Київ").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = limited_client.get("/api/v1/stations?q=Київ")
    assert response.mimetype == PROBLEM and response.json["status"] == 429
    assert int(response.headers["Retry-After"]) > 0
    other = limited_client.get("/api/v1/stations?q=Київ", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200  # another address has its own budget


def test_route_revalidation_answers_304_only_while_the_answer_is_unchanged(client):  # noqa: F811
    """Caches must revalidate advice; an unchanged answer costs a 304, a changed one a 200."""
    url = "/api/v1/routes?from=kyiv&to=kharkiv&at=2026-03-10T08:00%2B02:00"
    first = client.get(url)
    assert first.status_code == 200
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    # Re-reading unchanged flags moves "flags_updated_at" but not the advice: still a 304
    # (a refresh between two requests made this test flaky while the ETag covered the stamp).
    services = client.application.extensions["advisor.services"]
    time.sleep(0.01)
    services.refresh_flags()
    reread = client.get(url)
    stamps = [r.json["freshness"]["flags_updated_at"] for r in (first, reread)]
    assert stamps[0] != stamps[1]
    assert reread.headers["ETag"] == first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    stale = client.get(url, headers={"If-None-Match": '"not-the-current-answer"'})
    assert stale.status_code == 200 and stale.json["options"]
