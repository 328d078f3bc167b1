"""GTFS-realtime Alerts benchmark: building and encoding the feed on the national network.

Run: ``.venv/bin/python tests/benchmarks/bench_alerts.py [--repeat N]``.
Flag sets: the shipped baseline flags (21 area flags), and those plus one high flag on every
named line. Prints the median time to build the FeedMessage from the routing index's
coverage, to serialise it to Protocol Buffers and to JSON, and the sizes of both bodies.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from google.protobuf import json_format  # noqa: E402

from advisor.feeds.alerts import alerts_feed  # noqa: E402
from advisor.network.dataset import load_network  # noqa: E402
from advisor.risk.coverage import RiskIndex  # noqa: E402
from advisor.risk.model import Flag, LineTarget, RiskLevel  # noqa: E402
from advisor.services import FileFlagSource  # noqa: E402
from advisor.settings import load_settings  # noqa: E402


def _median_ms(call, repeat: int):
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def _measure(name: str, flags, network, repeat: int) -> None:
    index = RiskIndex.build(flags, network)
    now = datetime.now(UTC)
    build_ms, feed = _median_ms(
        lambda: alerts_feed(flags, network, now, updated_at=now, coverage=index.coverage), repeat
    )
    pb_ms, binary = _median_ms(feed.SerializeToString, repeat)
    json_ms, text = _median_ms(
        lambda: json_format.MessageToJson(feed, preserving_proto_field_name=True), repeat
    )
    stops = sum(len(e.alert.informed_entity) for e in feed.entity)
    print(
        f"{name}: {len(flags)} flags -> {len(feed.entity)} alerts, {stops} stop ids; "
        f"build {build_ms:.2f} ms, protobuf {pb_ms:.2f} ms ({len(binary)} B), "
        f"JSON {json_ms:.2f} ms ({len(text.encode())} B)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    settings = load_settings()
    network = load_network(settings.network_dataset)
    baseline = FileFlagSource([settings.baseline_flags_path]).load_flags()
    lines = [
        Flag(f"line-{lid}", RiskLevel.HIGH, LineTarget(lid), "Обстріли", "Strikes", "UZ", "ops")
        for lid in network.lines
    ]
    _measure("baseline", baseline, network, args.repeat)
    _measure("baseline + every line", baseline + lines, network, args.repeat)


if __name__ == "__main__":
    main()
