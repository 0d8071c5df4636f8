"""Coverage-count kernel against a brute-force elevation computation, on WGS84 and on the sphere.

The reference here never uses footprint angles or longitude intervals: for every
cell centre g and every satellite r it evaluates the topocentric elevation
asin(((r - g) . n) / |r - g|) and counts satellites at or above their own mask.
On WGS84, g is the geodetic (lat, lon, h = 0) point of the ellipsoid
(NIMA TR8350.2 Eq. 4-14: N = a / sqrt(1 - e^2 sin^2 lat)) and n its ellipsoid
normal; on the sphere g = R n with n radial. Counts must agree exactly, except at cells whose elevation
lies within ``EDGE_RAD`` of the mask, where the two float64 formulations may round
differently; the number of such cells is asserted to be (near) zero.

The spherical-cap check uses Wertz, "Space Mission Analysis and Design", 3rd ed.,
Eq. 5-26 (lam = arccos(R cos eps / r) - eps), written out in the test, and the
cap's area fraction (1 - cos lam) / 2.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitjax.kernels.coverage import coverage_counts, footprint_half_angle, footprint_lat_span, rows_per_footprint
from orbitjax.kernels.earth import MEAN_RADIUS_KM
from orbitjax.kernels.grid import make_grid

R = MEAN_RADIUS_KM
# Cells whose brute-force elevation is within 1e-9 rad (6 mm at 6000 km range) of
# the mask are ambiguous between two float64 formulations; all others must match.
EDGE_RAD = 1e-9


# --- independent reference ---------------------------------------------------


WGS84_A, WGS84_F = 6378.137, 1.0 / 298.257223563


def cell_points(grid, radius_km=R):
    """(lat, lon, 3) cell centres and (lat, lon, 3) unit up-vectors for the grid's Earth model."""
    lat = np.radians(grid.lat_deg)[:, None]
    lon = np.radians(grid.lon_deg)[None, :]
    ghat = np.stack(np.broadcast_arrays(np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), -1)
    if grid.earth_model == "sphere":
        return radius_km * ghat, ghat
    e2 = WGS84_F * (2.0 - WGS84_F)
    n = WGS84_A / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
    g = np.stack(np.broadcast_arrays(n * np.cos(lat) * np.cos(lon), n * np.cos(lat) * np.sin(lon),
                                     n * (1.0 - e2) * np.sin(lat)), -1)
    return g, ghat


def brute_force(r_km, min_el_rad, grid, radius_km=R):
    """(counts (time, lat, lon), edge (time, lat, lon) bool) by direct elevations.

    ``edge`` marks cells where some satellite's elevation is within EDGE_RAD of its mask.
    """
    r_km = np.asarray(r_km, np.float64)
    g, ghat = cell_points(grid, radius_km)
    n_sat, n_time, _ = r_km.shape
    counts = np.zeros((n_time, grid.n_lat, grid.n_lon), np.int64)
    edge = np.zeros((n_time, grid.n_lat, grid.n_lon), bool)
    for t in range(n_time):
        for s in range(n_sat):
            d = r_km[s, t] - g
            with np.errstate(invalid="ignore"):
                sin_el = np.einsum("ijk,ijk->ij", d, ghat) / np.linalg.norm(d, axis=-1)
                el = np.arcsin(np.clip(sin_el, -1.0, 1.0))
                counts[t] += el >= min_el_rad[s]
                edge[t] |= np.abs(el - min_el_rad[s]) < EDGE_RAD
    return counts, edge


def kernel(r_km, min_el_rad, grid, n_rows=None):
    r_km = np.asarray(r_km, np.float64)
    if n_rows is None:
        r_max = np.nanmax(np.linalg.norm(r_km, axis=-1))
        lam = float(footprint_lat_span(r_max, float(np.min(min_el_rad)), grid.earth_model))
        n_rows = rows_per_footprint(grid, max(lam, 0.0))
    out = coverage_counts(jnp.asarray(r_km), jnp.asarray(min_el_rad, jnp.float64), grid=grid, n_rows=n_rows)
    return np.asarray(out)


def assert_matches_brute(r_km, min_el_rad, grid, max_edge=0):
    got = kernel(r_km, min_el_rad, grid)
    want, edge = brute_force(r_km, np.asarray(min_el_rad), grid)
    assert got.shape == want.shape
    assert np.issubdtype(got.dtype, np.integer)
    n_edge = int(edge.sum())
    assert n_edge <= max_edge, f"{n_edge} cells within {EDGE_RAD} rad of a mask"
    bad = (got != want) & ~edge
    assert not bad.any(), (
        f"{int(bad.sum())} of {bad.size} cells differ; first at (t, i, j) = {np.argwhere(bad)[0]}, "
        f"kernel {got[bad][0]} vs brute force {want[bad][0]}"
    )
    return got, want, n_edge


