"""RiskIndex.links_at_levels: the cached set the engine's weights use equals the plain pass
over every flagged link, at every window edge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from advisor.risk.coverage import RiskIndex
from advisor.risk.model import RiskLevel
from advisor.risk.parse import flag_from_dict

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)


def _flag(fid, level, target, **window):
    return flag_from_dict({"id": fid, "level": level, "target": target, "reason_uk": "Удар",
                           "reason_en": "Strike", "source": "test", **window})


def test_cached_sets_equal_the_plain_pass(tiny_network):
    flags = [
        _flag("line", "high", {"kind": "line", "line_id": "kyiv-sumy"}),
        _flag("late", "elevated", {"kind": "station", "station_id": "sumy"},
              active_from=(NOW + timedelta(hours=1)).isoformat()),
    ]
    index = RiskIndex.build(flags, tiny_network)
    for at in (NOW, NOW + timedelta(hours=1)):
        levels = index.link_levels(at)
        for wanted in ({RiskLevel.HIGH}, {RiskLevel.ELEVATED, RiskLevel.HIGH}, set()):
            expected = {link for link, level in levels.items() if level in wanted}
            assert index.links_at_levels(at, wanted) == expected
            assert index.links_at_levels(at, wanted) is index.links_at_levels(at, wanted)
    assert index.links_at_levels(NOW, {RiskLevel.ELEVATED}) != index.links_at_levels(
        NOW + timedelta(hours=1), {RiskLevel.ELEVATED}
    )


def test_previous_index_lends_only_unchanged_coverage(tiny_network):
    line = _flag("a", "high", {"kind": "line", "line_id": "kyiv-sumy"})
    station = _flag("b", "elevated", {"kind": "station", "station_id": "sumy"})
    first = RiskIndex.build([line, station], tiny_network)
    moved = _flag("b", "elevated", {"kind": "station", "station_id": "kyiv"})  # same id, edited
    again = RiskIndex.build([line, moved], tiny_network, previous=first)
    fresh = RiskIndex.build([line, moved], tiny_network)
    assert again.coverage == fresh.coverage and again.by_link == fresh.by_link
    assert again.coverage["a"] is first.coverage["a"]  # reused, not resolved again
    assert again.coverage["b"] != first.coverage["b"]
