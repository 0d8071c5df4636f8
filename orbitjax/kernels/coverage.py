"""Coverage counts on a global or regional lat/lon grid: how many satellites each cell sees.

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

**Cone sensors** (``half_angle_rad``, per satellite; NaN: none). A nadir-pointing
cone of half-angle ``eta`` (nadir: towards the Earth's centre) sees a cell when the
off-nadir angle ``theta`` of the cell, the angle at ``s`` between ``-s`` and
``c - s``, is at most ``eta``. With ``P = (s - c) . s = G - A' u`` (``G = r^2 - z_s
z_c``, ``A' = rho_s rho_c``) and ``|s - c|^2 = C - D u`` as above, ``d cos(theta)/du
= A' ((s - c) . c) / |s - c|^3``, which is >= 0 wherever the satellite is above the
cell's geocentric horizon plane, ``u >= u_g = (|c|^2 - z_s z_c) / A'``. On that
side ``cos(theta) >= cos(eta)`` is ``u >= u_c``, the larger root of ``q(u) = P^2 -
r^2 cos^2(eta) (C - D u)`` (``P > 0`` since ``|c| < r``, so the sign of ``q`` is the
test's; ``q`` is convex). Cells below that plane but above the ellipsoid horizon
have ``sin(theta) >= b cos(0.192 deg) / r``, so a cone narrower than that (checked by
the caller) never reaches them: the visible cells are still one interval, ``u >=
max(u*, u_c)``. Derivation and the limit: ``docs/sensors.md``.

Either way the kernel does work proportional to the footprints, not to satellites
x cells: for each satellite and time it visits only the ``rows_per_footprint``
rows its footprint can touch, turns each into a column interval, and adds a
payload (+1 for counts) at the interval's start and its negative after its end in
a difference array of doubled width (so intervals crossing the antimeridian need
no special case). A cumulative sum along longitude and a fold of the two halves
give the per-cell sums.

**Regional grids** (``Grid.box``, :func:`orbitjax.kernels.grid.make_grid`): row
indices count from the box's southern edge and only the box's rows are visited
(a footprint's first row is clamped to the box); columns count from the box's
western edge, and each row's interval on the circle of latitude is cut into at
most two pieces inside the box (the box's columns and the same columns one turn
away), so a box across the antimeridian needs no special case either. The
difference array then has the box's width plus one column (no doubling), and
the cumulative sum runs over the box's columns only. Boxes a full 360 deg wide
(e.g. a polar cap) use the global doubled-width scatter.

Memory per call: the (time, sat, rows_per_footprint) interval arrays (twice as
many for a regional box) plus the (time, lat, 2 lon) difference array ((time,
lat, lon + 1) for a box); never time x sat x cells.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ._fusion import materialised
from ._scatter import scatter_add_dtype
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

    Negative when the satellite is below the surface (then nothing sees it). NumPy for
    host numbers (static sizes: no eager JAX kernels to compile), JAX for JAX arrays.
    """
    xp = jnp if isinstance(r_km, jax.Array) or isinstance(min_elevation_rad, jax.Array) else np
    ratio = radius_km * xp.cos(min_elevation_rad) / r_km
    return xp.arccos(xp.clip(ratio, -1.0, 1.0)) - min_elevation_rad


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
    phi0 = (first.astype(dtype) + 0.5) * res + _south_rad(grid)  # rows count from the grid's (box's) south
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


def cone_limit_rad(r_max_km, earth_model: str = "wgs84", radius_km: float = MEAN_RADIUS_KM):
    """Largest cone half-angle (rad) for which a cone footprint is one exact interval per row.

    The Earth's smallest angular radius seen from ``r_max_km`` (float or NumPy
    array; for WGS84 the polar radius, less the normal tilt: see the module doc).
    Wider cones reach the limb, where the elevation mask alone decides.
    """
    surface = radius_km if earth_model == "sphere" else WGS84_B_KM * np.cos(NORMAL_TILT_MAX_RAD)
    limit = np.arcsin(np.minimum(1.0, surface / np.asarray(r_max_km, np.float64)))
    return float(limit) if limit.ndim == 0 else limit


