"""Former names of renamed places: in the API's station objects and next to page headings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from advisor.network.model import Network
from advisor.services import FileFlagSource
from tests.web.conftest import flag_file, make_app  # noqa: F401 - fixtures

# As config/station_aliases.toml gives them: newest first, several spellings and languages.
DNIPRO_FORMER = ("Dnipropetrovsk", "Дніпропетровськ", "Днепропетровск", "Katerynoslav")


@pytest.fixture
def renamed_client(tmp_path, tiny_network, flag_file):  # noqa: F811
    stations = [
        replace(s, historic_names=DNIPRO_FORMER) if s.id == "dnipro" else s
        for s in tiny_network.stations.values()
    ]
    network = Network.build(
        stations, tiny_network.links.values(), tiny_network.lines.values(), {"version": "tiny"}
    )
    app = make_app(tmp_path, network, FileFlagSource([flag_file]), rate_limit_per_minute=0)
    return app.test_client()


def test_station_search_lists_former_names(renamed_client):
    found = renamed_client.get("/api/v1/stations?q=Дніпро&limit=20").json["stations"]
    by_id = {s["id"]: s for s in found}
    assert by_id["dnipro"]["historic_names"] == list(DNIPRO_FORMER)
    assert by_id["bus:dnipro"]["historic_names"] == []


def test_route_endpoints_and_legs_carry_former_names(renamed_client):
    body = renamed_client.get("/api/v1/routes?from=Лозова&to=Дніпро&modes=rail").json
    assert body["query"]["to"]["historic_names"] == list(DNIPRO_FORMER)
    assert body["query"]["from"]["historic_names"] == []
    legs = body["options"][0]["legs"]
    assert legs[-1]["to"] == {
        "id": "dnipro",
        "name": "Дніпро-Голов.",
        "historic_names": list(DNIPRO_FORMER),
    }
    assert legs[0]["from"]["historic_names"] == []


@pytest.mark.parametrize(
    ("lang", "shown", "not_shown"),
    [
        ("en", "(formerly Dnipropetrovsk)", "Дніпропетровськ"),
        ("uk", "(колишня назва: Дніпропетровськ)", "Dnipropetrovsk"),
    ],
)
def test_results_heading_names_the_former_name_in_the_page_language(
    renamed_client, lang, shown, not_shown
):
    # The passenger typed the former name: the heading explains why Dnipro answers.
    html = renamed_client.get(f"/?from=Лозова&to=Днепропетровск&lang={lang}").text
    heading = html[html.index('id="results-title"') :].split("</h1>")[0]
    assert shown in heading and not_shown not in heading
    assert heading.count("class=\"former") == 1  # Lozova has no former name


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_former_name_is_not_shown_to_who_typed_the_current_name(renamed_client, lang):
    # "Zaporizhzhia (formerly Oleksandrivsk)" in a title only confuses.
    html = renamed_client.get(f"/?from=Лозова&to=Дніпро&lang={lang}").text
    heading = html[html.index('id="results-title"') :].split("</h1>")[0]
    assert "former" not in heading
    assert "Dnipropetrovsk" not in heading and "Дніпропетровськ" not in heading
