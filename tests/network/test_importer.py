"""The importer on small purpose-written sources: what it builds, repairs, reports and refuses."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.errors import DataError
from advisor.network.dataset import load_network, write_dataset
from advisor.network.importer import build_network
from advisor.network.model import LinkSource, Mode, StationKind, TimeSource
from advisor.network.sources import BUS_CITIES, BUS_LINKS, RAIL_EDGES, RAIL_STATIONS
from tests.network import sources_fixture as fx


@pytest.fixture
def paths(tmp_path):
    return fx.write_sources(tmp_path)


@pytest.fixture
def built(paths):
    return build_network(**paths)


def test_stations_keep_source_ids_and_kinds(built):
    net, report = built
    assert net.get_station("kyiv").kind is StationKind.RAIL_STATION
    assert net.get_station("a").kind is StationKind.HALT
    assert net.get_station("bus:8000000000").kind is StationKind.BUS_STATION
    assert net.get_station("bus:8000000000").settlement == "8000000000"
    assert report.stations_by_kind == {"rail_station": 6, "halt": 2, "bus_station": 3}


def test_rail_links_carry_provenance_and_parallel_flag(built):
    net, _ = built
    skip = net.links["rail:kyiv:fastiv"]
    assert skip.parallel and skip.source is LinkSource.OSM_TRACK
    assert skip.osm_way_ids == ("1", "2")
    connector = net.links["rail:fastiv:fastiv-2"]
    assert connector.source is LinkSource.REPAIR_CONNECTOR and not connector.parallel
    assert net.links["rail:kyiv:a"].time_source is TimeSource.SPEED_MODEL


def test_line_covers_chain_and_parallel_links_in_order(built):
    net, _ = built
    line = net.get_line("kyiv-fastiv-koziatyn")
    assert line.hubs == ("kyiv", "fastiv", "koziatyn")
    assert line.station_ids == ("kyiv", "a", "fastiv", "b", "koziatyn")
    assert line.link_ids == {
        "rail:kyiv:a", "rail:a:fastiv", "rail:kyiv:fastiv",
        "rail:fastiv:b", "rail:b:koziatyn", "rail:fastiv:koziatyn",
    }  # fmt: skip
    assert "rail:fastiv:fastiv-2" not in line.link_ids
    assert net.links["rail:kyiv:fastiv"].line_ids == ("kyiv-fastiv-koziatyn",)
    assert not line.estimated


def test_hand_added_link_is_estimated_with_a_note(built):
    net, report = built
    link = net.links["hand:lonely-koziatyn"]
    assert link.source is LinkSource.HAND_ADDED and link.is_estimated
    assert "test: a real line missing" in link.source_note and "1.25 ×" in link.source_note
    assert link.distance_km > 0 and link.travel_minutes > 0
    assert report.hand_added and "Самотня" in report.hand_added[0]


def test_bus_times_from_route_length_else_road_factor(built):
    net, _ = built
    by_length = net.links["bus:3211800000:8000000000"]
    assert by_length.time_source is TimeSource.ROAD_LENGTH and by_length.distance_km == 70.0
    assert by_length.daily_departures_2019 == 4 and by_length.operators == 2
    by_factor = net.links["bus:3210300000:8000000000"]
    assert by_factor.time_source is TimeSource.ROAD_FACTOR
    assert by_factor.distance_km == pytest.approx(1.36 * 79.5, abs=1.0)  # from coordinates


def test_transfers_join_bus_stop_and_main_station(built):
    net, _ = built
    transfers = [link for link in net.links.values() if link.mode is Mode.TRANSFER]
    ends = {frozenset((t.from_id, t.to_id)) for t in transfers}
    assert ends == {
        frozenset(("kyiv", "bus:8000000000")),
        frozenset(("fastiv", "bus:3211800000")),
    }
    assert all(t.travel_minutes >= 15 for t in transfers)
    assert all(t.time_source is TimeSource.TRANSFER_MODEL for t in transfers)


def test_settlements_and_main_stations(built):
    net, _ = built
    assert net.get_station("fastiv").is_main and not net.get_station("fastiv-2").is_main
    assert net.get_station("fastiv-2").settlement == "3211800000"
    assert net.get_station("koziatyn").settlement == "rail:koziatyn"
    assert net.get_station("bus:3210300000").is_main  # no rail station in Bila Tserkva
    assert net.settlements["8000000000"].main_station_ids == ("kyiv",)


def test_report_names_isolated_and_outside_stations(built):
    net, report = built
    assert [s.split()[0] for s in report.isolated_stations] == ["ruse"]
    assert report.outside_ukraine == ["ruse Русе"]
    assert net.get_station("ruse").oblast_iso == ""
    assert net.get_station("bus:8000000000").oblast_iso == "UA-32"
    assert report.rail_components[0] == 7
    text = report.format()
    assert "hand-added links: 1" in text and "stations outside Ukraine" in text


@pytest.mark.parametrize(
    ("file", "column"),
    [
        (RAIL_STATIONS, "station_id"),
        (RAIL_STATIONS, "oblast_iso"),
        (RAIL_EDGES, "skip_edge"),
        (RAIL_EDGES, "osm_way_ids"),
        (BUS_CITIES, "koatuu"),
        (BUS_LINKS, "route_length_km_median"),
    ],
)
def test_missing_column_is_refused_naming_file_and_column(tmp_path, file, column):
    columns = {
        RAIL_STATIONS: fx.STATION_COLUMNS,
        RAIL_EDGES: fx.EDGE_COLUMNS,
        BUS_CITIES: fx.CITY_COLUMNS,
        BUS_LINKS: fx.LINK_COLUMNS,
    }[file]
    rows = {RAIL_STATIONS: fx.stations, RAIL_EDGES: fx.edges, BUS_CITIES: fx.cities,
            BUS_LINKS: fx.bus_links}[file]()  # fmt: skip
    paths = fx.write_sources(tmp_path, **{file: ([c for c in columns if c != column], rows)})
    with pytest.raises(DataError, match=f"{file}: missing column '{column}'"):
        build_network(**paths)


def test_missing_file_is_refused_naming_it(paths):
    (paths["sources"] / RAIL_EDGES).unlink()
    with pytest.raises(DataError, match=r"source file not found: .*rail_edges\.csv"):
        build_network(**paths)


def test_dangling_ids_are_reported_and_the_link_dropped(tmp_path):
    edges = [*fx.edges(), fx._edge("kyiv", "nowhere", "5.0")]
    links = fx.bus_links()
    links[0]["koatuu_b"] = "999"
    paths = fx.write_sources(
        tmp_path, **{RAIL_EDGES: (fx.EDGE_COLUMNS, edges), BUS_LINKS: (fx.LINK_COLUMNS, links)}
    )
    net, report = build_network(**paths)
    assert any("unknown station 'nowhere'" in d for d in report.dangling)
    assert any("unknown city 'bus:999'" in d for d in report.dangling)
    assert "nowhere" not in net.graph
    assert len(report.dangling) == 2


def test_duplicate_ids_are_reported_first_kept(tmp_path):
    duplicate = fx._station("kyiv", "station", "Дублікат", "50.0", "30.0")
    paths = fx.write_sources(
        tmp_path, **{RAIL_STATIONS: (fx.STATION_COLUMNS, [*fx.stations(), duplicate])}
    )
    net, report = build_network(**paths)
    assert report.duplicate_ids == ["rail_stations.csv: station_id 'kyiv'"]
    assert net.get_station("kyiv").name_uk == "Київ-Пас."


def _line(hubs: str) -> str:
    return f'[[line]]\nid = "test-line"\nname_uk = "Т"\nname_en = "T"\nhubs = [{hubs}]\n'


@pytest.mark.parametrize(
    ("hubs", "message"),
    [
        ('"kyiv", "atlantis"', "line 'test-line': hub 'atlantis' is not a known station"),
        ('"kyiv", "ruse"', "line 'test-line': no rail path from hub 'kyiv'"),
        ('"kyiv", "koziatyn", "a"', "line 'test-line': the chain passes"),
        ('"kyiv"', "line 'test-line': needs at least two hubs"),
    ],
)
def test_bad_line_is_refused_naming_line_and_hub(tmp_path, hubs, message):
    paths = fx.write_sources(tmp_path, lines=_line(hubs))
    with pytest.raises(DataError, match=message):
        build_network(**paths)


def test_hand_link_to_unknown_station_is_refused(tmp_path):
    hand = fx.HAND_LINKS.replace('to = "koziatyn"', 'to = "atlantis"')
    paths = fx.write_sources(tmp_path, hand_links=hand)
    with pytest.raises(DataError, match="hand link 'lonely-koziatyn': unknown station 'atlantis'"):
        build_network(**paths)


def test_dataset_round_trip_and_stable_version(built, paths, tmp_path):
    net, _ = built
    version = write_dataset(net, tmp_path / "net.json.gz")
    loaded = load_network(tmp_path / "net.json.gz")
    assert dict(loaded.stations) == dict(net.stations)
    assert dict(loaded.links) == dict(net.links)
    assert dict(loaded.lines) == dict(net.lines)
    assert dict(loaded.settlements) == dict(net.settlements)
    assert loaded.metadata["version"] == version and version.startswith("osm-test-1+")
    again, _ = build_network(**paths)
    assert again.metadata["version"] == version  # same sources, same version
    assert "© OpenStreetMap contributors" in " ".join(loaded.metadata["attribution"])


def test_load_refuses_missing_or_foreign_file(tmp_path):
    with pytest.raises(DataError, match="network dataset not found"):
        load_network(tmp_path / "none.json.gz")
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="unreadable"):
        load_network(tmp_path / "bad.json.gz")


def test_cli_build_prints_report_and_writes(paths, tmp_path, monkeypatch):
    override = tmp_path / "override.toml"
    override.write_text(
        f'[network]\nlines = "{paths["lines_path"]}"\nhand_links = "{paths["hand_links_path"]}"\n'
    )
    monkeypatch.setenv("ADVISOR_CONFIG", str(override))
    out = tmp_path / "out.json.gz"
    result = CliRunner().invoke(
        main, ["network", "build", "--sources", str(paths["sources"]), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "hand-added links: 1" in result.output and "wrote" in result.output
    info = CliRunner().invoke(main, ["network", "info", "--dataset", str(out)])
    assert info.exit_code == 0 and "osm-test-1+" in info.output


def test_cli_build_refuses_missing_column(tmp_path):
    columns = [c for c in fx.EDGE_COLUMNS if c != "distance_km"]
    paths = fx.write_sources(tmp_path, **{RAIL_EDGES: (columns, fx.edges())})
    result = CliRunner().invoke(
        main, ["network", "build", "--sources", str(paths["sources"]), "--out", str(tmp_path / "x")]
    )
    assert result.exit_code != 0
    assert "rail_edges.csv: missing column 'distance_km'" in result.output
    assert not (tmp_path / "x").exists()


def test_main_station_override_wins_and_must_be_in_the_settlement(tmp_path):
    override = '[main_stations]\n"3211800000" = "fastiv-2"\n'
    hand = fx.HAND_LINKS.replace("detour_factor = 1.25\n", "detour_factor = 1.25\n" + override)
    net, _ = build_network(**fx.write_sources(tmp_path / "ok", hand_links=hand))
    assert net.get_station("fastiv-2").is_main and not net.get_station("fastiv").is_main
    assert net.settlements["3211800000"].main_station_ids == ("fastiv-2",)
    wrong = hand.replace('"fastiv-2"', '"koziatyn"')
    with pytest.raises(DataError, match="'koziatyn' is not in settlement '3211800000'"):
        build_network(**fx.write_sources(tmp_path / "bad", hand_links=wrong))
