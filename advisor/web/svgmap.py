"""A schematic map of the options, drawn on the server as inline SVG.

No tiles and no request to another host: station coordinates are projected onto a small
canvas (equirectangular, x scaled by cos(latitude) so shapes are not stretched). Flagged legs
are drawn over the route with a thick dashed band and a marker, and the legend names every
style in words, so the map reads without colour too.

With a :class:`WarOverlay` the map also shows the war's geography under the routes: the
occupied area hatched (an SVG pattern, not colour alone), the front-line band, the borders
with Russia and Belarus (dash-dot), and a caption naming the map's date and its source.
The shapes are clipped to the visible area and simplified to about a pixel, and each
drawing is cached, so a results page stays small and fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import shapely
from markupsafe import Markup, escape

from advisor.network.model import Mode
from advisor.risk.geography import MapShapes
from advisor.risk.model import RiskLevel

__all__ = ["MapLine", "MapPoint", "WarOverlay", "render_map"]

WIDTH = 640
MAX_HEIGHT = 420
PAD = 36
# Points closer than this (in px) to the previous kept point are dropped: the national
# network has halts every few km, and the page must stay small.
MIN_STEP_PX = 3.0


@dataclass(frozen=True)
class MapLine:
    """A drawn leg: coordinates ``(lat, lon)``, its mode, which option, and its risk."""

    coords: tuple[tuple[float, float], ...]
    mode: Mode
    option: int
    risk: RiskLevel | None = None
    title: str = ""


@dataclass(frozen=True)
class MapPoint:
    """A labelled station: origin, destination or a change point."""

    lat: float
    lon: float
    label: str
    role: str = "stop"


@dataclass(frozen=True)
class WarOverlay:
    """The war map to draw under the routes, in the page's language: ``stamp`` (the map's
    source and date, short enough to fit inside the picture on a phone) and ``caption`` (the
    key to the shapes, which the page prints as text under the map, where it wraps)."""

    shapes: MapShapes
    caption: str
    stamp: str = ""


def _projector(points: Sequence[tuple[float, float]]) -> tuple[Callable, int]:
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    kx = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * kx, 0.05)
    span_y = max(max(lats) - min(lats), 0.05)
    scale = min((WIDTH - 2 * PAD) / span_x, (MAX_HEIGHT - 2 * PAD) / span_y)
    height = int(span_y * scale + 2 * PAD)
    x0 = WIDTH / 2 - (max(lons) + min(lons)) / 2 * kx * scale
    top = max(lats)

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (round(x0 + lon * kx * scale, 1), round(PAD + (top - lat) * scale, 1))

    project.view = (  # the canvas in (min lon, min lat, max lon, max lat) and px per degree
        -x0 / (kx * scale), top - (height - PAD) / scale,
        (WIDTH - x0) / (kx * scale), top + PAD / scale, scale,
    )
    return project, height


def _path_points(coords, project) -> str:
    kept: list[tuple[float, float]] = []
    for lat, lon in coords:
        x, y = project(lat, lon)
        if kept and math.dist(kept[-1], (x, y)) < MIN_STEP_PX:
            continue
        kept.append((x, y))
    last = project(*coords[-1])
    if kept[-1] != last:
        kept.append(last)
    return " ".join(f"{x:g},{y:g}" for x, y in kept)


_MODE_DASH = {Mode.RAIL: "", Mode.BUS: "9 5", Mode.TRANSFER: "2 4"}
_OPTION_COLOURS = ("#0b5394", "#6a6a6a", "#8a5a00", "#4b2c83", "#2f6b3a")
_RISK_COLOURS = {
    RiskLevel.ADVISORY: "#7a6a00",
    RiskLevel.ELEVATED: "#b85c00",
    RiskLevel.HIGH: "#c00000",
    RiskLevel.SUSPENDED: "#5a0000",
}


def _line_svg(line: MapLine, project) -> str:
    pts = _path_points(line.coords, project)
    colour = _OPTION_COLOURS[line.option % len(_OPTION_COLOURS)]
    width = 4 if line.option == 0 else 2.5
    dash = _MODE_DASH.get(line.mode, "")
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    parts = [
        f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="{width}"'
        f' stroke-linejoin="round"{dash_attr}><title>{escape(line.title)}</title></polyline>'
    ]
    if line.risk is not None and line.risk >= RiskLevel.ELEVATED:
        parts.append(_flagged_band_svg(line, pts, project))
    return "".join(parts)


def _flagged_band_svg(line: MapLine, pts: str, project) -> str:
    """A wide band of black and white stripes under a coloured dashed band, and a "!" mark:
    it stands out in colour, in greyscale and to colour-blind readers alike."""
    risk_colour = _RISK_COLOURS[line.risk]
    title = f"<title>{escape(line.title)}</title>"
    mx, my = project(*line.coords[len(line.coords) // 2])
    return (
        f'<polyline points="{pts}" fill="none" stroke="#fff" stroke-width="13">{title}</polyline>'
        f'<polyline points="{pts}" fill="none" stroke="#000" stroke-width="11"'
        f' stroke-dasharray="5 5">{title}</polyline>'
        f'<polyline points="{pts}" fill="none" stroke="{risk_colour}" stroke-width="5">'
        f"{title}</polyline>"
        f'<g><circle cx="{mx}" cy="{my}" r="11" fill="{risk_colour}" stroke="#000"'
        f' stroke-width="2"/><text x="{mx}" y="{my + 6}" text-anchor="middle" font-size="17"'
        f' font-weight="bold" fill="#fff">!</text></g>'
    )


# Labels are drawn at this size in a 640-unit-wide picture: about 11 px on a 360 px phone
# (the page caps the map's width on large screens so they do not grow past about 19 px).
LABEL_PX = 20


def _label_box(x: float, y: float, text: str, anchor: str) -> tuple[float, float, float, float]:
    width = 0.58 * LABEL_PX * len(text)
    left = x if anchor == "start" else x - width
    return (left, y - LABEL_PX, left + width, y + 4)


def _overlaps(box, boxes) -> bool:
    return any(
        box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes
    )


def _marker_boxes(lines: Sequence[MapLine], project) -> list:
    """The "!" marks of flagged sections: no label may cover one."""
    boxes = []
    for line in lines:
        if line.risk is not None and line.risk >= RiskLevel.ELEVATED:
            mx, my = project(*line.coords[len(line.coords) // 2])
            boxes.append((mx - 12, my - 12, mx + 12, my + 12))
    return boxes


def _towns_svg(towns: Sequence[MapPoint], project, height: int, placed: list) -> str:
    """Grey dots and names of towns inside the picture, never over another label."""
    parts = []
    for town in towns:
        x, y = project(town.lat, town.lon)
        if not (PAD / 2 <= x <= WIDTH - PAD / 2 and PAD / 2 <= y <= height - PAD / 2):
            continue
        box = _label_box(x + 7, y + 6, town.label, "start")
        dot = (x - 4, y - 4, x + 4, y + 4)
        if box[2] > WIDTH or _overlaps(box, placed) or _overlaps(dot, placed):
            continue
        placed.extend((box, dot))
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="3.5" fill="#555"/><text x="{x + 7:g}" y="{y + 6:g}"'
            f' font-size="{LABEL_PX - 3}" fill="#444">{escape(town.label)}</text>'
        )
    return "".join(parts)


# Beside the point first, then a little further away, above and below.
_LABEL_SPOTS = (
    ("start", 10, -9), ("end", -10, -9), ("start", 10, 24), ("end", -10, 24),
    ("start", 14, -30), ("end", -14, -30), ("start", 14, 46), ("end", -14, 46),
)


# The bottom strip is kept free for the war map's caption.
CAPTION_PX = 22


def _place_label(
    point: MapPoint, x: float, y: float, placed: list, height: float
) -> tuple | None:
    """The first of four places beside the point whose label overlaps no label drawn yet
    and stays inside the picture; None when none fits (a change point's label is dropped,
    its name is in the list of legs)."""
    for anchor, dx, dy in _LABEL_SPOTS:
        box = _label_box(x + dx, y + dy, point.label, anchor)
        inside = box[0] >= 0 and box[2] <= WIDTH and box[1] >= 0 and box[3] <= height - CAPTION_PX
        if inside and not _overlaps(box, placed):
            placed.append(box)
            return anchor, x + dx, y + dy
    return None


def _point_svg(point: MapPoint, project, placed: list, height: float) -> str:
    x, y = project(point.lat, point.lon)
    radius = 7 if point.role in ("origin", "destination") else 5
    circle = f'<circle cx="{x}" cy="{y}" r="{radius}" fill="#fff" stroke="#000" stroke-width="3"/>'
    spot = _place_label(point, x, y, placed, height)
    if spot is None and point.role != "stop":  # the two ends are always named
        spot = ("start" if x < WIDTH * 0.6 else "end", x, y - 12)
    if spot is None:
        return circle
    anchor, lx, ly = spot
    return (
        f'{circle}<text x="{lx:g}" y="{ly:g}" text-anchor="{anchor}" font-size="{LABEL_PX}"'
        f' font-weight="600" paint-order="stroke" stroke="#fff" stroke-width="4" fill="#000">'
        f"{escape(point.label)}</text>"
    )


_HATCH = (
    '<defs><pattern id="war-hatch" patternUnits="userSpaceOnUse" width="7" height="7"'
    ' patternTransform="rotate(45)"><rect width="7" height="7" fill="#e9dede"/>'
    '<line x1="0" y1="0" x2="0" y2="7" stroke="#7a1f1f" stroke-width="2.2"/></pattern></defs>'
)
_WAR_CACHE: dict[tuple, str] = {}


def _war_svg(overlay: WarOverlay, project, height: int) -> str:
    """The overlay's shapes clipped to the canvas, cached per map and view."""
    min_lon, min_lat, max_lon, max_lat, scale = project.view
    key = (overlay.shapes.attribution, overlay.caption, round(min_lon, 3), round(min_lat, 3),
           round(max_lon, 3), round(max_lat, 3), height)
    found = _WAR_CACHE.get(key)
    if found is not None:
        return found
    tolerance = 1.0 / scale  # about a pixel
    shapes = overlay.shapes

    def clipped(geometry):
        part = shapely.clip_by_rect(geometry, min_lon, min_lat, max_lon, max_lat)
        return shapely.simplify(part, tolerance)

    body = [_HATCH]
    band = _path(clipped(shapes.front_band), project, close=True)
    if band:
        body.append(f'<path d="{band}" fill="#c00000" fill-opacity="0.13" stroke="#c00000"'
                    ' stroke-width="0.8" stroke-dasharray="2 3" fill-rule="evenodd"/>')
    occupied = _path(clipped(shapes.occupied), project, close=True)
    if occupied:
        body.append(f'<path d="{occupied}" fill="url(#war-hatch)" stroke="#7a1f1f"'
                    ' stroke-width="1.2" fill-rule="evenodd"/>')
    for line in shapes.borders.values():
        border = _path(clipped(line), project, close=False)
        if border:
            body.append(f'<path d="{border}" fill="none" stroke="#333" stroke-width="1.6"'
                        ' stroke-dasharray="8 3 2 3"/>')
    body.append(
        f'<text x="6" y="{height - 6}" font-size="13" paint-order="stroke" stroke="#fff"'
        f' stroke-width="3" fill="#222">{escape(overlay.stamp or overlay.caption)}</text>'
    )
    drawing = "".join(body)
    if len(_WAR_CACHE) > 256:
        _WAR_CACHE.clear()
    _WAR_CACHE[key] = drawing
    return drawing