def _cone_cos_w(g, sin_phi, cos_phi, grid: Grid, radius_km: float, half_angle_rad):
    """cos of the half-width of each footprint row inside a nadir cone (time, sat, k); -2: full row, 2: empty.

    ``sin_phi``/``cos_phi``: (time, sat, k) of each row's grid latitude, as for
    :func:`_row_cos_w`. Lengths are scaled by the satellite radius (terms of order 1);
    see the module doc.
    """
    if grid.earth_model == "sphere":
        rho_c, z_c = radius_km * cos_phi, radius_km * sin_phi
    else:
        n_ = WGS84_A_KM / jnp.sqrt(1.0 - WGS84_E2 * sin_phi * sin_phi)  # prime-vertical radius N
        rho_c, z_c = n_ * cos_phi, n_ * (1.0 - WGS84_E2) * sin_phi
    r = g["r"][..., None]
    rho_s, z_s = g["rho"][..., None] / r, g["z"][..., None] / r
    rho_c, z_c = rho_c / r, z_c / r
    cos_eta = jnp.cos(half_angle_rad)[None, :, None]
    k = cos_eta * cos_eta
    a1 = rho_s * rho_c  # A'
    gg = 1.0 - z_s * z_c  # G
    dz = z_s - z_c
    cc = rho_s * rho_s + rho_c * rho_c + dz * dz  # C
    a2 = a1 * a1
    b1 = 2.0 * a1 * (k - gg)
    c0 = gg * gg - k * cc
    q_hi = a2 + b1 + c0  # q(1): the nearest cell
    q_lo = a2 - b1 + c0  # q(-1): the farthest
    cc2 = rho_c * rho_c + z_c * z_c
    u_g = jnp.where(a1 > 0, (cc2 - z_s * z_c) / jnp.where(a1 > 0, a1, 1.0), jnp.inf)
    sq = jnp.sqrt(jnp.maximum(b1 * b1 - 4.0 * a2 * c0, 0.0))
    qq = -0.5 * (b1 + jnp.where(b1 >= 0, sq, -sq))  # stable roots qq / a2 and c0 / qq
    r1 = jnp.where(a2 > 0, qq / jnp.where(a2 > 0, a2, 1.0), -jnp.inf)
    r2 = jnp.where(qq != 0, c0 / jnp.where(qq != 0, qq, 1.0), -jnp.inf)
    full = (q_lo >= 0) & ((u_g <= -1.0) | (a1 <= 0))
    out = jnp.where(q_hi < 0, 2.0, jnp.where(full, -2.0, jnp.maximum(r1, r2)))
    return jnp.where(jnp.isnan(cos_eta), -2.0, out)


def _row_index(lat_rad, grid: Grid):
    """Index of the first row whose centre is at or north of ``lat_rad``, clamped to >= 0.

    Rows count from the grid's southern edge (-90 deg, or a box's south). The clamp
    keeps every row of the grid a footprint reaches within the static number of rows
    visited when the footprint starts south of the grid.
    """
    res = np.radians(grid.resolution_deg)
    return jnp.maximum(jnp.ceil((lat_rad - _south_rad(grid)) / res - 0.5).astype(jnp.int32), 0)


def _south_rad(grid: Grid) -> float:
    """Latitude (rad) of the grid's southern edge: -pi/2 exactly for the globe, else the box's south."""
    return -0.5 * np.pi if grid.south_deg == -90.0 else float(np.radians(grid.south_deg))


def _first_row(g, grid: Grid):
    return _row_index(g["lat"] - g["span"], grid)


def _column_coord(lon_rad, grid: Grid):
    """Fractional column of a longitude (column j's centre at j), counted from the grid's western edge.

    On a box it is taken modulo the full circle into [-1/2, 360/d - 1/2).
    """
    res = np.radians(grid.resolution_deg)
    if grid.is_global:
        return (lon_rad + jnp.pi) / res - 0.5
    d = lon_rad - np.radians(grid.west_deg)  # in (-2 pi, 2 pi)
    return jnp.where(d < 0, d + 2.0 * np.pi, d) / res - 0.5


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


