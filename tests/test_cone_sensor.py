"""Nadir-cone sensors: the per-row interval kernel against a brute-force cone test.

The reference never uses longitude intervals or roots: for every cell centre c
(WGS84 geodetic point at h = 0, NIMA TR8350.2 Eq. 4-14, or a sphere point) and
every satellite s it evaluates, in float64,

- the elevation asin(((s - c) . n) / |s - c|) with n the ellipsoid normal, and
- the off-nadir angle arccos(((c - s) . (-s)) / (|c - s| |s|)),

and counts the satellite when the elevation is at least the mask and the
off-nadir angle at most the cone half-angle. Counts must agree exactly except at
cells within EDGE_RAD of either threshold (rounding of two float64 formulations).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitjax.kernels.coverage import cone_limit_rad, coverage_counts, footprint_lat_span, rows_per_footprint
from orbitjax.kernels.earth import MEAN_RADIUS_KM
from orbitjax.kernels.grid import make_grid

R = MEAN_RADIUS_KM
WGS84_A, WGS84_F = 6378.137, 1.0 / 298.257223563
EDGE_RAD = 1e-9


def cell_points(grid):
    lat = np.radians(grid.lat_deg)[:, None]
    lon = np.radians(grid.lon_deg)[None, :]
    up = np.stack(np.broadcast_arrays(np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), -1)
    if grid.earth_model == "sphere":
        return R * up, up
    e2 = WGS84_F * (2.0 - WGS84_F)
    n = WGS84_A / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
    c = np.stack(np.broadcast_arrays(n * np.cos(lat) * np.cos(lon), n * np.cos(lat) * np.sin(lon),
                                     n * (1.0 - e2) * np.sin(lat)), -1)
    return c, up


def brute_force(r_km, min_el_rad, half_angle_rad, grid):
    """(counts, edge) by direct elevation and off-nadir angles of every cell for every satellite."""
    c, up = cell_points(grid)
    n_sat, n_time, _ = r_km.shape
    counts = np.zeros((n_time, grid.n_lat, grid.n_lon), np.int64)
    edge = np.zeros(counts.shape, bool)
    for t in range(n_time):
        for j in range(n_sat):
            s = r_km[j, t]
            d = s - c
            dist = np.linalg.norm(d, axis=-1)
            el = np.arcsin(np.clip(np.einsum("ijk,ijk->ij", d, up) / dist, -1, 1))
            off = np.arccos(np.clip(np.einsum("ijk,k->ij", d, s) / (dist * np.linalg.norm(s)), -1, 1))
            ok = el >= min_el_rad[j]
            near = np.abs(el - min_el_rad[j]) < EDGE_RAD
            if np.isfinite(half_angle_rad[j]):
                ok &= off <= half_angle_rad[j]
                near |= np.abs(off - half_angle_rad[j]) < EDGE_RAD
            counts[t] += ok
            edge[t] |= near
    return counts, edge


def kernel(r_km, min_el_rad, half_angle_rad, grid, n_rows=None):
    if n_rows is None:
        r_max = float(np.max(np.linalg.norm(r_km, axis=-1)))
        n_rows = rows_per_footprint(grid, float(footprint_lat_span(r_max, float(np.min(min_el_rad)), grid.earth_model)))
    out = coverage_counts(jnp.asarray(r_km), jnp.asarray(min_el_rad), grid=grid, n_rows=n_rows,
                          half_angle_rad=jnp.asarray(half_angle_rad))
    return np.asarray(out)


def check(r_km, min_el_rad, half_angle_rad, grid, max_edge=0, n_rows=None):
    got = kernel(r_km, min_el_rad, half_angle_rad, grid, n_rows)
    want, edge = brute_force(r_km, min_el_rad, half_angle_rad, grid)
    assert int(edge.sum()) <= max_edge
    bad = (got != want) & ~edge
    assert not bad.any(), f"{int(bad.sum())} cells differ, first {np.argwhere(bad)[0]}: {got[bad][0]} vs {want[bad][0]}"
    return got, want


def random_positions(rng, n_sat, n_time, alt_lo, alt_hi):
    v = rng.normal(size=(n_sat, n_time, 3))
    v /= np.linalg.norm(v, axis=-1, keepdims=True)
    alt = rng.uniform(alt_lo, alt_hi, size=(n_sat, 1, 1))
    return v * (WGS84_A + alt)


@pytest.mark.parametrize("earth", ["wgs84", "sphere"])
def test_cone_matches_brute_force(earth):
    """LEO to GEO, cones from 5 deg to just under the limb limit, masks 0-40 deg, 2 deg grid."""
    rng = np.random.default_rng(7)
    grid = make_grid(2.0, earth)
    r = random_positions(rng, 24, 3, 300.0, 36000.0)
    r_max = float(np.max(np.linalg.norm(r, axis=-1)))
    limit = cone_limit_rad(r_max, earth)
    half = rng.uniform(np.radians(5.0), limit * 0.999, 24)
    half[::6] = np.nan  # some satellites without a cone
    mask = np.radians(rng.choice([0.0, 10.0, 25.0, 40.0], 24))
    got, want = check(r, mask, half, grid)
    assert want.sum() > 1000  # the test covers many cells
    # The cone must actually bind: fewer cells than with the elevation mask alone.
    assert want.sum() < brute_force(r, mask, np.full(24, np.nan), grid)[0].sum()


def test_cone_near_poles_and_limit():
    """Satellites over (and near) the poles, where rows are full or empty, and cones at the limb limit."""
    grid = make_grid(1.0)
    lat = np.radians([90.0, 89.9, -89.5, 85.0, -60.0, 0.0])
    lon = np.radians([0.0, 40.0, -170.0, 179.9, 12.0, -179.95])
    alt = np.array([550.0, 1200.0, 8000.0, 550.0, 20000.0, 700.0])
    r_s = WGS84_A + alt
    r = np.stack([r_s * np.cos(lat) * np.cos(lon), r_s * np.cos(lat) * np.sin(lon), r_s * np.sin(lat)], -1)[:, None, :]
    limit = cone_limit_rad(float(r_s.max()))
    half = np.array([np.radians(45.0), np.radians(60.0), limit * 0.9999, np.radians(30.0), np.radians(5.0), np.radians(1.0)])
    # The satellite-specific limit is larger for lower satellites: use each one's own limit near the edge.
    half[0] = cone_limit_rad(float(r_s[0])) * 0.9999
    check(r, np.zeros(6), half, grid)


@settings(max_examples=25, deadline=None)
@given(
    lat=st.floats(-90.0, 90.0),
    lon=st.floats(-180.0, 180.0),
    alt=st.floats(200.0, 40000.0),
    frac=st.floats(0.01, 0.999),
    mask=st.floats(0.0, 60.0),
)
def test_cone_single_satellite_property(lat, lon, alt, frac, mask):
    """Any position, any cone up to its limit, any mask: the kernel equals the brute force (5 deg grid)."""
    grid = make_grid(5.0)
    la, lo, rs = np.radians(lat), np.radians(lon), WGS84_A + alt
    r = np.array([[[rs * np.cos(la) * np.cos(lo), rs * np.cos(la) * np.sin(lo), rs * np.sin(la)]]])
    half = np.array([frac * cone_limit_rad(rs)])
    check(r, np.radians([mask]), half, grid, max_edge=1, n_rows=grid.n_lat)  # all rows: one compile


@pytest.mark.parametrize("earth", ["wgs84", "sphere"])
def test_cone_central_angle_bound_holds(earth):
    """Every cell the brute force puts inside a cone lies within the kernels' central-angle bound
    (used to pick candidate satellites between samples), and the bound is not loose by more than a cell."""
    from orbitjax.kernels.coverage import _cap_bound

    rng = np.random.default_rng(11)
    grid = make_grid(1.0, earth)
    r = random_positions(rng, 16, 1, 300.0, 36000.0)
    rs = np.linalg.norm(r[:, 0], axis=-1)
    half = np.array([rng.uniform(0.02, 0.999) * cone_limit_rad(x, earth) for x in rs])
    c, up = cell_points(grid)
    for j in range(16):
        ok, _ = brute_force(r[j:j + 1], np.zeros(1), half[j:j + 1], grid)
        s_hat = r[j, 0] / rs[j]
        central = np.arccos(np.clip(np.einsum("ijk,k->ij", c / np.linalg.norm(c, axis=-1, keepdims=True), s_hat), -1, 1))
        bound = float(_cap_bound(jnp.asarray(rs[j]), jnp.asarray(0.0), grid, R, jnp.asarray(half[j])))
        assert central[ok[0] > 0].max() <= bound + 1e-12
        assert central[ok[0] > 0].max() >= bound - np.radians(1.5)
