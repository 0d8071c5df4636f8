"""Design studies: batched figures equal coverage() on each design alone; failure draws; specs and CLI."""

import textwrap

import jax
import numpy as np
import pytest

import orbitjax
from orbitjax import studies
from orbitjax.cli import main
from orbitjax.summaries import area_mean, summary_table

TIMES = np.datetime64("2025-10-15T00:00") + np.arange(60) * np.timedelta64(90, "s")  # 1.5 h
RES = 6.0
ALT, MASK = 600.0, 30.0
CELL_FIGS = ("percent_time_covered", "percent_time_covered_n", "max_gap_s", "mean_gap_s", "gap_count",
             "mean_response_time_s", "time_to_first_coverage_s", "longest_coverage_s", "mean_multiplicity")


def _walker(table, i):
    return orbitjax.walker(**{k: table[k][i].item() for k in table}, epoch=TIMES[0], shell=f"d{i}")


@pytest.fixture(scope="module")
def walker_study():
    # Three sizes in two satellite buckets (64 and 128), one odd batch: padding and filler designs.
    # One altitude and mask everywhere in this file, so every test reuses the same compilations.
    table = studies.walker_table(altitude_km=ALT, inclination_deg=[33, 51.9, 70],
                                 planes=[6, 5, 9], sats_per_plane=[6, 8, 8], phasing=[1, 2, 0],
                                 min_elevation_deg=MASK)
    ds = orbitjax.study(table, TIMES, resolution_deg=RES, band_deg=(40, 56), batch_size=2, n_assets=(1, 2),
                        cell_figures=True, latitude_profiles=True, progress=False)
    return table, ds


@pytest.mark.slow
def test_study_cells_equal_coverage_on_each_design(walker_study):
    table, ds = walker_study
    assert ds.sizes["design"] == 3
    for i in range(3):
        ref = orbitjax.coverage(_walker(table, i), TIMES, resolution_deg=RES, n_assets=(1, 2), progress=False)
        for name in CELL_FIGS:
            np.testing.assert_array_equal(ds[f"cell_{name}"].isel(design=i).values, ref[name].values, err_msg=name)
        # The reductions are those of the summaries module on coverage()'s output.
        table_i = summary_table(ref)
        assert ds.percent_time_covered_global[i] == pytest.approx(table_i["percent_time_covered_global"], rel=1e-12)
        assert ds.max_gap_global_s[i] == table_i["max_gap_s"]
        assert ds.mean_response_time_global_s[i] == pytest.approx(table_i["mean_response_time_s"], rel=1e-12)
        ptc = ref.percent_time_covered
        band = ((np.abs(ref.lat) >= 40) & (np.abs(ref.lat) <= 56)).broadcast_like(ptc)
        assert ds.percent_time_covered_band[i] == pytest.approx(float(area_mean(ptc, mask=band)), rel=1e-12)
        covered = (ptc > 0) & band
        assert float(ds.mean_max_gap_band_s[i]) == pytest.approx(float(area_mean(ref.max_gap_s, mask=covered)), rel=1e-12, nan_ok=True)
        np.testing.assert_allclose(ds.percent_time_covered_lat[i], ptc.mean("lon"), rtol=1e-12)
        assert int(ds.n_satellites[i]) == table["planes"][i] * table["sats_per_plane"][i]
    assert ds.planes.values.tolist() == [6, 5, 9]


def test_study_of_element_tables_in_another_order(walker_study):
    table, ds = walker_study
    designs = [_walker(table, i) for i in range(3)]
    one = orbitjax.study(designs[::-1], TIMES, resolution_deg=RES, band_deg=(40, 56), batch_size=2, n_assets=(1, 2),
                         progress=False)
    for name in ("percent_time_covered_global", "max_gap_band_s", "mean_response_time_global_s",
                 "percent_time_covered_n_global"):
        np.testing.assert_array_equal(one[name].values[::-1], ds[name].values, err_msg=name)


