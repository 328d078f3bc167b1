"""The answer builder: candidate journeys from any back-end become one kind of answer.

Every back-end (the estimated graph search, the timetable scan) only finds candidate
journeys, each for a slot of the answer (:class:`~advisor.routing.model.OptionKind`). This
module is the one place that turns them into options: it judges each with
:func:`advisor.routing.policy.judge`, shows one trip once, explains each option with the
sentence catalogue (:mod:`advisor.routing.explain`) and attaches the notices, each at most
once. A rule that exists twice will disagree; so there is one.

Examples
--------
>>> from datetime import UTC, datetime
>>> from advisor.network.model import Mode, TimeSource
>>> leg = Leg(Mode.RAIL, "a", "b", ("a", "b"), ("ab",), (), 40.0, 60.0, TimeSource.SPEED_MODEL)
>>> query = Query("a", "b", datetime(2026, 3, 1, tzinfo=UTC))
>>> advice = build_advice(query, [Candidate(OptionKind.RECOMMENDED, (leg,)),
...                               Candidate(OptionKind.FASTEST, (leg,))])
>>> [(o.kind.value, o.verdict.value, o.also_kinds) for o in advice.options]
[('recommended', 'advised', (<OptionKind.FASTEST: 'fastest'>,))]
>>> [n.code.value for n in advice.notices]
['estimated_times']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from advisor.network.model import Mode, Network
from advisor.risk.model import RiskLevel
from advisor.routing.explain import (
    alert_notices,
    bus_data_notices,
    explain,
    freshness_notices,
    notice,
)
from advisor.routing.model import (
    Advice,
    Candidate,
    DataFreshness,
    Notice,
    NoticeCode,
    Option,
    OptionKind,
    Query,
    Verdict,
)
from advisor.routing.policy import OVERLAP_LIMIT, judge

__all__ = ["build_advice", "default_freshness"]


def build_advice(
    query: Query,
    candidates: Iterable[Candidate],
    *,
    network: Network | None = None,
    freshness: DataFreshness | None = None,
    notices: Iterable[Notice] = (),
    no_timetable: bool = False,
) -> Advice:
    """The whole answer for *query* from *candidates* (in display order).

    *notices* are those the back-end raised while searching (no route, …). *no_timetable*
    says a timetable exists but does not cover this trip, so the estimated-times notice
    says that rather than only "estimates".
    """
    freshness = freshness or default_freshness(network)
    candidates = [_with_line_facts(c, network) for c in candidates]
    allowed = [c for c in candidates if _transfers(c) <= query.max_transfers]
    found = list(notices)
    if len(allowed) < len(candidates):
        found.append(notice(NoticeCode.TOO_MANY_TRANSFERS, max_transfers=query.max_transfers))
    if any(c.kind is OptionKind.LEAST_RISKY for c in allowed):
        found.append(notice(NoticeCode.NO_SAFE_ROUTE, tolerance=query.tolerance.value))
    options = _options(allowed, query, network)
    all_notices = [
        *freshness_notices(freshness),
        *found,
        *_content_notices(options, network, no_timetable),
    ]
    return Advice(query, tuple(options), _once(all_notices), freshness)


def default_freshness(network: Network | None) -> DataFreshness:
    """Freshness for an answer planned without a flag source (library use, tests)."""
    meta = network.metadata if network is not None else {}
    return DataFreshness(
        None, False, True, str(meta.get("version", "")), str(meta.get("built_at", ""))
    )


# --- options -----------------------------------------------------------------------------


def _with_line_facts(candidate: Candidate, network: Network | None) -> Candidate:
    """*candidate* whose legs name the hubs they pass and, for an estimated rail leg, where
    it leaves one named line for another with no known through service (a timetabled leg is
    one real train: no change inside it)."""
    if network is None:
        return candidate
    legs = tuple(_leg_facts(leg, network) for leg in candidate.legs)
    return replace(candidate, legs=legs)


def _leg_facts(leg, network: Network):
    if leg.mode is Mode.TRANSFER:
        return leg
    known = [sid for sid in leg.station_ids if sid in network.stations]
    changes = ()
    if leg.mode is Mode.RAIL and not leg.trip_id and all(i in network.links for i in leg.link_ids):
        found = network.line_changes(leg.station_ids, leg.link_ids)
        changes = tuple(dict.fromkeys(c.station_id for c in found if not c.through))
    return replace(leg, via_ids=network.hubs_on(known), change_ids=changes)


def _options(candidates: Sequence[Candidate], query: Query, network: Network | None):
    options: list[Option] = []
    kept: list[Candidate] = []
    for candidate in candidates:
        verdict = _verdict(candidate, query)
        twin = _twin(candidate, verdict, kept, options, network)
        if twin is not None:
            earlier = options[twin]
            if candidate.kind not in (earlier.kind, *earlier.also_kinds):
                options[twin] = replace(earlier, also_kinds=(*earlier.also_kinds, candidate.kind))
            continue
        kept.append(candidate)
        options.append(
            Option(candidate.kind, verdict, candidate.legs, "", "",
                   risk_unknown=candidate.risk_unknown)
        )  # fmt: skip
    fastest = next((o for o in options if OptionKind.FASTEST in (o.kind, *o.also_kinds)), None)
    return [_explained(option, fastest, network) for option in options]


def _verdict(candidate: Candidate, query: Query) -> Verdict:
    if candidate.kind is OptionKind.LEAST_RISKY:
        return Verdict.NOT_ADVISED  # nothing fit the tolerance: never advised
    worst = max((f.level for leg in candidate.legs for f in leg.flags), default=None)
    return judge(
        worst,
        query.tolerance,
        recommended=candidate.kind is OptionKind.RECOMMENDED,
        unknown=candidate.risk_unknown,
    )


def _twin(candidate, verdict, kept, options, network) -> int | None:
    """Index of an earlier option that *candidate* repeats exactly (one trip is shown once,
    with the earlier slot's verdict), or mostly repeats with the same verdict (estimated
    trips only: two timetabled departures on one line are two real choices)."""
    for i, (other, option) in enumerate(zip(kept, options, strict=True)):
        if other.identity == candidate.identity:
            return i
        if (
            option.verdict is verdict
            and not _timed(candidate)
            and not _timed(other)
            and _overlap(candidate, other, network) > OVERLAP_LIMIT
        ):
            return i
    return None


def _timed(candidate: Candidate) -> bool:
    return any(leg.departure is not None for leg in candidate.legs)


def _overlap(a: Candidate, b: Candidate, network: Network | None) -> float:
    """Shared minutes over the longer trip's minutes (1.0 for identical trips)."""
    if network is None:
        return 0.0
    links = network.links

    def minutes(candidate):
        return {
            lid: links[lid].travel_minutes
            for leg in candidate.legs
            for lid in leg.link_ids
            if lid in links
        }

    first, second = minutes(a), minutes(b)
    shared = sum(first[lid] for lid in first.keys() & second.keys())
    longest = max(sum(first.values()), sum(second.values()))
    return shared / longest if longest else 1.0


