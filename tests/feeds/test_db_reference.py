"""The planner against the independent time-expanded Dijkstra on the real DB feed."""

from __future__ import annotations

import math
import random
from itertools import pairwise

import pytest

from advisor.routing.timetable import TimetablePlanner
from tests.feeds.reference import TimeExpandedReference

QUERIES = 120


def _queries(timetable, seed: int, count: int):
    """Seeded (origin, destination, seconds) with departures between 06:00 and 20:00."""
    places = sorted(set(timetable.st_place))
    rng = random.Random(seed)
    return [(*rng.sample(places, 2), rng.randrange(6 * 3600, 20 * 3600)) for _ in range(count)]


@pytest.mark.slow
def test_identical_earliest_arrivals_on_the_busiest_day(db_timetable):
    day = db_timetable.busiest_day()
    planner = TimetablePlanner(db_timetable)
    reference = TimeExpandedReference(db_timetable, day, planner.change.__getitem__)
    reached = 0
    for origin, destination, seconds in _queries(db_timetable, 2019, QUERIES):
        journey = planner.earliest_arrival([origin], [destination], day, seconds)
        got = math.inf if journey is None else journey.arrival_seconds
        expected = reference.earliest_arrival(origin, destination, seconds)
        assert got == expected, (
            db_timetable.stop_ids[origin],
            db_timetable.stop_ids[destination],
            seconds,
        )
        reached += got < math.inf
    # The comparison means something only if most queries have an answer.
    assert reached >= QUERIES // 2


@pytest.mark.slow
def test_journeys_are_consistent_on_the_db_feed(db_timetable):
    """Every ride boards after the previous one arrives plus the change time."""
    day = db_timetable.busiest_day()
    planner = TimetablePlanner(db_timetable)
    for origin, destination, seconds in _queries(db_timetable, 15, 50):
        journey = planner.earliest_arrival([origin], [destination], day, seconds)
        if journey is None:
            continue
        c = journey.day
        assert c.frm[journey.rides[0].enter] == origin
        assert c.to[journey.rides[-1].exit] == destination
        for before, after in pairwise(journey.rides):
            stop = c.to[before.exit]
            assert c.frm[after.enter] == stop
            assert c.dep[after.enter] >= c.arr[before.exit] + planner.change[stop]


@pytest.mark.slow
def test_transfer_bound_on_the_db_feed(db_timetable):
    """Bounded journeys keep the bound and are never earlier than the unbounded optimum."""
    day = db_timetable.busiest_day()
    planner = TimetablePlanner(db_timetable)
    bounded_differs = 0
    for origin, destination, seconds in _queries(db_timetable, 99, 40):
        free = planner.earliest_arrival([origin], [destination], day, seconds)
        bound = planner.earliest_arrival([origin], [destination], day, seconds, max_transfers=1)
        if free is None:
            assert bound is None
            continue
        if bound is not None:
            assert len(bound.rides) <= 2
            assert bound.arrival_seconds >= free.arrival_seconds
            assert db_timetable.st_place[bound.day.row[bound.rides[0].enter]] == origin
            assert bound.day.to[bound.rides[-1].exit] == destination
        if len(free.rides) <= 2:
            assert bound.arrival_seconds == free.arrival_seconds
        else:
            bounded_differs += 1
    assert bounded_differs > 0  # the bound was exercised
