"""Station search benchmark: index build time and search latency over a fixed query list.

Run: ``.venv/bin/python tests/benchmarks/bench_search.py [--repeat N] [--dataset FILE]``.
Prints the build time (median of a few builds), the memory the index holds, and p50 / p95 /
max latency of ``StationIndex.search`` and ``StationIndex.resolve`` over the queries of
``tests/network/test_search.py`` plus some that match nothing, in wall-clock and in CPU time
(the CPU figure is what a busy machine does not distort). Target: p95 under 5 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from advisor.errors import UnknownStation  # noqa: E402
from advisor.network.dataset import load_network  # noqa: E402
from advisor.network.search import StationIndex  # noqa: E402
from tests.network.test_search import QUERIES  # noqa: E402

EXTRA_QUERIES = ["К", "Ки", "Zap", "Warszawa Centralna", "qqqqxxxzzz", "Миколаївка", "Stanislav"]


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _time_ms(call, clock=time.perf_counter) -> float:
    start = clock()
    call()
    return (clock() - start) * 1000


def _resolve(index: StationIndex, query: str) -> None:
    with contextlib.suppress(UnknownStation):  # a miss is timed like a hit
        index.resolve(query)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the query list")
    parser.add_argument("--builds", type=int, default=3, help="index builds to time")
    parser.add_argument("--dataset", type=Path, help="network dataset (default: shipped)")
    args = parser.parse_args(argv)

    network = load_network(args.dataset)
    builds = [_time_ms(lambda: StationIndex.build(network)) for _ in range(args.builds)]
    build_cpu = [
        _time_ms(lambda: StationIndex.build(network), time.process_time) for _ in range(args.builds)
    ]
    tracemalloc.start()
    index = StationIndex.build(network)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    queries = [q for q, _ in QUERIES] + EXTRA_QUERIES
    passes = range(args.repeat)
    search = [_time_ms(lambda q=q: index.search(q)) for _ in passes for q in queries]
    resolve = [_time_ms(lambda q=q: _resolve(index, q)) for _ in passes for q in queries]
    cpu = time.process_time
    search_cpu = [_time_ms(lambda q=q: index.search(q), cpu) for _ in passes for q in queries]

    print(f"stations indexed: {len(index)}, matching keys: {index.key_count}")
    print(f"index memory (tracemalloc): {held / 2**20:.1f} MiB held, {peak / 2**20:.1f} MiB peak")
    print(
        f"index build: median {statistics.median(builds):.0f} ms wall, "
        f"{statistics.median(build_cpu):.0f} ms CPU over {args.builds} builds "
        f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)"
    )
    for name, samples in (("search", search), ("resolve", resolve), ("search CPU", search_cpu)):
        print(
            f"{name:10} n={len(samples)} ({len(queries)} queries x {args.repeat}): "
            f"p50 {_percentile(samples, 0.5):.2f} ms, p95 {_percentile(samples, 0.95):.2f} ms, "
            f"max {max(samples):.2f} ms"
        )


if __name__ == "__main__":
    main()
