"""Regular latitude/longitude grids of cell centres, global or regional, on the WGS84 ellipsoid or a sphere.

A global grid of resolution ``d`` degrees (180/d must be an integer) has ``180/d``
rows with centres at -90 + (i + 1/2) d and ``360/d`` columns with centres at
-180 + (j + 1/2) d. No centre lies on a pole or on the antimeridian.

A regional grid (``Grid.box``) covers the box ``south..north`` x ``west..east``
(cell edges, degrees; ``d`` must divide both sides): rows at south + (i + 1/2) d,
columns at west + (j + 1/2) d. ``west`` lies in [-180, 180) and ``east = west +
width`` with the width in (0, 360], so a box crossing the antimeridian (170 E to
170 W) has increasing longitudes 170.5 .. 189.5 (degrees east, modulo 360). The
kernels read a grid only through its rows (``lat_deg``), its longitude origin
and column count, so they do work and hold memory for the box alone.

Earth models (``Grid.earth_model``):
- ``"wgs84"`` (default): latitudes are geodetic on the WGS84 ellipsoid, cell
  centres lie on the ellipsoid surface (height 0) and elevation is measured from
  the ellipsoid normal -- the convention of STK, TAT-C, Skyfield and GIS data.
- ``"sphere"``: latitudes are geocentric on a sphere of radius ``R`` (default the
  IUGG mean radius), elevation from the radial direction.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .earth import WGS84

EARTH_MODELS = ("wgs84", "sphere")


def _authalic_q(lat_rad, e: float):
    """q(phi) of Snyder, "Map Projections -- A Working Manual" (USGS PP 1395), Eq. 3-12.

    The area of the ellipsoid zone between the equator and geodetic latitude phi is
    pi a^2 q(phi) / ... ; zone areas are proportional to differences of q, and the
    whole ellipsoid to 2 q(90 deg).
    """
    s = np.sin(lat_rad)
    e2 = e * e
    return (1.0 - e2) * (s / (1.0 - e2 * s * s) - np.log((1.0 - e * s) / (1.0 + e * s)) / (2.0 * e))


class Grid(NamedTuple):
    """A cell-centre grid, global or regional; hashable, so it can be a static jit argument.

    ``box``: None for the globe, else ``(south, north, west, east)`` cell edges in
    degrees as normalised by :func:`make_grid` (west in [-180, 180), east > west).
    """

    resolution_deg: float
    earth_model: str = "wgs84"
    box: tuple[float, float, float, float] | None = None

    @property
    def is_global(self) -> bool:
        return self.box is None

    @property
    def south_deg(self) -> float:
        """Latitude of the first row's southern edge."""
        return -90.0 if self.box is None else self.box[0]

    @property
    def west_deg(self) -> float:
        """Longitude of the first column's western edge (the kernels' longitude origin)."""
        return -180.0 if self.box is None else self.box[2]

    @property
    def n_lat(self) -> int:
        height = 180.0 if self.box is None else self.box[1] - self.box[0]
        return int(round(height / self.resolution_deg))

    @property
    def n_lon(self) -> int:
        width = 360.0 if self.box is None else self.box[3] - self.box[2]
        return int(round(width / self.resolution_deg))

    @property
    def n_lon_globe(self) -> float:
        """Columns in a full circle of latitude, 360 / d (an integer unless the box is narrower)."""
        return 360.0 / self.resolution_deg

    @property
    def full_lon(self) -> bool:
        """True when the columns go all the way round (the globe, or a box 360 deg wide)."""
        return self.box is None or self.n_lon == round(self.n_lon_globe) and abs(
            self.n_lon_globe - round(self.n_lon_globe)) < 1e-9

    @property
    def lat_deg(self) -> np.ndarray:
        return self.south_deg + (np.arange(self.n_lat) + 0.5) * self.resolution_deg

    @property
    def lon_deg(self) -> np.ndarray:
        return self.west_deg + (np.arange(self.n_lon) + 0.5) * self.resolution_deg

    def cell_area_fraction(self) -> np.ndarray:
        """(lat,) fraction of the Earth's surface in one cell of each row; sums to 1 over a global grid
        (over a box: the box's share of the Earth).

        Sphere: a row between latitudes a < b covers (sin b - sin a) / 2. WGS84: the
        ellipsoid zone between geodetic latitudes a < b covers (q(b) - q(a)) / (2 q(90))
        with Snyder's authalic q (the cells are ellipsoidal quadrangles).
        """
        edges = np.radians(np.clip(self.south_deg + np.arange(self.n_lat + 1) * self.resolution_deg, -90.0, 90.0))
        if self.earth_model == "sphere":
            zone = np.diff(np.sin(edges)) / 2.0
        else:
            e = np.sqrt(WGS84.flattening * (2.0 - WGS84.flattening))
            q = _authalic_q(edges, e)
            zone = np.diff(q) / (2.0 * _authalic_q(np.pi / 2, e))
        return zone / (self.n_lon if self.full_lon else self.n_lon_globe)


