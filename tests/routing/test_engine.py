"""The engine on the tiny network: the SCENARIOS.md situations, options, notices, input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from advisor.errors import InvalidQuery
from advisor.network.model import Mode
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import (
    BusLinkTarget,
    Flag,
    LineTarget,
    OblastTarget,
    RiskLevel,
    SectionTarget,
    StationTarget,
    Tolerance,
)
from advisor.routing.model import DataFreshness, NoticeCode, OptionKind, Query, Verdict
from advisor.routing.planner import plan
from tests.routing.checks import check_advice

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
SINCE = datetime(2026, 3, 12, 6, 0, tzinfo=UTC)


def flag(target, level=RiskLevel.HIGH, flag_id="f", source="Укрзалізниця", **kw):
    kw.setdefault("active_from", SINCE)
    return Flag(flag_id, level, target, "Обстріли", "Strikes", source, "ops", **kw)


def ask(network, flags, origin, destination, **kw):
    index = RiskIndex.build(flags, network)
    freshness = kw.pop("freshness", None)
    query = Query(origin, destination, kw.pop("at", NOW), **kw)
    advice = plan(network, index, query, freshness)
    check_advice(advice, network, index.link_levels(query.depart_at))
    return advice


def option(advice, kind):
    return next(o for o in advice.options if kind in (o.kind, *o.also_kinds))


def path(opt):
    return [(leg.mode.value, leg.from_id, leg.to_id) for leg in opt.legs]


def test_no_flags_recommends_the_quickest(tiny_network):
    advice = ask(tiny_network, [], "kyiv", "kharkiv")
    rec = advice.recommended
    assert rec.verdict is Verdict.ADVISED
    assert path(rec) == [("rail", "kyiv", "kharkiv")]
    assert rec.legs[0].link_ids == ("r-kyiv-poltava", "r-poltava-lubotyn", "r-lubotyn-kharkiv")
    assert rec.legs[0].station_ids == ("kyiv", "poltava", "lubotyn", "kharkiv")
    assert rec.travel_minutes == 305
    assert OptionKind.RAIL_ONLY in rec.also_kinds and OptionKind.FASTEST in rec.also_kinds
    assert advice.has_notice(NoticeCode.ESTIMATED_TIMES)
    assert not advice.has_notice(NoticeCode.ONLY_RISKY_ROUTES)


def test_kramatorsk_high_section_rail_then_bus(tiny_network):
    """SCENARIOS 1: rail to Lozova, then the bus; the direct rail is not advised, with why."""
    section = flag(SectionTarget("lozova-kramatorsk", "lozova", "kramatorsk"))
    advice = ask(tiny_network, [section], "kyiv", "kramatorsk")
    rec = advice.recommended
    assert path(rec) == [
        ("rail", "kyiv", "lozova"),
        ("transfer", "lozova", "bus:lozova"),
        ("bus", "bus:lozova", "bus:kramatorsk"),  # ends at the bus station: no walk to rail
    ]
    assert OptionKind.RAIL_THEN_BUS in rec.also_kinds
    direct = option(advice, OptionKind.FASTEST)
    assert direct.verdict is Verdict.NOT_ADVISED
    assert path(direct) == [("rail", "kyiv", "kramatorsk")]
    assert direct.legs[0].flags == (section,)
    assert "Лозова–Краматорськ" in direct.explanation_uk
    assert "12.03" in direct.explanation_uk and "Укрзалізниця" in direct.explanation_uk
    assert "high risk" in direct.explanation_en
    assert rec.explanation_en.startswith("Recommended because the faster route crosses")
    assert advice.has_notice(NoticeCode.BUS_DATA_2019)


def test_kramatorsk_accept_high_sees_the_direct_rail_marked_not_advised(tiny_network):
    """SCENARIOS 1: accepting high risk shows the direct rail, still marked not advised,
    while the rail-then-bus option stays recommended (the detour is reasonable)."""
    section = flag(SectionTarget("lozova-kramatorsk", "lozova", "kramatorsk"))
    advice = ask(tiny_network, [section], "kyiv", "kramatorsk", tolerance=Tolerance.ACCEPT_HIGH)
    direct = option(advice, OptionKind.FASTEST)
    assert path(direct) == [("rail", "kyiv", "kramatorsk")]
    assert direct.verdict is Verdict.NOT_ADVISED
    assert "high risk" in direct.explanation_en
    assert advice.recommended.modes == {Mode.RAIL, Mode.BUS}


def test_accept_high_recommends_high_risk_rail_with_caution_when_nothing_else_is_reasonable(
    tiny_network,
):
    """With the bus gone too, the high-risk rail is the accepted choice: recommended, with a
    caution, and shown once (not again as a not-advised "fastest")."""
    section = flag(SectionTarget("lozova-kramatorsk", "lozova", "kramatorsk"))
    no_bus = flag(StationTarget("bus:kramatorsk"), RiskLevel.SUSPENDED, flag_id="no-bus")
    advice = ask(
        tiny_network, [section, no_bus], "kyiv", "kramatorsk", tolerance=Tolerance.ACCEPT_HIGH
    )
    rec = advice.recommended
    assert rec is not None and rec.verdict is Verdict.CAUTION
    assert section in rec.flags
    assert rec.explanation_en.startswith("Recommended with caution")
    assert "high risk" in rec.explanation_en
    assert not [o for o in advice.options if o is not rec and o.legs == rec.legs]
    balanced = ask(tiny_network, [section, no_bus], "kyiv", "kramatorsk")
    assert balanced.recommended is None and balanced.has_notice(NoticeCode.NO_SAFE_ROUTE)


def test_dnipro_zaporizhzhia_line_high_recommends_bus(tiny_network):
    """SCENARIOS 2."""
    advice = ask(tiny_network, [flag(LineTarget("dnipro-zaporizhzhia"))], "dnipro", "zaporizhzhia")
    assert advice.recommended.modes == {Mode.BUS}
    rail = option(advice, OptionKind.RAIL_ONLY)
    assert rail.verdict is Verdict.NOT_ADVISED
    assert rail is not advice.recommended


def test_kharkiv_oblast_elevated_keeps_rail_with_warnings(tiny_network):
    """SCENARIOS 3: elevated is usable; warnings sit on the legs inside the oblast."""
    oblast = flag(OblastTarget("UA-63"), RiskLevel.ELEVATED)
    advice = ask(tiny_network, [oblast], "kyiv", "kharkiv")
    rec = advice.recommended
    assert rec.modes == {Mode.RAIL}
    assert rec.verdict is Verdict.CAUTION
    assert rec.legs[0].flags == (oblast,)
    assert "Kharkiv oblast" in rec.explanation_en


def test_kharkiv_oblast_elevated_strict_finds_nothing_inside(tiny_network):
    oblast = flag(OblastTarget("UA-63"), RiskLevel.ELEVATED)
    advice = ask(tiny_network, [oblast], "kyiv", "kharkiv", tolerance=Tolerance.STRICT)
    assert advice.recommended is None
    assert advice.has_notice(NoticeCode.NO_SAFE_ROUTE)
    assert advice.options[0].kind is OptionKind.LEAST_RISKY


def test_sumy_oblast_high_no_safe_route_and_bus_not_safe(tiny_network):
    """SCENARIOS 4: area flags cover buses too; the least risky is shown, not advised."""
    advice = ask(tiny_network, [flag(OblastTarget("UA-59"), source="ОВА")], "kyiv", "sumy")
    assert advice.recommended is None
    assert advice.has_notice(NoticeCode.NO_SAFE_ROUTE)
    assert advice.has_notice(NoticeCode.ONLY_RISKY_ROUTES)
    least = advice.options[0]
    assert least.kind is OptionKind.LEAST_RISKY and least.verdict is Verdict.NOT_ADVISED
    bus = option(advice, OptionKind.BUS_ONLY)
    assert bus.verdict is Verdict.NOT_ADVISED
    assert bus.risk_level is RiskLevel.HIGH
    assert "Сумську область" in bus.explanation_uk


def test_suspension_expires_by_itself(tiny_network):
    """SCENARIOS 5: a 24-hour suspension stops applying when its window ends."""
    cut = flag(
        SectionTarget("kyiv-kharkiv", "poltava", "kharkiv"),
        RiskLevel.SUSPENDED,
        active_from=NOW - timedelta(hours=1),
        active_until=NOW + timedelta(hours=23),
    )
    during = ask(tiny_network, [cut], "kyiv", "kharkiv")
    used = {i for o in during.options for leg in o.legs for i in leg.link_ids}
    assert not used & {"r-poltava-lubotyn", "r-lubotyn-kharkiv", "r-poltava-kharkiv"}
    after = ask(tiny_network, [cut], "kyiv", "kharkiv", at=NOW + timedelta(hours=23))
    assert after.recommended.legs[0].station_ids == ("kyiv", "poltava", "lubotyn", "kharkiv")


def test_poltava_kharkiv_high_avoided_with_a_bus_leg(tiny_network):
    """Issue 3: Kyiv → Kharkiv avoids Poltava–Kharkiv (parallel link too), offers a bus leg."""
    section = flag(SectionTarget("kyiv-kharkiv", "poltava", "kharkiv"))
    advice = ask(tiny_network, [section], "kyiv", "kharkiv")
    rec = advice.recommended
    used = {i for leg in rec.legs for i in leg.link_ids}
    assert not used & {"r-poltava-lubotyn", "r-lubotyn-kharkiv", "r-poltava-kharkiv"}
    assert any(Mode.BUS in o.modes for o in advice.options if o.verdict is not Verdict.NOT_ADVISED)
    assert option(advice, OptionKind.FASTEST).verdict is Verdict.NOT_ADVISED


def test_every_rail_line_into_sumy_suspended_recommends_bus(tiny_network):
    advice = ask(tiny_network, [flag(LineTarget("kyiv-sumy"), RiskLevel.SUSPENDED)], "kyiv", "sumy")
    assert advice.recommended.modes == {Mode.BUS}
    assert all(
        Mode.RAIL not in o.modes or o.legs[0].mode is Mode.TRANSFER
        for o in advice.options
        if "r-bakhmach-sumy" in str(o.legs)
    )


def test_suspended_everywhere_means_no_route(tiny_network):
    flags = [
        flag(StationTarget("sumy"), RiskLevel.SUSPENDED, "a"),
        flag(StationTarget("bus:sumy"), RiskLevel.SUSPENDED, "b"),
    ]
    advice = ask(tiny_network, flags, "kyiv", "sumy")
    assert advice.options == ()
    assert advice.has_notice(NoticeCode.NO_ROUTE)


def test_bus_only_mode_and_avoids(tiny_network):
    bus = ask(tiny_network, [], "kyiv", "kharkiv", modes=frozenset({Mode.BUS}))
    assert all(o.modes == {Mode.BUS} for o in bus.options)
    avoid = ask(tiny_network, [], "kyiv", "kharkiv", avoid_stations=frozenset({"poltava"}))
    assert avoid.recommended.modes == {Mode.BUS}
    lines = ask(tiny_network, [], "kyiv", "kharkiv", avoid_lines=frozenset({"kyiv-kharkiv"}))
    assert all("kyiv-kharkiv" not in leg.line_ids for o in lines.options for leg in o.legs)


def test_max_transfers_drops_options_with_more_changes(tiny_network):
    section = flag(SectionTarget("lozova-kramatorsk", "lozova", "kramatorsk"))
    advice = ask(tiny_network, [section], "kyiv", "kramatorsk", max_transfers=0)
    assert all(o.transfers == 0 for o in advice.options)
    assert advice.recommended is None  # rail + bus needs a change
    assert advice.has_notice(NoticeCode.TOO_MANY_TRANSFERS)
    assert [o.verdict for o in advice.options] == [Verdict.NOT_ADVISED]  # the direct rail


def test_bus_link_flag(tiny_network):
    advice = ask(
        tiny_network,
        [flag(BusLinkTarget("bus:dnipro", "bus:zaporizhzhia"))],
        "dnipro",
        "zaporizhzhia",
    )
    assert advice.recommended.modes == {Mode.RAIL}
    assert option(advice, OptionKind.BUS_ONLY).verdict is Verdict.NOT_ADVISED


def test_options_are_genuinely_different(tiny_network):
    section = flag(SectionTarget("kyiv-kharkiv", "poltava", "kharkiv"), RiskLevel.ELEVATED)
    advice = ask(tiny_network, [section], "kyiv", "kharkiv")
    links = [frozenset(i for leg in o.legs for i in leg.link_ids) for o in advice.options]
    assert len(set(links)) == len(links)


@pytest.mark.parametrize(
    ("origin", "destination", "code"),
    [
        ("kyiv", "kyiv", NoticeCode.SAME_ORIGIN_DESTINATION),
        ("kyiv", "bus:kyiv", NoticeCode.SAME_ORIGIN_DESTINATION),
        ("atlantis", "kyiv", NoticeCode.ORIGIN_NOT_FOUND),
        ("kyiv", "atlantis", NoticeCode.DESTINATION_NOT_FOUND),
    ],
)
def test_endpoint_notices(tiny_network, origin, destination, code):
    advice = ask(tiny_network, [], origin, destination)
    assert advice.options == () and advice.has_notice(code)


def test_freshness_notices(tiny_network):
    stale = DataFreshness(NOW - timedelta(hours=3), True, True, "tiny", "")
    assert ask(tiny_network, [], "kyiv", "sumy", freshness=stale).has_notice(
        NoticeCode.RISK_DATA_STALE
    )
    down = DataFreshness(NOW - timedelta(hours=3), True, False, "tiny", "")
    advice = ask(tiny_network, [], "kyiv", "sumy", freshness=down)
    assert advice.has_notice(NoticeCode.RISK_DATA_UNAVAILABLE)
    assert "No flag does not mean no risk" in advice.notices[0].message_en


@pytest.mark.parametrize(("stale", "available"), [(True, True), (False, False)])
def test_freshness_notices_say_when_the_update_time_is_unknown(tiny_network, stale, available):
    # Only baseline flags during an outage: no read ever succeeded, so there is no time
    unknown = DataFreshness(None, stale, available, "tiny", "", flags_origin="baseline")
    first = ask(tiny_network, [], "kyiv", "sumy", freshness=unknown).notices[0]
    assert first.details == {"updated_at": None}
    assert "unknown" in first.message_en and "невідомий" in first.message_uk
    assert "—" not in first.message_en + first.message_uk and "()" not in first.message_en


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tolerance": "reckless"}, "tolerance"),
        ({"modes": frozenset({Mode.TRANSFER})}, "modes"),
        ({"max_transfers": -1}, "max_transfers"),
    ],
)
def test_malformed_query_is_refused(tiny_network, changes, field):
    with pytest.raises(InvalidQuery) as info:
        plan(tiny_network, RiskIndex.empty(), Query("kyiv", "sumy", NOW, **changes))
    assert info.value.field == field


def test_naive_time_is_refused(tiny_network):
    with pytest.raises(InvalidQuery, match="time zone"):
        plan(tiny_network, RiskIndex.empty(), Query("kyiv", "sumy", datetime(2026, 3, 12)))


def test_two_bus_routes_in_a_row_are_a_change_of_bus_with_its_time():
    """Each bus link is one licensed route: riding two means changing buses (SCENARIOS 6:
    a transfer is never free), and the change counts against max_transfers."""
    from advisor.network.model import Link, LinkSource, Network, Station, StationKind

    stops = [
        Station(f"bus:{c}", c.upper(), c.upper(), 50.0, 30.0 + i, "UA-32", StationKind.BUS_STATION)
        for i, c in enumerate("abc")
    ]
    links = [
        Link("ab", "bus:a", "bus:b", Mode.BUS, 100, 90, LinkSource.BUS_REGISTER_2019),
        Link("bc", "bus:b", "bus:c", Mode.BUS, 100, 90, LinkSource.BUS_REGISTER_2019),
    ]
    network = Network.build(stops, links, [])
    advice = ask(network, [], "bus:a", "bus:c", bus_change_minutes=25)
    rec = advice.recommended
    assert path(rec) == [
        ("bus", "bus:a", "bus:b"),
        ("transfer", "bus:b", "bus:b"),
        ("bus", "bus:b", "bus:c"),
    ]
    assert rec.transfers == 1 and rec.travel_minutes == 90 + 25 + 90
    assert not ask(network, [], "bus:a", "bus:c", max_transfers=0).options
    with pytest.raises(InvalidQuery, match="bus_change_minutes"):
        ask(network, [], "bus:a", "bus:c", bus_change_minutes=0)
