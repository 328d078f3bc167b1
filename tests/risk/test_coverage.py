"""What each target kind covers, and the RiskIndex's time handling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from advisor.risk.coverage import RiskIndex, resolve
from advisor.risk.model import (
    BusLinkTarget,
    CircleTarget,
    Flag,
    FlagStatus,
    LineTarget,
    OblastTarget,
    PolygonTarget,
    RiskLevel,
    SectionTarget,
    StationTarget,
)

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)


def make_flag(target, level=RiskLevel.HIGH, flag_id="f", **kw):
    return Flag(flag_id, level, target, "Обстріли", "Strikes", "UZ", "ops", **kw)


@pytest.mark.parametrize(
    ("target", "links", "stations"),
    [
        (
            LineTarget("lozova-kramatorsk"),
            {"r-lozova-barvinkove", "r-barvinkove-kramatorsk"},
            {"lozova", "barvinkove", "kramatorsk"},
        ),
        # the parallel poltava–kharkiv link is covered with the chain beside it
        (
            SectionTarget("kyiv-kharkiv", "kharkiv", "poltava"),
            {"r-poltava-lubotyn", "r-lubotyn-kharkiv", "r-poltava-kharkiv"},
            {"poltava", "lubotyn", "kharkiv"},
        ),
        (SectionTarget("kyiv-kharkiv", "kyiv", "poltava"), {"r-kyiv-poltava"}, {"kyiv", "poltava"}),
        (
            StationTarget("barvinkove"),
            {"r-lozova-barvinkove", "r-barvinkove-kramatorsk"},
            {"barvinkove"},
        ),
        (BusLinkTarget("bus:sumy", "bus:kyiv"), {"b-kyiv-sumy"}, {"bus:kyiv", "bus:sumy"}),
    ],
)
def test_linear_targets(tiny_network, target, links, stations):
    cov = resolve(make_flag(target), tiny_network)
    assert cov.link_ids == links
    assert cov.station_ids == stations


def test_oblast_covers_buses_and_rail_with_an_end_inside(tiny_network):
    cov = resolve(make_flag(OblastTarget("UA-59")), tiny_network)
    assert cov.station_ids == {"sumy", "bus:sumy"}
    assert cov.link_ids == {"r-bakhmach-sumy", "b-kyiv-sumy", "b-kharkiv-sumy", "t-sumy"}


def test_circle_covers_links_passing_through_without_an_end_inside(tiny_network):
    # 15 km around Barvinkove's east: no end of b-lozova-kramatorsk inside, the road crosses it
    cov = resolve(make_flag(CircleTarget(48.85, 36.95, 15)), tiny_network)
    assert "b-lozova-kramatorsk" in cov.link_ids
    assert "barvinkove" in cov.station_ids
    assert "lozova" not in cov.station_ids


def test_polygon_around_sumy(tiny_network):
    ring = ((34.0, 50.5), (35.5, 50.5), (35.5, 51.5), (34.0, 51.5))
    cov = resolve(make_flag(PolygonTarget(ring)), tiny_network)
    assert {"sumy", "bus:sumy"} <= cov.station_ids
    assert {"r-bakhmach-sumy", "b-kyiv-sumy", "b-kharkiv-sumy"} <= cov.link_ids
    assert "r-kyiv-poltava" not in cov.link_ids


def test_index_respects_windows_and_status(tiny_network):
    ended = make_flag(StationTarget("lozova"), flag_id="old", active_until=NOW)
    future = make_flag(
        StationTarget("lozova"), flag_id="later", active_from=NOW + timedelta(hours=1)
    )
    draft = make_flag(StationTarget("lozova"), flag_id="draft", status=FlagStatus.DRAFT)
    live = make_flag(
        StationTarget("lozova"), RiskLevel.ELEVATED, "live", active_from=NOW - timedelta(hours=1)
    )
    index = RiskIndex.build([ended, future, draft, live], tiny_network)
    assert [f.id for f in index.flags_on_link("r-kharkiv-lozova", NOW)] == ["live"]
    assert index.link_level("r-kharkiv-lozova", NOW) is RiskLevel.ELEVATED
    assert index.link_level("r-kharkiv-lozova", NOW + timedelta(hours=2)) is RiskLevel.HIGH
    assert index.link_level("r-kharkiv-lozova", NOW - timedelta(hours=2)) is RiskLevel.HIGH
    assert [f.id for f in index.flags_at_station("lozova", NOW)] == ["live"]
    assert index.link_level("r-kyiv-poltava", NOW) is None


def test_link_levels_take_the_highest_flag(tiny_network):
    index = RiskIndex.build(
        [
            make_flag(OblastTarget("UA-63"), RiskLevel.ELEVATED, "obl"),
            make_flag(LineTarget("kharkiv-lozova"), RiskLevel.SUSPENDED, "line"),
            make_flag(StationTarget("kharkiv"), RiskLevel.ADVISORY, "st"),
        ],
        tiny_network,
    )
    levels = index.link_levels(NOW)
    assert levels["r-kharkiv-lozova"] is RiskLevel.SUSPENDED
    assert levels["r-lubotyn-kharkiv"] is RiskLevel.ELEVATED
    assert "r-kyiv-poltava" not in levels
    assert index.link_levels(NOW) is levels  # cached per active set


def test_unresolvable_flag_is_reported_not_fatal(tiny_network):
    good = make_flag(StationTarget("lozova"), flag_id="good")
    bad = make_flag(LineTarget("no-such-line"), flag_id="bad")
    index = RiskIndex.build([bad, good], tiny_network)
    assert index.problems[0][0] == "bad"
    assert index.link_level("r-kharkiv-lozova", NOW) is RiskLevel.HIGH


def test_parallel_link_inherits_flags_of_the_chain_beside_it(tiny_network):
    """A train on the poltava–kharkiv skip link passes Liubotyn: a flag there covers it."""
    cov = resolve(make_flag(StationTarget("lubotyn")), tiny_network)
    assert cov.link_ids == {"r-poltava-lubotyn", "r-lubotyn-kharkiv", "r-poltava-kharkiv"}


def test_shadows_on_the_shipped_network(shipped_network):
    from advisor.risk.coverage import parallel_shadows

    shadows = parallel_shadows(shipped_network)
    parallel = [lk.id for lk in shipped_network.links.values() if lk.parallel]
    assert len(shadows.chain) >= 0.95 * len(parallel)
    for link_id, chain in list(shadows.chain.items())[:200]:
        link = shipped_network.links[link_id]
        ends = [shipped_network.links[i] for i in (chain[0], chain[-1])]
        assert link.from_id in (ends[0].from_id, ends[0].to_id)
        assert link.to_id in (ends[-1].from_id, ends[-1].to_id)
