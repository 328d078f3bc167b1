"""Accept-high prefers a journey without high-risk trips when the detour is reasonable.

The ``ua-detour`` feed: IC 711 Kyiv–Poltava–Kharkiv daily 06:00–10:40 (through the flagged
circle around Skorokhodove), and a bus 06:10 from Kyiv arriving 11:10 on Monday (30 min
later: within the allowance of max(1 h, a quarter of 4 h 40 min)) but 12:30 on Tuesday
(1 h 50 min later: beyond it).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from advisor.network.gtfs import match_stops, read_feed
from advisor.network.model import Mode
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import CircleTarget, Flag, RiskLevel, Tolerance
from advisor.routing.model import OptionKind, Query
from advisor.routing.policy import DETOUR_ALLOWANCE, DETOUR_MIN_MINUTES
from advisor.routing.timetable import TimetablePlanner
from tests.feeds.conftest import FIXTURES

KYIV = ZoneInfo("Europe/Kyiv")
MONDAY = datetime(2026, 3, 9, 5, 30, tzinfo=KYIV)  # the bus arrives 30 min after the train
TUESDAY = datetime(2026, 3, 10, 5, 30, tzinfo=KYIV)  # the bus arrives 1 h 50 min after it


@pytest.fixture(scope="module")
def detour_planner(national_network):
    timetable, _report = read_feed(FIXTURES / "ua-detour")
    match = match_stops(timetable, national_network)
    return TimetablePlanner(timetable.with_stations(match.station_by_place), national_network)


def _flag(level: RiskLevel) -> Flag:
    return Flag(
        id=f"skorokhodove-{level.value}",
        level=level,
        target=CircleTarget(49.7795, 35.073, 5.0),
        reason_uk="Пошкоджено колію",
        reason_en="Track damaged",
        source="test",
        author="ops",
    )


def _advise(planner, network, level, tolerance, at):
    query = Query("kyiv", "kharkiv", at, tolerance=tolerance)
    return planner.advise(query, RiskIndex.build([_flag(level)], network))


def _recommended(planner, network, level, tolerance, at):
    return _advise(planner, network, level, tolerance, at).recommended


@pytest.mark.parametrize(
    ("level", "tolerance"),
    [(RiskLevel.HIGH, Tolerance.ACCEPT_HIGH), (RiskLevel.ELEVATED, Tolerance.ACCEPT_HIGH),
     (RiskLevel.ELEVATED, Tolerance.BALANCED)],
)  # fmt: skip
def test_a_calmer_journey_within_the_allowance_is_recommended(
    detour_planner, national_network, level, tolerance
):
    advice = _advise(detour_planner, national_network, level, tolerance, MONDAY)
    best = advice.recommended
    assert [leg.mode for leg in best.legs] == [Mode.BUS]
    assert best.risk_level is None or best.risk_level < level
    fastest = next(o for o in advice.options if OptionKind.FASTEST in (o.kind, *o.also_kinds))
    assert [leg.route_name for leg in fastest.legs] == ["IC 711"]
    late_seconds = (best.legs[-1].arrival - fastest.legs[-1].arrival).total_seconds()
    train_seconds = (fastest.legs[-1].arrival - MONDAY).total_seconds()
    assert 0 < late_seconds <= max(DETOUR_MIN_MINUTES * 60, DETOUR_ALLOWANCE * train_seconds)


@pytest.mark.parametrize("level", [RiskLevel.HIGH, RiskLevel.ELEVATED])
def test_the_flagged_train_stays_when_the_detour_is_long(detour_planner, national_network, level):
    best = _recommended(detour_planner, national_network, level, Tolerance.ACCEPT_HIGH, TUESDAY)
    assert [leg.route_name for leg in best.legs] == ["IC 711"]
    assert best.risk_level is level


def test_without_flags_accept_high_takes_the_earliest_arrival(detour_planner, national_network):
    query = Query("kyiv", "kharkiv", MONDAY, tolerance=Tolerance.ACCEPT_HIGH)
    best = detour_planner.advise(query, RiskIndex.build([], national_network)).recommended
    assert [leg.route_name for leg in best.legs] == ["IC 711"]
