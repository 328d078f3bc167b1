"""Wiring the store into the app: open, migrate, seed, and route from the store."""

from __future__ import annotations

import logging
from pathlib import Path

from advisor.errors import StoreUnavailable
from advisor.risk.model import Flag
from advisor.services.alerts import AlertReader, open_alert_poller
from advisor.services.flag_sources import SNAPSHOT_FILE, FileFlagSource
from advisor.services.operations import Operations
from advisor.services.partner_feeds import open_partner_feeds
from advisor.services.planning import Services
from advisor.store import AlertStore, StoreFlagSource, open_store, seed_baseline, upgrade
from advisor.store.snapshot import FlagSnapshot, SnapshotFlagSource, StoreSetup

__all__ = ["connect_store", "open_operations"]

log = logging.getLogger(__name__)


def connect_store(settings) -> tuple[Services, Operations]:
    """Open (and migrate) the store, seed baseline flags once, and route from the store.

    Called by ``create_app`` in every process; migrations and seeding are safe when
    several gunicorn workers start together.
    """
    store = open_store(settings.effective_database_url, migrate=False)
    setup = StoreSetup(
        lambda: upgrade(store.engine, _lock_path(settings)),
        lambda: seed_baseline(store, _baseline_flags(settings)),
    )
    try:
        setup.ensure()
    except StoreUnavailable as err:
        # Start anyway (scenario 8): routing falls back on the last good flag snapshot and
        # the flag source retries the set-up before every read until the store answers.
        log.error("flag store unreachable at start; serving the last good flags: %s", err.message)
    source = SnapshotFlagSource(
        StoreFlagSource(store),
        FlagSnapshot(settings.instance_path / SNAPSHOT_FILE),
        baseline=lambda: _baseline_flags(settings),
        prepare=setup.ensure,
    )
    services = Services(settings, flag_source=source, alert_reader=_alert_reader(settings, store))
    if services.alert_reader is not None and settings.alerts_poll_in_app:
        services.alert_poller = open_alert_poller(settings, services.alert_reader.store)
    operations = Operations(store, settings, services)
    operations.partner_feeds = open_partner_feeds(settings, operations)
    if settings.partner_alert_feeds and settings.alerts_poll_in_app:
        services.partner_pollers = operations.partner_feeds.pollers(settings, services.network)
    _share_through_redis(settings, services, operations)
    return services, operations


def _share_through_redis(settings, services: Services, operations: Operations) -> None:
    """With ``redis_url``: failed sign-ins counted in Redis, flag changes pushed to every
    process (polling stays the safety net). Without it, or while Redis does not answer,
    the store keeps counting failures (shared through the database) and changes are polled.
    """
    from advisor.services.accounts import FailureLimiter
    from advisor.store.shared import FlagChangeBus, RedisFailureCounter, connect_redis

    client = connect_redis(settings.redis_url)
    if client is None:
        _share_through_postgresql(settings, services, operations)
        return
    operations.limiter = FailureLimiter(
        RedisFailureCounter(client), settings.signin_attempts_per_15_minutes, 15 * 60
    )
    operations.change_bus = FlagChangeBus(client)
    operations.change_bus.listen(services.refresh_flags)


def _share_through_postgresql(settings, services: Services, operations: Operations) -> None:
    """Without Redis, flag changes are pushed through the store's PostgreSQL database
    (``LISTEN``/``NOTIFY``) when it is one; on SQLite they are polled."""
    from advisor.store.shared import PgFlagChangeBus

    if operations.store.backend != "postgresql":
        if settings.redis_url:
            log.warning("Redis unreachable: flag changes are polled every %.1f s",
                        settings.flags_refresh_seconds)
        return
    if settings.redis_url:
        log.warning("Redis unreachable: flag changes are pushed through PostgreSQL")
    operations.change_bus = PgFlagChangeBus(operations.store.engine)
    operations.change_bus.listen(services.refresh_flags)


def _alert_reader(settings, store) -> AlertReader | None:
    """Every process reads the alerts the one poller keeps in the store (None: no feed)."""
    if not settings.air_alerts_enabled:
        return None
    from advisor.feeds.air_alerts import FEED_NAME

    return AlertReader(AlertStore(store.engine), FEED_NAME)


def _baseline_flags(settings) -> list[Flag]:
    if not settings.baseline_flags_path.exists():
        return []
    return FileFlagSource([settings.baseline_flags_path]).load_flags()


def open_operations(settings) -> Operations:
    """Flag/account/token use cases without routing (for the ``users``/``tokens`` commands)."""
    store = open_store(settings.effective_database_url, lock_path=_lock_path(settings))
    return Operations(store, settings)


def _lock_path(settings) -> Path | None:
    if settings.database_url:
        return None  # the database's own file (SQLite) or an advisory lock (PostgreSQL)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    return settings.instance_path / "migrate.lock"

