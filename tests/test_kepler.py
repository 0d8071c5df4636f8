"""Kepler + J2 kernel against closed-form two-body and secular-J2 results.

References written here, not imported from the kernel:
- Kepler's equation residual M = E - e sin E.
- Two-body period T = 2 pi sqrt(a^3 / mu) and the vis-viva law
  |v|^2 = mu (2/r - 1/a) (Vallado, 4th ed., Eqs. 1-26, 1-31).
- Secular J2 rates (Vallado, 4th ed., Eqs. 9-41, 9-42):
  dRAAN/dt = -1.5 n J2 (Re/p)^2 cos i,  dargp/dt = 0.75 n J2 (Re/p)^2 (5 cos^2 i - 1),
  and the sun-synchronous condition dRAAN/dt = 360 deg / 365.2422 d (Eq. 11-18).

RAAN and argument of perigee are measured geometrically from the kernel's
positions/velocities at events found by root finding (ascending node: z = 0;
perigee: r . v = 0), where the secular drift terms in the velocity do not
perturb the measurement (see ``_raan_at_node``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from orbitjax.kernels.earth import WGS84
from orbitjax.kernels.kepler import (
    KeplerElements,
    kepler_j2_positions,
    kepler_j2_states,
    solve_kepler,
)

MU = 398600.4418  # km^3/s^2, WGS84 (NIMA TR8350.2), written here on purpose
RE = 6378.137  # km
J2 = 1.08262668e-3
DAY = 86400.0
NO_J2 = WGS84._replace(j2=0.0)


def _wrap(x):
    """Angle wrapped to [-pi, pi)."""
    return np.mod(np.asarray(x) + np.pi, 2 * np.pi) - np.pi


def _elements(a, e, inc_deg, raan_deg=0.0, argp_deg=0.0, m_deg=0.0):
    arr = lambda v: jnp.atleast_1d(jnp.asarray(v, jnp.float64))  # noqa: E731
    return KeplerElements(
        a_km=arr(a), e=arr(e), inc_rad=arr(math.radians(inc_deg)), raan_rad=arr(math.radians(raan_deg)),
        argp_rad=arr(math.radians(argp_deg)), mean_anomaly_rad=arr(math.radians(m_deg)),
    )


_states_jit = jax.jit(kepler_j2_states, static_argnums=2)


def _state(el, t, earth=WGS84):
    """(r, v) of satellite 0 at a scalar time t (s), numpy float64."""
    r, v = _states_jit(el, jnp.asarray([[float(t)]]), earth)
    return np.asarray(r[0, 0]), np.asarray(v[0, 0])


# --- Kepler's equation ------------------------------------------------------------

# Residual threshold 1e-12 rad (~ 7 um along a LEO orbit): six Halley steps reach
# machine precision; 1e-12 leaves room for the reduction of |M| <= 4 pi.
KEPLER_TOL = 1e-12
_solve_jit = jax.jit(solve_kepler)


def _kepler_residual(e_anom, m, e):
    return np.abs(_wrap(np.asarray(e_anom) - e * np.sin(np.asarray(e_anom)) - m))


def test_solve_kepler_residual_grid():
    e = np.linspace(0.0, 0.99, 100)[:, None]
    m = np.linspace(-4 * np.pi, 4 * np.pi, 4001)[None, :]
    # include exact multiples of pi and tiny anomalies, the hardest case for e -> 1
    extra = np.array([0.0, 1e-12, -1e-12, 1e-6, -1e-6, np.pi, -np.pi, 2 * np.pi, 3 * np.pi, 4 * np.pi])
    m = np.concatenate([m, extra[None, :]], axis=1)
    e_b, m_b = np.broadcast_arrays(e, m)
    big_e = np.asarray(solve_kepler(jnp.asarray(m_b), jnp.asarray(e_b)))
    res = _kepler_residual(big_e, m_b, e_b)
    assert np.all(np.isfinite(big_e))
    assert res.max() < KEPLER_TOL, (res.max(), e_b.flat[res.argmax()], m_b.flat[res.argmax()])
    # Documented range [-pi, pi].
    assert np.all(np.abs(big_e) <= np.pi + 1e-15)


@settings(max_examples=200, deadline=None)
@given(
    e=st.floats(0.0, 0.99, allow_nan=False),
    m=st.floats(-4 * math.pi, 4 * math.pi, allow_nan=False),
)
def test_solve_kepler_residual_hypothesis(e, m):
    big_e = float(_solve_jit(jnp.asarray(m), jnp.asarray(e)))
    assert _kepler_residual(big_e, m, e) < KEPLER_TOL


def test_solve_kepler_jit_matches_eager():
    rng = np.random.default_rng(0)
    m = jnp.asarray(rng.uniform(-4 * np.pi, 4 * np.pi, 500))
    e = jnp.asarray(rng.uniform(0.0, 0.99, 500))
    jitted = np.asarray(jax.jit(solve_kepler)(m, e))
    with jax.disable_jit():
        eager = np.asarray(solve_kepler(m, e))
    # Same algorithm, same float64 ops: XLA may fuse differently under jit (1 ulp seen),
    # so allow a few ulps of pi: 4e-15 rad (~30 nm along a LEO orbit), no more.
    np.testing.assert_allclose(jitted, eager, rtol=0, atol=4e-15)


# --- two-body (J2 = 0) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "a, e, inc, raan, argp, m0",
    [
        (6378.137 + 550.0, 0.0, 53.0, 10.0, 0.0, 0.0),  # LEO circular
        (26560.0, 0.01, 55.0, 200.0, 30.0, 100.0),  # GPS-like
        (26600.0, 0.74, 63.4, 100.0, 270.0, 5.0),  # Molniya
        (24400.0, 0.73, 7.0, 300.0, 180.0, 359.0),  # GTO
        (42164.0, 0.0, 0.0, 0.0, 0.0, 75.0),  # GEO
    ],
)
def test_two_body_period_and_vis_viva(a, e, inc, raan, argp, m0):
    el = _elements(a, e, inc, raan, argp, m0)
    period = 2 * math.pi * math.sqrt(a**3 / MU)
    t = jnp.asarray([[0.0, 0.37 * period, period, 3 * period, 10 * period]])
    r, v = kepler_j2_states(el, t, NO_J2)
    r, v = np.asarray(r[0]), np.asarray(v[0])
    # Returns to the same point after whole periods. 1e-6 km: the float64 phase
    # n t for t = 10 T is 20 pi with ~1e-14 rad rounding -> ~1e-9 km at 42000 km.
    for k in (2, 3, 4):
        np.testing.assert_allclose(r[k], r[0], rtol=0, atol=1e-6)
        np.testing.assert_allclose(v[k], v[0], rtol=0, atol=1e-9)
    # ... and not before (the partial period lands elsewhere).
    assert np.linalg.norm(r[1] - r[0]) > 100.0
    # Vis-viva: |v| vs sqrt(mu (2/r - 1/a)), 1e-9 km/s (float64 on ~1-10 km/s).
    rn = np.linalg.norm(r, axis=-1)
    speed = np.linalg.norm(v, axis=-1)
    np.testing.assert_allclose(speed, np.sqrt(MU * (2 / rn - 1 / a)), rtol=0, atol=1e-9)
    # Radius between perigee and apogee; angular momentum magnitude sqrt(mu p).
    assert np.all(rn >= a * (1 - e) - 1e-6) and np.all(rn <= a * (1 + e) + 1e-6)
    h = np.linalg.norm(np.cross(r, v), axis=-1)
    np.testing.assert_allclose(h, math.sqrt(MU * a * (1 - e * e)), rtol=1e-12)
    # Orbit normal gives the inclination (two-body: the velocity has no drift terms).
    hz = np.cross(r, v)[:, 2] / h
    np.testing.assert_allclose(np.degrees(np.arccos(hz)), inc, atol=1e-9)


def test_positions_match_states():
    el = _elements(7000.0, 0.05, 40.0, 10.0, 20.0, 30.0)
    t = jnp.asarray([[0.0, 1234.5, 86400.0]])
    np.testing.assert_array_equal(
        np.asarray(jax.jit(kepler_j2_positions)(el, t)), np.asarray(_states_jit(el, t, WGS84)[0])
    )


# --- secular J2 ---------------------------------------------------------------------


def _node_time(el, t_guess, period):
    """Ascending-node crossing (z = 0, z increasing) nearest to t_guess."""
    z = lambda t: _state(el, t)[0][2]  # noqa: E731
    zdot = lambda t: _state(el, t)[1][2]  # noqa: E731
    # Search the bracket of half a period around the guess for the increasing root.
    ts = np.linspace(t_guess - 0.5 * period, t_guess + 0.5 * period, 41)
    zs = np.array([z(t) for t in ts])
    roots = [
        brentq(z, ts[i], ts[i + 1], xtol=1e-9, rtol=1e-15)
        for i in range(len(ts) - 1)
        if zs[i] < 0 <= zs[i + 1]
    ]
    roots = [t for t in roots if zdot(t) > 0]
    return min(roots, key=lambda t: abs(t - t_guess))


def _raan_at_node(el, t):
    """RAAN from the orbit normal h = r x v at an ascending node.

    The kernel's velocity contains the drift term dRAAN/dt z x r, which tilts h by
    ~dRAAN/dt / n ~ 1e-3 rad in general, but at the node (r . z = 0) that term adds
    only a z component to h, leaving atan2(h_x, -h_y) exact.
    """
    r, v = _state(el, t)
    h = np.cross(r, v)
    return math.atan2(h[0], -h[1])


def _classical_rates(a, e, inc_deg):
    n = math.sqrt(MU / a**3)
    p = a * (1 - e * e)
    ci = math.cos(math.radians(inc_deg))
    raan_dot = -1.5 * n * J2 * (RE / p) ** 2 * ci
    argp_dot = 0.75 * n * J2 * (RE / p) ** 2 * (5 * ci * ci - 1)
    return raan_dot, argp_dot


def _measured_raan_rate(a, inc_deg, days):
    el = _elements(a, 0.0, inc_deg, 30.0, 0.0, 0.0)  # starts at the ascending node
    period = 2 * math.pi * math.sqrt(a**3 / MU)
    t0 = _node_time(el, 0.0, period)
    t1 = _node_time(el, days * DAY, period)
    d_raan = _raan_at_node(el, t1) - _raan_at_node(el, t0)
    # unwrap: the drift over `days` is < 1 turn for these cases
    expected_sign = -math.copysign(1.0, math.cos(math.radians(inc_deg)))
    d_raan = d_raan % (2 * math.pi) if expected_sign > 0 else -((-d_raan) % (2 * math.pi))
    return d_raan / (t1 - t0)


def test_j2_nodal_regression_iss_like():
    a, inc = RE + 700.0, 51.9
    rate = _measured_raan_rate(a, inc, 10.0)
    expected, _ = _classical_rates(a, 0.0, inc)
    # ~ -5.0 deg/day; node-to-node measurement is exact up to root-finding (1e-9 s)
    # and float64 angle rounding, so relative 1e-6 (1e-12 rad/s) is generous.
    assert rate == pytest.approx(expected, rel=1e-6, abs=1e-9 * 1e-3)


def test_sun_synchronous_drift():
    a = 7078.0
    rho_dot = 2 * math.pi / (365.2422 * DAY)  # rad/s, one turn per tropical year
    n = math.sqrt(MU / a**3)
    cos_i = -rho_dot / (1.5 * n * J2 * (RE / a) ** 2)
    inc = math.degrees(math.acos(cos_i))
    assert 97.0 < inc < 99.0  # ~98.2 deg for 700 km
    rate_deg_day = math.degrees(_measured_raan_rate(a, inc, 10.0)) * DAY
    # 1e-3 deg/day: the SSO requirement (0.986 deg/day) to 0.1 %.
    assert rate_deg_day == pytest.approx(360.0 / 365.2422, abs=1e-3)


def _argp_at_perigee(el, t_guess, period):
    """Argument of perigee from the perigee position (r . v = 0, r minimum) near t_guess.

    The radius does not depend on RAAN or argp, so r . v = r dr/dt exactly even with
    drift terms in v; at perigee sin(lat) = sin i sin(argp), with argp in (-90, 90).
    """
    f = lambda t: float(np.dot(*_state(el, t)))  # noqa: E731
    ts = np.linspace(t_guess - 0.6 * period, t_guess + 0.6 * period, 61)
    fs = np.array([f(t) for t in ts])
    roots = [brentq(f, ts[i], ts[i + 1], xtol=1e-9, rtol=1e-15) for i in range(60) if fs[i] < 0 <= fs[i + 1]]
    t_p = min(roots, key=lambda t: abs(t - t_guess))
    r = _state(el, t_p)[0]
    sin_i = math.sin(float(el.inc_rad[0]))
    return t_p, math.asin(r[2] / np.linalg.norm(r) / sin_i)


@pytest.mark.parametrize("inc", [30.0, 60.0, 62.0, 63.0, 63.8, 65.0, 70.0, 90.0, 116.0, 117.0])
def test_apsidal_rate_sign_flips_at_critical_inclination(inc):
    a, e = RE + 1000.0, 0.05
    el = _elements(a, e, inc, 40.0, 20.0, 0.0)  # starts at perigee, argp = 20 deg
    period = 2 * math.pi * math.sqrt(a**3 / MU)
    t0, w0 = _argp_at_perigee(el, 0.0, period)
    t1, w1 = _argp_at_perigee(el, 3 * DAY, period)
    rate = (w1 - w0) / (t1 - t0)
    _, expected = _classical_rates(a, e, inc)
    critical = math.degrees(math.acos(math.sqrt(0.2)))  # 63.435 deg
    assert critical == pytest.approx(63.435, abs=1e-3)
    prograde_apsides = (inc < critical) or (inc > 180.0 - critical)
    assert (rate > 0) == prograde_apsides
    # Magnitude against the classical formula. The perigee time is found to 1e-9 s
    # and the rates are >= 1e-8 rad/s here, so relative 1e-5 bounds float64 noise.
    assert rate == pytest.approx(expected, rel=1e-5)
