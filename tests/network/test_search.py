"""Station search over the shipped network: real queries and the station they must find first."""

from __future__ import annotations

import doctest
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import advisor.network.search as search_module
from advisor.errors import DataError, InvalidQuery, UnknownStation
from advisor.network.model import Network, Station, StationKind
from advisor.network.search import (
    DEFAULT_ALIASES_PATH,
    RESOLVE_MIN_SCORE,
    PlaceAliases,
    StationIndex,
    city_key,
    load_aliases,
    matching_key,
)

BAKHMUT = "osm-node-569009607"
BILA_TSERKVA = "osm-node-620533961"
CHORNOMORSK_PORT = "osm-node-9535449075"
KAMIANETS_PODILSKYI = "osm-node-368285260"
KAMIANSKE_PAS = "osm-node-1387194224"
KRAMATORSK = "osm-node-13072326058"
KREMENCHUK = "osm-node-3077686599"
MARIUPOL = "osm-node-1201406760"
ODESA_ZAKHIDNA = "osm-node-293332000"
POKROVSK = "osm-node-12351757193"
SLAVSKO = "osm-node-966242774"
SLOVIANSK = "osm-node-1065061073"
ZNAMIANKA_PAS = "osm-node-1599260081"
ZVIAHEL_1 = "osm-node-1977761950"

