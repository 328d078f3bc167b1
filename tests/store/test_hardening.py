"""Audit findings 1, 5, 8 and 9 of issue 13, against real stores.

1: text that cannot be read back never reaches the store, and rows written before the
check still read, snapshot and log. 5: the workers of one instance serve one flag set when
the store comes and goes. 8: driver internals never reach clients. 9: the last admin stays.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner

from advisor import create_app
from advisor.cli import main
from advisor.errors import Conflict, InvalidFlag, NotFound
from advisor.services import COMMAND_LINE, SNAPSHOT_FILE, Principal, Role
from advisor.store.snapshot import FlagSnapshot
from advisor.wsgi import JsonFormatter
from tests.store.apptools import app_config, tiny_dataset  # noqa: F401 - fixture
from tests.store.databases import database_url  # noqa: F401 - fixture
from tests.store.test_outage import (
    UNREACHABLE_PG,
    _baseline_file,
    _flag,
    _publish,
    _take_away,
)
from tests.web.conftest import LOZOVA_KRAMATORSK_HIGH


@pytest.fixture
def app(tmp_path, tiny_dataset):  # noqa: F811
    application = create_app(app_config(tmp_path, tiny_dataset, flags_refresh_seconds=0))
    yield application
    application.extensions["advisor.operations"].close()


# --- 1: nothing stored that cannot be read back, snapshotted, rendered and logged -------------


@pytest.mark.parametrize("bad", ["\udfff", "a\x00b", "bell\x07", "\ud800\udc00"])
def test_text_that_cannot_round_trip_is_refused_before_the_store(app, bad):
    ops = app.extensions["advisor.operations"]
    with pytest.raises(InvalidFlag) as info:
        _publish(ops, reason_en=bad)
    assert info.value.field == "reason_en" and "U+" in info.value.message
    assert ops.store.list_flags() == []


def test_a_bad_row_from_before_the_check_still_reads_snapshots_and_logs(app, tmp_path):
    ops, services = app.extensions["advisor.operations"], app.extensions["advisor.services"]
    # As an older release stored it: the repository itself does not re-validate.
    ops.store.add_flag(replace(_flag(), reason_en="bad \udfff"), actor="old release")
    state = services.refresh_flags()
    assert state.available and state.flags[0].reason_en == "bad \ufffd"
    saved = FlagSnapshot(tmp_path / "instance" / SNAPSHOT_FILE).read()
    assert saved.flags[0].reason_en == "bad \ufffd"
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/flags").status_code == 200
    record = logging.LogRecord("t", logging.ERROR, "", 0, "value %s", ("x\udfff",), None)
    assert JsonFormatter().format(record).encode("utf-8")  # a log line is always writable


def test_snapshot_with_one_unreadable_flag_keeps_the_others(tmp_path):
    path = tmp_path / SNAPSHOT_FILE
    good = {**LOZOVA_KRAMATORSK_HIGH, "status": "published"}
    body = {"format": 1, "read_at": "2026-11-20T06:30:00+00:00",
            "flags": [good, {**good, "id": "broken", "level": "grave"}]}  # fmt: skip
    path.write_text(json.dumps(body), encoding="utf-8")
    assert [f.id for f in FlagSnapshot(path).read().flags] == ["lbk-high"]


# --- 5: one flag set per instance while the store comes and goes ---------------------------


def test_workers_serve_the_same_flags_when_the_store_returns_and_goes_again(
    tmp_path, tiny_dataset  # noqa: F811
):
    """Audit finding 5: a worker that started during the outage kept serving the baseline
    flags (21) while its sibling served the flags read when the store was back (249)."""
    database = tmp_path / "flap.sqlite3"
    database.mkdir()  # the store is down at start
    config = app_config(
        tmp_path, tiny_dataset, f"sqlite:///{database}",
        baseline_flags_path=_baseline_file(tmp_path), flags_refresh_seconds=0,
    )
    first, second = create_app(config), create_app(config)  # two workers, one instance folder
    one, two = first.extensions["advisor.services"], second.extensions["advisor.services"]
    one.flag_source.retry_max_seconds = 0
    assert one.refresh_flags().origin == two.refresh_flags().origin == "baseline"
    database.rmdir()  # the store is back …
    assert one.refresh_flags().available
    _publish(first.extensions["advisor.operations"], id="fresh")
    # … worker two is in its back-off meanwhile and does not ask the store …
    two.flag_source._retry_monotonic = time.monotonic() + 3600
    for app in (first, second):
        app.extensions["advisor.operations"].close()
    _take_away(database)  # … and it goes again.
    one.flag_source._retry_monotonic = two.flag_source._retry_monotonic = 0.0
    state_one, state_two = one.refresh_flags(), two.refresh_flags()
    assert not state_one.available and not state_two.available
    assert {f.id for f in state_two.flags} == {f.id for f in state_one.flags}
    assert {f.id for f in state_two.flags} == {"baseline-lbk", "fresh"}
    assert state_two.origin == "snapshot"


# --- 8: no driver internals in answers ---------------------------------------------------


def test_store_errors_do_not_reach_clients(tmp_path, tiny_dataset):  # noqa: F811
    """Audit finding 8: PostgreSQL's message (host, port, bytes) was the 503 detail."""
    client = create_app(app_config(tmp_path, tiny_dataset, UNREACHABLE_PG)).test_client()
    answers = [
        client.get("/api/v1/flags/lbk-high"),
        client.post("/api/v1/flags", json={}, headers={"Authorization": "Bearer adv_x"}),
        client.get("/operator/signin"),
    ]
    for answer in answers:
        assert answer.status_code == 503
        text = answer.get_data(as_text=True)
        for secret in ("127.0.0.1", "port 1", "postgres@", "connection to server", "\x00"):
            assert secret not in text, (secret, text)
    assert answers[0].json["error_kind"] == "OperationalError"


