"""Ukraine's oblasts (and the two cities and Crimea with their status): the one names table.

ISO 3166-2:UA codes, the official Ukrainian name, an English one (KMU 2010 transliteration,
as the railway writes it) and a short Ukrainian form for lists. The network dataset carries
the oblast polygons and geoBoundaries' English names; passenger and operator texts take their
names from here.

Examples
--------
>>> OBLAST_NAMES["UA-63"]
('Харківська область', 'Kharkiv oblast')
>>> oblast_name("UA-30", "uk", short=True), oblast_name("UA-30", "en")
('Київ', 'Kyiv city')
>>> oblast_name("UA-99", "en")
'UA-99'
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["OBLASTS", "OBLAST_NAMES", "OblastName", "oblast_name", "oblast_of_koatuu"]


@dataclass(frozen=True)
class OblastName:
    """The names of one first-level division.

    Attributes
    ----------
    iso : str
        ISO 3166-2:UA code, e.g. ``"UA-63"``.
    name_uk : str
        Official Ukrainian name: "Харківська область", "місто Київ".
    name_en : str
        English name: "Kharkiv oblast", "Kyiv city".
    short_uk : str
        Short Ukrainian form for lists and hints: "Харківська обл.", "Київ".
    """

    iso: str
    name_uk: str
    name_en: str
    short_uk: str


_TABLE = (
    OblastName("UA-05", "Вінницька область", "Vinnytsia oblast", "Вінницька обл."),
    OblastName("UA-07", "Волинська область", "Volyn oblast", "Волинська обл."),
    OblastName("UA-09", "Луганська область", "Luhansk oblast", "Луганська обл."),
    OblastName("UA-12", "Дніпропетровська область", "Dnipropetrovsk oblast",
               "Дніпропетровська обл."),
    OblastName("UA-14", "Донецька область", "Donetsk oblast", "Донецька обл."),
    OblastName("UA-18", "Житомирська область", "Zhytomyr oblast", "Житомирська обл."),
    OblastName("UA-21", "Закарпатська область", "Zakarpattia oblast", "Закарпатська обл."),
    OblastName("UA-23", "Запорізька область", "Zaporizhzhia oblast", "Запорізька обл."),
    OblastName("UA-26", "Івано-Франківська область", "Ivano-Frankivsk oblast",
               "Івано-Франківська обл."),
    OblastName("UA-30", "місто Київ", "Kyiv city", "Київ"),
    OblastName("UA-32", "Київська область", "Kyiv oblast", "Київська обл."),
    OblastName("UA-35", "Кіровоградська область", "Kirovohrad oblast", "Кіровоградська обл."),
    OblastName("UA-40", "місто Севастополь", "Sevastopol", "Севастополь"),
    OblastName("UA-43", "Автономна Республіка Крим", "Autonomous Republic of Crimea", "АР Крим"),
    OblastName("UA-46", "Львівська область", "Lviv oblast", "Львівська обл."),
    OblastName("UA-48", "Миколаївська область", "Mykolaiv oblast", "Миколаївська обл."),
    OblastName("UA-51", "Одеська область", "Odesa oblast", "Одеська обл."),
    OblastName("UA-53", "Полтавська область", "Poltava oblast", "Полтавська обл."),
    OblastName("UA-56", "Рівненська область", "Rivne oblast", "Рівненська обл."),
    OblastName("UA-59", "Сумська область", "Sumy oblast", "Сумська обл."),
    OblastName("UA-61", "Тернопільська область", "Ternopil oblast", "Тернопільська обл."),
    OblastName("UA-63", "Харківська область", "Kharkiv oblast", "Харківська обл."),
    OblastName("UA-65", "Херсонська область", "Kherson oblast", "Херсонська обл."),
    OblastName("UA-68", "Хмельницька область", "Khmelnytskyi oblast", "Хмельницька обл."),
    OblastName("UA-71", "Черкаська область", "Cherkasy oblast", "Черкаська обл."),
    OblastName("UA-74", "Чернігівська область", "Chernihiv oblast", "Чернігівська обл."),
    OblastName("UA-77", "Чернівецька область", "Chernivtsi oblast", "Чернівецька обл."),
)

#: Every division by ISO code.
OBLASTS = MappingProxyType({o.iso: o for o in _TABLE})
#: ISO code -> (Ukrainian, English) full names, as sentences and alerts use them.
OBLAST_NAMES = MappingProxyType({o.iso: (o.name_uk, o.name_en) for o in _TABLE})


def oblast_name(iso: str, locale: str, short: bool = False) -> str:
    """The name of *iso* in *locale* (``uk``, else English); the code itself when unknown.

    *short* gives the list form in Ukrainian ("Харківська обл."); English has one form.
    """
    entry = OBLASTS.get(iso)
    if entry is None:
        return iso
    if locale == "uk":
        return entry.short_uk if short else entry.name_uk
    return entry.name_en


#: ISO code by the first two digits of a KOATUU code (the 2019 bus register's settlement codes):
#: the code says which oblast a settlement is in, its coordinates where it is.
_KOATUU_PREFIX = MappingProxyType({
    "01": "UA-43", "05": "UA-05", "07": "UA-07", "12": "UA-12", "14": "UA-14", "18": "UA-18",
    "21": "UA-21", "23": "UA-23", "26": "UA-26", "32": "UA-32", "35": "UA-35", "44": "UA-09",
    "46": "UA-46", "48": "UA-48", "51": "UA-51", "53": "UA-53", "56": "UA-56", "59": "UA-59",
    "61": "UA-61", "63": "UA-63", "65": "UA-65", "68": "UA-68", "71": "UA-71", "73": "UA-77",
    "74": "UA-74", "80": "UA-30", "85": "UA-40",
})  # fmt: skip


def oblast_of_koatuu(koatuu: str) -> str:
    """The ISO code of the oblast a KOATUU code names, or ``""`` for an unknown prefix.

    >>> oblast_of_koatuu("0710100000"), oblast_of_koatuu("4410100000"), oblast_of_koatuu("99")
    ('UA-07', 'UA-09', '')
    """
    return _KOATUU_PREFIX.get(koatuu[:2], "")