def sat(lat_deg, lon_deg, r_km):
    la, lo = math.radians(lat_deg), math.radians(lon_deg)
    return np.array([r_km * math.cos(la) * math.cos(lo), r_km * math.cos(la) * math.sin(lo), r_km * math.sin(la)])


def random_sats(rng, n_sat, n_time, alt_lo=300.0, alt_hi=36000.0):
    v = rng.normal(size=(n_sat, n_time, 3))
    v /= np.linalg.norm(v, axis=-1, keepdims=True)
    alt = np.exp(rng.uniform(np.log(alt_lo), np.log(alt_hi), size=(n_sat, 1, 1)))
    return v * (R + alt)


# --- brute-force agreement ----------------------------------------------------


@pytest.fixture(params=["wgs84", "sphere"])
def earth(request):
    return request.param


def test_kernel_runs_under_strict_rank_promotion(earth):
    """conftest sets jax_numpy_rank_promotion='raise'; the kernel must not rely on implicit promotion."""
    assert jax.config.jax_numpy_rank_promotion == "raise"
    grid = make_grid(5.0, earth)
    r = jnp.asarray(sat(10.0, 20.0, R + 700.0)[None, None, :])
    coverage_counts(r, jnp.zeros(1), grid=grid, n_rows=rows_per_footprint(grid, 0.5))


@pytest.mark.parametrize("res", [2.0, 1.0, 0.5, 5.0, 3.0])
def test_random_satellites_match_brute_force(res, earth):
    rng = np.random.default_rng(int(res * 10))
    r = random_sats(rng, 12, 3)
    masks = np.radians(rng.uniform(0.0, 60.0, 12))
    masks[0] = 0.0
    got, _, _ = assert_matches_brute(r, masks, make_grid(res, earth))
    assert got.max() >= 2  # the case has overlapping footprints


def test_poles_and_near_poles(earth):
    grid = make_grid(1.0, earth)
    r = np.stack(
        [
            [0.0, 0.0, R + 550.0],  # exactly over the north pole
            [0.0, 0.0, -(R + 1200.0)],  # exactly over the south pole
            sat(89.99, 37.0, R + 800.0),
            sat(-89.7, -150.0, R + 500.0),
            sat(85.0, 100.0, R + 2000.0),  # footprint contains the pole off-centre
            sat(-80.0, -10.0, R + 20000.0),  # contains the south pole: whole rows
            sat(89.0, 179.95, R + 700.0),
        ]
    )[:, None, :]
    masks = np.radians([10.0, 0.0, 25.0, 5.0, 15.0, 10.0, 30.0])
    got, want, _ = assert_matches_brute(r, masks, grid)
    # Whole polar rows are covered where a footprint contains the pole.
    assert np.all(want[0, -1] >= 1) and np.all(want[0, 0] >= 1)
    assert np.all(got[0, -1] == got[0, -1, 0])  # rotationally symmetric single count rows


@pytest.mark.parametrize("res", [1.0, 0.5])
def test_antimeridian_and_lon_180(res, earth):
    grid = make_grid(res, earth)
    r = np.stack(
        [
            sat(10.0, 179.9, R + 600.0),
            sat(-20.0, -179.9, R + 900.0),
            np.array([-(R + 700.0), 0.0, 0.0]),  # lon exactly +180 (atan2(+0, -x) = pi)
            np.array([-(R + 1500.0), -0.0, 1000.0]),  # lon exactly -180 (atan2(-0, -x) = -pi)
            sat(0.0, 180.0 - res / 2, R + 550.0),  # over a column centre next to the seam
            sat(45.0, -180.0 + 1e-12, R + 3000.0),
        ]
    )[:, None, :]
    masks = np.radians([10.0, 0.0, 20.0, 5.0, 40.0, 10.0])
    got, want, _ = assert_matches_brute(r, masks, grid)
    # Coverage appears on both sides of the seam.
    assert want[0, :, 0].sum() > 0 and want[0, :, -1].sum() > 0