# (what a passenger types, the station id that must come first)
QUERIES = [
    # Ukrainian
    ("Київ", "kyiv"),
    ("Харків", "kharkiv"),
    ("Львів", "lviv"),
    ("Одеса", "odesa"),
    ("Дніпро", "dnipro"),
    ("Запоріжжя", "zaporizhzhia"),
    ("Полтава", "poltava"),
    ("Суми", "sumy"),
    ("Ужгород", "uzhhorod"),
    ("Київ-Волинський", "kyiv-volynskyi"),
    ("Кривий Ріг", "kryvyi-rih-main"),
    ("Краматорськ", KRAMATORSK),
    ("Козятин", "koziatyn-1"),
    ("Фастів", "fastiv"),
    ("Одеса-Західна", ODESA_ZAKHIDNA),
    ("Тернопіль-Пас.", "ternopil"),
    ("київ", "kyiv"),
    # official Latin (KMU 2010)
    ("Kyiv", "kyiv"),
    ("Kharkiv", "kharkiv"),
    ("Zaporizhzhia", "zaporizhzhia"),
    ("Ivano-Frankivsk", "ivano-frankivsk"),
    ("Bila Tserkva", BILA_TSERKVA),
    ("Kryvyi Rih", "kryvyi-rih-main"),
    ("Khmelnytskyi", "khmelnytskyi"),
    ("Mykolaiv", "mykolaiv"),
    ("Kamianets-Podilskyi", KAMIANETS_PODILSKYI),
    ("KYIV", "kyiv"),
    # English (OSM name:en)
    ("Kyiv Passenger Railway Station", "kyiv"),
    ("Odesa-Holovna", "odesa"),
    ("Lviv-Main", "lviv"),
    ("Mykolayiv", "mykolaiv"),
    # Russian
    ("Киев", "kyiv"),
    ("Харьков", "kharkiv"),
    ("Одесса", "odesa"),
    ("Николаев", "mykolaiv"),
    ("Запорожье", "zaporizhzhia"),
    ("Днепр", "dnipro"),
    ("Кривой Рог", "kryvyi-rih-main"),
    ("Чернигов", "chernihiv"),
    ("Хмельницкий", "khmelnytskyi"),
    ("Львов", "lviv"),
    ("Белая Церковь", BILA_TSERKVA),
    ("Славянск", SLOVIANSK),
    # common foreign spellings
    ("Kiev", "kyiv"),
    ("Kharkov", "kharkiv"),
    ("Lvov", "lviv"),
    ("Odessa", "odesa"),
    ("Zaporozhye", "zaporizhzhia"),
    ("Nikolaev", "mykolaiv"),
    ("Rovno", "rivne"),
    ("Chernigov", "chernihiv"),
    ("Zhitomir", "zhytomyr"),
    ("Vinnitsa", "vinnytsia"),
    ("Uzhgorod", "uzhhorod"),
    ("Cherkassy", "cherkasy"),
    ("Kremenchug", KREMENCHUK),
    ("Kazatin", "koziatyn-1"),
    # historic names
    ("Dnipropetrovsk", "dnipro"),
    ("Днепропетровск", "dnipro"),
    ("Kirovohrad", "kropyvnytskyi"),
    ("Кировоград", "kropyvnytskyi"),
    ("Artemivsk", BAKHMUT),
    ("Артемовск", BAKHMUT),
    ("Dniprodzerzhynsk", KAMIANSKE_PAS),
    ("Ilyichevsk", CHORNOMORSK_PORT),
    ("Kotovsk", "podilsk"),
    ("Krasnoarmeysk", POKROVSK),
    ("Proskurov", "khmelnytskyi"),
    ("Stanislaviv", "ivano-frankivsk"),
    ("Novohrad-Volynskyi", ZVIAHEL_1),
    ("Zhdanov", MARIUPOL),
    ("Червоноград", "osm-node-1604695980"),  # Шептицький since 2024
    ("Володимир-Волинський", "osm-node-967922431"),
    ("Tsiurupynsk", "osm-node-1424127418"),
    ("Південне", "bus:5111700000"),  # the 2019 register's "Южне"
    ("Покров", "bus:1212100000"),  # the 2019 register's "Орджонікідзе"
    # misspelt
    ("Харкв", "kharkiv"),
    ("Kyyiv", "kyiv"),
    ("Zaporizhia", "zaporizhzhia"),
    ("Ternopol", "ternopil"),
    ("Vinnytsa", "vinnytsia"),
    ("Chernivsti", "chernivtsi"),
    ("Херсн", "kherson"),
    ("Kharkof", "kharkiv"),
    ("Konotob", "konotop"),
    ("Ужгрод", "uzhhorod"),
    ("Kremenhcuk", KREMENCHUK),  # swapped letters count as one typo
    # Russian vowels for Ukrainian ones, no Russian name in the data
    ("Хмельник", "osm-node-462542878"),
    ("Новоалексеевка", "osm-node-3384647040"),
    ("Житомр", "zhytomyr"),
    # extra words after a known name
    ("Zaporizhzhia oblast center", "zaporizhzhia"),
    ("Lviv vokzal", "lviv"),
    ("Вокзал Київ", "kyiv"),
    ("Odesa main", "odesa"),
    # a keyboard layout typed by mistake
    ("rb]d", "kyiv"),
    ("kmdsd", "lviv"),
    ("jltcf", "odesa"),
    ("lysghj", "dnipro"),
    ("[fhrsd", "kharkiv"),
    ("лшум", "kyiv"),
    ("лрфклшм", "kharkiv"),
    ("дмшм", "lviv"),
    # prefixes
    ("Запор", "zaporizhzhia"),
    ("Харк", "kharkiv"),
    ("Kropyv", "kropyvnytskyi"),
    ("Vinn", "vinnytsia"),
    ("Ivano", "ivano-frankivsk"),
    # apostrophes, soft signs, Latin letters in Cyrillic words
    ("Знамянка", ZNAMIANKA_PAS),
    ("Камянське", KAMIANSKE_PAS),
    ("Словянськ", SLOVIANSK),
    ("Слов’янськ", SLOVIANSK),
    ("Kamyanets Podilskyi", KAMIANETS_PODILSKYI),
    ("Бiла Церква", BILA_TSERKVA),
    ("Рiвне", "rivne"),
    # OSM name vs the railway's ticket name
    ("Славське", SLAVSKO),
    # a rail station before a halt of the same name
    ("Енергодар", "osm-node-2037222506"),
    ("Новоселиця", "osm-node-4616003728"),
]


@pytest.fixture(scope="module")
def network() -> Network:
    from advisor.network.dataset import load_network

    try:
        return load_network()
    except DataError as err:  # pragma: no cover - only before the dataset is built
        pytest.skip(f"shipped network dataset not available: {err.message}")


