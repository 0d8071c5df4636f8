"""Area-weighted summaries against brute-force spherical integration and closed forms."""

import numpy as np
import pytest
import xarray as xr
from scipy import integrate

from orbitjax.io.dataset import FIGURES_OF_MERIT, LAT, LON, coverage_dataset
from orbitjax.kernels.grid import Grid
from orbitjax.landmask import land_fraction
from orbitjax.summaries import (
    SUMMARY_KEYS,
    area_mean,
    area_weights,
    continuous_band,
    latitude_profile,
    regrid_weights,
    summary_table,
)

DEG = np.pi / 180.0


def field(res, values=None, seed=0, earth_model="sphere"):
    """A (lat, lon) field; its lat attributes say geocentric (sphere) unless earth_model is wgs84."""
    g = Grid(res)
    if values is None:
        values = np.random.default_rng(seed).uniform(0, 100, (g.n_lat, g.n_lon))
    da = xr.DataArray(values, dims=(LAT, LON), coords={LAT: g.lat_deg, LON: g.lon_deg}, name="f")
    if earth_model == "sphere":
        da[LAT].attrs["long_name"] = "cell-centre latitude (geocentric, spherical Earth)"
    return da


def stage_dataset(res=5.0, seed=0, ptc=None, sweep=None, attrs=None, n_time=12):
    g = Grid(res, "sphere")
    rng = np.random.default_rng(seed)
    lead = () if sweep is None else (len(sweep),)
    shape = lead + (g.n_lat, g.n_lon)
    figs = {name: rng.uniform(0, 100, shape) for name in FIGURES_OF_MERIT if name != "percent_time_covered_n"}
    figs["percent_time_covered_n"] = rng.uniform(0, 100, lead + (2, g.n_lat, g.n_lon))
    if ptc is not None:
        figs["percent_time_covered"] = np.broadcast_to(ptc, shape).copy()
    return coverage_dataset(
        times=np.datetime64("2025-07-16T00:00") + np.arange(n_time) * np.timedelta64(60, "s"),
        lat_deg=g.lat_deg,
        lon_deg=g.lon_deg,
        area_weight=g.cell_area_fraction(),
        sat_names=np.array(["S1", "S2", "S3"]),
        min_elevation_deg=np.full(3, 35.0),
        earth_model="sphere",
        coverage_fraction=rng.uniform(0, 1, lead + (n_time,)),
        figures=figs,
        n_assets=(1, 2),
        elevation_sweep_deg=sweep,
        attrs={"stage": 1, "stage_name": "KF-01", "stage_date": "2025-07-16T06:30:00Z", "n_satellites": 24,
               "launches_included": "KF-01", "scenario": "test", **(attrs or {})},
    )


# --------------------------------------------------------------------------- area weights and means


@pytest.mark.parametrize("res", [0.25, 1.0, 2.5, 15.0])
@pytest.mark.parametrize("earth_model", ["wgs84", "sphere"])
def test_area_weights_match_grid(res, earth_model):
    g = Grid(res, earth_model)
    w = area_weights(g.lat_deg, g.lon_deg, earth_model)
    np.testing.assert_allclose(w.values, g.cell_area_fraction(), rtol=1e-13)
    assert float(w.sum()) * g.n_lon == pytest.approx(1.0, rel=1e-13)


@pytest.mark.parametrize("res", [1.0, 10.0])
def test_wgs84_area_mean_vs_quadrature(res):
    # Independent: integrate the ellipsoid's surface element M N cos(lat) dlat with scipy quad.
    f_ = 1.0 / 298.257223563
    e2 = f_ * (2.0 - f_)
    dens = lambda p: (1 - e2) * np.cos(p) / (1 - e2 * np.sin(p) ** 2) ** 2  # noqa: E731
    g = Grid(res, "wgs84")
    row = np.array([integrate.quad(dens, (la - res / 2) * DEG, (la + res / 2) * DEG, epsabs=0, epsrel=1e-13)[0]
                    for la in g.lat_deg])
    f = field(res, seed=4, earth_model="wgs84")
    expected = (f.values * row[:, None]).sum() / (row.sum() * g.n_lon)
    assert float(area_mean(f)) == pytest.approx(expected, rel=1e-11)


@pytest.mark.parametrize("res", [1.0, 5.0])
def test_constant_field(res):
    assert float(area_mean(field(res, np.full((Grid(res, "sphere").n_lat, Grid(res, "sphere").n_lon), 3.25)))) == pytest.approx(
        3.25, rel=1e-14
    )


