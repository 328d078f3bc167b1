"""Route answers on the shipped network with the war map in force (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from advisor.risk.model import RiskLevel
from advisor.routing.explain import leg_badges
from advisor.routing.model import NoticeCode, Verdict
from advisor.services import FileFlagSource, Services
from advisor.settings import Settings

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def services(shipped_network):
    settings = Settings()
    source = FileFlagSource([settings.baseline_flags_path], strict=True)
    return Services(settings, network=shipped_network, flag_source=source, clock=lambda: NOW)


def _advise(services, origin, destination, **kw):
    return services.advise(services.query(origin, destination, modes="rail,bus", **kw))


def _advised(advice):
    return [o for o in advice.options if o.verdict is not Verdict.NOT_ADVISED]


@pytest.mark.parametrize("destination", ["Покровськ", "Донецьк", "Мелітополь", "Гуляйполе"])
def test_no_advised_or_cautioned_way_into_occupied_territory(services, destination):
    advice = _advise(services, "Київ", destination)
    assert advice.recommended is None and not _advised(advice)
    assert services.risk_state.war_layer.war_map.map_date.isoformat() == "2026-08-22"


@pytest.mark.parametrize("destination", ["Костянтинівка", "Херсон", "Нікополь", "Лиман"])
def test_front_line_towns_are_not_advised(services, destination):
    advice = _advise(services, "Київ", destination)
    assert all(o.verdict is not Verdict.ADVISED for o in advice.options)
    assert any(
        f.extra.get("origin") == "war_map" and f.level is RiskLevel.HIGH
        for o in advice.options for f in o.flags
    )  # fmt: skip


@pytest.mark.parametrize("destination", ["Львів", "Ужгород"])
def test_far_western_trips_stay_advised_and_unchanged(services, shipped_network, destination):
    advice = _advise(services, "Київ", destination)
    assert advice.recommended is not None and advice.recommended.verdict is Verdict.ADVISED
    assert not advice.recommended.flags
    from advisor.risk.coverage import RiskIndex
    from advisor.routing.planner import plan

    plain = plan(shipped_network, RiskIndex.empty(), advice.query)
    assert plain.recommended.legs == advice.recommended.legs


def test_a_trip_to_the_russian_border_is_not_advised_and_says_how_far(services):
    """Vorozhba lies 9.5 km from the Russian border: the border's high band."""
    vorozhba = "osm-node-8568931530"
    advice = _advise(services, "Київ", vorozhba)
    assert advice.options and all(o.verdict is Verdict.NOT_ADVISED for o in advice.options)
    border = [f for o in advice.options for f in o.flags if f.extra.get("band") == "russia-high"]
    assert border and border[0].extra["distances_km"][vorozhba] == pytest.approx(9.5, abs=1)


def test_preview_warns_when_a_flag_pushes_a_route_onto_a_bypass_in_a_band(shipped_network):
    """Issue 11: with Lozova–Barvinkove–Kramatorsk flagged high, Kyiv→Kramatorsk turns to
    Kharkiv–Izium–Sloviansk, along the front: the preview says so in km inside the bands."""
    from advisor.risk.coverage import RiskIndex
    from advisor.risk.parse import flag_from_dict
    from advisor.routing.model import Query
    from advisor.routing.planner import plan
    from advisor.services.preview import PairImpact, band_km
    from advisor.war_maps import WarLayers

    kramatorsk = "osm-node-13072326058"
    layer = WarLayers(Settings()).layer(shipped_network)
    lbk = flag_from_dict({
        "id": "lbk", "level": "high", "source": "УЗ", "reason_uk": "Обстріли",
        "target": {"kind": "section", "line_id": "lozova-barvinkove-kramatorsk",
                   "from_station": "lozova", "to_station": kramatorsk},
    })  # fmt: skip
    query = Query("kyiv", kramatorsk, NOW)
    before = plan(shipped_network, RiskIndex.build(layer.flags, shipped_network), query)
    after = plan(shipped_network, RiskIndex.build([*layer.flags, lbk], shipped_network), query)
    pair = PairImpact(
        "kyiv", kramatorsk, checked=True,
        recommended_before=before.recommended, recommended_after=after.recommended,
        band_km_before=band_km(before.recommended, shipped_network),
        band_km_after=band_km(after.recommended, shipped_network),
    )  # fmt: skip
    assert pair.onto_bypass_in_band and pair.band_km_after > pair.band_km_before + 30
    unchanged = PairImpact("kyiv", kramatorsk, checked=True, band_km_before=64.8,
                           band_km_after=64.8)
    assert not unchanged.onto_bypass_in_band


@pytest.mark.parametrize(
    ("destination", "name_uk"),
    [("Донецьк", "Донецьк"), ("Покровськ", "Покровськ"), ("Сімферополь", "Сімферополь")],
)
def test_occupied_end_is_said_in_words_with_the_map_date(services, destination, name_uk):
    """SCENARIOS 9: the answer names the occupied place and the map's date, offers nothing,
    and never reads as a gap in the network."""
    advice = _advise(services, "Київ", destination)
    codes = [n.code for n in advice.notices]
    assert NoticeCode.OCCUPIED in codes and NoticeCode.NO_ROUTE not in codes
    assert not advice.options
    occupied = next(n for n in advice.notices if n.code is NoticeCode.OCCUPIED)
    assert occupied.message_uk.startswith(name_uk)
    assert "тимчасово окупована територія (за мапою від 22.08.2026); сполучення немає" in (
        occupied.message_uk
    )
    assert "(map of 2026-08-22)" in occupied.message_en
    assert occupied.details["map_date"] == "2026-08-22"


def test_occupied_origin_too(services):
    advice = _advise(services, "Донецьк", "Київ")
    assert [n.code for n in advice.notices if n.code is NoticeCode.OCCUPIED]


def test_front_line_legs_carry_a_badge_with_distance_and_map_date(services):
    advice = _advise(services, "Київ", "Костянтинівка")
    badges = [b for o in advice.options for leg in o.legs for b in leg_badges(leg, "uk")]
    assert badges and all("(мапа від 22.08.2026)" in b for b in badges)
    assert any(b.startswith("за ") and " км від лінії фронту" in b for b in badges)
    english = [b for o in advice.options for leg in o.legs for b in leg_badges(leg, "en")]
    assert any("km from the front line (map of 2026-08-22)" in b for b in english)


def test_far_trips_carry_no_war_badge(services):
    advice = _advise(services, "Київ", "Львів")
    assert not [b for o in advice.options for leg in o.legs for b in leg_badges(leg, "uk")]
