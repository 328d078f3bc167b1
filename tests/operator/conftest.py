"""Fixtures of the operator console tests: an app over the tiny network with a fresh store,
one account per role, and a small browser-like client that carries the CSRF token."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from tests.store.apptools import app_config, tiny_dataset  # noqa: F401

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_PREVIEWED = re.compile(r'name="previewed" value="([^"]+)"')

LOZOVA_KRAMATORSK = {
    "kind": "line",
    "line_id": "lozova-kramatorsk",
    "level": "high",
    "reason_uk": "Обстріли колії",
    "reason_en": "Strikes on the track",
    "source": "Укрзалізниця",
}


def make_console_app(tmp_path, tiny_dataset, **overrides):  # noqa: F811
    """The real app (SQLite store, tiny network) with viewer1, operator1, operator2, admin1."""
    from advisor import create_app
    from advisor.services import COMMAND_LINE

    config = app_config(tmp_path, tiny_dataset, rate_limit_per_minute=0, **overrides)
    app = create_app(config)
    ops = app.extensions["advisor.operations"]
    # Cheap argon2 parameters keep account set-up fast; production uses the defaults.
    ops.passwords = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    for name, role in (
        ("viewer1", "viewer"),
        ("operator1", "operator"),
        ("operator2", "operator"),
        ("admin1", "admin"),
    ):
        ops.create_user(name, PASSWORD, role, COMMAND_LINE)
    return app


@pytest.fixture
def console_app(tmp_path, tiny_dataset):  # noqa: F811
    """A fresh console app; its store is closed afterwards."""
    app = make_console_app(tmp_path, tiny_dataset)
    yield app
    app.extensions["advisor.operations"].close()


class Console:
    """A test client that signs in and posts forms with the page's CSRF token."""

    def __init__(self, app, address: str = "127.0.0.1"):
        self.client = app.test_client()
        self.environ = {"REMOTE_ADDR": address}
        self.token = ""

    def get(self, path: str, **kw):
        response = self.client.get(path, environ_base=self.environ, **kw)
        found = _CSRF.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict, csrf: bool = True):
        if csrf and not self.token:
            self.get("/operator/signin")
        body = {**data, "csrf_token": self.token} if csrf else dict(data)
        response = self.client.post(path, data=body, environ_base=self.environ)
        found = _CSRF.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def sign_in(self, username: str, password: str = PASSWORD):
        self.get("/operator/signin")
        response = self.post("/operator/signin", {"username": username, "password": password})
        if response.status_code == 302:
            self.get("/operator/flags")  # the new session's CSRF token
        return response

    def preview(self, path: str, fields: dict):
        """Post the flag form with action=preview; returns (response, previewed digest)."""
        response = self.post(path, {**fields, "action": "preview"})
        found = _PREVIEWED.search(response.get_data(as_text=True))
        return response, found.group(1) if found else None

    def publish_new(self, fields: dict) -> str:
        """Preview then publish a new flag; returns its id."""
        _, digest = self.preview("/operator/flags/new", fields)
        response = self.post(
            "/operator/flags/new", {**fields, "action": "publish", "previewed": digest}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return flag_id_of(response)


def flag_id_of(response) -> str:
    """The flag id in a redirect to ``/operator/flags/<id>``."""
    return response.headers["Location"].split("/operator/flags/")[1].split("?")[0]


@pytest.fixture
def console(console_app):
    """An anonymous console client."""
    return Console(console_app)


@pytest.fixture
def signed_in(console_app):
    """Factory: a console client signed in as *username*."""

    def make(username: str, address: str = "127.0.0.1") -> Console:
        client = Console(console_app, address)
        assert client.sign_in(username).status_code == 302
        return client

    return make
