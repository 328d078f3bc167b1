"""GTFS import: structure checks fail early, row problems are collected, times past midnight."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date

import pytest

from advisor.errors import FeedError
from advisor.network.gtfs import combine, match_stops, normalise_name, read_feed, read_stop_mapping
from advisor.network.timetable import format_gtfs_time
from tests.feeds.conftest import FIXTURES


def _copy(tmp_path, name="abstract"):
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        ("stops.txt", "stops.txt"),
        ("stop_times.txt", "stop_times.txt"),
        ("calendar_dates.txt", "calendar.txt or calendar_dates.txt"),
    ],
)
def test_missing_file_is_refused_naming_it(tmp_path, remove, named):
    feed = _copy(tmp_path)
    (feed / remove).unlink()
    with pytest.raises(FeedError, match=named):
        read_feed(feed)


def test_missing_columns_are_all_named(tmp_path):
    feed = _copy(tmp_path)
    text = (feed / "stop_times.txt").read_text().replace("stop_sequence", "seq")
    (feed / "stop_times.txt").write_text(text)
    (feed / "routes.txt").write_text("route_id,route_short_name\nslow,RE 1\n")
    with pytest.raises(FeedError) as info:
        read_feed(feed)
    assert "stop_times.txt:stop_sequence" in info.value.message
    assert "routes.txt:route_type" in info.value.message


def test_not_a_feed(tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_text("hello")
    with pytest.raises(FeedError, match="neither a GTFS folder nor a zip"):
        read_feed(junk)
    with pytest.raises(FeedError, match="does not exist"):
        read_feed(tmp_path / "missing")


def test_row_problems_are_reported_and_the_rest_kept():
    timetable, report = read_feed(FIXTURES / "broken")
    assert report.problems == {
        "bad_time": 1,
        "unknown_stop": 1,
        "unknown_trip": 1,
        "non_increasing_time": 1,
    }
    assert any("ZZZ" in e for e in report.examples)
    assert set(timetable.trip_ids) == {"slow-1", "fast-1", "feed-1", "feed-2"}
    # slow-1 lost its bad row at B; feed-1 lost B, whose time went backwards.
    feed1 = timetable.trip_ids.index("feed-1")
    rows = range(timetable.trip_offsets[feed1], timetable.trip_offsets[feed1 + 1])
    assert [timetable.stop_ids[timetable.st_place[r]] for r in rows] == ["D", "C"]
    # feed-2's middle stop has no time: interpolated halfway (GTFS non-timepoint).
    feed2 = timetable.trip_ids.index("feed-2")
    middle = timetable.trip_offsets[feed2] + 1
    assert format_gtfs_time(timetable.st_arrival[middle]) == "08:10:00"


def test_zip_feed_reads_like_the_folder(tmp_path, abstract_feed):
    archive = tmp_path / "abstract.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in (FIXTURES / "abstract").iterdir():
            zf.write(path, f"nested/{path.name}")
    timetable, report = read_feed(archive)
    assert report.feed_id == "abstract"
    assert list(timetable.st_arrival) == list(abstract_feed[0].st_arrival)


def test_frequencies_expand_into_trips(abstract_feed):
    timetable, report = abstract_feed
    shuttles = [t for t in timetable.trip_ids if t.startswith("shuttle@")]
    assert len(shuttles) == 32  # 06:00 to 21:30 every 30 minutes
    last = timetable.trip_ids.index("shuttle@77400")
    assert format_gtfs_time(timetable.st_departure[timetable.trip_offsets[last]]) == "21:30:00"
    assert report.rows["frequencies.txt"] == 1


def test_calendar_dates_only(abstract_feed):
    timetable = abstract_feed[0]
    assert timetable.service_days()[0] == date(2026, 3, 2)
    assert timetable.active_services(date(2026, 3, 7)) == frozenset()
    assert len(timetable.trips_on(date(2026, 3, 3))) == timetable.trip_count


def test_past_midnight_and_dst_use_noon_minus_twelve_hours(ua_feed):
    timetable = ua_feed[0]
    night = timetable.trip_ids.index("n063-t")
    last = timetable.trip_offsets[night + 1] - 1
    assert format_gtfs_time(timetable.st_arrival[last]) == "28:30:00"
    arrival = timetable.service_datetime(date(2026, 5, 4), timetable.st_arrival[last])
    assert arrival.isoformat() == "2026-05-05T04:30:00+03:00"
    # On the night the clocks go forward (29 March 2026 in Kyiv) 25:00 is still
    # "noon minus 12 h" (23:00 EET on the 28th) + 25 h, i.e. 01:00 EEST on the 30th.
    assert timetable.service_datetime(date(2026, 3, 29), 25 * 3600).isoformat() == (
        "2026-03-30T01:00:00+03:00"
    )
    when = timetable.service_datetime(date(2026, 3, 29), 25 * 3600)
    assert timetable.seconds_on(date(2026, 3, 29), when) == 25 * 3600


def test_calendar_exceptions(ua_feed):
    timetable = ua_feed[0]
    daily, extra = timetable.service_ids.index("daily"), timetable.service_ids.index("extra")
    assert timetable.active_services(date(2026, 3, 9)) == {daily}
    assert timetable.active_services(date(2026, 3, 10)) == frozenset()  # removed
    assert timetable.active_services(date(2026, 3, 8)) == {daily, extra}  # added


def test_parent_stations_become_one_place(ua_feed):
    timetable = ua_feed[0]
    one, two = timetable.find_stop("kyiv-pas-1"), timetable.find_stop("kyiv-pas-2")
    assert timetable.stop_place[one] == timetable.stop_place[two] == timetable.find_stop("kyiv-pas")


def test_stops_match_by_name_and_distance(ua_feed):
    timetable, _report, match = ua_feed
    by_stop = {timetable.stop_ids[p]: s for p, s in match.station_by_place.items()}
    assert by_stop["kyiv-pas"] == "kyiv"
    assert by_stop["poltava-kyivska"] == "poltava"
    assert by_stop["kharkiv-pas"] == "kharkiv"
    assert by_stop["kyiv-as"] == "bus:8000000000"
    methods = {timetable.stop_ids[p]: m for p, m in match.method_by_place.items()}
    assert methods["kyiv-pas"] == "name" and methods["kyiv-as"] == "distance"
    assert [timetable.stop_ids[p] for p in match.unmatched] == []  # "nowhere" has no trips


def test_explicit_mapping_wins(tmp_path, national_network):
    feed = _copy(tmp_path, "ua-rail")
    with (feed / "stop_times.txt").open("a") as fh:
        fh.write("r6001-t,09:00:00,09:00:00,nowhere,3\n")
    timetable, _ = read_feed(feed)
    assert match_stops(timetable, national_network).unmatched == (timetable.find_stop("nowhere"),)
    mapping_file = tmp_path / "mapping.csv"
    mapping_file.write_text("stop_id,station_id\nnowhere,fastiv\n")
    match = match_stops(timetable, national_network, read_stop_mapping(mapping_file))
    assert match.method_by_place[timetable.find_stop("nowhere")] == "mapping"
    bad = tmp_path / "bad.csv"
    bad.write_text("stop,station\n")
    with pytest.raises(FeedError, match="stop_id,station_id"):
        read_stop_mapping(bad)


def test_combine_prefixes_ids(abstract_feed, ua_feed):
    both = combine([abstract_feed[0], ua_feed[0]])
    assert both.feed_ids == ("abstract", "ua-rail")
    assert both.find_stop("ua-rail:kyiv-pas") is not None
    assert both.trip_count == abstract_feed[0].trip_count + ua_feed[0].trip_count
    n063 = both.trip_ids.index("ua-rail:n063-t")
    assert both.stop_names[both.st_place[both.trip_offsets[n063]]].startswith("Київ")
    assert both.stop_names[both.st_place[both.trip_offsets[n063 + 1] - 1]] == "Харків-Пас."

    def services(day):
        return {both.service_ids[s] for s in both.active_services(day)}

    assert services(date(2026, 3, 8)) == {"ua-rail:daily", "ua-rail:extra"}
    assert services(date(2026, 3, 3)) == {"ua-rail:daily", "abstract:wk"}
    assert both.transfer_seconds[both.find_stop("ua-rail:poltava-kyivska")] == 600
    assert both.trip_route_name(n063) == "063"


def test_normalise_name():
    assert normalise_name("Харків-Пас.") == normalise_name("Харків-Пасажирський")
    assert normalise_name("Полтава-Київська") != normalise_name("Полтава-Південна")


def test_db_feed_imports_unchanged(db_timetable):
    assert db_timetable.calendar == ()  # calendar_dates only
    assert db_timetable.trip_count == 6063
    assert db_timetable.stop_time_count > 86_000
    assert db_timetable.timezone == "Europe/Berlin"
