"""The server-drawn SVG map: projection, flagged legs, text equivalents, size."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from advisor.network.model import Mode
from advisor.risk.model import RiskLevel
from advisor.web.svgmap import MapLine, MapPoint, render_map

SVG = "{http://www.w3.org/2000/svg}"
KYIV, LOZOVA, KRAMATORSK = (50.44, 30.49), (48.89, 36.32), (48.74, 37.56)


def _parse(svg):
    return ET.fromstring(str(svg))


def test_map_draws_each_leg_and_labels_points():
    svg = render_map(
        [
            MapLine((KYIV, LOZOVA), Mode.RAIL, 0, None, "Train"),
            MapLine((LOZOVA, KRAMATORSK), Mode.BUS, 0, None, "Bus"),
        ],
        [MapPoint(*KYIV, "Київ", "origin"), MapPoint(*KRAMATORSK, "Краматорськ", "destination")],
        "Map",
        "Київ → Краматорськ",
    )
    root = _parse(svg)
    assert root.get("role") == "img"
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 2
    assert lines[1].get("stroke-dasharray")  # the bus leg is dashed, not only coloured
    assert [t.text for t in root.findall(f"{SVG}text")] == ["Київ", "Краматорськ"]


def test_points_stay_inside_the_canvas_and_north_is_up():
    svg = render_map(
        [MapLine((KYIV, KRAMATORSK), Mode.RAIL, 0)],
        [MapPoint(*KYIV, "K", "origin"), MapPoint(*KRAMATORSK, "Kr", "destination")],
        "t",
        "d",
    )
    root = _parse(svg)
    _, _, width, height = map(float, root.get("viewBox").split())
    circles = [(float(c.get("cx")), float(c.get("cy"))) for c in root.findall(f"{SVG}circle")]
    assert all(0 <= x <= width and 0 <= y <= height for x, y in circles)
    (kx, ky), (mx, my) = circles
    assert kx < mx and ky < my  # Kyiv is west and north of Kramatorsk


def test_flagged_leg_gets_a_band_and_a_marker():
    plain = _parse(render_map([MapLine((KYIV, LOZOVA), Mode.RAIL, 0)], [], "t", "d"))
    flagged = _parse(
        render_map(
            [MapLine((KYIV, LOZOVA), Mode.RAIL, 0, RiskLevel.HIGH, "High risk")], [], "t", "d"
        )
    )
    # white under black stripes (visible in greyscale), then the level's colour
    assert len(flagged.findall(f"{SVG}polyline")) == len(plain.findall(f"{SVG}polyline")) + 3
    strokes = [p.get("stroke") for p in flagged.findall(f"{SVG}polyline")]
    assert "#fff" in strokes and "#000" in strokes
    assert [t.text for t in flagged.iter(f"{SVG}text")] == ["!"]
    advisory = _parse(
        render_map([MapLine((KYIV, LOZOVA), Mode.RAIL, 0, RiskLevel.ADVISORY)], [], "t", "d")
    )
    assert len(advisory.findall(f"{SVG}polyline")) == 1  # information only: not highlighted


def test_dense_legs_are_thinned_but_keep_their_ends():
    coords = tuple((50.0 + i * 0.0005, 30.0 + i * 0.01) for i in range(2000))
    root = _parse(render_map([MapLine(coords, Mode.RAIL, 0)], [], "t", "d"))
    points = root.find(f"{SVG}polyline").get("points").split()
    assert len(points) < 400
    assert len(str(render_map([MapLine(coords, Mode.RAIL, 0)], [], "t", "d"))) < 8000


def test_names_are_escaped():
    svg = render_map([], [MapPoint(*KYIV, "<script>x</script>", "origin")], "t", "d")
    assert "<script>" not in str(svg)


def test_nothing_to_draw_is_empty():
    assert str(render_map([], [], "t", "d")) == ""


def test_labels_never_overlap_and_the_ends_are_always_named():
    from advisor.web.svgmap import MapPoint

    points = [
        MapPoint(50.0, 30.0, "Origin station", "origin"),
        MapPoint(50.001, 30.001, "Change point one", "stop"),
        MapPoint(50.002, 30.002, "Change point two", "stop"),
        MapPoint(50.003, 30.0, "Another change", "stop"),
        MapPoint(48.0, 37.0, "Destination", "destination"),
    ]
    svg = _parse(render_map([MapLine((KYIV, LOZOVA), Mode.RAIL, 0)], points, "t", "d"))
    labels = [t for t in svg.iter(f"{SVG}text")]
    names = [t.text for t in labels]
    assert "Origin station" in names and "Destination" in names
    assert len(names) < 5  # crowded change points lose their labels instead of overlapping
    boxes = []
    for t in labels:
        x, y, size = float(t.get("x")), float(t.get("y")), float(t.get("font-size"))
        width = 0.58 * size * len(t.text)
        left = x if t.get("text-anchor") == "start" else x - width
        box = (left, y - size, left + width, y + 4)
        assert not any(
            box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes
        ), t.text
        boxes.append(box)


def test_no_label_covers_the_mark_of_a_flagged_section():
    from advisor.web.svgmap import MapPoint

    middle = ((KYIV[0] + LOZOVA[0]) / 2, (KYIV[1] + LOZOVA[1]) / 2)
    line = MapLine((KYIV, middle, LOZOVA), Mode.RAIL, 0, RiskLevel.HIGH, "High risk")
    points = [MapPoint(*KYIV, "Kyiv", "origin"), MapPoint(*LOZOVA, "Lozova", "destination"),
              MapPoint(*middle, "A change point in the middle", "stop")]
    svg = _parse(render_map([line], points, "t", "d"))
    mark = next(c for c in svg.iter(f"{SVG}circle") if c.get("r") == "11")
    mx, my = float(mark.get("cx")), float(mark.get("cy"))
    for t in svg.iter(f"{SVG}text"):
        if t.text == "!":
            continue
        x, y, size = float(t.get("x")), float(t.get("y")), float(t.get("font-size"))
        width = 0.58 * size * len(t.text)
        left = x if t.get("text-anchor") == "start" else x - width
        assert not (left < mx + 12 and mx - 12 < left + width and y - size < my + 12
                    and my - 12 < y + 4), t.text


def test_towns_for_orientation_are_drawn_inside_the_map_only():
    from advisor.web.svgmap import MapPoint

    towns = [MapPoint(49.59, 34.55, "Poltava", "town"), MapPoint(46.48, 30.73, "Odesa", "town")]
    svg = _parse(render_map([MapLine((KYIV, LOZOVA), Mode.RAIL, 0)], [], "t", "d", towns=towns))
    names = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Poltava" in names  # between Kyiv and Lozova
    assert "Odesa" not in names  # far outside: the map is not widened for it


def test_oblast_outlines_are_drawn_clipped_to_the_picture():
    """Oblast boundaries give the map its bearings: drawn thin under the routes, and only the
    part inside the picture."""


    line = MapLine(((50.45, 30.52), (49.99, 36.23)), Mode.RAIL, 0)
    inside = ((32.0, 49.0), (34.0, 49.0), (34.0, 51.0), (32.0, 51.0), (32.0, 49.0))
    far = ((10.0, 40.0), (11.0, 40.0), (11.0, 41.0), (10.0, 40.0))
    svg = str(render_map([line], [], "Map", "d", outlines=[inside]))
    assert 'class="oblasts"' in svg
    assert svg.index('class="oblasts"') < svg.index("<polyline")  # under the routes
    assert 'class="oblasts"' not in str(render_map([line], [], "Map", "d", outlines=[far]))
    assert 'class="oblasts"' not in str(render_map([line], [], "Map", "d"))
