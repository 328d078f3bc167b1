"""Importing GTFS feeds for the service: read, combine, match to the network, persist.

The domain work (parsing, validation, matching) is :mod:`advisor.network.gtfs`; this module
is the ingestion step the CLI runs: several feeds in, one compact timetable file out (in the
instance folder by default), which ``serve`` loads.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from advisor.feeds.fetch import FeedFetcher, is_url
from advisor.network.gtfs import (
    FeedReport,
    StopMatch,
    combine,
    match_stops,
    read_feed,
    read_stop_mapping,
)
from advisor.network.model import Network
from advisor.network.timetable import Timetable, save_timetable

__all__ = ["TIMETABLE_FILE", "ImportOutcome", "import_feeds", "timetable_path"]

log = logging.getLogger(__name__)

TIMETABLE_FILE = "timetable.pkl.gz"


def timetable_path(settings) -> Path:
    """Where the imported timetable lives: ``<instance>/timetable.pkl.gz``."""
    return Path(settings.instance_path) / TIMETABLE_FILE


@dataclass(frozen=True)
class ImportOutcome:
    """What ``advisor feeds import`` did."""

    timetable: Timetable
    reports: tuple[FeedReport, ...]
    match: StopMatch
    path: Path | None


def import_feeds(
    paths: Sequence[Path | str],
    network: Network,
    *,
    mapping: Path | None = None,
    out: Path | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ImportOutcome:
    """Import every feed in *paths* (folders, zips or http(s) URLs of zips), match stops to
    *network* stations and save to *out*.

    Feeds are combined into one timetable (ids prefixed by feed name when there are several).
    Unmatched stops are listed in the first report that owns them.
    """
    with tempfile.TemporaryDirectory(prefix="advisor-feeds-") as downloads:
        local = _local_paths(paths, Path(downloads))
        loaded = [read_feed(path, progress=progress) for path in local]
    timetable = combine([tt for tt, _ in loaded])
    reports = tuple(report for _, report in loaded)
    explicit = read_stop_mapping(mapping) if mapping else {}
    if len(loaded) > 1:
        # The mapping names plain stop ids; with several feeds they carry a feed prefix.
        explicit = {
            f"{feed}:{stop}": station
            for stop, station in explicit.items()
            for feed in timetable.feed_ids
        }
    match = match_stops(timetable, network, explicit)
    timetable = timetable.with_stations(match.station_by_place)
    _note_matches(timetable, reports, match)
    if out is not None:
        save_timetable(timetable, out)
        log.info("timetable with %d trips written to %s", timetable.trip_count, out)
    return ImportOutcome(timetable, reports, match, out)


def _local_paths(paths: Sequence, folder: Path) -> list[Path]:
    """Paths as given; URLs downloaded into *folder* first (one session for all)."""
    urls = [p for p in paths if is_url(str(p))]
    if not urls:
        return [Path(p) for p in paths]
    fetcher = FeedFetcher()
    try:
        return [fetcher.fetch(str(p), folder) if is_url(str(p)) else Path(p) for p in paths]
    finally:
        fetcher.close()


def _note_matches(timetable: Timetable, reports: Sequence[FeedReport], match: StopMatch) -> None:
    by_feed = {report.feed_id: report for report in reports}
    single = reports[0] if len(reports) == 1 else None
    for place, method in match.method_by_place.items():
        _report_for(timetable, place, by_feed, single).matched_by[method] += 1
    for place in match.unmatched:
        report = _report_for(timetable, place, by_feed, single)
        report.unmatched_stops.append(f"{timetable.stop_ids[place]} {timetable.stop_names[place]}")


def _report_for(timetable, place, by_feed, single) -> FeedReport:
    if single is not None:
        return single
    return by_feed[timetable.stop_ids[place].split(":", 1)[0]]
