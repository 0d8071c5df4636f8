"""Global regular latitude/longitude grids of cell centres.

A grid of resolution ``d`` degrees (180/d must be an integer) has ``180/d`` rows
with centres at -90 + (i + 1/2) d and ``360/d`` columns with centres at
-180 + (j + 1/2) d. No centre lies on a pole or on the antimeridian.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Grid(NamedTuple):
    """A global cell-centre grid; hashable, so it can be a static jit argument."""

    resolution_deg: float

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
        """(lat,) fraction of the sphere's area in one cell of each row; sums to 1 over the grid.

        A row between latitudes a < b covers (sin b - sin a) / 2 of a sphere.
        """
        edges = np.radians(-90.0 + np.arange(self.n_lat + 1) * self.resolution_deg)
        return np.diff(np.sin(edges)) / 2.0 / self.n_lon


def make_grid(resolution_deg: float) -> Grid:
    """Validate a resolution and return the :class:`Grid`.

    Raises:
      ValueError: if the resolution is not positive or does not divide 180.
    """
    res = float(resolution_deg)
    if not np.isfinite(res) or res <= 0:
        raise ValueError(f"grid resolution must be a positive number of degrees, got {resolution_deg}")
    n = 180.0 / res
    if abs(n - round(n)) > 1e-9 * n:
        raise ValueError(f"grid resolution {resolution_deg} deg must divide 180 (e.g. 2, 1, 0.5, 0.25)")
    return Grid(180.0 / round(n))
