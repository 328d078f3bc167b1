"""Risk flags on timetabled trips: Kyiv–Poltava–Kharkiv trains and a Kyiv–Kharkiv bus.

The flag is a circle around Skorokhodove, on the Poltava–Kharkiv railway in the middle of the
trains' route and about 30 km from the bus road.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from advisor.errors import InvalidQuery
from advisor.network.model import Mode, TimeSource
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import (
    CircleTarget,
    Flag,
    RiskLevel,
    SectionTarget,
    StationTarget,
    Tolerance,
)
from advisor.routing.model import DataFreshness, Leg, NoticeCode, OptionKind, Query, Verdict
from advisor.routing.timetable import TimetablePlanner

KYIV = ZoneInfo("Europe/Kyiv")
MORNING = datetime(2026, 3, 9, 6, 0, tzinfo=KYIV)


def _flag(level, *, target=None, **window):
    return Flag(
        id=f"skorokhodove-{level.value}",
        level=level,
        target=target or CircleTarget(49.7795, 35.073, 5.0),
        reason_uk="Пошкоджено колію",
        reason_en="Track damaged",
        source="test",
        author="ops",
        **window,
    )


def _advise(planner, network, flags, tolerance=Tolerance.BALANCED, at=MORNING, **kw):
    query = Query("kyiv", "kharkiv", at, tolerance=tolerance, **kw)
    return planner.advise(query, RiskIndex.build(flags, network))


def _kinds(advice):
    return {o.kind: o for o in advice.options}


def test_without_flags_the_morning_intercity_is_recommended(ua_planner, national_network):
    advice = _advise(ua_planner, national_network, [])
    best = advice.recommended
    assert [leg.route_name for leg in best.legs] == ["IC 711"]
    assert best.verdict is Verdict.ADVISED
    assert OptionKind.FASTEST in best.also_kinds
    # The hop is mapped onto the network: links through Hrebinka and Poltava.
    ends = {
        e
        for lk in best.legs[0].link_ids
        for e in (national_network.links[lk].from_id, national_network.links[lk].to_id)
    }
    assert {"kyiv", "hrebinka", "poltava", "kharkiv"} <= ends
    assert best.legs[0].distance_km > 400


def test_high_flag_mid_trip_excludes_the_train_under_balanced(ua_planner, national_network):
    advice = _advise(ua_planner, national_network, [_flag(RiskLevel.HIGH)])
    options = _kinds(advice)
    best = options[OptionKind.RECOMMENDED]
    assert [leg.mode for leg in best.legs] == [Mode.BUS]
    assert best.legs[0].from_id == "bus:8000000000"
    assert best.verdict is Verdict.ADVISED
    # The train is the best rail-only option (least risky, not advised) and the fastest:
    # one trip, shown once, explained as the estimated back-end explains its options.
    fastest = next(o for o in advice.options if OptionKind.FASTEST in (o.kind, *o.also_kinds))
    assert fastest.kind is OptionKind.RAIL_ONLY
    assert fastest.verdict is Verdict.NOT_ADVISED
    assert fastest.legs[0].route_name == "IC 711"
    assert [f.id for f in fastest.legs[0].flags] == ["skorokhodove-high"]
    assert fastest.explanation("en").startswith("Not advised: the route crosses an area of 5 km")
    assert "high risk" in fastest.explanation("en") and "test" in fastest.explanation("en")


def test_high_flag_is_allowed_with_a_warning_under_accept_high(ua_planner, national_network):
    advice = _advise(ua_planner, national_network, [_flag(RiskLevel.HIGH)], Tolerance.ACCEPT_HIGH)
    best = advice.recommended
    assert best.legs[0].route_name == "IC 711"
    assert best.verdict is Verdict.CAUTION
    assert best.risk_level is RiskLevel.HIGH


def test_suspended_is_never_used(ua_planner, national_network):
    advice = _advise(
        ua_planner, national_network, [_flag(RiskLevel.SUSPENDED)], Tolerance.ACCEPT_HIGH
    )
    assert all(leg.mode is not Mode.RAIL for o in advice.options for leg in o.legs)


def test_strict_avoids_elevated_balanced_keeps_it_when_the_detour_is_long(
    ua_planner, national_network
):
    flags = [_flag(RiskLevel.ELEVATED)]
    strict = _advise(ua_planner, national_network, flags, Tolerance.STRICT).recommended
    assert strict.legs[0].mode is Mode.BUS
    balanced = _advise(ua_planner, national_network, flags).recommended
    assert balanced.legs[0].route_name == "IC 711"  # the bus arrives 3 h 20 min later
    assert balanced.verdict is Verdict.CAUTION


def test_flags_apply_only_during_their_validity(ua_planner, national_network):
    # In force from 09:00: IC 711 passes Skorokhodove's hop from 08:33 and is not affected.
    later = _flag(RiskLevel.HIGH, active_from=datetime(2026, 3, 9, 9, 0, tzinfo=KYIV))
    best = _advise(ua_planner, national_network, [later], modes=frozenset({Mode.RAIL})).recommended
    assert best.legs[0].route_name == "IC 711" and best.legs[0].flags == ()
    # The afternoon IC 713 runs inside the window: rail only, nothing within tolerance.
    noon = datetime(2026, 3, 9, 12, 0, tzinfo=KYIV)
    advice = _advise(ua_planner, national_network, [later], at=noon, modes=frozenset({Mode.RAIL}))
    assert advice.recommended is None
    assert advice.has_notice(NoticeCode.NO_SAFE_ROUTE)
    assert advice.options[0].verdict is Verdict.NOT_ADVISED


def test_station_flag_at_an_intermediate_stop(ua_planner, national_network):
    flag = _flag(RiskLevel.HIGH, target=StationTarget("poltava"))
    advice = _advise(ua_planner, national_network, [flag])
    assert advice.recommended.legs[0].mode is Mode.BUS


def test_departures_board_shows_risk_badges(ua_planner, national_network):
    index = RiskIndex.build([_flag(RiskLevel.HIGH)], national_network)
    board = ua_planner.departures("kyiv", MORNING, limit=4, risk=index)
    badges = {d.route_name: d.risk_level for d in board}
    assert badges["IC 711"] is RiskLevel.HIGH
    assert badges["6001"] is None  # Kyiv–Fastiv does not pass the flagged area
    assert "Київ — Харків автобус" not in badges  # the board is the rail station's own


@pytest.mark.parametrize("tolerance", list(Tolerance))
def test_every_option_starts_and_ends_in_the_right_city(ua_planner, national_network, tolerance):
    advice = _advise(ua_planner, national_network, [_flag(RiskLevel.HIGH)], tolerance)
    for option in advice.options:
        assert option.legs[0].from_id in ("kyiv", "bus:8000000000")
        assert option.legs[-1].to_id in ("kharkiv", "bus:6310100000")
        assert option.travel_minutes == sum(leg.travel_minutes for leg in option.legs)
        span = option.legs[-1].arrival - option.legs[0].departure
        assert option.travel_minutes == span.total_seconds() / 60


def test_avoided_station_and_line_block_the_trains(ua_planner, national_network):
    advice = _advise(ua_planner, national_network, [], avoid_stations=frozenset({"poltava"}))
    assert advice.recommended.legs[0].mode is Mode.BUS
    line = _line(national_network, "poltava-kharkiv")
    advice = _advise(ua_planner, national_network, [], avoid_lines=frozenset({line.id}))
    assert advice.recommended.legs[0].mode is Mode.BUS
    for option in advice.options:
        assert set(line.link_ids).isdisjoint(lk for leg in option.legs for lk in leg.link_ids)


def _line(network, line_id):
    if line_id not in network.lines:
        pytest.skip(f"the shipped network has no line {line_id!r}")
    return network.lines[line_id]


@pytest.mark.parametrize(
    ("tolerance", "mode", "verdict"),
    [
        (Tolerance.BALANCED, Mode.BUS, Verdict.ADVISED),
        (Tolerance.ACCEPT_HIGH, Mode.RAIL, Verdict.CAUTION),
    ],
)
def test_section_flag_mid_trip(ua_planner, national_network, tolerance, mode, verdict):
    line = _line(national_network, "kyiv-poltava-kharkiv")
    flag = _flag(RiskLevel.HIGH, target=SectionTarget(line.id, "poltava", "kharkiv"))
    best = _advise(ua_planner, national_network, [flag], tolerance).recommended
    assert (best.legs[0].mode, best.verdict) == (mode, verdict)


def test_leg_lines_come_from_the_network_links(ua_planner, national_network):
    leg = _advise(ua_planner, national_network, []).recommended.legs[0]
    expected = {ln for lk in leg.link_ids for ln in national_network.links[lk].line_ids}
    assert set(leg.line_ids) == expected


def test_feed_transfer_time_overrides_configuration(ua_planner):
    tt = ua_planner.timetable
    assert ua_planner.change[tt.find_stop("poltava-kyivska")] == 600  # transfers.txt
    assert ua_planner.change[tt.find_stop("kharkiv-pas")] == 20 * 60  # configuration default


def test_notices_only_risky_and_stale_data(ua_planner, national_network):
    flag = _flag(RiskLevel.ELEVATED, target=CircleTarget(50.2, 31.5, 400.0))  # covers both
    index = RiskIndex.build([flag], national_network)
    stale = DataFreshness(MORNING, True, True, "", "", ("ua-rail",))
    advice = ua_planner.advise(Query("kyiv", "kharkiv", MORNING), index, freshness=stale)
    assert advice.has_notice(NoticeCode.ONLY_RISKY_ROUTES)
    assert advice.has_notice(NoticeCode.RISK_DATA_STALE)
    same = ua_planner.advise(Query("kyiv", "kyiv", MORNING), index)
    assert same.options == () and same.has_notice(NoticeCode.SAME_ORIGIN_DESTINATION)


def _estimated(origin, destination, minutes):
    return Leg(
        mode=Mode.RAIL, from_id=origin, to_id=destination, station_ids=(origin, destination),
        link_ids=(), line_ids=(), distance_km=570.0, travel_minutes=minutes,
        time_source=TimeSource.SPEED_MODEL,
    )  # fmt: skip


def test_estimated_access_leg_where_no_timetable_covers_the_origin(ua_planner, national_network):
    evening = datetime(2026, 3, 10, 22, 0, tzinfo=KYIV)
    query = Query("lviv", "kharkiv", evening, modes=frozenset({Mode.RAIL}))
    with pytest.raises(InvalidQuery, match="'lviv'"):
        ua_planner.advise(query)
    access = {"kyiv": (_estimated("lviv", "kyiv", 441),)}
    advice = ua_planner.advise(query, RiskIndex.build([], national_network), access=access)
    legs = advice.recommended.legs
    assert legs[0].is_estimated and legs[0].to_id == "kyiv"
    # The change at Kyiv is a leg of its own, with the minutes the scan counted for it.
    assert legs[1].mode is Mode.TRANSFER and legs[1].from_id == legs[1].to_id == "kyiv"
    assert legs[1].travel_minutes == 20 and legs[1].is_estimated
    assert [leg.route_name for leg in legs[2:]] == ["IC 711"]  # 05:21 + 20 min change < 06:00
    assert legs[2].departure.isoformat() == "2026-03-11T06:00:00+02:00"
    assert advice.has_notice(NoticeCode.ESTIMATED_TIMES)
    # A longer access leg misses the 06:00 and takes the afternoon train.
    slow = {"kyiv": (_estimated("lviv", "kyiv", 470),)}
    later = ua_planner.advise(query, RiskIndex.build([], national_network), access=slow)
    assert later.recommended.legs[2].route_name == "IC 713"


def test_estimated_egress_leg(ua_planner, national_network):
    query = Query("kyiv", "lozova", MORNING, modes=frozenset({Mode.RAIL}))
    egress = {"kharkiv": (_estimated("kharkiv", "lozova", 95),)}
    advice = ua_planner.advise(query, RiskIndex.build([], national_network), egress=egress)
    legs = advice.recommended.legs
    assert legs[0].route_name == "IC 711" and legs[-1].to_id == "lozova"
    assert legs[-1].is_estimated
    assert legs[-2].mode is Mode.TRANSFER and legs[-2].from_id == "kharkiv"


def test_elevated_buffer_after_a_trip_through_an_elevated_section(
    ua_feed, ua_planner, national_network
):
    """IC 711 reaches Poltava 08:30; the 09:00 to Myrhorod needs 10 min (transfers.txt) —
    or 40 min after a trip through an elevated section, which misses it (and tomorrow's)."""
    query = Query("kyiv", "osm-node-2420805814", MORNING, Tolerance.ACCEPT_HIGH)
    before = ua_planner.advise(query, RiskIndex.build([], national_network))
    assert before.recommended.legs[-1].arrival.isoformat() == "2026-03-09T10:30:00+02:00"
    line = _line(national_network, "kyiv-hrebinka-poltava")
    flag = _flag(RiskLevel.ELEVATED, target=SectionTarget(line.id, "kyiv", "poltava"))
    index = RiskIndex.build([flag], national_network)
    after = ua_planner.advise(query, index)
    assert after.options == () and after.has_notice(NoticeCode.NO_ROUTE)
    no_buffer = TimetablePlanner(ua_feed[0], national_network, elevated_buffer_seconds=0)
    best = no_buffer.advise(query, index).recommended
    assert best.legs[-1].arrival.isoformat() == "2026-03-09T10:30:00+02:00"
    assert best.verdict is Verdict.CAUTION and best.risk_level is RiskLevel.ELEVATED
