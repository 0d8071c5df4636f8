"""Cone sensors, daylight and gateways through ``orbitjax.coverage``, against brute force.

References, all independent of the kernels' interval and event code:

- satellite positions from ``orbitjax.propagation.propagate_arrays`` (the
  propagator is tested elsewhere) sampled every ``FINE_S`` seconds;
- visibility by direct float64 vector tests per cell and satellite: elevation
  from the WGS84 normal, off-nadir angle from the satellite's nadir, gateway
  elevation the same way;
- the Sun's Earth-fixed direction from Skyfield (JPL DE430 excerpt bundled with
  Skyfield's own tests, so nothing is downloaded), so the window lies in
  2015-02-26 .. 2015-03-06.

Event-timed percent covered must match the finely sampled reference to within
the reference's own sampling error; sampled counts must match exactly except at
cells within a small angle of a threshold.
"""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pytest

import orbitjax
from orbitjax.propagation import propagate_arrays

skyfield = pytest.importorskip("skyfield")
from skyfield.api import load, load_file  # noqa: E402
from skyfield.framelib import itrs  # noqa: E402

WGS84_A, WGS84_F = 6378.137, 1.0 / 298.257223563
E2 = WGS84_F * (2.0 - WGS84_F)
START = np.datetime64("2015-03-01T06:00:00", "ns")
FINE_S = 2


def _ephemeris():
    path = os.path.join(os.path.dirname(skyfield.__file__), "tests", "data", "de430-2015-03-02.bsp")
    return load_file(path)


def skyfield_sun_itrs(times):
    """(time, 3) unit vectors to the Sun, Earth-fixed (Skyfield ITRS, apparent, no polar motion)."""
    ts = load.timescale(builtin=True)
    eph = _ephemeris()
    secs = (times - np.datetime64("2015-03-01T00:00:00", "ns")).astype(np.float64) / 1e9
    t = ts.utc(2015, 3, 1, 0, 0, secs)
    v = eph["earth"].at(t).observe(eph["sun"]).apparent().frame_xyz(itrs).au.T
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def geodetic_points(lat_deg, lon_deg):
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    n = WGS84_A / np.sqrt(1.0 - E2 * np.sin(lat) ** 2)
    up = np.stack(np.broadcast_arrays(np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), -1)
    p = np.stack(np.broadcast_arrays(n * np.cos(lat) * np.cos(lon), n * np.cos(lat) * np.sin(lon),
                                     n * (1.0 - E2) * np.sin(lat)), -1)
    return p, up


def brute_visible(r, cells, ups, mask_deg, half_deg):
    """(sat, cell) bool and (sat, cell) distance to the nearest threshold (rad) at one time; r (sat, 3)."""
    d = r[:, None, :] - cells[None]
    dist = np.linalg.norm(d, axis=-1)
    el = np.arcsin(np.clip(np.sum(d * ups[None], -1) / dist, -1, 1))
    ok = el >= np.radians(mask_deg)
    near = np.abs(el - np.radians(mask_deg))
    if half_deg is not None:
        off = np.arccos(np.clip(np.sum(d * r[:, None, :], -1) / (dist * np.linalg.norm(r, axis=-1)[:, None]), -1, 1))
        ok &= off <= np.radians(half_deg)
        near = np.minimum(near, np.abs(off - np.radians(half_deg)))
    return ok, near


def sun_elevation(sun, ups):
    """(time, cell) Sun elevation (rad) from Earth-fixed Sun directions (time, 3) and cell normals (cell, 3)."""
    return np.arcsin(np.clip(sun @ ups.T, -1, 1))


@pytest.fixture(scope="module")
def shell():
    return orbitjax.walker(altitude_km=550.0, inclination_deg=53.0, planes=3, sats_per_plane=4, phasing=1,
                           min_elevation_deg=15.0, epoch=START)


