"""Counting and change messages shared through Redis by several workers and instances (and
change messages through PostgreSQL when there is no Redis).

Needs Redis (``ADVISOR_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/0``); every test
skips with the reason when it does not answer. Keys and channels are unique per test, and
nothing is flushed (other users of the same Redis keep their data).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import timedelta

import pytest

from advisor import create_app
from advisor.errors import RateLimited
from advisor.risk.model import utcnow
from advisor.services import COMMAND_LINE
from advisor.services.accounts import FailureLimiter
from advisor.store.shared import FlagChangeBus, RedisFailureCounter, connect_redis
from tests.store.apptools import app_config, tiny_dataset  # noqa: F401 - fixture
from tests.store.databases import pg_url  # noqa: F401 - fixture

REDIS_URL = os.environ.get("ADVISOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_client():
    client = connect_redis(REDIS_URL)
    if client is None:
        pytest.skip(f"Redis does not answer at {REDIS_URL} (set ADVISOR_TEST_REDIS_URL)")
    return client


def _unique() -> str:
    return uuid.uuid4().hex[:12]


def test_failures_counted_once_for_every_process(redis_client):
    prefix = f"advisor-test:{_unique()}:"
    # Two workers: each its own client and limiter, one count.
    first, second = (
        FailureLimiter(RedisFailureCounter(connect_redis(REDIS_URL), prefix), 3, 900)
        for _ in range(2)
    )
    first.check("signin", "operator1")
    first.record("signin", "operator1", "10.0.0.7")
    second.record("signin", "operator1", "10.0.0.8")
    first.record("signin", "operator1", "10.0.0.9")  # the third, counted by both
    with pytest.raises(RateLimited):
        second.check("signin", "operator1")
    second.check("signin", "operator2")  # another credential has its own count


def test_old_failures_leave_the_window(redis_client):
    counter = RedisFailureCounter(redis_client, f"advisor-test:{_unique()}:")
    now = utcnow()
    counter.add("k", now - timedelta(minutes=20), now - timedelta(minutes=35))
    counter.add("k", now, now - timedelta(minutes=15))  # prunes the first
    assert counter.count("k", now - timedelta(hours=1)) == 1
    assert counter.count("k", now + timedelta(seconds=1)) == 0


def test_unreachable_redis_is_none():
    assert connect_redis("redis://127.0.0.1:1/0") is None
    assert connect_redis("") is None


def test_change_reaches_every_listener(redis_client):
    channel = f"advisor-test:{_unique()}"
    heard = [threading.Event(), threading.Event()]
    for event in heard:
        FlagChangeBus(connect_redis(REDIS_URL), channel).listen(event.set)
    publisher = FlagChangeBus(redis_client, channel)
    # The listeners subscribe in their own threads: announce until both heard (bounded).
    for _ in range(50):
        publisher.announce("1")
        if all(event.wait(0.1) for event in heard):
            break
    assert all(event.is_set() for event in heard)


def _instance(tmp_path, tiny_dataset, name, **overrides):  # noqa: F811
    config = app_config(tmp_path, tiny_dataset, **overrides)
    config["instance_path"] = tmp_path / name
    return create_app({**config, "redis_url": REDIS_URL})


def test_published_flag_reaches_the_other_instance_without_polling(
    redis_client, tmp_path, tiny_dataset  # noqa: F811
):
    # Two instances on one database; the second never polls within the test.
    first = _instance(tmp_path, tiny_dataset, "a", flags_refresh_seconds=3600.0)
    second = _instance(tmp_path, tiny_dataset, "b", flags_refresh_seconds=3600.0)
    other = second.extensions["advisor.services"]
    before = other.risk_state
    ops = first.extensions["advisor.operations"]
    flag = {"id": f"t-{_unique()}", "level": "high", "status": "published",
            "target": {"kind": "line", "line_id": "kyiv-sumy"}, "reason_uk": "Удар",
            "reason_en": "Strike", "source": "test"}  # fmt: skip
    ops.create_flag(flag, COMMAND_LINE)
    deadline = time.monotonic() + 10.0  # a bound for a slow machine, not a timing check
    while flag["id"] not in {f.id for f in other.risk_state.flags}:
        assert time.monotonic() < deadline, "the second instance was not told"
        time.sleep(0.02)
    assert other.risk_state.version != before.version


def test_rate_limit_is_shared_by_instances(redis_client, tmp_path, tiny_dataset):  # noqa: F811
    apps = [_instance(tmp_path, tiny_dataset, name, rate_limit_per_minute=2) for name in "ab"]
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    clients = [app.test_client() for app in apps]
    env = {"REMOTE_ADDR": address}
    codes = [
        client.get("/api/v1/stations?q=Kyiv", environ_base=env).status_code
        for client in (clients[0], clients[1], clients[0])
    ]
    assert codes[:2] == [200, 200] and codes[2] == 429


def test_rate_limit_headers_come_with_the_hit(redis_client, tmp_path, tiny_dataset):  # noqa: F811
    from advisor.store.shared import OneTripLimitStorage

    apps = [_instance(tmp_path, tiny_dataset, name, rate_limit_per_minute=5) for name in "ab"]
    storage = apps[0].extensions["advisor.limiter"].storage
    assert isinstance(storage, OneTripLimitStorage)
    env = {"REMOTE_ADDR": f"198.51.100.{uuid.uuid4().int % 250 + 1}"}
    remaining, resets = [], []
    for app in (*apps, apps[0]):
        response = app.test_client().get("/api/v1/stations?q=Kyiv", environ_base=env)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "5"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        resets.append(int(response.headers["X-RateLimit-Reset"]))
    assert remaining == [4, 3, 2]  # one count for both instances
    assert all(0 < reset - time.time() <= 61 for reset in resets)


def test_the_header_reads_after_a_hit_ask_redis_nothing(redis_client, monkeypatch):
    from limits.storage import RedisStorage

    from advisor.store.shared import LIMITS_SCHEME, OneTripLimitStorage

    storage = OneTripLimitStorage(LIMITS_SCHEME + REDIS_URL)
    key = f"advisor-test:{_unique()}"
    assert storage.incr(key, 60) == 1 and storage.incr(key, 60) == 2
    asked = []
    monkeypatch.setattr(RedisStorage, "get", lambda self, k: asked.append(k) or 0)
    monkeypatch.setattr(RedisStorage, "get_expiry", lambda self, k: asked.append(k) or 0.0)
    assert storage.get(key) == 2
    assert 0 < storage.get_expiry(key) - time.time() <= 60
    assert asked == []
    storage.get("another-key")  # not the one just counted: asked of Redis
    assert asked == ["another-key"]
    storage.clear(key)


def test_without_redis_a_flag_reaches_the_other_instance_through_postgresql(
    tmp_path, tiny_dataset, pg_url  # noqa: F811
):
    from advisor.store.shared import PgFlagChangeBus

    def instance(name):
        config = app_config(tmp_path, tiny_dataset, database_url=pg_url,
                            flags_refresh_seconds=3600.0)  # fmt: skip
        return create_app({**config, "instance_path": tmp_path / name, "redis_url": ""})

    apps = first, second = instance("a"), instance("b")
    try:
        ops = first.extensions["advisor.operations"]
        assert isinstance(ops.change_bus, PgFlagChangeBus)
        other = second.extensions["advisor.services"]
        before = other.risk_state
        flag = {"id": f"t-{_unique()}", "level": "high", "status": "published",
                "target": {"kind": "line", "line_id": "kyiv-sumy"}, "reason_uk": "Удар",
                "reason_en": "Strike", "source": "test"}  # fmt: skip
        # The listener subscribes in its own thread: announce until it heard (bounded).
        deadline = time.monotonic() + 10.0  # a bound for a slow machine, not a timing check
        ops.create_flag(flag, COMMAND_LINE)
        while flag["id"] not in {f.id for f in other.risk_state.flags}:
            assert time.monotonic() < deadline, "the second instance was not told"
            ops.change_bus.announce()
            time.sleep(0.05)
        assert other.risk_state.version != before.version
    finally:
        for app in apps:
            app.extensions["advisor.operations"].close()


def test_the_postgresql_listener_ends_with_its_owner(pg_url):  # noqa: F811
    import gc

    from advisor.store import make_engine
    from advisor.store.shared import PgFlagChangeBus

    class Owner:
        def changed(self):
            pass

    owner = Owner()
    bus = PgFlagChangeBus(make_engine(pg_url), f"advisor_test_{_unique()}")
    thread = bus.listen(owner.changed)
    del owner
    gc.collect()
    thread.join(20)  # a bound for a slow machine, not a timing check
    assert not thread.is_alive()
    bus.engine.dispose()


def test_sqlite_keeps_polling(tmp_path, tiny_dataset):  # noqa: F811
    app = create_app({**app_config(tmp_path, tiny_dataset), "redis_url": ""})
    assert app.extensions["advisor.operations"].change_bus is None


def test_closing_the_postgresql_bus_ends_its_listener(pg_url):  # noqa: F811
    """Operations.close() stops the listener before the engine goes: no refresh after it,
    no connection left open (the thread closes its own)."""
    from advisor.store import make_engine
    from advisor.store.shared import PgFlagChangeBus

    calls = []
    bus = PgFlagChangeBus(make_engine(pg_url), f"advisor_test_{_unique()}")
    thread = bus.listen(lambda: calls.append(1))
    deadline = time.monotonic() + 10.0  # a bound for a slow machine, not a timing check
    while not calls:  # it listens: a message reaches it (LISTEN runs in its thread)
        assert time.monotonic() < deadline, "the listener never heard a message"
        bus.announce("before close")
        time.sleep(0.05)
    bus.close()
    assert not thread.is_alive()
    heard = len(calls)
    bus.announce("after close")
    time.sleep(0.2)
    assert len(calls) == heard
    bus.engine.dispose()
