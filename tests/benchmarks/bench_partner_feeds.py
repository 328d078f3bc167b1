"""Benchmark: a partner GTFS-realtime alert feed polled into draft flags.

Run: ``.venv/bin/python tests/benchmarks/bench_partner_feeds.py [--entities 200] [--rounds 3]``

A local partner feed (``tests/feeds/partner_server.py``) serving ``--entities`` alert
entities (nine in ten name one station of the shipped network by stop id, one in ten a
stop id no mapping knows), a SQLite store and the shipped network, polled by
:class:`~advisor.feeds.partner_alerts.PartnerFeedPoller`. Reports the milliseconds of:

- the first poll (every matched entity becomes a draft flag: created, versioned, audited);
- a poll of an unchanged feed (304 Not Modified: the entities read last are checked again);
- a poll of the same content under a new ETag (parsed, matched, fingerprints all equal);
- a poll where every entity changed (every draft edited: a new version each);
- a poll of an empty feed (every draft discarded).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from advisor.services import connect_store
from advisor.settings import PartnerFeed, load_settings
from advisor.store import EntityState
from tests.feeds.partner_server import Alert, PartnerServer, entity


def _timed(poller) -> tuple[float, object]:
    start = time.perf_counter()
    outcome = poller.poll_once()
    return (time.perf_counter() - start) * 1000, outcome


def _round(server, stations, n: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="bench-partner-"))
    feed = PartnerFeed("bench", server.url)
    settings = load_settings({"instance_path": folder, "alerts_poll_in_app": False,
                              "database_url": f"sqlite:///{folder / 'p.sqlite3'}",
                              "partner_alert_feeds": (feed,)})  # fmt: skip
    services, operations = connect_store(settings)
    (poller,) = operations.partner_feeds.pollers(settings, services.network)

    def entities(severity):
        return [entity(f"e{i}", stops=[stations[i % len(stations)] if i % 10 else f"X-{i}"],
                       severity=severity) for i in range(n)]  # fmt: skip

    times = {}
    server.set_alerts(entities(Alert.WARNING))
    times["first poll (drafts)"], outcome = _timed(poller)
    assert outcome.changed and not outcome.error, outcome
    times["unchanged (304)"], _ = _timed(poller)
    server.set_alerts(entities(Alert.WARNING))
    times["same content, new ETag"], _ = _timed(poller)
    server.set_alerts(entities(Alert.SEVERE))
    times["every entity changed"], _ = _timed(poller)
    server.set_alerts([])
    times["empty feed (discard all)"], _ = _timed(poller)
    rows = operations.partner_feeds.store.list_entities("bench")
    assert not [r for r in rows if r.state is EntityState.OPEN], "drafts left open"
    operations.store.engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entities", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from advisor.network.dataset import load_network

    network = load_network(load_settings().network_dataset)
    stations = sorted(s.id for s in network.stations.values() if s.kind.value == "rail_station")
    results: dict[str, list[float]] = {}
    with PartnerServer() as server:
        for _ in range(args.rounds):
            for name, ms in _round(server, stations, args.entities).items():
                results.setdefault(name, []).append(ms)
    print(f"partner feed of {args.entities} entities ({args.entities // 10} unmatched), "
          f"SQLite, shipped network, {args.rounds} rounds: median (min-max) ms")  # fmt: skip
    for name, values in results.items():
        print(f"  {name:26} {statistics.median(values):8.1f} "
              f"({min(values):.1f}-{max(values):.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