def fine_times(n_steps, step):
    """Midpoints of FINE_S sub-intervals covering [START, START + n_steps * step)."""
    return START + (np.arange(n_steps * step // FINE_S) * FINE_S + FINE_S / 2).astype("timedelta64[s]")


@pytest.mark.slow
def test_cone_and_daylight_event_timed_match_fine_sampling(shell):
    """Percent of time covered (cone 45 deg, mask 15 deg, Sun >= 10 deg), event-timed at 60 s steps,
    against brute force every 2 s; the sampled figure at 60 s (from the same run's counts) is clearly worse."""
    n_steps, step = 60, 60
    times = START + np.arange(n_steps) * np.timedelta64(step, "s")
    exact = orbitjax.coverage(shell, times, resolution_deg=10.0, half_angle_deg=45.0, sun_elevation_min_deg=10.0)
    assert exact.percent_time_covered.attrs["timing"] == "event"

    fine = fine_times(n_steps, step)
    r, _, _ = propagate_arrays(shell, fine, frame="ecef")
    lat, lon = np.meshgrid(exact.lat.values, exact.lon.values, indexing="ij")
    cells, ups = geodetic_points(lat.ravel(), lon.ravel())
    day = sun_elevation(skyfield_sun_itrs(fine), ups) >= np.radians(10.0)  # (time, cell)
    covered = np.zeros((fine.size, cells.shape[0]), bool)
    for k in range(fine.size):
        ok, _ = brute_visible(r[:, k], cells, ups, 15.0, 45.0)
        covered[k] = ok.any(0) & day[k]
    want = 100.0 * covered.mean(0).reshape(lat.shape)
    got = exact.percent_time_covered.values
    assert want.max() > 5.0 and (want > 0).sum() >= 20  # the test sees real coverage in daylight
    # The 2 s reference is itself off by up to 1 s per transition (a handful per cell in an hour).
    err_exact = np.abs(got - want)
    err_sampled = np.abs(100.0 * (exact.visible_count.values > 0).mean(0) - want)
    assert err_exact.max() < 0.3, err_exact.max()
    assert err_sampled.max() > 3 * err_exact.max()


def test_gateways_and_daylight_sampled_counts_match_brute_force(shell):
    """visible_count at every sample, and which satellites were usable, against brute force."""
    times = START + np.arange(20) * np.timedelta64(120, "s")
    gateways = [("Redmond", 47.67, -122.12), ("Madrid", 40.4, -3.7), ("Perth", -31.95, 115.86)]
    ds = orbitjax.coverage(shell, times, resolution_deg=10.0, timing="sampled", half_angle_deg=50.0,
                           sun_elevation_min_deg=0.0, gateways=orbitjax.Gateways(orbitjax.Sites.from_rows(gateways), 20.0))
    r, _, _ = propagate_arrays(shell, times, frame="ecef")
    g_pts, g_up = geodetic_points(np.array([g[1] for g in gateways]), np.array([g[2] for g in gateways]))
    lat, lon = np.meshgrid(ds.lat.values, ds.lon.values, indexing="ij")
    cells, ups = geodetic_points(lat.ravel(), lon.ravel())
    sun_el = sun_elevation(skyfield_sun_itrs(times), ups)
    usable = np.zeros((times.size, len(shell)), bool)
    n_edge = 0
    for k in range(times.size):
        seen, _ = brute_visible(r[:, k], g_pts, g_up, 20.0, None)
        usable[k] = seen.any(1)
        ok, near = brute_visible(r[:, k], cells, ups, 15.0, 50.0)
        want = (ok & usable[k][:, None]).sum(0) * (sun_el[k] >= 0)
        edge = (near < 1e-9).any(0) | (np.abs(sun_el[k]) < np.radians(0.03))  # Skyfield vs the 0.01 deg formula
        got = ds.visible_count.values[k].ravel()
        assert np.array_equal(got[~edge], want[~edge]), k
        n_edge += int(edge.sum())
    assert n_edge < 0.05 * cells.shape[0] * times.size
    np.testing.assert_array_equal(ds.usable_satellites.values.astype(bool), usable)
    np.testing.assert_array_equal(ds.n_usable_satellites.values, usable.sum(1))
    assert 0 < usable.mean() < 1  # gateways bind
    assert list(ds.gateway.values) == ["Redmond", "Madrid", "Perth"]


def test_gateways_exact_timing_within_sample_bounds(shell):
    """Event timing with gateways: usability is decided per sample, so the timed percent covered of
    every cell lies between a fine reference in which a satellite serves a step only when usable at
    both its samples and one in which it serves when usable at either; counts match brute force."""
    n_steps, step = 30, 60
    times = START + np.arange(n_steps) * np.timedelta64(step, "s")
    gw = [("Redmond", 47.67, -122.12), ("Madrid", 40.4, -3.7)]
    ds = orbitjax.coverage(shell, times, resolution_deg=10.0, gateways=gw)  # default mask 10 deg

    samples = START + np.arange(n_steps + 1) * np.timedelta64(step, "s")
    r_s, _, _ = propagate_arrays(shell, samples, frame="ecef")
    g_pts, g_up = geodetic_points(np.array([47.67, 40.4]), np.array([-122.12, -3.7]))
    usable = np.array([brute_visible(r_s[:, k], g_pts, g_up, 10.0, None)[0].any(1) for k in range(n_steps + 1)])
    np.testing.assert_array_equal(ds.usable_satellites.values.astype(bool), usable[:n_steps])
    assert 0 < usable.mean() < 1

    fine = fine_times(n_steps, step)
    r, _, _ = propagate_arrays(shell, fine, frame="ecef")
    lat, lon = np.meshgrid(ds.lat.values, ds.lon.values, indexing="ij")
    cells, ups = geodetic_points(lat.ravel(), lon.ravel())
    lo = np.zeros((fine.size, cells.shape[0]), bool)
    hi = np.zeros_like(lo)
    for k in range(fine.size):
        step_k = k * FINE_S // step
        ok, _ = brute_visible(r[:, k], cells, ups, 15.0, None)
        lo[k] = (ok & (usable[step_k] & usable[step_k + 1])[:, None]).any(0)
        hi[k] = (ok & (usable[step_k] | usable[step_k + 1])[:, None]).any(0)
    got = ds.percent_time_covered.values.ravel()
    tol = 0.3  # the 2 s reference's own sampling error
    assert (got >= 100.0 * lo.mean(0) - tol).all() and (got <= 100.0 * hi.mean(0) + tol).all()
    assert (hi.mean(0) > lo.mean(0)).any()  # the bounds differ: usability changes inside steps occur