def _intervals(rows, lo, hi, full_row, row_ok, grid: Grid):
    """Column intervals of the centres in [lo, hi] (fractional columns) -> (rows, start, n_cells, ok).

    Grids that go all the way round: one interval per row (:func:`_columns`). A
    box: the arc [lo, hi] of the circle of latitude (at most half a turn either side
    of its centre) meets the box's columns 0..n-1 in at most two pieces: its copy at
    [lo, hi] and its copy one turn away (-N when it overhangs the circle's end, +N
    otherwise, N = 360/d columns). Both are clipped to the box and stacked along the
    last axis, which doubles: (time, sat, 2 k).
    """
    if grid.full_lon:
        return (rows,) + _columns(lo, hi, full_row, row_ok, grid)
    n = float(grid.n_lon)
    turn = grid.n_lon_globe

    def clip(a, b):
        j0 = jnp.maximum(jnp.ceil(a), 0.0)
        return j0, jnp.clip(jnp.minimum(jnp.floor(b), n - 1.0) - j0 + 1.0, 0.0, n)

    j0a, na = clip(lo, hi)
    j0a, na = jnp.where(full_row, 0.0, j0a), jnp.where(full_row, n, na)
    shift = jnp.where(hi >= turn, -turn, turn)
    j0b, nb = clip(lo + shift, hi + shift)
    nb = jnp.where(full_row, 0.0, nb)
    cat = lambda a, b: jnp.concatenate([a, b], axis=-1)  # noqa: E731
    start = cat(jnp.minimum(j0a, n), jnp.minimum(j0b, n)).astype(jnp.int32)
    n_cells = cat(na, nb).astype(jnp.int32)
    return cat(rows, rows), start, n_cells, cat(row_ok & (na > 0), row_ok & (nb > 0))


def _halfwidth(cos_w, probe, grid: Grid):
    """Each row's half-width in columns from its ``cos_w``, computed once into a buffer, with the
    full and empty rows it encodes: (hw, full_row, nonempty).

    ``hw`` is pi/res for a full row (cos_w <= -1), -1 for an empty one (cos_w > 1).
    Through one buffer, not three: XLA:CPU fused the row geometry (square roots, a
    quadratic root, arccos) into each of the interval's outputs (start, length, ok)
    and evaluated it once for each (``_fusion.materialised``). ``probe``: any traced
    integer scalar.
    """
    res = np.radians(grid.resolution_deg)
    full = jnp.pi / res

    def code():
        hw = jnp.where(cos_w <= -1.0, jnp.pi, arccos(jnp.clip(cos_w, -1.0, 1.0))) / res
        return jnp.where(cos_w > 1.0, -1.0, hw)

    hw = materialised(code, probe)
    return hw, hw >= full, hw >= 0.0


def footprint_intervals(r_ecef_km, min_elevation_rad, *, grid: Grid, n_rows: int,
                        radius_km: float = MEAN_RADIUS_KM, half_angle_rad=None, usable=None):
    """Column interval of every footprint row: the geometry shared by all scatters.

    Args:
      r_ecef_km: (sat, time, 3) Earth-fixed positions, km (NaN: nothing visible).
      min_elevation_rad: (sat,) minimum elevation of each satellite.
      grid, n_rows, radius_km: as in :func:`coverage_counts`.
      half_angle_rad: optional (sat,) nadir-cone half-angles (NaN: no cone); each
        below :func:`cone_limit_rad` of the satellite's radius.
      usable: optional (time, sat) bool; False drops the satellite at that time.

    Returns:
      ``rows`` (time, sat, k) int32 row index (clipped into the grid), ``start``
      (time, sat, k) int32 first column in [0, n_lon), ``n_cells`` (time, sat, k)
      int32 interval length (n_lon for a full row) and ``ok`` (time, sat, k) bool,
      False where the row holds no visible cell. On a box narrower than 360 deg
      the last axis is 2 k: each row's interval cut to the box, in two pieces
      (see :func:`_intervals`), each inside [0, n_lon).
    """
    g = _sat_geometry(r_ecef_km, min_elevation_rad, grid, radius_km)
    first = _first_row(g, grid)
    rows_c, in_grid = _rows(first, n_rows, grid)
    trig = _row_trig(first, n_rows, grid, g["rho"].dtype)
    cos_w = _row_cos_w(g, *trig, grid)
    if half_angle_rad is not None:
        cos_w = jnp.maximum(cos_w, _cone_cos_w(g, *trig, grid, radius_km, half_angle_rad))
    xc = _column_coord(g["lon"], grid)[..., None]
    hw, full_row, nonempty = _halfwidth(cos_w, first.ravel()[0], grid)
    row_ok = g["visible"][..., None] & in_grid & nonempty
    if usable is not None:
        row_ok = row_ok & usable[..., None]
    return _intervals(rows_c, xc - hw, xc + hw, full_row, row_ok, grid)


