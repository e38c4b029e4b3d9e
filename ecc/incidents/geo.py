"""Distances on the ground and the incident area: a circle, a polygon, or both.

Areas are a few kilometres across at most, so a polygon is tested in a local equirectangular
projection around the point (metres east and north); distances between points use the
haversine formula on the mean Earth radius (IUGG), within 0.5 % of WGS 84 geodesics.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ecc.storage.models import Area

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _local(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """(east, north) metres of (lat, lon) from (lat0, lon0)."""
    k = math.pi * EARTH_RADIUS_M / 180
    return (lon - lon0) * k * math.cos(math.radians(lat0)), (lat - lat0) * k


def _in_polygon(polygon: tuple[tuple[float, float], ...], lat: float, lon: float) -> bool:
    """Even-odd rule on the (lon, lat) plane."""
    inside = False
    n = len(polygon)
    for i in range(n):
        (lat1, lon1), (lat2, lon2) = polygon[i], polygon[(i + 1) % n]
        if (lat1 > lat) != (lat2 > lat):
            cross = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < cross:
                inside = not inside
    return inside


def _to_polygon_edge(polygon: tuple[tuple[float, float], ...], lat: float, lon: float) -> float:
    best = math.inf
    n = len(polygon)
    for i in range(n):
        ax, ay = _local(lat, lon, *polygon[i])
        bx, by = _local(lat, lon, *polygon[(i + 1) % n])
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
        best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def has_circle(area: Area) -> bool:
    return area.lat is not None and area.lon is not None and area.radius_m is not None


def inside(area: Area, lat: float, lon: float) -> bool:
    """In the circle or in the polygon (an area with neither holds nothing)."""
    if has_circle(area):
        assert area.lat is not None and area.lon is not None and area.radius_m is not None
        if distance_m(area.lat, area.lon, lat, lon) <= area.radius_m:
            return True
    return len(area.polygon) >= 3 and _in_polygon(area.polygon, lat, lon)


def distance_to(area: Area, lat: float, lon: float) -> float:
    """Metres from the point to the area: 0 inside, infinite for an area with no shape."""
    if inside(area, lat, lon):
        return 0.0
    best = math.inf
    if has_circle(area):
        assert area.lat is not None and area.lon is not None and area.radius_m is not None
        best = distance_m(area.lat, area.lon, lat, lon) - area.radius_m
    if len(area.polygon) >= 3:
        best = min(best, _to_polygon_edge(area.polygon, lat, lon))
    return max(best, 0.0)


def centre(area: Area) -> tuple[float, float] | None:
    """The circle's centre, else the mean of the polygon's vertices."""
    if area.lat is not None and area.lon is not None:
        return area.lat, area.lon
    if area.polygon:
        n = len(area.polygon)
        return sum(p[0] for p in area.polygon) / n, sum(p[1] for p in area.polygon) / n
    return None


def grown(area: Area, lat: float, lon: float, margin_m: float) -> Area:
    """The area with its circle widened to hold the point with a margin around it. A polygon
    is drawn by an operator and stays as drawn; an area with no circle gets none."""
    if not has_circle(area) or inside(area, lat, lon):
        return area
    assert area.lat is not None and area.lon is not None and area.radius_m is not None
    needed = distance_m(area.lat, area.lon, lat, lon) + margin_m
    return replace(area, radius_m=max(area.radius_m, round(needed, 1)))


def bounds(area: Area) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) of the area, for maps."""
    points: list[tuple[float, float]] = list(area.polygon)
    if has_circle(area):
        assert area.lat is not None and area.lon is not None and area.radius_m is not None
        dlat = math.degrees(area.radius_m / EARTH_RADIUS_M)
        dlon = dlat / max(math.cos(math.radians(area.lat)), 1e-6)
        points += [(area.lat - dlat, area.lon - dlon), (area.lat + dlat, area.lon + dlon)]
    if not points:
        return None
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    return min(lats), min(lons), max(lats), max(lons)
