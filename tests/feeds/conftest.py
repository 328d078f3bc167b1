"""Fixtures for the GTFS import and timetable planning tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.network.gtfs import match_stops, read_feed
from advisor.routing.timetable import TimetablePlanner

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gtfs"
DB_FEED = Path(__file__).resolve().parents[3] / "shared" / "feeds" / "db-fernverkehr-2019"


@pytest.fixture(scope="session")
def abstract_feed():
    """Stops A–E (not Ukrainian), calendar_dates only, an overtaking train, frequencies."""
    return read_feed(FIXTURES / "abstract")


@pytest.fixture(scope="session")
def db_timetable():
    """The real DB long-distance feed of 2019, as shipped (skips when it is not there)."""
    if not DB_FEED.is_dir():
        pytest.skip(f"DB feed not found at {DB_FEED}")
    timetable, _report = read_feed(DB_FEED)
    return timetable


@pytest.fixture(scope="session")
def national_network():
    """The shipped national network (skips when the dataset has not been built)."""
    from advisor.network.dataset import load_network

    try:
        return load_network()
    except Exception as err:  # the dataset is another helper's; say why we skip
        pytest.skip(f"shipped network not loadable: {err}")


@pytest.fixture(scope="session")
def ua_feed(national_network):
    """Kyiv–Poltava–Kharkiv trains and a bus, stops matched to the shipped network."""
    timetable, report = read_feed(FIXTURES / "ua-rail")
    match = match_stops(timetable, national_network)
    return timetable.with_stations(match.station_by_place), report, match


@pytest.fixture(scope="session")
def ua_planner(ua_feed, national_network):
    return TimetablePlanner(ua_feed[0], national_network)
