"""Planning use cases: the network, the live risk snapshot, and one ``advise(query)``.

Readers never see a half-built state: the network is loaded once; the flag set is read into
an immutable :class:`RiskState` and swapped by one reference assignment, so every request
reads one consistent snapshot.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from advisor.errors import AdvisorError, InvalidQuery
from advisor.network.model import Network
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import utcnow
from advisor.routing.graph import RoutingGraph
from advisor.routing.model import Advice, DataFreshness, Query
from advisor.routing.planner import plan
from advisor.services.answer_cache import AnswerCache
from advisor.services.flag_sources import FileFlagSource, FlagSource, RiskState
from advisor.services.query import QueryParser
from advisor.war_maps import WarLayers, war_flags

__all__ = ["Services", "shared_network"]

log = logging.getLogger(__name__)

# One network (with its routing graph and station index) per dataset file and process. The
# gunicorn master loads it before forking (see :func:`advisor.wsgi.on_starting`), so every
# worker starts with it already built and shares its memory pages copy-on-write.
_SHARED: dict[tuple, tuple[Network, object]] = {}
_SHARED_LOCK = threading.Lock()


def shared_network(path) -> tuple[Network, object]:
    """The network of the dataset at *path* and its station index, loaded once per process
    (again only when the file changes), with the routing graph built."""
    from pathlib import Path

    from advisor.network.dataset import load_network
    from advisor.network.search import StationIndex

    path = Path(path)
    try:
        info = path.stat()
        key = (str(path.resolve()), info.st_mtime_ns, info.st_size)
    except OSError:
        key = (str(path), None, None)  # load_network names the problem
    with _SHARED_LOCK:
        found = _SHARED.get(key)
        if found is None:
            network = load_network(path)
            RoutingGraph.of(network)  # about a second: never in a passenger's request
            found = (network, StationIndex.build(network))
            _SHARED.clear()
            _SHARED[key] = found
    return found

class Services:
    """The use cases over one network and one live flag snapshot.

    Parameters
    ----------
    settings : Settings
        Typed settings (paths, defaults, staleness limit, refresh interval).
    network : Network, optional
        Loaded from ``settings.network_dataset`` on first use when not given.
    flag_source : FlagSource, optional
        Defaults to the baseline flag file ``settings.baseline_flags_path``.
    clock : callable, optional
        Returns the current aware UTC time (tests pass a fixed clock).
    """

    def __init__(
        self,
        settings,
        network: Network | None = None,
        flag_source: FlagSource | None = None,
        clock: Callable[[], datetime] = utcnow,
        alert_reader=None,
    ):
        self.settings = settings
        self.flag_source = flag_source or FileFlagSource([settings.baseline_flags_path])
        self.clock = clock
        self._network = network
        self._station_index = None
        self._risk: RiskState | None = None
        self._refreshed_monotonic = float("-inf")
        self._lock = threading.Lock()
        self._timetable = None
        # Air-raid alerts (advisor.services.alerts.AlertReader), read with every refresh.
        self.alert_reader = alert_reader
        self.alert_poller = None  # set by the wiring when this process may poll
        self.partner_pollers: list = []  # partner alert feed pollers (the same rule)
        self._alert_flags_made_at = datetime.min.replace(tzinfo=UTC)
        self.war_layers = WarLayers(settings)
        self._flag_generation = itertools.count(1)
        self.answer_cache = AnswerCache()
        self._resolved: dict[str, str] = {}  # names the station search resolved (one network)

    # -- the network --

    @property
    def network(self) -> Network:
        """The network snapshot (loaded once, on first use)."""
        if self._network is None:
            with self._lock:
                if self._network is None:
                    # Routing graph and station index built with it, not in the first
                    # passenger's request; shared by every Services of the process.
                    network, index = shared_network(self.settings.network_dataset)
                    self._station_index = self._station_index or index
                    self._network = network
        return self._network

    @property
    def station_index(self):
        """The station search index of :attr:`network` (built once, on first use)."""
        network = self.network  # the shared one comes with its index
        if self._station_index is None:
            from advisor.network.search import StationIndex

            index = StationIndex.build(network)
            with self._lock:
                self._station_index = self._station_index or index
        return self._station_index

    # -- flags --

    def refresh_flags(self) -> RiskState:
        """Re-read the flag source and swap the snapshot; on failure keep the last good flags
        and mark the state unavailable (never drop known flags)."""
        # A source that saves what it read (the flag snapshot file) does so after the swap.
        saving_after = getattr(self.flag_source, "saving_after", None)
        with saving_after() if saving_after is not None else contextlib.nullcontext():
            return self._refresh()

    def _refresh(self) -> RiskState:
        self._refreshed_monotonic = time.monotonic()
        previous = self._risk
        alerts, alert_flags = self._read_alerts(previous)
        try:
            flags = tuple(self.flag_source.load_flags())
        except AdvisorError as err:
            log.warning("flag source failed, keeping the last good flags: %s", err.message)
            state = self._newest_known(previous)
            index = self._with_alerts(state, alert_flags)
            stamps = state.stamps if index is state.index else self._new_stamps()
            self._risk = replace(state, index=index, stamps=stamps,
                                 available=False, stale=True, alert_flags=alert_flags,
                                 alerts=alerts)  # fmt: skip
            return self._risk
        layer = self.war_layers.layer(self.network, getattr(self.flag_source, "war_map", None))
        if (
            previous is not None
            and previous.flags == flags
            and previous.war_layer is layer
            and previous.alert_flags == alert_flags
        ):
            # same flags, map and alerts: same index, same version
            index, stamps = previous.index, previous.stamps
        else:
            reuse = previous.index if previous is not None else None
            index = RiskIndex.build(
                (*flags, *war_flags(layer), *alert_flags), self.network, previous=reuse
            )
            stamps = self._new_stamps()
            log.info("risk state %s: %d flags, %d alerts", stamps, len(flags), len(alert_flags))
        problems = tuple(getattr(self.flag_source, "problems", ()))
        problems += tuple(f"{fid}: {msg}" for fid, msg in index.problems)
        problems += () if layer is not None else ("no war map in force (see the log)",)
        self._risk = RiskState(
            flags, index, self.clock(), True, False, problems, war_layer=layer, stamps=stamps,
            alert_flags=alert_flags, alerts=alerts,
        )  # one swap
        return self._risk

    def _with_alerts(self, state: RiskState, alert_flags) -> RiskIndex:
        """The index of *state* (flags and war map) with *alert_flags* instead of its own."""
        if state.alert_flags == alert_flags:
            return state.index
        flags = (*state.flags, *war_flags(state.war_layer), *alert_flags)
        return RiskIndex.build(flags, self.network)

    def _read_alerts(self, previous: RiskState | None):
        """The alert state from the store and its temporary flags (none when no feed)."""
        if self.alert_reader is None:
            return None, ()
        from advisor.risk.alerts import alert_flags
        from advisor.services.alerts import alert_policy

        state = self.alert_reader.read(previous.alerts if previous is not None else None)
        policy = alert_policy(self.settings)
        now = self.clock()
        if (
            previous is not None
            and previous.alerts is not None
            and previous.alerts.alerts == state.alerts
            and now - self._alert_flags_made_at < policy.horizon / 4
        ):
            return state, previous.alert_flags  # same alerts: the same flags
        self._alert_flags_made_at = now  # ongoing alerts mark trips up to the horizon from now
        in_force = [a for a in state.alerts if a.finished_at is None
                    or now < a.finished_at + policy.grace]  # fmt: skip
        flags, unplaced = alert_flags(in_force, self.network, policy, now)
        for alert in unplaced:
            log.warning("alert %s (%s) names no place on the network", alert.id,
                        alert.location_oblast or alert.location_title)  # fmt: skip
        return state, flags

    def _newest_known(self, previous: RiskState | None) -> RiskState:
        """The newer of the flags in memory and the snapshot on disk.

        Every worker of an instance shares the snapshot file: a worker that started during
        an outage (baseline only) or missed the store's brief return adopts the set another
        worker read then, so all workers serve the same flags while the store is down.
        """
        last_good = getattr(self.flag_source, "last_good", None)
        found = last_good() if last_good is not None else None
        if found is None:  # still the war map: silence must not read as safety
            if previous is not None:
                return previous
            layer = self.war_layers.layer(self.network)
            index = RiskIndex.build(war_flags(layer), self.network)
            return RiskState((), index, None, war_layer=layer, stamps=self._new_stamps())
        if previous is not None and not _older(previous.updated_at, found.read_at):
            return previous
        layer = self.war_layers.layer(self.network, getattr(found, "war_map", None))
        if previous is not None and previous.flags == found.flags and previous.war_layer is layer:
            index, stamps = previous.index, previous.stamps
        else:
            index = RiskIndex.build((*found.flags, *war_flags(layer)), self.network)
            stamps = self._new_stamps()
        return RiskState(
            found.flags, index, found.read_at, origin=found.origin, war_layer=layer, stamps=stamps
        )

    def _new_stamps(self) -> tuple:
        """The stamps of a new risk state (see :class:`RiskState`): one per part routing
        reads. A part added to the risk state adds its stamp here."""
        return (("flags", next(self._flag_generation)),)

    def _fresh(self, state: RiskState | None) -> RiskState:
        if state is None:
            return self.refresh_flags()
        limit = timedelta(minutes=self.settings.flags_stale_after_minutes)
        return state.freshness_at(self.clock(), limit)

    @property
    def risk_state(self) -> RiskState:
        """The current flag snapshot (re-read when older than ``flags_refresh_seconds``),
        with its staleness computed for now."""
        if time.monotonic() - self._refreshed_monotonic >= self.settings.flags_refresh_seconds:
            return self._fresh(self.refresh_flags())
        return self._fresh(self._risk)

    # -- planning --

    def query(self, origin, destination, **raw) -> Query:
        """The one parser: raw input from any adapter → a validated :class:`Query`
        (keywords as :meth:`QueryParser.parse`). Raises :class:`InvalidQuery` or
        :class:`UnknownStation` naming the field."""
        return self._parser().parse(origin, destination, **raw)

    def _parser(self) -> QueryParser:
        return QueryParser(
            self.network, self.station_index, self.settings, self.clock, self._resolved
        )

    def advise(self, query: Query) -> Advice:
        """The answer for *query*: timetabled trips where an imported timetable covers the
        journey, else estimated ones (said so), with the current flags.

        Answers are kept per risk-state version (:mod:`advisor.services.answer_cache`)."""
        return self.answer_cache.answer(*self._asking(query))

    def advise_rendered(
        self, query: Query, variant, render: Callable[[Advice], object]
    ) -> tuple[Advice, object]:
        """:meth:`advise` and the rendition *variant* of the answer, kept with it in the
        answer cache (see :meth:`AnswerCache.rendered`): ``render(answer)`` runs once per
        answer and variant, not once per request."""
        state, query, timetable, build, alerts_state = self._asking(query)
        return self.answer_cache.rendered(
            state, query, timetable, build, variant, render, alerts_state
        )

    def _asking(self, query: Query) -> tuple:
        """What the answer cache takes for *query*: state, query, timetable, the build
        function and the alert-data state."""
        state, timetable = self.risk_state, self.timetable
        freshness = self.freshness(state)

        def build() -> Advice:
            return plan(self.network, state.index, query, freshness, timetable=timetable)

        return state, query, timetable, build, freshness.alerts_state

    def freshness(self, state: RiskState) -> DataFreshness:
        """How old the data behind an answer planned with *state* is."""
        meta = self.network.metadata
        alerts = state.alerts
        limit = timedelta(seconds=self.settings.alerts_unavailable_after_seconds)
        return DataFreshness(
            flags_updated_at=state.updated_at,
            flags_stale=state.stale,
            flags_available=state.available,
            network_version=str(meta.get("version", "")),
            network_built_at=str(meta.get("built_at", "")),
            flags_origin=state.origin,
            alerts_state="off" if alerts is None else alerts.state_at(self.clock(), limit),
            alerts_updated_at=None if alerts is None else alerts.updated_at,
            # No alert feed in this deployment: answers say so (silence is not "no alerts").
            announce_alerts_off=alerts is None,
        )

    # -- timetables --

    @property
    def timetable(self):
        """The planner over the imported timetable (``advisor feeds import``), or None when
        none is imported. Loaded once."""
        if self._timetable is None:  # looked for again until one is imported
            self._timetable = self._load_timetable()
        return self._timetable

    def _load_timetable(self):
        from advisor.feeds.timetables import timetable_path
        from advisor.network.timetable import load_timetable
        from advisor.routing.timetable import TimetablePlanner

        path = timetable_path(self.settings)
        if not path.exists():
            return None
        return TimetablePlanner(
            load_timetable(path),
            self.network,
            min_transfer_seconds=self.settings.min_rail_transfer_minutes * 60,
            elevated_buffer_seconds=self.settings.elevated_buffer_minutes * 60,
        )

    def departures(self, station_text, at=None, limit: int = 10):
        """The next departures from a station with their risk badges; raises InvalidQuery
        when no timetable is imported or the station has no timetabled stop."""
        if self.timetable is None:
            raise InvalidQuery(
                "no timetable imported; run `advisor feeds import`", field="station"
            )
        parser = self._parser()
        station = parser.station_id(station_text, "station")
        when = parser.depart_at(at)
        return self.timetable.departures(station, when, limit=limit, risk=self.risk_state.index)


def _older(ours, theirs) -> bool:
    """True when a set read at *ours* is older than one read at *theirs* (None: never read)."""
    if theirs is None:
        return False
    return ours is None or ours < theirs
