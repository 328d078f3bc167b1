"""The last good flag set on disk, and a store that finishes its set-up once it is reachable.

When the flag store is unreachable at start, a process has no flags in memory. Rather than
refuse to start, or route as if nothing were flagged, it loads the flags of the last
successful read from ``instance/flags-snapshot.json`` (written after every successful read
whose flag set changed, or at most once a minute otherwise), says they are the last known
ones and when they were read, and keeps trying the store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from advisor.errors import AdvisorError, StoreUnavailable
from advisor.risk.model import Flag, utcnow
from advisor.risk.parse import flag_from_dict, flag_to_dict, parse_time
from advisor.store.records import WarMapVersion

__all__ = ["FlagSnapshot", "LastGood", "SnapshotFlagSource", "StoreSetup"]

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1


@dataclass(frozen=True)
class LastGood:
    """Flags to fall back on while the source fails, and where they come from.

    ``origin`` is ``"snapshot"`` (the last good read, at ``read_at``) or ``"baseline"``
    (the configured baseline flags only: no read ever succeeded here, ``read_at`` is None).
    """

    flags: tuple[Flag, ...]
    read_at: datetime | None
    origin: str
    war_map: WarMapVersion | None = None
    """The stored war map that was in force at the last good read (None: the shipped one)."""


class FlagSnapshot:
    """One JSON file holding a flag set and the time it was read from the store."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._cached: tuple[tuple, LastGood] | None = None

    def write(
        self, flags: Iterable[Flag], read_at: datetime, war_map: WarMapVersion | None = None
    ) -> None:
        """Replace the file atomically (temp file, fsync, ``os.replace``): a reader, or a
        crash, never sees half a snapshot. The war map in force is kept with the flags."""
        body = {
            "format": SNAPSHOT_FORMAT,
            "read_at": read_at.isoformat(),
            "flags": [flag_to_dict(flag) for flag in flags],
        }
        if war_map is not None:
            body["war_map"] = _war_map_dict(war_map)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A unique temp name: several gunicorn workers may write at the same moment.
        handle, temp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as fh:
                # ASCII escapes: any text the store holds can be written and read back.
                json.dump(body, fh, ensure_ascii=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def read(self) -> LastGood | None:
        """The saved flags, or None when there is no usable file (a bad one is logged).

        One unreadable flag is logged and skipped; the others still apply. The file is
        parsed again only when it changed (every worker polls it during an outage).
        """
        try:
            stat = self.path.stat()
            key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1]
            body = json.loads(self.path.read_text(encoding="utf-8"))
            war_map = _war_map_record(body["war_map"]) if body.get("war_map") else None
            found = LastGood(
                self._flags(body["flags"]), parse_time(body["read_at"], "read_at"), "snapshot",
                war_map,
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AdvisorError) as err:
            log.error("ignoring unusable flag snapshot %s: %s", self.path, err)
            return None
        self._cached = (key, found)
        return found

    def _flags(self, entries: list) -> tuple[Flag, ...]:
        flags = []
        for entry in entries:
            try:
                flags.append(flag_from_dict(entry))
            except AdvisorError as err:
                log.error("skipping an unreadable flag in %s: %s", self.path, err.message)
        return tuple(flags)


