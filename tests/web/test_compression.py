"""Pages and JSON are sent compressed (brotli or gzip) when the client accepts it."""

from __future__ import annotations

import gzip

import brotli
import pytest

JOURNEY = "/?from=Київ&to=Краматорськ"


@pytest.mark.parametrize(
    "path", [JOURNEY, "/api/v1/routes?from=Київ&to=Краматорськ", "/api/v1/openapi.json"]
)
def test_html_and_json_are_gzipped(client, path):
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert plain.headers.get("Content-Encoding") is None
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 2
    # same answer (the page carries its request's times, so compare the shape for HTML)
    assert gzip.decompress(packed.data)[:200] == plain.data[:200]


def test_brotli_is_preferred_when_offered(client):
    packed = client.get(JOURNEY, headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(packed.data).startswith(b"<!doctype html>")


def test_results_page_stays_under_60_kb_with_its_css_and_script(client):
    page = client.get(JOURNEY, headers={"Accept-Encoding": "gzip"})
    total = len(page.data)
    for asset in ("/assets/style.css", "/assets/suggest.js"):
        with client.get(asset) as response:
            total += len(response.data)
    assert total < 60_000, total
