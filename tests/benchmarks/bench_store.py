"""Benchmark: flag write throughput, publish-to-routing delay, and SIGKILL durability.

Run: ``.venv/bin/python tests/benchmarks/bench_store.py [--writes 300] [--postgres URL]``

- Write throughput through the use cases (validation, version row, audit row, commit) on
  SQLite (the default store: WAL, ``synchronous=FULL``) and on PostgreSQL (from
  ``--postgres`` or ``ADVISOR_TEST_POSTGRES_URL``, in a throw-away schema): drafts created
  one after another and from 4 threads at once, and publish (which also rebuilds this
  process's routing flag set on the shipped network with the baseline flags).
- Publish-to-routing delay: in the same process (publish returns → the next ``advise``
  avoids the flag) and in another process-like reader (its own ``Services`` over the same
  store, polling every ``flags_refresh_seconds``).
- Durability: the real server (gunicorn, 2 workers) is SIGKILLed in the middle of writes,
  restarted, and every acknowledged write is looked for (tiny network, SQLite and PG).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sqlalchemy as sa

from advisor.services import Principal, Role, Services, connect_store
from advisor.settings import load_settings
from advisor.store import StoreFlagSource
from tests.store import durability

OPERATOR = Principal("bench", Role.OPERATOR, "127.0.0.1")
LINE_FLAG = {
    "level": "high",
    "target": {"kind": "line", "line_id": "kyiv-fastiv-koziatyn"},
    "reason_uk": "Перевірка",
    "reason_en": "Benchmark",
    "source": "bench",
}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _pg_schema(url: str):
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    scoped = sa.engine.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop():
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    return scoped.render_as_string(hide_password=False), drop


def _write_throughput(ops, writes: int) -> dict:
    started = time.perf_counter()
    for _ in range(writes):
        ops.create_flag({**LINE_FLAG, "status": "draft"}, OPERATOR)
    sequential = writes / (time.perf_counter() - started)

    def worker(count):
        for _ in range(count):
            ops.create_flag({**LINE_FLAG, "status": "draft"}, OPERATOR)

    threads = [threading.Thread(target=worker, args=(writes // 4,)) for _ in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    parallel = (writes // 4 * 4) / (time.perf_counter() - started)
    return {"sequential": sequential, "threads4": parallel}


def _publish_delays(ops, services, reader: Services, rounds: int) -> dict:
    same, other, publish = [], [], []
    for _ in range(rounds):
        draft = ops.create_flag({**LINE_FLAG, "status": "draft"}, OPERATOR)
        started = time.perf_counter()
        ops.publish_flag(draft.id, 1, OPERATOR)
        publish.append(time.perf_counter() - started)
        assert draft.id in {f.id for f in services.risk_state.flags}
        same.append(time.perf_counter() - started)
        while draft.id not in {f.id for f in reader.risk_state.flags}:
            time.sleep(0.005)
        other.append(time.perf_counter() - started)
        ops.withdraw_flag(draft.id, 2, OPERATOR)
    return {"publish": publish, "same": same, "other": other}


def _summary(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"p50 {_ms(statistics.median(values))}, p95 {_ms(p95)}, max {_ms(values[-1])}"


def bench_backend(name: str, url: str, writes: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"instance_path": Path(tmp), "database_url": url})
        services, ops = connect_store(settings)
        _ = services.risk_state  # load the network and the baseline flags once
        rate = _write_throughput(ops, writes)
        print(f"[{name}] draft writes: {rate['sequential']:.0f}/s sequential, "
              f"{rate['threads4']:.0f}/s from 4 threads ({writes} each)")
        reader = Services(settings, network=services.network,
                          flag_source=StoreFlagSource(ops.store))
        _ = reader.risk_state
        delays = _publish_delays(ops, services, reader, rounds)
        print(f"[{name}] publish (write + routing swap, shipped network): "
              f"{_summary(delays['publish'])}")
        print(f"[{name}] publish → routing, same process: {_summary(delays['same'])}")
        print(f"[{name}] publish → routing, other reader (refresh "
              f"{settings.flags_refresh_seconds:g} s): {_summary(delays['other'])}")
        ops.store.engine.dispose()


def bench_durability(name: str, url: str | None, dataset: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = durability.run(Path(tmp), dataset, url, writers=4, kill_after_seconds=3.0)
    print(f"[{name}] durability: {result.acknowledged} writes acknowledged in "
          f"{result.write_seconds:.1f} s, {result.found} found after SIGKILL + restart, "
          f"{len(result.missing)} missing, {len(result.inconsistent)} inconsistencies, "
          f"{len(result.refused)} refused, {result.flags_checked} flags checked")


def _tiny_dataset(folder: Path) -> Path:
    from advisor.network.dataset import write_dataset
    from tests.tiny_network import build_tiny_network

    path = folder / "tiny.json.gz"
    write_dataset(build_tiny_network(), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=20, help="publish/withdraw rounds")
    parser.add_argument("--postgres", default=os.environ.get("ADVISOR_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_backend("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args.writes, args.rounds)
        dataset = _tiny_dataset(Path(tmp))
        bench_durability("sqlite", None, dataset)
        if args.postgres:
            url, drop = _pg_schema(args.postgres)
            try:
                bench_backend("postgresql", url, args.writes, args.rounds)
            finally:
                drop()
            url, drop = _pg_schema(args.postgres)
            try:
                bench_durability("postgresql", url, dataset)
            finally:
                drop()
        else:
            print("[postgresql] skipped: pass --postgres or set ADVISOR_TEST_POSTGRES_URL")


if __name__ == "__main__":
    main()
