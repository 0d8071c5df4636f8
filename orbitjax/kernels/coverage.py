"""Coverage counts on a global lat/lon grid: how many satellites each cell sees.

Earth model: a sphere of radius ``R`` (default the IUGG mean radius 6371.0088 km),
cell latitudes taken as geocentric. On that sphere the count is exact: a ground
point sees a satellite at distance ``r`` from the centre above elevation ``eps``
exactly when the central angle ``psi`` between the point and the sub-satellite
point satisfies (Wertz, "Space Mission Analysis and Design", 3rd ed., Eq. 5-26)

    psi <= lam(r, eps) = arccos(R cos(eps) / r) - eps.

On the grid row at latitude ``phi`` that condition is one longitude interval
centred on the sub-satellite longitude ``lon_s`` (spherical law of cosines):

    cos(dlon) >= (cos(lam) - sin(phi) sin(phi_s)) / (cos(phi) cos(phi_s)),

empty when the right side exceeds 1 and the whole row when it is below -1 (a
footprint containing a pole). The kernel therefore does work proportional to
the footprints, not to satellites x cells: for each satellite and time it visits
only the ``rows_per_footprint`` rows its footprint can touch, turns each into a
column interval, and adds +1/-1 at the interval's ends in a difference array of
doubled width (so intervals crossing the antimeridian need no special case). A
cumulative sum along longitude and a fold of the two halves give the counts.

Memory per call: the (time, sat, rows_per_footprint) interval arrays plus the
(time, lat, 2 lon) difference array; never time x sat x cells.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ._vmath import arccos, atan2
from .earth import MEAN_RADIUS_KM
from .grid import Grid


def footprint_half_angle(r_km, min_elevation_rad, radius_km: float = MEAN_RADIUS_KM):
    """Earth-central half-angle (rad) of the region seeing a satellite above ``min_elevation_rad``.

    Negative when the satellite is below the surface (then nothing sees it).
    """
    ratio = radius_km * jnp.cos(min_elevation_rad) / r_km
    return jnp.arccos(jnp.clip(ratio, -1.0, 1.0)) - min_elevation_rad


def rows_per_footprint(grid: Grid, max_half_angle_rad: float) -> int:
    """Static number of grid rows a footprint of the given half-angle can intersect.

    A latitude interval of length 2 lam holds at most floor(2 lam / res) + 1 row
    centres; the 1e-6 margin absorbs rounding in the kernel's first-row index.
    """
    span = 2.0 * np.degrees(max_half_angle_rad) / grid.resolution_deg
    return int(min(grid.n_lat, np.floor(span + 1e-6) + 1))


@partial(jax.jit, static_argnames=("grid", "n_rows", "radius_km", "count_dtype"))
def coverage_counts(
    r_ecef_km,
    min_elevation_rad,
    *,
    grid: Grid,
    n_rows: int,
    radius_km: float = MEAN_RADIUS_KM,
    count_dtype=jnp.int16,
):
    """Number of satellites above each satellite's own minimum elevation, per cell and time.

    Args:
      r_ecef_km: (sat, time, 3) Earth-fixed positions in km. NaN positions (failed
        propagation) contribute nothing.
      min_elevation_rad: (sat,) minimum elevation of each satellite.
      grid: the cell-centre grid (static).
      n_rows: static rows visited per footprint; use :func:`rows_per_footprint`
        with the largest half-angle in the call. Too small a value drops coverage
        at footprint edges, so callers must derive it, not guess it.
      radius_km: radius of the spherical Earth.
      count_dtype: integer dtype of the counts (static). int16 (the default)
        halves the memory traffic of the dense passes; it holds counts up to
        32,767 satellites in view of one cell.

    Returns:
      (time, lat, lon) counts of ``count_dtype``.
    """
    n_lat, n_lon = grid.n_lat, grid.n_lon
    res = np.radians(grid.resolution_deg)
    n_time = r_ecef_km.shape[1]
    dtype = r_ecef_km.dtype

    # Work in (time, sat, row) order: the scatter below then stays within one time
    # slab of the difference array at a time, which keeps it cache-resident.
    r_t = jnp.swapaxes(r_ecef_km, 0, 1)  # (time, sat, 3)
    x, y, z = r_t[..., 0], r_t[..., 1], r_t[..., 2]
    rho = jnp.sqrt(x * x + y * y)
    r = jnp.sqrt(rho * rho + z * z)  # (time, sat)
    sin_s, cos_s = z / r, rho / r
    lat_s = atan2(z, rho)
    lon_s = atan2(y, x)
    # lam = arccos(q) - eps with q = R cos(eps) / r; cos(lam) follows without trigonometry.
    eps = min_elevation_rad[None, :]
    cos_eps, sin_eps = jnp.cos(eps), jnp.sin(eps)
    q = jnp.clip(radius_km * cos_eps / r, -1.0, 1.0)
    sin_q = jnp.sqrt(1.0 - q * q)
    lam = atan2(sin_q, q) - eps
    cos_lam = q * cos_eps + sin_q * sin_eps
    visible = jnp.isfinite(lam) & (lam > 0)

    # First row whose centre can lie inside the footprint, then n_rows rows upward.
    first = jnp.ceil((lat_s - lam + 0.5 * jnp.pi) / res - 0.5).astype(jnp.int32)
    rows = first[..., None] + jnp.arange(n_rows, dtype=jnp.int32)[None, None, :]  # (time, sat, k)
    row_ok = visible[..., None] & (rows >= 0) & (rows < n_lat)
    rows_c = jnp.clip(rows, 0, n_lat - 1)
    phi = -0.5 * np.pi + (np.arange(n_lat) + 0.5) * res
    sin_phi = jnp.asarray(np.sin(phi), dtype)[rows_c]
    cos_phi = jnp.asarray(np.cos(phi), dtype)[rows_c]

    num = cos_lam[..., None] - sin_phi * sin_s[..., None]
    den = cos_phi * cos_s[..., None]
    # den > 0 for every cell centre unless the satellite is exactly over a pole.
    cos_w = jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), jnp.where(num <= 0, -2.0, 2.0))
    full_row = cos_w <= -1.0
    c = jnp.clip(cos_w, -1.0, 1.0)

    # Column interval [j0, j1] of the centres within arccos(c) of lon_s (fractional column xc).
    xc = (lon_s[..., None] + jnp.pi) / res - 0.5
    hw = jnp.where(full_row, jnp.pi, arccos(c)) / res
    j0 = jnp.ceil(xc - hw)
    j1 = jnp.floor(xc + hw)
    n_cells = jnp.clip(j1 - j0 + 1.0, 0.0, n_lon)
    n_cells = jnp.where(full_row, n_lon, n_cells).astype(jnp.int32)
    # j0 lies in (-n_lon, 2 n_lon): wrap with compares, cheaper than a float mod.
    j0i = j0.astype(jnp.int32)
    j0i = j0i + n_lon * (j0i < 0) - n_lon * (j0i >= n_lon)
    start = jnp.where(full_row, 0, j0i)
    ok = row_ok & (cos_w <= 1.0) & (n_cells > 0)

    # Flat index into the (time, lat, 2 lon) difference array; dropped when not ok.
    t_idx = jnp.arange(n_time, dtype=jnp.int32)[:, None, None]
    base = (t_idx * n_lat + rows_c) * (2 * n_lon)
    size = n_time * n_lat * 2 * n_lon
    idx_on = jnp.where(ok, base + start, size)
    idx_off = jnp.where(ok, base + start + n_cells, size)
    idx = jnp.stack([idx_on, idx_off], axis=-1).ravel()
    upd = jnp.broadcast_to(jnp.array([1, -1], count_dtype), idx_on.shape + (2,)).ravel()
    diff = jnp.zeros(size, count_dtype).at[idx].add(upd, mode="drop")
    diff = diff.reshape(n_time, n_lat, 2, n_lon)
    # counts[j] = C[j] + C[j + n_lon] with C the cumulative sum over the doubled row;
    # folding first halves the scan: C[j + n] = sum(first half) + cumsum(second half)[j].
    first_half = diff[:, :, 0]
    return _cumsum_last(first_half + diff[:, :, 1]) + jnp.sum(
        first_half, axis=-1, keepdims=True, dtype=count_dtype
    )


def _cumsum_last(x, block: int = 8):
    """Cumulative sum over the last axis as a two-level blocked scan.

    XLA lowers ``cumsum`` on CPU to a reduce-window that is several times slower
    than this: short scans inside blocks of ``block`` elements, then a scan over
    the block totals (falls back to a plain cumsum if ``block`` does not divide).
    """
    n = x.shape[-1]
    if n % block:
        return jax.lax.cumsum(x, axis=x.ndim - 1)
    b = x.reshape(x.shape[:-1] + (n // block, block))
    inner = jax.lax.cumsum(b, axis=b.ndim - 1)
    totals = inner[..., -1]
    offsets = jax.lax.cumsum(totals, axis=totals.ndim - 1) - totals
    return (inner + offsets[..., None]).reshape(x.shape)