def test_failure_draws_equal_coverage_without_the_failed_satellites():
    c = orbitjax.walker(altitude_km=ALT, inclination_deg=53, planes=4, sats_per_plane=5, phasing=1,
                        min_elevation_deg=MASK, epoch=TIMES[0])
    fs = orbitjax.failure_study(c, TIMES, k_fail=3, n_draws=3, key=jax.random.key(7), resolution_deg=RES,
                                n_assets=(1, 2), batch_size=2, progress=False)
    assert fs.n_failed.values.tolist() == [3, 3, 3]
    for d in range(2):
        alive = ~fs.failed.isel(draw=d).values
        ref = orbitjax.coverage(c[alive], TIMES, resolution_deg=RES, n_assets=(1, 2), progress=False)
        t = summary_table(ref)
        assert fs.percent_time_covered_global[d] == pytest.approx(t["percent_time_covered_global"], rel=1e-12)
        assert fs.max_gap_global_s[d] == t["max_gap_s"]
    nominal = summary_table(orbitjax.coverage(c, TIMES, resolution_deg=RES, n_assets=(1, 2), progress=False))
    assert fs.percent_time_covered_global_nominal == pytest.approx(nominal["percent_time_covered_global"], rel=1e-12)
    q = fs.percent_time_covered_global_quantile
    np.testing.assert_allclose(q, np.quantile(fs.percent_time_covered_global.values, q["quantile"].values))
    # Reproducible from the key.
    again = studies.failure_masks(jax.random.key(7), 20, 3, k_fail=3)
    np.testing.assert_array_equal(again, fs.failed.values)


def test_failure_masks_bernoulli_rate_and_errors():
    m = studies.failure_masks(jax.random.key(0), 200, 500, p_fail=0.05)
    # 100,000 Bernoulli(0.05) draws: standard error 0.0007.
    assert abs(m.mean() - 0.05) < 0.004
    assert not np.array_equal(m, studies.failure_masks(jax.random.key(1), 200, 500, p_fail=0.05))
    with pytest.raises(ValueError, match="exactly one"):
        studies.failure_masks(jax.random.key(0), 10, 2)
    with pytest.raises(ValueError, match="k_fail"):
        studies.failure_masks(jax.random.key(0), 10, 2, k_fail=11)


def test_walker_grid_and_sample():
    g = studies.walker_grid(altitude_km=590, inclination_deg=[30, 40], planes=[2, 3], sats_per_plane=4,
                            phasing=[0, 1, 2], min_elevation_deg=35)
    # phasing must be below planes: P = 2 keeps F in {0, 1}, P = 3 keeps {0, 1, 2}.
    assert len(g["planes"]) == 2 * (2 + 3)
    assert np.all(g["phasing"] < g["planes"])
    s = studies.walker_sample(400, jax.random.key(3), altitude_km=(500, 700), inclination_deg=(30, 70),
                              planes=(10, 20), sats_per_plane=(5, 9), phasing=(0, 19), min_elevation_deg=35)
    assert s["planes"].min() == 10 and s["planes"].max() == 20
    assert s["sats_per_plane"].min() == 5 and s["sats_per_plane"].max() == 9
    assert np.all((s["phasing"] >= 0) & (s["phasing"] < s["planes"]))
    assert np.all((s["inclination_deg"] >= 30) & (s["inclination_deg"] <= 70))
    s2 = studies.walker_sample(400, jax.random.key(3), altitude_km=(500, 700), inclination_deg=(30, 70),
                               planes=(10, 20), sats_per_plane=(5, 9), phasing=(0, 19), min_elevation_deg=35)
    assert all(np.array_equal(s[k], s2[k]) for k in s)
    with pytest.raises(ValueError, match="missing column"):
        studies.walker_table(altitude_km=500, inclination_deg=50, planes=2, sats_per_plane=2)


def test_bucket_ladder():
    sizes = [studies.bucket_size(n) for n in range(1, 5000)]
    assert all(s >= n and s % 64 == 0 for n, s in zip(range(1, 5000), sizes))
    assert max(s / n for n, s in zip(range(128, 5000), sizes[127:])) <= 1.5
    assert [studies.bucket_size(n) for n in (1, 64, 65, 300, 1200)] == [64, 64, 128, 384, 1536]


SPEC = """
[analysis]
start = "2025-10-15T00:00:00Z"
duration = "90min"
step_s = 90
resolution_deg = 6.0
band_deg = [20, 50]
n_assets = [1, 2]
batch_size = 2

[designs]
mode = "{mode}"
altitude_km = {alt}
inclination_deg = {inc}
planes = {planes}
sats_per_plane = 3
min_elevation_deg = 30.0
{extra}
"""


