"""Reference frames: sidereal time, TEME to Earth-fixed, Earth-fixed to geodetic.

Conventions: positions (..., 3) in km with xyz last, velocities in km/s, angles in
radians. The Earth-fixed frame here is the pseudo-Earth-fixed (PEF) frame of
Vallado: polar motion (< 15 m at the surface) and UT1-UTC (< 0.9 s, < 0.42 km at
the equator) are neglected, so UTC is used for UT1.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .earth import WGS84, EarthModel

TWO_PI = 2.0 * np.pi
J2000_JD = 2451545.0


def gmst82(jd_ut1_whole, jd_ut1_frac):
    """Greenwich mean sidereal time, IAU-82, in radians in [0, 2*pi).

    Source: Vallado, "Fundamentals of Astrodynamics and Applications", 4th ed.,
    Eq. 3-47 (the ``gstime`` function of AIAA 2006-6753).

    Args:
      jd_ut1_whole, jd_ut1_frac: two-part Julian date (UT1), any broadcastable
        shapes. Splitting keeps microsecond precision over decades. NumPy inputs
        are evaluated with NumPy in float64 (how orchestration computes the angle
        on the host, so float32 device runs get a float64 sidereal time).

    Returns:
      GMST in radians, broadcast shape of the inputs.
    """
    xp = np if all(isinstance(a, (np.ndarray, np.generic, float, int)) for a in (jd_ut1_whole, jd_ut1_frac)) else jnp
    days = (jd_ut1_whole - J2000_JD) + jd_ut1_frac
    tut1 = days / 36525.0
    # 876600 h * 3600 s/h + 8640184.812866 s is the IAU-82 linear coefficient.
    gmst_s = (
        67310.54841
        + (876600.0 * 3600.0 + 8640184.812866) * tut1
        + 0.093104 * tut1**2
        - 6.2e-6 * tut1**3
    )
    return xp.mod(gmst_s * (TWO_PI / 86400.0), TWO_PI)


def _rot3(angle):
    """Rotation matrix about z by ``angle`` (frame rotation, Vallado R3), shape (..., 3, 3)."""
    c, s = jnp.cos(angle), jnp.sin(angle)
    z, o = jnp.zeros_like(c), jnp.ones_like(c)
    return jnp.stack(
        [jnp.stack([c, s, z], -1), jnp.stack([-s, c, z], -1), jnp.stack([z, z, o], -1)], -2
    )


def teme_to_ecef(r_teme_km, gmst_rad):
    """Rotate TEME (or any true-equator inertial) positions into Earth-fixed PEF.

    Source: AIAA 2006-6753, Appendix C, Eq. C-2 without polar motion.

    Args:
      r_teme_km: (..., 3) positions.
      gmst_rad: (...) Greenwich mean sidereal time, broadcast against r's leading dims.

    Returns:
      (..., 3) Earth-fixed positions in km.
    """
    c, s = jnp.cos(gmst_rad), jnp.sin(gmst_rad)
    x, y, z = r_teme_km[..., 0], r_teme_km[..., 1], r_teme_km[..., 2]
    return jnp.stack([c * x + s * y, -s * x + c * y, z], axis=-1)


def teme_to_ecef_rv(r_teme_km, v_teme_km_s, gmst_rad, earth: EarthModel = WGS84):
    """Positions and velocities from TEME into Earth-fixed PEF.

    v_pef = R3(gmst) v_teme - omega x r_pef (AIAA 2006-6753, Eq. C-3 without polar motion).
    """
    r_pef = teme_to_ecef(r_teme_km, gmst_rad)
    v_rot = teme_to_ecef(v_teme_km_s, gmst_rad)
    w = earth.omega_rad_s
    v_pef = v_rot + jnp.stack(
        [w * r_pef[..., 1], -w * r_pef[..., 0], jnp.zeros_like(r_pef[..., 2])], axis=-1
    )
    return r_pef, v_pef


def ecef_to_geodetic(r_ecef_km, earth: EarthModel = WGS84, iterations: int = 5):
    """Earth-fixed Cartesian to geodetic latitude, longitude (rad) and height (km).

    Bowring's iteration on the parametric latitude (Bowring 1976, Survey Review 23);
    five iterations reach < 1e-12 rad for heights from -10 km to GEO.

    Args:
      r_ecef_km: (..., 3) Earth-fixed positions.

    Returns:
      lat_rad, lon_rad, height_km, each with shape (...).
    """
    a = earth.radius_eq_km
    f = earth.flattening
    b = a * (1.0 - f)
    e2 = f * (2.0 - f)
    ep2 = e2 / (1.0 - e2)
    x, y, z = r_ecef_km[..., 0], r_ecef_km[..., 1], r_ecef_km[..., 2]
    p = jnp.hypot(x, y)
    lon = jnp.arctan2(y, x)
    beta = jnp.arctan2(z * a, p * b)
    for _ in range(iterations):
        lat = jnp.arctan2(z + ep2 * b * jnp.sin(beta) ** 3, p - e2 * a * jnp.cos(beta) ** 3)
        beta = jnp.arctan2(b * jnp.sin(lat), a * jnp.cos(lat))
    lat = jnp.arctan2(z + ep2 * b * jnp.sin(beta) ** 3, p - e2 * a * jnp.cos(beta) ** 3)
    sin_lat = jnp.sin(lat)
    n = a / jnp.sqrt(1.0 - e2 * sin_lat**2)
    # Height: stable form valid at all latitudes (Vallado Alg. 12 variant).
    height = p * jnp.cos(lat) + z * sin_lat - a * a / n
    return lat, lon, height
