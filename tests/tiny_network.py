"""A tiny purpose-built network for tests (others reuse it through the ``tiny_network`` fixture).

Rail (minutes are made up but plausible; ids follow the shipped dataset's style)::

    kyiv ─200─ poltava ─80─ lubotyn ─25─ kharkiv ─100─ lozova ─40─ barvinkove ─60─ kramatorsk
     │            └────110 (parallel skip link)──┘          │
     └150─ bakhmach ─180─ sumy    poltava ─170─ lozova      └150─ dnipro ─100─ zaporizhzhia

Buses (2019 register) join the ``bus:<city>`` stops; every city with both a rail station and a
bus stop has a 15-minute transfer. Lines: ``kyiv-kharkiv``, ``kharkiv-lozova``,
``lozova-kramatorsk``, ``poltava-lozova``, ``lozova-dnipro``, ``dnipro-zaporizhzhia``,
``kyiv-sumy``. Oblasts are the real ISO codes (Kharkiv UA-63, Sumy UA-59, Donetsk UA-14 …).
"""

from __future__ import annotations

from advisor.network.model import (
    Line,
    Link,
    LinkSource,
    Mode,
    Network,
    Station,
    StationKind,
    TimeSource,
)

__all__ = ["build_tiny_network"]

_RAIL = {
    # id: (name_uk, latin, lat, lon, oblast)
    "kyiv": ("Київ-Пас.", "Kyiv-Pas.", 50.440, 30.489, "UA-30"),
    "poltava": ("Полтава-Півд.", "Poltava-Pivd.", 49.571, 34.553, "UA-53"),
    "lubotyn": ("Люботин", "Liubotyn", 49.946, 35.929, "UA-63"),
    "kharkiv": ("Харків-Пас.", "Kharkiv-Pas.", 49.990, 36.206, "UA-63"),
    "lozova": ("Лозова", "Lozova", 48.889, 36.318, "UA-63"),
    "barvinkove": ("Барвінкове", "Barvinkove", 48.906, 37.027, "UA-63"),
    "kramatorsk": ("Краматорськ", "Kramatorsk", 48.735, 37.561, "UA-14"),
    "dnipro": ("Дніпро-Голов.", "Dnipro-Holov.", 48.477, 35.014, "UA-12"),
    "zaporizhzhia": ("Запоріжжя-1", "Zaporizhzhia-1", 47.822, 35.188, "UA-23"),
    "bakhmach": ("Бахмач-Пас.", "Bakhmach-Pas.", 51.181, 32.823, "UA-74"),
    "sumy": ("Суми", "Sumy", 50.916, 34.780, "UA-59"),
}
_BUS_CITIES = (
    "kyiv",
    "poltava",
    "kharkiv",
    "lozova",
    "kramatorsk",
    "dnipro",
    "zaporizhzhia",
    "sumy",
)
_RAIL_LINKS = [
    # id, a, b, km, minutes, line, parallel
    ("r-kyiv-poltava", "kyiv", "poltava", 340, 200, "kyiv-kharkiv", False),
    ("r-poltava-lubotyn", "poltava", "lubotyn", 120, 80, "kyiv-kharkiv", False),
    ("r-lubotyn-kharkiv", "lubotyn", "kharkiv", 25, 25, "kyiv-kharkiv", False),
    ("r-poltava-kharkiv", "poltava", "kharkiv", 145, 110, "kyiv-kharkiv", True),
    ("r-kharkiv-lozova", "kharkiv", "lozova", 150, 100, "kharkiv-lozova", False),
    ("r-lozova-barvinkove", "lozova", "barvinkove", 55, 40, "lozova-kramatorsk", False),
    ("r-barvinkove-kramatorsk", "barvinkove", "kramatorsk", 80, 60, "lozova-kramatorsk", False),
    ("r-poltava-lozova", "poltava", "lozova", 220, 170, "poltava-lozova", False),
    ("r-lozova-dnipro", "lozova", "dnipro", 190, 150, "lozova-dnipro", False),
    ("r-dnipro-zaporizhzhia", "dnipro", "zaporizhzhia", 90, 100, "dnipro-zaporizhzhia", False),
    ("r-kyiv-bakhmach", "kyiv", "bakhmach", 190, 150, "kyiv-sumy", False),
    ("r-bakhmach-sumy", "bakhmach", "sumy", 200, 180, "kyiv-sumy", False),
]
_BUS_LINKS = [
    ("b-kyiv-sumy", "kyiv", "sumy", 350, 360),
    ("b-kyiv-kharkiv", "kyiv", "kharkiv", 480, 480),
    ("b-poltava-kharkiv", "poltava", "kharkiv", 145, 170),
    ("b-kharkiv-sumy", "kharkiv", "sumy", 185, 200),
    ("b-lozova-kramatorsk", "lozova", "kramatorsk", 110, 120),
    ("b-dnipro-zaporizhzhia", "dnipro", "zaporizhzhia", 85, 140),
    ("b-dnipro-kramatorsk", "dnipro", "kramatorsk", 250, 270),
]
_LINE_NAMES = {
    "kyiv-kharkiv": ("Київ–Полтава–Харків", "Kyiv–Poltava–Kharkiv", ("kyiv", "poltava", "kharkiv")),
    "kharkiv-lozova": ("Харків–Лозова", "Kharkiv–Lozova", ("kharkiv", "lozova")),
    "lozova-kramatorsk": (
        "Лозова–Барвінкове–Краматорськ",
        "Lozova–Barvinkove–Kramatorsk",
        ("lozova", "barvinkove", "kramatorsk"),
    ),
    "poltava-lozova": ("Полтава–Лозова", "Poltava–Lozova", ("poltava", "lozova")),
    "lozova-dnipro": ("Лозова–Дніпро", "Lozova–Dnipro", ("lozova", "dnipro")),
    "dnipro-zaporizhzhia": ("Дніпро–Запоріжжя", "Dnipro–Zaporizhzhia", ("dnipro", "zaporizhzhia")),
    "kyiv-sumy": ("Київ–Бахмач–Суми", "Kyiv–Bakhmach–Sumy", ("kyiv", "bakhmach", "sumy")),
}


