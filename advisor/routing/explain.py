"""Plain one-sentence explanations and coded notices, in Ukrainian and English.

Wording rules: never call a route "safe" (the service only knows what was flagged); say
which part is flagged, at what level, since when and on whose word.

Examples
--------
>>> from datetime import UTC
>>> from advisor.risk.model import Flag, LineTarget
>>> f = Flag("f", RiskLevel.HIGH, LineTarget("x"), "Обстріли", "Strikes", "Укрзалізниця", "ops",
...          active_from=datetime(2026, 3, 12, 6, tzinfo=UTC))
>>> describe_flag(f, None, "en")
'line x, flagged high risk since 12.03 by Укрзалізниця'
"""

from __future__ import annotations

from datetime import date, datetime

from advisor.network.geo import KYIV_TZ as KYIV
from advisor.network.model import LinkSource, Mode, Network
from advisor.network.oblasts import OBLAST_NAMES
from advisor.risk.geography import (
    OCCUPIED_BAND,
    OccupiedPlace,
    badge,
    describe_war_flag,
    is_war_flag,
)
from advisor.risk.model import Flag, RiskLevel
from advisor.routing.model import DataFreshness, Notice, NoticeCode, Option, OptionKind, Verdict

__all__ = [
    "alert_notices",
    "bus_data_notices",
    "bus_sources",
    "describe_flag",
    "explain",
    "format_time",
    "freshness_notices",
    "leg_badges",
    "notice",
    "occupied_notices",
]

LEVEL_NAMES = {
    RiskLevel.ADVISORY: ("з інформаційним попередженням", "with an advisory"),
    RiskLevel.ELEVATED: ("як підвищений ризик", "elevated risk"),
    RiskLevel.HIGH: ("як високий ризик", "high risk"),
    RiskLevel.SUSPENDED: ("як закрите для руху", "suspended"),
}


def describe_flag(flag: Flag, network: Network | None, locale: str) -> str:
    """'<place>, flagged <level> since <date> by <source>' in *locale* (``uk`` or ``en``).

    The Ukrainian place is in the accusative ("перетинає ділянку …", "через Сумську область").
    A flag of the war map says it is the baseline from geography, not an operator's flag.
    """
    if is_war_flag(flag):
        return describe_war_flag(flag, locale)
    alert = flag.extra.get("air_alert")
    if alert is not None:  # an alert is described by its place, kind and start, not a level
        reason = flag.reason(locale).split(";")[0]
        return f"район тривоги — {reason}" if locale == "uk" else f"an alert area — {reason}"
    place = _place(flag, network, locale)
    level = LEVEL_NAMES[flag.level][0 if locale == "uk" else 1]
    since = flag.since
    if locale == "uk":
        text = f"{place} — позначено {level}"
        if since is not None:
            text += f" з {_day(since)}"
        return f"{text}, джерело: {flag.source}"
    text = f"{place}, flagged {level}"
    if since is not None:
        text += f" since {_day(since)}"
    return f"{text} by {flag.source}"


def explain(
    option: Option, fastest: Option | None, network: Network | None
) -> tuple[str, str]:
    """The (Ukrainian, English) sentence for *option*; *fastest* is the fastest option.

    One catalogue for every back-end: estimated and timetabled options are explained by the
    same sentences.
    """
    uk, en = _explain(option, fastest, network)
    return _full_stop(uk), _full_stop(en)


def _full_stop(sentence: str) -> str:
    """One full stop at the end, even after a name ending in a dot ("до Харків-Пас.").

    >>> _full_stop("Не радимо: маршрут перетинає Харків-Пас..")
    'Не радимо: маршрут перетинає Харків-Пас.'
    """
    while sentence.endswith(".."):
        sentence = sentence[:-1]
    return sentence


def _explain(option, fastest, network) -> tuple[str, str]:
    worst = option.flags[0] if option.flags else None
    if option.verdict is Verdict.NOT_ADVISED:
        return _not_advised(option, worst, network)
    if option.kind is OptionKind.RECOMMENDED:
        return _recommended(option, worst, fastest, network)
    if worst is None and option.risk_unknown:
        return _UNKNOWN_RISK
    if worst is not None:
        return (
            f"Можливий варіант: маршрут проходить через {describe_flag(worst, network, 'uk')}.",
            f"Possible: the route passes {describe_flag(worst, network, 'en')}.",
        )
    return (
        "Можливий варіант без позначених ризиків, довший за рекомендований або іншим транспортом.",
        "Possible: crosses no flagged part; longer than the recommended one or by other means.",
    )


