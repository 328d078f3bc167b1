"""`advisor feeds import`, `advisor departures` and the timetable use cases end to end."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.errors import DataError, InvalidQuery
from advisor.network.model import TimeSource
from advisor.network.timetable import load_timetable
from advisor.routing.model import NoticeCode
from advisor.services import FileFlagSource, Services
from advisor.settings import load_settings
from tests.feeds.conftest import FIXTURES
from tests.routing.checks import ask


@pytest.fixture
def instance(tmp_path, monkeypatch, national_network):
    monkeypatch.setenv("ADVISOR_INSTANCE_PATH", str(tmp_path))
    return tmp_path


def _import(*args):
    return CliRunner().invoke(main, ["feeds", "import", *map(str, args)])


def test_feeds_import_writes_the_timetable_and_reports(instance):
    result = _import(FIXTURES / "ua-rail", FIXTURES / "abstract")
    assert result.exit_code == 0, result.output
    assert "stations matched: 5 by name, 2 by distance" in result.output
    assert "unmatched stops (5)" in result.output  # the German test stops A–E
    timetable = load_timetable(instance / "timetable.pkl.gz")
    assert timetable.feed_ids == ("ua-rail", "abstract")
    assert timetable.places_of_station("kyiv") == (timetable.find_stop("ua-rail:kyiv-pas"),)


def test_feeds_import_refuses_a_broken_feed_naming_the_file(instance, tmp_path):
    empty = tmp_path / "empty-feed"
    empty.mkdir()
    (empty / "agency.txt").write_text("agency_name,agency_timezone\nX,Europe/Kyiv\n")
    result = _import(empty)
    assert result.exit_code != 0
    assert "stops.txt" in result.output and "stop_times.txt" in result.output


def test_departures_command(instance):
    assert _import(FIXTURES / "ua-rail").exit_code == 0
    result = CliRunner().invoke(
        main, ["departures", "kyiv", "--at", "2026-03-09T06:00+02:00", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["route_name"] for r in rows][:2] == ["IC 711", "6001"]
    assert rows[0]["departure"] == "2026-03-09T06:00:00+02:00"
    bad = CliRunner().invoke(main, ["departures", "lviv", "--at", "2026-03-09T06:00+02:00"])
    assert bad.exit_code != 0 and "'lviv'" in bad.output


def _services(instance, network):
    settings = load_settings({"instance_path": instance})
    return Services(settings, network=network, flag_source=FileFlagSource([]))


def test_advise_timetable_uses_real_departures(instance, national_network):
    assert _import(FIXTURES / "ua-rail").exit_code == 0
    services = _services(instance, national_network)
    advice = ask(services, "kyiv", "kharkiv", at="2026-03-09T06:00+02:00")
    leg = advice.recommended.legs[0]
    assert leg.time_source is TimeSource.TIMETABLE and leg.route_name == "IC 711"
    assert advice.freshness.timetable_feeds == ("ua-rail",)
    late = ask(
        services, "kyiv", "kharkiv", at="2026-03-09T11:00+02:00", arrive_by=True
    )
    assert late.recommended.legs[0].departure.isoformat() == "2026-03-09T06:00:00+02:00"


def test_advise_timetable_falls_back_to_estimates_and_says_so(instance, national_network):
    assert _import(FIXTURES / "ua-rail").exit_code == 0
    services = _services(instance, national_network)
    advice = ask(services, "lviv", "kyiv", at="2026-03-09T06:00+02:00")
    assert advice.has_notice(NoticeCode.ESTIMATED_TIMES)
    assert all(
        leg.is_estimated for o in advice.options for leg in o.legs if leg.mode.value != "transfer"
    )


def test_without_an_imported_timetable(instance, national_network):
    services = _services(instance, national_network)
    with pytest.raises(InvalidQuery, match="no timetable imported"):
        services.departures("kyiv")
    advice = ask(services, "kyiv", "kharkiv", at="2026-03-09T06:00+02:00")
    assert advice.has_notice(NoticeCode.ESTIMATED_TIMES)


def test_a_foreign_file_is_refused(tmp_path):
    junk = tmp_path / "timetable.pkl.gz"
    junk.write_bytes(b"not gzip")
    with pytest.raises(DataError, match="cannot read timetable"):
        load_timetable(junk)


def test_estimated_leg_to_the_nearest_timetabled_station(instance, national_network):
    assert _import(FIXTURES / "ua-rail").exit_code == 0
    services = _services(instance, national_network)
    lubny = next(s.id for s in national_network.stations.values() if s.name_uk == "Лубни")
    advice = ask(services, lubny, "kharkiv", at="2026-03-09T05:00+02:00")
    legs = advice.recommended.legs
    assert legs[0].from_id == lubny and legs[0].is_estimated
    timetabled = [leg for leg in legs if leg.time_source is TimeSource.TIMETABLE and leg.trip_id]
    assert timetabled and timetabled[-1].to_id == "kharkiv"
    assert advice.has_notice(NoticeCode.ESTIMATED_TIMES)
    assert advice.freshness.timetable_feeds == ("ua-rail",)


def test_departures_command_reads_the_published_flags_in_the_store(instance):
    """The board shows the flags routing applies (the store), not just the baseline file."""
    from advisor.services import COMMAND_LINE, connect_store

    assert _import(FIXTURES / "ua-rail").exit_code == 0
    at = ["--at", "2026-03-09T06:00+02:00", "--json"]
    before = json.loads(CliRunner().invoke(main, ["departures", "kyiv", *at]).output)
    # Kyiv → Kharkiv trains reach Kharkiv 33 km from occupied ground: the war map's band.
    assert before[0]["risk_level"] == "elevated"
    _services, operations = connect_store(load_settings())
    operations.create_flag(
        {
            "status": "published",
            "level": "high",
            "target": {"kind": "station", "station_id": "poltava"},
            "reason_uk": "Обстріл",
            "source": "Укрзалізниця",
        },
        COMMAND_LINE,
    )
    after = json.loads(CliRunner().invoke(main, ["departures", "kyiv", *at]).output)
    assert after[0]["route_name"] == before[0]["route_name"]
    assert after[0]["risk_level"] == "high"
