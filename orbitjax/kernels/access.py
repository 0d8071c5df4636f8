"""Site access: elevation of satellites seen from ground sites, pass events by root finding.

Pure JAX, no I/O; the orchestration (propagation, host-side bookkeeping) is in
``orbitjax.site_access``.

Method (batched over site x satellite x time):

1. :func:`interval_codes`: from Earth-fixed satellite states sampled every
   ``dt``, one uint8 code per (site, sat, interval) marking a RISE or SET
   (``g = el - mask`` changes sign between the samples), a PEAK (``el'`` goes
   from + to -: a maximum of elevation inside) or a DIP (a minimum inside a
   pass). A pass shorter than a step shows no sign change of ``g``; its maximum
   lies within ``dt / 2`` of a sample, so it can reach the mask only if that
   sample is above ``mask - omega dt / 2``, ``omega`` a bound on ``|el'|``
   (:func:`elevation_rate_bound`); such peaks are refined. Assumption: at most one
   local extremum of elevation per step per pair (true for LEO and above at steps
   of a few minutes: extrema of one pair are a pass or half an orbit apart).
2. :func:`refine_brackets`: batched safeguarded root finding inside each
   bracket on the cubic Hermite interpolant of the sampled states (exact at the
   samples; ~0.3 m in LEO at a 60 s step): Newton on ``sin el - sin mask`` for
   rises and sets, the secant method on ``d(sin el)/dt`` for maxima and minima,
   bisection when a step leaves the bracket (Press et al., Numerical Recipes,
   3rd ed., section 9.4, ``rtsafe``).
3. :func:`polish`: the caller re-propagates the satellites at the solutions
   with the real propagator; one Newton step on those states moves each rise and
   set onto the propagator's own crossing (the step is the interpolation error,
   typically < 5 ms; what is left is of order its square) and gives the exact
   elevation at the maxima and the azimuths.

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


RISE, SET, PEAK, DIP = 1, 2, 4, 8
"""Bits of the interval codes of :func:`interval_codes`."""


@jax.jit
def interval_codes(r_ecef_km, v_ecef_km_s, frame: SiteFrame, sin_mask, sin_peak, sin_dip):
    """Bracket codes of every (site, sat) pair and every interval between consecutive samples.

    With ``g = el - mask``: RISE where g < 0 at the left sample and >= 0 at the right;
    SET the opposite; PEAK where ``el' > 0`` then ``<= 0`` (a maximum of elevation
    inside) and ``max(el) >= peak threshold``; DIP where ``el' < 0`` then ``>= 0``,
    both samples visible, and ``min(el) < dip threshold``. The thresholds are the
    mask -/+ ``omega * dt / 2`` (see :func:`elevation_rate_bound`): a maximum
    between two samples lies within ``dt / 2`` of one of them, so it can reach the
    mask only if that sample is above ``mask - omega dt / 2``.

    Everything is compared in sines, with no division or arcsine:
    ``el >= m  <=>  rho . up >= sin(m) |rho|`` and
    ``sign(el') = sign((v . up) |rho|^2 - (rho . up)(rho . v))``. Dot products are
    written out per component on (site, 1) x (1, sat * time) operands, which XLA
    fuses into one loop (no (site, sat, time, 3) array; jnp.matmul is avoided: XLA:CPU
    in jax 0.10 mis-computed an output-fused ``a - 2 * dot(b, c)`` of these shapes).

    Args:
      r_ecef_km, v_ecef_km_s: (sat, time, 3) Earth-fixed samples.
      frame: :class:`SiteFrame`, fields (site, 3).
      sin_mask, sin_peak, sin_dip: (sat,) sines of the mask and of the thresholds.

    Returns:
      (site, sat, time - 1) uint8 codes (bits RISE, SET, PEAK, DIP); 0 where a
      position is NaN.
    """
    n_sat, n_t, _ = r_ecef_km.shape
    r = r_ecef_km.reshape(1, -1, 3)
    v = v_ecef_km_s.reshape(1, -1, 3)
    up, r0 = frame.up, frame.r_ecef_km
    rho = [r[..., i] - r0[:, i : i + 1] for i in range(3)]  # (site, P) each
    rng = jnp.sqrt(rho[0] ** 2 + rho[1] ** 2 + rho[2] ** 2)
    z = sum(rho[i] * up[:, i : i + 1] for i in range(3))
    z_dot = sum(v[..., i] * up[:, i : i + 1] for i in range(3))
    rho_v = sum(rho[i] * v[..., i] for i in range(3))
    rate_num = z_dot * rng * rng - z * rho_v

    def per_sat(x):
        return jnp.repeat(x, n_t)[None, :]  # (1, P)

    shape = (up.shape[0], n_sat, n_t)
    vis = (z >= per_sat(sin_mask) * rng).reshape(shape)
    high = (z >= per_sat(sin_peak) * rng).reshape(shape)
    low = (z < per_sat(sin_dip) * rng).reshape(shape)
    finite = ~jnp.isnan(rng).reshape(shape)
    rate_num = rate_num.reshape(shape)
    l, rr = slice(None, -1), slice(1, None)
    ok = finite[..., l] & finite[..., rr]
    rise = ok & ~vis[..., l] & vis[..., rr]
    sett = ok & vis[..., l] & ~vis[..., rr]
    peak = ok & (rate_num[..., l] > 0) & (rate_num[..., rr] <= 0) & (high[..., l] | high[..., rr])
    dip = (ok & (rate_num[..., l] < 0) & (rate_num[..., rr] >= 0) & vis[..., l] & vis[..., rr]
           & (low[..., l] | low[..., rr]))
    u8 = jnp.uint8
    return (rise.astype(u8) * RISE + sett.astype(u8) * SET + peak.astype(u8) * PEAK + dip.astype(u8) * DIP)


def elevation_rate_bound(r_ecef_km, v_ecef_km_s, max_site_radius_km, max_step_s):
    """(sat,) upper bound of ``|d elevation / dt|`` (rad/s) for sites at most that far from the centre.

    ``|el'| <= |v_ecef| / range`` and ``range >= |r| - |r_site|``. Between samples
    the radius can dip below the sampled minimum by at most ``max |r'| dt / 2``;
    speed and radius get 2 % and 0.1 % margins on top. Infinite when a satellite
    may come below the sites' radius.

    Args:
      r_ecef_km, v_ecef_km_s: (sat, time, 3) samples.
      max_site_radius_km: the largest site distance from the Earth's centre.
      max_step_s: the longest sample interval.
    """
    radius = jnp.sqrt(jnp.sum(r_ecef_km**2, -1))
    speed = jnp.sqrt(jnp.sum(v_ecef_km_s**2, -1))
    radial = jnp.abs(jnp.sum(r_ecef_km * v_ecef_km_s, -1)) / radius
    r_lo = 0.999 * jnp.nanmin(radius, axis=1) - 0.5 * max_step_s * jnp.nanmax(radial, axis=1)
    gap = r_lo - max_site_radius_km
    return jnp.where(gap > 0, 1.02 * jnp.nanmax(speed, axis=1) / jnp.where(gap > 0, gap, 1.0), jnp.inf)


def hermite_states(r0, v0, r1, v1, h_s, s):
    """Cubic Hermite interpolation of positions and velocities on one sample interval.

    Args:
      r0, v0, r1, v1: (M, 3) states at the interval ends; h_s: (M,) its length;
      s: (M,) fraction of the interval in [0, 1].

    Returns:
      r, v: (M, 3). Error of r for LEO at a 60 s step: h^4 |r''''| / 384, about
      0.3 m (|r''''| ~ n^4 r); exact at the ends.
    """
    s = s[:, None]
    h = h_s[:, None]
    s2, s3 = s * s, s * s * s
    r = (2 * s3 - 3 * s2 + 1) * r0 + (s3 - 2 * s2 + s) * h * v0 + (-2 * s3 + 3 * s2) * r1 + (s3 - s2) * h * v1
    v = ((6 * s2 - 6 * s) * r0 + (3 * s2 - 4 * s + 1) * h * v0 + (-6 * s2 + 6 * s) * r1 + (3 * s2 - 2 * s) * h * v1) / h
    return r, v


@partial(jax.jit, static_argnames=("n_iter",))
def refine_brackets(frame: SiteFrame, r_ecef_km, v_ecef_km_s, t_s, sat_idx, site_idx, k_idx, a_s, b_s,
                    kind, sign, min_elevation_rad, *, n_iter: int = 8):
    """Batched safeguarded root finding on brackets [a, b] inside sample intervals.

    The trajectory inside sample interval k is the cubic Hermite interpolant of
    the sampled Earth-fixed states (:func:`hermite_states`); :func:`polish` then
    corrects the result with one step on a re-propagated state. For
    ``kind == ROOT`` the function is ``f = sign * (sin el - sin mask)``, solved by
    Newton with the analytic ``f'``; for ``kind == EXTREMUM`` it is
    ``f = sign * d(sin el)/dt`` (zero where ``el'`` is), solved by the secant method. ``sign`` orients the bracket so that
    ``f(a) >= 0 >= f(b)``. A step leaving the bracket is replaced by bisection
    (Numerical Recipes 3rd ed., section 9.4, ``rtsafe``); the start is the regula
    falsi point.

    Args:
      frame: :class:`SiteFrame`, fields (site, 3).
      r_ecef_km, v_ecef_km_s: (sat, time, 3) samples; t_s: (time,) sample times.
      sat_idx, site_idx, k_idx: (M,) pair and interval (samples k, k + 1) of each bracket.
      a_s, b_s: (M,) bracket, inside [t_k, t_k+1].
      kind, sign: (M,) int ROOT/EXTREMUM and float +1/-1.
      min_elevation_rad: (M,) mask of each bracket's pair.
      n_iter: static iteration count (cheap: no propagation).

    Returns:
      t_s, elevation_rad (interpolated), err_s (last step), each (M,).
    """
    # Component-wise (M,) arrays: the loop body is then purely elementwise (vectorises well).
    def comps(x):
        return [x[:, i] for i in range(3)]

    r0, v0 = comps(r_ecef_km[sat_idx, k_idx]), comps(v_ecef_km_s[sat_idx, k_idx])
    r1, v1 = comps(r_ecef_km[sat_idx, k_idx + 1]), comps(v_ecef_km_s[sat_idx, k_idx + 1])
    site_r, up = comps(frame.r_ecef_km[site_idx]), comps(frame.up[site_idx])
    t0 = t_s[k_idx]
    h = t_s[k_idx + 1] - t0
    is_root = kind == ROOT
    sin_mask = jnp.sin(min_elevation_rad)

    def evaluate(t):
        # Cubic Hermite basis (see hermite_states); then the sine of elevation and its
        # rate: same roots and signs as el - mask and el' (cos el > 0), no arcsine in the loop.
        s = (t - t0) / h
        s2, s3 = s * s, s * s * s
        c0, c1, c2, c3 = 2 * s3 - 3 * s2 + 1, (s3 - 2 * s2 + s) * h, -2 * s3 + 3 * s2, (s3 - s2) * h
        d0, d1, d2, d3 = (6 * s2 - 6 * s) / h, 3 * s2 - 4 * s + 1, (-6 * s2 + 6 * s) / h, 3 * s2 - 2 * s
        rho = [c0 * r0[i] + c1 * v0[i] + c2 * r1[i] + c3 * v1[i] - site_r[i] for i in range(3)]
        vel = [d0 * r0[i] + d1 * v0[i] + d2 * r1[i] + d3 * v1[i] for i in range(3)]
        rng2 = rho[0] * rho[0] + rho[1] * rho[1] + rho[2] * rho[2]
        rng = jnp.sqrt(rng2)
        z = rho[0] * up[0] + rho[1] * up[1] + rho[2] * up[2]
        z_dot = vel[0] * up[0] + vel[1] * up[1] + vel[2] * up[2]
        rho_v = rho[0] * vel[0] + rho[1] * vel[1] + rho[2] * vel[2]
        sin_el = z / rng
        sin_rate = z_dot / rng - z * rho_v / (rng2 * rng)
        return sign * jnp.where(is_root, sin_el - sin_mask, sin_rate), sign * sin_rate, sin_el

    fa, _, _ = evaluate(a_s)
    fb, _, _ = evaluate(b_s)
    width = b_s - a_s
    denom = fa - fb
    x0 = a_s + width * jnp.clip(jnp.where(denom > 0, fa / jnp.where(denom > 0, denom, 1.0), 0.5), 0.0, 1.0)

    def body(_, carry):
        a, b, x, x_prev, f_prev, _err = carry
        f, df, _ = evaluate(x)
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
    _, _, sin_el = evaluate(x)
    return x, jnp.arcsin(jnp.clip(sin_el, -1.0, 1.0)), err


@jax.jit
def polish(r_table_km, v_table_km_s, t_table_s, frame: SiteFrame, sat_idx, slot_idx, site_idx, kind,
           min_elevation_rad, lo_s, hi_s):
    """One Newton step on re-propagated states at the interpolated solutions.

    The caller re-propagates the solutions laid out per satellite (row ``sat_idx``,
    column ``slot_idx`` of a (sat, L) time table), so the propagator runs on its
    fast (sat, time) layout where per-satellite terms are computed once per row.
    For ROOT brackets a Newton step ``-(el - mask) / el'`` (kept inside [lo, hi])
    moves the time onto the propagator's own crossing; for EXTREMUM brackets the
    time is kept (elevation is flat there) and the elevation is the propagated one.

    Args:
      r_table_km, v_table_km_s: (sat, L, 3) Earth-fixed states at ``t_table_s`` (sat, L).
      frame: :class:`SiteFrame`, fields (site, 3).
      sat_idx, slot_idx, site_idx, kind, min_elevation_rad, lo_s, hi_s: (M,).

    Returns:
      t_s, elevation_rad, azimuth_rad, step_s: (M,); step_s is the Newton correction
      (0 for extrema), i.e. the interpolation's time error.
    """
    fr = SiteFrame(*(x[site_idx] for x in frame))
    t_s = t_table_s[sat_idx, slot_idx]
    el, rate, az = look_angles(r_table_km[sat_idx, slot_idx], v_table_km_s[sat_idx, slot_idx], fr)
    step = -(el - min_elevation_rad) / jnp.where(rate != 0, rate, jnp.inf)
    step = jnp.where((kind == ROOT) & jnp.isfinite(step), step, 0.0)
    t = jnp.clip(t_s + step, lo_s, hi_s)
    return t, el, az, t - t_s
