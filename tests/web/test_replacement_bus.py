"""Hand-added railway replacement buses are labelled as such, never as 2019 register data."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from advisor.network.model import LinkSource, Mode, Network, TimeSource
from advisor.routing.explain import bus_data_notices
from advisor.routing.model import Leg, NoticeCode
from advisor.services import FileFlagSource
from tests.web.conftest import make_app

JOURNEY = "/?from=Київ&to=Краматорськ"
REPLACED = "b-lozova-kramatorsk"


@pytest.fixture
def replacement_network(tiny_network):
    """The tiny network with its Lozova–Kramatorsk bus turned into a hand-added one."""
    links = dict(tiny_network.links)
    links[REPLACED] = replace(
        links[REPLACED], source=LinkSource.HAND_ADDED, source_note="replacement bus (test)"
    )
    return Network.build(
        tiny_network.stations.values(), links.values(), tiny_network.lines.values(),
        tiny_network.metadata, tiny_network.oblasts.values(), tiny_network.settlements.values(),
    )  # fmt: skip


def bus_leg(*link_ids, time_source=TimeSource.ROAD_LENGTH, mode=Mode.BUS):
    return Leg(mode, "a", "b", ("a", "b"), link_ids, (), 10.0, 10.0, time_source)


@pytest.mark.parametrize(
    ("legs", "codes"),
    [
        ([bus_leg(REPLACED)], [NoticeCode.REPLACEMENT_BUS]),
        ([bus_leg("b-kyiv-kharkiv")], [NoticeCode.BUS_DATA_2019]),
        ([bus_leg(REPLACED), bus_leg("b-kyiv-kharkiv")],
         [NoticeCode.BUS_DATA_2019, NoticeCode.REPLACEMENT_BUS]),
        ([bus_leg("no-such-link")], [NoticeCode.BUS_DATA_2019]),  # unknown: never "current"
        ([bus_leg(time_source=TimeSource.TIMETABLE)], []),
        ([bus_leg("r-kyiv-poltava", mode=Mode.RAIL)], []),
    ],
)  # fmt: skip
def test_bus_notices_follow_the_link_source(replacement_network, legs, codes):
    assert "b-kyiv-kharkiv" in replacement_network.links
    assert [n.code for n in bus_data_notices(legs, replacement_network)] == codes


def test_page_labels_the_replacement_bus_leg(tmp_path, replacement_network, flag_file):
    app = make_app(
        tmp_path, replacement_network, FileFlagSource([flag_file]), rate_limit_per_minute=0
    )
    html = app.test_client().get(JOURNEY).text
    first = html[html.index('<article class="option'):html.index("</article>")]  # fmt: skip
    assert "Лозова" in first and 'class="leg mode-bus"' in first
    tags = re.findall(r'<span class="tag">(.*?)</span>', first)
    assert tags == ["автобус замість поїзда (повідомлення преси 2026 р.); маршрут і час орієнтовні"]
    assert "notice-replacement_bus" in html and "Укрзалізниці" in html
    english = app.test_client().get(JOURNEY + "&lang=en").text
    assert "replacement bus (2026 press reports)" in english
