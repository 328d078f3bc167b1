"""Answers cached per risk-state version: after a strike everyone asks the same few pairs.

An answer is a pure function of the query and the risk state, so a process may keep the
answers it built and hand them out again while nothing they depend on has changed. What an
answer depends on, and so what the key holds:

- ``RiskState.version`` — an opaque stamp that changes whenever the flag set (and anything
  else routing reads from the risk state: the war map, live alerts …) changes. A new version
  empties the cache, so a published or withdrawn flag is never answered from an old copy.
- the query with its departure time left out, plus **the ids of the flags in force at the
  departure time**: the estimated back-end reads flags only through "which flags are active
  at ``depart_at``", so two departures on either side of a window edge get different keys
  and two departures inside the same windows share one answer exactly;
- the departure time itself, but only while a timetable is loaded (the timetable scan picks
  trips after that time, so nothing may be bucketed there);
- which timetable is loaded, and the freshness facts the notices print (flag data available,
  stale, where it came from, and the last update time when a notice shows it).

On a hit the cached answer is returned with the caller's query and the current update time,
so it reads exactly like a freshly built one. Adapters may keep renditions of an answer with
it (the API's JSON body, plain and gzipped, per language): they leave those time stamps as
slots filled per response, and they go when the answer goes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from advisor.routing.model import Advice, Query

__all__ = ["AnswerCache"]

_ANY_TIME = datetime(2000, 1, 1, tzinfo=UTC)  # stands for "the departure time is not in the key"


class AnswerCache:
    """A bounded least-recently-used map of answers for one risk-state version.

    With each answer it keeps its renditions (:meth:`rendered`): an adapter's encoding of
    the answer with the time stamps left as slots (the API keeps its JSON body and that
    body gzipped per language), so a hit costs filling three slots, not encoding again.

    Thread-safe: gunicorn threads of one worker share it; building an answer happens
    outside the lock, once per key at a time (threads asking for an answer being built
    wait for it).
    """

    def __init__(self, max_entries: int = 4096):
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._version: Hashable = None
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._building: dict[Hashable, Future] = {}  # (version, key) → the answer being built

    def answer(
        self, state, query: Query, timetable, build: Callable[[], Advice], alerts_state: str = ""
    ) -> Advice:
        """The answer for *query* under risk *state*: cached, else ``build()`` and keep it.

        *alerts_state* is whether alert data is current, unavailable or off right now: it
        decides a notice, and it changes with time alone (a feed falls silent)."""
        entry = self._entry(state, query, timetable, build, alerts_state)
        return _for(entry.advice, query, state)

    def rendered(
        self, state, query: Query, timetable, build: Callable[[], Advice],
        variant: Hashable, render: Callable[[Advice], object], alerts_state: str = "",
    ) -> tuple[Advice, object]:
        """:meth:`answer` and its rendition *variant* (say a format and a language): kept
        with the answer, made by ``render(answer)`` the first time it is asked for.

        *render* must leave out, or leave as slots, the fields :func:`_for` re-stamps (the
        departure time and the data's update times): the rendition is handed out with
        every later hit of the answer."""
        entry = self._entry(state, query, timetable, build, alerts_state)
        found = entry.renditions.get(variant)
        if found is None:  # two threads may render once each; the same bytes either way
            found = entry.renditions[variant] = render(entry.advice)
        return _for(entry.advice, query, state), found

    def _entry(self, state, query, timetable, build, alerts_state) -> _Entry:
        key = (*answer_key(state, query, timetable), alerts_state)
        with self._lock:
            if state.version != self._version:
                self._entries.clear()
                self._version = state.version
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
                # One build per key and version at a time: right after a flag change the
                # same few pairs are asked by several threads at once; the later ones wait
                # for the first one's answer (or its error) instead of building it again.
                flight = (state.version, key)
                building = self._building.get(flight)
                first = building is None
                if first:
                    building = self._building[flight] = Future()
        self._local.hit = cached is not None
        if cached is not None:
            return cached
        if not first:
            return building.result()
        try:
            entry = _Entry(build())
        except BaseException as err:
            with self._lock:
                self._building.pop(flight, None)
            building.set_exception(err)
            raise
        with self._lock:
            self._building.pop(flight, None)
            if state.version == self._version:  # a newer state may have arrived meanwhile
                self._entries[key] = entry
                if len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        building.set_result(entry)
        return entry

    def last_was_hit(self) -> bool:
        """True if this thread's last :meth:`answer` came from the cache."""
        return getattr(self._local, "hit", False)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class _Entry:
    advice: Advice
    renditions: dict = field(default_factory=dict)  # variant → rendition (see rendered())


def answer_key(state, query: Query, timetable) -> tuple:
    """Everything an answer to *query* under *state* depends on (see the module text)."""
    active = frozenset(f.id for f in state.index.active_flags(query.depart_at))
    when = query.depart_at if timetable is not None else None
    shown_update = state.updated_at if (state.stale or not state.available) else None
    freshness = (state.available, state.stale, state.origin, shown_update)
    return (replace(query, depart_at=_ANY_TIME), active, when, id(timetable), freshness)


def _for(cached: Advice, query: Query, state) -> Advice:
    """A cached answer as if built now: the caller's query and the current update time."""
    alerts = getattr(state, "alerts", None)
    freshness = replace(
        cached.freshness,
        flags_updated_at=state.updated_at,
        alerts_updated_at=None if alerts is None else alerts.updated_at,
    )
    return replace(cached, query=query, freshness=freshness)
