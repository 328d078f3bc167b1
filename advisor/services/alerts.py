"""Where routing reads air-raid alerts from: the store the one poller writes.

Every worker reads the alerts kept in the store (:class:`AlertReader`) on its periodic risk
refresh, as it reads the flags, so all workers and instances answer with the same alerts.
:class:`AlertState` is the immutable result; a store failure keeps the previous state and
counts as the feed being unavailable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from advisor.errors import AdvisorError, FeedError
from advisor.risk.alerts import AirAlert, AlertPolicy, alert_from_dict
from advisor.risk.model import RiskLevel

__all__ = ["AlertReader", "AlertState", "alert_policy", "open_alert_poller"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertState:
    """The alerts last read from the store and the feed's health.

    ``updated_at`` is the feed's last good answer (None: never); ``last_error`` the reason
    of the last failed poll (empty after a good one); ``read_failed`` is True when the store
    itself could not be read (the alerts are then the previous ones).
    """

    alerts: tuple[AirAlert, ...] = ()
    updated_at: datetime | None = None
    last_error: str = ""
    read_failed: bool = False

    def state_at(self, now: datetime, unavailable_after: timedelta) -> str:
        """``"current"`` or ``"unavailable"`` at *now* (never answered, or too long ago)."""
        if self.read_failed or self.updated_at is None:
            return "unavailable"
        return "unavailable" if now - self.updated_at > unavailable_after else "current"


def alert_policy(settings) -> AlertPolicy:
    """The :class:`AlertPolicy` of the ``[alerts]`` settings."""
    defaults = AlertPolicy()
    levels = dict(defaults.levels)
    levels.update({k: RiskLevel.parse(v) for k, v in settings.alert_levels.items()})
    return AlertPolicy(MappingProxyType(levels), defaults.default_level,
                       timedelta(minutes=settings.alerts_grace_minutes),
                       timedelta(hours=settings.alerts_horizon_hours))  # fmt: skip


class AlertReader:
    """Reads one feed's alerts from an :class:`~advisor.store.AlertStore`."""

    def __init__(self, store, feed: str):
        self.store = store
        self.feed = feed

    def read(self, previous: AlertState | None) -> AlertState:
        """The alerts in the store now; on a store failure the *previous* alerts, marked."""
        try:
            stored = self.store.read(self.feed)
        except AdvisorError as err:
            log.warning("alert store failed, keeping the last alerts: %s", err.message)
            base = previous or AlertState()
            return AlertState(base.alerts, base.updated_at, err.message, read_failed=True)
        alerts = []
        for data in stored.alerts:
            try:
                alerts.append(alert_from_dict(data))
            except FeedError as err:  # written by the poller, so only a newer/older version
                log.warning("skipping a stored alert: %s", err.message)
        status = stored.status
        return AlertState(tuple(alerts), status.last_success_at, status.last_error)


def open_alert_poller(settings, store):
    """The poller of this deployment's alert feed over *store* (an AlertStore)."""
    from advisor.feeds.air_alerts import AirAlertsClient, AlertPoller

    client = AirAlertsClient(settings.air_alerts_base_url, settings.air_alerts_token,
                             timeout_seconds=settings.alerts_timeout_seconds)  # fmt: skip
    return AlertPoller(client, store, poll_seconds=settings.alerts_poll_seconds,
                       max_backoff_seconds=settings.alerts_max_backoff_seconds)  # fmt: skip
