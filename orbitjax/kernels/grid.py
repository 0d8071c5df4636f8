"""Global regular latitude/longitude grids of cell centres, on the WGS84 ellipsoid or a sphere.

A grid of resolution ``d`` degrees (180/d must be an integer) has ``180/d`` rows
with centres at -90 + (i + 1/2) d and ``360/d`` columns with centres at
-180 + (j + 1/2) d. No centre lies on a pole or on the antimeridian.

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
    """A global cell-centre grid; hashable, so it can be a static jit argument."""

    resolution_deg: float
    earth_model: str = "wgs84"

    @property
    def n_lat(self) -> int:
        return int(round(180.0 / self.resolution_deg))

    @property
    def n_lon(self) -> int:
        return 2 * self.n_lat

    @property
    def lat_deg(self) -> np.ndarray:
        return -90.0 + (np.arange(self.n_lat) + 0.5) * self.resolution_deg

    @property
    def lon_deg(self) -> np.ndarray:
        return -180.0 + (np.arange(self.n_lon) + 0.5) * self.resolution_deg

    def cell_area_fraction(self) -> np.ndarray:
        """(lat,) fraction of the Earth's surface in one cell of each row; sums to 1 over the grid.

        Sphere: a row between latitudes a < b covers (sin b - sin a) / 2. WGS84: the
        ellipsoid zone between geodetic latitudes a < b covers (q(b) - q(a)) / (2 q(90))
        with Snyder's authalic q (the cells are ellipsoidal quadrangles).
        """
        edges = np.radians(-90.0 + np.arange(self.n_lat + 1) * self.resolution_deg)
        if self.earth_model == "sphere":
            zone = np.diff(np.sin(edges)) / 2.0
        else:
            e = np.sqrt(WGS84.flattening * (2.0 - WGS84.flattening))
            q = _authalic_q(edges, e)
            zone = np.diff(q) / (2.0 * _authalic_q(np.pi / 2, e))
        return zone / self.n_lon


def make_grid(resolution_deg: float, earth_model: str = "wgs84") -> Grid:
    """Validate a resolution and an Earth model and return the :class:`Grid`.

    Raises:
      ValueError: if the resolution is not positive or does not divide 180, or the
        Earth model is not one of ``"wgs84"``, ``"sphere"``.
    """
    res = float(resolution_deg)
    if not np.isfinite(res) or res <= 0:
        raise ValueError(f"grid resolution must be a positive number of degrees, got {resolution_deg}")
    n = 180.0 / res
    if abs(n - round(n)) > 1e-9 * n:
        raise ValueError(f"grid resolution {resolution_deg} deg must divide 180 (e.g. 2, 1, 0.5, 0.25)")
    if earth_model not in EARTH_MODELS:
        raise ValueError(f"earth_model must be one of {EARTH_MODELS}, got {earth_model!r}")
    return Grid(180.0 / round(n), earth_model)