def test_equatorial_and_geo(earth):
    grid = make_grid(2.0, earth)
    r = np.stack(
        [
            sat(0.0, 0.0, R + 550.0),
            sat(0.0, 90.0, R + 35786.0 + 6.0),  # GEO, 0 deg mask: footprint half-angle ~81 deg
            sat(0.0, -75.0, R + 35786.0 + 6.0),
            sat(0.0, -120.0, 1e6),  # very far: footprint approaches a hemisphere
        ]
    )[:, None, :]
    masks = np.radians([0.0, 0.0, 5.0, 0.0])
    got, want, _ = assert_matches_brute(r, masks, grid)
    # Pairs overlap (GEO at -75 with the LEO and with the far satellite) but no cell
    # sees three: the GEOs at +90 and -75 are 165 deg apart, more than 81 + 76 deg.
    assert got.max() == 2


def test_inside_earth_or_nan_contributes_nothing(earth):
    grid = make_grid(2.0, earth)
    good = sat(30.0, 40.0, R + 800.0)
    r = np.stack(
        [
            good,
            sat(10.0, 10.0, R - 1.0),  # just below the surface
            sat(-30.0, 100.0, 0.5 * R),
            np.array([np.nan, np.nan, np.nan]),
            np.array([np.nan, 1.0, 2.0]),
            np.array([0.0, 0.0, 0.0]),  # at the centre (0/0 inside the kernel)
        ]
    )[:, None, :]
    masks = np.radians([10.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    got, want, _ = assert_matches_brute(r, masks, grid)
    alone = kernel(good[None, None, :], masks[:1], grid)
    np.testing.assert_array_equal(got, alone)
    assert got.sum() > 0


def test_too_few_rows_drops_coverage(earth):
    grid = make_grid(1.0, earth)
    r = np.stack([sat(20.0, 30.0, R + 1500.0), sat(-50.0, -60.0, R + 8000.0)])[:, None, :]
    masks = np.radians([5.0, 10.0])
    want, edge = brute_force(r, masks, grid)
    assert edge.sum() == 0
    lam = float(footprint_lat_span(np.max(np.linalg.norm(r, axis=-1)), masks.min(), earth))
    n_rows = rows_per_footprint(grid, lam)
    # The derived value is exact ...
    np.testing.assert_array_equal(kernel(r, masks, grid, n_rows=n_rows), want)
    # ... and a guess well below it loses the footprints' far rows.
    short = kernel(r, masks, grid, n_rows=n_rows // 2)
    assert short.sum() < want.sum()
    assert np.all(short <= want)


# --- spherical cap area -----------------------------------------------------


def cap_fraction(r_km, eps_rad, radius_km=R):
    """Area fraction of the sphere seeing the satellite: Wertz Eq. 5-26 and (1 - cos lam) / 2."""
    lam = math.acos(radius_km * math.cos(eps_rad) / r_km) - eps_rad
    return (1.0 - math.cos(lam)) / 2.0


@pytest.mark.parametrize("alt_km, mask_deg", [(1000.0, 10.0), (35786.0, 0.0)])
def test_covered_area_converges_to_cap(alt_km, mask_deg):
    r_km = R + alt_km
    rng = np.random.default_rng(7)
    r = random_sats(rng, 1, 6, alt_km, alt_km)  # six random sub-satellite points, one altitude
    eps = np.radians([mask_deg])
    expected = cap_fraction(r_km, eps[0])
    errors = {}
    for res in (1.0, 0.5, 0.25):
        grid = make_grid(res, "sphere")
        covered = kernel(r, eps, grid) > 0  # (time, lat, lon)
        area = np.einsum("tij,i->t", covered.astype(float), grid.cell_area_fraction())
        errors[res] = float(np.mean(np.abs(area / expected - 1.0)))
    # Boundary cells are each in or out by their centre. Worst case the whole band of
    # cells the cap's edge crosses is wrong: ~ sqrt(2) res sin(lam) / (1 - cos lam),
    # 3 % at 0.25 deg for lam = 22 deg. In and out errors cancel along the edge, so
    # the typical error scales like (res / lam)^1.5 (~0.1 %): require < 0.5 %.
    assert errors[0.25] < 0.005, errors
    assert errors[0.25] < errors[1.0], errors


# --- properties -------------------------------------------------------------


def test_jit_matches_eager(earth):
    grid = make_grid(5.0, earth)
    rng = np.random.default_rng(3)
    r = jnp.asarray(random_sats(rng, 5, 2))
    masks = jnp.asarray(np.radians(rng.uniform(0, 40, 5)))
    n_rows = rows_per_footprint(grid, float(footprint_lat_span(float(jnp.max(jnp.linalg.norm(r, axis=-1))), 0.0, earth)))
    jitted = np.asarray(coverage_counts(r, masks, grid=grid, n_rows=n_rows))
    with jax.disable_jit():
        eager = np.asarray(coverage_counts(r, masks, grid=grid, n_rows=n_rows))
    np.testing.assert_array_equal(jitted, eager)


def _scatter_dtypes(jaxpr):
    """Operand dtypes of every scatter-add in a jaxpr (sub-jaxprs included)."""
    found = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "scatter-add":
            found.append(eqn.invars[0].aval.dtype)
        for v in eqn.params.values():
            for sub in v if isinstance(v, (tuple, list)) else (v,):
                sub = getattr(sub, "jaxpr", sub)  # ClosedJaxpr -> Jaxpr
                if hasattr(sub, "eqns"):
                    found += _scatter_dtypes(sub)
    return found


@pytest.mark.parametrize("region", [False, True])
def test_gpu_scatter_accumulates_in_int32_and_counts_agree(region, monkeypatch):
    """On a GPU backend the int16 counts are scatter-added in int32 (XLA's GPU int16 scatter-add
    is a compare-and-swap loop) and cast back: the counts and their int16 dtype are unchanged.
    The backend is faked, so the int32 path runs (and is compared) on the CPU."""
    from orbitjax.kernels import _scatter

    grid = make_grid(3.0, region=(-30.0, 42.0, 21.0, 120.0)) if region else make_grid(3.0)
    rng = np.random.default_rng(11)
    r = jnp.asarray(random_sats(rng, 9, 3, alt_hi=2000.0))
    masks = jnp.asarray(np.radians(rng.uniform(0, 30, 9)))
    n_rows = rows_per_footprint(grid, float(footprint_lat_span(float(jnp.max(jnp.linalg.norm(r, axis=-1))), 0.0)))
    def counts(r, masks):  # a new function each time: no trace cached under the other backend
        return coverage_counts.__wrapped__(r, masks, grid=grid, n_rows=n_rows)

    on_cpu = counts(r, masks)
    assert _scatter_dtypes(jax.make_jaxpr(counts)(r, masks).jaxpr) == [jnp.int16]
    monkeypatch.setattr(_scatter.jax, "default_backend", lambda: "gpu")

    def counts(r, masks):  # noqa: F811
        return coverage_counts.__wrapped__(r, masks, grid=grid, n_rows=n_rows)

    assert _scatter_dtypes(jax.make_jaxpr(counts)(r, masks).jaxpr) == [jnp.int32]
    on_gpu_path = counts(r, masks)
    assert on_gpu_path.dtype == jnp.int16
    np.testing.assert_array_equal(np.asarray(on_gpu_path), np.asarray(on_cpu))
    assert np.asarray(on_cpu).any()


def test_chunking_in_time_does_not_change_counts(earth):
    grid = make_grid(2.0, earth)
    rng = np.random.default_rng(5)
    r = random_sats(rng, 8, 6)
    masks = np.radians(rng.uniform(0, 30, 8))
    lam = float(footprint_lat_span(np.max(np.linalg.norm(r, axis=-1)), masks.min(), earth))
    n_rows = rows_per_footprint(grid, lam)
    whole = kernel(r, masks, grid, n_rows=n_rows)
    chunks = np.concatenate([kernel(r[:, i : i + 2], masks, grid, n_rows=n_rows) for i in (0, 2, 4)])
    np.testing.assert_array_equal(whole, chunks)
    single = np.concatenate([kernel(r[:, i : i + 1], masks, grid, n_rows=n_rows) for i in range(6)])
    np.testing.assert_array_equal(whole, single)


_MONO_GRID = make_grid(5.0)
_MONO_RMAX = R + 40000.0
_MONO_ROWS = rows_per_footprint(_MONO_GRID, float(footprint_lat_span(_MONO_RMAX, 0.0)))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    base_deg=st.lists(st.floats(0.0, 60.0), min_size=4, max_size=4),
    rise_deg=st.lists(st.floats(0.0, 29.0), min_size=4, max_size=4),
)
def test_counts_never_increase_as_mask_rises(seed, base_deg, rise_deg):
    rng = np.random.default_rng(seed)
    r = jnp.asarray(random_sats(rng, 4, 2, 300.0, 40000.0))
    lo = np.radians(base_deg)
    hi = lo + np.radians(rise_deg)
    c_lo = np.asarray(coverage_counts(r, jnp.asarray(lo), grid=_MONO_GRID, n_rows=_MONO_ROWS))
    c_hi = np.asarray(coverage_counts(r, jnp.asarray(hi), grid=_MONO_GRID, n_rows=_MONO_ROWS))
    assert np.all(c_hi <= c_lo)
    assert np.all(c_lo >= 0) and np.all(c_lo <= 4)
