"""An app over the tiny network with a fresh store, and API tokens for each role.

Used by the flag API tests and the benchmarks; import the fixtures into a test module.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

IMPORTANT_PAIRS = """pairs = [["kyiv", "kharkiv"], ["kyiv", "kramatorsk"],
         ["dnipro", "zaporizhzhia"], ["kyiv", "sumy"], ["kyiv", "nowhere"]]
"""


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, tiny_network):
    """The tiny network written as a dataset file the app can load."""
    from advisor.network.dataset import write_dataset

    path = tmp_path_factory.mktemp("tiny") / "network.json.gz"
    write_dataset(tiny_network, path)
    return path


def app_config(tmp_path, tiny_dataset, database_url=None, **overrides) -> dict:
    """Settings overrides for a test app: tiny network, no baseline flags, a fresh store."""
    pairs = tmp_path / "pairs.toml"
    pairs.write_text(IMPORTANT_PAIRS, encoding="utf-8")
    baseline = tmp_path / "baseline.toml"
    baseline.write_text("", encoding="utf-8")
    config = {
        "testing": True,
        "instance_path": tmp_path / "instance",
        "network_dataset": tiny_dataset,
        "baseline_flags_path": baseline,
        "important_pairs_path": pairs,
        "database_url": database_url or f"sqlite:///{tmp_path / 'advisor.sqlite3'}",
    }
    config.update(overrides)
    return config


@dataclass
class Tokens:
    """Bearer headers for one account of each role, and the operations object."""

    viewer: dict
    operator: dict
    admin: dict
    ops: object


def issue_tokens(app) -> Tokens:
    """Create viewer/operator/admin accounts with one token each."""
    from argon2 import PasswordHasher

    from advisor.services import COMMAND_LINE

    ops = app.extensions["advisor.operations"]
    # Cheap argon2 parameters keep account set-up fast; production uses the defaults.
    ops.passwords = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    headers = {}
    for role in ("viewer", "operator", "admin"):
        ops.create_user(role + "1", "correct horse battery", role, COMMAND_LINE)
        issued = ops.create_token(role + "1", "tests", None, COMMAND_LINE)
        headers[role] = {"Authorization": f"Bearer {issued.secret}"}
    return Tokens(headers["viewer"], headers["operator"], headers["admin"], ops)


@pytest.fixture
def flag_app(tmp_path, tiny_dataset):
    """A fresh app (SQLite store) over the tiny network."""
    from advisor import create_app

    app = create_app(app_config(tmp_path, tiny_dataset))
    yield app
    app.extensions["advisor.operations"].close()


@pytest.fixture
def client(flag_app):
    """A test client of :func:`flag_app`."""
    return flag_app.test_client()


@pytest.fixture
def tokens(flag_app) -> Tokens:
    """Tokens for each role on :func:`flag_app`."""
    return issue_tokens(flag_app)
