"""The console's catalogue: every text has a Ukrainian translation and the .mo is current."""

from __future__ import annotations

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from advisor.web.operator import TRANSLATIONS


def _po(path):
    with path.open("rb") as fh:
        return read_po(fh)


def test_every_console_text_is_translated_to_ukrainian():
    template = _po(TRANSLATIONS / "messages.pot")
    uk = _po(TRANSLATIONS / "uk" / "LC_MESSAGES" / "messages.po")
    missing = [m.id for m in template if m.id and (m.id not in uk or not uk[m.id].string)]
    assert missing == []


def test_compiled_catalogue_matches_its_source():
    source = _po(TRANSLATIONS / "uk" / "LC_MESSAGES" / "messages.po")
    with (TRANSLATIONS / "uk" / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        compiled = read_mo(fh)
    expected = {_key(m.id): _key(m.string) for m in source if m.id and m.string}
    found = {_key(m.id): _key(m.string) for m in compiled if m.id}
    assert found == expected


def _key(value):
    # Plural entries are tuples in a .po and lists in a .mo.
    return tuple(value) if isinstance(value, (list, tuple)) else value