_UNKNOWN_RISK = (
    "Можливий варіант з обережністю: частину зупинок не зіставлено зі станціями мережі, "
    "ризик там невідомий.",
    "Possible with caution: some stops are not matched to network stations, so the risk "
    "there is unknown.",
)


def _not_advised(option, worst, network) -> tuple[str, str]:
    lead = ("Найменш ризиковий варіант, але не радимо", "Least risky option, but not advised")
    if option.kind is not OptionKind.LEAST_RISKY:
        lead = ("Не радимо", "Not advised")
    if worst is None:  # nothing flagged, but part of the trip cannot be placed
        return (
            f"{lead[0]}: частину зупинок не зіставлено зі станціями мережі, ризик там невідомий.",
            f"{lead[1]}: some stops are not matched to network stations; the risk there is "
            "unknown.",
        )
    return (
        f"{lead[0]}: маршрут перетинає {describe_flag(worst, network, 'uk')}.",
        f"{lead[1]}: the route crosses {describe_flag(worst, network, 'en')}.",
    )


def _recommended(option, worst, fastest, network) -> tuple[str, str]:
    # Name a flag the recommended option really avoids; one it crosses too is no reason.
    avoided = next(
        (
            flag
            for flag in (fastest.flags if fastest is not None else ())
            if flag not in option.flags
        ),
        None,
    )
    if fastest is not None and fastest.verdict is Verdict.NOT_ADVISED and avoided is not None:
        return (
            f"Рекомендовано, бо швидший маршрут перетинає {describe_flag(avoided, network, 'uk')}.",
            "Recommended because the faster route crosses "
            f"{describe_flag(avoided, network, 'en')}.",
        )
    if worst is not None:
        return (
            "Рекомендовано із застереженням: маршрут проходить через "
            f"{describe_flag(worst, network, 'uk')}.",
            f"Recommended with caution: the route passes {describe_flag(worst, network, 'en')}.",
        )
    if option.risk_unknown:
        return (
            "Рекомендовано із застереженням: частину зупинок не зіставлено зі станціями мережі, "
            "ризик там невідомий.",
            "Recommended with caution: some stops are not matched to network stations, so the "
            "risk there is unknown.",
        )
    return (
        "Рекомендовано: найшвидший варіант, що не перетинає жодної позначеної ділянки.",
        "Recommended: the quickest option that crosses no flagged part of the network.",
    )


def bus_sources(leg, network: Network | None) -> frozenset[LinkSource]:
    """Where the links of an estimated bus *leg* come from; empty for other legs.

    A leg whose links the network does not know counts as 2019 register data: that is the
    only other source of bus links, and pre-war data must never pass for current.
    """
    if leg.mode is not Mode.BUS or not leg.is_estimated:
        return frozenset()
    links = network.links if network is not None else {}
    found = frozenset(links[lid].source for lid in leg.link_ids if lid in links)
    return found or frozenset({LinkSource.BUS_REGISTER_2019})


def bus_data_notices(legs, network: Network | None) -> list[Notice]:
    """The notices saying where the bus data of *legs* comes from (2019 register, press).

    Hand-added buses are railway replacement buses of 2026: calling them 2019 data would be
    as wrong as calling 2019 buses current.
    """
    sources = frozenset().union(*(bus_sources(leg, network) for leg in legs))
    codes = (
        (LinkSource.BUS_REGISTER_2019, NoticeCode.BUS_DATA_2019),
        (LinkSource.HAND_ADDED, NoticeCode.REPLACEMENT_BUS),
    )
    return [notice(code) for source, code in codes if source in sources]


def freshness_notices(freshness: DataFreshness) -> list[Notice]:
    """The notice saying the flags are unreadable or out of date; none when they are fresh.

    When the time of the last update is unknown (no read ever succeeded: only the standing
    flags apply) the sentence says so in words, never with a placeholder for the time.

    Examples
    --------
    >>> outage = DataFreshness(None, False, False, "v", "", flags_origin="baseline")
    >>> freshness_notices(outage)[0].message_en.split(", but ")[1]
    'when they were last updated is unknown. No flag does not mean no risk.'
    >>> freshness_notices(DataFreshness(None, False, True, "v", ""))
    []
    """
    return [*_flag_freshness_notices(freshness), *_alert_freshness_notices(freshness)]


