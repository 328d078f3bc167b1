"""One great-circle distance, one Kyiv time zone, one oblast names table."""

from __future__ import annotations

import doctest
import math
import re
from pathlib import Path

import numpy as np
import pytest

import advisor.network.geo
import advisor.network.oblasts
from advisor.network.geo import EARTH_RADIUS_KM, KYIV_TZ, crowfly_km
from advisor.network.oblasts import OBLAST_NAMES, OBLASTS, oblast_name

PACKAGE = Path(advisor.network.geo.__file__).resolve().parents[1]


@pytest.mark.parametrize("module", [advisor.network.geo, advisor.network.oblasts],
                         ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, verbose=False)
    assert result.attempted > 0 and result.failed == 0


def test_crowfly_is_symmetric_and_zero_on_the_spot():
    kyiv, kharkiv = (50.4406, 30.484), (49.9897, 36.2058)
    assert crowfly_km(*kyiv, *kharkiv) == pytest.approx(crowfly_km(*kharkiv, *kyiv))
    assert crowfly_km(*kyiv, *kyiv) == 0.0
    assert 405 < crowfly_km(*kyiv, *kharkiv) < 415  # about 410 km on any map


def test_one_degree_of_latitude_is_a_sixtieth_of_the_circumference_per_sixty():
    assert crowfly_km(48.0, 30.0, 49.0, 30.0) == pytest.approx(2 * math.pi * EARTH_RADIUS_KM / 360)


def test_antipodes_do_not_fail_on_rounding():
    assert crowfly_km(50.0, 30.0, -50.0, -150.0) == pytest.approx(math.pi * EARTH_RADIUS_KM)


def test_arrays_give_the_same_distances_as_single_points():
    lats, lons = np.array([46.48, 49.84, 50.45, 48.0]), np.array([30.73, 23.99, 30.52, 37.8])
    many = crowfly_km(48.5, 35.0, lats, lons)
    assert isinstance(many, np.ndarray)
    assert many.tolist() == pytest.approx(
        [crowfly_km(48.5, 35.0, la, lo) for la, lo in zip(lats, lons, strict=True)]
    )


def test_the_kyiv_zone_keeps_summer_time():
    from datetime import datetime

    assert datetime(2026, 7, 1, 12, tzinfo=KYIV_TZ).utcoffset().total_seconds() == 3 * 3600
    assert datetime(2026, 1, 1, 12, tzinfo=KYIV_TZ).utcoffset().total_seconds() == 2 * 3600


def test_every_oblast_of_the_shipped_network_has_names(shipped_network):
    assert set(shipped_network.oblasts) == set(OBLASTS)
    assert len(OBLASTS) == 27


@pytest.mark.parametrize("iso", sorted(OBLASTS))
def test_names_are_ukrainian_and_english(iso):
    entry = OBLASTS[iso]
    assert re.fullmatch(r"UA-\d{2}", entry.iso) and entry.iso == iso
    for uk in (entry.name_uk, entry.short_uk):
        assert re.search("[А-ЯІЇЄҐа-яіїєґ]", uk) and uk.strip() == uk
    assert entry.name_en.isascii() and entry.name_en
    assert OBLAST_NAMES[iso] == (entry.name_uk, entry.name_en)
    assert oblast_name(iso, "uk") == entry.name_uk and oblast_name(iso, "en") == entry.name_en


def _sources() -> dict[str, str]:
    return {
        str(path.relative_to(PACKAGE)): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


@pytest.mark.parametrize(
    ("what", "pattern"),
    [
        ("a great-circle formula", r"\b(asin|arcsin|haversine)\s*\("),
        ("the Kyiv time zone", r"ZoneInfo\(\s*[\"']Europe/Kyiv"),
    ],
)
def test_each_helper_is_defined_once(what, pattern):
    where = [name for name, text in _sources().items() if re.search(pattern, text)]
    assert where == ["network/geo.py"], f"{what} found in {where}"


def test_oblast_names_are_listed_once():
    """A module naming ten or more oblast codes is a names table: there is one."""
    where = [
        name for name, text in _sources().items()
        if len(set(re.findall(r"[\"']UA-\d{2}[\"']", text))) >= 10
    ]
    assert where == ["network/oblasts.py"], f"oblast tables in {where}"
