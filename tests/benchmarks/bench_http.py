"""Benchmark: throughput of ``GET /api/v1/routes`` under gunicorn with 2 workers.

Run: ``.venv/bin/python tests/benchmarks/bench_http.py [--seconds 30] [--clients 4]``

Starts ``advisor serve --workers 2`` on a free loopback port (embedded defaults: the shipped
national network, SQLite in a temporary instance folder, rate limit off for the run), waits
for ``/readyz``, warms every worker up, then runs a bounded closed-loop load generator:
``--clients`` threads, each sending one request at a time for ``--seconds``, cycling over
seeded city pairs. Reports requests/s, p50/p95/p99/max latency and the error count (any
non-200 answer or transport error), plus the size of the results page for Kyiv →
Kramatorsk in both languages.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.web.server import serve, wait_until_ready

CITIES = [
    "Київ", "Харків", "Львів", "Одеса", "Дніпро", "Запоріжжя", "Суми", "Полтава", "Вінниця",
    "Житомир", "Чернігів", "Краматорськ", "Лозова", "Тернопіль", "Миколаїв", "Кременчук",
]  # fmt: skip


def _pairs(seed: int) -> list[tuple[str, str]]:
    pairs = [(a, b) for a, b in itertools.permutations(CITIES, 2)]
    random.Random(seed).shuffle(pairs)
    return pairs


def _client(base: str, pairs, stop_at: float, latencies: list, errors: list, offset: int):
    session = requests.Session()
    for origin, destination in itertools.islice(itertools.cycle(pairs), offset, None):
        if time.perf_counter() >= stop_at:
            return
        started = time.perf_counter()
        try:
            response = session.get(
                f"{base}/api/v1/routes", params={"from": origin, "to": destination}, timeout=30
            )
            ok = response.status_code == 200
        except requests.RequestException as err:
            ok, response = False, err
        elapsed = time.perf_counter() - started
        latencies.append(elapsed)
        if not ok:
            errors.append(f"{origin}→{destination}: {getattr(response, 'status_code', response)}")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _page_sizes(base: str) -> dict[str, int]:
    sizes = {}
    for lang in ("uk", "en"):
        page = requests.get(
            f"{base}/", params={"from": "Київ", "to": "Краматорськ", "lang": lang}, timeout=30
        )
        page.raise_for_status()
        sizes[lang] = len(page.content)
    return sizes


def run(seconds: float, clients: int, seed: int) -> None:
    pairs = _pairs(seed)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"ADVISOR_RATE_LIMIT_PER_MINUTE": "0"}
        with serve(Path(tmp) / "instance", workers=2, env=env) as (base, _process):
            wait_until_ready(base)
            for origin, destination in pairs[:20]:  # both workers load the network
                requests.get(
                    f"{base}/api/v1/routes", params={"from": origin, "to": destination}, timeout=60
                )
            sizes = _page_sizes(base)
            latencies: list[float] = []
            errors: list[str] = []
            stop_at = time.perf_counter() + seconds
            started = time.perf_counter()
            threads = [
                threading.Thread(
                    target=_client, args=(base, pairs, stop_at, latencies, errors, i * 37)
                )
                for i in range(clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
    ms = [v * 1000 for v in latencies]
    print(f"gunicorn workers: 2, clients: {clients}, duration: {wall:.1f} s, pairs: {len(pairs)}")
    print(f"requests: {len(ms)}, throughput: {len(ms) / wall:.1f} requests/s")
    print(
        f"latency ms: p50 {statistics.median(ms):.1f}, p95 {_percentile(ms, 0.95):.1f}, "
        f"p99 {_percentile(ms, 0.99):.1f}, max {max(ms):.1f}"
    )
    print(f"errors: {len(errors)}" + (f" (first: {errors[:3]})" if errors else ""))
    print(f"results page Kyiv → Kramatorsk: uk {sizes['uk']} bytes, en {sizes['en']} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    run(args.seconds, args.clients, args.seed)


if __name__ == "__main__":
    main()
