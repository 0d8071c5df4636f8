"""Bundled land fraction: global land share, known points, exact conservation under aggregation."""

import numpy as np
import pytest

from orbitjax.kernels.grid import Grid
from orbitjax.landmask import STORED_RESOLUTION_DEG, land_fraction
from orbitjax.scenario import bundled_data_dir


def _global_mean(frac: np.ndarray, res: float) -> float:
    return float((frac * Grid(res).cell_area_fraction()[:, None]).sum())


def _at(frac: np.ndarray, res: float, lat: float, lon: float) -> float:
    return float(frac[int((lat + 90.0) // res), int((lon + 180.0) // res)])


def test_file_is_small_and_bundled():
    path = bundled_data_dir() / "land_fraction_0p25deg.npz"
    assert path.exists()
    assert path.stat().st_size < 1_000_000


def test_stored_grid_shape_and_range():
    f = land_fraction(STORED_RESOLUTION_DEG)
    assert f.shape == (720, 1440)
    assert f.dtype == np.float64
    assert f.min() == 0.0 and f.max() == 1.0


def test_earth_land_fraction():
    # About 29 % of the Earth's surface is land (148.9e6 of 510.1e6 km^2, Antarctica
    # and lakes included). GLOBE counts most lakes as land; tolerance 1 percentage point.
    assert _global_mean(land_fraction(0.25), 0.25) == pytest.approx(0.29, abs=0.01)


@pytest.mark.parametrize(
    "lat, lon, land",
    [
        (23.0, 10.0, True),  # Sahara, Algeria/Niger
        (25.0, 25.0, True),  # Libyan desert
        (0.0, -150.0, False),  # mid-Pacific
        (-30.0, -120.0, False),  # south-east Pacific
        (30.0, -40.0, False),  # mid-Atlantic
        (-20.0, 80.0, False),  # Indian Ocean
        (-85.0, 0.0, True),  # Antarctica, polar plateau
        (-75.0, 120.0, True),  # East Antarctica
        (-25.0, 135.0, True),  # central Australia
        (60.0, 100.0, True),  # Siberia
        (75.0, -40.0, True),  # Greenland
        (88.0, 0.0, False),  # Arctic Ocean near the pole
    ],
)
def test_known_points(lat, lon, land):
    for res in (0.25, 1.0):
        value = _at(land_fraction(res), res, lat, lon)
        assert value == (1.0 if land else 0.0), (lat, lon, res, value)


def test_orientation_matches_grid():
    # Row 0 is the southern-most row: Antarctica all land, the northern-most row all sea.
    f = land_fraction(1.0)
    assert np.all(f[0] == 1.0)
    assert np.all(f[-1] == 0.0)
    # Column 0 starts at 180 W; the Pacific at the antimeridian near the equator is sea,
    # Africa at 20 E on the equator is land.
    assert f[90, 0] == 0.0 and f[90, 200] == 1.0


@pytest.mark.parametrize("res", [0.5, 1.0, 2.0, 2.5, 3.0, 5.0, 10.0, 45.0, 90.0, 180.0])
def test_aggregation_conserves_area_weighted_mean(res):
    fine = _global_mean(land_fraction(0.25), 0.25)
    coarse = land_fraction(res)
    assert coarse.shape == (Grid(res).n_lat, Grid(res).n_lon)
    assert _global_mean(coarse, res) == pytest.approx(fine, rel=1e-13, abs=0)
    assert coarse.min() >= 0.0 and coarse.max() <= 1.0 + 1e-15


def test_aggregation_is_block_area_mean():
    # Brute force one 2 deg cell: rows of 0.25 deg weighted by their WGS84 zone areas
    # (geodetic rows), the surface element M N cos(lat) dlat integrated with scipy quad.
    from scipy import integrate

    fine = land_fraction(0.25)
    coarse = land_fraction(2.0)
    i, j = 60, 100  # 30..32 N, 20..22 E
    rows = slice(8 * i, 8 * i + 8)
    edges = np.radians(-90.0 + 0.25 * np.arange(8 * i, 8 * i + 9))
    e2 = (1 / 298.257223563) * (2 - 1 / 298.257223563)
    dens = lambda p: np.cos(p) / (1 - e2 * np.sin(p) ** 2) ** 2  # noqa: E731
    w = np.array([integrate.quad(dens, a, b, epsabs=0, epsrel=1e-13)[0] for a, b in zip(edges[:-1], edges[1:])])
    expected = (fine[rows, 8 * j : 8 * j + 8] * w[:, None]).sum() / (w.sum() * 8)
    assert coarse[i, j] == pytest.approx(expected, rel=1e-14)


def test_returns_independent_copy():
    a = land_fraction(0.25)
    a[:] = -1
    assert land_fraction(0.25).min() == 0.0


@pytest.mark.parametrize("res", [0.1, 0.3, 0.125, 7.0, 0.0, -1.0, float("nan")])
def test_bad_resolution(res):
    with pytest.raises(ValueError, match="multiple|divide"):
        land_fraction(res)
