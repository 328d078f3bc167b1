"""A flag on a line ending at a big junction leaves trips that merely reach that junction alone
(shipped network): the flag means the track between the line's ends, not the hub's throat."""

from __future__ import annotations

import pytest

from advisor.routing.model import Verdict
from tests.routing.test_shipped_network import ask, flag

KUPIANSK = "osm-node-1576981974"  # Куп’янськ-Вузловий


def touched(advice):
    """Flags touched by any option of *advice*."""
    return {f.id for o in advice.options for leg in o.legs for f in leg.flags}


@pytest.mark.parametrize(
    ("line_id", "origin", "destination"),
    [
        ("kharkiv-kupiansk", "kyiv", "kharkiv"),
        ("kharkiv-kupiansk", "lviv", "kharkiv"),
        ("lozova-barvinkove-kramatorsk", "kyiv", "lozova"),
        ("lozova-barvinkove-kramatorsk", "kharkiv", "dnipro"),
        ("lozova-synelnykove-zaporizhzhia", "kharkiv", "lozova"),
        ("dnipro-zaporizhzhia", "lozova", "dnipro"),
        ("kyiv-nizhyn-chernihiv", "kyiv", "kharkiv"),
    ],
)
def test_trip_to_the_hub_touches_no_flag_of_a_line_leaving_it(
    shipped_network, line_id, origin, destination
):
    line = flag({"kind": "line", "line_id": line_id})
    advice = ask(shipped_network, [line], origin, destination)
    plain = ask(shipped_network, [], origin, destination)
    assert not touched(advice), [o.explanation_en for o in advice.options]
    assert all(o.verdict is not Verdict.NOT_ADVISED for o in advice.options)
    assert advice.recommended.legs == plain.recommended.legs


def test_kyiv_kupiansk_avoids_the_flagged_line(shipped_network):
    line = flag({"kind": "line", "line_id": "kharkiv-kupiansk"})
    advice = ask(shipped_network, [line], "kyiv", KUPIANSK)
    rec = advice.recommended
    assert rec is not None and not any(leg.flags for leg in rec.legs)
    risky = [o for o in advice.options if any(leg.flags for leg in o.legs)]
    assert risky, "the direct rail way over the flagged line is still shown"
    assert all(o.verdict is Verdict.NOT_ADVISED for o in risky)
