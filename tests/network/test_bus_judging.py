"""The importer's judgement of 2019 bus register links (issue 12): evidence of service, route
length against the straight line, endpoints against their oblast."""

from __future__ import annotations

import pytest

from advisor.network.dataset import load_network
from advisor.network.geo import crowfly_km
from advisor.network.importer import build_network, judge_bus_row
from advisor.network.model import TimeSource
from advisor.network.sources import BUS_CITIES, BUS_LINKS, load_speed_model
from advisor.settings import CONFIG_DIR
from tests.network import sources_fixture as fx

SPEED = load_speed_model(CONFIG_DIR / "speed_model.toml")


@pytest.mark.parametrize(
    ("daily", "operators", "road", "crow", "keep", "unverified", "re_estimated"),
    [
        (62, 9, 191.0, 156.6, True, False, False),  # Cherkasy - Kyiv: licensed, plausible
        (1, 0, 44.0, 352.3, True, True, True),  # Rivne - Uman: no operator, 44 km < 352
        (0, 3, 300.0, 250.0, True, True, False),  # no daily record
        (0, 0, 300.0, 250.0, False, True, False),  # no evidence at all: dropped
        (5, 2, 735.0, 247.4, True, False, True),  # far longer than the straight line
        (5, 2, 29.0, 5.7, True, False, False),  # short local road: within the allowance
        (5, 2, 0.0, 80.0, True, False, True),  # no length given
    ],
)
def test_judge_bus_row(daily, operators, road, crow, keep, unverified, re_estimated):
    judged = judge_bus_row(daily, operators, road, crow, SPEED)
    assert (judged.keep, judged.unverified, judged.re_estimated) == (
        keep,
        unverified,
        re_estimated,
    )
    if keep:
        assert judged.road_km >= crow  # never shorter than the straight line
    if re_estimated:
        assert judged.road_km == pytest.approx(SPEED.road_factor * crow)


def _row(a, b, median, daily="4", operators="2"):
    row = fx.bus_links()[0]
    row.update(
        city_a_uk=a["city_uk"], koatuu_a=a["koatuu"], lat_a=a["lat"], lon_a=a["lon"],
        city_b_uk=b["city_uk"], koatuu_b=b["koatuu"], lat_b=b["lat"], lon_b=b["lon"],
        route_length_km_median=median, daily_records=daily, operators=operators,
    )  # fmt: skip
    return row


def test_build_keeps_drops_labels_and_re_estimates(tmp_path):
    kyiv, fastiv, bila = fx.cities()
    twin = {**bila, "koatuu": "4410300000"}  # Bila Tserkva again, under a Luhansk code
    rows = [
        _row(fastiv, kyiv, "70.0"),  # licensed
        _row(kyiv, bila, "20.0", operators="0"),  # unverified and shorter than the line
        _row(fastiv, bila, "50.0", daily="0", operators="0"),  # no evidence: dropped
        _row(twin, fastiv, "50.0"),  # endpoint whose code says another oblast
    ]
    tables = {
        BUS_LINKS: (fx.LINK_COLUMNS, rows),
        BUS_CITIES: (fx.CITY_COLUMNS, [*fx.cities(), twin]),
    }
    net, report = build_network(**fx.write_sources(tmp_path, **tables))
    assert report.bus_links_judged == 4
    assert len(report.bus_links_dropped) == 1 and "no operator" in report.bus_links_dropped[0]
    unverified = net.links["bus:3210300000:8000000000"]
    assert unverified.unverified and unverified.penalty_minutes == SPEED.unverified_penalty_minutes
    assert unverified.time_source is TimeSource.ROAD_FACTOR
    assert "shorter than the straight line" in unverified.source_note
    assert unverified.search_minutes > unverified.travel_minutes
    licensed = net.links["bus:3211800000:8000000000"]
    assert not licensed.unverified and licensed.search_minutes == licensed.travel_minutes
    assert "bus:3210300000:3211800000" in net.links  # the twin's link moved to Bila Tserkva
    assert any("moved to bus:3210300000" in e for e in report.bus_endpoints_checked)
    assert "bus judged: 4" in report.format().replace("bus register links judged", "bus judged")


@pytest.fixture(scope="module")
def shipped():
    return load_network()


def test_shipped_rivne_uman_is_unverified_and_re_estimated(shipped):
    link = shipped.links["bus:5610100000:7110800000"]
    a, b = (shipped.stations[x] for x in (link.from_id, link.to_id))
    assert link.unverified and link.penalty_minutes >= 120
    assert link.distance_km >= crowfly_km(a.lat, a.lon, b.lat, b.lon)  # was 44 km for 352


def test_shipped_bus_links_are_never_shorter_than_the_straight_line(shipped):
    short = []
    for link in shipped.links.values():
        if link.source != "bus_register_2019":
            continue
        a, b = shipped.stations[link.from_id], shipped.stations[link.to_id]
        if link.distance_km < crowfly_km(a.lat, a.lon, b.lat, b.lon) - 0.1:
            short.append(link.id)
    assert not short


def test_shipped_unverified_links_are_labelled(shipped):
    unverified = [lk for lk in shipped.links.values() if lk.unverified]
    assert 150 < len(unverified) < 300
    assert all(lk.source_note.startswith("unverified") for lk in unverified)
    assert all(lk.operators == 0 or lk.daily_departures_2019 == 0 for lk in unverified)