def _transfers(candidate: Candidate) -> int:
    riding = [leg for leg in candidate.legs if leg.mode is not Mode.TRANSFER]
    return max(0, len(riding) - 1) + sum(len(leg.change_ids) for leg in riding)


def _explained(option: Option, fastest: Option | None, network: Network | None) -> Option:
    uk, en = explain(option, fastest, network)
    return replace(option, explanation_uk=uk, explanation_en=en)


# --- notices -------------------------------------------------------------------------------


def _content_notices(
    options: Sequence[Option], network: Network | None, no_timetable: bool
) -> list[Notice]:
    notices = alert_notices(flag for option in options for flag in option.flags)
    if options and all(
        o.risk_level is not None and o.risk_level >= RiskLevel.ELEVATED for o in options
    ):
        notices.append(notice(NoticeCode.ONLY_RISKY_ROUTES))
    legs = [leg for option in options for leg in option.legs if leg.mode is not Mode.TRANSFER]
    if any(leg.is_estimated for leg in legs):
        code = NoticeCode.ESTIMATED_TIMES
        notices.append(notice(code, reason="no_timetable") if no_timetable else notice(code))
    notices.extend(bus_data_notices(legs, network))
    return notices


def _once(notices: Iterable[Notice]) -> tuple[Notice, ...]:
    """Each notice once (by code and text), the first one kept."""
    seen: dict[tuple, Notice] = {}
    for item in notices:
        seen.setdefault((item.code, item.message_en), item)
    return tuple(seen.values())
