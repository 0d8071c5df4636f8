"""Stage comparison: stacking files in launch order, consistency errors, table and plot."""

import os

import numpy as np
import pytest
import xarray as xr

from orbitjax.compare import compare_plot, compare_table, open_stages, stage_summaries
from orbitjax.io.dataset import FIGURES_OF_MERIT, coverage_dataset
from orbitjax.kernels.grid import Grid
from orbitjax.summaries import area_mean

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# (stage index, name, date, satellites), deliberately not in launch order
STAGES = [
    (3, "KF-03", "2025-10-14T01:58:00Z", 72),
    (4, "full", "", 3236),
    (1, "KF-01", "2025-07-16T06:30:00+00:00", 24),
    (2, "KF-02", "2025-08-11T12:35:00Z", 48),
]


def stage_dataset(stage, name, date, n_sat, *, res=10.0, n_time=6, t0="2025-07-16T00:00", heavy=False, seed=None,
                  scenario="kuiper_falcon9", ptc=None, sweep=None):
    g = Grid(res)
    rng = np.random.default_rng(stage if seed is None else seed)
    lead = () if sweep is None else (len(sweep),)
    shape = lead + (g.n_lat, g.n_lon)
    figs = {k: rng.uniform(0, 100, shape) for k in FIGURES_OF_MERIT if k != "percent_time_covered_n"}
    figs["percent_time_covered_n"] = rng.uniform(0, 100, lead + (2, g.n_lat, g.n_lon))
    figs["max_gap_s"] = rng.uniform(0, 3600.0 / max(stage, 1), shape)
    if ptc is not None:
        figs["percent_time_covered"] = ptc
    times = np.datetime64(t0) + np.arange(n_time) * np.timedelta64(60, "s")
    n_named = min(n_sat, 4)
    return coverage_dataset(
        times=times,
        lat_deg=g.lat_deg,
        lon_deg=g.lon_deg,
        area_weight=g.cell_area_fraction(),
        sat_names=np.array([f"SAT-{i}" for i in range(n_named)]),
        min_elevation_deg=np.full(n_named, 35.0),
        coverage_fraction=rng.uniform(0, 1, lead + (n_time,)),
        elevation_sweep_deg=sweep,
        figures=figs,
        n_assets=(1, 2),
        visible_count=rng.integers(0, 5, (n_time, g.n_lat, g.n_lon)) if heavy else None,
        sat_position_ecef=rng.normal(size=(n_time, n_named, 3)) * 7000 if heavy else None,
        attrs={"stage": stage, "stage_name": name, "stage_date": date, "n_satellites": n_sat,
               "launches_included": name, "scenario": scenario, "orbitjax_version": "0.1.0"},
    )


def write_stages(directory, stages=STAGES, shuffle_names=True, **kw):
    rng = np.random.default_rng(0)
    paths = []
    for stage, name, date, n_sat in stages:
        ds = stage_dataset(stage, name, date, n_sat, **kw)
        # file names in an order unrelated to the launch order
        fname = f"run{rng.integers(1000)}_stage{stage}_{name}.nc" if shuffle_names else f"x_stage{stage}_{name}.nc"
        ds.to_netcdf(directory / fname)
        paths.append(directory / fname)
    return paths


def test_open_stages_launch_order(tmp_path):
    write_stages(tmp_path)
    xr.Dataset({"a": ("x", [1, 2])}).to_netcdf(tmp_path / "aaa_not_a_stage.nc")  # no 'stage' attribute
    ds = open_stages(tmp_path)
    assert ds["stage"].values.tolist() == [1, 2, 3, 4]
    assert ds["stage_name"].values.tolist() == ["KF-01", "KF-02", "KF-03", "full"]
    assert ds["stage_date"].values.tolist()[-1] == ""
    assert ds["n_satellites"].values.tolist() == [24, 48, 72, 3236]
    assert ds["percent_time_covered"].dims == ("stage", "lat", "lon")
    assert ds["percent_time_covered_n"].dims == ("stage", "n_assets", "lat", "lon")
    assert ds["coverage_fraction"].dims == ("stage", "time")
    assert ds["area_weight"].dims == ("lat",)
    assert "visible_count" not in ds and "sat_position_ecef" not in ds and "sat" not in ds.dims
    assert ds.attrs["scenario"] == "kuiper_falcon9" and "stage_name" not in ds.attrs
    # contents follow their stage
    for stage, name, date, n_sat in STAGES:
        one = stage_dataset(stage, name, date, n_sat)
        got = ds.sel(stage=stage)
        np.testing.assert_array_equal(got["max_gap_s"].values, one["max_gap_s"].values)
        assert got["stage_file"].item().endswith(f"_stage{stage}_{name}.nc")


