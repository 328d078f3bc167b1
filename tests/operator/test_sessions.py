"""Signing in and out, server-side sessions, cookies, headers, CSRF and the sign-in limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from advisor.risk.model import utcnow
from tests.operator.conftest import PASSWORD, Console, make_console_app


def test_console_pages_redirect_to_sign_in(console):
    response = console.get("/operator/flags?status=draft")
    assert response.status_code == 302
    assert "/operator/signin" in response.headers["Location"]
    assert "next=/operator/flags" in response.headers["Location"]


def test_sign_in_goes_where_the_operator_was_going(console):
    console.get("/operator/signin")
    response = console.post(
        "/operator/signin",
        {"username": "operator1", "password": PASSWORD, "next": "/operator/audit?lang=en"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/operator/audit?lang=en"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/api/v1/flags"])
def test_sign_in_never_redirects_outside_the_console(console, target):
    console.get("/operator/signin")
    response = console.post(
        "/operator/signin", {"username": "operator1", "password": PASSWORD, "next": target}
    )
    assert response.headers["Location"].startswith("/operator/flags")


def test_cookie_is_httponly_lax_and_scoped_to_the_console(console):
    console.get("/operator/signin")
    response = console.post("/operator/signin", {"username": "operator1", "password": PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "advisor_console=" in c)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/operator" in cookie
    assert "Secure" not in cookie  # testing: plain HTTP on loopback


def test_sign_in_form_token_is_a_strict_cookie_secure_outside_tests(tmp_path, tiny_dataset):
    app = make_console_app(tmp_path, tiny_dataset, testing=False)
    cookie = app.test_client().get("/operator/signin").headers["Set-Cookie"]
    assert cookie.startswith("advisor_console_csrf=")
    assert "; Secure" in cookie and "SameSite=Strict" in cookie and "HttpOnly" in cookie


def test_session_id_changes_at_sign_in(console):
    """A session id planted before sign-in (fixation) is never the signed-in one."""
    console.client.set_cookie("advisor_console", "planted-by-an-attacker-0123456789",
                              path="/operator")
    console.get("/operator/signin")
    console.post("/operator/signin", {"username": "operator1", "password": PASSWORD})
    second = console.client.get_cookie("advisor_console", path="/operator").value
    assert second != "planted-by-an-attacker-0123456789"


def _session_rows(app) -> int:
    from sqlalchemy import func, select

    from advisor.store.sessions import ConsoleSessionRow

    engine = app.extensions["advisor.operations"].store.engine
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(ConsoleSessionRow))


def test_anonymous_visits_write_no_session_rows(console_app):
    """Audit finding 7: each anonymous visit to the sign-in page inserted a session row."""
    for _ in range(300):
        assert Console(console_app).get("/operator/signin").status_code == 200
    assert _session_rows(console_app) == 0
    visitor = Console(console_app)
    assert visitor.sign_in("operator1").status_code == 302  # the form still works
    assert _session_rows(console_app) == 1


def test_sign_in_without_the_form_token_is_refused(console_app):
    visitor = Console(console_app)
    visitor.get("/operator/signin")
    visitor.client.delete_cookie("advisor_console_csrf", path="/operator")
    response = visitor.post("/operator/signin", {"username": "operator1", "password": PASSWORD})
    assert response.status_code == 400


def test_passenger_pages_and_api_get_no_console_cookie(signed_in):
    operator = signed_in("operator1")
    for path in ("/", "/api/v1/flags", "/healthz"):
        assert "Set-Cookie" not in operator.client.get(path).headers


def test_wrong_password_is_refused_with_the_name_kept(console):
    console.get("/operator/signin")
    response = console.post("/operator/signin", {"username": "operator1", "password": "nope"})
    assert response.status_code == 401
    assert 'value="operator1"' in response.get_data(as_text=True)
    assert console.get("/operator/flags").status_code == 302


def test_wrong_passwords_are_rate_limited_per_address(tmp_path, tiny_dataset):
    app = make_console_app(tmp_path, tiny_dataset, signin_attempts_per_15_minutes=3)
    attacker, other = Console(app, "10.0.0.7"), Console(app, "10.0.0.8")
    for _ in range(3):
        assert attacker.sign_in("operator1", "wrong password").status_code == 401
    refused = attacker.sign_in("operator1")  # even the right password, from that address
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert other.sign_in("operator1").status_code == 302


def test_sign_out_ends_the_server_session(signed_in):
    operator = signed_in("operator1")
    cookie = operator.client.get_cookie("advisor_console", path="/operator").value
    assert operator.post("/operator/signout", {}).status_code == 302
    assert operator.client.get_cookie("advisor_console", path="/operator") is None
    # Replaying the old cookie does not bring the session back: the row is gone.
    operator.client.set_cookie("advisor_console", cookie, path="/operator")
    assert operator.get("/operator/flags").status_code == 302


def test_sessions_expire_after_the_idle_limit(console_app, signed_in):
    operator = signed_in("operator1")
    sessions = console_app.extensions["advisor.console_sessions"]
    minutes = console_app.extensions["advisor.settings"].session_minutes
    later = utcnow() + timedelta(minutes=minutes - 1)
    sessions.clock = lambda: later
    assert operator.get("/operator/flags").status_code == 200  # activity moves expiry on
    much_later = later + timedelta(minutes=minutes + 1)
    sessions.clock = lambda: much_later
    assert operator.get("/operator/flags").status_code == 302


def test_a_disabled_account_loses_its_session_at_once(console_app, signed_in):
    from advisor.services import COMMAND_LINE

    operator = signed_in("operator1")
    console_app.extensions["advisor.operations"].update_user(
        "operator1", COMMAND_LINE, active=False
    )
    assert operator.get("/operator/flags").status_code == 302


def test_security_headers_on_console_pages(signed_in):
    response = signed_in("operator1").get("/operator/flags/new")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "script-src 'self'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in response.get_data(as_text=True)


@pytest.mark.parametrize("token", [None, "", "forged-token-value-of-the-right-length-xx"])
def test_forms_without_this_sessions_csrf_token_are_refused(console_app, signed_in, token):
    operator = signed_in("operator1")
    data = {
        "action": "save",
        "kind": "line",
        "line_id": "kyiv-sumy",
        "level": "high",
        "reason_en": "x",
        "source": "test",
    }
    if token is not None:
        data["csrf_token"] = token
    response = operator.post("/operator/flags/new", data, csrf=False)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True) or "токен" in response.get_data(
        as_text=True
    )
    ops = console_app.extensions["advisor.operations"]
    from advisor.services import COMMAND_LINE

    assert ops.list_flags(COMMAND_LINE) == []


def test_sign_in_itself_needs_the_csrf_token(console):
    console.get("/operator/signin")
    response = console.post(
        "/operator/signin", {"username": "operator1", "password": PASSWORD}, csrf=False
    )
    assert response.status_code == 400
