"""pickup_type / drop_off_type and transfers.txt types, on small purpose-written feeds.

``boarding`` (times on every day of 2026, Kyiv time; changes need the 20 min default):

- t1 A 08:00 → B 09:00 (no drop-off) → C 10:00; t2 B 09:30 → D 10:30; t3 C 10:20 → D 11:30
- t4 E 07:45 → A 08:15 (no pickup: set down only) → C 09:15
- t5 F 08:00 (pickup by phone) → A 08:40 (drop-off by arrangement with the driver)
- t6 F 12:00 (pickup_type "9": reported, read as regular) → B 13:00

``transfers``: at each of X, Y, Z, W, V, S a feeder arrives 09:00 and three trips leave at
09:07, 09:12 and 09:25 (arriving 10:00, 10:05, 10:10). transfers.txt: X type 3, Y type 0,
Z type 1, W type 2 600 s, V type 2 60 s, S type 3 and 4 for named trips only; from K a walk
to L (type 2, 420 s) and to M (type 0, then type 3).
"""

from __future__ import annotations

import math
import random
import shutil
from datetime import date, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from advisor.network.gtfs import combine, read_feed
from advisor.network.timetable import (
    TRANSFER_NOT_POSSIBLE,
    format_gtfs_time,
    load_timetable,
    save_timetable,
)
from advisor.routing.model import NoticeCode, Query
from advisor.routing.timetable import TimetablePlanner
from tests.feeds.conftest import DB_FEED, FIXTURES
from tests.feeds.reference import TimeExpandedReference

DAY = date(2026, 3, 3)
KYIV = ZoneInfo("Europe/Kyiv")


def _hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 3600 + int(m) * 60


@pytest.fixture(scope="module")
def boarding():
    return read_feed(FIXTURES / "boarding")


@pytest.fixture(scope="module")
def transfers():
    return read_feed(FIXTURES / "transfers")


def _reference(planner, day=DAY):
    """The reference with the planner's change times, and no change where none is possible."""
    def change(place):
        return math.inf if place in planner.no_change else planner.change[place]

    return TimeExpandedReference(planner.timetable, day, change)


def _arrive(planner, a, b, at):
    tt = planner.timetable
    found = planner.earliest_arrival([tt.find_stop(a)], [tt.find_stop(b)], DAY, _hm(at))
    return None if found is None else format_gtfs_time(found.arrival_seconds)


def _leave(planner, a, b, by):
    tt = planner.timetable
    found = planner.latest_departure([tt.find_stop(a)], [tt.find_stop(b)], DAY, _hm(by))
    return None if found is None else format_gtfs_time(found.departure_seconds)


# -- pickup_type / drop_off_type --------------------------------------------------------


def test_codes_are_imported_per_stop_time(boarding):
    tt, report = boarding
    t1 = tt.trip_ids.index("t1-passes-b")
    first = tt.trip_offsets[t1]
    assert tt.alighting_allowed(first + 2) and not tt.alighting_allowed(first + 1)
    t4 = tt.trip_ids.index("t4-set-down-only-at-a")
    assert not tt.boarding_allowed(tt.trip_offsets[t4] + 1)
    assert tt.alighting_allowed(tt.trip_offsets[t4] + 1)
    assert report.problems["bad_pickup_type"] == 1  # t6's "9"


def test_codes_survive_save_load_and_combine(boarding, abstract_feed, tmp_path):
    tt = boarding[0]
    again = load_timetable(save_timetable(tt, tmp_path / "tt.pkl.gz"))
    assert again.st_pickup_type == tt.st_pickup_type
    assert again.st_drop_off_type == tt.st_drop_off_type
    both = combine([abstract_feed[0], tt])
    rows = abstract_feed[0].stop_time_count
    assert both.st_drop_off_type == bytes(rows) + tt.st_drop_off_type
    assert abstract_feed[0].st_pickup_type == b""  # no columns: nothing stored


