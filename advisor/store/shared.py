"""What several workers and instances share through Redis: failed sign-in counts and the
"flags changed" message (through PostgreSQL's ``LISTEN``/``NOTIFY`` when there is no Redis).

Everything here is optional. :func:`connect_redis` returns None (and the caller logs that it
counts per process) when no ``redis_url`` is configured or Redis does not answer; the flag
store's change stamp, polled every ``flags_refresh_seconds``, stays the safety net behind
the pushed message.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

import redis
from limits.storage import RedisStorage

from advisor.errors import StoreUnavailable

__all__ = [
    "FLAGS_CHANNEL",
    "LIMITS_SCHEME",
    "FlagChangeBus",
    "OneTripLimitStorage",
    "PgFlagChangeBus",
    "RedisFailureCounter",
    "connect_redis",
]

log = logging.getLogger(__name__)

FLAGS_CHANNEL = "advisor:flags-changed"
PG_FLAGS_CHANNEL = "advisor_flags_changed"  # a PostgreSQL channel is an identifier


def connect_redis(url: str) -> redis.Redis | None:
    """A client for *url* that answered a PING, or None (logged) when it cannot be reached."""
    if not url:
        return None
    client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        client.ping()
    except redis.RedisError as err:
        log.warning("Redis at the configured redis_url does not answer (%s)", err)
        return None
    return client


class RedisFailureCounter:
    """Failed attempts per key in Redis sorted sets, shared by every process: a counting
    back-end of :class:`advisor.services.accounts.FailureLimiter` (``count`` / ``add``, as
    ``StoreFailureCounter``).

    A Redis error is raised as :class:`advisor.errors.StoreUnavailable`, as a store
    failure would be.
    """

    def __init__(self, client: redis.Redis, prefix: str = "advisor:auth-failures:"):
        self.client = client
        self.prefix = prefix

    def count(self, key: str, since: datetime) -> int:
        """Failures of *key* at or after *since*."""
        with _translated():
            return int(self.client.zcount(self.prefix + key, since.timestamp(), "+inf"))

    def add(self, key: str, at: datetime, prune_before: datetime) -> None:
        """Count one failure of *key* at *at*; forget those before *prune_before*."""
        name = self.prefix + key
        member = f"{at.timestamp():.6f}:{time.monotonic_ns()}"
        ttl = max(1, int(at.timestamp() - prune_before.timestamp()) + 1)
        with _translated():
            pipe = self.client.pipeline()
            pipe.zadd(name, {member: at.timestamp()})
            pipe.zremrangebyscore(name, "-inf", f"({prune_before.timestamp()}")
            pipe.expire(name, ttl)
            pipe.execute()


@contextlib.contextmanager
def _translated():
    try:
        yield
    except redis.RedisError as err:
        raise StoreUnavailable(f"shared counter store failed: {err}") from err


class _ListeningBus:
    """What both change buses share: one listening thread per process and a way to stop it
    (the thread ends within about a second, before its owner's store goes)."""

    def __init__(self, channel: str):
        self.channel = channel
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def close(self, timeout: float = 3.0) -> None:
        """Stop listening; the PostgreSQL listener also closes its connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


class FlagChangeBus(_ListeningBus):
    """Tells every process that the flags changed (Redis pub/sub), so routing re-reads them
    at once instead of at its next poll.

    :meth:`listen` runs a daemon thread that calls *on_change* for each message and
    reconnects after an error; a lost message costs at most one poll interval.
    """

    def __init__(self, client: redis.Redis, channel: str = FLAGS_CHANNEL):
        super().__init__(channel)
        self.client = client

    def announce(self, stamp: object = "") -> None:
        """Publish a change; a Redis failure is logged (the poll still finds the change)."""
        try:
            self.client.publish(self.channel, str(stamp))
        except redis.RedisError as err:
            log.warning("could not announce a flag change: %s", err)

    def listen(self, on_change: Callable[[], object]) -> threading.Thread:
        """Start the listening thread (once per process) and return it."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, args=(on_change,), name="flag-change-listener", daemon=True
            )
            self._thread.start()
        return self._thread

    def _run(self, on_change) -> None:
        while not self._stop.is_set():
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                try:
                    pubsub.subscribe(self.channel)
                    # get_message waits up to 1 s without tripping the socket timeout
                    while not self._stop.is_set():
                        message = pubsub.get_message(timeout=1.0)
                        if message is not None and message.get("type") == "message":
                            _call(on_change)
                finally:
                    pubsub.close()
            except redis.RedisError as err:
                log.warning("flag change listener lost Redis, retrying in 5 s: %s", err)
                self._stop.wait(5.0)