def test_order_by_date_not_index_and_ties(tmp_path):
    stages = [
        (1, "A", "2025-03-01T00:00:00Z", 10),
        (2, "B", "2025-01-01T00:00:00Z", 20),  # launched before A: comes first
        (5, "ref", "", 99),
        (4, "D", "2025-02-01T00:00:00Z", 30),
        (3, "C", "2025-02-01T00:00:00Z", 30),  # same date as D: lower index first
        (0, "ref0", "", 99),  # two date-less stages: by index, both last
    ]
    write_stages(tmp_path, stages)
    ds = open_stages(tmp_path)
    assert ds["stage_name"].values.tolist() == ["B", "C", "D", "A", "ref0", "ref"]
    # time zone offsets are honoured: 23:00 -05:00 is the next day 04:00 UTC
    other = tmp_path / "tz"
    other.mkdir()
    write_stages(other, [(1, "late", "2025-01-02T01:00:00Z", 1), (2, "early", "2025-01-01T23:00:00-05:00", 2)])
    assert open_stages(other)["stage_name"].values.tolist() == ["late", "early"]


def test_heavy(tmp_path):
    write_stages(tmp_path, STAGES[:2], heavy=True)
    light = open_stages(tmp_path)
    assert "visible_count" not in light
    ds = open_stages(tmp_path, heavy=True)
    assert ds["visible_count"].dims == ("stage", "time", "lat", "lon")
    assert ds["sat_position_ecef"].dims == ("stage", "time", "sat", "xyz")


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no stage files"):
        open_stages(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a directory"):
        open_stages(tmp_path / "missing")

    grid = tmp_path / "grid"
    grid.mkdir()
    stage_dataset(1, "KF-01", "2025-07-16T06:30:00Z", 24).to_netcdf(grid / "s_stage1_KF-01.nc")
    stage_dataset(2, "KF-02", "2025-08-11T12:35:00Z", 48, res=5.0).to_netcdf(grid / "s_stage2_KF-02.nc")
    with pytest.raises(ValueError, match=r"s_stage1_KF-01.nc and s_stage2_KF-02.nc have different grid \(lat\)"):
        open_stages(grid)

    window = tmp_path / "window"
    window.mkdir()
    stage_dataset(1, "KF-01", "2025-07-16T06:30:00Z", 24).to_netcdf(window / "s_stage1_KF-01.nc")
    stage_dataset(2, "KF-02", "2025-08-11T12:35:00Z", 48, t0="2025-08-01T00:00").to_netcdf(window / "s_stage2_KF-02.nc")
    with pytest.raises(ValueError, match=r"s_stage1_KF-01.nc and s_stage2_KF-02.nc cover different time windows"):
        open_stages(window)

    dup = tmp_path / "dup"
    dup.mkdir()
    stage_dataset(1, "KF-01", "2025-07-16T06:30:00Z", 24).to_netcdf(dup / "a_stage1_KF-01.nc")
    stage_dataset(1, "KF-01", "2025-07-16T06:30:00Z", 24).to_netcdf(dup / "b_stage1_KF-01.nc")
    with pytest.raises(ValueError, match="stage 1 appears in two files: a_stage1_KF-01.nc and b_stage1_KF-01.nc"):
        open_stages(dup)

    scen = tmp_path / "scen"
    scen.mkdir()
    stage_dataset(1, "KF-01", "2025-07-16T06:30:00Z", 24).to_netcdf(scen / "a_stage1.nc")
    stage_dataset(2, "X", "2025-08-16T06:30:00Z", 24, scenario="other").to_netcdf(scen / "b_stage2.nc")
    with pytest.raises(ValueError, match="different scenarios"):
        open_stages(scen)

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "half_written.nc").write_bytes(b"CDF\x01 not really")
    with pytest.raises(ValueError, match="half_written.nc: cannot be read as NetCDF"):
        open_stages(broken)

    bad_date = tmp_path / "date"
    bad_date.mkdir()
    stage_dataset(1, "KF-01", "16/07/2025", 24).to_netcdf(bad_date / "a_stage1.nc")
    with pytest.raises(ValueError, match="a_stage1.nc: stage_date '16/07/2025' is not an ISO 8601 date"):
        open_stages(bad_date)