@pytest.mark.parametrize(
    ("origin", "destination", "at", "expected"),
    [
        ("A", "B", "07:50", None),  # t1 runs through B but lets nobody off: no journey
        ("A", "D", "07:50", "11:30:00"),  # not via B (10:30), via C and t3
        ("A", "C", "07:50", "10:00:00"),  # t4 is set-down only at A: t1, not t4 (09:15)
        ("E", "A", "07:00", "08:15:00"),  # ... but it does set down at A
        ("E", "C", "07:00", "09:15:00"),
        ("F", "A", "07:00", "08:40:00"),  # pickup by phone, drop-off by arrangement: possible
        ("F", "B", "11:00", "13:00:00"),  # an unknown code reads as regular
    ],
)
def test_earliest_arrival_honours_pickup_and_drop_off(boarding, origin, destination, at,
                                                      expected):
    planner = TimetablePlanner(boarding[0])
    assert _arrive(planner, origin, destination, at) == expected
    tt, reference = planner.timetable, _reference(planner)
    want = reference.earliest_arrival(tt.find_stop(origin), tt.find_stop(destination), _hm(at))
    assert (None if want == math.inf else format_gtfs_time(want)) == expected


@pytest.mark.parametrize(
    ("origin", "destination", "by", "expected"),
    [
        ("A", "C", "09:30", None),  # only t4 would make it, and it takes nobody on at A
        ("A", "D", "11:00", None),  # only via B (t1 → t2) would make it
        ("A", "D", "12:00", "08:00:00"),  # t1 to C, then t3
        ("A", "B", "23:00", None),
        ("E", "A", "09:00", "07:45:00"),
    ],
)
def test_arrive_by_honours_pickup_and_drop_off(boarding, origin, destination, by, expected):
    planner = TimetablePlanner(boarding[0])
    assert _leave(planner, origin, destination, by) == expected
    tt, reference = planner.timetable, _reference(planner)
    want = reference.latest_departure(tt.find_stop(origin), tt.find_stop(destination), _hm(by))
    assert (None if want == -math.inf else format_gtfs_time(want)) == expected


def test_no_journey_is_the_answer_where_only_drop_off_forbidden_trips_go(boarding):
    planner = TimetablePlanner(boarding[0])
    query = Query("A", "B", datetime(2026, 3, 3, 7, 50, tzinfo=KYIV))
    advice = planner.advise(query)
    assert advice.options == ()
    assert NoticeCode.NO_ROUTE in {n.code for n in advice.notices}


def test_departures_board_leaves_out_set_down_only_stops(boarding):
    planner = TimetablePlanner(boarding[0])
    board = planner.departures("A", datetime(2026, 3, 3, 7, 50, tzinfo=KYIV), limit=3)
    assert "t4-set-down-only-at-a" not in {d.trip_id for d in board}
    assert board[0].trip_id == "t1-passes-b"


# -- transfers.txt ------------------------------------------------------------------------


def test_transfer_rows_become_one_rule_per_place(transfers):
    tt, report = transfers
    seconds = {tt.stop_ids[p]: s for p, s in tt.transfer_seconds.items()}
    assert seconds == {"X": TRANSFER_NOT_POSSIBLE, "W": 600, "V": 60}  # Y, Z: no time given
    walks = {tt.stop_ids[q]: s for q, s in tt.footpaths[tt.find_stop("K")]}
    assert walks == {"L": 420}  # K → M: "not possible" wins over "recommended"
    assert report.problems["transfer_not_possible_per_trip_ignored"] == 1
    assert report.problems["in_seat_transfer_ignored"] == 1
    assert report.problems["bad_transfer_type"] == 1


@pytest.mark.parametrize(
    ("origin", "destination", "expected"),
    [
        ("PX", "QX", None),  # type 3: no change at X, so no journey
        ("PY", "QY", "10:10:00"),  # type 0: the configured 20 min → the 09:25
        ("PZ", "QZ", "10:10:00"),  # type 1: likewise
        ("PW", "QW", "10:05:00"),  # type 2, 600 s → the 09:12
        ("PV", "QV", "10:00:00"),  # type 2, 60 s → the 5 min floor, the 09:07
        ("PS", "QS", "10:10:00"),  # rows for named trips only: the configured 20 min
        ("PK", "QK", "10:05:00"),  # walk to L (7 min, the 09:10), none to M (its 09:20)
    ],
)
def test_transfer_types(transfers, origin, destination, expected):
    planner = TimetablePlanner(transfers[0], min_transfer_seconds=20 * 60)
    assert _arrive(planner, origin, destination, "07:30") == expected


