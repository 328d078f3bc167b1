"""Benchmark: the full routing answer on the shipped national network vs the naive way.

Run: ``.venv/bin/python tests/benchmarks/bench_routing.py [--pairs 200] [--naive 200]``

200 seeded origin–destination pairs (stations and bus stops of the main component), each
answered with no flags and with a realistic set of 20 operator flags plus every baseline
(the baseline flag file and the war map's synthetic flags, as a server routes), no answer
cache. Reports, in one run:

- the one-off cost of building the routing graph, and the share of it spent on the
  engine's lower bounds (landmarks) and mode components;
- p50/p95/max latency of the full answer (every option), wall clock and CPU time of the
  process (the CPU figure shows what a loaded machine adds), on the first pass over a new
  risk state (its per-state caches cold: what follows a flag change) and on a second pass;
- what a risk-state change costs routing: building the index again with one flag changed
  (as the services do, reusing the unchanged flags' coverage) and the first answer after it
  against the same answer once warm;
- peak memory (peak RSS of the process);
- the naive way in the same run: ``nx.shortest_simple_paths`` k = 3 over the raw graph
  (parallel links collapsed, as it refuses multigraphs) with a risk weight that hides
  high/suspended and doubles elevated, and the speed-up at p50 over it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
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


from advisor.network.dataset import load_network
from advisor.network.model import StationKind
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import RiskLevel
from advisor.risk.parse import flag_from_dict
from advisor.routing.bounds import Landmarks, Reach
from advisor.routing.graph import RoutingGraph
from advisor.routing.model import Query
from advisor.routing.planner import plan
from advisor.services import FileFlagSource
from advisor.settings import CONFIG_DIR, Settings
from advisor.war_maps import WarLayers, war_flags

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
    """Wall-clock and CPU milliseconds of each pair's full answer."""
    wall, cpu = [], []
    for origin, destination in pairs:
        start, start_cpu = time.perf_counter(), time.process_time()
        plan(network, index, Query(origin, destination, AT))
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return wall, cpu


def after_change(network, index, pairs):
    """(ms to build the index with one flag changed, mean extra ms of the first answer after
    the change over the same answer once warm), over a few changes."""
    builds, extra = [], []
    for i, pair in enumerate(pairs):
        flag = index.flags[-1]
        changed = dataclasses.replace(flag, reason_en=f"{flag.reason_en} ({i})")
        start = time.perf_counter()
        index = RiskIndex.build([*index.flags[:-1], changed], network, previous=index)
        builds.append((time.perf_counter() - start) * 1000)
        first = time_engine(network, index, [pair])[0][0]
        warm = min(time_engine(network, index, [pair] * 3)[0])
        extra.append(first - warm)
    return statistics.fmean(builds), statistics.fmean(extra)


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
        f"{name:46} n={len(times):4d}  p50 {percentile(times, 0.5):8.2f} ms  "
        f"p95 {percentile(times, 0.95):8.2f} ms  max {max(times):8.2f} ms  "
        f"mean {statistics.fmean(times):8.2f} ms"
    )


def timed_ms(build):
    start = time.perf_counter()
    build()
    return (time.perf_counter() - start) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--naive", type=int, default=200, help="pairs for the naive way")
    args = parser.parse_args()
    network = load_network()
    built = timed_ms(lambda: RoutingGraph.of(network))
    rg = RoutingGraph.of(network)
    print(
        f"network: {len(network.stations)} stations, {len(network.links)} links; "
        f"routing graph built once in {built:.0f} ms, of which lower bounds "
        f"{timed_ms(lambda: Landmarks(rg.graph)):.0f} ms (landmarks) and "
        f"{timed_ms(lambda: Reach(rg.graph)):.0f} ms (mode components)"
    )
    baseline = FileFlagSource([CONFIG_DIR / "baseline_flags.toml"], strict=True).load_flags()
    baseline = [*baseline, *war_flags(WarLayers(Settings()).layer(network))]
    start = time.perf_counter()
    flagged = RiskIndex.build([*baseline, *realistic_flags()], network)
    print(
        f"risk index: {len(flagged.flags)} flags ({len(baseline)} baseline, war map included) "
        f"resolved in {(time.perf_counter() - start) * 1000:.0f} ms"
    )
    pairs = od_pairs(network, args.pairs)
    indexes = {"no flags": RiskIndex.empty(), "20 flags + baseline": flagged}
    engine = {}
    for name, index in indexes.items():
        for run in ("first pass", "second pass"):
            wall, cpu = time_engine(network, index, pairs)
            report(f"engine, {name}, {run}, wall", wall)
            report(f"engine, {name}, {run}, CPU", cpu)
            engine.setdefault(name, wall)  # the first pass: per-state caches cold
    build_ms, extra_ms = after_change(network, flagged, pairs[:20])
    print(
        f"risk-state change (one flag edited, 20 times): index rebuilt in {build_ms:.0f} ms; "
        f"the first answer after it takes {extra_ms:+.2f} ms more than warm (routing builds "
        f"nothing up front: the index's level sets and the engine's memo of flagged edge "
        f"costs fill as requests come)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process (network + graphs + index + answers): {peak:.0f} MiB")
    if not args.naive:
        return
    graph = naive_graph(network)
    naive_pairs = pairs[: args.naive]
    naive = {name: time_naive(graph, index, naive_pairs) for name, index in indexes.items()}
    for name, times in naive.items():
        report(f"naive k=3 simple paths, {name}", times)
    for name in engine:
        ratio = statistics.median(naive[name]) / statistics.median(engine[name][: args.naive])
        print(f"speed-up at p50 (first pass, wall), {name}: {ratio:.1f}x")


if __name__ == "__main__":
    main()
