"""Alerts become temporary, explained flags on the places the network can place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from advisor.errors import FeedError
from advisor.network.oblasts import OBLASTS
from advisor.risk.alerts import ALERT_TYPES, AlertPolicy, alert_flags, alert_from_dict
from advisor.risk.coverage import RiskIndex
from advisor.risk.model import OblastTarget, RiskLevel, StationTarget
from advisor.routing.model import NoticeCode, Query
from advisor.routing.planner import plan
from tests.feeds.alert_server import alert

NOW = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)

# Oblast names exactly as alerts.in.ua writes them (its client's location table).
API_OBLAST_NAMES = [
    "м. Київ", "м. Севастополь", "Волинська область", "Вінницька область",
    "Дніпропетровська область", "Донецька область", "Житомирська область",
    "Закарпатська область", "Запорізька область", "Київська область",
    "Кіровоградська область", "Луганська область", "Львівська область",
    "Миколаївська область", "Одеська область", "Полтавська область", "Рівненська область",
    "Сумська область", "Тернопільська область", "Харківська область", "Херсонська область",
    "Хмельницька область", "Черкаська область", "Чернівецька область",
    "Чернігівська область", "Івано-Франківська область", "Автономна Республіка Крим",
]  # fmt: skip


def test_every_oblast_the_api_names_is_placed():
    placed = {alert_from_dict(alert(oblast=name)).oblast_iso for name in API_OBLAST_NAMES}
    assert placed == set(OBLASTS)


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"id": 1, "location_type": "oblast", "started_at": "2026-11-30T12:00Z"}, "location_title"),
        (alert(location_type="planet"), "location_type"),
        (alert(started_at="yesterday"), "started_at"),
    ],
)
def test_bad_entries_are_refused_naming_the_field(entry, field):
    with pytest.raises(FeedError) as err:
        alert_from_dict(entry)
    assert err.value.field == field


def test_levels_by_type_and_alert_level():
    policy = AlertPolicy()
    level = lambda **kw: policy.level_of(alert_from_dict(alert(**kw)))  # noqa: E731
    assert level(alert_type="air_raid") is RiskLevel.ADVISORY
    assert level(alert_type="artillery_shelling", alert_level="red") is RiskLevel.ELEVATED
    assert level(alert_type="artillery_shelling", alert_level="yellow") is RiskLevel.ADVISORY
    assert level(alert_type="urban_fights") is RiskLevel.HIGH
    assert level(alert_type="something_new") is RiskLevel.ADVISORY  # never ignored
    assert set(ALERT_TYPES) == {"air_raid", "artillery_shelling", "urban_fights", "chemical",
                                "nuclear"}  # fmt: skip


def test_city_alert_covers_the_city_stations(shipped_network):
    city = alert_from_dict(alert(location_type="city", title="м. Суми"))
    flags, unplaced = alert_flags([city], shipped_network, AlertPolicy())
    assert not unplaced and flags
    assert all(isinstance(f.target, StationTarget) for f in flags)
    assert "sumy" in {f.target.station_id for f in flags}
    assert all(shipped_network.stations[f.target.station_id].oblast_iso == "UA-59" for f in flags)


def test_raion_alert_covers_its_oblast_and_says_it_is_a_part(shipped_network):
    raion = alert_from_dict(alert(location_type="raion", title="Шосткинський район"))
    (flag,), _ = alert_flags([raion], shipped_network, AlertPolicy())
    assert flag.target == OblastTarget("UA-59")
    assert flag.reason_uk.startswith("Шосткинський район (Сумська область): повітряна тривога")
    assert flag.extra["air_alert"]["whole_oblast_for_part"]


def test_unknown_oblast_is_unplaced():
    odd = alert_from_dict(alert(oblast="Нарнія"))
    assert alert_flags([odd], None, AlertPolicy()) == ((), (odd,))


def test_grace_period_after_the_end():
    ended = alert_from_dict(alert(finished_at="2026-11-30T12:20:00Z"))
    grace = timedelta(minutes=10)
    assert ended.in_force_at(datetime(2026, 11, 30, 12, 29, tzinfo=UTC), grace)
    assert not ended.in_force_at(datetime(2026, 11, 30, 12, 31, tzinfo=UTC), grace)
    (flag,), _ = alert_flags([ended], None, AlertPolicy(grace=grace))
    assert flag.active_until == datetime(2026, 11, 30, 12, 30, tzinfo=UTC)


def _advice(network, alerts, origin, destination, at=NOW):
    flags, _ = alert_flags([alert_from_dict(a) for a in alerts], network, AlertPolicy())
    return plan(network, RiskIndex.build(flags, network), Query(origin, destination, at))


def test_trip_into_an_oblast_under_alert_carries_the_notice_and_badge(shipped_network):
    advice = _advice(shipped_network, [alert(1)], "kyiv", "sumy")
    (note,) = [n for n in advice.notices if n.code is NoticeCode.AIR_ALERT]
    assert note.message_uk == (
        "Сумська область: повітряна тривога з 14:05; потяги можуть затримувати на станціях."
    )
    assert note.message_en.startswith("Sumy oblast: air-raid alert since 14:05")
    assert note.details["oblast_iso"] == "UA-59"
    for option in advice.options:
        in_sumy = [leg for leg in option.legs
                   if any(shipped_network.stations[s].oblast_iso == "UA-59"
                          for s in leg.station_ids)]  # fmt: skip
        assert in_sumy and all(any(f.id == "alert:1" for f in leg.flags) for leg in in_sumy)
    assert advice.recommended is not None  # advisory: informs, does not forbid


def test_trip_elsewhere_carries_no_alert(shipped_network):
    advice = _advice(shipped_network, [alert(1)], "kyiv", "lviv")
    assert not advice.has_notice(NoticeCode.AIR_ALERT)
    assert not any(f.id.startswith("alert:") for o in advice.options for f in o.flags)


def test_alert_over_after_grace_no_longer_marks(shipped_network):
    ended = alert(1, finished_at="2026-11-30T12:00:00Z")
    assert _advice(shipped_network, [ended], "kyiv", "sumy", at=NOW).has_notice(
        NoticeCode.AIR_ALERT
    ) is False
    during_grace = NOW - timedelta(minutes=25)
    assert _advice(shipped_network, [ended], "kyiv", "sumy", at=during_grace).has_notice(
        NoticeCode.AIR_ALERT
    )


def test_docstring_examples():
    import doctest

    import advisor.risk.alerts
    import advisor.routing.explain

    for module in (advisor.risk.alerts, advisor.routing.explain):
        result = doctest.testmod(module, verbose=False)
        assert result.attempted > 0 and result.failed == 0, module.__name__


@pytest.mark.parametrize(
    ("state", "updated_at", "expected"),
    [
        ("current", NOW, []),
        ("off", None, []),
        ("unavailable", NOW, ["alert_data_unavailable"]),
        ("unavailable", None, ["alert_data_unavailable"]),
    ],
)
def test_alert_data_unavailable_is_said_never_no_alerts(state, updated_at, expected):
    from advisor.routing.explain import freshness_notices
    from advisor.routing.model import DataFreshness

    fresh = DataFreshness(NOW, False, True, "v", "", alerts_state=state,
                          alerts_updated_at=updated_at)  # fmt: skip
    notices = freshness_notices(fresh)
    assert [n.code.value for n in notices] == expected
    for n in notices:
        assert "не означає, що тривоги немає" in n.message_uk
        assert "does not mean there is none" in n.message_en
        assert ("2026-11-30 14:30" in n.message_uk) is (updated_at is not None)


def test_an_ongoing_alert_marks_trips_within_the_horizon_only(shipped_network):
    policy = AlertPolicy(horizon=timedelta(hours=3))
    flags, _ = alert_flags([alert_from_dict(alert(1))], shipped_network, policy, now=NOW)
    index = RiskIndex.build(flags, shipped_network)
    soon = plan(shipped_network, index, Query("kyiv", "sumy", NOW + timedelta(hours=2)))
    tomorrow = plan(shipped_network, index, Query("kyiv", "sumy", NOW + timedelta(days=1)))
    assert soon.has_notice(NoticeCode.AIR_ALERT)
    assert not tomorrow.has_notice(NoticeCode.AIR_ALERT)