def build_tiny_network() -> Network:
    """The network drawn in the module docstring."""
    stations, links = [], []
    for sid, (uk, latin, lat, lon, oblast) in _RAIL.items():
        kind = StationKind.HALT if sid == "lubotyn" else StationKind.RAIL_STATION
        stations.append(
            Station(sid, uk, latin, lat, lon, oblast, kind, settlement=sid, is_main=True)
        )
    for city in _BUS_CITIES:
        uk, latin, lat, lon, oblast = _RAIL[city]
        stations.append(
            Station(
                f"bus:{city}",
                f"{uk.split('-')[0]} АС",
                f"{latin.split('-')[0]} AS",
                lat + 0.01,
                lon + 0.01,
                oblast,
                StationKind.BUS_STATION,
                settlement=city,
            )
        )
        links.append(
            Link(
                f"t-{city}",
                city,
                f"bus:{city}",
                Mode.TRANSFER,
                1.5,
                15,
                LinkSource.TRANSFER_ESTIMATE,
                TimeSource.TRANSFER_MODEL,
            )
        )
    for lid, a, b, km, minutes, line, parallel in _RAIL_LINKS:
        links.append(
            Link(
                lid,
                a,
                b,
                Mode.RAIL,
                km,
                minutes,
                LinkSource.OSM_TRACK,
                parallel=parallel,
                line_ids=(line,),
            )
        )
    for lid, a, b, km, minutes in _BUS_LINKS:
        links.append(
            Link(
                lid,
                f"bus:{a}",
                f"bus:{b}",
                Mode.BUS,
                km,
                minutes,
                LinkSource.BUS_REGISTER_2019,
                TimeSource.ROAD_LENGTH,
            )
        )
    return Network.build(
        stations, links, _lines(links), metadata={"version": "tiny", "through_services": THROUGH}
    )


# Long-distance trains that run from one line onto the next (no change of train there).
THROUGH = [
    {"name": "Kyiv – Kramatorsk",
     "lines": ["kyiv-kharkiv", "poltava-lozova", "lozova-kramatorsk"]},
    {"name": "Kyiv – Zaporizhzhia",
     "lines": ["kyiv-kharkiv", "poltava-lozova", "lozova-dnipro", "dnipro-zaporizhzhia"]},
    {"name": "Kharkiv – Kramatorsk", "lines": ["kharkiv-lozova", "lozova-kramatorsk"]},
    {"name": "Kharkiv – Dnipro", "lines": ["kharkiv-lozova", "lozova-dnipro"]},
    {"name": "Kyiv – Kharkiv – Lozova", "lines": ["kyiv-kharkiv", "kharkiv-lozova"]},
]  # fmt: skip


def _lines(links: list[Link]) -> list[Line]:
    lines = []
    for line_id, (uk, en, hubs) in _LINE_NAMES.items():
        own = [link for link in links if line_id in link.line_ids]
        stations = []
        for link in own:
            for end in (link.from_id, link.to_id):
                if end not in stations:
                    stations.append(end)
        lines.append(
            Line(line_id, uk, en, hubs, tuple(stations), frozenset(link.id for link in own))
        )
    return lines