_OUTLINE_CACHE: dict[tuple, str] = {}
OUTLINE_DETAIL_PX = 4.0  # the simplification tolerance of oblast boundaries, in pixels


def _int_path(geometry, project) -> str:
    """Path data of the lines of *geometry* at whole pixels (boundaries need no more)."""
    parts = []
    for line in shapely.get_parts(geometry):
        points: list[tuple[int, int]] = []
        for lon, lat in shapely.get_coordinates(line):
            x, y = project(lat, lon)
            xy = (round(x), round(y))
            if not points or points[-1] != xy:
                points.append(xy)
        if len(points) >= 2:
            parts.append("M" + " ".join(f"{x},{y}" for x, y in points))
    return "".join(parts)


def _outlines_svg(outlines: Sequence[Sequence[tuple[float, float]]], project) -> str:
    """Oblast boundaries (rings of ``(lon, lat)``) clipped to the canvas, thin and grey, for
    orientation; cached per view."""
    min_lon, min_lat, max_lon, max_lat, scale = project.view
    key = (hash(tuple(map(tuple, outlines))), round(min_lon, 3), round(min_lat, 3),
           round(max_lon, 3), round(max_lat, 3))  # fmt: skip
    found = _OUTLINE_CACHE.get(key)
    if found is None:
        rings = shapely.MultiLineString([ring for ring in outlines if len(ring) >= 2])
        # Shared boundaries once, a few pixels of detail: orientation, not cartography.
        lines = shapely.line_merge(shapely.union_all(
            shapely.clip_by_rect(rings, min_lon, min_lat, max_lon, max_lat)
        ))  # fmt: skip
        part = shapely.simplify(lines, OUTLINE_DETAIL_PX / scale)
        drawn = _int_path(part, project) if not part.is_empty else ""
        found = (
            f'<path d="{drawn}" fill="none" stroke="#9aa5b1" stroke-width="0.9"'
            ' stroke-linejoin="round" class="oblasts"/>'
            if drawn
            else ""
        )
        if len(_OUTLINE_CACHE) > 256:
            _OUTLINE_CACHE.clear()
        _OUTLINE_CACHE[key] = found
    return found


