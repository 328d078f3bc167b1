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


@pytest.mark.parametrize(
    ("parts", "slots"),
    [
        ([b"only"], []),
        ([b"", b""], [0]),
        ([b'{"a":', b',"b":', b',"c":', b"}"], [2, 0, 1]),
        ([b"x" * 70_000, b"", b"y" * 3], [1, 0]),
    ],
)
def test_spliced_gzip_decodes_to_the_filled_body(parts, slots):
    from advisor.compression import SplicedBody

    body = SplicedBody(parts, slots)
    rounds = [
        [b'"2026-03-01T10:00:00+00:00"', b"null", b"7"],
        [b"z" * 70_000, b"null", b"z" * 70_000],  # longer than one stored block
        [b"z" * 70_000, b"null", b"7"],
        [b"", b'"later"', b""],
    ]
    for values in rounds:
        packed = body.gzipped(values)
        assert gzip.decompress(packed) == body.identity(values)
        assert packed[:4] == b"\x1f\x8b\x08\x00"
