"""The whole console workflow in headless Chromium against the real app under gunicorn.

An operator signs in (keyboard only), finds the Kharkiv–Kupiansk line, flags it high with
a reason, previews the impact (shown first, changed pairs first, Publish after it) and
publishes; a passenger asking Kyiv → Kupiansk is then told about the flag and not sent by
the direct train; the operator withdraws the flag (confirmed, with a reason) and the advice
changes back. Two operators editing one flag: the second save shows the merged flag and
asks whose value to keep where both changed it. Plus, over real HTTP: a viewer cannot
publish, a forged form without the CSRF token is refused, and wrong passwords are
rate-limited.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.operator.live_server import overrides_for

CHROMIUM = os.environ.get("ADVISOR_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct horse battery"
REASON_EN = "Drone strikes on the Kharkiv – Kupiansk line"
REASON_UK = "Удари дронів по лінії Харків – Куп'янськ"
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 60_000  # an impact preview plans 16 city pairs twice on the national network

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"Chromium is not installed at {CHROMIUM}"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prepare_accounts(instance: Path) -> None:
    from advisor.services import COMMAND_LINE, open_operations
    from advisor.settings import load_settings

    ops = open_operations(load_settings(overrides_for(instance)))
    ops.create_user("operator1", PASSWORD, "operator", COMMAND_LINE)
    ops.create_user("operator2", PASSWORD, "operator", COMMAND_LINE)
    ops.create_user("viewer1", PASSWORD, "viewer", COMMAND_LINE)
    ops.close()


def _wait_ready(base: str, process, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if requests.get(f"{base}/readyz", timeout=30).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not become ready")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn with 2 workers on a free loopback port: shipped network, fresh SQLite store."""
    instance = tmp_path_factory.mktemp("console-live")
    _prepare_accounts(instance)
    port = _free_port()
    log = (instance / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.operator.live_server",
            "--port",
            str(port),
            "--instance",
            str(instance),
            "--workers",
            "2",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def _sign_in_with_keyboard(page, base: str, username: str) -> None:
    page.goto(f"{base}/operator/flags?lang=en")
    assert "/operator/signin" in page.url
    # The user name field has autofocus; the rest is Tab and Enter.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'username'")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    error = page.locator("#signin-error")
    assert error.count() == 0, error.inner_text()
    page.wait_for_url(lambda url: urlsplit(url).path == "/operator/flags")
    assert page.get_by_role("heading", name="Flags").is_visible()


def _passenger_results(page, base: str) -> dict:
    """A passenger (own browser context: no cookies, no cache shared with the operator)
    asks Kyiv → Kupiansk on the journey form."""
    context = page.context.browser.new_context(locale="en-GB")
    try:
        passenger = context.new_page()
        passenger.set_default_timeout(TIMEOUT_MS)
        response = passenger.goto(f"{base}/?lang=en&from=Київ&to=Куп'янськ")
        assert response.status == 200, passenger.content()[:3000]
        first = passenger.locator("article.option").first
        return {
            "text": passenger.locator("#results").inner_text(),
            "first": first.inner_text(),
            "first_modes": first.locator(".leg .mode").all_inner_texts(),
        }
    finally:
        context.close()


def _passenger_results_once(page, base: str, expect, seconds: float = 5.0) -> dict:
    """Ask until *expect* holds: the other gunicorn worker re-reads the flag store at most
    ``flags_refresh_seconds`` (1 s) later, so a change may take that long to reach it."""
    deadline = time.monotonic() + seconds
    while True:
        results = _passenger_results(page, base)
        if expect(results) or time.monotonic() > deadline:
            return results
        time.sleep(0.25)


def test_operator_flags_kharkiv_kupiansk_and_passengers_are_advised(server, page, tmp_path):
    before = _passenger_results(page, server)
    assert REASON_EN not in before["text"]
    assert before["first_modes"][0] == "Train"  # the direct train, before any flag

    _sign_in_with_keyboard(page, server, "operator1")
    page.get_by_role("link", name="New flag").click()
    page.fill("#query", "Купʼянськ")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=re.compile(r"^Line: Kharkiv – Kupiansk")).click()
    assert page.locator("#line_id").input_value() == "kharkiv-kupiansk"
    page.select_option("#level", "high")
    page.fill("#reason_uk", REASON_UK)
    page.fill("#reason_en", REASON_EN)
    page.fill("#source", "Укрзалізниця")
    page.get_by_role("button", name="Preview the impact").first.click()
    impact = page.locator("#impact")
    impact.wait_for()
    assert "Kharkiv – Kupiansk" in impact.inner_text()
    assert impact.locator("svg.route-map").count() == 1
    page.screenshot(path=str(tmp_path / "impact-preview.png"), full_page=True)
    _impact_comes_first_and_publish_after_it(page)
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(lambda url: urlsplit(url).path.startswith("/operator/flags/f-"))
    assert "published" in page.locator(".messages").inner_text()
    flag_url = page.url

    after = _passenger_results_once(page, server, lambda r: REASON_EN in r["text"])
    assert REASON_EN in after["text"], after["text"]  # the passenger is told about the flag
    assert "Train" not in after["first_modes"] or "Not advised" in after["first"]

    page.goto(flag_url)
    page.get_by_role("link", name="Withdraw this flag…").click()
    page.get_by_role("heading", name="Withdraw this flag?").wait_for()
    page.get_by_role("button", name="Yes, withdraw it").click()  # no reason: not sent
    assert page.get_by_role("heading", name="Withdraw this flag?").is_visible()
    assert page.locator("#reason").evaluate("el => !el.validity.valid")
    page.fill("#reason", "Line repaired, trains run normally")
    page.get_by_role("button", name="Yes, withdraw it").click()
    page.wait_for_url(lambda url: urlsplit(url).path == urlsplit(flag_url).path)
    assert "withdrawn" in page.locator(".messages").inner_text()
    assert page.locator(".meta .badge.withdrawn").count() == 1
    assert page.locator(".meta .badge.risk-high").count() == 0
    restored = _passenger_results_once(page, server, lambda r: REASON_EN not in r["text"])
    assert REASON_EN not in restored["text"]
    assert restored["first_modes"] == before["first_modes"]