def _path(geometry, project, close: bool) -> str:
    """SVG path data of every ring or line of *geometry* in canvas pixels."""
    if geometry is None or geometry.is_empty:
        return ""
    parts = []
    pieces = shapely.get_parts(geometry)
    if close:
        pieces = [p for p in pieces if p.geom_type == "Polygon"]
        rings = shapely.get_rings(pieces) if pieces else []
    else:
        rings = [p for p in pieces if p.geom_type == "LineString"]
    for ring in rings:
        points = []
        for lon, lat in shapely.get_coordinates(ring):
            xy = project(lat, lon)
            if not points or points[-1] != xy:
                points.append(xy)
        if len(points) >= (3 if close else 2):
            text = " ".join(f"{x:g},{y:g}" for x, y in points)
            parts.append(f"M{text}{'Z' if close else ''}")
    return "".join(parts)


def render_map(
    lines: Sequence[MapLine],
    points: Sequence[MapPoint],
    title: str,
    desc: str,
    war: WarOverlay | None = None,
    towns: Sequence[MapPoint] = (),
    outlines: Sequence[Sequence[tuple[float, float]]] = (),
) -> Markup:
    """The SVG document (inline markup) for *lines* and *points*; empty when nothing to draw.

    *towns* are drawn small and grey for orientation where they fall inside the picture and
    their label overlaps nothing; they do not widen the picture. *outlines* (rings of
    ``(lon, lat)``, the oblast boundaries) are drawn thin and grey under everything.

    Examples
    --------
    >>> svg = render_map([MapLine(((50.45, 30.52), (49.99, 36.23)), Mode.RAIL, 0)],
    ...                  [MapPoint(50.45, 30.52, "Kyiv", "origin")], "Map", "Kyiv to Kharkiv")
    >>> svg.startswith("<svg") and "polyline" in svg and "Kyiv" in svg
    True
    """
    coords = [c for line in lines for c in line.coords] + [(p.lat, p.lon) for p in points]
    if not coords:
        return Markup("")
    project, height = _projector(coords)
    under = _outlines_svg(outlines, project) if outlines else ""
    under += _war_svg(war, project, height) if war is not None else ""
    ordered = sorted(lines, key=lambda li: -li.option)
    body = under + "".join(_line_svg(line, project) for line in ordered)
    placed: list = _marker_boxes(lines, project)
    # The two ends first: their labels are placed before any change point's.
    by_role = sorted(points, key=lambda p: p.role == "stop")
    body += "".join(_point_svg(point, project, placed, height) for point in by_role)
    body = _towns_svg(towns, project, height, placed) + body
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img"'
        f' aria-labelledby="map-title map-desc" class="route-map">'
        f'<title id="map-title">{escape(title)}</title><desc id="map-desc">{escape(desc)}</desc>'
        f'<rect width="{WIDTH}" height="{height}" fill="#f4f6f8"/>{body}</svg>'
    )
