"""Fixtures for page and API tests: the real app and Services over the tiny network.

The flag data is a real flag file read by the real :class:`FileFlagSource`; the stale and
unavailable cases swap in a source that fails the way the store does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from advisor import create_app
from advisor.errors import StoreUnavailable
from advisor.services import FileFlagSource, Services

LOZOVA_KRAMATORSK_HIGH = {
    "id": "lbk-high",
    "level": "high",
    "target": {"kind": "line", "line_id": "lozova-kramatorsk"},
    "reason_uk": "Обстріли колії та потягів",
    "reason_en": "Strikes on track and trains",
    "source": "Укрзалізниця",
    "author": "ops",
}


def write_flags(path, flags):
    """Write *flags* as a JSON flag file and return its path."""
    path.write_text(json.dumps(flags, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def flag_file(tmp_path):
    """Lozova–Barvinkove–Kramatorsk flagged high since three days ago."""
    since = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    return write_flags(tmp_path / "flags.json", [{**LOZOVA_KRAMATORSK_HIGH, "active_from": since}])


class FailingSource:
    """A flag source that answered once and then became unreachable."""

    def __init__(self, flags_path):
        self.inner = FileFlagSource([flags_path])
        self.failing = False

    def load_flags(self):
        if self.failing:
            raise StoreUnavailable("flag store is down")
        return self.inner.load_flags()


def make_app(tmp_path, network, source, **settings):
    """The real app with Services over *network* and flags from *source*."""
    config = {"testing": True, "instance_path": tmp_path / "instance", **settings}
    app = create_app(config)
    app.extensions["advisor.services"] = Services(
        app.extensions["advisor.settings"], network=network, flag_source=source
    )
    return app


@pytest.fixture
def app(tmp_path, tiny_network, flag_file):
    return make_app(tmp_path, tiny_network, FileFlagSource([flag_file]), rate_limit_per_minute=0)


@pytest.fixture
def client(app):
    return app.test_client()
