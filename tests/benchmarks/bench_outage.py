"""Benchmark: the flag snapshot and start-up while the flag store is unreachable.

Run: ``.venv/bin/python tests/benchmarks/bench_outage.py [--flags 500]``

- Snapshot cost: writing (atomic: temp file, fsync, rename) and reading back the shipped
  baseline flags plus ``--flags`` synthetic line flags; the file size.
- Start-up during an outage (PostgreSQL on a refused port, shipped network): ``create_app``
  time, the first ``/api/v1/routes`` (loads the network and the snapshot's flags), and the
  median and worst of later route requests while the store stays down (the source is
  retried with backoff, so requests do not wait on it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from advisor import create_app
from advisor.risk.model import FlagStatus
from advisor.services import SNAPSHOT_FILE, FileFlagSource
from advisor.settings import load_settings
from advisor.store.snapshot import FlagSnapshot

UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
ROUTE = "/api/v1/routes?from=Київ&to=Харків"


def _flags(extra: int):
    baseline = FileFlagSource([load_settings().baseline_flags_path]).load_flags()
    template = replace(baseline[0], status=FlagStatus.PUBLISHED)
    return baseline + [replace(template, id=f"bench-{n}") for n in range(extra)]


def bench_snapshot(directory: Path, extra: int) -> None:
    flags = _flags(extra)
    snapshot = FlagSnapshot(directory / SNAPSHOT_FILE)
    writes, reads = [], []
    for _ in range(20):
        started = time.perf_counter()
        snapshot.write(flags, datetime.now(UTC))
        writes.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert len(snapshot.read().flags) == len(flags)
        reads.append(time.perf_counter() - started)
    size_kb = snapshot.path.stat().st_size / 1024
    print(f"snapshot of {len(flags)} flags: {size_kb:.1f} KB; "
          f"write median {statistics.median(writes) * 1000:.2f} ms, "
          f"read median {statistics.median(reads) * 1000:.2f} ms (20 runs)")  # fmt: skip


def bench_start(directory: Path) -> None:
    instance = directory / "instance"
    FlagSnapshot(instance / SNAPSHOT_FILE).write(_flags(0), datetime.now(UTC))
    os.environ["ADVISOR_DATABASE_URL"] = UNREACHABLE_PG
    started = time.perf_counter()
    app = create_app({"instance_path": instance})
    start_s = time.perf_counter() - started
    client = app.test_client()
    started = time.perf_counter()
    first = client.get(ROUTE)
    first_s = time.perf_counter() - started
    assert first.json["freshness"]["flags_origin"] == "snapshot", first.json
    later = []
    for _ in range(50):
        started = time.perf_counter()
        assert client.get(ROUTE).status_code == 200
        later.append(time.perf_counter() - started)
        time.sleep(0.05)  # spread over the refresh interval (1 s), so the source is retried
    print(f"start during outage: create_app {start_s:.2f} s; first route {first_s:.2f} s; "
          f"later routes median {statistics.median(later) * 1000:.1f} ms, "
          f"max {max(later) * 1000:.1f} ms (50 requests over ~3 s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags", type=int, default=500, help="synthetic flags to add")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        bench_snapshot(Path(directory), args.flags)
        bench_start(Path(directory))


if __name__ == "__main__":
    main()
