"""A passenger's journey in a real browser: suggestions, submit, results, language switch,
the same without JavaScript, keyboard only, a small screen, and no request to another host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


def _context(browser, **options):
    options.setdefault("locale", "uk-UA")
    return browser.new_context(**options)


def _watch(page):
    """Record every request's host and every console error (CSP violations show there)."""
    seen = {"hosts": set(), "errors": []}
    page.on("request", lambda r: seen["hosts"].add(urlsplit(r.url).netloc))
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    return seen


def _results_heading(page) -> str:
    return page.locator("#results-title").inner_text()


def test_search_with_suggestions_submit_and_read_results(browser, live_server, artifacts):
    context = _context(browser, viewport={"width": 1000, "height": 900})
    page = context.new_page()
    seen = _watch(page)
    page.goto(live_server + "/")
    assert page.locator("h1").inner_text() == "Сплануйте поїздку потягом чи автобусом"
    page.get_by_label("Звідки").fill("Київ")
    page.get_by_label("Куди").press_sequentially("Крамат", delay=30)
    # the script fills the shared datalist from the JSON API as the user types
    page.wait_for_function(
        "[...document.querySelectorAll('#stations option')].some(o => o.value.startsWith('Крамат'))"
    )
    # the script fills the list at once, each option with a hint
    page.locator("#stations option[label]").first.wait_for(state="attached")
    offered = page.eval_on_selector_all(
        "#stations option", "os => os.map(o => [o.value, o.getAttribute('label')])"
    )
    # only names starting with the typed text, each told apart by kind and oblast
    assert all(value.startswith("Крамат") for value, _ in offered), offered
    assert ["Краматорськ", "залізнична станція, Донецька обл."] in offered, offered
    page.get_by_label("Куди").fill("Краматорськ")
    page.get_by_role("button", name="Знайти маршрути").click()
    page.wait_for_selector("#results")
    assert _results_heading(page) == "Київ-Пас. → Краматорськ"
    first = page.locator("article.option").first
    assert "recommended" in first.get_attribute("class")
    assert "Рекомендовано" in first.locator("h2").inner_text()
    assert "Радимо" in first.locator(".verdict").inner_text()
    not_advised = page.locator("article.verdict-not_advised")
    assert not_advised.count() >= 1
    assert "Високий ризик" in not_advised.first.inner_text()
    assert "Лозова–Барвінкове–Краматорськ" in not_advised.first.locator(".why").inner_text()
    assert page.locator("svg.route-map polyline").count() >= 2
    page.screenshot(path=str(artifacts / "results-uk.png"), full_page=True)
    assert seen["hosts"] == {urlsplit(live_server).netloc}
    assert not seen["errors"], seen["errors"]
    context.close()


def test_language_switch_keeps_the_journey(browser, live_server):
    context = _context(browser)
    page = context.new_page()
    page.goto(live_server + "/?from=Київ&to=Краматорськ&tolerance=strict")
    page.get_by_role("link", name="English").click()
    page.wait_for_selector("#results")
    assert page.locator("html").get_attribute("lang") == "en"
    assert _results_heading(page) == "Kyiv-Pas. → Kramatorsk"
    assert page.locator('input[name="tolerance"]:checked').input_value() == "strict"
    assert "(estimated)" in page.locator("article.option").first.inner_text()
    context.close()


def test_same_journey_without_javascript(browser, live_server, artifacts):
    context = _context(browser, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/")
    page.get_by_label("Звідки").fill("Київ")
    page.get_by_label("Куди").fill("Kramtsk")  # a typo: the server offers choices
    page.get_by_role("button", name="Знайти маршрути").click()
    page.wait_for_selector(".errors")
    assert page.locator("#f-to").input_value() == "Kramtsk"  # what the user typed is kept
    page.get_by_role("radio", name="Краматорськ").first.check()
    page.get_by_role("button", name="Знайти маршрути").click()
    page.wait_for_selector("#results")
    assert _results_heading(page) == "Київ-Пас. → Краматорськ"
    assert "(оцінка)" in page.locator("article.option").first.inner_text()
    page.screenshot(path=str(artifacts / "results-nojs.png"), full_page=True)
    context.close()


def test_keyboard_only_on_a_small_screen(browser, live_server):
    context = _context(browser, viewport={"width": 360, "height": 740}, has_touch=True)
    page = context.new_page()
    page.goto(live_server + "/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.get_by_label("Звідки").focus()
    page.keyboard.type("Дніпро")
    page.keyboard.press("Tab")
    page.keyboard.type("Запоріжжя")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results")
    assert "Запоріжжя" in _results_heading(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide on a 360 px phone screen"
    context.close()