def _flag_freshness_notices(freshness: DataFreshness) -> list[Notice]:
    if not freshness.flags_available:
        code = NoticeCode.RISK_DATA_UNAVAILABLE
    elif freshness.flags_stale:
        code = NoticeCode.RISK_DATA_STALE
    else:
        return []
    if freshness.flags_updated_at is None:
        uk, en = _TIME_UNKNOWN_TEXT[code]
        return [Notice(code, uk, en, {"updated_at": None})]
    return [notice(code, updated_at=format_time(freshness.flags_updated_at))]


def occupied_notices(network: Network, risk_index, query) -> list[Notice]:
    """An ``occupied`` notice for each end of *query* that lies in occupied territory on the
    war map in force (a synthetic baseline flag of the ``occupied`` band covers it), naming
    the place and the map's date in both languages.
    """
    notices = []
    for end in dict.fromkeys((query.origin, query.destination)):
        flag = next(
            (f for f in risk_index.flags_at_station(end, query.depart_at)
             if is_war_flag(f) and f.extra.get("band") == OCCUPIED_BAND),
            None,
        )  # fmt: skip
        if flag is None:
            continue
        place = OccupiedPlace(
            end, _station_name(end, network, "uk"), _station_name(end, network, "en"),
            date.fromisoformat(flag.extra["map_date"]), str(flag.extra.get("map_source", "")),
        )  # fmt: skip
        notices.append(Notice(
            NoticeCode.OCCUPIED, place.notice("uk") + ".", place.notice("en") + ".",
            {"station_id": end, "map_date": flag.extra["map_date"],
             "map_source": place.map_source},
        ))  # fmt: skip
    return notices


def leg_badges(leg, locale: str) -> list[str]:
    """The war map's badges of *leg*: how far from the front line or a border its flagged part
    runs, with the map's date ("за 6 км від лінії фронту (мапа від 22.08.2026)")."""
    ids = (*leg.link_ids, *leg.station_ids)
    found = (badge(flag, ids, locale) for flag in leg.flags if is_war_flag(flag))
    return [text for text in found if text]
def _alert_freshness_notices(freshness: DataFreshness) -> list[Notice]:
    """"Alert data unavailable" while the alert feed is silent, "not connected" when the
    deployment has none (and says so); never "no alerts"."""
    if freshness.alerts_state == "off" and freshness.announce_alerts_off:
        return [notice(NoticeCode.ALERTS_NOT_CONNECTED)]
    if freshness.alerts_state != "unavailable":
        return []
    if freshness.alerts_updated_at is None:
        uk, en = _TIME_UNKNOWN_TEXT[NoticeCode.ALERT_DATA_UNAVAILABLE]
        return [Notice(NoticeCode.ALERT_DATA_UNAVAILABLE, uk, en, {"updated_at": None})]
    updated = format_time(freshness.alerts_updated_at)
    return [notice(NoticeCode.ALERT_DATA_UNAVAILABLE, updated_at=updated)]


def alert_notices(flags) -> list[Notice]:
    """One ``air_alert`` notice per alert among *flags* (those of the options' legs), naming
    the place and the start time: "Сумська область: повітряна тривога з 14:05; …".

    >>> from datetime import UTC
    >>> from advisor.risk.alerts import AlertPolicy, alert_flags, alert_from_dict
    >>> a = alert_from_dict({"id": 1, "location_title": "Сумська область",
    ...     "location_type": "oblast", "started_at": "2026-03-01T12:05:00Z",
    ...     "alert_type": "air_raid"})
    >>> alert_notices(alert_flags([a], None, AlertPolicy())[0])[0].message_en
    'Sumy oblast: air-raid alert since 14:05; trains may be held at stations.'
    """
    seen: dict[str, Notice] = {}
    for flag in flags:
        details = flag.extra.get("air_alert")
        if details is None or details["alert_id"] in seen:
            continue
        seen[details["alert_id"]] = Notice(
            NoticeCode.AIR_ALERT,
            _alert_sentence(flag.reason_uk, details, "uk"),
            _alert_sentence(flag.reason_en, details, "en"),
            dict(details),
        )
    return list(seen.values())


def _alert_sentence(reason: str, details: dict, locale: str) -> str:
    text = reason + "."
    if details.get("whole_oblast_for_part"):
        text += (
            " Межі частини області сервісу невідомі, тож попередження стоїть на всій області."
            if locale == "uk"
            else " The service does not know that part's boundary, so the whole oblast is marked."
        )
    return text


