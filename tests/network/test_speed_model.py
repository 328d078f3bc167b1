"""The speed model against the README's real scheduled times, and its validation."""

from __future__ import annotations

import tomllib

import networkx as nx
import pytest

from advisor.errors import DataError
from advisor.network.dataset import load_network
from advisor.network.geo import crowfly_km
from advisor.network.model import Mode
from advisor.network.sources import load_speed_model
from advisor.settings import CONFIG_DIR

CALIBRATION = tomllib.loads((CONFIG_DIR / "rail_calibration.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def net():
    return load_network()


@pytest.fixture(scope="module")
def rail_graph(net):
    graph = nx.Graph()
    for link in net.links.values():
        if link.mode is not Mode.RAIL:
            continue
        old = graph.get_edge_data(link.from_id, link.to_id)
        if old is None or old["minutes"] > link.travel_minutes:
            graph.add_edge(
                link.from_id, link.to_id, km=link.distance_km, minutes=link.travel_minutes
            )
    return graph


@pytest.mark.parametrize("pair", CALIBRATION["pair"], ids=lambda p: f"{p['from']}-{p['to']}")
def test_estimate_within_25_percent_of_the_usual_train(net, rail_graph, pair):
    """The calibration table of config/rail_calibration.toml, on the route the estimate takes
    (the quickest by estimated minutes), which must pass the hubs the real trains pass (or
    their junctions: a through route may skirt the station by a few km; Podilsk's bypass is 7)."""
    path = nx.shortest_path(rail_graph, pair["from"], pair["to"], weight="minutes")
    minutes = nx.path_weight(rail_graph, path, "minutes")
    assert minutes == pytest.approx(pair["minutes"], rel=0.25)
    for hub in map(net.get_station, pair["via"]):
        near = min(_km(hub, net.stations[sid]) for sid in path)
        assert near < 8.0, f"route misses {hub.name_uk} by {near:.1f} km"


def _km(a, b):
    return crowfly_km(a.lat, a.lon, b.lat, b.lon)


def test_calibration_table_cites_a_source_for_every_pair():
    assert len(CALIBRATION["pair"]) >= 8
    for pair in CALIBRATION["pair"]:
        assert pair["source"].startswith(("readme:", "typical scheduled time"))


def test_mountain_track_is_slower_than_a_main_line():
    model = load_speed_model(CONFIG_DIR / "speed_model.toml")
    kmh = model.line_kind_kmh
    assert kmh["intercity"] > kmh["main"] > kmh["single_track"] > kmh["mountain"]
    assert kmh["main"] > kmh["branch"]
    # unnamed track never beats the named main line of its class
    assert model.rail_kmh[("main", True)] < kmh["main"]


def test_speed_model_refuses_missing_key_and_bad_speed(tmp_path):
    text = (CONFIG_DIR / "speed_model.toml").read_text(encoding="utf-8")
    (tmp_path / "a.toml").write_text(text.replace("main_electrified_kmh", "main_fast_kmh"))
    with pytest.raises(DataError, match="missing key 'main_electrified_kmh'"):
        load_speed_model(tmp_path / "a.toml")
    (tmp_path / "b.toml").write_text(text.replace("average_kmh = 55.0", "average_kmh = 0"))
    with pytest.raises(DataError, match="must be positive"):
        load_speed_model(tmp_path / "b.toml")


def test_times_scale_with_track_class():
    model = load_speed_model(CONFIG_DIR / "speed_model.toml")
    main = model.rail_minutes(100, "main", True)
    assert main < model.rail_minutes(100, "main", False) < model.rail_minutes(100, "branch", False)
    assert model.rail_minutes(100, "", True) > main
    assert model.rail_minutes(100, "main", True, narrow_gauge=True) > 2 * main
    assert model.transfer_minutes(0) == model.transfer_minimum_minutes > 0
