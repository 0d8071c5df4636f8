"""The Sun's direction from the Earth: a low-precision formula good to about 0.01 deg.

Source: The Astronomical Almanac, section C ("Low-precision formulas for the Sun's
coordinates"; also USNO, "Approximate Solar Coordinates"): with
``n = JD - 2451545.0`` (days from J2000.0),

- mean longitude (corrected for aberration) ``L = 280.460 + 0.9856474 n`` deg,
- mean anomaly ``g = 357.528 + 0.9856003 n`` deg,
- ecliptic longitude ``lambda = L + 1.915 sin g + 0.020 sin 2g`` deg (latitude 0),
- obliquity ``eps = 23.439 - 0.0000004 n`` deg,
- right ascension ``alpha = atan2(cos eps sin lambda, cos lambda)``,
  declination ``delta = asin(sin eps sin lambda)``.

The Almanac gives 0.01 deg precision between 1950 and 2050. The direction is
turned Earth-fixed with the same GMST (IAU-82, UT1 = UTC) that orients the
satellites, so sub-solar longitude is ``alpha - GMST``. The Sun is taken at
infinite distance (its parallax, 8.8 arcsec, is neglected) and elevations are
geometric (no refraction). Tested against Skyfield with JPL DE430/DE441 in
``tests/test_sun.py``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .frames import J2000_JD


def _xp(*args):
    return np if all(isinstance(a, (np.ndarray, np.generic, float, int)) for a in args) else jnp


def sun_ra_dec(jd_whole, jd_frac):
    """Apparent right ascension and declination of the Sun (radians), Astronomical Almanac formula.

    Args:
      jd_whole, jd_frac: two-part Julian date (UT; the formula's 0.01 deg does not
        distinguish UT from TT), broadcastable. NumPy inputs stay NumPy float64.

    Returns:
      ``(alpha, delta)`` in radians, alpha in (-pi, pi].
    """
    xp = _xp(jd_whole, jd_frac)
    n = (jd_whole - J2000_JD) + jd_frac
    deg = np.pi / 180.0
    mean_lon = (280.460 + 0.9856474 * n) * deg
    g = (357.528 + 0.9856003 * n) * deg
    lam = mean_lon + (1.915 * xp.sin(g) + 0.020 * xp.sin(2.0 * g)) * deg
    eps = (23.439 - 0.0000004 * n) * deg
    alpha = xp.arctan2(xp.cos(eps) * xp.sin(lam), xp.cos(lam))
    delta = xp.arcsin(xp.sin(eps) * xp.sin(lam))
    return alpha, delta


def sun_direction_ecef(jd_whole, jd_frac, gmst_rad):
    """Unit vector (..., 3) towards the Sun in the pseudo-Earth-fixed frame of the satellites."""
    xp = _xp(jd_whole, jd_frac, gmst_rad)
    alpha, delta = sun_ra_dec(jd_whole, jd_frac)
    lon = alpha - gmst_rad
    return xp.stack([xp.cos(delta) * xp.cos(lon), xp.cos(delta) * xp.sin(lon), xp.sin(delta)], -1)


def sun_sin_elevation(sun_ecef, lat_rad, lon_rad):
    """sin of the Sun's elevation at geodetic (lat, lon): ``n . sun`` with ``n`` the ellipsoid normal.

    Broadcasting: ``sun_ecef`` (..., 3) against ``lat_rad``/``lon_rad`` (...).
    """
    xp = _xp(sun_ecef, lat_rad, lon_rad)
    cl = xp.cos(lat_rad)
    return (cl * xp.cos(lon_rad) * sun_ecef[..., 0] + cl * xp.sin(lon_rad) * sun_ecef[..., 1]
            + xp.sin(lat_rad) * sun_ecef[..., 2])