def notice(code: NoticeCode, **details) -> Notice:
    """The standard notice for *code* (messages below), with *details* attached.

    A ``tolerance`` detail is named in each message's language; ``reason`` picks a variant
    of the message (``ESTIMATED_TIMES`` with ``reason="no_timetable"``).

    >>> notice(NoticeCode.NO_SAFE_ROUTE, tolerance="balanced").message_uk.split("(")[1][:14]
    'збалансований)'
    """
    uk, en = _NOTICE_VARIANTS.get((code, details.get("reason")), _NOTICE_TEXT[code])
    uk_details, en_details = dict(details), dict(details)
    if "tolerance" in details:
        uk_details["tolerance"], en_details["tolerance"] = TOLERANCE_NAMES[details["tolerance"]]
    uk_text, en_text = uk.format(**uk_details), en.format(**en_details)
    return Notice(code, _full_stop(uk_text), _full_stop(en_text), dict(details))


TOLERANCE_NAMES = {
    "strict": ("суворий", "strict"),
    "balanced": ("збалансований", "balanced"),
    "accept-high": ("допускаю високий ризик", "accept high risk"),
}


_NOTICE_TEXT = {
    NoticeCode.NO_SAFE_ROUTE: (
        "Немає маршруту в межах обраного рівня ризику ({tolerance}). Найменш ризиковий показано "
        "лише для довідки — не радимо.",
        "No route within your risk tolerance ({tolerance}). The least risky one is shown for "
        "information only — not advised.",
    ),
    NoticeCode.NO_ROUTE: (
        "У мережі немає сполучення між цими пунктами (або його закрито).",
        "The network has no connection between these places (or it is suspended).",
    ),
    NoticeCode.SAME_ORIGIN_DESTINATION: (
        "Пункт відправлення і пункт призначення збігаються.",
        "Origin and destination are the same place.",
    ),
    NoticeCode.ONLY_RISKY_ROUTES: (
        "Усі знайдені маршрути перетинають позначені ділянки; перевірте попередження на кожному.",
        "Every route found crosses a flagged part; read the warnings on each.",
    ),
    NoticeCode.RISK_DATA_STALE: (
        "Дані про ризики застаріли (останнє оновлення: {updated_at}); відомі позначки враховано.",
        "Risk data is out of date (last update: {updated_at}); the known flags are applied.",
    ),
    NoticeCode.RISK_DATA_UNAVAILABLE: (
        "Дані про ризики зараз недоступні; враховано останні відомі ({updated_at}). "
        "Відсутність позначки не означає відсутність ризику.",
        "Risk data is unavailable right now; the last known flags ({updated_at}) are applied. "
        "No flag does not mean no risk.",
    ),
    NoticeCode.ESTIMATED_TIMES: (
        "Час у дорозі орієнтовний (оцінка за відстанню), це не розклад.",
        "Travel times are estimates from distance, not a timetable.",
    ),
    NoticeCode.BUS_DATA_2019: (
        "Автобусні сполучення взято з реєстру 2019 року (довоєнні дані); перевірте у перевізника.",
        "Bus links come from the 2019 register (pre-war data); check with the carrier.",
    ),
    NoticeCode.REPLACEMENT_BUS: (
        "Автобус замість поїзда (за повідомленнями преси на початку 2026 р.): маршрут і час "
        "орієнтовні; уточнюйте в Укрзалізниці.",
        "Railway replacement bus (reported in the press in early 2026): route and times are "
        "estimates; check with Ukrzaliznytsia.",
    ),
    NoticeCode.OCCUPIED: (  # the usual text names the place: see occupied_notices()
        "Пункт цієї поїздки — тимчасово окупована територія; сполучення немає.",
        "A place of this trip is temporarily occupied territory; there is no service.",
    ),
    NoticeCode.TOO_MANY_TRANSFERS: (
        "Варіанти з більш ніж {max_transfers} пересадками не показано.",
        "Options with more than {max_transfers} transfers are not shown.",
    ),
    NoticeCode.ORIGIN_NOT_FOUND: (
        "Пункт відправлення «{text}» не знайдено.",
        "Origin “{text}” was not found.",
    ),
    NoticeCode.DESTINATION_NOT_FOUND: (
        "Пункт призначення «{text}» не знайдено.",
        "Destination “{text}” was not found.",
    ),
}

