"""Language choice and the wording of estimates, ages and durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from advisor import create_app
from advisor.locale import current_locale
from advisor.web.i18n import format_age, format_minutes, local_time


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app({"testing": True, "instance_path": tmp_path_factory.mktemp("i18n")})


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("", "", "uk"),  # no preference: Ukrainian
        ("", "en-GB,en;q=0.9", "en"),
        ("", "de-DE", "uk"),  # a language we do not have: the default
        ("", "uk,en;q=0.5", "uk"),
        ("?lang=en", "uk", "en"),  # the visible switch wins over the browser
        ("?lang=uk", "en", "uk"),
        ("?lang=xx", "en", "en"),  # an unknown switch value is ignored
    ],
)
def test_locale_choice(app, query, accept, expected):
    headers = {"Accept-Language": accept} if accept else {}
    with app.test_request_context("/" + query, headers=headers):
        assert current_locale() == expected


@pytest.mark.parametrize(
    ("minutes", "estimated", "lang", "expected"),
    [
        (290, True, "uk", "≈ 4 год 50 хв (оцінка)"),
        (291, True, "en", "≈ 4 h 50 min (estimated)"),
        (120, True, "uk", "≈ 2 год (оцінка)"),
        (14, True, "en", "≈ 15 min (estimated)"),
        (1, True, "en", "≈ 5 min (estimated)"),  # never "0 min"
        (47, False, "en", "47 min"),  # a timetabled time is exact and not marked
    ],
)
def test_format_minutes(app, minutes, estimated, lang, expected):
    with app.test_request_context(f"/?lang={lang}"):
        assert format_minutes(minutes, estimated) == expected


def test_format_age_in_both_languages(app):
    now = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
    with app.test_request_context("/?lang=uk"):
        assert format_age(now - timedelta(hours=3), now) == "3 години тому"
        assert format_age(now - timedelta(days=5), now) == "5 днів тому"
        assert format_age(None, now) == "ніколи"
    with app.test_request_context("/?lang=en"):
        assert format_age(now - timedelta(minutes=7), now) == "7 min ago"
        assert format_age(now - timedelta(hours=1), now) == "1 hour ago"


def test_local_time_is_kyiv_time():
    assert local_time(datetime(2026, 3, 12, 6, 0, tzinfo=UTC)) == "2026-03-12 08:00"
    assert local_time(datetime(2026, 7, 1, 6, 0, tzinfo=UTC)) == "2026-07-01 09:00"  # summer
    assert local_time(None) == ""


def test_catalogues_are_compiled_and_shipped():
    from pathlib import Path

    import advisor

    root = Path(advisor.__file__).parent / "translations"
    for lang in ("uk", "en"):
        po = root / lang / "LC_MESSAGES" / "messages.po"
        mo = root / lang / "LC_MESSAGES" / "messages.mo"
        assert mo.exists(), f"{mo} missing: run pybabel compile -d advisor/translations"
        assert mo.stat().st_mtime >= po.stat().st_mtime - 1, f"{mo} is older than {po}"
