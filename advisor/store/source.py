"""The store as the routing engine's flag source, and the one-time seeding of baseline flags."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from advisor.errors import Conflict
from advisor.risk.model import Flag, FlagStatus
from advisor.store.repository import Store

__all__ = ["BASELINE_AUTHOR", "StoreFlagSource", "seed_baseline"]

log = logging.getLogger(__name__)
BASELINE_AUTHOR = "baseline"


class StoreFlagSource:
    """Published flags from the store (current versions only).

    Expired and not-yet-active published flags are returned too: whether a flag applies
    is decided per query time by the risk index, so a query "at" a later time sees a flag
    that starts then, and expiry needs no action.
    """

    def __init__(self, store: Store):
        self.store = store
        # (stamp, flags, war map) swapped as one: threads of a gthread worker poll at once.
        self._read: tuple[int | None, tuple[Flag, ...], object] = (None, (), None)

    def load_flags(self) -> list[Flag]:
        """Every published flag; raises :class:`StoreUnavailable` when the store is down.

        Routing polls this every ``flags_refresh_seconds`` in every process; one cheap
        query on the change stamp answers "nothing changed" without reading the flags.
        """
        known_stamp, flags, _war_map = self._read
        read = self.store.read_published_flags(known_stamp)
        if read.flags is not None:
            # A write landing between the reads only makes the next poll read again.
            flags = tuple(read.flags)
            self._read = (read.stamp, flags, read.war_map)
        return list(flags)

    @property
    def war_map(self):
        """The stored war map in force (a :class:`WarMapVersion`), or None: read with the flags."""
        return self._read[2]

    def stamp(self) -> int:
        """Grows with every flag write; a cheap way for other processes to see a change."""
        return self.store.flags_stamp()


def seed_baseline(store: Store, flags: Iterable[Flag]) -> int:
    """Add baseline flags whose ids the store has never seen, as published; returns how many.

    A baseline flag an operator has edited or withdrawn is never re-seeded: only unknown
    ids are added, so a later release can add new baseline flags.
    """
    flags = list(flags)
    known = store.find_flag_ids(f.id for f in flags)
    added = 0
    for flag in flags:
        if flag.id in known:
            continue
        seeded = replace(flag, status=FlagStatus.PUBLISHED, baseline=True, author=BASELINE_AUTHOR)
        try:
            store.add_flag(seeded, actor=BASELINE_AUTHOR, action="flag.seed")
            added += 1
        except Conflict:  # another worker seeded it at the same moment
            continue
    if added:
        log.info("seeded %d baseline flag(s) into the store", added)
    return added