@pytest.fixture(scope="module")
def index(network) -> StationIndex:
    return StationIndex.build(network)


def _station(
    sid, name_uk, kind=StationKind.RAIL_STATION, lat=50.0, lon=30.0, oblast="UA-32", **kw
) -> Station:
    return Station(sid, name_uk, "", lat, lon, oblast, kind, **kw)


@pytest.fixture
def tiny() -> StationIndex:
    """Three places: a main station, a halt of the same name far away, a renamed town."""
    stations = [
        _station("sunny", "Сонячне-Пас.", is_main=True),
        _station("sunny-halt", "Сонячне", StationKind.HALT, lat=48.0, lon=24.0),
        _station("new-town", "Новоміськ", historic_names=("Старомісто",), lat=49.0),
    ]
    return StationIndex.build(Network.build(stations, [], []), aliases=())


@pytest.mark.parametrize(("query", "expected"), QUERIES)
def test_first_result(index, query, expected):
    matches = index.search(query, limit=5)
    assert matches, f"no result for {query!r}"
    assert matches[0].station.id == expected, [(m.station.id, m.score) for m in matches]
    assert index.resolve(query).id == expected


def test_table_is_large_and_its_ids_exist(network):
    assert len(QUERIES) >= 50
    missing = {sid for _, sid in QUERIES} - set(network.stations)
    assert not missing


def test_city_name_puts_main_station_before_other_stations_of_the_city(index):
    ids = [m.station.id for m in index.search("Київ", limit=10)]
    assert ids[0] == "kyiv"
    assert ids.index("kyiv") < ids.index("kyiv-volynskyi")


def test_rail_station_ranks_before_halt_of_the_same_name(tiny):
    assert [m.station.id for m in tiny.search("Сонячне")] == ["sunny", "sunny-halt"]


def test_station_historic_names_are_searched(tiny):
    assert tiny.resolve("Старомісто").id == "new-town"
    assert tiny.search("Staromisto")[0].matched == "Старомісто"


def test_kinds_filter(index):
    buses = index.search("Київ", kinds={StationKind.BUS_STATION})
    assert buses
    assert all(m.station.kind is StationKind.BUS_STATION for m in buses)
    assert index.resolve("Київ", kinds={StationKind.BUS_STATION}).kind is StationKind.BUS_STATION


def test_scores_descend_and_report_the_name_that_matched(index):
    matches = index.search("Kiev", limit=10)
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert matches[0].score == 100.0
    assert matches[0].matched in {"Kiev", "Киев-Пассажирский"}


def test_exact_id_resolves(index):
    assert index.resolve(SLAVSKO).id == SLAVSKO
    assert index.resolve("kyiv-volynskyi").id == "kyiv-volynskyi"


@pytest.mark.parametrize("query", ["Харківщина", "Warszawa Centralna"])
def test_no_good_match_raises_unknown_station_with_suggestions(index, query):
    with pytest.raises(UnknownStation) as caught:
        index.resolve(query)
    err = caught.value
    assert err.value == query
    assert err.status == 404
    assert err.suggestions, "a near miss must come with suggestions"
    assert len(err.extra["suggested_station_ids"]) == len(err.suggestions)
    assert query in err.message


def test_nonsense_raises_unknown_station(index):
    with pytest.raises(UnknownStation):
        index.resolve("qqqqxxxzzz")


@pytest.mark.parametrize("text", ["", "   ", "\t\n", None, 42])
def test_empty_or_non_text_query_is_invalid(index, text):
    with pytest.raises(InvalidQuery) as caught:
        index.search(text)
    assert not isinstance(caught.value, UnknownStation)
    with pytest.raises(InvalidQuery):
        index.resolve(text)


@pytest.mark.parametrize("text", ["---", "…", "?!", "・"])
def test_query_without_letters_is_invalid(index, text):
    with pytest.raises(InvalidQuery, match="no Latin or Cyrillic letters") as caught:
        index.resolve(text)
    assert not isinstance(caught.value, UnknownStation)


