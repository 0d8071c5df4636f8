"""Daylight at the target: the Sun at least ``sun_elevation_min`` above each cell's horizon.

A cell counts as covered only while the sensor test and this test both hold.

**Per row, one longitude interval.** The Sun is a direction ``S`` (at infinity,
:mod:`orbitjax.kernels.sun`); the sine of its elevation at a cell of latitude
``phi`` (geodetic on WGS84, whose normal ``n`` sets elevations; geocentric on the
sphere) is ``n . S = cos(phi) cos(delta) cos(lon - lon_S) + sin(phi) sin(delta)``:
non-decreasing in ``cos(lon - lon_S)``, so the daylit cells of a row are one
interval centred on the sub-solar longitude, like a footprint row. The kernel
evaluates that expression densely as a (time, lat) x (time, lon) outer form --
two small tables and one fused multiply-add per cell, no trigonometry per cell.

**Inside a step** (event timing). ``sin h - sin h_min`` is interpolated linearly
between the two samples: over a step ``dt`` the hour angle ``H`` advances by
``omega dt`` (declination fixed to 1e-5 rad), so the crossing time is off by at most
about ``omega dt^2 / (8 |sin H|)`` (0.03 s / |sin H| at 60 s steps: sub-second except
where the Sun only grazes the threshold). At most one crossing per step; the
daylit part of a step is ``[0, D]``, ``[D, 1]``, all or none, and
:func:`clip_step_timing` intersects it with the covered part of the step.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .grid import Grid


def daylight_margin(sun_ecef, sin_min, grid: Grid):
    """``sin(sun elevation) - sin(min)`` per cell and time: (time, lat, lon); >= 0 is daylight.

    Args:
      sun_ecef: (time, 3) unit vectors towards the Sun, Earth-fixed.
      sin_min: scalar, sin of the minimum Sun elevation.
      grid: cell-centre grid (its latitudes are the normals' latitudes).
    """
    dtype = sun_ecef.dtype
    phi = np.radians(grid.lat_deg)
    lon = np.radians(grid.lon_deg)
    cos_phi = jnp.asarray(np.cos(phi), dtype)[None, :, None]
    sin_phi = jnp.asarray(np.sin(phi), dtype)[None, :, None]
    # cos(delta) cos(lon - lon_S) per (time, lon): the row-independent factor.
    horiz = (jnp.asarray(np.cos(lon), dtype)[None, :] * sun_ecef[:, 0:1]
             + jnp.asarray(np.sin(lon), dtype)[None, :] * sun_ecef[:, 1:2])
    return cos_phi * horiz[:, None, :] + (sin_phi * sun_ecef[:, 2, None, None] - sin_min)


def daylight_window(m0, m1):
    """Daylit part ``[w0, w1]`` of each step (fractions) from the margins at its two ends.

    ``w0 > w1`` (1, 0) when the step is dark throughout; linear interpolation puts
    a sunrise or sunset at ``D = m0 / (m0 - m1)``.
    """
    day0, day1 = m0 >= 0, m1 >= 0
    den = m0 - m1
    d = jnp.clip(m0 / jnp.where(den != 0, den, 1.0), 0.0, 1.0)
    w0 = jnp.where(day0, 0.0, jnp.where(day1, d, 1.0))
    w1 = jnp.where(day1, 1.0, jnp.where(day0, d, 0.0))
    return w0.astype(m0.dtype), w1.astype(m0.dtype)


def clip_step_timing(lead, trail, p, q, w0, w1):
    """Intersect a step's covered set with its daylit window ``[w0, w1]``.

    The covered set is ``[0, lead] U [p, q] U [trail, 1]`` (``lead >= trail``: the
    whole step; ``p >= q``: no middle piece), the fields of
    :class:`orbitjax.kernels.events.StepTiming`. The window starts at 0 or ends at
    1 (or is empty), so the result again has at most a leading, a trailing and
    middle pieces; two middle pieces (a pass between the samples and a rise or set
    of coverage, in the step where the Sun also rises or sets) are merged into
    their hull and flagged.

    Returns:
      ``(lead, trail, p, q, approximated)``, shapes of the inputs.
    """
    full = lead >= trail
    one = jnp.ones_like(lead)
    zero = jnp.zeros_like(lead)
    # Pieces (a, b): the leading run, the middle pass and the trailing run; the whole step when full.
    pieces = [
        (zero, jnp.where(full, one, lead)),
        (jnp.where(full, one, p), jnp.where(full, zero, q)),
        (jnp.where(full, one, trail), jnp.where(full, zero, one)),
    ]
    new_lead, new_trail = zero, one
    mid_lo, mid_hi, n_mid = one, zero, jnp.zeros(lead.shape, jnp.int32)
    whole = jnp.zeros(lead.shape, bool)
    for a, b in pieces:
        a, b = jnp.maximum(a, w0), jnp.minimum(b, w1)
        ok = a < b
        at0, at1 = ok & (a <= 0), ok & (b >= 1)
        whole = whole | (at0 & at1)
        new_lead = jnp.where(at0 & ~at1, jnp.maximum(new_lead, b), new_lead)
        new_trail = jnp.where(at1 & ~at0, jnp.minimum(new_trail, a), new_trail)
        mid = ok & ~at0 & ~at1
        mid_lo = jnp.where(mid, jnp.minimum(mid_lo, a), mid_lo)
        mid_hi = jnp.where(mid, jnp.maximum(mid_hi, b), mid_hi)
        n_mid = n_mid + mid.astype(jnp.int32)
    new_lead = jnp.where(whole, one, new_lead)
    new_trail = jnp.where(whole, zero, new_trail)
    return new_lead, new_trail, mid_lo, mid_hi, n_mid >= 2
