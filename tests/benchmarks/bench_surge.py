"""Load test: N instances behind HAProxy on one PostgreSQL and one Redis, a surge, a flag.

Run: ``.venv/bin/python tests/benchmarks/bench_surge.py [--instances 2] [--workers 2]
[--seconds 15] [--clients 8] [--no-redis] [--keep-logs DIR]`` (``--no-redis``: no Redis, so
rate limits are counted per worker and flag changes pushed through PostgreSQL
``LISTEN``/``NOTIFY``; ``--keep-logs``: the instances' JSON logs are copied to DIR)

Loopback only, bounded in time (each phase ``--seconds``) and count (``--max-requests`` per
phase). Starts ``--instances`` × ``advisor serve --workers W`` on one PostgreSQL database
(created for the run, dropped afterwards) and one Redis, HAProxy (Debian's package) in front,
then drives, through HAProxy and side by side in one run:

1. ``/healthz`` — the floor of the stack;
2. ``/api/v1/routes`` with a uniform mix of real city pairs (config/important_pairs.toml,
   both directions, city names as passengers type them);
3. the same with a surge mix (a few pairs asked most: Zipf weights, s = 1.2), publishing a
   flag in the middle of the phase the way an operator's instance does (store write + Redis
   message), with ``flags_refresh_seconds`` at 30 s so the poll cannot explain the figure.

Reports per phase: requests/s, the ratio to ``/healthz``, p50/p95/p99 latency, errors, the
share of answers served from the answer cache (``X-Answer-Cache``); per worker: the time from
the publish to its routing using the flag (from the workers' JSON log lines, which carry the
pid and a timestamp) and its RSS/PSS (``/proc/PID/smaps_rollup``). Skips with a message when
HAProxy, PostgreSQL or Redis is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.web.server import free_port, wait_until_ready  # noqa: E402

PG_ADMIN = os.environ.get("ADVISOR_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("ADVISOR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DB_NAME = "advisor_surge_bench"
FLAG_LINE = "dnipro-zaporizhzhia"


def _skip(reason: str) -> None:
    print(f"SKIPPED: {reason}")
    raise SystemExit(0)


def _pairs() -> list[tuple[str, str]]:
    data = tomllib.loads((ROOT / "config" / "important_pairs.toml").read_text("utf-8"))
    pairs = [tuple(p) for p in data["pairs"]]
    return pairs + [(b, a) for a, b in pairs]


# --- the arrangement --------------------------------------------------------------------


def _database() -> str:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    except psycopg.Error as err:
        _skip(f"PostgreSQL not reachable at {PG_ADMIN}: {err}")
    return _database_url()


def _drop_database() -> None:
    import psycopg

    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn,
    ):
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def _haproxy_config(port: int, backends: list[int]) -> str:
    servers = "\n".join(
        f"    server app{i} 127.0.0.1:{p} check inter 2s" for i, p in enumerate(backends)
    )
    return f"""global
    maxconn 512
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    option http-server-close
frontend advisor
    bind 127.0.0.1:{port}
    default_backend instances
