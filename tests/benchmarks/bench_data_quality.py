"""Measure: how trustworthy the shipped network's data is (issue 12), for a before/after.

Run ``python tests/benchmarks/bench_data_quality.py [--dataset FILE]`` from the project
root. Prints, for the dataset given (default: the shipped one):

- the estimated rail time over the usual scheduled time for every pair of
  ``config/rail_calibration.toml``, on the route the estimate takes (quickest by minutes),
  and the hubs that route passes;
- bus links of the 2019 register used for routing: how many, how many shorter than the
  straight line between their ends, with no daily record, with no operator, unverified;
- for each bus-only case of the issue, the changes of bus the planner needs;
- the importer's judgement (judged, dropped, unverified, re-estimated) when the build
  report is asked for (``--build``: rebuilds from the raw sources, a few seconds).

Not timed: figures of the data, reproducible on any machine.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import networkx as nx

from advisor.network.dataset import load_network
from advisor.network.geo import crowfly_km
from advisor.network.model import Mode
from advisor.risk.coverage import RiskIndex
from advisor.routing.model import Query
from advisor.routing.planner import plan
from advisor.settings import CONFIG_DIR, load_settings

BUS_CASES = (("kyiv", "kharkiv"), ("kyiv", "lviv"), ("kyiv", "sumy"), ("lviv", "odesa"))


def rail_ratios(net) -> list[tuple[str, float, float, str]]:
    graph = nx.Graph()
    for link in net.links.values():
        if link.mode is not Mode.RAIL:
            continue
        old = graph.get_edge_data(link.from_id, link.to_id)
        if old is None or old["minutes"] > link.travel_minutes:
            graph.add_edge(link.from_id, link.to_id, minutes=link.travel_minutes)
    table = tomllib.loads((CONFIG_DIR / "rail_calibration.toml").read_text(encoding="utf-8"))
    hubs = {h for line in net.lines.values() for h in line.hubs}
    rows = []
    for pair in table["pair"]:
        path = nx.shortest_path(graph, pair["from"], pair["to"], weight="minutes")
        minutes = nx.path_weight(graph, path, "minutes")
        via = ", ".join(net.stations[s].display_name("en") for s in path[1:-1] if s in hubs)
        rows.append((f"{pair['from']}-{pair['to']}", minutes, pair["minutes"], via))
    return rows


def bus_figures(net) -> dict[str, int]:
    register = [lk for lk in net.links.values() if lk.source == "bus_register_2019"]
    short = 0
    for link in register:
        a, b = net.stations[link.from_id], net.stations[link.to_id]
        if link.distance_km < crowfly_km(a.lat, a.lon, b.lat, b.lon) - 0.1:
            short += 1
    return {
        "register links used": len(register),
        "shorter than the straight line": short,
        "no daily record": sum(1 for lk in register if lk.daily_departures_2019 == 0),
        "no operator": sum(1 for lk in register if lk.operators == 0),
        "marked unverified": sum(1 for lk in register if getattr(lk, "unverified", False)),
    }


def bus_changes(net, origin, destination) -> str:
    change = load_settings().bus_change_minutes
    when = datetime(2026, 3, 1, tzinfo=UTC)
    query = Query(origin, destination, when, modes=frozenset({Mode.BUS}), bus_change_minutes=change)
    advice = plan(net, RiskIndex.empty(), query)
    rec = advice.recommended
    if rec is None:
        return "no bus route"
    stops = [net.stations[leg.to_id].display_name("en") for leg in rec.legs
             if leg.mode is Mode.BUS][:-1]  # fmt: skip
    walks = sum(1 for leg in rec.legs if leg.link_ids and leg.mode is Mode.TRANSFER)
    return f"{len(stops)} change(s) {stops}, {walks} walk(s), {rec.travel_minutes:.0f} min"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=None)
    parser.add_argument("--build", action="store_true", help="also print the importer's report")
    args = parser.parse_args(argv)
    net = load_network(args.dataset)
    print(f"dataset {net.metadata.get('version', '?')}")
    print("rail: estimated / usual scheduled time")
    for name, minutes, usual, via in rail_ratios(net):
        print(f"  {name:24s} {minutes:6.0f} / {usual:4d} = {minutes / usual:4.2f}  via {via[:90]}")
    print("bus register links:")
    for key, value in bus_figures(net).items():
        print(f"  {key}: {value}")
    print(f"bus-only answers (bus change {load_settings().bus_change_minutes} min):")
    for origin, destination in BUS_CASES:
        print(f"  {origin} -> {destination}: {bus_changes(net, origin, destination)}")
    if args.build:
        from advisor.network.importer import build_network

        s = load_settings()
        _net, report = build_network(s.network_sources, s.speed_model_path, s.lines_path,
                                     s.hand_links_path)  # fmt: skip
        print(f"importer: judged {report.bus_links_judged}, dropped "
              f"{len(report.bus_links_dropped)}, unverified {len(report.bus_links_unverified)}, "
              f"re-estimated {len(report.bus_links_re_estimated)}, endpoints checked "
              f"{len(report.bus_endpoints_checked)}, bus stops renamed "
              f"{len(report.bus_stops_renamed)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