MIN_RESOLUTION_DEG = 0.01
"""Finest resolution accepted for a regional grid."""


def _divides(length: float, res: float) -> int | None:
    """length / res when it is a whole number (to 1e-9 relative), else None."""
    n = length / res
    return int(round(n)) if round(n) >= 1 and abs(n - round(n)) <= 1e-9 * max(n, 1.0) else None


def normalise_box(box) -> tuple[float, float, float, float]:
    """``(south, north, west, east)`` degrees -> the same box with west in [-180, 180) and east = west + width.

    The width is ``(east - west) mod 360`` (so ``170, -170`` is the 20 deg box across
    the antimeridian), 360 when east - west is a non-zero multiple of 360.

    Raises:
      ValueError: not four finite numbers, latitudes outside [-90, 90] or not
        south < north, longitudes outside [-180, 360], or west == east.
    """
    try:
        s, n, w, e = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ValueError(f"region box must be four numbers (south, north, west, east) in degrees, got {box!r}") from None
    if not all(np.isfinite(v) for v in (s, n, w, e)):
        raise ValueError(f"region box {box!r} has a non-finite value")
    if not (-90.0 <= s < n <= 90.0):
        raise ValueError(f"region box {box!r}: latitudes must satisfy -90 <= south < north <= 90")
    if not (-180.0 <= w <= 360.0 and -180.0 <= e <= 360.0):  # 400 is more likely a typo than 40
        raise ValueError(f"region box {box!r}: longitudes must lie in [-180, 360] degrees")
    if w == e:
        raise ValueError(f"region box {box!r}: west and east are equal; use -180, 180 for every longitude")
    width = (e - w) % 360.0
    if width == 0.0 or abs(width - 360.0) < 1e-9:
        width = 360.0
    west = (w + 180.0) % 360.0 - 180.0
    if abs(width - 360.0) < 1e-9 and s == -90.0 and n == 90.0:
        west = -180.0
    return s, n, west, west + width


def make_grid(resolution_deg: float, earth_model: str = "wgs84", region=None) -> Grid:
    """Validate a resolution, an Earth model and an optional region box and return the :class:`Grid`.

    Args:
      resolution_deg: cell size in degrees. Global grids: it must divide 180.
        Regional grids: it must divide both sides of the box, and be at least
        :data:`MIN_RESOLUTION_DEG`.
      earth_model: ``"wgs84"`` or ``"sphere"``.
      region: None (the globe) or ``(south, north, west, east)`` in degrees
        (cell edges; see :func:`normalise_box`). The whole globe gives the global grid.

    Raises:
      ValueError: if the resolution is not positive or does not divide 180 (the
        box), the Earth model is not one of ``"wgs84"``, ``"sphere"``, or the box is bad.
    """
    res = float(resolution_deg)
    if not np.isfinite(res) or res <= 0:
        raise ValueError(f"grid resolution must be a positive number of degrees, got {resolution_deg}")
    if earth_model not in EARTH_MODELS:
        raise ValueError(f"earth_model must be one of {EARTH_MODELS}, got {earth_model!r}")
    box = None if region is None else normalise_box(region)
    if box is not None and box[:2] == (-90.0, 90.0) and box[3] - box[2] == 360.0 and box[2] == -180.0:
        box = None
    if box is None:
        n = 180.0 / res
        if abs(n - round(n)) > 1e-9 * n or round(n) < 1:
            raise ValueError(f"grid resolution {resolution_deg} deg must divide 180 (e.g. 2, 1, 0.5, 0.25)")
        return Grid(180.0 / round(n), earth_model)
    if res < MIN_RESOLUTION_DEG * (1 - 1e-9):
        raise ValueError(f"grid resolution {resolution_deg} deg is finer than the supported {MIN_RESOLUTION_DEG} deg")
    s, n, w, e = box
    n_lat, n_lon = _divides(n - s, res), _divides(e - w, res)
    if n_lat is None or n_lon is None:
        raise ValueError(
            f"grid resolution {resolution_deg} deg must divide the region box: it is {n - s:g} deg "
            f"(south {s:g} to north {n:g}) by {e - w:g} deg (west {w:g} to east {e:g})"
        )
    return Grid(res, earth_model, box)
