"""Issue 12 on the shipped network: trustworthy bus links, bus stations at the ends of a
bus trip, realistic rail routes, honest changes and "via" on every leg.

Each test is one case the issue lists, as a new user would try it."""

from __future__ import annotations

import pytest

from advisor.api.schema import advice_to_json
from advisor.network.geo import crowfly_km
from advisor.network.model import Mode, StationKind
from advisor.routing.model import Verdict
from advisor.services.flag_sources import FileFlagSource
from advisor.settings import CONFIG_DIR
from tests.routing.test_shipped_network import ask, flag

BUS_ONLY = frozenset({Mode.BUS})
RIVNE_UMAN = "bus:5610100000:7110800000"


@pytest.fixture(scope="module")
def baseline():
    return FileFlagSource([CONFIG_DIR / "baseline_flags.toml"], strict=True).load_flags()


def _bus_links(option):
    return [i for leg in option.legs if leg.mode is Mode.BUS for i in leg.link_ids]


def test_lviv_kharkiv_never_rides_the_44_km_rivne_uman_row(shipped_network, baseline):
    advice = ask(shipped_network, baseline, "lviv", "kharkiv")
    assert all(RIVNE_UMAN not in _bus_links(o) for o in advice.options)
    link = shipped_network.links[RIVNE_UMAN]
    a, b = (shipped_network.stations[x] for x in (link.from_id, link.to_id))
    assert link.unverified and link.distance_km >= crowfly_km(a.lat, a.lon, b.lat, b.lon)


@pytest.mark.parametrize(
    ("destination", "bus_stop"),
    [("kharkiv", "bus:6310100000"), ("lviv", "bus:4610100000"), ("sumy", "bus:5910100000")],
)
def test_bus_only_takes_the_direct_licensed_bus(shipped_network, baseline, destination, bus_stop):
    """Kyiv→Kharkiv no longer changes at Lebedyn, Kyiv→Lviv at Dolyna, Kyiv→Sumy at Pryluky:
    the register has direct daily buses with operators, and a change costs a real wait."""
    advice = ask(shipped_network, baseline, "kyiv", destination, modes=BUS_ONLY)
    rec = advice.recommended
    assert [leg.mode for leg in rec.legs] == [Mode.BUS] and rec.transfers == 0
    assert (rec.legs[0].from_id, rec.legs[0].to_id) == ("bus:8000000000", bus_stop)
    link = shipped_network.links[rec.legs[0].link_ids[0]]
    assert not link.unverified and link.operators > 0 and link.daily_departures_2019 > 0


def test_a_bus_trip_starts_and_ends_at_the_bus_stations(shipped_network, baseline):
    advice = ask(shipped_network, baseline, "lviv", "odesa", modes=BUS_ONLY)
    for option in advice.options:
        ends = (option.legs[0].from_id, option.legs[-1].to_id)
        kinds = {shipped_network.stations[s].kind for s in ends}
        assert kinds == {StationKind.BUS_STATION}
        assert option.legs[0].mode is Mode.BUS and option.legs[-1].mode is Mode.BUS


def test_the_walk_stays_where_a_rail_leg_joins(shipped_network, baseline):
    line = flag({"kind": "line", "line_id": "dnipro-zaporizhzhia"})
    advice = ask(shipped_network, [*baseline, line], "kyiv", "zaporizhzhia")
    rec = advice.recommended
    assert [leg.mode for leg in rec.legs] == [Mode.RAIL, Mode.TRANSFER, Mode.BUS]
    assert rec.legs[1].travel_minutes > 0


def test_kyiv_zaporizhzhia_with_the_line_flagged_goes_by_train_to_dnipro(shipped_network, baseline):
    """Not rail to Pichuhine and a 2019 bus with 0 operators from Novopokrovka."""
    line = flag({"kind": "line", "line_id": "dnipro-zaporizhzhia"})
    advice = ask(shipped_network, [*baseline, line], "kyiv", "zaporizhzhia")
    rec = advice.recommended
    assert rec.verdict is Verdict.ADVISED
    assert rec.legs[0].mode is Mode.RAIL and rec.legs[0].to_id == "dnipro"
    bus = shipped_network.links[_bus_links(rec)[0]]
    assert not bus.unverified


def test_izmail_chernihiv_counts_the_change_in_kyiv(shipped_network, baseline):
    izmail = next(s.id for s in shipped_network.stations.values() if s.name_uk == "Ізмаїл")
    advice = ask(shipped_network, baseline, izmail, "chernihiv", modes=frozenset({Mode.RAIL}))
    rail = advice.options[0]
    assert [c for leg in rail.legs for c in leg.change_ids] == ["kyiv"]
    assert rail.transfers == 1  # was "0 transfers" on one 762-minute through train


def test_kyiv_odesa_runs_via_koziatyn_and_zhmerynka_in_one_train(shipped_network, baseline):
    rec = ask(shipped_network, baseline, "kyiv", "odesa").recommended
    rail = [leg for leg in rec.legs if leg.mode is Mode.RAIL]
    assert len(rail) == 1 and rec.transfers == 0
    via = rail[0].via_ids
    assert "koziatyn-1" in via and "zhmerynka" in via and "pomichna" not in via


def test_lviv_uzhhorod_runs_via_stryi_and_chop_not_the_uzhok_pass(shipped_network, baseline):
    advice = ask(shipped_network, baseline, "lviv", "uzhhorod", modes=frozenset({Mode.RAIL}))
    rec = advice.recommended
    stations = [shipped_network.stations[s] for leg in rec.legs for s in leg.station_ids]
    names = {s.name_uk for s in stations}
    assert "Стрий" in names and "Самбір" not in names
    assert rec.travel_minutes >= 0.75 * 390  # the usual train: about 6 h 30 min


def test_every_riding_leg_names_its_hubs_in_english_the_official_way(shipped_network, baseline):
    advice = ask(shipped_network, baseline, "kyiv", "lviv")
    rail = next(leg for leg in advice.recommended.legs if leg.mode is Mode.RAIL)
    names = [shipped_network.stations[s].display_name("en") for s in rail.via_ids]
    assert "Koziatyn-1" in names
    start = shipped_network.stations[rail.from_id].display_name("en")
    assert start == "Kyiv-Pasazhyrskyi"


def test_json_legs_carry_via_possible_changes_and_register_facts(shipped_network, baseline):
    izmail = next(s.id for s in shipped_network.stations.values() if s.name_uk == "Ізмаїл")
    advice = ask(shipped_network, baseline, izmail, "chernihiv", modes=frozenset({Mode.RAIL}))
    body = advice_to_json(advice, shipped_network, "en")
    leg = body["options"][0]["legs"][0]
    assert [c["name"] for c in leg["possible_changes"]] == ["Kyiv-Pasazhyrskyi"]
    assert "Zhmerynka-Pasazhyrska" in [v["name"] for v in leg["via"]]
    assert body["options"][0]["transfers"] == 1
    bus = advice_to_json(
        ask(shipped_network, baseline, "kyiv", "kherson", modes=BUS_ONLY), shipped_network, "uk"
    )["options"][0]["legs"][0]
    assert bus["unverified"] is False
    assert any("Kherson" in note for note in bus["register_risk_notes"])
