"""The main pages at 360 px and 1280 px in both languages: screenshots saved to
``tests/artifacts/``, axe-core (shipped by ``axe-playwright-python``) with no serious or
critical violation, heading order, nothing cut off, and the recommended option's verdict,
times and legs above the fold of a 360 × 740 phone.
"""

from __future__ import annotations

import itertools
import json

import pytest

pytestmark = pytest.mark.browser

JOURNEY = "/?from=Київ&to=Краматорськ"
PAGES = {"form": "/", "results": JOURNEY, "choices": "/?from=Київ&to=Kramtsk"}
SIZES = {"phone": (360, 740), "desktop": (1280, 800)}


@pytest.fixture(scope="module")
def axe():
    module = pytest.importorskip("axe_playwright_python.sync_playwright")
    return module.Axe()


def _open(browser, live_server, path, lang, size):
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="uk-UA" if lang == "uk" else "en-GB",
        has_touch=size == "phone",
    )
    page = context.new_page()
    sep = "&" if "?" in path else "?"
    page.goto(f"{live_server}{path}{sep}lang={lang}")
    return context, page


@pytest.mark.parametrize("lang", ["uk", "en"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_passes_axe_keeps_heading_order_and_fits(
    browser, live_server, artifacts, axe, name, size, lang
):
    context, page = _open(browser, live_server, PAGES[name], lang, size)
    shot = artifacts / f"page-{name}-{lang}-{SIZES[size][0]}.png"
    page.screenshot(path=str(shot), full_page=True)
    results = axe.run(page)
    bad = [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, bad
    levels = page.evaluate(
        "[...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])"
    )
    assert levels and levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size][0], f"{width} px wide"
    overflowing = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.scrollWidth > e.clientWidth + 1"
        " && getComputedStyle(e).overflow !== 'visible').map(e => e.tagName + '#' + e.id)"
    )
    assert not overflowing, overflowing  # nothing cut off (the old risk select was)
    context.close()


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_recommended_verdict_time_and_first_leg_are_above_the_fold_on_a_phone(
    browser, live_server, artifacts, lang
):
    context, page = _open(browser, live_server, JOURNEY, lang, "phone")
    card = page.locator("article.option.recommended")
    assert card.count() == 1
    found = {}
    for part, selector in (
        ("verdict", ".verdict"),
        ("time", ".total"),
        ("first leg", "ol.legs > li"),
    ):
        box = card.locator(selector).first.bounding_box()
        found[part] = {"top": round(box["y"]), "bottom": round(box["y"] + box["height"])}
    (artifacts / f"phone-fold-{lang}.json").write_text(json.dumps(found), encoding="utf-8")
    page.screenshot(path=str(artifacts / f"phone-fold-{lang}.png"))  # what the phone shows
    assert all(part["bottom"] <= 740 for part in found.values()), found
    # the other options look different: only one card says "advised"
    assert page.locator("article.option.recommended .verdict").inner_text().strip()
    context.close()


def test_notices_fold_into_one_line_and_open_on_request(browser, live_server):
    context, page = _open(browser, live_server, JOURNEY, "uk", "phone")
    details = page.locator("details.notices")
    assert details.count() == 1
    summary = details.locator("summary")
    assert summary.bounding_box()["height"] < 80  # one or two lines, not three boxes
    assert not details.locator("li").first.is_visible()
    summary.click()
    assert details.locator("li").first.is_visible()
    context.close()