@pytest.mark.parametrize("limit", [0, -1, 101, 2.5, True, "3"])
def test_bad_limit_is_invalid(index, limit):
    with pytest.raises(InvalidQuery, match="limit"):
        index.search("Київ", limit=limit)


def test_over_long_query_is_invalid(index):
    with pytest.raises(InvalidQuery, match="longer than"):
        index.search("К" * 101)


@pytest.mark.parametrize(
    ("query", "ambiguous"),
    [
        ("Київ", False),
        ("Kotovsk", False),  # the station and the 2019 bus stop of one town
        ("Миколаївка", True),  # halts of that name in several oblasts
        ("Stanislav", True),  # Ivano-Frankivsk's old name, and a village in Kherson oblast
        ("Запор", True),
    ],
)
def test_is_ambiguous(index, query, ambiguous):
    assert index.is_ambiguous(query) is ambiguous


def test_suggest_is_looser_than_search(index):
    assert not index.search("Warszawa Centralna")
    assert index.suggest("Warszawa Centralna")


def test_one_letter_is_listed_but_does_not_resolve_alone(index):
    assert index.search("К", limit=3)
    assert all(m.score < RESOLVE_MIN_SCORE for m in index.search("К", limit=3))
    with pytest.raises(UnknownStation):
        index.resolve("К")


def test_matching_keys_fold_spelling_variants():
    assert matching_key("Знам’янка") == matching_key("Знамянка") == matching_key("Znamianka")
    assert matching_key("Обухiв") == matching_key("Обухів") == matching_key("Obukhiv")
    assert matching_key("Kyjiv") == matching_key("Київ") == matching_key("Kyiv")
    assert city_key("Київ-Пас.") == city_key("Kyiv Passenger Railway Station") == "kiv"
    assert city_key("Харьков-Пассажирский") == matching_key("Kharkov")
    assert city_key("Запоріжжя 2") == city_key("Запоріжжя-1") == "zaporizhzhia"


def test_shipped_aliases_name_stations_that_exist(network):
    aliases = load_aliases()
    assert len(aliases) >= 40
    named = {sid for alias in aliases for sid in alias.stations}
    assert named <= set(network.stations), named - set(network.stations)


def test_aliases_restricted_to_an_oblast():
    stations = [
        _station("a", "Сонячне", oblast="UA-12"),
        _station("b", "Сонячне", lat=48.0, lon=24.0, oblast="UA-21"),
    ]
    aliases = [PlaceAliases("Сонячне", historic=("Радянське",), oblast="UA-12")]
    index = StationIndex.build(Network.build(stations, [], []), aliases=aliases)
    assert [m.station.id for m in index.search("Радянське")] == ["a"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[[place]]\nnames = ['x']\n", "no 'name'"),
        ("[[place]]\nname = 'A'\nnames = 'x'\n", "'names' must be a list"),
        ("[[place]]\nname = 'A'\nstation = 5\n", "'station' must be"),
        ("[[place]\n", "not valid TOML"),
    ],
)
def test_malformed_alias_file_is_refused_naming_file(tmp_path, content, problem):
    path = tmp_path / "aliases.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=problem) as caught:
        load_aliases(path)
    assert str(path) in caught.value.message