class PgFlagChangeBus(_ListeningBus):
    """:class:`FlagChangeBus` through the flag store's own PostgreSQL database
    (``NOTIFY``/``LISTEN``), for deployments without Redis.

    :meth:`announce` sends ``pg_notify`` on *engine* after the write has committed;
    :meth:`listen` keeps one connection per process listening in a daemon thread (not
    from the pool: it stays open), reconnecting after an error; a lost message costs at
    most one poll interval, as with Redis. The thread holds its *on_change* method weakly
    and ends, closing its connection, once the object it belongs to is gone (an app built
    and dropped by a test or a command).
    """

    def __init__(self, engine, channel: str = PG_FLAGS_CHANNEL):
        super().__init__(channel)
        self.engine = engine

    def announce(self, stamp: object = "") -> None:
        """Notify every listener; a failure is logged (the poll still finds the change)."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_notify(:channel, :stamp)"),
                             {"channel": self.channel, "stamp": str(stamp)})  # fmt: skip
                conn.commit()
        except SQLAlchemyError as err:
            log.warning("could not announce a flag change: %s", type(err).__name__)

    def listen(self, on_change: Callable[[], object]) -> threading.Thread:
        """Start the listening thread (once per process) and return it."""
        if self._thread is None or not self._thread.is_alive():
            if hasattr(on_change, "__self__"):  # held weakly: see the class text
                target = weakref.WeakMethod(on_change)
            else:
                target = lambda kept=on_change: kept  # noqa: E731 - a plain function is kept
            # The thread holds neither this bus nor the engine: they go with their owner.
            url = self.engine.url.set(drivername="postgresql")
            self._thread = threading.Thread(
                target=_listen_postgresql,
                args=(url.render_as_string(hide_password=False), self.channel, target,
                      self._stop),
                name="flag-change-listener",
                daemon=True,
            )
            self._thread.start()
        return self._thread


def _listen_postgresql(dsn: str, channel: str, target, stop: threading.Event) -> None:
    """The body of :meth:`PgFlagChangeBus.listen`'s thread: until *stop* is set or
    ``target()`` is None."""
    import psycopg
    from psycopg import sql

    def running() -> bool:
        return not stop.is_set() and target() is not None

    while running():
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                while running():
                    for _notice in conn.notifies(timeout=1.0):
                        if running() and (method := target()) is not None:
                            _call(method)
                            del method
                    conn.execute("SELECT 1")  # a dropped connection shows here
        except psycopg.Error as err:
            log.warning("flag change listener lost PostgreSQL, retrying in 5 s: %s",
                        type(err).__name__)  # fmt: skip
            stop.wait(5.0)


def _call(on_change) -> None:
    try:
        on_change()
    except Exception:  # the listener must outlive any one refresh
        log.exception("refreshing flags after a change message failed")


LIMITS_SCHEME = "advisor+"  # prefixed to a redis URL: flask-limiter then counts in one trip


class OneTripLimitStorage(RedisStorage):
    """flask-limiter's Redis storage (``limits``), counting a hit and reading its window in
    one round trip: the storage behind ``advisor+redis://`` URLs (:data:`LIMITS_SCHEME`).

    For a fixed-window limit with rate-limit headers flask-limiter asks Redis three times
    per request: count the hit (before the view), then the count and the time to live again
    (after it, for ``X-RateLimit-Remaining`` and ``-Reset``). Under a surge those are two
    thirds of an API hit's waiting. Here the hit returns both from one script and this
    thread keeps them for the header reads of the same request (at most a few seconds
    old); any other read asks Redis as before.
    """

    STORAGE_SCHEME: ClassVar[list[str]] = [
        LIMITS_SCHEME + scheme for scheme in ("redis", "rediss", "redis+unix")
    ]
    _INCR_TTL = """
        local current = redis.call("incrby", KEYS[1], ARGV[2])
        if tonumber(current) == tonumber(ARGV[2]) then
            redis.call("expire", KEYS[1], ARGV[1])
        end
        return {current, redis.call("ttl", KEYS[1])}
    """
    _KEPT_SECONDS = 5.0

    def __init__(self, uri: str, **options):
        super().__init__(uri.removeprefix(LIMITS_SCHEME), **options)
        self._last = threading.local()

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self._incr_ttl = self.get_connection().register_script(self._INCR_TTL)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        count, ttl = self._incr_ttl([self.prefixed_key(key)], [expiry, amount])
        self._last.window = (key, int(count), max(int(ttl), 0) + time.time(), time.monotonic())
        return int(count)

    def get(self, key: str) -> int:
        kept = self._kept(key)
        return kept[1] if kept is not None else super().get(key)

    def get_expiry(self, key: str) -> float:
        kept = self._kept(key)
        return kept[2] if kept is not None else super().get_expiry(key)

    def _kept(self, key: str):
        kept = getattr(self._last, "window", None)
        if kept is None or kept[0] != key or time.monotonic() - kept[3] > self._KEPT_SECONDS:
            return None
        return kept
