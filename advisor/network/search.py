"""Station search: find a station from what a passenger types.

A passenger types a city or station name in Ukrainian, in Latin letters, in English or in
Russian, with a historic name ("Dnipropetrovsk"), a common foreign spelling ("Kharkov"), without
apostrophes or soft signs ("Знамянка"), or on the wrong keyboard layout ("rb]d" for "київ").
:class:`StationIndex` folds every name of every station, and the query, to one Latin *matching
key* and looks the query up exactly (score 100), without station words such as "-Пас." (95),
by prefix (90), by its typos (85 for one typo, less for more) and fuzzily (rapidfuzz). Equal
scores are broken so that rail stations come before bus stops and halts, and a city's main
passenger station before its other stations.

Names come from the stations themselves (Ukrainian, KMU 2010 Latin, OSM English and Russian,
historic), from their settlement, and from ``config/station_aliases.toml`` (common spellings,
former names, towns the 2019 bus register lists under an old name).

Examples
--------
>>> from advisor.network.model import Network, Station, StationKind
>>> kyiv = Station("kyiv", "Київ-Пас.", "Kyiv-Pas.", 50.44, 30.48, "UA-30",
...                StationKind.RAIL_STATION, name_ru="Киев-Пассажирский", is_main=True)
>>> volynskyi = Station("kyiv-volynskyi", "Київ-Волинський", "Kyiv-Volynskyi", 50.43, 30.45,
...                     "UA-30", StationKind.RAIL_STATION)
>>> index = StationIndex.build(Network.build([kyiv, volynskyi], [], []), aliases=())
>>> [m.station.id for m in index.search("Київ")]
['kyiv', 'kyiv-volynskyi']
>>> index.resolve("Киев").id
'kyiv'
>>> index.resolve("rb]d").id
'kyiv'
>>> matching_key("Знам’янка-Пас.")
'znamianka pas'
>>> city_key("Знам’янка-Пас.")
'znamianka'
"""

from __future__ import annotations

import bisect
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from translitua import UkrainianKMU, translit

from advisor.errors import DataError, InvalidQuery, UnknownStation
from advisor.network.geo import crowfly_km
from advisor.network.model import Network, Station, StationKind
from advisor.settings import CONFIG_DIR, read_toml

__all__ = [
    "DEFAULT_ALIASES_PATH",
    "Match",
    "PlaceAliases",
    "StationIndex",
    "city_key",
    "load_aliases",
    "matching_key",
]

logger = logging.getLogger(__name__)

DEFAULT_ALIASES_PATH = CONFIG_DIR / "station_aliases.toml"  # settings locates config/

MAX_QUERY_CHARS = 100
MAX_LIMIT = 100

# Scores are on a 0–100 scale. An exact key beats any prefix, a prefix beats any fuzzy match,
# so that "Запор" lists Запоріжжя before a misspelt near-miss.
EXACT_SCORE = 100.0
REDUCED_SCORE = 95.0  # the query without its station words is a known name
PREFIX_SCORE = 90.0
LEADING_WORDS_SCORE = 80.0  # the query's first words are a known name, the rest is not
CONSONANT_SCORE = 80.0  # same consonants: Russian vs Ukrainian vowels (Хмельник, Хмільник)
MIN_SKELETON_CONSONANTS = 4  # shorter skeletons collide too often
SHORT_PREFIX_SCORE = 60.0  # one or two letters say too little to resolve a station
FUZZY_TOP_SCORE = 85.0  # one typo: still below PREFIX_SCORE
FUZZY_EDIT_STEP = 5.0  # each further typo within the budget
FUZZY_WEIGHT = 0.7  # beyond the typo budget: the rapidfuzz ratio, scaled below resolving
FUZZY_CUTOFF = 70.0  # raw rapidfuzz ratio below which a key is not a candidate
SUGGEST_CUTOFF = 50.0  # looser cutoff for "did you mean" suggestions
LAYOUT_PENALTY = 3.0  # a query retyped from the other keyboard layout is a guess
DERIVED_NAME_PENALTY = 1.0  # a name the station has only through its settlement
HALT_PENALTY = 15.0  # a halt loses to a city of a similar name (Дмитрове, a halt in Odesa
# oblast, for "Dymytrov"); it keeps the full score on its own exact name
CITY_STATION_KM = 15.0  # "Київ-Дарниця": a station this close to a city is also "City-Name"
RESOLVE_MIN_SCORE = 75.0  # a fuzzy match needs a rapidfuzz ratio of about 88
AMBIGUITY_MARGIN = 4.0  # below the 5 points between an exact and a reduced name
SAME_PLACE_KM = 15.0
MIN_PREFIX_CHARS = 3
MIN_FUZZY_CHARS = 3