def test_missing_alias_file_is_refused(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_aliases(tmp_path / "nope.toml")


def test_default_alias_path_is_the_shipped_file():
    assert DEFAULT_ALIASES_PATH.name == "station_aliases.toml"
    assert DEFAULT_ALIASES_PATH.is_file()


def test_doctests():
    assert doctest.testmod(search_module).failed == 0


def test_index_is_immutable(index):
    with pytest.raises(AttributeError):
        index.anything = 1


def test_cli_search_text_and_json(network):
    from click.testing import CliRunner

    from advisor.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["stations", "search", "Kharkov", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split()[0] == "kharkiv"
    result = runner.invoke(main, ["stations", "search", "Kharkov", "--limit", "3", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 3
    assert rows[0]["id"] == "kharkiv"
    assert {"id", "name_uk", "name_latin", "kind", "oblast_iso", "score", "matched"} <= set(rows[0])


@pytest.mark.parametrize(
    ("args", "message"), [(["  "], "empty"), (["Київ", "--limit", "0"], "limit")]
)
def test_cli_search_refuses_bad_input(network, args, message):
    from click.testing import CliRunner

    from advisor.cli import main

    result = CliRunner().invoke(main, ["stations", "search", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_every_station_is_found_by_its_own_names(network, index):
    """Invariant over the whole dataset: each name of a station in Ukraine finds it with a
    full score (stations abroad are never offered: see the next test)."""
    missed = []
    # Every station by its Ukrainian name; every seventh also by its Latin name (time).
    inside = (s for s in network.stations.values() if s.oblast_iso)
    for number, station in enumerate(inside):
        names = (station.name_uk, station.name_latin) if number % 7 == 0 else (station.name_uk,)
        for name in filter(None, names):
            found = {m.station.id: m.score for m in index.search(name, limit=100)}
            if found.get(station.id) != 100.0:
                missed.append((station.id, name, found.get(station.id)))
    assert not missed, missed[:10]


def test_stations_abroad_are_never_suggested(network, index):
    abroad = [s for s in network.stations.values() if not s.oblast_iso]
    assert len(abroad) > 20  # Moldova, Belarus and Russia border points in the source
    for station in abroad[::5]:
        for finder in (index.search, index.suggest):
            found = [m.station for m in finder(station.name_uk)]
            assert all(s.oblast_iso for s in found), (station.name_uk, found)


@pytest.mark.parametrize(
    ("text", "expected_name", "oblast"),
    [
        ("Myrnohrad", "Центральна", "UA-14"),  # the town's station; not Kropyvnytskyi
        ("Dymytrov", "Центральна", "UA-14"),  # the pre-2016 name; not a halt in Odesa oblast
        ("Konstantinovka", "Костянтинівка", "UA-14"),  # the city before a Cherkasy halt
        ("Київ-Дарниця", "Дарниця", "UA-30"),  # a named station of a city is itself
        ("Kyiv-Darnytsia", "Дарниця", "UA-30"),
        ("Львів-Підзамче", "Підзамче", "UA-46"),
        ("Котовськ", "Подільськ", "UA-51"),  # renamed places, both ways
        ("Podilsk", "Подільськ", "UA-51"),
        ("Іллічівськ", "Чорноморськ", "UA-51"),
    ],
)
def test_issue_12_search_cases(index, text, expected_name, oblast):
    top = index.resolve(text)
    assert top.name_uk.startswith(expected_name) and top.oblast_iso == oblast


def test_renamed_bus_stops_bear_the_current_name_and_keep_the_old_one(network, index):
    podilsk = network.get_station("bus:5111200000")
    assert podilsk.name_uk == "Подільськ" and "Котовськ" in podilsk.historic_names
    assert network.get_station("bus:5110800000").name_uk == "Чорноморськ"
    assert "bus:5111200000" in [m.station.id for m in index.search("Котовськ", limit=3)]
    assert "bus:5111200000" in [m.station.id for m in index.search("Подільськ", limit=3)]


def test_halt_loses_to_a_city_of_a_similar_name_but_keeps_its_own_exact_name(index):
    # "Dmytrove" is the halt's own Latin name: a full score; "Dymytrov" only resembles it
    assert index.search("Дмитрове (1413 км)", limit=1)[0].station.kind is StationKind.HALT
    near = {m.station.id: m.score for m in index.search("Dymytrov", limit=10)}
    assert near.get("osm-node-3379973849", 0) < RESOLVE_MIN_SCORE


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120))
def test_any_text_gives_ranked_results_or_a_clear_error(network, index, text):
    try:
        matches = index.search(text, limit=7)
    except InvalidQuery as err:
        assert err.field == "station"
        return
    assert len(matches) <= 7
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    assert len({m.station.id for m in matches}) == len(matches)
    try:
        station = index.resolve(text)
    except InvalidQuery:
        return
    assert network.stations[station.id] is station