def _top(locator) -> float:
    return locator.evaluate("el => el.getBoundingClientRect().top + window.scrollY")


def _impact_comes_first_and_publish_after_it(page) -> None:
    """The page opens at the impact (not 2,000 px above it), the pairs whose advice
    changes come first with what changes, and Publish follows the impact."""
    impact, form = page.locator("#impact"), page.locator("#flag-form")
    publish = page.get_by_role("button", name="Publish")
    assert _top(impact) < _top(publish) < _top(form)
    assert urlsplit(page.url).fragment == "impact"
    scrolled = page.evaluate("window.scrollY")
    assert abs(scrolled - _top(impact)) < 200, (scrolled, _top(impact))
    first_row = impact.locator("table.pairs tbody tr").first
    assert "loses" in (first_row.get_attribute("class") or "")
    assert "was:" in first_row.inner_text() and "now:" in first_row.inner_text()
    # Only the fieldset of the chosen kind is shown.
    assert page.locator("fieldset.kind-line").is_visible()
    assert not page.locator("fieldset.kind-circle").is_visible()


def test_a_conflict_shows_the_merged_flag_and_asks_for_a_choice(server, browser):
    first_context = browser.new_context(locale="en-GB")
    second_context = browser.new_context(locale="en-GB")
    try:
        first, second = first_context.new_page(), second_context.new_page()
        for page, name in ((first, "operator1"), (second, "operator2")):
            page.set_default_timeout(TIMEOUT_MS)
            _sign_in_with_keyboard(page, server, name)
        first.goto(f"{server}/operator/flags/new?lang=en")
        first.select_option("#line_id", "kharkiv-kupiansk")
        first.fill("#reason_en", "Conflict test")
        first.fill("#source", "test")
        first.get_by_role("button", name="Save as draft").click()
        first.wait_for_url(lambda url: "/operator/flags/f-" in url)
        flag_url = first.url
        second.goto(flag_url)  # both have version 1 open
        second.select_option("#level", "suspended")
        second.get_by_role("button", name="Save the draft").click()
        assert "saved as a draft" in second.locator(".messages").inner_text()

        first.select_option("#level", "elevated")
        first.fill("#reason_en", "Conflict test, reason edited")
        first.get_by_role("button", name="Save the draft").click()
        conflict = first.locator("section.conflict")
        conflict.wait_for()
        assert "operator2" in conflict.inner_text()
        assert first.locator("tr.contested").count() == 1  # the level: both changed it
        first.get_by_role("button", name="Save the draft").click()  # no choice yet
        assert "Choose whose value to keep" in first.locator(".errors").inner_text()
        first.get_by_label("Theirs, as saved now").check()
        first.get_by_role("button", name="Save the draft").click()
        first.wait_for_url(lambda url: urlsplit(url).path == urlsplit(flag_url).path)
        first.goto(flag_url + "?lang=en")
        assert first.locator("#level").input_value() == "suspended"  # theirs, not reverted
        assert first.locator("#reason_en").input_value() == "Conflict test, reason edited"
    finally:
        first_context.close()
        second_context.close()