HALT = StationKind.HALT
_KIND_ORDER = {
    StationKind.RAIL_STATION: 0,
    StationKind.BUS_STATION: 1,
    StationKind.CITY_STOP: 2,
    StationKind.HALT: 3,
}

# --- normalisation -------------------------------------------------------------------------

_APOSTROPHES = dict.fromkeys(map(ord, "'’ʼ`´‘ʹ′\"«»"), None)
# Russian-only letters, folded to the Ukrainian letters translitua's KMU table knows.
_RUSSIAN_LETTERS = str.maketrans({"ё": "е", "ы": "и", "э": "е", "ъ": None})
# After transliteration: spellings that differ only by convention get one form
# (Kyjiv/Kyiv → i, Gomel/Homel → h, Lwow/Lvov → v).
_LATIN_FOLD = str.maketrans({"y": "i", "j": "i", "g": "h", "w": "v"})
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_DOUBLED = re.compile(r"([a-z])\1+")
_VOWELS = re.compile(r"[aeiou]+")
# Words that name a station of a city rather than the city: "-Пас.", "-Головний", "-1" …
# (matched on the folded key, so Ukrainian, Latin and Russian forms are covered at once).
_STATION_SUFFIX = re.compile(
    r"(?: (?:pas|pasazhir[a-z]*|pasenher|holovn[a-z]*|hlavn[a-z]*|main|railvai|station"
    r"|vokzal|[0-9]+|i{1,3}))+$"
)
_STATION_PREFIX = re.compile(
    r"^(?:stantsiia|st|station|vokzal|zaliznichnii vokzal|zupinnii punkt|zp) "
)


