"""The speed model against the README's real scheduled times, and its validation."""

from __future__ import annotations

import networkx as nx
import pytest

from advisor.errors import DataError
from advisor.network.dataset import load_network
from advisor.network.model import Mode
from advisor.network.sources import load_speed_model
from advisor.settings import CONFIG_DIR


@pytest.fixture(scope="module")
def rail_graph():
    net = load_network()
    graph = nx.Graph()
    for link in net.links.values():
        if link.mode is not Mode.RAIL:
            continue
        old = graph.get_edge_data(link.from_id, link.to_id)
        if old is None or old["km"] > link.distance_km:
            minutes = link.travel_minutes
            graph.add_edge(link.from_id, link.to_id, km=link.distance_km, minutes=minutes)
    return graph


@pytest.mark.parametrize(
    ("origin", "real_minutes", "real_km"),
    [
        ("kharkiv", 290, 484.5),  # Intercity, the brief's calibration check
        ("lviv", 441, 571),  # night fast train
        ("odesa", 529, 611),  # night fast train
    ],
)
def test_estimate_within_20_percent_on_shortest_path(rail_graph, origin, real_minutes, real_km):
    path = nx.shortest_path(rail_graph, origin, "kyiv", weight="km")
    km = nx.path_weight(rail_graph, path, "km")
    minutes = nx.path_weight(rail_graph, path, "minutes")
    assert km == pytest.approx(real_km, rel=0.02)  # same track as the real train
    assert minutes == pytest.approx(real_minutes, rel=0.20)


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
    assert model.rail_minutes(100, "main", True, narrow_gauge=True) > 3 * main
    assert model.transfer_minutes(0) == model.transfer_minimum_minutes > 0