def test_a_viewer_sees_no_publish_button_and_a_forced_publish_is_refused(server, page):
    _sign_in_with_keyboard(page, server, "viewer1")
    page.goto(f"{server}/operator/flags/new?lang=en")
    assert page.get_by_role("link", name="New flag").count() == 0
    page.select_option("#line_id", "kharkiv-kupiansk")
    page.fill("#reason_en", "Viewer test")
    page.fill("#source", "test")
    page.get_by_role("button", name="Preview the impact").first.click()
    page.locator("#impact").wait_for()
    assert page.get_by_role("button", name="Publish").count() == 0
    # The same form posted with action=publish and this session's valid CSRF token.
    form = {
        "csrf_token": page.locator("input[name=csrf_token]").first.input_value(),
        "previewed": page.locator("input[name=previewed]").input_value(),
        "kind": "line",
        "line_id": "kharkiv-kupiansk",
        "level": "high",
        "reason_en": "Viewer test",
        "source": "test",
        "action": "publish",
    }
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    response = requests.post(
        f"{server}/operator/flags/new?lang=en",
        data=form,
        cookies=cookies,
        allow_redirects=False,
        timeout=TIMEOUT_MS / 1000,
    )
    assert response.status_code == 403
    assert "Viewer test" not in requests.get(f"{server}/api/v1/flags", timeout=30).text


def test_a_forged_form_without_the_csrf_token_is_refused(server, page):
    _sign_in_with_keyboard(page, server, "operator1")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = {
        "kind": "line",
        "line_id": "kharkiv-kupiansk",
        "level": "suspended",
        "reason_en": "forged",
        "source": "evil",
        "action": "save",
    }
    response = requests.post(
        f"{server}/operator/flags/new",
        data=forged,
        cookies=cookies,
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 400
    page.goto(f"{server}/operator/flags?lang=en")
    assert "forged" not in page.content()


def test_wrong_passwords_are_rate_limited(server):
    session = requests.Session()
    statuses = []
    for _ in range(7):
        form = session.get(f"{server}/operator/signin?lang=en", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        response = session.post(
            f"{server}/operator/signin?lang=en",
            timeout=30,
            allow_redirects=False,
            data={"csrf_token": token, "username": "operator1", "password": "wrong guess"},
        )
        statuses.append(response.status_code)
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    assert int(response.headers["Retry-After"]) > 0
