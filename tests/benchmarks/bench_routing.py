"""Benchmark: the full routing answer on the shipped national network vs the naive way.

Run: ``.venv/bin/python tests/benchmarks/bench_routing.py [--pairs 200] [--naive 200]``

200 seeded origin–destination pairs (stations and bus stops of the main component), each
answered twice: with no flags, and with a realistic set of 20 operator flags (plus the
baseline flags). Reports p50/p95/max latency of the full answer (every option), the
one-off cost of building the routing graph, peak memory (peak RSS of the process) and, in
the same run, the naive way: ``nx.shortest_simple_paths`` k = 3 over the raw graph (parallel
links collapsed, as it refuses multigraphs) with a risk weight that hides high/suspended
and doubles elevated.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import contextlib

from advisor.network.dataset import load_network
from advisor.network.model import StationKind
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import RiskLevel
from advisor.risk.parse import flag_from_dict
from advisor.routing.graph import RoutingGraph
from advisor.routing.model import Query
from advisor.routing.planner import plan
from advisor.services import FileFlagSource
from advisor.settings import CONFIG_DIR

AT = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
SLOVIANSK, KRAMATORSK = "osm-node-1065061073", "osm-node-13072326058"
REALISTIC = [
    (
        "high",
        {
            "kind": "section",
            "line_id": "lozova-barvinkove-kramatorsk",
            "from_station": "lozova",
            "to_station": KRAMATORSK,
        },
    ),
    ("high", {"kind": "line", "line_id": "dnipro-zaporizhzhia"}),
    ("high", {"kind": "line", "line_id": "kharkiv-kupiansk"}),
    ("high", {"kind": "line", "line_id": "sloviansk-lyman"}),
    ("high", {"kind": "line", "line_id": "dnipro-mezhova-pokrovsk"}),
    ("elevated", {"kind": "oblast", "oblast_iso": "UA-63"}),
    ("elevated", {"kind": "oblast", "oblast_iso": "UA-59"}),
    ("elevated", {"kind": "oblast", "oblast_iso": "UA-12"}),
    ("high", {"kind": "circle", "lat": 50.91, "lon": 34.80, "radius_km": 25}),
    ("high", {"kind": "circle", "lat": 47.84, "lon": 35.14, "radius_km": 15}),
    ("suspended", {"kind": "line", "line_id": "sloviansk-kramatorsk-kostiantynivka"}),
    ("elevated", {"kind": "line", "line_id": "mykolaiv-kherson"}),
    ("high", {"kind": "station", "station_id": "kherson"}),
    ("elevated", {"kind": "line", "line_id": "odesa-mykolaiv"}),
    ("advisory", {"kind": "line", "line_id": "kyiv-poltava-kharkiv"}),
    ("elevated", {"kind": "line", "line_id": "sumy-kharkiv"}),
    (
        "suspended",
        {
            "kind": "section",
            "line_id": "kharkiv-izium",
            "from_station": "kharkiv",
            "to_station": "izium",
        },
    ),
    ("elevated", {"kind": "line", "line_id": "konotop-vorozhba-sumy"}),
    ("high", {"kind": "polygon", "ring": [[36.0, 46.9], [37.0, 46.9], [37.0, 47.6], [36.0, 47.6]]}),
    ("advisory", {"kind": "oblast", "oblast_iso": "UA-74"}),
]


def realistic_flags():
    return [
        flag_from_dict(
            {
                "id": f"bench-{i}",
                "level": level,
                "target": target,
                "reason_uk": "Обстріли",
                "reason_en": "Strikes",
                "source": "bench",
            }
        )
        for i, (level, target) in enumerate(REALISTIC)
    ]


def od_pairs(network, count, seed=20260312):
    main = max(nx.connected_components(network.graph), key=len)
    ids = sorted(i for i in main if network.stations[i].kind is not StationKind.HALT)
    rng = random.Random(seed)
    return [tuple(rng.sample(ids, 2)) for _ in range(count)]


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_engine(network, index, pairs):
    times = []
    for origin, destination in pairs:
        start = time.perf_counter()
        plan(network, index, Query(origin, destination, AT))
        times.append((time.perf_counter() - start) * 1000)
    return times


def naive_graph(network):
    graph = nx.Graph()
    for link in network.links.values():
        if graph.has_edge(link.from_id, link.to_id):
            graph[link.from_id][link.to_id]["links"].append(link)
        else:
            graph.add_edge(link.from_id, link.to_id, links=[link])
    return graph


def time_naive(graph, index, pairs):
    levels = index.link_levels(AT)
    penalty = {None: 1.0, RiskLevel.ADVISORY: 1.0, RiskLevel.ELEVATED: 2.0}

    def weight(_u, _v, data):
        costs = [
            lk.travel_minutes * penalty[levels.get(lk.id)]
            for lk in data["links"]
            if levels.get(lk.id) in penalty
        ]
        return min(costs) if costs else None

    times = []
    for origin, destination in pairs:
        start = time.perf_counter()
        with contextlib.suppress(nx.NetworkXNoPath):
            list(
                itertools.islice(
                    nx.shortest_simple_paths(graph, origin, destination, weight=weight), 3
                )
            )
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(name, times):
    print(
        f"{name:34} n={len(times):4d}  p50 {percentile(times, 0.5):8.2f} ms  "
        f"p95 {percentile(times, 0.95):8.2f} ms  max {max(times):8.2f} ms  "
        f"mean {statistics.fmean(times):8.2f} ms"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--naive", type=int, default=200, help="pairs for the naive way")
    args = parser.parse_args()
    network = load_network()
    start = time.perf_counter()
    RoutingGraph.of(network)
    print(
        f"network: {len(network.stations)} stations, {len(network.links)} links; "
        f"routing graph built once in {(time.perf_counter() - start) * 1000:.0f} ms"
    )
    baseline = FileFlagSource([CONFIG_DIR / "baseline_flags.toml"], strict=True).load_flags()
    start = time.perf_counter()
    flagged = RiskIndex.build([*baseline, *realistic_flags()], network)
    print(
        f"risk index: {len(flagged.flags)} flags resolved in "
        f"{(time.perf_counter() - start) * 1000:.0f} ms"
    )
    pairs = od_pairs(network, args.pairs)
    engine = {
        "no flags": time_engine(network, RiskIndex.empty(), pairs),
        "20 flags + baseline": time_engine(network, flagged, pairs),
    }
    for name, times in engine.items():
        report(f"engine, full answer, {name}", times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process (network + graphs + index + answers): {peak:.0f} MiB")
    graph = naive_graph(network)
    naive_pairs = pairs[: args.naive]
    naive = {
        "no flags": time_naive(graph, RiskIndex.empty(), naive_pairs),
        "20 flags + baseline": time_naive(graph, flagged, naive_pairs),
    }
    for name, times in naive.items():
        report(f"naive k=3 simple paths, {name}", times)
    for name in engine:
        ratio = statistics.median(naive[name]) / statistics.median(engine[name][: args.naive])
        print(f"speed-up at p50, {name}: {ratio:.1f}x")


if __name__ == "__main__":
    main()
