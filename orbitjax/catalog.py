"""Catalogues of real satellites: SGP4 mean elements as read from TLE/OMM.

A :class:`Satellites` object holds one row per object, all fields numpy arrays of
shape (sat,). It contains no math and no parsing: readers live in
``orbitjax.io.tle`` and ``orbitjax.io.omm``; propagation in ``orbitjax.kernels.sgp4``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True, eq=False)
class Satellites:
    """SGP4 element sets, one per satellite (units as in the field names).

    Attributes:
      name: (sat,) str, object name ('' when the source has none).
      norad_id: (sat,) int64 NORAD catalogue number (Alpha-5 decoded, e.g. 'A0001' -> 100001).
      intl_designator: (sat,) str COSPAR designator as 'YYYY-NNNPPP' (e.g. '2025-153A'), '' if unknown.
      epoch: (sat,) datetime64[ns] UTC epoch of the elements.
      epoch_jd, epoch_jd_frac: (sat,) float64 two-part Julian date of the epoch (UTC),
        the same split python-sgp4 uses (jdsatepoch, jdsatepochF).
      no_kozai_rad_min: (sat,) Kozai mean motion in rad/min (TLE line 2 cols 53-63 converted).
      ecco: (sat,) eccentricity.
      inclo_rad, nodeo_rad, argpo_rad, mo_rad: (sat,) inclination, RAAN, argument of
        perigee, mean anomaly in radians.
      bstar_per_er: (sat,) B* drag term in 1/earth radii.
      ndot_rad_min2, nddot_rad_min3: (sat,) first/second derivative of mean motion
        divided by 2 and 6 as in the TLE, converted to rad/min^2 and rad/min^3.
      classification: (sat,) str 'U', 'C' or 'S'.
      element_set_no, rev_at_epoch: (sat,) int64.
    """

    name: np.ndarray
    norad_id: np.ndarray
    intl_designator: np.ndarray
    epoch: np.ndarray
    epoch_jd: np.ndarray
    epoch_jd_frac: np.ndarray
    no_kozai_rad_min: np.ndarray
    ecco: np.ndarray
    inclo_rad: np.ndarray
    nodeo_rad: np.ndarray
    argpo_rad: np.ndarray
    mo_rad: np.ndarray
    bstar_per_er: np.ndarray
    ndot_rad_min2: np.ndarray
    nddot_rad_min3: np.ndarray
    classification: np.ndarray
    element_set_no: np.ndarray
    rev_at_epoch: np.ndarray

    def __post_init__(self):
        n = None
        for f in fields(self):
            v = np.asarray(getattr(self, f.name))
            if v.ndim != 1:
                raise ValueError(f"Satellites.{f.name} must be 1-D (sat,), got shape {v.shape}")
            if n is None:
                n = v.shape[0]
            elif v.shape[0] != n:
                raise ValueError(
                    f"Satellites.{f.name} has {v.shape[0]} rows, expected {n} like the other fields"
                )
            object.__setattr__(self, f.name, v)

    def __len__(self) -> int:
        return int(self.norad_id.shape[0])

    def __getitem__(self, index) -> "Satellites":
        """Select satellites by integer index, slice or boolean mask."""
        return Satellites(**{f.name: np.atleast_1d(getattr(self, f.name)[index]) for f in fields(self)})

    def __repr__(self) -> str:
        return f"Satellites({len(self)} objects)"