def test_table(tmp_path):
    write_stages(tmp_path)
    ds = open_stages(tmp_path)
    table = compare_table(ds)
    lines = table.splitlines()
    assert table.endswith("\n")
    header = lines[0]
    for unit in ("[1]", "[%]", "[deg]", "[s]", "date (UTC)", "satellites"):
        assert unit in header
    assert set(lines[1]) == {"-"}
    rows = lines[2:]
    assert len(rows) == 4
    assert [r.split()[1] for r in rows] == ["KF-01", "KF-02", "KF-03", "full"]
    assert "2025-07-16 06:30" in rows[0] and "reference" in rows[3]
    assert all(len(r) <= len(header) for r in rows)
    # numbers are those of the stage files
    s = stage_summaries(ds)
    for row, summ, (stage, name, date, n_sat) in zip(rows, s, sorted(STAGES, key=lambda t: (t[2] == "", t[2]))):
        one = stage_dataset(stage, name, date, n_sat)
        assert f"{float(area_mean(one['percent_time_covered'])):.2f}" in row
        covered = one["percent_time_covered"] > 0
        assert f"{float(one['max_gap_s'].where(covered).max()):.0f}" in row
        assert f"{float(one['coverage_fraction'].mean()):.4f}" in row
        assert f" {n_sat} " in row
        assert summ["continuous_band_deg"] is None
        assert row.split()[-3] == "-"  # no continuous band with random figures


def test_table_continuous_band_column(tmp_path):
    g = Grid(10.0)
    ptc = np.where(np.abs(g.lat_deg)[:, None] < 40, 100.0, 50.0) * np.ones((1, g.n_lon))
    stage_dataset(1, "KF-01", "2025-07-16T06:30:00Z", 24, ptc=ptc).to_netcdf(tmp_path / "a_stage1.nc")
    table = compare_table(open_stages(tmp_path))
    assert "-40.00..+40.00" in table.splitlines()[2]


def test_plot(tmp_path):
    write_stages(tmp_path)
    ds = open_stages(tmp_path)
    out = tmp_path / "plots" / "compare.png"
    out.parent.mkdir()
    assert compare_plot(ds, out) == out
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert out.stat().st_size > 1000
    assert sorted(os.listdir(out.parent)) == ["compare.png"]  # no temporary file left
    # overwrite in place
    compare_plot(ds.isel(stage=[0, 1]), str(out))
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert sorted(os.listdir(out.parent)) == ["compare.png"]


def test_plot_without_matplotlib(tmp_path, monkeypatch):
    import builtins

    write_stages(tmp_path, STAGES[:1])
    ds = open_stages(tmp_path)
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"compare_plot needs matplotlib"):
        compare_plot(ds, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_elevation_sweep(tmp_path):
    write_stages(tmp_path, STAGES[:2], sweep=(25.0, 35.0))
    ds = open_stages(tmp_path)
    assert ds["percent_time_covered"].dims == ("stage", "min_elevation", "lat", "lon")
    assert ds["coverage_fraction"].dims == ("stage", "min_elevation", "time")
    table = compare_table(ds)
    assert table.splitlines()[-1] == "figures at minimum elevation 25 deg (sweep: 25, 35 deg)"
    one = stage_dataset(3, "KF-03", "", 72, sweep=(25.0, 35.0)).sel(min_elevation=35.0)  # first row
    row = compare_table(ds, min_elevation=35.0).splitlines()[2]
    assert f"{float(area_mean(one['percent_time_covered'])):.2f}" in row
    compare_plot(ds, tmp_path / "sweep.png", min_elevation=35.0)
    assert (tmp_path / "sweep.png").read_bytes()[:8] == PNG_MAGIC
    # a file without the sweep cannot join
    stage_dataset(1, "KF-01", "2025-07-16T06:30:00Z", 24).to_netcdf(tmp_path / "c_stage1.nc")
    with pytest.raises(ValueError, match="different min_elevation"):
        open_stages(tmp_path)


@pytest.mark.slow
def test_pipeline_files_end_to_end(tmp_path):
    # Real stage files from the pipeline. Independent check: the time mean of the
    # area-weighted covered fraction equals the area mean of percent_time_covered / 100.
    from orbitjax.scenario import load_scenario
    from orbitjax.stages import run

    scenario = load_scenario("kuiper_falcon9").with_analysis(duration_s=1800.0, step_s=120.0, resolution_deg=10.0)
    # Sampled figures: then percent covered and the sampled covered fraction measure the same samples.
    paths = run(scenario, tmp_path, save_raster=False, progress=False, timing="sampled")
    ds = open_stages(tmp_path)
    assert ds.sizes["stage"] == len(paths)
    assert ds["stage_date"].values[-1] == "" and list(ds["n_satellites"].values) == sorted(ds["n_satellites"].values)
    for s in stage_summaries(ds):
        assert s["mean_coverage_fraction"] == pytest.approx(s["percent_time_covered_global"] / 100, abs=1e-9)
    assert len(compare_table(ds).splitlines()) == 2 + len(paths)