def test_cli_study_grid_and_random(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text(textwrap.dedent(SPEC.format(mode="grid", alt=600.0, inc="[45, 60]", planes="[2, 3]", extra="")))
    out = tmp_path / "grid.nc"
    assert main(["study", str(grid), "--out", str(out), "--quiet"]) == 0
    ds = orbitjax.open_netcdf(out)
    assert ds.sizes["design"] == 4 and sorted(set(ds.inclination_deg.values.tolist())) == [45.0, 60.0]
    assert "best percent_time_covered_band" in capsys.readouterr().out
    rnd = tmp_path / "rnd.toml"
    rnd.write_text(textwrap.dedent(SPEC.format(mode="random", alt=600.0, inc="[40, 60]", planes="[2, 3]",
                                               extra="n = 3\nseed = 1")))
    assert main(["study", str(rnd), "--out", str(tmp_path / "rnd.nc"), "--quiet"]) == 0
    ds = orbitjax.open_netcdf(tmp_path / "rnd.nc")
    assert ds.sizes["design"] == 3 and np.all((ds.inclination_deg >= 40) & (ds.inclination_deg <= 60))


@pytest.mark.parametrize("body, message", [
    ("[analysis]\nstart = '2025-10-15'\nduration = '1h'\nstep_s = 60\n", "missing table [designs]"),
    (SPEC.format(mode="grid", alt=600, inc=50, planes=2, extra="colour = 1"), "unknown key 'colour'"),
    (SPEC.format(mode="random", alt=600, inc=50, planes=2, extra=""), "needs n"),
    (SPEC.format(mode="grid", alt="'high'", inc=50, planes=2, extra=""), "altitude_km"),
    # A fuzz find: an inverted band ran, wrote the file, then failed on an all-NaN band.
    (SPEC.format(mode="grid", alt=600, inc=50, planes=2, extra="").replace("[20, 50]", "[50, 20]"),
     "band_deg = [50, 20]: expected 0 <= lo < hi <= 90"),
    (SPEC.format(mode="grid", alt=600, inc=50, planes=2, extra="").replace("[20, 50]", "[-100, 100]"), "band_deg"),
])
def test_cli_study_bad_spec_one_line(tmp_path, capsys, body, message):
    p = tmp_path / "bad.toml"
    p.write_text(textwrap.dedent(body))
    assert main(["study", str(p), "--out", str(tmp_path / "x.nc")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x.nc").exists()


def test_walker_grid_refuses_zero_planes_and_warns_about_dropped_phasings():
    # A fuzz find: planes = [0, 3] silently ran half the designs; a phasing grid dropped 7 in 8.
    with pytest.raises(ValueError, match="planes = \\[0, 3\\]: expected positive integers"):
        studies.walker_grid(altitude_km=600.0, inclination_deg=50.0, planes=[0, 3], sats_per_plane=3)
    with pytest.warns(UserWarning, match="1 of 6 combinations dropped"):
        table = studies.walker_grid(altitude_km=600.0, inclination_deg=50.0, planes=[2, 3], sats_per_plane=3,
                                    phasing=[0, 1, 2], min_elevation_deg=30.0)
    assert sorted(zip(table["planes"].tolist(), table["phasing"].tolist())) == [(2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]


def test_an_inverted_or_out_of_range_band_is_refused_before_any_work():
    for band in ((50, 20), (-10, 40), (20, 95), (30, 30), ("a", 3)):
        with pytest.raises(ValueError, match="band_deg"):
            orbitjax.study({"altitude_km": 600.0, "inclination_deg": 50.0, "planes": 2, "sats_per_plane": 3,
                            "min_elevation_deg": 30.0}, ("2025-10-15T00:00Z", "10min"), band_deg=band)


def test_study_runs_from_the_executable_store_with_equal_figures(walker_study, monkeypatch, tmp_path):
    # The batched kernel goes through orbitjax/executable_store.py like coverage()'s: compiled and
    # stored once, then read back (as a new process would) and run, with the same figures.
    from orbitjax import executable_store

    table, ref = walker_study
    monkeypatch.setenv("ORBITJAX_CACHE_DIR", str(tmp_path))
    before = dict(executable_store.counts)
    kw = dict(resolution_deg=RES, band_deg=(40, 56), batch_size=2, n_assets=(1, 2), cell_figures=True,
              latitude_profiles=True, progress=False)
    stored_ds = orbitjax.study(table, TIMES, **kw)
    assert executable_store.counts["compiled"] - before["compiled"] == 2  # two satellite buckets
    assert len(list((tmp_path / "executables").glob("_batch_chunk-*.exe"))) == 2
    executable_store.forget()
    read_ds = orbitjax.study(table, TIMES, **kw)
    assert executable_store.counts["read"] - before["read"] == 2
    for ds in (stored_ds, read_ds):
        assert set(ds.data_vars) == set(ref.data_vars)
        for name in ref.data_vars:
            np.testing.assert_array_equal(ds[name].values, ref[name].values, err_msg=name)
