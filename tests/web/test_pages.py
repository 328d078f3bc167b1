"""The passenger form and its results, rendered by the real app over the tiny network."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from advisor.network.model import Network, Station, StationKind
from advisor.services import FileFlagSource
from tests.web.conftest import LOZOVA_KRAMATORSK_HIGH, FailingSource, make_app, write_flags

JOURNEY = "/?from=Київ&to=Краматорськ"
MAX_PAGE_BYTES = 60 * 1024


class _Tags(HTMLParser):
    """Collects start tags with their attributes, and the text of chosen elements."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def texts_of_class(html: str, cls: str) -> list[str]:
    pattern = rf'<span class="{cls}">(.*?)</span>'
    return re.findall(pattern, html)


def test_empty_form_in_ukrainian_by_default(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="uk">' in html
    assert "Звідки" in html and "Куди" in html and "Знайти маршрути" in html
    assert 'method="get"' in html
    # every visible input and select has a label
    found = tags(html)
    labelled = {a["for"] for t, a in found if t == "label" and "for" in a}
    fields = [
        a
        for t, a in found
        if t in ("input", "select") and a.get("type") not in ("hidden", "checkbox", "radio")
    ]
    assert fields and all(f["id"] in labelled for f in fields)
    # suggestions without JavaScript: a server-filled datalist
    assert re.search(r'<datalist id="stations"[^>]*><option value="[^"]+">', html)


def test_results_recommend_bus_bypass_and_say_why_direct_rail_is_not_advised(client):
    page = client.get(JOURNEY)
    assert page.status_code == 200
    html = page.text
    options = re.findall(r'<article class="option verdict-(\w+)( recommended)?"', html)
    # The recommended option comes first; Kramatorsk lies 18 km from occupied ground (the war
    # map's elevated band), so the best it gets is "caution", never "advised".
    assert options[0] == ("caution", " recommended")
    assert all(extra == "" for _, extra in options[1:])  # and only it stands apart
    options = [verdict for verdict, _ in options]
    assert "not_advised" in options
    assert html.index("Рекомендовано") < html.index("Не радимо")
    assert "Лозова–Барвінкове–Краматорськ" in html  # why rail is not advised
    # the flag on the leg: level in words, reason, source
    assert "Високий ризик" in html and "Обстріли колії та потягів" in html
    assert "Укрзалізниця" in html
    assert "дані автобусів: реєстр 2019 р." in html
    assert "© учасники OpenStreetMap" in html


def test_every_time_is_marked_as_an_estimate(client):
    html = client.get(JOURNEY).text
    times = texts_of_class(html, "time")
    assert times and all("(оцінка)" in t and t.startswith("≈") for t in times)
    totals = re.findall(r'<p class="total">(.*?)</p>', html)
    assert totals and all("(оцінка)" in t for t in totals)
    # clock times in the legs are estimates from the asked time (no timetable in the tiny
    # network): every one carries "≈"
    legs = "".join(re.findall(r'<ol class="legs">(.*?)</ol>', html, re.S))
    without_flag_dates = re.sub(r'<span class="src">.*?</span>', "", legs)
    clocks = re.findall(r"(.{2})\b\d{2}:\d{2}\b", without_flag_dates)
    assert clocks and all(before == "≈ " for before in clocks)


def test_results_show_flag_freshness_and_a_map_of_the_flagged_section(client):
    html = client.get(JOURNEY).text
    assert "Дані про ризики оновлено:" in html
    assert "Чинні позначки на цих маршрутах" in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert svg.count("<polyline") >= 3
    assert ">!</text>" in svg  # the flagged section has a marker, not only a colour
    bands = re.findall(r'<polyline points="([^"]+)"[^>]*stroke="#000" stroke-width="11"', svg)
    # Lozova–Barvinkove–Kramatorsk is banded (and, from the war map, the last km into
    # Kramatorsk), not the whole leg from Kyiv
    kyiv = re.search(r'<polyline points="([^ "]+)', svg).group(1)
    assert any(len(b.split()) == 3 for b in bands) and all(kyiv not in b for b in bands)
    assert "Київ-Пас." in svg and "Краматорськ" in svg


def test_english_by_accept_language_with_english_station_names(client):
    html = client.get(JOURNEY, headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    assert '<html lang="en">' in html
    assert "Kyiv-Pas." in html and "Not advised" in html and "(estimated)" in html
    assert "Київ-Пас. →" not in html


def test_language_switch_keeps_the_query(client):
    html = client.get(JOURNEY + "&tolerance=strict").text
    link = re.search(r'<a href="([^"]+)" lang="en"', html).group(1).replace("&amp;", "&")
    assert "lang=en" in link and "tolerance=strict" in link
    switched = client.get(link)
    assert switched.status_code == 200
    assert '<html lang="en">' in switched.text and "Kramatorsk" in switched.text


def test_results_page_is_small_and_self_contained(client):
    page = client.get(JOURNEY)
    assert len(page.data) < MAX_PAGE_BYTES
    for tag, attrs in tags(page.text):
        for name in ("src", "href", "action"):
            value = attrs.get(name) or ""
            assert not value.startswith(("http:", "https:", "//")), f"{tag} {name}={value}"
    assert "<script>" not in page.text  # no inline script (the CSP forbids it)
    assert "style=" not in page.text  # no inline style either


@pytest.mark.parametrize(
    ("query", "field", "message", "kept"),
    [
        ("/?from=&to=Київ", "from", "Вкажіть, звідки ви їдете.", 'value="Київ"'),
        ("/?from=Київ&to=", "to", "Вкажіть, куди ви їдете.", 'value="Київ"'),
        ("/?from=Київ&to=Qwxzzy", "to", "Жодна станція не відповідає «Qwxzzy».", 'value="Qwxzzy"'),
        ("/?from=%21%21%21&to=Київ", "from", "«!!!» — не назва станції.", 'value="!!!"'),
        (
            "/?from=Київ&to=Київ-Пас.",
            "to",
            "збігається з пунктом відправлення",
            'value="Київ-Пас."',
        ),
        ("/?from=Київ&to=Суми&date=2026-02-31", "date", "не дата", 'value="Суми"'),
        ("/?from=Київ&to=Суми&date=1999-01-01", "date", "надто далеко", 'value="Суми"'),
        ("/?from=Київ&to=Суми&time=25:99", "time", "не час доби", 'value="Суми"'),
        ("/?from=Київ&to=Суми&tolerance=yolo", "tolerance", "«yolo»", 'value="Суми"'),
        ("/?from=Київ&to=Суми&modes=plane", "modes", "«plane»", 'value="Суми"'),
        ("/?from=Київ&to=Суми&lang=uk&modes=", "modes", "принаймні один", 'value="Суми"'),
    ],
)
def test_bad_input_gives_a_readable_message_and_keeps_the_text(client, query, field, message, kept):
    page = client.get(query)
    assert page.status_code == 400
    html = page.text
    assert message in html
    assert kept in html
    assert f'id="e-{field}"' in html or field == "modes"
    assert 'class="errors" role="alert"' in html
    assert "<article" not in html  # no results for a bad query


def test_unknown_station_offers_suggestions(client):
    html = client.get("/?from=Київ&to=Kramtsk").text
    assert "Жодна станція не відповідає «Kramtsk»." in html
    assert "Можливо, ви мали на увазі (куди):" in html
    assert 'name="to_id" value="kramatorsk"' in html


@pytest.fixture
def two_lozovas(tmp_path, tiny_network, flag_file):
    """The tiny network plus a second, distant station called Lozova: an ambiguous name."""
    far = Station(
        "lozova-west",
        "Лозова",
        "Lozova",
        48.0,
        27.0,
        "UA-05",
        StationKind.RAIL_STATION,
        settlement="lozova-west",
        is_main=True,
    )
    network = Network.build(
        [*tiny_network.stations.values(), far],
        tiny_network.links.values(),
        tiny_network.lines.values(),
    )
    return make_app(tmp_path, network, FileFlagSource([flag_file]), rate_limit_per_minute=0)


def test_ambiguous_name_asks_did_you_mean_without_javascript(two_lozovas):
    client = two_lozovas.test_client()
    html = client.get("/?from=Київ&to=Лозова").text
    assert "Можливо, ви мали на увазі (куди):" in html
    offered = re.findall(r'name="to_id" value="([\w-]+)"', html)
    assert set(offered) >= {"lozova", "lozova-west"}
    # same-named places are told apart by kind and oblast
    assert html.count("(залізнична станція, ") >= 2
    picked = client.get("/?from=Київ&to=Лозова&to_id=lozova-west")
    assert picked.status_code == 200
    assert 'id="results-title"' in picked.text
    assert 'name="to_id" value="lozova-west"' in picked.text  # the choice is kept in the form


def test_both_fields_are_settled_in_one_round_trip_without_javascript(two_lozovas):
    client = two_lozovas.test_client()
    html = client.get("/?from=Kramtsk&to=Лозова").text
    assert "Можливо, ви мали на увазі (звідки):" in html
    assert "Можливо, ви мали на увазі (куди):" in html
    # one submit of the form with a choice picked in each field gives the results
    page = client.get("/?from=Kramtsk&from_id=kramatorsk&to=Лозова&to_id=lozova")
    assert page.status_code == 200
    heading = page.text[page.text.index('id="results-title"') :].split("</h1>")[0]
    assert "Краматорськ" in heading and "Лозова" in heading


def test_a_picked_id_not_among_the_choices_is_not_taken(two_lozovas):
    html = two_lozovas.test_client().get("/?from=Kramtsk&from_id=kyiv&to=Лозова").text
    assert 'id="results-title"' not in html


def test_unchecking_both_ways_to_travel_is_an_error_not_both(client):
    page = client.get("/?from=Київ&to=Краматорськ&modes_given=1")
    assert page.status_code == 400
    assert "Оберіть принаймні один вид транспорту." in page.text
    assert "<article" not in page.text
    assert client.get("/?from=Київ&to=Краматорськ").status_code == 200  # a bare link: both


def test_stale_flag_data_shows_a_banner_at_the_top(tmp_path, tiny_network, flag_file):
    app = make_app(tmp_path, tiny_network, FileFlagSource([flag_file]), flags_stale_after_minutes=0)
    html = app.test_client().get(JOURNEY).text
    banner = html.index('class="banner warn"')
    assert banner < html.index("<h1")
    assert "Дані про ризики можуть бути застарілими." in html
    assert "Високий ризик" in html  # known flags are still applied


def test_unavailable_flag_store_keeps_the_last_flags_and_says_so(tmp_path, tiny_network, flag_file):
    source = FailingSource(flag_file)
    app = make_app(tmp_path, tiny_network, source, flags_refresh_seconds=0.0)
    client = app.test_client()
    assert "Високий ризик" in client.get(JOURNEY).text
    source.failing = True
    html = client.get(JOURNEY).text
    assert "Дані про ризики зараз недоступні." in html
    assert "Високий ризик" in html  # the last known flag is still applied
    assert client.get("/readyz").status_code == 503


def test_no_safe_route_is_said_plainly_and_the_bus_is_not_called_safe(
    tmp_path, tiny_network, flag_file
):
    sumy_high = {
        **LOZOVA_KRAMATORSK_HIGH,
        "id": "sumy-oblast",
        "target": {"kind": "oblast", "oblast_iso": "UA-59"},
        "reason_uk": "Обстріли області",
        "reason_en": "Strikes across the oblast",
        "source": "ОВА",
    }
    flags = write_flags(tmp_path / "sumy.json", [sumy_high])
    app = make_app(tmp_path, tiny_network, FileFlagSource([flags]))
    html = app.test_client().get("/?from=Київ&to=Суми").text
    box = re.search(r'<p class="verdict-box" role="status"><strong>(.*?)</strong>', html)
    assert box, "no-safe-route must be a verdict above the options"
    assert html.index('class="verdict-box"') < html.index("<article")
    verdicts = re.findall(r'<article class="option verdict-(\w+)"', html)
    assert verdicts and set(verdicts) == {"not_advised"}
    # Each bus route is a leg of its own; every one that enters Sumy oblast carries the flag.
    bus_legs = re.findall(r'<li class="leg mode-bus">(.*?)</li>\s*(?=<li|</ol>)', html, re.S)
    into_sumy = [leg for leg in bus_legs if "→ Суми" in leg]
    assert into_sumy and all("Високий ризик" in leg for leg in into_sumy)
    assert not [leg for leg in into_sumy if "Позначок немає" in leg]


def test_did_you_mean_tells_places_apart_by_oblast(two_lozovas):
    html = two_lozovas.test_client().get("/?from=Київ&to=Лозова").text
    assert "(залізнична станція, Харківська обл.)" in html
    assert "(залізнична станція, Вінницька обл.)" in html


def test_flags_near_the_route_are_listed_with_their_distance(tmp_path, tiny_network):
    """A flagged station 10 km from Kharkiv, on no link of the route, is shown as nearby."""
    near = Station("pisochyn", "Пісочин", "Pisochyn", 49.96, 36.08, "UA-63", StationKind.HALT)
    network = Network.build(
        [*tiny_network.stations.values(), near],
        tiny_network.links.values(),
        tiny_network.lines.values(),
    )
    flag = {
        **LOZOVA_KRAMATORSK_HIGH,
        "id": "pisochyn",
        "level": "elevated",
        "target": {"kind": "station", "station_id": "pisochyn"},
        "reason_uk": "Удар по станції",
    }
    far = {**flag, "id": "barvinkove", "target": {"kind": "station", "station_id": "barvinkove"}}
    flags = write_flags(tmp_path / "near.json", [flag, far])
    app = make_app(tmp_path, network, FileFlagSource([flags]))
    html = app.test_client().get("/?from=Київ&to=Харків&modes=rail").text
    section = re.search(r'<ul class="flags nearby">(.*?)</ul>', html, re.S).group(1)
    assert "Удар по станції" in section and "Підвищений ризик" in section
    km = int(re.search(r"≈ (\d+) км від маршруту", section).group(1))
    assert 5 <= km <= 15
    assert section.count("<li>") == 1  # Barvinkove is ~100 km away: not near


def test_a_change_of_bus_is_shown_with_its_estimated_time(client):
    """Poltava → Sumy by bus rides two register routes: the page says where the bus changes
    and counts it, never as a free, seamless ride."""
    html = client.get("/?from=Полтава&to=Суми&modes=bus").text
    bus_only = html[html.index('<article class="option') :]
    assert "Пересадка на інший автобус: Харків АС" in bus_only
    assert "1 пересадка" in bus_only
    english = client.get("/?from=Полтава&to=Суми&modes=bus&lang=en").text
    assert "Change buses at Kharkiv AS" in english
