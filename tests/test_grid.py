"""Grid geometry: accepted resolutions, cell areas against the zone-area formula.

References are closed forms written here: a latitude zone between a < b covers
(sin b - sin a) / 2 of a sphere (Archimedes' hat-box theorem), split evenly over
the row's columns.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from orbitjax.kernels.grid import Grid, make_grid

GOOD = [1.0, 0.5, 0.25, 2.0, 3.0, 5.0]


@pytest.mark.parametrize("res", GOOD)
def test_make_grid_accepts_divisors_of_180(res):
    grid = make_grid(res)
    assert isinstance(grid, Grid)
    assert grid.resolution_deg == pytest.approx(res, rel=0, abs=1e-12)
    assert grid.n_lat == round(180 / res)
    assert grid.n_lon == round(360 / res)
    assert grid.lat_deg.shape == (grid.n_lat,)
    assert grid.lon_deg.shape == (grid.n_lon,)


@pytest.mark.parametrize("bad", [0, 0.0, -1, -1.0, 0.7, float("nan"), float("inf"), 7.0, 360.0])
def test_make_grid_rejects(bad):
    with pytest.raises(ValueError, match="resolution"):
        make_grid(bad)


@pytest.mark.parametrize("res", GOOD)
def test_cell_area_fractions_sum_to_one(res):
    grid = make_grid(res)
    area = grid.cell_area_fraction()
    # float64 summation of <= 720 rows x 1440 columns: well below 1e-12.
    assert float(np.sum(area) * grid.n_lon) == pytest.approx(1.0, abs=1e-12)
    assert np.all(area > 0)


@pytest.mark.parametrize("res", GOOD)
def test_row_area_is_zone_area(res):
    grid = make_grid(res, "sphere")
    area = grid.cell_area_fraction()
    for i in range(grid.n_lat):
        a = math.radians(-90.0 + i * res)
        b = math.radians(-90.0 + (i + 1) * res)
        expected = (math.sin(b) - math.sin(a)) / (2.0 * grid.n_lon)
        # Relative 1e-9: two sines and a difference of nearby values in float64;
        # the polar rows lose up to ~5 digits to cancellation at 0.25 deg.
        assert area[i] == pytest.approx(expected, rel=1e-9, abs=1e-16)
    # Hemispheres are symmetric.
    np.testing.assert_allclose(area, area[::-1], rtol=1e-9)


@pytest.mark.parametrize("res", [1.0, 5.0])
def test_wgs84_row_area_is_ellipsoid_zone_area(res):
    # Independent: the ellipsoid's surface element M N cos(lat) dlat integrated with scipy quad
    # (NIMA TR8350.2: M = a (1 - e2) / W^3, N = a / W, W = sqrt(1 - e2 sin^2 lat)).
    from scipy import integrate

    f = 1.0 / 298.257223563
    e2 = f * (2.0 - f)
    dens = lambda p: (1 - e2) * math.cos(p) / (1 - e2 * math.sin(p) ** 2) ** 2  # noqa: E731
    total = integrate.quad(dens, -math.pi / 2, math.pi / 2, epsabs=0, epsrel=1e-13)[0]
    grid = make_grid(res)
    area = grid.cell_area_fraction()
    for i in range(grid.n_lat):
        a, b = math.radians(-90.0 + i * res), math.radians(-90.0 + (i + 1) * res)
        expected = integrate.quad(dens, a, b, epsabs=0, epsrel=1e-13)[0] / total / grid.n_lon
        assert area[i] == pytest.approx(expected, rel=1e-9, abs=1e-16)
    # Flatter near the poles (larger radius of curvature): a polar geodetic row holds more area
    # than the same row of a sphere.
    assert area[0] > make_grid(res, "sphere").cell_area_fraction()[0]


@pytest.mark.parametrize("res", GOOD)
def test_centres_off_poles_and_antimeridian(res):
    grid = make_grid(res)
    lat, lon = grid.lat_deg, grid.lon_deg
    # Centres sit half a cell from the edges: at least res/2 (minus rounding) from
    # the poles and from +-180.
    margin = res / 2 - 1e-9
    assert np.all(np.abs(lat) <= 90.0 - margin)
    assert np.all(np.abs(lon) <= 180.0 - margin)
    assert np.all(np.abs(np.abs(lon) - 180.0) >= margin)
    # Regularly spaced by res, symmetric about 0.
    np.testing.assert_allclose(np.diff(lat), res, atol=1e-9)
    np.testing.assert_allclose(np.diff(lon), res, atol=1e-9)
    np.testing.assert_allclose(lat, -lat[::-1], atol=1e-9)
    np.testing.assert_allclose(lon, -lon[::-1], atol=1e-9)