_NOTICE_TEXT[NoticeCode.ALERT_DATA_UNAVAILABLE] = (
    "Дані про повітряні тривоги зараз недоступні (останні отримано {updated_at}); враховано "
    "останні відомі. Відсутність тривоги у відповіді не означає, що тривоги немає.",
    "Air-raid alert data is unavailable right now (last received {updated_at}); the last known "
    "alerts are applied. No alert shown does not mean there is none.",
)
_NOTICE_TEXT[NoticeCode.ALERTS_NOT_CONNECTED] = (
    "Дані про повітряні тривоги до сервісу не підключено: відповідь їх не враховує. "
    "Перевіряйте тривоги в офіційних джерелах.",
    "Air-raid alert data is not connected to this service: answers do not take alerts into "
    "account. Check alerts with official sources.",
)
# The generic sentence; answers carry one notice per alert built by alert_notices().
_NOTICE_TEXT[NoticeCode.AIR_ALERT] = (
    "Маршрут проходить через місце, де зараз тривога; потяги можуть затримувати на станціях.",
    "The route passes a place under an alert now; trains may be held at stations.",
)

# Variants of a notice chosen by its ``reason`` detail.
_NOTICE_VARIANTS = {
    (NoticeCode.ESTIMATED_TIMES, "no_timetable"): (
        "Розклад не охоплює цю поїздку: час оцінено за мережею, це не розклад.",
        "No timetable covers this trip: times are estimated from the network, not a timetable.",
    ),
}

# The same notices when no update time is known: the sentence says so instead of a dash.
_TIME_UNKNOWN_TEXT = {
    NoticeCode.ALERT_DATA_UNAVAILABLE: (
        "Дані про повітряні тривоги недоступні: стрічка тривог ще не відповіла. Відсутність "
        "тривоги у відповіді не означає, що тривоги немає.",
        "Air-raid alert data is unavailable: the alert feed has not answered yet. No alert "
        "shown does not mean there is none.",
    ),
    NoticeCode.RISK_DATA_STALE: (
        "Дані про ризики застаріли, час останнього оновлення невідомий; відомі позначки враховано.",
        "Risk data is out of date and the time of its last update is unknown; the known flags "
        "are applied.",
    ),
    NoticeCode.RISK_DATA_UNAVAILABLE: (
        "Дані про ризики зараз недоступні; враховано останні відомі позначки, але час їх "
        "останнього оновлення невідомий. Відсутність позначки не означає відсутність ризику.",
        "Risk data is unavailable right now; the last known flags are applied, but when they "
        "were last updated is unknown. No flag does not mean no risk.",
    ),
}


def _place(flag: Flag, network: Network | None, locale: str) -> str:
    target = flag.target
    uk = locale == "uk"
    if target.kind == "line":
        return ("лінію " if uk else "line ") + _line_name(target.line_id, network, locale)
    if target.kind == "section":
        a = _station_name(target.from_station, network, locale)
        b = _station_name(target.to_station, network, locale)
        return f"ділянку {a}–{b}" if uk else f"the {a}–{b} section"
    if target.kind == "station":
        name = _station_name(target.station_id, network, locale)
        return f"станцію {name}" if uk else f"station {name}"
    if target.kind == "oblast":
        names = OBLAST_NAMES.get(target.oblast_iso, (target.oblast_iso, target.oblast_iso))
        return _accusative(names[0]) if uk else names[1]
    if target.kind == "bus_link":
        a = _station_name(target.from_station, network, locale)
        b = _station_name(target.to_station, network, locale)
        return f"автобусне сполучення {a}–{b}" if uk else f"the {a}–{b} bus link"
    if target.kind == "circle":
        return (
            f"район радіусом {target.radius_km:g} км"
            if uk
            else f"an area of {target.radius_km:g} km radius"
        )
    return "позначений район" if uk else "a flagged area"


def _accusative(oblast_uk: str) -> str:
    """'Сумська область' → 'Сумську область' (every oblast adjective ends in -ка)."""
    return oblast_uk.replace("ка область", "ку область").replace(
        "Автономна Республіка", "Автономну Республіку"
    )


def _line_name(line_id: str, network: Network | None, locale: str) -> str:
    line = network.lines.get(line_id) if network is not None else None
    return line.display_name(locale) if line is not None else line_id


def _station_name(station_id: str, network: Network | None, locale: str) -> str:
    station = network.stations.get(station_id) if network is not None else None
    return station.display_name(locale) if station is not None else station_id


def _day(moment: datetime) -> str:
    return moment.astimezone(KYIV).strftime("%d.%m")


def format_time(moment: datetime | None) -> str:
    """A time as Kyiv local 'YYYY-MM-DD HH:MM', or a dash."""
    if moment is None:
        return "—"
    return moment.astimezone(KYIV).strftime("%Y-%m-%d %H:%M")
