"""Sensor, daylight and gateway keys in scenario files and on the command line; one-line errors."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from orbitjax.cli import main
from orbitjax.io.netcdf import open_netcdf
from orbitjax.io.scenario_file import ScenarioFileError
from orbitjax.scenario import load_scenario

SCENARIO = """
[scenario]
name = "imaging"

[analysis]
start = 2025-06-21T00:00:00Z
duration = "10min"
step_s = 120
resolution_deg = 10.0

[target]
sun_elevation_min_deg = 10

[[shells]]
name = "optical"
altitude_km = 550
inclination_deg = 97.6
planes = 2
sats_per_plane = 3
min_elevation_deg = 0
half_angle_deg = 30

[[shells]]
name = "broadband"
altitude_km = 630
inclination_deg = 51.9
planes = 2
sats_per_plane = 2
min_elevation_deg = 35

[[gateways]]
name = "Svalbard"
lat_deg = 78.23
lon_deg = 15.4
min_elevation_deg = 5

[[gateways]]
name = "Troll"
lat_deg = -72.0
lon_deg = 2.5
"""


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_scenario_sensor_keys(tmp_path):
    sc = load_scenario(write(tmp_path, SCENARIO))
    (stage,) = sc.stages()
    kw = sc.sensor_kwargs(stage.satellites)
    half = kw["half_angle_deg"]
    assert np.array_equal(half[stage.satellites.shell == "optical"], np.full(6, 30.0))
    assert np.isnan(half[stage.satellites.shell == "broadband"]).all()
    assert kw["sun_elevation_min_deg"] == 10.0
    gw = kw["gateways"]
    assert list(gw.name) == ["Svalbard", "Troll"]
    assert list(gw.min_elevation_deg) == [5.0, 10.0]  # 10 deg when not given


@pytest.mark.parametrize("change, message", [
    (("half_angle_deg = 30", "half_angle_deg = 95"), "half_angle_deg = 95"),
    (("sun_elevation_min_deg = 10", "sun_elevation_min_deg = 100"), "[target] sun_elevation_min_deg = 100"),
    (("sun_elevation_min_deg = 10", "sun_elevation = 10"), "unknown key 'sun_elevation'"),
    (("lat_deg = -72.0", "lat_deg = -95.0"), "latitude -95.0 is outside"),
    (("lat_deg = -72.0\n", ""), "[[gateways]] #2: missing required key 'lat_deg'"),
    (("min_elevation_deg = 5", "min_elevation_deg = 95"), "[[gateways]] #1 (Svalbard): min_elevation_deg = 95"),
    (('name = "Troll"', 'name = "Svalbard"'), "appears twice"),
])
def test_scenario_sensor_errors_are_one_line(tmp_path, change, message):
    text = textwrap.dedent(SCENARIO).replace(*change)
    with pytest.raises(ScenarioFileError, match=None) as err:
        sc = load_scenario(write(tmp_path, text))
        sc.stages()
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(tmp_path) in str(err.value)


def test_cli_runs_cone_daylight_gateways(tmp_path, capsys):
    p = write(tmp_path, SCENARIO)
    gw = tmp_path / "gw.csv"
    gw.write_text("name,lat,lon\nRedmond,47.67,-122.12\nMadrid,40.4,-3.7\n")
    out = tmp_path / "o"
    assert main(["run", str(p), "--out", str(out), "--quiet", "--timing", "sampled", "--half-angle", "40",
                 "--gateways", str(gw), "--gateway-min-elevation", "20", "--sun-elevation-min", "5"]) == 0
    with open_netcdf(out / "imaging_stage1_full.nc") as ds:
        assert (ds.half_angle_deg.values == 40.0).all()  # --half-angle: every satellite
        assert list(ds.gateway.values) == ["Redmond", "Madrid"]
        assert ds.attrs["gateway_min_elevation_deg"] == "20,20"
        assert ds.attrs["sun_elevation_min_deg"] == 5.0
        assert ds.usable_satellites.dims == ("time", "sat")  # (sat, time) on disk (CF 2.4), restored
        assert np.array_equal(ds.usable_satellites.sum("sat"), ds.n_usable_satellites)
        assert ds.n_usable_satellites.sizes == {"time": 5}


@pytest.mark.parametrize("args, message", [
    (["--half-angle", "95"], "--half-angle 95: expected a cone half-angle in (0, 90)"),
    (["--half-angle", "80"], "half_angle_deg = 80 for satellite"),
    (["--gateways", "nope.csv"], "--gateways nope.csv: no such file"),
    (["--sun-elevation-min", "90"], "--sun-elevation-min 90"),
])
def test_cli_sensor_errors(tmp_path, capsys, args, message):
    p = write(tmp_path, SCENARIO)
    assert main(["run", str(p), "--out", str(tmp_path / "o"), "--quiet"] + args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").glob("*.nc"))
