"""Benchmark: load time and peak memory of the shipped network dataset.

Run ``python tests/benchmarks/bench_network.py [--repeat N] [--dataset FILE]`` from the
project root. Prints the file size, the load time of each run (min and median), the peak of
Python allocations during one load (tracemalloc) and the process's peak resident set size
(ru_maxrss) before and after loading. Targets (issue 2): under 1 s and under 200 MB.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from advisor.network.dataset import load_network
from advisor.settings import Settings


def _maxrss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dataset", type=Path, default=Settings().network_dataset)
    args = parser.parse_args(argv)

    # Peak RSS first, untraced: tracemalloc's own bookkeeping would inflate it.
    rss_before = _maxrss_mb()
    net = load_network(args.dataset)
    rss_after = _maxrss_mb()
    del net
    gc.collect()
    tracemalloc.start()
    net = load_network(args.dataset)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del net
    gc.collect()

    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        net = load_network(args.dataset)
        times.append(time.perf_counter() - start)
        del net
        gc.collect()

    net = load_network(args.dataset)
    print(f"dataset: {args.dataset} ({args.dataset.stat().st_size / 1e6:.2f} MB gzip)")
    print(f"version: {net.metadata.get('version')}")
    print(f"stations: {len(net.stations)}, links: {len(net.links)}, lines: {len(net.lines)}")
    print(f"load time over {args.repeat} runs: min {min(times) * 1000:.0f} ms, "
          f"median {statistics.median(times) * 1000:.0f} ms (target < 1000 ms)")
    print(f"peak Python allocations during one load (tracemalloc): {peak / 1e6:.1f} MB")
    print(f"peak RSS: {rss_before:.1f} MB before loading, {rss_after:.1f} MB after "
          f"(+{rss_after - rss_before:.1f} MB; target < 200 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
