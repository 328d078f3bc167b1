"""Alert feeds in the store: the alerts last read, the feed's health, and the poll lease.

One poller per deployment writes here; every worker of every instance reads the same rows
(through :class:`AlertStore.read`), as it reads the flags. ``alert_feeds`` holds one row per
feed: when it was last asked and last answered, the last error, its ``Last-Modified`` (for
the next ``If-Modified-Since``) and the lease — which process polls it until when. Taking
the lease is one conditional UPDATE (free, expired, or already ours), so two pollers never
poll at once, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import JSON, Engine, Integer, String, Text, delete, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from advisor.store.db import translated
from advisor.store.tables import Base, UTCDateTime

__all__ = ["AirAlertRow", "AlertFeedRow", "AlertStore", "FeedStatus", "StoredAlerts"]


class AirAlertRow(Base):
    """One alert as the feed gave it (``data``), with the columns the readers filter on."""

    __tablename__ = "air_alerts"

    feed: Mapped[str] = mapped_column(String(64), primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class AlertFeedRow(Base):
    """The health and the poll lease of one alert feed."""

    __tablename__ = "alert_feeds"

    feed: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    last_modified: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lease_holder: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class FeedStatus:
    """What the store knows of a feed's health."""

    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str = ""
    last_modified: str = ""
    failures: int = 0


@dataclass(frozen=True)
class StoredAlerts:
    """The alerts kept for a feed (raw dicts with ``finished_at`` filled in) and its health."""

    alerts: tuple[dict, ...]
    status: FeedStatus


_translated = translated("reading or writing air-raid alerts")


class AlertStore:
    """Alert rows over the flag store's engine."""

    def __init__(self, engine: Engine):
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(advisor_write=True), expire_on_commit=False
        )

    @_translated
    def take_lease(self, feed: str, holder: str, now: datetime, seconds: float) -> bool:
        """True when *holder* may poll *feed* until ``now + seconds`` (the lease was free,
        expired or already its own); False while another poller holds it."""
        until = now + timedelta(seconds=seconds)
        with self._write.begin() as session:
            if session.get(AlertFeedRow, feed) is None:
                session.add(AlertFeedRow(feed=feed, lease_holder=holder, lease_until=until))
                return True
            taken = session.execute(
                update(AlertFeedRow)
                .where(AlertFeedRow.feed == feed)
                .where(
                    or_(
                        AlertFeedRow.lease_holder == holder,
                        AlertFeedRow.lease_until.is_(None),
                        AlertFeedRow.lease_until < now,
                    )
                )
                .values(lease_holder=holder, lease_until=until)
            )
            return taken.rowcount == 1

    @_translated
    def release_lease(self, feed: str, holder: str) -> None:
        """Give the lease up (a poller stopping), so another may take it at once."""
        with self._write.begin() as session:
            session.execute(
                update(AlertFeedRow)
                .where(AlertFeedRow.feed == feed, AlertFeedRow.lease_holder == holder)
                .values(lease_holder="", lease_until=None)
            )

    @_translated
    def save_alerts(
        self, feed: str, alerts: list[dict], now: datetime, last_modified: str, keep: timedelta
    ) -> None:
        """Replace *feed*'s active alerts with *alerts* (each with ``id``, ``started_at``,
        ``finished_at``): one listed before and missing now has ended at *now*; rows ended
        more than *keep* ago are deleted. Marks the feed as answering at *now*."""
        with self._write.begin() as session:
            rows = {r.alert_id: r for r in session.scalars(
                select(AirAlertRow).where(AirAlertRow.feed == feed))}  # fmt: skip
            listed = set()
            for alert in alerts:
                listed.add(str(alert["id"]))
                _upsert(session, rows.get(str(alert["id"])), feed, alert, now)
            for alert_id, row in rows.items():
                if alert_id not in listed and row.finished_at is None:
                    row.finished_at = now
                    row.data = {**row.data, "finished_at": now.isoformat()}
            session.execute(
                delete(AirAlertRow).where(
                    AirAlertRow.feed == feed, AirAlertRow.finished_at < now - keep
                )
            )
            self._mark(session, feed, now, error="", last_modified=last_modified)

    @_translated
    def mark_unchanged(self, feed: str, now: datetime) -> None:
        """The feed answered 304 Not Modified at *now*: alive, nothing new."""
        with self._write.begin() as session:
            self._mark(session, feed, now, error="", last_modified=None)

    @_translated
    def mark_failed(self, feed: str, now: datetime, error: str) -> None:
        """The feed failed at *now* with *error*; the alerts kept stay as they were."""
        with self._write.begin() as session:
            row = _feed_row(session, feed)
            row.last_attempt_at = now
            row.last_error = error[:2000]
            row.failures += 1

    @staticmethod
    def _mark(session, feed: str, now: datetime, error: str, last_modified: str | None) -> None:
        row = _feed_row(session, feed)
        row.last_attempt_at = row.last_success_at = now
        row.last_error = error
        row.failures = 0
        if last_modified is not None:
            row.last_modified = last_modified

    @_translated
    def status(self, feed: str) -> FeedStatus:
        """*feed*'s health (an empty one when it was never polled)."""
        with self._read() as session:
            return _status(session.get(AlertFeedRow, feed))

    @_translated
    def read(self, feed: str) -> StoredAlerts:
        """The alerts kept for *feed* (oldest start first) and its health."""
        with self._read() as session:
            rows = session.scalars(
                select(AirAlertRow)
                .where(AirAlertRow.feed == feed)
                .order_by(AirAlertRow.started_at, AirAlertRow.alert_id)
            ).all()
            status = session.get(AlertFeedRow, feed)
            return StoredAlerts(tuple(dict(r.data) for r in rows), _status(status))


def _feed_row(session, feed: str) -> AlertFeedRow:
    row = session.get(AlertFeedRow, feed)
    if row is None:
        row = AlertFeedRow(feed=feed, failures=0, last_error="", last_modified="", lease_holder="")
        session.add(row)
    return row


def _upsert(session, row: AirAlertRow | None, feed: str, alert: dict, now: datetime) -> None:
    started, finished = alert["started_at"], alert.get("finished_at")
    data = {**alert, "started_at": started.isoformat(),
            "finished_at": finished.isoformat() if finished else None}  # fmt: skip
    if row is None:
        session.add(AirAlertRow(feed=feed, alert_id=str(alert["id"]), data=data,
                                started_at=started, finished_at=finished, seen_at=now))  # fmt: skip
        return
    row.data, row.started_at, row.finished_at, row.seen_at = data, started, finished, now


def _status(row: AlertFeedRow | None) -> FeedStatus:
    if row is None:
        return FeedStatus()
    return FeedStatus(
        row.last_attempt_at, row.last_success_at, row.last_error, row.last_modified, row.failures
    )
