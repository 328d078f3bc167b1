"""Operator console benchmark: the latency of each console page on the national network.

Run: ``.venv/bin/python tests/benchmarks/bench_console.py [--repeat N]``.
Builds the real app (shipped network, a fresh SQLite store in a temporary folder), signs in
with production argon2 parameters, and times, in-process through the WSGI test client:
sign-in, the flag list, the empty flag form, a target search, an impact preview of
Kharkiv–Kupiansk (every important city pair planned twice), a publish and a withdraw.
Prints the median and the maximum of each over ``--repeat`` rounds.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from advisor import create_app  # noqa: E402
from advisor.services import COMMAND_LINE  # noqa: E402

PASSWORD = "correct horse battery"
FLAG = {
    "kind": "line",
    "line_id": "kharkiv-kupiansk",
    "level": "high",
    "reason_uk": "Удари дронів",
    "reason_en": "Drone strikes",
    "source": "Укрзалізниця",
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_PREVIEWED = re.compile(r'name="previewed" value="([^"]+)"')


def _timed(timings: dict, name: str, call):
    started = time.perf_counter()
    response = call()
    timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    assert response.status_code < 400, (name, response.status_code)
    return response


def _round(client, timings: dict) -> None:
    token = _CSRF.search(client.get("/operator/signin").get_data(as_text=True)).group(1)
    form = {"csrf_token": token, "username": "operator1", "password": PASSWORD}
    _timed(timings, "sign-in", lambda: client.post("/operator/signin", data=form))
    page = _timed(timings, "flag list", lambda: client.get("/operator/flags"))
    token = _CSRF.search(page.get_data(as_text=True)).group(1)
    _timed(timings, "empty flag form", lambda: client.get("/operator/flags/new"))
    search = {"csrf_token": token, "action": "search", "query": "Купʼянськ"}
    _timed(timings, "target search", lambda: client.post("/operator/flags/new", data=search))
    preview = {**FLAG, "csrf_token": token, "action": "preview"}
    page = _timed(
        timings, "impact preview", lambda: client.post("/operator/flags/new", data=preview)
    )
    digest = _PREVIEWED.search(page.get_data(as_text=True)).group(1)
    publish = {**preview, "action": "publish", "previewed": digest}
    page = _timed(timings, "publish", lambda: client.post("/operator/flags/new", data=publish))
    flag_path = page.headers["Location"].split("?")[0]
    withdraw = {"csrf_token": token, "version": "1"}
    _timed(timings, "withdraw", lambda: client.post(f"{flag_path}/withdraw", data=withdraw))
    client.post("/operator/signout", data={"csrf_token": token})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        app = create_app(
            {"testing": True, "instance_path": Path(folder), "rate_limit_per_minute": 0}
        )
        services = app.extensions["advisor.services"]
        services.network  # noqa: B018 - load before timing the pages
        services.station_index  # noqa: B018
        print(f"app, network and search index ready in {time.perf_counter() - started:.2f} s")
        app.extensions["advisor.operations"].create_user(
            "operator1", PASSWORD, "operator", COMMAND_LINE
        )
        client = app.test_client()
        timings: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            _round(client, timings)
        print(f"{'page':<18}{'median ms':>12}{'max ms':>10}   ({args.repeat} rounds)")
        for name, values in timings.items():
            print(f"{name:<18}{statistics.median(values):>12.1f}{max(values):>10.1f}")
        app.extensions["advisor.operations"].close()


if __name__ == "__main__":
    main()
