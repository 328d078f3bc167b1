"""One planning pipeline: both back-ends' answers go through one answer builder.

Every option kind of both back-ends is produced here and checked with the same invariants
(tests/routing/checks.py), the same verdict rule and the same sentence catalogue.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from advisor.network.model import Mode
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import CircleTarget, Flag, RiskLevel, Tolerance
from advisor.risk.parse import flag_from_dict
from advisor.routing.model import NoticeCode, OptionKind, Query, Verdict
from advisor.routing.planner import plan
from advisor.routing.policy import judge
from advisor.services import FileFlagSource
from advisor.settings import CONFIG_DIR
from tests.routing.checks import check_advice

KYIV = ZoneInfo("Europe/Kyiv")
MORNING = datetime(2026, 3, 9, 6, 0, tzinfo=KYIV)
NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
KRAMATORSK = "osm-node-13072326058"
SLOVIANSK = "osm-node-1065061073"
AROUND_KHARKIV = CircleTarget(49.99, 36.23, 12.0)  # the railway and the bus station
LATIN_LEVEL = re.compile(r"\b(advisory|elevated|high|suspended)\b", re.IGNORECASE)


def _flag(level, target, fid="f"):
    return Flag(fid, level, target, "Обстріли", "Strikes", "Укрзалізниця", "ops")


def _line(line_id, **target):
    return flag_from_dict(
        {"level": "high", "target": {"kind": "line", "line_id": line_id, **target},
         "reason_uk": "Обстріли", "reason_en": "Strikes", "source": "Укрзалізниця"}
    )  # fmt: skip


def _answer(network, flags, origin, destination, at, timetable=None, **kw):
    index = RiskIndex.build(flags, network)
    query = Query(origin, destination, at, **kw)
    advice = plan(network, index, query, timetable=timetable)
    check_advice(advice, network, index.link_levels(at))
    _check_one_pipeline(advice)
    return advice


def _check_one_pipeline(advice) -> None:
    """What the answer builder guarantees whatever the back-end."""
    codes = [n.code for n in advice.notices]
    assert len(codes) == len(set(codes)), codes  # each notice once (estimated_times too)
    for option in advice.options:
        worst = option.risk_level
        expected = judge(
            worst, advice.query.tolerance, recommended=option.kind is OptionKind.RECOMMENDED,
            unknown=option.risk_unknown,
        )  # fmt: skip
        if option.kind is OptionKind.LEAST_RISKY:
            expected = Verdict.NOT_ADVISED
        assert option.verdict is expected, option.kind
        assert not LATIN_LEVEL.search(option.explanation_uk), option.explanation_uk
        for notice in advice.notices:
            assert not LATIN_LEVEL.search(notice.message_uk), notice.message_uk
            assert "balanced" not in notice.message_uk and "strict" not in notice.message_uk


def _kinds(advice) -> set[OptionKind]:
    return {k for o in advice.options for k in (o.kind, *o.also_kinds)}


@pytest.fixture(scope="module")
def baseline():
    return FileFlagSource([CONFIG_DIR / "baseline_flags.toml"], strict=True).load_flags()


def test_every_option_kind_of_the_estimated_back_end(shipped_network, baseline):
    seen: set[OptionKind] = set()
    # SCENARIOS 1: rail to Lozova, then the replacement bus; rail only not advised.
    flags = [*baseline, _line("lozova-barvinkove-kramatorsk"), _line("izium-sloviansk")]
    advice = _answer(shipped_network, flags, "kyiv", KRAMATORSK, NOW)
    assert advice.recommended.modes == {Mode.RAIL, Mode.BUS}
    seen |= _kinds(advice)
    # SCENARIOS 4: every way into Sumy oblast high → the least risky, not advised.
    sumy = flag_from_dict(
        {"level": "high", "target": {"kind": "oblast", "oblast_iso": "UA-59"},
         "reason_uk": "Дрони", "reason_en": "Drones", "source": "ОВА"}
    )  # fmt: skip
    advice = _answer(shipped_network, [*baseline, sumy], "kyiv", "sumy", NOW)
    assert advice.options[0].kind is OptionKind.LEAST_RISKY
    assert advice.has_notice(NoticeCode.NO_SAFE_ROUTE)
    seen |= _kinds(advice)
    assert seen == set(OptionKind)


def test_every_option_kind_of_the_timetable_back_end(ua_planner, national_network):
    seen: set[OptionKind] = set()
    answers = [
        _answer(national_network, [], "kyiv", "kharkiv", MORNING, ua_planner),
        # a high flag on the train's way (Skorokhodove): the bus is recommended
        _answer(national_network, [_flag(RiskLevel.HIGH, CircleTarget(49.7795, 35.073, 5.0))],
                "kyiv", "kharkiv", MORNING, ua_planner),
        # all of Kharkiv high: nothing fits balanced, the least risky is shown
        _answer(national_network, [_flag(RiskLevel.HIGH, AROUND_KHARKIV)],
                "kyiv", "kharkiv", MORNING, ua_planner),
        _answer(national_network, [_flag(RiskLevel.HIGH, AROUND_KHARKIV)],
                "kyiv", "kharkiv", MORNING, ua_planner, tolerance=Tolerance.ACCEPT_HIGH),
    ]  # fmt: skip
    for advice in answers:
        assert advice.freshness.timetable_feeds == ("ua-rail",)
        assert any(leg.departure for o in advice.options for leg in o.legs)
        seen |= _kinds(advice)
    assert answers[2].options[0].kind is OptionKind.LEAST_RISKY
    assert answers[2].has_notice(NoticeCode.NO_SAFE_ROUTE)
    assert answers[3].recommended.verdict is Verdict.CAUTION  # accept-high: high, cautioned
    # No rail-then-bus journey exists in this small feed; every other kind is produced.
    assert seen >= set(OptionKind) - {OptionKind.RAIL_THEN_BUS}


def test_a_train_is_shown_once_with_one_verdict(ua_planner, national_network):
    """The same train in two slots ("caution" and "not advised") is one option."""
    high = _flag(RiskLevel.HIGH, CircleTarget(49.7795, 35.073, 5.0))
    for tolerance in Tolerance:
        advice = _answer(national_network, [high], "kyiv", "kharkiv", MORNING, ua_planner,
                         tolerance=tolerance)  # fmt: skip
        trips = [tuple(leg.trip_id for leg in o.legs if leg.trip_id) for o in advice.options]
        assert len(trips) == len(set(trips)), (tolerance, trips)


def test_timetable_not_covering_the_trip_says_so_once(ua_planner, national_network):
    advice = _answer(national_network, [], "lviv", "uzhhorod", MORNING, ua_planner)
    estimated = [n for n in advice.notices if n.code is NoticeCode.ESTIMATED_TIMES]
    assert len(estimated) == 1
    assert estimated[0].details == {"reason": "no_timetable"}
    assert "Розклад не охоплює" in estimated[0].message_uk
