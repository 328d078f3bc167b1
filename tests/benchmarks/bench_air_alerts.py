"""Benchmark: air-raid alerts from the feed to the passenger's answer.

Run: ``.venv/bin/python tests/benchmarks/bench_air_alerts.py [--poll 1] [--rounds 5]``

A local alerts.in.ua stand-in (``tests/feeds/alert_server.py``), a SQLite store, the
shipped network and baseline flags, one poller thread polling every ``--poll`` seconds and
one :class:`~advisor.services.Services` refreshing its risk state every second (the
defaults: ``[flags] refresh_seconds = 1``). Reports:

- poll latency to effect: from the feed changing (an alert on Sumy oblast starting, then
  ending with no grace period) until ``advise(Kyiv→Sumy)`` carries (or drops) the
  ``air_alert`` notice; bounded by the poll interval + the refresh interval + one answer;
- requests per poll interval (If-Modified-Since: an unchanged feed costs one 304);
- the risk refresh when the alert set changes (temporary flags resolved into a new index:
  five oblast alerts, a city and a raion) and when it does not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from advisor.feeds.air_alerts import FEED_NAME, AirAlertsClient, AlertPoller
from advisor.routing.model import NoticeCode
from advisor.services import FileFlagSource, Services
from advisor.services.alerts import AlertReader
from advisor.settings import load_settings
from advisor.store import AlertStore, open_store
from tests.feeds.alert_server import TOKEN, AlertServer, alert

OBLASTS = ["Сумська область", "Харківська область", "Дніпропетровська область",
           "Запорізька область", "Полтавська область"]  # fmt: skip


def _wait(services, query, present: bool, limit=60.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if services.advise(query).has_notice(NoticeCode.AIR_ALERT) is present:
            return time.perf_counter() - start
        time.sleep(0.02)
    raise SystemExit("the alert did not reach the answer within the limit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--poll", type=float, default=1.0, help="poll interval, seconds")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    settings = load_settings({"alerts_grace_minutes": 0.0, "instance_path": folder})
    store = open_store(f"sqlite:///{folder / 'a.sqlite3'}")
    alerts = AlertStore(store.engine)
    with AlertServer() as server:
        services = Services(settings, flag_source=FileFlagSource([settings.baseline_flags_path]),
                            alert_reader=AlertReader(alerts, FEED_NAME))  # fmt: skip
        query = services.query("Київ", "Суми")
        services.advise(query)  # network, graph and index built before timing
        client = AirAlertsClient(server.url, TOKEN, timeout_seconds=5)
        poller = AlertPoller(client, alerts, poll_seconds=args.poll)
        stop = threading.Event()
        threading.Thread(target=poller.run, args=(stop,), daemon=True).start()
        on, off = [], []
        for n in range(args.rounds):
            server.set_alerts([alert(100 + n)])
            on.append(_wait(services, query, True))
            server.set_alerts([])
            off.append(_wait(services, query, False))
        before = len(server.requests)
        time.sleep(args.poll * 10)
        per_interval = (len(server.requests) - before) / 10
        stop.set()
        many = [alert(n, oblast=o) for n, o in enumerate(OBLASTS)] + [
            alert(10, location_type="city", title="м. Харків", oblast="Харківська область"),
            alert(11, location_type="raion", title="Шосткинський район"),
        ]
        server.set_alerts(many)
        poller.poll_once()
        changed = _timed(services.refresh_flags)
        same = statistics.median(_timed(services.refresh_flags) for _ in range(20))
    print(f"poll interval {args.poll:g} s, risk refresh {settings.flags_refresh_seconds:g} s, "
          f"{args.rounds} rounds")
    print(f"alert start -> answer: median {statistics.median(on):.2f} s, worst {max(on):.2f} s")
    print(f"alert end   -> answer: median {statistics.median(off):.2f} s, worst {max(off):.2f} s")
    print(f"requests per poll interval (feed unchanged): {per_interval:.1f}")
    print(f"risk refresh, alert set changed (7 alerts): {changed * 1000:.0f} ms; "
          f"unchanged: {same * 1000:.1f} ms")


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
