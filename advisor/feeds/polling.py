"""The one poller of a deployment: a lease in the store, a loop, and backoff after failures.

Shared by the air-raid alert poller (:mod:`advisor.feeds.air_alerts`) and the partner
GTFS-realtime alert pollers (:mod:`advisor.feeds.partner_alerts`). A subclass names its
lease (``lease_name``), sets ``timeout_seconds`` (how long one fetch may take) and
implements :meth:`LeasedPoller._poll`; this class takes (or renews) the lease before every
poll, so among all workers and instances one poller reads a feed at a time, and turns a
store failure into a later retry.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from advisor.errors import AdvisorError, FeedUnavailable
from advisor.risk.model import utcnow

__all__ = ["LeasedPoller", "PollOutcome", "PolledFeedFailed"]

log = logging.getLogger(__name__)


class PolledFeedFailed(FeedUnavailable):
    """A polled feed gave no usable answer; ``retry_after_seconds`` is the server's
    ``Retry-After`` (429/503) when it sent one. A subclass names its ``feed_field`` (the
    error's ``field``)."""

    feed_field = "feed"

    def __init__(self, message: str, *, status: int | None = None, retry_after=None):
        super().__init__(message, field=self.feed_field, value=status)
        self.http_status = status
        self.retry_after_seconds = retry_after


@dataclass(frozen=True)
class PollOutcome:
    """What one poll did and how long to wait before the next."""

    polled: bool  # False when another process holds the lease
    changed: bool
    error: str
    problems: tuple[str, ...]
    next_poll_seconds: float


class LeasedPoller:
    """Polls one feed through a lease kept in *store* (an :class:`~advisor.store.AlertStore`).

    Parameters
    ----------
    store : AlertStore
        Keeps the lease and the feed's health.
    poll_seconds, max_backoff_seconds : float
        The normal interval, and the longest wait after repeated failures (the interval
        doubles with each failure in a row up to it, or waits the server's Retry-After).
    clock : callable
        Aware UTC now (tests pass their own).
    """

    lease_name = ""
    timeout_seconds = 10.0
    thread_name = "feed-poller"

    def __init__(self, store, *, poll_seconds: float, max_backoff_seconds: float,
                 clock: Callable[[], datetime] = utcnow):  # fmt: skip
        self.store = store
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max(max_backoff_seconds, poll_seconds)
        self.clock = clock
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> PollOutcome:
        """Take (or renew) the lease and, holding it, read the feed once into the store."""
        now = self.clock()
        lease_seconds = 3 * self.poll_seconds + self.timeout_seconds
        try:
            if not self.store.take_lease(self.lease_name, self.holder, now, lease_seconds):
                return PollOutcome(False, False, "", (), self.poll_seconds)
            return self._poll(now)
        except AdvisorError as err:  # the store itself failed: try again later
            log.warning("%s poll could not use the store: %s", self.lease_name, err.message)
            return PollOutcome(False, False, err.message, (), self._backoff(None))

    def _poll(self, now: datetime) -> PollOutcome:
        raise NotImplementedError

    def _failed(self, now: datetime, err: PolledFeedFailed) -> PollOutcome:
        """Record a failed fetch (the state kept stays as it was) and back off."""
        self._failures += 1
        log.warning("%s failed (%d in a row), keeping the last state: %s",
                    self.lease_name, self._failures, err.message)  # fmt: skip
        self.store.mark_failed(self.lease_name, now, err.message)
        return PollOutcome(True, False, err.message, (), self._backoff(err))

    def _backoff(self, err: PolledFeedFailed | None) -> float:
        wait = min(self.poll_seconds * 2 ** max(self._failures - 1, 0), self.max_backoff_seconds)
        retry_after = err.retry_after_seconds if err is not None else None
        return max(wait, retry_after) if retry_after is not None else wait

    # -- running --

    def run(self, stop: threading.Event | None = None) -> None:
        """Poll until *stop* is set (a CLI command, or a thread)."""
        stop = stop or self._stop
        while not stop.is_set():
            outcome = self.poll_once()
            stop.wait(outcome.next_poll_seconds)
        self.store.release_lease(self.lease_name, self.holder)

    def start(self) -> None:
        """Poll in a daemon thread of this process (the lease keeps it one per deployment)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name=self.thread_name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the thread started by :meth:`start` and give the lease up."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
