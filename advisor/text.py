"""Text that can be stored, read back, written to JSON files, rendered and logged.

Every text field that enters the service (flag reasons and sources, ids, user names, token
names) passes :func:`check_text` at the boundary. It refuses what cannot survive a round
trip through UTF-8 (lone surrogates such as ``"\\udfff"`` from an escaped JSON string), NUL
(PostgreSQL refuses it in text columns) and other control characters (invisible in the
console, and they break log lines); line breaks and tabs are allowed where a field is
multi-line.

>>> check_text("Обстріли\\nна лінії", "reason_uk", multiline=True)
'Обстріли\\nна лінії'
>>> check_text("a\\udfffb", "reason_en")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
advisor.errors.InvalidQuery: reason_en contains a lone surrogate (U+DFFF) at position 2; ...
"""

from __future__ import annotations

import unicodedata

from advisor.errors import AdvisorError, InvalidQuery

__all__ = ["check_text", "replace_unreadable", "utf8_safe"]

_LINE_BREAKS = frozenset("\n\r\t")


def check_text(
    value: str, field: str, *, multiline: bool = False, error: type[AdvisorError] = InvalidQuery
) -> str:
    """*value* unchanged if every character can be stored and shown; else *error* naming
    *field*, the character (as ``U+XXXX``) and its position."""
    for position, char in enumerate(value, start=1):
        problem = _problem(char, multiline)
        if problem:
            raise error(
                f"{field} contains {problem} (U+{ord(char):04X}) at position {position}; "
                "remove it and send plain text",
                field=field,
                value=f"U+{ord(char):04X}",
            )
    return value


def _problem(char: str, multiline: bool) -> str:
    category = unicodedata.category(char)
    if category == "Cs":
        return "a lone surrogate"
    if char == "\x00":
        return "a NUL character"
    if category == "Cc" and not (multiline and char in _LINE_BREAKS):
        return "a control character"
    if category == "Cn" and (ord(char) & 0xFFFE) == 0xFFFE:
        return "a non-character"
    return ""


def utf8_safe(text: str) -> bytes:
    """*text* as UTF-8 even if it holds a lone surrogate (written as ``\\udfff``), so a
    response body, log line or file can always be written.

    >>> utf8_safe("ok \\udfff")
    b'ok \\\\udfff'
    """
    return text.encode("utf-8", "backslashreplace")


def replace_unreadable(value, multiline: bool = True):
    """*value* with every character :func:`check_text` refuses replaced by U+FFFD, in
    strings nested in lists and dicts too: rows stored before the check existed stay
    readable.

    >>> replace_unreadable({"reason_en": "x\udfff", "n": [1, "a\x00"]})
    {'reason_en': 'x�', 'n': [1, 'a�']}
    """
    if isinstance(value, str):
        return "".join("\ufffd" if _problem(c, multiline) else c for c in value)
    if isinstance(value, dict):
        return {replace_unreadable(k): replace_unreadable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_unreadable(v) for v in value]
    return value