def _cap_bound(r_km, min_elevation_rad, grid: Grid, radius_km: float, half_angle_rad=None):
    """Geocentric central angle (rad) beyond which no cell can see the satellite (an upper bound on WGS84).

    With a nadir cone of half-angle ``eta`` (NaN: none) also at most
    ``arcsin(r sin(eta) / b) - eta``: by the sine rule in the triangle (centre, cell,
    satellite), a cell at distance >= b from the centre, seen at off-nadir angle
    <= eta on the near side of the Earth, lies within that central angle.
    """
    if grid.earth_model == "sphere":
        lam = footprint_half_angle(r_km, min_elevation_rad, radius_km)
    else:
        lam = footprint_half_angle(r_km, min_elevation_rad - NORMAL_TILT_MAX_RAD, WGS84_B_KM)
    if half_angle_rad is None:
        return lam
    surface = radius_km if grid.earth_model == "sphere" else WGS84_B_KM
    cone = jnp.arcsin(jnp.clip(r_km * jnp.sin(half_angle_rad) / surface, -1.0, 1.0)) - half_angle_rad
    return jnp.where(jnp.isnan(half_angle_rad), lam, jnp.minimum(lam, cone))


SWEPT_PATH_MARGIN_RAD = 1e-3
"""Bound on how far the Earth-fixed path between two samples strays from the great-circle
arc between them (the ground track's curvature from the Earth's rotation is ~4e-5 rad
over a 60 s LEO step)."""


def swept_intervals(r_ecef_km, min_elevation_rad, *, grid: Grid, n_rows: int, max_step_angle_rad: float,
                    radius_km: float = MEAN_RADIUS_KM, half_angle_rad=None):
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
      half_angle_rad: optional (sat,) nadir cones (NaN: none) narrowing the bound.

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
    tilt = 0.0 if grid.earth_model == "sphere" else NORMAL_TILT_MAX_RAD
    phi = np.radians(grid.lat_deg)
    phi_c = phi if grid.earth_model == "sphere" else np.arctan((1.0 - WGS84_E2) * np.tan(phi))
    dtype = r_ecef_km.dtype
    # The footprint bound grows with the radius: use the larger of the two samples'.
    r_max = jnp.maximum(n0[:, :-1, 0], n0[:, 1:, 0]).T
    cone = None if half_angle_rad is None else half_angle_rad[None, :]
    lam = _cap_bound(r_max, min_elevation_rad[None, :], grid, radius_km, cone) + half + SWEPT_PATH_MARGIN_RAD
    ok_s = jnp.isfinite(lam) & (lam > 0) & (rm > 0)
    lat = atan2(rt[..., 2], rho)
    first = _row_index(lat - lam - tilt, grid)
    rows_c, in_grid = _rows(first, n_rows, grid)
    sp = jnp.asarray(np.sin(phi_c), dtype)[rows_c]
    cp = jnp.asarray(np.cos(phi_c), dtype)[rows_c]
    ss, cs = (rt[..., 2] / rm)[..., None], (rho / rm)[..., None]
    num = jnp.cos(lam)[..., None] - sp * ss
    den = cp * cs
    cos_w = jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), jnp.where(num <= 0, -2.0, 2.0))
    xc = _column_coord(atan2(rt[..., 1], rt[..., 0]), grid)[..., None]
    hw, full_row, nonempty = _halfwidth(cos_w, first.ravel()[0], grid)
    ok = ok_s[..., None] & in_grid & nonempty
    return _intervals(rows_c, xc - hw, xc + hw, full_row, ok, grid)


