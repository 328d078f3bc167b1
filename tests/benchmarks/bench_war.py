"""Benchmark: routing with the war map's baseline layer against without it; map import cost.

Run: ``.venv/bin/python tests/benchmarks/bench_war.py [--pairs 200]``

The same seeded origin–destination pairs as ``bench_routing.py`` (stations and bus stops of
the main component), each answered with the 20 realistic operator flags plus the baseline
flag file, once without and once with the war layer's synthetic flags (the shipped
2026-08-22 map). The two runs are interleaved pair by pair so machine noise hits both
alike. Reports p50/p95/max of the full answer and the slowdown of p50/p95 (target < 10 %),
then the one-off costs: measuring the network against a map (``build_layer``), a whole
``war-map import --dry-run`` minus the important-pair preview (parse, validate, area
change, layer) and the index build, each with its peak Python memory (tracemalloc).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from advisor.network.dataset import load_network
from advisor.risk.coverage import RiskIndex
from advisor.risk.geography import WarMap, build_layer
from advisor.routing.graph import RoutingGraph
from advisor.routing.model import Query
from advisor.routing.planner import plan
from advisor.services import FileFlagSource
from advisor.settings import CONFIG_DIR, Settings
from advisor.war_maps import WarLayers, area_change_share, load_bands, parse_war_map
from tests.benchmarks.bench_routing import AT, od_pairs, percentile, realistic_flags


def measured(fn):
    """(result, seconds, peak MiB of Python allocations): timed in one call, then traced in
    a second (tracemalloc slows the code it traces several-fold)."""
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    fn()
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak / 2**20


def route_times(network, indexes, pairs):
    times = {name: [] for name in indexes}
    for origin, destination in pairs:
        for name, index in indexes.items():
            start = time.perf_counter()
            plan(network, index, Query(origin, destination, AT))
            times[name].append((time.perf_counter() - start) * 1000)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    args = parser.parse_args()
    settings = Settings()
    network = load_network()
    RoutingGraph.of(network)
    operator = [*FileFlagSource([CONFIG_DIR / "baseline_flags.toml"]).load_flags(),
                *realistic_flags()]
    layers = WarLayers(settings)
    war_map = layers.war_map()
    bands = load_bands(settings)[0]
    layer, layer_s, layer_mib = measured(lambda: build_layer(war_map, network, bands))
    indexes = {"without war layer": RiskIndex.build(operator, network)}
    with_layer, index_s, index_mib = measured(
        lambda: RiskIndex.build([*operator, *layer.flags], network)
    )
    indexes["with war layer"] = with_layer
    february = settings.network_sources / "war" / "occupied_2026-02-01.geojson"
    if february.exists():
        raw = february.read_bytes()

        def dry_run():
            new = parse_war_map(raw, february.name)
            new = WarMap(new.map_date, new.source, new.occupied, war_map.borders)
            share = area_change_share(new, war_map)
            return build_layer(new, network, bands), share

        (_imported, share), import_s, import_mib = measured(dry_run)
    pairs = od_pairs(network, args.pairs)
    route_times(network, indexes, pairs[:10])  # warm caches
    times = route_times(network, indexes, pairs)
    print(f"{len(pairs)} pairs, {len(operator)} operator flags, "
          f"{len(layer.flags)} war-layer flags ({len(layer.stations)} stations, "
          f"{len(layer.links)} links in a band)")
    for name, values in times.items():
        print(f"  {name:<18} p50 {percentile(values, 0.5):7.1f} ms  "
              f"p95 {percentile(values, 0.95):7.1f} ms  max {max(values):7.1f} ms")
    base, war = times["without war layer"], times["with war layer"]
    for q in (0.5, 0.95):
        slower = percentile(war, q) / percentile(base, q) - 1
        print(f"  p{round(q * 100)} slowdown {slower:+.1%} (target < 10 %)")
    print(f"build_layer (measure network vs map): {layer_s * 1000:.0f} ms, "
          f"peak {layer_mib:.1f} MiB")
    print(f"RiskIndex.build with the layer: {index_s * 1000:.0f} ms, peak {index_mib:.1f} MiB")
    if february.exists():
        print(f"import --dry-run core (parse, validate, area change {share:.1%}, layer): "
              f"{import_s * 1000:.0f} ms, peak {import_mib:.1f} MiB")


if __name__ == "__main__":
    main()
