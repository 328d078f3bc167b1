"""Air-raid alerts from the alerts.in.ua API v1: the client and the one poller.

The official client (PyPI ``alerts-in-ua`` 0.4.0) was read and not used: its base URL and
its 5 s timeout are class constants, it calls ``requests.get`` without a session, and when
the answer to its ``If-Modified-Since`` request is not 304 it throws that answer away and
asks again (two requests per change, against an API that limits requests); it ignores
``Retry-After`` and breaks on a 200 without ``Last-Modified``. So this module speaks the
one endpoint with ``requests`` directly:

- :class:`AirAlertsClient`: one :class:`requests.Session`, the bearer token, an explicit
  (connect, read) timeout on every call, ``If-Modified-Since`` with the last
  ``Last-Modified``; no retries inside a poll (the poller's backoff is the retry), and no
  parsing beyond JSON: it returns the ``alerts`` list or raises :class:`AlertFeedFailed`
  with the status and the server's ``Retry-After``.
- :class:`AlertPoller`: one poll = take the lease in the store (one poller per deployment),
  ask, parse each alert (a bad one is reported, the rest kept), write the active alerts to
  the store. On any failure (401, 429, 5xx, malformed JSON, a hang) the stored alerts stay
  as they were, the failure is recorded with its reason, and the next poll waits longer:
  ``poll_seconds`` doubling up to ``max_backoff_seconds``, or the 429's ``Retry-After``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests

from advisor.errors import FeedError
from advisor.feeds.fetch import retry_after_seconds
from advisor.feeds.polling import LeasedPoller, PolledFeedFailed, PollOutcome
from advisor.risk.alerts import alert_from_dict
from advisor.risk.model import utcnow

__all__ = ["FEED_NAME", "AirAlertsClient", "AlertFeedFailed", "AlertPoller", "PollOutcome"]

log = logging.getLogger(__name__)

FEED_NAME = "alerts.in.ua"
ACTIVE_PATH = "/v1/alerts/active.json"
CONNECT_TIMEOUT_SECONDS = 5.0
# Ended alerts are kept this long (beyond the grace period) for the record, then deleted.
KEEP_ENDED = timedelta(hours=6)


class AlertFeedFailed(PolledFeedFailed):
    """The alert feed did not give a usable answer."""

    feed_field = "alerts"


@dataclass(frozen=True)
class FetchResult:
    """One answer: ``alerts`` is None for 304 Not Modified."""

    alerts: list | None
    last_modified: str


class AirAlertsClient:
    """``GET {base_url}/v1/alerts/active.json`` with a bearer token.

    Parameters
    ----------
    base_url : str
        ``https://api.alerts.in.ua`` or a stand-in (tests run a local server).
    token : str
        The API token (``ADVISOR_AIR_ALERTS_TOKEN``).
    timeout_seconds : float
        Read timeout; the connect timeout is at most :data:`CONNECT_TIMEOUT_SECONDS`.
    """

    def __init__(self, base_url: str, token: str, *, timeout_seconds: float = 10.0):
        self.url = base_url.rstrip("/") + ACTIVE_PATH
        self.timeout = (min(CONNECT_TIMEOUT_SECONDS, timeout_seconds), timeout_seconds)
        self.session = requests.Session()
        self.session.headers.update({
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": "route-risk-advisor (air-raid alerts)",
        })  # fmt: skip

    def fetch_active(self, last_modified: str = "") -> FetchResult:
        """The active alerts (raw dicts), or ``alerts=None`` when unchanged since
        *last_modified*. Raises :class:`AlertFeedFailed` naming what went wrong."""
        headers = {"If-Modified-Since": last_modified} if last_modified else {}
        try:
            response = self.session.get(self.url, headers=headers, timeout=self.timeout)
        except requests.Timeout as err:
            raise AlertFeedFailed(f"alert feed {self.url} did not answer in time") from err
        except requests.RequestException as err:
            raise AlertFeedFailed(f"alert feed {self.url} could not be reached: {err}") from err
        if response.status_code == 304:
            return FetchResult(None, last_modified)
        _check_status(response, self.url)
        return FetchResult(_alerts_list(response, self.url),
                           response.headers.get("Last-Modified", ""))  # fmt: skip

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()


_STATUS_REASONS = {401: "the token was refused", 403: "access is forbidden",
                   429: "too many requests"}  # fmt: skip


def _check_status(response, url: str) -> None:
    try:
        response.raise_for_status()
    except requests.HTTPError as err:
        status = response.status_code
        reason = _STATUS_REASONS.get(status, "server error" if status >= 500 else "refused")
        raise AlertFeedFailed(
            f"alert feed {url} answered HTTP {status} ({reason})",
            status=status, retry_after=retry_after_seconds(response),
        ) from err  # fmt: skip


def _alerts_list(response, url: str) -> list:
    try:
        payload = response.json()
    except ValueError as err:
        raise AlertFeedFailed(f"alert feed {url} sent malformed JSON: {err}") from err
    alerts = payload.get("alerts") if isinstance(payload, dict) else None
    if not isinstance(alerts, list):
        raise AlertFeedFailed(f"alert feed {url} sent no 'alerts' list")
    return alerts


class AlertPoller(LeasedPoller):
    """The one poller of a deployment's air-raid alert feed (leased through the store).

    Parameters
    ----------
    client : AirAlertsClient
    store : advisor.store.AlertStore
    poll_seconds, max_backoff_seconds : float
        The interval the API asks for, and the longest wait after repeated failures.
    clock : callable
        Aware UTC now (tests pass their own).
    """

    lease_name = FEED_NAME
    thread_name = "air-alert-poller"

    def __init__(self, client, store, *, poll_seconds: float = 30.0,
                 max_backoff_seconds: float = 300.0, clock: Callable[[], datetime] = utcnow):
        super().__init__(store, poll_seconds=poll_seconds,
                         max_backoff_seconds=max_backoff_seconds, clock=clock)
        self.client = client
        self.timeout_seconds = client.timeout[1]
        self._last_modified = ""

    def _poll(self, now: datetime) -> PollOutcome:
        if not self._last_modified:
            self._last_modified = self.store.read(FEED_NAME).status.last_modified
        try:
            result = self.client.fetch_active(self._last_modified)
        except AlertFeedFailed as err:
            return self._failed(now, err)
        self._failures = 0
        if result.alerts is None:
            self.store.mark_unchanged(FEED_NAME, now)
            return PollOutcome(True, False, "", (), self.poll_seconds)
        alerts, problems = _parsed(result.alerts)
        self.store.save_alerts(FEED_NAME, alerts, now, result.last_modified, KEEP_ENDED)
        self._last_modified = result.last_modified
        return PollOutcome(True, True, "", problems, self.poll_seconds)


def _parsed(entries: list) -> tuple[list[dict], tuple[str, ...]]:
    """Entries the store can keep (parsed times), and a problem line per refused entry."""
    kept, problems = [], []
    for entry in entries:
        try:
            alert = alert_from_dict(entry)
        except FeedError as err:
            problems.append(err.message)
            log.warning("skipping an alert: %s", err.message)
            continue
        kept.append({**entry, "id": alert.id, "started_at": alert.started_at,
                     "finished_at": alert.finished_at})  # fmt: skip
    return kept, tuple(problems)
