"""Designed constellations: Walker shells and plain element tables (Kepler + J2 model).

A :class:`Constellation` is a table of mean orbital elements, one row per
satellite, in user units (km, degrees) with a per-satellite epoch and minimum
elevation. It owns no propagation code; see ``orbitjax.kernels.kepler``.

Walker patterns (Walker, J. G., "Satellite constellations", J. Br. Interplanet.
Soc. 37, 1984): ``T = P * S`` satellites in ``P`` planes with phasing ``F`` in
0..P-1. Plane ``j`` has RAAN ``raan0 + j * spread / P`` with ``spread`` = 360 deg
(delta) or 180 deg (star), and slot ``k`` of plane ``j`` has mean anomaly
``k * 360 / S + j * F * 360 / T`` (for star patterns the same phasing rule is used).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .kernels.earth import WGS84
from .timescales import as_datetime64

_PATTERN_SPREAD_DEG = {"delta": 360.0, "star": 180.0}


@dataclass(frozen=True, eq=False)
class Constellation:
    """Mean Keplerian elements of designed satellites, every field of shape (sat,).

    Attributes:
      name: satellite names, e.g. 'K630-P03-S12'.
      shell: name of the shell (or group) each satellite belongs to.
      plane, slot: integer plane and in-plane slot indices (-1 when not applicable).
      epoch: datetime64[ns] UTC epoch of the elements.
      a_km: mean semi-major axis; e: eccentricity (0 <= e < 1).
      inc_deg, raan_deg, argp_deg, mean_anomaly_deg: angles in degrees.
      min_elevation_deg: minimum elevation at which a ground cell counts the satellite.
    """

    name: np.ndarray
    shell: np.ndarray
    plane: np.ndarray
    slot: np.ndarray
    epoch: np.ndarray
    a_km: np.ndarray
    e: np.ndarray
    inc_deg: np.ndarray
    raan_deg: np.ndarray
    argp_deg: np.ndarray
    mean_anomaly_deg: np.ndarray
    min_elevation_deg: np.ndarray

    def __post_init__(self):
        n = np.asarray(self.a_km).shape[0] if np.ndim(self.a_km) else None
        for f in fields(self):
            v = np.atleast_1d(np.asarray(getattr(self, f.name)))
            if f.name == "epoch":
                v = as_datetime64(v)
            if v.ndim != 1 or v.shape[0] != n:
                raise ValueError(f"Constellation.{f.name} must have shape ({n},), got {v.shape}")
            object.__setattr__(self, f.name, v)
        _check_range("eccentricity e", self.e, 0.0, 1.0, hi_open=True)
        _check_range("inclination inc_deg", self.inc_deg, 0.0, 180.0)
        _check_range("min_elevation_deg", self.min_elevation_deg, 0.0, 90.0, hi_open=True)
        perigee = self.a_km * (1.0 - self.e) - WGS84.radius_eq_km
        if np.any(~np.isfinite(perigee) | (perigee <= 0)):
            i = int(np.argmax(~np.isfinite(perigee) | (perigee <= 0)))
            raise ValueError(
                f"satellite {self.name[i]!r}: perigee altitude {perigee[i]:.1f} km is below the "
                "Earth's surface; expected a_km * (1 - e) > 6378.137"
            )

    def __len__(self) -> int:
        return int(self.a_km.shape[0])

    def __getitem__(self, index) -> "Constellation":
        return Constellation(**{f.name: np.atleast_1d(getattr(self, f.name)[index]) for f in fields(self)})

    def __repr__(self) -> str:
        shells = ", ".join(f"{s}: {int(np.sum(self.shell == s))}" for s in dict.fromkeys(self.shell))
        return f"Constellation({len(self)} satellites; {shells})"

    @property
    def altitude_km(self) -> np.ndarray:
        """Mean altitude above the WGS84 equatorial radius, km."""
        return self.a_km - WGS84.radius_eq_km


def _check_range(what, values, lo, hi, hi_open=False):
    v = np.asarray(values, dtype=float)
    bad = ~np.isfinite(v) | (v < lo) | ((v >= hi) if hi_open else (v > hi))
    if np.any(bad):
        bracket = ")" if hi_open else "]"
        raise ValueError(f"{what} = {v[bad][0]!r} is outside [{lo}, {hi}{bracket}")


def concat(constellations) -> Constellation:
    """Join constellations (or stages) into one, keeping the order."""
    parts = list(constellations)
    if not parts:
        raise ValueError("concat needs at least one constellation")
    return Constellation(**{f.name: np.concatenate([getattr(c, f.name) for c in parts]) for f in fields(Constellation)})


MAX_SHELL_SATELLITES = 10_000_000
"""Most satellites in one Walker shell: 30x the largest filed constellation (~300,000), and
~10 GB of per-satellite state alone (``orbitjax.memory.SAT_BYTES``)."""


def walker(
    *,
    altitude_km: float,
    inclination_deg: float,
    planes: int,
    sats_per_plane: int,
    phasing: int = 1,
    pattern: str = "delta",
    min_elevation_deg: float,
    epoch,
    raan0_deg: float = 0.0,
    shell: str = "shell",
    eccentricity: float = 0.0,
) -> Constellation:
    """A Walker delta or star shell of ``planes * sats_per_plane`` circular satellites.

    Args:
      altitude_km: mean altitude above the WGS84 equatorial radius.
      inclination_deg: in [0, 180].
      planes, sats_per_plane: positive integers.
      phasing: Walker F in 0..planes-1.
      pattern: 'delta' (RAANs over 360 deg) or 'star' (over 180 deg).
      min_elevation_deg: per-shell minimum elevation.
      epoch: UTC epoch at which the pattern's angles hold.
      raan0_deg: RAAN of plane 0.
    """
    if pattern not in _PATTERN_SPREAD_DEG:
        raise ValueError(f"Walker pattern must be 'delta' or 'star', got {pattern!r}")
    for what, v in (("planes", planes), ("sats_per_plane", sats_per_plane)):
        if int(v) != v or v < 1:
            raise ValueError(f"shell {shell!r}: {what} must be a positive integer, got {v!r}")
    if int(phasing) != phasing or not 0 <= phasing < planes:
        raise ValueError(f"shell {shell!r}: phasing F must be an integer in 0..{planes - 1}, got {phasing!r}")
    if not np.isfinite(altitude_km) or altitude_km <= 0:
        raise ValueError(f"shell {shell!r}: altitude_km must be positive, got {altitude_km!r}")
    planes, sats_per_plane = int(planes), int(sats_per_plane)
    total = planes * sats_per_plane
    if total > MAX_SHELL_SATELLITES:  # refused before its arrays are built (2e9 filled 23 GB, then OOM)
        raise ValueError(f"shell {shell!r}: planes x sats_per_plane = {planes:,} x {sats_per_plane:,} = {total:,} "
                         f"satellites, more than the {MAX_SHELL_SATELLITES:,} one shell may have")
    j, k = np.divmod(np.arange(total), sats_per_plane)
    raan = np.mod(raan0_deg + j * _PATTERN_SPREAD_DEG[pattern] / planes, 360.0)
    m = np.mod(k * 360.0 / sats_per_plane + j * phasing * 360.0 / total, 360.0)
    width = len(str(max(planes, sats_per_plane) - 1))
    return Constellation(
        name=np.array([f"{shell}-P{a:0{width}d}-S{b:0{width}d}" for a, b in zip(j, k)]),
        shell=np.full(total, shell),
        plane=j,
        slot=k,
        epoch=np.full(total, as_datetime64(epoch)),
        a_km=np.full(total, WGS84.radius_eq_km + float(altitude_km)),
        e=np.full(total, float(eccentricity)),
        inc_deg=np.full(total, float(inclination_deg)),
        raan_deg=raan,
        argp_deg=np.zeros(total),
        mean_anomaly_deg=m,
        min_elevation_deg=np.full(total, float(min_elevation_deg)),
    )


def from_elements(
    *,
    a_km,
    e,
    inc_deg,
    raan_deg,
    argp_deg,
    mean_anomaly_deg,
    epoch,
    min_elevation_deg,
    name=None,
    shell="elements",
) -> Constellation:
    """A constellation from a plain element table (arrays or scalars broadcast to (sat,))."""
    arrays = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (a_km, e, inc_deg, raan_deg, argp_deg, mean_anomaly_deg, min_elevation_deg))
    )
    n = arrays[0].size
    arrays = [np.ravel(a) for a in arrays]
    names = np.array([f"{shell}-{i:04d}" for i in range(n)]) if name is None else np.asarray(name, dtype=str)
    return Constellation(
        name=names,
        shell=np.full(n, shell),
        plane=np.full(n, -1),
        slot=np.full(n, -1),
        epoch=np.broadcast_to(as_datetime64(epoch), (n,)).copy(),
        a_km=arrays[0],
        e=arrays[1],
        inc_deg=arrays[2],
        raan_deg=arrays[3],
        argp_deg=arrays[4],
        mean_anomaly_deg=arrays[5],
        min_elevation_deg=arrays[6],
    )


def launch_plane(
    *,
    launch_time,
    site_lat_deg: float,
    site_lon_deg: float,
    inclination_deg: float,
    ascending: bool = True,
) -> tuple[float, float]:
    """RAAN and argument of latitude (deg) of the plane through a launch site at launch time.

    A direct-ascent launch puts the site in the orbit plane at liftoff. For a site at
    latitude phi below the inclination i, the site's argument of latitude satisfies
    sin u = sin phi / sin i, and its longitude east of the node is
    dl = atan2(cos i sin u, cos u) (Vallado, 4th ed., Sec. 6.4.1 "launch window").
    With the site's local sidereal time theta = GMST + lon: RAAN = theta - dl.
    A descending (south-east) launch uses u' = 180 - u.

    Returns:
      (raan_deg, arg_latitude_deg) at ``launch_time``.
    """
    from .kernels.frames import gmst82  # noqa: PLC0415 (numpy in, numpy out)
    from .timescales import jd2_from_datetime64

    phi, inc = np.radians(site_lat_deg), np.radians(inclination_deg)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sin(phi) / np.sin(inc)
    if not abs(s) <= 1.0:  # also catches 0/0 (equatorial orbit, equatorial site) and NaN
        raise ValueError(
            f"a launch site at latitude {site_lat_deg} deg cannot reach inclination "
            f"{inclination_deg} deg directly (needs |latitude| <= inclination)"
        )
    u = np.arcsin(s) if ascending else np.pi - np.arcsin(s)
    dl = np.arctan2(np.cos(inc) * np.sin(u), np.cos(u))
    w, f = jd2_from_datetime64(launch_time)
    theta = float(gmst82(w, f)) + np.radians(site_lon_deg)
    return float(np.degrees(np.mod(theta - dl, 2 * np.pi))), float(np.degrees(np.mod(u, 2 * np.pi)))
