"""Sensor and target constraints of a coverage run: nadir cones, daylight, gateways.

User values (degrees, files, tables) are checked here and turned into the small
arrays the kernels take (radians, unit vectors); the math is in
``orbitjax.kernels.coverage`` (cones), ``orbitjax.kernels.daylight`` and
``orbitjax.kernels.sun`` (daylight) and ``orbitjax.kernels.gateways``.
Method, validation and what is event-timed: ``docs/sensors.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .io.sites import Sites, as_sites

DEFAULT_GATEWAY_MIN_ELEVATION_DEG = 10.0


@dataclass(frozen=True, eq=False)
class Gateways:
    """Ground gateways of a bent-pipe constellation: sites and each one's minimum elevation (degrees)."""

    sites: Sites
    min_elevation_deg: np.ndarray

    def __post_init__(self):
        el = np.broadcast_to(np.asarray(self.min_elevation_deg, np.float64), (len(self.sites),)).copy()
        for name, e in zip(self.sites.name, el):
            if not (np.isfinite(e) and 0.0 <= e < 90.0):
                raise ValueError(f"gateway {name!r}: min_elevation_deg = {e} is outside [0, 90)")
        object.__setattr__(self, "min_elevation_deg", el)

    def __len__(self) -> int:
        return len(self.sites)

    @property
    def name(self) -> np.ndarray:
        return self.sites.name

    def __repr__(self) -> str:
        return f"Gateways({len(self)}: {', '.join(self.name[:4])}{', ...' if len(self) > 4 else ''})"


def as_gateways(gateways, min_elevation_deg: float | None = None) -> Gateways:
    """:class:`Gateways` from Gateways, :class:`Sites`, a sites file (CSV ``name,lat,lon[,alt_m]`` or
    GeoJSON points), rows ``(name, lat, lon[, alt_m])`` or a dict; ``min_elevation_deg`` (scalar or per
    gateway) applies to all but a :class:`Gateways` (default 10 deg)."""
    if isinstance(gateways, Gateways):
        if min_elevation_deg is not None:
            return Gateways(gateways.sites, min_elevation_deg)
        return gateways
    if isinstance(gateways, (str, os.PathLike)) and not os.path.isfile(gateways):
        raise ValueError(f"gateways {os.fspath(gateways)}: no such file; expected a CSV name,lat,lon[,alt_m] or GeoJSON")
    sites = as_sites(gateways)
    return Gateways(sites, DEFAULT_GATEWAY_MIN_ELEVATION_DEG if min_elevation_deg is None else min_elevation_deg)


def cone_half_angles_rad(half_angle_deg, radius_bound_km: np.ndarray, earth_model: str, radius_km: float,
                         names=None):
    """(sat,) cone half-angles in radians (NaN: no cone), checked against each satellite's limb limit.

    Raises:
      ValueError: a half-angle outside (0, 90) deg, or wider than the Earth seen
        from the satellite's highest point (then the horizon alone limits it).
    """
    from .kernels.coverage import cone_limit_rad  # noqa: PLC0415 (JAX only when a cone is used)

    n = radius_bound_km.shape[0]
    try:
        half = np.broadcast_to(np.asarray(half_angle_deg, np.float64), (n,)).copy()
    except ValueError:
        raise ValueError(f"half_angle_deg must be a scalar or one value per satellite ({n}), "
                         f"got shape {np.shape(half_angle_deg)}") from None
    set_ = ~np.isnan(half)
    bad = set_ & ~((half > 0) & (half < 90))
    if bad.any():
        raise ValueError(f"half_angle_deg = {half[bad][0]} is outside (0, 90) degrees")
    limit = np.degrees(cone_limit_rad(np.asarray(radius_bound_km, np.float64), earth_model, radius_km))
    wide = set_ & (half >= limit)
    if wide.any():
        i = int(np.argmax(wide))
        who = repr(str(names[i])) if names is not None else i
        raise ValueError(
            f"half_angle_deg = {half[i]:g} for satellite {who}: wider than the Earth seen from its highest "
            f"point ({radius_bound_km[i]:.0f} km from the centre: at most {limit[i]:.2f} deg); such a cone "
            "sees the whole horizon, so use min_elevation_deg alone"
        )
    return np.radians(half)


def check_sensor_kwargs(satellites, *, half_angle_deg=None, sun_elevation_min_deg=None, gateways=None,
                        earth_model: str = "wgs84", radius_km: float = 6371.0088) -> None:
    """Check :func:`orbitjax.coverage`'s sensor arguments for ``satellites`` without computing anything."""
    from .propagation import radius_bound_km  # noqa: PLC0415

    if half_angle_deg is not None:
        cone_half_angles_rad(half_angle_deg, radius_bound_km(satellites), earth_model, radius_km, satellites.name)
    if sun_elevation_min_deg is not None:
        check_sun_elevation(sun_elevation_min_deg)
    if gateways is not None:
        as_gateways(gateways)


def check_sun_elevation(sun_elevation_min_deg) -> float:
    value = float(sun_elevation_min_deg)
    if not (np.isfinite(value) and -90.0 < value < 90.0):
        raise ValueError(f"sun_elevation_min_deg = {sun_elevation_min_deg} is outside (-90, 90) degrees")
    return value


def gateway_arrays(gateways: Gateways):
    """(points (G, 3) km, up-vectors (G, 3), sin of the masks (G,)): WGS84 geodetic sites
    (``orbitjax.kernels.access.site_frames``)."""
    import jax.numpy as jnp  # noqa: PLC0415

    from .kernels.access import site_frames  # noqa: PLC0415

    s = gateways.sites
    frame = site_frames(jnp.radians(jnp.asarray(s.lat_deg)), jnp.radians(jnp.asarray(s.lon_deg)),
                        jnp.asarray(s.alt_m) / 1000.0)
    return frame.r_ecef_km, frame.up, jnp.sin(jnp.radians(jnp.asarray(gateways.min_elevation_deg)))
