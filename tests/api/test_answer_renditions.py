"""``GET /routes`` renders an answer's JSON once per language and keeps it (plain and gzipped)
with the answer in the answer cache: a hit must read exactly like a fresh render, but for
the documented time fields, in every language and encoding, and revalidate correctly."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import brotli
import pytest

from advisor.api.schema import ADVICE_TIME_FIELDS, advice_to_json
from advisor.routing.planner import plan
from advisor.services import FileFlagSource, Services
from tests.clock import Clock
from tests.web.conftest import LOZOVA_KRAMATORSK_HIGH, flag_file, make_app, write_flags  # noqa: F401

NOW = datetime.now(UTC).replace(microsecond=0)
ROUTE = "/api/v1/routes?from=Київ&to=Краматорськ"


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def app(tmp_path, tiny_network, flag_file, clock):  # noqa: F811
    app = make_app(tmp_path, tiny_network, None, rate_limit_per_minute=0)
    settings = app.extensions["advisor.settings"]
    # Re-read the flags only when a test says so (a refresh re-stamps flags_updated_at).
    settings = type(settings)(**{**vars(settings), "flags_refresh_seconds": 3600.0})
    app.extensions["advisor.services"] = Services(
        settings, network=tiny_network, flag_source=FileFlagSource([flag_file]), clock=clock
    )
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def _fresh_body(app, path, locale):
    """The body the route would send for *path* had nothing been cached."""
    services = app.extensions["advisor.services"]
    with app.test_request_context(path):
        from flask import request

        args = request.args
        query = services.query(args["from"], args["to"], at=args.get("at"))
        state = services.risk_state
        advice = plan(services.network, state.index, query, services.freshness(state))
        return app.json.response(advice_to_json(advice, services.network, locale)).get_data()


def _without_times(body: bytes) -> dict:
    data = json.loads(body)
    for part, name in ADVICE_TIME_FIELDS:
        data[part].pop(name)
    return data


@pytest.mark.parametrize("locale", ["uk", "en"])
def test_a_hit_is_a_fresh_render_byte_for_byte(app, client, locale):
    path = f"{ROUTE}&lang={locale}"
    first = client.get(path)
    second = client.get(path)
    assert (first.headers["X-Answer-Cache"], second.headers["X-Answer-Cache"]) == ("miss", "hit")
    fresh = _fresh_body(app, path, locale)
    assert first.data == second.data == fresh
    assert json.loads(second.data)["locale"] == locale


def test_a_hit_carries_its_own_times(app, client, clock):
    services = app.extensions["advisor.services"]
    first = client.get(ROUTE)
    clock.now = NOW + timedelta(minutes=7)
    services.refresh_flags()  # same flags, same version: a new update time
    later = client.get(ROUTE)
    assert later.headers["X-Answer-Cache"] == "hit"
    body = json.loads(later.data)
    assert body["query"]["depart_at"] == clock.now.isoformat()
    assert body["freshness"]["flags_updated_at"] == clock.now.isoformat()
    assert json.loads(first.data)["query"]["depart_at"] == NOW.isoformat()
    assert _without_times(later.data) == _without_times(first.data)
    assert later.data == _fresh_body(app, ROUTE, "uk")


def test_languages_are_kept_apart(client):
    english = client.get(ROUTE, headers={"Accept-Language": "en"})
    ukrainian = client.get(ROUTE, headers={"Accept-Language": "uk"})
    assert ukrainian.headers["X-Answer-Cache"] == "hit"  # the same answer, its own rendering
    assert json.loads(english.data)["query"]["from"]["name"] != json.loads(
        ukrainian.data
    )["query"]["from"]["name"]
    assert (json.loads(english.data)["locale"], json.loads(ukrainian.data)["locale"]) == (
        "en", "uk",
    )  # fmt: skip
    assert client.get(ROUTE, headers={"Accept-Language": "en"}).data == english.data


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("gzip", "gzip"),
        ("gzip, deflate, br", "gzip"),  # both taken as gladly: the spliced gzip body
        ("br", "br"),
        ("gzip;q=0.5, br", "br"),
        ("identity", None),
        ("", None),
    ],
)
def test_content_encoding_follows_accept_encoding(client, accept, encoding):
    plain = client.get(ROUTE).data
    for _ in range(2):  # a miss, then a hit
        response = client.get(ROUTE, headers={"Accept-Encoding": accept})
        assert response.headers.get("Content-Encoding") == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
        assert "Accept-Language" in response.headers["Vary"]
        unpack = {"gzip": gzip.decompress, "br": brotli.decompress, None: bytes}[encoding]
        assert unpack(response.data) == plain
        assert int(response.headers["Content-Length"]) == len(response.data)


def test_spliced_gzip_is_about_as_small_as_plain_gzip(client):
    packed = client.get(ROUTE, headers={"Accept-Encoding": "gzip"})
    plain = client.get(ROUTE).data
    assert len(packed.data) < len(gzip.compress(plain)) * 1.1


@pytest.mark.parametrize("accept", ["gzip", "br", ""])
def test_revalidation_answers_304_until_the_answer_changes(app, client, tmp_path, accept):
    headers = {"Accept-Encoding": accept}
    first = client.get(ROUTE, headers=headers)
    etag = first.headers["ETag"]
    again = client.get(ROUTE, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    other = client.get(ROUTE, headers={"Accept-Encoding": "gzip" if accept != "gzip" else ""})
    assert other.headers["ETag"] != etag  # each encoding its own validator
    # A flag withdrawn: a new risk-state version, so a fresh answer and a new ETag.
    services = app.extensions["advisor.services"]
    services.flag_source = FileFlagSource([write_flags(tmp_path / "none.json", [])])
    services.refresh_flags()
    changed = client.get(ROUTE, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["X-Answer-Cache"] == "miss"
    assert changed.headers["ETag"] != etag
    assert "lbk-high" not in json.loads(
        {"gzip": gzip.decompress, "br": brotli.decompress, "": bytes}[accept](changed.data)
    )["flags"]


def test_a_published_flag_is_never_answered_from_an_old_rendering(app, client, tmp_path):
    services = app.extensions["advisor.services"]
    services.flag_source = FileFlagSource([write_flags(tmp_path / "none.json", [])])
    services.refresh_flags()
    before = client.get(ROUTE, headers={"Accept-Encoding": "gzip"})
    assert "lbk-high" not in [f["id"] for f in json.loads(gzip.decompress(before.data))["flags"]]
    services.flag_source = FileFlagSource(
        [write_flags(tmp_path / "one.json", [LOZOVA_KRAMATORSK_HIGH])]
    )
    services.refresh_flags()
    after = client.get(ROUTE, headers={"Accept-Encoding": "gzip"})
    assert after.headers["X-Answer-Cache"] == "miss"
    assert "lbk-high" in [f["id"] for f in json.loads(gzip.decompress(after.data))["flags"]]
    assert gzip.decompress(after.data) == _fresh_body(app, ROUTE, "uk")