backend instances
    balance roundrobin
    option httpchk GET /healthz
{servers}
"""


@contextlib.contextmanager
def arrangement(instances: int, workers: int, work: Path, redis_url: str = REDIS_URL):
    """Start every part; yield (load balancer URL, [(instance URL, master pid, log path)])."""
    database_url = _database()
    env = {
        **os.environ,
        "ADVISOR_DATABASE_URL": database_url,
        "ADVISOR_REDIS_URL": redis_url,
        "ADVISOR_RATE_LIMIT_PER_MINUTE": "1000000",  # raised for the benchmark
        "ADVISOR_FLAGS_REFRESH_SECONDS": "30",  # the push must do the work, not the poll
        "ADVISOR_SECRET_KEY": "bench-" + "x" * 32,
    }
    processes, started = [], []
    try:
        for n in range(instances):
            port = free_port()
            log_path = work / f"instance{n}.log"
            command = [sys.executable, "-m", "advisor.cli", "serve", "--host", "127.0.0.1",
                       "--port", str(port), "--workers", str(workers)]  # fmt: skip
            instance_env = {**env, "ADVISOR_INSTANCE_PATH": str(work / f"instance{n}")}
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(command, cwd=ROOT, env=instance_env, stdout=log,
                                        stderr=subprocess.STDOUT)  # fmt: skip
            processes.append(proc)
            started.append((f"http://127.0.0.1:{port}", proc.pid, log_path, port))
        for url, *_ in started:
            wait_until_ready(url, 180)
        lb_port = free_port()
        config = work / "haproxy.cfg"
        config.write_text(_haproxy_config(lb_port, [s[3] for s in started]), encoding="utf-8")
        haproxy = subprocess.Popen(["haproxy", "-f", str(config), "-db"], stdout=subprocess.DEVNULL,
                                   stderr=open(work / "haproxy.log", "wb"))  # noqa: SIM115
        processes.append(haproxy)
        wait_until_ready(f"http://127.0.0.1:{lb_port}", 30)
        yield f"http://127.0.0.1:{lb_port}", [(u, p, lg) for u, p, lg, _ in started]
    finally:
        for proc in processes:
            proc.send_signal(signal.SIGTERM)
        for proc in processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        _drop_database()


# --- load -----------------------------------------------------------------------------


def _client(args) -> dict:
    base, path, pairs, weights, seconds, budget, seed = args
    rng = random.Random(seed)
    session = requests.Session()
    latencies, errors, hits, count = [], [], 0, 0
    stop_at = time.perf_counter() + seconds
    while time.perf_counter() < stop_at and count < budget:
        params = None
        if pairs:
            origin, destination = rng.choices(pairs, weights)[0]
            params = {"from": origin, "to": destination}
        started = time.perf_counter()
        try:
            response = session.get(base + path, params=params, timeout=30)
            if response.status_code != 200:
                errors.append(str(response.status_code))
            hits += response.headers.get("X-Answer-Cache") == "hit"
        except requests.RequestException as err:
            errors.append(type(err).__name__)
        latencies.append(time.perf_counter() - started)
        count += 1
    return {"latencies": latencies, "errors": errors, "hits": hits}


def drive(base, path, pairs, weights, seconds, clients, budget, pool) -> dict:
    started = time.perf_counter()
    jobs = [(base, path, pairs, weights, seconds, budget // clients, n) for n in range(clients)]
    results = pool.map(_client, jobs)
    elapsed = time.perf_counter() - started
    latencies = sorted(x for r in results for x in r["latencies"])
    errors = [e for r in results for e in r["errors"]]
    return {
        "requests": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": _pct(latencies, 0.5) * 1000,
        "p95": _pct(latencies, 0.95) * 1000,
        "p99": _pct(latencies, 0.99) * 1000,
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "hit_share": sum(r["hits"] for r in results) / max(1, len(latencies)),
    }


def _pct(values, q):
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


# --- the flag and its propagation -----------------------------------------------------


def publish_flag(database_url: str, redis_url: str = REDIS_URL) -> tuple[str, float, float]:
    """Publish a flag as an operator's instance does: a store write, then a Redis message
    (a PostgreSQL ``NOTIFY`` when *redis_url* is empty).

    Returns the flag id, the time just before the write and the time the write (with the
    message) returned. The store connection is opened before the clock starts, as a running
    instance has its pool open."""
    from advisor.services import COMMAND_LINE, Operations
    from advisor.settings import load_settings
    from advisor.store import open_store
    from advisor.store.shared import FlagChangeBus, PgFlagChangeBus, connect_redis

    settings = load_settings({"database_url": database_url})
    ops = Operations(open_store(database_url, migrate=False), settings)
    ops.change_bus = (
        FlagChangeBus(connect_redis(redis_url)) if redis_url
        else PgFlagChangeBus(ops.store.engine)
    )  # fmt: skip
    ops.store.ping()
    flag_id = f"surge-{int(time.time())}"
    published_at = time.time()
    ops.create_flag(
        {"id": flag_id, "level": "high", "status": "published",
         "target": {"kind": "line", "line_id": FLAG_LINE}, "reason_uk": "Удар по колії",
         "reason_en": "Strike on the track", "source": "bench"},
        COMMAND_LINE,
    )  # fmt: skip
    return flag_id, published_at, time.time()


def propagation(logs: list[Path], published_at: float, worker_pids: set[int]) -> dict[int, float]:
    """Seconds from the publish to each worker's first new risk state after it."""
    seen: dict[int, float] = {}
    for path in logs:
        for line in path.read_text("utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if not isinstance(entry, dict) or not entry.get("message", "").startswith(
                    "risk state"
                ):
                    continue
                pid, ts = entry.get("pid"), entry.get("ts", 0.0)
                if pid in worker_pids and ts >= published_at and pid not in seen:
                    seen[pid] = ts - published_at
    return seen


