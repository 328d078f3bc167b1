"""Factories with valid defaults for flags in the flag dict shape."""

from __future__ import annotations

import itertools

_ids = itertools.count(1)


def flag_data(**overrides) -> dict:
    """A valid flag dict as the API takes it (a draft on a line); override any field."""
    data = {
        "id": f"t-{next(_ids)}",
        "level": "high",
        "target": {"kind": "line", "line_id": "lozova-kramatorsk"},
        "reason_uk": "Обстріли",
        "reason_en": "Strikes",
        "source": "Ukrzaliznytsia",
        "status": "draft",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_flag(**overrides):
    """A :class:`Flag` from :func:`flag_data`."""
    from advisor.risk.parse import flag_from_dict

    return flag_from_dict(flag_data(**overrides))
