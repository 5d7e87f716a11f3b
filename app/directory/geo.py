"""Where the patient is and how far to look: commune positions and default radius."""

from __future__ import annotations

import math
from functools import lru_cache

from app.geo import CommuneIndex, default_index

#: Default search radius by department density (inhabitants per km²), densest first.
RADIUS_BY_DENSITY: tuple[tuple[float, float], ...] = (
    (1000.0, 5.0),  # Paris and the petite couronne
    (300.0, 10.0),  # Nord, Rhône, Bouches-du-Rhône…
    (80.0, 20.0),
    (0.0, 30.0),  # rural departments
)
FALLBACK_RADIUS_KM = 20.0


def _hull_area_km2(points: list[tuple[float, float]]) -> float:
    """Area of the convex hull of (lat, lon) points, on a local flat projection."""
    if len(points) < 3:
        return 0.0
    lat0 = math.radians(sum(p[0] for p in points) / len(points))
    xy = sorted({(p[1] * 111.32 * math.cos(lat0), p[0] * 110.57) for p in points})

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in xy:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(xy):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = lower[:-1] + upper[:-1]
    return (
        abs(
            sum(
                hull[i][0] * hull[(i + 1) % len(hull)][1]
                - hull[(i + 1) % len(hull)][0] * hull[i][1]
                for i in range(len(hull))
            )
        )
        / 2
    )


@lru_cache(maxsize=128)
def department_density(department: str) -> float | None:
    """Inhabitants per km², from the shipped communes (population over the convex hull
    of their positions: the hull is a little smaller than the department, so this
    errs towards dense, i.e. a smaller radius)."""
    communes = default_index().in_department(department)
    population = sum(c.population or 0 for c in communes)
    if not communes or not population:
        return None
    area = _hull_area_km2([(c.lat, c.lon) for c in communes])
    return population / area if area > 1.0 else float("inf")  # one-commune department: Paris


def default_radius_km(department: str | None) -> float:
    density = department_density(department) if department else None
    if density is None:
        return FALLBACK_RADIUS_KM
    for threshold, radius in RADIUS_BY_DENSITY:
        if density >= threshold:
            return radius
    return FALLBACK_RADIUS_KM


def commune_position(
    insee: str, index: CommuneIndex | None = None
) -> tuple[float, float, str] | None:
    """(lat, lon, department) of a commune, or None when the code is unknown."""
    commune = (index or default_index()).by_insee(insee) if insee else None
    if commune is None:
        return None
    return commune.lat, commune.lon, commune.department