def matching_key(text: str) -> str:
    """Fold *text* to the Latin key used for matching.

    Casefolds, drops apostrophes and diacritics, transliterates Cyrillic (KMU 2010, with
    Russian-only letters folded first), unifies i/y/j, g/h, v/w, collapses doubled letters
    and turns punctuation into single spaces.

    Examples
    --------
    >>> matching_key("Київ"), matching_key("Kyjiv"), matching_key("KIEV")
    ('kiv', 'kiv', 'kiev')
    >>> matching_key("Знамянка") == matching_key("Знам'янка") == matching_key("Znamyanka")
    True
    >>> matching_key("Обухiв") == matching_key("Обухів")
    True
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    text = translit(text.translate(_RUSSIAN_LETTERS), UkrainianKMU).lower()
    if not text.isascii():  # Ł, ó, ă … lose their marks; other scripts pass through
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _DOUBLED.sub(r"\1", text.translate(_LATIN_FOLD))
    return _NOT_ALNUM.sub(" ", text).strip()


def city_key(text: str) -> str:
    """The matching key of *text* without station words ("-Пас.", "-Головна", "-1" …).

    Examples
    --------
    >>> city_key("Одеса-Головна"), city_key("Запоріжжя-1"), city_key("Киев-Пассажирский")
    ('odesa', 'zaporizhzhia', 'kiev')
    >>> city_key("Kyiv Passenger Railway Station")
    'kiv'
    """
    return _reduced(matching_key(text))


def _fuzzy_score(query: str, key: str, ratio: float) -> float:
    """Score a near miss by its typos: one typo per 8 letters may still resolve.

    Typos are counted as optimal-string-alignment edits, so a swapped pair of letters
    ("Chernivsti") is one typo. Beyond the budget the score follows the rapidfuzz ratio and
    stays below :data:`RESOLVE_MIN_SCORE`: "Харківщина" must not resolve to "Гладківщина".

    >>> _fuzzy_score("kharkof", "kharkov", 85.7), _fuzzy_score("chernivsti", "chernivtsi", 80.0)
    (85.0, 85.0)
    >>> _fuzzy_score("kharkivshchina", "hladkivshchina", 85.7)
    60.0
    """
    typos = OSA.distance(query, key)
    budget = 1 + len(query) // 8
    if typos <= budget:
        return FUZZY_TOP_SCORE - FUZZY_EDIT_STEP * (typos - 1)
    return float(round(ratio * FUZZY_WEIGHT))


def _consonants(key: str) -> str:
    """The consonants of a matching key, or "" when there are too few to tell names apart.

    Russian and Ukrainian forms of a name differ mostly in vowels (Хмельник / Хмільник,
    Берегово / Берегове), which a fuzzy ratio punishes as much as any other letter.

    >>> _consonants(matching_key("Хмельник")) == _consonants(matching_key("Хмільник"))
    True
    >>> _consonants(matching_key("Одеса"))
    ''
    """
    skeleton = _VOWELS.sub("", key)
    return skeleton if len(skeleton.replace(" ", "")) >= MIN_SKELETON_CONSONANTS else ""


def _reduced(key: str) -> str:
    stripped = _STATION_SUFFIX.sub("", _STATION_PREFIX.sub("", key))
    return stripped or key


# --- keyboard layouts ----------------------------------------------------------------------

_QWERTY = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`\\{}:\"<>~"
_UK_LAYOUT = "йцукенгшщзхїфівапролджєячсмитьбюʼґхїжєбюʼ"
_RU_LAYOUT = "йцукенгшщзхъфывапролджэячсмитьбюёґхъжэбюё"
_LATIN_TO_UK = str.maketrans(_QWERTY, _UK_LAYOUT)
_LATIN_TO_RU = str.maketrans(_QWERTY, _RU_LAYOUT)
_UNSHIFTED = _QWERTY.index("{")  # the inverse map sends х to "[", not to "{"
_CYRILLIC_TO_LATIN = str.maketrans(
    {
        **dict(zip(_RU_LAYOUT[:_UNSHIFTED], _QWERTY, strict=False)),
        **dict(zip(_UK_LAYOUT[:_UNSHIFTED], _QWERTY, strict=False)),
    }
)
_LATIN_KEYS = frozenset(_QWERTY + "abcdefghijklmnopqrstuvwxyz ")
_CYRILLIC_KEYS = frozenset(_UK_LAYOUT + _RU_LAYOUT + " ")


def _layout_variants(text: str) -> list[str]:
    """The query as it would read had it been typed on the other keyboard layout.

    >>> _layout_variants("rb]d")
    ['київ', 'киъв']
    >>> _layout_variants("лшум")
    ['kiev']
    >>> _layout_variants("Обухiв")
    []
    """
    lowered = text.casefold()
    if set(lowered) <= _LATIN_KEYS:
        variants = [lowered.translate(_LATIN_TO_UK), lowered.translate(_LATIN_TO_RU)]
    elif set(lowered) <= _CYRILLIC_KEYS:
        variants = [lowered.translate(_CYRILLIC_TO_LATIN)]
    else:
        return []
    return list(dict.fromkeys(v for v in variants if v != lowered))


# --- aliases -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceAliases:
    """Other names of one place: common spellings, Russian and English forms, historic names.

    The names are attached to every station whose :func:`city_key` equals that of ``name``
    (the current Ukrainian name) and, when ``oblast`` is set, that lies in that oblast; and to
    each of ``stations`` (ids; for a city whose stations bear another name, e.g. Полтава →
    Полтава-Київська, or a 2019 bus stop still under its old name).
    """

    name: str
    names: tuple[str, ...] = ()
    historic: tuple[str, ...] = ()
    stations: tuple[str, ...] = ()
    oblast: str = ""


def load_aliases(path: Path | None = None) -> tuple[PlaceAliases, ...]:
    """Read place aliases from a TOML file (default ``config/station_aliases.toml``).

    Raises :class:`DataError` naming the file and the entry when it is missing or malformed.
    """
    path = DEFAULT_ALIASES_PATH if path is None else Path(path)
    data = read_toml(path, DataError)
    return tuple(_place_aliases(path, n, entry) for n, entry in enumerate(data.get("place", [])))


def _place_aliases(path: Path, number: int, entry: dict) -> PlaceAliases:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"{path}: [[place]] number {number + 1} has no 'name'")
    lists = {key: entry.get(key, []) for key in ("names", "historic")}
    for key, value in lists.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DataError(f"{path}: [[place]] {name!r}: '{key}' must be a list of strings")
    return PlaceAliases(
        name=name,
        names=tuple(lists["names"]),
        historic=tuple(lists["historic"]),
        stations=_station_ids(path, name, entry.get("station", ())),
        oblast=str(entry.get("oblast", "")),
    )


def _station_ids(path: Path, name: str, value) -> tuple[str, ...]:
    ids = [value] if isinstance(value, str) else value
    if not isinstance(ids, list | tuple) or not all(isinstance(v, str) for v in ids):
        raise DataError(f"{path}: [[place]] {name!r}: 'station' must be an id or a list of ids")
    return tuple(ids)


# --- the index -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """One search result: the station, a score from 0 to 100 and the name that matched."""

    station: Station
    score: float
    matched: str


@dataclass(frozen=True, slots=True)
class _Posting:
    station: int  # position in StationIndex._stations
    name: str  # the name as written, reported as Match.matched
    penalty: float = 0.0  # taken off every score reached through this name


class StationIndex:
    """An immutable search index over the stations of one :class:`Network`.

    Build it once per network with :meth:`build`; it is safe to share between threads.
    """

    __slots__ = ("_key_pos", "_keys", "_network", "_postings", "_rank", "_skeletons", "_stations")

    def __init__(self, network, stations, keys, postings, rank):
        self._network = network
        self._stations = stations
        self._keys = keys  # sorted unique matching keys
        self._key_pos = {key: i for i, key in enumerate(keys)}
        self._skeletons: dict[str, list[int]] = {}  # consonant skeleton -> key positions
        for pos, key in enumerate(keys):
            skeleton = _consonants(key)
            if skeleton:
                self._skeletons.setdefault(skeleton, []).append(pos)
        self._postings = postings  # per key: tuple of _Posting
        self._rank = rank  # per station: tie-break tuple, smaller first

    @classmethod
    def build(cls, network: Network, aliases: Iterable[PlaceAliases] | None = None) -> StationIndex:
        """Index every name of every station in *network*.

        *aliases* defaults to :func:`load_aliases` of the shipped file; pass ``()`` for none.
        """
        if aliases is None:
            aliases = load_aliases()
        # Stations abroad (no oblast) are never a passenger's origin or destination here.
        stations = tuple(
            sorted((s for s in network.stations.values() if s.oblast_iso), key=lambda s: s.id)
        )
        folded: dict[str, str] = {}  # many names repeat (Latin = English, alias = settlement)

        def fold(name: str) -> str:
            return folded[name] if name in folded else folded.setdefault(name, matching_key(name))

        places = tuple(_reduced(fold(s.name_uk)) for s in stations)
        extra = _alias_names(stations, places, aliases)
        derived = _alias_names(stations, places, _settlement_aliases(network))
        for pos, names in _city_station_names(network, stations).items():
            derived.setdefault(pos, []).extend(names)
        by_key = _keys_by_station(stations, extra, derived, fold)
        keys = sorted(by_key)
        postings = tuple(
            tuple(_Posting(pos, *named) for pos, named in by_key[key].items()) for key in keys
        )
        rank = tuple(_station_rank(s) for s in stations)
        logger.debug("station index: %d stations, %d keys", len(stations), len(keys))
        return cls(network, stations, keys, postings, rank)

    def __len__(self) -> int:
        return len(self._stations)

    @property
    def key_count(self) -> int:
        """How many distinct matching keys the index holds."""
        return len(self._keys)

    def search(
        self, text: str, limit: int = 10, kinds: Iterable[StationKind] | None = None
    ) -> list[Match]:
        """The stations matching *text*, best first, at most *limit* of them.

        *kinds* keeps only stations of those kinds. Raises :class:`InvalidQuery` for empty
        or over-long text or a bad limit.
        """
        text = _checked_text(text)
        limit = _checked_limit(limit)
        allowed = frozenset(kinds) if kinds is not None else None
        return self._ranked(self._best(text, allowed, FUZZY_CUTOFF), limit)

    def resolve(self, text: str, kinds: Iterable[StationKind] | None = None) -> Station:
        """The one station *text* means: an exact id, else the best match.

        Raises :class:`UnknownStation` with suggestions when nothing matches well enough.
        """
        text = _checked_text(text)
        station = self._network.find_station(text)
        if station is not None and (kinds is None or station.kind in set(kinds)):
            return station
        matches = self.search(text, limit=1, kinds=kinds)
        if matches and matches[0].score >= RESOLVE_MIN_SCORE:
            return matches[0].station
        raise self._unknown(text, kinds)

    def is_ambiguous(self, text: str, kinds: Iterable[StationKind] | None = None) -> bool:
        """True when several places match *text* about equally well ("did you mean …?").

        Stations of one settlement, or less than 15 km apart, count as one place.
        """
        matches = self.search(text, limit=10, kinds=kinds)
        if not matches or matches[0].score < RESOLVE_MIN_SCORE:
            return bool(matches)
        top = matches[0]
        close = (m for m in matches[1:] if top.score - m.score <= AMBIGUITY_MARGIN)
        return any(not self._same_place(top.station, m.station) for m in close)

    def suggest(self, text: str, limit: int = 5) -> list[Match]:
        """Loose matches for a "did you mean" list (lower fuzzy cutoff than :meth:`search`)."""
        text = _checked_text(text)
        return self._ranked(self._best(text, None, SUGGEST_CUTOFF), _checked_limit(limit))

    # --- private ---------------------------------------------------------------------------

    def _unknown(self, text: str, kinds) -> UnknownStation:
        allowed = frozenset(kinds) if kinds is not None else None
        near = self._ranked(self._best(text, allowed, SUGGEST_CUTOFF), 5)
        names = [m.station.name_uk for m in near]
        hint = f"; did you mean {', '.join(names)}?" if names else ""
        return UnknownStation(
            f"no station matches {text!r}{hint}",
            field="station",
            value=text,
            suggestions=names,
            extra={"suggested_station_ids": [m.station.id for m in near]},
        )

    def _best(self, text: str, allowed, cutoff: float) -> dict[int, tuple[float, str]]:
        """Best (score, matched name) per station over the query and its layout variants."""
        best: dict[int, tuple[float, str]] = {}
        key = matching_key(text)
        self._collect(key, 0.0, allowed, cutoff, best)
        if max((score for score, _ in best.values()), default=0.0) < EXACT_SCORE:
            variants = [matching_key(variant) for variant in _layout_variants(text)]
            if not key and not any(variants):
                raise InvalidQuery(
                    f"station search text {text!r} has no Latin or Cyrillic letters or digits",
                    field="station",
                    value=text,
                )
            for variant in variants:
                self._collect(variant, LAYOUT_PENALTY, allowed, cutoff, best)
        return best

    def _collect(self, key: str, penalty: float, allowed, cutoff: float, best: dict) -> None:
        if not key:
            return
        for key_pos, score in self._candidates(key, cutoff):
            for posting in self._postings[key_pos]:
                if allowed is not None and self._stations[posting.station].kind not in allowed:
                    continue
                scored = (score - penalty - posting.penalty, posting.name)
                if score < EXACT_SCORE and self._stations[posting.station].kind is HALT:
                    scored = (scored[0] - HALT_PENALTY, posting.name)
                if scored[0] > best.get(posting.station, (-1.0, ""))[0]:
                    best[posting.station] = scored

    def _candidates(self, key: str, cutoff: float) -> Iterable[tuple[int, float]]:
        """(key position, score) for exact, prefix and fuzzy matches of *key*."""
        exact = self._key_pos.get(key)
        if exact is not None:
            yield exact, EXACT_SCORE
        reduced = self._key_pos.get(_reduced(key))
        if reduced is not None and reduced != exact:
            yield reduced, REDUCED_SCORE  # "Тернопіль-Пас." for a station named "Тернопіль"
        if exact is None and reduced is None:
            yield from self._leading_words(key)
            for pos in self._skeletons.get(_consonants(key), ()):
                yield pos, CONSONANT_SCORE
        prefix_score = PREFIX_SCORE if len(key) >= MIN_PREFIX_CHARS else SHORT_PREFIX_SCORE
        pos = bisect.bisect_right(self._keys, key)
        while pos < len(self._keys) and self._keys[pos].startswith(key):
            yield pos, prefix_score
            pos += 1
        if len(key) >= MIN_FUZZY_CHARS:
            found = process.extract(
                key, self._keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
            )
            for candidate, ratio, key_pos in found:
                yield key_pos, _fuzzy_score(key, candidate, ratio)

    def _leading_words(self, key: str) -> Iterable[tuple[int, float]]:
        """The longest known name the query starts with ("Zaporizhzhia oblast center")."""
        words = key.split(" ")
        for count in range(len(words) - 1, 0, -1):
            pos = self._key_pos.get(" ".join(words[:count]))
            if pos is not None:
                yield pos, LEADING_WORDS_SCORE
                return

    def _ranked(self, best: dict[int, tuple[float, str]], limit: int) -> list[Match]:
        order = sorted(best, key=lambda pos: (-best[pos][0], self._rank[pos]))
        return [Match(self._stations[pos], best[pos][0], best[pos][1]) for pos in order[:limit]]

    def _same_place(self, a: Station, b: Station) -> bool:
        if a.settlement and a.settlement == b.settlement:
            return True
        # Two stops of one city (Київ-Пас. and the Kyiv bus station; Podilsk and the 2019
        # register's "Котовськ") lie close together; namesakes elsewhere do not.
        return crowfly_km(a.lat, a.lon, b.lat, b.lon) < SAME_PLACE_KM


def _keys_by_station(
    stations: Sequence[Station],
    extra: dict[int, list[str]],
    derived: dict[int, list[str]],
    fold: Callable[[str], str] = matching_key,
) -> dict[str, dict[int, tuple[str, float]]]:
    """matching key -> {station position: (the name it came from, score penalty)}.

    Full names are entered before their reduced city keys so that ``Match.matched`` reports
    "Kiev" rather than "Киев-Пассажирский" for the query "Kiev". Names *derived* from the
    station's settlement carry a penalty of one point: the station that bears a name itself
    (Слов'янськ) beats one that is merely the settlement's main station (Слов'янськ-Гілка).
    """
    by_key: dict[str, dict[int, tuple[str, float]]] = {}
    reduced: list[tuple[str, int, tuple[str, float]]] = []
    for pos, station in enumerate(stations):
        named = [(n, 0.0) for n in (*_own_names(station), *extra.get(pos, ()))]
        named += [(n, DERIVED_NAME_PENALTY) for n in derived.get(pos, ())]
        for name, penalty in named:
            key = fold(name)
            if key:
                _enter(by_key.setdefault(key, {}), pos, (name, penalty))
                reduced.append((_reduced(key), pos, (name, penalty)))
    for key, pos, entry in reduced:
        _enter(by_key.setdefault(key, {}), pos, entry)
    return by_key


def _enter(postings: dict[int, tuple[str, float]], pos: int, entry: tuple[str, float]) -> None:
    """Keep the first name of a station for a key, unless a later one has a lower penalty."""
    if pos not in postings or entry[1] < postings[pos][1]:
        postings[pos] = entry


def _own_names(station: Station) -> tuple[str, ...]:
    names = (station.name_uk, station.name_latin, station.name_en, station.name_ru)
    return tuple(n for n in (*names, *station.historic_names) if n)


def _alias_names(
    stations: Sequence[Station], places: Sequence[str], aliases: Sequence[PlaceAliases]
) -> dict[int, list[str]]:
    """Alias names per station position: by city key, and by explicit station id."""
    by_place: dict[str, list[int]] = {}
    for pos, place in enumerate(places):
        by_place.setdefault(place, []).append(pos)
    by_id = {s.id: pos for pos, s in enumerate(stations)}
    extra: dict[int, list[str]] = {}
    for alias in aliases:
        targets = {
            pos
            for pos in by_place.get(city_key(alias.name), ())
            if not alias.oblast or stations[pos].oblast_iso == alias.oblast
        }
        for station_id in alias.stations:
            if station_id in by_id:
                targets.add(by_id[station_id])
            else:
                logger.warning("station alias %r names unknown station %r", alias.name, station_id)
        for pos in targets:
            extra.setdefault(pos, []).extend((alias.name, *alias.names, *alias.historic))
    return extra


def _city_station_names(network: Network, stations: Sequence[Station]) -> dict[int, list[str]]:
    """ "City-Station" names for the rail stations of a city that bear a name of their own, as
    the railway writes them: Дарниця is "Київ-Дарниця", Підзамче "Львів-Підзамче".

    Cities are the settlements whose main station is a ticket hub (an Express code); a station
    counts when it lies within :data:`CITY_STATION_KM` of the city's centre.
    """
    cities = [
        s for s in network.settlements.values()
        if any(network.stations[m].uz_code for m in s.main_station_ids if m in network.stations)
    ]  # fmt: skip
    names: dict[int, list[str]] = {}
    for pos, station in enumerate(stations):
        if station.kind is not StationKind.RAIL_STATION:
            continue
        for city in cities:
            if abs(city.lat - station.lat) > 0.2:  # cheap cut before the great circle
                continue
            if crowfly_km(city.lat, city.lon, station.lat, station.lon) > CITY_STATION_KM:
                continue
            if matching_key(station.name_uk).startswith(matching_key(city.name_uk)):
                continue  # Київ-Пас., Київ-Волинський already say "Київ"
            names.setdefault(pos, []).extend(
                (f"{city.name_uk}-{station.name_uk}", f"{city.name_latin}-{station.name_latin}")
            )
    return names


def _settlement_aliases(network: Network) -> list[PlaceAliases]:
    """A settlement's own names point at its main stations and its bus stop (Полтава →
    Полтава-Київська)."""
    return [
        PlaceAliases(
            name=settlement.name_uk,
            names=(settlement.name_latin,) if settlement.name_latin else (),
            stations=tuple(filter(None, (*settlement.main_station_ids, settlement.bus_stop_id))),
            oblast=settlement.oblast_iso,
        )
        for settlement in network.settlements.values()
    ]


def _station_rank(station: Station) -> tuple:
    """Tie-break: rail station, bus stop, halt; main first; ticket hubs; short names.

    Kind comes before ``is_main`` because a town without a known rail station has its bus
    stop marked main, and a rail station of the same name should still come first.
    """
    return (
        _KIND_ORDER.get(station.kind, len(_KIND_ORDER)),
        not station.is_main,
        not station.uz_code,
        len(station.name_uk),
        station.id,
    )


def _checked_text(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidQuery("station search text is empty", field="station", value=text)
    text = text.strip()
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidQuery(
            f"station search text is longer than {MAX_QUERY_CHARS} characters",
            field="station",
            value=text[:MAX_QUERY_CHARS],
        )
    return text


def _checked_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(
            f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}",
            field="limit",
            value=limit,
        )
    return limit