@pytest.mark.parametrize("place", ["X", "Y", "Z", "W", "V", "S"])
def test_transfer_types_match_the_reference_both_ways(transfers, place):
    planner = TimetablePlanner(transfers[0], min_transfer_seconds=20 * 60)
    tt, reference = planner.timetable, _reference(planner)
    a, b = tt.find_stop(f"P{place}"), tt.find_stop(f"Q{place}")
    forward = planner.earliest_arrival([a], [b], DAY, _hm("07:30"))
    assert (forward.arrival_seconds if forward else math.inf) == reference.earliest_arrival(
        a, b, _hm("07:30")
    )
    for by in ("10:00", "10:05", "10:10"):
        back = planner.latest_departure([a], [b], DAY, _hm(by))
        got = back.departure_seconds if back else -math.inf
        assert got == reference.latest_departure(a, b, _hm(by)), by


def test_no_change_place_still_starts_and_ends_journeys(transfers):
    planner = TimetablePlanner(transfers[0])
    assert _arrive(planner, "PX", "X", "07:30") == "09:00:00"
    assert _arrive(planner, "X", "QX", "09:00") == "10:00:00"


# -- the real feed with seeded restrictions, against the reference ----------------------


@pytest.fixture(scope="module")
def restricted_db(tmp_path_factory):
    """The DB feed with a seeded 6 % of stop times closed to boarding and 6 % to alighting."""
    if not DB_FEED.is_dir():
        pytest.skip(f"DB feed not found at {DB_FEED}")
    folder = tmp_path_factory.mktemp("db") / "db-restricted"
    shutil.copytree(DB_FEED, folder)
    rng = random.Random(2026)
    lines = (DB_FEED / "stop_times.txt").read_text(encoding="utf-8-sig").splitlines()
    rows = [lines[0] + ",pickup_type,drop_off_type"]
    for line in lines[1:]:
        rows.append(f"{line},{int(rng.random() < 0.06)},{int(rng.random() < 0.06)}")
    (folder / "stop_times.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return read_feed(folder)[0], read_feed(DB_FEED)[0]


@pytest.mark.slow
def test_restricted_db_feed_matches_the_reference(restricted_db):
    tt, plain_tt = restricted_db
    day = tt.busiest_day()
    planner, plain = TimetablePlanner(tt), TimetablePlanner(plain_tt)
    reference = _reference(planner, day)
    rng = random.Random(100)
    places = sorted(set(tt.st_place))
    differs = reached = 0
    for _ in range(100):
        a, b = rng.sample(places, 2)
        t = rng.randrange(6 * 3600, 20 * 3600)
        journey = planner.earliest_arrival([a], [b], day, t)
        got = journey.arrival_seconds if journey else math.inf
        assert got == reference.earliest_arrival(a, b, t), (tt.stop_ids[a], tt.stop_ids[b], t)
        _assert_rides_allowed(tt, journey)
        bounded = planner.earliest_arrival([a], [b], day, t, max_transfers=1)
        _assert_rides_allowed(tt, bounded)  # the round-by-round scan honours them too
        assert bounded is None or (len(bounded.rides) <= 2 and bounded.arrival_seconds >= got)
        unrestricted = plain.earliest_arrival([a], [b], day, t)
        differs += got != (unrestricted.arrival_seconds if unrestricted else math.inf)
        reached += journey is not None
    assert reached >= 50 and differs > 0  # the restrictions changed some answers


@pytest.mark.slow
def test_restricted_db_feed_arrive_by_matches_the_reference(restricted_db):
    tt, _ = restricted_db
    day = tt.busiest_day()
    planner = TimetablePlanner(tt)
    reference = _reference(planner, day)
    rng = random.Random(101)
    places = sorted(set(tt.st_place))
    for _ in range(40):
        a, b = rng.sample(places, 2)
        by = rng.randrange(12 * 3600, 23 * 3600)
        journey = planner.latest_departure([a], [b], day, by)
        got = journey.departure_seconds if journey else -math.inf
        assert got == reference.latest_departure(a, b, by), (tt.stop_ids[a], tt.stop_ids[b], by)
        _assert_rides_allowed(tt, journey)


def _assert_rides_allowed(tt, journey) -> None:
    if journey is None:
        return
    c = journey.day
    for ride in journey.rides:
        assert tt.boarding_allowed(c.row[ride.enter])
        assert tt.alighting_allowed(c.row[ride.exit] + 1)
    for before, after in pairwise(journey.rides):
        assert c.to[before.exit] == c.frm[after.enter]
