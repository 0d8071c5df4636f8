"""Regional grids: the coverage kernel on a box against brute-force WGS84 elevations.

The reference never uses footprints, rows or longitude intervals: for every cell
centre of the box (geodetic latitude and longitude, height 0 on the WGS84
ellipsoid, NIMA TR8350.2 Eq. 4-14: N = a / sqrt(1 - e^2 sin^2 lat)) and every
satellite it evaluates the topocentric elevation asin(((r - g) . n) / |r - g|)
with n the ellipsoid normal, and counts satellites at or above their mask. Cells
whose elevation lies within EDGE_RAD of a mask may round either way and are
excluded (their number is asserted to be zero here).

Boxes touch the north and the south pole, cross the antimeridian (both at once
too), go all the way round (a polar cap), and use a resolution that divides the
box but not 360 deg.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

from orbitjax.kernels.coverage import coverage_counts, footprint_lat_span, rows_per_footprint
from orbitjax.kernels.grid import make_grid

A_KM, F = 6378.137, 1.0 / 298.257223563
E2 = F * (2.0 - F)
R = 6371.0088
EDGE_RAD = 1e-9


def brute_force(r_km, min_el_rad, lat_deg, lon_deg, earth="wgs84"):
    """(time, lat, lon) counts and the mask-edge cells, by direct elevations at every cell centre."""
    lat = np.radians(lat_deg)[:, None]
    lon = np.radians(lon_deg)[None, :]
    up = np.stack(np.broadcast_arrays(np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), -1)
    if earth == "sphere":
        g = R * up
    else:
        n = A_KM / np.sqrt(1.0 - E2 * np.sin(lat) ** 2)
        g = np.stack(np.broadcast_arrays(n * np.cos(lat) * np.cos(lon), n * np.cos(lat) * np.sin(lon),
                                         n * (1.0 - E2) * np.sin(lat)), -1)
    n_sat, n_time, _ = r_km.shape
    counts = np.zeros((n_time,) + g.shape[:2], np.int64)
    edge = np.zeros(counts.shape, bool)
    for t in range(n_time):
        for s in range(n_sat):
            d = r_km[s, t] - g
            with np.errstate(invalid="ignore"):
                el = np.arcsin(np.clip(np.einsum("ijk,ijk->ij", d, up) / np.linalg.norm(d, axis=-1), -1, 1))
            counts[t] += el >= min_el_rad[s]
            edge[t] |= np.abs(el - min_el_rad[s]) < EDGE_RAD
    return counts, edge


def sat(lat_deg, lon_deg, r_km):
    la, lo = math.radians(lat_deg), math.radians(lon_deg)
    return np.array([r_km * math.cos(la) * math.cos(lo), r_km * math.cos(la) * math.sin(lo), r_km * math.sin(la)])


def kernel(r_km, min_el_rad, grid):
    lam = float(footprint_lat_span(np.nanmax(np.linalg.norm(r_km, axis=-1)), float(np.min(min_el_rad)),
                                   grid.earth_model))
    out = coverage_counts(jnp.asarray(r_km), jnp.asarray(min_el_rad), grid=grid,
                          n_rows=rows_per_footprint(grid, max(lam, 0.0)))
    return np.asarray(out)


def check(r_km, min_el_rad, grid):
    got = kernel(r_km, min_el_rad, grid)
    want, edge = brute_force(r_km, min_el_rad, grid.lat_deg, grid.lon_deg, grid.earth_model)
    assert got.shape == want.shape == (r_km.shape[1], grid.n_lat, grid.n_lon)
    assert int(edge.sum()) == 0
    bad = got != want
    assert not bad.any(), f"{int(bad.sum())} cells differ, first at {np.argwhere(bad)[0]}"
    return got


def sats_around(box, rng, n=24):
    """Satellites over, near and far from a box, LEO to GEO, plus exactly polar ones."""
    s, nn, w, e = box
    width = (e - w) % 360 or 360
    out = []
    for _ in range(n):
        lat = rng.uniform(max(-90, s - 25), min(90, nn + 25))
        lon = w + rng.uniform(-20, width + 20)
        alt = float(np.exp(rng.uniform(np.log(350.0), np.log(1500.0 if _ % 8 else 20000.0))))
        out.append(sat(lat, lon, R + alt))
    out.append(np.array([0.0, 0.0, R + 600.0]))
    out.append(np.array([0.0, 0.0, -(R + 900.0)]))
    out.append(sat(0.0, rng.uniform(-180, 180), R + 35786.0))
    return np.stack(out)


BOXES = [
    ((70.0, 90.0, -30.0, 40.0), 0.5),  # touches the north pole
    ((-20.0, 30.0, 170.0, -170.0), 0.25),  # crosses the antimeridian
    ((-90.0, -60.0, 150.0, -120.0), 0.5),  # touches the south pole and crosses the antimeridian
    ((60.0, 90.0, -180.0, 180.0), 1.0),  # a polar cap all the way round
    ((10.0, 12.1, 20.0, 22.8), 0.7),  # a resolution that divides the box but not 360
    ((24.0, 50.0, -125.0, -66.0), 0.5),  # CONUS
]


CASES = [(box, res, "wgs84") for box, res in BOXES] + [(BOXES[2][0], BOXES[2][1], "sphere"),
                                                        (BOXES[4][0], BOXES[4][1], "sphere")]


@pytest.mark.parametrize("box,res,earth", CASES)
def test_box_matches_brute_force(box, res, earth):
    grid = make_grid(res, earth, region=box)
    rng = np.random.default_rng(int(res * 100) + int(box[0]) + 100)
    r = np.stack([sats_around(box, rng) for _ in range(2)], axis=1)  # (sat, 2, 3)
    masks = np.radians(rng.uniform(0.0, 50.0, r.shape[0]))
    got = check(r, masks, grid)
    assert got.max() >= 2 and got.min() < got.max() - 1  # overlaps and footprint edges inside the box


def test_box_is_the_global_grid_cropped():
    """An aligned box gives the same counts as the global grid at the same cells (both kernel outputs)."""
    box = (-30.0, 20.0, 160.0, -150.0)
    rng = np.random.default_rng(3)
    r = sats_around(box, rng, 40)[:, None, :]
    masks = np.radians(rng.uniform(0.0, 40.0, r.shape[0]))
    regional = kernel(r, masks, make_grid(1.0, region=box))
    glob = kernel(r, masks, make_grid(1.0))
    rows = slice(60, 110)
    cols = np.r_[340:360, 0:30]
    np.testing.assert_array_equal(regional, glob[:, rows][:, :, cols])
    assert regional.sum() > 0


def test_footprint_wider_than_the_box_both_pieces():
    """A footprint wrapping round the circle of latitude meets a wide box in two pieces."""
    box = (75.0, 85.0, -170.0, 160.0)  # 330 deg wide: a 30 deg hole across the antimeridian
    grid = make_grid(1.0, region=box)
    r = np.stack([sat(88.0, 175.0, R + 1200.0), sat(80.0, -100.0, R + 20000.0)])[:, None, :]
    got = check(r, np.radians([5.0, 0.0]), grid)
    row = got[0, 5]
    assert row[0] >= 1 and row[-1] >= 1  # both ends of the box's rows see the first satellite


@pytest.mark.parametrize("bad,match", [
    ((10, 5, 0, 10), "south < north"),
    ((-95, 5, 0, 10), "south < north"),
    ((0, 10, 5, 5), "west and east are equal"),
    ((0, 10, 0, "x"), "four numbers"),
    ((0, 10, 0), "four numbers"),
    ((0, float("nan"), 0, 10), "non-finite"),
    ((0, 10, 0, 400), r"longitudes must lie in \[-180, 360\]"),  # a fuzz find: silently became 0..40
    ((0, 10, -200, 10), "longitudes must lie"),
])
def test_bad_boxes(bad, match):
    with pytest.raises(ValueError, match=match):
        make_grid(1.0, region=bad)


def test_resolution_must_divide_the_box():
    with pytest.raises(ValueError, match="must divide the region box"):
        make_grid(0.3, region=(0.0, 1.0, 0.0, 0.9))
    with pytest.raises(ValueError, match="finer than"):
        make_grid(0.005, region=(0.0, 1.0, 0.0, 1.0))
    g = make_grid(0.01, region=(45.0, 45.5, 6.0, 6.7))
    assert (g.n_lat, g.n_lon) == (50, 70)


def test_box_normalisation_and_areas():
    g = make_grid(1.0, region=(-10, 10, 170, -170))
    assert g.box == (-10.0, 10.0, 170.0, 190.0)
    np.testing.assert_allclose(g.lon_deg[[0, -1]], [170.5, 189.5])
    assert make_grid(1.0, region=(-90, 90, -180, 180)).is_global
    # Cell areas of a box are those of the same rows of the global grid.
    glob = make_grid(1.0).cell_area_fraction()
    np.testing.assert_allclose(g.cell_area_fraction(), glob[80:100], rtol=1e-12)
