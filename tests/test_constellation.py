"""Designed constellations: Walker geometry, input validation, launch planes, and
an end-to-end ``analysis.coverage`` run against a brute-force elevation count.

Walker geometry is measured from propagated positions rather than read back from
the element table: each plane's normal comes from the cross product of two of its
satellites' positions, giving RAAN and inclination; arguments of latitude are
measured from that plane's ascending node. Expected values follow Walker's
definition (J. G. Walker, J. Br. Interplanet. Soc. 37, 1984): i:T/P/F with RAANs
spaced spread/P (360 deg delta, 180 deg star), in-plane spacing 360/S, and
plane j+1 ahead of plane j by F * 360 / T.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from orbitjax.analysis import coverage
from orbitjax.constellation import from_elements, launch_plane, walker
from orbitjax.propagation import propagate_arrays

EPOCH = np.datetime64("2025-03-20T06:00:00", "ns")
RE_WGS84 = 6378.137  # km, WGS84 equatorial radius (NIMA TR8350.2)
MEAN_R = 6371.0088  # km, IUGG mean radius: the sphere coverage is evaluated on


def _wrap_deg(x):
    """Angle difference wrapped to (-180, 180]."""
    return -np.mod(-np.asarray(x) + 180.0, 360.0) + 180.0


def _plane_geometry(r_plane):
    """(raan_deg, inc_deg, u_deg (sat,), normal) of coplanar positions r_plane (sat, 3)."""
    n = np.cross(r_plane[0], r_plane[1])
    n /= np.linalg.norm(n)
    raan = math.degrees(math.atan2(n[0], -n[1]))
    inc = math.degrees(math.acos(n[2]))
    node = np.array([math.cos(math.radians(raan)), math.sin(math.radians(raan)), 0.0])
    u = np.degrees(np.arctan2(np.cross(node, r_plane) @ n, r_plane @ node))
    return raan, inc, u, n


@pytest.mark.parametrize(
    "inc, planes, spp, phasing, pattern, raan0",
    [
        (56.0, 3, 8, 1, "delta", 0.0),  # Galileo 56:24/3/1
        (55.0, 6, 4, 0, "delta", 17.0),  # GPS-like, F = 0
        (53.0, 5, 6, 4, "delta", 350.0),  # F = P - 1, RAAN wrapping past 360
        (86.4, 6, 11, 2, "star", 0.0),  # Iridium-like star
    ],
)
def test_walker_geometry(inc, planes, spp, phasing, pattern, raan0):
    alt = 780.0
    c = walker(
        altitude_km=alt, inclination_deg=inc, planes=planes, sats_per_plane=spp, phasing=phasing,
        pattern=pattern, min_elevation_deg=10.0, epoch=EPOCH, raan0_deg=raan0,
    )
    total = planes * spp
    assert len(c) == total
    r, _, err = propagate_arrays(c, EPOCH, frame="teme")
    assert np.all(err == 0)
    r = r[:, 0, :]
    # Circular at the requested altitude above the equatorial radius (float64: 1e-9 km).
    np.testing.assert_allclose(np.linalg.norm(r, axis=-1), RE_WGS84 + alt, atol=1e-9)

    spread = 360.0 if pattern == "delta" else 180.0
    # Angles below are measured from positions in float64: 1e-9 deg (~0.1 mm) tolerances.
    tol = 1e-9
    u0 = []
    for j in range(planes):
        idx = np.flatnonzero(c.plane == j)
        assert idx.size == spp
        order = idx[np.argsort(c.slot[idx])]
        raan, inc_m, u, n = _plane_geometry(r[order])
        # All satellites of the plane lie in it.
        np.testing.assert_allclose(r[order] @ n, 0.0, atol=1e-6)
        assert inc_m == pytest.approx(inc, abs=tol)
        assert _wrap_deg(raan - (raan0 + j * spread / planes)) == pytest.approx(0.0, abs=tol)
        # In-plane spacing 360/S, in slot order, in the direction of motion.
        np.testing.assert_allclose(_wrap_deg(np.diff(u) - 360.0 / spp), 0.0, atol=tol)
        u0.append(u[0])
    # Phasing: slot 0 of plane j+1 is F * 360 / T ahead of slot 0 of plane j.
    np.testing.assert_allclose(_wrap_deg(np.diff(u0) - phasing * 360.0 / total), 0.0, atol=tol)
    # Plane 0 slot 0 starts at the node.
    assert _wrap_deg(u0[0]) == pytest.approx(0.0, abs=tol)


BASE = dict(
    altitude_km=550.0, inclination_deg=53.0, planes=4, sats_per_plane=5, phasing=1,
    min_elevation_deg=25.0, epoch=EPOCH,
)


@pytest.mark.parametrize(
    "change",
    [
        {"inclination_deg": 181.0},
        {"inclination_deg": -1.0},
        {"inclination_deg": float("nan")},
        {"planes": 0},
        {"planes": 2.5},
        {"sats_per_plane": 0},
        {"phasing": 4},  # F = P
        {"phasing": -1},
        {"altitude_km": -100.0},
        {"altitude_km": 0.0},
        {"eccentricity": 1.0},
        {"eccentricity": -0.1},
        {"eccentricity": 0.5},  # perigee below the surface at 550 km
        {"pattern": "rosette"},
        {"min_elevation_deg": 90.0},
        {"min_elevation_deg": -5.0},
    ],
)
def test_walker_rejects_invalid(change):
    with pytest.raises(ValueError):
        walker(**{**BASE, **change})


def test_walker_accepts_edges():
    # Boundaries that are valid: equatorial, polar-retrograde limit, F = P - 1, one plane.
    for change in ({"inclination_deg": 0.0}, {"inclination_deg": 180.0}, {"phasing": 3}, {"planes": 1, "phasing": 0}):
        c = walker(**{**BASE, **change})
        assert len(c) == change.get("planes", 4) * 5


@pytest.mark.parametrize(
    "site_lat, site_lon, inc, ascending, when",
    [
        (28.56, -80.58, 51.9, True, "2025-03-01T12:34:56"),  # Cape Canaveral
        (28.56, -80.58, 51.9, False, "2025-03-01T12:34:56"),
        (45.92, 63.34, 51.6, True, "2030-07-15T23:59:59.5"),  # Baikonur
        (-31.0, 150.0, 97.5, True, "2026-01-01T00:00:00"),  # southern site, retrograde
        (5.24, -52.77, 5.24, True, "2027-06-01T03:00:00"),  # site latitude == inclination
    ],
)
def test_launch_plane_passes_over_site(site_lat, site_lon, inc, ascending, when):
    t = np.datetime64(when, "ns")
    raan, u = launch_plane(
        launch_time=t, site_lat_deg=site_lat, site_lon_deg=site_lon, inclination_deg=inc, ascending=ascending
    )
    assert 0.0 <= raan < 360.0 and 0.0 <= u < 360.0
    c = from_elements(
        a_km=RE_WGS84 + 500.0, e=0.0, inc_deg=inc, raan_deg=raan, argp_deg=0.0, mean_anomaly_deg=u,
        epoch=t, min_elevation_deg=10.0,
    )
    r, v, err = propagate_arrays(c, t, frame="ecef")
    assert np.all(err == 0)
    r, v = r[0, 0], v[0, 0]
    lat = math.degrees(math.asin(r[2] / np.linalg.norm(r)))
    lon = math.degrees(math.atan2(r[1], r[0]))
    # 0.01 deg (~1 km on the ground): the sub-satellite point is the site itself.
    assert lat == pytest.approx(site_lat, abs=0.01)
    assert _wrap_deg(lon - site_lon) == pytest.approx(0.0, abs=0.01)
    # Ascending passes head north (z velocity is frame-independent under a z rotation).
    if abs(site_lat) < inc - 0.5 and abs(site_lat) < 180 - inc - 0.5:
        assert (v[2] > 0) == ascending


@pytest.mark.parametrize("site_lat, inc", [(60.0, 51.9), (-60.0, 51.9), (28.56, 10.0), (45.0, 150.0)])
def test_launch_plane_unreachable_inclination(site_lat, inc):
    with pytest.raises(ValueError, match="latitude"):
        launch_plane(launch_time=EPOCH, site_lat_deg=site_lat, site_lon_deg=0.0, inclination_deg=inc)


# --- analysis.coverage against a brute-force count -----------------------------

# Positions in the dataset are float32: ~2 m at 27000 km, i.e. <= 4e-6 rad of
# elevation from >= 500 km away. Cells within 1e-5 rad of a mask are not compared.
EDGE_RAD = 1e-5


def _brute_counts(r_tsx, min_el_rad, lat_deg, lon_deg, earth_model="wgs84"):
    lat = np.radians(lat_deg)[:, None]
    lon = np.radians(lon_deg)[None, :]
    ghat = np.stack(np.broadcast_arrays(np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), -1)
    if earth_model == "sphere":
        g = MEAN_R * ghat
    else:  # geodetic (h = 0) on WGS84, ghat the ellipsoid normal (NIMA TR8350.2 Eq. 4-14)
        f = 1.0 / 298.257223563
        e2 = f * (2.0 - f)
        n = 6378.137 / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
        g = np.stack(np.broadcast_arrays(n * np.cos(lat) * np.cos(lon), n * np.cos(lat) * np.sin(lon),
                                         n * (1.0 - e2) * np.sin(lat)), -1)
    n_t, n_s, _ = r_tsx.shape
    counts = np.zeros((n_t,) + ghat.shape[:2], np.int64)
    edge = np.zeros(counts.shape, bool)
    for t in range(n_t):
        for s in range(n_s):
            d = r_tsx[t, s].astype(np.float64) - g
            el = np.arcsin(np.einsum("ijk,ijk->ij", d, ghat) / np.linalg.norm(d, axis=-1))
            counts[t] += el >= min_el_rad[s]
            edge[t] |= np.abs(el - min_el_rad[s]) < EDGE_RAD
    return counts, edge


def _three_orbits():
    """LEO, near-polar LEO and an eccentric MEO orbit, each with its own mask."""
    return from_elements(
        a_km=[RE_WGS84 + 550.0, RE_WGS84 + 1200.0, 26560.0],
        e=[0.0, 0.001, 0.1],
        inc_deg=[53.0, 87.9, 55.0],
        raan_deg=[0.0, 120.0, 250.0],
        argp_deg=[0.0, 90.0, 30.0],
        mean_anomaly_deg=[0.0, 45.0, 200.0],
        epoch=EPOCH,
        min_elevation_deg=[10.0, 25.0, 5.0],
    )


@pytest.mark.parametrize("earth_model", ["wgs84", "sphere"])
def test_analysis_coverage_matches_brute_force(earth_model):
    c = _three_orbits()
    times = EPOCH + np.arange(5) * np.timedelta64(10, "m") + np.timedelta64(3, "h")
    # Sampled figures: the percent of time below is checked against the sampled brute-force counts.
    ds = coverage(c, times, resolution_deg=5.0, progress=False, earth_model=earth_model, timing="sampled")

    pos = ds["sat_position_ecef"].values  # (time, sat, 3) float32
    assert pos.shape == (5, 3, 3)
    # The stored positions are the satellites' (float32 rounding: 1e-7 relative).
    r_ref, _, _ = propagate_arrays(c, times, frame="ecef")
    np.testing.assert_allclose(pos, np.swapaxes(r_ref, 0, 1), rtol=2e-7, atol=1e-3)

    lat, lon = ds["lat"].values, ds["lon"].values
    np.testing.assert_allclose(lat, -90 + 2.5 + 5 * np.arange(36))
    np.testing.assert_allclose(lon, -180 + 2.5 + 5 * np.arange(72))
    want, edge = _brute_counts(pos, np.radians([10.0, 25.0, 5.0]), lat, lon, earth_model)
    assert int(edge.sum()) <= 2, int(edge.sum())
    got = ds["visible_count"].values
    assert got.shape == want.shape
    same = (got == want) | edge
    assert same.all(), np.argwhere(~same)[:5]
    assert want.max() >= 1 and want.sum() > 100  # non-trivial case

    # Area weights: zone between latitude edges, (sin b - sin a) / 2 / n_lon on the sphere; on
    # WGS84 the surface element M N cos(lat) dlat (meridian and prime-vertical radii) integrated numerically.
    edges = np.radians(np.arange(-90, 91, 5.0))
    if earth_model == "sphere":
        w = np.diff(np.sin(edges)) / 2 / lon.size
    else:
        f = 1.0 / 298.257223563
        e2 = f * (2.0 - f)
        phi = np.linspace(-np.pi / 2, np.pi / 2, 360_001)
        dens = (1 - e2) * np.cos(phi) / (1 - e2 * np.sin(phi) ** 2) ** 2  # M N cos(lat) / a^2
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(phi))])
        zone = np.diff(np.interp(edges, phi, cum))
        w = zone / zone.sum() / lon.size
        np.testing.assert_allclose(ds["area_weight"].values, w, rtol=1e-8)
    covered = want > 0
    frac = np.einsum("tij,i->t", covered.astype(float), w)
    slack = np.einsum("tij,i->t", edge.astype(float), w)  # area of unjudged cells
    got_frac = ds["coverage_fraction"].values
    assert np.all(np.abs(got_frac - frac) <= slack + 1e-12), (got_frac, frac, slack)

    pct = 100.0 * covered.mean(axis=0)
    ok = ~edge.any(axis=0)
    np.testing.assert_allclose(ds["percent_time_covered"].values[ok], pct[ok], rtol=0, atol=1e-9)


def test_coverage_takes_a_start_and_duration_window_like_access():
    c = _three_orbits()
    times = EPOCH + np.arange(5) * np.timedelta64(10, "m") + np.timedelta64(3, "h")
    kw = dict(resolution_deg=5.0, progress=False, earth_model="sphere", timing="sampled")
    given = coverage(c, times, **kw)  # the shapes of the brute-force test: compiled once per process
    window = coverage(c, (str(times[0]) + "Z", "50min"), step_s=600, **kw)  # samples at 0, 10, ..., 40 min
    np.testing.assert_array_equal(window["time"].values, times)
    for name in ("visible_count", "percent_time_covered", "coverage_fraction"):
        np.testing.assert_array_equal(window[name].values, given[name].values)
    for bad in ("soon", "-1h"):
        with pytest.raises(ValueError, match=f"'{bad}'.* neither a duration .* nor a UTC time"):
            coverage(c, (str(times[0]), bad), **kw)
    with pytest.raises(ValueError, match="cannot read 'yesterday' as UTC times"):
        coverage(c, ("yesterday", "1h"), **kw)