@pytest.mark.parametrize("res", [1.0, 3.0, 10.0])
def test_area_mean_vs_quadrature(res):
    # Independent: integrate cos(lat) over each row with scipy quad, 4 pi steradians in all.
    f = field(res, seed=3)
    g = Grid(res, "sphere")
    row = np.array([integrate.quad(np.cos, (la - res / 2) * DEG, (la + res / 2) * DEG, epsabs=0, epsrel=1e-13)[0]
                    for la in g.lat_deg])
    cell_sr = row * res * DEG  # steradians per cell of each row
    assert cell_sr.sum() * g.n_lon == pytest.approx(4 * np.pi, rel=1e-12)
    expected = (f.values * cell_sr[:, None]).sum() / (4 * np.pi)
    assert float(area_mean(f)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("a, b", [(-90, 90), (0, 90), (10, 30), (-45, -44), (60, 90), (-90, -89)])
def test_band_gives_spherical_zone_fraction(a, b):
    f = field(1.0)
    band = xr.where((f[LAT] > a) & (f[LAT] < b), 1.0, 0.0).broadcast_like(f)
    expected = (np.sin(b * DEG) - np.sin(a * DEG)) / 2
    assert float(area_mean(band)) == pytest.approx(expected, rel=1e-13, abs=1e-16)


def test_weights_and_mask_brute_force():
    res = 5.0
    g = Grid(res, "sphere")
    f = field(res, seed=1)
    rng = np.random.default_rng(2)
    pop = rng.uniform(0, 1e6, f.shape)
    mask = rng.uniform(0, 1, f.shape)
    a = g.cell_area_fraction()[:, None]
    exp_w = (f.values * a * pop).sum() / (a * pop).sum()
    exp_m = (f.values * a * mask).sum() / (a * mask).sum()
    exp_wm = (f.values * a * pop * mask).sum() / (a * pop * mask).sum()
    assert float(area_mean(f, weights=pop)) == pytest.approx(exp_w, rel=1e-12)
    assert float(area_mean(f, mask=field(res, mask))) == pytest.approx(exp_m, rel=1e-12)
    assert float(area_mean(f, weights=field(res, pop), mask=mask > -1)) == pytest.approx(exp_w, rel=1e-12)
    assert float(area_mean(f, weights=pop, mask=mask)) == pytest.approx(exp_wm, rel=1e-12)
    boolean = mask > 0.5
    exp_b = (f.values * a)[boolean].sum() / np.broadcast_to(a, f.shape)[boolean].sum()
    assert float(area_mean(f, mask=boolean)) == pytest.approx(exp_b, rel=1e-12)


def test_nan_cells_excluded():
    res = 10.0
    g = Grid(res, "sphere")
    f = field(res, seed=4)
    holes = np.random.default_rng(5).uniform(size=f.shape) < 0.3
    a = np.broadcast_to(g.cell_area_fraction()[:, None], f.shape)
    expected = (f.values * a)[~holes].sum() / a[~holes].sum()
    assert float(area_mean(f.where(~holes))) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(float(area_mean(f * np.nan)))
    # NaN weights exclude their cell like a zero weight
    w = np.where(holes, np.nan, 1.0)
    assert float(area_mean(f, weights=w)) == pytest.approx(expected, rel=1e-12)


def test_weights_with_0_360_longitudes():
    res = 10.0
    f = field(res, seed=6)
    pop = field(res, np.random.default_rng(7).uniform(0, 5, f.shape))
    shifted = pop.assign_coords({LON: pop[LON].values % 360}).sortby(LON)
    assert float(area_mean(f, weights=shifted)) == pytest.approx(float(area_mean(f, weights=pop)), rel=1e-14)


def test_a_box_across_the_antimeridian_takes_masks_and_land_on_global_longitudes():
    # A fuzz find: the README's box (-25, -10, 170, -170) at 1 deg has longitudes 170.5..189.5;
    # a mask on the global grid's -180..180 longitudes (the land mask) was refused as off-grid.
    res = 1.0
    from orbitjax.regions import as_region
    from orbitjax.summaries import _land_mean

    box = as_region((-25, -10, 170, -170)).grid(res)
    rng = np.random.default_rng(11)
    values = rng.uniform(0, 100, (box.n_lat, box.n_lon))
    f = xr.DataArray(values, dims=(LAT, LON), coords={LAT: box.lat_deg, LON: box.lon_deg})
    assert f[LON].values[0] == 170.5 and f[LON].values[-1] == 189.5
    g = Grid(res)
    rows = np.searchsorted(g.lat_deg, box.lat_deg)
    cols = np.round((((box.lon_deg + 180.0) % 360.0) - 180.0 - g.lon_deg[0]) / res).astype(int)
    weight = rng.uniform(0, 1, (g.n_lat, g.n_lon))
    on_global = xr.DataArray(weight, dims=(LAT, LON), coords={LAT: g.lat_deg, LON: g.lon_deg})
    picked = weight[np.ix_(rows, cols)]
    a = box.cell_area_fraction()[:, None]
    expected = (values * a * picked).sum() / (a * picked).sum()
    mask = on_global.isel({LAT: rows, LON: np.sort(cols)})  # the box's cells, in -180..180 order
    assert float(area_mean(f, mask=mask)) == pytest.approx(expected, rel=1e-12)
    land = land_fraction(res)[np.ix_(rows, cols)]
    assert _land_mean(f) == pytest.approx((values * a * land).sum() / (a * land).sum(), rel=1e-12)


def test_extra_dims_kept():
    f = field(10.0, seed=8)
    stacked = xr.concat([f, 2 * f, f * 0 + 7], dim="min_elevation").assign_coords(min_elevation=[10.0, 25, 40])
    m = area_mean(stacked)
    assert m.dims == ("min_elevation",)
    np.testing.assert_allclose(m.values, [float(area_mean(f)), 2 * float(area_mean(f)), 7.0], rtol=1e-13)


def test_errors():
    f = field(10.0)
    with pytest.raises(ValueError, match=r"missing \['lat'\].*found \['y', 'lon'\]"):
        area_mean(f.rename({LAT: "y"}))
    with pytest.raises(ValueError, match="not on the field's grid"):
        area_mean(f, weights=field(5.0))
    with pytest.raises(ValueError, match="shape"):
        area_mean(f, weights=np.ones((3, 4)))
    with pytest.raises(ValueError, match="non-negative"):
        area_mean(f, weights=-np.ones(f.shape))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        area_mean(f, mask=2 * np.ones(f.shape))
    with pytest.raises(ValueError, match="regularly spaced"):
        area_mean(f.isel({LAT: [0, 1, 5]}))


# --------------------------------------------------------------------------- latitude profile


def test_zonal_mean_per_row():
    f = field(5.0, seed=9)
    p = latitude_profile(f)
    np.testing.assert_allclose(p[LAT].values, f[LAT].values)
    np.testing.assert_allclose(p.values, f.mean(LON).values, rtol=1e-13)
    np.testing.assert_allclose(p["lat_max"] - p["lat_min"], 5.0)


def test_bands_recombine_to_global_mean():
    f = field(2.5, seed=10)
    whole = latitude_profile(f, band_deg=180)
    assert whole.sizes[LAT] == 1 and whole[LAT].item() == 0.0
    assert whole.item() == pytest.approx(float(area_mean(f)), rel=1e-13)
    hemi = latitude_profile(f, band_deg=90)  # equal areas
    np.testing.assert_allclose(hemi[LAT].values, [-45.0, 45.0])
    assert float(hemi.mean()) == pytest.approx(float(area_mean(f)), rel=1e-13)
    bands = latitude_profile(f, band_deg=30)
    zone = np.diff(np.sin(np.radians(np.arange(-90, 91, 30)))) / 2
    assert float((bands * zone).sum()) == pytest.approx(float(area_mean(f)), rel=1e-13)
    # each band equals area_mean over its rows
    sub = f.sel({LAT: slice(30, 60)})
    assert float(bands.sel({LAT: 45.0})) == pytest.approx(float(area_mean(sub)), rel=1e-13)


def test_profile_with_mask_and_bad_band():
    f = field(5.0, seed=11)
    mask = f > 50
    p = latitude_profile(f, mask=mask)
    np.testing.assert_allclose(p.values, f.where(mask).mean(LON).values, rtol=1e-13)
    with pytest.raises(ValueError, match="multiple of the grid's row height"):
        latitude_profile(f, band_deg=7.0)
    with pytest.raises(ValueError, match="divides 180"):
        latitude_profile(f, band_deg=25.0)


# --------------------------------------------------------------------------- regrid_weights


def _fine_population(res_fine, seed=12, lon_0_360=False):
    g = Grid(res_fine)
    pop = np.random.default_rng(seed).poisson(50, (g.n_lat, g.n_lon)).astype(float)
    lon = g.lon_deg % 360 if lon_0_360 else g.lon_deg
    da = xr.DataArray(pop, dims=(LAT, LON), coords={LAT: g.lat_deg, LON: lon}, name="population")
    return da.sortby(LON)


def test_regrid_same_grid_passthrough():
    g = Grid(10.0, "sphere")
    pop = _fine_population(10.0)
    out = regrid_weights(pop, g.lat_deg, g.lon_deg)
    np.testing.assert_array_equal(out.values, pop.values)
    # within 1e-6 deg counts as the same grid
    jitter = pop.assign_coords({LAT: pop[LAT] + 5e-7})
    np.testing.assert_array_equal(regrid_weights(jitter, g.lat_deg, g.lon_deg)[LAT].values, g.lat_deg)


@pytest.mark.parametrize("lon_0_360", [False, True])
def test_regrid_nested_conserves_total(lon_0_360):
    g = Grid(5.0, "sphere")
    pop = _fine_population(1.0, lon_0_360=lon_0_360)
    out = regrid_weights(pop, g.lat_deg, g.lon_deg)
    assert out.dims == (LAT, LON) and out.shape == (g.n_lat, g.n_lon)
    assert float(out.sum()) == float(pop.sum())  # integer counts: exact
    # brute force one cell: 20..25 N, 100..105 E holds the 1 deg cells with centres inside
    p = _fine_population(1.0)
    inside = p.sel({LAT: slice(20, 25), LON: slice(100, 105)})
    assert inside.size == 25
    assert float(out.sel({LAT: 22.5, LON: 102.5})) == float(inside.sum())


def test_regrid_intensive_area_weighted_mean():
    g = Grid(10.0, "sphere")
    fine = _fine_population(2.0)
    out = regrid_weights(fine, g.lat_deg, g.lon_deg, extensive=False)
    # area-weighted means conserve the area-weighted global mean
    assert float(area_mean(out)) == pytest.approx(float(area_mean(fine)), rel=1e-13)
    const = fine * 0 + 4.0
    np.testing.assert_allclose(regrid_weights(const, g.lat_deg, g.lon_deg, extensive=False).values, 4.0, rtol=1e-14)


def test_regrid_from_netcdf_path_and_aliases(tmp_path):
    g = Grid(10.0, "sphere")
    pop = _fine_population(5.0).rename({LAT: "latitude", LON: "longitude"})
    path = tmp_path / "pop.nc"
    xr.Dataset({"population": pop, "other": xr.DataArray([1, 2], dims="x")}).to_netcdf(path)
    out = regrid_weights(path, g.lat_deg, g.lon_deg, variable="population")
    assert float(out.sum()) == float(pop.sum())
    out2 = regrid_weights(str(path), g.lat_deg, g.lon_deg)  # the only lat/lon variable
    xr.testing.assert_identical(out, out2)
    with pytest.raises(ValueError, match="'nope' not found"):
        regrid_weights(path, g.lat_deg, g.lon_deg, variable="nope")


def test_regrid_errors():
    g = Grid(5.0, "sphere")
    pop = _fine_population(1.0)
    with pytest.raises(ValueError, match=r"missing \['lat', 'lon'\], found \['y', 'x'\]"):
        regrid_weights(pop.rename({LAT: "y", LON: "x"}), g.lat_deg, g.lon_deg)
    # coarser than the coverage grid
    with pytest.raises(ValueError, match=r"expected the coverage grid \(36 x 72 cells.*found 18 x 36 cells"):
        regrid_weights(_fine_population(10.0), g.lat_deg, g.lon_deg)
    # finer but not nesting: 2 deg cells across 5 deg cells
    with pytest.raises(ValueError, match="step 2,"):
        regrid_weights(_fine_population(2.0), g.lat_deg, g.lon_deg)
    # nesting resolution but shifted by half a fine cell
    shifted = pop.assign_coords({LAT: pop[LAT] + 0.5})
    with pytest.raises(ValueError, match="does not fit"):
        regrid_weights(shifted, g.lat_deg, g.lon_deg)
    # regional raster
    with pytest.raises(ValueError, match="does not fit"):
        regrid_weights(pop.sel({LAT: slice(-60, 85)}), g.lat_deg, g.lon_deg)
    with pytest.raises(ValueError, match="2-D"):
        regrid_weights(xr.concat([pop, pop], "band"), g.lat_deg, g.lon_deg)
    with pytest.raises(TypeError):
        regrid_weights(np.ones((36, 72)), g.lat_deg, g.lon_deg)


# --------------------------------------------------------------------------- one stage


def test_continuous_band():
    g = Grid(5.0, "sphere")
    ptc = np.full((g.n_lat, g.n_lon), 99.0)
    assert continuous_band(field(5.0, ptc)) is None
    ptc[4:7] = 100.0  # -70..-55
    ptc[20:26] = 100.0  # 10..40 (wider)
    ptc[21, 3] = 99.999  # breaks the row 15..20 N: runs 10..15 and 20..40
    assert continuous_band(field(5.0, ptc)) == (20.0, 40.0)
    ptc[21, 3] = 100.0
    assert continuous_band(field(5.0, ptc)) == (10.0, 40.0)
    # ties: the southernmost
    ptc2 = np.full_like(ptc, 50.0)
    ptc2[2:4] = ptc2[30:32] = 100.0
    assert continuous_band(field(5.0, ptc2)) == (-80.0, -70.0)
    assert continuous_band(field(5.0, np.full_like(ptc, 100.0))) == (-90.0, 90.0)


def test_summary_table_values():
    res = 1.0
    g = Grid(res, "sphere")
    land = land_fraction(res)
    ptc = np.where(np.abs(g.lat_deg)[:, None] < 30, 100.0, 100.0 * land)  # 30 S..30 N fully covered
    ds = stage_dataset(res=res, ptc=ptc)
    s = summary_table(ds)
    assert tuple(s) == SUMMARY_KEYS
    a = g.cell_area_fraction()[:, None]
    assert s["stage"] == 1 and s["stage_name"] == "KF-01" and s["stage_date"] == "2025-07-16T06:30:00Z"
    assert s["n_satellites"] == 24
    assert s["mean_coverage_fraction"] == pytest.approx(ds["coverage_fraction"].values.mean(), rel=1e-14)
    assert s["percent_time_covered_global"] == pytest.approx((ptc * a).sum(), rel=1e-12)
    assert s["percent_time_covered_land"] == pytest.approx((ptc * a * land).sum() / (a * land).sum(), rel=1e-12)
    assert s["continuous_band_deg"] == (-30.0, 30.0)
    # The largest gap among cells covered at least once (ocean cells outside 30 S..30 N never are).
    assert s["max_gap_s"] == ds["max_gap_s"].values[ptc > 0].max()
    assert s["mean_response_time_s"] == pytest.approx((ds["mean_response_time_s"].values * a).sum(), rel=1e-12)


def test_summary_table_land_none_on_off_grid_resolution():
    s = summary_table(stage_dataset(res=0.3, n_time=2))
    assert s["percent_time_covered_land"] is None
    assert s["percent_time_covered_global"] is not None


def test_summary_table_sweep_and_fallbacks():
    ds = stage_dataset(res=10.0, sweep=(10.0, 25.0))
    first = summary_table(ds)
    assert first["min_elevation_deg"] == 10.0
    sel = ds.sel(min_elevation=10.0)
    assert first["max_gap_s"] == sel["max_gap_s"].values[sel["percent_time_covered"].values > 0].max()
    s = summary_table(ds, min_elevation=25.0)
    assert s["min_elevation_deg"] == 25.0
    one = ds.sel(min_elevation=25.0)
    assert s["percent_time_covered_global"] == pytest.approx(float(area_mean(one["percent_time_covered"])))
    assert s["mean_coverage_fraction"] == pytest.approx(float(one["coverage_fraction"].mean()))
    with pytest.raises(ValueError, match=r"min_elevation 30 is not in the sweep \[10.0, 25.0\]"):
        summary_table(ds, min_elevation=30)
    with pytest.raises(ValueError, match="no elevation sweep"):
        summary_table(stage_dataset(res=10.0), min_elevation=10.0)
    single = stage_dataset(res=10.0, sweep=(10.0,))
    one = single.isel(min_elevation=0)
    assert summary_table(single)["max_gap_s"] == one["max_gap_s"].values[one["percent_time_covered"].values > 0].max()
    bare = stage_dataset(res=10.0)
    bare.attrs = {}
    s = summary_table(bare)
    assert s["n_satellites"] == 3 and s["stage"] is None and s["stage_name"] is None
