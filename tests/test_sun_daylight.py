"""The Sun's position and the daylight kernels against Skyfield and brute force.

- Sun elevation from the Astronomical Almanac formula (orbitjax.kernels.sun)
  against Skyfield's apparent topocentric altitude with JPL ephemerides (the
  DE430 and DE441 excerpts shipped in Skyfield's own test data: nothing is
  downloaded), in two windows: 2015-02-26..03-06 and 1969-07-26..07-31.
- ``clip_step_timing`` against a direct evaluation of the covered set on a fine
  grid of instants (hypothesis-generated step timings and windows).
- ``daylight_margin`` against a direct per-cell dot product.
"""

from __future__ import annotations

import datetime as dt
import os

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitjax.kernels.daylight import clip_step_timing, daylight_margin, daylight_window
from orbitjax.kernels.frames import gmst82
from orbitjax.kernels.grid import make_grid
from orbitjax.kernels.sun import sun_direction_ecef, sun_sin_elevation
from orbitjax.timescales import jd2_from_datetime64

skyfield = pytest.importorskip("skyfield")
from skyfield.api import load, load_file, utc, wgs84  # noqa: E402

DATA = os.path.join(os.path.dirname(skyfield.__file__), "tests", "data")
# Almanac formula (0.01 deg) + GMST for GAST (equation of the equinoxes <= 0.005 deg)
# + solar parallax (0.0024 deg) + UT1 = UTC.
TOL_DEG = 0.02


@pytest.mark.parametrize("kernel_file, start", [("de430-2015-03-02.bsp", "2015-02-27T00:00"),
                                                ("de441-1969.bsp", "1969-07-26T00:00")])
def test_sun_elevation_matches_skyfield(kernel_file, start):
    eph = load_file(os.path.join(DATA, kernel_file))
    ts = load.timescale(builtin=True)
    times = np.datetime64(start) + np.arange(0, 5 * 86400, 2417).astype("timedelta64[s]")
    t = ts.from_datetimes([dt.datetime.fromisoformat(str(x)).replace(tzinfo=utc) for x in times.astype("datetime64[s]")])
    w, f = jd2_from_datetime64(times)
    sun = sun_direction_ecef(w, f, gmst82(w, f))
    worst = 0.0
    for lat, lon in [(0.0, 0.0), (45.0, 10.0), (-33.9, 151.2), (70.0, -150.0), (-80.0, 60.0), (89.0, 0.0)]:
        alt, _, _ = (eph["earth"] + wgs84.latlon(lat, lon)).at(t).observe(eph["sun"]).apparent().altaz()
        mine = np.degrees(np.arcsin(sun_sin_elevation(sun, np.radians(lat), np.radians(lon))))
        worst = max(worst, float(np.max(np.abs(mine - alt.degrees))))
    assert worst < TOL_DEG, worst
    assert worst > 1e-4  # a real comparison, not the same code


def test_daylight_margin_is_the_per_cell_dot_product():
    grid = make_grid(5.0)
    rng = np.random.default_rng(3)
    sun = rng.normal(size=(4, 3))
    sun /= np.linalg.norm(sun, axis=-1, keepdims=True)
    got = np.asarray(daylight_margin(jnp.asarray(sun), np.sin(np.radians(10.0)), grid))
    lat, lon = np.meshgrid(np.radians(grid.lat_deg), np.radians(grid.lon_deg), indexing="ij")
    up = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)
    want = np.einsum("ijk,tk->tij", up, sun) - np.sin(np.radians(10.0))
    np.testing.assert_allclose(got, want, atol=1e-12)


def _covered(tau, lead, trail, p, q):
    """Direct membership of instants tau in [0, lead] U [p, q] U [trail, 1] (the whole step if lead >= trail)."""
    full = lead >= trail
    return full | (tau <= lead) & (lead > 0) | (p < q) & (tau >= p) & (tau <= q) | (tau >= trail) & (trail < 1)


fractions = st.floats(0.0, 1.0, allow_subnormal=False)  # XLA flushes subnormals to zero


@settings(max_examples=150, deadline=None)
@given(a=fractions, b=fractions, c=fractions, d=fractions, m0=st.floats(-1.0, 1.0, allow_subnormal=False), m1=st.floats(-1.0, 1.0, allow_subnormal=False),
       full=st.booleans(), brief=st.booleans())
def test_clip_step_timing_matches_direct_intersection(a, b, c, d, m0, m1, full, brief):
    """Covered-and-daylit measure of the step and its ends: clip == direct evaluation on 20001 instants."""
    x, p, q, y = sorted([a, b, c, d])
    if not brief:
        p, q = 1.0, 0.0
    lead, trail = (1.0, 0.0) if full else (x, y)
    if not full and brief and not (x < p < q < y):
        return
    w0, w1 = (float(v) for v in daylight_window(jnp.asarray(m0), jnp.asarray(m1)))
    out = clip_step_timing(*(jnp.asarray(v) for v in (lead, trail, p, q)), jnp.asarray(w0), jnp.asarray(w1))
    nl, nt, np_, nq, merged = (float(v) for v in out)
    tau = np.linspace(0.0, 1.0, 20001)
    want = _covered(tau, lead, trail, p, q) & (tau >= w0) & (tau <= w1)
    got = _covered(tau, nl, nt, np_, nq)
    if merged:  # two middle pieces merged into their hull: a superset, flagged
        assert (got | ~want).all()
    else:
        assert np.mean(got != want) <= 2.0 / tau.size
    # The daylight window itself: sunrise/sunset at the linear-interpolation root.
    if (m0 >= 0) != (m1 >= 0):
        root = m0 / (m0 - m1)
        assert (w0, w1) == pytest.approx((0.0, root) if m0 >= 0 else (root, 1.0), abs=1e-12)
