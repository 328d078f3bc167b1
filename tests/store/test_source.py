"""The store as routing's flag source: what routing sees, and what it keeps when the store fails."""

from __future__ import annotations

from dataclasses import replace

from advisor.risk.model import FlagStatus
from advisor.routing.model import NoticeCode
from advisor.services import Services
from advisor.settings import load_settings
from advisor.store import Store, StoreFlagSource, make_engine
from tests.routing.checks import ask
from tests.store.factories import make_flag

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"


def _services(store, tiny_network, tmp_path):
    source = StoreFlagSource(store)
    settings = load_settings({"instance_path": tmp_path})
    return Services(settings, network=tiny_network, flag_source=source), source


def test_routing_sees_published_flags_only(store, tiny_network, tmp_path):
    line = {"kind": "line", "line_id": "dnipro-zaporizhzhia"}
    live = store.add_flag(make_flag(status="published", target=line), actor="ops")
    store.add_flag(make_flag(status="draft", target=line), actor="ops")
    services, _ = _services(store, tiny_network, tmp_path)
    assert [f.id for f in services.refresh_flags().flags] == [live.id]
    assert ask(services, "dnipro", "zaporizhzhia").recommended.modes != {"rail"}
    store.change_flag(live.id, 1, lambda f: replace(f, status=FlagStatus.WITHDRAWN),
                      actor="ops", action="flag.withdraw")
    assert services.refresh_flags().flags == ()
    assert ask(services, "dnipro", "zaporizhzhia").recommended.modes == {"rail"}


def test_a_failing_store_keeps_the_last_flags_and_says_so(store, tiny_network, tmp_path):
    line = {"kind": "line", "line_id": "dnipro-zaporizhzhia"}
    live = store.add_flag(make_flag(status="published", target=line), actor="ops")
    services, source = _services(store, tiny_network, tmp_path)
    assert services.refresh_flags().available
    source.store = Store(make_engine(UNREACHABLE))  # the database goes away
    state = services.refresh_flags()
    assert not state.available and state.stale
    assert [f.id for f in state.flags] == [live.id]
    advice = ask(services, "dnipro", "zaporizhzhia")
    assert advice.has_notice(NoticeCode.RISK_DATA_UNAVAILABLE)
    assert advice.recommended.modes != {"rail"}  # the known flag still applies


def test_one_read_gives_the_stamp_and_only_then_the_flags(store):
    line = {"kind": "line", "line_id": "dnipro-zaporizhzhia"}
    first = store.read_published_flags()
    assert first.stamp == store.flags_stamp() and first.flags == [] and first.war_map is None
    assert store.read_published_flags(first.stamp) == (first.stamp, None, None)  # no change
    live = store.add_flag(make_flag(status="published", target=line), actor="ops")
    store.add_flag(make_flag(status="draft", target=line), actor="ops")
    read = store.read_published_flags(first.stamp)
    assert read.stamp == store.flags_stamp() > first.stamp
    assert [f.id for f in read.flags] == [live.id]
    assert [f.id for f in read.flags] == [
        f.id for f in store.list_flags(FlagStatus.PUBLISHED)
    ]


def test_the_snapshot_is_written_after_routing_has_the_new_flags(store, tiny_network, tmp_path):
    from advisor.store.snapshot import FlagSnapshot, SnapshotFlagSource

    seen_when_written = []

    class Watched(FlagSnapshot):
        def write(self, flags, read_at, war_map=None):
            seen_when_written.append([f.id for f in services._risk.flags])
            super().write(flags, read_at, war_map)

    snapshot = Watched(tmp_path / "snapshot.json")
    source = SnapshotFlagSource(StoreFlagSource(store), snapshot)
    settings = load_settings({"instance_path": tmp_path})
    services = Services(settings, network=tiny_network, flag_source=source)
    services.refresh_flags()
    live = store.add_flag(
        make_flag(status="published", target={"kind": "line", "line_id": "dnipro-zaporizhzhia"}),
        actor="ops",
    )
    services.refresh_flags()
    assert seen_when_written[-1] == [live.id]  # the swap came first
    assert [f.id for f in snapshot.read().flags] == [live.id]
    source.load_flags()  # called directly (not by a refresh): it saves as it always did
    assert [f.id for f in snapshot.read().flags] == [live.id]
