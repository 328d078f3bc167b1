"""The SCENARIOS.md situations on the shipped national network, with the baseline flags."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import networkx as nx
import pytest

from advisor.network.model import LinkSource, Mode
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import Tolerance
from advisor.risk.parse import flag_from_dict
from advisor.routing.model import NoticeCode, OptionKind, Query, Verdict
from advisor.routing.planner import plan
from advisor.services import FileFlagSource
from advisor.settings import CONFIG_DIR
from tests.routing.checks import check_advice, reference_trip

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
SLOVIANSK = "osm-node-1065061073"
KRAMATORSK = "osm-node-13072326058"
BARVINKOVE = "osm-node-1726138929"


@pytest.fixture(scope="module")
def baseline():
    return FileFlagSource([CONFIG_DIR / "baseline_flags.toml"], strict=True).load_flags()


def flag(target, level="high", source="Укрзалізниця", **kw):
    data = {
        "level": level,
        "target": target,
        "reason_uk": "Обстріли",
        "reason_en": "Strikes",
        "source": source,
        "active_from": "2026-03-12T08:00+02:00",
        **kw,
    }
    return flag_from_dict(data)


def ask(network, flags, origin, destination, **kw):
    index = RiskIndex.build(flags, network)
    query = Query(origin, destination, kw.pop("at", NOW), **kw)
    advice = plan(network, index, query)
    check_advice(advice, network, index.link_levels(query.depart_at))
    return advice


def option(advice, kind):
    return next((o for o in advice.options if kind in (o.kind, *o.also_kinds)), None)


def lines_of(opt):
    return {line for leg in opt.legs for line in leg.line_ids}


def test_kyiv_kramatorsk_rail_to_a_hub_then_bus(shipped_network, baseline):
    """SCENARIOS 1. The shipped line runs Lozova–Barvinkove–Sloviansk–Kramatorsk, and the
    2019 bus register has no bus into Kramatorsk from the west; the bypass it has is
    Kharkiv–Sloviansk. So the flagged part is Lozova–Barvinkove–Sloviansk."""
    section = flag(
        {
            "kind": "section",
            "line_id": "lozova-barvinkove-kramatorsk",
            "from_station": "lozova",
            "to_station": SLOVIANSK,
        }
    )
    # Kharkiv–Izium–Sloviansk is the other rail way in; flag it too (front line).
    izium = flag({"kind": "line", "line_id": "izium-sloviansk"})
    advice = ask(shipped_network, [*baseline, section, izium], "kyiv", KRAMATORSK)
    rec = advice.recommended
    assert rec is not None and rec.verdict is not Verdict.NOT_ADVISED
    assert rec.legs[0].mode is Mode.RAIL
    assert Mode.BUS in rec.modes
    index = RiskIndex.build([section, izium], shipped_network)
    assert not {i for leg in rec.legs for i in leg.link_ids} & index.coverage[section.id].link_ids
    assert any(leg.mode is Mode.TRANSFER and leg.travel_minutes > 0 for leg in rec.legs)
    direct = [o for o in advice.options if o.verdict is Verdict.NOT_ADVISED]
    assert any("Лозова" in o.explanation_uk for o in direct), [o.explanation_uk for o in direct]
    assert "Укрзалізниця" in direct[0].explanation_uk and "12.03" in direct[0].explanation_uk


@pytest.mark.parametrize(
    "lines",
    [
        ("lozova-barvinkove-kramatorsk", "izium-sloviansk"),
        ("lozova-sloviansk", "izium-sloviansk"),
    ],
)
def test_kyiv_kramatorsk_lines_high_rail_to_a_hub_then_replacement_bus(
    shipped_network, baseline, lines
):
    """SCENARIOS 1 as the railway ran it in 2026: the rail ways into Kramatorsk through
    Lozova and Izium flagged high, so the train goes to Lozova and the replacement bus on.

    The replacement bus (config/hand_links.toml) is one bus Lozova – Barvinkove – Sloviansk –
    Kramatorsk with a link for every pair of its stops, so riding it through is one ride, not
    three buses with two changes."""
    flags = [flag({"kind": "line", "line_id": line}) for line in lines]
    advice = ask(shipped_network, [*baseline, *flags], "kyiv", KRAMATORSK)
    rec = advice.recommended
    assert rec.verdict is Verdict.ADVISED and rec.modes == {Mode.RAIL, Mode.BUS}
    assert rec.legs[0].mode is Mode.RAIL and rec.legs[0].to_id == "lozova"
    assert rec.legs[1].mode is Mode.TRANSFER and rec.legs[1].travel_minutes >= 15
    bus = rec.legs[2]
    assert bus.mode is Mode.BUS and bus.from_id == "bus:6311000000"  # Лозова
    assert {shipped_network.links[i].source for i in bus.link_ids} == {LinkSource.HAND_ADDED}
    assert rec.transfers <= 2 and not [leg for leg in rec.legs if not leg.link_ids]
    assert rec.legs[-1].to_id == KRAMATORSK
    if lines[0] == "lozova-barvinkove-kramatorsk":  # Sloviansk – Kramatorsk is flagged too
        assert bus.to_id == "bus:1412900000"  # straight through to Kramatorsk on one bus
    assert "Lozova – Barvinkove" in rec.explanation_en
    assert "Укрзалізниця" in rec.explanation_uk and "12.03" in rec.explanation_uk
    direct = option(advice, OptionKind.FASTEST)
    assert direct.verdict is Verdict.NOT_ADVISED and direct.modes == {Mode.RAIL}
    assert "Лозова – Барвінкове" in direct.explanation_uk
    assert advice.has_notice(NoticeCode.REPLACEMENT_BUS)


def test_dnipro_zaporizhzhia_line_high_bus_recommended(shipped_network, baseline):
    line = flag({"kind": "line", "line_id": "dnipro-zaporizhzhia"})
    advice = ask(shipped_network, [*baseline, line], "dnipro", "zaporizhzhia")
    assert advice.recommended.modes == {Mode.BUS}
    rail = option(advice, OptionKind.RAIL_ONLY)
    assert rail is not None and rail.verdict is Verdict.NOT_ADVISED


def test_kyiv_kharkiv_oblast_elevated_rail_with_warnings(shipped_network, baseline):
    oblast = flag({"kind": "oblast", "oblast_iso": "UA-63"}, level="elevated")
    advice = ask(shipped_network, [*baseline, oblast], "kyiv", "kharkiv")
    rec = advice.recommended
    assert rec.modes == {Mode.RAIL} and rec.verdict is Verdict.CAUTION
    assert any(oblast in leg.flags for leg in rec.legs)


def test_sumy_oblast_high_no_safe_route(shipped_network, baseline):
    oblast = flag({"kind": "oblast", "oblast_iso": "UA-59"}, source="Сумська ОВА")
    advice = ask(shipped_network, [*baseline, oblast], "kyiv", "sumy")
    assert advice.recommended is None and advice.has_notice(NoticeCode.NO_SAFE_ROUTE)
    assert advice.options[0].kind is OptionKind.LEAST_RISKY
    bus = option(advice, OptionKind.BUS_ONLY)
    assert bus is not None and bus.verdict is Verdict.NOT_ADVISED


def test_suspension_for_24_hours_expires(shipped_network, baseline):
    cut = flag(
        {"kind": "line", "line_id": "poltava-kharkiv"},
        level="suspended",
        active_until="2026-03-13T08:00+02:00",
    )
    during = ask(shipped_network, [*baseline, cut], "kyiv", "kharkiv")
    assert "poltava-kharkiv" not in lines_of(during.recommended)
    after = ask(shipped_network, [*baseline, cut], "kyiv", "kharkiv", at=NOW + timedelta(days=1))
    plain = ask(shipped_network, baseline, "kyiv", "kharkiv")
    assert after.recommended.legs == plain.recommended.legs


def test_poltava_kharkiv_high_avoided_and_bus_offered(shipped_network, baseline):
    section = flag({"kind": "line", "line_id": "poltava-kharkiv"})
    advice = ask(shipped_network, [*baseline, section], "kyiv", "kharkiv")
    covered = set(shipped_network.lines["poltava-kharkiv"].link_ids)
    rec_links = {i for leg in advice.recommended.legs for i in leg.link_ids}
    assert not rec_links & covered
    assert any(Mode.BUS in o.modes for o in advice.options if o.verdict is not Verdict.NOT_ADVISED)


def test_every_rail_line_into_sumy_suspended_bus_recommended(shipped_network, baseline):
    """The named lines into Sumy plus the Lebedyn branch (no named line): every rail link
    into the station is closed by flagging its neighbours; the bus stop stays open."""
    net = shipped_network
    lines = [
        flag({"kind": "line", "line_id": line}, level="suspended")
        for line in net.lines
        if "sumy" in line
    ]
    neighbours = {
        net.links[key].other_end("sumy")
        for _u, _v, key in net.graph.edges("sumy", keys=True)
        if net.links[key].mode is Mode.RAIL
    }
    closed = [flag({"kind": "station", "station_id": n}, level="suspended") for n in neighbours]
    advice = ask(net, [*baseline, *lines, *closed], "kyiv", "sumy")
    rec = advice.recommended
    riding = [leg for leg in rec.legs if leg.mode is not Mode.TRANSFER]
    assert riding[-1].mode is Mode.BUS
    assert option(advice, OptionKind.BUS_ONLY) is not None
    assert all(o.legs[-1].mode is Mode.TRANSFER for o in advice.options)  # bus stop → station


def test_no_flags_recommended_equals_plain_shortest_path(shipped_network):
    rng = random.Random(7)
    main = max(nx.connected_components(shipped_network.graph), key=len)
    ids = sorted(main)
    for _ in range(15):
        origin, destination = rng.sample(ids, 2)
        s = shipped_network.stations
        if s[origin].settlement and s[origin].settlement == s[destination].settlement:
            continue
        advice = ask(shipped_network, [], origin, destination, max_transfers=50)
        # The plain reference prices a change of bus too (two bus links in a row), so the
        # full reported total, change legs included, must equal its shortest total.
        change = advice.query.bus_change_minutes
        expected, _stations = reference_trip(shipped_network, origin, destination, change)
        assert math.isclose(advice.recommended.travel_minutes, expected)


@pytest.mark.parametrize(
    ("origin", "destination"),
    [
        ("kharkiv", "izium"),
        ("kyiv", "sumy"),
        ("kyiv", "lozova"),
        ("dnipro", "zaporizhzhia"),
        ("kyiv", "zaporizhzhia"),
        ("mykolaiv", "kherson"),
        ("lozova", SLOVIANSK),
        ("lozova", KRAMATORSK),
        (SLOVIANSK, KRAMATORSK),
    ],
)
def test_baseline_never_blocks_running_lines(shipped_network, baseline, origin, destination):
    advice = ask(
        shipped_network,
        baseline,
        origin,
        destination,
        modes=frozenset({Mode.RAIL}),
        tolerance=Tolerance.STRICT,
    )
    plain = ask(shipped_network, [], origin, destination, modes=frozenset({Mode.RAIL}))
    assert advice.recommended is not None, f"{origin}→{destination} blocked by baseline"
    assert advice.recommended.risk_level is None
    assert advice.recommended.legs == plain.recommended.legs


def test_baseline_blocks_occupied_territory(shipped_network, baseline):
    from advisor.settings import Settings
    from advisor.war_maps import WarLayers

    layer = WarLayers(Settings()).layer(shipped_network)  # Donetsk: the war map, not a circle
    baseline = [*baseline, *layer.flags]
    index = RiskIndex.build(baseline, shipped_network)
    assert not index.problems
    donetsk = "osm-node-278290881"
    for station in (donetsk, "osm-node-3693422903", "osm-node-652003827", "osm-node-10175634575"):
        assert index.flags_at_station(station, NOW), station
    advice = ask(shipped_network, baseline, "kyiv", donetsk)
    assert advice.recommended is None