def scatter_intervals(rows, start, n_cells, ok, payload, *, grid: Grid):
    """Sum of ``payload`` over the intervals covering each cell: (time, lat, lon) of payload's dtype.

    ``payload`` is (sat,) (e.g. ones for counts, packed satellite ids); the sums are
    exact in integer arithmetic, also modulo overflow of the dtype. On a box
    narrower than 360 deg the intervals lie inside the box's columns (see
    :func:`_intervals`): the difference array is (time, lat, lon + 1), rounded up
    to whole blocks of the cumulative sum.
    """
    n_lat, n_lon = grid.n_lat, grid.n_lon
    n_time = rows.shape[0]
    dtype = payload.dtype
    payload = payload.astype(scatter_add_dtype(dtype))  # int32 on GPUs: no CAS loop (see _scatter)
    # Each interval's geometry once: fused, it was evaluated again for each of its two ends.
    rows, start, n_cells, ok = materialised(lambda: (rows, start, n_cells, ok), rows.ravel()[0])
    t_idx = jnp.arange(n_time, dtype=jnp.int32)[:, None, None]
    if not grid.full_lon:
        width = -(-(n_lon + 1) // 8) * 8
        base = (t_idx * n_lat + rows) * width
        size = n_time * n_lat * width
        idx = jnp.stack([jnp.where(ok, base + start, size), jnp.where(ok, base + start + n_cells, size)], -1).ravel()
        p = jnp.broadcast_to(payload[None, :, None], rows.shape)
        diff = jnp.zeros(size, payload.dtype).at[idx].add(jnp.stack([p, -p], axis=-1).ravel(), mode="drop")
        return _cumsum_last(diff.reshape(n_time, n_lat, width))[..., :n_lon].astype(dtype)
    base = (t_idx * n_lat + rows) * (2 * n_lon)
    size = n_time * n_lat * 2 * n_lon
    idx_on = jnp.where(ok, base + start, size)
    idx_off = jnp.where(ok, base + start + n_cells, size)
    idx = jnp.stack([idx_on, idx_off], axis=-1).ravel()
    p = jnp.broadcast_to(payload[None, :, None], rows.shape)
    upd = jnp.stack([p, -p], axis=-1).ravel()
    diff = jnp.zeros(size, payload.dtype).at[idx].add(upd, mode="drop")
    diff = diff.reshape(n_time, n_lat, 2, n_lon)
    # sums[j] = C[j] + C[j + n_lon] with C the cumulative sum over the doubled row;
    # folding first halves the scan: C[j + n] = sum(first half) + cumsum(second half)[j].
    first_half = diff[:, :, 0]
    sums = _cumsum_last(first_half + diff[:, :, 1]) + jnp.sum(first_half, axis=-1, keepdims=True, dtype=diff.dtype)
    return sums.astype(dtype)


@partial(jax.jit, static_argnames=("grid", "n_rows", "radius_km", "count_dtype"))
def coverage_counts(
    r_ecef_km,
    min_elevation_rad,
    *,
    grid: Grid,
    n_rows: int,
    radius_km: float = MEAN_RADIUS_KM,
    count_dtype=jnp.int16,
    half_angle_rad=None,
    usable=None,
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
      half_angle_rad, usable: optional nadir cones and per-time usability, as in
        :func:`footprint_intervals`.

    Returns:
      (time, lat, lon) counts of ``count_dtype``.
    """
    geom = footprint_intervals(r_ecef_km, min_elevation_rad, grid=grid, n_rows=n_rows, radius_km=radius_km,
                               half_angle_rad=half_angle_rad, usable=usable)
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