# --- 9: the last admin, and restoring an account from the command line --------------------


def test_the_last_admin_cannot_disable_or_demote_themselves(app):
    ops = app.extensions["advisor.operations"]
    ops.create_user("root", "a long enough password", "admin", COMMAND_LINE)
    me = Principal("root", Role.ADMIN, "10.0.0.1")
    for change in ({"active": False}, {"role": "operator"}):
        with pytest.raises(Conflict) as info:
            ops.update_user("root", me, **change)
        assert info.value.extra["reason"] == "last-admin"
    assert ops.store.find_user("root").active
    ops.create_user("second", "a long enough password", "admin", COMMAND_LINE)
    assert not ops.update_user("root", me, active=False).active  # another admin remains


def test_cli_restores_a_disabled_account(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("ADVISOR_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    for name in ("ann", "bob"):
        run("users", "create", name, "--role", "admin", "--password-stdin",
            input="a long enough password\n")  # fmt: skip
    assert run("users", "update", "bob", "--disable").exit_code == 0
    assert "(disabled)" in run("users", "list").output
    restored = run("users", "update", "bob", "--enable", "--role", "operator")
    assert restored.exit_code == 0 and "'bob' is now operator, active" in restored.output
    refused = run("users", "update", "ann", "--disable")
    assert refused.exit_code == 1 and "last active admin" in refused.output
    assert run("users", "update", "ann").exit_code == 2  # nothing to change


# --- 1 and 8 on both databases: a NUL in an id is "not found", not a store failure ---------


@pytest.fixture
def backend_app(tmp_path, tiny_dataset, database_url):  # noqa: F811
    from tests.store.apptools import issue_tokens

    application = create_app(app_config(tmp_path, tiny_dataset, database_url))
    yield application, issue_tokens(application)
    application.extensions["advisor.operations"].close()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/flags/a%00b", 404),
        ("get", "/api/v1/flags/a%00b/history", 404),
        ("patch", "/api/v1/flags/a%00b", 404),
        ("post", "/api/v1/flags/a%00b/withdraw", 404),
        ("get", "/api/v1/audit?object=a%00b", 400),
    ],
)
def test_nul_in_an_id_is_answered_without_asking_the_database(backend_app, method, path, status):
    """PostgreSQL refuses a NUL in a text parameter with an error, which was answered as
    "store unavailable" (503) with the driver's text."""
    app, tokens = backend_app
    client = app.test_client()
    response = getattr(client, method)(path, json={"version": 1}, headers=tokens.operator)
    assert response.status_code == status, response.get_data(as_text=True)
    ops = tokens.ops
    with pytest.raises(NotFound):
        ops.update_user("a\x00b", COMMAND_LINE, active=False)
    with pytest.raises(NotFound):
        ops.create_token("a\x00b", "t", None, COMMAND_LINE)
