"""Two-body Kepler propagation with J2 secular rates (mean elements).

The model: osculating-free mean elements whose angles drift linearly with the
first-order J2 secular rates (Vallado, "Fundamentals of Astrodynamics and
Applications", 4th ed., Eqs. 9-41 (RAAN), 9-42 (argument of perigee) and
Brouwer's mean-motion correction, Vallado Eq. 9-43 / Kozai 1959):

    p      = a (1 - e^2)
    n0     = sqrt(mu / a^3)
    k      = (3/2) J2 (R_eq / p)^2 n0
    dΩ/dt  = -k cos i
    dω/dt  =  k (2 - (5/2) sin^2 i)
    dM/dt  =  n0 + k sqrt(1 - e^2) (1 - (3/2) sin^2 i)

Positions are expressed in a true-equator inertial frame (TEME-like): the RAAN is
measured from the mean equinox of date. Periodic J2 terms (amplitude ~10 km in
LEO) are not modelled; this is the standard "designed shell" propagator.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._vmath import sincos
from .earth import WGS84, EarthModel

TWO_PI = 2.0 * jnp.pi


class KeplerElements(NamedTuple):
    """Mean elements at each satellite's epoch; every field has shape (sat,).

    Units: km and radians. ``a_km`` is the mean semi-major axis.
    """

    a_km: jax.Array
    e: jax.Array
    inc_rad: jax.Array
    raan_rad: jax.Array
    argp_rad: jax.Array
    mean_anomaly_rad: jax.Array


def j2_secular_rates(a_km, e, inc_rad, earth: EarthModel = WGS84):
    """First-order J2 secular rates (rad/s) of RAAN, argument of perigee and mean anomaly.

    Returns:
      (raan_dot, argp_dot, mean_anomaly_dot), each with the broadcast shape of the inputs.
      NumPy inputs are evaluated with NumPy (float64 on the host, e.g. to move
      elements to a new epoch before a float32 device run).
    """
    xp = np if all(isinstance(x, (np.ndarray, np.generic, float)) for x in (a_km, e, inc_rad)) else jnp
    n0 = xp.sqrt(earth.mu_km3_s2 / a_km**3)
    p = a_km * (1.0 - e**2)
    k = 1.5 * earth.j2 * (earth.radius_eq_km / p) ** 2 * n0
    s2 = xp.sin(inc_rad) ** 2
    raan_dot = -k * xp.cos(inc_rad)
    argp_dot = k * (2.0 - 2.5 * s2)
    m_dot = n0 + k * xp.sqrt(1.0 - e**2) * (1.0 - 1.5 * s2)
    return raan_dot, argp_dot, m_dot


def solve_kepler(mean_anomaly_rad, e, iterations: int = 6):
    """Eccentric anomaly E solving M = E - e sin E, for 0 <= e < 1.

    Danby's (1987) starter E0 = M + 0.85 e sign(sin M) followed by a fixed number of
    Halley iterations (cubic convergence); six reach machine precision for all
    e < 0.99 and any M (see tests/test_kepler.py). M is reduced to [-pi, pi).
    sin/cos are the vectorised polynomials of ``_vmath`` (1 ulp; XLA's float64
    sin/cos are scalar library calls on CPU).

    Returns:
      E in radians, same shape as the broadcast inputs, in [-pi, pi].
    """
    m = jnp.mod(mean_anomaly_rad + jnp.pi, TWO_PI) - jnp.pi
    big_e = m + 0.85 * e * jnp.sign(m)  # sign(sin m) = sign(m) for m in [-pi, pi)

    def halley(_, ea):
        s, c = sincos(ea)
        f = ea - e * s - m
        f1 = 1.0 - e * c
        f2 = e * s
        return ea - f / (f1 - 0.5 * f * f2 / f1)

    return jax.lax.fori_loop(0, iterations, halley, big_e)


def kepler_j2_positions(elements: KeplerElements, dt_s, earth: EarthModel = WGS84):
    """Inertial (TEME-like) positions of each satellite at each time.

    Args:
      elements: mean elements at epoch, fields (sat,).
      dt_s: seconds since each satellite's epoch, shape (sat, time).

    Returns:
      r_km: (sat, time, 3) positions in the inertial frame.
    """
    el = jax.tree_util.tree_map(lambda x: x[:, None], elements)
    raan_dot, argp_dot, m_dot = j2_secular_rates(el.a_km, el.e, el.inc_rad, earth)
    raan = el.raan_rad + raan_dot * dt_s
    argp = el.argp_rad + argp_dot * dt_s
    m = el.mean_anomaly_rad + m_dot * dt_s
    big_e = solve_kepler(m, el.e)
    sin_e, cos_e = sincos(big_e)
    # Perifocal coordinates (Vallado Alg. 10, via the eccentric anomaly).
    xp = el.a_km * (cos_e - el.e)
    yp = el.a_km * jnp.sqrt(1.0 - el.e**2) * sin_e
    sw, cw = sincos(argp)
    so, co = sincos(raan)
    ci, si = jnp.cos(el.inc_rad), jnp.sin(el.inc_rad)  # (sat, 1): cheap
    # Position in the orbital plane rotated by argp, then inclination, then RAAN.
    xw = cw * xp - sw * yp
    yw = sw * xp + cw * yp
    x = co * xw - so * ci * yw
    y = so * xw + co * ci * yw
    z = si * yw
    return jnp.stack([x, y, z], axis=-1)


def kepler_j2_states(elements: KeplerElements, dt_s, earth: EarthModel = WGS84):
    """Positions (km) and velocities (km/s), both (sat, time, 3), in the inertial frame.

    The velocity is the exact time derivative of :func:`kepler_j2_positions`
    (forward-mode autodiff), so it includes the secular drift of RAAN and perigee.
    """
    return jax.jvp(lambda t: kepler_j2_positions(elements, t, earth), (dt_s,), (jnp.ones_like(dt_s),))
