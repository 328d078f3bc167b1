"""Earliest arrival, arrive-by, transfers and calendars on small purpose-written feeds."""

from __future__ import annotations

import math
import random
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from advisor.errors import InvalidQuery
from advisor.network.model import Mode, TimeSource
from advisor.network.timetable import format_gtfs_time
from advisor.routing.model import NoticeCode, OptionKind, Query
from advisor.routing.timetable import TimetablePlanner, _Scan
from tests.feeds.reference import TimeExpandedReference

DAY = date(2026, 3, 3)
BERLIN = ZoneInfo("Europe/Berlin")
KYIV = ZoneInfo("Europe/Kyiv")


def _hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 3600 + int(m) * 60


@pytest.fixture(scope="module")
def planner(abstract_feed):
    return TimetablePlanner(abstract_feed[0])


def _arrive(planner, a, b, at, **kw):
    tt = planner.timetable
    journey = planner.earliest_arrival([tt.find_stop(a)], [tt.find_stop(b)], DAY, _hm(at), **kw)
    return None if journey is None else format_gtfs_time(journey.arrival_seconds)


def test_overtaking_train_wins(planner):
    assert _arrive(planner, "A", "C", "08:00") == "10:00:00"  # fast leaves later, arrives first
    assert _arrive(planner, "A", "B", "08:00") == "09:00:00"  # only the slow one stops at B
    # Missed both: tomorrow's fast train (the scan covers the next day too).
    assert _arrive(planner, "A", "C", "08:31") == "34:00:00"


def test_minimum_transfer_time_from_configuration(planner, abstract_feed):
    # feed-1 reaches B at 08:40, the slow train leaves B at 09:01: 21 min ≥ 20 min.
    assert _arrive(planner, "D", "C", "07:00") == "12:00:00"
    # feed-2 reaches B at 08:50: 11 min is too short under the 20 min default, so the
    # answer is tomorrow's 07:00 feeder ...
    assert _arrive(planner, "D", "C", "07:20") == "36:00:00"
    # ... and enough when configuration says 10 minutes.
    relaxed = TimetablePlanner(abstract_feed[0], min_transfer_seconds=600)
    assert _arrive(relaxed, "D", "C", "07:20") == "12:00:00"


def test_transfer_time_is_never_zero(abstract_feed):
    zero = TimetablePlanner(abstract_feed[0], min_transfer_seconds=0)
    assert min(zero.change) == 300


def test_elevated_buffer_after_a_flagged_trip(planner):
    tt = planner.timetable
    c = planner.day_connections(DAY)
    feed1 = tt.trip_ids.index("feed-1")
    elevated = bytearray(c.instance_trip[k] == feed1 for k in c.instance)
    # 21 min change + 30 min buffer after the elevated feeder: the 09:01 is missed.
    scan = _Scan(None, elevated, frozenset())
    assert _arrive(planner, "D", "C", "07:00", scan=scan) == "36:00:00"
    assert _arrive(planner, "D", "C", "07:00", scan=_Scan(None, None, frozenset())) == "12:00:00"


def test_frequencies_are_ridden(planner):
    assert _arrive(planner, "C", "E", "12:05") == "12:50:00"
    assert _arrive(planner, "C", "E", "21:31") == "30:20:00"  # tomorrow's first shuttle


def test_no_service_on_a_day_without_calendar_entry(planner):
    tt = planner.timetable
    assert (
        planner.earliest_arrival([tt.find_stop("A")], [tt.find_stop("C")], date(2026, 3, 7), 0)
        is None
    )


def test_arrive_by_finds_the_latest_departure(planner):
    tt = planner.timetable
    a, c = [tt.find_stop("A")], [tt.find_stop("C")]
    journey = planner.latest_departure(a, c, DAY, _hm("12:00"))
    assert format_gtfs_time(journey.departure_seconds) == "08:30:00"
    journey = planner.latest_departure(a, c, DAY, _hm("09:59"))
    assert journey is None
    d = [tt.find_stop("D")]
    journey = planner.latest_departure(d, c, DAY, _hm("12:00"))
    assert format_gtfs_time(journey.departure_seconds) == "07:00:00"
    assert len(journey.rides) == 2


def test_advise_builds_timetabled_legs_with_a_transfer_leg(planner):
    query = Query("D", "C", datetime(2026, 3, 3, 6, 30, tzinfo=BERLIN))
    advice = planner.advise(query)
    option = advice.options[0]
    assert option.kind is OptionKind.RECOMMENDED
    assert [leg.mode for leg in option.legs] == [Mode.RAIL, Mode.TRANSFER, Mode.RAIL]
    first, change, second = option.legs
    assert first.route_name == "RB 2" and first.trip_id == "feed-1"
    assert first.departure.isoformat() == "2026-03-03T07:00:00+01:00"
    assert change.travel_minutes == 21
    assert second.arrival.isoformat() == "2026-03-03T12:00:00+01:00"
    assert all(leg.time_source is TimeSource.TIMETABLE for leg in option.legs)
    assert option.travel_minutes == 300
    assert option.transfers == 1
    # German test stops match no station: risk is unknown, so never plainly "advised".
    assert option.verdict.value == "caution"


