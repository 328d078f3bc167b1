"""Text glitches passengers saw on the results page, one test per kind, and the estimated
clock times."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from advisor.network.geo import KYIV_TZ
from advisor.network.model import Mode, TimeSource
from advisor.routing.explain import _full_stop, explain
from advisor.routing.model import Leg, Option, OptionKind, Query, Verdict
from advisor.web.present import Presenter

AT = datetime(2026, 3, 12, 22, 43, tzinfo=KYIV_TZ)


def _leg(mode, a, b, minutes, source=TimeSource.SPEED_MODEL, **extra):
    return Leg(mode, a, b, (a, b), (), (), 10.0, minutes, source, **extra)


def _option(kind, verdict, legs, also=()):
    return Option(kind, verdict, tuple(legs), "", "", also_kinds=also)


@pytest.fixture
def presenter(app, tiny_network):
    def make(locale="uk", query=None):
        return Presenter(tiny_network, locale, None, AT, query=query)

    with app.test_request_context("/?lang=uk"):
        yield make


def test_change_of_buses_does_not_say_change_twice(client):
    html = client.get("/?from=Київ&to=Краматорськ&modes=bus").text
    words = re.sub(r"<[^>]+>", " ", html)
    assert not re.search(r"Пересадка\s+Пересадка", words)


def test_change_between_two_stops_of_one_town_names_them_by_kind(app, shipped_network):
    # the national network has a railway station and a bus station both named "Краматорськ"
    leg = _leg(Mode.TRANSFER, "bus:1412900000", "osm-node-13072326058", 20,
               TimeSource.TRANSFER_MODEL)
    with app.test_request_context("/?lang=uk"):
        text = Presenter(shipped_network, "uk").transfer_text(leg)
    assert text == "Пересадка в пункті Краматорськ: автостанція → залізнична станція"


def test_change_between_differently_named_stops_says_what_the_second_is(presenter):
    leg = _leg(Mode.TRANSFER, "kramatorsk", "bus:kramatorsk", 20, TimeSource.TRANSFER_MODEL)
    assert presenter().transfer_text(leg) == (
        "Пересадка: Краматорськ → Краматорськ АС (автостанція)"
    )


def test_heading_never_starts_with_a_separator_and_recommended_is_no_warning(presenter):
    p = presenter()
    rec = _option(
        OptionKind.RECOMMENDED,
        Verdict.ADVISED,
        [_leg(Mode.RAIL, "kyiv", "kharkiv", 300)],
        also=(OptionKind.RAIL_ONLY, OptionKind.FASTEST),
    )
    heading = p.heading(rec)
    assert heading == "Рекомендовано · Потяг · водночас найшвидший"
    assert "без огляду на ризик" not in heading
    other = _option(OptionKind.BUS_ONLY, Verdict.ADVISED, [_leg(Mode.BUS, "kyiv", "kharkiv", 400)])
    assert not p.heading(other).startswith("·")
    assert p.verdict_label(rec) == "Радимо" and p.verdict_label(other) == "Теж можливо"


def test_one_full_stop_after_a_name_ending_in_a_dot():
    assert _full_stop("маршрут до Харків-Пас..") == "маршрут до Харків-Пас."
    assert _full_stop("Радимо.") == "Радимо."


def test_explanations_never_end_in_two_dots(shipped_network):
    from advisor.risk.model import Flag, RiskLevel

    assert Flag is not None and RiskLevel is not None
    option = _option(OptionKind.RAIL_ONLY, Verdict.ADVISED, [_leg(Mode.RAIL, "a", "b", 5)])
    for sentence in explain(option, None, shipped_network):
        assert not sentence.endswith("..")


def test_estimated_clock_times_come_from_the_asked_time_plus_the_legs(presenter):
    p = presenter()
    option = _option(
        OptionKind.RECOMMENDED,
        Verdict.ADVISED,
        [_leg(Mode.RAIL, "kyiv", "lozova", 157), _leg(Mode.BUS, "lozova", "kramatorsk", 60)],
    )
    clocks = p.clocks(option)
    assert clocks[0].start == AT and clocks[1].start == clocks[0].end
    assert clocks[0].end == datetime(2026, 3, 13, 1, 20, tzinfo=KYIV_TZ)  # 22:43 + 157 min ≈ 01:20
    whole = p.option_clock(option)
    assert whole.estimated and whole.text() == "≈ 22:43 → ≈ 02:20 (+1 день)"


def test_timetabled_legs_keep_their_own_times(presenter):
    dep = AT + timedelta(minutes=47)
    ride = _leg(
        Mode.RAIL, "kyiv", "kharkiv", 300, TimeSource.TIMETABLE,
        departure=dep, arrival=dep + timedelta(minutes=300),
    )
    clock = presenter().option_clock(_option(OptionKind.RAIL_ONLY, Verdict.ADVISED, [ride]))
    assert not clock.estimated and clock.text() == "23:30 → 04:30 (+1 день)"


def test_arrive_by_places_estimates_backwards(presenter, tiny_network):
    query = Query("kyiv", "kharkiv", AT, arrive_by=True)
    p = presenter(query=query)
    ride = _leg(Mode.RAIL, "kyiv", "kharkiv", 60)
    option = _option(OptionKind.RAIL_ONLY, Verdict.ADVISED, [ride])
    clock = p.option_clock(option)
    assert clock.end == AT and clock.start == datetime(2026, 3, 12, 21, 45, tzinfo=KYIV_TZ)


def test_ukrainian_sentences_say_iz_zasterezhenniam_and_name_the_tolerance_in_ukrainian():
    import inspect

    from advisor.routing import explain as catalogue
    from advisor.routing.model import NoticeCode

    source = inspect.getsource(catalogue)
    assert "із застереженням" in source and " з застереженням" not in source
    for tolerance in ("strict", "balanced", "accept-high"):
        text = catalogue.notice(NoticeCode.NO_SAFE_ROUTE, tolerance=tolerance).message_uk
        assert not re.search(r"[A-Za-z]", text), text  # no "(balanced)" in a Ukrainian banner
