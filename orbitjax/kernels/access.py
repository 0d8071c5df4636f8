"""Site access: elevation of satellites seen from ground sites, pass events by root finding.

Pure JAX, no I/O. Positions are injected as a function (jax-md style): a
``state_fn(args, sat_idx, t_s) -> (r_ecef_km (M, 3), v_ecef_km_s (M, 3))`` that
propagates satellite ``sat_idx[i]`` to time ``t_s[i]`` (seconds since the window
start), with ``args`` a pytree of arrays. The orchestration in
``orbitjax.access`` builds it from the Kepler + J2 or SGP4 model.

Method (the layout of STK/Skyfield-style event finding, batched):

1. :func:`sample_elevation`: elevation ``el`` and its rate ``el'`` of every
   (site, sat) pair at the sample times, from Earth-fixed positions and
   velocities, shape (site, sat, time).
2. :func:`find_brackets`: intervals between consecutive samples where
   ``g = el - mask`` changes sign (a rise or a set), and intervals where
   ``el'`` changes sign (a local maximum or minimum of elevation). A pass shorter
   than a step shows no sign change of ``g`` but a maximum of ``el`` whose
   value can exceed the mask only if the samples are within ``omega * dt / 2``
   of it, ``omega`` a bound on ``|el'|`` (:func:`elevation_rate_bound`); such
   maxima are refined. The same holds for minima inside a pass (a dip below
   the mask between two visible samples). Assumption: at most one local
   extremum of elevation per sample step per pair (true for LEO and above at
   steps of a few minutes: extrema of one pair are a pass or an orbit apart).
3. :func:`refine_brackets`: batched safeguarded root finding on the brackets,
   re-propagating at the trial times: Newton on ``g`` with the analytic
   ``g' = el'`` for rises and sets; the secant method on ``el'`` for maxima and
   minima; a step leaving the bracket is replaced by bisection (Press et al.,
   Numerical Recipes, 3rd ed., section 9.4, ``rtsafe``). The bracket always
   holds the root, so the result is within the bracket width of it; the
   returned ``err_s`` is the size of the last step (the quadratic / superlinear
   convergence makes it a bound of the remaining error).

Geometry: the site's Earth-fixed position is computed from geodetic latitude,
longitude and height on the WGS84 ellipsoid, and elevation is measured from the
local tangent plane of the ellipsoid (the geodetic "up" normal), azimuth from
north through east (Vallado, "Fundamentals of Astrodynamics and
Applications", 4th ed., Alg. 51 (site) and Alg. 27 (SEZ razel)).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from .earth import WGS84, EarthModel

ROOT, EXTREMUM = 0, 1
"""Bracket kinds of :func:`refine_brackets`."""


class SiteFrame(NamedTuple):
    """Earth-fixed site positions (km) and local unit vectors, each (site, 3)."""

    r_ecef_km: jax.Array
    up: jax.Array
    east: jax.Array
    north: jax.Array


def site_frames(lat_rad, lon_rad, alt_km, earth: EarthModel = WGS84) -> SiteFrame:
    """Earth-fixed position and east/north/up unit vectors of geodetic sites.

    Source: Vallado, 4th ed., Alg. 51 (``site``): ``C = a / sqrt(1 - e^2 sin^2 phi)``,
    ``S = C (1 - e^2)``; r = ((C + h) cos phi cos lam, (C + h) cos phi sin lam, (S + h) sin phi).

    Args:
      lat_rad, lon_rad, alt_km: (site,) geodetic latitude, longitude, height above the ellipsoid.

    Returns:
      :class:`SiteFrame` with fields (site, 3).
    """
    e2 = earth.flattening * (2.0 - earth.flattening)
    sp, cp = jnp.sin(lat_rad), jnp.cos(lat_rad)
    sl, cl = jnp.sin(lon_rad), jnp.cos(lon_rad)
    c = earth.radius_eq_km / jnp.sqrt(1.0 - e2 * sp**2)
    s = c * (1.0 - e2)
    r = jnp.stack([(c + alt_km) * cp * cl, (c + alt_km) * cp * sl, (s + alt_km) * sp], -1)
    up = jnp.stack([cp * cl, cp * sl, sp], -1)
    east = jnp.stack([-sl, cl, jnp.zeros_like(sl)], -1)
    north = jnp.stack([-sp * cl, -sp * sl, cp], -1)
    return SiteFrame(r, up, east, north)


def look_angles(r_ecef_km, v_ecef_km_s, frame: SiteFrame):
    """Elevation, its rate and azimuth of satellites seen from sites (same leading shape).

    Args:
      r_ecef_km, v_ecef_km_s: (..., 3) Earth-fixed satellite positions, velocities.
      frame: :class:`SiteFrame` with fields (..., 3) (same leading shape).

    Returns:
      elevation_rad, elevation_rate_rad_s, azimuth_rad (from north through east,
      in [0, 2 pi)), each (...). The site is fixed in the Earth-fixed frame, so
      the range rate vector is the satellite's Earth-fixed velocity.
    """
    rho = r_ecef_km - frame.r_ecef_km
    rng = jnp.sqrt(jnp.sum(rho * rho, -1))
    z = jnp.sum(rho * frame.up, -1)
    sin_el = jnp.clip(z / rng, -1.0, 1.0)
    el = jnp.arcsin(sin_el)
    cos_el = jnp.maximum(jnp.sqrt(1.0 - sin_el * sin_el), 1e-12)
    z_dot = jnp.sum(v_ecef_km_s * frame.up, -1)
    rng_dot = jnp.sum(rho * v_ecef_km_s, -1) / rng
    rate = (z_dot / rng - z * rng_dot / (rng * rng)) / cos_el
    az = jnp.mod(jnp.arctan2(jnp.sum(rho * frame.east, -1), jnp.sum(rho * frame.north, -1)), 2.0 * jnp.pi)
    return el, rate, az


@jax.jit
def sample_elevation(r_ecef_km, v_ecef_km_s, frame: SiteFrame):
    """Elevation and elevation rate of every (site, sat) pair at every sample.

    Dot products are written out per component as (site, 1) x (1, sat * time)
    products, which XLA fuses into one loop: no (site, sat, time, 3) array is
    formed. (jnp.matmul is avoided on purpose: XLA:CPU in jax 0.10 mis-computed an
    output-fused ``a - 2 * dot(b, c)`` of these shapes.)

    Args:
      r_ecef_km, v_ecef_km_s: (sat, time, 3) Earth-fixed positions and velocities.
      frame: :class:`SiteFrame`, fields (site, 3).

    Returns:
      elevation_rad, elevation_rate_rad_s: (site, sat, time). NaN where a
      position is NaN (failed propagation).
    """
    n_sat, n_t, _ = r_ecef_km.shape
    r = r_ecef_km.reshape(1, -1, 3)  # (1, P, 3)
    v = v_ecef_km_s.reshape(1, -1, 3)

    def dot(site_vec, sat_vec):  # (site, 3) . (1, P, 3) -> (site, P)
        return sum(site_vec[:, i : i + 1] * sat_vec[..., i] for i in range(3))

    up, r0 = frame.up, frame.r_ecef_km
    rho = [r[..., i] - r0[:, i : i + 1] for i in range(3)]  # (site, P) each, fused
    rng = jnp.sqrt(rho[0] ** 2 + rho[1] ** 2 + rho[2] ** 2)
    z = sum(rho[i] * up[:, i : i + 1] for i in range(3))
    sin_el = jnp.clip(z / rng, -1.0, 1.0)
    cos_el = jnp.maximum(jnp.sqrt(1.0 - sin_el * sin_el), 1e-12)
    z_dot = dot(up, v)
    rng_dot = sum(rho[i] * v[..., i] for i in range(3)) / rng
    rate = (z_dot / rng - z * rng_dot / (rng * rng)) / cos_el
    shape = (frame.up.shape[0], n_sat, n_t)
    return jnp.arcsin(sin_el).reshape(shape), rate.reshape(shape)


def elevation_rate_bound(r_ecef_km, v_ecef_km_s, max_site_radius_km):
    """(sat,) upper bound of ``|d elevation / dt|`` (rad/s) for any site at most that far from the centre.

    ``|el'| <= |v_ecef| / range`` and ``range >= |r| - |r_site|``; the sampled
    extremes get 10 % (speed) and 2 % (radius) margins for what happens between
    samples. Infinite when a satellite may come below the sites' radius.

    Args:
      r_ecef_km, v_ecef_km_s: (sat, time, 3) samples.
      max_site_radius_km: scalar, the largest site distance from the Earth's centre.
    """
    speed = jnp.nanmax(jnp.sqrt(jnp.sum(v_ecef_km_s**2, -1)), axis=1)
    radius = jnp.nanmin(jnp.sqrt(jnp.sum(r_ecef_km**2, -1)), axis=1)
    gap = 0.98 * radius - max_site_radius_km
    return jnp.where(gap > 0, 1.1 * speed / jnp.where(gap > 0, gap, 1.0), jnp.inf)


class Brackets(NamedTuple):
    """Boolean masks over consecutive-sample intervals, each (site, sat, time - 1)."""

    rise: jax.Array  # g < 0 at the left sample, >= 0 at the right
    set: jax.Array  # g >= 0 at the left sample, < 0 at the right
    peak: jax.Array  # el' > 0 then <= 0, and the maximum may reach the mask
    dip: jax.Array  # el' < 0 then >= 0, both samples visible, and the minimum may fall below


@jax.jit
def find_brackets(elevation_rad, elevation_rate_rad_s, min_elevation_rad, t_s, rate_bound_rad_s) -> Brackets:
    """Sample intervals holding a rise, a set, or an extremum to refine.

    Args:
      elevation_rad, elevation_rate_rad_s: (site, sat, time) from :func:`sample_elevation`.
      min_elevation_rad: (site, sat) elevation mask.
      t_s: (time,) sample times, increasing.
      rate_bound_rad_s: (sat,) from :func:`elevation_rate_bound`.

    Returns:
      :class:`Brackets`. Peaks are kept when ``max(g_k, g_k+1) + omega dt / 2 >= 0``
      (the maximum lies within dt / 2 of a sample; every pass's maximum is kept), dips
      when both samples are visible and ``min(g_k, g_k+1) - omega dt / 2 < 0``.
    """
    g = elevation_rad - min_elevation_rad[..., None]
    vis = g >= 0
    left, right = vis[..., :-1], vis[..., 1:]
    rate = elevation_rate_rad_s
    slack = (rate_bound_rad_s[:, None] * (0.5 * jnp.diff(t_s))[None, :])[None]  # (1, sat, time - 1)
    g0, g1 = g[..., :-1], g[..., 1:]
    peak = (rate[..., :-1] > 0) & (rate[..., 1:] <= 0) & (jnp.maximum(g0, g1) + slack >= 0)
    dip = (rate[..., :-1] < 0) & (rate[..., 1:] >= 0) & left & right & (jnp.minimum(g0, g1) - slack < 0)
    return Brackets(~left & right & ~jnp.isnan(g0), left & ~right & ~jnp.isnan(g1), peak, dip)


@partial(jax.jit, static_argnames=("state_fn", "n_iter"))
def refine_brackets(state_fn, state_args, frame: SiteFrame, sat_idx, site_idx, a_s, b_s, fa, fb,
                    kind, sign, min_elevation_rad, *, n_iter: int = 8):
    """Batched safeguarded root finding on brackets [a, b], re-propagating at the trial times.

    For ``kind == ROOT`` the function is ``f = sign * (el - mask)`` solved by Newton
    with ``f' = sign * el'``; for ``kind == EXTREMUM`` it is ``f = sign * el'``
    solved by the secant method. ``sign`` orients each bracket so that
    ``f(a) >= 0 >= f(b)``. Steps outside the bracket fall back to bisection
    (Numerical Recipes 3rd ed., section 9.4). Starts at the regula falsi point.

    Args:
      state_fn: static; ``state_fn(state_args, sat_idx (M,), t_s (M,)) -> (r (M, 3), v (M, 3))``
        Earth-fixed km and km/s.
      frame: :class:`SiteFrame`, fields (site, 3).
      sat_idx, site_idx: (M,) int indices of each bracket's pair.
      a_s, b_s: (M,) bracket ends (s since the window start), a <= b.
      fa, fb: (M,) oriented function values at a and b (f(a) >= 0 >= f(b)).
      kind, sign: (M,) int bracket kind and float orientation (+1 or -1).
      min_elevation_rad: (M,) mask of each bracket's pair.
      n_iter: static number of iterations (each one propagation of M points).

    Returns:
      t_s, elevation_rad, azimuth_rad, err_s: (M,), the solution, the look angles
      there (one final propagation) and the size of the last step.
    """
    fr = SiteFrame(*(x[site_idx] for x in frame))
    is_root = kind == ROOT

    def evaluate(t):
        r, v = state_fn(state_args, sat_idx, t)
        el, rate, az = look_angles(r, v, fr)
        f = sign * jnp.where(is_root, el - min_elevation_rad, rate)
        return f, sign * rate, el, az

    width = b_s - a_s
    denom = fa - fb
    x0 = a_s + width * jnp.where(denom > 0, fa / jnp.where(denom > 0, denom, 1.0), 0.5)

    def body(_, carry):
        a, b, x, x_prev, f_prev, _err = carry
        f, df, _, _ = evaluate(x)
        a, b = jnp.where(f > 0, x, a), jnp.where(f > 0, b, x)
        newton = x - f / jnp.where(df != 0, df, jnp.inf)
        slope = (f - f_prev) / jnp.where(x != x_prev, x - x_prev, jnp.inf)
        secant = x - f / jnp.where(slope != 0, slope, jnp.inf)
        x_new = jnp.where(is_root, newton, secant)
        ok = jnp.isfinite(x_new) & (x_new >= a) & (x_new <= b)
        x_new = jnp.where(ok, x_new, 0.5 * (a + b))
        return a, b, x_new, x, f, jnp.abs(x_new - x)

    init = (a_s, b_s, x0, a_s, fa, width)
    _, _, x, _, _, err = jax.lax.fori_loop(0, n_iter, body, init)
    _, _, el, az = evaluate(x)
    return x, el, az, err