def test_arrive_by_query(planner):
    query = Query("A", "C", datetime(2026, 3, 3, 12, 0, tzinfo=BERLIN), arrive_by=True)
    option = planner.advise(query).options[0]
    assert option.legs[0].departure.isoformat() == "2026-03-03T08:30:00+01:00"


def test_unknown_stop_and_naive_time_are_refused(planner):
    with pytest.raises(InvalidQuery, match="'nowhere'"):
        planner.advise(Query("nowhere", "C", datetime(2026, 3, 3, 8, tzinfo=BERLIN)))
    with pytest.raises(InvalidQuery, match="time zone"):
        planner.advise(Query("A", "C", datetime(2026, 3, 3, 8)))


def test_no_route_is_a_notice(planner):
    advice = planner.advise(Query("C", "A", datetime(2026, 3, 3, 8, tzinfo=BERLIN)))
    assert advice.options == ()
    assert advice.has_notice(NoticeCode.NO_ROUTE)


# -- the Ukrainian fixture: midnight, calendar exceptions -------------------------------


def test_night_train_past_midnight(ua_planner):
    advice = ua_planner.advise(Query("kyiv", "kharkiv", datetime(2026, 3, 9, 20, tzinfo=KYIV)))
    leg = advice.options[0].legs[0]
    assert leg.route_name == "063"
    assert leg.departure.isoformat() == "2026-03-09T23:10:00+02:00"
    assert leg.arrival.isoformat() == "2026-03-10T04:30:00+02:00"
    # Asked after midnight, yesterday's night train still counts (it passes Poltava at 01:55).
    advice = ua_planner.advise(
        Query("poltava", "kharkiv", datetime(2026, 3, 10, 1, 0, tzinfo=KYIV))
    )
    assert advice.options[0].legs[0].arrival.isoformat() == "2026-03-10T04:30:00+02:00"


def test_calendar_exceptions_change_the_answer(ua_planner):
    def first_arrival(day):
        query = Query(
            "kyiv",
            "kharkiv",
            datetime(2026, 3, day, 6, 0, tzinfo=KYIV),
            modes=frozenset({Mode.RAIL}),
        )
        return ua_planner.advise(query).options[0].legs[-1].arrival.strftime("%d %H:%M")

    assert first_arrival(9) == "09 10:40"  # IC 711
    assert first_arrival(8) == "08 10:00"  # the extra IC 715 runs only on the 8th
    # The daily service (night train included) is removed on the 10th: next is the 11th.
    assert first_arrival(10) == "11 10:40"


def test_departures_board(ua_planner):
    board = ua_planner.departures("kyiv", datetime(2026, 3, 9, 6, 10, tzinfo=KYIV), limit=3)
    assert [d.route_name for d in board] == ["6001", "IC 713", "063"]
    assert board[0].departure.isoformat() == "2026-03-09T07:15:00+02:00"
    assert board[0].destination == "fastiv"
    assert all(d.flags == () for d in board)


# -- cross-check against the reference on a random small set -----------------------------


def test_matches_reference_on_the_abstract_feed(planner):
    tt = planner.timetable
    reference = TimeExpandedReference(tt, DAY, planner.change.__getitem__)
    places = sorted(set(tt.st_place))
    rng = random.Random(7)
    for _ in range(60):
        a, b = rng.sample(places, 2)
        t = rng.randrange(5 * 3600, 22 * 3600)
        journey = planner.earliest_arrival([a], [b], DAY, t)
        got = math.inf if journey is None else journey.arrival_seconds
        assert got == reference.earliest_arrival(a, b, t), (tt.stop_ids[a], tt.stop_ids[b], t)


def test_max_transfers_picks_a_slower_direct_trip(planner):
    tt = planner.timetable
    d, c = [tt.find_stop("D")], [tt.find_stop("C")]
    fastest = planner.earliest_arrival(d, c, DAY, _hm("06:45"))
    assert len(fastest.rides) == 2 and format_gtfs_time(fastest.arrival_seconds) == "12:00:00"
    direct = planner.earliest_arrival(d, c, DAY, _hm("06:45"), max_transfers=0)
    assert len(direct.rides) == 1 and format_gtfs_time(direct.arrival_seconds) == "14:00:00"
    again = planner.earliest_arrival(d, c, DAY, _hm("06:45"), max_transfers=1)
    assert again.rides == fastest.rides
    query = Query("D", "C", datetime(2026, 3, 3, 6, 45, tzinfo=BERLIN), max_transfers=0)
    assert planner.advise(query).options[0].transfers == 0