def workers_of(master_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def memory(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return fields["Rss"] / 1024, fields["Pss"] / 1024


# --- the run --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--keep-logs", type=Path, help="copy the instances' logs here")
    parser.add_argument("--no-redis", action="store_true",
                        help="run without Redis: rate limits per worker, flag changes "
                             "pushed through PostgreSQL LISTEN/NOTIFY")  # fmt: skip
    args = parser.parse_args()
    if shutil.which("haproxy") is None:
        _skip("haproxy is not installed (apt-get install -y haproxy)")
    from advisor.store.shared import connect_redis

    redis_url = "" if args.no_redis else REDIS_URL
    if redis_url and connect_redis(redis_url) is None:
        _skip(f"Redis does not answer at {redis_url}")
    pairs = _pairs()
    uniform = [1.0] * len(pairs)
    surge = [1.0 / (rank + 1) ** 1.2 for rank in range(len(pairs))]
    with tempfile.TemporaryDirectory() as tmp, multiprocessing.Pool(args.clients) as pool:
        work = Path(tmp)
        with arrangement(args.instances, args.workers, work, redis_url) as (lb, instances):
            database_url = _database_url()
            pids = {m: workers_of(m) for _u, m, _l in instances}
            all_workers = {p for ps in pids.values() for p in ps}
            phase = lambda path, p, w: drive(  # noqa: E731
                lb, path, p, w, args.seconds, args.clients, args.max_requests, pool
            )
            health = phase("/healthz", None, None)
            uniform_run = phase("/api/v1/routes", pairs, uniform)
            timer = _later(args.seconds / 2, publish_flag, database_url, redis_url)
            surge_run = phase("/api/v1/routes", pairs, surge)
            flag_id, published_at, written_at = timer.result()
            time.sleep(1.0)
            reached = propagation([lg for _u, _m, lg in instances], published_at, all_workers)
            mem = {p: memory(p) for p in all_workers}
            for _u, _m, lg in instances if args.keep_logs else ():
                shutil.copy(lg, args.keep_logs)
    write_ms = (written_at - published_at) * 1000
    _report(args, health, uniform_run, surge_run, reached, all_workers, mem, flag_id, write_ms)


def _database_url() -> str:
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + (
        f"/{DB_NAME}"
    )


def _later(delay: float, fn, *args):
    from concurrent.futures import ThreadPoolExecutor

    executor = ThreadPoolExecutor(1)

    def run():
        time.sleep(delay)
        return fn(*args)

    future = executor.submit(run)
    executor.shutdown(wait=False)
    return future


def _report(args, health, uniform_run, surge_run, reached, workers, mem, flag_id, write_ms):
    print(f"{args.instances} instances x {args.workers} workers behind HAProxy, one PostgreSQL, "
          f"{'no Redis (NOTIFY)' if args.no_redis else 'one Redis'}; {args.clients} client "
          f"processes, {args.seconds:.0f} s per phase")
    for name, run in (("healthz", health), ("routes uniform", uniform_run),
                      ("routes surge + flag", surge_run)):  # fmt: skip
        ratio = run["rate"] / health["rate"]
        print(f"{name:20s} {run['requests']:6d} req {run['rate']:8.1f}/s  ratio {ratio:5.2f}  "
              f"p50 {run['p50']:6.1f} ms p95 {run['p95']:6.1f} ms p99 {run['p99']:6.1f} ms  "
              f"errors {run['errors']} {run['error_kinds']}  "
              f"cache hits {run['hit_share']:.0%}")
    times = sorted(reached.values())
    print(f"flag {flag_id}: the publishing write and message took {write_ms:.0f} ms; "
          f"reached routing on {len(reached)}/{len(workers)} workers; "
          + (f"p50 {statistics.median(times) * 1000:.0f} ms, p95 {_pct(times, 0.95) * 1000:.0f} "
             f"ms, max {times[-1] * 1000:.0f} ms" if times else "no worker saw it"))  # fmt: skip
    for pid in sorted(workers):
        rss, pss = mem[pid]
        got = f"{reached[pid] * 1000:.0f} ms" if pid in reached else "not seen"
        print(f"  worker {pid}: flag after {got}; RSS {rss:.0f} MiB, PSS {pss:.0f} MiB")


if __name__ == "__main__":
    main()