class SnapshotFlagSource:
    """A flag source that saves every good read to a :class:`FlagSnapshot`.

    Parameters
    ----------
    source : FlagSource
        Where the flags really come from (the store).
    snapshot : FlagSnapshot
        The file written after good reads and read back by :meth:`last_good`.
    baseline : callable, optional
        Returns the configured baseline flags: the fallback when there is no snapshot.
    prepare : callable, optional
        Run before each read (finishes a set-up the store could not do at start); its
        :class:`StoreUnavailable` counts as a failed read.
    retry_max_seconds : float
        After consecutive failures the source is asked again only after 1, 2, 4 … seconds
        up to this limit; meanwhile reads fail at once. A store that times out (a dropped
        network, not a refused connection) would otherwise hold up a passenger request on
        every refresh.
    """

    def __init__(
        self,
        source,
        snapshot: FlagSnapshot,
        baseline: Callable[[], list[Flag]] | None = None,
        prepare: Callable[[], None] | None = None,
        rewrite_seconds: float = 60.0,
        retry_max_seconds: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.source = source
        self.snapshot = snapshot
        self.baseline = baseline
        self.prepare = prepare
        self.rewrite_seconds = rewrite_seconds
        self.clock = clock
        self._written: tuple[Flag, ...] | None = None
        self._written_monotonic = float("-inf")
        self.retry_max_seconds = retry_max_seconds
        self._failures = 0
        self._retry_monotonic = float("-inf")
        self._held = threading.local()  # see saving_after()

    @property
    def store(self):
        """The wrapped :class:`StoreFlagSource`'s store (callers may swap it)."""
        return self.source.store

    @store.setter
    def store(self, store) -> None:
        self.source.store = store

    @property
    def war_map(self) -> WarMapVersion | None:
        """The wrapped source's war map in force (see :class:`StoreFlagSource`)."""
        return getattr(self.source, "war_map", None)

    def stamp(self) -> int:
        """The wrapped source's change stamp (see :meth:`StoreFlagSource.stamp`)."""
        return self.source.stamp()

    @property
    def problems(self) -> list[str]:
        """The wrapped source's problems (bad flags skipped), if it reports any."""
        return list(getattr(self.source, "problems", ()))

    def load_flags(self) -> list[Flag]:
        """Read the source; save the set when it changed or once a minute at most."""
        wait = self._retry_monotonic - time.monotonic()
        if wait > 0:
            raise StoreUnavailable(f"flag store still unreachable; next try in {wait:.0f} s")
        try:
            if self.prepare is not None:
                self.prepare()
            flags = tuple(self.source.load_flags())
        except StoreUnavailable:
            self._failures += 1
            delay = min(self.retry_max_seconds, 2.0 ** (self._failures - 1))
            self._retry_monotonic = time.monotonic() + delay
            raise
        self._failures, self._retry_monotonic = 0, float("-inf")
        held = getattr(self._held, "flags", None)
        if held is not None:
            held.append(flags)
        else:
            self._save(flags)
        return list(flags)

    @contextlib.contextmanager
    def saving_after(self):
        """Hold the snapshot write of this thread's :meth:`load_flags` calls until the block
        ends: routing swaps the new flags in first, then the file is written (and synced to
        disk, which a busy disk makes slow) — a published flag reaches passengers sooner."""
        held = self._held.flags = []
        try:
            yield
        finally:
            self._held.flags = None
            if held:
                self._save(held[-1])

    def _save(self, flags: tuple[Flag, ...]) -> None:
        due = time.monotonic() - self._written_monotonic >= self.rewrite_seconds
        war_map = self.war_map
        written = (flags, war_map.checksum if war_map is not None else None)
        if written == self._written and not due:
            return
        try:
            self.snapshot.write(flags, self.clock(), war_map)
        except (OSError, ValueError) as err:  # a full disk must not stop routing
            log.error("cannot write the flag snapshot %s: %s", self.snapshot.path, err)
            return
        self._written, self._written_monotonic = written, time.monotonic()

    def last_good(self) -> LastGood | None:
        """The flags to use while the source fails and nothing is in memory yet."""
        found = self.snapshot.read()
        if found is not None or self.baseline is None:
            return found
        try:
            return LastGood(tuple(self.baseline()), None, "baseline")
        except AdvisorError as err:
            log.error("no flag snapshot and no usable baseline flags: %s", err.message)
            return None


def _war_map_dict(record: WarMapVersion) -> dict:
    return {
        "version": record.version, "map_date": record.map_date, "source": record.source,
        "origin": record.origin, "checksum": record.checksum, "geometry": record.geometry,
    }


def _war_map_record(data: dict) -> WarMapVersion:
    return WarMapVersion(
        version=int(data["version"]), map_date=str(data["map_date"]), source=str(data["source"]),
        origin=str(data.get("origin", "")), checksum=str(data["checksum"]),
        geometry=data["geometry"], active=True,
    )


class StoreSetup:
    """Migrations and baseline seeding, run once as soon as the store answers.

    ``create_app`` calls :meth:`ensure` at start; when the store is unreachable then, the
    flag source calls it again before each read until it succeeds. Migrations take the
    usual lock, so several workers coming back at once still migrate exactly once.
    """

    def __init__(self, migrate: Callable[[], object], seed: Callable[[], object]):
        self._steps = (migrate, seed)
        self._done = False
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        """True once migrations and seeding have succeeded in this process."""
        return self._done

    def ensure(self) -> None:
        """Run the set-up unless done; raises :class:`StoreUnavailable` while the store is down."""
        if self._done:
            return
        with self._lock:
            if self._done:
                return
            for step in self._steps:
                step()
            self._done = True
            log.info("flag store set up (migrated, baseline seeded)")
