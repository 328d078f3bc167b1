"""Line and section flags cover the track between their ends, not the station throats other
lines share to reach the same hub (and skip links inherit only from what stays covered)."""

from __future__ import annotations

import itertools

import pytest

from advisor.network.model import Line, Link, LinkSource, Mode, Network, Station, StationKind
from advisor.risk.coverage import resolve
from advisor.risk.model import Flag, LineTarget, RiskLevel, SectionTarget, StationTarget

# (id, km east of the hub, settlement); every station lies on one parallel of latitude.
_STATIONS = [
    ("hub", 0, "city"), ("throat", 1.5, "city"), ("mid", 21.5, ""), ("a", 41.5, ""),
    ("b", 31.5, ""), ("s1", 30, ""), ("d", 50, ""), ("e", 50, ""),
    ("town", 10, "town"), ("f", 30, ""), ("g", 30, ""),
]  # fmt: skip
# (id, a, b, km, parallel)
_LINKS = [
    ("ht", "hub", "throat", 1.5, False),
    ("tm", "throat", "mid", 20, False),
    ("ma", "mid", "a", 20, False),
    ("skip-ta", "throat", "a", 39.5, True),
    ("skip-hm", "hub", "mid", 21, True),
    ("tb", "throat", "b", 30, False),
    ("hs", "hub", "s1", 30, False),
    ("sd", "s1", "d", 20, False),
    ("se", "s1", "e", 20, False),
    ("hk", "hub", "town", 10, False),
    ("kf", "town", "f", 20, False),
    ("kg", "town", "g", 20, False),
]
# (id, chain of stations, link ids)
_LINES = [
    ("x", ("hub", "throat", "mid", "a"), {"ht", "tm", "ma", "skip-ta", "skip-hm"}),
    ("y", ("hub", "throat", "b"), {"ht", "tb"}),
    ("p", ("hub", "s1", "d"), {"hs", "sd"}),
    ("q", ("hub", "s1", "e"), {"hs", "se"}),
    ("r", ("hub", "town", "f"), {"hk", "kf"}),
    ("s", ("hub", "town", "g"), {"hk", "kg"}),
]


@pytest.fixture(scope="module")
def junction():
    """A hub whose 1.5 km throat lines x and y share before parting; lines p and q share
    30 km out of it; lines r and s share the 10 km to another town."""
    stations = [
        Station(i, i, i, 50.0, 30.0 + km / 71.7, "UA-63", StationKind.RAIL_STATION,
                settlement=town)
        for i, km, town in _STATIONS
    ]  # fmt: skip
    links = [
        Link(i, a, b, Mode.RAIL, km, km, LinkSource.OSM_TRACK, parallel=par)
        for i, a, b, km, par in _LINKS
    ]
    lines = [
        Line(i, i, i, (chain[0], chain[-1]), chain, frozenset(ids)) for i, chain, ids in _LINES
    ]
    return Network.build(stations, links, lines)


def covers(target, network):
    return resolve(Flag("f", RiskLevel.HIGH, target, "Обстріли", "Strikes", "UZ", "ops"), network)


def test_line_flag_leaves_the_shared_throat_and_the_parting_station(junction):
    cov = covers(LineTarget("x"), junction)
    # skip-hm runs beside ht and tm: tm stays covered, so the skip link does too
    assert cov.link_ids == {"tm", "ma", "skip-ta", "skip-hm"}
    assert cov.station_ids == {"mid", "a"}
    other = covers(LineTarget("y"), junction)
    assert other.link_ids == {"tb"}
    assert other.station_ids == {"b"}


def test_station_flag_on_the_hub_still_covers_the_throat(junction):
    assert covers(StationTarget("hub"), junction).link_ids == {"ht", "skip-hm", "hs", "hk"}


def test_section_from_the_hub_leaves_the_throat(junction):
    cov = covers(SectionTarget("x", "hub", "mid"), junction)
    assert cov.link_ids == {"tm", "skip-hm", "skip-ta"}
    assert cov.station_ids == {"mid"}


def test_middle_station_link_still_covers_the_skip_link_beside_it(junction):
    cov = covers(SectionTarget("x", "mid", "a"), junction)
    assert cov.link_ids == {"ma", "skip-ta"}
    assert cov.station_ids == {"mid", "a"}


@pytest.mark.parametrize(
    ("line", "shared"),
    [("p", "hs"), ("r", "hk")],
    ids=["long-shared-stretch", "track-to-another-town"],
)
def test_genuinely_shared_track_stays_covered(junction, line, shared):
    cov = covers(LineTarget(line), junction)
    assert shared in cov.link_ids
    assert "hub" in cov.station_ids


# Shipped network -----------------------------------------------------------------------------

KHARKIV_THROAT = "rail:kharkiv:osm-node-255730927"


def test_kharkiv_kupiansk_leaves_kharkiv_throat(shipped_network):
    line = shipped_network.lines["kharkiv-kupiansk"]
    cov = covers(LineTarget("kharkiv-kupiansk"), shipped_network)
    assert KHARKIV_THROAT in line.link_ids and KHARKIV_THROAT not in cov.link_ids
    assert "kharkiv" not in cov.station_ids
    assert not cov.link_ids & shipped_network.lines["sumy-kharkiv"].link_ids
    # the stretch it shares with Kharkiv–Izium is the same track: it stays covered
    assert cov.link_ids & shipped_network.lines["kharkiv-izium"].link_ids


def _near_ends(network: Network, line: Line, km: float) -> set[str]:
    """Stations of *line*'s chain within *km* of either end, along its non-parallel links."""
    near = set()
    for chain in (line.station_ids, line.station_ids[::-1]):
        walked = 0.0
        near.add(chain[0])
        for a, b in itertools.pairwise(chain):
            walked += min(
                (lk.distance_km for lk in network.links_between(a, b) if not lk.parallel),
                default=km + 1,
            )
            if walked > km:
                break
            near.add(b)
    return near


def test_no_line_flag_reaches_a_line_sharing_only_its_end_hub(shipped_network):
    """Every shipped line: flagging it covers no link of a line whose chain meets it only at
    one of its end hubs (that station or its throat, here ≤ 5 km of the end)."""
    net = shipped_network
    checked = 0
    for line in net.lines.values():
        cov = covers(LineTarget(line.id), net)
        ends = _near_ends(net, line, 5.0)
        for other in net.lines.values():
            common = set(line.station_ids) & set(other.station_ids)
            if other.id == line.id or not common or not common <= ends:
                continue
            checked += 1
            assert not cov.link_ids & other.link_ids, (line.id, other.id)
    assert checked >= 30  # the shipped lines meet at many hubs
