"""Scenario 8: the flag store is unreachable, at start too — the flags are never lost.

Real stores throughout: an unreachable PostgreSQL port, a SQLite file that cannot be
opened (a directory in its place) and one taken away mid-run, and ``advisor serve``
(gunicorn) started during an outage.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from advisor import create_app
from advisor.errors import StoreUnavailable
from advisor.risk.parse import flag_from_dict
from advisor.services import COMMAND_LINE, SNAPSHOT_FILE
from advisor.store import current_revision, head_revision
from advisor.store.snapshot import FlagSnapshot, SnapshotFlagSource
from tests.store.apptools import app_config, tiny_dataset  # noqa: F401 - fixture
from tests.web.conftest import LOZOVA_KRAMATORSK_HIGH
from tests.web.server import serve

# Port 1 refuses at once; the timeout bounds it should the port ever be filtered instead.
UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
SNAPSHOT_READ_AT = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)  # 08:30 Kyiv time
ROUTE = "/api/v1/routes?from=Лозова&to=Краматорськ"


def _flag(**changes):
    return flag_from_dict({**LOZOVA_KRAMATORSK_HIGH, "status": "published", **changes})


def _write_snapshot(instance: Path, flags=None) -> Path:
    path = instance / SNAPSHOT_FILE
    FlagSnapshot(path).write(flags if flags is not None else [_flag()], SNAPSHOT_READ_AT)
    return path


def _baseline_file(tmp_path: Path) -> Path:
    path = tmp_path / "baseline.json"
    flag = {**LOZOVA_KRAMATORSK_HIGH, "id": "baseline-lbk", "level": "suspended"}
    path.write_text(json.dumps([flag], ensure_ascii=False), encoding="utf-8")
    return path


def _publish(ops, **changes):
    fields = {k: v for k, v in LOZOVA_KRAMATORSK_HIGH.items() if k != "author"}
    return ops.create_flag({**fields, "status": "published", **changes}, COMMAND_LINE)


class ListSource:
    """A flag source answering with a list the test changes, or failing on demand."""

    def __init__(self, flags):
        self.flags = list(flags)

    def load_flags(self):
        return list(self.flags)


# --- the snapshot file -------------------------------------------------------------------


def test_snapshot_round_trip_is_atomic(tmp_path):
    path = _write_snapshot(tmp_path)
    found = FlagSnapshot(path).read()
    assert found.origin == "snapshot" and found.read_at == SNAPSHOT_READ_AT
    assert found.flags == (_flag(),)
    assert [p.name for p in tmp_path.iterdir()] == [SNAPSHOT_FILE]  # no temp file left


@pytest.mark.parametrize("body", ["", "{not json", '{"flags": [{"id": "x"}], "read_at": "x"}'])
def test_unusable_snapshot_is_ignored(tmp_path, body):
    path = tmp_path / SNAPSHOT_FILE
    path.write_text(body, encoding="utf-8")
    assert FlagSnapshot(path).read() is None
    assert FlagSnapshot(tmp_path / "missing.json").read() is None


def test_snapshot_written_on_change_and_at_most_once_a_minute(tmp_path):
    clock = iter(SNAPSHOT_READ_AT + timedelta(seconds=s) for s in range(100)).__next__
    inner = ListSource([_flag()])
    source = SnapshotFlagSource(inner, FlagSnapshot(tmp_path / "s.json"), clock=clock)
    source.load_flags()
    first = source.snapshot.read().read_at
    source.load_flags()  # same set, within the minute: no write
    assert source.snapshot.read().read_at == first
    inner.flags.append(_flag(id="second"))
    source.load_flags()  # the set changed: written at once
    assert {f.id for f in source.snapshot.read().flags} == {"lbk-high", "second"}
    source.rewrite_seconds = 0  # a minute has passed: the same set is re-stamped
    source.load_flags()
    assert source.snapshot.read().read_at > first


class DownSource:
    """A store that refuses every read, counting the attempts."""

    calls = 0

    def load_flags(self):
        self.calls += 1
        raise StoreUnavailable("down")


def test_failing_store_is_retried_with_backoff(tmp_path):
    inner = DownSource()
    source = SnapshotFlagSource(inner, FlagSnapshot(tmp_path / "s.json"), retry_max_seconds=0.2)
    for _ in range(5):
        with pytest.raises(StoreUnavailable):
            source.load_flags()
    assert inner.calls == 1  # the next four fail at once, inside the wait
    source._retry_monotonic = 0.0  # the wait has passed
    with pytest.raises(StoreUnavailable):
        source.load_flags()
    assert inner.calls == 2
    time.sleep(0.25)  # capped at retry_max_seconds
    with pytest.raises(StoreUnavailable):
        source.load_flags()
    assert inner.calls == 3


def test_last_good_falls_back_on_baseline_flags(tmp_path):
    source = SnapshotFlagSource(
        ListSource([]), FlagSnapshot(tmp_path / "none.json"), baseline=lambda: [_flag(id="b")]
    )
    found = source.last_good()
    assert found.origin == "baseline" and found.read_at is None
    assert [f.id for f in found.flags] == ["b"]


# --- start-up with the store unreachable ---------------------------------------------------


@pytest.fixture
def outage_app(tmp_path, tiny_dataset):  # noqa: F811 - fixture
    """An app whose PostgreSQL store refuses connections, with a snapshot written first."""
    instance = tmp_path / "instance"
    _write_snapshot(instance)
    config = app_config(tmp_path, tiny_dataset, UNREACHABLE_PG, flags_refresh_seconds=0)
    started = time.monotonic()
    app = create_app(config)
    assert time.monotonic() - started < 15  # the refused connect does not hang start-up
    return app


def test_app_starts_and_routes_with_the_snapshot(outage_app):
    client = outage_app.test_client()
    body = client.get(ROUTE).json
    fresh = body["freshness"]
    assert fresh["flags_available"] is False and fresh["flags_stale"] is True
    assert fresh["flags_origin"] == "snapshot"
    assert fresh["flags_updated_at"] == SNAPSHOT_READ_AT.isoformat()
    assert body["notices"][0]["code"] == "risk_data_unavailable"
    assert "2026-11-20 08:30" in body["notices"][0]["message_en"]
    # The snapshot's flag is applied: the rail line is not presented as free of risk.
    assert "lbk-high" in {f["id"] for f in body["flags"]}
    flags = client.get("/api/v1/flags").json
    assert [f["id"] for f in flags["flags"]] == ["lbk-high"]
    assert flags["freshness"]["flags_origin"] == "snapshot"


def test_page_banner_shows_the_snapshot_time(outage_app):
    html = outage_app.test_client().get(
        "/?from=Лозова&to=Краматорськ", headers={"Accept-Language": "en"}
    ).text
    top = html[html.index("<main") : html.index('id="results"')]
    assert "Risk data is unavailable right now." in top
    assert "2026-11-20 08:30" in top  # the snapshot's read time, in Kyiv time


def test_readyz_names_the_outage_and_the_snapshot_time(outage_app):
    response = outage_app.test_client().get("/readyz")
    assert response.status_code == 503
    (reason,) = response.json["problems"]
    assert "flag store unreachable" in reason and "snapshot" in reason
    assert SNAPSHOT_READ_AT.isoformat() in reason


def test_writes_during_the_outage_answer_503(outage_app):
    client = outage_app.test_client()
    response = client.post(
        "/api/v1/flags", json=LOZOVA_KRAMATORSK_HIGH, headers={"Authorization": "Bearer adv_x"}
    )
    assert response.status_code == 503
    assert response.json["code"] == "store-unavailable"
    assert response.headers["Content-Type"] == "application/problem+json"
    for page in (client.get("/operator/signin"), client.post("/operator/flags/new", data={})):
        assert page.status_code == 503 and "text/html" in page.headers["Content-Type"]
        assert "Flag store unavailable" in page.text and "Traceback" not in page.text


def test_no_snapshot_falls_back_on_marked_baseline_flags(tmp_path, tiny_dataset):  # noqa: F811
    config = app_config(
        tmp_path, tiny_dataset, UNREACHABLE_PG, baseline_flags_path=_baseline_file(tmp_path)
    )
    client = create_app(config).test_client()
    body = client.get(ROUTE).json
    assert body["freshness"]["flags_origin"] == "baseline"
    assert body["freshness"]["flags_updated_at"] is None
    flags = client.get("/api/v1/flags").json
    assert [f["id"] for f in flags["flags"]] == ["baseline-lbk"]
    assert flags["freshness"]["flags_origin"] == "baseline"
    html = client.get("/?from=Лозова&to=Краматорськ", headers={"Accept-Language": "en"}).text
    assert "only the standing flags from the configuration are applied" in html
    assert "baseline flags" in client.get("/readyz").json["problems"][0]


def test_store_coming_back_runs_migrations_and_loads_flags(tmp_path, tiny_dataset):  # noqa: F811
    database = tmp_path / "down.sqlite3"
    database.mkdir()  # SQLite cannot open a directory: the store is unreachable at start
    _write_snapshot(tmp_path / "instance")
    config = app_config(tmp_path, tiny_dataset, f"sqlite:///{database}",
                        baseline_flags_path=_baseline_file(tmp_path))  # fmt: skip
    app = create_app(config)
    services, ops = app.extensions["advisor.services"], app.extensions["advisor.operations"]
    services.flag_source.retry_max_seconds = 0  # retry at once (backoff tested above)
    assert services.refresh_flags().origin == "snapshot"
    database.rmdir()  # the store is back
    state = services.refresh_flags()
    assert state.available and state.origin == "source" and not state.stale
    assert current_revision(ops.store.engine) == head_revision()
    assert {f.id for f in state.flags} == {"baseline-lbk"}  # seeded once it answered
    saved = FlagSnapshot(tmp_path / "instance" / SNAPSHOT_FILE).read()
    assert {f.id for f in saved.flags} == {"baseline-lbk"} and saved.read_at > SNAPSHOT_READ_AT
    ops.close()


# --- a store failing mid-run -------------------------------------------------------------


def _take_away(database: Path) -> list[tuple[Path, Path]]:
    moved = []
    for path in database.parent.glob(database.name + "*"):
        aside = path.with_name(path.name + ".aside")
        path.rename(aside)
        moved.append((aside, path))
    database.mkdir()
    return moved


def test_sqlite_lost_mid_run_keeps_flags_and_recovers(tmp_path, tiny_dataset):  # noqa: F811
    database = tmp_path / "advisor.sqlite3"
    app = create_app(app_config(tmp_path, tiny_dataset, flags_refresh_seconds=0))
    services, ops = app.extensions["advisor.services"], app.extensions["advisor.operations"]
    services.flag_source.retry_max_seconds = 0  # retry at once (backoff tested above)
    _publish(ops)
    assert [f.id for f in services.risk_state.flags] == ["lbk-high"]
    moved = _take_away(database)
    ops.store.engine.dispose()  # drop open connections, as a server restart would
    client = app.test_client()
    body = client.get(ROUTE).json
    assert body["freshness"]["flags_available"] is False
    assert "lbk-high" in {f["id"] for f in body["flags"]}  # the last flags are kept
    database.rmdir()
    for aside, path in moved:
        aside.rename(path)
    _publish(ops, id="fresh")
    body = client.get(ROUTE).json
    assert body["freshness"]["flags_available"] is True
    assert body["freshness"]["flags_origin"] == "source"
    assert {"lbk-high", "fresh"} <= {f["id"] for f in body["flags"]}
    ops.close()


# --- the production server started during an outage ------------------------------------------


def _wait_for(url: str, timeout_seconds: float = 60.0) -> requests.Response:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.ConnectionError):
            return requests.get(url, timeout=30)
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_seconds}s")


def test_gunicorn_starts_during_an_outage(tmp_path, tiny_dataset):  # noqa: F811
    instance = tmp_path / "instance"
    _write_snapshot(instance)
    env = {
        "ADVISOR_DATABASE_URL": UNREACHABLE_PG,
        "ADVISOR_NETWORK_DATASET": str(tiny_dataset),
    }
    with serve(instance, workers=1, env=env, log_path=tmp_path / "server.log") as (url, process):
        ready = _wait_for(f"{url}/readyz")
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        assert ready.status_code == 503 and "snapshot" in ready.json()["problems"][0]
        body = requests.get(url + ROUTE, timeout=30).json()
        assert body["freshness"]["flags_origin"] == "snapshot"
        assert body["freshness"]["flags_updated_at"] == SNAPSHOT_READ_AT.isoformat()
        assert "lbk-high" in {f["id"] for f in body["flags"]}


def test_snapshot_written_by_the_app_under_normal_operation(tmp_path, tiny_dataset):  # noqa: F811
    app = create_app(app_config(tmp_path, tiny_dataset, flags_refresh_seconds=0))
    ops = app.extensions["advisor.operations"]
    _publish(ops)
    path = tmp_path / "instance" / SNAPSHOT_FILE
    saved = FlagSnapshot(path).read()
    assert [f.id for f in saved.flags] == ["lbk-high"]
    before = os.stat(path).st_mtime_ns
    for _ in range(5):
        app.test_client().get(ROUTE)  # unchanged flags: no write per request
    assert os.stat(path).st_mtime_ns == before
    ops.close()
