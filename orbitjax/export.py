"""Designed constellations as SGP4 element sets (TLE export).

A Kepler + J2 shell is described by mean elements; a TLE carries SGP4's Kozai
mean motion. The Kozai mean motion ``n_k`` whose SGP4 initialisation recovers the
shell's semi-major axis ``a`` solves (AIAA 2006-6753, ``initl``)

    a1 = (xke / n_k)^(2/3),  d1 = 0.75 J2 (3 cos^2 i - 1) / (1 - e^2)^(3/2)
    a0 = a1 (1 - d/3 - d^2 - 134 d^3 / 81) with d = d1 / a1^2,  d0 = d1 / a0^2
    n_un = n_k / (1 + d0) = xke / a^(3/2)    (a in earth radii),

solved here by fixed-point iteration on ``n_k``. Angles and eccentricity are
copied unchanged; drag terms are zero. The round trip through SGP4 reproduces
the shell's mean radius (tests/test_export.py).
"""

from __future__ import annotations

import numpy as np

from .catalog import Satellites
from .constellation import Constellation
from .kernels.sgp4 import WGS72


def kozai_mean_motion(a_km, e, inc_rad, gravity=WGS72, iterations: int = 8) -> np.ndarray:
    """Kozai mean motion (rad/min) whose SGP4 un-Kozai'd semi-major axis is ``a_km``."""
    a_er = np.asarray(a_km, np.float64) / gravity.radiusearthkm
    e = np.asarray(e, np.float64)
    cosi = np.cos(inc_rad)
    n_un = gravity.xke / a_er**1.5
    d1 = 0.75 * gravity.j2 * (3.0 * cosi**2 - 1.0) / (np.sqrt(1.0 - e**2) * (1.0 - e**2))
    n_k = n_un
    for _ in range(iterations):
        ak = (gravity.xke / n_k) ** (2.0 / 3.0)
        d = d1 / ak**2
        adel = ak * (1.0 - d * d - d * (1.0 / 3.0 + 134.0 * d * d / 81.0))
        n_k = n_un * (1.0 + d1 / adel**2)
    return n_k


_PIECE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # COSPAR piece letters skip I and O


def piece_letters(k: int) -> str:
    """COSPAR piece designation of the k-th object (0 -> 'A', 23 -> 'Z', 24 -> 'AA')."""
    n = len(_PIECE_LETTERS)
    if k < n:
        return _PIECE_LETTERS[k]
    k -= n
    if k < n * n:
        return _PIECE_LETTERS[k // n] + _PIECE_LETTERS[k % n]
    k -= n * n
    return _PIECE_LETTERS[k // (n * n)] + _PIECE_LETTERS[(k // n) % n] + _PIECE_LETTERS[k % n]


def synthetic_designators(launch_years, counts, first_launch_number: int = 901) -> np.ndarray:
    """Synthetic COSPAR designators 'YYYY-9NNP' for consecutive launches of ``counts`` objects.

    Launch numbers from 901 up mark them as synthetic (no year has had 900 launches).
    """
    out = []
    for k, (year, n) in enumerate(zip(launch_years, counts)):
        out += [f"{int(year):04d}-{first_launch_number + k:03d}{piece_letters(i)}" for i in range(int(n))]
    return np.array(out)


MAX_PIECES = len(_PIECE_LETTERS) * (1 + len(_PIECE_LETTERS) * (1 + len(_PIECE_LETTERS)))  # A..ZZZ: 14,424


def placeholder_designators(groups, year: int, first_launch_number: int = 901) -> np.ndarray:
    """Placeholder COSPAR designators 'YYYY-9NNP' for consecutive groups of satellites.

    ``groups`` is one label per satellite (e.g. the launch or the shell); each run
    of equal consecutive labels is one placeholder "launch" (split every
    :data:`MAX_PIECES` satellites, the most three piece letters can number). Launch
    numbers count up from ``first_launch_number`` (901: no year has had 900
    launches, so they never collide with a real object) in the year ``year``.

    Raises:
      ValueError: more placeholder launches than numbers up to 999.
    """
    groups = np.asarray(groups)
    out, number, piece = [], first_launch_number - 1, MAX_PIECES
    for i, label in enumerate(groups):
        if i == 0 or label != groups[i - 1] or piece == MAX_PIECES:
            number, piece = number + 1, 0
            if number > 999:
                raise ValueError(
                    f"{len(groups)} satellites need more than {999 - first_launch_number + 1} placeholder launches "
                    f"({first_launch_number}..999) for COSPAR designators"
                )
        out.append(f"{int(year):04d}-{number:03d}{piece_letters(piece)}")
        piece += 1
    return np.array(out, dtype=str)


def constellation_to_satellites(
    constellation: Constellation, *, first_norad_id: int = 90000, intl_designator=""
) -> Satellites:
    """SGP4 element sets for a designed constellation (synthetic NORAD ids from ``first_norad_id``)."""
    c = constellation
    inc = np.radians(c.inc_deg)
    return Satellites.from_elements(
        norad_id=first_norad_id + np.arange(len(c)),
        epoch=c.epoch,
        no_kozai_rad_min=kozai_mean_motion(c.a_km, c.e, inc),
        ecco=c.e,
        inclo_rad=inc,
        nodeo_rad=np.radians(c.raan_deg),
        argpo_rad=np.radians(c.argp_deg),
        mo_rad=np.radians(c.mean_anomaly_deg),
        name=c.name,
        intl_designator=intl_designator,
    )
