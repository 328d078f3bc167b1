"""Partner GTFS-realtime Service Alerts feeds: fetched, parsed, matched, proposed as drafts.

The reverse of :mod:`advisor.feeds.alerts` (which publishes our flags as alerts):

- :class:`PartnerFeedClient`: one ``requests`` Session per feed (:func:`retrying_session`
  without retries inside a poll: the poller's backoff is the retry, as for air-raid alerts),
  a (connect, read) timeout on every call, ``If-None-Match`` / ``If-Modified-Since`` once the
  feed's content is known, a size cap (:data:`MAX_FEED_BYTES`) read as a stream, and the
  feed's key (``Authorization: Bearer`` or the feed's own header) on every request. The key
  is never in a message: a 401/403 names the variable to check, not its value.
- :func:`read_feed_message`: the body as a ``FeedMessage``; malformed protobuf or a
  ``DIFFERENTIAL`` feed (this reader needs the full dataset) is refused as a feed failure.
- :class:`EntityMatcher`: an ``informed_entity`` → a flag target. ``stop_id`` through the
  feed's stop mapping, or directly when it is one of our station ids → :class:`StationTarget`
  (a stop is more precise than its route, so it wins when both are given); ``route_id`` alone
  through the feed's route → line mapping → :class:`LineTarget`. Two stops on one route
  (the ``route_id`` in both stop selectors, or in a third selector of the alert) whose line
  holds both stations → one :class:`SectionTarget` between them instead of two stations;
  when the line does not hold both, the stations are flagged and the summary says why
  (``section_fallback``). Trip, agency-only and
  route-type selectors, and ids no mapping knows, match nothing: they are reported, never
  dropped silently, and never become a flag.
- :func:`proposals`: each alert entity → one :class:`Proposal` per distinct target it matched
  (a flag has one target), plus one unmatched proposal listing what matched nothing. The
  mapping, in GTFS-realtime words:

  - level: ``effect`` ``NO_SERVICE`` → suspended; else ``severity_level`` ``SEVERE`` → high,
    ``WARNING`` → elevated, ``INFO`` → advisory; without a severity, ``REDUCED_SERVICE``,
    ``SIGNIFICANT_DELAYS`` and ``DETOUR`` → elevated and any other effect → advisory. It is a
    draft: the operator sets the level that is published;
  - window: the ``active_period`` in force at the poll, else the next one; an unset side is
    open. When every period has ended the entity is no longer *live* (its flag is proposed
    for withdrawal);
  - reasons: ``header_text`` and ``description_text`` in Ukrainian and English (a
    translation without a language counts for both), control characters replaced;
  - source: ``"<feed> GTFS-rt, entity <id>"``.

``fingerprint`` is a digest of what a proposal would write, so an unchanged entity is
recognised on the next poll and never drafted twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2

from advisor.feeds.fetch import read_capped, retry_after_seconds, retrying_session
from advisor.feeds.polling import LeasedPoller, PolledFeedFailed, PollOutcome
from advisor.network.model import Network
from advisor.risk.model import (
    LineTarget,
    RiskLevel,
    SectionTarget,
    StationTarget,
    Target,
    utcnow,
)
from advisor.risk.parse import (
    MAX_REASON_CHARS,
    MAX_SOURCE_CHARS,
    line_station_ids,
    target_to_dict,
)

__all__ = [
    "MAX_FEED_BYTES",
    "EntityMatcher",
    "PartnerFeedClient",
    "PartnerFeedFailed",
    "PartnerFeedPoller",
    "Proposal",
    "lease_name",
    "proposals",
    "read_feed_message",
]

log = logging.getLogger(__name__)

MAX_FEED_BYTES = 8 * 1024 * 1024
"""Largest feed body read (a national Service Alerts feed is a few hundred kB)."""
CONNECT_TIMEOUT_SECONDS = 5.0

_Alert = gtfs_realtime_pb2.Alert
_ELEVATED_EFFECTS = frozenset({_Alert.REDUCED_SERVICE, _Alert.SIGNIFICANT_DELAYS, _Alert.DETOUR})
_SEVERITY_LEVELS = {
    _Alert.SEVERE: RiskLevel.HIGH,
    _Alert.WARNING: RiskLevel.ELEVATED,
    _Alert.INFO: RiskLevel.ADVISORY,
}


def lease_name(feed_name: str) -> str:
    """The feed's row in the store's feed table (lease and health): ``partner:<name>``."""
    return f"partner:{feed_name}"


class PartnerFeedFailed(PolledFeedFailed):
    """The partner feed gave no usable answer."""

    feed_field = "partner_feed"


# --- fetching ------------------------------------------------------------------------------


class PartnerFeedClient:
    """``GET`` one partner feed's URL; the body as bytes, or None when unchanged.

    Parameters
    ----------
    name, url : str
        The feed (see :class:`advisor.settings.PartnerFeed`).
    timeout_seconds : float
        Read timeout; the connect timeout is at most :data:`CONNECT_TIMEOUT_SECONDS`.
    max_bytes : int
        Bodies larger than this are refused.
    auth_headers : mapping, optional
        The header carrying the feed's key (:meth:`advisor.settings.PartnerFeed.auth_headers`).
    token_env : str
        The variable the key came from, named when the feed refuses it.
    """

    def __init__(self, name: str, url: str, *, timeout_seconds: float = 10.0,
                 max_bytes: int = MAX_FEED_BYTES, auth_headers: Mapping[str, str] | None = None,
                 token_env: str = ""):  # fmt: skip
        self.name = name
        self.url = url
        self.timeout = (min(CONNECT_TIMEOUT_SECONDS, timeout_seconds), timeout_seconds)
        self.max_bytes = max_bytes
        self.token_env = token_env
        self.session = retrying_session(f"partner alerts {name}", 0, 0.0)
        self.session.headers["Accept"] = "application/x-protobuf, application/octet-stream"
        self.session.headers.update(auth_headers or {})
        # requests drops Authorization when a redirect leaves the host, but not another
        # header: a key sent under its own header is never carried across a redirect.
        self.follow_redirects = not (set(auth_headers or {}) - {"Authorization"})
        self._validators: dict[str, str] = {}

    def fetch(self, conditional: bool) -> bytes | None:
        """The feed body, or None for 304 Not Modified (asked only when *conditional*).
        Raises :class:`PartnerFeedFailed` naming what went wrong."""
        headers = dict(self._validators) if conditional else {}
        try:
            with self.session.get(self.url, headers=headers, timeout=self.timeout, stream=True,
                                  allow_redirects=self.follow_redirects) as response:  # fmt: skip
                if response.status_code == 304:
                    return None
                if response.is_redirect:
                    raise PartnerFeedFailed(
                        f"partner feed {self.url} redirects to {response.headers['Location']}; "
                        "a key sent under its own header is not carried across a redirect: "
                        "configure the final url", status=response.status_code)  # fmt: skip
                self._check_status(response)
                body = read_capped(response, self.max_bytes,
                                   lambda: PartnerFeedFailed(self._too_large()))
        except requests.Timeout as err:
            raise PartnerFeedFailed(f"partner feed {self.url} did not answer in time") from err
        except requests.RequestException as err:
            raise PartnerFeedFailed(f"partner feed {self.url} could not be read: {err}") from err
        self._validators = {name: response.headers[header] for header, name in
                            (("ETag", "If-None-Match"), ("Last-Modified", "If-Modified-Since"))
                            if response.headers.get(header)}  # fmt: skip
        return body

    def _check_status(self, response) -> None:
        try:
            response.raise_for_status()
        except requests.HTTPError as err:
            raise PartnerFeedFailed(
                f"partner feed {self.url} answered HTTP {response.status_code}"
                + self._refused(response.status_code),
                status=response.status_code, retry_after=retry_after_seconds(response),
            ) from err  # fmt: skip

    def _refused(self, status: int) -> str:
        """What to check when the feed refuses the request (the variable, never its value)."""
        if status not in (401, 403):
            return ""
        word = "unauthorized" if status == 401 else "forbidden"
        if self.token_env:
            return f" {word} — check the token in ${self.token_env}"
        return f" {word} — the feed needs a key: set token_env for feed {self.name}"

    def _too_large(self) -> str:
        return f"partner feed {self.url} is larger than {self.max_bytes} bytes"

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()


def read_feed_message(body: bytes, url: str = "feed") -> gtfs_realtime_pb2.FeedMessage:
    """*body* as a full-dataset ``FeedMessage``; raises :class:`PartnerFeedFailed`."""
    message = gtfs_realtime_pb2.FeedMessage()
    try:
        message.ParseFromString(body)
    except (DecodeError, ValueError) as err:
        raise PartnerFeedFailed(f"partner feed {url} is not GTFS-realtime protobuf: {err}") from err
    if not message.header.gtfs_realtime_version:
        raise PartnerFeedFailed(f"partner feed {url} has no gtfs_realtime_version header")
    if message.header.incrementality == gtfs_realtime_pb2.FeedHeader.DIFFERENTIAL:
        raise PartnerFeedFailed(f"partner feed {url} is DIFFERENTIAL; a FULL_DATASET is needed")
    return message


# --- matching --------------------------------------------------------------------------------


class EntityMatcher:
    """``informed_entity`` selectors → flag targets on *network*.

    >>> from advisor.network.model import Station, StationKind
    >>> net = Network.build([Station("lozova", "Лозова", "Lozova", 48.9, 36.3, "UA-63",
    ...                              StationKind.RAIL_STATION)], [], [])
    >>> m = EntityMatcher(net, {"S1": "lozova"}, {})
    >>> m.match(_Alert().informed_entity.add(stop_id="S1"))
    (StationTarget(station_id='lozova'), '')
    >>> m.match(_Alert().informed_entity.add(route_id="R9"))
    (None, 'route_id R9 is not in the route mapping')
    """

    def __init__(self, network: Network, stops: Mapping[str, str], routes: Mapping[str, str]):
        self.network = network
        self.stops = stops
        self.routes = routes

    def match(self, selector) -> tuple[Target | None, str]:
        """``(target, "")`` or ``(None, why nothing matched)``."""
        if selector.stop_id:
            return self._stop(selector.stop_id)
        if selector.route_id:
            return self._route(selector.route_id)
        if selector.HasField("trip"):
            return None, "trip selectors are not matched (name the stops or the route)"
        return None, f"selector {_selector_text(selector)} names no stop or route"

    def _stop(self, stop_id: str) -> tuple[Target | None, str]:
        station_id = self.stops.get(stop_id)
        if station_id is None:
            if stop_id in self.network.stations:
                return StationTarget(stop_id), ""
            return None, f"stop_id {stop_id} is not in the stop mapping"
        if station_id not in self.network.stations:
            return None, f"stop_id {stop_id} maps to {station_id}, not a station of the network"
        return StationTarget(station_id), ""

    def _route(self, route_id: str) -> tuple[Target | None, str]:
        line_id = self.routes.get(route_id)
        if line_id is None:
            return None, f"route_id {route_id} is not in the route mapping"
        if line_id not in self.network.lines:
            return None, f"route_id {route_id} maps to line {line_id}, not on the network"
        return LineTarget(line_id), ""

    def match_section(self, selectors) -> tuple[SectionTarget | None, frozenset[int], str]:
        """Two stop selectors on one route → the section of its line between their stations.

        ``(section, indices of the selectors it stands for, "")``; ``(None, (), why)`` when
        the stops are on one route but no section can be made (*why* says so: the stations
        are then flagged one by one); ``(None, (), "")`` when the alert is no such pair.
        """
        stops = [(i, s) for i, s in enumerate(selectors) if s.stop_id]
        if len(stops) != 2:
            return None, frozenset(), ""
        route = _shared_route(selectors, stops)
        stations = [self._stop(s.stop_id)[0] for _, s in stops]
        if route is None or None in stations or stations[0] == stations[1]:
            return None, frozenset(), ""  # not a pair; unmatched stops are reported by match
        ids = [t.station_id for t in stations]
        pair = f"stops {stops[0][1].stop_id} and {stops[1][1].stop_id} on route_id {route}"
        line, why = self._route(route)
        if line is None:
            return None, frozenset(), f"{pair}: {why}; flagged as stations"
        on_line = line_station_ids(self.network.lines[line.line_id], self.network)
        off = [station for station in ids if station not in on_line]
        if off:
            return None, frozenset(), (f"{pair}: {', '.join(off)} not on line {line.line_id}; "
                                       "flagged as stations")  # fmt: skip
        order = self.network.lines[line.line_id].station_ids
        if all(station in order for station in ids):
            ids.sort(key=order.index)
        used = {i for i, _ in stops} | {i for i, s in enumerate(selectors)
                                        if not s.stop_id and s.route_id == route}  # fmt: skip
        return SectionTarget(line.line_id, ids[0], ids[1]), frozenset(used), ""


def _shared_route(selectors, stops) -> str | None:
    """The route both stops are on: named in both stop selectors, or in a route-only
    selector of the alert that neither stop selector contradicts; None when there is none."""
    named = {s.route_id for _, s in stops if s.route_id}
    if len(named) > 1:
        return None
    if len(named) == 1 and all(s.route_id for _, s in stops):
        return named.pop()
    third = {s.route_id for s in selectors if not s.stop_id and s.route_id}
    if len(third) == 1 and named <= third:
        return third.pop()
    return None


def _selector_text(selector) -> str:
    text = str(selector).replace("\n", " ").strip()
    return f"{{{text}}}" if text else "{}"


# --- proposals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """What one alert entity proposes for one target (``target`` None: it matched nothing).

    ``part`` tells the proposals of one entity apart (``station:kyiv``, ``line:…``,
    ``section:<line>:<from>:<to>``, ``unmatched``); ``flag`` holds the fields of the draft
    flag (the API's flag shape, no id); ``live`` is False once every active period has
    ended; ``summary`` is what the console shows (header, selectors, what matched and what
    did not, and why a stop pair is not a section).
    """

    entity_id: str
    part: str
    target: Target | None
    flag: dict | None
    live: bool
    fingerprint: str
    summary: dict = field(default_factory=dict, compare=False)


def proposals(
    message, feed_name: str, matcher: EntityMatcher, now: datetime
) -> tuple[list[Proposal], list[str]]:
    """The proposals of every alert entity of *message* at *now*, and one problem line per
    entity skipped (no alert, deleted) or selector that matched nothing."""
    found: list[Proposal] = []
    problems: list[str] = []
    for entity in message.entity:
        if not entity.id or not entity.HasField("alert") or entity.is_deleted:
            problems.append(f"entity {entity.id or '(no id)'} skipped: no alert or deleted")
            continue
        made = _entity_proposals(entity, feed_name, matcher, now)
        found.extend(made)
        problems.extend(
            f"entity {entity.id}: {why}" for p in made if p.target is None
            for why in p.summary["unmatched"]
        )  # fmt: skip
    return found, problems


def _entity_proposals(entity, feed_name: str, matcher: EntityMatcher, now) -> list[Proposal]:
    alert = entity.alert
    targets: dict[str, Target] = {}
    unmatched: list[str] = []
    section, used, not_section = matcher.match_section(alert.informed_entity)
    if section is not None:
        targets[_part(section)] = section
    for number, selector in enumerate(alert.informed_entity):
        if number in used:
            continue
        target, why = matcher.match(selector)
        if target is None:
            unmatched.append(why)
        else:
            targets.setdefault(_part(target), target)
    window, live = _window(alert, now)
    header = _texts(alert.header_text)
    summary = {"header_uk": header[0], "header_en": header[1], "unmatched": unmatched,
               "selectors": [_selector_text(s) for s in alert.informed_entity]}  # fmt: skip
    if not_section:
        summary["section_fallback"] = not_section
    made = [
        _proposal(entity.id, part, target,
                  _flag_fields(alert, feed_name, entity.id, target, window), live, summary)
        for part, target in sorted(targets.items())
    ]  # fmt: skip
    if unmatched or not targets:
        if not unmatched:
            unmatched.append("the alert has no informed_entity")
        made.append(_proposal(entity.id, "unmatched", None, None, live, summary))
    return made


def _proposal(entity_id, part, target, flag, live, summary) -> Proposal:
    # What the row stands for: the draft's fields, or (unmatched) what matched nothing.
    content = {"part": part, "flag": flag} if flag else {"unmatched": summary["unmatched"]}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode())
    return Proposal(entity_id, part, target, flag, live, digest.hexdigest(), summary)


def _part(target: Target) -> str:
    """The proposal's key within its entity (at most 120 characters, the store's column)."""
    if target.kind == "station":
        return f"station:{target.station_id}"
    if target.kind == "line":
        return f"line:{target.line_id}"
    part = f"section:{target.line_id}:{target.from_station}:{target.to_station}"
    if len(part) > 120:
        part = f"section:{hashlib.sha256(part.encode()).hexdigest()[:32]}"
    return part


def _flag_fields(alert, feed_name: str, entity_id: str, target: Target, window) -> dict:
    uk, en = _reasons(alert, feed_name, entity_id)
    start, end = window
    return {
        "level": _level(alert).value,
        "target": target_to_dict(target),
        "reason_uk": uk,
        "reason_en": en,
        "source": f"{feed_name} GTFS-rt, entity {entity_id}"[:MAX_SOURCE_CHARS],
        "active_from": start.isoformat() if start else None,
        "active_until": end.isoformat() if end else None,
    }


def _level(alert) -> RiskLevel:
    if alert.effect == _Alert.NO_SERVICE:
        return RiskLevel.SUSPENDED
    if alert.severity_level in _SEVERITY_LEVELS:
        return _SEVERITY_LEVELS[alert.severity_level]
    return RiskLevel.ELEVATED if alert.effect in _ELEVATED_EFFECTS else RiskLevel.ADVISORY


def _window(alert, now: datetime) -> tuple[tuple[datetime | None, datetime | None], bool]:
    """The active period in force at *now*, else the next one; and whether any is left."""
    periods = sorted(
        ((_moment(p.start), _moment(p.end)) for p in alert.active_period),
        key=lambda p: p[0] or datetime.min.replace(tzinfo=UTC),
    )
    if not periods:
        return (None, None), True
    left = [(start, end) for start, end in periods if end is None or now < end]
    if not left:
        return periods[-1], False
    start, end = left[0]
    if start is not None and end is not None and end <= start:
        end = None  # a partner's broken period must not refuse the whole entity
    return (start, end), True


def _moment(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _texts(translated) -> tuple[str, str]:
    """``(uk, en)`` of a TranslatedString; a translation without a language fills both."""
    by_language: dict[str, str] = {}
    for item in translated.translation:
        language = item.language.strip().lower().split("-")[0]
        by_language.setdefault(language or "", _clean(item.text))
    plain = by_language.get("", "")
    return by_language.get("uk") or plain, by_language.get("en") or plain


def _reasons(alert, feed_name: str, entity_id: str) -> tuple[str, str]:
    headers, descriptions = _texts(alert.header_text), _texts(alert.description_text)
    reasons = []
    for header, description in zip(headers, descriptions, strict=True):
        text = ". ".join(t.rstrip(".") for t in (header, description) if t)
        reasons.append(text[:MAX_REASON_CHARS])
    if not any(reasons):
        return (f"Сповіщення партнера {feed_name} ({entity_id}) без тексту",
                f"Partner alert {feed_name} ({entity_id}) without text")  # fmt: skip
    return reasons[0], reasons[1]


def _clean(text: str) -> str:
    """*text* with control characters (but line breaks) replaced by spaces, trimmed."""
    kept = (" " if unicodedata.category(c)[0] == "C" and c not in "\n" else c for c in text)
    return "".join(kept).strip()


# --- polling ---------------------------------------------------------------------------------


class PartnerFeedPoller(LeasedPoller):
    """Polls one partner feed (leased through the store) and hands its proposals to *sync*.

    *sync* is ``sync(feed_name, proposals, now) -> problems`` (the use case in
    :mod:`advisor.services.partner_feeds` that writes drafts). A failed fetch (HTTP error,
    malformed protobuf, a hang) changes nothing: the drafts stay as they were and the
    failure is recorded in the feed's health. A 304 re-runs *sync* with the entities read
    last, so an active period that ended since is still noticed.
    """

    thread_name = "partner-feed-poller"

    def __init__(self, client: PartnerFeedClient, matcher: EntityMatcher, store,
                 sync: Callable, *, poll_seconds: float = 60.0,
                 max_backoff_seconds: float = 600.0, clock=utcnow):  # fmt: skip
        super().__init__(store, poll_seconds=poll_seconds,
                         max_backoff_seconds=max_backoff_seconds, clock=clock)  # fmt: skip
        self.client = client
        self.matcher = matcher
        self.sync = sync
        self.lease_name = lease_name(client.name)
        self.timeout_seconds = client.timeout[1]
        self._message = None  # the last FeedMessage read by this process

    def _poll(self, now: datetime) -> PollOutcome:
        try:
            body = self.client.fetch(conditional=self._message is not None)
            if body is None and self._message is None:
                raise PartnerFeedFailed(f"partner feed {self.client.url} answered 304 to an "
                                        "unconditional request")  # fmt: skip
            message = self._message if body is None else read_feed_message(body, self.client.url)
        except PartnerFeedFailed as err:
            return self._failed(now, err)
        self._failures = 0
        found, problems = proposals(message, self.client.name, self.matcher, now)
        problems += self.sync(self.client.name, found, now)
        self.store.mark_unchanged(self.lease_name, now)  # answered (health: last success)
        self._message = message
        return PollOutcome(True, body is not None, "", tuple(problems), self.poll_seconds)
