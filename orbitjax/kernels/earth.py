"""Earth models: gravity constants for propagation and the shape used for visibility.

Sources:
- WGS84: NIMA TR8350.2 (3rd ed., 2000), Table 3.1 / 3.4 (mu, a, f, omega);
  J2 = -C20 * sqrt(5) with C20 from EGM96 (J2 = 1.08262668e-3).
- WGS72: Vallado et al., "Revisiting Spacetrack Report #3", AIAA 2006-6753, getgravconst.
- Mean Earth radius R1 = 6371.0088 km: Moritz, "Geodetic Reference System 1980",
  IUGG mean radius of the ellipsoid (2a + b) / 3.
"""

from __future__ import annotations

from typing import NamedTuple


class EarthModel(NamedTuple):
    """Gravity and shape constants of one Earth model (km, s, rad)."""

    name: str
    mu_km3_s2: float
    radius_eq_km: float
    j2: float
    flattening: float
    omega_rad_s: float  # rotation rate used for Earth-fixed velocities


WGS84 = EarthModel(
    name="WGS84",
    mu_km3_s2=398600.4418,
    radius_eq_km=6378.137,
    j2=1.08262668e-3,
    flattening=1.0 / 298.257223563,
    omega_rad_s=7.292115e-5,
)

WGS72 = EarthModel(
    name="WGS72",
    mu_km3_s2=398600.8,
    radius_eq_km=6378.135,
    j2=1.082616e-3,
    flattening=1.0 / 298.26,
    omega_rad_s=7.292115e-5,
)

MEAN_RADIUS_KM = 6371.0088
"""Radius of the spherical Earth on which visibility and coverage are evaluated."""

SECONDS_PER_DAY = 86400.0
