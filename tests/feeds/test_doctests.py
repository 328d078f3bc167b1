"""The examples in the timetable and partner-feed modules' docstrings run."""

from __future__ import annotations

import doctest

import pytest

import advisor.feeds.partner_alerts
import advisor.network.gtfs
import advisor.network.timetable
import advisor.routing.timetable


@pytest.mark.parametrize(
    "module",
    [advisor.network.gtfs, advisor.network.timetable, advisor.routing.timetable,
     advisor.feeds.partner_alerts],
    ids=lambda m: m.__name__,
)
def test_docstring_examples(module):
    result = doctest.testmod(module, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
