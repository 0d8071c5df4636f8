"""Bundled land fraction of every grid cell, from the GLOBE 1-km elevation model.

The data file ``land_fraction_0p25deg.npz`` (about 110 kB) holds the land
fraction of each 0.25 deg cell, rows from 90 S, columns from 180 W, like every
orbitjax grid (see :mod:`orbitjax.kernels.grid`). It was made once, at
development time, by ``data/make_land_fraction.py`` from the 30 arc-second ocean
mask of the PyPI package ``global-land-mask`` 1.0.0 (T. Karin, MIT License),
which derives from NOAA NGDC's GLOBE DEM v1.0 (Hastings & Dunbar 1999, public
domain). Lakes mostly count as land; Antarctica is land. Nothing is downloaded
at run time and that package is not a dependency. See ``data/README.md``.
"""

from __future__ import annotations

import functools

import numpy as np

from .kernels.grid import Grid
from .scenario import bundled_data_dir

__all__ = ["LAND_FRACTION_FILE", "STORED_RESOLUTION_DEG", "land_fraction"]

LAND_FRACTION_FILE = "land_fraction_0p25deg.npz"
STORED_RESOLUTION_DEG = 0.25


@functools.lru_cache(maxsize=1)
def _stored() -> np.ndarray:
    """(720, 1440) float64 land fraction at the stored resolution (read-only)."""
    path = bundled_data_dir() / LAND_FRACTION_FILE
    if not path.exists():
        raise FileNotFoundError(f"bundled land fraction file missing: {path} (regenerate with data/make_land_fraction.py)")
    with np.load(path) as f:
        res = float(f["resolution_deg"])
        frac = f["land_fraction_u16"].astype(np.float64) / float(f["scale"])
    if res != STORED_RESOLUTION_DEG:
        raise ValueError(f"{path}: unexpected resolution {res} deg")
    if frac.shape != (Grid(res).n_lat, Grid(res).n_lon):
        raise ValueError(f"{path}: shape {frac.shape} does not match a {res} deg global grid")
    frac.flags.writeable = False
    return frac


def land_fraction(resolution_deg: float) -> np.ndarray:
    """(lat, lon) land fraction in [0, 1] of each cell of the global ``resolution_deg`` grid.

    Cells are those of :class:`orbitjax.kernels.grid.Grid`: row ``i`` spans
    latitudes ``-90 + [i, i+1] d``, column ``j`` longitudes ``-180 + [j, j+1] d``.
    Each coarse cell is the exact area-weighted mean of the ``k x k`` stored
    0.25 deg cells it contains (``k = d / 0.25``), each stored row weighted by its
    spherical-zone area ``sin b - sin a``, so the area-weighted global mean is
    the same at every resolution (up to float rounding).

    Args:
      resolution_deg: an integer multiple of 0.25 that divides 180
        (0.25, 0.5, 1, 2, 2.5, 3, 5, ...).

    Returns:
      float64 array (180/d, 360/d); a new array the caller may modify.

    Raises:
      ValueError: if ``resolution_deg`` is not such a multiple.
    """
    res = float(resolution_deg)
    k = res / STORED_RESOLUTION_DEG
    if not np.isfinite(res) or res <= 0 or abs(k - round(k)) > 1e-9 * max(k, 1.0) or round(k) < 1:
        raise ValueError(
            f"land fraction is stored at {STORED_RESOLUTION_DEG} deg; resolution_deg must be a positive "
            f"integer multiple of it, got {resolution_deg}"
        )
    k = int(round(k))
    base = _stored()
    n_lat, n_lon = base.shape
    if n_lat % k:
        raise ValueError(
            f"resolution_deg {resolution_deg} does not divide 180 ({n_lat} stored rows are not a multiple of {k})"
        )
    if k == 1:
        return base.copy()
    row_area = Grid(STORED_RESOLUTION_DEG).cell_area_fraction()  # (n_lat,) per-cell area of each stored row
    # (n_lat/k, k, n_lon/k, k) blocks; weights broadcast as (1, k, 1, 1) per block row.
    blocks = base.reshape(n_lat // k, k, n_lon // k, k)
    w = row_area.reshape(n_lat // k, k)
    weighted = np.einsum("ikjl,ik->ij", blocks, w)
    # rounding can exceed 1 by an ulp in all-land blocks
    return np.minimum(weighted / (w.sum(axis=1)[:, None] * k), 1.0)
