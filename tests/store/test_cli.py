"""``advisor db upgrade``, ``users create``, ``tokens create/revoke/list`` against a real store."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from advisor.cli import main


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("ADVISOR_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_first_set_up_from_the_command_line(run, tmp_path):
    assert "revision" in run("db", "upgrade").output
    assert (tmp_path / "advisor.sqlite3").exists()
    created = run("users", "create", "ops", "--role", "operator", "--password-stdin",
                  input="a long enough password\n")
    assert created.exit_code == 0 and "operator account 'ops'" in created.output
    issued = run("tokens", "create", "ops", "--name", "deploy")
    secret = issued.stdout.strip()
    assert issued.exit_code == 0 and secret.startswith("adv_") and len(secret) > 40
    listed = run("tokens", "list").output
    assert "deploy" in listed and "active" in listed and secret not in listed
    assert run("tokens", "revoke", "1").exit_code == 0
    assert "revoked" in run("tokens", "list").output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("users", "create", "x", "--password-stdin"), "short\n", "at least 10 characters"),
        (("tokens", "create", "nobody", "--name", "n"), None, "no account named 'nobody'"),
        (("tokens", "revoke", "42"), None, "no API token 42"),
    ],
)
def test_bad_input_is_a_clear_error(run, args, stdin, message):
    result = run(*args, input=stdin)
    assert result.exit_code == 1 and message in result.output


def test_token_role_cannot_exceed_the_account(run):
    run("users", "create", "v", "--role", "viewer", "--password-stdin",
        input="a long enough password\n")
    result = run("tokens", "create", "v", "--name", "n", "--role", "operator")
    assert result.exit_code == 1 and "cannot exceed" in result.output
