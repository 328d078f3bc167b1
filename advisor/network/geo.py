"""Where and when in Ukraine: the one great-circle distance and the one time zone.

Every distance between two points in the project (link lengths in the importer, stop
matching in the GTFS import, "same place" in station search, circle flags in risk coverage,
walking legs in the timetable planner, route proximity on pages) comes from
:func:`crowfly_km`; every Kyiv local time from :data:`KYIV_TZ`.

Examples
--------
>>> round(crowfly_km(50.45, 30.52, 49.84, 23.99))
470
>>> crowfly_km(48.0, 35.0, 48.0, 35.0)
0.0
>>> KYIV_TZ.key
'Europe/Kyiv'
"""

from __future__ import annotations

import math
from typing import overload
from zoneinfo import ZoneInfo

import numpy as np

__all__ = ["EARTH_RADIUS_KM", "KYIV_TZ", "crowfly_km"]

#: Mean Earth radius used for every distance, in km. The value the shipped network dataset
#: was built with: a change moves every estimated link length, so it needs a rebuild.
EARTH_RADIUS_KM = 6371.0

#: The country's one time zone: operators type, and passengers read, Kyiv local time.
KYIV_TZ = ZoneInfo("Europe/Kyiv")


@overload
def crowfly_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float: ...
@overload
def crowfly_km(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray: ...
def crowfly_km(lat1, lon1, lat2, lon2):
    """Great-circle ("as the crow flies") distance in km between two points.

    The haversine formula on a sphere of radius :data:`EARTH_RADIUS_KM`: within 0.5 % of the
    ellipsoidal distance, far below the error of any estimate built on it.

    Parameters
    ----------
    lat1, lon1 : float
        The first point, in degrees (WGS 84).
    lat2, lon2 : float or numpy.ndarray
        The second point, or arrays of points (one distance per element, computed with numpy
        in one pass; used for circle flags over every station).

    Returns
    -------
    float or numpy.ndarray
        Kilometres, never negative.

    Examples
    --------
    >>> round(crowfly_km(50.4406, 30.484, 49.839, 23.9948), 1)  # Kyiv-Pas. to Lviv
    467.1
    >>> crowfly_km(50.0, 30.0, np.array([50.0, 51.0]), np.array([30.0, 30.0])).round(1)
    array([  0. , 111.2])
    """
    if isinstance(lat2, np.ndarray) or isinstance(lon2, np.ndarray):
        return _haversine(np, lat1, lon1, lat2, lon2, np.arcsin, np.minimum)
    return _haversine(math, lat1, lon1, lat2, lon2, math.asin, min)


def _haversine(xp, lat1, lon1, lat2, lon2, arcsin, minimum):
    p1, l1, p2, l2 = xp.radians(lat1), xp.radians(lon1), xp.radians(lat2), xp.radians(lon2)
    h = xp.sin((p2 - p1) / 2) ** 2 + xp.cos(p1) * xp.cos(p2) * xp.sin((l2 - l1) / 2) ** 2
    # rounding can push h a hair above 1 for antipodal points
    return 2 * EARTH_RADIUS_KM * arcsin(minimum(1.0, xp.sqrt(h)))
