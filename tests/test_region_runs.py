"""Regional runs end to end: coverage(region=...) with event timing, the CLI and the scenario's [target].

The regional figures must equal the global run's at the same cells (the kernel's
exactness is tested against brute force in test_region_grid.py; here the event
timing, the figures of merit and the chunking must not change on a box). Short
windows, a 2 deg grid and 12 satellites keep it quick.

With 16-step chunks the box's corner cell (41 N, 151 E) gains a satellite during
the second chunk's first step: the event at flat index 0 of the chunk, which the
event solver's padded batches used to overwrite (kernels/events.py ``_compact``);
the global run's figure there agrees with ``orbitjax.access`` (rise 00:16:48.8).
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import xarray as xr

import orbitjax as oj
from conftest import TINY_SCENARIO
from orbitjax.cli import main

FIGURES = ("percent_time_covered", "gap_count", "max_gap_s", "mean_gap_s", "time_to_first_coverage_s",
           "mean_response_time_s", "longest_coverage_s", "mean_multiplicity", "min_multiplicity",
           "percent_time_covered_n")


@pytest.fixture(scope="module")
def runs():
    c = oj.walker(altitude_km=630, inclination_deg=70.0, planes=3, sats_per_plane=4, phasing=1,
                  min_elevation_deg=20, epoch="2025-01-01")
    times = np.arange(np.datetime64("2025-01-01T00:00"), np.datetime64("2025-01-01T01:00"), np.timedelta64(60, "s"))
    glob = oj.coverage(c, times, resolution_deg=2.0, progress=False, chunk_steps=16)
    box = (40.0, 90.0, 150.0, -120.0)  # touches the pole, crosses the antimeridian
    reg = oj.coverage(c, times, resolution_deg=2.0, progress=False, chunk_steps=16, region=box)
    return glob, reg


@pytest.mark.slow
def test_regional_run_equals_the_global_run_at_its_cells(runs):
    glob, reg = runs
    assert reg.sizes["lat"] == 25 and reg.sizes["lon"] == 45
    np.testing.assert_allclose(reg.lon.values[[0, -1]], [151.0, 239.0])
    sub = glob.sel(lat=reg.lat.values, lon=(reg.lon.values + 180.0) % 360.0 - 180.0)
    # Event times may differ in the last bits (XLA fuses differently for other shapes). The box's
    # first cell at the second chunk's first step is flat event index 0: it once lost its rise time.
    for name in FIGURES:
        np.testing.assert_allclose(reg[name].values, sub[name].values, rtol=1e-9, atol=1e-9, err_msg=name)
    np.testing.assert_array_equal(reg.visible_count.values, sub.visible_count.values)
    assert reg.timed_cell_steps > 0
    # coverage_fraction is the share of the box's area: the same weighted sum done here.
    w = reg.area_weight.values[:, None] * np.ones(reg.sizes["lon"])
    want = ((sub.visible_count.values > 0) * w).sum(axis=(1, 2)) / w.sum()
    np.testing.assert_allclose(reg.coverage_fraction.values, want, rtol=1e-12)
    assert reg.attrs["region_name"].startswith("box") and list(reg.attrs["region_box_deg"]) == [40, 90, 150, 240]


def test_region_summary_of_a_run_matches_the_global_run(runs):
    glob, reg = runs
    box = (40.0, 90.0, 150.0, -120.0)
    a = oj.region_summary(reg)
    b = oj.region_summary(glob, {a.region.values[0]: box})
    for name in ("percent_time_covered", "max_gap_s", "mean_response_time_s", "area_km2"):
        np.testing.assert_allclose(a[name].values, b[name].values, rtol=1e-12, err_msg=name)


@pytest.fixture()
def tiny(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(textwrap.dedent(TINY_SCENARIO))
    return p


def test_cli_region_box_and_country(tiny, tmp_path, capsys):
    out = tmp_path / "box"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--region-box=20,40,-100,-70",
                 "--resolution", "2.5", "--timing", "sampled"]) == 0
    printed = capsys.readouterr().out
    assert "%time regn" in printed and "box 20,40,-100,-70" in printed
    with xr.open_dataset(out / "tiny_stage1_L1.nc") as ds:
        assert ds.sizes["lat"] == 8 and ds.sizes["lon"] == 12
    out = tmp_path / "de"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", "--region", "DE", "--timing", "sampled"]) == 0
    capsys.readouterr()
    with xr.open_dataset(out / "tiny_stage2_full.nc") as ds:
        assert ds.attrs["region_name"] == "Germany" and "region_fraction" in ds
        assert 0 < float(ds.region_fraction.max()) <= 1.0
    assert main(["compare", str(out), "--plot", str(tmp_path / "c.png")]) == 0
    printed = capsys.readouterr().out
    assert "Germany time covered" in printed and printed.splitlines()[-1].split()[1] == "Germany"


@pytest.mark.parametrize("args,message", [
    (["--region", "Atlantis"], "'Atlantis' is not a country name or ISO code"),
    (["--region-box", "1,2,3"], "expected four numbers S,N,W,E"),
    (["--region-box=10,0,0,10"], "south < north"),
    (["--region-box=0,10,0,10", "--resolution", "3"], "must divide the region box"),
    (["--region", "nowhere.geojson"], "no such file"),
])
def test_cli_bad_regions_are_one_line(args, message, tiny, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", str(tiny), "--out", str(out), "--quiet", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("orbitjax: error:") and message in err[0], err
    assert not out.exists()


def test_scenario_target_table(tmp_path):
    poly = tmp_path / "area.geojson"
    poly.write_text('{"type": "Polygon", "coordinates": [[[10, 50], [12, 50], [12, 52], [10, 52], [10, 50]]]}')
    base = textwrap.dedent(TINY_SCENARIO)
    for target, name in (('region = "Japan"', "Japan"), ("box = [30, 40, 170, -170]", "box 30,40,170,-170"),
                         ('region = "area.geojson"', "area")):
        p = tmp_path / "s.toml"
        p.write_text(base + f"\n[target]\n{target}\n")
        assert oj.load_scenario(p).analysis.region.name == name
    for target, message in (('region = "Atlantis"', "[target]: region 'Atlantis'"),
                            ('box = [1, 2]', "four numbers"),
                            ('region = "Japan"\nbox = [0, 1, 0, 1]', "exactly one of"),
                            ('region = "Japan"\nfeature = "x"', "needs region to be a polygon file"),
                            ('zone = "x"', "unknown key 'zone'")):
        p = tmp_path / "s.toml"
        p.write_text(base + f"\n[target]\n{target}\n")
        with pytest.raises(ValueError, match=message.replace("[", r"\[")):
            oj.load_scenario(p)
