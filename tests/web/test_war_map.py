"""The war map on the passenger map (issue 11): hatched occupied area, the front-line band,
the borders, the map's date and attribution; still small, nothing from other hosts."""

from __future__ import annotations

import re

import pytest

from advisor.services import FileFlagSource
from advisor.settings import Settings
from advisor.war_maps import WarLayers
from advisor.web.present import war_overlay
from advisor.web.svgmap import MapLine, MapPoint, render_map
from tests.web.conftest import make_app
from tests.web.test_pages import MAX_PAGE_BYTES

KYIV, KHERSON, LVIV = (50.44, 30.49), (46.65, 32.6), (49.84, 24.0)


@pytest.fixture(scope="module")
def layer(shipped_network):
    return WarLayers(Settings()).layer(shipped_network)


@pytest.fixture
def client(tmp_path, shipped_network):
    source = FileFlagSource([Settings().baseline_flags_path])
    app = make_app(tmp_path, shipped_network, source, rate_limit_per_minute=0)
    return app.test_client()


def _svg(page: str) -> str:
    return page[page.index("<svg") : page.index("</svg>") + 6]


def test_results_map_draws_the_occupied_area_hatched_with_date_and_source(client):
    page = client.get("/?from=kyiv&from_id=kyiv&to=kherson&to_id=kherson")
    assert page.status_code == 200
    svg = _svg(page.text)
    assert '<pattern id="war-hatch"' in svg and 'fill="url(#war-hatch)"' in svg
    assert 'stroke-dasharray="2 3"' in svg  # the front-line band's outline
    assert "Мапа окупації: DeepStateMap, 22.08.2026" in svg  # fits inside the picture
    # the key to the shapes is text under the map, where it wraps on a phone
    legend = page.text[page.text.index("</svg>"):]
    assert "DeepStateMap, мапа від 22.08.2026" in legend and "Штрихування" in legend
    assert len(page.data) < MAX_PAGE_BYTES
    hosts = set(re.findall(r"(?:href|src)=\"(https?://[^\"]+)", page.text))
    assert not hosts  # strict CSP: nothing from other hosts


def test_english_caption(client):
    page = client.get("/?from=kyiv&from_id=kyiv&to=kherson&to_id=kherson&lang=en")
    svg = _svg(page.text)
    assert "Occupation map: DeepStateMap, 2026-08-22" in svg
    assert "Hatched: occupied territory (DeepStateMap, map of 2026-08-22)" in page.text
    assert "Штрихування" not in page.text


def test_a_far_western_map_draws_no_occupied_shapes_but_names_the_map(layer):
    svg = render_map([MapLine((KYIV, LVIV), mode=_rail(), option=0)],
                     [MapPoint(*KYIV, "Київ", "origin")], "t", "d", war_overlay(layer, "uk"))
    assert 'fill="url(#war-hatch)"' not in svg  # clipped away: nothing occupied in view
    assert "DeepStateMap, 22.08.2026" in svg


def test_the_overlay_is_clipped_and_small(layer):
    svg = render_map([MapLine((KYIV, KHERSON), mode=_rail(), option=0)],
                     [MapPoint(*KYIV, "Київ", "origin")], "t", "d", war_overlay(layer, "en"))
    assert 'fill="url(#war-hatch)"' in svg and len(svg.encode()) < 20_000
    assert "Occupation map: DeepStateMap, 2026-08-22" in svg  # the key is printed under it


def _rail():
    from advisor.network.model import Mode

    return Mode.RAIL
