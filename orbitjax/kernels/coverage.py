"""Coverage counts on a global lat/lon grid: how many satellites each cell sees.

Two Earth models (``Grid.earth_model``), both exact and both footprint-following.

**WGS84 (default).** Cell centres lie on the WGS84 ellipsoid at geodetic latitude
``phi`` and height 0; a cell sees a satellite when its elevation above the local
horizon plane (normal ``n`` of the ellipsoid) is at least ``eps``:
``(s - c) . n >= |s - c| sin(eps)``. On the row of geodetic latitude ``phi``, with
``u = cos(lon - lon_s)``, satellite ``s = (rho_s cos lon_s, rho_s sin lon_s, z_s)``,
``N = a / sqrt(1 - e^2 sin^2 phi)`` the prime-vertical radius and cell
``c = (N cos phi cos lon, N cos phi sin lon, N (1 - e^2) sin phi)``::

    (s - c) . n = A u + B,        A = rho_s cos phi,  B = z_s sin phi - N (1 - e^2 sin^2 phi)
    |s - c|^2   = C - D u,        C = rho_s^2 + (N cos phi)^2 + (z_s - N (1 - e^2) sin phi)^2,
                                   D = 2 rho_s N cos phi.

``F(u) = A u + B - sin(eps) sqrt(C - D u)`` is non-decreasing in ``u`` (A, D >= 0),
so the visible cells of a row are ``u >= u*``: one longitude interval centred on
``lon_s``. ``u*`` is the larger root of ``A^2 u^2 + (2 A B + sin^2(eps) D) u +
B^2 - sin^2(eps) C = 0`` (the squared equation is increasing on ``u >= -B/A``,
where every root of ``F`` lies); the row is full when ``F(-1) >= 0`` and empty when
``F(1) < 0``. Rows visited per footprint are bounded by the geocentric footprint
half-angle for the polar radius ``b`` and a mask lowered by the largest angle
between the ellipsoid normal and the radial direction (0.192 deg), widened by
that same angle (geodetic minus geocentric latitude).

**Sphere.** Radius ``R`` (default the IUGG mean radius 6371.0088 km), latitudes
geocentric: a point sees a satellite at distance ``r`` above elevation ``eps``
exactly when the central angle ``psi`` from the sub-satellite point satisfies
(Wertz, "Space Mission Analysis and Design", 3rd ed., Eq. 5-26)
``psi <= lam = arccos(R cos(eps) / r) - eps``, i.e. on the row at latitude ``phi``
``cos(dlon) >= (cos(lam) - sin(phi) sin(phi_s)) / (cos(phi) cos(phi_s))``.

Either way the kernel does work proportional to the footprints, not to satellites
x cells: for each satellite and time it visits only the ``rows_per_footprint``
rows its footprint can touch, turns each into a column interval, and adds a
payload (+1 for counts) at the interval's start and its negative after its end in
a difference array of doubled width (so intervals crossing the antimeridian need
no special case). A cumulative sum along longitude and a fold of the two halves
give the per-cell sums.

Memory per call: the (time, sat, rows_per_footprint) interval arrays plus the
(time, lat, 2 lon) difference array; never time x sat x cells.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ._vmath import arccos, atan2, sincos
from .earth import MEAN_RADIUS_KM, WGS84
from .grid import Grid

WGS84_A_KM = WGS84.radius_eq_km
WGS84_E2 = WGS84.flattening * (2.0 - WGS84.flattening)
WGS84_B_KM = WGS84_A_KM * (1.0 - WGS84.flattening)


def _max_normal_tilt_rad() -> float:
    """Largest angle between the WGS84 normal and the radial direction (geodetic - geocentric latitude)."""
    phi = np.linspace(0.0, np.pi / 2, 200_001)
    return float(np.max(phi - np.arctan((1.0 - WGS84_E2) * np.tan(phi)))) + 1e-9


NORMAL_TILT_MAX_RAD = _max_normal_tilt_rad()  # 3.3584e-3 rad = 0.1924 deg


def footprint_half_angle(r_km, min_elevation_rad, radius_km: float = MEAN_RADIUS_KM):
    """Earth-central half-angle (rad) of the region of a sphere seeing a satellite above ``min_elevation_rad``.

    Negative when the satellite is below the surface (then nothing sees it).
    """
    ratio = radius_km * jnp.cos(min_elevation_rad) / r_km
    return jnp.arccos(jnp.clip(ratio, -1.0, 1.0)) - min_elevation_rad


def footprint_lat_span(r_km, min_elevation_rad, earth_model: str = "wgs84", radius_km: float = MEAN_RADIUS_KM):
    """Upper bound (rad) on how far a footprint's grid latitudes reach from the satellite's geocentric latitude.

    Sphere: the half-angle itself. WGS84: the spherical half-angle for the polar
    radius and the mask lowered by the normal tilt, plus the tilt (see module doc).
    """
    if earth_model == "sphere":
        return footprint_half_angle(r_km, min_elevation_rad, radius_km)
    eps = min_elevation_rad - NORMAL_TILT_MAX_RAD
    return footprint_half_angle(r_km, eps, WGS84_B_KM) + NORMAL_TILT_MAX_RAD


def rows_per_footprint(grid: Grid, max_half_angle_rad: float) -> int:
    """Static number of grid rows a footprint of the given latitude half-span can intersect.

    A latitude interval of length 2 lam holds at most floor(2 lam / res) + 1 row
    centres; the 1e-6 margin absorbs rounding in the kernel's first-row index.
    """
    span = 2.0 * np.degrees(max_half_angle_rad) / grid.resolution_deg
    return int(min(grid.n_lat, np.floor(span + 1e-6) + 1))


def _sat_geometry(r_ecef_km, min_elevation_rad, grid: Grid, radius_km: float):
    """Per (time, sat): geocentric latitude/longitude, cylindrical rho/z, the latitude half-span
    bound and the visibility flag; (time, sat, ...) order for the scatter."""
    r_t = jnp.swapaxes(r_ecef_km, 0, 1)
    x, y, z = r_t[..., 0], r_t[..., 1], r_t[..., 2]
    rho = jnp.sqrt(x * x + y * y)
    r = jnp.sqrt(rho * rho + z * z)  # (time, sat)
    eps = min_elevation_rad[None, :]
    cos_eps, sin_eps = jnp.cos(eps), jnp.sin(eps)
    if grid.earth_model == "sphere":
        # lam = arccos(q) - eps with q = R cos(eps) / r; cos(lam) follows without trigonometry.
        q = jnp.clip(radius_km * cos_eps / r, -1.0, 1.0)
        sin_q = jnp.sqrt(1.0 - q * q)
        span = atan2(sin_q, q) - eps
        extra = q * cos_eps + sin_q * sin_eps  # cos(lam)
    else:
        # Latitude half-span bound (see footprint_lat_span), inlined for the traced arrays.
        eps_b = eps - NORMAL_TILT_MAX_RAD
        q = jnp.clip(WGS84_B_KM * jnp.cos(eps_b) / r, -1.0, 1.0)
        span = atan2(jnp.sqrt(1.0 - q * q), q) - eps_b + NORMAL_TILT_MAX_RAD
        extra = jnp.broadcast_to(sin_eps, r.shape)
    visible = jnp.isfinite(span) & (span > 0)
    return dict(rho=rho, z=z, r=r, lat=atan2(z, rho), lon=atan2(y, x), span=span, extra=extra, visible=visible)


def _row_trig(first, n_rows: int, grid: Grid, dtype):
    """sin and cos (time, sat, k) of the latitude of rows ``first + k``, without per-row gathers.

    Angle addition from the first row (``phi_k = phi_0 + k res``): one sine and cosine per
    (time, sat) instead of a table gather per row (gathers do not vectorise on XLA:CPU).
    Rows outside the grid get latitudes past the poles, which callers mask.
    """
    res = np.radians(grid.resolution_deg)
    phi0 = (first.astype(dtype) + 0.5) * res - 0.5 * np.pi
    s0, c0 = sincos(phi0)
    k = np.arange(n_rows) * res
    ck, sk = jnp.asarray(np.cos(k)[None, None, :], dtype), jnp.asarray(np.sin(k)[None, None, :], dtype)
    s0, c0 = s0[..., None], c0[..., None]
    return s0 * ck + c0 * sk, c0 * ck - s0 * sk


def _row_cos_w(g, sin_phi, cos_phi, grid: Grid):
    """cos of the half-width in longitude of each footprint row (time, sat, k); -2: full row, 2: empty.

    ``sin_phi``/``cos_phi``: (time, sat, k) of each row's grid latitude (geodetic for WGS84).
    """
    rho, z = g["rho"][..., None], g["z"][..., None]
    if grid.earth_model == "sphere":
        r = g["r"][..., None]
        num = g["extra"][..., None] - sin_phi * (z / r)
        den = cos_phi * (rho / r)
        # den > 0 for every cell centre unless the satellite is exactly over a pole.
        return jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), jnp.where(num <= 0, -2.0, 2.0))
    w2 = 1.0 - WGS84_E2 * sin_phi * sin_phi
    n_ = WGS84_A_KM / jnp.sqrt(w2)  # prime-vertical radius N
    rho_c, z_c, h_c = n_ * cos_phi, n_ * (1.0 - WGS84_E2) * sin_phi, n_ * w2
    se = g["extra"][..., None]
    a_ = rho * cos_phi
    b_ = z * sin_phi - h_c
    dz = z - z_c
    c_ = rho * rho + rho_c * rho_c + dz * dz
    d_ = 2.0 * rho * rho_c
    f_hi = a_ + b_ - se * jnp.sqrt(jnp.maximum(c_ - d_, 0.0))  # F(u = 1): the nearest cell of the row
    f_lo = b_ - a_ - se * jnp.sqrt(c_ + d_)  # F(u = -1): the farthest
    a2 = a_ * a_
    b1 = 2.0 * a_ * b_ + se * se * d_
    c0 = b_ * b_ - se * se * c_
    sq = jnp.sqrt(jnp.maximum(b1 * b1 - 4.0 * a2 * c0, 0.0))
    qq = -0.5 * (b1 + jnp.where(b1 >= 0, sq, -sq))  # stable roots qq / a2 and c0 / qq
    r1 = jnp.where(a2 > 0, qq / jnp.where(a2 > 0, a2, 1.0), -jnp.inf)
    r2 = jnp.where(qq != 0, c0 / jnp.where(qq != 0, qq, 1.0), -jnp.inf)
    return jnp.where(f_lo >= 0, -2.0, jnp.where(f_hi < 0, 2.0, jnp.maximum(r1, r2)))


def _first_row(g, grid: Grid):
    res = np.radians(grid.resolution_deg)
    return jnp.ceil((g["lat"] - g["span"] + 0.5 * jnp.pi) / res - 0.5).astype(jnp.int32)


def _rows(first, n_rows: int, grid: Grid):
    rows = first[..., None] + jnp.arange(n_rows, dtype=jnp.int32)[None, None, :]  # (time, sat, k)
    return jnp.clip(rows, 0, grid.n_lat - 1), (rows >= 0) & (rows < grid.n_lat)


def _columns(lo, hi, full_row, row_ok, grid: Grid):
    """Integer column interval of the centres in [lo, hi] (fractional columns) -> (start, n_cells, ok)."""
    n_lon = grid.n_lon
    j0 = jnp.ceil(lo)
    j1 = jnp.floor(hi)
    n_cells = jnp.clip(j1 - j0 + 1.0, 0.0, n_lon)
    n_cells = jnp.where(full_row, n_lon, n_cells).astype(jnp.int32)
    # j0 lies in (-n_lon, 2 n_lon): wrap with compares, cheaper than a float mod.
    j0i = j0.astype(jnp.int32)
    j0i = j0i + n_lon * (j0i < 0) - n_lon * (j0i >= n_lon)
    start = jnp.where(full_row, 0, j0i)
    return start, n_cells, row_ok & (n_cells > 0)


def _centre_halfwidth(g, cos_w, grid: Grid):
    """Fractional column of the footprint centre and the row half-width in columns (pi/res for a full row)."""
    res = np.radians(grid.resolution_deg)
    full_row = cos_w <= -1.0
    xc = (g["lon"][..., None] + jnp.pi) / res - 0.5
    hw = jnp.where(full_row, jnp.pi, arccos(jnp.clip(cos_w, -1.0, 1.0))) / res
    return xc, hw, full_row


def footprint_intervals(r_ecef_km, min_elevation_rad, *, grid: Grid, n_rows: int,
                        radius_km: float = MEAN_RADIUS_KM):
    """Column interval of every footprint row: the geometry shared by all scatters.

    Args:
      r_ecef_km: (sat, time, 3) Earth-fixed positions, km (NaN: nothing visible).
      min_elevation_rad: (sat,) minimum elevation of each satellite.
      grid, n_rows, radius_km: as in :func:`coverage_counts`.

    Returns:
      ``rows`` (time, sat, k) int32 row index (clipped into the grid), ``start``
      (time, sat, k) int32 first column in [0, n_lon), ``n_cells`` (time, sat, k)
      int32 interval length (n_lon for a full row) and ``ok`` (time, sat, k) bool,
      False where the row holds no visible cell.
    """
    g = _sat_geometry(r_ecef_km, min_elevation_rad, grid, radius_km)
    first = _first_row(g, grid)
    rows_c, in_grid = _rows(first, n_rows, grid)
    cos_w = _row_cos_w(g, *_row_trig(first, n_rows, grid, g["rho"].dtype), grid)
    xc, hw, full_row = _centre_halfwidth(g, cos_w, grid)
    row_ok = g["visible"][..., None] & in_grid & (cos_w <= 1.0)
    return (rows_c,) + _columns(xc - hw, xc + hw, full_row, row_ok, grid)


def _cap_bound(r_km, min_elevation_rad, grid: Grid, radius_km: float):
    """Geocentric central angle (rad) beyond which no cell can see the satellite (an upper bound on WGS84)."""
    if grid.earth_model == "sphere":
        return footprint_half_angle(r_km, min_elevation_rad, radius_km)
    return footprint_half_angle(r_km, min_elevation_rad - NORMAL_TILT_MAX_RAD, WGS84_B_KM)


SWEPT_PATH_MARGIN_RAD = 1e-3
"""Bound on how far the Earth-fixed path between two samples strays from the great-circle
arc between them (the ground track's curvature from the Earth's rotation is ~4e-5 rad
over a 60 s LEO step)."""


def swept_intervals(r_ecef_km, min_elevation_rad, *, grid: Grid, n_rows: int, max_step_angle_rad: float,
                    radius_km: float = MEAN_RADIUS_KM):
    """Column intervals holding every cell a footprint can touch at any time within each step.

    For step k the satellite moves from ``r[:, k]`` to ``r[:, k + 1]`` (T + 1
    samples in, T steps out) along (within :data:`SWEPT_PATH_MARGIN_RAD`) the
    great-circle arc between their directions, of angle ``psi``; every point of
    that arc is within ``psi / 2`` of its midpoint. The cells the satellite can see
    during the step then lie within the geocentric central angle
    ``lam_b + psi / 2 + margin`` of the midpoint direction, where ``lam_b`` bounds the
    footprint's central angle (for WGS84: the spherical half-angle for the polar
    radius and the mask lowered by the largest normal tilt). Each row's interval
    of such cells is exact on the sphere through the cell centres (the geocentric
    latitude of each row). A superset: callers test every candidate exactly.

    Args:
      r_ecef_km: (sat, T + 1, 3) Earth-fixed positions.
      n_rows: static rows per step; use :func:`rows_per_footprint` with
        :func:`footprint_lat_span` plus ``max_step_angle_rad / 2`` and the margin.
      max_step_angle_rad: bound on the angle between consecutive positions (sets
        ``n_rows``; the caps use each step's own angle).

    Returns:
      ``rows, start, n_cells, ok``, each (T, sat, n_rows), as :func:`footprint_intervals`.
    """
    del max_step_angle_rad  # the static row count already accounts for it
    n0 = jnp.linalg.norm(r_ecef_km, axis=-1, keepdims=True)
    u = r_ecef_km / n0
    u0, u1 = jnp.swapaxes(u[:, :-1], 0, 1), jnp.swapaxes(u[:, 1:], 0, 1)  # (time, sat, 3)
    rt = u0 + u1  # direction of the arc's midpoint
    dd = u0 - u1
    rho = jnp.sqrt(rt[..., 0] ** 2 + rt[..., 1] ** 2)
    rm = jnp.sqrt(rho * rho + rt[..., 2] ** 2)
    half = atan2(jnp.sqrt(jnp.sum(dd * dd, axis=-1)), rm)  # psi / 2
    res = np.radians(grid.resolution_deg)
    tilt = 0.0 if grid.earth_model == "sphere" else NORMAL_TILT_MAX_RAD
    phi = np.radians(grid.lat_deg)
    phi_c = phi if grid.earth_model == "sphere" else np.arctan((1.0 - WGS84_E2) * np.tan(phi))
    dtype = r_ecef_km.dtype
    # The footprint bound grows with the radius: use the larger of the two samples'.
    r_max = jnp.maximum(n0[:, :-1, 0], n0[:, 1:, 0]).T
    lam = _cap_bound(r_max, min_elevation_rad[None, :], grid, radius_km) + half + SWEPT_PATH_MARGIN_RAD
    ok_s = jnp.isfinite(lam) & (lam > 0) & (rm > 0)
    lat = atan2(rt[..., 2], rho)
    first = jnp.ceil((lat - lam - tilt + 0.5 * jnp.pi) / res - 0.5).astype(jnp.int32)
    rows_c, in_grid = _rows(first, n_rows, grid)
    sp = jnp.asarray(np.sin(phi_c), dtype)[rows_c]
    cp = jnp.asarray(np.cos(phi_c), dtype)[rows_c]
    ss, cs = (rt[..., 2] / rm)[..., None], (rho / rm)[..., None]
    num = jnp.cos(lam)[..., None] - sp * ss
    den = cp * cs
    cos_w = jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), jnp.where(num <= 0, -2.0, 2.0))
    full_row = cos_w <= -1.0
    xc = (atan2(rt[..., 1], rt[..., 0])[..., None] + jnp.pi) / res - 0.5
    hw = jnp.where(full_row, jnp.pi, arccos(jnp.clip(cos_w, -1.0, 1.0))) / res
    ok = ok_s[..., None] & in_grid & (cos_w <= 1.0)
    return (rows_c,) + _columns(xc - hw, xc + hw, full_row, ok, grid)


def scatter_intervals(rows, start, n_cells, ok, payload, *, grid: Grid):
    """Sum of ``payload`` over the intervals covering each cell: (time, lat, lon) of payload's dtype.

    ``payload`` is (sat,) (e.g. ones for counts, packed satellite ids); the sums are
    exact in integer arithmetic, also modulo overflow of the dtype.
    """
    n_lat, n_lon = grid.n_lat, grid.n_lon
    n_time = rows.shape[0]
    dtype = payload.dtype
    t_idx = jnp.arange(n_time, dtype=jnp.int32)[:, None, None]
    base = (t_idx * n_lat + rows) * (2 * n_lon)
    size = n_time * n_lat * 2 * n_lon
    idx_on = jnp.where(ok, base + start, size)
    idx_off = jnp.where(ok, base + start + n_cells, size)
    idx = jnp.stack([idx_on, idx_off], axis=-1).ravel()
    p = jnp.broadcast_to(payload[None, :, None], rows.shape)
    upd = jnp.stack([p, -p], axis=-1).ravel()
    diff = jnp.zeros(size, dtype).at[idx].add(upd, mode="drop")
    diff = diff.reshape(n_time, n_lat, 2, n_lon)
    # sums[j] = C[j] + C[j + n_lon] with C the cumulative sum over the doubled row;
    # folding first halves the scan: C[j + n] = sum(first half) + cumsum(second half)[j].
    first_half = diff[:, :, 0]
    return _cumsum_last(first_half + diff[:, :, 1]) + jnp.sum(first_half, axis=-1, keepdims=True, dtype=dtype)


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
      grid: the cell-centre grid (static); its ``earth_model`` selects WGS84
        geodetic cells with elevation from the ellipsoid normal, or the sphere.
      n_rows: static rows visited per footprint; use :func:`rows_per_footprint`
        with :func:`footprint_lat_span` of the largest footprint in the call. Too
        small a value drops coverage at footprint edges, so callers must derive
        it, not guess it.
      radius_km: radius of the spherical Earth (``earth_model="sphere"`` only).
      count_dtype: integer dtype of the counts (static). int16 (the default)
        halves the memory traffic of the dense passes; it holds counts up to
        32,767 satellites in view of one cell.

    Returns:
      (time, lat, lon) counts of ``count_dtype``.
    """
    geom = footprint_intervals(r_ecef_km, min_elevation_rad, grid=grid, n_rows=n_rows, radius_km=radius_km)
    ones = jnp.ones(r_ecef_km.shape[:1], count_dtype)
    return scatter_intervals(*geom, ones, grid=grid)


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
